"""Column type changes, column renames, column drops and identity on existing columns, done without long locks.

A type change the safe-cast matrix (pg_safe_cast) cannot prove free becomes: a new column kept in sync by a
trigger, a keyset backfill, NOT NULL and indexes rebuilt on the new column without blocking, then a swap by renames
in one short transaction and the old column dropped after the application ignores it. A rename keeps the old name
alive the same way (a second column kept in sync both ways) until every deploy uses the new name.
"""

from __future__ import annotations

import copy
import re
from typing import TYPE_CHECKING, Any

from dbspecialist.knowledge.migrations.pg_classify import ClassifiedOp
from dbspecialist.knowledge.migrations.pg_statements import deparse
from dbspecialist.knowledge.migrations.postgres_rewrites import (
    alter,
    backfill,
    build_index,
    column_info,
    index_sql,
    indexes_on,
    not_null_sequence,
    not_valid_then_validate,
    referencing_fks,
    trigger_function_clause,
)
from dbspecialist.knowledge.migrations.postgres_rewrites_base import Builder, object_name, q, same_schema, short_name
from dbspecialist.knowledge.migrations.postgres_rewrites_rules import referenced_key_change

if TYPE_CHECKING:
    from dbspecialist.adapters.catalog import Column


def alter_type(b: Builder, op: ClassifiedOp, using: Any) -> None:
    """ALTER COLUMN TYPE: one metadata step when the safe-cast matrix allows, else the new-column swap."""
    table, column, detail = op.table, op.column or "", op.detail
    new_type = str(detail.get("type"))
    c = q(column)
    using_sql = f" USING {detail['using']}" if detail.get("using") else ""
    if op.kind in ("alter_type_coercible", "alter_type_rebuild_indexes"):
        utc = "timestamptz" in new_type or "time zone" in new_type or "timestamptz" in str(detail.get("old_type"))
        preamble_extra = ["SET timezone = 'UTC'"] if utc and "timestamp" in str(detail.get("old_type")) else []
        step = b.step(
            "expand",
            f"Change {column} to {new_type}: {detail.get('reason')}",
            table,
            [alter(table, f"ALTER COLUMN {c} TYPE {new_type}{using_sql}")],
            op.kind,
            rollback=[alter(table, f"ALTER COLUMN {c} TYPE {detail.get('old_type')}")]
            if detail.get("old_type")
            else [],
            reversible=bool(detail.get("old_type")),
        )
        step.preamble = [*step.preamble, *preamble_extra]
        if preamble_extra:
            step.notes.append("Runs with the session time zone UTC: only then is timestamp ↔ timestamptz free (12+).")
        return
    _swap_column_type(b, table, column, new_type, using, detail)


def _new_row_expr(using: Any, column: str, new_type: str, prefix: str) -> str:
    """The conversion for one row: USING with column references prefixed (NEW.), or a plain cast."""
    if using is None:
        return f"{prefix.upper()}{q(column)}::{new_type}"
    from pglast import ast
    from pglast.visitors import Visitor

    expr = copy.deepcopy(using)

    class _Prefix(Visitor):
        def visit_ColumnRef(self, _ancestors: Any, node: ast.ColumnRef) -> None:
            fields: Any = node.fields
            if prefix and len(fields) == 1 and isinstance(fields[0], ast.String):
                node.fields = (ast.String(sval=prefix.rstrip(".")), fields[0])

    _Prefix()(expr)
    return deparse(expr)


