"""Redis health rules (HLT130-HLT146) on hand-built snapshots: each fires with exact evidence and stays quiet on the
healthy snapshot; check_redis reports skipped checks (standalone, slowlog/latency monitor off, CONFIG refused)."""

from __future__ import annotations

from typing import Any

from dbspecialist.knowledge.findings import Finding, Severity
from dbspecialist.knowledge.health.redis import (
    LATENCY_OFF,
    RULE_CHECKS,
    RULES,
    SLOWLOG_OFF,
    STANDALONE,
    RedisThresholds,
    check_redis,
)
from tests.unit.knowledge.health.documented import assert_documented_health_rules

MIB = 1024**2
GIB = 1024**3
NOW = 1_800_000_000.0
SINCE = "2027-01-14T22:00:00Z"


def healthy() -> dict[str, Any]:
    """A snapshot shaped like adapters/health_redis.py's: a primary with one replica, a 1 GiB cache, up 10 hours."""
    return {
        "engine": "redis",
        "server_version": "7.2.4",
        "now": "2027-01-15T08:00:00Z",
        "server_time": NOW,
        "uptime_seconds": 36_000,
        "server_started": SINCE,
        "round_trips": 4,
        "database": "db0",
        "info": {
            "server": {"redis_version": "7.2.4", "uptime_in_seconds": 36_000},
            "clients": {"connected_clients": 50, "maxclients": 10_000, "blocked_clients": 0},
            "memory": {
                "used_memory": 500 * MIB,
                "used_memory_rss": 600 * MIB,
                "mem_not_counted_for_evict": 0,
                "maxmemory": GIB,
                "maxmemory_policy": "allkeys-lru",
                "mem_fragmentation_ratio": 1.2,
                "allocator_frag_ratio": 1.05,
                "total_system_memory": 8 * GIB,
            },
            "persistence": {
                "rdb_changes_since_last_save": 120,
                "rdb_last_save_time": int(NOW) - 600,
                "rdb_last_bgsave_status": "ok",
                "aof_enabled": 0,
                "aof_last_write_status": "ok",
                "aof_last_bgrewrite_status": "ok",
                "aof_rewrites_consecutive_failures": 0,
            },
            "stats": {
                "evicted_keys": 0,
                "expired_keys": 5_000,
                "keyspace_hits": 95_000,
                "keyspace_misses": 5_000,
                "rejected_connections": 0,
            },
            "replication": {
                "role": "master",
                "connected_slaves": 1,
                "master_repl_offset": 10_000_000,
                "slave0": {"ip": "10.0.0.2", "port": 6379, "state": "online", "offset": 9_999_000, "lag": 0},
            },
            "keyspace": {"db0": {"keys": 10_000, "expires": 8_000, "avg_ttl": 60_000}},
        },
        "config": {
            "maxmemory": str(GIB),
            "maxmemory-policy": "allkeys-lru",
            "maxclients": "10000",
            "save": "3600 1 300 100 60 10000",
            "appendonly": "no",
            "stop-writes-on-bgsave-error": "yes",
            "slowlog-log-slower-than": "10000",
            "slowlog-max-len": "128",
            "latency-monitor-threshold": "100",
            "activedefrag": "no",
        },
        "slowlog": [],
        "slowlog_len": 0,
        "latency_latest": [],
        "latency_doctor": "Dave, no latency spike was observed during the lifetime of this Redis instance.",
        "sampled_keys": 1_000,
        "biggest_keys": [{"key": "session:1", "type": "hash", "memory_bytes": 4_096, "length": 12}],
        "unavailable": {},
    }


def only(snapshot: dict[str, Any], rule_id: str, thresholds: RedisThresholds | None = None) -> list[Finding]:
    return [f for f in check_redis(snapshot, thresholds=thresholds).findings if f.rule_id == rule_id]


def test_healthy_server_has_no_findings_and_full_metrics() -> None:
    report = check_redis(healthy())
    assert report.findings == [] and report.skipped == {}
    assert report.checks_run == list(RULE_CHECKS.values())
    assert report.engine == "redis" and report.stats_since == SINCE and report.server_version == "7.2.4"
    assert report.metrics == {
        "uptime_seconds": 36_000,
        "used_memory": 500 * MIB,
        "maxmemory": GIB,
        "memory_used_pct": 48.83,
        "maxmemory_policy": "allkeys-lru",
        "mem_fragmentation_ratio": 1.2,
        "evicted_keys": 0,
        "keyspace_hit_pct": 95.0,
        "connected_clients": 50,
        "maxclients": 10_000,
        "blocked_clients": 0,
        "rejected_connections": 0,
        "rdb_last_bgsave_status": "ok",
        "rdb_changes_since_last_save": 120,
        "rdb_last_save_age_seconds": 600.0,
        "aof_enabled": 0,
        "role": "master",
        "connected_replicas": 1,
        "slowlog_len": 0,
        "latency_events": 0,
        "keys": 10_000,
        "keys_with_ttl_pct": 80.0,
        "sampled_keys": 1_000,
        "biggest_key": "session:1",
        "biggest_key_bytes": 4_096,
    }


