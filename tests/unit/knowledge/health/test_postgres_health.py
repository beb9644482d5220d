"""PostgreSQL health rules (HLT001-HLT020) on hand-built snapshots: each fires with exact evidence and stays
quiet on the healthy snapshot; check_postgres reports skipped checks, metrics and the order of findings."""

from __future__ import annotations

import copy
import json
from collections.abc import Awaitable, Callable
from types import SimpleNamespace
from typing import Any, cast

import asyncpg
import pytest

from dbspecialist.adapters.health_postgres import postgres_health_snapshot
from dbspecialist.adapters.postgres import PostgresAdapter
from dbspecialist.knowledge.findings import Finding, Severity
from dbspecialist.knowledge.health.postgres import RULE_CHECKS, RULES, PgThresholds, check_postgres
from dbspecialist.knowledge.health.postgres_sessions import _chains
from tests.unit.knowledge.health.documented import assert_documented_health_rules

GIB = 1024**3
DAY = 86_400.0


def healthy() -> dict[str, Any]:
    """A snapshot shaped like adapters/health_postgres.py's, with nothing to report."""
    return {
        "engine": "postgresql",
        "server_version": "15.4",
        "server_version_num": 150004,
        "database": "app",
        "now": "2025-01-31T00:00:00+00:00",
        "server_started": "2025-01-01T00:00:00+00:00",
        "uptime_seconds": 30 * DAY,
        "in_recovery": False,
        "sees_all_sessions": True,
        "settings": {
            "autovacuum": "on",
            "autovacuum_analyze_scale_factor": "0.1",
            "autovacuum_analyze_threshold": "50",
            "autovacuum_freeze_max_age": "200000000",
            "autovacuum_multixact_freeze_max_age": "400000000",
            "autovacuum_vacuum_scale_factor": "0.2",
            "autovacuum_vacuum_threshold": "50",
            "block_size": "8192",
            "checkpoint_timeout": "300",
            "idle_in_transaction_session_timeout": "0",
            "log_lock_waits": "off",
            "max_connections": "100",
            "max_slot_wal_keep_size": "-1",
            "max_wal_size": "1024",
            "shared_buffers": "16384",
            "superuser_reserved_connections": "3",
            "track_counts": "on",
            "work_mem": "4096",
        },
        "unavailable": {},
        "stats": {
            "database_stats": {
                "datname": "app",
                "deadlocks": 0,
                "temp_bytes": 0,
                "temp_files": 0,
                "stats_reset": "2025-01-21T00:00:00+00:00",
                "stats_age_seconds": 10 * DAY,
            },
            "io": {"heap_blks_hit": 995_000, "heap_blks_read": 5_000, "idx_blks_hit": 999_000, "idx_blks_read": 1_000},
            "databases": [{"datname": "app", "xid_age": 1_000_000, "mxid_age": 10}],
        },
        "activity": {"client_backends": 10, "by_state": {"idle": 8, "active": 1}, "sessions": []},
        "replication": {"standbys": [], "slots": [], "replay_delay_seconds": None},
        "tables": {"total": 1, "rows": [], "oldest_xid": [{"schema": "public", "name": "orders", "xid_age": 900_000}]},
        "indexes": {"invalid": None, "unused": None, "duplicates": None},
        "sequences": {"rows": None},
        "bloat": {"tables": None, "indexes": None},
        "checkpoints": {
            "source": "pg_stat_bgwriter",
            "timed": 100,
            "requested": 2,
            "stats_reset": "2025-01-01T00:00:00+00:00",
            "stats_age_seconds": 30 * DAY,
        },
        "round_trips": 30,
    }


def session(pid: int, **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "pid": pid,
        "usename": "app",
        "application_name": "web",
        "client_addr": "10.0.0.5/32",
        "datname": "app",
        "backend_type": "client backend",
        "state": "active",
        "wait_event_type": None,
        "wait_event": None,
        "blocked_by": [],
        "xact_seconds": 1.0,
        "query_seconds": 1.0,
        "state_seconds": 1.0,
        "lock_wait_seconds": None,
        "xmin_age": 3,
        "query": f"SELECT {pid}",
    }
    return {**base, **fields}


def run(snapshot: dict[str, Any], thresholds: PgThresholds | None = None) -> list[Finding]:
    return check_postgres(snapshot, thresholds=thresholds).findings


def only(snapshot: dict[str, Any], rule_id: str) -> list[Finding]:
    return [f for f in run(snapshot) if f.rule_id == rule_id]


def test_healthy_snapshot_has_no_findings_and_runs_every_check() -> None:
    report = check_postgres(healthy())
    assert report.findings == []
    assert report.checks_run == list(RULE_CHECKS.values())
    assert report.skipped == {}
    assert report.stats_since == "2025-01-21T00:00:00+00:00"
    assert report.counts == {"critical": 0, "high": 0, "medium": 0, "low": 0, "info": 0}


def test_metrics_are_numbers_even_when_healthy() -> None:
    metrics = check_postgres(healthy()).metrics
    assert metrics["cache_hit_ratio_tables_pct"] == 99.5
    assert metrics["cache_hit_ratio_indexes_pct"] == 99.9
    assert metrics["connections_used"] == 10
    assert metrics["connections_available"] == 97
    assert metrics["connections_used_pct"] == 10.31
    assert metrics["max_xid_age"] == 1_000_000
    assert metrics["max_xid_age_pct"] == 0.05
    assert metrics["checkpoints_requested_pct"] == 1.96
    assert metrics["stats_since_source"] == "pg_stat_database.stats_reset"
    assert metrics["role"] == "primary"
    assert metrics["standbys"] == 0


