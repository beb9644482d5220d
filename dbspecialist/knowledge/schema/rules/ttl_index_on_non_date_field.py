"""SCH076 ttl-index-on-non-date-field: a TTL index whose field holds no dates, so nothing ever expires."""

from __future__ import annotations

import json
from collections.abc import Iterator

from dbspecialist.adapters.catalog import Column, Index, Table
from dbspecialist.knowledge.findings import Finding, Fix, RuleSpec, Severity
from dbspecialist.knowledge.schema.context import SchemaContext
from dbspecialist.knowledge.schema.rules.field_with_mixed_types import collection_subject, mongo_collection

SPEC = RuleSpec(
    id="SCH076",
    name="ttl-index-on-non-date-field",
    capability="schema",
    engines=("mongodb",),
    severity=Severity.MEDIUM,
    status="preview",
    fix="sometimes",
    summary="A TTL index is on a field whose sampled values are not dates, so no document ever expires.",
)


def _field(table: Table, path: str) -> Column | None:
    return next((c for c in table.columns if c.name == path), None)


def _date_share(column: Column) -> tuple[int, int]:
    """(documents whose value is a date, documents sampled with the field)."""
    counts = column.sample.type_counts if column.sample is not None else {}
    return counts.get("date", 0), sum(counts.values())


def check(ctx: SchemaContext) -> Iterator[Finding]:
    """MongoDB's TTL monitor deletes a document only when the indexed field holds a date.

    ## Why is this bad?
    A TTL index on a field that holds strings, numbers or nothing at all is accepted, kept up to date on
    every write, and never deletes anything: "If the indexed field in a document is not a date or an array
    that holds one or more date values, the document will not expire" (MongoDB docs, "TTL Indexes"). The
    collection keeps growing while everyone believes it is being trimmed.

    ## Example
    ```javascript
    db.sessions.createIndex({created_at: 1}, {expireAfterSeconds: 3600})
    db.sessions.insertOne({created_at: "2026-01-01T00:00:00Z"})  // a string: never expires
    ```

    ## Use instead
    ```javascript
    db.sessions.insertOne({created_at: new Date()})
    // convert what is already there (ISO strings and epoch milliseconds)
    db.sessions.updateMany({created_at: {$not: {$type: "date"}}}, [{$set: {created_at: {$toDate: "$created_at"}}}])
    ```

    ## Fix safety
    Display only: converting the stored values rewrites documents, and the moment they are dates the TTL
    monitor deletes every one already older than the expiry on its next pass (every 60 s).
    """
    if not ctx.live:
        return
    for table in ctx.tables():
        if table.kind != "collection":
            continue
        for index in table.indexes:
            finding = _finding(ctx, table, index)
            if finding is not None:
                yield finding


def _finding(ctx: SchemaContext, table: Table, index: Index) -> Finding | None:
    if index.ttl_seconds is None or len(index.columns) != 1:
        return None
    path = index.columns[0].split(" ")[0]
    column = _field(table, path)
    dates, sampled = _date_share(column) if column is not None else (0, 0)
    if dates > 0:
        return None  # some documents expire; mixed types are SCH070's business
    types = column.sample.type_counts if column is not None and column.sample is not None else {}
    collection = mongo_collection(ctx, table)
    absent = column is None or sampled == 0
    return Finding(
        rule_id=SPEC.id,
        name=SPEC.name,
        severity=SPEC.severity,
        title=(
            f"TTL index {index.name} on {table.name}.{path} never deletes anything: "
            + ("the sampled documents do not have the field" if absent else "the field holds no dates")
        ),
        subject=f"{collection_subject(ctx, table)}.{path}",
        subject_kind="index",
        table=table.name,
        evidence={
            "index": index.name,
            "expire_after_seconds": index.ttl_seconds,
            "sampled_with_field": sampled,
            "sampled_types": json.dumps(types, sort_keys=True) if types else None,
            "documents": table.row_estimate,
        },
        rationale=(
            "The TTL monitor removes a document only when the indexed field is a date (or an array holding one); "
            "for any other value, or no value, the document stays forever while the index is still maintained."
        ),
        help=f"Store {path} as a date (new Date() / ISODate), convert the existing values, or drop the TTL index.",
        fix=Fix(
            title=f"Convert {table.name}.{path} to dates (the TTL index then starts deleting)",
            statements=[
                f'{collection}.updateMany({{{json.dumps(path)}: {{$exists: true, $not: {{$type: "date"}}}}}}, '
                f"[{{$set: {{{json.dumps(path)}: {{$toDate: {json.dumps('$' + path)}}}}}}}])"
            ],
            safety="display-only",
            note="$toDate reads ISO-8601 strings and epoch milliseconds; other values make the update fail. Once "
            "converted, documents older than the expiry are deleted within about a minute.",
        )
        if not absent
        else None,
        line=table.source_line,
    )
