"""MySQL/MariaDB health rules (HLT050-HLT061) on hand-built snapshots: each fires with exact evidence and stays
quiet on the healthy snapshot; check_mysql reports skipped checks (slow log off, not a replica) and metrics."""

from __future__ import annotations

import copy
from typing import Any

from dbspecialist.adapters.health_mysql import lock_wait_sql, replica_status_sql, uses_performance_schema
from dbspecialist.knowledge.findings import Finding, Severity
from dbspecialist.knowledge.health.mysql import RULE_CHECKS, RULES, MySqlThresholds, check_mysql
from tests.unit.knowledge.health.documented import assert_documented_health_rules

MIB = 1024**2
SINCE = "2026-11-20T08:00:00Z"


def healthy() -> dict[str, Any]:
    """A snapshot shaped like adapters/health_mysql.py's (a MariaDB replica, up 10 hours), nothing to report."""
    return {
        "engine": "mysql",
        "flavor": "mariadb",
        "server_version": "10.11.6-MariaDB",
        "now": "2026-11-20T18:00:00Z",
        "server_started": SINCE,
        "uptime_seconds": 36_000,
        "round_trips": 6,
        "variables": {
            "max_connections": 151,
            "slow_query_log": "ON",
            "long_query_time": 1.0,
            "tmp_table_size": 16 * MIB,
            "max_heap_table_size": 32 * MIB,
            "innodb_buffer_pool_size": 128 * MIB,
            "innodb_lock_wait_timeout": 50,
            "innodb_file_per_table": "ON",
        },
        "status": {
            "Uptime": 36_000,
            "Questions": 1_000_000,
            "Connections": 20_000,
            "Threads_connected": 20,
            "Threads_running": 3,
            "Max_used_connections": 40,
            "Connection_errors_max_connections": 0,
            "Aborted_connects": 5,
            "Aborted_clients": 10,
            "Slow_queries": 5,
            "Created_tmp_tables": 10_000,
            "Created_tmp_disk_tables": 100,
            "Innodb_buffer_pool_read_requests": 10_000_000,
            "Innodb_buffer_pool_reads": 1_000,
            "Innodb_buffer_pool_pages_total": 8_192,
            "Innodb_buffer_pool_pages_free": 100,
            "Innodb_buffer_pool_pages_dirty": 50,
            "Innodb_buffer_pool_wait_free": 0,
            "Innodb_row_lock_waits": 20,
            "Innodb_row_lock_time": 400,
            "Innodb_row_lock_time_avg": 20,
            "Innodb_row_lock_time_max": 90,
            "Innodb_row_lock_current_waits": 0,
        },
        "lock_waits": [],
        "replica_sql": "SHOW REPLICA STATUS",
        "replicas": [
            {
                "Connection_name": "",
                "Source_Host": "db1",
                "Source_Port": 3306,
                "Replica_IO_Running": "Yes",
                "Replica_SQL_Running": "Yes",
                "Seconds_Behind_Source": 0,
                "Last_IO_Errno": 0,
                "Last_IO_Error": "",
                "Last_SQL_Errno": 0,
                "Last_SQL_Error": "",
                "Replica_SQL_Running_State": "Slave has read all relay log",
            }
        ],
        "tables": [
            {
                "schema": "shop",
                "table": "orders",
                "engine": "InnoDB",
                "rows": 1_000_000,
                "data_bytes": 2_000 * MIB,
                "index_bytes": 500 * MIB,
                "free_bytes": 7 * MIB,
            }
        ],
        "unavailable": {},
    }


def only(snapshot: dict[str, Any], rule_id: str, thresholds: MySqlThresholds | None = None) -> list[Finding]:
    return [f for f in check_mysql(snapshot, thresholds=thresholds).findings if f.rule_id == rule_id]


def with_status(**status: int) -> dict[str, Any]:
    snapshot = healthy()
    snapshot["status"].update(status)
    return snapshot


def test_healthy_server_has_no_findings_and_full_metrics() -> None:
    report = check_mysql(healthy())
    assert report.findings == [] and report.skipped == {}
    assert report.engine == "mysql" and report.server_version == "10.11.6-MariaDB" and report.stats_since == SINCE
    assert report.checks_run == list(RULE_CHECKS.values())
    assert report.metrics == {
        "flavor": "mariadb",
        "uptime_seconds": 36_000,
        "buffer_pool_hit_pct": 99.99,
        "buffer_pool_free_pct": 1.22,
        "buffer_pool_wait_free": 0,
        "threads_connected": 20,
        "max_connections": 151,
        "connections_used_pct": 13.25,
        "max_used_connections": 40,
        "threads_running": 2,
        "slow_query_log": "ON",
        "slow_queries": 5,
        "slow_queries_per_hour": 0.5,
        "aborted_connects": 5,
        "aborted_clients": 10,
        "tmp_disk_tables_pct": 1.0,
        "row_lock_waits": 20,
        "row_lock_time_avg_ms": 20,
        "current_lock_waits": 0,
        "replicas": 1,
        "max_seconds_behind_source": 0,
        "tables_with_free_space": 1,
    }


