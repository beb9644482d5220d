"""SCH008 int4-primary-key: a 32-bit (or narrower) integer primary key that can run out of values."""

from __future__ import annotations

from collections.abc import Iterator

from dbspecialist.adapters.catalog import Column, ForeignKey, Sequence, Table
from dbspecialist.knowledge.findings import Finding, Fix, RuleSpec, Severity
from dbspecialist.knowledge.schema.context import SchemaContext
from dbspecialist.knowledge.schema.rules.foreign_key_type_mismatch import type_shape
from dbspecialist.knowledge.schema.rules.foreign_key_without_index import referenced_table
from dbspecialist.knowledge.sql_text import qualified, quote_ident

SPEC = RuleSpec(
    id="SCH008",
    name="int4-primary-key",
    capability="schema",
    engines=("postgresql", "mysql"),
    severity=Severity.MEDIUM,
    fix="sometimes",
    summary="A primary key is a 32-bit (or narrower) integer and will overflow as the table grows.",
)

# A live table that has used this share of its key range is an emergency (the brief's rule: half of 2^31).
INT4_PK_CRITICAL_PCT = 50.0


def integer_max(data_type: str, engine: str) -> int | None:
    """The largest value an integer column of this type holds (None when it is not an integer type)."""
    shape = type_shape(data_type, engine)
    if shape.family != "integer" or shape.size is None:
        return None
    bits = shape.size * 8
    return (1 << bits) - 1 if shape.unsigned else (1 << (bits - 1)) - 1


def owned_sequence(ctx: SchemaContext, table: Table, column: str) -> Sequence | None:
    """The sequence behind `table.column` (serial, identity or OWNED BY), when the catalog names it."""
    for seq in ctx.catalog.sequences:
        if not seq.owned_by:
            continue
        parts = seq.owned_by.split(".")
        if len(parts) < 2 or parts[-1] != column or parts[-2] != table.name:
            continue
        if len(parts) >= 3 and table.schema_name and parts[-3] != table.schema_name:
            continue
        return seq
    return None


def used_values(ctx: SchemaContext, table: Table, column: Column) -> int | None:
    """Highest evidence of how far the key has gone: rows, the sequence's last value, AUTO_INCREMENT."""
    seen: list[int] = []
    if table.row_estimate is not None:
        seen.append(table.row_estimate)
    seq = owned_sequence(ctx, table, column.name)
    if seq is not None and seq.current_value is not None:
        seen.append(seq.current_value)
    auto = table.stats.get("auto_increment")
    if isinstance(auto, int):
        seen.append(auto)
    return max(seen) if seen else None


def referencing_links(ctx: SchemaContext, table: Table, column: Column) -> list[tuple[Table, ForeignKey]]:
    """Every (child table, foreign key) that references `table.column`."""
    return [
        (child, fk)
        for child in ctx.tables()
        for fk in child.foreign_keys
        if column.name in fk.ref_columns and referenced_table(ctx, child, fk) is table
    ]


def mysql_widen_statements(
    ctx: SchemaContext, table: Table, column: Column, unsigned: bool, links: list[tuple[Table, ForeignKey]]
) -> list[str]:
    """Public name for the drop-FKs / widen / re-add sequence (shared with sequence-near-overflow)."""
    return _mysql_statements(ctx, table, column, unsigned, links)


def _mysql_statements(
    ctx: SchemaContext, table: Table, column: Column, unsigned: bool, links: list[tuple[Table, ForeignKey]]
) -> list[str]:
    """MySQL refuses to change a column a foreign key uses (errors 1832/1833): drop, widen, re-add."""
    sign = " UNSIGNED" if unsigned else ""
    name = qualified(table.schema_name, table.name, ctx.engine)
    named = [(child, fk) for child, fk in links if fk.name]
    drops = [
        f"ALTER TABLE {qualified(child.schema_name, child.name, ctx.engine)} "
        f"DROP FOREIGN KEY {quote_ident(fk.name or '', ctx.engine)};"
        for child, fk in named
    ]
    auto = " AUTO_INCREMENT" if column.identity else ""
    widen = [f"ALTER TABLE {name} MODIFY COLUMN {quote_ident(column.name, ctx.engine)} BIGINT{sign} NOT NULL{auto};"]
    readd = []
    for child, fk in links:
        child_name = qualified(child.schema_name, child.name, ctx.engine)
        fk_col = fk.columns[fk.ref_columns.index(column.name)]
        child_col = ctx.column(child, fk_col)
        null = "" if child_col is None or child_col.nullable else " NOT NULL"
        widen.append(f"ALTER TABLE {child_name} MODIFY COLUMN {quote_ident(fk_col, ctx.engine)} BIGINT{sign}{null};")
        if fk.name:
            cols = ", ".join(quote_ident(c, ctx.engine) for c in fk.columns)
            refs = ", ".join(quote_ident(c, ctx.engine) for c in fk.ref_columns)
            actions = "".join(
                f" ON {event} {action.upper()}"
                for event, action in (("DELETE", fk.on_delete), ("UPDATE", fk.on_update))
                if action != "no action"
            )
            readd.append(
                f"ALTER TABLE {child_name} ADD CONSTRAINT {quote_ident(fk.name, ctx.engine)} "
                f"FOREIGN KEY ({cols}) REFERENCES {name} ({refs}){actions};"
            )
    return [*drops, *widen, *readd]


