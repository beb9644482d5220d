"""Redis health rules on memory: maxmemory and its policy, fragmentation or swapping, evictions and the
keyspace hit ratio (HLT130-HLT134)."""

from __future__ import annotations

from collections.abc import Iterator

from dbspecialist.knowledge.findings import Finding, Fix, RuleSpec, Severity
from dbspecialist.knowledge.health.common import Evidence, as_float, health_finding, pct
from dbspecialist.knowledge.health.redis_common import Check, RedisHealthContext, size_text, spec

# -- HLT130 -------------------------------------------------------------------------------------------------

MEMORY_NEAR_MAX = spec(
    "HLT130",
    "memory-near-maxmemory",
    Severity.MEDIUM,
    "Memory used is close to maxmemory: writes evict keys or, with noeviction, fail.",
    fix="always",
)


def memory_near_maxmemory(ctx: RedisHealthContext) -> Iterator[Finding]:
    """Memory used is close to maxmemory: new writes evict keys or, with `noeviction`, fail.

    ## Why it matters
    Past `maxmemory` Redis applies `maxmemory-policy` on every write: an eviction policy deletes keys
    (a cache loses entries), `noeviction` answers writes with an OOM error (Redis docs, "Key
    eviction"). The memory compared is `used_memory` minus `mem_not_counted_for_evict` (replica and
    AOF buffers), as Redis itself counts it.

    ## Threshold
    90 % of maxmemory, read now (our own judgement). High with `noeviction` (writes fail), medium with
    a `volatile-*` policy (only keys with a TTL can go), low with an `allkeys-*` policy (a cache at
    capacity, by design; see the eviction and hit-ratio findings for the cost).

    ## Fix
    Raise maxmemory if the machine has room (`CONFIG SET maxmemory`, and in redis.conf), put TTLs on
    cache keys, shrink big keys, or shard (Redis Cluster); `plan_capacity` projects growth.
    """
    limit = ctx.maxmemory
    if limit <= 0:
        return
    t = ctx.thresholds
    used = ctx.number("memory", "used_memory") - ctx.number("memory", "mem_not_counted_for_evict")
    share = pct(used, limit) or 0.0
    if share < t.memory_warn_pct:
        return
    policy = ctx.policy
    severity = (
        Severity.HIGH if policy == "noeviction" else Severity.LOW if policy.startswith("allkeys-") else Severity.MEDIUM
    )
    consequence = {
        Severity.HIGH: "writes fail with OOM errors once it is reached",
        Severity.MEDIUM: "only keys with a TTL can be evicted; keys without one can fill it and make writes fail",
        Severity.LOW: "every new write evicts a key (a cache at capacity)",
    }[severity]
    yield health_finding(
        MEMORY_NEAR_MAX,
        subject="maxmemory",
        subject_kind="server",
        title=f"{share}% of maxmemory ({size_text(used)} of {size_text(limit)}) in use with policy {policy}",
        measured="sample",
        evidence={
            "used_memory": used,
            "maxmemory": limit,
            "used_pct": share,
            "maxmemory_policy": policy,
            "evicted_keys": ctx.number("stats", "evicted_keys"),
            "threshold_pct": t.memory_warn_pct,
        },
        rationale=f"At maxmemory Redis applies maxmemory-policy={policy} on every write: {consequence}.",
        help_="Raise maxmemory if the machine has room, put TTLs on cache keys or shrink big keys; `plan_capacity` "
        "projects growth.",
        fix=Fix(
            title="Raise maxmemory (choose the size the machine allows)",
            statements=["CONFIG SET maxmemory <bytes>", "CONFIG REWRITE"],
            safety="display-only",
            note="Leave room for fork copy-on-write (BGSAVE/AOF rewrite) and the OS; CONFIG REWRITE saves the "
            "setting to redis.conf when Redis was started from one.",
        ),
        severity=severity,
    )


# -- HLT131 -------------------------------------------------------------------------------------------------

NO_MAXMEMORY = spec(
    "HLT131",
    "no-maxmemory",
    Severity.MEDIUM,
    "maxmemory is 0 (unlimited) on an instance used as a cache, or memory nears the machine's RAM.",
    fix="always",
)


