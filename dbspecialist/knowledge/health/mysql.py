"""check_health for MySQL and MariaDB: the snapshot of `adapters/health_mysql.py` interpreted into findings
(HLT050-HLT061).

Pure: no I/O, no clock (the server gave its own time and uptime). Counters (`SHOW GLOBAL STATUS`) accumulate
since the server started, so each finding built on them says so (`measured: counter`, `since`); lock waits,
connections and threads are read now (`sample`); free space in a tablespace is InnoDB's own estimate. The rules
live in five modules by topic: `mysql_storage` (buffer pool, tablespace free space), `mysql_sessions`
(connections, running threads, aborted connections), `mysql_queries` (slow queries, temporary tables on disk),
`mysql_locks` and `mysql_replication`; `mysql_common` holds the thresholds and the context.
"""

from __future__ import annotations

from typing import Any

from dbspecialist.knowledge.findings import RuleSpec
from dbspecialist.knowledge.health import mysql_locks, mysql_queries, mysql_replication, mysql_sessions, mysql_storage
from dbspecialist.knowledge.health.common import Metrics, as_int, health_report, pct, sorted_rules, unavailable_checks
from dbspecialist.knowledge.health.model import HealthReport
from dbspecialist.knowledge.health.mysql_common import Check, MySqlHealthContext, MySqlThresholds, is_on

RULES: tuple[tuple[RuleSpec, Check], ...] = sorted_rules(
    mysql_storage.RULES, mysql_sessions.RULES, mysql_queries.RULES, mysql_locks.RULES, mysql_replication.RULES
)
# Rule id → the check name the snapshot's `unavailable` uses (adapters/health_mysql.py).
RULE_CHECKS: dict[str, str] = {
    "HLT050": "buffer_pool_hit_rate",
    "HLT051": "buffer_pool_wait_free",
    "HLT052": "connections",
    "HLT053": "threads_running",
    "HLT054": "slow_queries",
    "HLT055": "aborted_connections",
    "HLT056": "tmp_disk_tables",
    "HLT057": "current_lock_waits",
    "HLT058": "row_lock_waits",
    "HLT059": "replica_threads",
    "HLT060": "replica_lag",
    "HLT061": "fragmentation",
}
# The status counters each check reads: missing ones (no InnoDB, an old version) skip it.
_CHECK_STATUS: dict[str, tuple[str, ...]] = {
    "buffer_pool_hit_rate": ("Innodb_buffer_pool_read_requests", "Innodb_buffer_pool_reads"),
    "buffer_pool_wait_free": ("Innodb_buffer_pool_wait_free",),
    "connections": ("Threads_connected", "Max_used_connections"),
    "threads_running": ("Threads_running",),
    "slow_queries": ("Slow_queries", "Uptime"),
    "aborted_connections": ("Aborted_connects", "Aborted_clients", "Connections"),
    "tmp_disk_tables": ("Created_tmp_tables", "Created_tmp_disk_tables"),
    "row_lock_waits": ("Innodb_row_lock_waits", "Innodb_row_lock_time_avg"),
}
SLOW_LOG_OFF = (
    "slow_query_log is OFF, so the slow statements cannot be named (Slow_queries still counts them: see "
    "metrics.slow_queries_per_hour). Enable it: SET GLOBAL slow_query_log = ON; SET GLOBAL long_query_time = 1; "
    "and set both in the server's configuration file so they survive a restart"
)


def _skipped(ctx: MySqlHealthContext) -> dict[str, str]:
    skipped = unavailable_checks(ctx.snapshot)
    for check, names in _CHECK_STATUS.items():
        missing = [n for n in names if not ctx.has_status(n)]
        if missing and check not in skipped:
            skipped[check] = f"SHOW GLOBAL STATUS has no {', '.join(missing)} on this server (InnoDB off or too old)"
    if "slow_queries" not in skipped and not is_on(ctx.variable("slow_query_log")):
        skipped["slow_queries"] = SLOW_LOG_OFF
    return skipped


def _metrics(ctx: MySqlHealthContext) -> Metrics:
    requests = ctx.status("Innodb_buffer_pool_read_requests")
    reads = ctx.status("Innodb_buffer_pool_reads")
    limit = as_int(ctx.variable("max_connections"))
    replicas = ctx.snapshot.get("replicas") or []
    lags = [r.get("Seconds_Behind_Source") for r in replicas if isinstance(r.get("Seconds_Behind_Source"), int)]
    return {
        "flavor": ctx.flavor,
        "uptime_seconds": ctx.snapshot.get("uptime_seconds"),
        "buffer_pool_hit_pct": round(100.0 - 100.0 * reads / requests, 2) if requests else None,
        "buffer_pool_free_pct": pct(
            ctx.status("Innodb_buffer_pool_pages_free"), ctx.status("Innodb_buffer_pool_pages_total")
        ),
        "buffer_pool_wait_free": ctx.status("Innodb_buffer_pool_wait_free"),
        "threads_connected": ctx.status("Threads_connected"),
        "max_connections": limit or None,
        "connections_used_pct": pct(ctx.status("Threads_connected"), limit),
        "max_used_connections": ctx.status("Max_used_connections"),
        "threads_running": max(ctx.status("Threads_running") - 1, 0),
        "slow_query_log": str(ctx.variable("slow_query_log") or "") or None,
        "slow_queries": ctx.status("Slow_queries"),
        "slow_queries_per_hour": ctx.per_hour(ctx.status("Slow_queries")),
        "aborted_connects": ctx.status("Aborted_connects"),
        "aborted_clients": ctx.status("Aborted_clients"),
        "tmp_disk_tables_pct": pct(ctx.status("Created_tmp_disk_tables"), ctx.status("Created_tmp_tables")),
        "row_lock_waits": ctx.status("Innodb_row_lock_waits"),
        "row_lock_time_avg_ms": ctx.status("Innodb_row_lock_time_avg"),
        "current_lock_waits": len(ctx.snapshot.get("lock_waits") or []),
        "replicas": len(replicas),
        "max_seconds_behind_source": max(lags) if lags else None,
        "tables_with_free_space": len(ctx.snapshot.get("tables") or []),
    }


def check_mysql(snapshot: dict[str, Any], *, thresholds: MySqlThresholds | None = None) -> HealthReport:
    """Run every MySQL/MariaDB health rule whose data the snapshot has; say which checks were skipped and why."""
    ctx = MySqlHealthContext(snapshot, thresholds or MySqlThresholds())
    return health_report(
        "mysql", snapshot, ctx, RULES, RULE_CHECKS, _skipped(ctx), stats_since=ctx.stats_since, metrics=_metrics(ctx)
    )


__all__ = ["RULES", "RULE_CHECKS", "SLOW_LOG_OFF", "MySqlHealthContext", "MySqlThresholds", "check_mysql"]