def test_rules_are_documented_mysql_health_rules() -> None:
    assert_documented_health_rules(RULES, RULE_CHECKS, "mysql", [f"HLT{n:03d}" for n in range(50, 62)])


def test_buffer_pool_hit_rate_counter_with_warm_up_nuance() -> None:
    snapshot = with_status(Innodb_buffer_pool_read_requests=1_000_000, Innodb_buffer_pool_reads=60_000)
    [finding] = only(snapshot, "HLT050")
    assert finding.severity is Severity.HIGH and finding.subject == "innodb_buffer_pool"
    assert finding.evidence == {
        "measured": "counter",
        "since": SINCE,
        "hit_rate_pct": 94.0,
        "read_requests": 1_000_000,
        "disk_reads": 60_000,
        "pages_free_pct": 1.22,
        "innodb_buffer_pool_size": 128 * MIB,
        "threshold_pct": 99.0,
    }
    snapshot["status"]["Innodb_buffer_pool_reads"] = 20_000  # 98 %: medium
    assert only(snapshot, "HLT050")[0].severity is Severity.MEDIUM
    snapshot["status"]["Innodb_buffer_pool_pages_free"] = 4_000  # half the pool free: warming up
    [warming] = only(snapshot, "HLT050")
    assert warming.severity is Severity.LOW and "warming up" in warming.title
    snapshot["status"]["Innodb_buffer_pool_read_requests"] = 50_000  # too little traffic to judge
    assert only(snapshot, "HLT050") == []


def test_wait_free_counts_waits_for_clean_pages() -> None:
    [finding] = only(with_status(Innodb_buffer_pool_wait_free=1_800), "HLT051")
    assert finding.severity is Severity.MEDIUM
    assert finding.evidence["wait_free"] == 1_800 and finding.evidence["per_hour"] == 180.0
    assert finding.evidence["pages_dirty"] == 50 and finding.evidence["measured"] == "counter"
    assert only(with_status(Innodb_buffer_pool_wait_free=3), "HLT051")[0].severity is Severity.LOW


def test_connections_current_peak_and_refused() -> None:
    [current] = only(with_status(Threads_connected=125), "HLT052")
    assert current.severity is Severity.MEDIUM and current.evidence["measured"] == "sample"
    assert current.evidence["used_pct"] == 82.78 and current.evidence["threshold_pct"] == 80.0
    assert current.title == "125 of max_connections=151 connections in use (82.78%)"
    assert only(with_status(Threads_connected=150), "HLT052")[0].severity is Severity.HIGH
    [peak] = only(with_status(Max_used_connections=140), "HLT052")
    assert (
        peak.severity is Severity.LOW and peak.evidence["measured"] == "counter" and peak.evidence["peak_pct"] == 92.72
    )
    [refused] = only(with_status(Connection_errors_max_connections=7), "HLT052")
    assert refused.severity is Severity.HIGH and refused.evidence["refused_connections"] == 7
    assert refused.title == "7 connection(s) were refused at max_connections=151"


def test_threads_running_excludes_the_snapshot_itself() -> None:
    assert only(with_status(Threads_running=32), "HLT053") == []  # 31 others
    [finding] = only(with_status(Threads_running=33), "HLT053")
    assert finding.evidence["threads_running"] == 32 and finding.severity is Severity.MEDIUM
    assert only(with_status(Threads_running=101), "HLT053")[0].severity is Severity.HIGH


def test_slow_query_rate_and_skip_when_the_slow_log_is_off() -> None:
    [finding] = only(with_status(Slow_queries=700), "HLT054")
    assert finding.severity is Severity.MEDIUM
    assert finding.evidence["per_hour"] == 70.0 and finding.evidence["slow_pct"] == 0.07
    assert finding.evidence["long_query_time_s"] == 1.0
    assert only(with_status(Slow_queries=20), "HLT054")[0].severity is Severity.LOW
    snapshot = with_status(Slow_queries=700)
    snapshot["variables"]["slow_query_log"] = "OFF"
    report = check_mysql(snapshot)
    assert "slow_queries" not in report.checks_run and not [f for f in report.findings if f.rule_id == "HLT054"]
    assert "SET GLOBAL slow_query_log = ON" in report.skipped["slow_queries"]
    assert report.metrics["slow_queries_per_hour"] == 70.0  # the counter is still reported


