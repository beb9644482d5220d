"""SCH031 char-n-column: a PostgreSQL column declared `char(n)` / `character(n)`."""

from __future__ import annotations

import re
from collections.abc import Iterator

from dbspecialist.knowledge.findings import Finding, Fix, RuleSpec, Severity
from dbspecialist.knowledge.schema.context import SchemaContext
from dbspecialist.knowledge.sql_text import qualified, quote_ident

SPEC = RuleSpec(
    id="SCH031",
    name="char-n-column",
    capability="schema",
    engines=("postgresql",),
    severity=Severity.LOW,
    fix="always",
    summary="A column uses the blank-padded `char(n)` type.",
)

# char, char(n), character(n), bpchar, bpchar(n) -- but not "char" (the internal one-byte type, quoted).
_CHAR = re.compile(r"^(pg_catalog\.)?(char|character|bpchar)(\s*\((\d+)\))?(\[\])?$")


def check(ctx: SchemaContext) -> Iterator[Finding]:
    """`char(n)` pads every value with spaces up to n characters.

    ## Why is this bad?
    The padding is stored and shown, but ignored in some comparisons and not others, which
    surprises every client (`'a'::char(3) = 'a  '` is true, `LIKE` and concatenation see the
    spaces differently). It saves nothing: PostgreSQL stores `char(n)`, `varchar(n)` and `text`
    the same way, and the fixed length does not catch wrong input (PostgreSQL wiki "Don't Do
    This": don't use char(n)).

    ## Example
    ```sql
    CREATE TABLE countries (code char(2) PRIMARY KEY, name text NOT NULL);
    ```

    ## Use instead
    ```sql
    CREATE TABLE countries (code text PRIMARY KEY CHECK (length(code) = 2), name text NOT NULL);
    ```

    ## Fix safety
    Unsafe: converting strips the trailing padding (values change) and rewrites the table under
    an ACCESS EXCLUSIVE lock.
    """
    for table in ctx.tables():
        name = qualified(table.schema_name, table.name, ctx.engine)
        for column in table.columns:
            match = _CHAR.match(column.data_type.lower().strip())
            if match is None or column.generated:
                continue
            length = int(match.group(4)) if match.group(4) else 1
            col = quote_ident(column.name, ctx.engine)
            array = bool(match.group(5))
            new_type = "text[]" if array else "text"
            constraint = quote_ident(f"{table.name}_{column.name}_length"[:63], ctx.engine)
            check_sql = (
                []
                if array
                else [
                    f"ALTER TABLE {name} ADD CONSTRAINT {constraint} CHECK (length({col}) <= {length}) NOT VALID;",
                    f"ALTER TABLE {name} VALIDATE CONSTRAINT {constraint};",
                ]
            )
            yield Finding(
                rule_id=SPEC.id,
                name=SPEC.name,
                severity=SPEC.severity,
                title=f"{table.name}.{column.name} is blank-padded char({length}), which compares inconsistently",
                subject=f"{name}.{col}",
                subject_kind="column",
                table=table.name,
                evidence={"data_type": column.data_type, "length": length},
                rationale=(
                    "char(n) pads values with spaces that some operators see and others ignore, and it is stored "
                    "exactly like text, so it buys no space or speed. A length limit that matters is better "
                    "expressed as a CHECK constraint on text."
                ),
                help=f"Change {column.name} to text (with a CHECK on length if the limit is a business rule).",
                fix=Fix(
                    title=f"Convert {column.name} to text",
                    statements=[f"ALTER TABLE {name} ALTER COLUMN {col} TYPE {new_type};", *check_sql],
                    safety="unsafe",
                    note=(
                        "Trailing spaces are removed by the conversion; the table is rewritten under an exclusive lock."
                    ),
                ),
                line=column.source_line,
            )
