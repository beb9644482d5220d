"""Safe PostgreSQL rewrites for column and constraint changes (expand → backfill → validate → switch → contract).

Sources for the sequences: PostgreSQL docs (ALTER TABLE: NOT VALID, VALIDATE CONSTRAINT, ADD CONSTRAINT ... USING
INDEX, the SET NOT NULL shortcut through a validated CHECK from 12, NOT NULL ... NOT VALID from 18, fast column
defaults from 11); strong_migrations' documented safe patterns; pgroll's expand/contract with sync triggers.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from dbspecialist.knowledge.migrations.backfill import CTID, Backfill, backfill_script
from dbspecialist.knowledge.migrations.estimate import backfill_estimate
from dbspecialist.knowledge.migrations.model import Phase
from dbspecialist.knowledge.migrations.pg_classify import ClassifiedOp
from dbspecialist.knowledge.migrations.pg_statements import deparse
from dbspecialist.knowledge.migrations.postgres_rewrites_base import (
    Builder,
    object_name,
    q,
    same_schema,
    short_name,
)
from dbspecialist.knowledge.migrations.postgres_rewrites_rules import (
    backfill_value_needed,
    not_null_before_12,
    referenced_key_change,
)

if TYPE_CHECKING:
    from dbspecialist.adapters.catalog import Column, Index, Table

PLACEHOLDER = "<value for existing rows>"


# ------------------------------------------------------------------------------------------------ helpers


def alter(table: str, clause: str) -> str:
    return f"ALTER TABLE {q(table)} {clause}"


def trigger_function_clause(b: Builder) -> str:
    """EXECUTE FUNCTION from PostgreSQL 11, EXECUTE PROCEDURE before."""
    return "EXECUTE FUNCTION" if b.version >= (11, 0, 0) else "EXECUTE PROCEDURE"


def column_info(b: Builder, table: str, column: str) -> Column | None:
    found = b.table(table)
    if found is None:
        return None
    return next((c for c in found.columns if c.name.lower() == column.lower()), None)


def indexes_on(b: Builder, table: str, column: str) -> list[Index]:
    found = b.table(table)
    if found is None:
        return []
    return [i for i in found.indexes if any(c.lower() == column.lower() for c in i.columns)]


def index_sql(table: str, index: Index, *, name: str | None = None, replace: tuple[str, str] | None = None) -> str:
    """CREATE [UNIQUE] INDEX CONCURRENTLY for a catalog index, optionally renamed and on another column."""
    columns = [replace[1] if replace and c.lower() == replace[0].lower() else c for c in index.columns]
    method = f" USING {index.method}" if index.method and index.method != "btree" else ""
    include = f" INCLUDE ({', '.join(index.include)})" if index.include else ""
    where = f" WHERE {index.predicate}" if index.predicate else ""
    unique = "UNIQUE " if index.unique else ""
    target = same_schema(table, name or index.name)
    cols = ", ".join(q(c) if c.replace("_", "").isalnum() else c for c in columns)
    return f"CREATE {unique}INDEX CONCURRENTLY {q(short_name(target))} ON {q(table)}{method} ({cols}){include}{where}"


def build_index(b: Builder, phase: Any, table: str, create_sql: str, index: str, title: str) -> None:
    """CREATE INDEX CONCURRENTLY, the validity check and ANALYZE (all outside any transaction)."""
    from dbspecialist.knowledge.migrations.postgres_rewrites_tables import concurrent_index_steps

    concurrent_index_steps(b, phase, table, create_sql, index, title)


def not_valid_then_validate(
    b: Builder,
    phase: Phase,
    table: str,
    name: str,
    add: tuple[str, str, str],
    validate_title: str | None,
    *,
    tables: list[str] | None = None,
    validate_rollback: list[str] | None = None,
    validate_notes: list[str] | None = None,
) -> None:
    """Add constraint `name` (quoted) NOT VALID, then VALIDATE it unless `validate_title` is None.

    `add` is the first step's (title, SQL, op kind); undoing it drops the constraint.
    """
    title, sql, op_kind = add
    b.step(phase, title, table, [sql], op_kind, tables=tables, rollback=[alter(table, f"DROP CONSTRAINT {name}")])
    if validate_title is None:
        return
    b.step(
        "validate",
        validate_title,
        table,
        [alter(table, f"VALIDATE CONSTRAINT {name}")],
        "validate_constraint",
        rollback=validate_rollback,
        notes=validate_notes,
    )


def backfill(b: Builder, table: str, set_clause: str, where_pending: str, title: str, notes: list[str]) -> None:
    """A keyset backfill step (kind 'script') and its script in PlannerOutput.backfill_script."""
    found = b.table(table)
    keys = batch_key(found) if found is not None else None
    if found is None:
        keys = ["id"]
        b.assume(f"{table}: primary key assumed to be id bigint for the keyset backfill (no catalog given)")
    elif keys is None:
        keys = [CTID]
        notes = [
            f"{table} has no primary key and no unique index on NOT NULL columns: the batches walk the table by "
            "ranges of heap pages (ctid), each range ending where the next one starts."
            + (
                " Before PostgreSQL 14 each batch scans the whole table (no TID range scan): add a key first on a "
                "large table."
                if b.version < (14, 0, 0)
                else ""
            ),
            *notes,
        ]
    types = [
        "tid"
        if k == CTID
        else next((c.data_type for c in found.columns if c.name == k), "bigint")
        if found
        else "bigint"
        for k in keys
    ]
    spec = Backfill.of(table, keys, set_clause, where_pending, pk_types=types)
    script = backfill_script(table, keys, set_clause, where_pending, pk_types=types)
    column = set_clause.split("=", 1)[0].strip().strip('"')
    b.backfilled.add((short_name(table).lower(), column.lower()))
    name = f"backfill_{short_name(table)}_{column}.py"
    b.scripts.append(f"# ---- {name} ----\n{script}")
    est = backfill_estimate(None if b.is_new(table) else b.ctx.stats_for(table))
    b.assume(f"{table}: {est.basis}")
    b.step(
        "backfill",
        title,
        table,
        [spec.batch_sql()],
        "backfill_batch",
        kind="script",
        command=f'python {name} "$DATABASE_URL"',
        rollback=[],
        notes=[
            "Each batch is its own transaction; the script sleeps between batches, waits while replicas lag, and "
            "resumes after the last committed key. Re-running it only touches rows still pending.",
            *notes,
        ],
    )
    b.steps[-1].estimate = est


def batch_key(table: Table) -> list[str] | None:
    """The columns a keyset backfill can walk: the primary key, else the shortest unique, non-partial index on plain
    NOT NULL columns; None when there is neither (the backfill then walks heap pages by ctid)."""
    if table.primary_key is not None and table.primary_key.columns:
        return list(table.primary_key.columns)
    not_null = {c.name for c in table.columns if not c.nullable}
    candidates = [
        list(index.columns)
        for index in table.indexes
        if index.unique
        and index.valid
        and index.predicate is None
        and index.columns
        and all(c in not_null for c in index.columns)
    ]
    return min(candidates, key=len) if candidates else None


# ------------------------------------------------------------------------------------------------ NOT NULL


def not_null_sequence(b: Builder, table: str, column: str, *, after_backfill: bool = False) -> None:
    """Make `column` NOT NULL without a long lock: NOT VALID constraint → VALIDATE (→ SET NOT NULL → drop CHECK).

    A NOT VALID constraint is enforced for every new row version, updates of old rows included: when the column
    is being backfilled, it is added after the backfill (validate phase), or updating a row not yet backfilled
    would fail.
    """
    key = (short_name(table).lower(), column.lower())
    if key in b.not_null:
        return  # an earlier statement of the change already made it NOT NULL
    b.not_null.add(key)
    c = q(column)
    first: Phase = "validate" if after_backfill else "expand"
    check = q(object_name(short_name(table), column, suffix="not_null"))
    if b.version >= (18, 0, 0):
        not_valid_then_validate(
            b,
            first,
            table,
            check,
            (
                f"Add NOT NULL on {column} as NOT VALID (enforced for new writes, existing rows not checked)",
                alter(table, f"ADD CONSTRAINT {check} NOT NULL {c} NOT VALID"),
                "add_not_null_not_valid",
            ),
            f"Validate NOT NULL on {column} (scans the table without blocking reads or writes; 18+)",
            validate_rollback=[alter(table, f"ALTER COLUMN {c} DROP NOT NULL")],
        )
        return
    not_valid_then_validate(
        b,
        first,
        table,
        check,
        (
            f"Add CHECK ({column} IS NOT NULL) NOT VALID (enforced for new writes only)",
            alter(table, f"ADD CONSTRAINT {check} CHECK ({c} IS NOT NULL) NOT VALID"),
            "add_check_not_valid",
        ),
        f"Validate the CHECK on {column} (scans without blocking reads or writes)",
        validate_notes=["Nothing to undo: validating only marks the constraint as proven."],
    )
    if b.version < (12, 0, 0):
        seconds = b.steps[-1].estimate.seconds if b.steps[-1].estimate else None
        b.finding(not_null_before_12(table, column, seconds, b.line))
        b.note(f"{table}.{column}: before PostgreSQL 12 the validated CHECK is the NOT NULL rule (no SET NOT NULL).")
        return
    b.step(
        "validate",
        f"SET NOT NULL on {column}: the validated CHECK proves it, so no table scan (12+)",
        table,
        [alter(table, f"ALTER COLUMN {c} SET NOT NULL")],
        "set_not_null_proven",
        rollback=[alter(table, f"ALTER COLUMN {c} DROP NOT NULL")],
    )
    b.step(
        "validate",
        f"Drop the helper CHECK on {column} (the column's NOT NULL now enforces it)",
        table,
        [alter(table, f"DROP CONSTRAINT {check}")],
        "drop_constraint",
        rollback=[alter(table, f"ADD CONSTRAINT {check} CHECK ({c} IS NOT NULL) NOT VALID")],
    )


def set_not_null(b: Builder, op: ClassifiedOp) -> None:
    table, column = op.table, op.column or ""
    if op.kind == "set_not_null_proven":
        b.step(
            "validate",
            f"SET NOT NULL on {column}: the validated CHECK {op.detail.get('proven_by')} proves it (no scan)",
            table,
            [alter(table, f"ALTER COLUMN {q(column)} SET NOT NULL")],
            "set_not_null_proven",
            rollback=[alter(table, f"ALTER COLUMN {q(column)} DROP NOT NULL")],
        )
        return
    not_null_sequence(b, table, column)


# ------------------------------------------------------------------------------------------------ columns


def add_column(b: Builder, cmd: Any, ops: list[ClassifiedOp]) -> None:
    """ADD COLUMN: metadata-only where the version allows, else nullable column + default + backfill (+ NOT NULL)."""
    main = ops[0]
    table, column, detail = main.table, main.column or "", main.detail
    coldef = cmd.def_
    plain = copy.deepcopy(coldef)
    kept = ("CONSTR_DEFAULT", "CONSTR_NOTNULL", "CONSTR_NULL", "CONSTR_IDENTITY", "CONSTR_GENERATED")
    plain.constraints = tuple(c for c in coldef.constraints or () if _contype(c) in kept) or None
    if main.kind == "add_column":
        if detail.get("not_null") and not detail.get("has_default"):
            _add_required_column(b, table, column, coldef)
        else:
            b.step(
                "expand",
                f"Add column {column} ({_add_column_kind(detail)})",
                table,
                [alter(table, f"ADD COLUMN {deparse(plain)}")],
                "add_column",
                rollback=[alter(table, f"DROP COLUMN {q(column)}")],
            )
    elif detail.get("identity"):
        _add_identity_column(b, table, column, coldef)
    elif detail.get("serial"):
        _add_serial_column(b, table, column, coldef)
    elif detail.get("generated"):
        b.step(
            "expand",
            f"Add stored generated column {column} (rewrites the table: no online alternative keeps it generated)",
            table,
            [alter(table, f"ADD COLUMN {deparse(plain)}")],
            "add_column_rewrite",
            rollback=[alter(table, f"DROP COLUMN {q(column)}")],
            notes=["Online alternative: a plain column filled by a BEFORE INSERT OR UPDATE trigger plus a backfill."],
        )
    else:
        _add_column_with_volatile_default(b, table, column, coldef)
    for extra in ops[1:]:
        con = _inline_constraint(coldef, extra)
        if con is not None:
            add_constraint(b, table, con, extra)


def _add_column_kind(detail: dict[str, Any]) -> str:
    return "constant default: metadata only on 11+" if detail.get("has_default") else "nullable: metadata only"


def _contype(con: Any) -> str:
    return str(getattr(con.contype, "name", con.contype))


def _bare_column(coldef: Any) -> Any:
    bare = copy.deepcopy(coldef)
    bare.constraints = None
    bare.is_not_null = False
    return bare


def _default_of(coldef: Any) -> Any:
    return next((c.raw_expr for c in coldef.constraints or () if _contype(c) == "CONSTR_DEFAULT"), None)


def _add_column_with_volatile_default(b: Builder, table: str, column: str, coldef: Any) -> None:
    default = _default_of(coldef)
    expr = deparse(default) if default is not None else "NULL"
    c = q(column)
    b.step(
        "expand",
        f"Add {column} as a nullable column, then give it its default for new rows only (no rewrite)",
        table,
        [
            alter(table, f"ADD COLUMN {deparse(_bare_column(coldef))}"),
            alter(table, f"ALTER COLUMN {c} SET DEFAULT {expr}"),
        ],
        "add_column",
        rollback=[alter(table, f"DROP COLUMN {c}")],
        notes=[
            "A volatile default (or any default before PostgreSQL 11) in ADD COLUMN rewrites the whole table under "
            "ACCESS EXCLUSIVE; SET DEFAULT on an existing column never rewrites."
        ],
    )
    backfill(b, table, f"{c} = {expr}", f"{c} IS NULL", f"Backfill {column} = {expr} for existing rows", [])
    if coldef.is_not_null or any(_contype(x) in ("CONSTR_NOTNULL", "CONSTR_PRIMARY") for x in coldef.constraints or ()):
        not_null_sequence(b, table, column, after_backfill=True)


def _add_required_column(b: Builder, table: str, column: str, coldef: Any) -> None:
    c = q(column)
    b.finding(backfill_value_needed(table, column, b.line))
    b.step(
        "expand",
        f"Add {column} as a nullable column (NOT NULL without a default fails on existing rows)",
        table,
        [alter(table, f"ADD COLUMN {deparse(_bare_column(coldef))}")],
        "add_column",
        rollback=[alter(table, f"DROP COLUMN {c}")],
    )
    b.deploy(
        "expand",
        f"Deploy the application version that writes {table}.{column} on every INSERT",
        table,
        ["Must happen before the backfill and the NOT NULL constraint: rows inserted without it would stay NULL."],
    )
    backfill(
        b,
        table,
        f"{c} = {PLACEHOLDER}",
        f"{c} IS NULL",
        f"Backfill {column} for existing rows (replace the placeholder value first)",
        [f"Replace {PLACEHOLDER} with the value existing rows should get; the script does not run as generated."],
    )
    not_null_sequence(b, table, column, after_backfill=True)


def _add_identity_column(b: Builder, table: str, column: str, coldef: Any) -> None:
    """New identity column: add plain column + own sequence, backfill, NOT NULL, then convert to identity."""
    identity = next(c for c in coldef.constraints or () if _contype(c) == "CONSTR_IDENTITY")
    when = "ALWAYS" if str(identity.generated_when) == "a" else "BY DEFAULT"
    c = q(column)
    type_text = deparse(coldef.typeName)
    seq = _add_numbered_column(
        b,
        table,
        column,
        type_text,
        "backfill_seq",
        f"Add {column} as a plain nullable {type_text} column with a temporary sequence as its default",
        "ADD COLUMN ... GENERATED AS IDENTITY fills every row, rewriting the table under ACCESS EXCLUSIVE.",
    )
    b.step(
        "switch",
        f"Turn {column} into an identity column continuing after the backfilled values, in one short transaction",
        table,
        [
            "BEGIN",
            alter(table, f"ALTER COLUMN {c} DROP DEFAULT"),
            alter(table, f"ALTER COLUMN {c} ADD GENERATED {when} AS IDENTITY"),
            f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), nextval('{seq}'))",
            f"DROP SEQUENCE {q(seq)}",
            "COMMIT",
        ],
        "add_identity",
        rollback=[
            alter(table, f"ALTER COLUMN {c} DROP IDENTITY"),
        ],
        notes=["The temporary sequence's next value is above every backfilled one, so no scan for max() is needed."],
    )


def _add_serial_column(b: Builder, table: str, column: str, coldef: Any) -> None:
    base = str(coldef.typeName.names[-1].sval).lower()
    type_text = {"bigserial": "bigint", "serial8": "bigint", "smallserial": "smallint", "serial2": "smallint"}.get(
        base, "integer"
    )
    _add_numbered_column(
        b,
        table,
        column,
        type_text,
        "seq",
        f"Add {column} {type_text} with its own sequence as the default for new rows (no rewrite)",
        "Adding a serial column fills it with nextval() for every row: a full rewrite. Consider identity.",
    )


def _add_numbered_column(
    b: Builder, table: str, column: str, type_text: str, suffix: str, title: str, note: str
) -> str:
    """Add `column` with a new sequence as its default, number the existing rows from it, then make it NOT NULL.

    Returns the sequence's name (`<table>_<column>_<suffix>`, in the table's schema).
    """
    c = q(column)
    seq = same_schema(table, object_name(short_name(table), column, suffix=suffix))
    b.step(
        "expand",
        title,
        table,
        [
            alter(table, f"ADD COLUMN {c} {type_text}"),
            f"CREATE SEQUENCE {q(seq)} AS {type_text} OWNED BY {q(table)}.{c}",
            alter(table, f"ALTER COLUMN {c} SET DEFAULT nextval('{seq}')"),
        ],
        "add_column",
        rollback=[alter(table, f"DROP COLUMN {c}")],
        notes=[note],
    )
    backfill(b, table, f"{c} = nextval('{seq}')", f"{c} IS NULL", f"Number the existing rows of {column}", [])
    not_null_sequence(b, table, column, after_backfill=True)
    return seq


def _inline_constraint(coldef: Any, op: ClassifiedOp) -> Any:
    """The column's inline constraint for `op` as a table constraint on that column."""
    from pglast import ast

    wanted = {
        "add_foreign_key": "CONSTR_FOREIGN",
        "add_check": "CONSTR_CHECK",
        "add_check_not_valid": "CONSTR_CHECK",
        "add_unique": "CONSTR_UNIQUE",
        "add_primary_key": "CONSTR_PRIMARY",
    }.get(op.kind)
    for con in coldef.constraints or ():
        if _contype(con) == wanted:
            table_con = copy.deepcopy(con)
            column = ast.String(sval=str(coldef.colname))
            if wanted == "CONSTR_FOREIGN":
                table_con.fk_attrs = (column,)
            elif wanted in ("CONSTR_UNIQUE", "CONSTR_PRIMARY"):
                table_con.keys = (column,)
            return table_con
    return None