def _swap_column_type(b: Builder, table: str, column: str, new_type: str, using: Any, detail: dict[str, Any]) -> None:
    short = short_name(table)
    c = q(column)
    new_col = object_name(column, suffix="new")
    old_col = object_name(column, suffix="old")
    func = same_schema(table, object_name(short, column, suffix="type_sync"))
    trigger = object_name(short, column, suffix="type_sync")
    info = column_info(b, table, column)
    row_expr = _new_row_expr(using, column, new_type, "new.")
    plain_expr = _new_row_expr(using, column, new_type, "")
    why = str(detail.get("reason") or "")
    b.step(
        "expand",
        f"Add {new_col} {new_type} next to {column} (changing the type in place rewrites the table)",
        table,
        [alter(table, f"ADD COLUMN {q(new_col)} {new_type}")],
        "add_column",
        rollback=[alter(table, f"DROP COLUMN {q(new_col)}")],
        notes=[f"In place: {why or 'the current type is unknown'} — ACCESS EXCLUSIVE for the whole rewrite."],
    )
    b.step(
        "expand",
        f"Keep {new_col} in sync with {column} on every insert and update (trigger)",
        table,
        [
            f"CREATE FUNCTION {q(func)}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
            f"BEGIN\n    NEW.{q(new_col)} := {row_expr};\n    RETURN NEW;\nEND\n$$",
            f"CREATE TRIGGER {q(trigger)} BEFORE INSERT OR UPDATE ON {q(table)} "
            f"FOR EACH ROW {trigger_function_clause(b)} {q(func)}()",
        ],
        "create_trigger",
        rollback=[f"DROP TRIGGER IF EXISTS {q(trigger)} ON {q(table)}", f"DROP FUNCTION IF EXISTS {q(func)}()"],
    )
    backfill(
        b,
        table,
        f"{q(new_col)} = {plain_expr}",
        f"{q(new_col)} IS NULL AND {c} IS NOT NULL",
        f"Backfill {new_col} from {column} for existing rows",
        [],
    )
    if info is not None and not info.nullable:
        not_null_sequence(b, table, new_col, after_backfill=True)
    _copy_foreign_keys(b, table, column, new_col)
    indexes = indexes_on(b, table, column)
    renames: list[str] = []
    pk_swap: list[str] = []
    found = b.table(table)
    for index in indexes:
        copy_name = object_name(index.name, suffix="new")
        if index.primary and found is not None and found.primary_key is not None:
            pk_name = found.primary_key.name or f"{short}_pkey"
            pk_cols = ", ".join(q(new_col if k.lower() == column.lower() else k) for k in found.primary_key.columns)
            build_index(
                b,
                "validate",
                table,
                f"CREATE UNIQUE INDEX CONCURRENTLY {q(copy_name)} ON {q(table)} ({pk_cols})",
                same_schema(table, copy_name),
                f"Build the future primary key index {copy_name} on {new_col} concurrently",
            )
            pk_swap = [
                alter(
                    table,
                    f"DROP CONSTRAINT {q(pk_name)}, ADD CONSTRAINT {q(pk_name)} PRIMARY KEY USING INDEX {q(copy_name)}",
                )
            ]
            referencing = referencing_fks(b, table)
            if referencing:
                b.finding(referenced_key_change(table, referencing, b.line))
            continue
        if index.origin != "index":
            b.note(f"{table}.{column}: constraint {index.name} must be re-created on {new_col} (not automated).")
            continue
        build_index(
            b,
            "validate",
            table,
            index_sql(table, index, name=copy_name, replace=(column, new_col)),
            same_schema(table, copy_name),
            f"Build a copy of index {index.name} on {new_col} concurrently",
        )
        renames += [
            f"ALTER INDEX {q(same_schema(table, index.name))} RENAME TO {q(object_name(index.name, suffix='old'))}",
            f"ALTER INDEX {q(same_schema(table, copy_name))} RENAME TO {q(index.name)}",
        ]
    swap = [
        "BEGIN",
        f"DROP TRIGGER {q(trigger)} ON {q(table)}",
        f"DROP FUNCTION {q(func)}()",
        alter(table, f"RENAME COLUMN {c} TO {q(old_col)}"),
        alter(table, f"RENAME COLUMN {q(new_col)} TO {c}"),
    ]
    if info is not None and info.default is not None:
        swap += [
            alter(table, f"ALTER COLUMN {q(old_col)} DROP DEFAULT"),
            alter(table, f"ALTER COLUMN {c} SET DEFAULT {info.default}"),
        ]
    if info is not None and not info.nullable:
        swap.append(alter(table, f"ALTER COLUMN {q(old_col)} DROP NOT NULL"))
    swap += [*pk_swap, *renames, "COMMIT"]
    b.step(
        "switch",
        f"Swap {new_col} in as {column} by renames, in one short transaction",
        table,
        swap,
        "rename_column",
        rollback=[
            alter(table, f"RENAME COLUMN {c} TO {q(new_col)}"),
            alter(table, f"RENAME COLUMN {q(old_col)} TO {c}"),
        ],
        notes=[
            "From here the application reads and writes the new type under the old name; it must accept it.",
            f"After the swap {old_col} is no longer updated: rolling back later loses writes made since the swap.",
        ],
    )
    _note_dependent_views(b, table, column, old_col)
    _drop_old_column(b, table, old_col)


def _note_dependent_views(b: Builder, table: str, column: str, old_col: str) -> None:
    """Views follow a renamed column: after the swap they read the old one, and DROP COLUMN refuses to run."""
    if b.ctx.catalog is None:
        return
    words = [re.compile(rf"\b{re.escape(name.lower())}\b") for name in (short_name(table), column)]
    for view in b.ctx.catalog.tables:
        text = (view.definition or "").lower()
        if view.kind in ("view", "materialized_view") and all(word.search(text) for word in words):
            b.note(
                f"{view.qualified_name} reads {table}.{column}: after the swap it reads {old_col}. Re-create it "
                f"(CREATE OR REPLACE VIEW / a new materialized view) before dropping {old_col}."
            )


