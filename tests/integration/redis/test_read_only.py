"""Redis is read-only in depth: the static guard, then the server's own command flags; replies are bounded."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dbspecialist.adapters import guard_redis
from dbspecialist.adapters.redis import RedisAdapter
from dbspecialist.errors import DBSpecialistError, QueryError, QueryRefusedError
from tests.integration.redis.conftest import checksum, redis_conn, seed

pytestmark = pytest.mark.integration

# {p} is the test's key prefix. Every entry must be refused with a reason and change nothing.
ATTACKS = [
    "FLUSHALL",
    "FLUSHDB",
    "flushdb ASYNC",
    "CONFIG SET maxmemory 1",
    "CONFIG REWRITE",
    "CONFIG RESETSTAT",
    "EVAL \"redis.call('set','{p}:k','hacked')\" 0",
    "EVAL_RO \"return redis.call('get','{p}:k')\" 0",
    "EVALSHA 0123456789abcdef0123456789abcdef01234567 0",
    'SCRIPT LOAD "return 1"',
    "FUNCTION LOAD \"#!lua name=x\\nredis.register_function('f', function() return 1 end)\"",
    "FCALL f 0",
    "KEYS *",
    "DEBUG SLEEP 1",
    "SHUTDOWN NOSAVE",
    "SET {p}:k hacked",
    "DEL {p}:k",
    "UNLINK {p}:queue",
    "EXPIRE {p}:k 1",
    "PERSIST {p}:user:1:session",
    "RENAME {p}:k {p}:k2",
    "MIGRATE 127.0.0.1 6379 {p}:k 0 1000",
    "RESTORE {p}:new 0 x",
    "SELECT 0",
    "SWAPDB 13 0",
    "MULTI",
    "CLIENT KILL TYPE normal",
    "CLIENT PAUSE 1000",
    "MONITOR",
    "SUBSCRIBE x",
    "PUBLISH x hi",
    "BLPOP {p}:queue 0",
    "LPOP {p}:queue",
    "SORT {p}:queue STORE {p}:copy",
    "SAVE",
    "BGSAVE",
    "BGREWRITEAOF",
    "MODULE LOAD /tmp/x.so",
    "ACL SETUSER x on",
    "ACL LIST",
    "MEMORY PURGE",
    "SLOWLOG RESET",
    "LATENCY RESET",
    "OBJECT HELP",
    "TOUCH {p}:k",
    "DUMP {p}:k",
    '"SET" {p}:k hacked',
    "s'et' {p}:k hacked",
    "set\x00 {p}:k hacked",
    "GET {p}:k\r\nFLUSHALL",
    "GET {p}:k\nDEL {p}:k",
    "",
    "   ",
    "XREAD BLOCK 0 STREAMS {p}:events $",
    "WAIT 1 0",
]


async def run(adapter: RedisAdapter, query: str, **kw: Any) -> Any:
    return await adapter.run_read_only(
        query,
        kw.get("params"),
        max_rows=kw.get("max_rows", 200),
        max_bytes=kw.get("max_bytes", 1_000_000),
        timeout_ms=kw.get("timeout_ms", 5_000),
    )


def test_corpus_size() -> None:
    assert len(ATTACKS) >= 20


async def test_every_attack_is_refused_and_nothing_changes(
    adapter: RedisAdapter, raw: redis.Redis, prefix: str
) -> None:
    seed(raw, prefix)
    before = checksum(raw, prefix)
    dbsize_before = raw.dbsize()
    for attack in ATTACKS:
        with pytest.raises(QueryRefusedError, match="Refused by the read-only guard: ") as info:
            await run(adapter, attack.format(p=prefix))
        assert len(str(info.value)) > len("Refused by the read-only guard: ") + 10, attack
    assert (await run(adapter, f"GET {prefix}:k")).rows == [["v"]]
    assert checksum(raw, prefix) == before
    assert raw.dbsize() == dbsize_before
    assert raw.get(f"{prefix}:k") == b"v"


async def test_server_flags_refuse_writes_without_the_static_rules(
    raw: redis.Redis, prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Empty the static deny/subcommand lists: the flags from COMMAND INFO must still refuse writes."""
    monkeypatch.setattr(guard_redis, "DENIED", {})
    monkeypatch.setattr(guard_redis, "READ_SUBCOMMANDS", {})
    seed(raw, prefix)
    before = checksum(raw, prefix)
    adapter = RedisAdapter(redis_conn())
    writes = [
        "SET {p}:k hacked", "DEL {p}:k", "FLUSHDB", "FLUSHALL", "EXPIRE {p}:k 1", "RENAME {p}:k {p}:k2",
        "LPOP {p}:queue", "SORT {p}:queue STORE {p}:copy", "BLPOP {p}:queue 1", "SWAPDB 13 0",
        "CONFIG SET maxmemory 1", "CLIENT KILL TYPE pubsub", "PUBLISH x hi", "SELECT 0", "RESTORE {p}:n 0 x",
        "DEBUG SLEEP 0", "SHUTDOWN NOSAVE", "SAVE", "BGSAVE", "MIGRATE 127.0.0.1 6379 {p}:k 0 10",
    ]  # fmt: skip
    try:
        for attack in writes:
            with pytest.raises(QueryRefusedError, match=r"flagged|not flagged 'readonly'"):
                await run(adapter, attack.format(p=prefix))
    finally:
        await adapter.close()
    assert checksum(raw, prefix) == before


