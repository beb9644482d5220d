"""SCH081 big-key: a single Redis key holds megabytes."""

from __future__ import annotations

from collections.abc import Iterator

from dbspecialist.knowledge.findings import Finding, Fix, RuleSpec, Severity
from dbspecialist.knowledge.schema.context import SchemaContext
from dbspecialist.knowledge.schema.rules.cache_keys_without_ttl import cli_arg, keyspace_of, redis_cli

SPEC = RuleSpec(
    id="SCH081",
    name="big-key",
    capability="schema",
    engines=("redis",),
    severity=Severity.HIGH,
    status="preview",
    fix="sometimes",
    summary="A single key uses more memory than the big-key threshold.",
)

# Commands that read a collection a page at a time instead of all at once (Redis docs, "SCAN").
INCREMENTAL_READ: dict[str, str] = {"hash": "HSCAN", "set": "SSCAN", "zset": "ZSCAN", "list": "LRANGE"}


def check(ctx: SchemaContext) -> Iterator[Finding]:
    """One key of megabytes blocks the single-threaded server whenever it is read, moved or deleted.

    ## Why is this bad?
    Redis runs commands one at a time, so `HGETALL`, `SMEMBERS` or `DEL` on a key of millions of
    elements stalls every other client for as long as it takes. A big key cannot be spread over
    a cluster (one key lives in one slot), it makes replication and migration send large
    payloads, and it usually grows without a bound.

    ## Example
    ```
    HSET user:events <event-id> <json>   # one hash holding every event ever recorded
    DEL user:events                      # frees millions of elements on the main thread
    ```

    ## Use instead
    ```
    HSET user:events:2024-06 <event-id> <json>   # one key per month (or per id bucket)
    UNLINK user:events:2023-01                   # frees the memory in a background thread
    ```

    ## Fix safety
    Display only: the statements delete data or change how deletes run. `UNLINK` removes the
    key (in the background); `lazyfree-lazy-user-del yes` (Redis 6.0+) makes every `DEL` do the
    same.
    """
    keyspace = keyspace_of(ctx)
    if keyspace is None:
        return
    limit = ctx.thresholds.redis_big_key_bytes
    for big in keyspace.biggest_keys:
        if big.memory_bytes is None or big.memory_bytes < limit:
            continue
        key = cli_arg(big.key)
        reader = INCREMENTAL_READ.get(big.type)
        elements = f"{big.length:,} elements" if big.length is not None and big.type != "string" else big.type
        yield Finding(
            rule_id=SPEC.id,
            name=SPEC.name,
            severity=SPEC.severity,
            title=(
                f"{big.key} uses {big.memory_bytes / 1_048_576:.1f} MiB ({elements}); reading or deleting it "
                "stalls the server"
            ),
            subject=big.key,
            subject_kind="key",
            table=big.key,
            evidence={
                "type": big.type,
                "memory_bytes": big.memory_bytes,
                "length": big.length,
                "big_key_bytes": limit,
                "times_threshold": round(big.memory_bytes / limit, 1),
            },
            rationale=(
                "Redis executes one command at a time, so a whole-key read or a DEL of a key this size blocks "
                "every other client meanwhile. One key also cannot be spread across cluster nodes."
            ),
            help=(
                "Split the key into smaller keys (by time or id bucket); read it with "
                f"{reader or 'range commands'} and delete it with UNLINK, never DEL."
            ),
            fix=Fix(
                title=f"Delete {big.key} without blocking, once its data is split or no longer needed",
                statements=[f"{redis_cli(ctx)} UNLINK {key}", "redis-cli CONFIG SET lazyfree-lazy-user-del yes"],
                safety="display-only",
                note="UNLINK deletes the key. Split the data into smaller keys in the application first.",
            ),
        )
