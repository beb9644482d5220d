"""PostgreSQL lint rules: added columns that rewrite or fail on existing tables, SET NOT NULL, and type changes.

Rewrite facts: PostgreSQL docs, ALTER TABLE notes (a volatile default, a stored generated or identity column, or a
type change that is not binary-coercible rewrites the table and its indexes; a non-volatile default is stored in
the catalog from PostgreSQL 11; SET NOT NULL skips its scan when a valid CHECK proves the column, 12+; NOT NULL
... NOT VALID from 18). Type changes are judged by the safe-cast matrix in pg_safe_cast.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Final

from dbspecialist.knowledge.findings import Finding, Fix, Severity
from dbspecialist.knowledge.migrations.lint_rules_postgres_coltypes import ColumnUse, type_base
from dbspecialist.knowledge.migrations.lint_rules_postgres_core import (
    LintState,
    finding,
    ident,
    lock_evidence,
    short,
    spec,
)
from dbspecialist.knowledge.migrations.lint_rules_postgres_failures import table_not_null_constraints
from dbspecialist.knowledge.migrations.pg_classify import ClassifiedOp
from dbspecialist.knowledge.migrations.pg_locks import ACCESS_EXCLUSIVE
from dbspecialist.knowledge.migrations.pg_statements import PgStatement
from dbspecialist.knowledge.sql_text import index_name

FAST_DEFAULT_SINCE: Final = (11, 0, 0)
CHECK_SHORTCUT_SINCE: Final = (12, 0, 0)
NOT_NULL_NOT_VALID_SINCE: Final = (18, 0, 0)
VIRTUAL_GENERATED_SINCE: Final = (18, 0, 0)
BATCH_ROWS: Final = 5000
# Targets of ALTER ... TYPE that some other type reaches without a rewrite (pg_safe_cast): with the current type
# unknown, changing to one of these may be metadata-only.
_MAYBE_CHEAP_TARGETS: Final = frozenset(
    {"varchar", "text", "numeric", "timestamp", "timestamptz", "time", "timetz", "interval", "inet", "varbit", "citext"}
)


def _batch_update(table: str, assignment: str, pending: str) -> str:
    """One batch of a resumable backfill: run it until it updates 0 rows, committing each time."""
    t = ident(table)
    return (
        f"UPDATE {t} SET {assignment} WHERE ctid = ANY (ARRAY(SELECT ctid FROM {t} WHERE {pending} "
        f"LIMIT {BATCH_ROWS}));  -- repeat until 0 rows"
    )


def _ops(state: LintState, statement: PgStatement, *kinds: str) -> Iterator[ClassifiedOp]:
    """This statement's operations of `kinds` on tables that existed before the migration."""
    if not state.alters_a_table(statement):
        return
    for op in state.ops:
        if op.kind in kinds and op.table and not state.is_new(op.table):
            yield op


# ----------------------------------------------------------------------------------------------- MIG013

VOLATILE_DEFAULT = spec(
    "MIG013",
    "add-column-volatile-default",
    Severity.HIGH,
    "ADD COLUMN with a default that rewrites the table (volatile, serial, or any default before PostgreSQL 11).",
    fix="always",
)


