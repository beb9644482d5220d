"""The raw rows `top_queries` ranks: one read of the engine's own statement statistics, no judgement.

- PostgreSQL: pg_stat_statements for the connection's own database, grouped by queryid (one statement run by
  several roles is one entry); total_exec_time on 13+, total_time before. Read through the guarded
  `run_read_only`, so the connection's read-only transaction and statement timeout apply.
- MySQL/MariaDB: performance_schema.events_statements_summary_by_digest for the connection's schema (timers in
  picoseconds), after checking @@performance_schema and the statements_digest consumer.
- MongoDB: system.profile when the profiler is on (level 1 or 2), else the running operations (currentOp).
- Redis: SLOWLOG GET, each entry reduced to a pattern (command, key pattern, ? for the other arguments), so no
  value leaves the server.
- SQLite: nothing to read (the report says why).

What is off is returned as `unavailable: {"reason": code, "detail": text}`; the knowledge module turns the code into
the exact steps to enable it. Coupling: MongoDB and Redis use their adapter's private helpers (`_db`/`_guarded`,
`_run`), as `hypopg.py` and `health_postgres.py` do for PostgreSQL, because the guarded `run_read_only` reshapes
documents into rows and slow-log arguments into one string.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from dbspecialist.adapters.base import DatabaseAdapter
from dbspecialist.errors import DBSpecialistError, QueryError
from dbspecialist.knowledge.workload.top_queries import check_request
from dbspecialist.knowledge.workload.top_queries_sources import unqualified_relations

MAX_BYTES: Final = 4_000_000  # statement texts can be long
PROFILE_DOCS: Final = 2_000  # newest system.profile documents grouped into shapes
SLOWLOG_READ: Final = 1_024  # slow-log entries read (slowlog-max-len is 128 by default)
SCRIPT_CHARS: Final = 60  # characters of a Lua script kept in its pattern
MAX_PLACEHOLDERS: Final = 3  # "?" shown for the other arguments of a Redis command, then a count

PG_META_SQL: Final = """
SELECT pg_catalog.current_database() AS database,
       pg_catalog.current_setting('server_version_num')::int AS version_num,
       pg_catalog.current_setting('shared_preload_libraries') AS preload,
       pg_catalog.current_setting('pg_stat_statements.track', true) AS track,
       (SELECT n.nspname::text FROM pg_catalog.pg_extension e
          JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
         WHERE e.extname = 'pg_stat_statements') AS schema,
       EXISTS (SELECT 1 FROM pg_catalog.pg_available_extensions WHERE name = 'pg_stat_statements') AS available
"""
_PG_THIS_DB: Final = (
    "s.dbid = (SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database())"
)
# {schema}: quoted extension schema; {total}: total_exec_time (13+) or total_time; {order}: ORDER BY expression.
PG_TOP_SQL: Final = f"""
SELECT s.queryid::text AS queryid, min(s.query) AS query, sum(s.calls)::int8 AS calls,
       sum(s.{{total}})::float8 AS total_ms, sum(s.rows)::int8 AS rows,
       sum(s.shared_blks_hit)::int8 AS shared_blks_hit, sum(s.shared_blks_read)::int8 AS shared_blks_read,
       sum(s.temp_blks_written)::int8 AS temp_blks_written
FROM {{schema}}.pg_stat_statements s
WHERE {_PG_THIS_DB}
GROUP BY s.queryid
ORDER BY {{order}} DESC NULLS LAST, s.queryid::text
LIMIT {{limit}}
"""
PG_TOTALS_SQL: Final = f"""
SELECT count(DISTINCT s.queryid)::int8 AS statements, coalesce(sum(s.calls), 0)::int8 AS calls,
       coalesce(sum(s.{{total}}), 0)::float8 AS total_time_ms
FROM {{schema}}.pg_stat_statements s WHERE {_PG_THIS_DB}
"""
PG_INFO_SQL: Final = "SELECT stats_reset::text AS since, dealloc FROM {schema}.pg_stat_statements_info"
# Statements that are tool traffic (asyncpg's pool reset, catalog reads: see knowledge pg_housekeeping) are left
# out of the ranking, so this many more rows are read than asked for to fill the list.
PG_HOUSEKEEPING_RESERVE: Final = 30
# The unqualified tables the ranked statements name that this connection's search_path does not find: each
# statement was recorded under the search_path of the session that ran it, which pg_stat_statements does not keep.
# $1: the names as written (identifier syntax), $2: the same names unquoted.
PG_RELATIONS_SQL: Final = """
SELECT pg_catalog.current_setting('search_path') AS search_path, u.ident AS name,
       ARRAY(SELECT n.nspname::text FROM pg_catalog.pg_class c
               JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
              WHERE c.relname = u.relname AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
              ORDER BY 1) AS schemas
