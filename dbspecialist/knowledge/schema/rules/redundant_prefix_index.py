"""SCH005 redundant-prefix-index: a non-unique index whose key is a left prefix of another index's key."""

from __future__ import annotations

from collections.abc import Iterator

from dbspecialist.adapters.catalog import Index
from dbspecialist.knowledge.findings import Finding, Fix, RuleSpec, Severity
from dbspecialist.knowledge.schema.context import SchemaContext
from dbspecialist.knowledge.schema.rules.duplicate_index import (
    drop_statement,
    index_subject,
    normalized_key,
    normalized_method,
)

SPEC = RuleSpec(
    id="SCH005",
    name="redundant-prefix-index",
    capability="schema",
    engines=("postgresql", "mysql", "sqlite", "tsql"),
    severity=Severity.LOW,
    fix="always",
    summary="A plain B-tree index is made redundant by another index that starts with the same columns.",
)


def _covering(index: Index, others: list[Index]) -> Index | None:
    """The widest valid, non-partial B-tree index whose key strictly extends `index`'s key."""
    key = normalized_key(index)
    best: Index | None = None
    for other in others:
        if other is index or not other.valid or other.predicate or normalized_method(other) != "btree":
            continue
        other_key = normalized_key(other)
        if len(other_key) > len(key) and other_key[: len(key)] == key:
            covered_extra = set(index.include) <= set(other.columns) | set(other.include)
            if covered_extra and (best is None or (len(other.columns), other.name) < (len(best.columns), best.name)):
                best = other
    return best


def check(ctx: SchemaContext) -> Iterator[Finding]:
    """An index on (a) is redundant when an index on (a, b) exists: the longer one serves both.

    ## Why is this bad?
    A B-tree on `(a, b)` is sorted by `a` first, so any lookup or range on `a` alone can use it.
    The separate index on `(a)` adds write cost and memory for no plan it alone makes possible.
    Unique indexes are never reported: they enforce a rule the longer index does not. Partial
    indexes and other methods (hash, GIN, full-text) do not have the prefix property either.

    ## Example
    ```sql
    CREATE INDEX orders_customer_id_idx ON orders (customer_id);
    CREATE INDEX orders_customer_id_created_at_idx ON orders (customer_id, created_at);
    ```

    ## Use instead
    ```sql
    DROP INDEX CONCURRENTLY orders_customer_id_idx;
    ```

    ## Fix safety
    Safe for correctness: no constraint depends on a plain index. The narrower index is smaller,
    so a very hot lookup on the prefix may read a few more pages; compare the sizes in the evidence.
    """
    for table in ctx.tables():
        if table.kind == "collection":
            continue
        for index in table.indexes:
            if (
                index.unique
                or index.primary
                or not index.valid
                or index.predicate
                or not index.columns
                or normalized_method(index) != "btree"
            ):
                continue
            wider = _covering(index, table.indexes)
            if wider is None:
                continue
            drop = drop_statement(ctx, table, index)
            cols = ", ".join(index.columns)
            yield Finding(
                rule_id=SPEC.id,
                name=SPEC.name,
                severity=Severity.MEDIUM if (index.size_bytes or 0) >= 1 << 30 else SPEC.severity,
                title=f"{index.name} ({cols}) is a left prefix of {wider.name} ({', '.join(wider.columns)})",
                subject=index_subject(ctx, table, index),
                subject_kind="index",
                table=table.name,
                evidence={
                    "covered_by": wider.name,
                    "columns": cols,
                    "covering_columns": ", ".join(wider.columns),
                    "size_bytes": index.size_bytes,
                    "covering_size_bytes": wider.size_bytes,
                    "scans": index.scans,
                },
                rationale=(
                    f"{wider.name} is ordered by the same leading columns, so it answers every lookup "
                    f"{index.name} can. Keeping both doubles the maintenance on every write to those columns."
                ),
                help=f"Drop {index.name}; {wider.name} serves the same queries.",
                fix=(
                    Fix(
                        title=f"Drop the redundant index {index.name}",
                        statements=[drop],
                        safety="safe",
                        note="The wider index is larger; prefix-only lookups read a few more pages.",
                    )
                    if drop
                    else None
                ),
                line=index.source_line,
            )
