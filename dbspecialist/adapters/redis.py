"""Redis adapter (redis.asyncio): a lazy blocking pool, a two-layer command guard, bounded replies.

Read-only in depth: `guard_redis.parse_command` (static) then `check_flags` against the
server's own `COMMAND INFO` flags, cached per command name. Redis has no read-only
transaction; a connection URL whose user has an ACL such as `+@read -@dangerous` adds the
engine-level layer (the adapter never creates ACL users itself).

Redis replies arrive whole (no server-side cursor), so commands that can return a large
collection are rewritten before they are sent, never trimmed afterwards:

- LRANGE / ZRANGE / ZREVRANGE by index: the length is read first (LLEN/ZCARD) and the range is
  clamped to `max_rows` elements; `truncated` is exact.
- ZRANGE BYSCORE|BYLEX, Z(REV)RANGEBY*, SORT_RO, XRANGE/XREVRANGE, XREAD, LPOS, GEOSEARCH,
  GEORADIUS*_RO, SLOWLOG GET: `LIMIT`/`COUNT` is added or lowered to `max_rows + 1`.
- SRANDMEMBER / HRANDFIELD / ZRANDMEMBER with a count: the count is lowered to `max_rows`.
- SCAN / SSCAN / HSCAN / ZSCAN: COUNT is lowered to `max_rows / 2`, so that one cursor step fits whole (rows
  cut from a step could never be read: the returned cursor resumes after them); a step that still overflows
  (a small collection is sent whole) is refused with the command to use instead.
- SMEMBERS / HGETALL / HKEYS / HVALS: the cardinality is read first; above `max_rows` the
  collection is walked with SSCAN/HSCAN until the cap (`truncated=true`).
- SINTER / SUNION / SDIFF / ZINTER / ZUNION / ZDIFF: refused when the inputs' cardinalities
  allow more than `max_rows` results (the message suggests SINTERCARD or a SCAN).
- GET: read as GETRANGE of at most `max_bytes / 2` bytes (EXISTS / STRLEN only for empty or long values).

Other single values (HGET, LINDEX, ...) are read whole: Redis values are at most 512 MB.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Final

import redis.asyncio as aioredis
from redis import exceptions as rexc
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff

from dbspecialist.adapters.base import (
    DatabaseAdapter,
    ExplainResult,
    NotSupportedError,
    Params,
    QueryResult,
    RowCollector,
    Setting,
)
from dbspecialist.adapters.catalog import BigKey, Catalog, KeyPattern, Keyspace, RedisDatabase
from dbspecialist.adapters.guard_redis import RedisCommand, check_flags, parse_command, refuse
from dbspecialist.config import ConnectionConfig
from dbspecialist.errors import ConnectionFailedError, QueryError, QueryTimeoutError
from dbspecialist.redaction import redact

POOL_SIZE: Final = 5
HEALTH_CHECK_INTERVAL_S: Final = 30
SOCKET_TIMEOUT_MARGIN_S: Final = 2.0  # the socket timeout backs up asyncio.timeout, never beats it

# introspect(): a bounded SCAN sample, then pipelined TYPE / PTTL / MEMORY USAGE over it.
SAMPLE_KEYS: Final = 1_000
SCAN_COUNT: Final = 200
MAX_SCAN_CALLS: Final = 25
BIGGEST_KEYS: Final = 10
MAX_PATTERNS: Final = 100
INFO_SECTIONS: Final = ("server", "clients", "memory", "persistence", "stats", "replication", "keyspace")
LENGTH_COMMAND: Final = {"string": "STRLEN", "list": "LLEN", "set": "SCARD", "hash": "HLEN", "zset": "ZCARD"}
LENGTH_COMMAND_STREAM: Final = "XLEN"
SLOWLOG_ENTRIES: Final = 20

PAIR_REPLIES: Final = frozenset({"HGETALL", "CONFIG GET", "MEMORY STATS", "XINFO STREAM"})
SCORED: Final = frozenset(
    {"ZRANGE", "ZREVRANGE", "ZRANGEBYSCORE", "ZREVRANGEBYSCORE", "ZRANDMEMBER", "ZUNION", "ZINTER", "ZDIFF"}
)
TEXT_REPLIES: Final = frozenset(
    {"CLIENT LIST", "CLUSTER NODES", "MEMORY DOCTOR", "MEMORY MALLOC-STATS", "LATENCY DOCTOR", "LATENCY GRAPH"}
)
SCAN_DEFAULT_COUNT: Final = 10  # Redis's COUNT when none is given
SCAN_COLUMNS: Final = {
    "SCAN": ["next_cursor", "key"],
    "SSCAN": ["next_cursor", "member"],
    "HSCAN": ["next_cursor", "field", "value"],
    "ZSCAN": ["next_cursor", "member", "score"],
}
SLOWLOG_COLUMNS: Final = ["id", "timestamp", "duration_us", "command", "client", "client_name"]
LATENCY_COLUMNS: Final = ["event", "timestamp", "latest_ms", "max_ms"]
SET_OPS: Final = frozenset({"SINTER", "SUNION", "SDIFF"})
ZSET_OPS: Final = frozenset({"ZINTER", "ZUNION", "ZDIFF"})
RANDOM_COUNT: Final = frozenset({"SRANDMEMBER", "HRANDFIELD", "ZRANDMEMBER"})
WHOLE_COLLECTION: Final = {"SMEMBERS": "SCARD", "HGETALL": "HLEN", "HKEYS": "HLEN", "HVALS": "HLEN"}

# settings(): units Redis does not report itself.
SETTING_UNITS: Final = {
    "maxmemory": "bytes",
    "proto-max-bulk-len": "bytes",
    "client-query-buffer-limit": "bytes",
    "timeout": "s",
    "tcp-keepalive": "s",
    "repl-timeout": "s",
    "repl-backlog-ttl": "s",
    "repl-ping-replica-period": "s",
    "repl-diskless-sync-delay": "s",
    "min-replicas-max-lag": "s",
    "slowlog-log-slower-than": "us",
    "latency-monitor-threshold": "ms",
    "lua-time-limit": "ms",
    "busy-reply-threshold": "ms",
    "cluster-node-timeout": "ms",
    "hz": "Hz",
    "auto-aof-rewrite-percentage": "%",
    "active-defrag-threshold-lower": "%",
    "active-defrag-threshold-upper": "%",
    "active-defrag-cycle-min": "%",
    "active-defrag-cycle-max": "%",
}
_BYTES_SUFFIXES: Final = ("-bytes", "-max-listpack-value", "-max-ziplist-value", "backlog-size", "-min-size")

_UUID_RE: Final = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$")
_HEX_RE: Final = re.compile(r"^[0-9a-fA-F]{8,}$")
_TOKEN_RE: Final = re.compile(r"^[A-Za-z0-9_\-+=]{16,}$")
_DATE_RE: Final = re.compile(r"^[0-9][0-9_\-T:+Z]*$")
_KEY_SPLIT: Final = re.compile(r"([:/|#])")
_DOT_SPLIT: Final = re.compile(r"(\.)")
_KEYSPACE_DB: Final = re.compile(r"^db(\d+)$")


class RedisAdapter(DatabaseAdapter):
    engine = "redis"

    def __init__(self, config: ConnectionConfig) -> None:
        super().__init__(config)
        self._pool: Any = None
        self._raw: Any = None  # client without response callbacks: replies stay RESP2-shaped
        self._flags: dict[str, frozenset[str] | None] = {}
        self._version: str | None = None

    # -- connection ---------------------------------------------------------------------------

    def _client(self) -> Any:
        """The raw client on a lazily created pool (creating it opens no socket)."""
        if self._raw is None:
            options = self.config.options
            retry = Retry(
                ExponentialBackoff(cap=0.2, base=0.02),
                # One retry after a dropped connection (server restart); reads only, so it is safe.
                retries=1 if options.read_only else 0,
                supported_errors=(rexc.ConnectionError,),
            )
            self._pool = aioredis.BlockingConnectionPool.from_url(
                self.config.url,
                max_connections=POOL_SIZE,
                timeout=options.statement_timeout_ms / 1000,
                socket_connect_timeout=options.connect_timeout_ms / 1000,
                socket_timeout=options.statement_timeout_ms / 1000 + SOCKET_TIMEOUT_MARGIN_S,
                health_check_interval=HEALTH_CHECK_INTERVAL_S,
                client_name=f"dbspecialist:{self.config.name}",
                protocol=2,
                retry=retry,
            )
            raw = aioredis.Redis(connection_pool=self._pool)
            raw.response_callbacks = {}
            self._raw = raw
        return self._raw

    async def close(self) -> None:
        pool, self._pool, self._raw = self._pool, None, None
        if pool is not None:
            await pool.aclose()

    def _where(self) -> str:
        return f"Redis connection {self.config.name!r} ({self.config.host_port})"

    def _translate(self, exc: BaseException, timeout_ms: int, what: str) -> Exception:
        """Map driver errors to our typed errors, naming the connection and never a password."""
        if isinstance(exc, TimeoutError | rexc.TimeoutError):
            return QueryTimeoutError(
                f"{what} on {self._where()} ran longer than {timeout_ms} ms and was stopped. "
                "Narrow it (a smaller range or COUNT), or raise statement_timeout_ms for this connection."
            )
        if isinstance(exc, rexc.ConnectionError | OSError):
            detail = redact(str(exc)) or type(exc).__name__
            return ConnectionFailedError(
                f"cannot reach {self._where()}: {detail}. Check that the server is running and that the "
                "URL's host, port and password are right; other connections are unaffected."
            )
        if isinstance(exc, rexc.ResponseError):
            return QueryError(f"Redis refused {what} on {self._where()}: {redact(str(exc))}")
        return QueryError(f"{what} failed on {self._where()}: {redact(str(exc)) or type(exc).__name__}")

    async def _run(self, work: Callable[[Any], Any], timeout_ms: int, what: str) -> Any:
        client = self._client()
        try:
            async with asyncio.timeout(timeout_ms / 1000):
                return await work(client)
        except (TimeoutError, rexc.RedisError, OSError) as exc:
            raise self._translate(exc, timeout_ms, what) from None

    async def server_version(self) -> str:
        if self._version is None:

            async def work(client: Any) -> Any:
                return await client.execute_command("INFO", "server")

            info = parse_info(await self._run(work, self.config.options.connect_timeout_ms, "INFO server"))
            self._version = str(info.get("server", {}).get("redis_version", "unknown"))
        return self._version

    async def _command_flags(self, client: Any, command: RedisCommand) -> frozenset[str] | None:
        """The server's flags for a command, cached per name (one `COMMAND INFO` per new name)."""
        key = command.table_name
        if key not in self._flags:
            reply = await client.execute_command("COMMAND", "INFO", key)
            entry = reply[0] if reply else None
            if entry is None and command.subcommand:  # servers before 7.0 have no subcommand entries
                reply = await client.execute_command("COMMAND", "INFO", command.name.lower())
                entry = reply[0] if reply else None
            self._flags[key] = frozenset(_text(f).lower() for f in entry[2]) if entry else None
        return self._flags[key]

    # -- queries -------------------------------------------------------------------------------

    async def run_read_only(
        self,
        query: str,
        params: Params | None = None,
        *,
        max_rows: int,
        max_bytes: int,
        timeout_ms: int,
    ) -> QueryResult:
        if isinstance(params, dict):
            raise QueryError("Redis commands take positional arguments only: pass params as a list")
        read_only = self.config.options.read_only
        command = parse_command(query, list(params or ()), read_only=read_only)
        started = time.perf_counter()
        collector = RowCollector(max_rows, max_bytes)

        async def work(client: Any) -> list[str]:
            if read_only:
                check_flags(command, await self._command_flags(client, command))
            columns, rows, truncated_by = await _execute(client, command, max_rows, max_bytes)
            for row in rows:
                if not collector.add(row):
                    break
            if truncated_by and collector.truncated_by is None:
                collector.truncated_by = truncated_by
            return columns

        columns = await self._run(work, timeout_ms, command.label)
        return QueryResult(
            columns=columns,
            rows=collector.rows,
            row_count=len(collector.rows),
            truncated=collector.truncated_by is not None,
            truncated_by=collector.truncated_by,
            elapsed_ms=round((time.perf_counter() - started) * 1000, 3),
        )

    async def explain(self, statement: str, *, analyze: bool = False, timeout_ms: int) -> ExplainResult:
        raise NotSupportedError(
            f"{self._where()}: Redis has no query planner, so there is nothing to EXPLAIN. Each command's "
            "cost is documented (e.g. O(N) for SMEMBERS); for real timings read SLOWLOG GET, LATENCY LATEST "
            "and INFO commandstats (run_query, or the statistics of this connection)."
        )

    async def settings(self) -> list[Setting]:
        async def work(client: Any) -> Any:
            return await client.execute_command("CONFIG", "GET", "*")

        reply = await self._run(work, self.config.options.statement_timeout_ms, "CONFIG GET *")
        out = [
            Setting(name=_text(name), value=_text(value), unit=setting_unit(_text(name), _text(value)))
            for name, value in _pairs(reply)
        ]
        return sorted(out, key=lambda s: s.name)

    async def statistics(self) -> dict[str, Any]:
        async def work(client: Any) -> Any:
            pipe = client.pipeline(transaction=False)
            pipe.execute_command("INFO", "all")
            pipe.execute_command("SLOWLOG", "GET", SLOWLOG_ENTRIES)
            pipe.execute_command("LATENCY", "LATEST")
            pipe.execute_command("MEMORY", "STATS")
            return await pipe.execute(raise_on_error=False)

        info, slowlog, latency, memory = await self._run(
            work, self.config.options.statement_timeout_ms, "statistics (INFO all, SLOWLOG, LATENCY, MEMORY STATS)"
        )
        return {
            "info": parse_info(info) if not isinstance(info, Exception) else {"error": redact(str(info))},
            "slowlog": _records(slowlog, SLOWLOG_COLUMNS),
            "latency_latest": _records(latency, LATENCY_COLUMNS),
            "memory_stats": (
                {_text(k): _decode(v) for k, v in _pairs(memory)}
                if not isinstance(memory, Exception)
                else {"error": redact(str(memory))}
            ),
        }

    # -- introspection -------------------------------------------------------------------------

    async def introspect(self, schema: str | None = None, tables: Sequence[str] | None = None) -> Catalog:
        """INFO, a bounded SCAN sample, one pipeline over the sample, one for the biggest keys.

        Round trips: 1 (INFO) + SCAN calls (<= MAX_SCAN_CALLS, usually ceil(sample / 200)) + 1 + 1.
        """
        db = int(self._pool_db())
        if schema not in (None, f"db{db}"):
            raise QueryError(f"{self._where()} reads logical database db{db} (got schema {schema!r})")
        catalog: Catalog = await self._run(
            lambda client: self._introspect(client, db), self.config.options.statement_timeout_ms, "introspection"
        )
        return catalog

    def _pool_db(self) -> int:
        self._client()
        return int(self._pool.connection_kwargs.get("db", 0) or 0)

    async def _introspect(self, client: Any, db: int) -> Catalog:
        info = parse_info(await client.execute_command("INFO"))
        trips = 1
        self._version = str(info.get("server", {}).get("redis_version", "unknown"))

        keys: list[bytes] = []
        cursor: bytes | int = 0
        for _ in range(MAX_SCAN_CALLS):
            cursor, batch = await client.execute_command("SCAN", cursor, "COUNT", SCAN_COUNT)
            trips += 1
            keys.extend(batch[: SAMPLE_KEYS - len(keys)])
            if int(cursor) == 0 or len(keys) >= SAMPLE_KEYS:
                break

        types: list[str] = []
        ttls: list[Any] = []
        memory: list[Any] = []
        if keys:
            pipe = client.pipeline(transaction=False)
            for key in keys:
                pipe.execute_command("TYPE", key)
                pipe.execute_command("PTTL", key)
                pipe.execute_command("MEMORY", "USAGE", key)
            replies = await pipe.execute(raise_on_error=False)
            trips += 1
            types = [_text(r) if not isinstance(r, Exception) else "unknown" for r in replies[0::3]]
            ttls = replies[1::3]
            memory = [r if isinstance(r, int) else None for r in replies[2::3]]

        groups: dict[tuple[str, str], list[int]] = defaultdict(list)
        for i, key in enumerate(keys):
            if types[i] != "none":  # deleted since the SCAN
                groups[(key_pattern(_key_text(key)), types[i])].append(i)
        patterns = [
            KeyPattern(
                pattern=pattern,
                type=ktype,
                sampled_keys=len(members),
                ttl_share_pct=round(
                    100 * sum(1 for i in members if isinstance(ttls[i], int) and ttls[i] >= 0) / len(members), 1
                ),
                memory_bytes_avg=round(sum(sizes) / len(sizes), 1) if (sizes := _sizes(memory, members)) else None,
                memory_bytes_sampled=sum(sizes) if sizes else None,
            )
            for (pattern, ktype), members in groups.items()
        ]
        patterns.sort(key=lambda p: (-p.sampled_keys, p.pattern, p.type))

        ranked = sorted((i for i in range(len(keys)) if memory[i] is not None), key=lambda i: -memory[i])
        top = ranked[:BIGGEST_KEYS]
        lengths: list[Any] = []
        if top:
            pipe = client.pipeline(transaction=False)
            for i in top:
                pipe.execute_command(LENGTH_COMMAND.get(types[i], LENGTH_COMMAND_STREAM), keys[i])
            lengths = await pipe.execute(raise_on_error=False)
            trips += 1
        biggest = [
            BigKey(
                key=_key_text(keys[i]),
                type=types[i],
                memory_bytes=memory[i],
                length=length if isinstance(length, int) and types[i] in (*LENGTH_COMMAND, "stream") else None,
            )
            for i, length in zip(top, lengths, strict=True)
        ]

        databases = [
            RedisDatabase(
                db=int(m.group(1)),
                keys=int(v.get("keys", 0)),
                expires=int(v.get("expires", 0)),
                avg_ttl_ms=int(v["avg_ttl"]) if "avg_ttl" in v else None,
            )
            for name, v in info.get("keyspace", {}).items()
            if (m := _KEYSPACE_DB.match(name)) and isinstance(v, dict)
        ]
        return Catalog(
            engine="redis",
            server_version=self._version,
            database=f"db{db}",
            schemas=[f"db{db}"],
            keyspace=Keyspace(
                databases=sorted(databases, key=lambda d: d.db),
                sampled_keys=len(keys),
                patterns=patterns[:MAX_PATTERNS],
                biggest_keys=biggest,
                info={s: info[s] for s in INFO_SECTIONS if s in info},
            ),
            round_trips=trips,
        )


