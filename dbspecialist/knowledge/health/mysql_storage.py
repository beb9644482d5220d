"""MySQL/MariaDB health rules on InnoDB storage: the buffer pool's hit rate and free-page waits, tablespaces
holding much free space (HLT050, HLT051, HLT061)."""

from __future__ import annotations

from collections.abc import Iterator

from dbspecialist.knowledge.findings import Finding, Fix, RuleSpec, Severity
from dbspecialist.knowledge.health.common import as_int, gib_or_mib, health_finding, pct
from dbspecialist.knowledge.health.mysql_common import Check, MySqlHealthContext, spec
from dbspecialist.knowledge.sql_text import qualified

# -- HLT050 -------------------------------------------------------------------------------------------------

BUFFER_POOL_HIT = spec(
    "HLT050",
    "low-buffer-pool-hit-rate",
    Severity.MEDIUM,
    "Too many InnoDB page reads miss the buffer pool and go to disk.",
    fix="never",
)


def low_buffer_pool_hit_rate(ctx: MySqlHealthContext) -> Iterator[Finding]:
    """Too many InnoDB page reads miss the buffer pool: the working set does not fit in memory.

    ## Why it matters
    `Innodb_buffer_pool_read_requests` counts logical page reads and `Innodb_buffer_pool_reads` the
    ones InnoDB had to read from disk because the page was not in the buffer pool (MySQL docs, Server
    Status Variables). A low hit rate on an OLTP server means the hot data no longer fits in
    `innodb_buffer_pool_size`, or large scans keep pushing it out.

    ## Threshold
    99 % (medium) and 95 % (high), the rule of thumb for an OLTP cache; counters since the server
    started, at least 100,000 logical reads. While the pool still has 10 % of its pages free it is
    warming up rather than evicting, so the finding is only low.

    ## Fix
    `top_queries` and `recommend_indexes` for the scans; `tune_config` sizes innodb_buffer_pool_size
    (commonly 50-75 % of RAM on a dedicated server); `plan_capacity` for growth.
    """
    t = ctx.thresholds
    requests = ctx.status("Innodb_buffer_pool_read_requests")
    reads = ctx.status("Innodb_buffer_pool_reads")
    if requests < t.buffer_pool_min_requests:
        return
    hit = round(100.0 - 100.0 * reads / requests, 2)
    if hit >= t.buffer_pool_hit_min_pct:
        return
    free_pct = pct(ctx.status("Innodb_buffer_pool_pages_free"), ctx.status("Innodb_buffer_pool_pages_total"))
    warming = free_pct is not None and free_pct >= t.buffer_pool_warm_free_pct
    severity = Severity.LOW if warming else Severity.HIGH if hit < t.buffer_pool_hit_medium_pct else None
    yield health_finding(
        BUFFER_POOL_HIT,
        subject="innodb_buffer_pool",
        subject_kind="server",
        title=f"{hit}% of InnoDB page reads hit the buffer pool" + (" (still warming up)" if warming else ""),
        measured="counter",
        since=ctx.stats_since,
        evidence={
            "hit_rate_pct": hit,
            "read_requests": requests,
            "disk_reads": reads,
            "pages_free_pct": free_pct,
            "innodb_buffer_pool_size": ctx.variable("innodb_buffer_pool_size"),
            "threshold_pct": t.buffer_pool_hit_min_pct,
        },
        rationale=(
            "Each miss is a disk read; below 99% on OLTP the hot data usually no longer fits in the buffer pool, "
            "or scans keep pushing it out."
            + (" The pool still has free pages, so part of this is warm-up after a restart." if warming else "")
        ),
        help_="Find the scans with `top_queries` and `recommend_indexes`; size innodb_buffer_pool_size with "
        "`tune_config`.",
        severity=severity,
    )


# -- HLT051 -------------------------------------------------------------------------------------------------

WAIT_FREE = spec(
    "HLT051",
    "buffer-pool-wait-free",
    Severity.LOW,
    "InnoDB had to wait for dirty pages to be flushed before it could read a page (Innodb_buffer_pool_wait_free).",
    fix="never",
)


