"""SCH071 unbounded-array-field: an array field is very long, or grows per document without a bound."""

from __future__ import annotations

import json
from collections.abc import Iterator

from dbspecialist.adapters.catalog import Table
from dbspecialist.knowledge.findings import Finding, Fix, RuleSpec, Severity
from dbspecialist.knowledge.schema.context import SchemaContext
from dbspecialist.knowledge.schema.rules.field_with_mixed_types import (
    collection_in,
    collection_subject,
    mongo_collection,
    mongo_db,
    sampled_documents,
)

SPEC = RuleSpec(
    id="SCH071",
    name="unbounded-array-field",
    capability="schema",
    engines=("mongodb",),
    severity=Severity.HIGH,
    status="preview",
    fix="sometimes",
    summary="An array field is very long in the sample, or far longer in some documents than on average.",
)

# Below the large-array threshold, an array still looks like it grows without a bound when its
# longest sampled instance is at least this long and this many times its average length; a bounded
# list (tags, a few addresses) stays close to its average (our own judgement, after MongoDB's
# "Avoid Unbounded Arrays" schema design anti-pattern).
GROWING_ARRAY_MIN_LENGTH = 100
GROWING_ARRAY_SKEW = 5.0


def check(ctx: SchemaContext) -> Iterator[Finding]:
    """An array that keeps growing inside one document makes that document ever larger and slower.

    ## Why is this bad?
    Every update rewrites the whole document, a multikey index gets one entry per element, and
    reading one item means loading all of them. The document drifts toward the 16 MB BSON limit,
    after which writes to it fail. A few documents with arrays far longer than the average are the
    early sign: comments, events or followers appended for ever.

    ## Example
    ```javascript
    db.posts.updateOne({_id: postId}, {$push: {comments: {by: userId, text: "..."}}})
    ```

    ## Use instead
    ```javascript
    db.comments.insertOne({post_id: postId, by: userId, text: "..."})
    ```
    One document per element in its own collection, indexed on the parent id (or bucket documents
    of a fixed size when elements are read together).

    ## Fix safety
    Display only: the suggested `$merge` copies the elements into a new collection, and the
    application must switch its reads and writes before the array is removed.
    """
    limit = ctx.thresholds.large_array_length
    for table in ctx.tables():
        if table.kind != "collection":
            continue
        for column in table.columns:
            sample = column.sample
            if sample is None or sample.array_length_max is None:
                continue
            longest, average = sample.array_length_max, sample.array_length_avg
            if longest >= limit:
                severity = Severity.HIGH
            elif _growing(longest, average):
                severity = Severity.MEDIUM
            else:
                continue
            yield Finding(
                rule_id=SPEC.id,
                name=SPEC.name,
                severity=severity,
                title=(
                    f"{table.name}.{column.name} reaches {longest:,} elements, so its documents grow with every append"
                ),
                subject=f"{collection_subject(ctx, table)}.{column.name}",
                subject_kind="column",
                table=table.name,
                evidence={
                    "array_length_max": longest,
                    "array_length_avg": average,
                    "array_length_min": sample.array_length_min,
                    "large_array_length": limit,
                    "presence_pct": sample.presence_pct,
                    "sampled_documents": sampled_documents(table),
                    "max_document_bytes": _number(table.stats.get("max_bson_size")),
                },
                rationale=(
                    "An array that grows inside one document makes every update rewrite more bytes, adds an index "
                    "entry per element and pushes the document toward the 16 MB limit. Elements that are read and "
                    "written on their own belong in their own collection."
                ),
                help="Move the elements into a child collection keyed by the parent id, or cap the array ($slice).",
                fix=_fix(ctx, table, column.name),
                line=column.source_line,
            )


def _growing(longest: int, average: float | None) -> bool:
    return longest >= GROWING_ARRAY_MIN_LENGTH and average is not None and longest >= GROWING_ARRAY_SKEW * average


def _number(value: object) -> int | float | None:
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


def _fix(ctx: SchemaContext, table: Table, field: str) -> Fix | None:
    if "[]" in field or field.startswith("$"):
        return None
    child = f"{table.name}_{field.replace('.', '_')}"
    statement = (
        f"{mongo_collection(ctx, table)}.aggregate([{{$unwind: {json.dumps('$' + field)}}}, "
        f'{{$project: {{_id: 0, parent_id: "$_id", item: {json.dumps("$" + field)}}}}}, '
        f"{{$merge: {{into: {json.dumps(child)}}}}}])"
    )
    return Fix(
        title=f"Copy the elements of {field} into their own collection {child}",
        statements=[statement, f"{collection_in(mongo_db(ctx, table), child)}.createIndex({{parent_id: 1}})"],
        safety="display-only",
        note="Switch the application to the new collection before removing the array ($unset) from the parents.",
    )
