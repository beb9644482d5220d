"""PostgreSQL lint rules: statements whose whole point is a table lock, TRUNCATE and LOCK TABLE.

Lock modes and errors are PostgreSQL's own (documentation: TRUNCATE, LOCK; "LOCK TABLE can only be used in
transaction blocks" checked on PostgreSQL 15 in tests/integration/postgres/test_qa2_migration_plans.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from dbspecialist.knowledge.findings import Finding, Fix, Severity
from dbspecialist.knowledge.migrations import pg_locks
from dbspecialist.knowledge.migrations.lint_rules_postgres_core import LintState, finding, ident, lock_evidence, spec
from dbspecialist.knowledge.migrations.pg_locks import ACCESS_EXCLUSIVE
from dbspecialist.knowledge.migrations.pg_statements import PgStatement, relation_name

# ----------------------------------------------------------------------------------------------- MIG054

TRUNCATE_TABLE = spec(
    "MIG054",
    "truncate-existing-table",
    Severity.HIGH,
    "TRUNCATE of a table the migration did not create.",
    fix="always",
    status="preview",
)


def check_truncate_table(statement: PgStatement, state: LintState) -> Iterator[Finding]:
    """TRUNCATE deletes every row of a table in use, under ACCESS EXCLUSIVE.

    ## Why is this bad?
    TRUNCATE waits for ACCESS EXCLUSIVE on each table named (and on every referencing table with CASCADE), so while
    it queues behind a long transaction every later read and write of the table queues behind it. Once it runs,
    the rows are gone for everybody: TRUNCATE is not MVCC-safe, so a transaction that started earlier sees the
    table empty, and no `ON DELETE` trigger fires. In a schema migration this is rarely what was meant.

    ## Example
    ```sql
    TRUNCATE audit_events;
    ```

    ## Use instead
    ```sql
    -- when the rows really must go: in batches, one transaction each, rows locked one batch at a time
    DELETE FROM audit_events WHERE ctid = ANY (ARRAY(SELECT ctid FROM audit_events LIMIT 5000));  -- repeat
    -- or, for a table nobody reads during the migration, bound the wait for the lock
    SET lock_timeout = '1s';
    TRUNCATE audit_events;
    ```

    ## Notes
    Tables created earlier in the same file are not flagged. TRUNCATE ... CASCADE is also reported by MIG024.
    """
    node: Any = statement.node
    tables = [relation_name(r) for r in node.relations or ()]
    existing = [t for t in tables if t and not state.is_new(t)]
    if not existing:
        return
    t = ident(existing[0])
    yield finding(
        TRUNCATE_TABLE,
        statement,
        title=f"TRUNCATE deletes every row of {', '.join(existing)} and blocks all access while it waits and runs",
        subject=", ".join(existing),
        subject_kind="table",
        table=existing[0] if len(existing) == 1 else None,
        evidence={"tables": len(existing), **lock_evidence(ACCESS_EXCLUSIVE)},
        rationale=(
            "TRUNCATE takes ACCESS EXCLUSIVE on each table, so it and every query behind it wait for the longest "
            "running transaction on the table; the rows disappear at once for every session, older snapshots "
            "included, without ON DELETE triggers."
        ),
        help="Make sure the data must go; delete it in batches, or bound the lock wait with lock_timeout.",
        fix=Fix(
            title="Delete in batches (or truncate with a lock timeout)",
            statements=[
                f"DELETE FROM {t} WHERE ctid = ANY (ARRAY(SELECT ctid FROM {t} LIMIT 5000));  "
                "-- repeat until 0 rows, commit each",
            ],
            safety="display-only",
            note=(
                "If the table is unused during the migration, keep TRUNCATE but put `SET lock_timeout = '1s';` "
                "before it and retry on timeout. Take a backup first either way: neither can be undone."
            ),
        ),
    )


# ----------------------------------------------------------------------------------------------- MIG055

LOCK_TABLE = spec(
    "MIG055",
    "explicit-lock-table",
    Severity.MEDIUM,
    "LOCK TABLE in a migration (an error outside a transaction block).",
    fix="always",
    status="preview",
)


def check_lock_table(statement: PgStatement, state: LintState) -> Iterator[Finding]:
    """LOCK TABLE fails outside a transaction block, and inside one holds its lock until COMMIT.

    ## Why is this bad?
    Outside BEGIN ... COMMIT the statement is an error ("LOCK TABLE can only be used in transaction blocks"), so the
    migration stops there. Inside a transaction the lock lasts until the transaction ends: in ACCESS EXCLUSIVE mode
    (the default) nothing can read the table, in SHARE or stronger modes nothing can write it, for as long as the
    rest of the transaction runs; and while it waits for the lock, every later query on the table waits too.

    ## Example
    ```sql
    LOCK TABLE orders IN ACCESS EXCLUSIVE MODE;
    UPDATE orders SET archived = true;
    ```

    ## Use instead
    ```sql
    BEGIN;
    SET LOCAL lock_timeout = '1s';
    LOCK TABLE orders IN SHARE ROW EXCLUSIVE MODE;  -- the weakest mode that serves; NOWAIT also fails fast
    -- only the statements that need the lock
    COMMIT;
    ```

    ## Notes
    High severity outside a transaction block (the statement fails); medium inside one.
    """
    node: Any = statement.node
    tables = [relation_name(r) for r in node.relations or ()]
    existing = [t for t in tables if t and not state.is_new(t)]
    if not existing:
        return
    mode_number = int(node.mode)
    mode = pg_locks.MODES[mode_number - 1] if 1 <= mode_number <= len(pg_locks.MODES) else ACCESS_EXCLUSIVE
    outside = state.transaction is None
    names = ", ".join(ident(t) for t in existing)
    wait = " NOWAIT" if node.nowait else ""
    if outside:
        title = f"LOCK TABLE outside a transaction block fails: the migration stops at {', '.join(existing)}"
        help_ = "Run LOCK TABLE inside BEGIN ... COMMIT, with a lock timeout, around only the statements that need it."
    else:
        title = (
            f"LOCK TABLE holds {mode} on {', '.join(existing)} until COMMIT "
            f"(blocks {pg_locks.blocks(mode)} for the rest of the transaction)"
        )
        help_ = "Bound the wait (lock_timeout or NOWAIT), use the weakest mode that serves, and commit soon after."
    yield finding(
        LOCK_TABLE,
        statement,
        title=title,
        subject=", ".join(existing),
        subject_kind="table",
        table=existing[0] if len(existing) == 1 else None,
        evidence={**lock_evidence(mode), "in_transaction": not outside, "nowait": bool(node.nowait)},
        rationale=(
            "An explicit table lock is only allowed in a transaction block and is held until the transaction ends; "
            "while it waits, every later query on the table queues behind it."
        ),
        help=help_,
        fix=Fix(
            title="Lock inside a short transaction with a lock timeout",
            statements=[
                "BEGIN;",
                "SET LOCAL lock_timeout = '1s';",
                f"LOCK TABLE {names} IN {mode} MODE{wait};",
                "-- the statements that need the lock",
                "COMMIT;",
            ],
            safety="display-only",
        ),
        severity=Severity.HIGH if outside else None,
    )
