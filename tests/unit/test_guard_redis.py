"""The Redis command guard without a server: tokeniser, static rules and the flags layer."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dbspecialist.adapters.guard_redis import (
    DENIED,
    MAX_COMMAND_CHARS,
    SCAN_COUNT_MAX,
    RedisCommand,
    check_flags,
    check_redis,
    parse_command,
    tokenize,
)
from dbspecialist.adapters.redis import key_pattern, parse_info, setting_unit
from dbspecialist.errors import QueryRefusedError

# A slice of Redis 7.0's `COMMAND INFO` flags, as the server reports them.
FLAGS: dict[str, frozenset[str]] = {
    name: frozenset(flags.split())
    for name, flags in {
        "get": "readonly fast",
        "set": "write denyoom",
        "del": "write",
        "hgetall": "readonly",
        "scan": "readonly",
        "sscan": "readonly",
        "zrange": "readonly",
        "lrange": "readonly",
        "type": "readonly fast",
        "ttl": "readonly fast",
        "info": "loading stale",
        "ping": "fast",
        "dbsize": "readonly fast",
        "config|get": "admin noscript loading stale",
        "config|set": "admin noscript loading stale",
        "client|list": "admin noscript loading stale",
        "memory|usage": "readonly",
        "slowlog|get": "admin loading stale",
        "pubsub|channels": "pubsub loading stale",
        "publish": "pubsub loading stale fast",
        "xread": "readonly blocking movablekeys",
        "sort": "write denyoom movablekeys",
        "sort_ro": "readonly movablekeys",
        "select": "loading stale fast",
        "keys": "readonly",
        "swapdb": "write fast",
        "echo": "loading stale fast",
    }.items()
}


def flags_of(name: str) -> frozenset[str] | None:
    return FLAGS.get(name)


ACCEPTED = [
    ("GET user:1", [b"GET", b"user:1"]),
    ('HGETALL "user:1"', [b"HGETALL", b"user:1"]),
    ("ZRANGE board 0 9 WITHSCORES", [b"ZRANGE", b"board", b"0", b"9", b"WITHSCORES"]),
    ("SCAN 0 MATCH user:* COUNT 100", [b"SCAN", b"0", b"MATCH", b"user:*", b"COUNT", b"100"]),
    ("INFO memory", [b"INFO", b"memory"]),
    ("MEMORY USAGE k", [b"MEMORY", b"USAGE", b"k"]),
    ("TTL k", [b"TTL", b"k"]),
    ("type k", [b"type", b"k"]),
    ("CONFIG GET maxmemory", [b"CONFIG", b"GET", b"maxmemory"]),
    ("client list", [b"client", b"list"]),
    ("SLOWLOG GET 10", [b"SLOWLOG", b"GET", b"10"]),
    ("PUBSUB CHANNELS", [b"PUBSUB", b"CHANNELS"]),
    ("XREAD COUNT 5 STREAMS s 0", [b"XREAD", b"COUNT", b"5", b"STREAMS", b"s", b"0"]),
    ("SORT_RO l LIMIT 0 10", [b"SORT_RO", b"l", b"LIMIT", b"0", b"10"]),
    ("PING", [b"PING"]),
    ("  GET k  \n", [b"GET", b"k"]),
]


@pytest.mark.parametrize(("line", "argv"), ACCEPTED)
def test_reads_are_accepted(line: str, argv: list[bytes]) -> None:
    assert list(check_redis(line, flags_of).args) == argv


REFUSED = [
    ("", "empty"),
    ("   ", "empty"),
    ("FLUSHALL", "deletes every key"),
    ("flushdb", "deletes every key"),
    ("KEYS *", "use SCAN"),
    ("CONFIG SET maxmemory 1", "CONFIG SET is not a read"),
    ("CONFIG REWRITE", "CONFIG REWRITE is not a read"),
    ("CONFIG RESETSTAT", "not a read"),
    ("CONFIG", "needs a subcommand"),
    ("EVAL \"redis.call('set','k','v')\" 0", "scripting is refused"),
    ('EVAL_RO "return 1" 0', "scripting is refused"),
    ("EVALSHA abc 0", "scripting is refused"),
    ("FCALL_RO f 0", "scripting is refused"),
    ("SCRIPT LOAD x", "scripting is refused"),
    ("FUNCTION LOAD x", "scripting is refused"),
    ("DEBUG SLEEP 1", "DEBUG"),
    ("SHUTDOWN NOSAVE", "stops the server"),
    ("SELECT 0", "connection URL"),
    ("MULTI", "one command per call"),
    ("CLIENT KILL ID 1", "CLIENT KILL is not a read"),
    ("CLIENT PAUSE 1000", "not a read"),
    ("MONITOR", "never returns"),
    ("SUBSCRIBE x", "subscriber"),
    ("BLPOP l 0", "blocks the connection"),
    ("XREAD BLOCK 0 STREAMS s $", "BLOCK"),
    ("WAIT 1 0", "replicas"),
    ("SAVE", "disk"),
    ("MIGRATE h 6379 k 0 1000", "another server"),
    ("RESTORE k 0 x", "creates a key"),
    ("MODULE LOAD /tmp/x.so", "MODULE LOAD is not a read"),
    ("ACL SETUSER x on", "ACL SETUSER is not a read"),
    ("ACL LIST", "ACL LIST is not a read"),
    ("MEMORY PURGE", "not a read"),
    ("SLOWLOG RESET", "not a read"),
    ("LATENCY RESET", "not a read"),
    ("DUMP k", "serialized"),
    ("SET k v", "flagged 'write'"),
    ('"SET" k v', "flagged 'write'"),
    ('S"ET" k v', "flagged 'write'"),
    ("DEL k", "flagged 'write'"),
    ("SORT l", "flagged 'write'"),
    ("SWAPDB 0 1", "swaps"),
    ("PUBLISH ch hi", "subscribers"),
    ("NOSUCHCOMMAND x", "not a command this server knows"),
    ("set\x00 k v", "not a Redis command name"),
    ("GET a\r\nFLUSHALL", "several lines"),
    ("GET a\nSET b c", "several lines"),
    ('GET "unterminated', "unbalanced"),
    ("GET 'a'b", "closing quote"),
    ("CONFIG|SET maxmemory 1", "not a Redis command name"),
    ("CONFIG GET\x00 x", "not a Redis subcommand name"),
]


@pytest.mark.parametrize(("line", "reason"), REFUSED)
def test_refused_with_a_reason(line: str, reason: str) -> None:
    with pytest.raises(QueryRefusedError, match=r"^Refused by the read-only guard: ") as info:
        check_redis(line, flags_of)
    assert reason in str(info.value)


def test_quoting_follows_redis_cli() -> None:
    assert tokenize('GET "a b"') == [b"GET", b"a b"]
    assert tokenize(r'GET "tab\there" "nl\nx" "q\"q" "back\\slash"') == [
        b"GET",
        b"tab\there",
        b"nl\nx",
        b'q"q',
        b"back\\slash",
    ]
    assert tokenize(r'GET "\x00\xff\x41"') == [b"GET", b"\x00\xffA"]
    assert tokenize(r"GET 'it\'s' 'raw\n'") == [b"GET", b"it's", b"raw\\n"]
    assert tokenize('GET "é"') == [b"GET", "é".encode()]
    assert tokenize('GET a"b c"') == [b"GET", b"ab c"]
    assert tokenize('GET ""') == [b"GET", b""]
    # A quoted line break is a literal byte of one argument, never a second command.
    assert tokenize('GET "a\r\nFLUSHALL"') == [b"GET", b"a\r\nFLUSHALL"]


def test_a_quoted_newline_is_one_key() -> None:
    command = check_redis('GET "a\r\nFLUSHALL"', flags_of)
    assert command.name == "GET" and command.args == (b"GET", b"a\r\nFLUSHALL")


def test_scan_count_is_clamped() -> None:
    command = check_redis("SCAN 0 MATCH COUNT COUNT 999999 TYPE string", flags_of)
    clamped = str(SCAN_COUNT_MAX).encode()
    assert command.args == (b"SCAN", b"0", b"MATCH", b"COUNT", b"COUNT", clamped, b"TYPE", b"string")
    assert check_redis("SSCAN s 0 count 5", flags_of).args[-1] == b"5"
    with pytest.raises(QueryRefusedError, match="COUNT must be a number"):
        check_redis("SCAN 0 COUNT many", flags_of)


def test_extra_args_are_appended_unparsed() -> None:
    command = parse_command("GET", ["a b; FLUSHALL"])
    assert command.args == (b"GET", b"a b; FLUSHALL")
    with pytest.raises(QueryRefusedError, match="not a string or a number"):
        parse_command("GET", [{"x": 1}])


def test_length_limit() -> None:
    with pytest.raises(QueryRefusedError, match="limit is"):
        parse_command("GET " + "k" * MAX_COMMAND_CHARS)


def test_flags_layer_alone() -> None:
    """Without the static deny list, the server's flags still refuse writes, admin and pubsub."""
    lines = ("GET k", "SET k v", "SORT l", "PUBLISH c m")
    get, set_, sort, publish = (parse_command(q, read_only=False) for q in lines)
    check_flags(get, FLAGS["get"])
    for command in (set_, sort):
        with pytest.raises(QueryRefusedError, match="write"):
            check_flags(command, FLAGS[command.table_name])
    with pytest.raises(QueryRefusedError, match="pubsub"):
        check_flags(publish, FLAGS["publish"])
    with pytest.raises(QueryRefusedError, match="not flagged 'readonly'"):
        check_flags(RedisCommand("SELECT", None, (b"SELECT", b"1")), FLAGS["select"])
    with pytest.raises(QueryRefusedError, match="server knows"):
        check_flags(get, None)