def test_rules_are_documented_redis_health_rules() -> None:
    assert_documented_health_rules(RULES, RULE_CHECKS, "redis", [f"HLT{n}" for n in range(130, 147)])


def test_memory_near_maxmemory_severity_follows_the_policy() -> None:
    snapshot = healthy()
    snapshot["info"]["memory"].update({"used_memory": 1_000 * MIB, "mem_not_counted_for_evict": 20 * MIB})
    [finding] = only(snapshot, "HLT130")
    assert finding.severity is Severity.LOW and finding.subject == "maxmemory"
    assert finding.evidence == {
        "measured": "sample",
        "used_memory": 980 * MIB,
        "maxmemory": GIB,
        "used_pct": 95.7,
        "maxmemory_policy": "allkeys-lru",
        "evicted_keys": 0,
        "threshold_pct": 90.0,
    }
    snapshot["info"]["memory"]["maxmemory_policy"] = "noeviction"
    [full] = only(snapshot, "HLT130")
    assert full.severity is Severity.HIGH and "OOM" in full.rationale
    snapshot["info"]["memory"]["maxmemory_policy"] = "volatile-lru"
    assert only(snapshot, "HLT130")[0].severity is Severity.MEDIUM
    snapshot["info"]["memory"]["used_memory"] = 900 * MIB  # 85.9 % counted
    assert only(snapshot, "HLT130") == []


def test_unlimited_maxmemory_on_a_cache_or_near_system_memory() -> None:
    snapshot = healthy()
    snapshot["info"]["memory"].update({"maxmemory": 0, "maxmemory_policy": "noeviction"})
    snapshot["config"]["maxmemory"] = "0"
    [cache] = only(snapshot, "HLT131")  # 80 % of keys have a TTL: a cache
    assert cache.severity is Severity.MEDIUM and cache.evidence["keys_with_ttl_pct"] == 80.0
    assert cache.title == "maxmemory is unlimited on an instance used as a cache"
    assert cache.fix is not None and "CONFIG SET maxmemory-policy allkeys-lru" in cache.fix.statements
    snapshot["info"]["keyspace"]["db0"]["expires"] = 100  # 1 %: a data store, and memory is fine
    assert only(snapshot, "HLT131") == []
    snapshot["info"]["memory"]["used_memory"] = 7 * GIB
    [near] = only(snapshot, "HLT131")
    assert near.severity is Severity.HIGH and near.evidence["system_memory_pct"] == 87.5
    assert only(healthy(), "HLT131") == []  # maxmemory is set


def test_fragmentation_high_and_swapping() -> None:
    snapshot = healthy()
    snapshot["info"]["memory"].update({"used_memory_rss": 900 * MIB, "mem_fragmentation_ratio": 1.8})
    [high] = only(snapshot, "HLT132")
    assert high.severity is Severity.LOW and high.evidence["mem_fragmentation_ratio"] == 1.8
    assert high.evidence["threshold_ratio"] == 1.5 and high.fix is not None
    assert high.fix.statements == ["CONFIG SET activedefrag yes"]
    snapshot["info"]["memory"].update({"used_memory_rss": 400 * MIB, "mem_fragmentation_ratio": 0.8})
    [swap] = only(snapshot, "HLT132")
    assert swap.severity is Severity.HIGH and swap.evidence["threshold_ratio"] == 1.0
    tiny = healthy()
    tiny["info"]["memory"].update({"used_memory": MIB, "used_memory_rss": 7 * MIB, "mem_fragmentation_ratio": 7.0})
    assert only(tiny, "HLT132") == []  # a small instance's fixed RSS, not fragmentation


def test_evictions_are_a_counter_since_start() -> None:
    snapshot = healthy()
    snapshot["info"]["stats"]["evicted_keys"] = 3_600
    [finding] = only(snapshot, "HLT133")
    assert finding.severity is Severity.LOW and finding.evidence["since"] == SINCE
    assert finding.evidence["per_hour"] == 360.0 and finding.evidence["keyspace_hit_pct"] == 95.0
    snapshot["info"]["memory"]["maxmemory_policy"] = "volatile-ttl"
    assert only(snapshot, "HLT133")[0].severity is Severity.MEDIUM


