"""check_health for Redis: the snapshot of `adapters/health_redis.py` interpreted into findings (HLT130-HLT146).

Pure: no I/O, no clock (ages come from the server's own TIME). INFO's `stats` counters (evictions, hits,
rejected connections) accumulate since the server started or the last `CONFIG RESETSTAT` (`measured:
counter`); memory, clients, persistence and replication state are read now (`sample`); key sizes come from
the adapter's SCAN sample with MEMORY USAGE, itself an estimate for nested types. The rules live in five modules
by topic: `redis_memory`, `redis_clients`, `redis_persistence`, `redis_replication` and `redis_latency` (slow
commands, latency events, big keys); `redis_common` holds the thresholds and the context.
"""

from __future__ import annotations

from typing import Any

from dbspecialist.knowledge.findings import RuleSpec
from dbspecialist.knowledge.health import (
    redis_clients,
    redis_latency,
    redis_memory,
    redis_persistence,
    redis_replication,
)
from dbspecialist.knowledge.health.common import (
    Metrics,
    as_float,
    as_int,
    health_report,
    pct,
    sorted_rules,
    unavailable_checks,
)
from dbspecialist.knowledge.health.model import HealthReport
from dbspecialist.knowledge.health.redis_common import Check, RedisHealthContext, RedisThresholds

RULES: tuple[tuple[RuleSpec, Check], ...] = sorted_rules(
    redis_memory.RULES, redis_clients.RULES, redis_persistence.RULES, redis_replication.RULES, redis_latency.RULES
)
# Rule id → the check name the snapshot's `unavailable` uses (adapters/health_redis.py).
RULE_CHECKS: dict[str, str] = {
    "HLT130": "memory",
    "HLT131": "maxmemory_unset",
    "HLT132": "fragmentation",
    "HLT133": "evictions",
    "HLT134": "hit_ratio",
    "HLT135": "clients",
    "HLT136": "rejected_connections",
    "HLT137": "blocked_clients",
    "HLT138": "rdb_save",
    "HLT139": "unsaved_changes",
    "HLT140": "aof",
    "HLT141": "persistence_configured",
    "HLT142": "replication_link",
    "HLT143": "replication_lag",
    "HLT144": "slowlog",
    "HLT145": "latency",
    "HLT146": "big_keys",
}
_NEEDS_CONFIG = ("unsaved_changes", "persistence_configured")
STANDALONE = "standalone: this server is not a replica and has no replicas connected"
SLOWLOG_OFF = (
    "the slowlog is disabled (slowlog-log-slower-than is negative): CONFIG SET slowlog-log-slower-than 10000 "
    "(10 ms) to record slower commands"
)
LATENCY_OFF = (
    "the latency monitor is off (latency-monitor-threshold 0): CONFIG SET latency-monitor-threshold 100 to record "
    "events over 100 ms, then LATENCY DOCTOR"
)


def _skipped(ctx: RedisHealthContext) -> dict[str, str]:
    skipped = unavailable_checks(ctx.snapshot)
    replication = ctx.info("replication")
    if replication.get("role") == "master" and as_int(replication.get("connected_slaves")) == 0:
        skipped.setdefault("replication_link", STANDALONE)
        skipped.setdefault("replication_lag", STANDALONE)
    if as_int(ctx.config("slowlog-log-slower-than"), 0) < 0:
        skipped.setdefault("slowlog", SLOWLOG_OFF)
    if ctx.config("latency-monitor-threshold") == "0":
        skipped.setdefault("latency", LATENCY_OFF)
    error = ctx.snapshot.get("config_error")
    if error:
        for check in _NEEDS_CONFIG:
            skipped.setdefault(check, f"{error}: the user needs +config|get to read save/appendonly")
    return skipped


def _metrics(ctx: RedisHealthContext) -> Metrics:
    memory, stats, persistence = ctx.info("memory"), ctx.info("stats"), ctx.info("persistence")
    used = as_int(memory.get("used_memory")) - as_int(memory.get("mem_not_counted_for_evict"))
    hits, misses = as_int(stats.get("keyspace_hits")), as_int(stats.get("keyspace_misses"))
    keys, expires = ctx.keys()
    now, last_save = as_float(ctx.snapshot.get("server_time")), as_int(persistence.get("rdb_last_save_time"))
    biggest = (ctx.snapshot.get("biggest_keys") or [{}])[0]
    replication = ctx.info("replication")
    return {
        "uptime_seconds": ctx.snapshot.get("uptime_seconds"),
        "used_memory": as_int(memory.get("used_memory")),
        "maxmemory": ctx.maxmemory,
        "memory_used_pct": pct(used, ctx.maxmemory),
        "maxmemory_policy": ctx.policy,
        "mem_fragmentation_ratio": as_float(memory.get("mem_fragmentation_ratio")),
        "evicted_keys": as_int(stats.get("evicted_keys")),
        "keyspace_hit_pct": pct(hits, hits + misses),
        "connected_clients": ctx.number("clients", "connected_clients"),
        "maxclients": ctx.number("clients", "maxclients", as_int(ctx.config("maxclients"))) or None,
        "blocked_clients": ctx.number("clients", "blocked_clients"),
        "rejected_connections": as_int(stats.get("rejected_connections")),
        "rdb_last_bgsave_status": persistence.get("rdb_last_bgsave_status"),
        "rdb_changes_since_last_save": as_int(persistence.get("rdb_changes_since_last_save")),
        "rdb_last_save_age_seconds": round(now - last_save, 1) if now is not None and last_save else None,
        "aof_enabled": as_int(persistence.get("aof_enabled")),
        "role": replication.get("role"),
        "connected_replicas": as_int(replication.get("connected_slaves")),
        "slowlog_len": ctx.snapshot.get("slowlog_len"),
        "latency_events": len(ctx.snapshot.get("latency_latest") or []),
        "keys": keys,
        "keys_with_ttl_pct": pct(expires, keys),
        "sampled_keys": ctx.snapshot.get("sampled_keys"),
        "biggest_key": biggest.get("key"),
        "biggest_key_bytes": biggest.get("memory_bytes"),
    }


def check_redis(snapshot: dict[str, Any], *, thresholds: RedisThresholds | None = None) -> HealthReport:
    """Run every Redis health rule whose data the snapshot has; say which checks were skipped and why."""
    ctx = RedisHealthContext(snapshot, thresholds or RedisThresholds())
    return health_report(
        "redis", snapshot, ctx, RULES, RULE_CHECKS, _skipped(ctx), stats_since=ctx.stats_since, metrics=_metrics(ctx)
    )


__all__ = [
    "LATENCY_OFF",
    "RULES",
    "RULE_CHECKS",
    "SLOWLOG_OFF",
    "STANDALONE",
    "RedisHealthContext",
    "RedisThresholds",
    "check_redis",
]
