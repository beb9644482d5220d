"""MongoDB verification of ESR candidate indexes with `explain` on a scratch copy of the collections.

Runs only when the connection is configured `read_only = false`. A uniquely named database
`dbspecialist_scratch_<hex>` is created on the same server; each collection the candidates touch gets the
first `SAMPLE_CAP` documents of its source (by `_id`, copied with insert_many in batches of `COPY_BATCH`)
and the source's own secondary indexes (definitions only; TTL dropped so nothing expires). Each query shape
(a find's filter/sort/limit, or an aggregate's leading $match/$sort/$limit, explained as the equivalent find)
is explained with `executionStats` first as is, then once per candidate on its collection, the candidate
alone created and dropped again. The scratch database is dropped in a `finally`, also on errors and on
cancellation. The user's collections are only read (find); every statement is bounded by the connection's
statement timeout (server `maxTimeMS` where the command takes it, and the adapter's client-side deadline).

Cost proxy (explain gives no costs): documents examined + index keys examined. A COLLSCAN over N documents
costs N; an index that narrows to k documents costs about 2k. The usual thresholds then apply (a query
must cost ≥ 100 and the candidate cut it by ≥ 50 %, `knowledge.indexes.select`).

Coupling: the MongoAdapter's public methods go through the read-only guard, which refuses the writes the
scratch copy needs, so this module uses its private `_client()` (the pooled AsyncMongoClient), `_db()`
(the connection's default database) and `_guarded()` (client-side deadline, typed and redacted errors).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

from dbspecialist.adapters.base import DatabaseAdapter
from dbspecialist.adapters.guard_mongodb import check_mongo
from dbspecialist.adapters.mongodb import MongoAdapter
from dbspecialist.errors import DBSpecialistError, QueryError
from dbspecialist.knowledge.indexes.advisor import (
    IndexAdvice,
    QueryGain,
    Recommendation,
    Rejected,
    esr_advice,
    shorten,
)
from dbspecialist.knowledge.indexes.esr import MongoCandidate, QueryShape, query_shape
from dbspecialist.knowledge.indexes.select import MIN_COST, MIN_SAVINGS_PCT, QueryCosts, select

Doc = dict[str, Any]
Progress = Callable[[float, float, str], Awaitable[None]]

SCRATCH_PREFIX: Final = "dbspecialist_scratch_"
SAMPLE_CAP: Final = 50_000  # documents copied per collection: the first ones by _id
COPY_BATCH: Final = 1_000
CANDIDATE_INDEX: Final = "dbspecialist_candidate"
# Index options not copied to the scratch collections (server bookkeeping; TTL would delete sampled documents).
SKIPPED_INDEX_OPTIONS: Final = frozenset({"v", "ns", "background", "expireAfterSeconds"})
VERIFICATION: Final = "mongodb-scratch"  # the advisor's label for results measured here
READ_ONLY_HINT: Final = "configure the connection read_only = false to let the advisor verify on a scratch copy"


@dataclass(frozen=True)
class Measurement:
    """One explain (executionStats) of a query on the scratch copy."""

    docs_examined: int
    keys_examined: int
    time_ms: int
    plan: str  # the winning plan's stages, outermost first, e.g. "SORT > COLLSCAN"
    indexes: tuple[str, ...] = ()  # index names the winning plan scans

    @property
    def cost(self) -> float:
        return float(self.docs_examined + self.keys_examined)

    def describe(self) -> str:
        return f"{self.plan}, {self.docs_examined:,} docs + {self.keys_examined:,} keys examined, {self.time_ms} ms"


@dataclass
class ScratchResult:
    available: bool = True
    reason: str | None = None
    scratch_database: str | None = None
    copied: dict[str, int] = field(default_factory=dict)  # collection → documents copied
    costs: list[QueryCosts] = field(default_factory=list)
    before: dict[str, Measurement] = field(default_factory=dict)  # query → plan without the candidates
    after: dict[tuple[str, str], Measurement] = field(default_factory=dict)  # (query, statement) → with it
    notes: list[str] = field(default_factory=list)


def plan_stages(plan: Mapping[str, Any]) -> tuple[str, tuple[str, ...]]:
    """The winning plan's stage chain ("SORT > FETCH > IXSCAN") and the index names it scans."""
    node: Any = plan.get("queryPlan", plan)  # slot-based engine replies nest the tree under queryPlan
    stages: list[str] = []
    indexes: list[str] = []
    pending: list[Any] = [node]
    while pending:
        current = pending.pop(0)
        if not isinstance(current, Mapping):
            continue
        if isinstance(current.get("stage"), str):
            stages.append(current["stage"])
        if isinstance(current.get("indexName"), str):
            indexes.append(current["indexName"])
        if "inputStage" in current:
            pending.append(current["inputStage"])
        pending.extend(current.get("inputStages") or [])
    return " > ".join(stages) or "unknown", tuple(indexes)