def _copy_foreign_keys(b: Builder, table: str, column: str, new_col: str) -> None:
    """Foreign keys on the old column, re-created on the new one as NOT VALID + VALIDATE."""
    found = b.table(table)
    for fk in found.foreign_keys if found is not None else []:
        if column.lower() not in (c.lower() for c in fk.columns):
            continue
        name = object_name(fk.name or f"{short_name(table)}_{column}_fkey", suffix="new")
        cols = ", ".join(q(new_col if c.lower() == column.lower() else c) for c in fk.columns)
        ref = q(f"{fk.ref_schema}.{fk.ref_table}" if fk.ref_schema not in (None, "public") else fk.ref_table)
        ref_cols = ", ".join(q(c) for c in fk.ref_columns)
        not_valid_then_validate(
            b,
            "expand",
            table,
            q(name),
            (
                f"Copy foreign key {fk.name} onto {new_col} as NOT VALID",
                alter(table, f"ADD CONSTRAINT {q(name)} FOREIGN KEY ({cols}) REFERENCES {ref} ({ref_cols}) NOT VALID"),
                "add_foreign_key_not_valid",
            ),
            f"Validate foreign key {name} (scans without blocking reads or writes)",
            tables=[table, fk.ref_table],
        )


def _drop_old_column(b: Builder, table: str, column: str) -> None:
    b.deploy(
        "contract",
        f"Deploy the application version that no longer reads or writes {table}.{column} (ORM: mark {column} ignored)",
        table,
    )
    b.step(
        "contract",
        f"Drop the old column {column}",
        table,
        [alter(table, f"DROP COLUMN {q(column)}")],
        "drop_column",
        rollback=[],
        reversible=False,
        notes=["Irreversible: the column's data is gone (the space is reclaimed as rows are rewritten later)."],
    )


def rename_column(b: Builder, op: ClassifiedOp) -> None:
    """RENAME COLUMN through expand/contract: a second column kept in sync both ways until every deploy switched."""
    table, old = op.table, op.column or ""
    new = str(op.detail.get("new"))
    info = column_info(b, table, old)
    if info is None:
        _rename_in_place(b, table, old, new)
        return
    o, n = q(old), q(new)
    short = short_name(table)
    data_type = b.state.column_types.get((short.lower(), new.lower()), info.data_type)  # after earlier changes
    func = same_schema(table, object_name(short, old, new, suffix="sync"))
    trigger = object_name(short, old, new, suffix="sync")
    b.step(
        "expand",
        f"Add {new} ({data_type}) as the future name of {old}",
        table,
        [alter(table, f"ADD COLUMN {n} {data_type}")],
        "add_column",
        rollback=[alter(table, f"DROP COLUMN {n}")],
    )
    body = (
        "BEGIN\n"
        f"    IF TG_OP = 'UPDATE' AND NEW.{n} IS DISTINCT FROM OLD.{n} THEN\n        NEW.{o} := NEW.{n};\n"
        f"    ELSIF TG_OP = 'INSERT' AND NEW.{n} IS NOT NULL THEN\n        NEW.{o} := NEW.{n};\n"
        f"    ELSE\n        NEW.{n} := NEW.{o};\n    END IF;\n    RETURN NEW;\nEND"
    )
    b.step(
        "expand",
        f"Keep {old} and {new} equal on every insert and update, whichever one the application writes (trigger)",
        table,
        [
            f"CREATE FUNCTION {q(func)}() RETURNS trigger LANGUAGE plpgsql AS $$\n{body}\n$$",
            f"CREATE TRIGGER {q(trigger)} BEFORE INSERT OR UPDATE ON {q(table)} "
            f"FOR EACH ROW {trigger_function_clause(b)} {q(func)}()",
        ],
        "create_trigger",
        rollback=[f"DROP TRIGGER IF EXISTS {q(trigger)} ON {q(table)}", f"DROP FUNCTION IF EXISTS {q(func)}()"],
    )
    backfill(b, table, f"{n} = {o}", f"{n} IS NULL AND {o} IS NOT NULL", f"Copy {old} into {new}", [])
    _copy_column_properties(b, table, old, new, info)
    b.deploy("switch", f"Deploy the application version that reads and writes {table}.{new} instead of {old}", table)
    b.deploy("contract", f"Make sure no deployed code reads or writes {table}.{old} (ORM: mark {old} ignored)", table)
    b.step(
        "contract",
        f"Drop the sync trigger and the old column {old}, in one short transaction",
        table,
        [
            "BEGIN",
            f"DROP TRIGGER {q(trigger)} ON {q(table)}",
            f"DROP FUNCTION {q(func)}()",
            alter(table, f"DROP COLUMN {o}"),
            "COMMIT",
        ],
        "drop_column",
        rollback=[],
        reversible=False,
    )


