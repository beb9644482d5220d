"""`recommend_indexes`: the I/O orchestration of the index advisor.

1. Introspect the catalog (adapter.introspect()).
2. Workload: the given queries, or with `use_workload` the top statements by total time
   (PostgreSQL: pg_stat_statements via adapter.statistics(); MySQL/MariaDB: performance_schema digests).
3. Candidates per query (pure, `knowledge.indexes.candidates`; MongoDB: the ESR rule on JSON query shapes).
4. Verify per engine: PostgreSQL with HypoPG (`adapters.hypopg`), SQLite on an in-memory copy
   (`adapters.sqlite_advisor`); MySQL/MariaDB (`adapters.mysql_advisor`) and MongoDB (`adapters.mongodb_advisor`) on
   a bounded scratch copy when the connection is `read_only = false`, else verified=false with the reason.
5. Dexter's thresholds and the greedy pick under max_indexes / max_total_bytes (`knowledge.indexes.select`).
Progress goes through the optional callback (MCP progress notifications).
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from dbspecialist.adapters.base import DatabaseAdapter
from dbspecialist.adapters.catalog import Catalog
from dbspecialist.errors import DBSpecialistError, QueryTimeoutError
from dbspecialist.knowledge.indexes.advisor import (
    IndexAdvice,
    build_advice,
    drop_recommendation,
    unverified_advice,
)
from dbspecialist.knowledge.indexes.candidates import Candidate, candidates
from dbspecialist.knowledge.indexes.esr import MongoCandidate, esr_candidates, query_shape
from dbspecialist.knowledge.indexes.select import MIN_WORKLOAD_SHARE_PCT, QueryCosts, redundant

if TYPE_CHECKING:
    from dbspecialist.adapters.postgres import PostgresAdapter

Progress = Callable[[float, float, str], Awaitable[None]]

WORKLOAD_TOP: Final = 20
MYSQL_DIGESTS_SQL: Final = """
SELECT DIGEST_TEXT FROM performance_schema.events_statements_summary_by_digest
WHERE SCHEMA_NAME = DATABASE() AND DIGEST_TEXT IS NOT NULL
  AND (DIGEST_TEXT LIKE 'SELECT%' OR DIGEST_TEXT LIKE 'WITH%')
ORDER BY SUM_TIMER_WAIT DESC LIMIT 20
"""
_READ: Final = re.compile(r"^\s*(select|with)\b", re.IGNORECASE)
_SYSTEM: Final = re.compile(r"\b(pg_catalog|information_schema|pg_stat_\w+|performance_schema)\b", re.IGNORECASE)


async def _noop(_done: float, _total: float, _message: str) -> None:
    return None


async def _pg_workload(adapter: DatabaseAdapter, notes: list[str]) -> list[str]:
    stats = await adapter.statistics()
    pgss: dict[str, Any] = stats.get("pg_stat_statements") or {}
    if not pgss.get("installed") or not pgss.get("preloaded"):
        notes.append(
            "pg_stat_statements is not installed/preloaded: add it to shared_preload_libraries, restart, then "
            "CREATE EXTENSION pg_stat_statements; or pass the queries"
        )
        return []
    out: list[str] = []
    for row in pgss.get("top") or []:
        text = str(row.get("query") or "")
        if _READ.match(text) and not _SYSTEM.search(text):
            out.append(text)
    skipped = len(pgss.get("top") or []) - len(out)
    if skipped:
        notes.append(f"{skipped} of the top statements were skipped (not SELECT, or about system catalogs)")
    return out[:WORKLOAD_TOP]


async def _mysql_workload(adapter: DatabaseAdapter, notes: list[str]) -> list[str]:
    try:
        res = await adapter.run_read_only(
            MYSQL_DIGESTS_SQL,
            max_rows=WORKLOAD_TOP,
            max_bytes=1_000_000,
            timeout_ms=adapter.config.options.statement_timeout_ms,
        )
    except Exception as exc:  # performance_schema off, or no privilege: say so, do not fail the call
        notes.append(f"performance_schema digests unavailable: {exc}")
        return []
    return [str(r[0]) for r in res.rows if r and r[0]]


def _read_statements(engine: str, workload: list[str], notes: list[str]) -> list[str]:
    """Only reads are analysed, on every SQL engine: the engine's own read-only guard decides."""
    from dbspecialist.adapters.guard import check_sqlite
    from dbspecialist.adapters.guard_mysql import check_mysql
    from dbspecialist.adapters.guard_postgres import check_postgres

    checks: dict[str, Callable[[str], object]] = {
        "postgresql": check_postgres,
        "mysql": check_mysql,
        "sqlite": check_sqlite,
    }
    check = checks.get(engine)
    if check is None:
        return workload
    kept = []
    for query in workload:
        try:
            check(query)
        except DBSpecialistError as exc:
            notes.append(f"skipped (not a read statement): {query[:80]!r}: {exc}")
            continue
        kept.append(query)
    return kept


