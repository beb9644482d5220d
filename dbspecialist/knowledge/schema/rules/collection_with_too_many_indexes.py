"""SCH074 collection-with-too-many-indexes: a collection carries more indexes than writes can afford."""

from __future__ import annotations

import json
from collections.abc import Iterator

from dbspecialist.adapters.catalog import Index
from dbspecialist.knowledge.findings import Finding, Fix, RuleSpec, Severity
from dbspecialist.knowledge.schema.context import SchemaContext
from dbspecialist.knowledge.schema.rules.field_with_mixed_types import collection_subject, mongo_collection

SPEC = RuleSpec(
    id="SCH074",
    name="collection-with-too-many-indexes",
    capability="schema",
    engines=("mongodb",),
    severity=Severity.MEDIUM,
    status="preview",
    fix="sometimes",
    summary="A collection has more indexes than the configured maximum.",
)


def _droppable_unused(index: Index) -> bool:
    """An index with zero recorded uses that carries no constraint or expiry of its own."""
    return index.scans == 0 and not index.primary and not index.unique and index.ttl_seconds is None


def check(ctx: SchemaContext) -> Iterator[Finding]:
    """Every index is updated on every insert, and on every update of a field it contains.

    ## Why is this bad?
    Each extra index adds work and write amplification to every insert and to many updates, and
    competes with the documents for the WiredTiger cache. Collections that gather an index per
    query shape usually hold several that are unused or covered by another. The hard stop is 64
    indexes per collection (MongoDB docs, "MongoDB Limits and Thresholds").

    ## Example
    ```javascript
    db.events.getIndexes().length  // 14
    ```

    ## Use instead
    ```javascript
    db.events.aggregate([{$indexStats: {}}])  // find the indexes nobody uses
    db.events.dropIndex("type_1_created_at_1")
    ```
    Merge indexes into compound ones that serve several queries (equality, sort, range order).

    ## Fix safety
    Unsafe: the fix drops indexes with zero recorded uses since the server started; queries that
    run rarely (month-end reports) may still need them. Hide an index first (`hideIndex`) to test.
    """
    limit = ctx.thresholds.max_indexes_per_collection
    for table in ctx.tables():
        if table.kind != "collection" or len(table.indexes) <= limit:
            continue
        unused = [i for i in table.indexes if _droppable_unused(i)] if ctx.live else []
        sizes = [i.size_bytes for i in table.indexes if i.size_bytes is not None]
        collection = mongo_collection(ctx, table)
        fix = (
            Fix(
                title=f"Drop the {len(unused)} index(es) of {table.name} with no recorded use",
                statements=[
                    f"{collection}.dropIndex({json.dumps(i.name)})" for i in sorted(unused, key=lambda i: i.name)
                ],
                safety="unsafe",
                note="$indexStats counts uses since the last restart; hide the index first (hideIndex) to be sure.",
            )
            if unused
            else None
        )
        yield Finding(
            rule_id=SPEC.id,
            name=SPEC.name,
            severity=SPEC.severity,
            title=f"{table.name} has {len(table.indexes)} indexes, and every write maintains all of them",
            subject=collection_subject(ctx, table),
            subject_kind="collection",
            table=table.name,
            evidence={
                "indexes": len(table.indexes),
                "max_indexes": limit,
                "unused_indexes": len(unused) if ctx.live else None,
                "index_bytes": table.index_bytes if table.index_bytes is not None else (sum(sizes) if sizes else None),
                "documents": table.row_estimate,
            },
            rationale=(
                "Every insert updates every index of the collection, and each index competes for cache memory. "
                "Past a handful, some are usually unused or covered by a compound index that serves the same "
                "queries."
            ),
            help="Drop unused indexes and merge the rest into compound indexes that serve several queries.",
            fix=fix,
            line=table.source_line,
        )
