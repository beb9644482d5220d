"""pg_adapter: the PostgreSQL adapter against the local test server.

Rows:
- introspection of 2,000 tables (each with a primary key, a foreign key and an index): p50 time,
  queries sent (counted at the driver), and the JSON size of one describe_schema summary page;
- guard overhead: p50 of a trivial SELECT through the raw driver (pool acquire + fetch), the guard
  alone, `run_read_only`, and `run_query` through the whole MCP tool path (in-memory client), with
  the MCP floor (`list_connections` through the same client, no database) beside it;
- a 10-million-row result capped at 200 rows: time and tracemalloc peak.

`python -m bench.pg_adapter [--quick]`. Needs PostgreSQL at DBSPECIALIST_TEST_PG_URL
(default postgresql://postgres@127.0.0.1:5432/dbspecialist_test); creates and drops its own schema.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import sys
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg

from bench._util import mcp_floor_p50_ms, summary_ms
from dbspecialist.adapters.guard_postgres import check_postgres
from dbspecialist.adapters.postgres import PostgresAdapter
from dbspecialist.config import ConnectionSet, parse_connection

NAME = "pg_adapter"
PG_URL = os.environ.get("DBSPECIALIST_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/dbspecialist_test")
TABLES = 2_000
TARGET_INTROSPECT_S = 1.5
TARGET_PAGE_BYTES = 50 * 1024
TARGET_OVERHEAD_RATIO = 1.5
TRIVIAL = "SELECT 1"


async def _timed(fn: Callable[[], Awaitable[Any]], n: int, warm: int = 5) -> list[int]:
    for _ in range(warm):
        await fn()
    out = []
    for _ in range(n):
        t0 = time.perf_counter_ns()
        await fn()
        out.append(time.perf_counter_ns() - t0)
    return out


async def _make_schema(conn: asyncpg.Connection, schema: str, tables: int) -> None:
    await conn.execute(f"CREATE SCHEMA {schema}; CREATE TABLE {schema}.root (id int PRIMARY KEY)")
    step = 250
    for start in range(0, tables, step):
        ddl = "".join(
            f"CREATE TABLE {schema}.t{i} (id int PRIMARY KEY, root_id int REFERENCES {schema}.root (id), v text);"
            f"CREATE INDEX t{i}_root ON {schema}.t{i} (root_id);"
            for i in range(start, min(tables, start + step))
        )
        await conn.execute(ddl)


async def _drop_schema(conn: asyncpg.Connection, schema: str) -> None:
    """Drop in slices: one DROP SCHEMA of 2,000 tables needs more locks than max_locks_per_transaction."""
    names = [
        r[0]
        for r in await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = $1 AND tablename <> 'root'", schema
        )
    ]
    for start in range(0, len(names), 100):
        await conn.execute(f"DROP TABLE {', '.join(f'{schema}.{n}' for n in names[start : start + 100])}")
    await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


async def _introspection(adapter: PostgresAdapter, schema: str, runs: int) -> dict[str, Any]:
    from dbspecialist.server.schema_view import describe

    sent = 0
    original = asyncpg.Connection._execute

    async def counting(self: asyncpg.Connection, query: str, *args: Any, **kw: Any) -> Any:
        nonlocal sent
        sent += 1
        return await original(self, query, *args, **kw)

    asyncpg.Connection._execute = counting  # type: ignore[method-assign]
    try:
        catalog = await adapter.introspect(schema=schema)
        queries = sent
    finally:
        asyncpg.Connection._execute = original  # type: ignore[method-assign]
    samples = await _timed(lambda: adapter.introspect(schema=schema), runs, warm=0)
    page = describe("pg", catalog, detail="summary", offset=0)
    page_bytes = len(page.model_dump_json())
    stats = summary_ms(samples)
    return {
        "row": "introspection",
        "tables": len(catalog.tables),
        "queries_sent": queries,
        "round_trips": catalog.round_trips,
        **stats,
        "summary_page_bytes": page_bytes,
        "summary_page_tables": page.returned,
        "target": f"p50 <= {TARGET_INTROSPECT_S} s, page <= {TARGET_PAGE_BYTES // 1024} KB",
        "passed": stats["p50_ms"] <= TARGET_INTROSPECT_S * 1000 and page_bytes <= TARGET_PAGE_BYTES,
    }


async def _overhead(n: int) -> list[dict[str, Any]]:
    from mcp import Client

    from dbspecialist.server.app import build_server
    from dbspecialist.server.state import ServerState

    pool = await asyncpg.create_pool(PG_URL, min_size=1, max_size=1)
    config = parse_connection("pg", PG_URL, source="bench")
    adapter = PostgresAdapter(config)
    state = ServerState.from_connections(ConnectionSet({"pg": config}))
    rows: list[dict[str, Any]] = []
    try:
        raw = summary_ms(await _timed(lambda: pool.fetch(TRIVIAL), n))

        async def raw_framed() -> None:
            # What the adapter does, minus the guard and the model: READ ONLY transaction, limits, rollback.
            async with pool.acquire() as conn:
                await conn.execute(
                    "BEGIN READ ONLY; SET LOCAL statement_timeout = 15000; SET LOCAL lock_timeout = 13500; "
                    "SET LOCAL idle_in_transaction_session_timeout = 20000"
                )
                await conn.fetch(TRIVIAL)
                await conn.execute("ROLLBACK")

        framed = summary_ms(await _timed(raw_framed, n))

        async def guard_only() -> None:
            check_postgres(TRIVIAL)

        guard = summary_ms(await _timed(guard_only, n))
        direct = summary_ms(
            await _timed(lambda: adapter.run_read_only(TRIVIAL, max_rows=200, max_bytes=262_144, timeout_ms=15_000), n)
        )
        async with Client(build_server(state)) as client:

            async def tool() -> None:
                result = await client.call_tool("run_query", {"connection": "pg", "query": TRIVIAL})
                assert not result.is_error

            tool_path = summary_ms(await _timed(tool, n))
            floor = await mcp_floor_p50_ms(client, n)
        base = raw["p50_ms"]
        for label, stats in (
            ("raw driver (pool.fetch)", raw),
            ("raw driver, same READ ONLY framing", framed),
            ("guard only (check_postgres)", guard),
            ("adapter.run_read_only", direct),
            ("run_query tool path (in-memory MCP)", tool_path),
        ):
            row: dict[str, Any] = {
                "row": f"overhead: {label}",
                **stats,
                "ratio_to_raw_p50": round(stats["p50_ms"] / base, 2),
                "ratio_to_framed_p50": round(stats["p50_ms"] / framed["p50_ms"], 2),
            }
            if label.startswith("run_query"):
                row["mcp_floor_p50_ms"] = round(floor, 3)
                row["tool_minus_floor_ratio_to_raw"] = round((stats["p50_ms"] - floor) / base, 2)
                row["target"] = f"p50 ratio <= {TARGET_OVERHEAD_RATIO}x"
                row["passed"] = row["ratio_to_raw_p50"] <= TARGET_OVERHEAD_RATIO
            rows.append(row)
    finally:
        await state.registry.close()
        await adapter.close()
        await pool.close()
    return rows


async def _ten_million(adapter: PostgresAdapter) -> dict[str, Any]:
    await adapter.server_version()
    tracemalloc.start()
    t0 = time.perf_counter()
    result = await adapter.run_read_only(
        "SELECT g, repeat('x', 80) FROM generate_series(1, 10000000) g",
        max_rows=200,
        max_bytes=1_000_000,
        timeout_ms=30_000,
    )
    elapsed = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "row": "10M rows capped at 200",
        "seconds": round(elapsed, 3),
        "tracemalloc_peak_kib": peak // 1024,
        "rows": result.row_count,
        "truncated": result.truncated,
    }


async def _run(quick: bool) -> list[dict[str, Any]]:
    admin = await asyncpg.connect(PG_URL)
    schema = f"dbs_bench_{secrets.token_hex(4)}"
    adapter = PostgresAdapter(parse_connection("pg", PG_URL, source="bench"))
    try:
        t0 = time.perf_counter()
        await _make_schema(admin, schema, TABLES)
        await admin.execute("ANALYZE")  # statistics as a real catalog would have them
        setup_s = round(time.perf_counter() - t0, 1)
        results = [{**await _introspection(adapter, schema, 3 if quick else 7), "setup_s": setup_s}]
        results += await _overhead(100 if quick else 500)
        results.append(await _ten_million(adapter))
        return results
    finally:
        await adapter.close()
        await _drop_schema(admin, schema)
        await admin.close()


def main(quick: bool = False) -> list[dict[str, Any]]:
    """Run every measurement; each row is a dict (with `target`/`passed` where there is a target)."""
    return asyncio.run(_run(quick))


if __name__ == "__main__":
    for item in main(quick="--quick" in sys.argv[1:]):
        print(json.dumps(item))
