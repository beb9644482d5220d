"""SQLite health rules (HLT080-HLT085) on hand-built snapshots: each fires with exact evidence and stays quiet on
the healthy snapshot; check_sqlite reports skipped checks and metrics."""

from __future__ import annotations

from typing import Any

from dbspecialist.knowledge.findings import Finding, Severity
from dbspecialist.knowledge.health.sqlite import RULE_CHECKS, RULES, SqliteThresholds, check_sqlite
from tests.unit.knowledge.health.documented import assert_documented_health_rules

MIB = 1024**2


def healthy() -> dict[str, Any]:
    """A snapshot shaped like adapters/health_sqlite.py's, with nothing to report."""
    return {
        "engine": "sqlite",
        "server_version": "3.45.1",
        "path": "/data/app.db",
        "file_bytes": 4096 * 1000,
        "wal_bytes": 2 * MIB,
        "pragmas": {
            "page_size": 4096,
            "page_count": 1000,
            "freelist_count": 10,
            "journal_mode": "wal",
            "wal_autocheckpoint": 1000,
            "journal_size_limit": -1,
            "auto_vacuum": 0,
            "foreign_keys": 0,
            "synchronous": 2,
        },
        "quick_check": ["ok"],
        "foreign_key_violations": [],
        "unavailable": {},
        "round_trips": 12,
    }


def only(snapshot: dict[str, Any], rule_id: str, thresholds: SqliteThresholds | None = None) -> list[Finding]:
    return [f for f in check_sqlite(snapshot, thresholds=thresholds).findings if f.rule_id == rule_id]


def test_healthy_file_has_no_findings_and_metrics() -> None:
    report = check_sqlite(healthy())
    assert report.findings == [] and report.skipped == {}
    assert report.checks_run == [
        "quick_check",
        "foreign_key_check",
        "freelist",
        "wal_size",
        "journal_mode",
        "page_size",
    ]
    assert report.stats_since is None and report.server_version == "3.45.1"
    assert report.metrics == {
        "file_bytes": 4_096_000,
        "page_size": 4096,
        "page_count": 1000,
        "freelist_count": 10,
        "freelist_pct": 1.0,
        "journal_mode": "wal",
        "wal_bytes": 2 * MIB,
        "wal_autocheckpoint": 1000,
        "auto_vacuum": 0,
        "quick_check": "ok",
        "foreign_key_violations": 0,
    }


def test_rules_are_documented_sqlite_health_rules() -> None:
    assert_documented_health_rules(RULES, RULE_CHECKS, "sqlite", [f"HLT08{i}" for i in range(6)])


def test_quick_check_problems_are_critical() -> None:
    snap = healthy()
    snap["quick_check"] = [
        "*** in database main ***\nPage 7: btreeInitPage() returns error code 11",
        "row 3 missing from index idx_a",
    ]
    [f] = only(snap, "HLT080")
    assert f.severity == Severity.CRITICAL and f.subject == "app.db"
    assert f.evidence["problems"] == 2 and f.evidence["measured"] == "sample"
    assert f.evidence["first_problems"].endswith("row 3 missing from index idx_a")  # type: ignore[union-attr]
    assert f.fix is not None and f.fix.safety == "display-only"
    assert f.fix.statements == ["PRAGMA integrity_check;", "sqlite3 app.db .recover | sqlite3 recovered.db"]
    assert check_sqlite(snap).metrics["quick_check"] == "2 problem(s)"


def test_foreign_key_violations_per_foreign_key() -> None:
    snap = healthy()
    snap["foreign_key_violations"] = [
        {"table": "order_items", "fkid": 1, "parent": "orders", "count": 12, "rowids": [4, 9, 10, 11, 15],
         "columns": ["order_id"], "parent_columns": ["id"]},
        {"table": "notes", "fkid": 0, "parent": "users", "count": 1, "rowids": [3], "columns": ["user_id"],
         "parent_columns": [None]},
    ]  # fmt: skip
    found = {f.subject: f for f in only(snap, "HLT081")}
    assert set(found) == {"order_items -> orders", "notes -> users"}
    items = found["order_items -> orders"]
    assert items.severity == Severity.HIGH and items.table == "order_items"
    assert items.evidence == {
        "measured": "sample",
        "table": "order_items",
        "parent": "orders",
        "columns": "order_id",
        "parent_columns": "id",
        "fkid": 1,
        "violations": 12,
        "rowids": "4,9,10,11,15",
        "foreign_keys_pragma": 0,
    }
    assert items.fix is not None and items.fix.statements == [
        "SELECT c.* FROM order_items AS c WHERE c.order_id IS NOT NULL AND NOT EXISTS "
        "(SELECT 1 FROM orders AS p WHERE p.id = c.order_id);",
        "PRAGMA foreign_keys = ON;",
    ]
    # the parent key is implicit (its primary key): the orphans come from pragma_foreign_key_check
    notes = found["notes -> users"]
    assert notes.fix is not None and notes.fix.statements[0] == (
        "SELECT * FROM notes WHERE rowid IN (SELECT rowid FROM pragma_foreign_key_check('notes') WHERE fkid = 0);"
    )
    assert check_sqlite(snap).metrics["foreign_key_violations"] == 13


