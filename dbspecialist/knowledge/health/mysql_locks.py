"""MySQL/MariaDB health rules on row locks: who blocks whom right now, and long row-lock waits since the server
started (HLT057, HLT058)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from dbspecialist.knowledge.findings import Finding, Fix, RuleSpec, Severity
from dbspecialist.knowledge.health.common import as_int, health_finding
from dbspecialist.knowledge.health.mysql_common import Check, MySqlHealthContext, spec
from dbspecialist.knowledge.sql_text import qualified

# -- HLT057 -------------------------------------------------------------------------------------------------

LOCK_WAITS = spec(
    "HLT057",
    "row-lock-waits",
    Severity.MEDIUM,
    "Transactions are waiting now for row locks another transaction holds (who blocks whom).",
    fix="always",
)


def row_lock_waits(ctx: MySqlHealthContext) -> Iterator[Finding]:
    """Transactions are waiting now for row locks held by another transaction.

    ## Why it matters
    A waiting statement does nothing until the holder commits or rolls back, or until
    `innodb_lock_wait_timeout` (50 s by default) fails it with error 1205. The usual holder is a
    transaction left open by the application: its session shows `Sleep` while its locks stay.

    ## Threshold
    A wait of 5 s (medium) or 30 s (high), read now from information_schema.INNODB_LOCK_WAITS (MariaDB,
    MySQL 5.7) or performance_schema.data_lock_waits (MySQL 8). One finding per blocking thread.

    ## Fix
    End the blocking transaction (commit it in the application, or `KILL <thread>`, which rolls it
    back); keep transactions short and touch rows in a consistent order.
    """
    t = ctx.thresholds
    by_blocker: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for wait in ctx.snapshot.get("lock_waits") or []:
        by_blocker[as_int(wait.get("blocking_thread"))].append(wait)
    for blocker, waits in sorted(by_blocker.items()):
        longest = max(float(w.get("wait_seconds") or 0.0) for w in waits)
        if longest < t.lock_wait_seconds:
            continue
        first = max(waits, key=lambda w: float(w.get("wait_seconds") or 0.0))
        table = first.get("table")
        target = qualified(first.get("schema"), str(table), "mysql") if table else f"thread {blocker}"
        idle = str(first.get("blocking_command") or "") == "Sleep"
        waiting = sorted({as_int(w.get("waiting_thread")) for w in waits})
        yield health_finding(
            LOCK_WAITS,
            subject=target,
            subject_kind="table" if table else "server",
            table=str(table) if table else None,
            title=f"thread {blocker} blocks {len(waiting)} session(s) on {target} for up to {round(longest, 1)} s"
            + (" while idle in its transaction" if idle else ""),
            measured="sample",
            evidence={
                "blocking_thread": blocker,
                "blocking_command": first.get("blocking_command"),
                "blocking_trx_seconds": first.get("blocking_trx_seconds"),
                "blocking_rows_locked": first.get("blocking_rows_locked"),
                "blocking_query": first.get("blocking_query"),
                "blocking_user": first.get("blocking_user"),
                "waiting_threads": ",".join(str(w) for w in waiting),
                "waiting_query": first.get("waiting_query"),
                "max_wait_seconds": round(longest, 1),
                "lock_index": first.get("index"),
                "lock_mode": first.get("lock_mode"),
                "innodb_lock_wait_timeout_s": ctx.variable("innodb_lock_wait_timeout"),
                "threshold_seconds": t.lock_wait_seconds,
            },
            rationale=(
                "The waiting statements do nothing until the holder commits or rolls back, or until "
                "innodb_lock_wait_timeout fails them with error 1205."
                + (" The holder's session is idle (Sleep): its application left the transaction open." if idle else "")
            ),
            help_=f"End thread {blocker}'s transaction (commit it in the application, or KILL it); keep "
            "transactions short.",
            fix=Fix(
                title=f"Roll back thread {blocker}'s transaction",
                statements=[f"KILL {blocker};"],
                safety="display-only",
                note="KILL closes the connection and rolls its transaction back (which itself takes time for a big "
                "transaction). Ask its owner first.",
            ),
            severity=Severity.HIGH if longest >= t.lock_wait_high_seconds else None,
        )


# -- HLT058 -------------------------------------------------------------------------------------------------

ROW_LOCK_HISTORY = spec(
    "HLT058",
    "slow-row-lock-waits",
    Severity.LOW,
    "Row-lock waits since the server started are long on average (Innodb_row_lock_time_avg).",
    fix="never",
)


def slow_row_lock_waits(ctx: MySqlHealthContext) -> Iterator[Finding]:
    """Row-lock waits have been long on average since the server started: transactions contend for rows.

    ## Why it matters
    `Innodb_row_lock_waits` counts the times a statement waited for a row lock and
    `Innodb_row_lock_time_avg` their average in milliseconds (MySQL docs, Server Status Variables).
    Long average waits mean transactions that hold rows for long, or hot rows (counters, queues) that
    many transactions update.

    ## Threshold
    An average of 500 ms (low) or 5 s (medium) over at least 100 waits (our own judgement).

    ## Fix
    Shorten transactions (no user think time inside them), update hot rows last, split hot counters;
    current waits are in HLT057; `top_queries` for the statements that wait.
    """
    t = ctx.thresholds
    waits = ctx.status("Innodb_row_lock_waits")
    average = ctx.status("Innodb_row_lock_time_avg")
    if waits < t.row_lock_waits_min or average < t.row_lock_avg_ms:
        return
    yield health_finding(
        ROW_LOCK_HISTORY,
        subject="row_locks",
        subject_kind="server",
        title=f"{waits} row-lock waits averaging {average} ms since the server started",
        measured="counter",
        since=ctx.stats_since,
        evidence={
            "row_lock_waits": waits,
            "per_hour": ctx.per_hour(waits),
            "row_lock_time_avg_ms": average,
            "row_lock_time_max_ms": ctx.status("Innodb_row_lock_time_max"),
            "row_lock_time_ms": ctx.status("Innodb_row_lock_time"),
            "current_waits": ctx.status("Innodb_row_lock_current_waits"),
            "threshold_avg_ms": t.row_lock_avg_ms,
        },
        rationale="Long average row-lock waits mean transactions hold rows for long, or many update the same hot rows.",
        help_="Shorten transactions and spread hot rows; `top_queries` for the statements that wait.",
        severity=Severity.MEDIUM if average >= t.row_lock_avg_high_ms else None,
    )


RULES: tuple[tuple[RuleSpec, Check], ...] = (
    (LOCK_WAITS, row_lock_waits),
    (ROW_LOCK_HISTORY, slow_row_lock_waits),
)


__all__ = ["RULES"]
