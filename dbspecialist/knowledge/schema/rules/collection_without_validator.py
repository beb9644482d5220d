"""SCH073 collection-without-validator: a collection accepts documents of any shape."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from dbspecialist.adapters.catalog import Column, Table
from dbspecialist.knowledge.findings import Finding, Fix, RuleSpec, Severity
from dbspecialist.knowledge.schema.context import SchemaContext
from dbspecialist.knowledge.schema.rules.field_with_mixed_types import collection_subject, mongo_db, sampled_documents

SPEC = RuleSpec(
    id="SCH073",
    name="collection-without-validator",
    capability="schema",
    engines=("mongodb",),
    severity=Severity.LOW,
    status="preview",
    fix="always",
    summary="A collection has no validator, so nothing checks the shape of its documents.",
)

# The type names `$jsonSchema` accepts in bsonType (MongoDB docs, "$jsonSchema": "Available Keywords"
# and "BSON Types" aliases). A sampled type outside this set is left out of the generated schema.
BSON_TYPE_ALIASES: frozenset[str] = frozenset(
    {"double", "string", "object", "array", "binData", "undefined", "objectId", "bool", "date", "null", "regex"}
    | {"dbPointer", "javascript", "symbol", "javascriptWithScope", "int", "timestamp", "long", "decimal"}
    | {"minKey", "maxKey"}
)
# A DBRef is stored as an embedded document ({$ref, $id}).
TYPE_RENAMES: dict[str, str] = {"dbRef": "object"}
# Which numeric BSON type a client writes depends on the client and the value, not on the schema: mongosh
# stores 5 as an int and 5.5 as a double, drivers store big integers as long. A validator that names one of
# them rejects ordinary numbers, so sampled int/long/double values become the "number" alias (which also
# accepts decimal). A field only ever sampled as decimal keeps "decimal": that is a deliberate choice.
NUMERIC_TYPES: frozenset[str] = frozenset({"int", "long", "double", "decimal"})
LOOSE_NUMERIC_TYPES: frozenset[str] = frozenset({"int", "long", "double"})


@dataclass
class _Node:
    """One field path in the sample: its column (when sampled) and its children."""

    column: Column | None = None
    children: dict[str, _Node] = field(default_factory=dict)
    items: _Node | None = None


def _tree(columns: list[Column]) -> _Node:
    root = _Node()
    for column in columns:
        if column.sample is None or column.name.startswith("$"):
            continue
        node = root
        for segment in column.name.split("."):
            name = segment
            depth = 0
            while name.endswith("[]"):
                name, depth = name[:-2], depth + 1
            node = node.children.setdefault(name, _Node())
            for _ in range(depth):
                if node.items is None:
                    node.items = _Node()
                node = node.items
        node.column = column
    return root


def _types(column: Column | None) -> list[str]:
    if column is None or column.sample is None:
        return []
    counts: dict[str, int] = {}
    for name, documents in column.sample.type_counts.items():
        alias = TYPE_RENAMES.get(name, name)
        if alias in BSON_TYPE_ALIASES and documents > 0:
            counts[alias] = counts.get(alias, 0) + documents
    if counts.keys() & LOOSE_NUMERIC_TYPES:
        counts["number"] = sum(counts.pop(t) for t in NUMERIC_TYPES & counts.keys())
    return [t for t, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]


def _documents(column: Column | None) -> int:
    return sum(column.sample.type_counts.values()) if column is not None and column.sample is not None else 0


def _order(names: list[str]) -> list[str]:
    return sorted(names, key=lambda n: (n != "_id", n))


def _schema(node: _Node, *, in_array: bool) -> dict[str, Any]:
    """The `$jsonSchema` of one field: bsonType(s), then properties/required for objects, items for arrays."""
    out: dict[str, Any] = {}
    types = _types(node.column)
    if types:
        out["bsonType"] = types[0] if len(types) == 1 else types
    if node.children and (not types or "object" in types):
        objects = node.column.sample.type_counts.get("object", 0) if node.column and node.column.sample else 0
        required = [
            name
            for name in _order(list(node.children))
            if not in_array and objects > 0 and _documents(node.children[name].column) == objects
        ]
        if required:
            out["required"] = required
        out["properties"] = {
            name: _schema(node.children[name], in_array=in_array) for name in _order(list(node.children))
        }
    if node.items is not None and (not types or "array" in types):
        out["items"] = _schema(node.items, in_array=True)
    return out


def json_schema(table: Table) -> dict[str, Any]:
    """A `$jsonSchema` inferred from the sampled fields: required = present in every sampled document."""
    root = _tree(table.columns)
    names = _order(list(root.children))
    required = [
        name
        for name in names
        if (column := root.children[name].column) is not None
        and column.sample is not None
        and column.sample.presence_pct >= 100
    ]
    schema: dict[str, Any] = {"bsonType": "object"}
    if required:
        schema["required"] = required
    schema["properties"] = {name: _schema(root.children[name], in_array=False) for name in names}
    return schema


def is_time_series(table: Table) -> bool:
    """A MongoDB time-series collection (listCollections type "timeseries" or a timeseries option)."""
    return bool(table.stats.get("time_series")) or "timeseries" in table.options


def validator_command(ctx: SchemaContext, table: Table) -> str:
    """`db.runCommand({collMod: ..., validator: {$jsonSchema: ...}, validationLevel: "moderate", ...})`."""
    schema = json.dumps(json_schema(table), separators=(", ", ": "), ensure_ascii=False)
    return (
        f"{mongo_db(ctx, table)}.runCommand({{collMod: {json.dumps(table.name, ensure_ascii=False)}, "
        f'validator: {{$jsonSchema: {schema}}}, validationLevel: "moderate", validationAction: "warn"}})'
    )


def check(ctx: SchemaContext) -> Iterator[Finding]:
    """A collection without a validator stores whatever the last deployment happened to write.

    ## Why is this bad?
    MongoDB checks nothing by default: a typo in a field name, a number sent as a string or a
    missing required field goes in silently and surfaces months later in a report or a crash.
    A `$jsonSchema` validator states the shape once, on the server, for every client. Started
    with `validationAction: "warn"` it only logs offending writes, so it can be introduced on a
    live system and tightened later.

    ## Example
    ```javascript
    db.createCollection("orders")
    ```

    ## Use instead
    ```javascript
    db.runCommand({collMod: "orders", validator: {$jsonSchema: {bsonType: "object",
      required: ["_id", "customer_id", "total"],
      properties: {customer_id: {bsonType: "objectId"}, total: {bsonType: "decimal"}}}},
      validationLevel: "moderate", validationAction: "warn"})
    ```
    The generated schema comes from the sample: fields present in every sampled document are
    required, each field allows the types seen for it. Integers and doubles are written as
    `bsonType: "number"`, since clients pick the numeric type per value (mongosh stores `5` as
    an int, `5.5` as a double). Time-series collections are skipped: they take no custom validator.

    ## Fix safety
    Safe: with level "moderate" and action "warn" the server logs documents that do not match
    and rejects nothing. Review the schema, then switch the action to "error".
    """
    for table in ctx.tables():
        if table.kind != "collection" or table.validator or is_time_series(table):
            continue  # time-series collections do not support custom validators
        fields = [c for c in table.columns if c.sample is not None and not c.name.startswith("$")]
        if not fields:
            continue  # nothing sampled, so there is no shape to propose
        schema = json_schema(table)
        yield Finding(
            rule_id=SPEC.id,
            name=SPEC.name,
            severity=SPEC.severity,
            title=f"{table.name} has no validator, so documents of any shape are accepted",
            subject=collection_subject(ctx, table),
            subject_kind="collection",
            table=table.name,
            evidence={
                "sampled_documents": sampled_documents(table),
                "documents": table.row_estimate,
                "field_paths": len(fields),
                "top_level_fields": len(schema["properties"]),
                "required_fields": len(schema.get("required", [])),
            },
            rationale=(
                "Without a validator MongoDB accepts any document, so misspelt fields and wrongly typed values "
                "go in unnoticed. A $jsonSchema validator states the expected shape once, on the server, for "
                "every client."
            ),
            help="Add the $jsonSchema validator inferred from the sample, in warn mode first.",
            fix=Fix(
                title=f"Add a $jsonSchema validator to {table.name} (warn mode)",
                statements=[validator_command(ctx, table)],
                safety="safe",
                note="Inferred from a sample: review required fields and types, then set validationAction to error.",
            ),
            line=table.source_line,
        )