def test_aborted_connects_and_clients_are_separate_findings() -> None:
    findings = only(with_status(Aborted_connects=2_500, Aborted_clients=300), "HLT055")
    by_subject = {f.subject: f for f in findings}
    assert sorted(by_subject) == ["aborted_clients", "aborted_connects"]
    assert by_subject["aborted_connects"].severity is Severity.MEDIUM
    assert by_subject["aborted_connects"].evidence["aborted_pct"] == 12.5
    assert by_subject["aborted_clients"].severity is Severity.LOW
    assert by_subject["aborted_clients"].evidence["aborted_pct"] == 1.5
    assert only(with_status(Aborted_connects=150, Connections=1_000_000), "HLT055") == []


def test_on_disk_temporary_tables_share() -> None:
    [finding] = only(with_status(Created_tmp_disk_tables=3_000), "HLT056")
    assert finding.severity is Severity.LOW and finding.evidence["disk_pct"] == 30.0
    assert finding.evidence["in_memory_limit_bytes"] == 16 * MIB  # the smaller of the two settings
    assert "TEXT/BLOB" in finding.rationale  # MariaDB puts BLOB/TEXT temporary tables on disk
    assert finding.fix is not None and "SUM_CREATED_TMP_DISK_TABLES" in finding.fix.statements[0]
    assert only(with_status(Created_tmp_disk_tables=6_000), "HLT056")[0].severity is Severity.MEDIUM
    assert only(with_status(Created_tmp_tables=900, Created_tmp_disk_tables=800), "HLT056") == []


def _wait(waiter: int, blocker: int, seconds: float, command: str = "Sleep") -> dict[str, Any]:
    return {
        "waiting_thread": waiter,
        "wait_seconds": seconds,
        "waiting_query": "UPDATE acct SET bal = bal - 1 WHERE id = 1",
        "waiting_trx_seconds": int(seconds),
        "blocking_thread": blocker,
        "blocking_query": None,
        "blocking_trx_seconds": 95,
        "blocking_rows_locked": 1,
        "blocking_command": command,
        "blocking_command_seconds": 90,
        "blocking_user": "app",
        "schema": "shop",
        "table": "acct",
        "index": "PRIMARY",
        "lock_mode": "X",
    }


def test_current_lock_waits_one_finding_per_blocker() -> None:
    snapshot = healthy()
    snapshot["lock_waits"] = [_wait(12, 7, 40.2), _wait(13, 7, 8.0), _wait(20, 9, 2.0, "Query")]
    [finding] = only(snapshot, "HLT057")  # thread 9's wait (2 s) is under the threshold
    assert finding.subject == "shop.acct" and finding.table == "acct" and finding.subject_kind == "table"
    assert finding.severity is Severity.HIGH
    assert finding.title == "thread 7 blocks 2 session(s) on shop.acct for up to 40.2 s while idle in its transaction"
    assert finding.evidence["blocking_thread"] == 7 and finding.evidence["waiting_threads"] == "12,13"
    assert finding.evidence["blocking_command"] == "Sleep" and finding.evidence["measured"] == "sample"
    assert finding.evidence["lock_index"] == "PRIMARY" and finding.evidence["innodb_lock_wait_timeout_s"] == 50
    assert finding.fix is not None and finding.fix.statements == ["KILL 7;"] and finding.fix.safety == "display-only"
    [both] = only(snapshot, "HLT057", MySqlThresholds(lock_wait_seconds=1.0, lock_wait_high_seconds=60.0))[1:]
    assert both.evidence["blocking_thread"] == 9 and both.severity is Severity.MEDIUM


def test_row_lock_history_average() -> None:
    [finding] = only(with_status(Innodb_row_lock_waits=400, Innodb_row_lock_time_avg=800), "HLT058")
    assert finding.severity is Severity.LOW and finding.evidence["row_lock_time_avg_ms"] == 800
    assert finding.evidence["per_hour"] == 40.0 and finding.evidence["since"] == SINCE
    assert only(with_status(Innodb_row_lock_waits=400, Innodb_row_lock_time_avg=6_000), "HLT058")[0].severity is (
        Severity.MEDIUM
    )
    assert only(with_status(Innodb_row_lock_waits=50, Innodb_row_lock_time_avg=6_000), "HLT058") == []


