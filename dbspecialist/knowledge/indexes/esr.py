"""MongoDB index candidates by the ESR rule: Equality fields, then Sort fields, then Range fields.

An index serves a find best when the fields matched exactly come first (they narrow to one contiguous
key range), the sort fields next (the range is then already in the requested order, so no in-memory
SORT stage), and range fields last (a range before the sort fields would break the order).
The query shape is JSON as the driver sends it: `{"find": "orders", "filter": {...}, "sort": {...}}`,
or `{"aggregate": "orders", "pipeline": [{"$match": ...}, {"$sort": ...}, ...]}` (leading stages only).
Pure: nothing is verified here; the caller labels the result verified=false unless it tested it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field

from dbspecialist.adapters.catalog import Catalog

EQUALITY_OPERATORS: Final = frozenset({"$eq"})
# $in behaves like equality for the index bounds; it is listed with equality (the MongoDB manual's ESR
# guidance notes that with a sort it can act as a range: we say so in the reason).
MULTI_EQUALITY_OPERATORS: Final = frozenset({"$in"})
RANGE_OPERATORS: Final = frozenset({"$gt", "$gte", "$lt", "$lte", "$ne", "$nin", "$regex", "$exists"})


class MongoCandidate(BaseModel):
    model_config = ConfigDict(frozen=True)

    collection: str
    keys: list[tuple[str, int]] = Field(description="index key fields with direction 1 / -1, in order")
    equality: list[str] = Field(default_factory=list)
    sort: list[str] = Field(default_factory=list)
    range: list[str] = Field(default_factory=list)
    statement: str
    reason: str


def _classify(filter_doc: Mapping[str, Any], eq: list[str], rng: list[str], notes: list[str]) -> None:
    for field, value in filter_doc.items():
        if field == "$and" and isinstance(value, list):
            for part in value:
                if isinstance(part, Mapping):
                    _classify(part, eq, rng, notes)
            continue
        if field.startswith("$"):
            notes.append(f"{field} is not used for index keys (each $or branch needs its own index)")
            continue
        if isinstance(value, Mapping) and value and all(str(k).startswith("$") for k in value):
            ops = set(value)
            if ops & RANGE_OPERATORS:
                _add(rng, field)
            elif ops & (EQUALITY_OPERATORS | MULTI_EQUALITY_OPERATORS):
                _add(eq, field)
                if ops & MULTI_EQUALITY_OPERATORS:
                    notes.append(f"{field}: $in counts as equality here; with a sort it behaves like a range")
            continue
        _add(eq, field)  # a plain value (or a sub-document) is an exact match


def _add(items: list[str], value: str) -> None:
    if value not in items:
        items.append(value)


@dataclass(frozen=True)
class QueryShape:
    """What an index can serve in one query: the collection, the filter, the sort, and a limit applied after them."""

    collection: str
    filter: Mapping[str, Any]
    sort: Mapping[str, Any]
    limit: int | None = None


def query_shape(query: Mapping[str, Any]) -> QueryShape | None:
    """The find's filter/sort/limit, or the aggregate's leading $match/$sort (and a $limit right after them)."""
    if isinstance(query.get("find"), str):
        limit = query.get("limit")
        count = abs(limit) if isinstance(limit, int) and not isinstance(limit, bool) and limit else None
        return QueryShape(query["find"], query.get("filter") or {}, query.get("sort") or {}, count)
    if isinstance(query.get("aggregate"), str):
        match: dict[str, Any] = {}
        sort: Mapping[str, Any] = {}
        limit = None
        for stage in query.get("pipeline") or []:
            if not isinstance(stage, Mapping):
                break
            if "$match" in stage and not sort and isinstance(stage["$match"], Mapping):
                match.update(stage["$match"])
            elif "$sort" in stage and not sort and isinstance(stage["$sort"], Mapping):
                sort = stage["$sort"]
            else:
                value = stage.get("$limit")
                if isinstance(value, int) and not isinstance(value, bool) and value > 0:
                    limit = value
                break
        return QueryShape(query["aggregate"], match, sort, limit)
    return None


def _parse(query: Mapping[str, Any] | str) -> QueryShape | None:
    if isinstance(query, str):
        try:
            query = json.loads(query)
        except ValueError:
            return None
    if not isinstance(query, Mapping):
        return None
    shape = query_shape(query)
    if shape is None or not isinstance(shape.filter, Mapping) or not isinstance(shape.sort, Mapping):
        return None
    return shape


def _or_branches(filter_doc: Mapping[str, Any]) -> list[Mapping[str, Any]] | None:
    """The branches of a `$or` that is the whole filter; None otherwise (other fields give the index its lead)."""
    branches = filter_doc.get("$or")
    if list(filter_doc) != ["$or"] or not isinstance(branches, list) or not branches:
        return None
    return branches if all(isinstance(b, Mapping) for b in branches) else None


def esr_candidate(query: Mapping[str, Any] | str, catalog: Catalog | None = None) -> MongoCandidate | None:
    """The ESR index for one query shape, or None when it needs none (no filter/sort, or already indexed)."""
    shape = _parse(query)
    if shape is None:
        return None
    return _candidate(shape.collection, shape.filter, shape.sort, catalog)


def esr_candidates(query: Mapping[str, Any] | str, catalog: Catalog | None = None) -> list[MongoCandidate]:
    """The ESR indexes a query shape needs: one, or one per `$or` branch not yet indexed.

    MongoDB answers a `$or` with an index only when every branch can use one (an OR of index scans);
    a single unindexed branch makes the whole query a collection scan, so each branch is its own shape.
    """
    shape = _parse(query)
    if shape is None:
        return []
    branches = _or_branches(shape.filter)
    if branches is None:
        found = _candidate(shape.collection, shape.filter, shape.sort, catalog)
        return [found] if found is not None else []
    out: list[MongoCandidate] = []
    for number, branch in enumerate(branches, 1):
        cand = _candidate(shape.collection, branch, {}, catalog)
        if cand is not None and all(c.statement != cand.statement for c in out):
            note = f"$or branch {number} of {len(branches)}: every branch needs an index, or the query scans"
            out.append(cand.model_copy(update={"reason": f"{cand.reason} ({note})"}))
    return out


def _candidate(
    collection: str, filter_doc: Mapping[str, Any], sort_doc: Mapping[str, Any], catalog: Catalog | None
) -> MongoCandidate | None:
    eq: list[str] = []
    rng: list[str] = []
    notes: list[str] = []
    _classify(filter_doc, eq, rng, notes)
    sort = [f for f in sort_doc if f not in eq]
    rng = [f for f in rng if f not in eq and f not in sort]
    keys: list[tuple[str, int]] = [(f, 1) for f in eq]
    keys += [(f, -1 if sort_doc[f] in (-1, -1.0, "desc", "descending") else 1) for f in sort]
    keys += [(f, 1) for f in rng]
    if not keys or keys == [("_id", 1)]:
        return None
    if catalog is not None and _covered(collection, eq, [(f, d) for f, d in keys if f in sort], rng, catalog):
        return None
    spec = ", ".join(f"{json.dumps(f)}: {d}" for f, d in keys)
    parts = [
        f"equality {', '.join(eq)}" if eq else "",
        f"sort {', '.join(sort)}" if sort else "",
        f"range {', '.join(rng)}" if rng else "",
    ]
    reason = "ESR rule: " + ", then ".join(p for p in parts if p)
    if notes:
        reason += " (" + "; ".join(notes) + ")"
    return MongoCandidate(
        collection=collection,
        keys=keys,
        equality=eq,
        sort=sort,
        range=rng,
        statement=f"{_collection_ref(collection)}.createIndex({{{spec}}})",
        reason=reason,
    )


def _collection_ref(name: str) -> str:
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        return f"db.{name}"
    return f"db.getCollection({json.dumps(name)})"


def _key(column: str) -> tuple[str, int]:
    """A catalog index column ("created_at DESC", "loc 2dsphere", "email") → (field, direction or 0)."""
    name, _, rest = column.rpartition(" ")
    if not name:
        return column, 1
    return (name, -1) if rest == "DESC" else (name, 1) if rest == "ASC" else (column, 0)


def serves(columns: list[str], equality: list[str], sort: list[tuple[str, int]], range_: list[str]) -> bool:
    """Whether an ordinary index with `columns` already serves the ESR shape.

    Equality fields may come in any order and direction; the sort fields must follow in the sort's
    directions or all reversed (an index is walked both ways); range fields come last, any direction.
    """
    keys = [_key(c) for c in columns]
    if any(d == 0 for _, d in keys):
        return False
    wanted = len(equality) + len(sort) + len(range_)
    if len(keys) < wanted:
        return False
    eq_part = keys[: len(equality)]
    sort_part = keys[len(equality) : len(equality) + len(sort)]
    range_part = keys[len(equality) + len(sort) : wanted]
    if {f for f, _ in eq_part} != set(equality) or {f for f, _ in range_part} != set(range_):
        return False
    if [f for f, _ in sort_part] != [f for f, _ in sort]:
        return False
    same = all(d == w for (_, d), (_, w) in zip(sort_part, sort, strict=True))
    reverse = all(d == -w for (_, d), (_, w) in zip(sort_part, sort, strict=True))
    return same or reverse


def _covered(
    collection: str, equality: list[str], sort: list[tuple[str, int]], range_: list[str], catalog: Catalog
) -> bool:
    table = catalog.table(collection)
    if table is None:
        return False
    hidden = set(table.stats.get("hidden_indexes") or [])
    return any(
        ix.predicate is None
        and ix.collation is None  # string matches use a collated index only under the same collation
        and ix.name not in hidden
        and ix.method in (None, "btree")
        and not (ix.sparse and not equality and not range_)  # a sparse index misses documents a bare sort needs
        and serves(ix.columns, equality, sort, range_)
        for ix in table.indexes
    )


__all__ = ["MongoCandidate", "QueryShape", "esr_candidate", "esr_candidates", "query_shape", "serves"]