# -- bounded execution -----------------------------------------------------------------------

Rows = Iterable[Sequence[Any]]


async def _execute(
    client: Any, command: RedisCommand, max_rows: int, max_bytes: int
) -> tuple[list[str], Rows, str | None]:
    """Send the command, rewritten so that the reply stays bounded; return columns, rows, truncation."""
    name, args = command.name, list(command.args)
    if name == "GET" and len(args) == 2:
        return await _get_prefix(client, args[1], max_bytes)
    if name in ("LRANGE", "ZREVRANGE") or (name == "ZRANGE" and _zrange_by_index(args)):
        return await _index_range(client, command, max_rows)
    if name in WHOLE_COLLECTION and len(args) == 2:
        size = await client.execute_command(WHOLE_COLLECTION[name], args[1])
        if isinstance(size, int) and size > max_rows:
            return await _scan_collection(client, name, args[1], max_rows)
    elif name in SET_OPS or name in ZSET_OPS:
        await _check_set_op(client, command, max_rows)
    else:
        args = _with_limits(command, max_rows)
    reply = await client.execute_command(*args)
    if name in SCAN_COLUMNS:
        _check_scan_step(name, args, reply, max_rows)
    columns, rows, truncated_by = shape(RedisCommand(name, command.subcommand, tuple(args)), reply)
    if name in RANDOM_COUNT and args != list(command.args) and isinstance(reply, list) and len(reply) >= max_rows:
        truncated_by = "max_rows"  # the count was lowered to max_rows and the reply is full
    return columns, rows, truncated_by