def measurement(reply: Mapping[str, Any]) -> Measurement:
    """The numbers of an explain reply with executionStats (a find's, or an aggregate's $cursor stage)."""
    stats = reply.get("executionStats")
    planner = reply.get("queryPlanner")
    if not isinstance(stats, Mapping):
        first = (reply.get("stages") or [{}])[0]
        cursor = first.get("$cursor") if isinstance(first, Mapping) else None
        if isinstance(cursor, Mapping):
            stats, planner = cursor.get("executionStats"), cursor.get("queryPlanner")
    if not isinstance(stats, Mapping):
        raise ValueError("the explain reply has no executionStats")
    winning = planner.get("winningPlan") if isinstance(planner, Mapping) else None
    plan, indexes = plan_stages(winning) if isinstance(winning, Mapping) else ("unknown", ())
    return Measurement(
        docs_examined=int(stats.get("totalDocsExamined") or 0),
        keys_examined=int(stats.get("totalKeysExamined") or 0),
        time_ms=int(stats.get("executionTimeMillis") or 0),
        plan=plan,
        indexes=indexes,
    )


def explain_command(shape: QueryShape, timeout_ms: int) -> Doc:
    """The find to explain for a query shape (aggregates explained through their leading stages)."""
    find: Doc = {"find": shape.collection, "filter": dict(shape.filter)}
    if shape.sort:
        find["sort"] = dict(shape.sort)
    if shape.limit:
        find["limit"] = shape.limit
    return {"explain": find, "verbosity": "executionStats", "maxTimeMS": timeout_ms}


def index_spec(candidate: MongoCandidate) -> Doc:
    return {"key": dict(candidate.keys), "name": CANDIDATE_INDEX}


def copied_index_specs(indexes: Sequence[Mapping[str, Any]]) -> list[Doc]:
    """The source's secondary index definitions, without server bookkeeping and TTL."""
    return [
        {k: v for k, v in ix.items() if k not in SKIPPED_INDEX_OPTIONS} for ix in indexes if ix.get("name") != "_id_"
    ]


class _Scratch:
    """Statements against the scratch database, each under the connection's statement timeout."""

    def __init__(self, adapter: MongoAdapter, source: AsyncDatabase[Doc], name: str) -> None:
        self.adapter = adapter
        self.source = source
        self.db: AsyncDatabase[Doc] = adapter._client()[name]
        self.timeout_ms = adapter.config.options.statement_timeout_ms

    async def run(self, action: str, work: Callable[[], Awaitable[Any]]) -> Any:
        return await self.adapter._guarded(action, self.timeout_ms, work)

    async def copy(self, collection: str, cap: int) -> int:
        """The first `cap` documents by _id, and the secondary indexes, of `collection`."""
        await self.run(f"creating scratch collection {collection!r}", lambda: self.db.create_collection(collection))
        cursor = (
            self.source[collection]
            .find({}, sort=[("_id", 1)], limit=cap, batch_size=COPY_BATCH)
            .max_time_ms(self.timeout_ms)
        )
        copied = 0
        target = self.db[collection]
        try:
            while True:
                batch: list[Doc] = await self.run(f"reading {collection!r}", lambda: cursor.to_list(COPY_BATCH))
                if not batch:
                    break

                async def fill(docs: list[Doc] = batch) -> None:
                    await target.insert_many(docs, ordered=False)

                await self.run(f"filling scratch {collection!r}", fill)
                copied += len(batch)
        finally:
            with contextlib.suppress(PyMongoError):
                await cursor.close()
        return copied

    async def source_indexes(self, collection: str) -> list[Doc]:
        async def work() -> list[Doc]:
            cursor = await self.source.cursor_command({"listIndexes": collection, "maxTimeMS": self.timeout_ms})
            return [ix async for ix in cursor]

        result: list[Doc] = await self.run(f"listIndexes on {collection!r}", work)
        return result

    async def create_index(self, collection: str, spec: Doc) -> None:
        command = {"createIndexes": collection, "indexes": [spec], "maxTimeMS": self.timeout_ms}
        await self.run(f"createIndexes on scratch {collection!r}", lambda: self.db.command(command))

    async def drop_index(self, collection: str, name: str) -> None:
        command = {"dropIndexes": collection, "index": name, "maxTimeMS": self.timeout_ms}
        await self.run(f"dropIndexes on scratch {collection!r}", lambda: self.db.command(command))

    async def measure(self, shape: QueryShape) -> Measurement:
        reply = await self.run(
            f"explain on scratch {shape.collection!r}", lambda: self.db.command(explain_command(shape, self.timeout_ms))
        )
        try:
            return measurement(reply)
        except ValueError as exc:
            raise QueryError(f"explain on scratch {shape.collection!r}: {exc}") from None


