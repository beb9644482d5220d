"""Faults: a server that is down, a crash and restart between calls, and 200 calls on a pool of 5."""

from __future__ import annotations

import asyncio

import pytest

from dbspecialist.adapters.mysql import POOL_MAX_SIZE, MySQLAdapter
from dbspecialist.errors import ConnectionFailedError
from tests.integration.mysql.conftest import HOST, PORT, admin, make_config
from tests.integration.proxy import fault_proxy

pytestmark = pytest.mark.integration


async def one(adapter: MySQLAdapter, sql: str = "SELECT COUNT(*) FROM orders") -> list[list[object]]:
    result = await adapter.run_read_only(sql, max_rows=10, max_bytes=10_000, timeout_ms=5_000)
    return result.rows


def server_connections(database: str) -> int:
    with admin() as conn, conn.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = %s", (database,))
        return int(cur.fetchone()[0])


async def test_server_down_at_start_is_a_clear_error_and_others_keep_working(mysql_db: str) -> None:
    async with fault_proxy(HOST, PORT) as proxy:
        await proxy.cut()
        down = MySQLAdapter(make_config(mysql_db, "down", host_port=f"127.0.0.1:{proxy.port}", connect_timeout_ms=1000))
        up = MySQLAdapter(make_config(mysql_db, "up"))
        try:
            with pytest.raises(ConnectionFailedError) as info:
                await one(down)
            message = str(info.value)
            assert "'down'" in message and f"127.0.0.1:{proxy.port}" in message and "cannot connect" in message
            assert await one(up) == [[3]]
            with pytest.raises(ConnectionFailedError):
                await down.introspect()
        finally:
            await down.close()
            await up.close()


async def test_restart_between_two_calls_reconnects(mysql_db: str) -> None:
    async with fault_proxy(HOST, PORT) as proxy:
        adapter = MySQLAdapter(make_config(mysql_db, host_port=f"127.0.0.1:{proxy.port}", connect_timeout_ms=1000))
        try:
            assert await one(adapter) == [[3]]
            await proxy.cut()
            with pytest.raises(ConnectionFailedError, match=f"127.0.0.1:{proxy.port}"):
                await one(adapter)
            proxy.restore()
            assert await one(adapter) == [[3]]
            # A crash that nobody noticed: the next call still succeeds (stale connections are dropped).
            await proxy.cut()
            proxy.restore()
            assert await one(adapter) == [[3]]
            assert proxy.connections_made >= 2
        finally:
            await adapter.close()


async def test_200_concurrent_calls_on_a_pool_of_5_leave_no_connection_behind(mysql_db: str) -> None:
    baseline = server_connections(mysql_db)
    adapter = MySQLAdapter(make_config(mysql_db))
    try:
        queries = ["SELECT COUNT(*) FROM orders", "SELECT id FROM customers"]  # the second is truncated at 1 row
        results = await asyncio.gather(
            *(
                adapter.run_read_only(queries[i % 2], max_rows=1 if i % 2 else 10, max_bytes=10_000, timeout_ms=10_000)
                for i in range(200)
            )
        )
        assert all(r.rows for r in results)
        assert sum(r.truncated for r in results) == 100
        assert server_connections(mysql_db) - baseline <= POOL_MAX_SIZE
    finally:
        await adapter.close()
    for _ in range(50):
        if server_connections(mysql_db) == baseline:
            break
        await asyncio.sleep(0.05)
    assert server_connections(mysql_db) == baseline
