"""Reading each source's raw rows into `Stat` records: pg_stat_statements, performance_schema statement digests,
MongoDB's profiler or currentOp (grouped by query shape) and Redis SLOWLOG (grouped by command pattern). Each
record carries the signals read from the counters and whether the statement scans."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

from dbspecialist.knowledge.workload.top_queries_model import (
    NO_INDEX_SHARE,
    PS_PER_MS,
    SCAN_BLOCKS_PER_CALL,
    SCAN_BLOCKS_PER_ROW,
    SCAN_EXAMINED_PER_ROW,
    SCAN_ROWS_EXAMINED_PER_CALL,
    QueryKind,
    Stat,
    float_or_none,
    int_or_none,
    rounded,
    text_or_none,
)

_READ_WORDS: Final = frozenset({"select", "with", "table", "values"})
_WRITE_WORDS: Final = frozenset({"insert", "update", "delete", "merge", "replace", "upsert"})
_FIRST_WORD: Final = re.compile(r"^(?:\s+|/\*.*?\*/|--[^\n]*(?:\n|$)|\()*([A-Za-z]+)", re.DOTALL)
_PG_PARAM: Final = re.compile(r"\$\d+")
_DATA_MODIFYING_CTE: Final = re.compile(
    r"\bAS\s+(?:NOT\s+)?(?:MATERIALIZED\s+)?\(\s*(?:INSERT|UPDATE|DELETE|MERGE)\b", re.IGNORECASE
)
_WITH_MAIN_WRITE: Final = re.compile(r"\)\s*(?:INSERT\s+INTO|UPDATE\s+\S+\s+SET|DELETE\s+FROM|MERGE\s+INTO)\b", re.I)
# What asyncpg's Connection.reset() sends when a pooled connection is released (asyncpg/connection.py,
# _get_reset_query): one simple-protocol string, recorded by pg_stat_statements as four statements.
_POOL_RESET: Final = frozenset({"SELECT pg_advisory_unlock_all()", "CLOSE ALL", "UNLISTEN *", "RESET ALL"})
_OUR_OBJECTS: Final = re.compile(
    r"^(?:SAVEPOINT|RELEASE(?:\s+SAVEPOINT)?|ROLLBACK\s+TO(?:\s+SAVEPOINT)?|PREPARE|DEALLOCATE|EXECUTE)\s+"
    r"dbspecialist_\w+",
    re.IGNORECASE,
)
# The transaction framing of dbspecialist's guarded reads (adapters/postgres.py, _begin): BEGIN READ ONLY and the
# SET LOCAL limits, each a separate pg_stat_statements entry (utility statements, so no next step either way).
_OUR_FRAMING: Final = re.compile(
    r"^(?:BEGIN(?:\s+ISOLATION\s+LEVEL\s+REPEATABLE\s+READ)?\s+READ\s+ONLY"
    r"|SET\s+LOCAL\s+(?:statement_timeout|lock_timeout|idle_in_transaction_session_timeout|plan_cache_mode"
    r"|enable_partition_pruning)\s*(?:=|TO)\s*\S+)$",
    re.IGNORECASE,
)
_CATALOG_SCHEMAS: Final = frozenset({"pg_catalog", "information_schema"})
_MONGO_READ_VERBS: Final = frozenset({"find", "aggregate", "count", "distinct"})
_MONGO_WRITE_OPS: Final = frozenset({"insert", "update", "remove", "delete", "findAndModify", "findandmodify"})
# Keys in a profiled MongoDB command that describe the session or the driver, not the query.
_MONGO_NOISE: Final = frozenset(
    {
        "lsid",
        "$db",
        "$clusterTime",
        "$readPreference",
        "$audit",
        "$client",
        "txnNumber",
        "autocommit",
        "startTransaction",
        "maxTimeMS",
        "batchSize",
        "singleBatch",
        "cursor",
        "readConcern",
        "writeConcern",
        "apiVersion",
        "apiStrict",
        "shardVersion",
        "databaseVersion",
        "clientOperationKey",
        "mayBypassWriteBlocking",
        "comment",
    }
)
# Values under these keys are part of the shape (directions, projections, stage specs), not constants.
_MONGO_SHAPE_KEYS: Final = frozenset({"sort", "projection", "hint", "$sort", "$project", "$group", "$unwind"})


def statement_kind(text: str) -> QueryKind:
    """read / write / utility from the first keyword after comments and opening parentheses.

    A WITH whose CTEs or main statement insert, update, delete or merge is a write: `WITH b AS (SELECT ... FOR
    UPDATE), u AS (UPDATE ...) SELECT count(*) FROM u` changes rows although it starts like a read.
    """
    match = _FIRST_WORD.match(text)
    word = match.group(1).lower() if match else ""
    if word == "with" and data_modifying_with(text):
        return "write"
    if word in _READ_WORDS:
        return "read"
    if word in _WRITE_WORDS:
        return "write"
    return "utility"


def data_modifying_with(text: str) -> bool:
    """True when a WITH statement's CTE bodies or main statement are INSERT/UPDATE/DELETE/MERGE."""
    return bool(_DATA_MODIFYING_CTE.search(text) or _WITH_MAIN_WRITE.search(text))


