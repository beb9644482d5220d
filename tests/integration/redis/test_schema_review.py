"""Live schema review on Redis: a deliberately flawed key population, reviewed through the MCP tool.

The keys live in db 13 under a random prefix; findings about other keys in that database (other tests'
leftovers) are ignored, server-wide findings (SCH083, `table` None) are kept. Every flawed pattern maps
to one finding; the well-behaved patterns (expiring cache, persistent hashes, a few small counters,
a long but small list) must produce nothing.
"""

from __future__ import annotations

import asyncio
import json
import random
import shutil
import subprocess
import time
from collections.abc import Iterator

import pytest
import redis
from mcp import Client

from dbspecialist.adapters.redis import SAMPLE_KEYS
from dbspecialist.config import ConnectionSet
from dbspecialist.server.app import build_server
from dbspecialist.server.state import ServerState
from tests.integration.redis.conftest import DB, delete_prefix, redis_conn

pytestmark = pytest.mark.integration

# Consonants only, so the random prefix can never spell a cache word ("cache", "session", "ratelimit").
PREFIX_LETTERS = "bdfghjkmnpqvwxz"
SESSIONS = 20
LOCKS = 3
RATE_LIMITS = 10
LAST_SEEN = 150  # tiny string keys, above the 100-key threshold
VISITS = 120  # tiny string keys that expire
BLOB_BYTES = 1_500_000  # one string of ~1.5 MB: above the 1 MiB big-key threshold
EVENT_FIELDS = 30_000  # one hash of several MB
COUNTERS = 60  # tiny string keys, but too few to matter


@pytest.fixture
def key_prefix(raw: redis.Redis) -> Iterator[str]:
    value = "t" + "".join(random.choices(PREFIX_LETTERS, k=9))
    yield value
    delete_prefix(raw, value)


def expected(p: str, maxmemory: int, policy: str) -> set[tuple[str, str]]:
    found = {
        ("SCH080", f"{p}:session:*"),  # cache-like, never expires
        ("SCH080", f"{p}:lock:invoice:*"),  # a lock without expiry (high)
        ("SCH080", f"{p}:user:*:rateLimit"),  # camelCase cache word
        ("SCH081", f"{p}:export:blob"),  # 1.5 MB string
        ("SCH081", f"{p}:events:all"),  # multi-MB hash
        ("SCH082", f"{p}:user:*:last_seen"),  # 150 tiny strings
        ("SCH082", f"{p}:visit:*:count"),  # 120 tiny strings (with expiry)
    }
    # Server-wide: depends on the shared server's configuration, which the test must not change.
    if maxmemory == 0:
        found.add(("SCH083", "maxmemory"))
    elif policy == "noeviction":
        found.add(("SCH083", "maxmemory-policy"))
    return found


def seed_flawed(client: redis.Redis, p: str) -> None:
    pipe = client.pipeline(transaction=False)
    for i in range(SESSIONS):
        pipe.set(f"{p}:session:{random.getrandbits(64):016x}{i:04d}", json.dumps({"user": i}))
    for i in range(LOCKS):
        pipe.set(f"{p}:lock:invoice:{1000 + i}", "worker-7", nx=True)
    for i in range(RATE_LIMITS):
        pipe.set(f"{p}:user:{i}:rateLimit", 3)
    pipe.set(f"{p}:export:blob", b"x" * BLOB_BYTES)
    for start in range(0, EVENT_FIELDS, 5_000):
        pipe.hset(f"{p}:events:all", mapping={f"evt-{k}": "y" * 60 for k in range(start, start + 5_000)})
    for i in range(LAST_SEEN):
        pipe.set(f"{p}:user:{i}:last_seen", 1_718_000_000 + i)
    for i in range(VISITS):
        pipe.set(f"{p}:visit:{i}:count", i, ex=3600)
    # Well-behaved: expiring cache, persistent hashes, a few counters, a long list that stays small.
    for i in range(SESSIONS):
        pipe.set(f"{p}:cache:page:{i}", "<html>" + "z" * 50, ex=600)
    for i in range(30):
        pipe.hset(f"{p}:product:{i}", mapping={"name": f"product {i}", "price_cents": 100 * i})
    for i in range(COUNTERS):
        pipe.set(f"{p}:counter:{i}", i)
    pipe.rpush(f"{p}:feed:recent", *range(5_000))
    pipe.zadd(f"{p}:leaderboard", {f"player{i}": i for i in range(2_000)})
    pipe.execute()


def _run(argv: list[str]) -> None:
    subprocess.run(argv, check=True, capture_output=True, timeout=30)


