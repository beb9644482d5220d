"""top_queries on a real PostgreSQL: the statements the test just ran, read back from pg_stat_statements.

pg_stat_statements is shared by every test on the server and must not be reset, so each test works in a fresh
database (the source is read per database) and tags its statements with a unique table name.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator

import asyncpg
import pytest

from dbspecialist.adapters.postgres import PostgresAdapter
from dbspecialist.adapters.top_queries import fetch_top_queries
from dbspecialist.knowledge.workload.top_queries import TopQueriesReport, top_queries_report
from tests.integration.postgres.conftest import PG_URL, pg_config

SCAN_RUNS = 7
LOOP_RUNS = 1_200
PLANT = """
CREATE TABLE {big} (id int NOT NULL, note text NOT NULL) WITH (autovacuum_enabled = false);
INSERT INTO {big} SELECT g, repeat('n', 60) FROM generate_series(1, 300000) g;
CREATE TABLE {small} (id int PRIMARY KEY, name text NOT NULL);
INSERT INTO {small} SELECT g, 'name ' || g FROM generate_series(1, 2000) g;
VACUUM ANALYZE {big};
VACUUM ANALYZE {small};
"""


@pytest.fixture
async def fresh_db() -> AsyncIterator[str]:
    name = f"dbs_tq_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(PG_URL)
    try:
        await admin.execute(f"CREATE DATABASE {name}")
        yield PG_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await admin.close()


async def _report(url: str, order_by: str, limit: int) -> TopQueriesReport:
    adapter = PostgresAdapter(pg_config("tq", url=url))
    try:
        raw = await fetch_top_queries(adapter, order_by, limit)
    finally:
        await adapter.close()
    return top_queries_report(raw, "postgresql", order_by, limit)


async def test_top_queries_returns_the_statements_just_run(fresh_db: str) -> None:
    tag = secrets.token_hex(3)
    big, small = f"tq_big_{tag}", f"tq_small_{tag}"
    conn = await asyncpg.connect(fresh_db)
    try:
        await conn.execute("CREATE EXTENSION pg_stat_statements")
        for statement in PLANT.format(big=big, small=small).split(";\n"):
            if statement.strip():
                await conn.execute(statement)  # one by one: VACUUM cannot run in the implicit transaction
        await conn.execute("SET max_parallel_workers_per_gather = 0")  # every block read by this backend
        for i in range(SCAN_RUNS):
            await conn.fetch(f"SELECT id, note FROM {big} WHERE id = {1000 + i}")
        for i in range(LOOP_RUNS):
            await conn.fetchval(f"SELECT name FROM {small} WHERE id = {1 + i}")
    finally:
        await conn.close()

    report = await _report(fresh_db, "total_time", 100)
    assert report.available and report.source == "pg_stat_statements" and report.measured == "counter"
    by_text = {q.query: q for q in report.queries}

    scan = by_text[f"SELECT id, note FROM {big} WHERE id = $1"]
    assert (scan.calls, scan.rows, scan.kind) == (SCAN_RUNS, SCAN_RUNS, "read")
    assert scan.mean_time_ms == pytest.approx(scan.total_time_ms / SCAN_RUNS, abs=0.002)
    assert scan.signals["shared_blocks_per_call"] is not None and float(scan.signals["shared_blocks_per_call"]) > 1000
    assert scan.next_step is not None and scan.next_step.tool == "recommend_indexes"
    assert scan.next_step.arguments == {"connection": "tq", "queries": [scan.query]}

    loop = by_text[f"SELECT name FROM {small} WHERE id = $1"]
    assert (loop.calls, loop.rows) == (LOOP_RUNS, LOOP_RUNS)
    assert loop.next_step is not None and loop.next_step.tool == "review_query"
    assert loop.next_step.arguments == {"sql": loop.query, "dialect": "postgres", "connection": "tq"}

    total_calls = report.totals["calls"]
    assert isinstance(total_calls, int) and total_calls >= SCAN_RUNS + LOOP_RUNS
    assert loop.calls_share_pct == round(100 * LOOP_RUNS / total_calls, 2)
    assert 0 < sum(q.time_share_pct or 0 for q in report.queries) <= 100.01

    by_calls = await _report(fresh_db, "calls", 1)
    assert [q.query for q in by_calls.queries] == [loop.query]


async def test_without_the_extension_the_report_says_how_to_create_it(fresh_db: str) -> None:
    report = await _report(fresh_db, "total_time", 10)
    assert not report.available and report.queries == []
    # the test server preloads the library, so only the extension is missing in this fresh database
    assert report.unavailable is not None and "not created in database" in report.unavailable
    assert report.enable == ["CREATE EXTENSION pg_stat_statements;  -- in this database, as a role with CREATE on it"]
