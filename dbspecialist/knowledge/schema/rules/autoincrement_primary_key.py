"""SCH053 autoincrement-primary-key: a SQLite INTEGER PRIMARY KEY declared AUTOINCREMENT."""

from __future__ import annotations

from collections.abc import Iterator

from dbspecialist.knowledge.findings import Finding, RuleSpec, Severity
from dbspecialist.knowledge.schema.context import SchemaContext
from dbspecialist.knowledge.sql_text import qualified

SPEC = RuleSpec(
    id="SCH053",
    name="autoincrement-primary-key",
    capability="schema",
    engines=("sqlite",),
    severity=Severity.LOW,
    fix="never",
    summary="A SQLite table uses AUTOINCREMENT, which costs a write to sqlite_sequence on every insert.",
)


def check(ctx: SchemaContext) -> Iterator[Finding]:
    """AUTOINCREMENT is rarely needed: INTEGER PRIMARY KEY already assigns ids.

    ## Why is this bad?
    Every INTEGER PRIMARY KEY is the rowid and gets a new value automatically. AUTOINCREMENT only
    adds a guarantee that ids of deleted rows are never reused, and pays for it by reading and
    updating the internal sqlite_sequence table on every insert; the SQLite docs advise against
    it unless that guarantee is required (SQLite docs, "SQLite Autoincrement").

    ## Example
    ```sql
    CREATE TABLE notes (id INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL);
    ```

    ## Use instead
    ```sql
    CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL);
    ```

    ## Fix safety
    No automatic fix: removing AUTOINCREMENT needs a table rebuild, and is wrong if ids of deleted
    rows must never come back (for example when they are exposed in URLs or kept elsewhere).
    """
    for table in ctx.tables():
        if table.options.get("autoincrement", "").lower() != "true":
            continue
        key = ", ".join(table.primary_key.columns) if table.primary_key else None
        yield Finding(
            rule_id=SPEC.id,
            name=SPEC.name,
            severity=SPEC.severity,
            title=f"{table.name} uses AUTOINCREMENT, an extra sqlite_sequence write on every insert",
            subject=qualified(table.schema_name, table.name, ctx.engine),
            subject_kind="table",
            table=table.name,
            evidence={"primary_key": key, "rows": table.row_estimate},
            rationale=(
                "INTEGER PRIMARY KEY already generates ids; AUTOINCREMENT only forbids reusing the ids of deleted "
                "rows, at the cost of maintaining sqlite_sequence on every insert."
            ),
            help=f"Drop AUTOINCREMENT from {table.name} the next time it is rebuilt, unless ids must never be reused.",
            fix=None,
            line=table.source_line,
        )
