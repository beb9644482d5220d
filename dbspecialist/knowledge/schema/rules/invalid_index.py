"""SCH007 invalid-index: an index left INVALID by a failed concurrent build."""

from __future__ import annotations

from collections.abc import Iterator

from dbspecialist.adapters.catalog import Index, Table
from dbspecialist.knowledge.findings import Finding, Fix, RuleSpec, Severity
from dbspecialist.knowledge.schema.context import SchemaContext
from dbspecialist.knowledge.schema.rules.duplicate_index import index_subject
from dbspecialist.knowledge.sql_text import qualified, quote_ident

SPEC = RuleSpec(
    id="SCH007",
    name="invalid-index",
    capability="schema",
    engines=("postgresql",),
    severity=Severity.HIGH,
    fix="always",
    live_only=True,
    summary="An index is marked invalid: writes maintain it, queries never use it.",
)


def create_statement(ctx: SchemaContext, table: Table, index: Index) -> str:
    """CREATE [UNIQUE] INDEX CONCURRENTLY rebuilt from the catalog's description of `index`."""
    unique = "UNIQUE " if index.unique else ""
    method = f" USING {index.method}" if index.method and index.method.lower() != "btree" else ""
    include = f" INCLUDE ({', '.join(index.include)})" if index.include else ""
    where = f" WHERE {index.predicate}" if index.predicate else ""
    name = qualified(table.schema_name, table.name, ctx.engine)
    return (
        f"CREATE {unique}INDEX CONCURRENTLY {quote_ident(index.name, ctx.engine)} ON {name}{method} "
        f"({', '.join(index.columns)}){include}{where};"
    )


def check(ctx: SchemaContext) -> Iterator[Finding]:
    """An INVALID index is paid for on every write and used by no query.

    ## Why is this bad?
    `CREATE INDEX CONCURRENTLY` and `REINDEX CONCURRENTLY` mark the index invalid when they fail
    (a deadlock, a unique violation, a cancelled session) and leave it behind. PostgreSQL keeps
    updating it on every write but the planner ignores it, so the table pays the cost of an index
    and gets none of the benefit; a unique one may also still reject rows.

    ## Example
    ```sql
    -- pg_index.indisvalid = false after an interrupted build
    CREATE INDEX CONCURRENTLY orders_created_at_idx ON orders (created_at);
    ```

    ## Use instead
    ```sql
    DROP INDEX CONCURRENTLY orders_created_at_idx;
    CREATE INDEX CONCURRENTLY orders_created_at_idx ON orders (created_at);
    ```

    ## Fix safety
    Safe when the build now succeeds. For a unique index find and remove the duplicate rows
    first, or the rebuild fails the same way. `REINDEX INDEX CONCURRENTLY` (PostgreSQL 12+) is the
    one-statement alternative.
    """
    for table in ctx.tables():
        for index in table.indexes:
            if index.valid or not index.columns:
                continue
            subject = index_subject(ctx, table, index)
            yield Finding(
                rule_id=SPEC.id,
                name=SPEC.name,
                severity=SPEC.severity,
                title=f"{index.name} on {table.name} is invalid: maintained on every write, never used",
                subject=subject,
                subject_kind="index",
                table=table.name,
                evidence={
                    "valid": False,
                    "unique": index.unique,
                    "size_bytes": index.size_bytes,
                    "rows": table.row_estimate,
                },
                rationale=(
                    "A concurrent index build failed and left the index marked invalid. PostgreSQL still "
                    "updates it on every write but never plans with it, so it is pure cost until rebuilt."
                ),
                help=f"Drop and rebuild {index.name} concurrently (fix the duplicate rows first if it is unique).",
                fix=Fix(
                    title=f"Rebuild {index.name}",
                    statements=[f"DROP INDEX CONCURRENTLY {subject};", create_statement(ctx, table, index)],
                    safety="safe",
                    note="Neither statement can run inside a transaction block; REINDEX INDEX CONCURRENTLY also works.",
                ),
                line=index.source_line,
            )
