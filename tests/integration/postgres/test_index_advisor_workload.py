"""recommend_indexes through the MCP tool on a real PostgreSQL: the pg_stat_statements workload, and no HypoPG."""

from __future__ import annotations

import secrets
from typing import Any

import asyncpg
from mcp import Client

from dbspecialist.config import ConnectionConfig
from dbspecialist.server.app import build_server
from dbspecialist.server.state import ServerState
from tests.helpers import connection_set
from tests.integration.postgres.conftest import PG_URL, pg_config

EVENTS_ROWS = 300_000
RUNS = 20

PLANT = """
CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
CREATE EXTENSION IF NOT EXISTS hypopg;
CREATE TABLE events (id bigint PRIMARY KEY, account_id int NOT NULL, payload text NOT NULL);
INSERT INTO events SELECT g, (g::bigint * 7919) % 30000, repeat('x', 120) FROM generate_series(1, {rows}) g;
-- read every row so the estimates (and the advisor's choices) are the same on every run
SET default_statistics_target = 10000;
ANALYZE events;
RESET default_statistics_target;
"""


async def _call(config: ConnectionConfig, args: dict[str, Any]) -> Any:
    state = ServerState.from_connections(connection_set(config))
    try:
        async with Client(build_server(state)) as client:
            return await client.call_tool("recommend_indexes", args)
    finally:
        await state.registry.close()


async def test_workload_from_pg_stat_statements() -> None:
    """The workload is read per database, so a fresh database's own queries are the whole workload."""
    db = f"dbs_wl_{secrets.token_hex(4)}"
    url = PG_URL.rsplit("/", 1)[0] + f"/{db}"
    admin = await asyncpg.connect(PG_URL)
    try:
        await admin.execute(f"CREATE DATABASE {db}")
        conn = await asyncpg.connect(url)
        try:
            await conn.execute(PLANT.format(rows=EVENTS_ROWS))
            await conn.execute("SET max_parallel_workers_per_gather = 0")  # session only
            for i in range(RUNS):
                await conn.fetch(f"SELECT id, payload FROM events WHERE account_id = {1000 + i}")
            recorded = await conn.fetchval(
                "SELECT query FROM pg_stat_statements WHERE query LIKE '%FROM events WHERE account_id =%' "
                "AND dbid = (SELECT oid FROM pg_database WHERE datname = current_database())"
            )
        finally:
            await conn.close()
        assert recorded is not None and str(recorded).endswith("account_id = $1"), recorded

        result = await _call(pg_config("wl", url=url), {"connection": "wl", "use_workload": True})
        assert not result.is_error, result.content
        advice = result.structured_content
        assert advice["workload_source"] == "pg_stat_statements"
        ours = [r for r in advice["recommendations"] if r["table"].endswith("events")]
        # The recorded text is parameterised ($1): it is costed by its generic plan (EXPLAIN (GENERIC_PLAN)
        # on 16+, a prepared statement with plan_cache_mode = force_generic_plan before that).
        [top] = ours
        assert top["columns"][0] == "account_id" and top["verified"] and top["verification"] == "hypopg"
        assert top["ddl"].startswith("CREATE INDEX CONCURRENTLY ")
        assert any("account_id = $1" in g["query"] for g in top["queries_helped"])
    finally:
        await admin.execute(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
        await admin.close()


async def test_without_hypopg_candidates_are_unverified_with_the_fix() -> None:
    db = f"dbs_nohypo_{secrets.token_hex(4)}"
    url = PG_URL.rsplit("/", 1)[0] + f"/{db}"
    admin = await asyncpg.connect(PG_URL)
    try:
        await admin.execute(f"CREATE DATABASE {db} TEMPLATE template0")
        conn = await asyncpg.connect(url)
        try:
            assert await conn.fetchval("SELECT count(*) FROM pg_extension WHERE extname = 'hypopg'") == 0
            await conn.execute(
                "CREATE TABLE items (id int PRIMARY KEY, sku int NOT NULL, name text NOT NULL);"
                "INSERT INTO items SELECT g, g % 500, 'item ' || g FROM generate_series(1, 20000) g;"
                "ANALYZE items;"
            )
        finally:
            await conn.close()
        result = await _call(
            pg_config("nohypo", url=url), {"connection": "nohypo", "queries": ["SELECT name FROM items WHERE sku = 42"]}
        )
        assert not result.is_error, result.content
        advice = result.structured_content
        assert advice["workload_source"] == "queries" and advice["queries_analyzed"] == 1
        recs = advice["recommendations"]
        assert recs, advice
        for rec in recs:
            assert rec["verified"] is False and rec["verification"] == "none"
            assert rec["queries_helped"] == [] and rec["estimated_bytes"] is None
            assert "CREATE EXTENSION hypopg" in rec["reason"] + " ".join(advice["notes"]), rec
        top = recs[0]
        assert top["table"].endswith("items") and top["columns"][0] == "sku", recs
        assert top["ddl"].startswith("CREATE INDEX CONCURRENTLY ") and "items (sku" in top["ddl"]
    finally:
        await admin.execute(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
        await admin.close()