def _copy_column_properties(b: Builder, table: str, old: str, new: str, info: Column) -> None:
    if not info.nullable:
        not_null_sequence(b, table, new, after_backfill=True)
    if info.default is not None:
        b.step(
            "switch",
            f"Move the default from {old} to {new}",
            table,
            [
                "BEGIN",
                alter(table, f"ALTER COLUMN {q(new)} SET DEFAULT {info.default}"),
                alter(table, f"ALTER COLUMN {q(old)} DROP DEFAULT"),
                "COMMIT",
            ],
            "set_default",
            rollback=[alter(table, f"ALTER COLUMN {q(old)} SET DEFAULT {info.default}")],
        )
    for index in indexes_on(b, table, old):
        if index.origin != "index":
            b.note(f"{table}.{old}: constraint {index.name} must be re-created on {new} (not automated).")
            continue
        name = object_name(index.name.replace(old, new) if old in index.name else index.name, suffix="new")
        build_index(
            b,
            "validate",
            table,
            index_sql(table, index, name=name, replace=(old, new)),
            same_schema(table, name),
            f"Build a copy of index {index.name} on {new} concurrently",
        )


def _rename_in_place(b: Builder, table: str, old: str, new: str) -> None:
    b.deploy(
        "switch",
        f"Deploy an application version that works with both {table}.{old} and {table}.{new} "
        "(or accept errors between the rename and the deploy)",
        table,
        ["The column's type is unknown (no catalog), so the plan cannot add a synced copy."],
    )
    b.step(
        "switch",
        f"Rename {old} to {new} (metadata only)",
        table,
        [alter(table, f"RENAME COLUMN {q(old)} TO {q(new)}")],
        "rename_column",
        rollback=[alter(table, f"RENAME COLUMN {q(new)} TO {q(old)}")],
    )


def drop_column(b: Builder, op: ClassifiedOp) -> None:
    """DROP COLUMN in two deploys: the application stops using it (ORM ignores it), then the column is dropped."""
    table, column = op.table, op.column or ""
    info = column_info(b, table, column)
    if info is not None and not info.nullable and info.default is None:
        b.step(
            "expand",
            f"Drop NOT NULL on {column} so inserts that no longer set it keep working",
            table,
            [alter(table, f"ALTER COLUMN {q(column)} DROP NOT NULL")],
            "drop_not_null",
            rollback=[],
            notes=["Re-adding NOT NULL later would need the CHECK ... NOT VALID sequence."],
        )
    b.deploy(
        "switch",
        f"Deploy the application version that no longer reads or writes {table}.{column} "
        f"(ORM: mark {column} ignored, e.g. Rails ignored_columns, Django SeparateDatabaseAndState)",
        table,
    )
    cascade = " CASCADE" if op.detail.get("cascade") else ""
    b.step(
        "contract",
        f"Drop column {column}",
        table,
        [alter(table, f"DROP COLUMN {q(column)}{cascade}")],
        "drop_column",
        rollback=[alter(table, f"ADD COLUMN {q(column)} {info.data_type}")] if info else [],
        reversible=False,
        notes=["Irreversible for the data: re-adding the column brings back an empty column."],
    )


def add_identity(b: Builder, op: ClassifiedOp, cmd: Any) -> None:
    """ALTER COLUMN ADD GENERATED AS IDENTITY on an existing column: metadata, once the column is NOT NULL."""
    table, column = op.table, op.column or ""
    info = column_info(b, table, column)
    c = q(column)
    if info is None or info.nullable:
        not_null_sequence(b, table, column)
    statements = ["BEGIN"]
    if info is not None and info.default is not None:
        statements.append(alter(table, f"ALTER COLUMN {c} DROP DEFAULT"))
    statements += [
        alter(table, deparse_cmd(cmd)),
        f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), coalesce(max({c}), 0) + 1, false) "
        f"FROM {q(table)}",
        "COMMIT",
    ]
    b.step(
        "switch",
        f"Make {column} an identity column continuing after the existing values (one short transaction)",
        table,
        statements,
        "add_identity",
        rollback=[alter(table, f"ALTER COLUMN {c} DROP IDENTITY")],
        notes=["max() is read through an index on the column when there is one (usually the primary key)."],
    )


def deparse_cmd(cmd: Any) -> str:
    """One ALTER TABLE subcommand as SQL (without the `ALTER TABLE name` prefix)."""
    from pglast import ast, enums

    stmt = ast.AlterTableStmt(
        relation=ast.RangeVar(relname="x", inh=True, relpersistence="p"),
        cmds=(cmd,),
        objtype=enums.ObjectType.OBJECT_TABLE,
    )
    return deparse(stmt).removeprefix("ALTER TABLE x ")
