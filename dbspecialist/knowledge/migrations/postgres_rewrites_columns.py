"""Column type changes, column renames, column drops and identity on existing columns, done without long locks.

A type change the safe-cast matrix (pg_safe_cast) cannot prove free becomes: a new column kept in sync by a
trigger, a keyset backfill, NOT NULL and indexes rebuilt on the new column without blocking, then a swap by renames
in one short transaction and the old column dropped after the application ignores it. A rename keeps the old name
alive the same way (a second column kept in sync both ways) until every deploy uses the new name.
"""

from __future__ import annotations

import copy
import re
from typing import TYPE_CHECKING, Any, Final

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
    trigger_function_clause,
)
from dbspecialist.knowledge.migrations.postgres_rewrites_base import Builder, object_name, q, same_schema, short_name
from dbspecialist.knowledge.migrations.postgres_rewrites_rules import referenced_key_change

if TYPE_CHECKING:
    from dbspecialist.adapters.catalog import Column, ForeignKey, Table


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
    b.widened.add((table.lower(), column.lower()))
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
        notes=[
            f"In place: {why or 'the current type is unknown'} — ACCESS EXCLUSIVE for the whole rewrite.",
            *(
                [
                    "If the stored values are UTC, plan `SET timezone = 'UTC';` followed by the ALTER instead: on "
                    "PostgreSQL 12+ it only changes the catalog (and rebuilds indexes on the column), no new column."
                ]
                if "timezone = 'UTC'" in why and not detail.get("using")
                else []
            ),
        ],
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
    referencing: list[tuple[str, ForeignKey]] = []
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
            referencing = _referencing_foreign_keys(b, table, column)
            if referencing:
                b.finding(referenced_key_change(table, [f"{t}.{fk.name}" for t, fk in referencing], b.line))
                _widen_referencing_columns(b, table, column, new_type, referencing)
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
    swap += _sequence_handover(b, table, column, new_type, info)
    # Foreign keys depend on the primary key's index: they are dropped before the key is swapped and re-added on it
    # NOT VALID (no scan) in the same transaction, then validated after.
    for child, fk in referencing:
        swap.append(alter(child, f"DROP CONSTRAINT {q(fk.name or '')}"))
        copied = b.fk_copies.get((child.lower(), (fk.name or "").lower()))
        if copied is not None:
            swap.append(alter(child, f"DROP CONSTRAINT {q(copied)}"))
    swap += [*pk_swap, *renames]
    # After the primary key moved: a column of a primary key cannot lose NOT NULL.
    if info is not None and not info.nullable and info.identity is None:
        swap.append(alter(table, f"ALTER COLUMN {q(old_col)} DROP NOT NULL"))
    swap += _identity_handover(table, column, old_col, info)
    swap += [
        alter(child, f"ADD CONSTRAINT {q(fk.name or '')} {_fk_clause(table, fk)} NOT VALID")
        for child, fk in referencing
    ]
    swap.append("COMMIT")
    b.step(
        "switch",
        f"Swap {new_col} in as {column} by renames, in one short transaction",
        table,
        swap,
        "rename_column",
        tables=[table, *dict.fromkeys(child for child, _ in referencing if child.lower() != table.lower())],
        rollback=[
            alter(table, f"RENAME COLUMN {c} TO {q(new_col)}"),
            alter(table, f"RENAME COLUMN {q(old_col)} TO {c}"),
        ],
        notes=[
            "From here the application reads and writes the new type under the old name; it must accept it.",
            f"After the swap {old_col} is no longer updated: rolling back later loses writes made since the swap.",
            f"{column} moves to the end of the column order: INSERT without a column list and SELECT * see it last.",
            *(
                [f"The foreign keys referencing {table} are dropped and re-added NOT VALID on the new key here."]
                if referencing
                else []
            ),
        ],
    )
    for child, fk in referencing:
        b.step(
            "switch",
            f"Validate foreign key {fk.name} on {child} against the new key (scans without blocking reads or writes)",
            child,
            [alter(child, f"VALIDATE CONSTRAINT {q(fk.name or '')}")],
            "validate_constraint",
            tables=[child, table],
            notes=["Until validated the key is enforced for new writes only."],
        )
    _note_dependent_views(b, table, column, old_col)
    _drop_old_column(b, table, old_col)


_INTEGER_WIDTH: Final = {"smallint": 2, "int2": 2, "integer": 4, "int": 4, "int4": 4, "bigint": 8, "int8": 8}


def _qualified(table: Table) -> str:
    """A catalog table as usually written: without the default `public.` schema."""
    return table.name if table.schema_name in (None, "public") else table.qualified_name


