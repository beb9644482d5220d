"""MongoDB health rules on the server's resources: connections near the limit, WiredTiger cache pressure and
evictions done by application threads (HLT100-HLT102)."""

from __future__ import annotations

from collections.abc import Iterator

from dbspecialist.knowledge.findings import Finding, RuleSpec, Severity
from dbspecialist.knowledge.health.common import (
    as_int,
    gib_or_mib,
    health_finding,
    hourly_rate,
    pct,
)
from dbspecialist.knowledge.health.mongodb_common import Check, MongoHealthContext, spec

# -- HLT100 -------------------------------------------------------------------------------------------------

CONNECTIONS = spec(
    "HLT100",
    "connections-near-limit",
    Severity.MEDIUM,
    "Connections in use are close to the number the server accepts (serverStatus connections).",
    fix="never",
)


def connections_near_limit(ctx: MongoHealthContext) -> Iterator[Finding]:
    """Connections in use are close to the server's limit: new clients will be refused.

    ## Why it matters
    `connections.current + connections.available` is what mongod accepts (`net.maxIncomingConnections`,
    capped by the process's file-descriptor limit). Past it, new connections are closed at once; each
    connection also costs about 1 MiB of memory on the server. Many connections usually mean a pool
    per process with a large `maxPoolSize`.

    ## Threshold
    80 % (medium) or 95 % (high) of current + available, read now (our own judgement).

    ## Fix
    Lower the drivers' `maxPoolSize` (and `minPoolSize`) to what the server can serve, close idle
    connections (`maxIdleTimeMS`), or raise `net.maxIncomingConnections` with the ulimit.
    """
    t = ctx.thresholds
    connections = ctx.section("connections")
    current, available = connections.get("current"), connections.get("available")
    if not isinstance(current, int | float) or not isinstance(available, int | float):
        return
    limit = int(current + available)
    share = pct(current, limit)
    if share is None or share < t.connections_warn_pct:
        return
    yield health_finding(
        CONNECTIONS,
        subject="connections",
        subject_kind="server",
        title=f"{int(current)} of {limit} connections in use ({share}%)",
        measured="sample",
        evidence={
            "current": int(current),
            "available": int(available),
            "limit": limit,
            "used_pct": share,
            "total_created": connections.get("total_created"),
            "threshold_pct": t.connections_warn_pct,
        },
        rationale="Past the limit new connections are closed at once, and each open connection costs about 1 MiB "
        "on the server.",
        help_="Lower the drivers' maxPoolSize and close idle connections (maxIdleTimeMS), or raise "
        "net.maxIncomingConnections with the ulimit.",
        severity=Severity.HIGH if share >= t.connections_high_pct else None,
    )


# -- HLT101 -------------------------------------------------------------------------------------------------

CACHE_FILL = spec(
    "HLT101",
    "wiredtiger-cache-pressure",
    Severity.MEDIUM,
    "The WiredTiger cache is at its eviction trigger, or holds too many dirty bytes.",
    fix="never",
)