def test_large_freelist() -> None:
    snap = healthy()
    snap["pragmas"].update(freelist_count=400, page_count=1000)
    [f] = only(snap, "HLT082")
    assert f.severity == Severity.LOW
    assert f.evidence["freelist_pct"] == 40.0 and f.evidence["free_bytes"] == 400 * 4096
    assert f.evidence["threshold_pct"] == 25.0
    assert f.fix is not None and f.fix.statements == ["VACUUM;"]
    snap["pragmas"].update(freelist_count=600, auto_vacuum=2)
    [f] = only(snap, "HLT082")
    assert f.severity == Severity.MEDIUM
    assert f.fix is not None and f.fix.statements == ["PRAGMA incremental_vacuum;"]


def test_small_freelists_are_quiet() -> None:
    snap = healthy()
    snap["pragmas"].update(freelist_count=240, page_count=1000)  # 24 %
    assert only(snap, "HLT082") == []
    snap["pragmas"].update(freelist_count=200, page_count=300)  # 66 % but 800 KiB
    assert only(snap, "HLT082") == []


def test_large_wal_file() -> None:
    snap = healthy()
    snap["wal_bytes"] = 100 * MIB
    [f] = only(snap, "HLT083")
    assert f.subject == "app.db-wal" and f.severity == Severity.MEDIUM
    assert f.evidence["checkpoint_interval_bytes"] == 4096 * 1000
    assert f.evidence["threshold_bytes"] == 64 * MIB  # 10 intervals = 39 MiB < the 64 MiB floor
    assert f.fix is not None and f.fix.statements == [
        "PRAGMA wal_checkpoint(TRUNCATE);",
        "PRAGMA journal_size_limit = 67108864;",
    ]
    snap["pragmas"]["wal_autocheckpoint"] = 10_000  # 10 intervals = 390 MiB
    assert only(snap, "HLT083") == []
    snap["pragmas"]["journal_mode"] = "delete"  # no WAL mode: a stale -wal file is not ours to judge
    snap["pragmas"]["wal_autocheckpoint"] = 1000
    assert only(snap, "HLT083") == []


def test_journal_mode() -> None:
    snap = healthy()
    snap["pragmas"]["journal_mode"] = "delete"
    [f] = only(snap, "HLT084")
    assert f.severity == Severity.LOW and f.evidence == {
        "measured": "sample",
        "journal_mode": "delete",
        "recommended": "wal",
    }
    assert f.fix is not None and f.fix.statements == ["PRAGMA journal_mode = WAL;"]
    snap["pragmas"]["journal_mode"] = "off"
    assert only(snap, "HLT084")[0].severity == Severity.HIGH


def test_small_page_size() -> None:
    snap = healthy()
    snap["pragmas"]["page_size"] = 1024
    [f] = only(snap, "HLT085")
    assert f.evidence["page_size"] == 1024 and f.evidence["threshold_bytes"] == 4096
    assert f.fix is not None and f.fix.statements == [
        "PRAGMA journal_mode = DELETE;",
        "PRAGMA page_size = 4096;",
        "VACUUM;",
        "PRAGMA journal_mode = WAL;",
    ]
    snap["pragmas"]["page_size"] = 8192
    assert only(snap, "HLT085") == []


def test_unavailable_checks_are_skipped_with_the_reason() -> None:
    snap = healthy()
    del snap["quick_check"]
    snap["unavailable"]["quick_check"] = "stopped at the connection's statement timeout (a large file)"
    del snap["pragmas"]["freelist_count"]
    report = check_sqlite(snap)
    assert report.skipped == {
        "quick_check": "stopped at the connection's statement timeout (a large file)",
        "freelist": "PRAGMA freelist_count could not be read on this connection",
    }
    assert report.checks_run == ["foreign_key_check", "wal_size", "journal_mode", "page_size"]
    assert report.metrics["quick_check"] is None
