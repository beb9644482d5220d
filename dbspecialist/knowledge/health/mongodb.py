"""check_health for MongoDB: the snapshot of `adapters/health_mongodb.py` interpreted into findings (HLT100-HLT107).

Pure: no I/O, no clock (ages were computed from the server's own `localTime`). serverStatus counters
(opcounters, evictions, documents scanned) accumulate since the process started (`measured: counter`);
connections, the cache fill, current operations and replica-set state are read now (`sample`); index use is
counted since `accesses.since` (server start or index creation). The rules live in three modules by topic:
`mongodb_server` (connections, WiredTiger cache), `mongodb_queries` (long operations, unused indexes, scan ratio)
and `mongodb_replication`; `mongodb_common` holds the thresholds and the context.
"""

from __future__ import annotations

from typing import Any

from dbspecialist.knowledge.findings import RuleSpec
from dbspecialist.knowledge.health import mongodb_queries, mongodb_replication, mongodb_server
from dbspecialist.knowledge.health.common import Metrics, as_int, health_report, pct, sorted_rules, unavailable_checks
from dbspecialist.knowledge.health.model import HealthReport
from dbspecialist.knowledge.health.mongodb_common import Check, MongoHealthContext, MongoThresholds

OPCOUNTERS = ("insert", "query", "update", "delete", "getmore", "command")

RULES: tuple[tuple[RuleSpec, Check], ...] = sorted_rules(
    mongodb_server.RULES, mongodb_queries.RULES, mongodb_replication.RULES
)
# Rule id → the check name the snapshot's `unavailable` uses (adapters/health_mongodb.py).
RULE_CHECKS: dict[str, str] = {
    "HLT100": "connections",
    "HLT101": "wiredtiger_cache",
    "HLT102": "wiredtiger_evictions",
    "HLT103": "long_operations",
    "HLT104": "replica_members",
    "HLT105": "replica_lag",
    "HLT106": "unused_indexes",
    "HLT107": "scan_ratio",
}


def _metrics(ctx: MongoHealthContext) -> Metrics:
    connections = ctx.section("connections")
    current, available = connections.get("current"), connections.get("available")
    metrics: Metrics = {
        "uptime_seconds": ctx.snapshot.get("uptime_seconds"),
        "server": ctx.snapshot.get("emulator") or ctx.snapshot.get("process"),
        "connections_current": current,
        "connections_available": available,
        "connections_used_pct": pct(current, current + available)
        if isinstance(current, int | float) and isinstance(available, int | float)
        else None,
        "connections_total_created": connections.get("total_created"),
    }
    opcounters = ctx.section("opcounters")
    uptime = ctx.uptime
    for name in OPCOUNTERS:
        count = opcounters.get(name)
        metrics[f"opcounters_{name}"] = count
        metrics[f"{name}_per_second"] = round(count / uptime, 2) if uptime and isinstance(count, int) else None
    cache = ctx.section("wiredtiger_cache")
    size = as_int(cache.get("max_bytes"))
    metrics["wiredtiger_cache_fill_pct"] = pct(as_int(cache.get("bytes_in_cache")), size)
    metrics["wiredtiger_cache_dirty_pct"] = pct(as_int(cache.get("dirty_bytes")), size)
    metrics["app_thread_evictions"] = cache.get("app_thread_evictions")
    operations = ctx.snapshot.get("operations")
    metrics["operations_over_1s"] = len(operations) if isinstance(operations, list) else None
    replica_set = ctx.section("replica_set")
    lags = [m["lag_seconds"] for m in replica_set.get("members") or [] if isinstance(m.get("lag_seconds"), int | float)]
    metrics["replica_set"] = replica_set.get("set")
    metrics["replica_members"] = len(replica_set.get("members") or []) if replica_set else None
    metrics["max_replica_lag_seconds"] = max(lags) if lags else None
    indexes = ctx.snapshot.get("indexes")
    metrics["indexes_checked"] = len(indexes) if isinstance(indexes, list) else None
    executor = ctx.section("query_executor")
    returned = as_int(executor.get("returned"))
    metrics["scanned_per_returned"] = (
        round(as_int(executor.get("scanned_objects")) / max(returned, 1), 1) if executor else None
    )
    return metrics


def check_mongodb(snapshot: dict[str, Any], *, thresholds: MongoThresholds | None = None) -> HealthReport:
    """Run every MongoDB health rule whose data the snapshot has; say which checks were skipped and why."""
    ctx = MongoHealthContext(snapshot, thresholds or MongoThresholds())
    skipped = unavailable_checks(snapshot)
    return health_report(
        "mongodb", snapshot, ctx, RULES, RULE_CHECKS, skipped, stats_since=ctx.stats_since, metrics=_metrics(ctx)
    )


__all__ = ["RULES", "RULE_CHECKS", "MongoHealthContext", "MongoThresholds", "check_mongodb"]
