"""MongoDB health rules (HLT100-HLT107) on hand-built snapshots: each fires with exact evidence and stays quiet on
the healthy snapshot; check_mongodb reports what an emulator or a standalone server cannot give as skipped."""

from __future__ import annotations

from typing import Any

from dbspecialist.knowledge.findings import Finding, Severity
from dbspecialist.knowledge.health.mongodb import RULE_CHECKS, RULES, MongoThresholds, check_mongodb
from tests.unit.knowledge.health.documented import assert_documented_health_rules

GIB = 1024**3
DAY = 86_400
SINCE = "2027-01-05T08:00:00Z"


def healthy() -> dict[str, Any]:
    """A snapshot shaped like adapters/health_mongodb.py's: a 3-member replica set's primary, up 10 days."""
    return {
        "engine": "mongodb",
        "database": "shop",
        "server_version": "7.0.5",
        "process": "mongod",
        "now": "2027-01-15T08:00:00Z",
        "uptime_seconds": 10 * DAY,
        "server_started": SINCE,
        "emulator": None,
        "connections": {"current": 120, "available": 51_080, "total_created": 5_000, "active": 10},
        "opcounters": {"insert": 864_000, "query": 8_640_000, "update": 0, "delete": 0, "getmore": 0, "command": 1},
        "wiredtiger_cache": {
            "bytes_in_cache": 6 * GIB,
            "max_bytes": 8 * GIB,
            "dirty_bytes": GIB // 10,
            "app_thread_evictions": 0,
            "unmodified_evicted": 1_000_000,
            "modified_evicted": 200_000,
            "pages_read": 3_000_000,
        },
        "query_executor": {"scanned_keys": 9_000_000, "scanned_objects": 5_000_000, "returned": 4_000_000},
        "operations": [],
        "replica_set": {
            "set": "rs0",
            "my_state": 1,
            "members": [
                {"name": "db1:27017", "state": 1, "state_str": "PRIMARY", "health": 1.0, "lag_seconds": None},
                {"name": "db2:27017", "state": 2, "state_str": "SECONDARY", "health": 1.0, "lag_seconds": 0.0},
                {"name": "db3:27017", "state": 2, "state_str": "SECONDARY", "health": 1.0, "lag_seconds": 1.0},
            ],
        },
        "indexes": [
            _index("orders", "_id_", ops=0),
            _index("orders", "status_1", ops=12_000),
            _index("orders", "sku_1", ops=0, unique=True),
            _index("sessions", "created_1", ops=0, ttl=True),
        ],
        "collections": 2,
        "round_trips": 5,
        "unavailable": {},
    }


def _index(collection: str, name: str, *, ops: int, unique: bool = False, ttl: bool = False) -> dict[str, Any]:
    return {
        "collection": collection,
        "name": name,
        "key": f"{name.rsplit('_', 1)[0]}: 1",
        "ops": ops,
        "since": SINCE,
        "since_age_seconds": 10 * DAY,
        "unique": unique,
        "ttl": ttl,
        "hidden": False,
        "partial": False,
        "size_bytes": 50 * 1024**2,
    }


def only(snapshot: dict[str, Any], rule_id: str, thresholds: MongoThresholds | None = None) -> list[Finding]:
    return [f for f in check_mongodb(snapshot, thresholds=thresholds).findings if f.rule_id == rule_id]


def test_healthy_server_has_no_findings_and_full_metrics() -> None:
    report = check_mongodb(healthy())
    assert report.findings == [] and report.skipped == {}
    assert report.checks_run == list(RULE_CHECKS.values())
    assert report.engine == "mongodb" and report.stats_since == SINCE and report.server_version == "7.0.5"
    assert report.metrics == {
        "uptime_seconds": 10 * DAY,
        "server": "mongod",
        "connections_current": 120,
        "connections_available": 51_080,
        "connections_used_pct": 0.23,
        "connections_total_created": 5_000,
        "opcounters_insert": 864_000,
        "insert_per_second": 1.0,
        "opcounters_query": 8_640_000,
        "query_per_second": 10.0,
        "opcounters_update": 0,
        "update_per_second": 0.0,
        "opcounters_delete": 0,
        "delete_per_second": 0.0,
        "opcounters_getmore": 0,
        "getmore_per_second": 0.0,
        "opcounters_command": 1,
        "command_per_second": 0.0,
        "wiredtiger_cache_fill_pct": 75.0,
        "wiredtiger_cache_dirty_pct": 1.25,
        "app_thread_evictions": 0,
        "operations_over_1s": 0,
        "replica_set": "rs0",
        "replica_members": 3,
        "max_replica_lag_seconds": 1.0,
        "indexes_checked": 4,
        "scanned_per_returned": 1.2,
    }


