"""Redis fixtures: a private logical database (13), a random key prefix per test, keys removed afterwards."""

from __future__ import annotations

import hashlib
import random
import string
from collections.abc import AsyncIterator, Iterator

import pytest
import redis

from dbspecialist.adapters.redis import RedisAdapter
from dbspecialist.config import ConnectionConfig, ConnectionOptions, parse_connection
from tests.integration.servers import require_server

HOST, PORT, DB = "127.0.0.1", 6379, 13
URL = f"redis://{HOST}:{PORT}/{DB}"


def redis_conn(name: str = "r", url: str = URL, **options: object) -> ConnectionConfig:
    return parse_connection(name, url, source="test", options=ConnectionOptions(**options))  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def _redis_up() -> None:
    require_server("Redis", HOST, PORT)


@pytest.fixture
def raw(_redis_up: None) -> Iterator[redis.Redis]:
    """A plain synchronous client on db 13 for setting up and checking test data."""
    client = redis.Redis(host=HOST, port=PORT, db=DB)
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def prefix(raw: redis.Redis) -> Iterator[str]:
    """A random key prefix (letters only, so key patterns keep it); its keys are unlinked afterwards."""
    value = "t" + "".join(random.choices(string.ascii_lowercase, k=9))
    yield value
    delete_prefix(raw, value)


def delete_prefix(client: redis.Redis, value: str) -> None:
    batch = list(client.scan_iter(match=f"{value}*", count=1000))
    for i in range(0, len(batch), 500):
        client.unlink(*batch[i : i + 500])


def checksum(client: redis.Redis, value: str) -> str:
    """Digest of every key under the prefix: name, type, TTL presence and serialized value (DUMP)."""
    digest = hashlib.sha256()
    for key in sorted(client.scan_iter(match=f"{value}*", count=1000)):
        digest.update(key)
        digest.update(str(client.type(key)).encode())
        digest.update(b"ttl" if client.pttl(key) >= 0 else b"-")
        digest.update(client.dump(key) or b"")
    return digest.hexdigest()


def seed(client: redis.Redis, value: str) -> None:
    """A small dataset of every core type under the prefix."""
    pipe = client.pipeline(transaction=False)
    for i in range(20):
        pipe.hset(f"{value}:user:{i}", mapping={"name": f"user {i}", "age": 20 + i})
        pipe.set(f"{value}:user:{i}:session", f"s{i}", ex=3600)
    pipe.rpush(f"{value}:queue", *range(50))
    pipe.sadd(f"{value}:tags", *(f"tag{i}" for i in range(30)))
    pipe.zadd(f"{value}:board", {f"p{i}": i for i in range(40)})
    pipe.xadd(f"{value}:events", {"kind": "login"})
    pipe.set(f"{value}:k", "v")
    pipe.execute()


@pytest.fixture
async def adapter(_redis_up: None) -> AsyncIterator[RedisAdapter]:
    instance = RedisAdapter(redis_conn())
    try:
        yield instance
    finally:
        await instance.close()