def test_low_hit_ratio() -> None:
    snapshot = healthy()
    snapshot["info"]["stats"].update({"keyspace_hits": 30_000, "keyspace_misses": 70_000})
    [finding] = only(snapshot, "HLT134")
    assert finding.severity is Severity.MEDIUM and finding.evidence["hit_pct"] == 30.0
    snapshot["info"]["stats"].update({"keyspace_hits": 70_000, "keyspace_misses": 30_000})
    assert only(snapshot, "HLT134")[0].severity is Severity.LOW
    snapshot["info"]["stats"].update({"keyspace_hits": 10, "keyspace_misses": 900})
    assert only(snapshot, "HLT134") == []  # too few lookups


def test_clients_rejected_and_blocked() -> None:
    snapshot = healthy()
    snapshot["info"]["clients"].update({"connected_clients": 9_600, "blocked_clients": 3})
    snapshot["info"]["stats"]["rejected_connections"] = 12
    [near] = only(snapshot, "HLT135")
    assert near.severity is Severity.HIGH and near.evidence["used_pct"] == 96.0
    [rejected] = only(snapshot, "HLT136")
    assert rejected.evidence["rejected_connections"] == 12 and rejected.evidence["measured"] == "counter"
    [blocked] = only(snapshot, "HLT137")
    assert blocked.severity is Severity.INFO and blocked.evidence["blocked_clients"] == 3
    snapshot["info"]["clients"]["connected_clients"] = 8_100
    assert only(snapshot, "HLT135")[0].severity is Severity.MEDIUM


def test_failed_bgsave_is_critical_when_writes_stop() -> None:
    snapshot = healthy()
    snapshot["info"]["persistence"]["rdb_last_bgsave_status"] = "err"
    [finding] = only(snapshot, "HLT138")
    assert finding.severity is Severity.CRITICAL and "MISCONF" in finding.rationale
    snapshot["config"]["stop-writes-on-bgsave-error"] = "no"
    assert only(snapshot, "HLT138")[0].severity is Severity.HIGH


def test_unsaved_changes_need_save_rules_and_an_old_dump() -> None:
    snapshot = healthy()
    snapshot["info"]["persistence"].update(
        {"rdb_changes_since_last_save": 50_000, "rdb_last_save_time": int(NOW) - 7_200}
    )
    [finding] = only(snapshot, "HLT139")
    assert finding.evidence["last_save_age_seconds"] == 7_200.0
    assert finding.evidence["rdb_changes_since_last_save"] == 50_000
    assert finding.fix is not None and finding.fix.statements == ["BGSAVE"]
    snapshot["info"]["persistence"]["aof_enabled"] = 1
    assert only(snapshot, "HLT139") == []  # the AOF holds them


def test_aof_write_and_rewrite_failures() -> None:
    snapshot = healthy()
    snapshot["info"]["persistence"].update({"aof_enabled": 1, "aof_last_bgrewrite_status": "err"})
    [rewrite] = only(snapshot, "HLT140")
    assert rewrite.severity is Severity.MEDIUM and rewrite.title == "the last AOF rewrite failed"
    snapshot["info"]["persistence"]["aof_last_write_status"] = "err"
    [write] = only(snapshot, "HLT140")
    assert write.severity is Severity.HIGH and write.title == "AOF writes are failing"


def test_no_persistence_and_config_refused() -> None:
    snapshot = healthy()
    snapshot["config"].update({"save": "", "appendonly": "no"})
    [finding] = only(snapshot, "HLT141")
    assert finding.evidence == {
        "measured": "sample",
        "save": "",
        "appendonly": "no",
        "keys": 10_000,
        "keys_with_ttl_pct": 80.0,
    }
    refused = healthy()
    refused["config"] = {}
    refused["config_error"] = "CONFIG GET was refused (NOPERM)"
    report = check_redis(refused)
    assert report.skipped["persistence_configured"].startswith("CONFIG GET was refused (NOPERM)")
    assert "unsaved_changes" in report.skipped and "memory" in report.checks_run  # INFO still has maxmemory


def test_replica_link_down_and_lag() -> None:
    replica = healthy()
    replica["info"]["replication"] = {
        "role": "slave",
        "master_host": "10.0.0.1",
        "master_port": 6379,
        "master_link_status": "down",
        "master_link_down_since_seconds": 120,
        "master_last_io_seconds_ago": -1,
        "connected_slaves": 0,
    }
    [down] = only(replica, "HLT142")
    assert down.subject == "replica of 10.0.0.1:6379" and down.evidence["master_link_down_since_seconds"] == 120
    assert only(replica, "HLT143") == []  # no lag while the link is down: HLT142 says it
    replica["info"]["replication"].update({"master_link_status": "up", "master_last_io_seconds_ago": 75})
    [lag] = only(replica, "HLT143")
    assert lag.severity is Severity.HIGH and lag.evidence["master_last_io_seconds_ago"] == 75.0
    primary = healthy()
    primary["info"]["replication"]["slave0"].update({"lag": 12, "offset": 9_000_000})
    [behind] = only(primary, "HLT143")
    assert behind.subject == "replica 10.0.0.2:6379" and behind.severity is Severity.MEDIUM
    assert behind.evidence["bytes_behind"] == 1_000_000 and behind.evidence["lag_seconds"] == 12.0


