"""SCH011 low-cardinality-leading-index-column: an index led by a boolean or status-like column."""

from __future__ import annotations

import re
from collections.abc import Iterator

from dbspecialist.adapters.catalog import Column
from dbspecialist.knowledge.findings import Finding, Fix, RuleSpec, Severity
from dbspecialist.knowledge.schema.context import SchemaContext
from dbspecialist.knowledge.schema.rules.duplicate_index import drop_statement, index_subject, normalized_method
from dbspecialist.knowledge.schema.rules.foreign_key_without_index import key_column
from dbspecialist.knowledge.sql_text import index_name, qualified, quote_ident

SPEC = RuleSpec(
    id="SCH011",
    name="low-cardinality-leading-index-column",
    capability="schema",
    engines=("postgresql", "mysql", "sqlite"),
    severity=Severity.LOW,
    fix="sometimes",
    summary="The first key column of an index is a boolean or a status-like column with few distinct values.",
)

# Names that usually hold a handful of values (our heuristic, after pg-index-health's indexes_with_boolean).
_STATUS_NAME = re.compile(r"^(status|state|type|kind|(is|has)_\w+|\w+_(status|state))$", re.I)


def is_boolean(column: Column) -> bool:
    text = column.data_type.lower().replace(" ", "")
    return text in ("boolean", "bool", "tinyint(1)", "bit", "bit(1)")


def check(ctx: SchemaContext) -> Iterator[Finding]:
    """An index that starts with a column of two or five values barely narrows the search.

    ## Why is this bad?
    A B-tree leading with `is_active` or `status` splits the table into a few huge ranges. For
    the common value the planner prefers a sequential scan, so the index is only useful for the
    rare values and still costs a write on every row. A partial index on just the rare value
    is far smaller, and putting the selective column first serves more queries.

    ## Example
    ```sql
    CREATE INDEX orders_status_idx ON orders (status);
    ```

    ## Use instead
    ```sql
    CREATE INDEX CONCURRENTLY orders_pending_idx ON orders (created_at) WHERE status = 'pending';
    ```

    ## Fix safety
    Display only: the right predicate value and the column to keep depend on the queries. Create
    the partial index first, check the plans, then drop the old index.
    """
    for table in ctx.tables():
        if table.kind == "collection" or table.partition_of:
            continue
        if ctx.live and table.row_estimate is not None and table.row_estimate < ctx.thresholds.small_table_rows:
            continue  # on a small table the cost is negligible
        for index in table.indexes:
            if index.unique or index.primary or index.predicate or not index.columns or not index.valid:
                continue
            if normalized_method(index) not in ("btree", "hash"):
                continue
            lead = key_column(index.columns[0])
            column = ctx.column(table, lead) or next((c for c in table.columns if c.name.lower() == lead), None)
            if column is None:
                continue
            boolean = is_boolean(column)
            if not boolean and not _STATUS_NAME.match(column.name):
                continue
            severity = Severity.MEDIUM if boolean and len(index.columns) == 1 else SPEC.severity
            rest = [key_column(c) for c in index.columns[1:]]
            col = quote_ident(column.name, ctx.engine)
            predicate = (
                col if boolean and ctx.engine != "mysql" else (f"{col} = 1" if boolean else f"{col} = '<rare value>'")
            )
            name = qualified(table.schema_name, table.name, ctx.engine)
            pk = table.primary_key.columns if table.primary_key else []
            keys = rest or pk or [column.name]
            key_sql = ", ".join(quote_ident(k, ctx.engine) for k in keys)
            statements: list[str] = []
            if ctx.engine == "mysql":
                reordered = ", ".join(quote_ident(k, ctx.engine) for k in [*rest, column.name])
                if rest:
                    new_name = quote_ident(index_name(table.name, [*rest, column.name]), ctx.engine)
                    statements.append(f"CREATE INDEX {new_name} ON {name} ({reordered});")
            else:
                concurrently = " CONCURRENTLY" if ctx.engine == "postgresql" else ""
                new_name = quote_ident(index_name(table.name, [*keys, column.name], "partial_idx"), ctx.engine)
                statements.append(f"CREATE INDEX{concurrently} {new_name} ON {name} ({key_sql}) WHERE {predicate};")
            drop = drop_statement(ctx, table, index)
            if statements and drop:
                statements.append(drop)
            yield Finding(
                rule_id=SPEC.id,
                name=SPEC.name,
                severity=severity,
                title=f"{index.name} starts with {column.name} ({column.data_type}), which has few distinct values",
                subject=index_subject(ctx, table, index),
                subject_kind="index",
                table=table.name,
                evidence={
                    "leading_column": column.name,
                    "boolean": boolean,
                    "key_columns": len(index.columns),
                    "rows": table.row_estimate,
                    "size_bytes": index.size_bytes,
                },
                rationale=(
                    f"{column.name} splits the table into a few large groups, so the index helps only for the rare "
                    "values and the planner scans the table for the common one. Every write still pays for it."
                ),
                help=(
                    "Replace it with a partial index on the rare value, or put a selective column first."
                    if ctx.engine != "mysql"
                    else "MySQL has no partial indexes: lead with a selective column and keep this one last."
                ),
                fix=Fix(
                    title="Index only the rows queries look for" if ctx.engine != "mysql" else "Reorder the key",
                    statements=statements,
                    safety="display-only",
                    note="Pick the value your queries filter on; check the plans before dropping the old index.",
                )
                if statements
                else None,
                line=index.source_line,
            )
