"""check_health on real SQLite files, through the read-only adapter: broken foreign keys, a big freelist, a long
-wal file and a damaged page are reported with their objects, and the file is not touched."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from dbspecialist.adapters.health_sqlite import sqlite_health_snapshot
from dbspecialist.adapters.sqlite import SQLiteAdapter
from dbspecialist.knowledge.findings import Severity
from dbspecialist.knowledge.health.model import HealthReport
from dbspecialist.knowledge.health.sqlite import SqliteThresholds, check_sqlite
from tests.helpers import checksum, sqlite_conn

JUNK_ROWS = 4_000

BROKEN = """
PRAGMA foreign_keys = OFF;
CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers (id), total REAL);
CREATE TABLE notes (id INTEGER PRIMARY KEY, order_id INTEGER REFERENCES orders, body TEXT);
INSERT INTO customers VALUES (1, 'ann'), (2, 'bob');
INSERT INTO orders VALUES (10, 1, 5.0), (11, 7, 6.0), (12, 8, 7.0), (13, NULL, 8.0), (14, 2, 9.0);
INSERT INTO notes VALUES (1, 10, 'ok'), (2, 99, 'orphan');
CREATE TABLE junk (id INTEGER PRIMARY KEY, pad TEXT NOT NULL);
"""


async def _report(path: Path, thresholds: SqliteThresholds | None = None) -> HealthReport:
    adapter = SQLiteAdapter(sqlite_conn(path))
    try:
        snapshot = await sqlite_health_snapshot(adapter)
    finally:
        await adapter.close()
    return check_sqlite(snapshot, thresholds=thresholds)


def _broken_file(path: Path) -> Path:
    conn = sqlite3.connect(path)
    try:
        conn.executescript(BROKEN)
        conn.executemany("INSERT INTO junk (pad) VALUES (?)", [("x" * 500,) for _ in range(JUNK_ROWS)])
        conn.commit()
        conn.execute("DELETE FROM junk")  # about 500 pages go to the freelist
        conn.commit()
    finally:
        conn.close()
    return path


async def test_broken_foreign_keys_and_big_freelist_are_reported(tmp_path: Path) -> None:
    path = _broken_file(tmp_path / "broken.db")
    before = checksum(path)
    report = await _report(path)
    assert checksum(path) == before  # read-only
    assert report.skipped == {} and report.metrics["quick_check"] == "ok"

    fks = {f.subject: f for f in report.findings if f.rule_id == "HLT081"}
    assert set(fks) == {"orders -> customers", "notes -> orders"}
    orders = fks["orders -> customers"]
    assert orders.severity == Severity.HIGH and orders.table == "orders"
    assert orders.evidence["violations"] == 2 and orders.evidence["rowids"] == "11,12"  # NULL is no violation
    assert orders.evidence["columns"] == "customer_id" and orders.evidence["parent_columns"] == "id"
    notes = fks["notes -> orders"]
    assert notes.evidence["rowids"] == "2" and notes.evidence["parent_columns"] is None  # references the PK
    assert notes.fix is not None and "pragma_foreign_key_check('notes')" in notes.fix.statements[0]
    assert report.metrics["foreign_key_violations"] == 3

    # The fix's query lists exactly the orphans it names.
    conn = sqlite3.connect(path)
    try:
        assert orders.fix is not None
        assert [r[0] for r in conn.execute(orders.fix.statements[0].rstrip(";"))] == [11, 12]
        assert notes.fix is not None
        assert [r[0] for r in conn.execute(notes.fix.statements[0].rstrip(";"))] == [2]
    finally:
        conn.close()

    [freelist] = [f for f in report.findings if f.rule_id == "HLT082"]
    assert int(freelist.evidence["freelist_count"] or 0) >= 450
    assert float(freelist.evidence["freelist_pct"] or 0) >= 80.0 and freelist.severity == Severity.MEDIUM
    assert freelist.fix is not None and freelist.fix.statements == ["VACUUM;"]

    [journal] = [f for f in report.findings if f.rule_id == "HLT084"]
    assert journal.evidence["journal_mode"] == "delete"


async def test_a_vacuumed_wal_file_is_healthy_and_a_long_wal_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "wal.db"
    writer = sqlite3.connect(path)
    try:
        writer.execute("PRAGMA journal_mode = WAL")
        writer.execute("PRAGMA wal_autocheckpoint = 0")  # nothing is copied back: the -wal file keeps growing
        writer.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, pad TEXT)")
        writer.executemany("INSERT INTO t (pad) VALUES (?)", [("y" * 400,) for _ in range(2_000)])
        writer.commit()
        default = await _report(path)
        assert default.findings == []  # a 1 MB WAL is no problem by the default thresholds
        assert default.metrics["journal_mode"] == "wal" and int(default.metrics["wal_bytes"] or 0) > 500_000
        small = SqliteThresholds(wal_checkpoint_multiple=0.1, wal_min_bytes=0)
        [wal] = [f for f in (await _report(path, small)).findings if f.rule_id == "HLT083"]
        assert wal.subject == "wal.db-wal" and wal.evidence["wal_bytes"] == default.metrics["wal_bytes"]
        assert wal.evidence["threshold_bytes"] == int(0.1 * 1000 * 4096)
    finally:
        writer.close()


async def test_a_damaged_page_fails_quick_check(tmp_path: Path) -> None:
    path = tmp_path / "damaged.db"
    conn = sqlite3.connect(path)
    try:
        conn.executescript("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); CREATE INDEX t_v ON t (v);")
        conn.executemany("INSERT INTO t (v) VALUES (?)", [(f"value {i} " * 3,) for i in range(3_000)])
        conn.commit()
    finally:
        conn.close()
    with path.open("r+b") as raw:
        raw.seek(4096 * 5 + 100)  # inside page 6, a B-tree page of t or t_v
        raw.write(b"\xff" * 200)
    report = await _report(path)
    [damage] = [f for f in report.findings if f.rule_id == "HLT080"]
    assert damage.severity == Severity.CRITICAL and int(damage.evidence["problems"] or 0) >= 1
    problems = str(damage.evidence["first_problems"])
    assert "page 6" in problems or "malformed" in problems, problems  # listed, or the check itself gave up
    assert report.findings[0].rule_id == "HLT080"  # critical first
