"""SCH072 document-near-size-limit: sampled documents come close to MongoDB's 16 MB BSON limit."""

from __future__ import annotations

from collections.abc import Iterator

from dbspecialist.adapters.catalog import Table
from dbspecialist.knowledge.findings import Finding, RuleSpec, Severity
from dbspecialist.knowledge.schema.context import SchemaContext
from dbspecialist.knowledge.schema.rules.field_with_mixed_types import collection_subject, sampled_documents

SPEC = RuleSpec(
    id="SCH072",
    name="document-near-size-limit",
    capability="schema",
    engines=("mongodb",),
    severity=Severity.HIGH,
    status="preview",
    fix="never",
    summary="The largest sampled document uses a large share of the 16 MB BSON document limit.",
)

# At this share of the limit the next few appends can make writes to the document fail; reported as
# critical rather than high (our own judgement; the limit itself is MongoDB docs, "BSON Document Size").
DOCUMENT_CRITICAL_PCT = 90.0


def _size(table: Table, *keys: str) -> int | None:
    for key in keys:
        value = table.stats.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
            return int(value)
    return None


def check(ctx: SchemaContext) -> Iterator[Finding]:
    """A document near 16 MB is one append away from writes that fail.

    ## Why is this bad?
    MongoDB refuses any insert or update that would make a document larger than 16 MB, so the
    application starts failing on exactly the busiest records. Long before that, each read and
    each update moves megabytes through the cache, the network and the oplog. The size comes
    from a sample, so the real largest document is at least this big.

    ## Example
    ```javascript
    // one document per customer, with every order ever placed embedded in it
    db.customers.updateOne({_id: id}, {$push: {orders: order}})
    ```

    ## Use instead
    ```javascript
    db.orders.insertOne({customer_id: id, ...order})
    ```
    Keep what grows in its own collection, referenced by id; store large binaries in GridFS.
    """
    limit = ctx.thresholds.document_limit_bytes
    warn_bytes = limit * ctx.thresholds.document_warn_pct / 100
    for table in ctx.tables():
        if table.kind != "collection":
            continue
        largest = _size(table, "max_bson_size") or _size(table, "avg_bson_size", "avgObjSize")
        if largest is None or largest < warn_bytes:
            continue
        share = round(100 * largest / limit, 1)
        yield Finding(
            rule_id=SPEC.id,
            name=SPEC.name,
            severity=Severity.CRITICAL if share >= DOCUMENT_CRITICAL_PCT else SPEC.severity,
            title=f"documents in {table.name} reach {share} % of the 16 MB limit, so writes to them will start to fail",
            subject=collection_subject(ctx, table),
            subject_kind="collection",
            table=table.name,
            evidence={
                "max_document_bytes": largest,
                "avg_document_bytes": _size(table, "avg_bson_size", "avgObjSize"),
                "limit_bytes": limit,
                "max_pct_of_limit": share,
                "warn_pct": ctx.thresholds.document_warn_pct,
                "sampled_documents": sampled_documents(table),
                "documents": table.row_estimate,
            },
            rationale=(
                "MongoDB rejects any write that would push a document past 16 MB, so the largest records stop "
                "accepting updates. Well before that, each read and update of them moves megabytes through the "
                "cache and the oplog."
            ),
            help="Move the growing part (arrays, history, binaries) into its own collection or GridFS.",
            fix=None,
            line=table.source_line,
        )