def test_rules_are_documented_mongodb_health_rules() -> None:
    assert_documented_health_rules(RULES, RULE_CHECKS, "mongodb", [f"HLT{n}" for n in range(100, 108)])


def test_connections_near_the_limit() -> None:
    snapshot = healthy()
    snapshot["connections"].update({"current": 900, "available": 100})
    [finding] = only(snapshot, "HLT100")
    assert finding.severity is Severity.MEDIUM and finding.evidence["limit"] == 1_000
    assert finding.evidence["used_pct"] == 90.0 and finding.evidence["measured"] == "sample"
    snapshot["connections"].update({"current": 990, "available": 10})
    assert only(snapshot, "HLT100")[0].severity is Severity.HIGH
    snapshot["connections"]["available"] = None  # an emulator: no limit known
    assert only(snapshot, "HLT100") == []


def test_wiredtiger_cache_full_or_dirty() -> None:
    snapshot = healthy()
    snapshot["wiredtiger_cache"]["bytes_in_cache"] = int(7.8 * GIB)
    [full] = only(snapshot, "HLT101")
    assert full.severity is Severity.MEDIUM and full.evidence["fill_pct"] == 97.5
    assert full.evidence["threshold_fill_pct"] == 95.0 and full.evidence["threshold_dirty_pct"] == 20.0
    snapshot["wiredtiger_cache"]["dirty_bytes"] = 2 * GIB
    [dirty] = only(snapshot, "HLT101")
    assert dirty.severity is Severity.HIGH and dirty.evidence["dirty_pct"] == 25.0


def test_application_thread_evictions() -> None:
    snapshot = healthy()
    snapshot["wiredtiger_cache"]["app_thread_evictions"] = 24_000
    [finding] = only(snapshot, "HLT102")
    assert finding.evidence["app_share_pct"] == 2.0 and finding.evidence["per_hour"] == 100.0
    assert finding.evidence["measured"] == "counter" and finding.evidence["since"] == SINCE
    snapshot["wiredtiger_cache"]["app_thread_evictions"] = 900  # under the floor
    assert only(snapshot, "HLT102") == []


def _op(opid: int, seconds: float, plan: str = "COLLSCAN") -> dict[str, Any]:
    return {
        "opid": opid,
        "secs_running": seconds,
        "op": "query",
        "ns": "shop.orders",
        "desc": "conn42",
        "client": "10.0.0.9:51234",
        "app_name": "reports",
        "plan_summary": plan,
        "waiting_for_lock": False,
        "command": '{"find": "orders", "filter": {"note": "x"}}',
    }


def test_long_running_operations() -> None:
    snapshot = healthy()
    snapshot["operations"] = [_op(7001, 900.0), _op(7002, 75.0, "IXSCAN { status: 1 }"), _op(7003, 5.0)]
    high, medium = only(snapshot, "HLT103")
    assert high.severity is Severity.HIGH and high.subject == "shop.orders" and high.table == "orders"
    assert high.evidence["opid"] == "7001" and high.evidence["plan_summary"] == "COLLSCAN"
    assert "COLLSCAN" in high.rationale
    assert high.fix is not None and high.fix.statements == ["db.killOp(7001)"]
    assert medium.evidence["opid"] == "7002" and medium.severity is Severity.MEDIUM


def test_unhealthy_members_and_no_primary() -> None:
    snapshot = healthy()
    members = snapshot["replica_set"]["members"]
    members[1].update({"state": 8, "state_str": "(not reachable/healthy)", "health": 0.0, "lag_seconds": None})
    members[2].update({"state": 5, "state_str": "STARTUP2", "lag_seconds": None})
    down, syncing = only(snapshot, "HLT104")
    assert down.subject == "db2:27017" and down.severity is Severity.HIGH and down.evidence["health"] == 0.0
    assert syncing.subject == "db3:27017" and syncing.severity is Severity.MEDIUM
    members[0].update({"state": 2, "state_str": "SECONDARY"})
    findings = only(snapshot, "HLT104")
    assert findings[0].severity is Severity.CRITICAL and findings[0].subject == "rs0"
    assert findings[0].title == "replica set rs0 has no primary: writes fail"


