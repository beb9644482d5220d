"""The next step for one ranked statement: a ready call of recommend_indexes (it scans), explain_query (slow, or
where its time goes) or review_query (the N+1 shape), or advice in words when no tool fits (Redis, utility
statements)."""

from __future__ import annotations

import re
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
    notes: list[str] = []
    if engine == "postgresql":
        sql, notes = pg_runnable(sql, stat)
    many_small = stat.calls >= MANY_CALLS and stat.mean_ms <= SMALL_MEAN_MS
    if stat.scans and stat.kind == "read":
        why = _scan_why(stat)
        step = NextStep(
            tool="recommend_indexes", arguments=_args(connection, queries=[sql]), why=why, note=_join(notes)
        )
        return step, None
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
            note=_join([_placeholder_note(engine, raw), *notes] if placeholders else notes),
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
    return NextStep(tool="review_query", arguments=args, why=why, note=_join(notes)), None


def _join(notes: list[str]) -> str | None:
    return " ".join(notes) if notes else None


# pg_stat_statements replaces the string of a typed literal (`timestamptz '2024-01-01'`, `interval '1 day'`) by
# $n and keeps the type name in front: `timestamptz $9` is not valid SQL. `$9::timestamptz` is the same value.
_TYPED_LITERAL: Final = re.compile(
    r"\b(timestamp\s+with(?:out)?\s+time\s+zone|time\s+with(?:out)?\s+time\s+zone|double\s+precision|"
    r"timestamptz|timestamp|timetz|time|date|interval|numeric|decimal|int2|int4|int8|smallint|integer|bigint|int|"
    r"real|float4|float8|boolean|bool|text|varchar|char|bpchar|uuid|jsonb|json|bytea|inet|cidr|macaddr|money|"
    r"point|tsquery|tsvector|xml|oid|regclass)\s+(\$\d+)(?!\s*::)",
    re.IGNORECASE,
)
# Functions whose parameters take any type ("any" or an overloaded numeric family): an untyped $n there cannot be
# resolved when the statement is prepared ("function generate_series(unknown, unknown) is not unique", "could not
# determine data type of parameter $8"). The cast below picks one candidate; the plan does not depend on it.
_UNTYPED_IN_CALL: Final = {
    "generate_series": "int8",
    "jsonb_build_object": "text",
    "json_build_object": "text",
    "jsonb_build_array": "text",
    "json_build_array": "text",
    "concat": "text",
    "concat_ws": "text",
    "format": "text",
}
_CALL: Final = re.compile(r"\b(" + "|".join(_UNTYPED_IN_CALL) + r")\s*\(", re.IGNORECASE)
_BARE_PARAM: Final = re.compile(r"(?<![\w$:])(\$\d+)(?!\s*::|\d)")
_LOCKING_CLAUSE: Final = re.compile(
    r"\s+FOR\s+(?:NO\s+KEY\s+UPDATE|UPDATE|KEY\s+SHARE|SHARE)(?:\s+OF\s+[\w.\"]+(?:\s*,\s*[\w.\"]+)*)?"
    r"(?:\s+(?:NOWAIT|SKIP\s+LOCKED))?(?=\s*(?:\)|;|$|FOR\b|LIMIT\b|OFFSET\b))",
    re.IGNORECASE,
)
_RELATION_KEYWORD: Final = r"(\b(?:FROM|JOIN|INTO|UPDATE|USING|TABLE)\s+(?:ONLY\s+)?)"