def test_rules_are_health_rules_with_documented_checks() -> None:
    assert_documented_health_rules(RULES, RULE_CHECKS, "postgresql", [f"HLT{n:03d}" for n in range(1, 21)])


# -- HLT001 cache hit ratio ---------------------------------------------------------------------------------


def test_cache_hit_ratio_below_99_for_tables() -> None:
    snap = healthy()
    snap["stats"]["io"].update(heap_blks_hit=950_000, heap_blks_read=50_000)
    [f] = only(snap, "HLT001")
    assert f.subject == "app tables" and f.severity == Severity.MEDIUM
    assert f.evidence == {
        "measured": "counter",
        "since": "2025-01-21T00:00:00+00:00",
        "scope": "tables",
        "hit_ratio_pct": 95.0,
        "blocks_hit": 950_000,
        "blocks_read": 50_000,
        "shared_buffers_8kb_pages": 16384,
        "threshold_pct": 99.0,
    }
    assert "tune_config" in f.help


def test_cache_hit_ratio_below_90_is_high_and_too_few_blocks_is_quiet() -> None:
    snap = healthy()
    snap["stats"]["io"].update(idx_blks_hit=80_000, idx_blks_read=20_000)
    [f] = only(snap, "HLT001")
    assert f.subject == "app indexes" and f.severity == Severity.HIGH and f.evidence["hit_ratio_pct"] == 80.0
    snap["stats"]["io"].update(idx_blks_hit=800, idx_blks_read=200)  # 1,000 blocks: too little traffic
    assert only(snap, "HLT001") == []


# -- HLT002 connections -------------------------------------------------------------------------------------


def test_connections_near_limit_counts_reserved_slots() -> None:
    snap = healthy()
    snap["activity"].update(client_backends=80, by_state={"idle": 60, "active": 20})
    [f] = only(snap, "HLT002")
    assert f.severity == Severity.MEDIUM
    assert f.evidence["available_connections"] == 97
    assert f.evidence["used_pct"] == 82.47
    assert f.evidence["threshold_pct"] == 80.0 and f.evidence["measured"] == "sample"
    assert f.fix is not None and "idle_session_timeout" in f.fix.statements[0]  # most of them idle, 14+


def test_connections_at_95_pct_is_high_and_reserved_connections_count_on_16() -> None:
    snap = healthy()
    snap["settings"]["reserved_connections"] = "7"
    snap["activity"].update(client_backends=87, by_state={"active": 87})
    [f] = only(snap, "HLT002")
    assert f.evidence["available_connections"] == 90 and f.evidence["used_pct"] == 96.67
    assert f.severity == Severity.HIGH and f.fix is None  # few idle sessions: no timeout advice
    snap["activity"]["client_backends"] = 71  # 78.9 %
    assert only(snap, "HLT002") == []


def test_connections_of_a_role_without_pg_read_all_stats_come_from_pg_stat_database() -> None:
    snap = healthy()
    snap["sees_all_sessions"] = False
    snap["activity"].update(client_backends=2, backends_all_databases=90, by_state={"active": 1, "unknown": 88})
    [f] = only(snap, "HLT002")
    assert f.evidence["connections_used"] == 90 and f.evidence["counted_from"] == "pg_stat_database.numbackends"
    snap["sees_all_sessions"] = True  # a role that sees everything trusts pg_stat_activity's count
    assert only(snap, "HLT002") == []


# -- HLT003 / HLT004 long statements and transactions --------------------------------------------------------


def test_long_running_query() -> None:
    snap = healthy()
    snap["activity"]["sessions"] = [
        session(101, query_seconds=400.0, xact_seconds=400.0, query="SELECT * FROM big"),
        session(102, query_seconds=299.0, xact_seconds=299.0),
        session(103, query_seconds=4_000.0, xact_seconds=4_000.0, backend_type="autovacuum worker"),
    ]
    [f] = only(snap, "HLT003")
    assert f.subject == "pid 101" and f.severity == Severity.MEDIUM
    assert f.evidence["query_seconds"] == 400.0 and f.evidence["query"] == "SELECT * FROM big"
    assert f.evidence["threshold_seconds"] == 300.0
    assert f.fix is not None and f.fix.safety == "display-only"
    assert f.fix.statements == ["SELECT pg_cancel_backend(101);", "SELECT pg_terminate_backend(101);"]
    snap["activity"]["sessions"][0]["query_seconds"] = 3_600.0
    assert only(snap, "HLT003")[0].severity == Severity.HIGH


def test_long_transaction_with_short_statements() -> None:
    snap = healthy()
    snap["activity"]["sessions"] = [
        session(201, xact_seconds=900.0, query_seconds=2.0, xmin_age=5000),
        session(202, xact_seconds=900.0, query_seconds=900.0),  # HLT003's
        session(203, xact_seconds=900.0, query_seconds=2.0, state="idle in transaction"),  # HLT005's
    ]
    [f] = only(snap, "HLT004")
    assert f.subject == "pid 201" and f.severity == Severity.MEDIUM
    assert f.evidence["xact_seconds"] == 900.0 and f.evidence["xmin_age"] == 5000
    assert [x.subject for x in only(snap, "HLT003")] == ["pid 202"]


# -- HLT005 idle in transaction -----------------------------------------------------------------------------