# ------------------------------------------------------------------------------------------------ constraints


def _expression_columns(expr: Any) -> list[str]:
    """Column names an expression references, in order (PostgreSQL names a CHECK after its first column)."""
    from pglast import ast
    from pglast.visitors import Visitor

    found: list[str] = []

    class _Columns(Visitor):
        def visit_ColumnRef(self, _ancestors: Any, node: ast.ColumnRef) -> None:
            fields: Any = node.fields
            if fields and isinstance(fields[-1], ast.String):
                found.append(str(fields[-1].sval))

    if expr is not None:
        _Columns()(expr)
    return found


def _constraint_sql(table: str, con: Any) -> str:
    from pglast import ast, enums

    relation = _rangevar(table)
    cmd = ast.AlterTableCmd(
        subtype=enums.AlterTableType.AT_AddConstraint, def_=con, behavior=enums.DropBehavior.DROP_RESTRICT
    )
    return deparse(ast.AlterTableStmt(relation=relation, cmds=(cmd,), objtype=enums.ObjectType.OBJECT_TABLE))


def _rangevar(table: str) -> Any:
    from pglast import ast

    schema, _, name = table.rpartition(".")
    return ast.RangeVar(schemaname=schema or None, relname=name, inh=True, relpersistence="p")


def add_constraint(b: Builder, table: str, con: Any, op: ClassifiedOp) -> None:
    """CHECK / FOREIGN KEY → NOT VALID + VALIDATE; UNIQUE / PRIMARY KEY → unique index CONCURRENTLY + USING INDEX."""
    kind = op.kind
    columns = [str(k.sval) for k in (con.keys or con.fk_attrs or ())] or ([op.column] if op.column else [])
    if kind in ("add_check", "add_check_not_valid", "add_foreign_key", "add_foreign_key_not_valid"):
        fk = kind.startswith("add_foreign_key")
        con = copy.deepcopy(con)
        if not con.conname:
            first = columns[:1] or _expression_columns(con.raw_expr)[:1]
            con.conname = object_name(short_name(table), *first, suffix="fkey" if fk else "check")
        name = q(str(con.conname))
        partitions = b.partitions(table) if fk else None
        if partitions is not None:
            _partitioned_foreign_key(b, table, con, partitions, str(op.detail.get("references") or ""))
            return
        con.skip_validation = True
        con.initially_valid = False
        what = f"foreign key {con.conname}" if fk else f"CHECK {con.conname}"
        referenced = str(op.detail.get("references") or "")
        not_valid_then_validate(
            b,
            "expand",
            table,
            name,
            (
                f"Add {what} as NOT VALID (checked for new writes only; no scan)",
                _constraint_sql(table, con),
                "add_foreign_key_not_valid" if fk else "add_check_not_valid",
            ),
            None if kind.endswith("_not_valid") else f"Validate {what} (scans without blocking reads or writes)",
            tables=[table, referenced] if fk and referenced else None,
            validate_notes=[f"Takes ROW SHARE on {referenced}." if fk and referenced else "Nothing to undo."],
        )
        return
    if kind in ("add_unique", "add_primary_key"):
        add_key(b, table, con, columns, primary=kind == "add_primary_key", drop_old=None)
        return
    raise ValueError(f"no constraint rewrite for {kind}")


