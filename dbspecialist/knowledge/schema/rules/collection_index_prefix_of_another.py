"""SCH075 collection-index-prefix-of-another: a MongoDB index whose keys lead another index."""

from __future__ import annotations

import json
from collections.abc import Iterator

from dbspecialist.adapters.catalog import Index, Table
from dbspecialist.knowledge.findings import Finding, Fix, RuleSpec, Severity
from dbspecialist.knowledge.schema.context import SchemaContext
from dbspecialist.knowledge.schema.rules.field_with_mixed_types import collection_subject, mongo_collection

SPEC = RuleSpec(
    id="SCH075",
    name="collection-index-prefix-of-another",
    capability="schema",
    engines=("mongodb",),
    severity=Severity.MEDIUM,
    status="preview",
    fix="always",
    summary="A plain MongoDB index is a key prefix of another index, which serves the same queries.",
)

# Only ordinary ascending/descending key indexes take part; text, 2dsphere, hashed and wildcard
# indexes answer different queries (MongoDB docs, "Index Types").
ORDERED_METHODS: frozenset[str | None] = frozenset({None, "btree"})


def _key(column: str) -> tuple[str, int]:
    """`"created_at DESC"` → ("created_at", -1); `"email"` → ("email", 1)."""
    if column.endswith(" DESC"):
        return column[: -len(" DESC")], -1
    return column.removesuffix(" ASC"), 1


def _plain(index: Index) -> bool:
    return index.method in ORDERED_METHODS and index.predicate is None and not index.sparse and index.valid


def _leads(short: Index, long: Index) -> bool:
    """`short`'s keys are the first keys of `long`, in the same directions or all reversed, with the same collation.

    Indexes with different collations never stand in for each other: a string comparison uses an index
    only when the query's collation matches the index's (MongoDB docs, "Collation and Index Use").
    """
    if len(short.columns) > len(long.columns) or short.collation != long.collation:
        return False
    mine = [_key(c) for c in short.columns]
    theirs = [_key(c) for c in long.columns[: len(mine)]]
    if [name for name, _ in mine] != [name for name, _ in theirs]:
        return False
    same = all(a == b for (_, a), (_, b) in zip(mine, theirs, strict=True))
    reversed_ = all(a == -b for (_, a), (_, b) in zip(mine, theirs, strict=True))
    return same or reversed_


def _covering(table: Table, index: Index) -> Index | None:
    hidden = table.stats.get("hidden_indexes") or []
    candidates = []
    for other in table.indexes:
        if other.name == index.name or other.name in hidden or not _plain(other) or not _leads(index, other):
            continue
        # Same keys twice: keep the unique one, or the one with the smaller name.
        if len(other.columns) == len(index.columns) and not (other.unique or other.name < index.name):
            continue
        candidates.append(other)
    return min(candidates, key=lambda i: (len(i.columns), i.name)) if candidates else None


def check(ctx: SchemaContext) -> Iterator[Finding]:
    """An index whose keys are the leading keys of another index is redundant.

    ## Why is this bad?
    A compound index answers every query on its leading keys, so `{customer_id: 1}` next to
    `{customer_id: 1, created_at: -1}` adds nothing for reads while every write updates both and
    both take cache memory. A single-key prefix is redundant whatever its direction, because an
    index can be walked both ways. Unique, TTL, partial and sparse indexes are left alone: each
    does something the longer index does not. So are indexes whose collation differs from the
    longer index's: string comparisons use an index only under the query's own collation.

    ## Example
    ```javascript
    db.orders.createIndex({customer_id: 1})
    db.orders.createIndex({customer_id: 1, created_at: -1})
    ```

    ## Use instead
    ```javascript
    db.orders.dropIndex("customer_id_1")
    ```

    ## Fix safety
    Unsafe: queries that name the dropped index in `hint()` fail. Hide it first (`hideIndex`),
    watch the slow query log, then drop it.
    """
    for table in ctx.tables():
        if table.kind != "collection":
            continue
        for index in table.indexes:
            if index.primary or index.unique or index.ttl_seconds is not None or not _plain(index):
                continue
            covering = _covering(table, index)
            if covering is None:
                continue
            collection = mongo_collection(ctx, table)
            yield Finding(
                rule_id=SPEC.id,
                name=SPEC.name,
                severity=SPEC.severity,
                title=(
                    f"{index.name} on {table.name} repeats the leading keys of {covering.name}, so it adds write "
                    "cost and no read benefit"
                ),
                subject=f"{collection_subject(ctx, table)}.{index.name}",
                subject_kind="index",
                table=table.name,
                evidence={
                    "index": index.name,
                    "keys": ", ".join(index.columns),
                    "covered_by": covering.name,
                    "covered_by_keys": ", ".join(covering.columns),
                    "size_bytes": index.size_bytes,
                    "scans": index.scans,
                },
                rationale=(
                    f"{covering.name} starts with the same keys, so it answers every query {index.name} answers. "
                    "Keeping both makes each write update two indexes and doubles the cache they need."
                ),
                help=f"Drop {index.name}; {covering.name} serves the same queries.",
                fix=Fix(
                    title=f"Drop the redundant index {index.name}",
                    statements=[
                        f"{collection}.hideIndex({json.dumps(index.name)})",
                        f"{collection}.dropIndex({json.dumps(index.name)})",
                    ],
                    safety="unsafe",
                    note="Run hideIndex first and drop only after the workload shows no slower queries.",
                ),
                line=index.source_line,
            )