def test_idle_in_transaction_names_the_oldest_and_suggests_the_timeout() -> None:
    snap = healthy()
    snap["activity"]["by_state"] = {"idle": 5, "idle in transaction": 3}
    snap["activity"]["sessions"] = [
        session(301, state="idle in transaction", state_seconds=45.0, xact_seconds=50.0, query="UPDATE a SET x = 1"),
        session(302, state="idle in transaction (aborted)", state_seconds=120.0, xact_seconds=130.0),
        session(303, state="idle in transaction", state_seconds=10.0),  # under 30 s
    ]
    [f] = only(snap, "HLT005")
    assert f.severity == Severity.MEDIUM
    assert f.evidence["sessions"] == 2 and f.evidence["pids"] == "301,302"
    assert f.evidence["oldest_pid"] == 302 and f.evidence["oldest_idle_seconds"] == 120.0
    assert f.evidence["idle_in_transaction_session_timeout_ms"] == 0
    assert f.evidence["idle_in_transaction_total"] == 3
    assert f.fix is not None and f.fix.statements[0] == (
        "ALTER SYSTEM SET idle_in_transaction_session_timeout = '5min';"
    )
    assert "pg_terminate_backend(302)" in (f.fix.note or "")


def test_idle_in_transaction_with_timeout_set_gives_terminate_and_high_after_10_minutes() -> None:
    snap = healthy()
    snap["settings"]["idle_in_transaction_session_timeout"] = "3600000"
    snap["activity"]["sessions"] = [session(311, state="idle in transaction", state_seconds=700.0)]
    [f] = only(snap, "HLT005")
    assert f.severity == Severity.HIGH
    assert f.fix is not None and f.fix.statements == ["SELECT pg_terminate_backend(311);"]
    snap["activity"]["sessions"][0]["state"] = "idle"
    assert only(snap, "HLT005") == []


# -- HLT006 blocking lock chains ----------------------------------------------------------------------------


def lock_chain() -> dict[str, Any]:
    """401 (idle in transaction) blocks 402 (ALTER TABLE), which blocks 403 and 404; 405 waits on 404 too."""
    snap = healthy()
    snap["activity"]["sessions"] = [
        session(401, state="idle in transaction", xact_seconds=100.0, state_seconds=99.0, query="UPDATE t SET v = 1"),
        session(402, wait_event_type="Lock", blocked_by=[401], lock_wait_seconds=20.0, query="ALTER TABLE t ADD c int"),
        session(403, wait_event_type="Lock", blocked_by=[402], lock_wait_seconds=15.0, query="SELECT * FROM t"),
        session(404, wait_event_type="Lock", blocked_by=[402], lock_wait_seconds=12.0),
        session(405, wait_event_type="Lock", blocked_by=[404, 402], lock_wait_seconds=3.0),
    ]
    return snap


def test_chains_give_depth_per_blocked_pid() -> None:
    sessions = lock_chain()["activity"]["sessions"]
    assert _chains(sessions) == [(401, {402: 1, 403: 2, 404: 2, 405: 3})]


def test_chains_ignore_a_deadlock_cycle_the_detector_has_not_broken_yet() -> None:
    sessions = [session(1, blocked_by=[2]), session(2, blocked_by=[1]), session(3, blocked_by=[1])]
    assert _chains(sessions) == []


def test_blocking_lock_chain_reports_root_depth_and_longest_wait() -> None:
    [f] = only(lock_chain(), "HLT006")
    assert f.subject == "pid 401" and f.severity == Severity.MEDIUM
    ev = f.evidence
    assert ev["blocker_pid"] == 401 and ev["blocker_user"] == "app" and ev["blocker_application"] == "web"
    assert ev["blocker_state"] == "idle in transaction"
    assert ev["blocker_query"] == "UPDATE t SET v = 1"
    assert ev["blocked_sessions"] == 4 and ev["blocked_pids"] == "402,403,404,405"
    assert ev["directly_blocked_pids"] == "402" and ev["chain_depth"] == 3
    assert ev["longest_wait_seconds"] == 20.0 and ev["longest_waiting_pid"] == 402
    assert ev["longest_waiting_query"] == "ALTER TABLE t ADD c int"
    assert ev["wait_source"] == "pg_locks.waitstart" and ev["threshold_seconds"] == 5.0
    # idle in transaction: cancelling has nothing to stop, only terminating releases the locks
    assert f.fix is not None and f.fix.statements == ["SELECT pg_terminate_backend(401);"]
    assert f.fix.safety == "display-only"
    assert "plan_migration" in f.help


def test_blocking_lock_chain_short_waits_are_quiet_and_long_ones_high() -> None:
    snap = lock_chain()
    for s in snap["activity"]["sessions"][1:]:
        s["lock_wait_seconds"] = 2.0
    assert only(snap, "HLT006") == []
    snap["activity"]["sessions"][2]["lock_wait_seconds"] = 61.0
    [f] = only(snap, "HLT006")
    assert f.severity == Severity.HIGH and f.evidence["longest_waiting_pid"] == 403


def test_blocking_lock_chain_before_14_uses_the_statement_age() -> None:
    snap = lock_chain()
    snap["activity"]["sessions"][0]["state"] = "active"
    for s in snap["activity"]["sessions"]:
        s["lock_wait_seconds"] = None
    snap["activity"]["sessions"][3]["query_seconds"] = 30.0
    [f] = only(snap, "HLT006")
    assert f.evidence["wait_source"] == "query_start" and f.evidence["longest_waiting_pid"] == 404
    assert f.fix is not None and f.fix.statements == [
        "SELECT pg_cancel_backend(401);",
        "SELECT pg_terminate_backend(401);",
    ]


# -- HLT007 deadlocks ---------------------------------------------------------------------------------------