def _partitioned_foreign_key(b: Builder, table: str, con: Any, partitions: list[str], referenced: str) -> None:
    """A foreign key on a partitioned table: NOT VALID + VALIDATE on each partition, then added on the parent.

    PostgreSQL refuses NOT VALID foreign keys on a partitioned table, and a plain one validates every partition
    under SHARE ROW EXCLUSIVE. Added on the parent last, the key adopts each partition's equal, validated key
    instead of checking the rows again.
    """
    name = q(str(con.conname))
    for partition in partitions:
        part = copy.deepcopy(con)
        part.skip_validation = True
        part.initially_valid = False
        not_valid_then_validate(
            b,
            "expand",
            partition,
            name,
            (
                f"Add foreign key {con.conname} on partition {partition} as NOT VALID (no scan)",
                _constraint_sql(partition, part),
                "add_foreign_key_not_valid",
            ),
            f"Validate foreign key {con.conname} on partition {partition} (scans without blocking reads or writes)",
            tables=[partition, referenced] if referenced else None,
            validate_notes=[f"Takes ROW SHARE on {referenced}." if referenced else "Nothing to undo."],
        )
    parent = copy.deepcopy(con)
    parent.skip_validation = False
    parent.initially_valid = True
    b.step(
        "validate",
        f"Add foreign key {con.conname} on the partitioned table {table}: it adopts the partitions' validated keys",
        table,
        [_constraint_sql(table, parent)],
        "add_foreign_key_not_valid",  # no scan: every partition already has an equal validated key
        tables=[table, *partitions, *([referenced] if referenced else [])],
        rollback=[alter(table, f"DROP CONSTRAINT {name}")],
        notes=[
            f"{table} is partitioned: NOT VALID is refused on it. Each partition got the key first, so adding it on "
            "the parent attaches those instead of checking every row again.",
            "A partition created or attached later gets the key from the parent.",
        ],
    )