def wiredtiger_cache_pressure(ctx: MongoHealthContext) -> Iterator[Finding]:
    """The WiredTiger cache is full or too dirty: application threads have to evict pages themselves.

    ## Why it matters
    WiredTiger's background threads keep the cache near 80 % full and 5 % dirty; at 95 % full or 20 %
    dirty (its `eviction_trigger`/`eviction_dirty_trigger` defaults) the threads serving queries must
    evict pages before they can continue, and latency jumps. A cache that stays full means the working
    set (data and indexes in use) is larger than the cache (by default 50 % of RAM minus 1 GB).

    ## Threshold
    Bytes in the cache at 95 % of `maximum bytes configured` (medium) or dirty bytes at 20 % (high),
    read now.

    ## Fix
    More RAM (or `storage.wiredTiger.engineConfig.cacheSizeGB`, leaving the OS room); fewer or smaller
    indexes (HLT106 finds unused ones); for a dirty cache, faster storage. `plan_capacity` for the
    working set.
    """
    t = ctx.thresholds
    cache = ctx.section("wiredtiger_cache")
    size = as_int(cache.get("max_bytes"))
    if size <= 0:
        return
    used, dirty = as_int(cache.get("bytes_in_cache")), as_int(cache.get("dirty_bytes"))
    fill, dirty_pct = pct(used, size) or 0.0, pct(dirty, size) or 0.0
    if fill < t.cache_fill_pct and dirty_pct < t.cache_dirty_pct:
        return
    too_dirty = dirty_pct >= t.cache_dirty_pct
    yield health_finding(
        CACHE_FILL,
        subject="wiredtiger_cache",
        subject_kind="server",
        title=f"the WiredTiger cache is {fill}% full and {dirty_pct}% dirty ({gib_or_mib(used)} of {gib_or_mib(size)})",
        measured="sample",
        evidence={
            "bytes_in_cache": used,
            "max_bytes": size,
            "fill_pct": fill,
            "dirty_bytes": dirty,
            "dirty_pct": dirty_pct,
            "app_thread_evictions": cache.get("app_thread_evictions"),
            "threshold_fill_pct": t.cache_fill_pct,
            "threshold_dirty_pct": t.cache_dirty_pct,
        },
        rationale=(
            "At 95% full or 20% dirty the threads serving queries must evict pages themselves before they continue; "
            "a cache that stays full means the working set is larger than the cache."
        ),
        help_="Add RAM or resize the cache, drop unused indexes; for a dirty cache, faster storage. `plan_capacity` "
        "sizes the working set.",
        severity=Severity.HIGH if too_dirty else None,
    )


# -- HLT102 -------------------------------------------------------------------------------------------------

APP_EVICTIONS = spec(
    "HLT102",
    "application-thread-evictions",
    Severity.MEDIUM,
    "Threads serving queries had to evict cache pages themselves (pages evicted by application threads).",
    fix="never",
)


def application_thread_evictions(ctx: MongoHealthContext) -> Iterator[Finding]:
    """Threads serving queries have been evicting cache pages themselves: the cache could not keep up.

    ## Why it matters
    Eviction is meant to run in WiredTiger's background threads. `pages evicted by application threads`
    counts the pages that operations had to evict before they could proceed, each one a stall in a
    user's request; it grows when the cache sits at its eviction trigger.

    ## Threshold
    At least 1,000 pages and 1 % of all evicted pages since the server started (our own judgement).

    ## Fix
    As for HLT101: a larger cache or less data in use (unused indexes, projections), faster storage for
    dirty pages.
    """
    t = ctx.thresholds
    cache = ctx.section("wiredtiger_cache")
    app = as_int(cache.get("app_thread_evictions"))
    total = as_int(cache.get("unmodified_evicted")) + as_int(cache.get("modified_evicted"))
    share = pct(app, total)
    if app < t.app_evictions_min or share is None or share < t.app_evictions_pct:
        return
    yield health_finding(
        APP_EVICTIONS,
        subject="wiredtiger_cache",
        subject_kind="server",
        title=f"application threads evicted {app} cache pages ({share}% of all evictions)",
        measured="counter",
        since=ctx.stats_since,
        evidence={
            "app_thread_evictions": app,
            "pages_evicted": total,
            "app_share_pct": share,
            "per_hour": hourly_rate(app, ctx.uptime),
            "threshold_pages": t.app_evictions_min,
            "threshold_pct": t.app_evictions_pct,
        },
        rationale="Each page an application thread evicts is a stall in a user's request: background eviction could "
        "not keep the cache below its trigger.",
        help_="Give the cache more memory or use less of it (unused indexes, projections); faster storage for dirty "
        "pages.",
    )


RULES: tuple[tuple[RuleSpec, Check], ...] = (
    (CONNECTIONS, connections_near_limit),
    (CACHE_FILL, wiredtiger_cache_pressure),
    (APP_EVICTIONS, application_thread_evictions),
)


__all__ = ["RULES"]
