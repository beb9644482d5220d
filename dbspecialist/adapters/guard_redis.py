"""Read-only guard for Redis: one command line, tokenised and judged before anything is sent.

Two layers, in order:

1. `parse_command` (static, no server): tokenise with redis-cli quoting rules, accept exactly
   one command on one line, refuse commands that write, block, change connection state, run
   scripts or walk the whole keyspace (`DENIED`), allow only the reading subcommands of
   container commands (`READ_SUBCOMMANDS`), and clamp SCAN-family `COUNT`.
2. `check_flags` (the server's own command table, `COMMAND INFO <name>`): the command must be
   flagged `readonly` (or be on the `INTROSPECTION` list of key-less reads such as INFO) and
   carry none of the flags in `REFUSED_FLAGS` (write, blocking, pubsub, ...).

Messages start "Refused by the read-only guard: " and say what to use instead.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from dbspecialist.errors import QueryRefusedError

MAX_COMMAND_CHARS: Final = 100_000
SCAN_COUNT_MAX: Final = 1_000  # COUNT hint above this is lowered: one SCAN call must stay short

_SCRIPTING = "scripts and functions can run any command, including writes; scripting is refused"
_SUBSCRIBER = "it turns the connection into a subscriber that never returns a result"
_BLOCKING = "it blocks the connection until data arrives; read with LRANGE/ZRANGE/XRANGE instead"
_STATE = "changes the state of the pooled connection"
_PERSISTENCE = "it writes to disk or forks the server"

# Refused whatever the server's flags say; the reason is shown to the user.
DENIED: Final[dict[str, str]] = {
    "KEYS": "KEYS walks the whole keyspace and blocks the server; use SCAN 0 MATCH <pattern> COUNT 100",
    "MONITOR": "MONITOR streams every command of every client and never returns",
    "DEBUG": "DEBUG can sleep, crash or reload the server",
    "DUMP": "DUMP returns the whole serialized value at once; use TYPE, MEMORY USAGE and range reads",
    "TOUCH": "TOUCH only exists to change keys' access times",
    "SUBSCRIBE": _SUBSCRIBER,
    "PSUBSCRIBE": _SUBSCRIBER,
    "SSUBSCRIBE": _SUBSCRIBER,
    "UNSUBSCRIBE": _SUBSCRIBER,
    "PUNSUBSCRIBE": _SUBSCRIBER,
    "SUNSUBSCRIBE": _SUBSCRIBER,
    "PUBLISH": "PUBLISH sends a message to subscribers",
    "SPUBLISH": "SPUBLISH sends a message to subscribers",
    "SYNC": "it starts replication on this connection",
    "PSYNC": "it starts replication on this connection",
    "REPLCONF": "it is a replication-protocol command",
    "REPLICAOF": "it changes replication",
    "SLAVEOF": "it changes replication",
    "FAILOVER": "it changes replication",
    "WAIT": "WAIT blocks until replicas acknowledge writes",
    "WAITAOF": "WAITAOF blocks until the AOF is synced",
    "BLPOP": _BLOCKING,
    "BRPOP": _BLOCKING,
    "BRPOPLPUSH": _BLOCKING,
    "BLMOVE": _BLOCKING,
    "BLMPOP": _BLOCKING,
    "BZPOPMIN": _BLOCKING,
    "BZPOPMAX": _BLOCKING,
    "BZMPOP": _BLOCKING,
    "EVAL": _SCRIPTING,
    "EVALSHA": _SCRIPTING,
    "EVAL_RO": _SCRIPTING,
    "EVALSHA_RO": _SCRIPTING,
    "FCALL": _SCRIPTING,
    "FCALL_RO": _SCRIPTING,
    "SCRIPT": _SCRIPTING,
    "FUNCTION": _SCRIPTING,
    "SHUTDOWN": "SHUTDOWN stops the server",
    "SAVE": _PERSISTENCE,
    "BGSAVE": _PERSISTENCE,
    "BGREWRITEAOF": _PERSISTENCE,
    "FLUSHALL": "FLUSHALL deletes every key",
    "FLUSHDB": "FLUSHDB deletes every key of the database",
    "SWAPDB": "SWAPDB swaps two databases",
    "MIGRATE": "MIGRATE moves keys to another server",
    "RESTORE": "RESTORE creates a key",
    "RESTORE-ASKING": "RESTORE creates a key",
    "SELECT": f"SELECT {_STATE}; put the database number in the connection URL (redis://host:6379/<db>)",
    "MULTI": f"MULTI {_STATE}; send one command per call",
    "EXEC": f"EXEC {_STATE}; send one command per call",
    "DISCARD": f"DISCARD {_STATE}",
    "WATCH": f"WATCH {_STATE}",
    "UNWATCH": f"UNWATCH {_STATE}",
    "HELLO": f"HELLO {_STATE}",
    "AUTH": f"AUTH {_STATE}; put credentials in the connection URL",
    "RESET": f"RESET {_STATE}",
    "QUIT": f"QUIT {_STATE}",
    "READONLY": f"READONLY {_STATE}",
    "READWRITE": f"READWRITE {_STATE}",
    "ASKING": f"ASKING {_STATE}",
}

# Commands that would break a pooled connection: refused even on connections that allow writes.
CONNECTION_STATE: Final = frozenset(
    {
        "SELECT", "MULTI", "EXEC", "DISCARD", "WATCH", "UNWATCH", "HELLO", "AUTH", "RESET", "QUIT",
        "READONLY", "READWRITE", "ASKING", "MONITOR", "SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE",
        "UNSUBSCRIBE", "PUNSUBSCRIBE", "SUNSUBSCRIBE", "SYNC", "PSYNC",
    }
)  # fmt: skip

# Container commands: only these subcommands read. Anything else (CONFIG SET, CLIENT KILL,
# MEMORY PURGE, SLOWLOG RESET, ACL SETUSER, ACL LIST (password hashes), MODULE LOAD, ...) is refused.
READ_SUBCOMMANDS: Final[dict[str, frozenset[str]]] = {
    "CONFIG": frozenset({"GET"}),
    "CLIENT": frozenset({"LIST", "INFO", "ID", "GETNAME", "TRACKINGINFO", "GETREDIR"}),
    "MEMORY": frozenset({"USAGE", "STATS", "DOCTOR", "MALLOC-STATS"}),
    "OBJECT": frozenset({"ENCODING", "FREQ", "IDLETIME", "REFCOUNT"}),
    "SLOWLOG": frozenset({"GET", "LEN"}),
    "LATENCY": frozenset({"LATEST", "HISTORY", "DOCTOR", "GRAPH", "HISTOGRAM"}),
    "ACL": frozenset({"WHOAMI", "CAT", "USERS"}),
    "COMMAND": frozenset({"COUNT", "INFO", "DOCS", "LIST", "GETKEYS", "GETKEYSANDFLAGS"}),
    "CLUSTER": frozenset({"INFO", "NODES", "SLOTS", "SHARDS", "KEYSLOT", "COUNTKEYSINSLOT", "MYID", "MYSHARDID"}),
    "XINFO": frozenset({"STREAM", "GROUPS", "CONSUMERS"}),
    "PUBSUB": frozenset({"CHANNELS", "NUMSUB", "NUMPAT", "SHARDCHANNELS", "SHARDNUMSUB"}),
    "MODULE": frozenset({"LIST"}),
}
CONTAINERS_ALLOWED_BARE: Final = frozenset({"COMMAND"})

# Reads that touch no key, so the server does not flag them `readonly` (some are `admin`).
INTROSPECTION: Final = frozenset({"info", "ping", "echo", "time", "role", "lastsave", "lolwut", "dbsize"}) | frozenset(
    f"{name}|{sub}".lower() for name, subs in READ_SUBCOMMANDS.items() for sub in subs
)

# Server flags (COMMAND INFO) that disqualify a command, whatever else it is flagged.
REFUSED_FLAGS: Final = frozenset({"write", "blocking", "pubsub", "may_replicate", "admin"})
_SCAN_KEYS: Final = {"SCAN": 2, "SSCAN": 3, "HSCAN": 3, "ZSCAN": 3}  # first option token
_SCAN_OPTIONS_WITH_VALUE: Final = frozenset({"MATCH", "COUNT", "TYPE"})
_NAME_RE: Final = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]*$")
_LINE_BREAKS: Final = "\r\n"
_SPACES: Final = " \t\r\n\v\f"
_ESCAPES: Final = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "a": "\a"}


@dataclass(frozen=True)
class RedisCommand:
    """One accepted command: argv as bytes (possibly rewritten) and its upper-case name/subcommand."""

    name: str
    subcommand: str | None
    args: tuple[bytes, ...]

    @property
    def table_name(self) -> str:
        """The name `COMMAND INFO` knows it by: `get`, `config|get`."""
        return f"{self.name}|{self.subcommand}".lower() if self.subcommand else self.name.lower()

    @property
    def label(self) -> str:
        return f"{self.name} {self.subcommand}" if self.subcommand else self.name

    def option_index(self, word: str, start: int = 1) -> int | None:
        """Index of the first argument equal to `word` (case-insensitive) at or after `start`."""
        target = word.upper().encode()
        for i in range(start, len(self.args)):
            if self.args[i].upper() == target:
                return i
        return None


def refuse(reason: str) -> QueryRefusedError:
    return QueryRefusedError(f"Refused by the read-only guard: {reason}")


def tokenize(line: str) -> list[bytes]:
    """Split one command line the way redis-cli does.

    Double quotes understand `\\n \\r \\t \\b \\a \\\\ \\"` and `\\xHH` (one byte); single quotes only
    `\\'`. A closing quote must end the argument. Unquoted line breaks are refused: one call
    carries one command, so `GET a<CR><LF>FLUSHALL` can never become two.
    """
    out: list[bytes] = []
    i, n = 0, len(line)
    while True:
        while i < n and line[i] in _SPACES:
            if line[i] in _LINE_BREAKS:
                raise refuse(
                    "the query spans several lines; send exactly one command on one line "
                    '(quote an argument that contains a line break: "a\\nb")'
                )
            i += 1
        if i >= n:
            return out
        token = bytearray()
        while i < n and line[i] not in _SPACES:
            ch = line[i]
            if ch in "\"'":
                i = _quoted(line, i, token)
                if i < n and line[i] not in _SPACES:
                    raise refuse(f"a closing quote must be followed by a space (at character {i + 1})")
            else:
                token += ch.encode("utf-8", "surrogatepass")
                i += 1
        out.append(bytes(token))


def _quoted(line: str, i: int, token: bytearray) -> int:
    """Append the quoted section starting at `line[i]` to `token`; return the index after it."""
    quote, i, n = line[i], i + 1, len(line)
    while i < n:
        ch = line[i]
        if ch == quote:
            return i + 1
        if ch == "\\" and i + 1 < n:
            nxt = line[i + 1]
            if quote == '"':
                if nxt == "x" and i + 3 < n and _is_hex(line[i + 2 : i + 4]):
                    token.append(int(line[i + 2 : i + 4], 16))
                    i += 4
                    continue
                token += _ESCAPES.get(nxt, nxt).encode("utf-8", "surrogatepass")
                i += 2
                continue
            if nxt == "'":
                token += b"'"
                i += 2
                continue
        token += ch.encode("utf-8", "surrogatepass")
        i += 1
    raise refuse(f"unbalanced {quote} quotes: close the quoted argument")


def _is_hex(text: str) -> bool:
    return len(text) == 2 and all(c in "0123456789abcdefABCDEF" for c in text)


def _word(raw: bytes, what: str) -> str:
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        text = ""
    if not _NAME_RE.match(text):
        shown = raw.decode("utf-8", "backslashreplace")[:40]
        raise refuse(f"{shown!r} is not a Redis {what} name")
    return text.upper()


def parse_command(line: str, extra_args: Sequence[object] = (), *, read_only: bool = True) -> RedisCommand:
    """Tokenise one command line and apply the static checks (no server needed).

    `extra_args` are appended as separate arguments, unparsed (bind-parameter style). With
    `read_only=False` only the rule "one command, no connection-state change" applies.
    """
    if len(line) > MAX_COMMAND_CHARS:
        raise refuse(f"the command is {len(line):,} characters; the limit is {MAX_COMMAND_CHARS:,}")
    args = tokenize(line.strip())
    args += [_arg_bytes(a) for a in extra_args]
    if not args:
        raise refuse("the query is empty; send one Redis command, e.g. GET user:1 or SCAN 0 MATCH user:* COUNT 100")
    name = _word(args[0], "command")
    subcommand: str | None = None
    if name in READ_SUBCOMMANDS and len(args) > 1:
        subcommand = _word(args[1], "subcommand")
    command = RedisCommand(name=name, subcommand=subcommand, args=tuple(args))
    if not read_only:
        if name in CONNECTION_STATE:
            raise refuse(f"{name} is not allowed: {DENIED.get(name, f'{name} {_STATE}')}")
        return command
    if name in DENIED:
        raise refuse(f"{name} is not allowed: {DENIED[name]}")
    if name in READ_SUBCOMMANDS:
        allowed = READ_SUBCOMMANDS[name]
        if subcommand is None and name not in CONTAINERS_ALLOWED_BARE:
            raise refuse(f"{name} needs a subcommand; the reading ones are {', '.join(sorted(allowed))}")
        if subcommand is not None and subcommand not in allowed:
            raise refuse(
                f"{name} {subcommand} is not a read; the allowed {name} subcommands are {', '.join(sorted(allowed))}"
            )
    if name in ("XREAD", "XREADGROUP") and command.option_index("BLOCK") is not None:
        raise refuse(f"{name} ... BLOCK {_BLOCKING.removeprefix('it ')}")
    if name in _SCAN_KEYS:
        command = _clamp_scan_count(command)
    return command


def _arg_bytes(value: object) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise refuse(f"parameter {value!r} is not a string or a number")
    return str(value).encode()


def _clamp_scan_count(command: RedisCommand) -> RedisCommand:
    args = list(command.args)
    i = _SCAN_KEYS[command.name]
    while i < len(args):
        option = args[i].upper().decode("ascii", "replace")
        if option in _SCAN_OPTIONS_WITH_VALUE and i + 1 < len(args):
            if option == "COUNT":
                try:
                    count = int(args[i + 1])
                except ValueError:
                    raise refuse(f"{command.name} COUNT must be a number, got {args[i + 1]!r}") from None
                args[i + 1] = str(max(1, min(count, SCAN_COUNT_MAX))).encode()
            i += 2
        else:
            i += 1
    return RedisCommand(command.name, command.subcommand, tuple(args))


def check_flags(command: RedisCommand, flags: Iterable[str] | None) -> None:
    """Second layer: judge the command by the flags the server's own command table gives it."""
    if flags is None:
        raise refuse(f"{command.label} is not a command this server knows (COMMAND INFO has no entry for it)")
    flagset = {f.lower() for f in flags}
    if "write" in flagset:
        raise refuse(f"{command.label} is flagged 'write' by the server")
    if command.table_name in INTROSPECTION:
        return
    if command.name == "XREAD":
        flagset.discard("blocking")  # only with BLOCK, refused by parse_command
    bad = sorted(flagset & REFUSED_FLAGS)
    if bad:
        raise refuse(f"{command.label} is flagged {', '.join(bad)} by the server; only plain reads are allowed")
    if "readonly" not in flagset:
        raise refuse(f"{command.label} is not flagged 'readonly' by the server, so it is not treated as a read")


def check_redis(line: str, flags_of: Callable[[str], Iterable[str] | None]) -> RedisCommand:
    """Both layers at once, with a synchronous flag lookup (`table_name` → flags or None)."""
    command = parse_command(line)
    check_flags(command, flags_of(command.table_name))
    return command
