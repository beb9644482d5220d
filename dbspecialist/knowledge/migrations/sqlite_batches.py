"""INSERT / UPDATE / DELETE in the SQLite planner: one step, or rowid batches with a resumable, throttled script.

SQLite has one writer at a time, so a long UPDATE holds every other writer off until it ends. A plain UPDATE or
DELETE (no LIMIT, RETURNING, FROM or WITH) on a large rowid table is cut into rowid ranges, each its own short
write transaction, so other writers get the lock between batches.
"""

from __future__ import annotations

from sqlglot import exp

from dbspecialist.knowledge.migrations.estimate import DEFAULT_BATCH_ROWS, DEFAULT_BATCH_SLEEP, estimate
from dbspecialist.knowledge.migrations.model import MigrationStep, TableStats
from dbspecialist.knowledge.migrations.sqlite_state import SqlitePlanState
from dbspecialist.knowledge.migrations.sqlite_statements import SqliteStatement
from dbspecialist.knowledge.migrations.sqlite_steps import (
    BACKUP_FILE,
    BUSY_TIMEOUT_MS,
    ENGINE,
    LOCK_NOTE,
    PREAMBLE,
    RETRY,
    StepGroup,
    parse_sql,
    q,
    sql_step,
    write_lock,
)


def plan_dml(state: SqlitePlanState, stmt: SqliteStatement) -> None:
    """One step for a small or unbatchable write; rowid batches for a plain UPDATE / DELETE of a large table."""
    table = stmt.table
    stats = state.stats(table)
    owner = state.table(table)
    rows = stats.rows if stats is not None else None
    batchable = (
        stmt.kind in ("update", "delete")
        and table is not None
        and (owner is None or owner.options.get("without_rowid") != "true")
        and (rows is None or rows > DEFAULT_BATCH_ROWS)
    )
    node = parse_sql(stmt.text) if batchable else None
    if isinstance(node, exp.Update | exp.Delete) and table and plain_write(node):
        batched_write(state, stmt, node, table, stats)
        return
    step = sql_step(
        "backfill",
        f"{stmt.kind.capitalize()} rows of {table}",
        table,
        [stmt.text + ";"],
        effect="rows",
        stats=stats,
        lock_held="the whole statement",
        rollback=[f"-- restore {BACKUP_FILE} to undo the data change"],
        reversible=False,
        notes=["One statement holds the database write lock until it finishes; batch it on large tables."],
    )
    state.groups.append(StepGroup("backfill", [step], destructive=True))


def batched_write(
    state: SqlitePlanState, stmt: SqliteStatement, node: exp.Update | exp.Delete, table: str, stats: TableStats | None
) -> None:
    """The write as rowid ranges of DEFAULT_BATCH_ROWS, each its own short transaction, plus the script."""
    where = node.args.get("where")
    condition = where.this.sql(dialect=ENGINE) if isinstance(where, exp.Where) else None
    if isinstance(node, exp.Update):
        sets = ", ".join(e.sql(dialect=ENGINE) for e in node.expressions)
        batch = f"UPDATE {q(table)} SET {sets} WHERE rowid > :last AND rowid <= :upto"
    else:
        batch = f"DELETE FROM {q(table)} WHERE rowid > :last AND rowid <= :upto"
    if condition:
        batch += f" AND ({condition})"
    upto = (
        f"SELECT max(rowid) FROM (SELECT rowid FROM {q(table)} WHERE rowid > :last ORDER BY rowid "
        f"LIMIT {DEFAULT_BATCH_ROWS})"
    )
    script = batch_script(table, upto, batch)
    state.scripts.append(script)
    step = MigrationStep(
        phase="backfill",
        kind="script",
        title=f"{stmt.kind.capitalize()} {table} in rowid batches of {DEFAULT_BATCH_ROWS:,} (resumable, throttled)",
        table=table,
        sql=[upto + ";", batch + ";"],
        command=script,
        lock=write_lock(table, f"one batch at a time (~{DEFAULT_BATCH_ROWS:,} rows), released between batches"),
        blocks_writes=True,
        table_effect="rows",
        transactional=True,
        estimate=estimate("rows", stats),
        rollback=[f"-- restore {BACKUP_FILE} to undo the data change"],
        reversible=False,
        preamble=list(PREAMBLE),
        retry=RETRY,
        notes=[
            LOCK_NOTE,
            "Each batch is its own short write transaction, so other writers get the lock between batches. The "
            "script prints the last rowid done: rerun with it to resume. Make the statement idempotent (its "
            "WHERE should skip rows already changed) so a resumed or repeated run changes nothing twice.",
            f"As one statement: {stmt.text}",
        ],
    )
    state.groups.append(StepGroup("backfill", [step], destructive=True))


def plain_write(node: exp.Update | exp.Delete) -> bool:
    """No LIMIT, RETURNING, FROM or WITH: the statement can be cut into rowid ranges as it is."""
    return not any(node.args.get(k) for k in ("limit", "returning", "from", "with", "order"))


def batch_script(table: str, upto: str, batch: str) -> str:
    """A stand-alone Python script running the batches: resumable from the last rowid printed, throttled."""
    return f'''"""Batched change of {table}: resumable (pass the last rowid printed) and throttled."""
import sqlite3
import sys
import time

DATABASE = sys.argv[1]
last = int(sys.argv[2]) if len(sys.argv) > 2 else -9223372036854775808
BATCH_SLEEP_S = {DEFAULT_BATCH_SLEEP}

con = sqlite3.connect(DATABASE, isolation_level=None, timeout={BUSY_TIMEOUT_MS / 1000:g})
while True:
    upto = con.execute({upto!r}, {{"last": last}}).fetchone()[0]
    if upto is None:
        break
    con.execute("BEGIN IMMEDIATE")
    con.execute({batch!r}, {{"last": last, "upto": upto}})
    con.execute("COMMIT")
    last = upto
    print(last, flush=True)
    time.sleep(BATCH_SLEEP_S)
con.close()
'''