def pg_runnable(sql: str, stat: Stat) -> tuple[str, list[str]]:
    """A variant of a pg_stat_statements text that PostgreSQL can plan, and a note for each change made.

    pg_stat_statements texts are not always valid SQL: typed literals become `<type> $n`, parameters of
    any-type functions have no type to prepare with, and unqualified tables resolve against the search_path of
    the session that ran them, which may not be this connection's.
    """
    notes: list[str] = []
    out = sql
    unlocked = _LOCKING_CLAUSE.sub("", out)
    if unlocked != out:
        notes.append(
            "The read-only guard refuses row-locking clauses (FOR UPDATE, FOR NO KEY UPDATE, FOR SHARE): the "
            "arguments leave them out, which only drops the plan's LockRows node; the scans and joins are the same."
        )
        out = unlocked
    if stat.placeholders:
        typed = _TYPED_LITERAL.sub(lambda m: f"{m.group(2)}::{' '.join(m.group(1).split())}", out)
        if typed != out:
            notes.append(
                "pg_stat_statements wrote typed literals such as timestamptz '...' as `timestamptz $n`, which does "
                "not parse: the arguments write them as `$n::timestamptz`."
            )
            out = typed
        cast = _cast_untyped_call_params(out)
        if cast != out:
            notes.append(
                "Parameters of generate_series(), json(b)_build_object() and other any-type functions have no type "
                "to plan with: the arguments cast them ($n::int8, $n::text); put real values there for a real plan."
            )
            out = cast
    if stat.unresolved:
        missing = sorted(stat.unresolved)
        found = {name: schemas for name, schemas in stat.unresolved.items() if len(schemas) == 1}
        where = "; ".join(
            f"{name} is in schema {', '.join(stat.unresolved[name]) or '(none: dropped?)'}" for name in missing
        )
        if len(found) == len(missing):
            out = _qualify(out, found)
            notes.append(
                f"The statement names {', '.join(missing)} without a schema, and this connection's search_path "
                f"({stat.search_path or 'default'}) does not find it: the session that ran it had another "
                f"search_path ({where}). The arguments qualify the table(s)."
            )
        else:
            notes.append(
                f"The statement names {', '.join(missing)} without a schema, and this connection's search_path "
                f"({stat.search_path or 'default'}) does not find it ({where}): qualify the table(s) with the "
                "schema the application uses before calling, or the call fails with 'relation does not exist'."
            )
    return out, notes


def _quote(name: str) -> str:
    return name if re.fullmatch(r"[a-z_][a-z0-9_$]*", name) else '"' + name.replace('"', '""') + '"'


def _qualify(sql: str, found: Mapping[str, list[str]]) -> str:
    """Prefix each unqualified use of a found table, after FROM/JOIN/INTO/UPDATE/USING/TABLE, with its schema."""
    for name, schemas in sorted(found.items()):
        pattern = re.compile(_RELATION_KEYWORD + r"(?<![\w.\"])(" + re.escape(name) + r")(?![\w$\"])(?!\s*\.)", re.I)
        prefix = _quote(schemas[0]).replace("\\", "\\\\")
        sql = pattern.sub(rf"\g<1>{prefix}.\g<2>", sql)
    return sql


def _cast_untyped_call_params(sql: str) -> str:
    """Cast the bare $n that are direct arguments of the functions in _UNTYPED_IN_CALL."""
    out: list[str] = []
    pos = 0
    for call in _CALL.finditer(sql):
        if call.start() < pos:
            continue
        cast = _UNTYPED_IN_CALL[call.group(1).lower()]
        start = call.end()
        depth, i = 1, start
        while i < len(sql) and depth:
            depth += {"(": 1, ")": -1}.get(sql[i], 0)
            i += 1
        args = sql[start : i - 1]
        # only the top-level arguments that are a bare parameter
        parts, level, last = [], 0, 0
        for j, ch in enumerate(args):
            level += {"(": 1, ")": -1, "[": 1, "]": -1}.get(ch, 0)
            if ch == "," and level == 0:
                parts.append(args[last:j])
                last = j + 1
        parts.append(args[last:])
        new = ",".join(
            f"{p[: len(p) - len(p.lstrip())]}{p.strip()}::{cast}{p[len(p.rstrip()) :]}"
            if _BARE_PARAM.fullmatch(p.strip())
            else p
            for p in parts
        )
        out.append(sql[pos:start] + new + ")")
        pos = i
    out.append(sql[pos:])
    return "".join(out)


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