FROM ROWS FROM (pg_catalog.unnest($1::text[]), pg_catalog.unnest($2::text[])) AS u(ident, relname)
WHERE pg_catalog.to_regclass(u.ident) IS NULL
"""
_PG_ORDER: Final = {
    "total_time": "sum(s.{total})",
    "mean_time": "sum(s.{total}) / nullif(sum(s.calls), 0)",
    "calls": "sum(s.calls)",
    "rows": "sum(s.rows)",
}

MY_META_SQL: Final = "SELECT @@performance_schema AS ps, DATABASE() AS db, VERSION() AS version"
MY_CONSUMERS_SQL: Final = """
SELECT NAME, ENABLED FROM performance_schema.setup_consumers
WHERE NAME IN ('global_instrumentation', 'statements_digest')
"""
_DIGESTS: Final = "performance_schema.events_statements_summary_by_digest"
MY_TOP_SQL: Final = f"""
SELECT SCHEMA_NAME AS `schema`, DIGEST AS digest, DIGEST_TEXT AS digest_text, {{sample}}
       COUNT_STAR AS count_star, SUM_TIMER_WAIT AS sum_timer_wait, SUM_ROWS_SENT AS sum_rows_sent,
       SUM_ROWS_AFFECTED AS sum_rows_affected, SUM_ROWS_EXAMINED AS sum_rows_examined,
       SUM_NO_INDEX_USED AS sum_no_index_used, SUM_NO_GOOD_INDEX_USED AS sum_no_good_index_used,
       SUM_SELECT_SCAN AS sum_select_scan, SUM_CREATED_TMP_DISK_TABLES AS sum_created_tmp_disk_tables,
       FIRST_SEEN AS first_seen, LAST_SEEN AS last_seen
FROM {_DIGESTS}
WHERE {{where}} AND DIGEST_TEXT IS NOT NULL
ORDER BY {{order}} DESC, DIGEST
LIMIT {{limit}}
"""
MY_TOTALS_SQL: Final = f"""
SELECT COUNT(*) AS statements, SUM(COUNT_STAR) AS calls, SUM(SUM_TIMER_WAIT) / 1000000000 AS total_time_ms,
       MIN(FIRST_SEEN) AS since,
       (SELECT COUNT_STAR FROM {_DIGESTS} WHERE DIGEST IS NULL) AS overflow_calls,
       @@performance_schema_digests_size AS digests_size
FROM {_DIGESTS} WHERE {{where}}
"""
_MY_ORDER: Final = {
    "total_time": "SUM_TIMER_WAIT",
    "mean_time": "AVG_TIMER_WAIT",
    "calls": "COUNT_STAR",
    "rows": "(SUM_ROWS_SENT + SUM_ROWS_AFFECTED)",
}
MY_SAMPLE_TEXT_SINCE: Final = (8, 0, 3)  # QUERY_SAMPLE_TEXT arrived in MySQL 8.0.3 (not in MariaDB)

MONGO_PROFILE_FIELDS: Final = (
    "op",
    "ns",
    "command",
    "millis",
    "nreturned",
    "docsExamined",
    "keysExamined",
    "planSummary",
    "queryHash",
    "ts",
    "nModified",
    "ninserted",
    "ndeleted",
)

_REDIS_SUBCOMMANDS: Final = frozenset(
    {
        "ACL",
        "CLIENT",
        "CLUSTER",
        "COMMAND",
        "CONFIG",
        "DEBUG",
        "FUNCTION",
        "LATENCY",
        "MEMORY",
        "MODULE",
        "OBJECT",
        "PUBSUB",
        "SCRIPT",
        "SLOWLOG",
        "XGROUP",
        "XINFO",
    }
)
_REDIS_SCRIPTS: Final = frozenset({"EVAL", "EVAL_RO", "EVALSHA", "EVALSHA_RO", "FCALL", "FCALL_RO"})


async def fetch_top_queries(adapter: DatabaseAdapter, order_by: str, limit: int) -> dict[str, Any]:
    """Raw statement statistics of `adapter`'s engine, top `limit` by `order_by` where the source can sort."""
    engine = adapter.engine
    try:
        check_request(engine, order_by, limit)
    except ValueError as exc:
        raise QueryError(str(exc)) from None
    raw: dict[str, Any] = {"engine": engine, "connection": adapter.config.name, "rows": [], "notes": []}
    if engine == "postgresql":
        raw.update(await _postgres(adapter, order_by, limit))
    elif engine == "mysql":
        raw.update(await _mysql(adapter, order_by, limit))
    elif engine == "mongodb":
        raw.update(await _mongodb(adapter))
    elif engine == "redis":
        raw.update(await _redis(adapter))
    else:
        raw.update({"source": "none", "unavailable": {"reason": "not_supported", "detail": "SQLite"}})
    return raw


