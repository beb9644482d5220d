"""Bounded replies: a 10-million-element list returns max_rows rows fast and in constant memory; timeouts stop."""

from __future__ import annotations

import asyncio
import contextlib
import random
import string
import time
import tracemalloc
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest
import redis

from dbspecialist.adapters.redis import RedisAdapter
from dbspecialist.errors import QueryRefusedError, QueryTimeoutError
from tests.integration.redis.conftest import DB, HOST, PORT, delete_prefix, redis_conn

pytestmark = pytest.mark.integration

BIG = 10_000_000
SEED = 100_000


@pytest.fixture(scope="module")
def big(_redis_up: None) -> Iterator[tuple[redis.Redis, str]]:
    """A 10M-element list (built server-side by SORT ... STORE of a 100k seed), plus big set/hash/zset/string."""
    client = redis.Redis(host=HOST, port=PORT, db=DB)
    prefix = "t" + "".join(random.choices(string.ascii_lowercase, k=9))
    try:
        client.rpush(f"{prefix}:seed", *range(SEED))
        client.execute_command(  # type: ignore[no-untyped-call]
            "SORT", f"{prefix}:seed", "BY", "nosort", *["GET", "#"] * (BIG // SEED), "STORE", f"{prefix}:list"
        )
        client.rpush(f"{prefix}:small", *range(1_000))
        for i in range(0, 200_000, 50_000):
            client.sadd(f"{prefix}:set", *range(i, i + 50_000))
            client.hset(f"{prefix}:hash", mapping={f"f{j}": j for j in range(i, i + 50_000)})
            client.zadd(f"{prefix}:zset", {f"m{j}": j for j in range(i, i + 50_000)})
        client.set(f"{prefix}:string", b"x" * 8_000_000)
        yield client, prefix
    finally:
        delete_prefix(client, prefix)
        client.close()


async def measure(call: Callable[[], Awaitable[Any]]) -> tuple[Any, float, int]:
    tracemalloc.start()
    started = time.perf_counter()
    try:
        result = await call()
    finally:
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return result, elapsed, peak


async def run(adapter: RedisAdapter, query: str, **kw: Any) -> Any:
    return await adapter.run_read_only(
        query, max_rows=kw.get("max_rows", 200), max_bytes=kw.get("max_bytes", 1_000_000), timeout_ms=5_000
    )


async def test_ten_million_element_list_is_capped_in_constant_memory(
    big: tuple[redis.Redis, str], adapter: RedisAdapter
) -> None:
    client, prefix = big
    assert client.llen(f"{prefix}:list") == BIG
    await run(adapter, "PING")  # pool, flags cache and connection outside the measurement
    await run(adapter, f"LRANGE {prefix}:small 0 -1")
    small, _, small_peak = await measure(lambda: run(adapter, f"LRANGE {prefix}:small 0 -1"))
    result, elapsed, peak = await measure(lambda: run(adapter, f"LRANGE {prefix}:list 0 -1"))
    assert result.row_count == 200 and result.truncated and result.truncated_by == "max_rows"
    assert result.rows[0] == ["0"] and result.rows[-1] == ["1"]  # each seed element is repeated 100 times
    assert small.row_count == 200 and small.truncated
    # 10M elements would be hundreds of MB as Python objects; the clamped range is ~200 rows either way.
    assert peak < 1_000_000, f"peak {peak / 1e6:.2f} MB"
    assert peak < small_peak * 1.5 + 100_000, (peak, small_peak)
    assert elapsed < 0.5, f"{elapsed:.3f} s"
    tail = await run(adapter, f"LRANGE {prefix}:list -3 -1")
    assert tail.rows == [["99999"]] * 3 and not tail.truncated
    print(f"\nLRANGE 0 -1 on {BIG:,}: {elapsed * 1000:.1f} ms, peak {peak / 1024:.0f} KiB", end="")
    print(f" (1k list: {small_peak / 1024:.0f} KiB)")


@pytest.mark.parametrize(
    ("query", "columns"),
    [
        ("SMEMBERS {p}:set", ["member"]),
        ("HGETALL {p}:hash", ["field", "value"]),
        ("HKEYS {p}:hash", ["field"]),
        ("HVALS {p}:hash", ["value"]),
        ("ZRANGE {p}:zset 0 -1 WITHSCORES", ["member", "score"]),
        ("ZRANGEBYSCORE {p}:zset -inf +inf", ["value"]),
        ("ZRANGE {p}:zset -inf +inf BYSCORE LIMIT 0 -1", ["value"]),
        ("ZREVRANGE {p}:zset 0 -1", ["value"]),
        ("SORT_RO {p}:list BY nosort", ["value"]),
        ("SRANDMEMBER {p}:set -100000", ["value"]),
        ("LPOS {p}:list 5 COUNT 0 MAXLEN 1000000", ["value"]),
    ],
)
async def test_big_collections_are_bounded(
    big: tuple[redis.Redis, str], adapter: RedisAdapter, query: str, columns: list[str]
) -> None:
    _, prefix = big
    await run(adapter, "PING")
    cap = 50 if query.startswith("LPOS") else 100  # LPOS: each element is in the list 100 times
    result, elapsed, peak = await measure(lambda: run(adapter, query.format(p=prefix), max_rows=cap))
    assert result.columns == columns
    assert result.truncated and result.truncated_by == "max_rows" and result.row_count == cap
    assert peak < 1_500_000, f"{query}: peak {peak / 1e6:.2f} MB"
    assert elapsed < 1.0, f"{query}: {elapsed:.3f} s"


async def test_big_string_is_read_as_a_prefix(big: tuple[redis.Redis, str], adapter: RedisAdapter) -> None:
    _, prefix = big
    await run(adapter, "PING")
    result, _, peak = await measure(lambda: run(adapter, f"GET {prefix}:string", max_bytes=64_000))
    assert result.truncated and result.truncated_by == "max_bytes"
    assert result.rows == [["x" * 32_000]]
    assert peak < 1_000_000, f"peak {peak / 1e6:.2f} MB"


async def test_set_algebra_beyond_the_cap_is_refused(big: tuple[redis.Redis, str], adapter: RedisAdapter) -> None:
    _, prefix = big
    with pytest.raises(QueryRefusedError, match="SUNION could return up to 400,000 members"):
        await run(adapter, f"SUNION {prefix}:set {prefix}:set")
    with pytest.raises(QueryRefusedError, match="ZUNION"):
        await run(adapter, f"ZUNION 1 {prefix}:zset")
    assert (await run(adapter, f"SINTER {prefix}:set {prefix}:missing")).rows == []


async def test_byte_cap_truncates(raw: redis.Redis, prefix: str, adapter: RedisAdapter) -> None:
    raw.rpush(f"{prefix}:fat", *("y" * 1_000 for _ in range(100)))
    result = await run(adapter, f"LRANGE {prefix}:fat 0 -1", max_bytes=10_000)
    assert result.truncated and result.truncated_by == "max_bytes" and 0 < result.row_count < 100


class DelayProxy:
    """A loopback proxy that holds the server's replies back by `delay` seconds (a slow command)."""

    def __init__(self) -> None:
        self.delay = 0.0
        self.port = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(HOST, PORT)

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter, slow: bool) -> None:
            with contextlib.suppress(ConnectionError, asyncio.CancelledError):
                while data := await src.read(65536):
                    if slow and self.delay:
                        await asyncio.sleep(self.delay)
                    dst.write(data)
                    await dst.drain()
            with contextlib.suppress(Exception):
                dst.close()

        tasks = {
            asyncio.create_task(pipe(reader, up_writer, False)),
            asyncio.create_task(pipe(up_reader, writer, True)),
        }
        self._tasks |= tasks
        await asyncio.gather(*tasks, return_exceptions=True)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()


