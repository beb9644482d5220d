"""PostgreSQL health rules about table maintenance: vacuum and analyze overdue, bloat estimates and sequences
near overflow (HLT010-HLT013, HLT015)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from dbspecialist.knowledge.findings import Finding, Fix, Severity
from dbspecialist.knowledge.health.postgres_common import (
    INTEGER_LIMITS,
    PgHealthContext,
    as_float,
    as_int,
    finding,
    human_bytes,
    human_seconds,
    name_of,
    pct,
    reloption,
    seconds,
    spec,
)


def _autovacuum_enabled(ctx: PgHealthContext, row: dict[str, Any]) -> tuple[bool, bool]:
    """(on for the server, on for this table)."""
    server = ctx.setting("autovacuum") != "off"
    table = (reloption(row.get("reloptions"), "autovacuum_enabled") or "true").lower() not in ("false", "off", "0")
    return server, table


def _threshold(ctx: PgHealthContext, row: dict[str, Any], kind: str) -> tuple[float, float, float]:
    """(threshold, base, scale factor) of autovacuum's `kind` ('vacuum' or 'analyze') for this table.

    PostgreSQL docs, "The Autovacuum Daemon": threshold = autovacuum_<kind>_threshold +
    autovacuum_<kind>_scale_factor * reltuples, each overridable per table (reltuples < 0, never vacuumed, is 0).
    """
    options = row.get("reloptions")
    base_default = ctx.setting_float(f"autovacuum_{kind}_threshold", 50.0)
    scale_default = ctx.setting_float(f"autovacuum_{kind}_scale_factor", 0.2 if kind == "vacuum" else 0.1)
    base = as_float(reloption(options, f"autovacuum_{kind}_threshold"), base_default)
    scale = as_float(reloption(options, f"autovacuum_{kind}_scale_factor"), scale_default)
    reltuples = max(0.0, as_float(row.get("reltuples"), 0.0))
    return base + scale * reltuples, base, scale


# -- HLT010 -------------------------------------------------------------------------------------------------

VACUUM_OVERDUE = spec(
    "HLT010",
    "vacuum-overdue",
    Severity.MEDIUM,
    "A table has more dead tuples than its autovacuum threshold: autovacuum is off, behind or blocked.",
    fix="always",
)


def vacuum_overdue(ctx: PgHealthContext) -> Iterator[Finding]:
    """A table carries more dead tuples than its autovacuum threshold: vacuum is off, behind or held back.

    ## Why it matters
    Updated and deleted rows stay in the table as dead tuples until VACUUM removes them; until then every
    scan reads past them and the table and its indexes grow. Autovacuum vacuums a table once
    `n_dead_tup > autovacuum_vacuum_threshold + autovacuum_vacuum_scale_factor * reltuples` (PostgreSQL
    docs, "The Autovacuum Daemon"; the table's own storage parameters win). Beyond that, it is disabled
    (for the server or the table), too slow for the write rate, or cannot remove the rows because an old
    transaction, replication slot or prepared transaction still needs them.

    ## Threshold
    `n_dead_tup` above the table's autovacuum threshold and at least 1,000 (medium); dead tuples at 50 %
    of the live ones or more (high). `n_dead_tup / n_live_tup` is in the evidence. Counters since the
    statistics reset.

    ## Fix
    `VACUUM (ANALYZE, VERBOSE)` the table now (reads and writes continue); re-enable autovacuum where it
    is off; if dead tuples stay, end what holds the horizon back (HLT004, HLT005, HLT009).
    """
    t = ctx.thresholds
    for row in ctx.section("tables").get("rows") or []:
        dead = as_int(row.get("n_dead_tup"))
        live = as_int(row.get("n_live_tup"))
        threshold, base, scale = _threshold(ctx, row, "vacuum")
        if dead <= threshold or dead < t.dead_tuples_min:
            continue
        server_on, table_on = _autovacuum_enabled(ctx, row)
        ratio = pct(dead, live)
        table = name_of(row.get("schema"), str(row.get("name")))
        if not table_on:
            cause = "autovacuum is disabled on this table"
        elif not server_on:
            cause = "autovacuum is off for the server"
        else:
            cause = "autovacuum has not caught up"
        statements = [f"VACUUM (ANALYZE, VERBOSE) {table};"]
        if not table_on:
            statements.append(f"ALTER TABLE {table} RESET (autovacuum_enabled);")
        if not server_on:
            statements += ["ALTER SYSTEM SET autovacuum = on;", "SELECT pg_reload_conf();"]
        yield finding(
            VACUUM_OVERDUE,
            subject=table,
            subject_kind="table",
            table=str(row.get("name")),
            title=f"{table} has {dead:,} dead tuples ({ratio}% of live), over its vacuum threshold: {cause}",
            measured="counter",
            since=ctx.stats_since,
            evidence={
                "n_dead_tup": dead,
                "n_live_tup": live,
                "dead_ratio_pct": ratio,
                "reltuples": as_float(row.get("reltuples"), 0.0),
                "vacuum_threshold": round(threshold, 1),
                "autovacuum_vacuum_threshold": base,
                "autovacuum_vacuum_scale_factor": scale,
                "autovacuum_table": table_on,
                "autovacuum_server": server_on,
                "last_vacuum_seconds_ago": seconds(row.get("vacuum_age_seconds")),
                "autovacuum_count": as_int(row.get("autovacuum_count")),
                "threshold_min_dead": t.dead_tuples_min,
            },
            rationale=(
                "Dead tuples stay until VACUUM removes them: scans read past them and the table and its indexes grow. "
                "Autovacuum should have started at the threshold shown."
            ),
            help_="VACUUM the table now and re-enable autovacuum where it is off; if dead tuples stay, end the old "
            "transactions that hold them.",
            fix=Fix(
                title=f"Vacuum {table}" + (" and re-enable autovacuum" if not (table_on and server_on) else ""),
                statements=statements,
                note="VACUUM takes a SHARE UPDATE EXCLUSIVE lock: reads and writes continue.",
            ),
            severity=Severity.HIGH if ratio is not None and ratio >= t.dead_ratio_high_pct else None,
        )


# -- HLT011 -------------------------------------------------------------------------------------------------

ANALYZE_OVERDUE = spec(
    "HLT011",
    "analyze-overdue",
    Severity.LOW,
    "A table changed more than its autoanalyze threshold since its statistics were gathered.",
    fix="always",
)


def analyze_overdue(ctx: PgHealthContext) -> Iterator[Finding]:
    """A table changed more than its autoanalyze threshold since ANALYZE: the planner works from stale numbers.

    ## Why it matters
    The planner estimates row counts from the statistics ANALYZE gathers. After many inserts, updates or
    deletes (`n_mod_since_analyze`) the estimates drift and plans go wrong: nested loops over what is now
    millions of rows, missed index scans. Autovacuum analyzes a table once `n_mod_since_analyze >
    autovacuum_analyze_threshold + autovacuum_analyze_scale_factor * reltuples` (PostgreSQL docs, "The
    Autovacuum Daemon").

    ## Threshold
    Changes above that threshold and at least 1,000 (low); changes at least equal to the table's row
    estimate (medium). Counters since the statistics reset.

    ## Fix
    `ANALYZE` the table (a light read of a sample; no blocking lock); re-enable autovacuum if it is off.
    """
    t = ctx.thresholds
    for row in ctx.section("tables").get("rows") or []:
        changes = as_int(row.get("n_mod_since_analyze"))
        threshold, base, scale = _threshold(ctx, row, "analyze")
        if changes <= threshold or changes < t.analyze_changes_min:
            continue
        server_on, table_on = _autovacuum_enabled(ctx, row)
        reltuples = as_float(row.get("reltuples"), 0.0)
        table = name_of(row.get("schema"), str(row.get("name")))
        age = row.get("analyze_age_seconds")
        yield finding(
            ANALYZE_OVERDUE,
            subject=table,
            subject_kind="table",
            table=str(row.get("name")),
            title=(
                f"{table}: {changes:,} rows changed since "
                + (f"ANALYZE {human_seconds(float(age))} ago" if age is not None else "it was never analyzed")
            ),
            measured="counter",
            since=ctx.stats_since,
            evidence={
                "n_mod_since_analyze": changes,
                "reltuples": reltuples,
                "analyze_threshold": round(threshold, 1),
                "autovacuum_analyze_threshold": base,
                "autovacuum_analyze_scale_factor": scale,
                "last_analyze_seconds_ago": seconds(age),
                "autovacuum_table": table_on,
                "autovacuum_server": server_on,
                "threshold_min_changes": t.analyze_changes_min,
            },
            rationale=(
                "The planner estimates row counts from ANALYZE's statistics; after this many changes they drift and "
                "plans go wrong."
            ),
            help_="ANALYZE the table; `explain_query` shows where estimates and actual rows differ.",
            fix=Fix(title=f"Analyze {table}", statements=[f"ANALYZE {table};"]),
            severity=Severity.MEDIUM if changes >= max(reltuples, 1.0) else None,
        )


# -- HLT012, HLT013 -----------------------------------------------------------------------------------------

TABLE_BLOAT = spec(
    "HLT012",
    "table-bloat",
    Severity.MEDIUM,
    "A table takes far more pages than its rows need (a statistics-based estimate).",
)
INDEX_BLOAT = spec(
    "HLT013",
    "index-bloat",
    Severity.MEDIUM,
    "A B-tree index takes far more pages than its entries need (a statistics-based estimate).",
    fix="always",
)


def _waste(row: dict[str, Any]) -> tuple[int, int, float | None]:
    pages = as_int(row.get("relpages"))
    expected = as_int(row.get("expected_pages"))
    wasted = max(0, pages - expected) * as_int(row.get("block_size"), 8192)
    return wasted, pages * as_int(row.get("block_size"), 8192), pct(max(0, pages - expected), pages)


def table_bloat(ctx: PgHealthContext) -> Iterator[Finding]:
    """A table takes far more pages than its live rows need: an estimate from pg_stats column widths.

    ## Why it matters
    VACUUM makes dead space reusable but does not return it, so a table that once held many more rows
    (or many dead ones) keeps its size: scans read the empty space, and the cache holds less data.

    ## Threshold
    An estimate, not a measurement: the rows' expected size comes from `pg_stats.avg_width` and
    `null_frac` of each column, the tuple header, alignment and the table's fillfactor, and is compared
    with `pg_class.relpages` (our own query, after the on-disk layout in the PostgreSQL docs, "Database
    Page Layout"). Reported at 40 % and 64 MiB estimated waste (our own judgement). Confirm with
    `pgstattuple` before acting.

    ## Fix
    `VACUUM FULL` rewrites the table compactly but holds an ACCESS EXCLUSIVE lock throughout;
    pg_repack (an extension) does it online. `plan_migration` plans the rebuild without downtime.
    """
    t = ctx.thresholds
    for row in ctx.section("bloat").get("tables") or []:
        wasted, size, share = _waste(row)
        if share is None or share < t.table_bloat_pct or wasted < t.bloat_min_bytes:
            continue
        table = name_of(row.get("schema"), str(row.get("name")))
        literal = "'" + table.replace("'", "''") + "'"
        yield finding(
            TABLE_BLOAT,
            subject=table,
            subject_kind="table",
            table=str(row.get("name")),
            title=f"{table}: about {human_bytes(wasted)} of {human_bytes(size)} ({share}%) is empty space",
            measured="estimate",
            evidence={
                "relpages": as_int(row.get("relpages")),
                "expected_pages": as_int(row.get("expected_pages")),
                "size_bytes": size,
                "wasted_bytes": wasted,
                "wasted_pct": share,
                "method": "pg_stats avg_width estimate",
                "threshold_pct": t.table_bloat_pct,
                "threshold_bytes": t.bloat_min_bytes,
            },
            rationale=(
                "VACUUM makes dead space reusable but does not give it back: scans read the empty pages and the cache "
                "holds less data. This is an estimate from column statistics."
            ),
            help_=f"Confirm with SELECT * FROM pgstattuple({literal}); rebuild online with pg_repack "
            "(`plan_migration` plans it).",
            fix=Fix(
                title=f"Rewrite {table} compactly",
                statements=[f"VACUUM (FULL, ANALYZE, VERBOSE) {table};"],
                safety="display-only",
                note="VACUUM FULL holds an ACCESS EXCLUSIVE lock (no reads or writes) for the whole rewrite and needs "
                "room for a second copy; pg_repack does the same online.",
            ),
        )


def index_bloat(ctx: PgHealthContext) -> Iterator[Finding]:
    """A B-tree index takes far more pages than its entries need: an estimate from pg_stats column widths.

    ## Why it matters
    B-tree pages emptied by deletes and updates are reused only for keys in the same range, so an index
    on a queue-like or frequently updated column can stay several times larger than needed: more pages to
    cache and to read per lookup.

    ## Threshold
    An estimate, not a measurement: entry size from `pg_stats.avg_width` of the indexed columns, the
    8-byte index tuple header, alignment and the fillfactor (90 by default), compared with
    `pg_class.relpages` (our own query). Expression indexes are skipped; deduplication (PostgreSQL 13+)
    makes the real need smaller, so the waste is, if anything, understated. Reported at 50 % and 64 MiB
    (our own judgement). `pgstatindex()` (pgstattuple) measures it.

    ## Fix
    `REINDEX INDEX CONCURRENTLY` (PostgreSQL 12+) rebuilds it without blocking reads or writes.
    """
    t = ctx.thresholds
    for row in ctx.section("bloat").get("indexes") or []:
        wasted, size, share = _waste(row)
        if share is None or share < t.index_bloat_pct or wasted < t.bloat_min_bytes:
            continue
        index = name_of(row.get("schema"), str(row.get("name")))
        concurrently = ctx.major >= 12
        yield finding(
            INDEX_BLOAT,
            subject=index,
            subject_kind="index",
            table=row.get("table"),
            title=f"index {index}: about {human_bytes(wasted)} of {human_bytes(size)} ({share}%) is empty space",
            measured="estimate",
            evidence={
                "table": row.get("table"),
                "relpages": as_int(row.get("relpages")),
                "expected_pages": as_int(row.get("expected_pages")),
                "size_bytes": size,
                "wasted_bytes": wasted,
                "wasted_pct": share,
                "method": "pg_stats avg_width estimate",
                "threshold_pct": t.index_bloat_pct,
                "threshold_bytes": t.bloat_min_bytes,
            },
            rationale=(
                "Emptied B-tree pages are reused only for keys in the same range, so the index stays larger than its "
                "entries need. This is an estimate from column statistics."
            ),
            help_="Rebuild it with REINDEX INDEX CONCURRENTLY.",
            fix=Fix(
                title=f"Rebuild {index}",
                statements=[f"REINDEX INDEX {'CONCURRENTLY ' if concurrently else ''}{index};"],
                safety="safe" if concurrently else "display-only",
                note="CONCURRENTLY builds a new copy without blocking reads or writes, then swaps it in."
                if concurrently
                else "Before PostgreSQL 12 REINDEX blocks writes: build a new index CONCURRENTLY and drop the old.",
            ),
        )


# -- HLT015 -------------------------------------------------------------------------------------------------

SEQUENCE_OVERFLOW = spec(
    "HLT015",
    "sequence-near-overflow",
    Severity.HIGH,
    "A sequence has used most of the values its type, its max_value or its column allows.",
)


def _sequence_limit(row: dict[str, Any]) -> tuple[int, str]:
    """The value the sequence can not pass: its own bound, or its column's type range when narrower."""
    ascending = as_int(row.get("increment_by"), 1) > 0
    own = as_int(row.get("max_value" if ascending else "min_value"))
    column_type = str(row.get("column_type") or "")
    limits = INTEGER_LIMITS.get(column_type)
    if limits is not None:
        column = limits[1] if ascending else limits[0]
        if (ascending and column < own) or (not ascending and column > own):
            return column, f"column type {column_type}"
    return own, "sequence " + ("max_value" if ascending else "min_value")


def _sequence_fix(row: dict[str, Any], sequence: str, source: str) -> Fix:
    """Widen the owning column when it is narrower than bigint; otherwise the sequence alone.

    A bigint sequence feeding an integer column fails when the value no longer fits the column ("integer out of
    range"), so `ALTER SEQUENCE ... AS bigint` alone only moves the outage from nextval() to the INSERT. On an
    identity column `ALTER COLUMN ... TYPE bigint` changes the sequence's type as well; a serial column's sequence
    is a separate object and needs its own ALTER SEQUENCE.
    """
    owned_by = row.get("owned_by")
    column_type = str(row.get("column_type") or "")
    narrow_column = column_type in INTEGER_LIMITS and column_type != "bigint"
    if owned_by and str(owned_by).count(".") >= 2 and (narrow_column or source.startswith("column")):
        schema, tbl, column = str(owned_by).rsplit(".", 2)
        table = name_of(schema, tbl)
        alter = f"ALTER TABLE {table} ALTER COLUMN {name_of(None, column)} TYPE bigint;"
        identity = bool(row.get("identity"))
        statements = [alter] if identity else [alter, f"ALTER SEQUENCE {sequence} AS bigint;"]
        return Fix(
            title=f"Widen {owned_by} to bigint",
            statements=statements,
            safety="display-only",
            note=f"The column is {column_type}: widening only the sequence would make inserts fail with "
            f"'{column_type} out of range' instead. ALTER COLUMN TYPE rewrites the table (and its indexes) under an "
            f'ACCESS EXCLUSIVE lock: call plan_migration with change="{alter}" for the online plan (new bigint '
            "column, batched backfill, swap)"
            + (
                "; on an identity column the ALTER TABLE also makes its sequence bigint."
                if identity
                else "; then make the sequence bigint as well."
            )
            + " Columns that reference this one (foreign keys) need widening too.",
        )
    if row.get("data_type") == "bigint":
        return Fix(
            title=f"Raise the max_value of {sequence}",
            statements=[f"ALTER SEQUENCE {sequence} AS bigint;"],
            safety="display-only",
            note="The sequence is already bigint: its max_value was set lower on purpose; raise it with "
            "ALTER SEQUENCE ... MAXVALUE only if the column allows.",
        )
    if owned_by:  # the owning column is bigint (or not an integer type): the sequence is the only limit
        return Fix(
            title=f"Make {sequence} a bigint sequence",
            statements=[f"ALTER SEQUENCE {sequence} AS bigint;"],
            safety="safe",
            note=f"Changes max_value to the bigint range when it was the old type's default; {owned_by} is "
            f"{column_type or 'of unknown type'}, so the values fit.",
        )
    return Fix(
        title=f"Make {sequence} a bigint sequence",
        statements=[f"ALTER SEQUENCE {sequence} AS bigint;"],
        safety="unsafe",
        note="No column owns this sequence, so the columns it feeds (DEFAULT nextval(...)) are not known: check "
        "they are bigint first, or inserts will fail with 'integer out of range' instead of at nextval().",
    )


def sequence_near_overflow(ctx: PgHealthContext) -> Iterator[Finding]:
    """A sequence has used most of its range: inserts fail once it reaches its limit.

    ## Why it matters
    `nextval()` fails with "reached maximum value of sequence" at max_value, and a bigint sequence feeding
    an integer or smallint column fails earlier, when the value no longer fits the column. Widening the
    column rewrites the table, which takes time to plan on a large one.

    ## Threshold
    `last_value` at 75 % of the limit (high) or 90 % (critical), the same shares as the schema review
    (SCH009). The limit is the sequence's max_value (min_value when descending) or its owning column's
    type range, whichever is narrower. Sampled now.

    ## Fix
    When the owning column is smallint or integer, widen the column to bigint (`plan_migration` plans that
    rewrite without downtime), then the sequence (an identity column's sequence follows the column): widening
    the sequence alone only moves the failure from nextval() to the INSERT ("integer out of range"). When the
    column is already bigint, `ALTER SEQUENCE ... AS bigint` is enough; for a sequence no column owns, check the
    columns it feeds first.
    """
    t = ctx.thresholds
    for row in ctx.section("sequences").get("rows") or []:
        last = row.get("last_value")
        if last is None:
            continue
        limit, source = _sequence_limit(row)
        # Values on the far side of zero (an ascending sequence still negative) have used nothing yet.
        share = pct(max(0, as_int(last) if limit > 0 else -as_int(last)), abs(limit))
        if share is None or share < t.sequence_warn_pct:
            continue
        sequence = name_of(row.get("schema"), str(row.get("name")))
        owned_by = row.get("owned_by")
        table = str(owned_by).split(".")[-2] if owned_by and str(owned_by).count(".") >= 2 else None
        fix = _sequence_fix(row, sequence, source)
        yield finding(
            SEQUENCE_OVERFLOW,
            subject=sequence,
            subject_kind="sequence",
            table=table,
            title=f"sequence {sequence} has used {share}% of its range ({as_int(last):,} of {limit:,})",
            measured="sample",
            evidence={
                "data_type": row.get("data_type"),
                "last_value": as_int(last),
                "limit": limit,
                "limit_source": source,
                "used_pct": share,
                "remaining": abs(limit - as_int(last)),
                "owned_by": owned_by,
                "column_type": row.get("column_type"),
                "identity": bool(row.get("identity")),
                "cycle": bool(row.get("cycle")),
                "threshold_pct": t.sequence_warn_pct,
            },
            rationale=(
                "nextval() fails at the limit (or the value no longer fits the column), and every insert that needs "
                "a new id fails with it."
            ),
            help_="Move the sequence (and its column) to bigint before it runs out; `plan_migration` plans a "
            "column rewrite.",
            fix=fix,
            severity=Severity.CRITICAL if share >= t.sequence_critical_pct else None,
        )


RULES = (
    (VACUUM_OVERDUE, vacuum_overdue),
    (ANALYZE_OVERDUE, analyze_overdue),
    (TABLE_BLOAT, table_bloat),
    (INDEX_BLOAT, index_bloat),
    (SEQUENCE_OVERFLOW, sequence_near_overflow),
)
