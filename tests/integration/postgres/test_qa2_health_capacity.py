"""QA pass 2, plan_capacity on a real PostgreSQL (#9): with only connections judged the answer is unknown, not
yes, and a largest table that is mostly dead tuples is judged on its live size, never against shared_buffers."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator

import asyncpg
import pytest

from dbspecialist.adapters.capacity_facts import live_capacity_facts
from dbspecialist.adapters.postgres import PostgresAdapter
from dbspecialist.knowledge.capacity.project import plan_capacity
from tests.integration.postgres.conftest import PG_URL, pg_config

PLANT = (
    "CREATE TABLE bloaty (id int PRIMARY KEY, pad text) WITH (autovacuum_enabled = false)",
    "INSERT INTO bloaty SELECT g, repeat('x', 200) FROM generate_series(1, 20000) g",
    "UPDATE bloaty SET pad = pad || '1'",
    "UPDATE bloaty SET pad = pad || '2'",
    "UPDATE bloaty SET pad = pad || '3'",  # three dead versions per live row: 75 % dead
    "SELECT pg_stat_force_next_flush()",
)


@pytest.fixture
async def bloated_db() -> AsyncIterator[str]:
    name = f"dbs_cap2_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(PG_URL)
    try:
        await admin.execute(f"CREATE DATABASE {name}")
        url = PG_URL.rsplit("/", 1)[0] + f"/{name}"
        conn = await asyncpg.connect(url)
        try:
            for statement in PLANT:
                await conn.execute(statement)
        finally:
            await conn.close()
        yield url
    finally:
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await admin.close()


async def test_only_connections_judged_and_a_bloated_largest_table(bloated_db: str) -> None:
    adapter = PostgresAdapter(pg_config("cap", url=bloated_db))
    try:
        facts = await live_capacity_facts(adapter, None, sample_seconds=0.2)
    finally:
        await adapter.close()
    assert facts.largest_table == "public.bloaty" and facts.ram_bytes is None
    assert facts.largest_table_dead_pct == pytest.approx(75.0, abs=1.0)

    report = plan_capacity(facts, 10)
    judged = {p.resource for p in report.projections if p.breaks is not None}
    assert "memory" not in judged and "storage" not in judged  # RAM and the volume are invisible from SQL
    assert report.handles_factor is None and report.verdict.startswith("unknown at x10")
    partitioning = report.recommendations[3]
    assert partitioning.needed is None and "dead tuples" in partitioning.reason
    assert "RAM unknown" in partitioning.reason