def test_standalone_skips_replication() -> None:
    snapshot = healthy()
    snapshot["info"]["replication"] = {"role": "master", "connected_slaves": 0, "master_repl_offset": 0}
    report = check_redis(snapshot)
    assert report.skipped == {"replication_link": STANDALONE, "replication_lag": STANDALONE}


def _slow(entry_id: int, command: str, us: int, key: str) -> dict[str, Any]:
    return {"id": entry_id, "timestamp": int(NOW), "duration_us": us, "command": command, "key": key, "args": 2}


def test_slowlog_grouped_by_command_and_skipped_when_off() -> None:
    snapshot = healthy()
    snapshot["slowlog"] = [
        _slow(3, "KEYS", 250_000, "*"),
        _slow(2, "HGETALL", 12_000, "h"),
        _slow(1, "KEYS", 30_000, "u*"),
    ]
    snapshot["slowlog_len"] = 3
    keys, hgetall = only(snapshot, "HLT144")
    assert keys.subject == "KEYS" and keys.severity is Severity.MEDIUM and keys.subject_kind == "query"
    assert keys.evidence["entries"] == 2 and keys.evidence["max_us"] == 250_000
    assert keys.evidence["total_us"] == 280_000 and keys.evidence["slowest_first_arg"] == "*"
    assert hgetall.severity is Severity.LOW and hgetall.evidence["threshold_us"] == 10_000
    snapshot["config"]["slowlog-log-slower-than"] = "-1"
    report = check_redis(snapshot)
    assert report.skipped["slowlog"] == SLOWLOG_OFF and "slowlog" not in report.checks_run


def test_latency_events_and_skipped_when_the_monitor_is_off() -> None:
    snapshot = healthy()
    snapshot["latency_latest"] = [
        {"event": "fork", "timestamp": int(NOW), "latest_ms": 300, "max_ms": 1_200},
        {"event": "command", "timestamp": int(NOW), "latest_ms": 150, "max_ms": 150},
    ]
    snapshot["latency_doctor"] = "Dave, I have observed latency spikes in this Redis instance."
    fork, command = only(snapshot, "HLT145")  # by severity
    assert fork.subject == "latency fork" and fork.severity is Severity.MEDIUM and fork.evidence["max_ms"] == 1_200
    assert command.severity is Severity.LOW and str(command.evidence["latency_doctor"]).startswith("Dave")
    snapshot["config"]["latency-monitor-threshold"] = "0"
    report = check_redis(snapshot)
    assert report.skipped["latency"] == LATENCY_OFF
    assert "CONFIG SET latency-monitor-threshold 100" in report.skipped["latency"]


def test_big_keys_by_memory_or_elements() -> None:
    snapshot = healthy()
    snapshot["biggest_keys"] = [
        {"key": "blob:1", "type": "string", "memory_bytes": 150 * MIB, "length": 150 * MIB},
        {"key": "feed items", "type": "list", "memory_bytes": 300_000, "length": 12_000},
        {"key": "small", "type": "set", "memory_bytes": 90_000, "length": 9_999},
    ]
    blob, feed = only(snapshot, "HLT146")
    assert blob.subject == "blob:1" and blob.severity is Severity.MEDIUM and blob.subject_kind == "key"
    assert blob.title == "string key blob:1 holds 150.0 MiB"
    assert feed.severity is Severity.LOW and feed.evidence["length"] == 12_000 and feed.evidence["type"] == "list"
    assert feed.evidence["sampled_keys"] == 1_000 and feed.evidence["database"] == "db0"
    assert feed.fix is not None and feed.fix.statements == ['UNLINK "feed items"']


def test_unavailable_sources_are_skipped_not_failed() -> None:
    snapshot = healthy()
    snapshot["unavailable"] = {"big_keys": "the keyspace sample failed: timeout", "latency": "LATENCY was refused"}
    del snapshot["biggest_keys"]
    report = check_redis(snapshot)
    assert report.skipped == {"big_keys": "the keyspace sample failed: timeout", "latency": "LATENCY was refused"}
    assert report.metrics["biggest_key"] is None and report.findings == []