def test_deadlocks_counter_per_day() -> None:
    snap = healthy()
    snap["stats"]["database_stats"]["deadlocks"] = 5
    [f] = only(snap, "HLT007")
    assert f.severity == Severity.LOW
    assert f.evidence["measured"] == "counter" and f.evidence["deadlocks"] == 5
    assert f.evidence["per_day"] == 0.5 and f.evidence["window_days"] == 10.0
    assert f.fix is not None and f.fix.statements[0] == "ALTER SYSTEM SET log_lock_waits = on;"
    snap["stats"]["database_stats"]["deadlocks"] = 100
    assert only(snap, "HLT007")[0].severity == Severity.MEDIUM


def test_deadlocks_without_reset_use_the_uptime() -> None:
    snap = healthy()
    snap["stats"]["database_stats"].update(deadlocks=3, stats_reset=None, stats_age_seconds=None)
    snap["settings"]["log_lock_waits"] = "on"
    [f] = only(snap, "HLT007")
    assert f.evidence["since"] == "2025-01-01T00:00:00+00:00" and f.evidence["window_days"] == 30.0
    assert f.fix is None
    assert str(check_postgres(snap).metrics["stats_since_source"]).startswith("server start")


# -- HLT008 / HLT009 replication ----------------------------------------------------------------------------


def test_replication_lag_by_time_and_bytes() -> None:
    snap = healthy()
    snap["replication"]["standbys"] = [
        {"application_name": "replica1", "client_addr": "10.0.0.9", "state": "streaming", "sync_state": "async",
         "write_lag_seconds": 90.0, "flush_lag_seconds": 91.0, "replay_lag_seconds": 120.0,
         "replay_bytes_behind": 5_000_000},
        {"application_name": "replica2", "state": "streaming", "replay_lag_seconds": None,
         "replay_bytes_behind": 2 * GIB},
        {"application_name": "replica3", "state": "streaming", "replay_lag_seconds": 0.5, "replay_bytes_behind": 10},
    ]  # fmt: skip
    found = only(snap, "HLT008")
    assert [f.subject for f in found] == ["standby replica1", "standby replica2"]
    assert found[0].evidence["replay_lag_seconds"] == 120.0 and found[0].evidence["replay_bytes_behind"] == 5_000_000
    assert found[1].evidence["replay_bytes_behind"] == 2 * GIB and found[1].severity == Severity.MEDIUM
    snap["replication"]["standbys"][0]["replay_lag_seconds"] = 400.0
    assert only(snap, "HLT008")[0].severity == Severity.HIGH
    assert check_postgres(snap).metrics["max_replay_lag_seconds"] == 400.0


def test_inactive_replication_slot() -> None:
    snap = healthy()
    snap["replication"]["slots"] = [
        {"slot_name": "old_cdc", "slot_type": "logical", "database": "app", "active": False,
         "wal_status": "extended", "retained_bytes": 12 * GIB},
        {"slot_name": "gone", "slot_type": "physical", "database": None, "active": False,
         "wal_status": "reserved", "retained_bytes": 1000},
        {"slot_name": "live", "slot_type": "physical", "active": True, "retained_bytes": 50 * GIB},
    ]  # fmt: skip
    found = {f.subject: f for f in only(snap, "HLT009")}
    assert set(found) == {"slot old_cdc", "slot gone"}
    assert found["slot old_cdc"].severity == Severity.HIGH
    assert found["slot old_cdc"].evidence["retained_bytes"] == 12 * GIB
    assert found["slot gone"].severity == Severity.MEDIUM
    fix = found["slot gone"].fix
    assert fix is not None and fix.statements == ["SELECT pg_drop_replication_slot('gone');"]
    assert fix.safety == "display-only"


# -- HLT010 / HLT011 vacuum and analyze ----------------------------------------------------------------------


def table_row(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "schema": "public",
        "name": "events",
        "n_live_tup": 100_000,
        "n_dead_tup": 0,
        "n_mod_since_analyze": 0,
        "reltuples": 100_000.0,
        "relpages": 1_000,
        "reloptions": [],
        "vacuum_age_seconds": 3_600.0,
        "analyze_age_seconds": 3_600.0,
        "autovacuum_count": 4,
        "autoanalyze_count": 4,
    }
    return {**base, **fields}


def test_vacuum_overdue_uses_the_autovacuum_formula() -> None:
    snap = healthy()
    # threshold = 50 + 0.2 * 100,000 = 20,050
    snap["tables"]["rows"] = [table_row(n_dead_tup=20_051), table_row(name="quiet", n_dead_tup=20_050)]
    [f] = only(snap, "HLT010")
    assert f.subject == "events" and f.table == "events" and f.severity == Severity.MEDIUM
    assert f.evidence["vacuum_threshold"] == 20_050.0 and f.evidence["dead_ratio_pct"] == 20.05
    assert f.evidence["autovacuum_table"] is True and f.evidence["autovacuum_server"] is True
    assert "autovacuum has not caught up" in f.title
    assert f.fix is not None and f.fix.statements == ["VACUUM (ANALYZE, VERBOSE) events;"]


def test_vacuum_overdue_with_autovacuum_disabled_on_the_table_and_per_table_settings() -> None:
    snap = healthy()
    options = ["autovacuum_enabled=false", "autovacuum_vacuum_scale_factor=0.01", "autovacuum_vacuum_threshold=100"]
    snap["tables"]["rows"] = [table_row(schema="app", n_dead_tup=60_000, reloptions=options)]
    [f] = only(snap, "HLT010")
    assert f.subject == "app.events" and f.severity == Severity.HIGH  # 60 % of live
    assert f.evidence["vacuum_threshold"] == 1_100.0
    assert f.evidence["autovacuum_vacuum_scale_factor"] == 0.01 and f.evidence["autovacuum_table"] is False
    assert "disabled on this table" in f.title
    assert f.fix is not None and f.fix.statements == [
        "VACUUM (ANALYZE, VERBOSE) app.events;",
        "ALTER TABLE app.events RESET (autovacuum_enabled);",
    ]