async def recommend(
    adapter: DatabaseAdapter,
    queries: list[str] | None,
    *,
    use_workload: bool,
    max_indexes: int,
    max_total_bytes: int | None,
    progress: Progress | None = None,
) -> IndexAdvice:
    report = progress or _noop
    notes: list[str] = []
    engine = adapter.engine
    await report(0, 4, "reading the schema")
    # MongoDB reads the catalog of the queried collections only, once the workload is known (_mongo_catalog).
    catalog = await adapter.introspect() if engine != "mongodb" else Catalog(engine=engine)
    workload: list[str] = list(queries or [])
    source = "queries"
    if use_workload:
        if engine == "postgresql":
            workload += await _pg_workload(adapter, notes)
            source = "pg_stat_statements" if not queries else "queries+pg_stat_statements"
        elif engine == "mysql":
            workload += await _mysql_workload(adapter, notes)
            source = "performance_schema" if not queries else "queries+performance_schema"
        else:
            notes.append(f"use_workload is not available for {engine}: pass the queries")
    workload = list(dict.fromkeys(q.strip().rstrip(";").strip() for q in workload if q and q.strip()))
    workload = _read_statements(engine, workload, notes)
    if not workload:
        notes.append("no queries to analyse")
        return IndexAdvice(workload_source=source, notes=notes)
    await report(1, 4, f"synthesising candidates for {len(workload)} queries")

    if engine == "mongodb":
        queried = await _mongo_catalog(adapter, workload, notes)
        mongo: list[MongoCandidate] = []
        for q in workload:
            shaped = esr_candidates(q, queried)
            mongo += [c for c in shaped if all(c.statement != m.statement for m in mongo)]
            if not shaped:
                notes.append(
                    "no index needed (an existing index already serves it, or it has no filter/sort) or shape not "
                    f"understood (pass JSON find/aggregate): {q[:80]!r}"
                )
        from dbspecialist.adapters import mongodb_advisor

        async def mongo_progress(done: float, total: float, message: str) -> None:
            await report(1 + 3 * done / max(total, 1.0), 4, message)

        mongo_advice = await mongodb_advisor.advise(
            adapter,
            workload,
            mongo,
            max_indexes=max_indexes,
            max_total_bytes=max_total_bytes,
            notes=notes,
            progress=mongo_progress,
        )
        await report(4, 4, "done")
        return mongo_advice

    dialect = {"postgresql": "postgres", "sqlite": "sqlite", "mysql": "mysql"}.get(engine, engine)
    cands: dict[str, Candidate] = {}
    for q in workload:
        found = candidates(q, dialect, catalog)
        if not found:
            notes.append(f"no candidate index (unparsed, no filter/join/sort, or already indexed): {q[:80]!r}")
        for c in found:
            cands.setdefault(c.key, c)
    ordered = list(cands.values())
    await report(2, 4, f"verifying {len(ordered)} candidates")

    if engine == "postgresql" and ordered:
        from dbspecialist.adapters import hypopg
        from dbspecialist.adapters.postgres import PostgresAdapter

        assert isinstance(adapter, PostgresAdapter)

        async def sub(done: float, total: float, message: str) -> None:
            await report(2 + done / max(total, 1.0), 4, message)

        hypo = await hypopg.evaluate(adapter, workload, ordered, progress=sub)
        notes += hypo.notes
        if not hypo.available:
            return unverified_advice(
                ordered,
                why=f"not verified: {hypo.reason}",
                max_indexes=max_indexes,
                queries_analyzed=len(workload),
                workload_source=source,
                notes=notes,
            )
        advice = build_advice(
            ordered,
            hypo.costs,
            hypo.sizes,
            verification="hypopg",
            max_indexes=max_indexes,
            max_total_bytes=max_total_bytes,
            workload_source=source,
            notes=notes,
        )
        advice = await _drop_redundant(adapter, advice, ordered, hypo.costs)
    elif engine == "sqlite" and ordered:
        from dbspecialist.adapters import sqlite_advisor

        path = getattr(adapter, "_path", None) or adapter.config.sqlite_path  # _path: the file actually opened
        res = await sqlite_advisor.evaluate(Path(path), workload, ordered)
        notes += res.notes
        advice = build_advice(
            ordered,
            res.costs,
            {},
            verification="sqlite-copy",
            max_indexes=max_indexes,
            max_total_bytes=max_total_bytes,
            workload_source=source,
            notes=notes,
        )
    elif engine == "mysql" and ordered and not adapter.config.options.read_only:
        from dbspecialist.adapters import mysql_advisor
        from dbspecialist.adapters.mysql import MySQLAdapter

        assert isinstance(adapter, MySQLAdapter)

        async def mysql_sub(done: float, total: float, message: str) -> None:
            await report(2 + done / max(total, 1.0), 4, message)

        scratch = await mysql_advisor.evaluate(adapter, workload, ordered, catalog, progress=mysql_sub)
        notes += scratch.notes
        if scratch.available:
            advice = build_advice(
                ordered,
                scratch.costs,
                {},
                verification="mysql-scratch",
                max_indexes=max_indexes,
                max_total_bytes=max_total_bytes,
                workload_source=source,
                notes=notes,
            )
        else:
            advice = unverified_advice(
                ordered,
                why=f"not verified: {scratch.reason}",
                max_indexes=max_indexes,
                queries_analyzed=len(workload),
                workload_source=source,
                notes=notes,
            )
    elif ordered:
        advice = unverified_advice(
            ordered,
            why="not verified: MySQL/MariaDB have no hypothetical indexes and this connection gives no scratch copy "
            "to build it on; configure the connection read_only = false to let the advisor verify on a scratch copy, "
            "or check with EXPLAIN after creating it on a staging copy",
            max_indexes=max_indexes,
            queries_analyzed=len(workload),
            workload_source=source,
            notes=notes,
        )
    else:
        advice = IndexAdvice(queries_analyzed=len(workload), workload_source=source, notes=notes)
    await report(4, 4, "done")
    return advice


