"""SCH014 nullable-mandatory-foreign-key: a nullable foreign key column that by its name must always be set."""

from __future__ import annotations

from collections.abc import Iterator

from dbspecialist.knowledge.findings import Finding, Fix, RuleSpec, Severity
from dbspecialist.knowledge.schema.context import SchemaContext
from dbspecialist.knowledge.sql_text import qualified, quote_ident

SPEC = RuleSpec(
    id="SCH014",
    name="nullable-mandatory-foreign-key",
    capability="schema",
    engines=("postgresql", "mysql", "sqlite"),
    severity=Severity.LOW,
    fix="sometimes",
    summary="A foreign key column named after the table it references (orders.customer_id) allows NULL.",
)


def singular(word: str) -> str:
    """A plain English singular, good enough for table names (categories → category, addresses → address)."""
    lower = word.lower()
    if lower.endswith("ies") and len(lower) > 3:
        return lower[:-3] + "y"
    if lower.endswith(("sses", "xes", "ches", "shes")):
        return lower[:-2]
    if lower.endswith("s") and not lower.endswith("ss"):
        return lower[:-1]
    return lower


def check(ctx: SchemaContext) -> Iterator[Finding]:
    """`order_items.order_id` allowing NULL lets orphan rows in that no foreign key can catch.

    ## Why is this bad?
    A foreign key only checks values that are present: NULL passes every time. When a column is
    named after the table it references (`customer_id` → `customers`), the relationship is
    almost always mandatory, so a NULL there is a bug the schema could have refused. Columns
    declared `ON DELETE SET NULL` and self-references (trees) are optional by design and are
    not reported; neither are role names such as `approved_by_user_id`.

    ## Example
    ```sql
    CREATE TABLE order_items (id bigint PRIMARY KEY, order_id bigint REFERENCES orders (id));
    ```

    ## Use instead
    ```sql
    ALTER TABLE order_items ADD CONSTRAINT order_items_order_id_not_null CHECK (order_id IS NOT NULL) NOT VALID;
    ALTER TABLE order_items VALIDATE CONSTRAINT order_items_order_id_not_null;
    ALTER TABLE order_items ALTER COLUMN order_id SET NOT NULL;
    ALTER TABLE order_items DROP CONSTRAINT order_items_order_id_not_null;
    ```

    ## Fix safety
    Unsafe: it fails while NULLs exist, so find and fix them first. On PostgreSQL 12+ the validated
    CHECK lets SET NOT NULL skip its full-table scan, so the exclusive lock is brief. MySQL
    rewrites the table; SQLite needs a table rebuild.
    """
    for table in ctx.tables():
        if table.kind == "collection" or table.partition_of:
            continue
        for fk in table.foreign_keys:
            if len(fk.columns) != 1 or fk.on_delete in ("set null", "set default") or fk.ref_table == table.name:
                continue
            column = ctx.column(table, fk.columns[0])
            if column is None or not column.nullable or not column.name.lower().endswith("_id"):
                continue
            stem = column.name.lower().removesuffix("_id")
            if stem not in (fk.ref_table.lower(), singular(fk.ref_table)):
                continue
            name = qualified(table.schema_name, table.name, ctx.engine)
            col = quote_ident(column.name, ctx.engine)
            if ctx.engine == "postgresql":
                check_name = quote_ident(f"{table.name}_{column.name}_not_null"[:63], ctx.engine)
                statements = [
                    f"ALTER TABLE {name} ADD CONSTRAINT {check_name} CHECK ({col} IS NOT NULL) NOT VALID;",
                    f"ALTER TABLE {name} VALIDATE CONSTRAINT {check_name};",
                    f"ALTER TABLE {name} ALTER COLUMN {col} SET NOT NULL;",
                    f"ALTER TABLE {name} DROP CONSTRAINT {check_name};",
                ]
                note = "Fails while NULLs exist. VALIDATE takes only a SHARE UPDATE EXCLUSIVE lock."
            elif ctx.engine == "mysql":
                statements = [f"ALTER TABLE {name} MODIFY COLUMN {col} {column.data_type.upper()} NOT NULL;"]
                note = "Fails while NULLs exist (strict mode) and rebuilds the table."
            else:
                statements = []
                note = "SQLite cannot add NOT NULL to a column: rebuild the table (create, copy, rename)."
            yield Finding(
                rule_id=SPEC.id,
                name=SPEC.name,
                severity=SPEC.severity,
                title=f"{table.name}.{column.name} may be NULL: rows with no {singular(fk.ref_table)} pass the FK",
                subject=f"{name}.{col}",
                subject_kind="column",
                table=table.name,
                evidence={
                    "referenced_table": fk.ref_table,
                    "on_delete": fk.on_delete,
                    "nullable": True,
                    "rows": table.row_estimate,
                },
                rationale=(
                    f"The column is named after {fk.ref_table}, which suggests every row belongs to one, yet NULL "
                    "passes the foreign key unchecked. Declaring it NOT NULL turns orphan rows into write errors."
                ),
                help=f"Declare {table.name}.{column.name} NOT NULL (after fixing any NULL rows).",
                fix=Fix(
                    title=f"Make {table.name}.{column.name} NOT NULL",
                    statements=statements,
                    safety="unsafe" if statements else "display-only",
                    note=note,
                ),
                line=column.source_line,
            )
