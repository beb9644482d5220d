"""The index advisor's result model and the pure steps that build it from measured costs.

I/O (HypoPG, the SQLite in-memory copy, pg_stat_statements) happens in `dbspecialist.adapters`; what
comes back is a list of `QueryCosts` plus sizes, and `build_advice` turns that into `IndexAdvice`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Final, Literal

from pydantic import BaseModel, Field

from dbspecialist.knowledge.indexes.esr import MongoCandidate
from dbspecialist.knowledge.indexes.select import MIN_COST, MIN_SAVINGS_PCT, NOT_USED_REASON, QueryCosts, select

if TYPE_CHECKING:
    from dbspecialist.knowledge.indexes.candidates import Candidate

Verification = Literal["hypopg", "sqlite-copy", "mysql-scratch", "mongodb-scratch", "esr-rule", "none"]
QUERY_PREVIEW_CHARS: Final = 160


class QueryGain(BaseModel):
    query: str = Field(description="the statement, shortened")
    cost_before: float
    cost_after: float
    improvement_pct: float


class Recommendation(BaseModel):
    ddl: str
    table: str
    columns: list[str]
    include: list[str] = Field(default_factory=list)
    predicate: str | None = None
    estimated_bytes: int | None = None
    verified: bool
    verification: Verification
    queries_helped: list[QueryGain] = Field(default_factory=list)
    reason: str
    note: str | None = Field(
        default=None,
        description="how to run `ddl` safely when it needs more (a partitioned table's per-partition build)",
    )


class Rejected(BaseModel):
    ddl: str
    reason: str


class IndexAdvice(BaseModel):
    recommendations: list[Recommendation] = Field(default_factory=list)
    rejected: list[Rejected] = Field(default_factory=list)
    queries_analyzed: int = 0
    workload_source: str = Field(description="'queries' (given) or 'pg_stat_statements' / 'performance_schema'")
    notes: list[str] = Field(default_factory=list)


def shorten(query: str, limit: int = QUERY_PREVIEW_CHARS) -> str:
    flat = " ".join(query.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def build_advice(
    candidates: Sequence[Candidate],
    costs: Sequence[QueryCosts],
    sizes: Mapping[str, int | None],
    *,
    verification: Verification,
    max_indexes: int,
    max_total_bytes: int | None,
    workload_source: str,
    notes: Sequence[str] = (),
) -> IndexAdvice:
    """Dexter's thresholds and the greedy pick over measured costs (keys are candidate DDL)."""
    by_key = {c.key: c for c in candidates}
    selection = select(list(by_key), costs, sizes, max_indexes=max_indexes, max_total_bytes=max_total_bytes)
    recs: list[Recommendation] = []
    for chosen in selection.chosen:
        cand = by_key[chosen.key]
        gains = [
            QueryGain(
                query=shorten(g.query),
                cost_before=round(g.cost_before, 2),
                cost_after=round(g.cost_after, 2),
                improvement_pct=g.improvement_pct,
            )
            for g in chosen.gains
        ]
        recs.append(
            Recommendation(
                ddl=cand.ddl,
                table=_table(cand),
                columns=list(cand.columns),
                include=list(cand.include),
                predicate=cand.predicate,
                estimated_bytes=chosen.size_bytes,
                verified=True,
                verification=verification,
                queries_helped=gains,
                note=cand.note,
                reason=f"{cand.reason}; saves {chosen.saved:.0f} cost units across {len(gains)} "
                f"{'query' if len(gains) == 1 else 'queries'} (each ≥ {MIN_COST:g} and cut by ≥ {MIN_SAVINGS_PCT:g}%)",
            )
        )
    # Chosen greedily by saving per byte; shown by total saving, so the first is the one that matters most.
    recs.sort(key=lambda r: -sum(g.cost_before - g.cost_after for g in r.queries_helped))
    rejected = [
        Rejected(ddl=key, reason=_not_used(by_key[key], costs) if reason == NOT_USED_REASON else reason)
        for key, reason in selection.rejected
    ]
    return IndexAdvice(
        recommendations=recs,
        rejected=rejected,
        queries_analyzed=len(costs),
        workload_source=workload_source,
        notes=list(notes),
    )