def check_volatile_default(statement: PgStatement, state: LintState) -> Iterator[Finding]:
    """ADD COLUMN with a volatile default (or any default before PostgreSQL 11) rewrites the table under lock.

    ## Why is this bad?
    From PostgreSQL 11 a constant or non-volatile default (`0`, `'new'`, `now()`) is stored in the catalog and the
    column appears instantly. A volatile default (`gen_random_uuid()`, `random()`, `clock_timestamp()`, a serial's
    `nextval`) must be computed per row, so the whole table and its indexes are rewritten while ACCESS EXCLUSIVE
    blocks all access. Before 11, every non-NULL default rewrites (PostgreSQL docs, ALTER TABLE notes).

    ## Example
    ```sql
    ALTER TABLE orders ADD COLUMN public_id uuid DEFAULT gen_random_uuid();
    ```

    ## Use instead
    ```sql
    ALTER TABLE orders ADD COLUMN public_id uuid;
    ALTER TABLE orders ALTER COLUMN public_id SET DEFAULT gen_random_uuid();
    -- backfill existing rows in batches, committing each batch
    ```

    ## Notes
    squawk's adding-field-with-default judges volatility from a list of built-in functions; we do the same
    (pg_statements.NON_VOLATILE_FUNCTIONS) and also count serial columns, whose nextval default is volatile.
    Stored generated and identity columns are MIG014.
    """
    for op in _ops(state, statement, "add_column_rewrite"):
        if op.detail.get("identity") or op.detail.get("generated"):
            continue
        table, column = op.table, op.column or ""
        serial = bool(op.detail.get("serial"))
        default = str(op.detail.get("default") or "")
        volatile = bool(op.detail.get("volatile_default"))
        if not volatile and state.version >= FAST_DEFAULT_SINCE:
            continue
        use = next((u for u in state.columns(statement) if u.column == column), None)
        yield finding(
            VOLATILE_DEFAULT,
            statement,
            title=f"Adding {table}.{column} with default {default or 'nextval'} rewrites the whole table under lock",
            subject=f"{table}.{column}",
            subject_kind="column",
            table=table,
            evidence={
                **lock_evidence(ACCESS_EXCLUSIVE),
                "default": default,
                "volatile": volatile,
                "serial": serial,
                **state.version_evidence(),
            },
            rationale=(
                "The default must be evaluated for every existing row, so PostgreSQL rewrites the table and its "
                "indexes while holding ACCESS EXCLUSIVE. Adding the column without it, setting the default for new "
                "rows, and backfilling in batches keeps the table available."
                if volatile
                else "Before PostgreSQL 11 any default is written into every existing row by a full rewrite under "
                "ACCESS EXCLUSIVE. Add the column bare, set the default for new rows, then backfill in batches."
            ),
            help="Add the column without the default, SET DEFAULT for new rows, then backfill in batches.",
            fix=_default_fix(table, column, use, default, serial=serial),
        )


def _default_fix(table: str, column: str, use: ColumnUse | None, default: str, *, serial: bool) -> Fix:
    t, c = ident(table), ident(column)
    base = type_base(use.type_node) if use is not None else ""
    if serial:
        sequence = index_name(short(table), [column], "seq")
        plain = {"bigserial": "bigint", "serial8": "bigint", "smallserial": "smallint", "serial2": "smallint"}
        column_type = plain.get(base, "integer")
        statements = [
            f"CREATE SEQUENCE IF NOT EXISTS {ident(sequence)};",
            f"ALTER TABLE {t} ADD COLUMN IF NOT EXISTS {c} {column_type};",
            f"ALTER TABLE {t} ALTER COLUMN {c} SET DEFAULT nextval('{sequence}');",
            f"ALTER SEQUENCE {ident(sequence)} OWNED BY {t}.{c};",
            _batch_update(table, f"{c} = nextval('{sequence}')", f"{c} IS NULL"),
        ]
    else:
        from dbspecialist.knowledge.migrations.pg_statements import type_name

        column_type = type_name(use.type_node) if use is not None else "<type>"
        statements = [
            f"ALTER TABLE {t} ADD COLUMN IF NOT EXISTS {c} {column_type};",
            f"ALTER TABLE {t} ALTER COLUMN {c} SET DEFAULT {default};",
            _batch_update(table, f"{c} = {default}", f"{c} IS NULL"),
        ]
    return Fix(
        title="Add the column bare, default new rows, backfill old ones in batches",
        statements=statements,
        note="Commit after each batch. If the column must be NOT NULL, add it afterwards with the CHECK ... NOT VALID "
        "sequence (MIG016).",
    )


# ----------------------------------------------------------------------------------------------- MIG014

GENERATED_COLUMN = spec(
    "MIG014",
    "add-column-generated-rewrite",
    Severity.HIGH,
    "ADD COLUMN ... GENERATED ALWAYS AS (...) STORED or AS IDENTITY on an existing table.",
)


