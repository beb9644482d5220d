"""SCH050 uuid-stored-as-text: a MySQL/MariaDB UUID kept in CHAR(36)/VARCHAR(36) instead of 16 bytes."""

from __future__ import annotations

import re
from collections.abc import Iterator

from dbspecialist.knowledge.findings import Finding, Fix, RuleSpec, Severity
from dbspecialist.knowledge.schema.context import SchemaContext
from dbspecialist.knowledge.sql_text import qualified, quote_ident

SPEC = RuleSpec(
    id="SCH050",
    name="uuid-stored-as-text",
    capability="schema",
    engines=("mysql",),
    severity=Severity.MEDIUM,
    fix="always",
    summary="A UUID column is CHAR(36)/VARCHAR(36): 36+ bytes per value (and per index entry) instead of 16.",
)

_TEXT36 = re.compile(r"^(char|varchar|character|character varying)\s*\(\s*36\s*\)", re.IGNORECASE)
_UUID_NAME = re.compile(r"^(id|uuid|guid|.+_uuid|.+_guid|.+_id)$", re.IGNORECASE)


def check(ctx: SchemaContext) -> Iterator[Finding]:
    """A UUID as text costs 36 bytes or more, in the row and in every index that contains it.

    ## Why is this bad?
    A UUID is 16 bytes of data; its text form is 36 characters, which under utf8mb4 can reserve up
    to 144 bytes in sort buffers and makes every index on it (and, for a primary key, every
    secondary index of the table, since InnoDB stores the key in each) two to nine times larger.
    Comparisons are collation-aware string comparisons instead of byte comparisons. MySQL 8 has
    UUID_TO_BIN()/BIN_TO_UUID() for BINARY(16); MariaDB 10.7+ has a native UUID type.

    ## Example
    ```sql
    CREATE TABLE sessions (id char(36) NOT NULL PRIMARY KEY, user_id bigint NOT NULL);
    ```

    ## Use instead
    ```sql
    CREATE TABLE sessions (id binary(16) NOT NULL PRIMARY KEY, user_id bigint NOT NULL);
    -- INSERT ... VALUES (UUID_TO_BIN(UUID(), 1), ...); SELECT BIN_TO_UUID(id, 1) ...
    ```

    ## Fix safety
    Display-only: the steps add and fill a binary column; switching keys and application code
    over (and dropping the text column) is a migration. UUID_TO_BIN(x, 1) reorders the time fields
    of version-1 UUIDs so they insert in order; readers must use BIN_TO_UUID(x, 1) consistently.
    """
    version = (ctx.version or ctx.catalog.server_version or "").lower()
    mariadb = "mariadb" in version
    for table in ctx.tables():
        name = qualified(table.schema_name, table.name, ctx.engine)
        key = set(table.primary_key.columns) if table.primary_key else set()
        for column in table.columns:
            if not _TEXT36.match(column.data_type.strip()) or not _UUID_NAME.match(column.name):
                continue
            col = quote_ident(column.name, ctx.engine)
            if mariadb:
                statements = [f"ALTER TABLE {name} MODIFY COLUMN {col} UUID{'' if column.nullable else ' NOT NULL'};"]
                title = f"Change {column.name} to MariaDB's native UUID type"
            else:
                binary = quote_ident(f"{column.name}_bin", ctx.engine)
                statements = [
                    f"ALTER TABLE {name} ADD COLUMN {binary} BINARY(16) NULL AFTER {col};",
                    f"UPDATE {name} SET {binary} = UUID_TO_BIN({col}, 1) WHERE {col} IS NOT NULL;",
                ]
                title = f"Add and fill a BINARY(16) copy of {column.name}"
            yield Finding(
                rule_id=SPEC.id,
                name=SPEC.name,
                severity=SPEC.severity,
                title=f"{table.name}.{column.name} stores a UUID as {column.data_type}, over twice its 16 bytes",
                subject=f"{name}.{col}",
                subject_kind="column",
                table=table.name,
                evidence={
                    "data_type": column.data_type,
                    "in_primary_key": column.name in key,
                    "bytes_as_text": 36,
                    "bytes_as_binary": 16,
                    "rows": table.row_estimate,
                },
                rationale=(
                    "The text form of a UUID takes 36 bytes or more in the row and in every index entry, and is "
                    "compared with collation rules. BINARY(16) (or MariaDB's UUID type) holds the same value in "
                    "16 bytes with plain byte comparison."
                ),
                help=f"Store {column.name} as BINARY(16) via UUID_TO_BIN (MySQL 8) or as UUID (MariaDB 10.7+).",
                fix=Fix(
                    title=title,
                    statements=statements,
                    safety="display-only",
                    note="Then move keys, foreign keys and application code to the binary column; drop the text one."
                    if not mariadb
                    else "Rebuilds the table; values must all be valid UUID text.",
                ),
                line=column.source_line,
            )
