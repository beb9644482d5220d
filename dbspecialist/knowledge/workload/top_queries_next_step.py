"""The next step for one ranked statement: a ready call of recommend_indexes (it scans), explain_query (slow, or
where its time goes) or review_query (the N+1 shape), or advice in words when no tool fits (Redis, utility
statements)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from dbspecialist.knowledge.workload.top_queries_model import (
    ANALYZE_MAX_MEAN_MS,
    HIGH_MEAN_MS,
    MANY_CALLS,
    SCAN_BLOCKS_PER_CALL,
    SCAN_BLOCKS_PER_ROW,
    SMALL_MEAN_MS,
    NextStep,
    Stat,
)

_REDIS_ADVICE: Final[dict[str, str]] = {
    "KEYS": "KEYS walks the whole keyspace and blocks the server meanwhile: iterate with SCAN MATCH ... COUNT.",
    "EVAL": "A script blocks the server for its whole run: make it shorter, or split the work into batches.",
    "EVALSHA": "A script blocks the server for its whole run: make it shorter, or split the work into batches.",
    "FCALL": "A function blocks the server for its whole run: make it shorter, or split the work into batches.",
    "DEL": "Deleting a big key frees it synchronously: UNLINK frees it in the background.",
    "FLUSHALL": "FLUSHALL frees everything synchronously: FLUSHALL ASYNC frees in the background.",
    "FLUSHDB": "FLUSHDB frees everything synchronously: FLUSHDB ASYNC frees in the background.",
}
_REDIS_WHOLE_COLLECTION: Final = frozenset(
    {
        "SMEMBERS",
        "HGETALL",
        "HKEYS",
        "HVALS",
        "LRANGE",
        "ZRANGE",
        "ZRANGEBYSCORE",
        "ZREVRANGE",
        "ZREVRANGEBYSCORE",
        "SUNION",
        "SINTER",
        "SDIFF",
        "SUNIONSTORE",
        "SINTERSTORE",
        "SDIFFSTORE",
        "SORT",
        "SORT_RO",
        "LREM",
        "XRANGE",
        "XREVRANGE",
    }
)


def next_step(
    stat: Stat, engine: str, raw: Mapping[str, Any], connection: str | None
) -> tuple[NextStep | None, str | None]:
    """(a ready tool call, None) for `stat`, or (None, advice in words) when no tool fits."""
    if engine == "redis":
        return None, _redis_advice(stat.verb or "")
    if stat.kind in ("utility", "command"):
        return None, "not a query or DML statement: there is no plan to explain or index to add"
    sql = stat.example or stat.query
    placeholders = stat.placeholders and stat.example is None
    many_small = stat.calls >= MANY_CALLS and stat.mean_ms <= SMALL_MEAN_MS
    if stat.scans and stat.kind == "read":
        why = _scan_why(stat)
        return NextStep(tool="recommend_indexes", arguments=_args(connection, queries=[sql]), why=why), None
    if stat.mean_ms >= HIGH_MEAN_MS or not many_small:
        analyze = stat.kind == "read" and not placeholders and stat.mean_ms <= ANALYZE_MAX_MEAN_MS
        why = (
            f"mean {stat.mean_ms:.1f} ms >= {HIGH_MEAN_MS:.0f} ms: the plan shows where the time goes"
            if stat.mean_ms >= HIGH_MEAN_MS
            else f"{stat.total_ms:.1f} ms in total over {stat.calls} calls: the plan shows where the time goes"
        )
        step = NextStep(
            tool="explain_query",
            arguments=_args(connection, sql=sql, analyze=analyze),
            why=why,
            note=_placeholder_note(engine, raw) if placeholders else None,
        )
        return step, None
    if engine == "mongodb":
        advice = (
            f"{stat.calls} calls at {stat.mean_ms:.2f} ms each: if they run once per item of another result (N+1), "
            "fetch them in one query with $in or a $lookup"
        )
        return None, advice
    dialect = "postgres" if engine == "postgresql" else str(raw.get("flavor") or "mysql")
    why = (
        f"{stat.calls} calls at {stat.mean_ms:.2f} ms each (>= {MANY_CALLS} calls, <= {SMALL_MEAN_MS:g} ms): "
        "the shape of a loop issuing one query per row (N+1); pass review_query the statements of that code path "
        "to get the batched rewrite"
    )
    args = {"sql": sql, "dialect": dialect, **({"connection": connection} if connection else {})}
    return NextStep(tool="review_query", arguments=args, why=why), None


def _args(connection: str | None, **values: Any) -> dict[str, Any]:
    return {**({"connection": connection} if connection else {}), **values}


def _scan_why(stat: Stat) -> str:
    s = stat.signals
    if "shared_blocks_per_call" in s:
        return (
            f"{s['shared_blocks_per_call']} shared blocks per call, {s['shared_blocks_per_row']} per row returned "
            f"(>= {SCAN_BLOCKS_PER_CALL} and >= {SCAN_BLOCKS_PER_ROW}): it scans; an index may serve it"
        )
    if "rows_examined_per_call" in s:
        return (
            f"{s['rows_examined_per_call']} rows examined per call, {s['rows_examined_per_row']} per row returned, "
            f"no index used in {s['no_index_used_pct']} % of calls: it scans; an index may serve it"
        )
    return (
        f"{s.get('docs_examined_per_call')} documents examined per call, {s.get('docs_examined_per_row')} per "
        f"document returned, {s.get('collscans')} collection scans: an index may serve it"
    )


def _placeholder_note(engine: str, raw: Mapping[str, Any]) -> str:
    if engine == "postgresql":
        return (
            "pg_stat_statements replaced the constants with $1, $2, ...: explain_query plans such text as written "
            "and returns its generic plan (the plan a prepared statement uses whatever the values); for the real "
            "plan of one execution, or with analyze=true, put representative values in place of the $n"
        )
    return (
        "the digest replaced the constants with ?: put representative values in place of each ? before explaining "
        "(MySQL 8.0.3+ keeps a runnable QUERY_SAMPLE_TEXT, used when present)"
    )


def _redis_advice(verb: str) -> str:
    if verb in _REDIS_ADVICE:
        return _REDIS_ADVICE[verb]
    if verb in _REDIS_WHOLE_COLLECTION:
        return (
            f"{verb} is O(N) in the size of the collection: page through it (SSCAN/HSCAN/ZSCAN, LRANGE or ZRANGE "
            "windows) or keep the collection smaller"
        )
    return (
        f"{verb} is cheap per call: in the slow log it points to large values, a busy or swapping server "
        "(LATENCY DOCTOR, INFO memory) or a long fork for persistence"
    )


__all__ = ["next_step"]
