"""MongoDB faults: a server down at start-up, a restart between calls, a burst on a pool of 5."""

from __future__ import annotations

import asyncio
import socket
import time
from typing import Any
from urllib.parse import urlsplit

import pytest
from pymongo import MongoClient

from dbspecialist.adapters.mongodb import POOL_SIZE, MongoAdapter
from dbspecialist.config import ConnectionOptions, parse_connection
from dbspecialist.errors import ConnectionFailedError
from tests.integration.mongodb.conftest import mongo_conn, uri_for
from tests.integration.proxy import fault_proxy

pytestmark = pytest.mark.integration

Admin = MongoClient[dict[str, Any]]
FIND = '{"find": "c", "filter": {"_id": 1}}'


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # nothing listens once the socket is closed


async def _find(adapter: MongoAdapter) -> list[list[Any]]:
    result = await adapter.run_read_only(FIND, max_rows=10, max_bytes=10_000, timeout_ms=3_000)
    return result.rows


async def test_server_down_at_start_up_is_a_clear_error_and_others_keep_working(
    mongo_uri: str, mongo_db: str, mongo_admin: Admin
) -> None:
    mongo_admin[mongo_db].c.insert_one({"_id": 1})
    secret = "S3cret-Mongo-pw"
    port = _closed_port()
    down = MongoAdapter(
        parse_connection(
            "downdb",
            f"mongodb://app:{secret}@127.0.0.1:{port}/x?directConnection=true",
            source="test",
            options=ConnectionOptions(connect_timeout_ms=300),
        )
    )
    live = MongoAdapter(mongo_conn(mongo_uri, mongo_db))
    try:
        started = time.perf_counter()
        with pytest.raises(ConnectionFailedError) as failed:
            await _find(down)
        assert time.perf_counter() - started < 3.0
        message = str(failed.value)
        assert "'downdb'" in message and f"127.0.0.1:{port}" in message and "not reachable" in message
        assert secret not in message
        assert await _find(live) == [[1]]
    finally:
        await down.close()
        await live.close()


async def test_restart_between_calls_is_survived(mongo_uri: str, mongo_db: str, mongo_admin: Admin) -> None:
    mongo_admin[mongo_db].c.insert_one({"_id": 1})
    target = urlsplit(mongo_uri)
    async with fault_proxy(target.hostname or "127.0.0.1", target.port or 27017) as proxy:
        url = uri_for(mongo_uri, mongo_db, ("127.0.0.1", proxy.port))
        adapter = MongoAdapter(
            parse_connection("viaproxy", url, source="test", options=ConnectionOptions(connect_timeout_ms=1_000))
        )
        try:
            assert await _find(adapter) == [[1]]
            await proxy.cut()
            with pytest.raises(ConnectionFailedError, match=f"127.0.0.1:{proxy.port}"):
                await _find(adapter)
            proxy.restore()
            assert await _find(adapter) == [[1]]  # the next call reconnects
        finally:
            await adapter.close()


def _current_connections(admin: Admin) -> int:
    return int(admin.admin.command("serverStatus")["connections"]["current"])


async def test_200_concurrent_calls_on_a_pool_of_5_and_no_leak(
    mongo_uri: str, mongo_db: str, mongo_admin: Admin
) -> None:
    mongo_admin[mongo_db].c.insert_one({"_id": 1})
    baseline = _current_connections(mongo_admin)
    adapter = MongoAdapter(mongo_conn(mongo_uri, mongo_db))
    try:
        results = await asyncio.gather(*(_find(adapter) for _ in range(200)))
        assert all(rows == [[1]] for rows in results)
        during = _current_connections(mongo_admin)
        # the pool (<= 5) plus the driver's two monitoring sockets
        assert baseline < during <= baseline + POOL_SIZE + 2
    finally:
        await adapter.close()
    after = _current_connections(mongo_admin)
    for _ in range(100):  # the server notices closed sockets shortly after the client closes them
        if after == baseline:
            break
        await asyncio.sleep(0.05)
        after = _current_connections(mongo_admin)
    assert after == baseline, f"connections: baseline {baseline}, after close {after}"
