"""MySQL/MariaDB health rules on statements: slow queries per hour, implicit temporary tables written to disk
(HLT054, HLT056)."""

from __future__ import annotations

from collections.abc import Iterator

from dbspecialist.knowledge.findings import Finding, Fix, RuleSpec, Severity
from dbspecialist.knowledge.health.common import as_int, health_finding, pct
from dbspecialist.knowledge.health.mysql_common import Check, MySqlHealthContext, spec

# -- HLT054 -------------------------------------------------------------------------------------------------

SLOW_QUERIES = spec(
    "HLT054",
    "slow-query-rate",
    Severity.LOW,
    "Statements slower than long_query_time happen regularly (Slow_queries per hour since the server started).",
    fix="never",
)


def slow_query_rate(ctx: MySqlHealthContext) -> Iterator[Finding]:
    """Statements slower than long_query_time happen regularly.

    ## Why it matters
    `Slow_queries` counts statements that took longer than `long_query_time` (whether or not the slow
    log is on; MySQL docs). Each one holds a connection, and locks if it writes, for that long. The
    slow query log names them.

    ## Threshold
    One an hour since the server started (low) or one a minute (medium), with at least 10 in all (our
    own judgement). Skipped while `slow_query_log` is off, since then the statements cannot be named.

    ## Fix
    `top_queries` lists the costliest statements (performance_schema digests); `explain_query` and
    `recommend_indexes` for each.
    """
    t = ctx.thresholds
    slow = ctx.status("Slow_queries")
    per_hour = ctx.per_hour(slow)
    if slow < t.slow_queries_min or per_hour is None or per_hour < t.slow_queries_per_hour:
        return
    yield health_finding(
        SLOW_QUERIES,
        subject="slow_queries",
        subject_kind="server",
        title=f"{per_hour} statements an hour take longer than long_query_time={ctx.variable('long_query_time')} s",
        measured="counter",
        since=ctx.stats_since,
        evidence={
            "slow_queries": slow,
            "per_hour": per_hour,
            "questions": ctx.status("Questions"),
            "slow_pct": pct(slow, ctx.status("Questions")),
            "long_query_time_s": ctx.variable("long_query_time"),
            "threshold_per_hour": t.slow_queries_per_hour,
        },
        rationale=(
            "Each slow statement holds its connection, and its locks if it writes, for that long; the slow query "
            "log names them."
        ),
        help_="Rank them with `top_queries`, then `explain_query` and `recommend_indexes` each.",
        severity=Severity.MEDIUM if per_hour >= t.slow_queries_per_hour_medium else None,
    )


# -- HLT056 -------------------------------------------------------------------------------------------------

TMP_DISK = spec(
    "HLT056",
    "on-disk-temporary-tables",
    Severity.LOW,
    "A large share of implicit temporary tables (GROUP BY, ORDER BY, UNION, DISTINCT) are written to disk.",
    fix="always",
)


def on_disk_temporary_tables(ctx: MySqlHealthContext) -> Iterator[Finding]:
    """A large share of implicit temporary tables go to disk: sorts and groupings pay disk I/O.

    ## Why it matters
    GROUP BY, ORDER BY on another table's columns, DISTINCT, UNION and derived tables build an internal
    temporary table; it moves to disk when it outgrows the smaller of `tmp_table_size` and
    `max_heap_table_size`, or, on MariaDB and MySQL before 8.0.13, whenever it holds a BLOB/TEXT column
    (MySQL docs, "Internal Temporary Table Use in MySQL"). `Created_tmp_disk_tables` counts those.

    ## Threshold
    25 % of `Created_tmp_tables` (low) or 50 % (medium), over at least 1,000 temporary tables since the
    server started (our own judgement).

    ## Fix
    `top_queries` and `explain_query` for the statements with "Using temporary"; avoid TEXT columns in
    GROUP BY/DISTINCT, add an index that gives the order. Raising tmp_table_size and
    max_heap_table_size together (`tune_config`) helps only for size, and costs memory per query.
    """
    t = ctx.thresholds
    created = ctx.status("Created_tmp_tables")
    on_disk = ctx.status("Created_tmp_disk_tables")
    share = pct(on_disk, created)
    if share is None or created < t.tmp_tables_min or share < t.tmp_disk_pct:
        return
    tmp_size = as_int(ctx.variable("tmp_table_size"))
    heap_size = as_int(ctx.variable("max_heap_table_size"))
    limit = min(tmp_size, heap_size) if tmp_size and heap_size else (tmp_size or heap_size or None)
    yield health_finding(
        TMP_DISK,
        subject="tmp_tables",
        subject_kind="server",
        title=f"{share}% of implicit temporary tables were written to disk ({on_disk} of {created})",
        measured="counter",
        since=ctx.stats_since,
        evidence={
            "created_tmp_tables": created,
            "created_tmp_disk_tables": on_disk,
            "disk_pct": share,
            "tmp_table_size": tmp_size or None,
            "max_heap_table_size": heap_size or None,
            "in_memory_limit_bytes": limit,
            "threshold_pct": t.tmp_disk_pct,
        },
        rationale=(
            "An internal temporary table moves to disk when it outgrows the smaller of tmp_table_size and "
            "max_heap_table_size"
            + (", or holds a TEXT/BLOB column" if ctx.flavor == "mariadb" else "")
            + "; those sorts and groupings then pay disk I/O."
        ),
        help_="Find the statements with 'Using temporary' (`top_queries`, `explain_query`); raise tmp_table_size "
        "and max_heap_table_size together only if they are too small (`tune_config`).",
        fix=Fix(
            title="Find the statements that create temporary tables on disk",
            statements=[
                "SELECT DIGEST_TEXT, SUM_CREATED_TMP_DISK_TABLES, SUM_CREATED_TMP_TABLES "
                "FROM performance_schema.events_statements_summary_by_digest "
                "ORDER BY SUM_CREATED_TMP_DISK_TABLES DESC LIMIT 10;"
            ],
            safety="display-only",
            note="Needs performance_schema = ON (a restart). Without it, EXPLAIN the slow statements and look for "
            "'Using temporary'.",
        ),
        severity=Severity.MEDIUM if share >= t.tmp_disk_medium_pct else None,
    )


RULES: tuple[tuple[RuleSpec, Check], ...] = (
    (SLOW_QUERIES, slow_query_rate),
    (TMP_DISK, on_disk_temporary_tables),
)


__all__ = ["RULES"]
