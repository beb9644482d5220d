"""SCH041 denormalized-referenced-attribute: a column copies an attribute of the row a foreign key points to."""

from __future__ import annotations

from collections.abc import Iterator

from dbspecialist.knowledge.findings import Finding, RuleSpec, Severity
from dbspecialist.knowledge.schema.context import SchemaContext
from dbspecialist.knowledge.sql_text import qualified, quote_ident

SPEC = RuleSpec(
    id="SCH041",
    name="denormalized-referenced-attribute",
    capability="schema",
    engines=("any",),
    severity=Severity.INFO,
    fix="never",
    summary="A column like orders.customer_email repeats customers.email beside the customer_id foreign key.",
)


def check(ctx: SchemaContext) -> Iterator[Finding]:
    """A copy of another table's attribute can silently disagree with the original.

    ## Why is this bad?
    `orders.customer_email` next to `orders.customer_id REFERENCES customers` depends on the
    customer, not on the order (a third-normal-form transitive dependency). When the customer
    changes their e-mail the copies keep the old value, and nothing tells which one is right.
    Sometimes that is exactly what is wanted: an invoice must keep the address it was sent to.
    This rule asks the question; it does not call the design wrong.

    ## Example
    ```sql
    CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint NOT NULL REFERENCES customers (id),
                         customer_email text NOT NULL);
    ```

    ## Use instead
    ```sql
    -- Either read it through the key ...
    SELECT o.id, c.email FROM orders o JOIN customers c ON c.id = o.customer_id;
    -- ... or keep the copy deliberately and name it as a snapshot: email_at_order_time.
    ```

    ## Fix safety
    No automatic fix: only the domain says whether the copy is a snapshot or an accident.
    """
    tables = {(t.schema_name, t.name): t for t in ctx.tables() if t.kind != "collection"}
    for table in tables.values():
        name = qualified(table.schema_name, table.name, ctx.engine)
        for fk in table.foreign_keys:
            if len(fk.columns) != 1 or not fk.columns[0].lower().endswith("_id"):
                continue
            ref = tables.get((fk.ref_schema or table.schema_name, fk.ref_table)) or ctx.table(fk.ref_table)
            if ref is None or ref is table:
                continue
            prefix = fk.columns[0][: -len("_id")].lower() + "_"
            ref_key = set(ref.primary_key.columns) if ref.primary_key else set()
            ref_columns = {c.name.lower(): c for c in ref.columns if c.name not in ref_key}
            for column in table.columns:
                lowered = column.name.lower()
                if not lowered.startswith(prefix) or lowered.endswith("_id"):
                    continue
                attribute = lowered[len(prefix) :]
                original = ref_columns.get(attribute) or ref_columns.get(lowered)
                if original is None:
                    continue
                yield Finding(
                    rule_id=SPEC.id,
                    name=SPEC.name,
                    severity=SPEC.severity,
                    title=(
                        f"{table.name}.{column.name} repeats {ref.name}.{original.name}, reachable through "
                        f"{fk.columns[0]}: snapshot or accident?"
                    ),
                    subject=f"{name}.{quote_ident(column.name, ctx.engine)}",
                    subject_kind="column",
                    table=table.name,
                    evidence={
                        "foreign_key_column": fk.columns[0],
                        "referenced_table": ref.name,
                        "referenced_column": original.name,
                        "rows": table.row_estimate,
                    },
                    rationale=(
                        f"{column.name} depends on the referenced {ref.name} row rather than on this row, so the two "
                        "copies can drift apart when the original changes. Keep it only as a deliberate snapshot "
                        "(and name it so); otherwise read it through the foreign key."
                    ),
                    help=(
                        f"Decide whether {column.name} is a deliberate snapshot; if not, drop it and join "
                        f"{ref.name} on {fk.columns[0]}."
                    ),
                    fix=None,
                    line=column.source_line,
                )
