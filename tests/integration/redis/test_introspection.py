"""introspect(), settings(), statistics(), explain() and the MCP tools on a live Redis."""

from __future__ import annotations

import time
from typing import Any

import pytest
import redis
from mcp import Client

from dbspecialist.adapters.base import NotSupportedError
from dbspecialist.adapters.redis import MAX_SCAN_CALLS, SAMPLE_KEYS, RedisAdapter
from dbspecialist.config import ConnectionSet
from dbspecialist.errors import QueryError
from dbspecialist.server.app import build_server
from dbspecialist.server.state import ServerState
from tests.integration.redis.conftest import DB, delete_prefix, redis_conn, seed

pytestmark = pytest.mark.integration


def fill(client: redis.Redis, prefix: str, users: int) -> None:
    pipe = client.pipeline(transaction=False)
    for i in range(users):
        pipe.set(f"{prefix}:user:{i}:session", "x" * 20, ex=600)
        pipe.hset(f"{prefix}:order:6f1c2a3e-8b4d-4c2e-9f00-{i:012d}", mapping={"total": i})
    pipe.execute()


async def test_introspection_groups_patterns_and_finds_big_keys(
    adapter: RedisAdapter, raw: redis.Redis, prefix: str
) -> None:
    seed(raw, prefix)
    raw.rpush(f"{prefix}:huge", *("z" * 100 for _ in range(2_000)))
    catalog = await adapter.introspect()
    ks = catalog.keyspace
    assert ks is not None and catalog.engine == "redis" and catalog.tables == []
    assert catalog.server_version and catalog.server_version.startswith("7.")
    assert catalog.database == f"db{DB}" and catalog.round_trips is not None
    patterns = {(p.pattern, p.type): p for p in ks.patterns}
    sessions = patterns[(f"{prefix}:user:*:session", "string")]
    assert sessions.sampled_keys == 20 and sessions.ttl_share_pct == 100.0
    users = patterns[(f"{prefix}:user:*", "hash")]
    assert users.sampled_keys == 20 and users.ttl_share_pct == 0.0 and users.memory_bytes_avg
    assert users.memory_bytes_sampled and users.memory_bytes_sampled >= 20 * users.memory_bytes_avg * 0.99
    assert ks.biggest_keys[0].key == f"{prefix}:huge" and ks.biggest_keys[0].type == "list"
    assert ks.biggest_keys[0].length == 2_000 and (ks.biggest_keys[0].memory_bytes or 0) > 100_000
    db = next(d for d in ks.databases if d.db == DB)
    assert db.keys >= 46 and db.expires >= 20
    assert isinstance(ks.info["memory"]["used_memory"], int) and "redis_version" in ks.info["server"]
    # INFO + SCAN calls + one pipeline for TYPE/PTTL/MEMORY USAGE + one for the biggest keys' lengths.
    assert catalog.round_trips <= 1 + MAX_SCAN_CALLS + 2
    with pytest.raises(QueryError, match="db13"):
        await adapter.introspect(schema="db0")


async def test_round_trips_stay_constant_as_the_keyspace_grows(adapter: RedisAdapter, raw: redis.Redis) -> None:
    """1,500 then 6,000 keys: the sample stops at SAMPLE_KEYS, the round trips do not grow."""
    prefix = "tbulkintro"
    trips: list[int] = []
    try:
        for users in (750, 3_000):
            fill(raw, prefix, users)
            started = time.perf_counter()
            catalog = await adapter.introspect()
            elapsed = time.perf_counter() - started
            assert catalog.keyspace is not None and catalog.round_trips is not None
            assert catalog.keyspace.sampled_keys == SAMPLE_KEYS
            trips.append(catalog.round_trips)
            print(f"\nintrospect, {raw.dbsize():,} keys: {elapsed * 1000:.1f} ms, {catalog.round_trips} round trips")
            assert elapsed < 2.0
    finally:
        delete_prefix(raw, prefix)
    assert max(trips) <= 1 + MAX_SCAN_CALLS + 2
    assert abs(trips[1] - trips[0]) <= 2  # SCAN returns ~COUNT keys per call whatever the keyspace size


async def test_settings_statistics_and_explain(adapter: RedisAdapter) -> None:
    settings = {s.name: s for s in await adapter.settings()}
    assert settings["maxmemory"].unit == "bytes" and settings["maxmemory"].value is not None
    assert settings["slowlog-log-slower-than"].unit == "us" and settings["timeout"].unit == "s"
    assert settings["maxmemory-policy"].unit is None
    stats = await adapter.statistics()
    assert isinstance(stats["info"]["stats"]["total_commands_processed"], int)
    assert "commandstats" in stats["info"] and isinstance(stats["slowlog"], list)
    assert isinstance(stats["latency_latest"], list) and "total.allocated" in stats["memory_stats"]
    with pytest.raises(NotSupportedError, match="SLOWLOG"):
        await adapter.explain("GET k", timeout_ms=1000)
    assert (await adapter.server_version()).startswith("7.")


async def call(tool: str, args: dict[str, Any]) -> Any:
    state = ServerState.from_connections(ConnectionSet({"cache": redis_conn("cache")}))
    try:
        async with Client(build_server(state)) as client:
            return await client.call_tool(tool, args)
    finally:
        await state.registry.close()


async def test_tools_work_on_redis(raw: redis.Redis, prefix: str) -> None:
    raw.hset(f"{prefix}:user:1", mapping={"name": "Ann"})
    listed = await call("list_connections", {})
    [conn] = listed.structured_content["connections"]
    assert conn["engine"] == "redis" and conn["status"] == "ok" and conn["server_version"].startswith("7.")
    result = await call("run_query", {"connection": "cache", "query": f"HGETALL {prefix}:user:1"})
    assert not result.is_error
    assert result.structured_content["columns"] == ["field", "value"]
    assert result.structured_content["rows"] == [["name", "Ann"]]
    refused = await call("run_query", {"connection": "cache", "query": "FLUSHALL"})
    assert refused.is_error and "Refused by the read-only guard" in refused.content[0].text
    described = await call("describe_schema", {"connection": "cache"})
    assert not described.is_error and described.structured_content["engine"] == "redis"
    assert raw.hget(f"{prefix}:user:1", "name") == b"Ann"