async def _drop_scratch(adapter: MongoAdapter, name: str) -> None:
    if not name.startswith(SCRATCH_PREFIX):  # never drop anything this module did not create
        raise ValueError(f"refusing to drop {name!r}: not a scratch database")
    timeout_ms = adapter.config.options.statement_timeout_ms
    await adapter._guarded(
        f"dropping scratch database {name!r}", timeout_ms, lambda: adapter._client().drop_database(name)
    )


def _shapes(queries: Sequence[str], source: str, notes: list[str]) -> dict[str, QueryShape]:
    """Query → shape, for the read queries on the connection's database the ESR rule understands."""
    out: dict[str, QueryShape] = {}
    for query in queries:
        try:
            accepted = check_mongo(query, read_only=True)
        except DBSpecialistError as exc:
            notes.append(f"not verified {query[:80]!r}: {exc}")
            continue
        if accepted.database not in (None, source):
            notes.append(f"not verified {query[:80]!r}: it names database {accepted.database!r}, not {source!r}")
            continue
        shape = query_shape(accepted.command)
        if shape is not None:
            out[query] = shape
    return out


async def evaluate(
    adapter: MongoAdapter,
    queries: Sequence[str],
    candidates: Sequence[MongoCandidate],
    *,
    sample_cap: int = SAMPLE_CAP,
    progress: Progress | None = None,
) -> ScratchResult:
    """Measure each query on a scratch copy before and with each candidate on its collection alone."""
    source = adapter._db()
    result = ScratchResult(scratch_database=f"{SCRATCH_PREFIX}{uuid.uuid4().hex[:16]}")
    shapes = _shapes(queries, source.name, result.notes)
    wanted = {c.collection for c in candidates}
    collections = sorted({s.collection for s in shapes.values()} & wanted)
    scratch = _Scratch(adapter, source, str(result.scratch_database))
    total = float(len(collections) + len(candidates) + 1)
    step = 0.0

    async def tick(message: str) -> None:
        nonlocal step
        step += 1
        if progress is not None:
            await progress(step, total, message)

    try:
        for collection in collections:
            result.copied[collection] = await scratch.copy(collection, sample_cap)
            for spec in copied_index_specs(await scratch.source_indexes(collection)):
                try:
                    await scratch.create_index(collection, spec)
                except DBSpecialistError as exc:
                    result.notes.append(f"existing index {spec.get('name')!r} not copied to the scratch copy: {exc}")
            await tick(f"copied {result.copied[collection]:,} documents of {collection}")
        for query, shape in shapes.items():
            if shape.collection in result.copied:
                result.before[query] = await scratch.measure(shape)
        await tick("measured the queries without the candidates")
        for cand in candidates:
            on_it = [q for q, s in shapes.items() if s.collection == cand.collection and q in result.before]
            if on_it:
                await _with_candidate(scratch, cand, on_it, shapes, result)
            await tick(f"measured {cand.statement}")
    except DBSpecialistError as exc:
        result.available, result.reason = False, f"the scratch copy failed: {exc}"
    finally:
        dropped = "dropped"
        try:
            await asyncio.shield(_drop_scratch(adapter, str(result.scratch_database)))
        except DBSpecialistError as exc:
            dropped = f"NOT dropped, drop it by hand: {exc}"
    result.costs = [
        QueryCosts(
            query=query,
            cost_before=before.cost,
            cost_after={c.statement: m.cost for c in candidates if (m := result.after.get((query, c.statement)))},
        )
        for query, before in result.before.items()
    ]
    copied = ", ".join(f"{n:,} of {c}" for c, n in result.copied.items())
    result.notes.append(
        f"verified with explain (executionStats) on scratch database {result.scratch_database} ({dropped}), holding "
        f"at most {sample_cap:,} documents per collection, the first by _id ({copied or 'none copied'}); "
        "cost = documents + index keys examined"
    )
    return result