def check_generated_column(statement: PgStatement, state: LintState) -> Iterator[Finding]:
    """Adding a stored generated or an identity column computes a value for every row: a full rewrite under lock.

    ## Why is this bad?
    A `GENERATED ALWAYS AS (...) STORED` column and a `GENERATED ... AS IDENTITY` column both need a value written
    into every existing row, so PostgreSQL rewrites the table and its indexes while holding ACCESS EXCLUSIVE
    (PostgreSQL docs, ALTER TABLE notes).

    ## Example
    ```sql
    ALTER TABLE orders ADD COLUMN total_cents bigint GENERATED ALWAYS AS (total * 100) STORED;
    ```

    ## Use instead
    On PostgreSQL 18+, a VIRTUAL generated column (computed on read, no rewrite). Before that: add a plain
    nullable column, keep it current with a trigger, and backfill it in batches. For identity: add a plain
    bigint column, backfill it, make it NOT NULL the online way, then `ALTER COLUMN ... ADD GENERATED BY DEFAULT
    AS IDENTITY` (catalog only) and move the sequence past the largest value.

    ## Notes
    squawk's adding-field-with-default reports these together with volatile defaults; we keep them apart
    because the fixes differ. strong_migrations checks the same (stored generated and auto-increment columns).
    """
    for op in _ops(state, statement, "add_column_rewrite"):
        identity, generated = bool(op.detail.get("identity")), bool(op.detail.get("generated"))
        if not identity and not generated:
            continue
        table, column = op.table, op.column or ""
        column_type = str(op.detail.get("type") or "bigint")
        t, c = ident(table), ident(column)
        if identity:
            fix = Fix(
                title="Add a plain column, backfill it, then make it an identity",
                statements=[
                    f"ALTER TABLE {t} ADD COLUMN IF NOT EXISTS {c} {column_type};",
                    f"CREATE SEQUENCE IF NOT EXISTS {ident(index_name(short(table), [column], 'backfill_seq'))};",
                    _batch_update(
                        table, f"{c} = nextval('{index_name(short(table), [column], 'backfill_seq')}')", f"{c} IS NULL"
                    ),
                    f"-- make {column} NOT NULL with the CHECK ... NOT VALID sequence (MIG016), then:",
                    f"ALTER TABLE {t} ALTER COLUMN {c} ADD GENERATED BY DEFAULT AS IDENTITY;",
                    f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), (SELECT max({c}) FROM {t}));",
                ],
                safety="display-only",
                note="Drop the backfill sequence afterwards.",
            )
        else:
            expression = _generated_expression(state.columns(statement), column)
            if state.version >= VIRTUAL_GENERATED_SINCE:
                fix = Fix(
                    title="Use a virtual generated column (computed on read)",
                    statements=[
                        f"ALTER TABLE {t} ADD COLUMN {c} {column_type} GENERATED ALWAYS AS ({expression}) VIRTUAL;"
                    ],
                    note="PostgreSQL 18+: no rewrite; the value is computed when read and cannot be indexed.",
                )
            else:
                function = ident(index_name(short(table), [column], "sync"))
                statements = [
                    f"ALTER TABLE {t} ADD COLUMN IF NOT EXISTS {c} {column_type};",
                    f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS "
                    f"$$ BEGIN NEW.{c} := {_new_row(expression)}; RETURN NEW; END $$;",
                    f"CREATE TRIGGER {function} BEFORE INSERT OR UPDATE ON {t} FOR EACH ROW EXECUTE "
                    f"{'FUNCTION' if state.version >= FAST_DEFAULT_SINCE else 'PROCEDURE'} {function}();",
                    _batch_update(table, f"{c} = {expression}", f"{c} IS NULL"),
                ]
                fix = Fix(
                    title="Add a plain column kept current by a trigger, backfill in batches",
                    statements=statements,
                    safety="display-only",
                    note="Check the trigger expression: column references in it must read NEW.<column>.",
                )
        what = "an identity" if identity else "a stored generated"
        yield finding(
            GENERATED_COLUMN,
            statement,
            title=f"Adding {what} column {table}.{column} rewrites every row under ACCESS EXCLUSIVE",
            subject=f"{table}.{column}",
            subject_kind="column",
            table=table,
            evidence={
                **lock_evidence(ACCESS_EXCLUSIVE),
                "identity": identity,
                "generated": generated,
                **state.version_evidence(),
            },
            rationale=(
                f"PostgreSQL must write a value into every existing row for {what} column, which rewrites the table "
                "and its indexes with all reads and writes blocked."
            ),
            help="Add a plain nullable column and fill it in batches (or use a VIRTUAL generated column on 18+).",
            fix=fix,
        )