def buffer_pool_wait_free(ctx: MySqlHealthContext) -> Iterator[Finding]:
    """Reads had to wait for a free buffer-pool page: flushing cannot keep up with the pool's size.

    ## Why it matters
    When InnoDB needs a page and no clean page is free, it waits for dirty pages to be flushed first;
    `Innodb_buffer_pool_wait_free` counts those waits and "should be small" (MySQL docs, Server Status
    Variables). Each wait stalls the query that needed the page. It means the buffer pool is too small
    for the write load, or page cleaning (`innodb_io_capacity`, `innodb_page_cleaners`) is too slow.

    ## Threshold
    Any wait since the server started is low; 1,000 or more is medium (our own judgement).
    `pages_free_pct` shows how full the pool is.

    ## Fix
    `tune_config` for innodb_buffer_pool_size and innodb_io_capacity (to match the storage's real
    IOPS); check the disk's write latency.
    """
    waits = ctx.status("Innodb_buffer_pool_wait_free")
    if waits <= 0:
        return
    t = ctx.thresholds
    yield health_finding(
        WAIT_FREE,
        subject="innodb_buffer_pool",
        subject_kind="server",
        title=f"InnoDB waited {waits} time(s) for a free buffer-pool page",
        measured="counter",
        since=ctx.stats_since,
        evidence={
            "wait_free": waits,
            "per_hour": ctx.per_hour(waits),
            "pages_free": ctx.status("Innodb_buffer_pool_pages_free"),
            "pages_dirty": ctx.status("Innodb_buffer_pool_pages_dirty"),
            "pages_total": ctx.status("Innodb_buffer_pool_pages_total"),
            "pages_free_pct": pct(
                ctx.status("Innodb_buffer_pool_pages_free"), ctx.status("Innodb_buffer_pool_pages_total")
            ),
            "threshold": 1,
        },
        rationale=(
            "A read that finds no clean page waits for dirty pages to be flushed first: the pool is too small for "
            "the write load, or page cleaning is too slow."
        ),
        help_="Size innodb_buffer_pool_size and innodb_io_capacity with `tune_config`; check disk write latency.",
        severity=Severity.MEDIUM if waits >= t.wait_free_medium else None,
    )


# -- HLT061 -------------------------------------------------------------------------------------------------

FRAGMENTATION = spec(
    "HLT061",
    "fragmented-table",
    Severity.LOW,
    "A big table's tablespace holds a large share of free space left by deleted rows (DATA_FREE).",
    fix="always",
)


def fragmented_table(ctx: MySqlHealthContext) -> Iterator[Finding]:
    """A big table's file holds much free space left by deleted rows: it is larger than its data.

    ## Why it matters
    InnoDB reuses pages freed by DELETE for the same table but does not return them to the file
    system; `information_schema.TABLES.DATA_FREE` is the free space in the table's tablespace. Backups,
    copies and the buffer pool carry the half-empty pages, and range scans read more pages than the
    rows need. (For a table in the shared system tablespace, DATA_FREE is that tablespace's free space.)

    ## Threshold
    Tables with at least 256 MiB free making up 20 % of data + indexes + free (low), 50 % (medium): our
    own judgement, so small tables are left alone. On MySQL 8 the figures may be cached for
    `information_schema_stats_expiry` seconds.

    ## Fix
    `OPTIMIZE TABLE` rebuilds the table (for InnoDB, `ALTER TABLE ... FORCE`): online DDL on current
    versions, but it needs free disk space for a full copy, takes a brief exclusive lock at the start
    and end, and replicas replay it afterwards (lag). `plan_migration` plans the rebuild without
    downtime (pt-online-schema-change or gh-ost).
    """
    t = ctx.thresholds
    for entry in ctx.snapshot.get("tables") or []:
        free = as_int(entry.get("free_bytes"))
        data, index = as_int(entry.get("data_bytes")), as_int(entry.get("index_bytes"))
        share = pct(free, data + index + free)
        if share is None or free < t.fragmentation_min_free_bytes or share < t.fragmentation_pct:
            continue
        name = qualified(entry.get("schema"), str(entry.get("table")), "mysql")
        yield health_finding(
            FRAGMENTATION,
            subject=name,
            subject_kind="table",
            table=str(entry.get("table")),
            title=f"{name} holds {gib_or_mib(free)} of free space ({share}% of its tablespace)",
            measured="estimate",
            evidence={
                "free_bytes": free,
                "data_bytes": data,
                "index_bytes": index,
                "free_pct": share,
                "rows_estimate": entry.get("rows"),
                "engine": entry.get("engine"),
                "innodb_file_per_table": ctx.variable("innodb_file_per_table"),
                "threshold_pct": t.fragmentation_pct,
                "threshold_bytes": t.fragmentation_min_free_bytes,
            },
            rationale=(
                "Deleted rows leave pages InnoDB reuses only for this table and never returns to the file system; "
                "backups, copies and range scans carry the half-empty pages."
            ),
            help_="Rebuild it at a quiet time with OPTIMIZE TABLE; `plan_migration` plans the rebuild without "
            "downtime.",
            fix=Fix(
                title=f"Rebuild {name}",
                statements=[f"OPTIMIZE TABLE {name};"],
                safety="unsafe",
                note="Rebuilds the whole table: needs free disk space for a full copy, takes brief exclusive locks "
                "and makes replicas lag while they replay it. `plan_migration` plans an online rebuild "
                "(pt-online-schema-change, gh-ost).",
            ),
            severity=Severity.MEDIUM if share >= t.fragmentation_medium_pct else None,
        )


RULES: tuple[tuple[RuleSpec, Check], ...] = (
    (BUFFER_POOL_HIT, low_buffer_pool_hit_rate),
    (WAIT_FREE, buffer_pool_wait_free),
    (FRAGMENTATION, fragmented_table),
)


__all__ = ["RULES"]
