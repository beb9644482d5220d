"""Workload-level index selection: Dexter's per-query thresholds, then a greedy pick under budgets.

Input: for each query, its planner cost without new indexes and its cost with each candidate alone
(from HypoPG, or a plan score on engines without costs). A candidate is *viable* for a query when the
query costs at least `MIN_COST` and the candidate cuts that cost by at least `MIN_SAVINGS_PCT`.
Selection then repeatedly takes the viable candidate with the largest marginal cost saved (every index
costs writes and memory, so one index serving several queries beats two serving one each); savings within
`NEAR_TIE_PCT` of the best count as equal and go to the smaller index (most saved per byte). A query counts
towards the margin only while the candidate still beats the best index already chosen for it by the same 50 %
(so two indexes serving the same query are not both picked), until `max_indexes` or `max_total_bytes` is
reached. Pure and deterministic (ties break on the key). `redundant` then names chosen indexes that a set
measured together (HypoPG) shows to be worth less than the workload floor once the others are in place.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

# ankane/dexter defaults: `--min-cost 100` and `--min-cost-savings-pct 50` (lib/dexter/indexer.rb @d421932).
MIN_COST: Final = 100.0
MIN_SAVINGS_PCT: Final = 50.0
# Workload floor (our own rule): every index costs writes and memory, so one is added only while it still
# saves at least this share of the whole workload's cost on top of the indexes already chosen.
MIN_WORKLOAD_SHARE_PCT: Final = 1.0
# Savings within this share of the best one are treated as equal: the smaller index (per byte) wins.
NEAR_TIE_PCT: Final = 10.0
# Size used for the per-byte ranking when the estimate is unknown (one 8 kB page).
UNKNOWN_SIZE_BYTES: Final = 8192
# Why a candidate has no cost with it in place for any query: the advisors record that cost only when the plan
# uses the index (MySQL/MariaDB scratch copy, SQLite copy) or when the query could be costed at all.
NOT_USED_REASON: Final = (
    "not used: with this index in place the planner still chose another plan for every query it could serve, "
    "so it saves nothing (a query that could not be tested at all is named in the notes)"
)


@dataclass(frozen=True)
class QueryCosts:
    """One query's cost before, and with each evaluated candidate (by key) alone."""

    query: str
    cost_before: float
    cost_after: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Gain:
    query: str
    cost_before: float
    cost_after: float

    @property
    def improvement_pct(self) -> float:
        return 0.0 if self.cost_before <= 0 else round((1 - self.cost_after / self.cost_before) * 100, 1)


@dataclass(frozen=True)
class Chosen:
    key: str
    gains: tuple[Gain, ...]
    saved: float
    size_bytes: int | None


@dataclass(frozen=True)
class Selection:
    chosen: tuple[Chosen, ...]
    rejected: tuple[tuple[str, str], ...]  # (key, reason)


def improvement_pct(before: float, after: float) -> float:
    return 0.0 if before <= 0 else (1 - after / before) * 100


def viable_gains(
    key: str, queries: Sequence[QueryCosts], *, min_cost: float = MIN_COST, min_savings_pct: float = MIN_SAVINGS_PCT
) -> list[Gain]:
    """The queries `key` helps enough by Dexter's rule, in input order."""
    out: list[Gain] = []
    for q in queries:
        after = q.cost_after.get(key)
        if after is None or q.cost_before < min_cost:
            continue
        if improvement_pct(q.cost_before, after) >= min_savings_pct:
            out.append(Gain(query=q.query, cost_before=q.cost_before, cost_after=after))
    return out