def _generated_expression(uses: list[ColumnUse], column: str) -> str:
    from dbspecialist.knowledge.migrations.pg_statements import deparse

    for use in uses:
        if use.column == column:
            for con in use.definition.constraints or ():
                if (
                    getattr(con, "raw_expr", None) is not None
                    and str(getattr(con.contype, "name", "")) == "CONSTR_GENERATED"
                ):
                    return deparse(con.raw_expr)
    return "<expression>"


def _new_row(expression: str) -> str:
    """The expression with every column read from the trigger's NEW row ('a * 2' → 'new.a * 2')."""
    from pglast import ast, parse_sql
    from pglast.parser import ParseError
    from pglast.visitors import Visitor

    from dbspecialist.knowledge.migrations.pg_statements import deparse

    try:
        select = parse_sql(f"SELECT {expression}")[0].stmt
    except ParseError:
        return expression
    selected: Any = select
    target: Any = selected.targetList[0].val

    class _Prefix(Visitor):
        def visit_ColumnRef(self, _ancestors: Any, node: ast.ColumnRef) -> None:
            fields: Any = node.fields
            if len(fields) == 1 and isinstance(fields[0], ast.String):
                node.fields = (ast.String(sval="new"), fields[0])

    _Prefix()(target)
    return deparse(target)


# ----------------------------------------------------------------------------------------------- MIG015

REQUIRED_COLUMN = spec(
    "MIG015",
    "add-required-column",
    Severity.HIGH,
    "ADD COLUMN ... NOT NULL without a default on an existing table.",
)


def check_required_column(statement: PgStatement, state: LintState) -> Iterator[Finding]:
    """ADD COLUMN ... NOT NULL without a DEFAULT fails on any table that has rows.

    ## Why is this bad?
    Existing rows would get NULL in the new column, which NOT NULL forbids, so PostgreSQL refuses the statement
    ("column ... contains null values") as soon as the table is not empty. Old application code that inserts
    without the column also starts failing.

    ## Example
    ```sql
    ALTER TABLE orders ADD COLUMN region text NOT NULL;
    ```

    ## Use instead
    ```sql
    ALTER TABLE orders ADD COLUMN region text NOT NULL DEFAULT 'eu';  -- PostgreSQL 11+: catalog only
    ```

    ## Notes
    Identity, serial and generated columns are not flagged (they produce their own values). Tables created in the
    same file are not flagged. Same as squawk's adding-required-field.
    """
    for op in _ops(state, statement, "add_column", "add_column_rewrite"):
        detail = op.detail
        if not detail.get("not_null") or detail.get("has_default") or detail.get("identity") or detail.get("generated"):
            continue
        table, column = op.table, op.column or ""
        column_type = str(detail.get("type") or "<type>")
        t, c = ident(table), ident(column)
        fixes = [f"ALTER TABLE {t} ADD COLUMN {c} {column_type} NOT NULL DEFAULT <constant>;"]
        if state.version < FAST_DEFAULT_SINCE:
            fixes = [
                f"ALTER TABLE {t} ADD COLUMN {c} {column_type};",
                f"-- backfill {column} in batches, then make it NOT NULL (MIG016)",
            ]
        yield finding(
            REQUIRED_COLUMN,
            statement,
            title=f"Adding NOT NULL column {table}.{column} without a default fails if {table} has any row",
            subject=f"{table}.{column}",
            subject_kind="column",
            table=table,
            evidence={"type": column_type, **state.version_evidence()},
            rationale=(
                "Existing rows cannot satisfy NOT NULL for a column with no default, so the ALTER TABLE errors out on "
                "a non-empty table, and inserts from code that does not know the column fail."
            ),
            help="Give the column a constant DEFAULT (catalog-only on 11+), or add it nullable and backfill.",
            fix=Fix(title="Add the column with a constant default", statements=fixes, safety="display-only"),
        )