async def _mongo_catalog(adapter: DatabaseAdapter, workload: Sequence[str], notes: list[str]) -> Catalog | None:
    """The catalog of the collections the queries name; None (advice without it) when reading it times out."""
    names: set[str] = set()
    for query in workload:
        try:
            parsed = json.loads(query)
        except ValueError:
            continue
        shape = query_shape(parsed) if isinstance(parsed, dict) else None
        if shape is not None:
            names.add(shape.collection)
    if not names:
        return None
    try:
        return await adapter.introspect(tables=sorted(names))
    except QueryTimeoutError as exc:
        notes.append(
            f"the existing indexes could not be read ({exc}); candidates are not checked against them, so some "
            "may already exist"
        )
        return None


async def _drop_redundant(
    adapter: PostgresAdapter, advice: IndexAdvice, cands: Sequence[Candidate], costs: Sequence[QueryCosts]
) -> IndexAdvice:
    """Measure the chosen indexes together (HypoPG); drop, one at a time, any worth under the workload floor.

    Each candidate was costed alone; once a wider index is chosen, a narrower one chosen earlier may add
    nothing. Leaving each out in turn shows what it still saves with the others in place.
    """
    from dbspecialist.adapters import hypopg

    by_key = {c.key: c for c in cands}
    workload = [q.query for q in costs]
    cost_before = sum(q.cost_before for q in costs)
    for _ in range(len(advice.recommendations) - 1):
        chosen = [by_key[r.ddl] for r in advice.recommendations if r.ddl in by_key]
        if len(chosen) < 2:
            break
        together = await hypopg.set_costs(adapter, workload, chosen)
        found = redundant(together, cost_before)
        if found is None:
            break
        key, loss = found
        advice = drop_recommendation(
            advice,
            key,
            f"measured together with the other recommendations it saves only {loss:,.0f} more, under "
            f"{MIN_WORKLOAD_SHARE_PCT:g}% of the workload's cost: the others already serve its queries",
        )
    return advice


def short_queries(queries: Sequence[str]) -> list[str]:
    return [" ".join(q.split())[:80] for q in queries]


__all__ = ["recommend"]
