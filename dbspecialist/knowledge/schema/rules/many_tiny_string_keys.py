"""SCH082 many-tiny-string-keys: many small string keys that would take less memory as hash fields."""

from __future__ import annotations

from collections.abc import Iterator

from dbspecialist.knowledge.findings import Finding, Fix, RuleSpec, Severity
from dbspecialist.knowledge.schema.context import SchemaContext
from dbspecialist.knowledge.schema.rules.cache_keys_without_ttl import connection_db_keys, keyspace_of, share_of_sample

SPEC = RuleSpec(
    id="SCH082",
    name="many-tiny-string-keys",
    capability="schema",
    engines=("redis",),
    severity=Severity.LOW,
    status="preview",
    fix="sometimes",
    summary="A key pattern holds many tiny string keys; grouped into small hashes they would take less memory.",
)

# A string key this small is mostly per-key overhead (the key's dict entry, object header and name);
# Redis docs, "Memory optimization", advise packing such values into small hashes.
TINY_KEY_BYTES = 100
# A pattern is worth regrouping once it covers this many sampled keys (our own judgement: with the
# adapter's 1,000-key sample, 10 %).
TINY_KEYS_MIN_SAMPLED = 100
# Keys per bucket hash in the suggestion: below hash-max-listpack-entries' default of 128 (Redis 7 docs,
# "hash-max-listpack-entries"; hash-max-ziplist-entries before 7.0), so each bucket stays a compact listpack.
BUCKET_SIZE = 100


def _estimated_keys(ctx: SchemaContext, share_pct: float | None) -> int | None:
    keys = connection_db_keys(ctx)
    if keys is None or share_pct is None:
        return None
    return round(keys * share_pct / 100)


def check(ctx: SchemaContext) -> Iterator[Finding]:
    """Millions of tiny string keys spend more memory on key overhead than on their values.

    ## Why is this bad?
    Every top-level key costs a hash-table entry, an object header and its own name, several
    dozen bytes before the value. For values of a few bytes that overhead is most of the memory.
    Fields of a small hash are stored packed (a listpack) with almost no per-field overhead, so
    grouping the keys into buckets of about a hundred saves most of that overhead (the Redis
    docs, "Memory optimization", describe the technique).

    ## Example
    ```
    SET user:1234:last_seen 1718000000
    SET user:1235:last_seen 1718000042
    ```

    ## Use instead
    ```
    HSET user:12:last_seen 1234 1718000000   # bucket = id / 100, field = id
    HGET user:12:last_seen 1234
    ```

    ## Fix safety
    Display only: the application's reads and writes change. An expiry applies to the whole
    hash, not to one field, unless the server has per-field expiry (HEXPIRE, Redis 7.4+).
    """
    keyspace = keyspace_of(ctx)
    if keyspace is None:
        return
    for pattern in keyspace.patterns:
        average = pattern.memory_bytes_avg
        if pattern.type != "string" or "*" not in pattern.pattern or average is None:
            continue
        if average >= TINY_KEY_BYTES or pattern.sampled_keys < TINY_KEYS_MIN_SAMPLED:
            continue
        share = share_of_sample(keyspace, pattern)
        estimated = _estimated_keys(ctx, share)
        bucket_key = pattern.pattern.replace("*", f"{{id/{BUCKET_SIZE}}}", 1)
        note = "Each bucket stays a compact listpack while it holds at most hash-max-listpack-entries fields."
        if pattern.ttl_share_pct > 0:
            note += (
                f" {pattern.ttl_share_pct} % of these keys expire: keep per-key expiry with HEXPIRE (Redis 7.4+) "
                "or leave them as strings."
            )
        yield Finding(
            rule_id=SPEC.id,
            name=SPEC.name,
            severity=SPEC.severity,
            title=(
                f"{pattern.pattern} is {pattern.sampled_keys} sampled string keys of {average:.0f} bytes each, "
                "mostly per-key overhead"
            ),
            subject=pattern.pattern,
            subject_kind="key",
            table=pattern.pattern,
            evidence={
                "pattern": pattern.pattern,
                "sampled_keys": pattern.sampled_keys,
                "share_of_sample_pct": share,
                "memory_bytes_avg": average,
                "memory_bytes_sampled": pattern.memory_bytes_sampled,
                "estimated_keys": estimated,
                "estimated_bytes": round(estimated * average) if estimated is not None else None,
                "ttl_share_pct": pattern.ttl_share_pct,
            },
            rationale=(
                "Each top-level key carries several dozen bytes of bookkeeping, which for values this small is "
                "most of the memory. Fields of a small hash are stored packed, so grouping the keys in buckets of "
                "about a hundred saves most of that overhead."
            ),
            help=f"Store these values as fields of bucket hashes ({bucket_key}), about {BUCKET_SIZE} per hash.",
            fix=Fix(
                title=f"Group {pattern.pattern} into hashes of about {BUCKET_SIZE} fields",
                statements=[
                    "redis-cli CONFIG GET hash-max-listpack-entries",
                    f"HSET {bucket_key} {{id}} <value>",
                    f"HGET {bucket_key} {{id}}",
                ],
                safety="display-only",
                note=note,
            ),
        )
