"""SQLite migration rules MIG157 to MIG161: changes that break running code (dropping or renaming a table or a
column) and PostgreSQL's CONCURRENTLY, which SQLite rejects.

A table or column created earlier in the same migration is not in use yet, and the 12-step rebuild's own DROP TABLE
and RENAME TO (create new_X, copy, drop X, rename new_X to X) keep the table under its name: neither is flagged.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Final

from dbspecialist.knowledge.findings import Finding, Fix, RuleSpec, Severity
from dbspecialist.knowledge.migrations.lint_rules_sqlite_core import Check, LintContext, _finding, _subject
from dbspecialist.knowledge.migrations.sqlite_statements import SqliteStatement
from dbspecialist.knowledge.sql_text import quote_ident

ENGINE: Final = "sqlite"
_CONCURRENTLY: Final = re.compile(r"\bCONCURRENTLY\s+", re.IGNORECASE)


def _spec(rule_id: str, name: str, summary: str, fix: str) -> RuleSpec:
    return RuleSpec(
        id=rule_id,
        name=name,
        capability="migrations",
        engines=("sqlite",),
        severity=Severity.HIGH,
        fix=fix,  # type: ignore[arg-type]
        summary=summary,
    )


def _created_before(ctx: LintContext, stmt: SqliteStatement, table: str | None) -> bool:
    """The table was created (or renamed into place) earlier in this migration: no running code uses it yet."""
    if table is None:
        return False
    low = table.lower()
    for earlier in ctx.statements[: stmt.index]:
        if earlier.kind == "create_table" and (earlier.name or earlier.table or "").lower() == low:
            return True
    return False


def _rebuild_drop(ctx: LintContext, stmt: SqliteStatement) -> bool:
    """DROP TABLE X followed by ALTER TABLE <other> RENAME TO X: the rebuild procedure's own drop."""
    low = (stmt.table or "").lower()
    return any(
        later.kind == "alter_table"
        and any(a.kind == "rename_table" and (a.new_name or "").lower() == low for a in later.actions)
        for later in ctx.statements[stmt.index + 1 :]
    )


def _takes_dropped_name(ctx: LintContext, stmt: SqliteStatement, new_name: str | None) -> bool:
    """ALTER TABLE new_X RENAME TO X after DROP TABLE X: the rebuild's rename back."""
    low = (new_name or "").lower()
    return any(
        earlier.kind == "drop_table" and (earlier.table or "").lower() == low
        for earlier in ctx.statements[: stmt.index]
    )


DROP_TABLE = _spec("MIG157", "sqlite-drop-table", "DROP TABLE of a table the application may still use.", "always")


def check_drop_table(stmt: SqliteStatement, ctx: LintContext) -> Iterator[Finding]:
    """DROP TABLE deletes the table and its data for good; code still using it fails.

    ## Why is this bad?
    Running application code that still reads or writes the table fails as soon as it is gone, and nothing undoes
    the drop but a backup. With foreign keys on, the drop also deletes the rows first, firing ON DELETE actions in
    child tables (SQLite docs, "SQLite Foreign Key Support").

    ## Example
    ```sql
    DROP TABLE orders;
    ```

    ## Use instead
    Deploy code that no longer uses the table first, back the database up, and drop it in a later migration:
    ```sql
    VACUUM INTO 'before_drop_orders.db';
    DROP TABLE orders;
    ```
    """
    if stmt.kind != "drop_table" or stmt.table is None:
        return
    if _rebuild_drop(ctx, stmt) or _created_before(ctx, stmt, stmt.table):
        return
    backup = f"before_drop_{stmt.table}.db".replace("'", "")
    yield _finding(
        DROP_TABLE,
        stmt,
        subject=stmt.table,
        kind="table",
        title=f"Dropping {stmt.table} breaks code that still uses it and loses its data",
        evidence={"table": stmt.table},
        rationale="The drop cannot be undone without a backup, and running code fails on the missing table.",
        help="Deploy code that no longer uses the table, take a backup, then drop it in a later migration.",
        fix=Fix(
            title="Back the database up first",
            statements=[f"VACUUM INTO '{backup}';", f"DROP TABLE {quote_ident(stmt.table, ENGINE)};"],
            safety="display-only",
            note="Run the drop only after the application version that no longer uses the table is deployed.",
        ),
    )


RENAME_TABLE = _spec("MIG158", "sqlite-rename-table", "ALTER TABLE ... RENAME TO of a table in use.", "never")


def check_rename_table(stmt: SqliteStatement, ctx: LintContext) -> Iterator[Finding]:
    """Renaming a table breaks every running query that uses the old name.

    ## Why is this bad?
    The rename is instant, but code deployed before it still names the old table and fails from that moment until
    the new code is out. SQLite has no updatable views, so the old name cannot be kept alive for writers.

    ## Example
    ```sql
    ALTER TABLE orders RENAME TO purchases;
    ```

    ## Use instead
    Deploy code that works with either name first (or stop the writers), rename, then deploy code using the new
    name only. The rebuild procedure's `ALTER TABLE new_orders RENAME TO orders` is not flagged.
    """
    if stmt.kind != "alter_table" or stmt.table is None or _created_before(ctx, stmt, stmt.table):
        return
    low = stmt.table.lower()
    recreated = any(  # renamed aside and recreated: MIG155's case
        later.kind == "create_table" and (later.name or later.table or "").lower() == low
        for later in ctx.statements[stmt.index + 1 :]
    )
    for action in stmt.actions:
        if action.kind != "rename_table" or recreated or _takes_dropped_name(ctx, stmt, action.new_name):
            continue
        yield _finding(
            RENAME_TABLE,
            stmt,
            subject=stmt.table,
            kind="table",
            title=f"Renaming {stmt.table} to {action.new_name} breaks running code that uses the old name",
            evidence={"new_name": action.new_name},
            rationale="Old application code keeps using the old table name until it is redeployed.",
            help="Deploy code that copes with both names (or stop writers) around the rename.",
        )


