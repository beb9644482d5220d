"""SCH038 status-column-without-check: a status-like text column that accepts any string."""

from __future__ import annotations

import re
from collections.abc import Iterator

from dbspecialist.adapters.catalog import Column, Table
from dbspecialist.knowledge.findings import Finding, Fix, RuleSpec, Severity
from dbspecialist.knowledge.schema.context import SchemaContext
from dbspecialist.knowledge.sql_text import qualified, quote_ident

SPEC = RuleSpec(
    id="SCH038",
    name="status-column-without-check",
    capability="schema",
    engines=("postgresql", "mysql", "sqlite", "tsql"),
    severity=Severity.LOW,
    fix="sometimes",
    summary="A status/state/type/kind/role text column has no CHECK, enum or lookup-table constraint.",
)

_STATUS_NAME = re.compile(r"^(status|state|type|kind|role|.+_status|.+_state)$", re.IGNORECASE)
_TEXT_TYPE = re.compile(
    r"^(text|varchar|character varying|char|character|bpchar|nvarchar|nchar|string|tinytext|mediumtext|"
    r"longtext|clob|varchar2)\b",
    re.IGNORECASE,
)


def _constrained(table: Table, column: Column) -> bool:
    mention = re.compile(rf"(?<![\w$]){re.escape(column.name)}(?![\w$])", re.IGNORECASE)
    if any(mention.search(c.expression) for c in table.check_constraints):
        return True
    return any(column.name in fk.columns for fk in table.foreign_keys)


def check(ctx: SchemaContext) -> Iterator[Finding]:
    """A free-text status column will collect spelling variants nobody meant to allow.

    ## Why is this bad?
    Code paths compare `status = 'shipped'`, but nothing stops `'Shipped'`, `'shiped'` or an empty
    string from being written, and once they exist every report and state machine has to handle
    them. A CHECK constraint (or an enum type or a lookup table with a foreign key) lists the
    allowed values in one place and rejects the rest (schemalint's prefer-text-with-check-to-enum
    recommends the CHECK form on PostgreSQL because it is easier to change than an enum).

    ## Example
    ```sql
    CREATE TABLE orders (id bigint PRIMARY KEY, status text NOT NULL);
    ```

    ## Use instead
    ```sql
    CREATE TABLE orders (id bigint PRIMARY KEY,
                         status text NOT NULL CHECK (status IN ('pending', 'paid', 'shipped', 'cancelled')));
    ```

    ## Fix safety
    Display-only: the allowed values are not known from the schema. The fix first lists the
    values in use; replace the placeholders with them before adding the constraint.
    """
    for table in ctx.tables():
        if table.kind == "collection":
            continue
        name = qualified(table.schema_name, table.name, ctx.engine)
        for column in table.columns:
            if not _STATUS_NAME.match(column.name) or not _TEXT_TYPE.match(column.data_type.strip()):
                continue
            if column.generated or _constrained(table, column):
                continue
            col = quote_ident(column.name, ctx.engine)
            constraint = quote_ident(f"{table.name}_{column.name}_check"[:63], ctx.engine)
            survey = f"SELECT {col}, count(*) FROM {name} GROUP BY {col} ORDER BY 2 DESC;"
            values = "'<value 1>', '<value 2>'"
            if ctx.engine == "postgresql":
                statements = [
                    survey,
                    f"ALTER TABLE {name} ADD CONSTRAINT {constraint} CHECK ({col} IN ({values})) NOT VALID;",
                    f"ALTER TABLE {name} VALIDATE CONSTRAINT {constraint};",
                ]
            elif ctx.engine in ("mysql", "tsql"):
                statements = [survey, f"ALTER TABLE {name} ADD CONSTRAINT {constraint} CHECK ({col} IN ({values}));"]
            else:
                statements = [survey]
            yield Finding(
                rule_id=SPEC.id,
                name=SPEC.name,
                severity=SPEC.severity,
                title=f"{table.name}.{column.name} accepts any text, so misspelled states can be stored",
                subject=f"{name}.{col}",
                subject_kind="column",
                table=table.name,
                evidence={"data_type": column.data_type, "check_constraints": len(table.check_constraints)},
                rationale=(
                    "A status column is a small closed set of values, but as plain text it accepts any string. "
                    "A CHECK (or enum or lookup table) keeps typos and unknown states out, and documents the set."
                ),
                help=f"List the allowed values of {column.name} in a CHECK constraint (or reference a lookup table).",
                fix=Fix(
                    title=f"Constrain {column.name} to its known values",
                    statements=statements,
                    safety="display-only",
                    note=(
                        "Replace the placeholders with the values the first query returns."
                        if ctx.engine != "sqlite"
                        else "SQLite cannot add a CHECK to an existing table; add it when the table is next rebuilt."
                    ),
                ),
                line=column.source_line,
            )
