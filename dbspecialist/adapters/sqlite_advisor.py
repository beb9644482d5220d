"""SQLite verification of candidate indexes on an in-memory copy of the schema.

The real file is opened read-only (`mode=ro`), its `CREATE` statements (`sqlite_schema.sql`) and its
`sqlite_stat1` rows are copied into a private `:memory:` database, and `ANALYZE sqlite_schema` makes the
planner load those statistics. No row is copied and nothing is written to the file. Each candidate is
then created alone on the copy and `EXPLAIN QUERY PLAN` compared before/after.

SQLite reports no costs, so a plan gets a score (lower is better), summed over its rows:

| plan row                                   | score |
|--------------------------------------------|-------|
| `SCAN t` (full table scan)                 | 1000  |
| `SCAN t USING [COVERING] INDEX i` (walk)   | 400   |
| `AUTOMATIC [PARTIAL] [COVERING] INDEX`     | 300   |
| `USE TEMP B-TREE FOR ...` (sort/distinct)  | 200   |
| `SEARCH t USING [COVERING] INDEX i (...)`  | 10    |
| `SEARCH t USING INTEGER PRIMARY KEY`       | 1     |

A full scan thus costs ≥ 100 (Dexter's minimum) and turning it into an index SEARCH cuts the score by 99 %.
A candidate counts as verified only when the copy's plan actually uses it; its score then becomes the
"cost after", and the usual 50 % rule decides.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final
from urllib.parse import quote

from dbspecialist.adapters.guard import check_sqlite
from dbspecialist.errors import DBSpecialistError
from dbspecialist.knowledge.indexes.candidates import Candidate
from dbspecialist.knowledge.indexes.select import QueryCosts

Progress = Callable[[float, float, str], Awaitable[None]]

SCORE_SCAN: Final = 1000.0
SCORE_INDEX_WALK: Final = 400.0
SCORE_AUTOMATIC_INDEX: Final = 300.0
SCORE_TEMP_BTREE: Final = 200.0
SCORE_SEARCH_INDEX: Final = 10.0
SCORE_SEARCH_ROWID: Final = 1.0

_SCAN: Final = re.compile(r"^SCAN (?:TABLE )?(\S+)(?: AS \S+)?$")
_USES: Final = re.compile(r"^(SEARCH|SCAN) (?:TABLE )?(\S+)(?: AS \S+)? USING (?:COVERING )?INDEX (\S+)")


@dataclass
class SqliteResult:
    costs: list[QueryCosts] = field(default_factory=list)
    switched: dict[str, list[str]] = field(default_factory=dict)  # candidate key → queries it turned SCAN→SEARCH
    notes: list[str] = field(default_factory=list)


def plan_score(details: Sequence[str]) -> float:
    score = 0.0
    for d in details:
        if "AUTOMATIC" in d and "INDEX" in d:
            score += SCORE_AUTOMATIC_INDEX
        elif d.startswith("USE TEMP B-TREE"):
            score += SCORE_TEMP_BTREE
        elif d.startswith("SEARCH") and ("INTEGER PRIMARY KEY" in d or "rowid" in d):
            score += SCORE_SEARCH_ROWID
        elif d.startswith("SEARCH"):
            score += SCORE_SEARCH_INDEX
        elif d.startswith("SCAN") and " USING " in d:
            score += SCORE_INDEX_WALK
        elif _SCAN.match(d):
            score += SCORE_SCAN
    return score


def build_copy(path: Path) -> tuple[sqlite3.Connection, list[str]]:
    """An in-memory database with the file's schema and statistics (no rows)."""
    notes: list[str] = []
    src = sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True)
    try:
        ddl = src.execute(
            "SELECT type, name, sql FROM sqlite_schema "
            "WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "
            "AND type IN ('table', 'index', 'view') "
            "ORDER BY CASE type WHEN 'table' THEN 0 WHEN 'view' THEN 1 ELSE 2 END, rowid"
        ).fetchall()
        has_stat = src.execute("SELECT 1 FROM sqlite_schema WHERE name = 'sqlite_stat1'").fetchone() is not None
        stats = src.execute("SELECT tbl, idx, stat FROM sqlite_stat1").fetchall() if has_stat else []
    finally:
        src.close()
    mem = sqlite3.connect(":memory:", check_same_thread=False)
    for kind, name, sql in ddl:
        try:
            mem.execute(sql)
        except sqlite3.Error as exc:
            if kind != "index" or "already exists" not in str(exc):
                notes.append(f"could not copy {kind} {name}: {exc}")
    mem.execute("ANALYZE sqlite_schema")  # creates sqlite_stat1 (empty: no rows in the copy)
    mem.execute("DELETE FROM sqlite_stat1")
    if stats:
        mem.executemany("INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES (?, ?, ?)", stats)
    else:
        notes.append("the file has no sqlite_stat1 (never ANALYZEd): the planner uses default estimates")
    mem.execute("ANALYZE sqlite_schema")  # reload the statistics into the planner
    mem.commit()
    return mem, notes


def _plan(conn: sqlite3.Connection, query: str) -> list[str]:
    return [str(r[3]) for r in conn.execute(f"EXPLAIN QUERY PLAN {query}").fetchall()]


def evaluate_sync(path: Path, queries: Sequence[str], candidates: Sequence[Candidate]) -> SqliteResult:
    result = SqliteResult()
    mem, notes = build_copy(path)
    result.notes.extend(notes)
    try:
        for query in queries:
            try:
                check_sqlite(query)
                before_plan = _plan(mem, query)
            except (DBSpecialistError, sqlite3.Error) as exc:
                result.notes.append(f"skipped {query[:80]!r}: {exc}")
                continue
            before = plan_score(before_plan)
            scanned = {m.group(1) for d in before_plan if (m := _SCAN.match(d))}
            after: dict[str, float] = {}
            for cand in candidates:
                if not re.search(rf"\b{re.escape(cand.table)}\b", query, re.IGNORECASE):
                    continue
                stmt = cand.statement(concurrently=False)
                try:
                    mem.execute(stmt)
                    plan = _plan(mem, query)
                except sqlite3.Error as exc:
                    result.notes.append(f"could not test {stmt!r}: {exc}")
                    continue
                finally:
                    mem.execute(f'DROP INDEX IF EXISTS "{cand.name}"')
                used = [m for d in plan if (m := _USES.match(d)) and m.group(3) == cand.name]
                if not used:
                    continue  # the planner ignores it: no gain
                after[cand.key] = plan_score(plan)
                if any(m.group(1) == "SEARCH" and m.group(2) in scanned for m in used):
                    result.switched.setdefault(cand.key, []).append(query)
            result.costs.append(QueryCosts(query=query, cost_before=before, cost_after=after))
    finally:
        mem.close()
    return result


async def evaluate(
    path: Path, queries: Sequence[str], candidates: Sequence[Candidate], *, progress: Progress | None = None
) -> SqliteResult:
    if progress is not None:
        await progress(0, 1, "building the in-memory copy")
    result = await asyncio.to_thread(evaluate_sync, path, list(queries), list(candidates))
    if progress is not None:
        await progress(1, 1, "plans compared")
    return result


__all__ = ["SqliteResult", "build_copy", "evaluate", "evaluate_sync", "plan_score"]