def add_key(b: Builder, table: str, con: Any, columns: list[str], *, primary: bool, drop_old: str | None) -> None:
    """UNIQUE or PRIMARY KEY through CREATE UNIQUE INDEX CONCURRENTLY and ADD CONSTRAINT ... USING INDEX."""
    short = short_name(table)
    name = (
        str(con.conname)
        if con.conname
        else object_name(short, *([] if primary else columns), suffix="pkey" if primary else "key")
    )
    index = name if drop_old is None or drop_old.lower() != name.lower() else object_name(name, suffix="new")
    include = [str(i.sval) for i in con.including or ()] if getattr(con, "including", None) else []
    nulls = " NULLS NOT DISTINCT" if getattr(con, "nulls_not_distinct", False) else ""
    cols = ", ".join(q(c) for c in columns)
    include_sql = f" INCLUDE ({', '.join(q(i) for i in include)})" if include else ""
    create = f"CREATE UNIQUE INDEX CONCURRENTLY {q(index)} ON {q(table)} ({cols}){include_sql}{nulls}"
    if primary:
        for column in columns:
            info = column_info(b, table, column)
            if info is None or info.nullable:
                not_null_sequence(b, table, column)
    build_index(b, "expand", table, create, same_schema(table, index), f"Build the unique index {index} concurrently")
    kind_sql = "PRIMARY KEY" if primary else "UNIQUE"
    attach = f"ADD CONSTRAINT {q(name)} {kind_sql} USING INDEX {q(index)}"
    sql = [alter(table, f"DROP CONSTRAINT {q(drop_old)}, {attach}")] if drop_old else [alter(table, attach)]
    referencing = referencing_fks(b, table) if drop_old else []
    if referencing:
        b.finding(referenced_key_change(table, referencing, b.line))
    b.step(
        "switch" if drop_old else "expand",
        f"{'Swap the primary key to' if drop_old else 'Attach'} {name} using the new index (one short transaction)",
        table,
        sql,
        "add_constraint_using_index",
        rollback=[alter(table, f"DROP CONSTRAINT {q(name)}")],
        reversible=drop_old is None,
        notes=(
            [f"The old constraint {drop_old} and its index are dropped; re-create it concurrently to roll back."]
            if drop_old
            else []
        )
        + (["Columns must already be NOT NULL, or this statement scans to check them."] if primary else []),
    )


def referencing_fks(b: Builder, table: str) -> list[str]:
    if b.ctx.catalog is None:
        return []
    short = short_name(table).lower()
    return [
        f"{t.name}.{fk.name or '(unnamed)'}"
        for t in b.ctx.catalog.tables
        for fk in t.foreign_keys
        if fk.ref_table.rsplit(".", 1)[-1].lower() == short
    ]
