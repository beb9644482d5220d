"""SCH039 entity-attribute-value-table: a table shaped as (entity, attribute name, value) rows."""

from __future__ import annotations

from collections.abc import Iterator

from dbspecialist.knowledge.findings import Finding, RuleSpec, Severity
from dbspecialist.knowledge.schema.context import SchemaContext
from dbspecialist.knowledge.sql_text import qualified

SPEC = RuleSpec(
    id="SCH039",
    name="entity-attribute-value-table",
    capability="schema",
    engines=("any",),
    severity=Severity.MEDIUM,
    fix="never",
    summary="A table stores attributes as rows (entity id, attribute name, value): the EAV anti-pattern.",
)

ATTRIBUTE_NAMES: frozenset[str] = frozenset(
    {
        "attribute",
        "attribute_name",
        "attr",
        "attr_name",
        "key",
        "meta_key",
        "property",
        "property_name",
        "field",
        "field_name",
        "name",
        "attribute_id",
        "attr_id",
        "property_id",
        "field_id",
        "param",
        "parameter",
    }
)
VALUE_NAMES: frozenset[str] = frozenset(
    {
        "value",
        "val",
        "meta_value",
        "attribute_value",
        "attr_value",
        "property_value",
        "field_value",
        "value_text",
        "value_string",
        "value_int",
        "value_number",
        "value_date",
        "value_bool",
        "string_value",
        "text_value",
        "int_value",
        "number_value",
        "numeric_value",
        "date_value",
        "bool_value",
        "boolean_value",
    }
)
# Columns that do not count against "few other columns".
BOOKKEEPING: frozenset[str] = frozenset(
    {
        "id",
        "created_at",
        "updated_at",
        "created_on",
        "updated_on",
        "created_by",
        "updated_by",
        "deleted_at",
        "locale",
        "lang",
        "language",
        "position",
        "sort_order",
        "version",
    }
)
# An EAV table has almost nothing besides entity, attribute and value columns (our own judgement).
MAX_OTHER_COLUMNS = 2


def check(ctx: SchemaContext) -> Iterator[Finding]:
    """Entity-attribute-value tables trade the schema away for rows of (id, name, value).

    ## Why is this bad?
    Every attribute is a string in one `value` column, so the database can no longer enforce
    types, NOT NULL, uniqueness or foreign keys per attribute; reading one entity back needs one
    join or pivot per attribute, and the planner's statistics cannot tell attributes apart. It is
    a well-known anti-pattern (Karwin, "SQL Antipatterns", chapter "Entity-Attribute-Value").

    ## Example
    ```sql
    CREATE TABLE product_attributes (product_id bigint REFERENCES products, attribute text, value text);
    ```

    ## Use instead
    ```sql
    -- Known attributes become real columns; truly open-ended ones go into one validated document.
    ALTER TABLE products ADD COLUMN colour text, ADD COLUMN weight_grams integer,
                         ADD COLUMN extra jsonb NOT NULL DEFAULT '{}';
    ```

    ## Fix safety
    No automatic fix: which attributes deserve columns is a design decision.
    """
    for table in ctx.tables():
        if table.kind == "collection":
            continue
        names = [c.name.lower() for c in table.columns]
        attribute = [n for n in names if n in ATTRIBUTE_NAMES]
        value = [n for n in names if n in VALUE_NAMES or n.startswith("value_")]
        entity = [n for n in names if n.endswith("_id") and n not in attribute]
        if not attribute or not value or not entity:
            continue
        used = set(attribute) | set(value) | set(entity) | BOOKKEEPING
        others = [n for n in names if n not in used]
        if len(others) > MAX_OTHER_COLUMNS:
            continue
        name = qualified(table.schema_name, table.name, ctx.engine)
        yield Finding(
            rule_id=SPEC.id,
            name=SPEC.name,
            severity=SPEC.severity,
            title=f"{table.name} stores attributes as rows, so types and constraints cannot be enforced",
            subject=name,
            subject_kind="table",
            table=table.name,
            evidence={
                "entity_column": entity[0],
                "attribute_column": attribute[0],
                "value_columns": len(value),
                "other_columns": len(others),
                "rows": table.row_estimate,
            },
            rationale=(
                "An entity-attribute-value table keeps every attribute in one generic value column, so the "
                "database cannot check types, required attributes or references, and reading an entity needs a "
                "pivot. Known attributes belong in columns; open-ended ones in a validated JSON document."
            ),
            help=f"Move the common attributes of {table.name} into real columns (and the rest into jsonb/JSON).",
            fix=None,
            line=table.source_line,
        )
