"""Index DDL for PostgreSQL partitioned tables, where CREATE INDEX CONCURRENTLY is refused on the parent.

PostgreSQL (11+) rejects `CREATE INDEX CONCURRENTLY ... ON parent` ("cannot create index on partitioned
table concurrently"), and a plain `CREATE INDEX ON parent` holds a SHARE lock on every partition for the
whole build. The documented way around it (CREATE INDEX, "partitioned tables"): build each partition's
index CONCURRENTLY, create the parent's index `ON ONLY` the parent (instant, invalid), then `ALTER INDEX
... ATTACH PARTITION` each partition's index; the parent's index turns valid when the last one is
attached, and partitions created later get the index automatically. Verified on PostgreSQL 15.
"""

from __future__ import annotations

from collections.abc import Sequence

from dbspecialist.adapters.catalog import Table
from dbspecialist.knowledge.sql_text import index_name, qualified, quote_ident

__all__ = ["PARTITIONED_NOTE", "is_partitioned", "partitioned_index_statements", "partitions_of"]

PARTITIONED_NOTE = (
    "CONCURRENTLY is refused on a partitioned table, so each partition's index is built CONCURRENTLY (outside "
    "a transaction block), the parent's index is created ON ONLY the parent (instant, invalid until complete) "
    "and every partition's index is attached to it; it turns valid after the last ATTACH, and new partitions "
    "get the index automatically."
)


def _split(name: str) -> tuple[str | None, str]:
    schema, _, bare = name.rpartition(".")
    return (schema.strip('"') or None), bare.strip('"')


def is_partitioned(table: Table) -> bool:
    return table.kind == "partitioned_table"


def partitions_of(tables: Sequence[Table], parent: Table) -> list[Table]:
    """The direct partitions of `parent` among `tables` (matched on schema and name; no schema means public)."""
    want_schema = (parent.schema_name or "public").lower()
    out = []
    for table in tables:
        if not table.partition_of:
            continue
        schema, name = _split(table.partition_of)
        if name.lower() == parent.name.lower() and (schema or table.schema_name or "public").lower() == want_schema:
            out.append(table)
    return sorted(out, key=lambda t: t.name)


def partitioned_index_statements(
    tables: Sequence[Table],
    parent: Table,
    columns: Sequence[str],
    *,
    name: str | None = None,
    using: str = "",
    tail: str = "",
) -> list[str] | None:
    """The statements building an index on `columns` (already-quoted key SQL) of a partitioned `parent`.

    None when no partition of `parent` is known (the caller then writes one plain CREATE INDEX on the parent).
    `using` is an optional ` USING method` clause, `tail` what follows the key list (` INCLUDE (...) WHERE ...`);
    `name` is the parent index's name (default `<table>_<cols>_idx`).
    """
    if not partitions_of(tables, parent):
        return None
    key = ", ".join(columns)
    leaves: list[str] = []
    parents: list[str] = []

    def build(table: Table, index: str) -> str:
        """Statements for `table`'s index named `index`; returns its qualified name for ATTACH."""
        target = qualified(table.schema_name, table.name, "postgresql")
        index_sql = quote_ident(index, "postgresql")
        children = partitions_of(tables, table) if is_partitioned(table) else []
        if not children:
            leaves.append(f"CREATE INDEX CONCURRENTLY {index_sql} ON {target}{using} ({key}){tail};")
        else:
            attached = [build(child, index_name(child.name, _names(columns))) for child in children]
            own = qualified(table.schema_name, index, "postgresql")
            parents.append(f"CREATE INDEX {index_sql} ON ONLY {target}{using} ({key}){tail};")
            parents.extend(f"ALTER INDEX {own} ATTACH PARTITION {child};" for child in attached)
        return qualified(table.schema_name, index, "postgresql")

    build(parent, name or index_name(parent.name, _names(columns)))
    return leaves + parents


def _names(columns: Sequence[str]) -> list[str]:
    return [c.strip('"') for c in columns]