def check(ctx: SchemaContext) -> Iterator[Finding]:
    """A 32-bit integer primary key stops accepting inserts at 2,147,483,647.

    ## Why is this bad?
    `integer`/`serial` (and MySQL `INT`, `MEDIUMINT`) keys have a fixed ceiling. Sequences also
    burn values on rolled-back inserts and `ON CONFLICT`, so busy tables reach it sooner than
    their row count suggests. When it happens every insert fails, and the fix, changing the key
    and every referencing column to `bigint`, rewrites all of those tables. A `bigint` costs four
    more bytes per row; it is the cheap insurance.

    ## Example
    ```sql
    CREATE TABLE events (id serial PRIMARY KEY, payload jsonb);
    ```

    ## Use instead
    ```sql
    CREATE TABLE events (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, payload jsonb);
    ```

    ## Fix safety
    Display only: `ALTER COLUMN ... TYPE bigint` rewrites the table and each referencing table
    under an exclusive lock. On a big table use the migration planner's approach instead: add a
    `bigint` column, keep it filled with a trigger, backfill in batches, build the unique index
    concurrently, then swap the key in one short transaction.
    """
    warn = ctx.thresholds.sequence_used_warn_pct
    for table in ctx.tables():
        if table.partition_of or table.primary_key is None or len(table.primary_key.columns) != 1:
            continue
        column = ctx.column(table, table.primary_key.columns[0])
        if column is None:
            continue
        shape = type_shape(column.data_type, ctx.engine)
        ceiling = integer_max(column.data_type, ctx.engine)
        if ceiling is None or shape.size is None or shape.size > 4:
            continue
        used = used_values(ctx, table, column) if ctx.live else None
        pct = round(100.0 * used / ceiling, 2) if used is not None else None
        if shape.size <= 2 and (pct is None or pct < warn):
            continue  # a smallint key on a small lookup table is a deliberate choice
        if pct is not None and pct >= INT4_PK_CRITICAL_PCT:
            severity = Severity.CRITICAL
        elif ctx.live and table.row_estimate is not None and table.row_estimate < ctx.thresholds.small_table_rows:
            severity = Severity.LOW
        else:
            severity = SPEC.severity
        name = qualified(table.schema_name, table.name, ctx.engine)
        col = quote_ident(column.name, ctx.engine)
        links = referencing_links(ctx, table, column)
        referencing = [(child, fk.columns[fk.ref_columns.index(column.name)]) for child, fk in links]
        statements: list[str] = []
        if ctx.engine == "postgresql":
            statements.append(f"ALTER TABLE {name} ALTER COLUMN {col} TYPE bigint;")
            seq = owned_sequence(ctx, table, column.name)
            if seq is not None and column.identity is None:  # identity sequences follow the column type
                statements.append(f"ALTER SEQUENCE {qualified(seq.schema_name, seq.name, ctx.engine)} AS bigint;")
            for child, fk_col in referencing:
                child_name = qualified(child.schema_name, child.name, ctx.engine)
                statements.append(
                    f"ALTER TABLE {child_name} ALTER COLUMN {quote_ident(fk_col, ctx.engine)} TYPE bigint;"
                )
        else:
            statements = _mysql_statements(ctx, table, column, shape.unsigned, links)
        yield Finding(
            rule_id=SPEC.id,
            name=SPEC.name,
            severity=severity,
            title=f"{table.name}.{column.name} is {column.data_type}: inserts fail once it reaches {ceiling:,}",
            subject=f"{name}.{col}",
            subject_kind="column",
            table=table.name,
            evidence={
                "data_type": column.data_type,
                "max_value": ceiling,
                "used_value": used,
                "pct_used": pct,
                "rows": table.row_estimate,
                "referencing_columns": len(referencing),
            },
            rationale=(
                f"The key can never exceed {ceiling:,}, and sequences skip values on rollbacks and conflicts. "
                "Widening it later rewrites this table and every table that references it, under locks."
            ),
            help=f"Make {table.name}.{column.name} (and the columns referencing it) bigint while it is cheap.",
            fix=Fix(
                title=f"Widen {table.name}.{column.name} to bigint",
                statements=statements,
                safety="display-only",
                note=(
                    "Rewrites each table under an exclusive lock. For big tables: add a bigint column, fill it "
                    "by trigger and batched backfill, build its unique index concurrently, swap in one short "
                    "transaction (the migration planner writes these steps)."
                ),
            ),
            line=column.source_line or table.source_line,
        )
