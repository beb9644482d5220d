"""MySQL/MariaDB health rules on this server as a replica: stopped replication threads and lag behind the
source (HLT059, HLT060)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from dbspecialist.knowledge.findings import Finding, Fix, RuleSpec, Severity
from dbspecialist.knowledge.health.common import health_finding
from dbspecialist.knowledge.health.mysql_common import Check, MySqlHealthContext, spec

# -- HLT059 -------------------------------------------------------------------------------------------------

REPLICA_THREADS = spec(
    "HLT059",
    "replica-stopped",
    Severity.HIGH,
    "A replication thread (I/O or SQL) is not running on this replica.",
    fix="always",
)


def _replica_name(replica: Mapping[str, Any]) -> str:
    name = replica.get("Connection_name")
    source = f"{replica.get('Source_Host') or '?'}:{replica.get('Source_Port') or '?'}"
    return f"replica {name} ({source})" if name else f"replica of {source}"


def replica_stopped(ctx: MySqlHealthContext) -> Iterator[Finding]:
    """Replication is stopped or broken on this replica: it no longer follows its source.

    ## Why it matters
    The I/O thread fetches the source's binary log and the SQL thread applies it (`Replica_IO_Running`,
    `Replica_SQL_Running`). When either stops, the replica's data falls further behind every second,
    reads from it are stale and it cannot take over in a failover. `Last_IO_Error`/`Last_SQL_Error` say
    why (a duplicate key, a missing row, a network or credentials problem).

    ## Threshold
    Either thread not `Yes` (high; critical when the SQL thread stopped on an error).

    ## Fix
    Read the error, repair the cause (never skip transactions blindly: the replica then differs from
    the source), then `START REPLICA` (`START SLAVE` before MariaDB 10.5/MySQL 8.0.22).
    """
    for replica in ctx.snapshot.get("replicas") or []:
        io, sql = str(replica.get("Replica_IO_Running") or ""), str(replica.get("Replica_SQL_Running") or "")
        if io == "Yes" and sql == "Yes":
            continue
        sql_error = replica.get("Last_SQL_Error") or None
        io_error = replica.get("Last_IO_Error") or None
        name = _replica_name(replica)
        start = "START SLAVE;" if ctx.snapshot.get("replica_sql") == "SHOW SLAVE STATUS" else "START REPLICA;"
        yield health_finding(
            REPLICA_THREADS,
            subject=name,
            subject_kind="node",
            title=f"{name}: I/O thread {io or 'unknown'}, SQL thread {sql or 'unknown'}",
            measured="sample",
            evidence={
                "io_running": io or None,
                "sql_running": sql or None,
                "last_io_errno": replica.get("Last_IO_Errno"),
                "last_io_error": io_error,
                "last_sql_errno": replica.get("Last_SQL_Errno"),
                "last_sql_error": sql_error,
                "seconds_behind_source": replica.get("Seconds_Behind_Source"),
                "threshold": "both threads Yes",
            },
            rationale=(
                "A stopped replica falls further behind every second: its reads are stale and it cannot take over "
                "in a failover."
            ),
            help_="Read Last_SQL_Error / Last_IO_Error, repair the cause, then start replication again.",
            fix=Fix(
                title="Restart replication after repairing the cause",
                statements=[start],
                safety="display-only",
                note="Skipping the failing transaction (sql_slave_skip_counter) makes the replica differ from its "
                "source; repair the data or re-clone the replica instead.",
            ),
            severity=Severity.CRITICAL if sql != "Yes" and sql_error else None,
        )


# -- HLT060 -------------------------------------------------------------------------------------------------

REPLICA_LAG = spec(
    "HLT060",
    "replica-lag",
    Severity.MEDIUM,
    "This replica applies the source's changes late (Seconds_Behind_Source).",
    fix="never",
)


def replica_lag(ctx: MySqlHealthContext) -> Iterator[Finding]:
    """This replica is behind its source: reads from it are stale.

    ## Why it matters
    `Seconds_Behind_Source` (`Seconds_Behind_Master`) is how old the event the SQL thread applies is.
    A lagging replica serves stale reads, and a failover to it loses, or waits for, the changes not yet
    applied. Lag comes from a single-threaded apply of a busy source, big transactions, or a replica
    on weaker hardware.

    ## Threshold
    60 s (medium) and 300 s (high), read now (our own judgement, as for PostgreSQL standbys).

    ## Fix
    Parallel apply (`replica_parallel_workers`/`slave_parallel_threads` on MariaDB), smaller
    transactions on the source, indexes for the replicated UPDATE/DELETE (a row-based event without a
    usable key scans the table on the replica: `recommend_indexes`).
    """
    t = ctx.thresholds
    for replica in ctx.snapshot.get("replicas") or []:
        lag = replica.get("Seconds_Behind_Source")
        if not isinstance(lag, int | float) or lag < t.replica_lag_seconds:
            continue
        name = _replica_name(replica)
        yield health_finding(
            REPLICA_LAG,
            subject=name,
            subject_kind="node",
            title=f"{name} is {lag} s behind its source",
            measured="sample",
            evidence={
                "seconds_behind_source": lag,
                "sql_running_state": replica.get("Replica_SQL_Running_State"),
                "threshold_seconds": t.replica_lag_seconds,
            },
            rationale="A lagging replica serves stale reads, and a failover to it loses or waits for the changes "
            "not yet applied.",
            help_="Enable parallel apply, split big transactions, and index the replicated UPDATE/DELETE "
            "(`recommend_indexes`).",
            severity=Severity.HIGH if lag >= t.replica_lag_high_seconds else None,
        )


RULES: tuple[tuple[RuleSpec, Check], ...] = (
    (REPLICA_THREADS, replica_stopped),
    (REPLICA_LAG, replica_lag),
)


__all__ = ["RULES"]