def test_vacuum_overdue_ignores_small_tables_and_reports_server_autovacuum_off() -> None:
    snap = healthy()
    snap["tables"]["rows"] = [table_row(n_live_tup=10, reltuples=-1.0, n_dead_tup=900)]
    assert only(snap, "HLT010") == []  # over 50 + 0, but below the 1,000 floor
    snap["settings"]["autovacuum"] = "off"
    snap["tables"]["rows"][0]["n_dead_tup"] = 1_500
    [f] = only(snap, "HLT010")
    assert f.evidence["vacuum_threshold"] == 50.0 and "off for the server" in f.title
    assert f.fix is not None and "ALTER SYSTEM SET autovacuum = on;" in f.fix.statements


def test_analyze_overdue() -> None:
    snap = healthy()
    # threshold = 50 + 0.1 * 100,000 = 10,050
    snap["tables"]["rows"] = [
        table_row(n_mod_since_analyze=10_051),
        table_row(name="fresh", n_mod_since_analyze=10_050),
        table_row(name="never", reltuples=-1.0, n_mod_since_analyze=5_000, analyze_age_seconds=None),
    ]
    found = {f.subject: f for f in only(snap, "HLT011")}
    assert set(found) == {"events", "never"}
    assert found["events"].severity == Severity.LOW and found["events"].evidence["analyze_threshold"] == 10_050.0
    assert found["never"].severity == Severity.MEDIUM and "never analyzed" in found["never"].title
    assert found["never"].fix is not None and found["never"].fix.statements == ["ANALYZE never;"]


# -- HLT012 / HLT013 bloat ----------------------------------------------------------------------------------


def test_table_bloat_estimate() -> None:
    snap = healthy()
    snap["bloat"]["tables"] = [
        {"schema": "public", "name": "orders", "relpages": 20_000, "expected_pages": 8_000, "block_size": 8192},
        {"schema": "public", "name": "small", "relpages": 1_000, "expected_pages": 100, "block_size": 8192},
        {"schema": "public", "name": "tight", "relpages": 20_000, "expected_pages": 15_000, "block_size": 8192},
    ]
    [f] = only(snap, "HLT012")
    assert f.subject == "orders" and f.evidence["measured"] == "estimate"
    assert f.evidence["wasted_bytes"] == 12_000 * 8192 and f.evidence["wasted_pct"] == 60.0
    assert f.evidence["size_bytes"] == 20_000 * 8192
    assert f.fix is not None and f.fix.safety == "display-only"
    assert f.fix.statements == ["VACUUM (FULL, ANALYZE, VERBOSE) orders;"]
    assert "pgstattuple('orders')" in f.help and "plan_migration" in f.help


def test_index_bloat_estimate() -> None:
    snap = healthy()
    snap["bloat"]["indexes"] = [
        {"schema": "public", "name": "orders_created_idx", "table": "orders", "relpages": 30_000,
         "expected_pages": 10_000, "block_size": 8192},
        {"schema": "public", "name": "ok_idx", "table": "orders", "relpages": 30_000, "expected_pages": 20_000,
         "block_size": 8192},
    ]  # fmt: skip
    [f] = only(snap, "HLT013")
    assert f.subject == "orders_created_idx" and f.table == "orders" and f.evidence["wasted_pct"] == 66.67
    assert f.fix is not None and f.fix.statements == ["REINDEX INDEX CONCURRENTLY orders_created_idx;"]


# -- HLT014 wraparound --------------------------------------------------------------------------------------


def test_wraparound_levels() -> None:
    snap = healthy()
    snap["stats"]["databases"] = [
        {"datname": "app", "xid_age": 1_200_000_000, "mxid_age": 0},  # 55.88 % → high
        {"datname": "other", "xid_age": 1_700_000_000, "mxid_age": 0},  # 79.16 % → critical
        {"datname": "late", "xid_age": 250_000_000, "mxid_age": 450_000_000},  # past both freeze_max_age → low
        {"datname": "fine", "xid_age": 150_000_000, "mxid_age": 0},
    ]
    found = {(f.subject, f.evidence["kind"]): f for f in only(snap, "HLT014")}
    assert set(found) == {("app", "xid"), ("other", "xid"), ("late", "xid"), ("late", "multixact")}
    app = found[("app", "xid")]
    assert app.severity == Severity.HIGH and app.evidence["pct_of_wraparound"] == 55.88
    assert app.evidence["oldest_table"] == "orders"
    assert app.fix is not None and app.fix.statements == ["VACUUM (FREEZE, VERBOSE) orders;"]
    assert found[("other", "xid")].severity == Severity.CRITICAL
    assert found[("other", "xid")].fix.statements == ["-- connected to other:", "VACUUM (FREEZE, VERBOSE);"]  # type: ignore[union-attr]
    assert found[("late", "multixact")].severity == Severity.LOW
    assert found[("late", "multixact")].evidence["autovacuum_multixact_freeze_max_age"] == 400_000_000


# -- HLT015 sequences ---------------------------------------------------------------------------------------