def no_maxmemory(ctx: RedisHealthContext) -> Iterator[Finding]:
    """maxmemory is 0 (unlimited): a cache grows until the machine runs out of memory.

    ## Why it matters
    With `maxmemory 0` Redis never evicts (on 64-bit builds; Redis docs, "Key eviction"): a cache keeps
    every key until its TTL, and once the machine's RAM is exhausted the OS swaps Redis (every command
    slows down) or the OOM killer ends it. A fork for BGSAVE or an AOF rewrite needs room for
    copy-on-write on top of the dataset.

    ## Threshold
    An eviction policy set, or at least 50 % of keys with a TTL (the instance looks like a cache):
    medium. `used_memory` at 75 % of `total_system_memory`, whatever the use: high. Read now; our own
    judgement.

    ## Fix
    `CONFIG SET maxmemory` to what the machine (or container) allows minus room for forks, and an
    `allkeys-lru`/`allkeys-lfu` policy for a cache.
    """
    if ctx.maxmemory > 0:
        return
    t = ctx.thresholds
    used = ctx.number("memory", "used_memory")
    system = ctx.number("memory", "total_system_memory")
    keys, expires = ctx.keys()
    ttl_share = pct(expires, keys)
    system_pct = pct(used, system)
    cache_like = ctx.policy != "noeviction" or (ttl_share is not None and ttl_share >= t.cache_ttl_share_pct)
    if system_pct is not None and system_pct >= t.system_memory_pct:
        severity = Severity.HIGH
        title = f"maxmemory is unlimited and Redis uses {system_pct}% of the machine's memory"
    elif cache_like:
        severity = Severity.MEDIUM
        title = "maxmemory is unlimited on an instance used as a cache"
    else:
        return
    yield health_finding(
        NO_MAXMEMORY,
        subject="maxmemory",
        subject_kind="server",
        title=title,
        measured="sample",
        evidence={
            "maxmemory": 0,
            "maxmemory_policy": ctx.policy,
            "used_memory": used,
            "total_system_memory": system or None,
            "system_memory_pct": system_pct,
            "keys": keys,
            "keys_with_ttl_pct": ttl_share,
            "threshold_pct": t.system_memory_pct,
        },
        rationale=(
            "Without maxmemory Redis never evicts: the data grows until the OS swaps Redis or the OOM killer ends it, "
            "and a fork for persistence needs copy-on-write room on top."
        ),
        help_="Set maxmemory to what the machine allows (minus room for forks) and an allkeys-lru/lfu policy for a "
        "cache.",
        fix=Fix(
            title="Cap memory and evict least-recently-used keys",
            statements=["CONFIG SET maxmemory <bytes>", "CONFIG SET maxmemory-policy allkeys-lru", "CONFIG REWRITE"],
            safety="display-only",
            note="Only for a cache: with allkeys-* any key can be deleted. For a data store keep noeviction and size "
            "the machine instead (`plan_capacity`).",
        ),
        severity=severity,
    )


# -- HLT132 -------------------------------------------------------------------------------------------------

FRAGMENTATION = spec(
    "HLT132",
    "memory-fragmentation",
    Severity.LOW,
    "mem_fragmentation_ratio is high (RSS well above the data) or below 1 (part of Redis is swapped out).",
)


def memory_fragmentation(ctx: RedisHealthContext) -> Iterator[Finding]:
    """The process holds much more memory than its data (fragmentation), or less (it is being swapped).

    ## Why it matters
    `mem_fragmentation_ratio` is `used_memory_rss / used_memory`. Well above 1, the allocator holds
    freed memory it cannot return (many deletes or size changes); the machine runs out earlier than
    the data suggests. Below 1, part of Redis's memory is in swap and commands touching it wait for
    the disk (Redis docs, INFO "memory").

    ## Threshold
    Above 1.5 with at least 100 MiB of difference (low); below 1.0 with at least 64 MiB used (high).
    Read now. Small instances always show a large ratio (a few MB of fixed RSS), hence the floors.

    ## Fix
    Fragmentation: active defragmentation (`CONFIG SET activedefrag yes`, jemalloc builds), or a
    restart/failover. Swapping: give the machine more memory or lower maxmemory; disable swap for Redis
    hosts.
    """
    t = ctx.thresholds
    ratio = as_float(ctx.info("memory").get("mem_fragmentation_ratio"))
    used = ctx.number("memory", "used_memory")
    rss = ctx.number("memory", "used_memory_rss")
    if ratio is None:
        return
    evidence: Evidence = {
        "mem_fragmentation_ratio": ratio,
        "used_memory": used,
        "used_memory_rss": rss,
        "allocator_frag_ratio": as_float(ctx.info("memory").get("allocator_frag_ratio")),
        "activedefrag": ctx.config("activedefrag"),
    }
    if ratio > t.fragmentation_ratio and rss - used >= t.fragmentation_min_bytes:
        yield health_finding(
            FRAGMENTATION,
            subject="mem_fragmentation_ratio",
            subject_kind="server",
            title=f"Redis holds {size_text(rss - used)} more than its data (fragmentation ratio {ratio})",
            measured="sample",
            evidence={**evidence, "threshold_ratio": t.fragmentation_ratio},
            rationale="The allocator keeps memory freed by deletes and resizes; the machine runs out of memory earlier "
            "than the data suggests.",
            help_="Enable active defragmentation (jemalloc builds) or restart/fail over at a quiet moment.",
            fix=Fix(
                title="Enable active defragmentation",
                statements=["CONFIG SET activedefrag yes"],
                note="Needs a jemalloc build (INFO memory mem_allocator); it spends some CPU to move values.",
            ),
        )
    elif ratio < t.swap_ratio and used >= t.swap_min_used_bytes:
        yield health_finding(
            FRAGMENTATION,
            subject="mem_fragmentation_ratio",
            subject_kind="server",
            title=f"Redis's resident memory is below its data (ratio {ratio}): part of it is swapped out",
            measured="sample",
            evidence={**evidence, "threshold_ratio": t.swap_ratio},
            rationale="A ratio below 1 means the OS moved part of Redis to swap; commands that touch it wait for the "
            "disk.",
            help_="Give the machine more memory or lower maxmemory; keep swap away from Redis hosts.",
            severity=Severity.HIGH,
        )


