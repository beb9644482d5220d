"""SCH033 money-column-type: a PostgreSQL column of type `money`."""

from __future__ import annotations

from collections.abc import Iterator

from dbspecialist.knowledge.findings import Finding, Fix, RuleSpec, Severity
from dbspecialist.knowledge.schema.context import SchemaContext
from dbspecialist.knowledge.sql_text import qualified, quote_ident

SPEC = RuleSpec(
    id="SCH033",
    name="money-column-type",
    capability="schema",
    engines=("postgresql",),
    severity=Severity.MEDIUM,
    fix="always",
    summary="A column uses PostgreSQL's locale-dependent `money` type.",
)


def check(ctx: SchemaContext) -> Iterator[Finding]:
    """`money` formats and parses by the server's `lc_monetary` setting and has a fixed scale.

    ## Why is this bad?
    Its input and output depend on `lc_monetary`, so a dump restored on a server with another
    locale can misread amounts; it holds no currency, has a fixed number of decimals, and rounds
    on division (PostgreSQL wiki "Don't Do This": don't use money). `numeric` with an explicit
    scale, plus a currency column when there can be more than one, is exact and portable.

    ## Example
    ```sql
    CREATE TABLE invoices (id bigint PRIMARY KEY, total money NOT NULL);
    ```

    ## Use instead
    ```sql
    CREATE TABLE invoices (id bigint PRIMARY KEY, total numeric(12,2) NOT NULL, currency char(3) NOT NULL);
    ```

    ## Fix safety
    Unsafe: the conversion rewrites the table under an ACCESS EXCLUSIVE lock; pick a precision
    that fits the largest amount.
    """
    for table in ctx.tables():
        name = qualified(table.schema_name, table.name, ctx.engine)
        for column in table.columns:
            data_type = column.data_type.lower().strip()
            if data_type not in ("money", "pg_catalog.money", "money[]"):
                continue
            col = quote_ident(column.name, ctx.engine)
            array = data_type.endswith("[]")
            new_type = "numeric(12,2)[]" if array else "numeric(12,2)"
            yield Finding(
                rule_id=SPEC.id,
                name=SPEC.name,
                severity=SPEC.severity,
                title=f"{table.name}.{column.name} uses money, whose text form depends on the server locale",
                subject=f"{name}.{col}",
                subject_kind="column",
                table=table.name,
                evidence={"data_type": column.data_type, "rows": table.row_estimate},
                rationale=(
                    "money reads and prints amounts according to lc_monetary, so moving data between servers or "
                    "clients with different locales can change what a value means. It also has no currency and a "
                    "fixed scale; numeric is exact and says what it holds."
                ),
                help=f"Change {column.name} to numeric with an explicit scale (and store the currency separately).",
                fix=Fix(
                    title=f"Convert {column.name} to numeric(12,2)",
                    statements=[
                        f"ALTER TABLE {name} ALTER COLUMN {col} TYPE {new_type} "
                        f"USING {col}::{new_type.replace('(12,2)', '')};"
                    ],
                    safety="unsafe",
                    note="Rewrites the table under an exclusive lock; widen the precision if amounts can exceed it.",
                ),
                line=column.source_line,
            )
