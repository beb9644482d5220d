"""SCH006 unused-index: a live index that no query has scanned since statistics were last reset."""

from __future__ import annotations

from collections.abc import Iterator

from dbspecialist.knowledge.findings import Finding, Fix, RuleSpec, Severity
from dbspecialist.knowledge.schema.context import SchemaContext
from dbspecialist.knowledge.schema.rules.duplicate_index import drop_statement, index_subject
from dbspecialist.knowledge.schema.rules.foreign_key_without_index import leads_with

SPEC = RuleSpec(
    id="SCH006",
    name="unused-index",
    capability="schema",
    engines=("postgresql", "mysql", "sqlite"),
    severity=Severity.LOW,
    fix="always",
    live_only=True,
    summary="An index has zero scans in the server's statistics and enforces nothing.",
)

# Size bands for severity (our own judgement): an unused index this big is a real cost on writes and memory.
UNUSED_INDEX_MEDIUM_BYTES = 100 * 1024 * 1024
UNUSED_INDEX_HIGH_BYTES = 1024 * 1024 * 1024


def check(ctx: SchemaContext) -> Iterator[Finding]:
    """An index no query uses still slows every write and takes memory.

    ## Why is this bad?
    Each insert, delete and update of an indexed column maintains the index, and its pages
    compete with useful data for the buffer cache. An index with zero scans since the statistics
    were reset has never paid that back. Unique and primary-key indexes are skipped because they
    enforce a rule even when no query reads them, and so are indexes that are the only cover for a
    foreign key, which parent deletes need even if none happened yet.

    ## Example
    ```sql
    -- pg_stat_user_indexes.idx_scan = 0 for weeks
    CREATE INDEX orders_coupon_code_idx ON orders (coupon_code);
    ```

    ## Use instead
    ```sql
    DROP INDEX CONCURRENTLY orders_coupon_code_idx;
    ```

    ## Fix safety
    Unsafe: the counters are per server and since the last reset, so check every replica and a
    full business cycle (month-end reports) before dropping. Keep the CREATE statement to restore it.
    """
    for table in ctx.tables():
        if table.kind == "collection":
            continue
        fk_covers = {i.name for i in table.indexes if i.valid and not i.predicate}
        sole_fk_cover: set[str] = set()
        for fk in table.foreign_keys:
            covers = [i for i in table.indexes if i.name in fk_covers and leads_with(i.columns, fk.columns)]
            if len(covers) == 1:
                sole_fk_cover.add(covers[0].name)
        for index in table.indexes:
            if index.scans != 0 or index.unique or index.primary or not index.valid or index.name in sole_fk_cover:
                continue
            size = index.size_bytes
            if size is not None and size >= UNUSED_INDEX_HIGH_BYTES:
                severity = Severity.HIGH
            elif size is not None and size >= UNUSED_INDEX_MEDIUM_BYTES:
                severity = Severity.MEDIUM
            else:
                severity = SPEC.severity
            drop = drop_statement(ctx, table, index)
            yield Finding(
                rule_id=SPEC.id,
                name=SPEC.name,
                severity=severity,
                title=f"{index.name} on {table.name} has never been scanned but is maintained on every write",
                subject=index_subject(ctx, table, index),
                subject_kind="index",
                table=table.name,
                evidence={
                    "scans": 0,
                    "size_bytes": size,
                    "rows": table.row_estimate,
                    "columns": ", ".join(index.columns),
                },
                rationale=(
                    "The server's statistics show no scan of this index since they were last reset, yet every "
                    "write to the table keeps it up to date. Dropping it speeds up writes and frees memory."
                ),
                help=f"Confirm on every replica that {index.name} is unused, then drop it.",
                fix=(
                    Fix(
                        title=f"Drop the unused index {index.name}",
                        statements=[drop],
                        safety="unsafe",
                        note="Scan counters are per server and reset with the statistics: check replicas first.",
                    )
                    if drop
                    else None
                ),
                line=index.source_line,
            )