def pg_housekeeping(text: str) -> str | None:
    """Why a pg_stat_statements entry is tool traffic rather than the application's work, or None.

    - the statements asyncpg's pool sends on every release of a connection (`Connection.reset`): dbspecialist's
      own pool issues them after each tool call, any other asyncpg pool after each checkout;
    - dbspecialist's own savepoints and prepared statements (named dbspecialist_...) and the BEGIN READ ONLY /
      SET LOCAL timeouts that frame each guarded read;
    - reads of the system catalogs and statistics views only (pg_catalog, information_schema, pg_stat_*): our
      tools' catalog queries, and those of ORMs, psql and monitoring agents.
    """
    flat = " ".join(text.split()).rstrip(";").strip()
    if flat in _POOL_RESET:
        return "pool_reset"
    if _OUR_OBJECTS.search(flat) or _OUR_FRAMING.match(flat):
        return "dbspecialist"
    if statement_kind(flat) == "read" and _reads_only_catalogs(flat):
        return "catalog"
    return None


def _reads_only_catalogs(text: str) -> bool:
    from pglast import parse_sql  # lazily: a parser, loaded when a PostgreSQL report is built
    from pglast.parser import ParseError
    from pglast.visitors import referenced_relations

    try:
        relations = referenced_relations(parse_sql(text))
    except (ParseError, ValueError, RecursionError):
        return False
    if not relations:  # e.g. SELECT pg_catalog.current_setting($1): catalog functions only
        return "pg_catalog." in text
    for relation in relations:
        schema, _, name = relation.rpartition(".")
        if schema.strip('"') not in _CATALOG_SCHEMAS and not name.strip('"').startswith("pg_"):
            return False
    return True


def unqualified_relations(text: str) -> list[str]:
    """The tables a PostgreSQL statement names without a schema (CTE names excluded), sorted; [] if unparsable."""
    from pglast import parse_sql
    from pglast.parser import ParseError
    from pglast.visitors import referenced_relations

    try:
        relations = referenced_relations(parse_sql(text))
    except (ParseError, ValueError, RecursionError):
        return []
    return sorted(r for r in relations if "." not in r and not r.startswith("pg_"))


def pg_stat(row: Mapping[str, Any]) -> Stat:
    text = str(row.get("query") or "")
    calls = int_or_none(row.get("calls")) or 0
    rows = int_or_none(row.get("rows"))
    hit, read = int_or_none(row.get("shared_blks_hit")) or 0, int_or_none(row.get("shared_blks_read")) or 0
    blocks = hit + read
    per_call = blocks / calls if calls else 0.0
    per_row = blocks / max(rows or 0, 1) if calls else 0.0
    kind = statement_kind(text)
    signals: dict[str, int | float | str | bool | None] = {
        "shared_blocks_per_call": rounded(per_call, 1),
        "shared_blocks_per_row": rounded(per_row, 1),
        "cache_hit_pct": rounded(100 * hit / blocks, 2) if blocks else None,
        "temp_blocks_written": int_or_none(row.get("temp_blks_written")),
    }
    if kind == "write" and data_modifying_with(text):
        # pg_stat_statements counts the rows the outer SELECT returned, not those the CTE's UPDATE changed: a
        # per-row ratio would divide a whole batch's blocks by one row.
        signals["shared_blocks_per_row"] = None
        signals["rows_counted"] = "outer query only, not the rows its INSERT/UPDATE/DELETE changed"
    scans = kind == "read" and per_call >= SCAN_BLOCKS_PER_CALL and per_row >= SCAN_BLOCKS_PER_ROW
    unresolved = row.get("unresolved_relations")
    return Stat(
        query=text,
        calls=calls,
        total_ms=float_or_none(row.get("total_ms")) or 0.0,
        rows=rows,
        kind=kind,
        query_id=text_or_none(row.get("queryid")),
        database=text_or_none(row.get("database")),
        signals=signals,
        placeholders=bool(_PG_PARAM.search(text)),
        scans=scans,
        housekeeping=pg_housekeeping(text),
        unresolved={str(k): [str(x) for x in v or []] for k, v in unresolved.items()}
        if isinstance(unresolved, Mapping)
        else {},
        search_path=text_or_none(row.get("search_path")),
    )


