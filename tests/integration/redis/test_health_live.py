"""check_health on a real Redis: a full maxmemory with evictions and a big key are reported.

The shared Redis is never reconfigured: the test starts its own `redis-server` on a free loopback port with
`--maxmemory 2mb --maxmemory-policy allkeys-lru` and no persistence, writes past maxmemory (evictions), then
creates a list of 12,000 elements (a big key by element count) a second later, so that LRU keeps it when the
snapshot's own connections and buffers evict a few more keys, and stops the server at the end.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from dbspecialist.adapters.health_redis import redis_health_snapshot
from dbspecialist.adapters.redis import RedisAdapter
from dbspecialist.knowledge.findings import Severity
from dbspecialist.knowledge.health.redis import LATENCY_OFF, STANDALONE, check_redis
from tests.integration.redis.conftest import redis_conn
from tests.integration.servers import IN_CI

REDIS_SERVER = "/usr/bin/redis-server"
FILLER_KEYS = 300
FILLER_BYTES = 10_000
LRU_CLOCK_S = 1.1  # Redis's LRU clock ticks once a second: the big key must be a tick newer than the filler
BIG_KEY = "h2:feed"
BIG_ELEMENTS = 12_000
CHUNK = 500


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def small_redis(tmp_path: Path) -> Iterator[redis.Redis]:
    """A private redis-server capped at 2 MB (allkeys-lru, no persistence), stopped afterwards."""
    exe = REDIS_SERVER if Path(REDIS_SERVER).exists() else shutil.which("redis-server")
    if exe is None:
        if IN_CI:
            pytest.fail("redis-server is not installed")
        pytest.skip("SKIPPED LOUDLY: redis-server is not installed (apt-get install redis-server)")
    port = _free_port()
    args = [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    args += ["--maxmemory", "2mb", "--maxmemory-policy", "allkeys-lru", "--dir", str(tmp_path)]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp_path)
    client = redis.Redis(host="127.0.0.1", port=port)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"redis-server did not start on port {port}") from None
                time.sleep(0.05)
        yield client
    finally:
        client.close()
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


async def test_full_maxmemory_evictions_and_big_key_are_reported(small_redis: redis.Redis) -> None:
    pipe = small_redis.pipeline(transaction=False)
    for i in range(FILLER_KEYS):
        pipe.set(f"h2:filler:{i}", b"x" * FILLER_BYTES)
    pipe.execute()
    await asyncio.sleep(LRU_CLOCK_S)
    for start in range(0, BIG_ELEMENTS, CHUNK):  # small commands: a huge one's query buffer would over-evict
        small_redis.rpush(BIG_KEY, *range(start, start + CHUNK))  # the most recently used key: LRU keeps it
    evicted = int(small_redis.info("stats")["evicted_keys"])
    assert evicted > 0 and small_redis.llen(BIG_KEY) == BIG_ELEMENTS

    port = small_redis.connection_pool.connection_kwargs["port"]
    adapter = RedisAdapter(redis_conn(url=f"redis://127.0.0.1:{port}/0"))
    try:
        snapshot = await redis_health_snapshot(adapter)
    finally:
        await adapter.close()
    assert json.loads(json.dumps(snapshot)) == snapshot  # JSON-able, as the contract says
    report = check_redis(snapshot)
    found = {f.rule_id: f for f in report.findings}

    memory = found["HLT130"]  # near maxmemory, allkeys-lru: a cache at capacity
    assert memory.severity is Severity.LOW and memory.evidence["maxmemory"] == 2 * 1024**2
    assert memory.evidence["maxmemory_policy"] == "allkeys-lru" and float(memory.evidence["used_pct"] or 0) >= 90.0

    evictions = found["HLT133"]  # the adapter's own connections may evict a few more keys
    assert int(evictions.evidence["evicted_keys"] or 0) >= evicted and evictions.evidence["measured"] == "counter"
    assert evictions.evidence["since"] == report.stats_since is not None

    [big] = [f for f in report.findings if f.rule_id == "HLT146"]
    assert big.subject == BIG_KEY and big.evidence["type"] == "list" and big.evidence["length"] == BIG_ELEMENTS
    assert big.fix is not None and big.fix.statements == [f"UNLINK {BIG_KEY}"]

    assert found["HLT141"].evidence["save"] == "" and found["HLT141"].evidence["appendonly"] == "no"
    assert report.skipped["latency"] == LATENCY_OFF
    assert report.skipped["replication_lag"] == STANDALONE
    assert report.metrics["evicted_keys"] == evictions.evidence["evicted_keys"]
    assert report.metrics["biggest_key"] == BIG_KEY
    # INFO is read before the SCAN sample; keys evicted in between only lower the sample.
    assert 0 < int(report.metrics["sampled_keys"] or 0) <= int(report.metrics["keys"] or 0) < FILLER_KEYS