@pytest.fixture
async def delay_proxy(_redis_up: None) -> AsyncIterator[DelayProxy]:
    proxy = DelayProxy()
    await proxy.start()
    try:
        yield proxy
    finally:
        await proxy.stop()


async def test_slow_reply_stops_at_the_timeout(delay_proxy: DelayProxy) -> None:
    adapter = RedisAdapter(redis_conn("slow", f"redis://127.0.0.1:{delay_proxy.port}/{DB}"))
    try:
        assert (await adapter.run_read_only("PING", max_rows=1, max_bytes=1000, timeout_ms=2000)).rows == [["PONG"]]
        delay_proxy.delay = 3.0
        started = time.perf_counter()
        with pytest.raises(QueryTimeoutError, match=r"'slow'.*ran longer than 300 ms") as info:
            await adapter.run_read_only("DBSIZE", max_rows=1, max_bytes=1000, timeout_ms=300)
        assert time.perf_counter() - started < 1.0
        assert f"127.0.0.1:{delay_proxy.port}" in str(info.value)
        delay_proxy.delay = 0.0
        # The timed-out connection was dropped, so the next call gets a clean one.
        assert (await adapter.run_read_only("PING", max_rows=1, max_bytes=1000, timeout_ms=2000)).rows == [["PONG"]]
    finally:
        await adapter.close()