def seq(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "schema": "public",
        "name": "orders_id_seq",
        "data_type": "bigint",
        "last_value": 1,
        "min_value": 1,
        "max_value": 2**63 - 1,
        "increment_by": 1,
        "cycle": False,
        "column_type": "bigint",
        "owned_by": "public.orders.id",
    }
    return {**base, **fields}


def test_sequence_limited_by_its_smallint_type() -> None:
    snap = healthy()
    snap["sequences"]["rows"] = [seq(name="tiny", data_type="smallint", last_value=32_000, max_value=32_767,
                                     column_type=None, owned_by=None)]  # fmt: skip
    [f] = only(snap, "HLT015")
    assert f.subject == "tiny" and f.severity == Severity.CRITICAL
    assert f.evidence["used_pct"] == 97.66 and f.evidence["limit"] == 32_767
    assert f.evidence["limit_source"] == "sequence max_value" and f.evidence["remaining"] == 767
    # No column owns it, so the columns it feeds are unknown: the fix needs checking before it is applied.
    assert f.fix is not None and f.fix.statements == ["ALTER SEQUENCE tiny AS bigint;"] and f.fix.safety == "unsafe"


def test_sequence_limited_by_its_integer_column() -> None:
    snap = healthy()
    snap["sequences"]["rows"] = [
        seq(last_value=1_700_000_000, column_type="integer"),  # 79.16 % of the int column
        seq(name="fine_seq", last_value=1_000_000, column_type="integer", owned_by="public.fine.id"),
    ]
    [f] = only(snap, "HLT015")
    assert f.severity == Severity.HIGH and f.table == "orders"
    assert f.evidence["limit"] == 2**31 - 1 and f.evidence["limit_source"] == "column type integer"
    assert f.fix is not None and f.fix.statements[0] == "ALTER TABLE orders ALTER COLUMN id TYPE bigint;"
    assert f.fix.safety == "display-only" and "plan_migration" in (f.fix.note or "")


def test_serial_integer_column_is_widened_with_its_sequence() -> None:
    # QA2 #1: an integer sequence on an integer (serial) column; ALTER SEQUENCE alone moves the outage to the
    # INSERT ("integer out of range"), so the column is widened first, then the sequence.
    snap = healthy()
    snap["sequences"]["rows"] = [
        seq(name="seqtab_id_seq", data_type="integer", last_value=2_100_000_001, max_value=2**31 - 1,
            column_type="integer", owned_by="shop.seqtab.id", identity=False),
    ]  # fmt: skip
    [f] = only(snap, "HLT015")
    assert f.evidence["limit_source"] == "sequence max_value" and f.evidence["identity"] is False
    assert f.fix is not None and f.fix.safety == "display-only"
    assert f.fix.statements == [
        "ALTER TABLE shop.seqtab ALTER COLUMN id TYPE bigint;",
        "ALTER SEQUENCE seqtab_id_seq AS bigint;",
    ]
    assert "plan_migration" in (f.fix.note or "") and "integer out of range" in (f.fix.note or "")


def test_identity_integer_column_is_widened_and_its_sequence_follows() -> None:
    # On an identity column ALTER COLUMN TYPE bigint changes the sequence's type too (checked on PostgreSQL 15).
    snap = healthy()
    snap["sequences"]["rows"] = [
        seq(name="idtab_id_seq", data_type="integer", last_value=1_900_000_000, max_value=2**31 - 1,
            column_type="integer", owned_by="shop.idtab.id", identity=True),
    ]  # fmt: skip
    [f] = only(snap, "HLT015")
    assert f.fix is not None and f.fix.safety == "display-only"
    assert f.fix.statements == ["ALTER TABLE shop.idtab ALTER COLUMN id TYPE bigint;"]


def test_integer_sequence_on_a_bigint_column_only_needs_the_sequence() -> None:
    snap = healthy()
    snap["sequences"]["rows"] = [seq(data_type="integer", last_value=2_000_000_000, max_value=2**31 - 1)]
    [f] = only(snap, "HLT015")
    assert f.fix is not None and f.fix.safety == "safe"
    assert f.fix.statements == ["ALTER SEQUENCE orders_id_seq AS bigint;"]


def test_descending_sequence_uses_min_value() -> None:
    snap = healthy()
    snap["sequences"]["rows"] = [seq(name="down", data_type="integer", increment_by=-1, last_value=-2_000_000_000,
                                     min_value=-(2**31), max_value=-1, column_type="integer")]  # fmt: skip
    [f] = only(snap, "HLT015")
    assert f.evidence["limit"] == -(2**31) and f.evidence["used_pct"] == 93.13


# -- HLT016 - HLT018 indexes --------------------------------------------------------------------------------


def test_invalid_index_is_rebuilt_concurrently() -> None:
    snap = healthy()
    snap["indexes"]["invalid"] = [
        {"oid": 1, "schema": "public", "table": "users", "name": "users_email_key", "size_bytes": 8192,
         "is_unique": True, "columns": ["email"], "constraint_name": None, "in_progress": False,
         "definition": "CREATE UNIQUE INDEX users_email_key ON public.users USING btree (email)"},
        {"oid": 2, "schema": "public", "table": "users", "name": "building_now", "size_bytes": 0,
         "is_unique": False, "columns": ["name"], "in_progress": True, "definition": None},
    ]  # fmt: skip
    [f] = only(snap, "HLT016")
    assert f.subject == "users_email_key" and f.evidence["is_unique"] is True and f.evidence["columns"] == "email"
    assert f.fix is not None and f.fix.statements == [
        "DROP INDEX CONCURRENTLY users_email_key;",
        "CREATE UNIQUE INDEX CONCURRENTLY users_email_key ON public.users USING btree (email);",
    ]
    assert "duplicate" in f.help