async def _rows(adapter: DatabaseAdapter, sql: str, max_rows: int) -> list[dict[str, Any]]:
    result = await adapter.run_read_only(
        sql, max_rows=max_rows, max_bytes=MAX_BYTES, timeout_ms=adapter.config.options.statement_timeout_ms
    )
    return [dict(zip(result.columns, row, strict=False)) for row in result.rows]


def _error(exc: Exception) -> dict[str, Any]:
    return {"unavailable": {"reason": "error", "detail": str(exc)}}


# -------------------------------------------------------------------------------------------------- PostgreSQL


async def _postgres(adapter: DatabaseAdapter, order_by: str, limit: int) -> dict[str, Any]:
    [meta] = await _rows(adapter, PG_META_SQL, 1)
    major = int(meta["version_num"]) // 10_000
    out: dict[str, Any] = {
        "source": "pg_stat_statements",
        "database": meta["database"],
        "server_major": major,
        "shared_preload_libraries": meta["preload"],
    }
    preloaded = "pg_stat_statements" in str(meta["preload"] or "")
    if not meta["available"]:
        detail = "the pg_stat_statements extension is not installed on the server (no contrib files)"
        return out | {"unavailable": {"reason": "not_available", "detail": detail}}
    if not preloaded:
        detail = "pg_stat_statements is not in shared_preload_libraries, so the server records no statements"
        return out | {"unavailable": {"reason": "not_preloaded", "detail": detail}}
    if meta["schema"] is None:
        detail = f"pg_stat_statements is loaded but the extension is not created in database {meta['database']!r}"
        return out | {"unavailable": {"reason": "not_installed", "detail": detail}}
    notes: list[str] = []
    if str(meta["track"] or "").lower() == "none":
        notes.append(
            "pg_stat_statements.track = none: nothing new is recorded; ALTER SYSTEM SET pg_stat_statements.track "
            "= 'top'; SELECT pg_reload_conf();"
        )
    schema = '"' + str(meta["schema"]).replace('"', '""') + '"'
    total = "total_exec_time" if major >= 13 else "total_time"
    order = _PG_ORDER[order_by].format(total=total)
    fetch = limit + PG_HOUSEKEEPING_RESERVE
    try:
        rows = await _rows(adapter, PG_TOP_SQL.format(schema=schema, total=total, order=order, limit=fetch), fetch)
        [totals] = await _rows(adapter, PG_TOTALS_SQL.format(schema=schema, total=total), 1)
        info = await _rows(adapter, PG_INFO_SQL.format(schema=schema), 1) if major >= 14 else []
    except DBSpecialistError as exc:
        return out | _error(exc)
    for row in rows:
        row["database"] = meta["database"]
    try:
        await _mark_unresolved(adapter, rows)
    except DBSpecialistError as exc:  # the ranking stands without it
        notes.append(f"could not check the tables' schemas against this connection's search_path: {exc}")
    if info and info[0].get("dealloc"):
        notes.append(
            f"{info[0]['dealloc']} times the least-used statements were evicted to make room "
            "(pg_stat_statements.max): rarely run statements may be missing"
        )
    return out | {"rows": rows, "totals": totals, "since": info[0]["since"] if info else None, "notes": notes}


async def _mark_unresolved(adapter: DatabaseAdapter, rows: list[dict[str, Any]]) -> None:
    """Add to each row the unqualified tables it names that this connection's search_path does not find."""
    named = {id(row): unqualified_relations(str(row.get("query") or "")) for row in rows}
    idents = sorted({name for names in named.values() for name in names})
    if not idents:
        return
    plain = [i[1:-1].replace('""', '"') if i.startswith('"') else i for i in idents]
    result = await adapter.run_read_only(
        PG_RELATIONS_SQL,
        [idents, plain],
        max_rows=len(idents),
        max_bytes=MAX_BYTES,
        timeout_ms=adapter.config.options.statement_timeout_ms,
    )
    missing = [dict(zip(result.columns, r, strict=False)) for r in result.rows]
    if not missing:
        return
    schemas = {str(m["name"]): [str(s) for s in m["schemas"] or []] for m in missing}
    for row in rows:
        unresolved = {name: schemas[name] for name in named[id(row)] if name in schemas}
        if unresolved:
            row["unresolved_relations"] = unresolved
            row["search_path"] = str(missing[0]["search_path"])


