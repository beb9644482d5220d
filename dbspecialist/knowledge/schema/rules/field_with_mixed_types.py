"""SCH070 field-with-mixed-types: a document field holds values of more than one BSON type.

This module also holds the small helpers the other MongoDB rules (SCH071-SCH075) share: how a
collection is named in a finding and how it is addressed in a mongosh statement.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

from dbspecialist.adapters.catalog import Column, Table
from dbspecialist.knowledge.findings import Finding, Fix, RuleSpec, Severity
from dbspecialist.knowledge.schema.context import SchemaContext
from dbspecialist.knowledge.sql_text import qualified

SPEC = RuleSpec(
    id="SCH070",
    name="field-with-mixed-types",
    capability="schema",
    engines=("mongodb",),
    severity=Severity.MEDIUM,
    status="preview",
    fix="sometimes",
    summary="A sampled document field holds values of more than one BSON type.",
)

# Drivers store a whole number as int (32-bit) or long (64-bit) depending on its magnitude, so a
# mix of just these two is not a modelling problem (MongoDB docs, "BSON Types": both match "number").
SAME_FAMILY: frozenset[frozenset[str]] = frozenset({frozenset({"int", "long"})})
# Numbers of different kinds (int next to double or decimal) compare fine but round differently;
# reported at a lower severity than a number next to a string (our own judgement).
NUMERIC_TYPES: frozenset[str] = frozenset({"int", "long", "double", "decimal"})
# `$convert` target for each dominant type (MongoDB docs, "$convert": the `to` values).
CONVERT_TO: dict[str, str] = {
    "string": "string",
    "int": "int",
    "long": "long",
    "double": "double",
    "decimal": "decimal",
    "date": "date",
    "bool": "bool",
    "objectId": "objectId",
}

_PLAIN_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Names that `db.<name>` would resolve to a mongosh database method instead of a collection.
_DB_METHODS = frozenset(
    {"adminCommand", "aggregate", "auth", "commandHelp", "createCollection", "currentOp", "dropDatabase", "hello"}
    | {"help", "killOp", "logout", "runCommand", "serverStatus", "stats", "version", "watch"}
)


def collection_subject(ctx: SchemaContext, table: Table) -> str:
    """The collection's name, qualified with its database only when that is not the connection's own."""
    schema = None if table.schema_name in (None, ctx.catalog.database) else table.schema_name
    return qualified(schema, table.name, ctx.engine)


def mongo_db(ctx: SchemaContext, table: Table) -> str:
    """`db`, or `db.getSiblingDB("other")` when the collection lives in another database."""
    if table.schema_name in (None, ctx.catalog.database):
        return "db"
    return f"db.getSiblingDB({json.dumps(table.schema_name)})"


def mongo_collection(ctx: SchemaContext, table: Table) -> str:
    """`db.orders`, or `db.getCollection("order-items")` when the name is not a plain identifier."""
    return collection_in(mongo_db(ctx, table), table.name)


def collection_in(db: str, name: str) -> str:
    """A collection of database handle `db` in mongosh syntax."""
    if _PLAIN_NAME.match(name) and not name.startswith("get") and name not in _DB_METHODS:
        return f"{db}.{name}"
    return f"{db}.getCollection({json.dumps(name)})"


def sampled_documents(table: Table) -> int | None:
    value = table.stats.get("sampled_documents")
    return int(value) if isinstance(value, int | float) else None


def _kinds(column: Column) -> dict[str, int]:
    """Type → documents, without null (a missing-or-null value is a presence question, not a type clash)."""
    if column.sample is None:
        return {}
    return {t: n for t, n in column.sample.type_counts.items() if t != "null" and n > 0}


def _mixed(kinds: dict[str, int]) -> bool:
    return len(kinds) > 1 and frozenset(kinds) not in SAME_FAMILY


def check(ctx: SchemaContext) -> Iterator[Finding]:
    """A field whose sampled values have several BSON types makes every reader guess.

    ## Why is this bad?
    Queries match by type: `{amount: 10}` does not find the documents that stored `"10"`, sorts
    order numbers before strings, and an index on the field holds both kinds side by side. Every
    application reading the collection has to handle each type, and aggregations that assume one
    (`$sum`, `$dateToString`) silently skip or fail on the others. Null next to one type is not
    reported, and neither is int next to long (the driver picks those by magnitude).

    ## Example
    ```javascript
    db.orders.insertMany([{_id: 1, total: 19.9}, {_id: 2, total: "19.90"}])
    ```

    ## Use instead
    ```javascript
    db.orders.updateMany({total: {$type: "string"}},
      [{$set: {total: {$convert: {input: "$total", to: "double", onError: "$total"}}}}])
    ```
    and a `$jsonSchema` validator (SCH073) so new writes keep one type.

    ## Fix safety
    Unsafe: the migration rewrites documents. Values that cannot be converted are left as they
    are (`onError`), so run it, then look for what remains with a `$type` query.
    """
    for table in ctx.tables():
        if table.kind != "collection":
            continue
        subject_table = collection_subject(ctx, table)
        for column in table.columns:
            kinds = _kinds(column)
            if not _mixed(kinds):
                continue
            ranked = sorted(kinds.items(), key=lambda item: (-item[1], item[0]))
            dominant, dominant_docs = ranked[0]
            typed_docs = sum(kinds.values())
            numeric_only = set(kinds) <= NUMERIC_TYPES
            evidence: dict[str, int | float | str | bool | None] = {
                "types": ", ".join(f"{t}:{n}" for t, n in ranked),
                "types_seen": len(kinds),
                "dominant_type": dominant,
                "dominant_share_pct": round(100 * dominant_docs / typed_docs, 1),
                "minority_documents": typed_docs - dominant_docs,
                "sampled_documents": sampled_documents(table),
            }
            for type_name, documents in ranked:
                evidence[f"docs_{type_name}"] = documents
            yield Finding(
                rule_id=SPEC.id,
                name=SPEC.name,
                severity=Severity.LOW if numeric_only else SPEC.severity,
                title=f"{table.name}.{column.name} holds {len(kinds)} BSON types, so equality queries miss documents",
                subject=f"{subject_table}.{column.name}",
                subject_kind="column",
                table=table.name,
                evidence=evidence,
                rationale=(
                    "MongoDB compares values by type first, so a query for one type never matches the documents "
                    "that stored another, and sorts and indexes keep the types apart. Each reader has to cope "
                    "with every type it might meet."
                ),
                help=f"Convert the field to {dominant} in every document, then add a validator that enforces it.",
                fix=_fix(ctx, table, column.name, dominant, [t for t, _ in ranked[1:]]),
                line=column.source_line,
            )


def _fix(ctx: SchemaContext, table: Table, field: str, dominant: str, others: list[str]) -> Fix | None:
    target = CONVERT_TO.get(dominant)
    if target is None or "[]" in field or field.startswith("$"):
        return None
    path, value = json.dumps(field), json.dumps("$" + field)
    minority = json.dumps(others[0]) if len(others) == 1 else "[" + ", ".join(json.dumps(t) for t in others) + "]"
    statement = (
        f"{mongo_collection(ctx, table)}.updateMany({{{path}: {{$type: {minority}}}}}, "
        f'[{{$set: {{{path}: {{$convert: {{input: {value}, to: "{target}", onError: {value}}}}}}}}}])'
    )
    return Fix(
        title=f"Convert {field} to {dominant} where it holds {', '.join(others)}",
        statements=[statement],
        safety="unsafe",
        note="Rewrites documents; values that cannot be converted stay as they are. Add a validator afterwards.",
    )
