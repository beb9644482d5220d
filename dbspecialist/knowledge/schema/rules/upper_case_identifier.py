"""SCH045 upper-case-identifier: a PostgreSQL table or column name containing capital letters."""

from __future__ import annotations

import re
from collections.abc import Iterator

from dbspecialist.knowledge.findings import Finding, Fix, RuleSpec, Severity
from dbspecialist.knowledge.schema.context import SchemaContext
from dbspecialist.knowledge.schema.rename import rename_column, rename_table
from dbspecialist.knowledge.sql_text import qualified

SPEC = RuleSpec(
    id="SCH045",
    name="upper-case-identifier",
    capability="schema",
    engines=("postgresql",),
    severity=Severity.LOW,
    fix="always",
    summary="A name has capital letters, so on PostgreSQL it must be double-quoted in every statement.",
)

_WORDS = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")


def snake(name: str) -> str:
    return "_".join(w.lower() for w in _WORDS.findall(name.replace("_", " "))) or name.lower()


def check(ctx: SchemaContext) -> Iterator[Finding]:
    """PostgreSQL folds unquoted names to lower case, so `"CreatedAt"` needs quotes forever.

    ## Why is this bad?
    A table created as `"Orders"` is not found by `SELECT * FROM Orders` (that means `orders`);
    every query, psql session and tool has to quote it exactly. ORMs that generate quoted
    PascalCase names make the database awkward for everyone else (PostgreSQL wiki "Don't Do
    This": don't use upper case table or column names).

    ## Example
    ```sql
    CREATE TABLE "Orders" ("Id" bigint PRIMARY KEY, "createdAt" timestamptz);
    ```

    ## Use instead
    ```sql
    CREATE TABLE orders (id bigint PRIMARY KEY, created_at timestamptz);
    ```

    ## Fix safety
    Display-only: renaming breaks every query and ORM mapping that uses the quoted name.
    """
    for table in ctx.tables():
        upper_table = table.name != table.name.lower()
        upper_columns = [c.name for c in table.columns if c.name != c.name.lower()]
        if not upper_table and not upper_columns:
            continue
        name = qualified(table.schema_name, table.name, ctx.engine)
        statements = [rename_column(ctx.engine, table.schema_name, table.name, c, snake(c)) for c in upper_columns]
        if upper_table:
            statements.append(rename_table(ctx.engine, table.schema_name, table.name, snake(table.name)))
        yield Finding(
            rule_id=SPEC.id,
            name=SPEC.name,
            severity=SPEC.severity,
            title=f"{table.name} has mixed-case names that must be double-quoted in every query",
            subject=name,
            subject_kind="table",
            table=table.name,
            evidence={
                "table_name_upper": upper_table,
                "upper_case_columns": len(upper_columns),
                "example": upper_columns[0] if upper_columns else table.name,
            },
            rationale=(
                "PostgreSQL lower-cases unquoted names, so a name with capitals works only when quoted exactly. "
                "Lower-case snake_case names work quoted or not, in every tool."
            ),
            help="Rename to lower-case snake_case names.",
            fix=Fix(
                title="Rename to snake_case",
                statements=statements,
                safety="display-only",
                note="Update every query, view, function and ORM mapping that uses the quoted names.",
            ),
            line=table.source_line,
        )