def mysql_stat(row: Mapping[str, Any]) -> Stat:
    text = str(row.get("digest_text") or "")
    calls = int_or_none(row.get("count_star")) or 0
    sent, affected = int_or_none(row.get("sum_rows_sent")) or 0, int_or_none(row.get("sum_rows_affected")) or 0
    examined = int_or_none(row.get("sum_rows_examined")) or 0
    no_index = (int_or_none(row.get("sum_no_index_used")) or 0) + (int_or_none(row.get("sum_no_good_index_used")) or 0)
    returned = sent + affected
    examined_per_call = examined / calls if calls else 0.0
    examined_per_row = examined / max(returned, 1)
    kind = statement_kind(text)
    signals: dict[str, int | float | str | bool | None] = {
        "rows_examined_per_call": rounded(examined_per_call, 1),
        "rows_examined_per_row": rounded(examined_per_row, 1),
        "no_index_used_pct": rounded(100 * no_index / calls, 2) if calls else None,
        "full_scans": int_or_none(row.get("sum_select_scan")),
        "tmp_disk_tables": int_or_none(row.get("sum_created_tmp_disk_tables")),
        "truncated": text.endswith("..."),
    }
    scans = kind == "read" and (
        (calls > 0 and no_index / calls >= NO_INDEX_SHARE and examined_per_call >= SCAN_ROWS_EXAMINED_PER_CALL)
        or (examined_per_call >= SCAN_ROWS_EXAMINED_PER_CALL and examined_per_row >= SCAN_EXAMINED_PER_ROW)
    )
    sample = text_or_none(row.get("sample_text"))
    return Stat(
        query=text,
        calls=calls,
        total_ms=(float_or_none(row.get("sum_timer_wait")) or 0.0) / PS_PER_MS,
        rows=returned,
        kind=kind,
        query_id=text_or_none(row.get("digest")),
        database=text_or_none(row.get("schema")),
        signals=signals,
        placeholders="?" in text,
        example=sample if sample and not sample.endswith("...") else None,
        scans=scans,
    )


def mongo_shape(value: Any, *, keep: bool = False) -> Any:
    """The query shape: constants become "?", field paths ("$x"), sort and projection specs stay."""
    if isinstance(value, Mapping):
        return {str(k): mongo_shape(v, keep=keep or k in _MONGO_SHAPE_KEYS) for k, v in value.items()}
    if isinstance(value, list):
        if value and all(not isinstance(v, Mapping | list) for v in value) and not keep:
            return ["?"]
        # documents of one shape (an insert's batch, an $or of like branches) count once
        shapes: dict[str, Any] = {}
        for item in value:
            shaped = mongo_shape(item, keep=keep)
            shapes.setdefault(json.dumps(shaped, sort_keys=True, default=str), shaped)
        return list(shapes.values())
    if keep or (isinstance(value, str) and value.startswith("$")):
        return value
    return "?"


def mongo_command(command: Mapping[str, Any]) -> dict[str, Any]:
    """A profiled or running command without the session and driver fields."""
    return {str(k): v for k, v in command.items() if k not in _MONGO_NOISE}