def test_writable_connections_still_refuse_connection_state_changes() -> None:
    assert parse_command("SET k v", read_only=False).args == (b"SET", b"k", b"v")
    for line in ("SELECT 1", "MULTI", "SUBSCRIBE x", "MONITOR"):
        with pytest.raises(QueryRefusedError):
            parse_command(line, read_only=False)
    with pytest.raises(QueryRefusedError, match="several lines"):
        parse_command("SET a b\nFLUSHALL", read_only=False)


def test_every_denied_command_has_a_reason() -> None:
    for name, reason in DENIED.items():
        assert name.isupper() and len(reason) > 10


_ARG = st.binary(max_size=20)


def _quote(arg: bytes) -> str:
    return '"' + "".join(f"\\x{b:02x}" for b in arg) + '"'


@settings(max_examples=300, deadline=None)
@given(st.lists(_ARG, min_size=1, max_size=6))
def test_tokenize_round_trips_quoted_arguments(args: list[bytes]) -> None:
    assert tokenize(" ".join(_quote(a) for a in args)) == args


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=120))
def test_arbitrary_text_yields_one_known_read_or_a_refusal(text: str) -> None:
    """Whatever the input, the guard refuses it or returns one command the table calls a read."""
    try:
        command = check_redis(text, flags_of)
    except QueryRefusedError as exc:
        assert str(exc).startswith("Refused by the read-only guard: ")
        return
    flags = FLAGS[command.table_name]
    assert "write" not in flags and command.name not in DENIED
    assert ("\n" not in text.strip() and "\r" not in text.strip()) or '"' in text or "'" in text


