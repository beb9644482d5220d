"""plan_capacity on a real PostgreSQL: live facts from a known data set, and the arithmetic recomputed here.

A fresh database holds two tables: `hot` (indexed, read by a sequential scan) and `cold` (never read). The live
working set must be hot's heap plus every index, the data size pg_database_size, and the projections must be
those facts times the factor. A background writer in another database moves the (cluster-wide) WAL position while
the rates are sampled.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import AsyncIterator

import asyncpg
import pytest

from dbspecialist.adapters.capacity_facts import live_capacity_facts
from dbspecialist.adapters.postgres import PostgresAdapter
from dbspecialist.knowledge.capacity.model import CapacityFacts
from dbspecialist.knowledge.capacity.project import plan_capacity
from tests.integration.postgres.conftest import PG_URL, pg_config

GiB = 1024**3
PLANT = (
    "CREATE TABLE hot (id int PRIMARY KEY, payload text NOT NULL) WITH (autovacuum_enabled = false)",
    "INSERT INTO hot SELECT g, repeat('h', 100) FROM generate_series(1, 50000) g",
    "CREATE TABLE cold (id int NOT NULL, payload text NOT NULL) WITH (autovacuum_enabled = false)",
    "INSERT INTO cold SELECT g, repeat('c', 50) FROM generate_series(1, 20000) g",
    "VACUUM ANALYZE hot",
    "VACUUM ANALYZE cold",
)
STATS_WAIT_S = 10.0


@pytest.fixture
async def known_db() -> AsyncIterator[str]:
    name = f"dbs_cap_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(PG_URL)
    try:
        await admin.execute(f"CREATE DATABASE {name}")
        yield PG_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await admin.close()


async def _plant(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        for statement in PLANT:
            await conn.execute(statement)
        await conn.execute("SET enable_indexscan = off; SET enable_bitmapscan = off")
        assert await conn.fetchval("SELECT count(*) FROM hot WHERE payload <> ''") == 50_000
        await conn.execute("SELECT pg_stat_force_next_flush()")
    finally:
        await conn.close()
    # the scan counter reaches the shared statistics when the backend flushes them; wait for it (bounded)
    conn = await asyncpg.connect(url)
    try:
        deadline = time.monotonic() + STATS_WAIT_S
        while not await conn.fetchval("SELECT seq_scan > 0 FROM pg_stat_user_tables WHERE relname = 'hot'"):
            assert time.monotonic() < deadline, "the sequential scan of hot never reached pg_stat_user_tables"
            await asyncio.sleep(0.1)
    finally:
        await conn.close()


async def _write_load(stop: asyncio.Event) -> None:
    """Inserts in a private table of the shared test database: WAL moves, the measured database does not."""
    table = f"dbs_cap_load_{secrets.token_hex(4)}"
    conn = await asyncpg.connect(PG_URL)
    try:
        await conn.execute(f"CREATE TABLE {table} (v text)")
        while not stop.is_set():
            await conn.execute(f"INSERT INTO {table} SELECT repeat('w', 200) FROM generate_series(1, 200)")
            await asyncio.sleep(0.01)
    finally:
        await conn.execute(f"DROP TABLE IF EXISTS {table}")
        await conn.close()


async def test_live_facts_and_projection_of_a_known_data_set(known_db: str) -> None:
    await _plant(known_db)
    stop = asyncio.Event()
    writer = asyncio.create_task(_write_load(stop))
    adapter = PostgresAdapter(pg_config("cap", url=known_db))
    try:
        await asyncio.sleep(0.2)
        facts = await live_capacity_facts(adapter, {"ram_bytes": 8 * GiB, "cpu_busy_pct": 10.0})
    finally:
        stop.set()
        with contextlib.suppress(Exception):
            await writer
        await adapter.close()

    conn = await asyncpg.connect(known_db)
    try:
        expected = await conn.fetchrow(
            """
            SELECT pg_database_size(current_database()) AS data,
                   pg_table_size('hot') + pg_indexes_size('hot') + pg_indexes_size('cold') AS working_set,
                   pg_total_relation_size('hot') AS hot_total,
                   pg_size_bytes(current_setting('shared_buffers')) AS shared_buffers,
                   current_setting('max_connections')::int - current_setting('superuser_reserved_connections')::int
                     - coalesce(nullif(current_setting('reserved_connections', true), ''), '0')::int AS usable,
                   (SELECT count(*) FROM pg_stat_replication) AS replicas
            """
        )
    finally:
        await conn.close()

    assert facts.engine == "postgresql"
    assert facts.data_bytes == expected["data"]
    assert facts.working_set_bytes == expected["working_set"]  # cold's heap is not hot
    assert facts.largest_table == "public.hot" and facts.largest_table_bytes == expected["hot_total"]
    assert facts.cache_bytes == expected["shared_buffers"] and facts.cache_name == "shared_buffers"
    assert facts.connections_max == expected["usable"]
    assert facts.connections_used is not None and 1 <= facts.connections_used <= expected["usable"] + 3
    assert facts.replicas == expected["replicas"]
    assert facts.wal_bytes_per_second is not None and facts.wal_bytes_per_second > 0
    assert facts.qps is not None and facts.qps >= 0 and facts.writes_per_second is not None
    assert "2 samples 1 s apart" in facts.sources["qps"] and "transactions" in facts.sources["qps"]
    assert facts.sources["ram_bytes"] == "given" and facts.ram_bytes == 8 * GiB
    assert facts.storage_total_bytes is None
    # only the host facts still missing after the given ones are asked for
    assert facts.notes[0] == (
        "not visible from SQL here: give cpu_cores, storage_total_bytes, storage_free_bytes in `facts`"
    )

    report = plan_capacity(facts, 10)
    rows = {p.resource: p for p in report.projections}
    memory = rows["memory"]
    assert memory.current == expected["working_set"]
    assert memory.projected == round(expected["working_set"] * 10, 2)
    assert memory.limit == 0.75 * 8 * GiB
    assert memory.breaks_at == round(0.75 * 8 * GiB / expected["working_set"], 2)
    connections = rows["connections"]
    assert connections.breaks_at == round(expected["usable"] / facts.connections_used, 2)
    cpu = rows["cpu"]
    assert (cpu.current, cpu.projected, cpu.breaks_at, cpu.breaks) == (10.0, 100.0, 8.0, True)
    storage = rows["storage"]
    assert storage.current == expected["data"] and storage.limit is None and "storage_total_bytes" in storage.missing
    known = {r: p.breaks_at for r, p in rows.items() if p.breaks_at is not None}
    first = min(known, key=lambda r: known[r] or 0.0)
    assert report.first_limit == first and report.first_breaks_at == known[first]


async def test_given_facts_win_over_live_ones(known_db: str) -> None:
    adapter = PostgresAdapter(pg_config("cap", url=known_db))
    try:
        given = CapacityFacts(data_bytes=123, connections_max=7)
        facts = await live_capacity_facts(adapter, given, sample_seconds=0.1)
    finally:
        await adapter.close()
    assert (facts.data_bytes, facts.connections_max) == (123, 7)
    assert facts.sources["data_bytes"] == "given" and facts.sources["connections_max"] == "given"
    assert facts.cache_bytes is not None and facts.sources["cache_bytes"] == "shared_buffers (pg_settings)"
