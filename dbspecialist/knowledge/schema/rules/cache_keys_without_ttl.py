"""SCH080 cache-keys-without-ttl: keys named like cache, session or lock data that never expire.

This module also holds what the other Redis rules (SCH081-SCH083) share: which key patterns look
like throw-away data, and how a key or pattern is written on a redis-cli command line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from dbspecialist.adapters.catalog import KeyPattern, Keyspace
from dbspecialist.knowledge.findings import Finding, Fix, RuleSpec, Severity
from dbspecialist.knowledge.schema.context import SchemaContext

SPEC = RuleSpec(
    id="SCH080",
    name="cache-keys-without-ttl",
    capability="schema",
    engines=("redis",),
    severity=Severity.MEDIUM,
    status="preview",
    fix="sometimes",
    summary="A key pattern named like cache, session, token or lock data has no expiry on any sampled key.",
)

# Words in a key pattern that mark data meant to disappear (our own list, from the usual Redis key
# naming conventions). Matched against whole words of the pattern, so "template" is not "temp".
CACHE_WORDS: frozenset[str] = frozenset(
    {"cache", "cached", "caches", "session", "sessions", "sess", "sid", "tmp", "temp", "token", "tokens"}
    | {"otp", "otps", "nonce", "nonces", "captcha", "lock", "locks", "mutex", "ratelimit", "rl"}
    | {"throttle", "throttles", "verification", "reset"}
)
# Letters that mark cache data even inside a longer word or across separators ("pagecache",
# "usersession", "rate_limit"); "rate" alone is not enough (exchange rates are not a cache).
CACHE_SUBWORDS: tuple[str, ...] = ("cache", "session", "ratelimit")
# A lock with no expiry is held for ever once its owner dies (Redis docs, "Distributed Locks with Redis").
LOCK_WORDS: frozenset[str] = frozenset({"lock", "locks", "mutex"})
# Suggested expiries in the fix, in seconds (our own defaults; the application knows better).
LOCK_TTL_S = 30
CACHE_TTL_S = 86_400

_WORD = re.compile(r"[A-Za-z]+")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_GLOB_SPECIAL = re.compile(r"([?\[\]\\])")
_CLI_PLAIN = re.compile(r"^[A-Za-z0-9_:./|#@*{}=+-]+$")


def pattern_words(pattern: str) -> list[str]:
    """`user:*:rateLimit` → ["user", "rate", "limit", "ratelimit"] (camelCase split, and joined)."""
    words: list[str] = []
    for word in _WORD.findall(pattern):
        parts = [p.lower() for p in _CAMEL.split(word) if p]
        words.extend(parts)
        if len(parts) > 1:
            words.append(word.lower())
    return words


def looks_like_cache(pattern: str) -> bool:
    letters = re.sub(r"[^a-z]", "", pattern.lower())
    return any(w in CACHE_WORDS for w in pattern_words(pattern)) or any(s in letters for s in CACHE_SUBWORDS)


def looks_like_lock(pattern: str) -> bool:
    return any(w in LOCK_WORDS for w in pattern_words(pattern))


def cli_arg(text: str) -> str:
    """A key or pattern as one redis-cli / shell argument."""
    if _CLI_PLAIN.match(text):
        return text
    return "'" + text.replace("'", "'\\''") + "'"


def scan_glob(pattern: str) -> str:
    """The key pattern as a SCAN MATCH glob: `*` stays a wildcard, other glob characters are literal."""
    return _GLOB_SPECIAL.sub(r"\\\1", pattern)


def keyspace_of(ctx: SchemaContext) -> Keyspace | None:
    return ctx.catalog.keyspace


def share_of_sample(keyspace: Keyspace, pattern: KeyPattern) -> float | None:
    return round(100 * pattern.sampled_keys / keyspace.sampled_keys, 1) if keyspace.sampled_keys else None


def check(ctx: SchemaContext) -> Iterator[Finding]:
    """Cache, session, token and lock keys that never expire pile up until memory runs out.

    ## Why is this bad?
    Data that is only valid for a while has to be removed by someone; without an expiry nobody
    does, so the keyspace grows with every visitor, login or request. With `maxmemory` unset it
    grows until the operating system kills Redis; with a `volatile-*` eviction policy these keys
    can never be chosen for eviction. A lock without an expiry is worse: when its holder crashes
    it is held for ever.

    ## Example
    ```
    SET session:8f3c2a9b1e "{...}"
    SET lock:invoice:42 worker-7 NX
    ```

    ## Use instead
    ```
    SET session:8f3c2a9b1e "{...}" EX 86400
    SET lock:invoice:42 worker-7 NX PX 30000
    ```

    ## Fix safety
    Display only: the expiry has to match how long the data is valid, which only the
    application knows. The backfill sets an expiry only on keys that have none (EXPIRE ... NX,
    Redis 7.0+), and it assumes key names without spaces or quotes.
    """
    keyspace = keyspace_of(ctx)
    if keyspace is None:
        return
    for pattern in keyspace.patterns:
        if pattern.ttl_share_pct > 0 or not looks_like_cache(pattern.pattern):
            continue
        lock = looks_like_lock(pattern.pattern)
        ttl = LOCK_TTL_S if lock else CACHE_TTL_S
        match = cli_arg(scan_glob(pattern.pattern))
        yield Finding(
            rule_id=SPEC.id,
            name=SPEC.name,
            severity=Severity.HIGH if lock else SPEC.severity,
            title=(
                f"{pattern.pattern} keys look like {'locks' if lock else 'cache or session data'} but none of the "
                f"{pattern.sampled_keys} sampled has an expiry, so they are never removed"
            ),
            subject=pattern.pattern,
            subject_kind="key",
            table=pattern.pattern,
            evidence={
                "pattern": pattern.pattern,
                "type": pattern.type,
                "sampled_keys": pattern.sampled_keys,
                "share_of_sample_pct": share_of_sample(keyspace, pattern),
                "ttl_share_pct": pattern.ttl_share_pct,
                "memory_bytes_avg": pattern.memory_bytes_avg,
                "memory_bytes_sampled": pattern.memory_bytes_sampled,
            },
            rationale=(
                (
                    "A lock without an expiry stays taken for ever once the process holding it dies, and every "
                    "later worker waits on it. Set the expiry in the same command that takes the lock."
                )
                if lock
                else (
                    "Cache and session entries are only valid for a while, but without an expiry Redis keeps them "
                    "until memory runs out, and volatile eviction policies can never choose them."
                )
            ),
            help="Set the expiry where the key is written (SET ... EX/PX), and backfill one on the existing keys.",
            fix=Fix(
                title=f"Give {pattern.pattern} keys an expiry ({ttl} s suggested)",
                statements=[
                    f"{redis_cli(ctx)} --scan --pattern {match} "
                    f'| awk \'{{print "EXPIRE", $0, {ttl}, "NX"}}\' | {redis_cli(ctx)}',
                ],
                safety="display-only",
                note=(
                    "Change the writer first (SET key value EX <seconds>); the backfill only covers keys that exist "
                    "now. Pick the expiry from how long the data stays valid."
                ),
            ),
        )


def redis_cli(ctx: SchemaContext) -> str:
    """`redis-cli`, with `-n N` when the reviewed connection is not on database 0."""
    database = ctx.catalog.database or "db0"
    number = database.removeprefix("db")
    return f"redis-cli -n {number}" if number.isdigit() and number != "0" else "redis-cli"


def connection_db_keys(ctx: SchemaContext) -> int | None:
    """Keys in the reviewed connection's own logical database (INFO keyspace), if known."""
    keyspace = ctx.catalog.keyspace
    if keyspace is None:
        return None
    number = (ctx.catalog.database or "db0").removeprefix("db")
    for db in keyspace.databases:
        if str(db.db) == number:
            return db.keys
    return None
