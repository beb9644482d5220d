"""Faults: a server that is down, a restart between two calls, and 200 concurrent calls on a pool of 5."""

from __future__ import annotations

import asyncio
import time

import pytest
import redis

from dbspecialist.adapters.redis import POOL_SIZE, RedisAdapter
from dbspecialist.errors import ConnectionFailedError
from tests.integration.proxy import fault_proxy
from tests.integration.redis.conftest import DB, HOST, PORT, redis_conn

pytestmark = pytest.mark.integration


async def ping(adapter: RedisAdapter) -> list[list[object]]:
    return (await adapter.run_read_only("PING", max_rows=1, max_bytes=1000, timeout_ms=3000)).rows


def our_clients(client: redis.Redis, name: str) -> int:
    return sum(1 for c in client.client_list() if c.get("name") == f"dbspecialist:{name}")


async def test_server_down_before_start_is_a_clear_error_and_others_work(_redis_up: None) -> None:
    async with fault_proxy(HOST, PORT) as proxy:
        await proxy.cut()
        down = RedisAdapter(redis_conn("cache", f"redis://:Hunter2-secret@127.0.0.1:{proxy.port}/{DB}"))
        fine = RedisAdapter(redis_conn("other"))
        try:
            started = time.perf_counter()
            with pytest.raises(ConnectionFailedError) as info:
                await ping(down)
            assert time.perf_counter() - started < 3.0
            message = str(info.value)
            assert "'cache'" in message and f"127.0.0.1:{proxy.port}" in message and "running" in message
            assert "Hunter2-secret" not in message
            assert await ping(fine) == [["PONG"]]
            with pytest.raises(ConnectionFailedError):
                await down.introspect()
        finally:
            await down.close()
            await fine.close()


async def test_unreachable_port_names_connection_and_host(_redis_up: None) -> None:
    adapter = RedisAdapter(redis_conn("nowhere", "redis://127.0.0.1:1/0", connect_timeout_ms=500))
    try:
        with pytest.raises(ConnectionFailedError, match=r"'nowhere' \(127\.0\.0\.1:1\)"):
            await adapter.server_version()
    finally:
        await adapter.close()


async def test_restart_between_two_calls_is_survived(_redis_up: None) -> None:
    async with fault_proxy(HOST, PORT) as proxy:
        adapter = RedisAdapter(redis_conn("flaky", f"redis://127.0.0.1:{proxy.port}/{DB}"))
        try:
            assert await ping(adapter) == [["PONG"]]
            await proxy.cut()  # the server "crashes": live connections are dropped
            with pytest.raises(ConnectionFailedError, match="'flaky'"):
                await ping(adapter)
            proxy.restore()  # ... and comes back
            assert await ping(adapter) == [["PONG"]]
            # A restart between calls (no failed call in between) is invisible to the caller.
            await proxy.cut()
            proxy.restore()
            assert await ping(adapter) == [["PONG"]]
            assert proxy.connections_made >= 3
        finally:
            await adapter.close()


async def test_two_hundred_concurrent_calls_on_a_pool_of_five(raw: redis.Redis, prefix: str) -> None:
    raw.set(f"{prefix}:k", "v")
    name = f"pool{prefix[:8]}"
    adapter = RedisAdapter(redis_conn(name))
    peak = 0

    async def watch() -> None:
        nonlocal peak
        while True:
            peak = max(peak, await asyncio.to_thread(our_clients, raw, name))
            await asyncio.sleep(0.01)

    watcher = asyncio.create_task(watch())
    try:
        results = await asyncio.gather(
            *(
                adapter.run_read_only(f"GET {prefix}:k", max_rows=1, max_bytes=1000, timeout_ms=10_000)
                for _ in range(200)
            )
        )
        assert all(r.rows == [["v"]] for r in results)
        assert 1 <= our_clients(raw, name) <= POOL_SIZE
    finally:
        watcher.cancel()
        await asyncio.gather(watcher, return_exceptions=True)
        await adapter.close()
    assert peak <= POOL_SIZE
    for _ in range(50):  # the server notices closed sockets asynchronously
        if our_clients(raw, name) == 0:
            break
        await asyncio.sleep(0.02)
    assert our_clients(raw, name) == 0
