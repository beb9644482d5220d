"""SCH002 foreign-key-without-index: a foreign key with no index whose leading columns are its columns."""

from __future__ import annotations

from collections.abc import Iterator

from dbspecialist.adapters.catalog import ForeignKey, Table
from dbspecialist.knowledge.findings import Finding, Fix, RuleSpec, Severity
from dbspecialist.knowledge.indexes.partitioned import PARTITIONED_NOTE, is_partitioned, partitioned_index_statements
from dbspecialist.knowledge.schema.context import SchemaContext
from dbspecialist.knowledge.sql_text import index_name, qualified, quote_ident

SPEC = RuleSpec(
    id="SCH002",
    name="foreign-key-without-index",
    capability="schema",
    engines=("postgresql", "mysql", "sqlite", "tsql"),
    severity=Severity.MEDIUM,
    fix="always",
    summary="A foreign key has no index whose leading columns are exactly its columns.",
)


def key_column(text: str) -> str:
    """An index key entry reduced to its column: no sort order, no MySQL prefix length, no quotes."""
    value = text.strip().lower()
    for suffix in (" desc", " asc", " nulls first", " nulls last"):
        value = value.removesuffix(suffix)
    if value.endswith(")") and "(" in value and not value.startswith("("):
        head, _, tail = value.partition("(")
        if tail[:-1].isdigit():  # MySQL prefix index: `name(20)`
            value = head
    return value.strip('"`')


def leads_with(key: list[str], columns: list[str]) -> bool:
    """True when the first len(columns) entries of `key` are exactly `columns`, in any order."""
    if len(key) < len(columns):
        return False
    return {key_column(c) for c in key[: len(columns)]} == {c.lower() for c in columns}


def covered(ctx: SchemaContext, table: Table, columns: list[str]) -> bool:
    """An index (or the primary key / a unique constraint, which are indexes) starts with `columns`."""
    if table.primary_key is not None and leads_with(table.primary_key.columns, columns):
        return True
    if any(leads_with(u.columns, columns) for u in table.unique_constraints):
        return True
    if ctx.indexes_starting_with(table, columns):
        return True
    return any(i.valid and not i.predicate and leads_with(i.columns, columns) for i in table.indexes)


def referenced_table(ctx: SchemaContext, table: Table, fk: ForeignKey) -> Table | None:
    """The table a foreign key points at: same schema first, then by name alone."""
    schema = fk.ref_schema or table.schema_name
    found = ctx.table(fk.ref_table, schema) if schema else None
    return found or ctx.table(fk.ref_table)


def column_list(columns: list[str], engine: str) -> str:
    return ", ".join(quote_ident(c, engine) for c in columns)


def fk_subject(ctx: SchemaContext, table: Table, columns: list[str]) -> str:
    name = qualified(table.schema_name, table.name, ctx.engine)
    if len(columns) == 1:
        return f"{name}.{quote_ident(columns[0], ctx.engine)}"
    return f"{name}.({column_list(columns, ctx.engine)})"


