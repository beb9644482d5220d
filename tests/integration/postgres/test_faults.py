"""Faults through the loopback proxy: a server down at start-up, a restart between calls, pool pressure."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import asyncpg
import pytest

from dbspecialist.adapters.postgres import PostgresAdapter
from dbspecialist.errors import ConnectionFailedError
from tests.integration.postgres.conftest import PG_HOST, PG_PORT, pg_config
from tests.integration.proxy import FaultProxy, fault_proxy

pytestmark = pytest.mark.integration


def proxied(proxy: FaultProxy, name: str, **options: int) -> PostgresAdapter:
    url = f"postgresql://postgres@127.0.0.1:{proxy.port}/dbspecialist_test"
    return PostgresAdapter(pg_config(name, url, **options))


async def select_one(adapter: PostgresAdapter) -> object:
    return (await adapter.run_read_only("SELECT 1", max_rows=1, max_bytes=1_000, timeout_ms=2_000)).rows


@pytest.fixture
async def proxy() -> AsyncIterator[FaultProxy]:
    async with fault_proxy(PG_HOST, PG_PORT) as p:
        yield p


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_server_down_before_start_up_is_a_clear_error_and_others_work(adapter: PostgresAdapter) -> None:
    port = free_port()
    down = PostgresAdapter(pg_config("down", f"postgresql://postgres:S3cret-pw@127.0.0.1:{port}/db"))
    try:
        with pytest.raises(ConnectionFailedError) as caught:
            await select_one(down)
        message = str(caught.value)
        assert "'down'" in message and f"127.0.0.1:{port}" in message and "refused" in message
        assert "S3cret-pw" not in message
        assert await select_one(adapter) == [[1]]
    finally:
        await down.close()


async def test_proxy_cut_before_first_use(proxy: FaultProxy) -> None:
    await proxy.cut()
    adapter = proxied(proxy, "cut", connect_timeout_ms=1_000)
    try:
        with pytest.raises(ConnectionFailedError, match=rf"'cut' \(127\.0\.0\.1:{proxy.port}\)"):
            await select_one(adapter)
        proxy.restore()
        assert await select_one(adapter) == [[1]]
    finally:
        await adapter.close()


async def test_restart_between_calls_fails_clearly_then_reconnects(proxy: FaultProxy) -> None:
    adapter = proxied(proxy, "restart")
    try:
        assert await select_one(adapter) == [[1]]
        await proxy.cut()
        with pytest.raises(ConnectionFailedError, match=rf"127\.0\.0\.1:{proxy.port}"):
            await select_one(adapter)
        proxy.restore()
        assert await select_one(adapter) == [[1]]
    finally:
        await adapter.close()


async def test_restart_unnoticed_between_calls_is_survived(proxy: FaultProxy) -> None:
    """The pooled connection died while idle: the next call gets a fresh one and succeeds."""
    adapter = proxied(proxy, "idle")
    try:
        assert await select_one(adapter) == [[1]]
        made = proxy.connections_made
        await proxy.cut()
        proxy.restore()
        assert await select_one(adapter) == [[1]]
        assert proxy.connections_made == made + 1
    finally:
        await adapter.close()


async def test_connect_timeout_names_the_server() -> None:
    silent = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = silent.sockets[0].getsockname()[1]
    adapter = PostgresAdapter(pg_config("silent", f"postgresql://postgres@127.0.0.1:{port}/db", connect_timeout_ms=300))
    try:
        with pytest.raises(ConnectionFailedError, match=rf"'silent' \(127\.0\.0\.1:{port}\).*no answer within 300 ms"):
            await asyncio.wait_for(select_one(adapter), 5)
    finally:
        await adapter.close()
        silent.close()


async def _count(admin: asyncpg.Connection, name: str) -> int:
    return int(
        await admin.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", f"dbspecialist/{name}"
        )
    )


async def test_200_concurrent_calls_on_a_pool_of_5_and_no_leak(admin: asyncpg.Connection) -> None:
    name = "pressure"
    assert await _count(admin, name) == 0
    adapter = PostgresAdapter(pg_config(name))
    peak = 0

    async def call(i: int) -> int:
        result = await adapter.run_read_only(
            "SELECT $1::int + 0 FROM pg_sleep(0.005)", [i], max_rows=1, max_bytes=1_000, timeout_ms=10_000
        )
        return int(result.rows[0][0])

    async def watch() -> None:
        nonlocal peak
        while True:
            peak = max(peak, await _count(admin, name))
            await asyncio.sleep(0.01)

    watcher = asyncio.create_task(watch())
    try:
        results = await asyncio.gather(*(call(i) for i in range(200)))
    finally:
        watcher.cancel()
        await adapter.close()
    assert sorted(results) == list(range(200))
    assert 1 <= peak <= 5
    for _ in range(50):  # the server notices closed sockets asynchronously
        if await _count(admin, name) == 0:
            break
        await asyncio.sleep(0.02)
    assert await _count(admin, name) == 0
