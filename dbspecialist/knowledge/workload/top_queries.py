"""top_queries: the statements that cost the most, each with the next tool call that helps with it.

Pure: `top_queries_report` turns the raw rows `adapters.top_queries.fetch_top_queries` read (pg_stat_statements,
performance_schema statement digests, MongoDB's profiler or currentOp, Redis SLOWLOG) into one report. Every entry
has its normalised text, calls, total and mean time (ms), rows, its share of the total, the signals read from the
counters (blocks or rows examined per call, index use, collection scans) and `next_step`: a ready tool call chosen
by what the signals say, in this order:

1. a read that scans (many blocks or rows examined per row returned, no index used, COLLSCAN) → recommend_indexes;
2. a high mean time (>= HIGH_MEAN_MS) → explain_query (plan only when the text has placeholders);
3. many calls with a small mean (>= MANY_CALLS at <= SMALL_MEAN_MS) → review_query: the N+1 shape;
4. otherwise → explain_query, to see where its time goes.

A data-modifying WITH (a CTE that updates) is a write, whatever its first word. On PostgreSQL the tool calls get a
text the server can plan (typed literals `timestamptz $n` as `$n::timestamptz`, any-type function parameters
cast, row-locking clauses left out, tables off this connection's search_path qualified), each change in the note;
tool traffic (asyncpg's pool reset, dbspecialist's transaction framing, catalog-only reads) is left out of the
ranking and counted in a note.

When the source is not enabled, `enable` says exactly how to turn it on.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, Literal

from dbspecialist.knowledge.workload.top_queries_enable import SQLITE_INSTEAD, SQLITE_WHY, enable_steps
from dbspecialist.knowledge.workload.top_queries_model import (
    ANALYZE_MAX_MEAN_MS,
    HIGH_MEAN_MS,
    MANY_CALLS,
    MAX_LIMIT,
    MAX_TEXT_CHARS,
    NO_INDEX_SHARE,
    ORDER_BY_ALL,
    ORDERS,
    PS_PER_MS,
    SCAN_BLOCKS_PER_CALL,
    SCAN_BLOCKS_PER_ROW,
    SCAN_EXAMINED_PER_ROW,
    SCAN_ROWS_EXAMINED_PER_CALL,
    SMALL_MEAN_MS,
    NextStep,
    OrderBy,
    QueryKind,
    Stat,
    TopQueriesReport,
    TopQuery,
    check_request,
    float_or_none,
    int_or_none,
    rounded,
    text_or_none,
)
from dbspecialist.knowledge.workload.top_queries_next_step import next_step
from dbspecialist.knowledge.workload.top_queries_sources import (
    mongo_command,
    mongo_shape,
    mongo_stats,
    mysql_stat,
    pg_stat,
    redis_stats,
    statement_kind,
)


def top_queries_report(raw: Mapping[str, Any], engine: str, order_by: str, limit: int) -> TopQueriesReport:
    """Rank the raw rows by `order_by`, keep `limit`, and attach shares, signals and the next step."""
    check_request(engine, order_by, limit)
    source = str(raw.get("source") or _SOURCES.get(engine, "none"))
    notes = [str(n) for n in raw.get("notes") or []]
    base = TopQueriesReport(engine=engine, source=source, available=False, order_by=order_by, limit=limit, notes=notes)
    missing = raw.get("unavailable")
    if engine == "sqlite":
        return base.model_copy(update={"source": "none", "unavailable": SQLITE_WHY, "enable": list(SQLITE_INSTEAD)})
    fallback = engine == "mongodb" and source == "currentOp"  # the profiler is off: what runs now answers instead
    if missing and not raw.get("rows") and not fallback:
        reason = str(missing.get("reason", "error")) if isinstance(missing, Mapping) else "error"
        detail = str(missing.get("detail", "")) if isinstance(missing, Mapping) else str(missing)
        return base.model_copy(
            update={"unavailable": detail or reason, "enable": enable_steps(engine, reason, raw), "notes": notes}
        )

    stats, totals, measured = _stats(engine, raw, notes)
    own = [s for s in stats if s.housekeeping]
    if own:
        stats = [s for s in stats if not s.housekeeping]
        notes.append(_housekeeping_note(own))
    ranked = sorted(stats, key=lambda s: (-_metric(s, order_by), s.query))[:limit]
    connection = raw.get("connection")
    queries = [
        _entry(i, s, engine, raw, totals, connection if isinstance(connection, str) else None)
        for i, s in enumerate(ranked, 1)
    ]
    enable: list[str] = []
    unavailable = None
    if isinstance(missing, Mapping):  # e.g. MongoDB's profiler is off: currentOp answered instead
        unavailable = str(missing.get("detail") or missing.get("reason"))
        enable = enable_steps(engine, str(missing.get("reason", "error")), raw)
    if not queries:
        notes.append(_EMPTY.get(source, "the source holds no statements yet"))
    return base.model_copy(
        update={
            "available": True,
            "measured": measured,
            "since": text_or_none(raw.get("since")),
            "totals": totals,
            "queries": queries,
            "unavailable": unavailable,
            "enable": enable,
            "notes": notes,
        }
    )


_SOURCES: Final = {
    "postgresql": "pg_stat_statements",
    "mysql": "performance_schema.events_statements_summary_by_digest",
    "mongodb": "system.profile",
    "redis": "SLOWLOG",
}
_EMPTY: Final = {
    "pg_stat_statements": "pg_stat_statements holds no statements for this database yet (or they were reset)",
    "performance_schema.events_statements_summary_by_digest": "no statement digests for this schema yet",
    "system.profile": "the profiler is on but has recorded no operation slower than slowms yet",
    "currentOp": "no client operation is running right now",
    "SLOWLOG": "the slow log is empty: nothing ran slower than slowlog-log-slower-than since it was last reset",
}


_HOUSEKEEPING: Final = {
    "pool_reset": "the connection-pool reset asyncpg sends on every release (dbspecialist's own pool included)",
    "dbspecialist": "dbspecialist's own transaction framing (BEGIN READ ONLY, SET LOCAL timeouts) and savepoints",
    "catalog": "reads of the system catalogs and statistics views only (dbspecialist's tools, ORMs, psql, monitors)",
}


def _housekeeping_note(own: list[Stat]) -> str:
    """What was left out of the ranking as tool traffic, so real catalog load is still visible."""
    parts = []
    for key, what in _HOUSEKEEPING.items():
        group = [s for s in own if s.housekeeping == key]
        if group:
            calls = sum(s.calls for s in group)
            total = sum(s.total_ms for s in group)
            parts.append(f"{len(group)} statement(s) of {what}: {calls:,} calls, {total:,.1f} ms")
    return "left out of the ranking as tool traffic, not the application's work (in the totals still): " + "; ".join(
        parts
    )


def _metric(stat: Stat, order_by: str) -> float:
    if order_by == "mean_time":
        return stat.mean_ms
    if order_by == "calls":
        return float(stat.calls)
    if order_by == "rows":
        return float(stat.rows) if stat.rows is not None else -1.0
    return stat.total_ms


def _stats(
    engine: str, raw: Mapping[str, Any], notes: list[str]
) -> tuple[list[Stat], dict[str, int | float | None], Literal["counter", "sample"]]:
    rows = [r for r in raw.get("rows") or [] if isinstance(r, Mapping)]
    given = raw.get("totals") if isinstance(raw.get("totals"), Mapping) else None
    if engine == "postgresql":
        stats = [pg_stat(r) for r in rows]
        if any(s.query == "<insufficient privilege>" for s in stats):
            notes.append(
                "some statements belong to other roles and their text is hidden: GRANT pg_read_all_stats TO "
                "this connection's role to see them"
            )
        measured: Literal["counter", "sample"] = "counter"
    elif engine == "mysql":
        stats = [mysql_stat(r) for r in rows]
        measured = "counter"
    elif engine == "mongodb":
        stats = mongo_stats(rows, str(raw.get("source")), raw.get("database"))
        measured = "sample"
    else:
        stats = redis_stats(rows)
        measured = "sample"
    if given is not None:
        totals: dict[str, int | float | None] = {
            "statements": int_or_none(given.get("statements")),
            "calls": int_or_none(given.get("calls")),
            "total_time_ms": rounded(float_or_none(given.get("total_time_ms"))),
        }
    else:
        totals = {
            "statements": len(stats),
            "calls": sum(s.calls for s in stats),
            "total_time_ms": rounded(sum(s.total_ms for s in stats)),
        }
    return stats, totals, measured


def _entry(
    rank: int,
    stat: Stat,
    engine: str,
    raw: Mapping[str, Any],
    totals: Mapping[str, int | float | None],
    connection: str | None,
) -> TopQuery:
    total_time = totals.get("total_time_ms")
    total_calls = totals.get("calls")
    step, advice = next_step(stat, engine, raw, connection)
    text = stat.query if len(stat.query) <= MAX_TEXT_CHARS else stat.query[:MAX_TEXT_CHARS] + " …"
    return TopQuery(
        rank=rank,
        query=text,
        query_id=stat.query_id,
        database=stat.database,
        kind=stat.kind,
        calls=stat.calls,
        total_time_ms=rounded(stat.total_ms),
        mean_time_ms=rounded(stat.mean_ms),
        rows=stat.rows,
        rows_per_call=rounded(stat.rows / stat.calls, 2)
        if stat.rows is not None and stat.calls and "rows_counted" not in stat.signals
        else None,
        time_share_pct=rounded(100 * stat.total_ms / total_time, 2) if total_time else None,
        calls_share_pct=rounded(100 * stat.calls / total_calls, 2) if total_calls else None,
        signals=stat.signals,
        next_step=step,
        advice=advice,
    )


# Every public name of the model, the sources and the enabling steps stays importable from here.
__all__ = [
    "ANALYZE_MAX_MEAN_MS",
    "HIGH_MEAN_MS",
    "MANY_CALLS",
    "MAX_LIMIT",
    "MAX_TEXT_CHARS",
    "NO_INDEX_SHARE",
    "ORDERS",
    "ORDER_BY_ALL",
    "PS_PER_MS",
    "SCAN_BLOCKS_PER_CALL",
    "SCAN_BLOCKS_PER_ROW",
    "SCAN_EXAMINED_PER_ROW",
    "SCAN_ROWS_EXAMINED_PER_CALL",
    "SMALL_MEAN_MS",
    "SQLITE_INSTEAD",
    "SQLITE_WHY",
    "NextStep",
    "OrderBy",
    "QueryKind",
    "TopQueriesReport",
    "TopQuery",
    "check_request",
    "enable_steps",
    "mongo_command",
    "mongo_shape",
    "statement_kind",
    "top_queries_report",
]