def test_secondary_lag() -> None:
    snapshot = healthy()
    snapshot["replica_set"]["members"][2]["lag_seconds"] = 95.0
    [finding] = only(snapshot, "HLT105")
    assert finding.subject == "db3:27017" and finding.severity is Severity.HIGH
    assert finding.evidence["lag_seconds"] == 95.0 and finding.evidence["threshold_seconds"] == 10.0
    snapshot["replica_set"]["members"][2]["lag_seconds"] = 12.0
    assert only(snapshot, "HLT105")[0].severity is Severity.MEDIUM


def test_standalone_skips_replica_checks() -> None:
    snapshot = healthy()
    del snapshot["replica_set"]
    reason = "standalone server (not a replica set member): nothing to replicate"
    snapshot["unavailable"] = {"replica_members": reason, "replica_lag": reason}
    report = check_mongodb(snapshot)
    assert report.skipped == {"replica_members": reason, "replica_lag": reason}
    assert report.metrics["replica_set"] is None and report.metrics["replica_members"] is None


def test_unused_index_leaves_out_id_unique_and_ttl() -> None:
    snapshot = healthy()
    snapshot["indexes"].append(_index("orders", "note_1", ops=0))
    [finding] = only(snapshot, "HLT106")
    assert finding.subject == "orders.note_1" and finding.table == "orders" and finding.subject_kind == "index"
    assert finding.evidence == {
        "measured": "counter",
        "since": SINCE,
        "collection": "orders",
        "index": "note_1",
        "key": "note: 1",
        "ops": 0,
        "window_days": 10.0,
        "window_source": "accesses.since",
        "size_bytes": 50 * 1024**2,
        "hidden": False,
        "threshold_days": 7.0,
    }
    assert finding.fix is not None and finding.fix.statements == [
        'db.runCommand({collMod: "orders", index: {name: "note_1", hidden: true}})',
        'db.getCollection("orders").dropIndex("note_1")',
    ]
    snapshot["indexes"][-1]["since_age_seconds"] = 2 * DAY  # created two days ago: too early to tell
    assert only(snapshot, "HLT106") == []
    assert len(only(snapshot, "HLT106", MongoThresholds(unused_index_min_days=1.0))) == 1


def test_unused_index_without_since_uses_the_uptime() -> None:
    snapshot = healthy()
    snapshot["indexes"] = [_index("orders", "note_1", ops=0) | {"since": None, "since_age_seconds": None}]
    [finding] = only(snapshot, "HLT106")
    assert finding.evidence["window_source"] == "server uptime" and finding.evidence["since"] == SINCE


def test_high_scan_ratio() -> None:
    snapshot = healthy()
    snapshot["query_executor"].update({"scanned_objects": 50_000_000, "returned": 20_000})
    [finding] = only(snapshot, "HLT107")
    assert finding.severity is Severity.MEDIUM and finding.evidence["scanned_per_returned"] == 2_500.0
    assert finding.fix is not None and finding.fix.statements == ["db.setProfilingLevel(1, {slowms: 100})"]
    snapshot["query_executor"]["returned"] = 200_000
    assert only(snapshot, "HLT107")[0].severity is Severity.LOW
    snapshot["query_executor"].update({"scanned_objects": 900_000, "returned": 1})
    assert only(snapshot, "HLT107") == []  # too few documents examined to judge


def test_emulator_snapshot_skips_what_it_cannot_measure() -> None:
    """Shaped like SecantusDB's: no WiredTiger section, no connection limit, no index-use counters."""
    snapshot = healthy()
    snapshot.update({"emulator": "secantus", "process": "secantus"})
    snapshot["connections"]["available"] = None
    for key in ("wiredtiger_cache", "query_executor"):
        del snapshot[key]
    snapshot["unavailable"] = {
        "connections": "no connection limit",
        "wiredtiger_cache": "no wiredTiger.cache section",
        "wiredtiger_evictions": "no wiredTiger.cache section",
        "scan_ratio": "no metrics.queryExecutor",
        "unused_indexes": "the server does not track index use",
    }
    report = check_mongodb(snapshot)
    assert report.checks_run == ["long_operations", "replica_members", "replica_lag"]
    assert set(report.skipped) == {"connections", "wiredtiger_cache", "wiredtiger_evictions", "scan_ratio",
                                   "unused_indexes"}  # fmt: skip
    assert report.metrics["server"] == "secantus" and report.metrics["connections_current"] == 120
    assert report.metrics["connections_used_pct"] is None and report.metrics["wiredtiger_cache_fill_pct"] is None
    assert report.metrics["query_per_second"] == 10.0
