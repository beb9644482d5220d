"""SCH009 sequence-near-overflow: a sequence or AUTO_INCREMENT counter close to the largest value it can give."""

from __future__ import annotations

from collections.abc import Iterator

from dbspecialist.adapters.catalog import Column, Sequence, Table
from dbspecialist.knowledge.findings import Finding, Fix, RuleSpec, Severity
from dbspecialist.knowledge.schema.context import SchemaContext
from dbspecialist.knowledge.schema.rules.int4_primary_key import integer_max, mysql_widen_statements, referencing_links
from dbspecialist.knowledge.sql_text import qualified, quote_ident

SPEC = RuleSpec(
    id="SCH009",
    name="sequence-near-overflow",
    capability="schema",
    engines=("postgresql", "mysql"),
    severity=Severity.HIGH,
    fix="sometimes",
    live_only=True,
    summary="A sequence (or AUTO_INCREMENT counter) has used most of the values its type or column allows.",
)

_BIGINT_MAX = (1 << 63) - 1


def _owner(ctx: SchemaContext, seq: Sequence) -> tuple[Table, Column] | None:
    if not seq.owned_by:
        return None
    parts = seq.owned_by.split(".")
    if len(parts) < 2:
        return None
    schema = parts[-3] if len(parts) >= 3 else None
    table = ctx.table(parts[-2], schema) or ctx.table(parts[-2])
    column = ctx.column(table, parts[-1]) if table is not None else None
    return (table, column) if table is not None and column is not None else None


def _severity(pct: float, ctx: SchemaContext) -> Severity | None:
    if pct >= ctx.thresholds.sequence_used_critical_pct:
        return Severity.CRITICAL
    if pct >= ctx.thresholds.sequence_used_warn_pct:
        return Severity.HIGH
    return None


def _postgres(ctx: SchemaContext) -> Iterator[Finding]:
    for seq in ctx.catalog.sequences:
        if seq.current_value is None:
            continue
        owner = _owner(ctx, seq)
        limits = [m for m in (seq.max_value, integer_max(seq.data_type or "bigint", ctx.engine)) if m]
        column_max = integer_max(owner[1].data_type, ctx.engine) if owner else None
        if column_max:
            limits.append(column_max)
        if not limits:
            continue
        ceiling = min(limits)
        pct = round(100.0 * seq.current_value / ceiling, 2)
        severity = _severity(pct, ctx)
        if severity is None:
            continue
        seq_name = qualified(seq.schema_name, seq.name, ctx.engine)
        statements: list[str] = []
        column_is_narrow = column_max is not None and column_max < _BIGINT_MAX
        if owner is not None and column_is_narrow:
            table, column = owner
            statements.append(
                f"ALTER TABLE {qualified(table.schema_name, table.name, ctx.engine)} "
                f"ALTER COLUMN {quote_ident(column.name, ctx.engine)} TYPE bigint;"
            )
        sequence_max = min(m for m in (seq.max_value, integer_max(seq.data_type or "bigint", ctx.engine)) if m)
        if sequence_max < _BIGINT_MAX:
            statements.append(f"ALTER SEQUENCE {seq_name} AS bigint MAXVALUE 9223372036854775807;")
        limited_by = "column" if column_max is not None and ceiling == column_max else "sequence"
        yield Finding(
            rule_id=SPEC.id,
            name=SPEC.name,
            severity=severity,
            title=f"Sequence {seq.name} has used {pct}% of its range: inserts fail at {ceiling:,}",
            subject=seq_name,
            subject_kind="sequence",
            table=owner[0].name if owner else None,
            evidence={
                "current_value": seq.current_value,
                "max_value": ceiling,
                "pct_used": pct,
                "limited_by": limited_by,
                "owned_by": seq.owned_by,
            },
            rationale=(
                f"The sequence can give at most {ceiling:,} and is at {seq.current_value:,}. When it runs out "
                "every insert that needs a new key fails, so the widening has to happen before then."
            ),
            help=f"Widen {seq.name} (and the column it fills) to bigint now.",
            fix=Fix(
                title=f"Give {seq.name} a bigint range",
                statements=statements,
                safety="display-only" if column_is_narrow else "safe",
                note=(
                    "Changing the column type rewrites the table under an exclusive lock; for big tables use the "
                    "add-column, backfill, swap plan from the migration planner. Also widen referencing columns."
                    if column_is_narrow
                    else "ALTER SEQUENCE only changes metadata."
                ),
            ),
            line=seq.source_line,
        )


def _mysql(ctx: SchemaContext) -> Iterator[Finding]:
    for table in ctx.tables():
        counter = table.stats.get("auto_increment")
        column = next((c for c in table.columns if c.identity), None)
        if not isinstance(counter, int) or column is None:
            continue
        ceiling = integer_max(column.data_type, ctx.engine)
        if not ceiling:
            continue
        pct = round(100.0 * counter / ceiling, 2)
        severity = _severity(pct, ctx)
        if severity is None:
            continue
        name = qualified(table.schema_name, table.name, ctx.engine)
        col = quote_ident(column.name, ctx.engine)
        unsigned = " UNSIGNED" if "unsigned" in column.data_type.lower() else ""
        yield Finding(
            rule_id=SPEC.id,
            name=SPEC.name,
            severity=severity,
            title=f"{table.name}.{column.name} AUTO_INCREMENT has used {pct}% of {column.data_type}",
            subject=f"{name}.{col}",
            subject_kind="column",
            table=table.name,
            evidence={"current_value": counter, "max_value": ceiling, "pct_used": pct, "rows": table.row_estimate},
            rationale=(
                f"The counter is at {counter:,} of at most {ceiling:,}. When it reaches the top every insert "
                "fails with a duplicate-key error, and the type change needs a full table copy."
            ),
            help=f"Change {table.name}.{column.name} to BIGINT before the counter runs out.",
            fix=Fix(
                title=f"Widen {table.name}.{column.name} to BIGINT",
                statements=mysql_widen_statements(
                    ctx, table, column, bool(unsigned), referencing_links(ctx, table, column)
                ),
                safety="display-only",
                note="Copies each table; foreign keys that use the column are dropped, widened with it and re-added. "
                "Use an online schema change tool for big tables.",
            ),
            line=column.source_line,
        )


def check(ctx: SchemaContext) -> Iterator[Finding]:
    """A key generator near its ceiling is an outage on a date you can compute.

    ## Why is this bad?
    A sequence stops at its MAXVALUE, and the values it hands out must also fit the column they
    fill: a `bigint` sequence feeding an `integer` column fails at 2,147,483,647 all the same.
    Once it is exhausted every insert fails. The warning comes at the configured share of the
    range (75 % warns, 90 % is critical by default) so there is time to widen it calmly.

    ## Example
    ```sql
    -- pg_sequences: last_value 1,900,000,000 for orders_id_seq feeding orders.id integer
    CREATE TABLE orders (id serial PRIMARY KEY);
    ```

    ## Use instead
    ```sql
    ALTER TABLE orders ALTER COLUMN id TYPE bigint;
    ALTER SEQUENCE orders_id_seq AS bigint MAXVALUE 9223372036854775807;
    ```

    ## Fix safety
    `ALTER SEQUENCE` alone is safe. Changing the column rewrites the table, so it is display
    only; plan it with the migration planner (new column, trigger, backfill, swap).
    """
    if ctx.engine == "postgresql":
        yield from _postgres(ctx)
    elif ctx.engine == "mysql":
        yield from _mysql(ctx)
