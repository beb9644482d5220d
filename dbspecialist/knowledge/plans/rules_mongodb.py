"""MongoDB plan rules (PLN060-PLN069), read from explain("executionStats") as parsed by `other_parse`."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any, Final

from dbspecialist.knowledge.findings import Finding, Fix, RuleSpec, Severity
from dbspecialist.knowledge.plans.model import Plan, PlanNode
from dbspecialist.knowledge.plans.rules_other_common import (
    MONGO_EXAMINED_RATIO,
    MONGO_MIN_EXAMINED,
    _finding,
)

# ------------------------------------------------------------------------------------------------ MongoDB

_MONGO_ENGINES: Final = ("mongodb",)
_EQ_OPS: Final = ("$eq", "$in")
_RANGE_OPS: Final = ("$gt", "$gte", "$lt", "$lte", "$ne", "$nin", "$regex", "$exists", "$type")


def _mongo_fields(query: Any, eq: list[str], rng: list[str], depth: int = 0) -> None:
    if depth > 50 or not isinstance(query, Mapping):
        return
    for key, value in query.items():
        if key == "$and" and isinstance(value, list):
            for item in value:
                _mongo_fields(item, eq, rng, depth + 1)
        elif key.startswith("$"):
            continue  # $or/$nor/$expr: no single index prefix
        elif isinstance(value, Mapping) and any(str(k).startswith("$") for k in value):
            ops = [str(k) for k in value]
            target = eq if all(op in _EQ_OPS for op in ops) else rng if any(op in _RANGE_OPS for op in ops) else None
            if target is not None and key not in eq and key not in rng:
                target.append(key)
        elif key not in eq:
            eq.append(key)


def _mongo_sort(plan: Plan) -> dict[str, Any]:
    sort = plan.extra.get("sort")
    if isinstance(sort, Mapping):
        return dict(sort)
    for node in plan.nodes():
        pattern = node.extra.get("sort_pattern")
        if isinstance(pattern, Mapping):
            return dict(pattern)
    return {}


def _esr_keys(plan: Plan, filter_doc: Any = None) -> dict[str, Any]:
    """Equality fields, then sort fields (with their direction), then range fields: the ESR rule."""
    eq: list[str] = []
    rng: list[str] = []
    _mongo_fields(filter_doc if filter_doc is not None else plan.extra.get("parsed_query"), eq, rng)
    keys: dict[str, Any] = {f: 1 for f in eq}
    for field_name, direction in _mongo_sort(plan).items():
        keys.setdefault(field_name, direction if direction in (1, -1) else 1)
    for field_name in rng:
        keys.setdefault(field_name, 1)
    return keys


def _mongo_collection(plan: Plan) -> str:
    for node in plan.nodes():
        if node.relation:
            return node.relation
    return "collection"


def _create_index(collection: str, keys: Mapping[str, Any]) -> str:
    target = (
        f"db.{collection}"
        if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", collection)
        else f"db.getCollection({json.dumps(collection)})"
    )
    return f"{target}.createIndex({json.dumps(dict(keys))})"


def _mongo_fix(collection: str, keys: Mapping[str, Any], title: str) -> Fix | None:
    if not keys:
        return None
    return Fix(
        title=title,
        statements=[_create_index(collection, keys)],
        safety="safe",
        note="Index builds on MongoDB 4.2+ hold an exclusive lock only at the start and end of the build.",
    )


def _ratio(a: Any, b: Any) -> float | None:
    if not isinstance(a, int | float) or not isinstance(b, int | float) or isinstance(a, bool):
        return None
    return float(a) / max(float(b), 1.0)


SPEC_PLN060 = RuleSpec(
    id="PLN060",
    name="mongodb-collscan",
    capability="plans",
    engines=_MONGO_ENGINES,
    severity=Severity.HIGH,
    summary="MongoDB reads the whole collection (COLLSCAN) for a filtered or sorted query.",
)


def mongo_collscan(plan: Plan, context: Mapping[str, Any]) -> Iterator[Finding]:
    """COLLSCAN: every document of the collection is read and matched.

    ## Why is this bad?
    Without an index on the filter fields MongoDB loads each document to test it; the cost grows with the
    collection and the working set is flushed from cache. The index to add follows the ESR rule: equality
    fields first, then the sort fields, then range fields.

    ## Example
    ```javascript
    db.orders.find({customer_id: 7, total: {$gt: 100}}).sort({created: -1})   // COLLSCAN + SORT
    ```

    ## Use instead
    ```javascript
    db.orders.createIndex({customer_id: 1, created: -1, total: 1})
    ```

    ## Fix safety
    Safe; index builds take a brief exclusive lock at start and end, and each index slows writes a little.
    """
    for node in plan.nodes():
        if node.node_type != "COLLSCAN":
            continue
        examined = plan.extra.get("totalDocsExamined")
        returned = plan.extra.get("nReturned")
        if isinstance(examined, int | float) and examined < MONGO_MIN_EXAMINED:
            continue
        filter_doc = node.extra.get("filter") or plan.extra.get("parsed_query")
        keys = _esr_keys(plan, filter_doc)
        branches = _or_branch_keys(filter_doc)
        if not keys and not branches:
            continue  # an unfiltered, unsorted read of everything: a scan is what was asked for
        collection = _mongo_collection(plan)
        if not keys:
            yield _or_collscan(node, plan, collection, branches)
            continue
        in_memory_sort = any(n.node_type == "SORT" for n in plan.nodes())
        yield _finding(
            SPEC_PLN060,
            node,
            f"COLLSCAN on {collection}",
            subject_kind="collection",
            table=collection,
            title=f"Every document of {collection} is read"
            + (
                f" ({examined:,} examined for {returned:,} returned)"
                if isinstance(examined, int) and isinstance(returned, int)
                else ""
            ),
            evidence={
                "docs_examined": examined,
                "n_returned": returned,
                "ratio": _ratio(examined, returned),
                "in_memory_sort": in_memory_sort,
                "execution_ms": plan.execution_ms,
                "index_keys": json.dumps(keys),
            },
            rationale=(
                "A collection scan touches every document; an index on the filter fields (ESR order: equality, "
                "sort, range) reads only the matching keys and also returns them sorted."
            ),
            help=f"Create the index {json.dumps(keys)} on {collection}.",
            fix=_mongo_fix(collection, keys, f"ESR index on {collection}"),
        )


def _or_branch_keys(filter_doc: Any) -> list[dict[str, Any]]:
    """ESR keys per branch of a top-level `$or` (each joined with the filter's other fields), distinct, in order."""
    if not isinstance(filter_doc, Mapping):
        return []
    branches = filter_doc.get("$or")
    if not isinstance(branches, list):
        return []
    rest = {k: v for k, v in filter_doc.items() if k != "$or"}
    out: list[dict[str, Any]] = []
    for branch in branches:
        eq: list[str] = []
        rng: list[str] = []
        _mongo_fields({"$and": [rest, branch]}, eq, rng)
        keys = {f: 1 for f in [*eq, *rng]}
        if keys and keys not in out:
            out.append(keys)
    return out


def _or_collscan(node: PlanNode, plan: Plan, collection: str, branches: list[dict[str, Any]]) -> Finding:
    """PLN060 for a `$or` scanned whole: MongoDB uses indexes for a $or only when every branch has one."""
    examined = plan.extra.get("totalDocsExamined")
    returned = plan.extra.get("nReturned")
    return _finding(
        SPEC_PLN060,
        node,
        f"COLLSCAN on {collection}",
        subject_kind="collection",
        table=collection,
        title=f"Every document of {collection} is read for a $or"
        + (
            f" ({examined:,} examined for {returned:,} returned)"
            if isinstance(examined, int) and isinstance(returned, int)
            else ""
        ),
        evidence={
            "docs_examined": examined,
            "n_returned": returned,
            "ratio": _ratio(examined, returned),
            "or_branches": len(branches),
            "execution_ms": plan.execution_ms,
            "index_keys": "; ".join(json.dumps(k) for k in branches),
        },
        rationale=(
            "MongoDB answers a $or from indexes only when every branch can use one (an OR of index scans); a "
            "single branch without an index makes it read the whole collection."
        ),
        help=(
            "Give every $or branch an index: "
            + "; ".join(json.dumps(k) for k in branches)
            + ". Branches whose fields already lead an index need nothing (recommend_indexes checks that)."
        ),
        fix=Fix(
            title=f"An index per $or branch on {collection}",
            statements=[_create_index(collection, k) for k in branches],
            safety="safe",
            note="Skip the statements whose keys already lead an existing index; the others are what the scan "
            "lacks. Index builds on MongoDB 4.2+ hold an exclusive lock only at the start and end of the build.",
        ),
    )


SPEC_PLN061 = RuleSpec(
    id="PLN061",
    name="mongodb-in-memory-sort",
    capability="plans",
    engines=_MONGO_ENGINES,
    severity=Severity.MEDIUM,
    summary="MongoDB sorts in memory (SORT stage) because no index supplies the order.",
)


def mongo_in_memory_sort(plan: Plan, context: Mapping[str, Any]) -> Iterator[Finding]:
    """A blocking SORT stage: results are sorted in memory (or spilled) instead of read in index order.

    ## Why is this bad?
    The SORT stage must consume every input document before returning one; it is capped by
    `internalQueryMaxBlockingSortMemoryUsageBytes` (100 MB) and otherwise spills or fails. An index whose
    keys follow equality fields then the sort fields returns documents already ordered.

    ## Example
    ```javascript
    db.orders.find({status: "paid"}).sort({total: 1})   // IXSCAN status_1 → FETCH → SORT
    ```

    ## Use instead
    ```javascript
    db.orders.createIndex({status: 1, total: 1})
    ```

    ## Fix safety
    Safe; the sort direction in the index must match (or be the exact reverse of) the query's sort.
    """
    if any(n.node_type == "COLLSCAN" for n in plan.nodes()):
        return  # PLN060's ESR index already carries the sort fields
    for node in plan.nodes():
        if node.node_type != "SORT":
            continue
        collection = _mongo_collection(plan)
        keys = _esr_keys(plan)
        yield _finding(
            SPEC_PLN061,
            node,
            f"SORT on {collection}",
            subject_kind="collection",
            table=collection,
            title=f"{collection} results are sorted in memory by {json.dumps(node.extra.get('sort_pattern') or {})}",
            evidence={
                "sort_pattern": json.dumps(node.extra.get("sort_pattern") or {}),
                "n_returned": plan.extra.get("nReturned"),
                "mem_limit_bytes": node.extra.get("memLimit"),
                "used_disk": node.extra.get("usedDisk"),
                "index_keys": json.dumps(keys),
            },
            rationale="A blocking sort holds every result in memory before returning the first one.",
            help=f"Create the index {json.dumps(keys)} so documents come back in sort order.",
            fix=_mongo_fix(collection, keys, f"Index on {collection} that supplies the sort"),
        )


def _has_fetch_filter(plan: Plan) -> bool:
    return any(n.node_type == "FETCH" and n.extra.get("filter") for n in plan.nodes())


SPEC_PLN062 = RuleSpec(
    id="PLN062",
    name="mongodb-docs-examined-ratio",
    capability="plans",
    engines=_MONGO_ENGINES,
    severity=Severity.MEDIUM,
    summary="MongoDB examines ≥ 10 documents per document returned although an index is used.",
)


def mongo_docs_examined(plan: Plan, context: Mapping[str, Any]) -> Iterator[Finding]:
    """totalDocsExamined ≫ nReturned with an index: the index narrows too little.

    ## Why is this bad?
    Each examined document is loaded and matched; when ten or more are examined per returned document the
    index used covers only part of the filter, and the rest is checked document by document.

    ## Example
    ```javascript
    db.orders.find({status: "paid", total: 3})   // IXSCAN {status: 1}: 1667 examined, 4 returned
    ```

    ## Use instead
    ```javascript
    db.orders.createIndex({status: 1, total: 1})
    ```

    ## Fix safety
    Safe to build; the new compound index may make the single-field one redundant.
    """
    if any(n.node_type == "COLLSCAN" for n in plan.nodes()) or _has_fetch_filter(plan):
        return  # PLN060 / PLN064 report these with a sharper fix
    examined, returned = plan.extra.get("totalDocsExamined"), plan.extra.get("nReturned")
    ratio = _ratio(examined, returned)
    if (
        ratio is None
        or ratio < MONGO_EXAMINED_RATIO
        or not isinstance(examined, int | float)
        or examined < MONGO_MIN_EXAMINED
    ):
        return
    collection = _mongo_collection(plan)
    keys = _esr_keys(plan)
    yield _finding(
        SPEC_PLN062,
        None,
        f"query on {collection}",
        subject_kind="collection",
        table=collection,
        title=f"{examined:,} documents of {collection} are examined to return {returned:,}",
        evidence={"docs_examined": examined, "n_returned": returned, "ratio": ratio, "index_keys": json.dumps(keys)},
        rationale="Documents loaded and then rejected cost I/O and cache; a compound index rejects them earlier.",
        help=f"Create the index {json.dumps(keys)} (ESR order).",
        fix=_mongo_fix(collection, keys, f"Compound ESR index on {collection}"),
    )


SPEC_PLN063 = RuleSpec(
    id="PLN063",
    name="mongodb-keys-examined-ratio",
    capability="plans",
    engines=_MONGO_ENGINES,
    severity=Severity.MEDIUM,
    summary="MongoDB scans ≥ 10 index keys per document returned: the index's key order is not selective.",
)


def mongo_keys_examined(plan: Plan, context: Mapping[str, Any]) -> Iterator[Finding]:
    """totalKeysExamined ≫ nReturned: the index bounds are wide and most keys are skipped.

    ## Why is this bad?
    When a range field comes before an equality field in the index, the scan walks the whole range and
    filters on the later key; the keys read grow with the range, not with the result.

    ## Example
    ```javascript
    // index {created: 1, status: 1}
    db.orders.find({status: "refunded", created: {$gt: 100}})   // 4900 keys for 40 documents
    ```

    ## Use instead
    ```javascript
    db.orders.createIndex({status: 1, created: 1})   // equality before range
    ```

    ## Fix safety
    Safe to build; drop the old index only after checking no other query needs its order.
    """
    keys_examined, returned = plan.extra.get("totalKeysExamined"), plan.extra.get("nReturned")
    ixscans = [n for n in plan.nodes() if n.node_type == "IXSCAN"]
    if len(ixscans) == 1 and ixscans[0].actual_rows is not None:
        returned = int(ixscans[0].actual_rows)  # keys the scan passed on: a FETCH filter above is PLN064's
    elif _has_fetch_filter(plan):
        return
    ratio = _ratio(keys_examined, returned)
    if (
        ratio is None
        or ratio < MONGO_EXAMINED_RATIO
        or not isinstance(keys_examined, int | float)
        or keys_examined < MONGO_MIN_EXAMINED
    ):
        return
    collection = _mongo_collection(plan)
    keys = _esr_keys(plan)
    current = ixscans[0].extra.get("key_pattern") if ixscans else None
    yield _finding(
        SPEC_PLN063,
        ixscans[0] if ixscans else None,
        f"IXSCAN {ixscans[0].index_name} on {collection}" if ixscans else f"query on {collection}",
        subject_kind="index" if ixscans else "collection",
        table=collection,
        title=f"{keys_examined:,} index keys are read to pass on {returned:,}",
        evidence={
            "keys_examined": keys_examined,
            "n_returned": returned,
            "ratio": ratio,
            "index": ixscans[0].index_name if ixscans else None,
            "key_pattern": json.dumps(current) if current else None,
            "index_keys": json.dumps(keys),
        },
        rationale="Wide index bounds read many keys that the remaining predicates reject.",
        help=f"Use an index in ESR order: {json.dumps(keys)}.",
        fix=(
            _mongo_fix(collection, keys, "ESR index (equality before range)")
            if not isinstance(current, Mapping) or list(keys.items()) != list(current.items())
            else None
        ),
    )


SPEC_PLN064 = RuleSpec(
    id="PLN064",
    name="mongodb-fetch-filter-after-ixscan",
    capability="plans",
    engines=_MONGO_ENGINES,
    severity=Severity.MEDIUM,
    summary="MongoDB fetches documents through an index and then filters on fields the index lacks.",
)


def mongo_fetch_filter(plan: Plan, context: Mapping[str, Any]) -> Iterator[Finding]:
    """FETCH with a filter above an IXSCAN: documents are loaded only to be rejected.

    ## Why is this bad?
    The index finds candidates on its own fields; the FETCH stage loads each candidate document and tests
    the other predicates. A compound index holding those fields too rejects candidates without loading
    them (and, with a projection, can cover the query entirely).

    ## Example
    ```javascript
    db.orders.find({status: "paid", total: 3})   // IXSCAN {status: 1} → FETCH filter {total: {$eq: 3}}
    ```

    ## Use instead
    ```javascript
    db.orders.createIndex({status: 1, total: 1})
    ```

    ## Fix safety
    Safe to build; a compound index whose prefix is the old index makes the old one redundant.
    """
    collection = _mongo_collection(plan)
    for node in plan.nodes():
        if node.node_type != "FETCH" or not node.extra.get("filter"):
            continue
        scan = next((n for n in node.walk() if n.node_type == "IXSCAN"), None)
        if scan is None:
            continue
        current = scan.extra.get("key_pattern") or {}
        keys = _esr_keys(plan)
        examined = node.extra.get("docsExamined", plan.extra.get("totalDocsExamined"))
        returned = node.actual_rows if node.actual_rows is not None else plan.extra.get("nReturned")
        if isinstance(examined, int | float) and isinstance(returned, int | float) and examined <= returned:
            continue  # measured: the filter rejected nothing (e.g. it repeats a partial index's own filter)
        merged: dict[str, Any] = dict(current) if isinstance(current, Mapping) else {}
        if keys and not set(merged) <= set(keys):
            merged = {}  # the scanned index leads with fields the query does not use: start from the query's
        eq: list[str] = []
        rng: list[str] = []
        _mongo_fields(node.extra.get("filter"), eq, rng)
        for f in [*eq, *rng]:
            merged.setdefault(f, 1)
        if keys and set(keys) >= set(merged):
            merged = keys
        ratio = _ratio(examined, returned)
        if ratio is not None and ratio < MONGO_EXAMINED_RATIO and isinstance(examined, int | float) and examined >= 0:
            severity = Severity.LOW
        else:
            severity = Severity.MEDIUM
        yield _finding(
            SPEC_PLN064,
            node,
            f"FETCH after IXSCAN {scan.index_name} on {collection}",
            severity=severity,
            table=collection,
            title=f"Documents found through {scan.index_name} are loaded and then filtered on {', '.join([*eq, *rng])}",
            evidence={
                "index": scan.index_name,
                "key_pattern": json.dumps(current),
                "fetch_filter": node.filter,
                "docs_examined": examined,
                "n_returned": returned,
                "ratio": ratio,
            },
            rationale="The FETCH filter rejects loaded documents; an index with its fields rejects them earlier.",
            help=f"Create the compound index {json.dumps(merged)}.",
            fix=_mongo_fix(collection, merged, f"Compound index on {collection} with the filtered fields"),
        )
