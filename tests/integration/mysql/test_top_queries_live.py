"""top_queries on a real MariaDB/MySQL: statement digests from performance_schema, or how to enable them.

performance_schema can only be turned on at server start, so the test follows the server: with it OFF (MariaDB's
default) the report must say exactly how to enable it; with it ON the digests of the statements just run, in a
fresh database, must come back with their exact call counts.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import pytest

from dbspecialist.adapters.mysql import MySQLAdapter
from dbspecialist.adapters.top_queries import fetch_top_queries
from dbspecialist.knowledge.workload.top_queries import TopQueriesReport, top_queries_report
from tests.integration.mysql.conftest import admin, create_database, drop_database, make_config

RUNS = 6
SCHEMA = """
CREATE TABLE tq_items (id INT PRIMARY KEY, note VARCHAR(40) NOT NULL)
;
INSERT INTO tq_items WITH RECURSIVE s (n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 1000)
SELECT n, CONCAT('note ', n) FROM s
"""


async def _report(database: str) -> TopQueriesReport:
    adapter = MySQLAdapter(make_config(database, name="tqm"))
    try:
        raw = await fetch_top_queries(adapter, "total_time", 100)
    finally:
        await adapter.close()
    return top_queries_report(raw, "mysql", "total_time", 100)


def _performance_schema_on() -> bool:
    with admin() as conn, conn.cursor() as cur:
        cur.execute("SELECT @@performance_schema")
        (value,) = cur.fetchone()
    return bool(int(value))


@pytest.fixture
def tq_db(mysql_server: None) -> Iterator[str]:
    name = create_database(SCHEMA)
    try:
        yield name
    finally:
        drop_database(name)


async def test_digests_or_how_to_enable_them(tq_db: str) -> None:
    tag = secrets.token_hex(3)
    with admin(tq_db) as conn, conn.cursor() as cur:
        if _performance_schema_on():
            # The digest table holds performance_schema_digests_size entries (5,000 by default); after a full test
            # run it is full and new statements only count in the overflow row. Only this test reads digests.
            cur.execute("TRUNCATE TABLE performance_schema.events_statements_summary_by_digest")
        for i in range(RUNS):
            cur.execute(f"SELECT id, note, '{tag}' AS tag FROM tq_items WHERE note = 'note {i + 1}'")
            cur.fetchall()

    report = await _report(tq_db)
    if not _performance_schema_on():
        assert not report.available and report.queries == []
        assert report.unavailable == "performance_schema is OFF on this server, so no statement digests are collected"
        assert report.enable[0].startswith("add performance_schema = ON under [mysqld]")
        assert report.enable[1] == "restart the server"
        assert "statements_digest" in report.enable[2]
        return

    assert report.available and report.measured == "counter"
    ours = [q for q in report.queries if "`tq_items`" in q.query and "`note` = ?" in q.query]
    assert len(ours) == 1, [q.query for q in report.queries]
    [entry] = ours
    assert (entry.calls, entry.rows, entry.database) == (RUNS, RUNS, tq_db)
    assert entry.mean_time_ms == pytest.approx(entry.total_time_ms / RUNS, abs=0.002)
    # no index on note: every call scanned the 1,000 rows for one
    assert entry.signals["rows_examined_per_call"] == 1000.0
    assert entry.next_step is not None and entry.next_step.tool == "recommend_indexes"


async def test_a_full_digest_table_is_reported_with_the_way_out(tq_db: str) -> None:
    if not _performance_schema_on():
        reason = "performance_schema is OFF on this MariaDB; scripts/test-services restarts it with it ON"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    with admin(tq_db) as conn, conn.cursor() as cur:
        cur.execute("SELECT @@performance_schema_digests_size")
        (size,) = cur.fetchone()
        cur.execute("TRUNCATE TABLE performance_schema.events_statements_summary_by_digest")
        for i in range(int(size) + 50):  # distinct column aliases make distinct digests
            cur.execute(f"SELECT id AS c{i} FROM tq_items WHERE id = 1")
            cur.fetchall()
    report = await _report(tq_db)
    overflow = [note for note in report.notes if note.startswith("the digest table is full")]
    assert len(overflow) == 1, report.notes
    assert f"performance_schema_digests_size = {size}" in overflow[0]
    assert "TRUNCATE TABLE performance_schema.events_statements_summary_by_digest" in overflow[0]
    with admin(tq_db) as conn, conn.cursor() as cur:  # leave room for the other digest test
        cur.execute("TRUNCATE TABLE performance_schema.events_statements_summary_by_digest")