@pytest.mark.parametrize(
    ("key", "pattern"),
    [
        ("user:1234:session", "user:*:session"),
        ("order:6f1c2a3e-8b4d-4c2e-9f00-123456789abc", "order:*"),
        ("cache/page/7.html", "cache/page/*.html"),
        ("token:aZ9kQ2mX7pL4tR8vW1", "token:*"),
        ("blob:deadbeef42", "blob:*"),
        ("stats:2024-05-01", "stats:*"),
        ("mail:ann@example.com", "mail:*"),
        ("config", "config"),
        ("user:profile", "user:profile"),
    ],
)
def test_key_patterns(key: str, pattern: str) -> None:
    assert key_pattern(key) == pattern


def test_info_parsing_and_units() -> None:
    info = parse_info(
        b"# Server\r\nredis_version:7.0.15\r\nuptime_in_seconds:12\r\n\r\n# Memory\r\nmem_fragmentation_ratio:1.5\r\n"
        b"# Keyspace\r\ndb13:keys=3,expires=1,avg_ttl=900\r\n"
    )
    assert info["server"] == {"redis_version": "7.0.15", "uptime_in_seconds": 12}
    assert info["memory"]["mem_fragmentation_ratio"] == 1.5
    assert info["keyspace"]["db13"] == {"keys": 3, "expires": 1, "avg_ttl": 900}
    assert setting_unit("maxmemory", "0") == "bytes"
    assert setting_unit("hash-max-listpack-value", "64") == "bytes"
    assert setting_unit("slowlog-log-slower-than", "10000") == "us"
    assert setting_unit("timeout", "0") == "s"
    assert setting_unit("maxmemory-policy", "noeviction") is None
