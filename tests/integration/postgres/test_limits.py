"""Caps and timeouts: rows stream through a portal and stop at the cap; slow statements stop on time."""

from __future__ import annotations

import asyncio
import time
import tracemalloc

import asyncpg
import pytest

from dbspecialist.adapters.postgres import PostgresAdapter
from dbspecialist.errors import QueryTimeoutError

pytestmark = pytest.mark.integration

TEN_MILLION = "SELECT g, repeat('x', 80) FROM generate_series(1, 10000000) g"
TEN_THOUSAND = "SELECT g, repeat('x', 80) FROM generate_series(1, 10000) g"


async def measured(adapter: PostgresAdapter, sql: str) -> tuple[float, int, object]:
    tracemalloc.start()
    try:
        started = time.perf_counter()
        result = await adapter.run_read_only(sql, max_rows=200, max_bytes=1_000_000, timeout_ms=15_000)
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return elapsed, peak, result


async def test_ten_million_rows_return_max_rows_fast_with_bounded_memory(adapter: PostgresAdapter) -> None:
    await adapter.server_version()  # open the pool first: connecting is not what is measured
    _, small_peak, small = await measured(adapter, TEN_THOUSAND)
    elapsed, big_peak, big = await measured(adapter, TEN_MILLION)
    assert small.row_count == big.row_count == 200  # type: ignore[attr-defined]
    assert big.truncated and big.truncated_by == "max_rows"  # type: ignore[attr-defined]
    assert big.rows[-1][0] == 200  # type: ignore[attr-defined]
    # Memory does not grow with the result size (1,000x more rows), and stays small in absolute terms.
    assert big_peak < small_peak * 1.5 + 256 * 1024, (small_peak, big_peak)
    assert big_peak < 4 * 1024 * 1024
    # The server materialises generate_series (~0.7 s here); the client never drains the rest.
    assert elapsed < 3.0, elapsed


async def test_byte_cap_truncates(adapter: PostgresAdapter) -> None:
    result = await adapter.run_read_only(
        "SELECT g, repeat('y', 1000) FROM generate_series(1, 100000) g",
        max_rows=10_000,
        max_bytes=20_000,
        timeout_ms=5_000,
    )
    assert result.truncated and result.truncated_by == "max_bytes"
    assert 10 <= result.row_count <= 20


async def test_exact_row_count_is_not_truncated(adapter: PostgresAdapter) -> None:
    result = await adapter.run_read_only(
        "SELECT g FROM generate_series(1, 250) g", max_rows=250, max_bytes=1_000_000, timeout_ms=5_000
    )
    assert result.row_count == 250 and not result.truncated


async def test_sleeping_query_stops_at_the_timeout(adapter: PostgresAdapter) -> None:
    started = time.perf_counter()
    with pytest.raises(QueryTimeoutError, match=r"ran longer than 300 ms.*'pg' \(127\.0\.0\.1:\d+\)|127\.0\.0\.1"):
        await adapter.run_read_only("SELECT pg_sleep(60)", max_rows=1, max_bytes=1_000, timeout_ms=300)
    assert time.perf_counter() - started < 2.0
    ok = await adapter.run_read_only("SELECT 1", max_rows=1, max_bytes=1_000, timeout_ms=300)
    assert ok.rows == [[1]]


async def test_lock_wait_stops_at_the_timeout(adapter: PostgresAdapter, schema: str, admin: asyncpg.Connection) -> None:
    async with admin.transaction():
        await admin.execute(f"LOCK {schema}.t IN ACCESS EXCLUSIVE MODE")
        started = time.perf_counter()
        with pytest.raises(QueryTimeoutError, match="lock"):
            await adapter.run_read_only(f"SELECT * FROM {schema}.t", max_rows=1, max_bytes=1_000, timeout_ms=300)
        assert time.perf_counter() - started < 2.0


async def test_timeouts_are_local_to_the_call(adapter: PostgresAdapter) -> None:
    await asyncio.gather(
        *(adapter.run_read_only("SELECT 1", max_rows=1, max_bytes=1_000, timeout_ms=300) for _ in range(3))
    )
    result = await adapter.run_read_only(
        "SELECT current_setting('statement_timeout')", max_rows=1, max_bytes=1_000, timeout_ms=1_234
    )
    assert result.rows == [["1234ms"]]