def test_unused_index_is_info_while_the_statistics_are_young() -> None:
    snap = healthy()
    snap["indexes"]["unused"] = [
        {"oid": 3, "schema": "public", "table": "orders", "name": "orders_note_idx", "size_bytes": 40 * 1024**2,
         "columns": ["note"], "partial": False, "idx_scan": 0,
         "definition": "CREATE INDEX orders_note_idx ON public.orders USING btree (note)"},
    ]  # fmt: skip
    [f] = only(snap, "HLT017")
    assert f.severity == Severity.LOW and f.evidence["stats_days"] == 10.0 and f.evidence["idx_scan"] == 0
    assert f.evidence["measured"] == "counter" and f.evidence["size_bytes"] == 40 * 1024**2
    assert f.fix is not None and f.fix.statements == ["DROP INDEX CONCURRENTLY orders_note_idx;"]
    assert f.fix.note == "To re-create it: CREATE INDEX orders_note_idx ON public.orders USING btree (note);"
    snap["stats"]["database_stats"]["stats_age_seconds"] = 2 * DAY
    assert only(snap, "HLT017")[0].severity == Severity.INFO


def test_duplicate_index_keeps_the_constraint() -> None:
    snap = healthy()
    snap["indexes"]["duplicates"] = [
        [
            {"oid": 5, "schema": "public", "table": "users", "name": "a_users_email", "size_bytes": 16384,
             "columns": ["email"], "is_unique": False, "is_primary": False, "constraint_type": None,
             "constraint_name": None},
            {"oid": 6, "schema": "public", "table": "users", "name": "users_email_key", "size_bytes": 16384,
             "columns": ["email"], "is_unique": True, "is_primary": False, "constraint_type": "u",
             "constraint_name": "users_email_key"},
        ]
    ]  # fmt: skip
    [f] = only(snap, "HLT018")
    assert f.subject == "a_users_email" and f.evidence["duplicate_of"] == "users_email_key"
    assert f.fix is not None and f.fix.statements == ["DROP INDEX CONCURRENTLY a_users_email;"]
    assert f.fix.safety == "safe"


def test_duplicate_constraints_are_dropped_as_constraints() -> None:
    snap = healthy()
    member = {"schema": "public", "table": "t", "size_bytes": 8192, "columns": ["id"], "is_unique": True}
    snap["indexes"]["duplicates"] = [
        [
            {**member, "name": "t_pkey", "is_primary": True, "constraint_type": "p", "constraint_name": "t_pkey"},
            {**member, "name": "t_id_key", "is_primary": False, "constraint_type": "u", "constraint_name": "t_id_key"},
        ]
    ]
    [f] = only(snap, "HLT018")
    assert f.subject == "t_id_key" and f.evidence["duplicate_of"] == "t_pkey"
    assert f.fix is not None and f.fix.statements == ["ALTER TABLE t DROP CONSTRAINT t_id_key;"]
    assert f.fix.safety == "display-only"


# -- HLT019 temp files, HLT020 checkpoints ------------------------------------------------------------------


def test_temp_file_volume_per_day() -> None:
    snap = healthy()
    snap["stats"]["database_stats"].update(temp_bytes=20 * GIB, temp_files=400)
    [f] = only(snap, "HLT019")
    assert f.severity == Severity.LOW and f.evidence["temp_bytes_per_day"] == 2 * GIB
    assert f.evidence["window_days"] == 10.0 and f.evidence["work_mem_kb"] == 4096
    snap["stats"]["database_stats"]["temp_bytes"] = 200 * GIB
    assert only(snap, "HLT019")[0].severity == Severity.MEDIUM
    snap["stats"]["database_stats"]["temp_bytes"] = 5 * GIB  # 0.5 GiB a day
    assert only(snap, "HLT019") == []


def test_requested_checkpoints() -> None:
    snap = healthy()
    snap["checkpoints"].update(timed=60, requested=40)
    [f] = only(snap, "HLT020")
    assert f.evidence["requested_pct"] == 40.0 and f.evidence["source"] == "pg_stat_bgwriter"
    assert f.evidence["since"] == "2025-01-01T00:00:00+00:00"
    assert f.fix is not None and f.fix.statements[0] == "ALTER SYSTEM SET max_wal_size = '2GB';"
    snap["checkpoints"].update(timed=3, requested=4)  # 7 checkpoints: too few to judge
    assert only(snap, "HLT020") == []


# -- check_postgres -----------------------------------------------------------------------------------------


def test_unavailable_sections_skip_their_checks() -> None:
    snap = healthy()
    snap["activity"] = None
    reason = "permission denied for view pg_stat_activity: grant the role pg_monitor"
    for name in ("connections", "long_running_queries", "long_transactions", "idle_in_transaction", "blocking_locks"):
        snap["unavailable"][name] = reason
    report = check_postgres(snap)
    assert report.skipped["blocking_locks"] == reason
    assert "connections" not in report.checks_run and "vacuum" in report.checks_run
    assert "connections_used" not in report.metrics


def test_track_counts_off_skips_counter_checks() -> None:
    snap = healthy()
    snap["settings"]["track_counts"] = "off"
    report = check_postgres(snap)
    assert set(report.skipped) == {"cache_hit_ratio", "deadlocks", "vacuum", "analyze", "unused_indexes", "temp_files"}
    assert "ALTER SYSTEM SET track_counts = on" in report.skipped["vacuum"]