# -- HLT133 -------------------------------------------------------------------------------------------------

EVICTIONS = spec(
    "HLT133",
    "evicted-keys",
    Severity.LOW,
    "Keys were evicted to stay under maxmemory (evicted_keys since the server started).",
    fix="never",
)


def evicted_keys(ctx: RedisHealthContext) -> Iterator[Finding]:
    """Keys were evicted to stay under maxmemory: the data no longer fits.

    ## Why it matters
    Each eviction deletes a key the application may still read: for a cache, a miss and a reload from
    the database; for anything else, data loss. With a `volatile-*` policy only keys with a TTL go, so
    keys without one keep growing until writes fail.

    ## Threshold
    Any eviction since the server started (or `CONFIG RESETSTAT`): low with an `allkeys-*` policy,
    medium otherwise.

    ## Fix
    Raise maxmemory, shorten TTLs, shrink big keys, or shard; `plan_capacity` for growth. Watch the
    hit ratio (HLT134).
    """
    evicted = ctx.number("stats", "evicted_keys")
    if evicted <= 0:
        return
    policy = ctx.policy
    hits, misses = ctx.number("stats", "keyspace_hits"), ctx.number("stats", "keyspace_misses")
    yield health_finding(
        EVICTIONS,
        subject="evicted_keys",
        subject_kind="server",
        title=f"{evicted} keys were evicted under maxmemory-policy {policy}",
        measured="counter",
        since=ctx.stats_since,
        evidence={
            "evicted_keys": evicted,
            "per_hour": ctx.per_hour(evicted),
            "maxmemory": ctx.maxmemory,
            "maxmemory_policy": policy,
            "keyspace_hit_pct": pct(hits, hits + misses),
            "threshold": 1,
        },
        rationale=(
            "Each eviction deletes a key the application may still read: a cache miss and a reload, or lost data if "
            "the instance is not only a cache."
        ),
        help_="Raise maxmemory, shorten TTLs or shrink big keys; `plan_capacity` projects the memory needed.",
        severity=Severity.LOW if policy.startswith("allkeys-") else Severity.MEDIUM,
    )


# -- HLT134 -------------------------------------------------------------------------------------------------

HIT_RATIO = spec(
    "HLT134",
    "low-keyspace-hit-ratio",
    Severity.LOW,
    "Few key lookups find their key (keyspace_hits vs keyspace_misses since the server started).",
    fix="never",
)


def low_keyspace_hit_ratio(ctx: RedisHealthContext) -> Iterator[Finding]:
    """Few key lookups find their key: as a cache, the instance saves the database little work.

    ## Why it matters
    `keyspace_hits`/`keyspace_misses` count read commands that found, or did not find, their key. For
    a cache, each miss is a trip to the database; a low ratio means TTLs shorter than the reuse
    interval, evictions, or keys that are written but never read again.

    ## Threshold
    Below 80 % (low) or 50 % (medium), over at least 10,000 lookups since the server started (our own
    judgement for a cache; an instance used as a queue or lock service misses by design).

    ## Fix
    Compare with evictions (HLT133): if keys are evicted, give the cache more memory; otherwise
    lengthen TTLs, or stop caching what is not read again.
    """
    t = ctx.thresholds
    hits, misses = ctx.number("stats", "keyspace_hits"), ctx.number("stats", "keyspace_misses")
    lookups = hits + misses
    ratio = pct(hits, lookups)
    if ratio is None or lookups < t.hit_ratio_min_lookups or ratio >= t.hit_ratio_min_pct:
        return
    yield health_finding(
        HIT_RATIO,
        subject="keyspace_hits",
        subject_kind="server",
        title=f"{ratio}% of key lookups found their key ({hits} of {lookups})",
        measured="counter",
        since=ctx.stats_since,
        evidence={
            "keyspace_hits": hits,
            "keyspace_misses": misses,
            "hit_pct": ratio,
            "evicted_keys": ctx.number("stats", "evicted_keys"),
            "expired_keys": ctx.number("stats", "expired_keys"),
            "threshold_pct": t.hit_ratio_min_pct,
        },
        rationale="For a cache each miss is a trip to the database; a low ratio means short TTLs, evictions, or keys "
        "written but never read.",
        help_="If keys are evicted give the cache more memory; otherwise lengthen TTLs or cache less.",
        severity=Severity.MEDIUM if ratio < t.hit_ratio_medium_pct else None,
    )


RULES: tuple[tuple[RuleSpec, Check], ...] = (
    (MEMORY_NEAR_MAX, memory_near_maxmemory),
    (NO_MAXMEMORY, no_maxmemory),
    (FRAGMENTATION, memory_fragmentation),
    (EVICTIONS, evicted_keys),
    (HIT_RATIO, low_keyspace_hit_ratio),
)


__all__ = ["RULES"]