# -------------------------------------------------------------------------------------------------- MySQL


async def _mysql(adapter: DatabaseAdapter, order_by: str, limit: int) -> dict[str, Any]:
    await adapter.server_version()
    flavor = getattr(adapter, "flavor", None)
    version = tuple(getattr(adapter, "version_tuple", (0, 0, 0)))
    [meta] = await _rows(adapter, MY_META_SQL, 1)
    out: dict[str, Any] = {"source": _DIGESTS, "database": meta["db"], "flavor": flavor}
    if not int(meta["ps"] or 0):
        detail = "performance_schema is OFF on this server, so no statement digests are collected"
        return out | {"unavailable": {"reason": "performance_schema_off", "detail": detail}}
    try:
        consumers = {str(r["NAME"]): str(r["ENABLED"]).upper() for r in await _rows(adapter, MY_CONSUMERS_SQL, 10)}
    except DBSpecialistError as exc:
        return out | _error(exc)
    off = sorted(name for name in ("global_instrumentation", "statements_digest") if consumers.get(name) != "YES")
    if off:
        detail = f"the performance_schema consumer(s) {', '.join(off)} are disabled, so digests are not updated"
        return out | {"unavailable": {"reason": "digest_consumer_off", "detail": detail}}
    where = "SCHEMA_NAME = DATABASE()" if meta["db"] else "TRUE"
    sample = "QUERY_SAMPLE_TEXT AS sample_text," if flavor == "mysql" and version >= MY_SAMPLE_TEXT_SINCE else ""
    sql = MY_TOP_SQL.format(sample=sample, where=where, order=_MY_ORDER[order_by], limit=limit)
    try:
        rows = await _rows(adapter, sql, limit)
        [totals] = await _rows(adapter, MY_TOTALS_SQL.format(where=where), 1)
    except DBSpecialistError as exc:
        return out | _error(exc)
    notes = ["digest texts are cut at performance_schema_max_digest_length (1024 bytes by default)"]
    overflow, size = totals.pop("overflow_calls", None), totals.pop("digests_size", None)
    if overflow:
        notes.append(digest_overflow_note(int(overflow), size))
    return out | {"rows": rows, "totals": totals, "since": totals.pop("since", None), "notes": notes}


def digest_overflow_note(overflow_calls: int, digests_size: Any) -> str:
    """What a full digest table means for the ranking, and the two ways out."""
    return (
        f"the digest table is full (performance_schema_digests_size = {digests_size}): {overflow_calls:,} executions "
        "of statements that found no free row were counted only in the overflow row, so newer statements may be "
        "missing here; TRUNCATE TABLE performance_schema.events_statements_summary_by_digest starts a fresh window, "
        "or raise performance_schema_digests_size (needs a restart)"
    )


# -------------------------------------------------------------------------------------------------- MongoDB


async def _mongodb(adapter: DatabaseAdapter) -> dict[str, Any]:
    from pymongo.errors import OperationFailure

    from dbspecialist.adapters.mongodb import MongoAdapter, _relaxed

    assert isinstance(adapter, MongoAdapter)
    max_ms = adapter.config.options.statement_timeout_ms
    database = adapter._db()
    name = database.name

    async def level() -> dict[str, Any]:
        try:
            return dict(await database.command({"profile": -1, "maxTimeMS": max_ms}))
        except OperationFailure as exc:  # mongos, or no privilege to read the level
            return {"error": str(exc.details.get("errmsg") if exc.details else exc)}

    status = await adapter._guarded("reading the profiling level", max_ms, level)
    out: dict[str, Any] = {"database": name, "profiler": {k: status.get(k) for k in ("was", "slowms", "sampleRate")}}
    if int(status.get("was") or 0) >= 1:

        async def profile() -> list[dict[str, Any]]:
            cursor = (
                database["system.profile"]
                .find({"ns": {"$ne": f"{name}.system.profile"}}, dict.fromkeys(MONGO_PROFILE_FIELDS, 1))
                .sort("ts", -1)
                .limit(PROFILE_DOCS)
                .max_time_ms(max_ms)
            )
            return [dict(d) for d in await cursor.to_list(PROFILE_DOCS)]

        docs = await adapter._guarded("reading system.profile", max_ms, profile)
        note = (
            f"system.profile holds operations slower than slowms = {status.get('slowms')} ms "
            f"(sampleRate {status.get('sampleRate')}); the newest {PROFILE_DOCS} are grouped by shape"
        )
        return out | {"source": "system.profile", "rows": _relaxed(docs), "notes": [note]}

    async def running() -> list[dict[str, Any]]:
        reply = await adapter._db("admin").command({"currentOp": 1, "active": True, "maxTimeMS": max_ms})
        return [dict(op) for op in reply.get("inprog", [])]

    ops = await adapter._guarded("currentOp", max_ms, running)
    ours = [
        op
        for op in ops
        if str(op.get("ns") or "").startswith(f"{name}.") and "currentOp" not in (op.get("command") or {})
    ]
    detail = status.get("error") or f"the profiler is off in database {name!r} (level 0)"
    reason = "error" if "error" in status else "profiler_off"
    note = "currentOp: only the operations running right now (each counted once, time so far), not a history"
    return out | {
        "source": "currentOp",
        "rows": _relaxed(ours),
        "notes": [note],
        "unavailable": {"reason": reason, "detail": detail},
    }