def select(
    keys: Sequence[str],
    queries: Sequence[QueryCosts],
    sizes: Mapping[str, int | None],
    *,
    max_indexes: int,
    max_total_bytes: int | None = None,
    min_cost: float = MIN_COST,
    min_savings_pct: float = MIN_SAVINGS_PCT,
) -> Selection:
    """Pick at most `max_indexes` candidates (and at most `max_total_bytes` together) from `keys`."""
    rejected: list[tuple[str, str]] = []
    viable: dict[str, list[Gain]] = {}
    for key in keys:
        if key in viable:
            continue
        gains = viable_gains(key, queries, min_cost=min_cost, min_savings_pct=min_savings_pct)
        if gains:
            viable[key] = gains
            continue
        evaluated = [q for q in queries if key in q.cost_after]
        if not evaluated:
            rejected.append((key, NOT_USED_REASON))
        elif all(q.cost_before < min_cost for q in evaluated):
            rejected.append((key, f"the queries it applies to cost less than {min_cost:g}: not worth an index"))
        else:
            best = max(
                improvement_pct(q.cost_before, q.cost_after[key]) for q in evaluated if q.cost_before >= min_cost
            )
            rejected.append(
                (key, f"best cost reduction {best:.1f}% is below the {min_savings_pct:g}% needed to recommend it")
            )
    current = {q.query: q.cost_before for q in queries}
    floor = sum(current.values()) * MIN_WORKLOAD_SHARE_PCT / 100
    chosen: list[Chosen] = []
    used_bytes = 0
    remaining = dict(viable)
    factor = 1 - min_savings_pct / 100
    while remaining and len(chosen) < max_indexes:
        scored: list[tuple[float, float, str, list[Gain]]] = []
        for key, gains in remaining.items():
            still = [g for g in gains if g.cost_after <= current[g.query] * factor]
            saved = sum(current[g.query] - g.cost_after for g in still)
            if saved <= 0 or saved < floor:
                continue
            size = sizes.get(key)
            if max_total_bytes is not None and size is not None and used_bytes + size > max_total_bytes:
                continue
            per_byte = saved / max(1, size if size is not None else UNKNOWN_SIZE_BYTES)
            scored.append((per_byte, saved, key, still))
        if not scored:
            break
        best_saved = max(s[1] for s in scored)
        near = [s for s in scored if s[1] >= best_saved * (1 - NEAR_TIE_PCT / 100)]
        near.sort(key=lambda s: (-s[0], -s[1], s[2]))
        _, saved, key, still = near[0]
        size = sizes.get(key)
        chosen.append(Chosen(key=key, gains=tuple(still), saved=saved, size_bytes=size))
        used_bytes += size or 0
        for g in still:
            current[g.query] = min(current[g.query], g.cost_after)
        del remaining[key]
    for key in remaining:
        size = sizes.get(key)
        if len(chosen) >= max_indexes:
            reason = f"helps, but max_indexes={max_indexes} was reached by indexes that save more"
        elif max_total_bytes is not None and size is not None and used_bytes + size > max_total_bytes:
            reason = f"helps, but its {size} bytes would exceed max_total_bytes={max_total_bytes}"
        else:
            still = [g for g in remaining[key] if g.cost_after <= current[g.query] * factor]
            saved = sum(current[g.query] - g.cost_after for g in still)
            if saved > 0:
                reason = (
                    f"would save {saved:,.0f} more, under {MIN_WORKLOAD_SHARE_PCT:g}% of the workload's cost "
                    f"({floor:,.0f}): not worth its write and memory cost"
                )
            else:
                reason = "its queries are already served as well by a chosen index"
        rejected.append((key, reason))
    return Selection(chosen=tuple(chosen), rejected=tuple(rejected))


def redundant(
    together: Mapping[str | None, Mapping[str, float]], cost_before: float, *, floor_pct: float = MIN_WORKLOAD_SHARE_PCT
) -> tuple[str, float] | None:
    """The chosen index whose removal costs the workload least, when that is under the floor; else None.

    `together[None]` holds each query's cost with every chosen index in place, `together[key]` the costs with
    `key` left out (as measured on hypothetical indexes). An index another, wider choice made redundant
    loses nothing when left out, so it goes first. Ties break on the key.
    """
    full = together.get(None)
    if not full:
        return None
    floor = cost_before * floor_pct / 100
    losses = sorted(
        (sum(without.values()) - sum(full.values()), key) for key, without in together.items() if key is not None
    )
    if not losses or losses[0][0] >= floor:
        return None
    loss, key = losses[0]
    return key, max(loss, 0.0)


__all__ = [
    "MIN_COST",
    "MIN_SAVINGS_PCT",
    "MIN_WORKLOAD_SHARE_PCT",
    "NEAR_TIE_PCT",
    "NOT_USED_REASON",
    "Chosen",
    "Gain",
    "QueryCosts",
    "Selection",
    "improvement_pct",
    "redundant",
    "select",
    "viable_gains",
]
