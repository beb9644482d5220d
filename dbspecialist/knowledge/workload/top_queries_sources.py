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
    """read / write / utility from the first keyword after comments and opening parentheses."""
    match = _FIRST_WORD.match(text)
    word = match.group(1).lower() if match else ""
    if word in _READ_WORDS:
        return "read"
    if word in _WRITE_WORDS:
        return "write"
    return "utility"


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
    scans = kind == "read" and per_call >= SCAN_BLOCKS_PER_CALL and per_row >= SCAN_BLOCKS_PER_ROW
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


__all__ = ["mongo_command", "mongo_shape", "mongo_stats", "mysql_stat", "pg_stat", "redis_stats", "statement_kind"]
