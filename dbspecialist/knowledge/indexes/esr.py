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


def esr_candidate(query: Mapping[str, Any] | str, catalog: Catalog | None = None) -> MongoCandidate | None:
    """The ESR index for one query shape, or None when it needs none (no filter/sort, or already indexed)."""
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
    collection, filter_doc, sort_doc = shape.collection, shape.filter, shape.sort
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
    if catalog is not None and _covered(collection, keys, catalog):
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


def _covered(collection: str, keys: list[tuple[str, int]], catalog: Catalog) -> bool:
    table = catalog.table(collection)
    if table is None:
        return False
    wanted = [f if d == 1 else f"{f} DESC" for f, d in keys]
    return any(ix.predicate is None and ix.columns[: len(wanted)] == wanted for ix in table.indexes)


__all__ = ["MongoCandidate", "QueryShape", "esr_candidate", "query_shape"]
