"""Redis SCAN through run_query: a cursor step is never cut, so following next_cursor reads every key once."""

from __future__ import annotations

import random
import string
from collections.abc import AsyncIterator, Iterator

import pytest
import redis

from dbspecialist.adapters.redis import RedisAdapter
from dbspecialist.errors import QueryError
from tests.integration.redis.conftest import DB, HOST, PORT, delete_prefix, redis_conn
from tests.integration.servers import require_server

pytestmark = pytest.mark.integration

MAX_ROWS = 200


@pytest.fixture
def raw() -> Iterator[redis.Redis]:
    require_server("Redis", HOST, PORT)
    client = redis.Redis(host=HOST, port=PORT, db=DB)
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def prefix(raw: redis.Redis) -> Iterator[str]:
    value = "q" + "".join(random.choices(string.ascii_lowercase, k=9))
    yield value
    delete_prefix(raw, value)


@pytest.fixture
async def adapter(raw: redis.Redis) -> AsyncIterator[RedisAdapter]:
    instance = RedisAdapter(redis_conn())
    try:
        yield instance
    finally:
        await instance.close()


async def run(adapter: RedisAdapter, query: str) -> tuple[list[list[object]], bool]:
    result = await adapter.run_read_only(query, max_rows=MAX_ROWS, max_bytes=10_000_000, timeout_ms=5_000)
    return result.rows, result.truncated


async def test_following_the_cursor_reads_every_key(adapter: RedisAdapter, raw: redis.Redis, prefix: str) -> None:
    raw.mset({f"{prefix}:{i}": i for i in range(603)})
    seen: set[str] = set()
    cursor, steps = "0", 0
    while True:
        rows, truncated = await run(adapter, f"SCAN {cursor} MATCH {prefix}:* COUNT 1000")
        assert not truncated and len(rows) <= MAX_ROWS  # the step fits whole: nothing is cut
        seen |= {str(r[1]) for r in rows if r[1] is not None}
        cursor = str(rows[0][0]) if rows else "0"
        steps += 1
        if cursor == "0" or steps > 10_000:
            break
    assert seen == {f"{prefix}:{i}" for i in range(603)}


async def test_a_step_bigger_than_the_cap_is_refused_not_cut(
    adapter: RedisAdapter, raw: redis.Redis, prefix: str
) -> None:
    raw.sadd(f"{prefix}:ints", *range(400))  # an intset: SSCAN returns it whole whatever COUNT says
    with pytest.raises(QueryError, match=r"SSCAN returned 400 entries in one step.*Use SMEMBERS"):
        await run(adapter, f"SSCAN {prefix}:ints 0 COUNT 1000")
    rows, truncated = await run(adapter, f"SMEMBERS {prefix}:ints")
    assert truncated and len(rows) == MAX_ROWS
