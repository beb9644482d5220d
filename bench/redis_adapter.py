"""redis_adapter: Redis adapter figures against a live server (DBSPECIALIST_BENCH_REDIS_URL, default db 13).

Rows:
- introspection of a keyspace of 10,000 keys (5,000 with `quick`): wall time, round trips, sampled keys;
- guard overhead: p50 of `GET k` through the raw driver (redis.asyncio, its own pool), through
  `RedisAdapter.run_read_only` (both guard layers + the bounded GET pipeline), and through the whole
  MCP tool path (`run_query` via the in-memory client); target tool/raw p50 <= 1.5x;
- `LRANGE 0 -1` on a 10,000,000-element list capped at 200 rows: wall time and tracemalloc peak.
Keys live under a random prefix and are unlinked at the end.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import statistics
import time
import tracemalloc
from typing import Any

from bench._util import mcp_floor_p50_ms

NAME = "redis_adapter"
URL = os.environ.get("DBSPECIALIST_BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
TARGET_RATIO = 1.5
BIG = 10_000_000
SEED = 100_000
WARMUP = 20


def _p50(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 3)


async def _timed(fn: Any, calls: int) -> list[float]:
    samples = []
    for i in range(calls + WARMUP):
        started = time.perf_counter()
        await fn()
        if i >= WARMUP:
            samples.append(time.perf_counter() - started)
    return samples


async def _bench(quick: bool) -> list[dict[str, Any]]:
    import redis.asyncio as aioredis
    from mcp import Client

    from dbspecialist.adapters.redis import RedisAdapter
    from dbspecialist.config import ConnectionSet, parse_connection
    from dbspecialist.server.app import build_server
    from dbspecialist.server.state import ServerState

    prefix = f"bench{secrets.token_hex(4)}"
    keys = 5_000 if quick else 10_000
    calls = 200 if quick else 1_000
    rows: list[dict[str, Any]] = []
    raw = aioredis.Redis.from_url(URL)
    config = parse_connection("bench", URL, source="bench")
    adapter = RedisAdapter(config)
    try:
        pipe = raw.pipeline(transaction=False)
        for i in range(keys // 2):
            pipe.set(f"{prefix}:user:{i}:session", "x" * 32, ex=600)
            pipe.hset(f"{prefix}:user:{i}", mapping={"name": f"user {i}", "age": i})
        await pipe.execute()
        await raw.set(f"{prefix}:k", "v")

        await adapter.introspect()
        samples = []
        for _ in range(5):
            started = time.perf_counter()
            catalog = await adapter.introspect()
            samples.append(time.perf_counter() - started)
        rows.append(
            {
                "what": f"introspect a keyspace of {await raw.dbsize():,} keys (SCAN sample + pipelines)",
                "p50_ms": _p50(samples),
                "round_trips": catalog.round_trips,
                "sampled_keys": catalog.keyspace.sampled_keys if catalog.keyspace else None,
                "server": catalog.server_version,
            }
        )

        key = f"{prefix}:k"
        raw_samples = await _timed(lambda: raw.get(key), calls)
        adapter_samples = await _timed(
            lambda: adapter.run_read_only(f"GET {key}", max_rows=200, max_bytes=262144, timeout_ms=15000), calls
        )
        state = ServerState.from_connections(ConnectionSet({"bench": config}))
        try:
            async with Client(build_server(state)) as client:

                async def tool() -> None:
                    result = await client.call_tool("run_query", {"connection": "bench", "query": f"GET {key}"})
                    assert not result.is_error

                tool_samples = await _timed(tool, calls)
                floor = await mcp_floor_p50_ms(client, calls)
        finally:
            await state.registry.close()
        ratio = statistics.median(tool_samples) / statistics.median(raw_samples)
        raw_ms = statistics.median(raw_samples) * 1000
        rows.append(
            {
                "what": "GET k p50: raw driver / adapter.run_read_only / MCP run_query (in-memory)",
                "raw_p50_ms": _p50(raw_samples),
                "adapter_p50_ms": _p50(adapter_samples),
                "tool_p50_ms": _p50(tool_samples),
                "adapter_ratio": round(statistics.median(adapter_samples) / statistics.median(raw_samples), 2),
                "tool_ratio": round(ratio, 2),
                "mcp_floor_p50_ms": round(floor, 3),
                "tool_minus_floor_ratio_to_raw": round((statistics.median(tool_samples) * 1000 - floor) / raw_ms, 2),
                "target": f"tool/raw p50 <= {TARGET_RATIO}x",
                "passed": ratio <= TARGET_RATIO,
            }
        )

        await raw.rpush(f"{prefix}:seed", *range(SEED))
        await raw.execute_command(  # type: ignore[no-untyped-call]
            "SORT", f"{prefix}:seed", "BY", "nosort", *["GET", "#"] * (BIG // SEED), "STORE", f"{prefix}:list"
        )
        tracemalloc.start()
        started = time.perf_counter()
        capped = await adapter.run_read_only(
            f"LRANGE {prefix}:list 0 -1", max_rows=200, max_bytes=10_000_000, timeout_ms=20_000
        )
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        rows.append(
            {
                "what": f"LRANGE 0 -1 on a {BIG:,}-element list capped at 200 rows",
                "ms": round(elapsed * 1000, 1),
                "peak_kib": round(peak / 1024),
                "truncated": capped.truncated,
                "rows": capped.row_count,
            }
        )
    finally:
        await adapter.close()
        batch = [k async for k in raw.scan_iter(match=f"{prefix}*", count=1000)]
        for i in range(0, len(batch), 500):
            await raw.unlink(*batch[i : i + 500])
        await raw.aclose()
    return rows


def main(quick: bool = False) -> list[dict[str, Any]]:
    """Run the Redis adapter benchmark; one dict per figure."""
    return asyncio.run(_bench(quick))


if __name__ == "__main__":
    import json
    import sys

    for row in main(quick="--quick" in sys.argv):
        print(json.dumps(row))
