"""HypoPG verification of candidate indexes (PostgreSQL): cost before/after per query, estimated size.

Everything runs on ONE held pooled connection, inside a READ ONLY transaction that is always rolled
back: HypoPG's hypothetical indexes live in the backend's memory only (no catalog write, so READ ONLY
allows them), and `hypopg_reset()` runs before the connection goes back to the pool.

Coupling: the PostgresAdapter has no public "run my statements on one held connection" method, so
`with_connection` uses its private `_with_connection` (pool, retry of a dead connection, typed errors),
`_begin` / `_rollback` (READ ONLY + SET LOCAL timeouts, rollback or terminate), `_refuse_volatile`
(volatility lookup of functions the guard does not know), `_query_error` and `capabilities`.
Every query goes through the PostgreSQL read-only guard first: only SELECT / VALUES are evaluated.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, TypeVar

import asyncpg

from dbspecialist.adapters.guard_postgres import check_postgres
from dbspecialist.adapters.postgres import PostgresAdapter
from dbspecialist.errors import DBSpecialistError
from dbspecialist.knowledge.indexes.candidates import Candidate
from dbspecialist.knowledge.indexes.select import QueryCosts

T = TypeVar("T")
Progress = Callable[[float, float, str], Awaitable[None]]

HYPOPG_INSTALLED_SQL: Final = "SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'hypopg'"
HYPOPG_SCHEMA_SQL: Final = """
SELECT n.nspname::text FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
WHERE e.extname = 'hypopg'
"""
CREATE_EXTENSION: Final = "CREATE EXTENSION hypopg;"
_PARAM: Final = re.compile(r"\$\d+")
_STATEMENT_IDS: Final = itertools.count(1)


@dataclass
class HypoResult:
    available: bool
    reason: str | None = None
    costs: list[QueryCosts] = field(default_factory=list)
    sizes: dict[str, int | None] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


async def with_connection(adapter: PostgresAdapter, fn: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
    """Run `fn` on one pooled connection of `adapter` (see the module docstring for the coupling)."""
    return await adapter._with_connection(fn)


def _tables_of(query: str, candidates: Sequence[Candidate]) -> list[Candidate]:
    """Candidates whose table the query names (cheap text test; EXPLAIN decides the rest)."""
    low = query.lower()
    return [c for c in candidates if re.search(rf"\b{re.escape(c.table.lower())}\b", low)]


def _total_cost(raw: Any) -> float:
    plan = json.loads(raw) if isinstance(raw, str) else raw
    return float(plan[0]["Plan"]["Total Cost"])


async def evaluate(
    adapter: PostgresAdapter,
    queries: Sequence[str],
    candidates: Sequence[Candidate],
    *,
    timeout_ms: int | None = None,
    progress: Progress | None = None,
) -> HypoResult:
    """Cost of every query before, and with each candidate on its tables alone, on hypothetical indexes."""
    timeout = timeout_ms or adapter.config.options.statement_timeout_ms
    result = HypoResult(available=True)
    accepted: list[tuple[str, tuple[str, ...]]] = []
    for q in queries:
        try:
            ok = check_postgres(q)
        except DBSpecialistError as exc:
            result.notes.append(f"skipped (not a read statement): {q[:80]!r}: {exc}")
            continue
        if ok.kind not in ("select", "values"):
            result.notes.append(f"skipped ({ok.kind} has no plan to improve): {q[:80]!r}")
            continue
        accepted.append((q, ok.unknown_functions))

    async def work(conn: asyncpg.Connection) -> HypoResult:
        if await conn.fetchval(HYPOPG_INSTALLED_SQL) is None:
            result.available = False
            result.reason = f"the hypopg extension is not installed in this database; run {CREATE_EXTENSION}"
            return result
        schema = str(await conn.fetchval(HYPOPG_SCHEMA_SQL))
        hypo = '"' + schema.replace('"', '""') + '"'
        total_steps = float(sum(1 + len(_tables_of(q, candidates)) for q, _ in accepted)) or 1.0
        step = 0.0
        for query, unknown in accepted:
            params = sorted({int(m[1:]) for m in _PARAM.findall(query)})
            prepared = bool(params)

            async def cost(query: str = query, params: list[int] = params) -> float:
                if not params:
                    return _total_cost(await conn.fetchval("EXPLAIN (FORMAT JSON) " + query))
                # The generic plan of a prepared statement, which does not depend on the values passed (NULLs
                # here), on every version (EXPLAIN (GENERIC_PLAN) would make the $n parameters of the EXPLAIN
                # itself under the extended protocol). A fresh statement each time, so it is planned with the
                # hypothetical indexes of the moment rather than from a cached plan.
                name = f"dbspecialist_advisor_{next(_STATEMENT_IDS)}"
                await conn.execute(f"PREPARE {name} AS {query}")
                try:
                    args = ", ".join("NULL" for _ in range(max(params)))
                    return _total_cost(await conn.fetchval(f"EXPLAIN (FORMAT JSON) EXECUTE {name}({args})"))
                finally:
                    await conn.execute(f"DEALLOCATE {name}")

            if unknown:
                await adapter._refuse_volatile(conn, unknown)
            await adapter._begin(conn, read_only=True, timeout_ms=timeout)
            try:
                if prepared:
                    await conn.execute("SET LOCAL plan_cache_mode = force_generic_plan")
                before = await cost()
                after: dict[str, float] = {}
                for cand in _tables_of(query, candidates):
                    row = await conn.fetchrow(
                        f"SELECT indexrelid FROM {hypo}.hypopg_create_index($1)", cand.statement(concurrently=False)
                    )
                    assert row is not None
                    oid = row["indexrelid"]
                    if cand.key not in result.sizes:
                        size = await conn.fetchval(f"SELECT {hypo}.hypopg_relation_size($1)", oid)
                        result.sizes[cand.key] = int(size) if size is not None else None
                    after[cand.key] = await cost()
                    await conn.fetchval(f"SELECT {hypo}.hypopg_drop_index($1)", oid)
                    step += 1
                    if progress is not None:
                        await progress(step, total_steps, f"hypothetical {cand.name}")
                result.costs.append(QueryCosts(query=query, cost_before=before, cost_after=after))
            except asyncpg.PostgresError as exc:
                if isinstance(exc, asyncpg.exceptions.QueryCanceledError):
                    raise adapter._query_error(exc, timeout) from None
                result.notes.append(f"could not evaluate {query[:80]!r}: {' '.join(str(exc).split())}")
            finally:
                await adapter._rollback(conn)  # hypothetical indexes survive a rollback: reset them after it
                if not conn.is_closed():
                    try:
                        await conn.execute(f"SELECT {hypo}.hypopg_reset()")
                    except Exception:
                        conn.terminate()  # never hand back a backend with hypothetical indexes left in it
            step += 1
            if progress is not None:
                await progress(step, total_steps, f"evaluated {query[:40]}")
        return result

    return await with_connection(adapter, work)


async def set_costs(
    adapter: PostgresAdapter,
    queries: Sequence[str],
    chosen: Sequence[Candidate],
    *,
    timeout_ms: int | None = None,
) -> dict[str | None, dict[str, float]]:
    """Query costs with every `chosen` index in place (key None), and with each one left out (its key).

    Only the queries naming a left-out index's table are re-costed; the others keep the all-in-place cost.
    Same guarantees as `evaluate`: guarded reads only, READ ONLY transaction rolled back, hypopg_reset after.
    """
    timeout = timeout_ms or adapter.config.options.statement_timeout_ms
    plain: list[str] = []
    unknown: set[str] = set()
    for q in queries:
        if _PARAM.search(q):  # generic plans are costed per query in `evaluate`; no set re-check for them
            return {}
        try:
            ok = check_postgres(q)
        except DBSpecialistError:
            continue
        if ok.kind in ("select", "values"):
            plain.append(q)
            unknown.update(ok.unknown_functions)

    async def work(conn: asyncpg.Connection) -> dict[str | None, dict[str, float]]:
        schema = str(await conn.fetchval(HYPOPG_SCHEMA_SQL))
        hypo = '"' + schema.replace('"', '""') + '"'
        out: dict[str | None, dict[str, float]] = {}
        if unknown:
            await adapter._refuse_volatile(conn, tuple(sorted(unknown)))
        await adapter._begin(conn, read_only=True, timeout_ms=timeout)
        try:
            oids: dict[str, int] = {}
            for cand in chosen:
                row = await conn.fetchrow(
                    f"SELECT indexrelid FROM {hypo}.hypopg_create_index($1)", cand.statement(concurrently=False)
                )
                assert row is not None
                oids[cand.key] = row["indexrelid"]

            async def cost(query: str) -> float:
                return _total_cost(await conn.fetchval("EXPLAIN (FORMAT JSON) " + query))

            full = {q: await cost(q) for q in plain}
            out[None] = full
            for cand in chosen:
                await conn.fetchval(f"SELECT {hypo}.hypopg_drop_index($1)", oids[cand.key])
                touched = set(_queries_on(cand, plain))
                out[cand.key] = {q: (await cost(q) if q in touched else full[q]) for q in plain}
                row = await conn.fetchrow(
                    f"SELECT indexrelid FROM {hypo}.hypopg_create_index($1)", cand.statement(concurrently=False)
                )
                assert row is not None
                oids[cand.key] = row["indexrelid"]
        except asyncpg.PostgresError as exc:
            if isinstance(exc, asyncpg.exceptions.QueryCanceledError):
                raise adapter._query_error(exc, timeout) from None
            return {}
        finally:
            await adapter._rollback(conn)
            if not conn.is_closed():
                try:
                    await conn.execute(f"SELECT {hypo}.hypopg_reset()")
                except Exception:
                    conn.terminate()
        return out

    if not chosen or not plain:
        return {}
    return await with_connection(adapter, work)


def _queries_on(cand: Candidate, queries: Sequence[str]) -> list[str]:
    return [q for q in queries if _tables_of(q, [cand])]


__all__ = ["CREATE_EXTENSION", "HypoResult", "evaluate", "set_costs", "with_connection"]