async def test_acl_user_is_an_engine_level_layer(raw: redis.Redis, prefix: str) -> None:
    """With a read-only ACL user in the URL, the server refuses writes even past both guard layers."""
    user = f"{prefix}_ro"
    commands = ["-@all", "+@read", "+info", "+client|setname", "+select"]
    raw.acl_setuser(user, enabled=True, passwords=["+s3cret-Pw"], keys=["*"], commands=commands)
    raw.set(f"{prefix}:k", "v")
    adapter = RedisAdapter(redis_conn(url=f"redis://{user}:s3cret-Pw@127.0.0.1:6379/13", read_only=False))
    try:
        assert (await run(adapter, f"GET {prefix}:k")).rows == [["v"]]
        with pytest.raises(QueryError, match=r"NOPERM|no permissions") as info:
            await run(adapter, f"SET {prefix}:k hacked")
        assert "s3cret-Pw" not in str(info.value)
    finally:
        await adapter.close()
        raw.acl_deluser(user)
    assert raw.get(f"{prefix}:k") == b"v"


READS = [
    "GET {p}:k", "HGETALL {p}:user:1", "LRANGE {p}:queue 0 -1", "SMEMBERS {p}:tags", "ZRANGE {p}:board 0 -1 WITHSCORES",
    "SCAN 0 MATCH {p}:* COUNT 100", "TTL {p}:user:1:session", "TYPE {p}:board", "MEMORY USAGE {p}:queue",
    "XRANGE {p}:events - +", "OBJECT ENCODING {p}:tags", "EXISTS {p}:k", "STRLEN {p}:k", "ZSCORE {p}:board p3",
    "HGET {p}:user:2 name", "SRANDMEMBER {p}:tags 3", "LLEN {p}:queue", "DBSIZE", "INFO keyspace", "GET {p}:missing",
]  # fmt: skip
WRITES = [
    "SET {p}:k x", "DEL {p}:queue", "HSET {p}:user:1 name x", "LPUSH {p}:queue x", "SADD {p}:tags x",
    "ZADD {p}:board 1 x", "EXPIRE {p}:k 1", "PERSIST {p}:user:1:session", "RENAME {p}:tags {p}:t2", "INCR {p}:n",
    "XADD {p}:events * a b", "FLUSHDB", "COPY {p}:k {p}:k3", "SETRANGE {p}:k 0 x", "GETDEL {p}:k", "GETEX {p}:k PX 1",
    "EVAL \"return redis.call('del','{p}:k')\" 0", "SORT {p}:queue STORE {p}:q2", "LMOVE {p}:queue {p}:q3 LEFT LEFT",
    "HINCRBY {p}:user:1 age 1", "SPOP {p}:tags", "ZPOPMIN {p}:board", "PFADD {p}:hll a", "SETEX {p}:k 1 x",
]  # fmt: skip
JOINERS = [" ", "\n", "\r\n", ";", " ; ", "\t"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(st.sampled_from(READS + WRITES), min_size=1, max_size=6),
    st.lists(st.sampled_from(JOINERS), min_size=6, max_size=6),
)
async def test_random_command_sequences_never_change_data(
    adapter: RedisAdapter, raw: redis.Redis, prefix: str, commands: list[str], joiners: list[str]
) -> None:
    """Each command alone, then all of them glued into one line: reads pass, nothing ever writes."""
    if not raw.exists(f"{prefix}:k"):
        seed(raw, prefix)
    before = checksum(raw, prefix)
    for command in commands:
        line = command.format(p=prefix)
        try:
            await run(adapter, line)
        except QueryRefusedError:
            assert command in WRITES
        else:
            assert command in READS
    glued = "".join(c.format(p=prefix) + j for c, j in zip(commands, joiners, strict=False)).strip()
    if len(commands) > 1:
        # Several commands on one line: refused, or one read with extra (literal) arguments.
        with contextlib.suppress(QueryRefusedError, QueryError):
            await run(adapter, glued)
    assert checksum(raw, prefix) == before