def _referencing_foreign_keys(b: Builder, table: str, column: str) -> list[tuple[str, ForeignKey]]:
    """(referencing table, foreign key) for every named foreign key on a non-partition table referencing `column`."""
    found = b.table(table)
    if b.ctx.catalog is None or found is None:
        return []
    result = []
    for other in b.ctx.catalog.tables:
        if other.partition_of is not None:
            continue  # a partition's copy of its parent's foreign key goes with the parent's
        for fk in other.foreign_keys:
            same_table = fk.ref_table.rsplit(".", 1)[-1].lower() == found.name.lower()
            schema = fk.ref_schema or other.schema_name
            same_schema_ = schema is None or found.schema_name is None or schema.lower() == found.schema_name.lower()
            refs = [c.lower() for c in fk.ref_columns]
            if fk.name and same_table and same_schema_ and column.lower() in refs:
                result.append((_qualified(other), fk))
    return result


def _widen_referencing_columns(
    b: Builder, table: str, column: str, new_type: str, referencing: list[tuple[str, ForeignKey]]
) -> None:
    """A referencing column narrower than the key's new integer type gets the same swap: planned first."""
    width = _INTEGER_WIDTH.get(new_type.lower())
    if width is None:
        return
    for child, fk in referencing:
        position = [c.lower() for c in fk.ref_columns].index(column.lower())
        child_column = fk.columns[position]
        info = column_info(b, child, child_column)
        current = _INTEGER_WIDTH.get(info.data_type.lower()) if info is not None else None
        if current is None or current >= width or (child.lower(), child_column.lower()) in b.widened:
            continue
        assert info is not None
        reason = (
            f"it references {table}.{column}, which becomes {new_type}: left {info.data_type}, it cannot hold the "
            f"keys past the {info.data_type} range"
        )
        b.note(f"{child}.{child_column} is widened to {new_type} too: {reason}.")
        _swap_column_type(b, child, child_column, new_type, None, {"reason": f"{info.data_type} → {new_type}"})


def _sequence_handover(b: Builder, table: str, column: str, new_type: str, info: Column | None) -> list[str]:
    """The serial sequence follows the new column (else DROP COLUMN of the old one drops it) and is widened."""
    if info is None or info.default is None:
        return []
    match = re.search(r"nextval\('([^']+)'", info.default)
    if match is None:
        return []
    sequence = match.group(1)
    statements = [f"ALTER SEQUENCE {sequence} OWNED BY {q(table)}.{q(column)}"]
    width = _INTEGER_WIDTH.get(new_type.lower())
    known = (
        next(
            (s for s in b.ctx.catalog.sequences if _sequence_matches(s.schema_name, s.name, sequence)),
            None,
        )
        if b.ctx.catalog is not None
        else None
    )
    current = _INTEGER_WIDTH.get((known.data_type or "").lower()) if known is not None else None
    if width is not None and (current is None or current < width):
        statements.append(f"ALTER SEQUENCE {sequence} AS {new_type}")
    return statements


def _sequence_matches(schema: str | None, name: str, text: str) -> bool:
    wanted = [part.strip('"').lower() for part in text.split(".")]
    have = [name.lower()] if len(wanted) == 1 else [(schema or "").lower(), name.lower()]
    return wanted == have


def _identity_handover(table: str, column: str, old_col: str, info: Column | None) -> list[str]:
    """An identity column's generator moves to the new column, continuing after the existing values."""
    if info is None or info.identity is None:
        return []
    c = q(column)
    return [
        alter(table, f"ALTER COLUMN {q(old_col)} DROP IDENTITY"),
        alter(table, f"ALTER COLUMN {q(old_col)} DROP NOT NULL"),
        alter(table, f"ALTER COLUMN {c} ADD GENERATED {info.identity.upper()} AS IDENTITY"),
        f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), coalesce(max({c}), 0) + 1, false) "
        f"FROM {q(table)}",
    ]


def _fk_clause(table: str, fk: ForeignKey, columns: list[str] | None = None) -> str:
    """FOREIGN KEY (...) REFERENCES table (...) with the key's actions, on `columns` instead of its own if given."""
    cols = ", ".join(q(c) for c in columns or fk.columns)
    ref_cols = ", ".join(q(c) for c in fk.ref_columns)
    clause = f"FOREIGN KEY ({cols}) REFERENCES {q(table)} ({ref_cols})"
    if fk.on_delete != "no action":
        clause += f" ON DELETE {fk.on_delete.upper()}"
    if fk.on_update != "no action":
        clause += f" ON UPDATE {fk.on_update.upper()}"
    if fk.deferrable:
        clause += " DEFERRABLE"
    return clause


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
        if fk.name:
            b.fk_copies[(table.lower(), fk.name.lower())] = name
        cols = [new_col if c.lower() == column.lower() else c for c in fk.columns]
        ref = f"{fk.ref_schema}.{fk.ref_table}" if fk.ref_schema not in (None, "public") else fk.ref_table
        not_valid_then_validate(
            b,
            "expand",
            table,
            q(name),
            (
                f"Copy foreign key {fk.name} onto {new_col} as NOT VALID",
                alter(table, f"ADD CONSTRAINT {q(name)} {_fk_clause(ref, fk, cols)} NOT VALID"),
                "add_foreign_key_not_valid",
            ),
            f"Validate foreign key {name} (scans without blocking reads or writes)",
            tables=[table, ref],
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
