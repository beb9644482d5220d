"""mysql_adapter: MariaDB/MySQL adapter figures against a live server (DBSPECIALIST_BENCH_MYSQL_URL).

Rows:
- introspection of 1,000 tables (each with a PK, an FK and an index): wall time and round trips;
- guard overhead: p50 of `SELECT 1` through the raw driver (aiomysql cursor on a held connection),
  through `MySQLAdapter.run_read_only` (guard + READ ONLY transaction + rollback), and through the
  whole MCP tool path (`run_query` via the in-memory client); target tool/raw p50 <= 1.5x;
- a 10,000,000-row result capped at 200 rows: wall time and tracemalloc peak.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import statistics
import time
import tracemalloc
from typing import Any
from urllib.parse import urlsplit

from bench._util import mcp_floor_p50_ms

NAME = "mysql_adapter"
URL = os.environ.get("DBSPECIALIST_BENCH_MYSQL_URL", "mysql://root@127.0.0.1:3306/dbspecialist_test")
TARGET_RATIO = 1.5
DIGITS = (
    "(SELECT 0 d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 "
    "UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9)"
)


def _p50(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 3)


async def _bench(quick: bool) -> list[dict[str, Any]]:
    import aiomysql
    from mcp import Client

    from dbspecialist.adapters.mysql import MySQLAdapter
    from dbspecialist.config import ConnectionSet, parse_connection
    from dbspecialist.server.app import build_server
    from dbspecialist.server.state import ServerState

    parts = urlsplit(URL)
    kwargs: dict[str, Any] = {
        "host": parts.hostname or "127.0.0.1",
        "port": parts.port or 3306,
        "user": parts.username or "root",
        "password": parts.password or "",
        "autocommit": True,
    }
    db = f"dbs_bench_{secrets.token_hex(4)}"
    tables = 200 if quick else 1000
    calls = 100 if quick else 500
    rows: list[dict[str, Any]] = []
    admin = await aiomysql.connect(**kwargs)
    try:
        async with admin.cursor() as cur:
            await cur.execute(f"CREATE DATABASE `{db}`")
            await cur.execute(f"USE `{db}`")
            for i in range(tables):
                ref = f"t{i - 1}" if i else "t0"
                await cur.execute(
                    f"CREATE TABLE t{i} (id INT PRIMARY KEY, parent INT, name VARCHAR(40), KEY ix_name (name), "
                    f"CONSTRAINT fk_t{i} FOREIGN KEY (parent) REFERENCES {ref} (id))"
                )
        url = f"mysql://{kwargs['user']}@{kwargs['host']}:{kwargs['port']}/{db}"
        config = parse_connection("bench", url, source="bench")
        adapter = MySQLAdapter(config)
        try:
            await adapter.introspect()  # warm the pool and the server's table cache
            samples = []
            for _ in range(3):
                started = time.perf_counter()
                catalog = await adapter.introspect()
                samples.append(time.perf_counter() - started)
            rows.append(
                {
                    "what": f"introspect {tables} tables (PK, FK, index each)",
                    "p50_ms": _p50(samples),
                    "round_trips": catalog.round_trips,
                    "tables": len(catalog.tables),
                    "server": adapter.version,
                }
            )

            raw = await aiomysql.connect(db=db, **kwargs)
            raw_samples = []
            for i in range(calls + 20):
                started = time.perf_counter()
                async with raw.cursor() as cur:
                    await cur.execute("SELECT 1")
                    await cur.fetchall()
                if i >= 20:
                    raw_samples.append(time.perf_counter() - started)
            raw.close()
            adapter_samples = []
            for i in range(calls + 20):
                started = time.perf_counter()
                await adapter.run_read_only("SELECT 1", max_rows=200, max_bytes=262144, timeout_ms=15000)
                if i >= 20:
                    adapter_samples.append(time.perf_counter() - started)
            state = ServerState.from_connections(ConnectionSet({"bench": config}))
            tool_samples = []
            try:
                async with Client(build_server(state)) as client:
                    for i in range(calls + 20):
                        started = time.perf_counter()
                        result = await client.call_tool("run_query", {"connection": "bench", "query": "SELECT 1"})
                        if i >= 20:
                            tool_samples.append(time.perf_counter() - started)
                        assert not result.is_error
                    floor = await mcp_floor_p50_ms(client, calls)
            finally:
                await state.registry.close()
            ratio = statistics.median(tool_samples) / statistics.median(raw_samples)
            raw_ms = statistics.median(raw_samples) * 1000
            tool_ms = statistics.median(tool_samples) * 1000
            rows.append(
                {
                    "what": "SELECT 1 p50: raw driver / adapter.run_read_only / MCP run_query (in-memory)",
                    "raw_p50_ms": _p50(raw_samples),
                    "adapter_p50_ms": _p50(adapter_samples),
                    "tool_p50_ms": _p50(tool_samples),
                    "adapter_ratio": round(statistics.median(adapter_samples) / statistics.median(raw_samples), 2),
                    "tool_ratio": round(ratio, 2),
                    "mcp_floor_p50_ms": round(floor, 3),
                    "tool_minus_floor_ratio_to_raw": round((tool_ms - floor) / raw_ms, 2),
                    "target": f"tool/raw p50 <= {TARGET_RATIO}x",
                    "passed": ratio <= TARGET_RATIO,
                }
            )

            names = "abcdefg"
            sql = (
                "SELECT " + " + ".join(f"{10**i}*{n}.d" for i, n in enumerate(names)) + " AS n, REPEAT('x', 80) AS pad "
                "FROM " + ", ".join(f"{DIGITS} {n}" for n in names)
            )
            tracemalloc.start()
            started = time.perf_counter()
            capped = await adapter.run_read_only(sql, max_rows=200, max_bytes=10_000_000, timeout_ms=20_000)
            elapsed = time.perf_counter() - started
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            rows.append(
                {
                    "what": "10,000,000-row result capped at 200 rows",
                    "ms": round(elapsed * 1000, 1),
                    "peak_kib": round(peak / 1024),
                    "truncated": capped.truncated,
                    "rows": capped.row_count,
                }
            )
        finally:
            await adapter.close()
    finally:
        async with admin.cursor() as cur:
            await cur.execute(f"DROP DATABASE IF EXISTS `{db}`")
        admin.close()
    return rows


def main(quick: bool = False) -> list[dict[str, Any]]:
    """Run the MySQL/MariaDB adapter benchmark; one dict per figure."""
    return asyncio.run(_bench(quick))


if __name__ == "__main__":
    import json
    import sys

    for row in main(quick="--quick" in sys.argv):
        print(json.dumps(row))
