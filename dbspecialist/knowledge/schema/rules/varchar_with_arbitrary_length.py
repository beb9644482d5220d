"""SCH032 varchar-with-arbitrary-length: a PostgreSQL `varchar(n)` column whose limit is likely arbitrary."""

from __future__ import annotations

import re
from collections.abc import Iterator

from dbspecialist.knowledge.findings import Finding, Fix, RuleSpec, Severity
from dbspecialist.knowledge.schema.context import SchemaContext
from dbspecialist.knowledge.sql_text import qualified, quote_ident

SPEC = RuleSpec(
    id="SCH032",
    name="varchar-with-arbitrary-length",
    capability="schema",
    engines=("postgresql",),
    severity=Severity.INFO,
    fix="always",
    summary="A column is `varchar(n)` where `text` (plus a CHECK when the limit is a rule) would do.",
)

# Lengths that are habits carried over from other engines or ORMs rather than business rules
# (255/256 from MySQL's old index-prefix limit and Rails' `string` default; powers of two; round numbers).
CONVENTIONAL_LENGTHS: frozenset[int] = frozenset(
    {50, 100, 128, 200, 250, 255, 256, 500, 512, 1000, 1024, 2000, 2048, 4000, 4096, 8000}
)

_VARCHAR = re.compile(r"^(pg_catalog\.)?(varchar|character varying)\s*\((\d+)\)(\[\])?$")


def check(ctx: SchemaContext) -> Iterator[Finding]:
    """`varchar(n)` on PostgreSQL is `text` with a length check that is hard to change.

    ## Why is this bad?
    PostgreSQL stores `varchar(n)` and `text` identically, so the limit only rejects input.
    A limit like 255 is usually a habit from other engines, not a rule of the domain, and when
    it turns out too small, raising it is easy but lowering it or changing it on a view-referenced
    column is not. `text` with a named `CHECK (length(col) <= n)` states the rule explicitly and can
    be replaced with `NOT VALID` + `VALIDATE` without blocking writes (PostgreSQL wiki "Don't Do This":
    don't use varchar(n) by default).

    ## Example
    ```sql
    CREATE TABLE users (id bigint PRIMARY KEY, email varchar(255) NOT NULL);
    ```

    ## Use instead
    ```sql
    CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL CHECK (length(email) <= 320));
    ```

    ## Fix safety
    Safe: `varchar(n)` to `text` is binary-coercible, so PostgreSQL changes only the catalog (no
    rewrite), though it takes a brief ACCESS EXCLUSIVE lock. The CHECK is added NOT VALID and
    validated separately, which does not block writes.
    """
    for table in ctx.tables():
        name = qualified(table.schema_name, table.name, ctx.engine)
        for column in table.columns:
            match = _VARCHAR.match(column.data_type.lower().strip())
            if match is None or column.generated:
                continue
            length = int(match.group(3))
            array = bool(match.group(4))
            conventional = length in CONVENTIONAL_LENGTHS
            col = quote_ident(column.name, ctx.engine)
            constraint = quote_ident(f"{table.name}_{column.name}_length"[:63], ctx.engine)
            statements = [f"ALTER TABLE {name} ALTER COLUMN {col} TYPE {'text[]' if array else 'text'};"]
            if not array:
                statements = [
                    f"ALTER TABLE {name} ADD CONSTRAINT {constraint} CHECK (length({col}) <= {length}) NOT VALID;",
                    f"ALTER TABLE {name} VALIDATE CONSTRAINT {constraint};",
                    *statements,
                ]
            yield Finding(
                rule_id=SPEC.id,
                name=SPEC.name,
                severity=SPEC.severity,
                title=f"{table.name}.{column.name} has a varchar({length}) limit that is likely arbitrary",
                subject=f"{name}.{col}",
                subject_kind="column",
                table=table.name,
                evidence={"data_type": column.data_type, "length": length, "conventional_length": conventional},
                rationale=(
                    "On PostgreSQL varchar(n) is stored exactly like text; the length only rejects input. "
                    "If the limit is a real rule, a named CHECK on text says so and is easy to change; if it is "
                    "not, it is a future failure waiting for a longer value."
                ),
                help=f"Use text for {column.name}; keep a CHECK (length(...) <= {length}) only if the limit is a rule.",
                fix=Fix(
                    title=f"Convert {column.name} to text with an explicit length check",
                    statements=statements,
                    safety="safe",
                    note="Drop the two CHECK statements if the length limit is not a business rule.",
                ),
                line=column.source_line,
            )