async def test_review_schema_finds_exactly_the_planted_flaws(raw: redis.Redis, key_prefix: str) -> None:
    p = key_prefix
    seed_flawed(raw, p)
    keys_in_db = raw.dbsize()
    if keys_in_db > SAMPLE_KEYS:
        pytest.skip(f"db {DB} holds {keys_in_db} keys; the review samples {SAMPLE_KEYS}, so ours may be missed")
    config = redis_conn("cache")
    state = ServerState.from_connections(ConnectionSet({config.name: config}))
    try:
        async with Client(build_server(state)) as client:
            started = time.perf_counter()
            result = await client.call_tool(
                "review_schema", {"connection": "cache", "min_severity": "info", "max_findings": 2000}
            )
            elapsed = time.perf_counter() - started
    finally:
        await state.registry.close()
    review = result.structured_content
    assert review is not None and not result.is_error and not review["truncated"]
    findings = [f for f in review["findings"] if f["table"] is None or f["table"].startswith(f"{p}:")]
    print(f"\nredis live review: {elapsed * 1000:.0f} ms, rules {review['rules_ms']} ms, {len(findings)} findings")
    for f in findings:
        print(f["rule_id"], f["severity"], f["subject"], f["evidence"])
    by_key = {(f["rule_id"], f["subject"]): f for f in findings}
    assert len(by_key) == len(findings)
    config_reply = raw.config_get("maxmemory*")
    maxmemory, policy = int(str(config_reply["maxmemory"])), str(config_reply["maxmemory-policy"])
    assert set(by_key) == expected(p, maxmemory, policy)
    assert review["source"] == "live" and review["engine"] == "redis"

    session = by_key[("SCH080", f"{p}:session:*")]
    assert session["severity"] == "medium" and session["evidence"]["sampled_keys"] == SESSIONS
    assert session["evidence"]["ttl_share_pct"] == 0 and session["evidence"]["type"] == "string"
    lock = by_key[("SCH080", f"{p}:lock:invoice:*")]
    assert lock["severity"] == "high" and lock["evidence"]["sampled_keys"] == LOCKS
    assert by_key[("SCH080", f"{p}:user:*:rateLimit")]["evidence"]["sampled_keys"] == RATE_LIMITS

    blob = by_key[("SCH081", f"{p}:export:blob")]
    assert blob["severity"] == "high" and blob["evidence"]["type"] == "string"
    assert blob["evidence"]["length"] == BLOB_BYTES
    assert BLOB_BYTES <= blob["evidence"]["memory_bytes"] <= 2 * BLOB_BYTES
    events = by_key[("SCH081", f"{p}:events:all")]
    assert events["evidence"]["type"] == "hash" and events["evidence"]["length"] == EVENT_FIELDS
    assert events["evidence"]["memory_bytes"] > 2 * 1024 * 1024

    last_seen = by_key[("SCH082", f"{p}:user:*:last_seen")]
    assert last_seen["evidence"]["sampled_keys"] == LAST_SEEN and last_seen["evidence"]["memory_bytes_avg"] < 100
    assert last_seen["evidence"]["ttl_share_pct"] == 0
    # The sample covers all of db 13, so the estimate is the pattern's own key count (keys of other logical
    # databases must not inflate it).
    assert abs(last_seen["evidence"]["estimated_keys"] - LAST_SEEN) <= 2
    visits = by_key[("SCH082", f"{p}:visit:*:count")]
    assert visits["evidence"]["sampled_keys"] == VISITS and visits["evidence"]["ttl_share_pct"] == 100.0
    assert "HEXPIRE" in visits["fix"]["note"]

    if maxmemory == 0:
        server = by_key[("SCH083", "maxmemory")]
        assert server["subject_kind"] == "server" and server["evidence"]["maxmemory"] == 0
        assert server["evidence"]["maxmemory_policy"] == policy
        assert server["evidence"]["cache_like_patterns_without_ttl"] >= 3  # ours, at least

    # Run the fixes that touch only our keys (never the CONFIG ones: the server is shared). The
    # statements address the connection's own database (redis-cli -n 13), as written.
    cli = shutil.which("redis-cli")
    if cli is None:
        return
    [backfill] = session["fix"]["statements"]
    on_db = f"redis-cli -n {DB}"
    assert backfill.startswith(f"{on_db} --scan --pattern {p}:session:* |") and backfill.endswith(f"| {on_db}")
    await asyncio.to_thread(_run, ["bash", "-c", backfill.replace("redis-cli", cli)])
    ttls = [raw.ttl(k) for k in raw.scan_iter(match=f"{p}:session:*")]
    assert len(ttls) == SESSIONS and all(0 < t <= 86_400 for t in ttls)
    unlink, lazy = blob["fix"]["statements"]
    assert unlink == f"{on_db} UNLINK {p}:export:blob" and lazy.startswith("redis-cli CONFIG SET")
    await asyncio.to_thread(_run, [cli, *unlink.split()[1:]])
    assert not raw.exists(f"{p}:export:blob")
