"""SCH035 json-instead-of-jsonb: a PostgreSQL column of type `json` rather than `jsonb`."""

from __future__ import annotations

from collections.abc import Iterator

from dbspecialist.knowledge.findings import Finding, Fix, RuleSpec, Severity
from dbspecialist.knowledge.schema.context import SchemaContext
from dbspecialist.knowledge.sql_text import qualified, quote_ident

SPEC = RuleSpec(
    id="SCH035",
    name="json-instead-of-jsonb",
    capability="schema",
    engines=("postgresql",),
    severity=Severity.LOW,
    fix="always",
    summary="A column stores `json` (text re-parsed on every access) instead of `jsonb`.",
)


def check(ctx: SchemaContext) -> Iterator[Finding]:
    """`json` keeps the raw text and re-parses it on every operator call.

    ## Why is this bad?
    Every `->`, `->>` or `@>` on a `json` value parses the whole document again, `json` has no
    equality operator (so no DISTINCT, GROUP BY or unique index on it), and it cannot use GIN
    indexes. `jsonb` is parsed once on write, supports containment and GIN indexing, and is what
    nearly every application wants; `json` is only right when the exact text, key order or
    duplicate keys must be preserved (PostgreSQL docs, "JSON Types").

    ## Example
    ```sql
    CREATE TABLE webhooks (id bigint PRIMARY KEY, payload json NOT NULL);
    ```

    ## Use instead
    ```sql
    CREATE TABLE webhooks (id bigint PRIMARY KEY, payload jsonb NOT NULL);
    ```

    ## Fix safety
    Unsafe: the conversion rewrites the table under an ACCESS EXCLUSIVE lock, and it drops
    duplicate keys, key order and insignificant whitespace from the stored documents.
    """
    for table in ctx.tables():
        name = qualified(table.schema_name, table.name, ctx.engine)
        for column in table.columns:
            data_type = column.data_type.lower().strip()
            if data_type not in ("json", "pg_catalog.json", "json[]"):
                continue
            col = quote_ident(column.name, ctx.engine)
            new_type = "jsonb[]" if data_type.endswith("[]") else "jsonb"
            yield Finding(
                rule_id=SPEC.id,
                name=SPEC.name,
                severity=SPEC.severity,
                title=f"{table.name}.{column.name} is json, re-parsed on every access and not GIN-indexable",
                subject=f"{name}.{col}",
                subject_kind="column",
                table=table.name,
                evidence={"data_type": column.data_type, "rows": table.row_estimate, "table_bytes": table.table_bytes},
                rationale=(
                    "json stores the document as text, so every operator parses it again and it has no equality "
                    "or GIN support. jsonb is parsed once on write and can be indexed and compared."
                ),
                help=f"Change {column.name} to jsonb unless the exact original text must be kept.",
                fix=Fix(
                    title=f"Convert {column.name} to jsonb",
                    statements=[f"ALTER TABLE {name} ALTER COLUMN {col} TYPE {new_type} USING {col}::{new_type};"],
                    safety="unsafe",
                    note="Rewrites the table under an exclusive lock; key order and duplicate keys are not kept.",
                ),
                line=column.source_line,
            )