async def test_writable_connection_allows_one_command(raw: redis.Redis, prefix: str) -> None:
    adapter = RedisAdapter(redis_conn(read_only=False))
    try:
        result = await run(adapter, f"SET {prefix}:w 1")
        assert result.rows == [["OK"]]
        with pytest.raises(QueryRefusedError, match="several lines"):
            await run(adapter, f"SET {prefix}:w 2\nFLUSHDB")
        with pytest.raises(QueryRefusedError, match="SELECT"):
            await run(adapter, "SELECT 0")
    finally:
        await adapter.close()
    assert raw.get(f"{prefix}:w") == b"1"


async def test_reads_and_shapes(adapter: RedisAdapter, raw: redis.Redis, prefix: str) -> None:
    seed(raw, prefix)
    raw.set(f"{prefix}:bin", b"\x00\xff\x10")
    hgetall = await run(adapter, f'HGETALL "{prefix}:user:1"')
    assert hgetall.columns == ["field", "value"] and sorted(hgetall.rows) == [["age", "21"], ["name", "user 1"]]
    top = await run(adapter, f"ZRANGE {prefix}:board 0 2 WITHSCORES")
    assert top.columns == ["member", "score"] and top.rows == [["p0", 0.0], ["p1", 1.0], ["p2", 2.0]]
    scan = await run(adapter, f"SCAN 0 MATCH {prefix}:user:1* COUNT 1000000")
    assert scan.columns == ["next_cursor", "key"]
    info = await run(adapter, "INFO server")
    assert info.columns == ["section", "field", "value"]
    assert any(r[:2] == ["server", "redis_version"] for r in info.rows)
    assert (await run(adapter, f"GET {prefix}:bin")).rows == [[{"$base64": "AP8Q", "bytes": 3}]]
    assert (await run(adapter, f"TTL {prefix}:user:1:session")).rows[0][0] > 3000
    assert (await run(adapter, f"TYPE {prefix}:board")).rows == [["zset"]]
    assert (await run(adapter, f"MEMORY USAGE {prefix}:queue")).rows[0][0] > 0
    maxmemory = raw.config_get("maxmemory")["maxmemory"]
    assert (await run(adapter, "CONFIG GET maxmemory")).rows == [["maxmemory", maxmemory]]
    assert (await run(adapter, "GET", params=[f"{prefix}:k"])).rows == [["v"]]
    events = await run(adapter, f"XRANGE {prefix}:events - +")
    assert events.columns == ["id", "fields"] and events.rows[0][1] == {"kind": "login"}
    assert (await run(adapter, "CLIENT LIST")).columns == ["line"]
    assert (await run(adapter, "PING")).rows == [["PONG"]]
    assert (await run(adapter, f'GET "{prefix}:k\r\nFLUSHALL"')).rows == [[None]]  # one literal key
    raw.set(f"{prefix}:empty", "")
    assert (await run(adapter, f"GET {prefix}:empty")).rows == [[""]]


async def test_server_errors_are_query_errors(adapter: RedisAdapter, raw: redis.Redis, prefix: str) -> None:
    raw.rpush(f"{prefix}:l", 1)
    with pytest.raises(QueryError, match=r"WRONGTYPE.*'r' \(127.0.0.1:6379\)|'r' \(127.0.0.1:6379\).*WRONGTYPE"):
        await run(adapter, f"GET {prefix}:l")
    with pytest.raises(QueryError, match="wrong number of arguments"):
        await run(adapter, "GET")
    with pytest.raises(QueryRefusedError, match="not a command this server knows"):
        await run(adapter, "NOSUCH x")
    with pytest.raises(DBSpecialistError, match="positional"):
        await run(adapter, "GET", params={"k": 1})