def test_findings_are_sorted_by_severity_then_rule() -> None:
    snap = lock_chain()
    snap["sequences"]["rows"] = [seq(name="tiny", data_type="smallint", last_value=32_000, max_value=32_767)]
    snap["stats"]["database_stats"]["deadlocks"] = 1
    report = check_postgres(snap)
    assert [(f.severity.value, f.rule_id) for f in report.findings] == [
        ("critical", "HLT015"),
        ("medium", "HLT005"),
        ("medium", "HLT006"),
        ("low", "HLT007"),
    ]
    assert report.counts == {"critical": 1, "high": 0, "medium": 2, "low": 1, "info": 0}
    assert report.metrics["sessions_waiting_on_locks"] == 4


@pytest.mark.parametrize("rule_id", sorted(RULE_CHECKS))
def test_every_finding_says_how_it_was_measured(rule_id: str) -> None:
    """Every rule can fire on some snapshot here, and every finding carries `measured` first."""
    snaps = {
        "HLT001": lambda s: s["stats"]["io"].update(heap_blks_hit=1, heap_blks_read=20_000),
        "HLT002": lambda s: s["activity"].update(client_backends=97),
        "HLT003": lambda s: s["activity"].update(sessions=[session(1, query_seconds=999.0)]),
        "HLT004": lambda s: s["activity"].update(sessions=[session(1, xact_seconds=999.0)]),
        "HLT005": lambda s: s["activity"].update(sessions=[session(1, state="idle in transaction", state_seconds=99)]),
        "HLT006": lambda s: s.update(lock_chain()),
        "HLT007": lambda s: s["stats"]["database_stats"].update(deadlocks=1),
        "HLT008": lambda s: s["replication"].update(standbys=[{"application_name": "r", "replay_lag_seconds": 99}]),
        "HLT009": lambda s: s["replication"].update(slots=[{"slot_name": "s", "active": False}]),
        "HLT010": lambda s: s["tables"].update(rows=[table_row(n_dead_tup=50_000)]),
        "HLT011": lambda s: s["tables"].update(rows=[table_row(n_mod_since_analyze=50_000)]),
        "HLT012": lambda s: s["bloat"].update(
            tables=[{"name": "t", "relpages": 100_000, "expected_pages": 1, "block_size": 8192}]
        ),
        "HLT013": lambda s: s["bloat"].update(
            indexes=[{"name": "i", "relpages": 100_000, "expected_pages": 1, "block_size": 8192}]
        ),
        "HLT014": lambda s: s["stats"].update(databases=[{"datname": "app", "xid_age": 2_000_000_000}]),
        "HLT015": lambda s: s["sequences"].update(rows=[seq(last_value=2**63 - 2)]),
        "HLT016": lambda s: s["indexes"].update(invalid=[{"name": "i", "table": "t", "definition": None}]),
        "HLT017": lambda s: s["indexes"].update(unused=[{"name": "i", "table": "t"}]),
        "HLT018": lambda s: s["indexes"].update(
            duplicates=[[{"name": "a", "table": "t"}, {"name": "b", "table": "t"}]]
        ),
        "HLT019": lambda s: s["stats"]["database_stats"].update(temp_bytes=100 * GIB),
        "HLT020": lambda s: s["checkpoints"].update(requested=100),
    }
    snap = copy.deepcopy(healthy())
    snaps[rule_id](snap)
    found = only(snap, rule_id)
    assert found, rule_id
    for f in found:
        assert next(iter(f.evidence)) == "measured" and f.evidence["measured"] in ("counter", "sample", "estimate")
        assert f.help and f.rationale


# -- the snapshot's assembly (adapters/health_postgres.py) on a fake connection ------------------------------


class FakeConnection:
    """Answers every section with an empty JSON document; refuses the one whose SQL contains `refuse`."""

    def __init__(self, refuse: str) -> None:
        self.refuse = refuse
        self.executed: list[str] = []

    async def execute(self, sql: str) -> None:
        self.executed.append(sql)

    async def fetchval(self, sql: str, *args: Any) -> str:
        if "server_version_num" in sql:
            return json.dumps({"server_version_num": 150004, "database": "app", "sees_all_sessions": False})
        if self.refuse in sql:
            raise asyncpg.exceptions.InsufficientPrivilegeError(f"permission denied for view {self.refuse}")
        return json.dumps({"ok": True})


async def test_a_section_that_cannot_be_read_skips_only_its_checks() -> None:
    conn = FakeConnection("pg_stat_replication")

    async def read(fn: Callable[[Any], Awaitable[dict[str, Any]]]) -> dict[str, Any]:
        return await fn(conn)

    adapter = SimpleNamespace(config=SimpleNamespace(options=SimpleNamespace(statement_timeout_ms=15_000)), _read=read)
    snapshot = await postgres_health_snapshot(cast(PostgresAdapter, adapter))
    assert snapshot["replication"] is None and snapshot["tables"] == {"ok": True}
    reason = snapshot["unavailable"]["replication_lag"]
    assert reason.startswith("permission denied for view pg_stat_replication") and "pg_monitor" in reason
    assert set(snapshot["unavailable"]) == {"replication_lag", "replication_slots", "other_roles_sessions"}
    assert conn.executed[0] == "SET LOCAL lock_timeout = 2000"
    assert conn.executed.count("ROLLBACK TO SAVEPOINT dbspecialist_health") == 1
    assert snapshot["round_trips"] == 2 + 3 * 8
    report = check_postgres(snapshot)
    assert "replication_lag" in report.skipped and "replication_lag" not in report.checks_run
    assert "vacuum" in report.checks_run