RENAME_COLUMN = _spec("MIG159", "sqlite-rename-column", "ALTER TABLE ... RENAME COLUMN of a column in use.", "never")


def check_rename_column(stmt: SqliteStatement, ctx: LintContext) -> Iterator[Finding]:
    """Renaming a column breaks every running query that uses the old name.

    ## Why is this bad?
    The rename rewrites the schema at once (3.25.0+), but code deployed before it still names the old column in
    SELECT, INSERT and UPDATE statements and fails until new code is out.

    ## Example
    ```sql
    ALTER TABLE orders RENAME COLUMN status TO state;
    ```

    ## Use instead
    Expand/contract: add the new column, write both from the application, backfill the new one, switch reads,
    then drop the old column in a later migration. Or deploy code that no longer names the column first.
    """
    if stmt.kind != "alter_table" or _created_before(ctx, stmt, stmt.table):
        return
    for action in stmt.actions:
        if action.kind != "rename_column":
            continue
        yield _finding(
            RENAME_COLUMN,
            stmt,
            subject=_subject(stmt.table, action.column),
            kind="column",
            title=f"Renaming {_subject(stmt.table, action.column)} to {action.new_name} breaks running code",
            evidence={"new_name": action.new_name},
            rationale="Old application code keeps using the old column name until it is redeployed.",
            help="Add the new column, write both, backfill, switch the code, then drop the old one.",
        )


DROP_COLUMN = _spec("MIG160", "sqlite-drop-column", "ALTER TABLE ... DROP COLUMN of a column in use.", "never")


def check_drop_column(stmt: SqliteStatement, ctx: LintContext) -> Iterator[Finding]:
    """Dropping a column breaks code that still uses it and loses its data.

    ## Why is this bad?
    Running code that names the column (or inserts with a column list that has it) fails as soon as it is gone, and
    only a backup brings the data back. DROP COLUMN also rewrites every row of the table (SQLite docs, ALTER TABLE
    DROP COLUMN), holding the database write lock meanwhile.

    ## Example
    ```sql
    ALTER TABLE orders DROP COLUMN note;
    ```

    ## Use instead
    Deploy code that no longer uses the column first, back the database up, then drop it in a later migration.
    """
    if stmt.kind != "alter_table" or _created_before(ctx, stmt, stmt.table):
        return
    for action in stmt.actions:
        if action.kind != "drop_column":
            continue
        yield _finding(
            DROP_COLUMN,
            stmt,
            subject=_subject(stmt.table, action.column),
            kind="column",
            title=f"Dropping {_subject(stmt.table, action.column)} breaks code that still uses it",
            evidence={"column": action.column},
            rationale="Running code fails on a missing column; the drop cannot be undone without a backup.",
            help="Deploy code that ignores the column first, take a backup, then drop it.",
        )


CONCURRENTLY = _spec(
    "MIG161",
    "sqlite-index-concurrently",
    "CREATE INDEX CONCURRENTLY / DROP INDEX CONCURRENTLY (PostgreSQL syntax).",
    "always",
)


def check_concurrently(stmt: SqliteStatement, ctx: LintContext) -> Iterator[Finding]:
    """SQLite has no CONCURRENTLY: the statement is a syntax error and the migration stops there.

    ## Why is this bad?
    `CONCURRENTLY` is PostgreSQL's way to build or drop an index without blocking writes. SQLite does not know the
    word (it reads it as the index name and then fails with a syntax error), so a migration written for
    PostgreSQL stops at this statement. SQLite has one writer at a time anyway: the build holds the database write
    lock until it finishes, which is short on small databases.

    ## Example
    ```sql
    CREATE INDEX CONCURRENTLY ix_orders_status ON orders (status);
    ```

    ## Use instead
    ```sql
    CREATE INDEX ix_orders_status ON orders (status);
    ```
    """
    if stmt.kind not in ("create_index", "drop_index") or (stmt.name or "").upper() != "CONCURRENTLY":
        return
    fixed = _CONCURRENTLY.sub("", stmt.text, count=1)
    yield _finding(
        CONCURRENTLY,
        stmt,
        subject=stmt.table or "?",
        kind="table",
        title="SQLite has no CONCURRENTLY: the statement fails with a syntax error",
        evidence={"statement": "create_index" if stmt.kind == "create_index" else "drop_index"},
        rationale="CONCURRENTLY is PostgreSQL syntax; SQLite rejects it and the migration stops.",
        help="Remove CONCURRENTLY; SQLite builds the index under its database write lock.",
        fix=Fix(title="Remove CONCURRENTLY", statements=[fixed.rstrip().rstrip(";") + ";"], safety="safe"),
    )


RULES: Final[tuple[tuple[RuleSpec, Check], ...]] = (
    (DROP_TABLE, check_drop_table),
    (RENAME_TABLE, check_rename_table),
    (RENAME_COLUMN, check_rename_column),
    (DROP_COLUMN, check_drop_column),
    (CONCURRENTLY, check_concurrently),
)
