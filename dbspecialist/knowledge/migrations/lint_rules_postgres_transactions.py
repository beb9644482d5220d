"""PostgreSQL lint rules: transactions, the locks they accumulate, and the timeouts that bound lock waits.

A transaction keeps every lock it takes until COMMIT. So the lock one statement takes is held through every
later statement of the same transaction: a quick ALTER TABLE followed by a backfill or a validation holds its
ACCESS EXCLUSIVE for the whole backfill. And a lock request that waits (behind a long query) blocks every query
queued after it, which is why a lock_timeout must bound the wait (squawk's runbook: 1s, with retries).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Final

from dbspecialist.knowledge.findings import Finding, Fix, Severity
from dbspecialist.knowledge.migrations import pg_locks
from dbspecialist.knowledge.migrations.lint_rules_postgres_core import (
    LOCK_TIMEOUT,
    STATEMENT_TIMEOUT,
    LintState,
    TimeoutWatch,
    finding,
    ident,
    long_ops,
    spec,
)
from dbspecialist.knowledge.migrations.pg_classify import operation
from dbspecialist.knowledge.migrations.pg_statements import PgStatement, transaction_kind

MAX_LINES_LISTED: Final = 10
_EFFECT_NOUNS: Final = {"scan": "table scan", "rewrite": "table rewrite", "build": "index build", "rows": "row update"}

NESTING = spec("MIG033", "transaction-nesting", Severity.MEDIUM, "BEGIN inside a transaction, or COMMIT outside one.")
UNCOMMITTED = spec("MIG034", "uncommitted-transaction", Severity.HIGH, "BEGIN without a matching COMMIT or ROLLBACK.")
LOCK_TIMEOUT_RULE = spec(
    "MIG040",
    "missing-lock-timeout",
    Severity.MEDIUM,
    "A statement that blocks reads or writes of an existing table runs without a lock_timeout.",
    fix="always",
)
STATEMENT_TIMEOUT_RULE = spec(
    "MIG041",
    "missing-statement-timeout",
    Severity.LOW,
    "A statement that blocks reads or writes of an existing table runs without a statement_timeout.",
    fix="always",
)
LONG_UNDER_LOCK = spec(
    "MIG046",
    "long-operation-holding-lock",
    Severity.HIGH,
    "A scan, rewrite, index build or backfill runs in a transaction that already holds a blocking lock.",
)
SEVERAL_TABLES = spec(
    "MIG047",
    "several-tables-locked",
    Severity.MEDIUM,
    "One transaction takes write-blocking locks on several existing tables.",
)
SET_LOCAL_OUTSIDE = spec(
    "MIG048",
    "set-local-outside-transaction",
    Severity.LOW,
    "SET LOCAL outside a transaction block (it has no effect).",
    fix="always",
)
UNBATCHED_BACKFILL = spec(
    "MIG049",
    "unbatched-backfill",
    Severity.MEDIUM,
    "UPDATE or DELETE of a whole existing table in one statement.",
    fix="always",
)


# ----------------------------------------------------------------------------------------------- MIG033, MIG034


def check_nesting(statement: PgStatement, state: LintState) -> Iterator[Finding]:
    """A nested BEGIN is ignored (the first COMMIT ends everything); a COMMIT without BEGIN does nothing.

    ## Why is this bad?
    PostgreSQL has no nested transactions: a second BEGIN only warns, so the inner COMMIT commits the outer work
    too and the statements after it run in autocommit mode, not in the transaction the author meant. A COMMIT or
    ROLLBACK with no transaction open only warns, which usually means the BEGIN is missing and the statements
    before it already ran one by one.

    ## Example
    ```sql
    BEGIN;
    ALTER TABLE orders ADD COLUMN note text;
    BEGIN;
    ALTER TABLE orders ADD COLUMN tag text;
    COMMIT;
    ALTER TABLE orders DROP COLUMN legacy;  -- no longer in a transaction
    COMMIT;
    ```

    ## Use instead
    One BEGIN ... COMMIT per transaction; use SAVEPOINT for partial rollback inside one.

    ## Notes
    Same as squawk's transaction-nesting, including its assume-in-transaction mode
    (`lint_migration(..., assume_in_transaction=True)`), where any BEGIN, COMMIT or ROLLBACK in the file is
    reported because the migration tool owns the transaction.
    """
    kind = transaction_kind(statement.node)
    open_tx = state.transaction
    if open_tx is not None and open_tx.by_tool and kind in ("BEGIN", "START", "COMMIT", "ROLLBACK"):
        yield finding(
            NESTING,
            statement,
            title=f"{kind} inside the transaction the migration tool wraps around the file",
            evidence={"statement": kind, "assume_in_transaction": True},
            rationale=(
                "The migration tool already runs the file in a transaction: a BEGIN only warns, and a COMMIT or "
                "ROLLBACK ends the tool's transaction early, so the statements after it run outside any transaction."
            ),
            help="Leave transaction control to the tool, or mark the migration as non-transactional.",
        )
    elif kind in ("BEGIN", "START") and open_tx is not None:
        yield finding(
            NESTING,
            statement,
            title=f"BEGIN inside the transaction opened at line {open_tx.begin_line} is ignored",
            evidence={"open_transaction_line": open_tx.begin_line},
            rationale=(
                "PostgreSQL does not nest transactions: the second BEGIN only warns, and the next COMMIT commits "
                "everything since the first BEGIN. Statements after it then run outside any transaction."
            ),
            help="Remove the inner BEGIN (use SAVEPOINT for a partial rollback).",
        )
    elif kind in ("COMMIT", "ROLLBACK") and open_tx is None:
        yield finding(
            NESTING,
            statement,
            title=f"{kind} with no transaction open does nothing: the statements before it were not in a transaction",
            evidence={"statement": kind},
            rationale=(
                "With no BEGIN before it, each earlier statement already committed on its own, so this COMMIT or "
                "ROLLBACK only warns. A missing BEGIN is the usual cause."
            ),
            help="Add the missing BEGIN, or remove the stray COMMIT/ROLLBACK.",
        )


def check_uncommitted(statement: PgStatement, state: LintState) -> Iterator[Finding]:
    """A BEGIN with no COMMIT or ROLLBACK after it leaves the transaction open at the end of the file.

    ## Why is this bad?
    Depending on the client, the open transaction is rolled back when the connection closes (all the work lost),
    or stays open holding every lock it took, blocking the application until someone notices.

    ## Example
    ```sql
    BEGIN;
    ALTER TABLE orders ADD COLUMN note text;
    ```

    ## Use instead
    ```sql
    BEGIN;
    ALTER TABLE orders ADD COLUMN note text;
    COMMIT;
    ```

    ## Notes
    Same as squawk's ban-uncommitted-transaction.
    """
    if transaction_kind(statement.node) not in ("BEGIN", "START") or state.transaction is not None:
        return
    for later in state.statements[state.index + 1 :]:
        if transaction_kind(later.node) in ("COMMIT", "ROLLBACK", "PREPARE"):
            return
    yield finding(
        UNCOMMITTED,
        statement,
        title="The transaction begun here is never committed: its work is lost or its locks stay held",
        evidence={"statements_after": len(state.statements) - state.index - 1},
        rationale=(
            "A transaction left open at the end of the file is rolled back when the session ends, or keeps its "
            "locks while the session lingers. Either way the migration does not do what it says."
        ),
        help="End the transaction with COMMIT (or ROLLBACK).",
        fix=Fix(title="Commit at the end of the file", statements=["COMMIT;"]),
    )


# ----------------------------------------------------------------------------------------------- MIG040, MIG041


def _watch(state: LintState, watch: TimeoutWatch, active: bool) -> None:
    blocking = state.blocking_locks()
    if not blocking or active:
        return
    if not watch.missing:
        table, mode = max(blocking.items(), key=lambda item: pg_locks.MODES.index(item[1]))
        watch.first_table, watch.first_mode = table, mode
    watch.missing.append(state.index)


def _timeout_finding(state: LintState, watch: TimeoutWatch, *, lock: bool) -> Iterator[Finding]:
    if not state.is_last or not watch.missing:
        return
    first = state.statements[watch.missing[0]]
    table = watch.first_table if watch.first_table and not watch.first_table.startswith("(") else None
    lines = [state.statements[i].line for i in watch.missing]
    listed = ", ".join(str(n) for n in lines[:MAX_LINES_LISTED]) + (" ..." if len(lines) > MAX_LINES_LISTED else "")
    mode = watch.first_mode or ""
    evidence: dict[str, int | float | str | bool | None] = {
        "statements_without_timeout": len(lines),
        "lines": listed,
        "lock_mode": mode,
        "blocks": pg_locks.blocks(mode) if mode else None,
        "table": watch.first_table,
    }
    if lock:
        yield finding(
            LOCK_TIMEOUT_RULE,
            first,
            title=f"No lock_timeout: waiting for {mode} on {watch.first_table} would stall every query behind it",
            table=table,
            evidence=evidence,
            rationale=(
                "A lock request that waits behind a long-running query blocks every later query on the table, so a "
                "migration can take the application down without doing any work. A short lock_timeout makes it "
                "fail fast and retry instead."
            ),
            help=f"Start the migration with SET lock_timeout = '{LOCK_TIMEOUT}' and retry on lock timeouts.",
            fix=Fix(
                title="Bound lock waits",
                statements=[f"SET lock_timeout = '{LOCK_TIMEOUT}';"],
                note="Put it before the first statement (inside a transaction, SET LOCAL works too); retry the "
                "migration with backoff when it times out, after checking pg_stat_activity for long transactions.",
            ),
        )
    else:
        yield finding(
            STATEMENT_TIMEOUT_RULE,
            first,
            title=f"No statement_timeout: nothing bounds how long {mode} on {watch.first_table} is held",
            table=table,
            evidence=evidence,
            rationale=(
                "Without a statement_timeout, a lock-holding statement that turns out slow (an unexpected scan or "
                "rewrite) blocks the application for as long as it runs. A cap turns that into a failed, retryable "
                "migration."
            ),
            help=f"Set statement_timeout (e.g. '{STATEMENT_TIMEOUT}') before lock-taking statements.",
            fix=Fix(
                title="Bound statement run time",
                statements=[f"SET statement_timeout = '{STATEMENT_TIMEOUT}';"],
                note="Raise it (or SET it to 0) around statements that are slow but do not block, such as CREATE "
                "INDEX CONCURRENTLY and VALIDATE CONSTRAINT.",
            ),
        )


def check_lock_timeout(statement: PgStatement, state: LintState) -> Iterator[Finding]:
    """Statements that block reads or writes of an existing table run without a lock_timeout.

    ## Why is this bad?
    Lock requests queue: an ALTER TABLE waiting for ACCESS EXCLUSIVE behind one long transaction makes every later
    SELECT, INSERT and UPDATE on the table wait behind it, even if the ALTER itself takes milliseconds. With
    `lock_timeout` the ALTER gives up after the timeout, the queue drains, and the migration can be retried.

    ## Example
    ```sql
    ALTER TABLE orders ADD COLUMN note text;
    ```

    ## Use instead
    ```sql
    SET lock_timeout = '1s';
    ALTER TABLE orders ADD COLUMN note text;
    ```

    ## Notes
    Reported once per file, at the first statement concerned, with the count and lines of all of them. squawk's
    require-lock-timeout fires for any DDL; we only count statements whose lock blocks reads or writes of a table
    the file did not create (CREATE INDEX CONCURRENTLY or VALIDATE cannot stall the application's queries), and
    we follow `SET LOCAL` (until COMMIT), `RESET` and `SET lock_timeout = 0`.
    """
    _watch(state, state.lock_timeout, state.has_lock_timeout())
    yield from _timeout_finding(state, state.lock_timeout, lock=True)


def check_statement_timeout(statement: PgStatement, state: LintState) -> Iterator[Finding]:
    """Statements that block reads or writes of an existing table run without a statement_timeout.

    ## Why is this bad?
    A blocking statement that is slower than expected (a hidden scan or rewrite on a bigger table than in
    staging) holds its lock, and the application waits, for as long as it runs. A statement_timeout caps that.

    ## Example
    ```sql
    ALTER TABLE orders ALTER COLUMN total TYPE numeric(12, 2);
    ```

    ## Use instead
    ```sql
    SET statement_timeout = '5s';
    ALTER TABLE orders ALTER COLUMN total TYPE numeric(12, 2);
    ```

    ## Notes
    Reported once per file like MIG040; same statement selection. squawk's require-statement-timeout (both are
    also squawk's require-timeout-settings alias).
    """
    _watch(state, state.statement_timeout, state.has_statement_timeout())
    yield from _timeout_finding(state, state.statement_timeout, lock=False)


# ----------------------------------------------------------------------------------------------- MIG046, MIG047


def check_long_under_lock(statement: PgStatement, state: LintState) -> Iterator[Finding]:
    """A long operation runs in a transaction that already holds a lock blocking reads or writes of a table.

    ## Why is this bad?
    Locks are held until COMMIT. If an earlier statement of the transaction took ACCESS EXCLUSIVE (or any
    write-blocking lock) on a table, a later backfill, validation, index build or rewrite keeps that lock held for
    its whole run: `ALTER TABLE ... ADD COLUMN` (milliseconds) followed by `UPDATE` of every row (minutes) blocks
    the table for minutes.

    ## Example
    ```sql
    BEGIN;
    ALTER TABLE orders ADD COLUMN region text;
    UPDATE orders SET region = 'eu';
    COMMIT;
    ```

    ## Use instead
    ```sql
    BEGIN;
    ALTER TABLE orders ADD COLUMN region text;
    COMMIT;
    -- then backfill in batches, each batch in its own transaction
    ```

    ## Notes
    The evidence lists every lock the transaction holds at that point (table, mode, line that took it).
    strong_migrations refuses backfills and validations while writes are blocked; squawk has no equivalent.
    VALIDATE of a constraint added in the same transaction is MIG007.
    """
    transaction = state.transaction
    if transaction is None:
        return
    held = transaction.blocking_locks()
    if not held:
        return
    for op in long_ops(state):
        name = str(op.detail.get("name") or "").lower()
        if op.kind == "validate_constraint" and name in transaction.not_valid:
            continue
        if not operation(op.kind).transactional:
            continue  # refused inside a transaction block anyway (MIG005)
        effect = _EFFECT_NOUNS[operation(op.kind).effect]
        table, lock = max(held.items(), key=lambda item: pg_locks.MODES.index(item[1].mode))
        yield finding(
            LONG_UNDER_LOCK,
            statement,
            title=(
                f"This {effect} of {op.table} keeps {lock.mode} on {table} (taken at line {lock.line}) held "
                "until COMMIT"
            ),
            subject=op.table,
            subject_kind="table",
            table=op.table,
            evidence={
                "operation": op.kind,
                "effect": effect,
                "held_table": table,
                "held_mode": lock.mode,
                "held_since_line": lock.line,
                "blocks": pg_locks.blocks(lock.mode),
                "transaction_begin_line": transaction.begin_line,
                "locks": transaction.describe(),
            },
            rationale=(
                "A transaction keeps its locks until it ends, so the earlier lock stays held for the whole of this "
                "long operation and the application waits on it. Committing before the long step releases it."
            ),
            help="COMMIT after the lock-taking statement; run the long step in its own transaction(s).",
            fix=Fix(
                title="End the transaction before the long step",
                statements=["COMMIT;", statement.text.rstrip(";") + ";"],
                safety="display-only",
                note="Backfills should then run in batches, each committed on its own (MIG049).",
            ),
        )
        return


def check_several_tables(statement: PgStatement, state: LintState) -> Iterator[Finding]:
    """One transaction locks several existing tables against writes: deadlock risk and a wider outage.

    ## Why is this bad?
    Every lock is held until COMMIT, so each table stays blocked while the others are being changed, and if the
    application locks the same tables in a different order (a transaction touching `orders` then `customers`),
    the migration and the application can deadlock.

    ## Example
    ```sql
    BEGIN;
    ALTER TABLE orders ADD COLUMN note text;
    ALTER TABLE customers ADD COLUMN note text;
    COMMIT;
    ```

    ## Use instead
    One table per transaction; when several must change together, take the locks up front in a fixed order
    (`LOCK TABLE customers, orders IN ACCESS EXCLUSIVE MODE`) with a short lock_timeout.

    ## Notes
    Reported once per transaction, at the statement that locks the second table; a single statement that locks
    two tables (a foreign key) does not count on its own. Not a squawk rule.
    """
    transaction = state.transaction
    if transaction is None or transaction.several_reported:
        return
    before = transaction.blocking_locks()
    now = state.blocking_locks()
    added = sorted(set(now) - set(before))
    if not before or not added:
        return
    transaction.several_reported = True
    tables = sorted(set(before) | set(now))
    yield finding(
        SEVERAL_TABLES,
        statement,
        title=f"This transaction now blocks writes on {len(tables)} tables at once ({', '.join(tables)})",
        subject=", ".join(tables),
        subject_kind="table",
        table=added[0],
        evidence={
            "tables": len(tables),
            "locks": "; ".join(
                [f"{t}: {held.mode} (line {held.line})" for t, held in sorted(before.items())]
                + [f"{t}: {now[t]} (line {statement.line})" for t in added]
            ),
            "transaction_begin_line": transaction.begin_line,
        },
        rationale=(
            "Each lock lasts until COMMIT, so all these tables are blocked together, and an application transaction "
            "that locks them in another order can deadlock with the migration."
        ),
        help="Change one table per transaction, or lock all tables up front in one fixed order.",
        fix=Fix(
            title="Lock the tables up front, in a fixed order",
            statements=[f"LOCK TABLE {', '.join(ident(t) for t in tables)} IN ACCESS EXCLUSIVE MODE;"],
            safety="display-only",
            note="Put it right after BEGIN with SET LOCAL lock_timeout; or split the transaction per table.",
        ),
    )


# ----------------------------------------------------------------------------------------------- MIG048, MIG049


def check_set_local_outside(statement: PgStatement, state: LintState) -> Iterator[Finding]:
    """SET LOCAL outside BEGIN ... COMMIT lasts only for its own one-statement transaction: it has no effect.

    ## Why is this bad?
    Outside a transaction block every statement is its own transaction, so `SET LOCAL lock_timeout = '1s'` expires
    at once (PostgreSQL only warns) and the statements after it run without the setting.

    ## Example
    ```sql
    SET LOCAL lock_timeout = '1s';
    ALTER TABLE orders ADD COLUMN note text;
    ```

    ## Use instead
    ```sql
    SET lock_timeout = '1s';
    ALTER TABLE orders ADD COLUMN note text;
    ```

    ## Notes
    Not a squawk rule.
    """
    node: Any = statement.node
    if not node.is_local or state.transaction is not None:
        return
    name = str(node.name or "")
    yield finding(
        SET_LOCAL_OUTSIDE,
        statement,
        title=f"SET LOCAL {name} outside a transaction has no effect on the statements after it",
        evidence={"setting": name},
        rationale=(
            "Outside BEGIN ... COMMIT the SET LOCAL is its own transaction and is undone immediately, so the "
            "setting never applies. Use SET, or move it inside the transaction."
        ),
        help="Use SET (session) here, or put SET LOCAL after BEGIN.",
        fix=Fix(title="Use a session setting", statements=[statement.text.replace("LOCAL ", "", 1).rstrip(";") + ";"]),
    )


def check_unbatched_backfill(statement: PgStatement, state: LintState) -> Iterator[Finding]:
    """UPDATE or DELETE without WHERE on an existing table changes every row in one long transaction.

    ## Why is this bad?
    One statement over the whole table holds row locks on every row until it commits (concurrent updates of those
    rows wait), writes a new version of each row (bloat), and produces a burst of WAL that replicas lag behind.

    ## Example
    ```sql
    UPDATE orders SET region = 'eu';
    ```

    ## Use instead
    ```sql
    UPDATE orders SET region = 'eu'
    WHERE ctid = ANY (ARRAY(SELECT ctid FROM orders WHERE region IS NULL LIMIT 5000));  -- repeat, commit each
    ```

    ## Notes
    strong_migrations advises batched backfills outside the migration's transaction; squawk has no rule.
    """
    for op in state.ops:
        if op.kind not in ("update_rows", "delete_rows") or op.detail.get("has_where") is not False:
            continue
        if not op.table or state.is_new(op.table):
            continue
        t = ident(op.table)
        if op.kind == "update_rows":
            node: Any = statement.node
            assignments = ", ".join(
                f"{target.name} = ..." for target in node.targetList or () if getattr(target, "name", None)
            )
            batch = (
                f"{statement.text.rstrip(';')} WHERE ctid = ANY (ARRAY(SELECT ctid FROM {t} WHERE "
                f"<not yet updated> LIMIT 5000));  -- repeat until 0 rows, commit each"
            )
            what = f"UPDATE of every row of {op.table} ({assignments})"
        else:
            batch = (
                f"DELETE FROM {t} WHERE ctid = ANY (ARRAY(SELECT ctid FROM {t} LIMIT 5000));  "
                "-- repeat until 0 rows, commit each"
            )
            what = f"DELETE of every row of {op.table}"
        yield finding(
            UNBATCHED_BACKFILL,
            statement,
            title=f"{what} runs as one transaction: row locks, bloat and replica lag for the whole table",
            subject=op.table,
            subject_kind="table",
            table=op.table,
            evidence={"operation": op.kind, "in_transaction": state.transaction is not None},
            rationale=(
                "Changing every row in one statement locks all of them until it commits, doubles the table's row "
                "versions at once and floods the WAL. Small batches, each committed, keep the table usable."
            ),
            help="Backfill in batches of a few thousand rows, committing each batch (outside the DDL transaction).",
            fix=Fix(title="Backfill in batches", statements=[batch], safety="display-only"),
        )