# ----------------------------------------------------------------------------------------------- MIG016

SET_NOT_NULL = spec(
    "MIG016",
    "set-not-null-scans-table",
    Severity.HIGH,
    "SET NOT NULL on an existing column without a validated CHECK (c IS NOT NULL) proving it.",
    fix="always",
)


def _not_null_fix(table: str, column: str, state: LintState) -> Fix | None:
    name = index_name(short(table), [column], "not_null")
    t, c, n = ident(table), ident(column), ident(name)
    if state.version >= NOT_NULL_NOT_VALID_SINCE:
        return Fix(
            title="Add the NOT NULL constraint NOT VALID, then validate it",
            statements=[
                f"ALTER TABLE {t} ADD CONSTRAINT {n} NOT NULL {c} NOT VALID;",
                f"ALTER TABLE {t} VALIDATE CONSTRAINT {n};",
            ],
            note="PostgreSQL 18+: the validation scans with writes allowed. Commit between the two statements.",
        )
    if state.version >= CHECK_SHORTCUT_SINCE:
        return Fix(
            title="Prove NOT NULL with a validated CHECK first",
            statements=[
                f"ALTER TABLE {t} ADD CONSTRAINT {n} CHECK ({c} IS NOT NULL) NOT VALID;",
                f"ALTER TABLE {t} VALIDATE CONSTRAINT {n};",
                f"ALTER TABLE {t} ALTER COLUMN {c} SET NOT NULL;",
                f"ALTER TABLE {t} DROP CONSTRAINT {n};",
            ],
            note="Run each statement in its own transaction; SET NOT NULL then skips the scan (PostgreSQL 12+).",
        )
    return None


def check_set_not_null(statement: PgStatement, state: LintState) -> Iterator[Finding]:
    """SET NOT NULL scans the whole table under ACCESS EXCLUSIVE unless a validated CHECK already proves it.

    ## Why is this bad?
    To make a column NOT NULL, PostgreSQL reads every row while holding ACCESS EXCLUSIVE: nothing can read or write
    the table meanwhile. From PostgreSQL 12 the scan is skipped when a validated `CHECK (col IS NOT NULL)` exists,
    and a CHECK can be added NOT VALID and validated online; PostgreSQL 18 accepts `NOT NULL ... NOT VALID`
    directly (PostgreSQL docs, ALTER TABLE).

    ## Example
    ```sql
    ALTER TABLE orders ALTER COLUMN customer_id SET NOT NULL;
    ```

    ## Use instead
    ```sql
    ALTER TABLE orders ADD CONSTRAINT orders_customer_id_not_null CHECK (customer_id IS NOT NULL) NOT VALID;
    ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_id_not_null;
    ALTER TABLE orders ALTER COLUMN customer_id SET NOT NULL;
    ALTER TABLE orders DROP CONSTRAINT orders_customer_id_not_null;
    ```

    ## Notes
    Not flagged when the file validates a `CHECK (col IS NOT NULL)` first (12+), or on 18+ a NOT NULL constraint
    added NOT VALID, or for tables created in the file. Before 18, `ADD CONSTRAINT c NOT NULL col` is MIG052.
    When the file validates a constraint added by an earlier migration, we cannot see its expression and lower
    the severity to low (squawk assumes it is the right one and stays silent). Same as squawk's
    adding-not-nullable-field and strong_migrations' change_column_null check.
    """
    before_18 = state.version < NOT_NULL_NOT_VALID_SINCE
    table_form = {column.lower() for column, _con in table_not_null_constraints(statement)} if before_18 else set()
    for op in _ops(state, statement, "set_not_null"):
        column = op.column or ""
        if column.lower() in table_form:
            continue  # `ADD CONSTRAINT c NOT NULL col` is a syntax error before 18 (MIG052), not a scan
        if not before_18 and (short(op.table).lower(), column.lower()) in state.not_null_validated:
            continue  # a NOT NULL constraint added NOT VALID and validated earlier in the file already holds
        maybe_proven = short(op.table).lower() in state.validated_elsewhere
        evidence = {**lock_evidence(ACCESS_EXCLUSIVE), "column": column, **state.version_evidence()}
        if maybe_proven:
            evidence["validated_constraint_of_earlier_migration"] = True
        help = (
            "Add CHECK (col IS NOT NULL) NOT VALID, VALIDATE it, then SET NOT NULL (12+)."
            if state.version < NOT_NULL_NOT_VALID_SINCE
            else "Add the NOT NULL constraint NOT VALID, then VALIDATE it (18+)."
        )
        if state.version < CHECK_SHORTCUT_SINCE:
            help = "PostgreSQL before 12 always scans: run it with a lock_timeout at a quiet time, or upgrade."
        yield finding(
            SET_NOT_NULL,
            statement,
            title=f"SET NOT NULL on {op.table}.{column} reads the whole table with all access blocked",
            subject=f"{op.table}.{column}",
            subject_kind="column",
            table=op.table,
            evidence=evidence,
            rationale=(
                "PostgreSQL checks every row for NULLs while holding ACCESS EXCLUSIVE. A validated CHECK "
                "(col IS NOT NULL) lets it skip that scan, and the CHECK itself can be validated without blocking."
            ),
            help=help,
            fix=_not_null_fix(op.table, column, state),
            severity=Severity.LOW if maybe_proven else None,
        )