# -------------------------------------------------------------------------------------------------- Redis


def redis_pattern(args: Sequence[str]) -> str:
    """`HGET user:42 name` → `HGET user:* ?`: the command, its key as a pattern, ? for the other arguments."""
    from dbspecialist.adapters.redis import key_pattern

    if not args:
        return ""
    name = args[0].upper()
    rest = list(args[1:])
    if name in _REDIS_SUBCOMMANDS and rest:
        name, rest = f"{name} {rest[0].upper()}", rest[1:]
    if name.split(" ", 1)[0] in _REDIS_SCRIPTS and rest:
        script = " ".join(rest[0].split())
        script = script if len(script) <= SCRIPT_CHARS else script[:SCRIPT_CHARS] + "…"
        return " ".join([name, script, *("?" for _ in rest[1 : 1 + MAX_PLACEHOLDERS])])
    if not rest:
        return name
    others = len(rest) - 1
    shown = ["?"] * min(others, MAX_PLACEHOLDERS)
    more = [f"(+{others - MAX_PLACEHOLDERS} args)"] if others > MAX_PLACEHOLDERS else []
    return " ".join([name, key_pattern(rest[0]), *shown, *more])


async def _redis(adapter: DatabaseAdapter) -> dict[str, Any]:
    from dbspecialist.adapters.redis import RedisAdapter

    assert isinstance(adapter, RedisAdapter)

    async def work(client: Any) -> Any:
        pipe = client.pipeline(transaction=False)
        pipe.execute_command("CONFIG", "GET", "slowlog-log-slower-than")
        pipe.execute_command("CONFIG", "GET", "slowlog-max-len")
        pipe.execute_command("SLOWLOG", "GET", SLOWLOG_READ)
        return await pipe.execute(raise_on_error=False)

    threshold_reply, length_reply, slowlog = await adapter._run(
        work, adapter.config.options.statement_timeout_ms, "SLOWLOG GET"
    )
    if isinstance(slowlog, Exception):
        return {"source": "SLOWLOG", **_error(slowlog)}
    threshold, max_len = _config_int(threshold_reply), _config_int(length_reply)
    rows = []
    for entry in slowlog:
        args = [_decode(a) for a in entry[3]] if len(entry) > 3 and isinstance(entry[3], list) else []
        rows.append(
            {
                "id": int(entry[0]),
                "timestamp": int(entry[1]),
                "duration_us": int(entry[2]),
                "pattern": redis_pattern(args),
            }
        )
    out: dict[str, Any] = {
        "source": "SLOWLOG",
        "rows": rows,
        "slowlog": {"slowlog-log-slower-than": threshold, "slowlog-max-len": max_len},
        "notes": [
            "SLOWLOG holds only executions slower than slowlog-log-slower-than = "
            + (f"{threshold} µs" if threshold is not None else "? µs (CONFIG GET was refused)")
            + f", the newest {max_len if max_len is not None else 'slowlog-max-len'} of them: 'calls' counts slow "
            "executions, not all calls (INFO commandstats has those)"
        ],
    }
    if threshold is not None and threshold < 0:
        detail = f"the slow log is off (slowlog-log-slower-than = {threshold})"
        out["unavailable"] = {"reason": "slowlog_disabled", "detail": detail}
    return out


def _decode(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _config_int(reply: Any) -> int | None:
    if isinstance(reply, list) and len(reply) >= 2:
        try:
            return int(_decode(reply[1]))
        except ValueError:
            return None
    return None


__all__ = ["fetch_top_queries", "redis_pattern"]
