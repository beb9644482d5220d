"""SCH055 deprecated-lob-type: a SQL Server column of the deprecated text, ntext or image type."""

from __future__ import annotations

from collections.abc import Iterator

from dbspecialist.knowledge.findings import Finding, Fix, RuleSpec, Severity
from dbspecialist.knowledge.schema.context import SchemaContext
from dbspecialist.knowledge.sql_text import qualified, quote_ident

SPEC = RuleSpec(
    id="SCH055",
    name="deprecated-lob-type",
    capability="schema",
    engines=("tsql",),
    severity=Severity.MEDIUM,
    fix="always",
    summary="A SQL Server column uses text, ntext or image, deprecated in favour of the (max) types.",
)

# Microsoft docs, "ntext, text, and image (Transact-SQL)": removed in a future version; use these instead.
REPLACEMENT: dict[str, str] = {"text": "VARCHAR(MAX)", "ntext": "NVARCHAR(MAX)", "image": "VARBINARY(MAX)"}


def check(ctx: SchemaContext) -> Iterator[Finding]:
    """text, ntext and image are the pre-2005 large-object types, kept only for compatibility.

    ## Why is this bad?
    Microsoft has marked them for removal since SQL Server 2005 ("ntext, text, and image data types will be
    removed in a future version"). Most string functions, comparisons, `=` and ORDER BY do not accept them,
    they cannot be variables or parameters in new code, and the values always live off-row, so even short
    values cost an extra page read. varchar(max), nvarchar(max) and varbinary(max) do everything they do.

    ## Example
    ```sql
    CREATE TABLE dbo.Posts (Id int IDENTITY PRIMARY KEY, Body ntext NOT NULL);
    ```

    ## Use instead
    ```sql
    CREATE TABLE dbo.Posts (Id int IDENTITY PRIMARY KEY, Body nvarchar(max) NOT NULL);
    ```

    ## Fix safety
    Safe for the data: the conversion is supported in place and loses nothing. Existing values stay off-row
    until they are next written (`UPDATE ... SET Body = Body` moves short ones in-row), and the ALTER takes a
    schema-modification lock on the table while it runs.
    """
    for table in ctx.tables():
        for column in table.columns:
            new = REPLACEMENT.get(column.data_type.strip().lower())
            if new is None:
                continue
            name = qualified(table.schema_name, table.name, ctx.engine)
            null = "NULL" if column.nullable else "NOT NULL"
            yield Finding(
                rule_id=SPEC.id,
                name=SPEC.name,
                severity=SPEC.severity,
                title=f"{table.name}.{column.name} is {column.data_type}, a type SQL Server deprecated; use {new}",
                subject=f"{name}.{column.name}",
                subject_kind="column",
                table=table.name,
                evidence={"data_type": column.data_type, "replacement": new, "rows": table.row_estimate},
                rationale=(
                    "text, ntext and image are kept only for compatibility and are slated for removal; most "
                    "functions and comparisons reject them, and their values always sit off-row."
                ),
                help=f"Change {column.name} to {new}.",
                fix=Fix(
                    title=f"Change {table.name}.{column.name} to {new}",
                    statements=[
                        f"ALTER TABLE {name} ALTER COLUMN {quote_ident(column.name, ctx.engine)} {new} {null};"
                    ],
                    safety="safe",
                    note="Existing values move in-row when next written; UPDATE the column to itself to do it now.",
                ),
                line=column.source_line if column.source_line is not None else table.source_line,
            )