# ----------------------------------------------------------------------------------------------- MIG017

TYPE_CHANGE = spec(
    "MIG017",
    "column-type-change-rewrites",
    Severity.HIGH,
    "ALTER COLUMN ... TYPE that rewrites the table or rebuilds its indexes.",
)


def check_type_change(statement: PgStatement, state: LintState) -> Iterator[Finding]:
    """ALTER COLUMN ... TYPE rewrites the table (or rebuilds its indexes) under ACCESS EXCLUSIVE.

    ## Why is this bad?
    Unless the new type is binary-coercible from the old one (varchar(20) → varchar(50), varchar → text, numeric
    precision up, cidr → inet ...), PostgreSQL rewrites every row and rebuilds every index while all reads and
    writes wait; some changes keep the rows but rebuild the column's indexes (text ↔ citext, timestamp ↔ timestamptz
    with a UTC session on 12+). Clients reading the column may also break on the new type.

    ## Example
    ```sql
    ALTER TABLE orders ALTER COLUMN id TYPE bigint;
    ```

    ## Use instead
    Add a new column of the new type, keep it in sync with a trigger, backfill it in batches, switch the
    application over, then swap the names in one short transaction and drop the old column.

    ## Notes
    squawk's changing-column-type flags every type change; we use the safe-cast matrix (strong_migrations' list
    plus PostgreSQL's binary-coercible casts), so metadata-only changes are not flagged. When the column's current
    type is not in the file, a change to a type that some types reach for free is reported at medium severity.
    """
    for op in _ops(state, statement, "alter_type", "alter_type_rebuild_indexes"):
        table, column = op.table, op.column or ""
        new_type = str(op.detail.get("type") or "")
        old_type = op.detail.get("old_type")
        unknown = bool(op.detail.get("old_type_unknown"))
        using = op.detail.get("using")
        rebuild = op.kind == "alter_type_rebuild_indexes"
        base = new_type.split("(")[0].split("[")[0].strip().lower()
        severity = None
        if rebuild or (unknown and not using and _maybe_cheap(base)):
            severity = Severity.MEDIUM
        if rebuild:
            title = f"Changing {table}.{column} to {new_type} rebuilds its indexes under ACCESS EXCLUSIVE"
        elif unknown and severity is not None:
            title = f"Changing {table}.{column} to {new_type} rewrites the table unless the current type is compatible"
        elif unknown:
            title = f"Changing {table}.{column} to {new_type} rewrites the whole table under lock"
        elif _utc_would_free(op.detail, state):
            title = (
                f"Changing {table}.{column} from {old_type} to {new_type} rewrites the whole table under lock "
                "unless the session time zone is UTC"
            )
        else:
            title = f"Changing {table}.{column} from {old_type} to {new_type} rewrites the whole table under lock"
        yield finding(
            TYPE_CHANGE,
            statement,
            title=title,
            subject=f"{table}.{column}",
            subject_kind="column",
            table=table,
            evidence={
                **lock_evidence(ACCESS_EXCLUSIVE),
                "old_type": str(old_type) if old_type else None,
                "new_type": new_type,
                "cast": str(op.detail.get("cast") or "rewrite"),
                "reason": str(op.detail.get("reason") or ""),
                **state.version_evidence(),
            },
            rationale=(
                "A type change that is not binary-coercible rewrites every row and rebuilds every index while ACCESS "
                "EXCLUSIVE blocks all access. A new column filled in the background avoids the long lock."
            ),
            help="Add a new column, sync it with a trigger, backfill in batches, then swap names (expand/contract).",
            fix=_type_change_fix(table, column, new_type, state, utc_path=_utc_would_free(op.detail, state)),
            severity=severity,
        )