async def _with_candidate(
    scratch: _Scratch, cand: MongoCandidate, queries: list[str], shapes: Mapping[str, QueryShape], res: ScratchResult
) -> None:
    try:
        await scratch.create_index(cand.collection, index_spec(cand))
    except DBSpecialistError as exc:
        res.notes.append(f"could not create {cand.statement} on the scratch copy: {exc}")
        return
    try:
        plans = []
        for query in queries:
            found = res.after[(query, cand.statement)] = await scratch.measure(shapes[query])
            plans.append(found)
        if all(CANDIDATE_INDEX not in m.indexes for m in plans):
            res.notes.append(f"explain chose other plans than {cand.statement} ({', '.join(m.plan for m in plans)})")
    finally:
        await scratch.drop_index(cand.collection, CANDIDATE_INDEX)


def scratch_advice(
    candidates: Sequence[MongoCandidate],
    result: ScratchResult,
    *,
    max_indexes: int,
    max_total_bytes: int | None,
    queries_analyzed: int,
    notes: Sequence[str] = (),
) -> IndexAdvice:
    """Recommendations from measured scratch-copy costs: verified only where the 50 % rule holds."""
    by_key: dict[str, MongoCandidate] = {}
    for c in candidates:
        by_key.setdefault(c.statement, c)
    selection = select(list(by_key), result.costs, {}, max_indexes=max_indexes, max_total_bytes=max_total_bytes)
    recs: list[Recommendation] = []
    for chosen in selection.chosen:
        cand = by_key[chosen.key]
        measured = "; ".join(
            f"{result.before[g.query].describe()} → {result.after[(g.query, cand.statement)].describe()}"
            for g in chosen.gains
        )
        recs.append(
            Recommendation(
                ddl=cand.statement,
                table=cand.collection,
                columns=[f if d == 1 else f"{f} DESC" for f, d in cand.keys],
                verified=True,
                verification=VERIFICATION,
                queries_helped=[
                    QueryGain(
                        query=shorten(g.query),
                        cost_before=g.cost_before,
                        cost_after=g.cost_after,
                        improvement_pct=g.improvement_pct,
                    )
                    for g in chosen.gains
                ],
                reason=f"{cand.reason}; measured on a scratch copy with explain: {measured} (each query ≥ "
                f"{MIN_COST:g} documents+keys examined and cut by ≥ {MIN_SAVINGS_PCT:g}%)",
            )
        )
    recs.sort(key=lambda r: -sum(g.cost_before - g.cost_after for g in r.queries_helped))
    return IndexAdvice(
        recommendations=recs,
        rejected=[Rejected(ddl=key, reason=reason) for key, reason in selection.rejected],
        queries_analyzed=queries_analyzed,
        workload_source="queries",
        notes=list(notes),
    )


def unverified(
    candidates: Sequence[MongoCandidate], why: str, *, max_indexes: int, queries_analyzed: int, notes: Sequence[str]
) -> IndexAdvice:
    """The ESR candidates labelled verified=false (esr_advice's reason), each reason extended with `why`."""
    advice = esr_advice(candidates, max_indexes=max_indexes, queries_analyzed=queries_analyzed, notes=notes)
    recs = [r.model_copy(update={"reason": f"{r.reason}; {why}"}) for r in advice.recommendations]
    return advice.model_copy(update={"recommendations": recs})


async def advise(
    adapter: DatabaseAdapter,
    workload: Sequence[str],
    candidates: Sequence[MongoCandidate],
    *,
    max_indexes: int,
    max_total_bytes: int | None,
    notes: list[str],
    progress: Progress | None = None,
) -> IndexAdvice:
    """ESR advice, verified on a scratch copy when the connection allows writes, else verified=false."""
    analyzed = len(workload)
    if adapter.config.options.read_only or not isinstance(adapter, MongoAdapter) or not candidates:
        return unverified(candidates, READ_ONLY_HINT, max_indexes=max_indexes, queries_analyzed=analyzed, notes=notes)
    result = await evaluate(adapter, workload, candidates, progress=progress)
    notes = [*notes, *result.notes]
    if not result.available:
        return unverified(
            candidates, str(result.reason), max_indexes=max_indexes, queries_analyzed=analyzed, notes=notes
        )
    return scratch_advice(
        candidates,
        result,
        max_indexes=max_indexes,
        max_total_bytes=max_total_bytes,
        queries_analyzed=analyzed,
        notes=notes,
    )


__all__ = [
    "READ_ONLY_HINT",
    "SAMPLE_CAP",
    "SCRATCH_PREFIX",
    "Measurement",
    "ScratchResult",
    "advise",
    "copied_index_specs",
    "evaluate",
    "explain_command",
    "measurement",
    "plan_stages",
    "scratch_advice",
    "unverified",
]