def test_replica_stopped_with_sql_error_is_critical() -> None:
    snapshot = healthy()
    snapshot["replicas"][0].update(
        {"Replica_SQL_Running": "No", "Last_SQL_Errno": 1062, "Last_SQL_Error": "Duplicate entry '5' for key 'PRIMARY'"}
    )
    snapshot["replicas"][0]["Seconds_Behind_Source"] = None
    [finding] = only(snapshot, "HLT059")
    assert finding.severity is Severity.CRITICAL and finding.subject == "replica of db1:3306"
    assert finding.evidence["last_sql_errno"] == 1062 and finding.evidence["sql_running"] == "No"
    assert finding.fix is not None and finding.fix.statements == ["START REPLICA;"]
    snapshot["replicas"][0].update({"Replica_SQL_Running": "Yes", "Replica_IO_Running": "Connecting"})
    snapshot["replica_sql"] = "SHOW SLAVE STATUS"
    [io] = only(snapshot, "HLT059")
    assert io.severity is Severity.HIGH and io.fix is not None and io.fix.statements == ["START SLAVE;"]


def test_replica_lag() -> None:
    snapshot = healthy()
    snapshot["replicas"][0]["Seconds_Behind_Source"] = 420
    [finding] = only(snapshot, "HLT060")
    assert finding.severity is Severity.HIGH and finding.evidence["seconds_behind_source"] == 420
    assert check_mysql(snapshot).metrics["max_seconds_behind_source"] == 420
    snapshot["replicas"][0]["Seconds_Behind_Source"] = 61
    assert only(snapshot, "HLT060")[0].severity is Severity.MEDIUM


def test_not_a_replica_is_skipped_with_the_reason() -> None:
    snapshot = healthy()
    snapshot["replicas"] = []
    reason = "not a replica: SHOW REPLICA STATUS is empty on this server"
    snapshot["unavailable"] = {"replica_threads": reason, "replica_lag": reason}
    report = check_mysql(snapshot)
    assert report.skipped == {"replica_threads": reason, "replica_lag": reason}
    assert "replica_lag" not in report.checks_run and report.metrics["replicas"] == 0


def test_fragmented_big_table_points_to_plan_migration() -> None:
    snapshot = healthy()
    snapshot["tables"] = [
        {
            "schema": "shop",
            "table": "events",
            "engine": "InnoDB",
            "rows": 100,
            "data_bytes": 200 * MIB,
            "index_bytes": 100 * MIB,
            "free_bytes": 700 * MIB,
        },
        {
            "schema": "shop",
            "table": "tiny",
            "engine": "InnoDB",
            "rows": 1,
            "data_bytes": MIB,
            "index_bytes": 0,
            "free_bytes": 9 * MIB,
        },
    ]
    [finding] = only(snapshot, "HLT061")  # tiny has too little free space to matter
    assert finding.subject == "shop.events" and finding.table == "events" and finding.severity is Severity.MEDIUM
    assert finding.evidence["free_pct"] == 70.0 and finding.evidence["measured"] == "estimate"
    assert finding.fix is not None and finding.fix.statements == ["OPTIMIZE TABLE shop.events;"]
    assert finding.fix.safety == "unsafe" and "plan_migration" in finding.help
    assert "plan_migration" in (finding.fix.note or "")


def test_missing_counters_skip_their_checks() -> None:
    snapshot = copy.deepcopy(healthy())
    for name in ("Innodb_buffer_pool_read_requests", "Innodb_buffer_pool_wait_free"):
        del snapshot["status"][name]
    snapshot["unavailable"] = {"current_lock_waits": "Reading the lock waits needs PROCESS"}
    report = check_mysql(snapshot)
    assert report.skipped["buffer_pool_hit_rate"].startswith("SHOW GLOBAL STATUS has no Innodb_buffer_pool_read_")
    assert "buffer_pool_wait_free" in report.skipped and "current_lock_waits" in report.skipped
    assert "buffer_pool_hit_rate" not in report.checks_run and "connections" in report.checks_run


def test_findings_are_sorted_by_severity() -> None:
    snapshot = with_status(Threads_connected=150, Created_tmp_disk_tables=3_000)
    report = check_mysql(snapshot)
    assert [f.rule_id for f in report.findings] == ["HLT052", "HLT056"]
    assert report.counts["high"] == 1 and report.counts["low"] == 1


def test_flavor_specific_sql() -> None:
    assert "performance_schema.data_lock_waits" in lock_wait_sql("mysql", (8, 0, 36))
    assert "INNODB_LOCK_WAITS" in lock_wait_sql("mariadb", (10, 11, 6))
    assert "INNODB_LOCK_WAITS" in lock_wait_sql("mysql", (5, 7, 44))
    assert uses_performance_schema("mysql", (8, 4, 0)) and not uses_performance_schema("mariadb", (11, 4, 2))
    assert replica_status_sql("mariadb", (10, 11, 6)) == "SHOW REPLICA STATUS"
    assert replica_status_sql("mariadb", (10, 4, 30)) == "SHOW SLAVE STATUS"
    assert replica_status_sql("mysql", (8, 0, 22)) == "SHOW REPLICA STATUS"
    assert replica_status_sql("mysql", (8, 0, 21)) == "SHOW SLAVE STATUS"