def _utc_would_free(detail: dict[str, Any], state: LintState) -> bool:
    """timestamp ↔ timestamptz on 12+ without a UTC session: `SET timezone = 'UTC'` first makes it catalog-only."""
    pair = {str(detail.get("old_type") or "").split("(")[0], str(detail.get("type") or "").split("(")[0]}
    pair = {_TIMESTAMP_ALIASES.get(t.strip().lower(), t.strip().lower()) for t in pair}
    return (
        pair == {"timestamp", "timestamptz"}
        and not detail.get("using")
        and state.version >= (12, 0, 0)
        and "UTC" in str(detail.get("reason") or "")
    )


_TIMESTAMP_ALIASES: Final = {
    "timestamp without time zone": "timestamp",
    "timestamp with time zone": "timestamptz",
}


def _maybe_cheap(base: str) -> bool:
    aliases = {"character varying": "varchar", "timestamp with time zone": "timestamptz", "decimal": "numeric"}
    return aliases.get(base, base) in _MAYBE_CHEAP_TARGETS


def _type_change_fix(table: str, column: str, new_type: str, state: LintState, *, utc_path: bool = False) -> Fix:
    t, c = ident(table), ident(column)
    new_column = f"{column}_new"
    n = ident(new_column)
    function = ident(index_name(short(table), [column], "sync"))
    execute = "FUNCTION" if state.version >= FAST_DEFAULT_SINCE else "PROCEDURE"
    return Fix(
        title="Change the type through a new column (expand/contract)",
        statements=[
            f"ALTER TABLE {t} ADD COLUMN IF NOT EXISTS {n} {new_type};",
            f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN NEW.{n} := NEW.{c}::{new_type}; RETURN NEW; END $$;",
            f"CREATE TRIGGER {function} BEFORE INSERT OR UPDATE ON {t} FOR EACH ROW EXECUTE {execute} {function}();",
            _batch_update(table, f"{n} = {c}::{new_type}", f"{n} IS NULL AND {c} IS NOT NULL"),
            f"BEGIN; ALTER TABLE {t} RENAME COLUMN {c} TO {ident(column + '_old')}; "
            f"ALTER TABLE {t} RENAME COLUMN {n} TO {c}; DROP TRIGGER {function} ON {t}; COMMIT;",
            f"ALTER TABLE {t} DROP COLUMN {ident(column + '_old')};  -- after the application stopped reading it",
        ],
        safety="display-only",
        note="Recreate indexes and constraints of the old column on the new one (concurrently) before the swap."
        + (
            f" Simpler when the stored values are UTC: `SET timezone = 'UTC'; ALTER TABLE {t} ALTER COLUMN {c} "
            f"TYPE {new_type};` changes only the catalog on PostgreSQL 12+ (indexes on the column are rebuilt)."
            if utc_path
            else ""
        ),
    )