def _not_used(cand: Candidate, costs: Sequence[QueryCosts]) -> str:
    """Why no query has a cost with `cand` in place, in the terms of its table and the queries that name it."""
    on_table = [q for q in costs if re.search(rf"\b{re.escape(cand.table)}\b", q.query, re.IGNORECASE)]
    if not on_table:
        return (
            f"not tested: no query on {cand.table} could be costed (the notes say why), so there is no measurement "
            "to recommend it on"
        )
    count = "the query" if len(on_table) == 1 else f"each of the {len(on_table)} queries"
    return (
        f"not used: with this index in place the planner still read {cand.table} another way (an existing index "
        f"or a scan) for {count} on {cand.table}, so it saves nothing"
    )


def drop_recommendation(advice: IndexAdvice, ddl: str, reason: str) -> IndexAdvice:
    """`advice` with the recommendation `ddl` moved to the rejected list with `reason`."""
    kept = [r for r in advice.recommendations if r.ddl != ddl]
    if len(kept) == len(advice.recommendations):
        return advice
    rejected = [*advice.rejected, Rejected(ddl=ddl, reason=reason)]
    return advice.model_copy(update={"recommendations": kept, "rejected": rejected})


def unverified_advice(
    candidates: Sequence[Candidate],
    *,
    why: str,
    max_indexes: int,
    queries_analyzed: int,
    workload_source: str,
    notes: Sequence[str] = (),
) -> IndexAdvice:
    """Engines where nothing could be measured: candidates in order, labelled verified=false with the reason."""
    recs = [
        Recommendation(
            ddl=c.ddl,
            table=_table(c),
            columns=list(c.columns),
            include=list(c.include),
            predicate=c.predicate,
            verified=False,
            verification="none",
            reason=f"{c.reason}; {why}",
            note=c.note,
        )
        for c in candidates[:max_indexes]
    ]
    rejected = [Rejected(ddl=c.ddl, reason=f"over max_indexes={max_indexes}") for c in candidates[max_indexes:]]
    return IndexAdvice(
        recommendations=recs,
        rejected=rejected,
        queries_analyzed=queries_analyzed,
        workload_source=workload_source,
        notes=list(notes),
    )


def esr_advice(
    candidates: Sequence[MongoCandidate], *, max_indexes: int, queries_analyzed: int, notes: Sequence[str] = ()
) -> IndexAdvice:
    seen: dict[str, MongoCandidate] = {}
    for c in candidates:
        seen.setdefault(c.statement, c)
    ordered = list(seen.values())
    why = "not verified: no scratch collection to test it on, so explain could not confirm the plan"
    recs = [
        Recommendation(
            ddl=c.statement,
            table=c.collection,
            columns=[f if d == 1 else f"{f} DESC" for f, d in c.keys],
            verified=False,
            verification="esr-rule",
            reason=f"{c.reason}; {why}",
        )
        for c in ordered[:max_indexes]
    ]
    rejected = [Rejected(ddl=c.statement, reason=f"over max_indexes={max_indexes}") for c in ordered[max_indexes:]]
    return IndexAdvice(
        recommendations=recs,
        rejected=rejected,
        queries_analyzed=queries_analyzed,
        workload_source="queries",
        notes=list(notes),
    )


def _table(c: Candidate) -> str:
    return f"{c.schema_name}.{c.table}" if c.schema_name else c.table


__all__ = [
    "IndexAdvice",
    "QueryGain",
    "Recommendation",
    "Rejected",
    "build_advice",
    "drop_recommendation",
    "esr_advice",
    "shorten",
    "unverified_advice",
]