async def _get_prefix(client: Any, key: bytes, max_bytes: int) -> tuple[list[str], Rows, str | None]:
    """GET as GETRANGE of at most `max_bytes / 2` bytes: one round trip unless the value is empty or long."""
    limit = max(1, max_bytes // 2)
    value = await client.execute_command("GETRANGE", key, 0, limit - 1)
    if value == b"" and not await client.execute_command("EXISTS", key):
        return ["value"], [[None]], None  # GETRANGE cannot tell a missing key from an empty string
    if len(value) < limit or await client.execute_command("STRLEN", key) <= limit:
        return ["value"], [[_decode(value)]], None
    return ["value"], [[_decode_prefix(value)]], "max_bytes"


def _zrange_by_index(args: list[bytes]) -> bool:
    words = {a.upper() for a in args[4:]}
    return not words & {b"BYSCORE", b"BYLEX"}


async def _index_range(client: Any, command: RedisCommand, max_rows: int) -> tuple[list[str], Rows, str | None]:
    """LRANGE/ZRANGE/ZREVRANGE by index: clamp [start, stop] to at most `max_rows` elements."""
    args = list(command.args)
    if len(args) < 4:
        reply = await client.execute_command(*args)  # let the server report the arity error
        return shape(command, reply)
    try:
        start, stop = int(args[2]), int(args[3])
    except ValueError:
        raise QueryError(f"{command.name} start and stop must be integers") from None
    truncated = False
    if start < 0 or stop < 0 or stop - start + 1 > max_rows:
        length = await client.execute_command("LLEN" if command.name == "LRANGE" else "ZCARD", args[1])
        start = max(length + start, 0) if start < 0 else start
        stop = min(length + stop if stop < 0 else stop, length - 1)
        if stop - start + 1 > max_rows:
            stop, truncated = start + max_rows - 1, True
        args[2], args[3] = str(start).encode(), str(stop).encode()
    reply = await client.execute_command(*args)
    columns, rows, _ = shape(RedisCommand(command.name, None, tuple(args)), reply)
    return columns, rows, "max_rows" if truncated else None


async def _scan_collection(client: Any, name: str, key: bytes, max_rows: int) -> tuple[list[str], Rows, str | None]:
    """Walk a big set/hash with SSCAN/HSCAN until `max_rows` + 1 entries (never the whole thing)."""
    scan = "SSCAN" if name == "SMEMBERS" else "HSCAN"
    count = min(max(max_rows, 10), 1_000)
    rows: list[list[Any]] = []
    cursor: bytes | int = 0
    while len(rows) <= max_rows:
        cursor, batch = await client.execute_command(scan, key, cursor, "COUNT", count)
        if scan == "SSCAN":
            rows.extend([_decode(m)] for m in batch)
        else:
            for field, value in _pairs(batch):
                entry = {"HGETALL": [field, value], "HKEYS": [field], "HVALS": [value]}[name]
                rows.append([_decode(v) for v in entry])
        if int(cursor) == 0:
            break
    columns = {"SMEMBERS": ["member"], "HGETALL": ["field", "value"], "HKEYS": ["field"], "HVALS": ["value"]}[name]
    return columns, rows[: max_rows + 1], "max_rows" if len(rows) > max_rows else None


async def _check_set_op(client: Any, command: RedisCommand, max_rows: int) -> None:
    """Refuse set algebra whose result could exceed `max_rows` (bounded by the inputs' sizes)."""
    args = command.args
    if command.name in SET_OPS:
        keys, card = list(args[1:]), "SCARD"
    else:
        try:
            numkeys = int(args[1])
        except (IndexError, ValueError):
            return  # the server reports the syntax error
        keys, card = list(args[2 : 2 + numkeys]), "ZCARD"
    if not keys:
        return
    pipe = client.pipeline(transaction=False)
    for key in keys:
        pipe.execute_command(card, key)
    sizes = [s if isinstance(s, int) else 0 for s in await pipe.execute(raise_on_error=False)]
    operation = command.name[1:]  # INTER, UNION or DIFF
    bound = min(sizes) if operation == "INTER" else sizes[0] if operation == "DIFF" else sum(sizes)
    if bound > max_rows:
        raise refuse(
            f"{command.name} could return up to {bound:,} members, more than max_rows={max_rows}; "
            "count with SINTERCARD/ZINTERCARD, or read the inputs with SSCAN/ZSCAN"
        )


def _with_limits(command: RedisCommand, max_rows: int) -> list[bytes]:
    """Add or lower LIMIT/COUNT so that the reply holds at most `max_rows + 1` elements."""
    name, args = command.name, list(command.args)
    cap = max_rows + 1
    if name in ("ZRANGEBYSCORE", "ZREVRANGEBYSCORE", "ZRANGEBYLEX", "ZREVRANGEBYLEX", "SORT_RO", "ZRANGE"):
        return _set_limit(args, cap)
    if name in ("XRANGE", "XREVRANGE", "GEOSEARCH", "GEORADIUS_RO", "GEORADIUSBYMEMBER_RO", "LPOS"):
        return _set_option(args, b"COUNT", cap, zero_means_all=name == "LPOS", append=name != "LPOS")
    if name == "XREAD":
        at = command.option_index("COUNT")
        if at is None:
            return [args[0], b"COUNT", str(cap).encode(), *args[1:]]
        return _set_option(args, b"COUNT", cap)
    if name in RANDOM_COUNT and len(args) >= 3:
        try:
            count = int(args[2])
        except ValueError:
            return args
        if abs(count) > max_rows:
            args[2] = str(max_rows if count > 0 else -max_rows).encode()
    if name in SCAN_COLUMNS:
        return _scan_count(name, args, max_rows)
    if command.label == "SLOWLOG GET" and len(args) >= 3:
        try:
            count = int(args[2])
        except ValueError:
            return args
        if count < 0 or count > cap:
            args[2] = str(cap).encode()
    return args


def _scan_count(name: str, args: list[bytes], max_rows: int) -> list[bytes]:
    """SCAN/SSCAN/HSCAN/ZSCAN: COUNT at most half of `max_rows`.

    A reply is one step of the cursor: rows cut off after the cap would be skipped by the next call, so the whole
    step must fit. COUNT is only a hint (a hash bucket may hold more keys), hence the margin; the rare step that
    still overflows is refused by `_check_scan_step`.
    """
    cap = max(1, max_rows // 2)
    start = 2 if name == "SCAN" else 3  # options follow the cursor (and the key)
    for i in range(start, len(args) - 1):
        if args[i].upper() == b"COUNT":
            try:
                count = int(args[i + 1])
            except ValueError:
                return args
            if count > cap:
                args[i + 1] = str(cap).encode()
            return args
    return [*args, b"COUNT", str(cap).encode()] if cap < SCAN_DEFAULT_COUNT else args


def _check_scan_step(name: str, args: list[bytes], reply: Any, max_rows: int) -> None:
    """Refuse a cursor step with more entries than `max_rows`: cut, its cursor could not resume."""
    if not (isinstance(reply, list) and len(reply) == 2 and isinstance(reply[1], list)):
        return
    entries = len(reply[1]) // (1 if name in ("SCAN", "SSCAN") else 2)
    if entries <= max_rows:
        return
    whole = {"SSCAN": "SMEMBERS", "HSCAN": "HGETALL", "ZSCAN": "ZRANGE key 0 -1 WITHSCORES"}.get(name)
    raise QueryError(
        f"{name} returned {entries:,} entries in one step, more than max_rows={max_rows}; cutting them would lose "
        "the rest, because the cursor it returned resumes after all of them"
        + (
            f" (a small collection is sent whole whatever COUNT says). Use {whole}, which reads it up to the cap, "
            if whole
            else ". Narrow it with MATCH or TYPE, "
        )
        + "or raise max_rows for this connection."
    )


def _set_limit(args: list[bytes], cap: int) -> list[bytes]:
    for i in range(2, len(args) - 2):
        if args[i].upper() == b"LIMIT":
            try:
                count = int(args[i + 2])
            except ValueError:
                return args
            if count < 0 or count > cap:
                args[i + 2] = str(cap).encode()
            return args
    return [*args, b"LIMIT", b"0", str(cap).encode()]


def _set_option(
    args: list[bytes], option: bytes, cap: int, *, zero_means_all: bool = False, append: bool = True
) -> list[bytes]:
    for i in range(1, len(args) - 1):
        if args[i].upper() == option:
            try:
                count = int(args[i + 1])
            except ValueError:
                return args
            if count > cap or count < 0 or (zero_means_all and count == 0):
                args[i + 1] = str(cap).encode()
            return args
    return [*args, option, str(cap).encode()] if append else args


# -- shaping replies into rows -----------------------------------------------------------------


def shape(command: RedisCommand, reply: Any) -> tuple[list[str], Rows, str | None]:
    """Columns and a lazy row iterator for a raw RESP2 reply."""
    label, name = command.label, command.name
    if name == "INFO" and isinstance(reply, bytes):
        return ["section", "field", "value"], _info_rows(reply), None
    if name in SCAN_COLUMNS and isinstance(reply, list) and len(reply) == 2:
        return SCAN_COLUMNS[name], _scan_rows(name, reply), None
    if label in TEXT_REPLIES and isinstance(reply, bytes):
        return ["line"], ([line] for line in _text(reply).splitlines() if line), None
    if not isinstance(reply, list):
        return ["value"], [[_decode(reply)]], None
    if label in PAIR_REPLIES or (name == "HRANDFIELD" and command.option_index("WITHVALUES", 3)):
        return ["field", "value"], ([_decode(k), _decode(v)] for k, v in _pairs(reply)), None
    if name in SCORED and command.option_index("WITHSCORES", 2):
        return ["member", "score"], ([_decode(m), _score(s)] for m, s in _pairs(reply)), None
    if name in ("XRANGE", "XREVRANGE"):
        return ["id", "fields"], ([_decode(e[0]), _fields(e[1])] for e in reply if isinstance(e, list)), None
    if label == "SLOWLOG GET":
        return SLOWLOG_COLUMNS, (_slowlog_row(e) for e in reply), None
    if label == "LATENCY LATEST":
        return LATENCY_COLUMNS, ([_decode(v) for v in e] for e in reply), None
    return ["value"], ([_decode(v)] for v in reply), None


def _scan_rows(name: str, reply: list[Any]) -> Iterator[list[Any]]:
    cursor, items = _text(reply[0]), reply[1]
    if not items and cursor != "0":
        yield [cursor] + [None] * (len(SCAN_COLUMNS[name]) - 1)
        return
    if name in ("SCAN", "SSCAN"):
        for item in items:
            yield [cursor, _decode(item)]
    else:
        for a, b in _pairs(items):
            yield [cursor, _decode(a), _score(b) if name == "ZSCAN" else _decode(b)]


def _info_rows(reply: bytes) -> Iterator[list[Any]]:
    for section, fields in parse_info(reply).items():
        for field, value in fields.items():
            yield [section, field, value]


def _slowlog_row(entry: Any) -> list[Any]:
    values = list(entry) + [None] * (6 - len(entry))
    return [
        values[0],
        values[1],
        values[2],
        " ".join(_text(a) for a in values[3]) if isinstance(values[3], list) else None,
        _decode(values[4]),
        _decode(values[5]),
    ]


def _records(reply: Any, columns: list[str]) -> list[dict[str, Any]] | dict[str, str]:
    if isinstance(reply, Exception):
        return {"error": redact(str(reply))}
    rows = (_slowlog_row(e) for e in reply) if columns is SLOWLOG_COLUMNS else ([_decode(v) for v in e] for e in reply)
    return [dict(zip(columns, row, strict=False)) for row in rows]


def _fields(values: Any) -> Any:
    return {_text(k): _decode(v) for k, v in _pairs(values)} if isinstance(values, list) else _decode(values)


def _pairs(values: Sequence[Any]) -> Iterator[tuple[Any, Any]]:
    it = iter(values)
    return zip(it, it, strict=False)


def _sizes(memory: list[Any], members: list[int]) -> list[int]:
    return [memory[i] for i in members if memory[i] is not None]


def _score(value: Any) -> Any:
    try:
        return float(value)
    except (TypeError, ValueError):
        return _decode(value)


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "backslashreplace")
    return str(value)


def _key_text(key: bytes) -> str:
    return key.decode("utf-8", "backslashreplace")


def _decode(value: Any) -> Any:
    """bytes → str when valid UTF-8 (else left as bytes: `jsonable` base64s them); lists recursively."""
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return value
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if isinstance(value, rexc.ResponseError):
        return {"error": str(value)}
    return value


def _decode_prefix(value: bytes) -> Any:
    """Like `_decode`, for a prefix that may end inside a multi-byte UTF-8 character."""
    for cut in range(4):
        try:
            return value[: len(value) - cut].decode("utf-8")
        except UnicodeDecodeError:
            continue
    return value


def parse_info(reply: Any) -> dict[str, dict[str, Any]]:
    """INFO text → {section: {field: value}} with numbers as numbers and `k=v,...` values as dicts."""
    text = _text(reply) if not isinstance(reply, str) else reply
    sections: dict[str, dict[str, Any]] = {}
    current = sections.setdefault("default", {})
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        if line.startswith("#"):
            current = sections.setdefault(line.lstrip("# ").strip().lower(), {})
            continue
        field, sep, value = line.partition(":")
        if sep:
            current[field] = _info_value(value)
    if not sections["default"]:
        del sections["default"]
    return sections


def _info_value(value: str) -> Any:
    if "=" in value and all("=" in part for part in value.split(",")):
        return {k: _number(v) for k, _, v in (part.partition("=") for part in value.split(","))}
    return _number(value)


def _number(value: str) -> Any:
    try:
        return int(value)
    except ValueError:
        pass
    try:
        number = float(value)
    except ValueError:
        return value
    return number if number == number and number not in (float("inf"), float("-inf")) else value


def setting_unit(name: str, value: str) -> str | None:
    """The unit of a CONFIG GET value, from the Redis documentation (Redis does not say)."""
    if name in SETTING_UNITS:
        return SETTING_UNITS[name]
    if name.endswith("-ms") or name.endswith("-time-limit"):
        return "ms"
    if name.endswith(_BYTES_SUFFIXES) or (name.startswith("maxmemory") and value.isdigit() and "-" not in name):
        return "bytes"
    return None


# -- key patterns -------------------------------------------------------------------------------


def key_pattern(key: str) -> str:
    """`user:1234:session` → `user:*:session`: variable-looking segments become `*`.

    Segments are split on `:` `/` `|` `#`, then on `.` unless whole; a segment is variable when it is numeric, a UUID,
    hex of 8+ characters with a digit, a date/time, an e-mail address, or a 16+ character token
    mixing letters and digits.
    """
    parts = _KEY_SPLIT.split(key)
    return "".join(p if i % 2 else _segment_pattern(p) for i, p in enumerate(parts))


def _segment_pattern(segment: str) -> str:
    if _is_variable(segment):
        return "*"
    parts = _DOT_SPLIT.split(segment)  # `page.7.html`: judge each dotted part on its own
    return "".join(p if i % 2 or not _is_variable(p) else "*" for i, p in enumerate(parts))


def _is_variable(segment: str) -> bool:
    if not segment:
        return False
    if segment.isdigit() or _UUID_RE.match(segment) or "@" in segment:
        return True
    has_digit = any(c.isdigit() for c in segment)
    if _HEX_RE.match(segment) and has_digit:
        return True
    if _DATE_RE.match(segment):
        return True
    return bool(_TOKEN_RE.match(segment) and has_digit and any(c.isalpha() for c in segment))
