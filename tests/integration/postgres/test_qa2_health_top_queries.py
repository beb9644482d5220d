"""QA pass 2, top_queries on a real PostgreSQL: every next step it proposes can be called (#7, #8).

In a fresh database (pg_stat_statements is read per database and must not be reset): a statement recorded under a
session search_path that this connection does not have, a typed literal that pg_stat_statements writes as
`timestamptz $n`, untyped parameters of generate_series() and jsonb_build_object(), a data-modifying CTE that
updates a whole batch per call, and asyncpg's pool reset. Each proposed explain_query is run through the adapter.
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

BATCH_CTE = """WITH batch AS (
    SELECT id FROM app.items WHERE id > $1::text::bigint AND done IS NULL ORDER BY id LIMIT 500 FOR NO KEY UPDATE
), updated AS (
    UPDATE app.items SET done = true WHERE id IN (SELECT id FROM batch) RETURNING 1
)
SELECT (SELECT count(*) FROM updated) AS rows"""


@pytest.fixture
async def fresh_db() -> AsyncIterator[str]:
    name = f"dbs_tq2_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(PG_URL)
    try:
        await admin.execute(f"CREATE DATABASE {name}")
        yield PG_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await admin.close()


async def _report(url: str, order_by: str, limit: int) -> tuple[PostgresAdapter, TopQueriesReport]:
    adapter = PostgresAdapter(pg_config("tq", url=url))
    raw = await fetch_top_queries(adapter, order_by, limit)
    return adapter, top_queries_report(raw, "postgresql", order_by, limit)


async def _plant(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("CREATE EXTENSION pg_stat_statements")
        await conn.execute(
            "CREATE SCHEMA app; CREATE TABLE app.items (id bigint PRIMARY KEY, done bool, at timestamptz, "
            "doc jsonb); INSERT INTO app.items SELECT g, NULL, now(), NULL FROM generate_series(1, 3000) g; "
            "ANALYZE app.items"
        )
        await conn.execute("SET search_path = app")  # the application's session search_path
        for i in range(3):
            await conn.execute(
                f"INSERT INTO items SELECT g + {10_000 * (i + 1)}, NULL, NULL FROM generate_series(1, 50) g"
            )
            await conn.execute(
                f"INSERT INTO app.items (id, at, doc) SELECT g + {100_000 * (i + 1)}, "
                f"timestamptz '2024-01-0{i + 1}' + g * interval '1 hour', jsonb_build_object('k', g) "
                f"FROM generate_series(1, {10 + i}) g"
            )
            await conn.fetchval(BATCH_CTE.replace("$1::text::bigint", f"'{i * 500}'::text::bigint"))
    finally:
        await conn.close()
    pool = await asyncpg.create_pool(url, min_size=1, max_size=1)
    try:
        for _ in range(5):
            async with pool.acquire() as c:  # each release sends asyncpg's reset statements
                await c.fetchval("SELECT 1")
    finally:
        await pool.close()


async def test_every_proposed_explain_runs_and_tool_traffic_is_left_out(fresh_db: str) -> None:
    await _plant(fresh_db)
    first, _ = await _report(fresh_db, "total_time", 100)  # our own catalog reads are recorded by now
    await first.close()
    adapter, report = await _report(fresh_db, "total_time", 100)
    try:
        texts = [q.query for q in report.queries]
        assert not [t for t in texts if "pg_advisory_unlock_all" in t or t in ("CLOSE ALL", "UNLISTEN *")]
        assert not [t for t in texts if "pg_stat_statements s" in t]  # our own read of the source
        assert not [t for t in texts if "pg_catalog.current_setting" in t]
        assert not [t for t in texts if t.startswith(("BEGIN", "SET LOCAL"))]  # our read-only framing
        assert any("connection-pool reset" in n for n in report.notes)

        batch = next(q for q in report.queries if "FOR NO KEY UPDATE" in q.query)
        assert batch.kind == "write" and batch.rows_per_call is None
        assert batch.signals["shared_blocks_per_row"] is None and "rows_counted" in batch.signals
        assert batch.next_step is not None and batch.next_step.tool == "explain_query"
        assert batch.next_step.arguments["analyze"] is False

        unqualified = next(q for q in report.queries if q.query.startswith("INSERT INTO items"))
        assert unqualified.next_step is not None and "search_path" in (unqualified.next_step.note or "")
        assert unqualified.next_step.arguments["sql"].startswith("INSERT INTO app.items")

        typed = next(q for q in report.queries if "jsonb_build_object" in q.query)
        assert "timestamptz $" in typed.query  # what pg_stat_statements recorded
        assert typed.next_step is not None and "timestamptz $" not in typed.next_step.arguments["sql"]

        explained = 0
        for q in report.queries:
            step = q.next_step
            if step is None or step.tool != "explain_query":
                continue
            result = await adapter.explain(step.arguments["sql"], analyze=step.arguments["analyze"], timeout_ms=10_000)
            assert result.plan, q.query
            explained += 1
        assert explained >= 3
    finally:
        await adapter.close()
