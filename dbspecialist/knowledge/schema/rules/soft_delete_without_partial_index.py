"""SCH013 soft-delete-without-partial-index: a soft-delete column that no index's predicate excludes."""

from __future__ import annotations

import re
from collections.abc import Iterator

from dbspecialist.adapters.catalog import Column, Index, Table
from dbspecialist.knowledge.findings import Finding, Fix, RuleSpec, Severity
from dbspecialist.knowledge.schema.context import SchemaContext
from dbspecialist.knowledge.schema.rules.duplicate_index import drop_statement
from dbspecialist.knowledge.schema.rules.foreign_key_without_index import key_column
from dbspecialist.knowledge.schema.rules.low_cardinality_leading_index_column import is_boolean
from dbspecialist.knowledge.sql_text import index_name, qualified, quote_ident

SPEC = RuleSpec(
    id="SCH013",
    name="soft-delete-without-partial-index",
    capability="schema",
    engines=("postgresql", "mysql", "sqlite"),
    severity=Severity.LOW,
    fix="sometimes",
    summary="A table soft-deletes rows, but its unique and secondary indexes still cover the deleted ones.",
)

# Column names used for soft deletion by common frameworks (Rails paranoia/discard, Laravel, Django packages).
SOFT_DELETE_COLUMNS = ("deleted_at", "is_deleted", "deleted", "archived_at", "discarded_at", "removed_at")


def _mentions(index: Index, column: str) -> bool:
    return bool(index.predicate) and re.search(rf"\b{re.escape(column)}\b", index.predicate or "", re.I) is not None


def _includes(index: Index, column: str) -> bool:
    return any(key_column(c) == column.lower() for c in index.columns)


def _live_predicate(column: Column, engine: str) -> str:
    col = quote_ident(column.name, engine)
    return f"NOT {col}" if is_boolean(column) else f"{col} IS NULL"


def _rebuild(ctx: SchemaContext, table: Table, index: Index, predicate: str) -> list[str]:
    name = qualified(table.schema_name, table.name, ctx.engine)
    unique = "UNIQUE " if index.unique else ""
    concurrently = " CONCURRENTLY" if ctx.engine == "postgresql" else ""
    new = quote_ident(index_name(table.name, [key_column(c) for c in index.columns], "live_idx"), ctx.engine)
    cols = ", ".join(index.columns)
    out = [f"CREATE {unique}INDEX{concurrently} {new} ON {name} ({cols}) WHERE {predicate};"]
    drop = drop_statement(ctx, table, index)
    if drop:
        out.append(drop)
    return out


def check(ctx: SchemaContext) -> Iterator[Finding]:
    """Soft-deleted rows keep occupying unique keys and index space.

    ## Why is this bad?
    With a `deleted_at` column the "deleted" rows stay in the table, so a plain unique index on
    `email` still counts them: a user who deleted their account cannot sign up again, and the
    application ends up checking uniqueness itself, racily. Every query also filters
    `deleted_at IS NULL`, while the indexes keep carrying the dead rows. A partial index
    restricted to live rows fixes both. MySQL has no partial indexes; there the usual trick is
    a generated column that is NULL for deleted rows, added to the unique key.

    ## Example
    ```sql
    CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL UNIQUE, deleted_at timestamptz);
    ```

    ## Use instead
    ```sql
    CREATE UNIQUE INDEX CONCURRENTLY users_email_live_idx ON users (email) WHERE deleted_at IS NULL;
    ```

    ## Fix safety
    Display only: queries must carry the same predicate to use the partial index, and dropping
    the old unique constraint changes what the database enforces (deleted rows may then repeat).
    """
    for table in ctx.tables():
        if table.kind == "collection" or table.partition_of:
            continue
        column = next((c for c in table.columns if c.name.lower() in SOFT_DELETE_COLUMNS), None)
        if column is None:
            continue
        pk = {c.lower() for c in table.primary_key.columns} if table.primary_key else set()
        secondary = [i for i in table.indexes if not i.primary and i.valid and {key_column(c) for c in i.columns} != pk]
        for unique in table.unique_constraints:  # constraints the parser did not also list as indexes
            if {c.lower() for c in unique.columns} != pk and not any(
                i.unique and [key_column(c) for c in i.columns] == [c.lower() for c in unique.columns]
                for i in secondary
            ):
                secondary.append(
                    Index(
                        name=unique.name or index_name(table.name, unique.columns, "key"),
                        columns=unique.columns,
                        unique=True,
                        origin="unique_constraint",
                    )
                )
        if ctx.engine == "mysql":
            # No partial indexes: only a unique key that ignores the soft-delete state is a real problem.
            offending = [i for i in secondary if i.unique and not _includes(i, column.name)]
            if not offending:
                continue
        else:
            if any(_mentions(i, column.name) for i in secondary):
                offending = [i for i in secondary if i.unique and not _mentions(i, column.name)]
            else:
                offending = [i for i in secondary if not _includes(i, column.name)]
            if not offending:
                continue
        unique_count = sum(1 for i in offending if i.unique)
        name = qualified(table.schema_name, table.name, ctx.engine)
        col = quote_ident(column.name, ctx.engine)
        if ctx.engine == "mysql":
            alive = quote_ident(f"{column.name}_alive", ctx.engine)
            test = f"{col} = 0" if is_boolean(column) else f"{col} IS NULL"
            statements = [f"ALTER TABLE {name} ADD COLUMN {alive} TINYINT AS (IF({test}, 1, NULL)) STORED;"]
            for index in offending:
                cols = ", ".join([*index.columns, alive])
                new = quote_ident(index_name(table.name, [key_column(c) for c in index.columns], "live_key"), "mysql")
                statements.append(f"ALTER TABLE {name} ADD UNIQUE KEY {new} ({cols});")
                drop = drop_statement(ctx, table, index)
                if drop:
                    statements.append(drop)
        else:
            predicate = _live_predicate(column, ctx.engine)
            statements = []
            created: set[tuple[str, ...]] = set()
            for index in sorted(offending, key=lambda i: (not i.unique, i.name)):
                key = tuple(key_column(c) for c in index.columns)
                create, *drops = _rebuild(ctx, table, index, predicate)
                if key not in created:  # a live index on the same key already serves a duplicate
                    statements.append(create)
                    created.add(key)
                statements.extend(drops)
        yield Finding(
            rule_id=SPEC.id,
            name=SPEC.name,
            severity=Severity.MEDIUM if unique_count else SPEC.severity,
            title=(
                f"{table.name} soft-deletes with {column.name}, but {len(offending)} index(es) still cover "
                f"deleted rows ({unique_count} unique)"
            ),
            subject=f"{name}.{col}",
            subject_kind="column",
            table=table.name,
            evidence={
                "soft_delete_column": column.name,
                "indexes_without_predicate": len(offending),
                "unique_indexes_without_predicate": unique_count,
                "indexes": ", ".join(sorted(i.name for i in offending)),
                "rows": table.row_estimate,
            },
            rationale=(
                "Deleted rows stay in the table, so unique keys without a live-rows predicate still reserve their "
                "values and every index carries the dead entries. Queries all filter on the soft-delete column "
                "anyway, which is exactly what a partial index is for."
            ),
            help=(
                f"Rebuild the indexes with WHERE {_live_predicate(column, ctx.engine)}."
                if ctx.engine != "mysql"
                else "Add a generated 'alive' column (NULL when deleted) to each unique key."
            ),
            fix=Fix(
                title="Scope the indexes to live rows",
                statements=statements,
                safety="display-only",
                note="Queries must repeat the predicate to use a partial index; check unique semantics first.",
            ),
            line=column.source_line,
        )
