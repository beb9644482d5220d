"""MySQL/MariaDB lint rules about changes that break running code or lose data, and session hygiene: dropped or
renamed columns and tables, DROP/TRUNCATE TABLE, a missing lock_wait_timeout, DDL inside a transaction.
"""

from __future__ import annotations

from collections.abc import Iterator

from dbspecialist.knowledge.findings import Finding, Fix, Severity
from dbspecialist.knowledge.migrations.lint_rules_mysql_core import (
    LOCK_WAIT_LIMIT_S,
    LintState,
    column_subject,
    finding,
    is_ddl,
    ops,
    planned_fix,
    spec,
)
from dbspecialist.knowledge.migrations.mysql_statements import ParsedStatement
from dbspecialist.knowledge.migrations.mysql_steps import PREAMBLE
from dbspecialist.knowledge.migrations.mysql_tokens import quote

MIG106 = spec("MIG106", "mysql-drop-column", Severity.HIGH, "DROP COLUMN")


def check_drop_column(parsed: ParsedStatement, state: LintState) -> Iterator[Finding]:
    """Dropping a column breaks running code that still names it, and the data is gone for good.

    Application servers deployed before the migration still SELECT and INSERT the column (ORMs cache the column
    list), so they fail the moment it disappears. Deploy code that no longer uses the column first, then drop it in a
    later migration — with an explicit ALGORITHM (INSTANT from MySQL 8.0.29 / MariaDB 10.4).
    """
    if parsed.kind != "alter_table":
        return
    for classified in ops(parsed, state, "drop_column"):
        operation = classified.operation
        yield finding(
            MIG106,
            parsed,
            state,
            title=f"Dropping {column_subject(parsed, operation)} breaks code that still uses it",
            subject=column_subject(parsed, operation),
            subject_kind="column",
            evidence={"algorithm": classified.entry.algorithm},
            rationale="Running code fails on a missing column; the drop cannot be undone.",
            help="Deploy code that ignores the column first, then drop it.",
            fix=planned_fix("Deploy first, then drop", f"ALTER TABLE {parsed.table_sql} {operation.text}", state),
        )


MIG107 = spec("MIG107", "mysql-rename-column", Severity.HIGH, "RENAME COLUMN / CHANGE old new")


def check_rename_column(parsed: ParsedStatement, state: LintState) -> Iterator[Finding]:
    """Renaming a column breaks every running query that uses the old name.

    The rename itself is metadata only, but code deployed before it still names the old column and fails until new
    code is out. Expand/contract instead: add the new column, keep both in sync (triggers or dual writes), backfill
    in batches, deploy code using the new name, then drop the old column. The fix is that plan.
    """
    if parsed.kind != "alter_table":
        return
    for classified in ops(parsed, state, "rename_column"):
        operation = classified.operation
        yield finding(
            MIG107,
            parsed,
            state,
            title=f"Renaming {column_subject(parsed, operation)} to {operation.new_name} breaks running code",
            subject=column_subject(parsed, operation),
            subject_kind="column",
            evidence={"new_name": operation.new_name},
            rationale="Old application code keeps using the old name until it is redeployed.",
            help="Add the new column, sync and backfill it, switch the code, then drop the old one.",
            fix=planned_fix(
                "Rename through expand/contract", f"ALTER TABLE {parsed.table_sql} {operation.text}", state
            ),
        )


MIG108 = spec("MIG108", "mysql-rename-table", Severity.HIGH, "RENAME TABLE / ALTER TABLE ... RENAME TO")


def check_rename_table(parsed: ParsedStatement, state: LintState) -> Iterator[Finding]:
    """Renaming a table breaks every running query that uses the old name.

    RENAME TABLE is instant but the old name vanishes at once. Keep it alive with an updatable view
    (`CREATE VIEW old AS SELECT * FROM new`) until the code using the new name is deployed, then drop the view.
    """
    renames: list[tuple[str, str]] = list(parsed.renames) if parsed.kind == "rename_table" else []
    if parsed.kind == "alter_table":
        renames += [(parsed.table or "?", op.new_name or "?") for op in parsed.changes if op.action == "rename_table"]
    for old, new in renames:
        yield finding(
            MIG108,
            parsed,
            state,
            title=f"Renaming table {old} to {new} breaks running code",
            subject=old,
            subject_kind="table",
            evidence={"new_name": new},
            rationale="Queries naming the old table fail from the rename until new code is deployed.",
            help="Rename, keep the old name as a view until the deploy, then drop the view.",
            fix=planned_fix("Rename with a compatibility view", f"RENAME TABLE {quote(old)} TO {quote(new)}", state),
        )