def check(ctx: SchemaContext) -> Iterator[Finding]:
    """A foreign key without a matching index makes every parent delete or key update scan the child.

    ## Why is this bad?
    When a referenced row is deleted (or its key changes), the database must find the rows that
    point at it. Without an index that starts with the foreign key columns, that lookup is a full
    scan of the child table, run once per parent row and while locks are held, so a bulk delete on
    the parent becomes quadratic. Joins from parent to child have the same problem. PostgreSQL
    and SQLite never create this index for you; InnoDB does, but only when the DDL leaves it out.

    ## Example
    ```sql
    CREATE TABLE order_items (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        order_id bigint NOT NULL REFERENCES orders (id) ON DELETE CASCADE
    );
    ```

    ## Use instead
    ```sql
    CREATE INDEX CONCURRENTLY order_items_order_id_idx ON order_items (order_id);
    ```

    ## Fix safety
    Safe. On PostgreSQL the index is built CONCURRENTLY, which cannot run inside a transaction
    block and leaves an INVALID index behind if it fails (drop it and retry). A partitioned table
    refuses CONCURRENTLY: the fix builds each partition's index CONCURRENTLY, creates the parent's
    index ON ONLY the parent and attaches every partition's index to it.
    """
    small = ctx.thresholds.small_table_rows
    for table in ctx.tables():
        if table.kind == "collection" or table.partition_of:
            continue
        seen: set[tuple[str, ...]] = set()
        for fk in table.foreign_keys:
            key = tuple(c.lower() for c in fk.columns)
            if not fk.columns or key in seen or covered(ctx, table, fk.columns):
                continue
            seen.add(key)
            cascade = fk.on_delete == "cascade"
            rows = table.row_estimate
            if ctx.engine == "mysql":
                if ctx.live:
                    continue  # InnoDB always has an index for a foreign key on a live server
                severity = Severity.INFO
            elif cascade or (rows is not None and rows >= small):
                severity = Severity.HIGH
            elif rows is not None and ctx.live and rows < small:
                severity = Severity.LOW
            else:
                severity = SPEC.severity
            name = qualified(table.schema_name, table.name, ctx.engine)
            idx = quote_ident(index_name(table.name, fk.columns), ctx.engine)
            cols = column_list(fk.columns, ctx.engine)
            concurrently = " CONCURRENTLY" if ctx.engine == "postgresql" else ""
            statements = [f"CREATE INDEX{concurrently} {idx} ON {name} ({cols});"]
            note = (
                "CONCURRENTLY cannot run inside a transaction block; drop an INVALID leftover and retry."
                if ctx.engine == "postgresql"
                else "Builds lock writes on the table briefly (online DDL on InnoDB)."
                if ctx.engine == "mysql"
                else None
            )
            if ctx.engine == "postgresql" and is_partitioned(table):
                per_partition = partitioned_index_statements(
                    ctx.catalog.tables,
                    table,
                    [quote_ident(c, ctx.engine) for c in fk.columns],
                    name=index_name(table.name, fk.columns),
                )
                if per_partition is not None:
                    statements, note = per_partition, PARTITIONED_NOTE
                else:
                    statements = [f"CREATE INDEX {idx} ON {name} ({cols});"]
                    note = (
                        "A partitioned table refuses CONCURRENTLY; with no partition known the plain build is the "
                        "way (it blocks writes to every partition while it runs). With partitions, build each "
                        "partition's index CONCURRENTLY, then CREATE INDEX ... ON ONLY the parent and ALTER INDEX "
                        "... ATTACH PARTITION each one."
                    )
            ref = qualified(fk.ref_schema, fk.ref_table, ctx.engine) if fk.ref_schema else fk.ref_table
            first = ctx.column(table, fk.columns[0])
            mysql_note = (
                " InnoDB creates this index implicitly when the DDL omits it; declaring it keeps the "
                "schema file and the server in agreement."
                if ctx.engine == "mysql"
                else ""
            )
            yield Finding(
                rule_id=SPEC.id,
                name=SPEC.name,
                severity=severity,
                title=f"Deleting from {fk.ref_table} scans {table.name} for every row: {cols} has no index",
                subject=fk_subject(ctx, table, fk.columns),
                subject_kind="column",
                table=table.name,
                evidence={
                    "rows": rows,
                    "referenced_table": ref,
                    "fk_columns": len(fk.columns),
                    "on_delete": fk.on_delete,
                    "indexes_on_table": len(table.indexes),
                },
                rationale=(
                    "The database checks child rows on every delete or key update in the parent; without an "
                    "index that starts with the foreign key columns each check reads the whole child table. "
                    "Joins from the parent to this table pay the same full scan." + mysql_note
                ),
                help=f"Create an index on {name} ({cols}).",
                fix=Fix(
                    title=f"Index {name} ({cols})",
                    statements=statements,
                    safety="safe",
                    note=note,
                ),
                line=fk.source_line or (first.source_line if first else None) or table.source_line,
            )