def mongo_stats(docs: Sequence[Mapping[str, Any]], source: str, database: Any) -> list[Stat]:
    groups: dict[str, Stat] = {}
    running = source == "currentOp"
    for doc in docs:
        op = str(doc.get("op") or "command")
        ns = str(doc.get("ns") or "")
        raw_command = doc.get("command") if isinstance(doc.get("command"), Mapping) else {}
        command = mongo_command(raw_command or {})
        collection = ns.split(".", 1)[1] if "." in ns else ns
        if op in ("update", "remove") and "q" in command:
            verb = op  # the profiler records one update/delete statement as {q, u, multi}: no verb key
            shape = mongo_shape(command)
        else:
            verb = next(iter(command), op)
            shape = mongo_shape({k: v for k, v in command.items() if k != verb})
        shape_text = json.dumps({verb: collection, **shape}, default=str)
        key = f"{ns} {op} {shape_text}"
        ms = (
            (float_or_none(doc.get("microsecs_running")) or 0.0) / 1000
            if running
            else float_or_none(doc.get("millis")) or 0.0
        )
        rows = (
            None
            if running
            else sum(int_or_none(doc.get(k)) or 0 for k in ("nreturned", "nModified", "ninserted", "ndeleted"))
        )
        kind: QueryKind = "read" if verb in _MONGO_READ_VERBS else "write" if op in _MONGO_WRITE_OPS else "command"
        stat = groups.get(key)
        if stat is None:
            db = ns.split(".", 1)[0] if ns else None
            runnable = dict(command)
            if db and database and db != database:
                runnable["db"] = db
            stat = groups[key] = Stat(
                query=f"{ns} {op} {shape_text}",
                calls=0,
                total_ms=0.0,
                rows=None if running else 0,
                kind=kind,
                query_id=text_or_none(doc.get("queryHash")),
                database=ns or None,
                signals={"docs_examined": 0, "keys_examined": 0, "collscans": 0},
                example=json.dumps(runnable, default=str) if verb in _MONGO_READ_VERBS else None,
            )
        stat.calls += 1
        stat.total_ms += ms
        if stat.rows is not None and rows is not None:
            stat.rows += rows
        for key_name, field_name in (("docs_examined", "docsExamined"), ("keys_examined", "keysExamined")):
            stat.signals[key_name] = int(stat.signals[key_name] or 0) + (int_or_none(doc.get(field_name)) or 0)
        if str(doc.get("planSummary") or "").startswith("COLLSCAN"):
            stat.signals["collscans"] = int(stat.signals["collscans"] or 0) + 1
    for stat in groups.values():
        docs_examined = int(stat.signals["docs_examined"] or 0)
        per_call = docs_examined / stat.calls
        per_row = docs_examined / max(stat.rows or 0, 1)
        stat.signals["docs_examined_per_call"] = rounded(per_call, 1)
        stat.signals["docs_examined_per_row"] = rounded(per_row, 1)
        stat.scans = (
            stat.kind == "read"
            and per_call >= SCAN_ROWS_EXAMINED_PER_CALL
            and (bool(stat.signals["collscans"]) or per_row >= SCAN_EXAMINED_PER_ROW)
        )
    return list(groups.values())


def redis_stats(entries: Sequence[Mapping[str, Any]]) -> list[Stat]:
    groups: dict[str, Stat] = {}
    for entry in entries:
        pattern = str(entry.get("pattern") or entry.get("command") or "")
        verb = pattern.split(" ", 1)[0].upper()
        stat = groups.get(pattern)
        if stat is None:
            stat = groups[pattern] = Stat(query=pattern, calls=0, total_ms=0.0, rows=None, kind="command", verb=verb)
            stat.signals = {"max_ms": 0.0, "last_seen": None}
        ms = (float_or_none(entry.get("duration_us")) or 0.0) / 1000
        stat.calls += 1
        stat.total_ms += ms
        stat.signals["max_ms"] = rounded(max(float(stat.signals["max_ms"] or 0.0), ms))
        seen = int_or_none(entry.get("timestamp"))
        if seen is not None and (stat.signals["last_seen"] is None or seen > int(stat.signals["last_seen"])):
            stat.signals["last_seen"] = seen
    return list(groups.values())


__all__ = [
    "data_modifying_with",
    "mongo_command",
    "mongo_shape",
    "mongo_stats",
    "mysql_stat",
    "pg_housekeeping",
    "pg_stat",
    "redis_stats",
    "statement_kind",
    "unqualified_relations",
]