MIG115 = spec("MIG115", "mysql-drop-or-truncate-table", Severity.HIGH, "DROP TABLE / TRUNCATE TABLE")


def check_drop_truncate(parsed: ParsedStatement, state: LintState) -> Iterator[Finding]:
    """DROP TABLE and TRUNCATE TABLE destroy data irreversibly and take an exclusive lock.

    Both wait for every open transaction on the table and then block it; on a big table before MySQL 8.0.23 the
    drop scans the buffer pool and can stall the whole server. Code still using the table fails. Deploy code that no
    longer uses it, rename it away (`RENAME TABLE t TO t_retired`, instant and reversible), and drop it days later.
    """
    if parsed.kind not in ("drop_table", "truncate"):
        return
    verb = "DROP TABLE" if parsed.kind == "drop_table" else "TRUNCATE TABLE"
    retired = quote(f"{(parsed.table or 't').rsplit('.', 1)[-1]}_retired")
    yield finding(
        MIG115,
        parsed,
        state,
        title=f"{verb} {parsed.table} destroys its data irreversibly",
        subject=parsed.table or "?",
        subject_kind="table",
        evidence={"statement": verb},
        rationale="There is no undo, and the exclusive lock queues every query on the table.",
        help="Rename the table away first and drop it later, after the deploy that stopped using it.",
        fix=Fix(
            title="Retire the table first",
            statements=[PREAMBLE, f"RENAME TABLE {parsed.table_sql} TO {retired};"],
            note=f"drop {retired} days later, once nothing misses it",
        ),
    )


MIG120 = spec("MIG120", "mysql-lock-wait-timeout", Severity.MEDIUM, "DDL without a short lock_wait_timeout")


def check_lock_wait_timeout(parsed: ParsedStatement, state: LintState) -> Iterator[Finding]:
    """DDL without a short lock_wait_timeout can queue every query on the table for as long as it waits.

    Every ALTER, even an INSTANT one, needs an exclusive metadata lock for a moment and waits for all open
    transactions on the table first; meanwhile every new query on the table queues behind it. The default
    lock_wait_timeout is one year. Set `SET SESSION lock_wait_timeout = 5;` before the DDL and retry on error 1205.
    Reported once per file, on its first DDL statement.
    """
    if not is_ddl(parsed) or state.warned_lock_wait:
        return
    if state.lock_wait_timeout is not None and state.lock_wait_timeout <= LOCK_WAIT_LIMIT_S:
        return
    state.warned_lock_wait = True
    yield finding(
        MIG120,
        parsed,
        state,
        title="DDL without a short lock_wait_timeout can stall every query on the table while it waits",
        subject=parsed.table or "?",
        subject_kind="table",
        evidence={"lock_wait_timeout": state.lock_wait_timeout},
        rationale="A waiting ALTER holds the queue for its metadata lock; the default wait is one year.",
        help="Start the migration with SET SESSION lock_wait_timeout = 5 and retry on error 1205.",
        fix=Fix(title="Cap the metadata lock wait", statements=[PREAMBLE, parsed.text.rstrip(";") + ";"]),
    )


MIG121 = spec("MIG121", "mysql-ddl-in-transaction", Severity.MEDIUM, "DDL inside BEGIN ... COMMIT")


def check_ddl_in_transaction(parsed: ParsedStatement, state: LintState) -> Iterator[Finding]:
    """DDL inside a transaction commits it implicitly: MySQL/MariaDB DDL is never transactional.

    The first DDL statement commits whatever the transaction did so far, and a later ROLLBACK undoes nothing of it.
    Write the migration so that each DDL statement stands alone and can be retried on its own.
    """
    if not state.in_transaction or not (is_ddl(parsed) or parsed.kind in ("create_table", "drop_table")):
        return
    yield finding(
        MIG121,
        parsed,
        state,
        title=f"DDL on {parsed.table} inside a transaction commits it implicitly",
        subject=parsed.table or "?",
        subject_kind="table",
        evidence={"statement": parsed.kind},
        rationale="A ROLLBACK after it cannot undo the DDL or what the transaction did before it.",
        help="Move DDL out of BEGIN ... COMMIT; keep data changes in their own transactions.",
        fix=Fix(title="Run the DDL on its own", statements=[parsed.text.rstrip(";") + ";"], safety="display-only"),
    )
