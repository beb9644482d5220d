"""What a schema rule sees: the catalog, the engine, live settings (when there are any) and thresholds."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property

from dbspecialist.adapters.catalog import Catalog, Column, Index, Table
from dbspecialist.knowledge.schema import thresholds


@dataclass(frozen=True)
class SchemaContext:
    """Input of every schema rule. Rules never mutate it."""

    catalog: Catalog
    engine: str = "postgresql"
    live: bool = False
    settings: dict[str, str] = field(default_factory=dict)
    version: str | None = None
    thresholds: thresholds.Thresholds = field(default_factory=thresholds.Thresholds)

    def tables(self) -> Iterator[Table]:
        """Base tables (and partitioned tables, collections), not views."""
        for table in self.catalog.tables:
            if table.kind in ("table", "partitioned_table", "collection"):
                yield table

    @cached_property
    def _by_name(self) -> dict[tuple[str | None, str], Table]:
        """(schema, name) and (None, name) → first table with that name, for O(1) lookups."""
        index: dict[tuple[str | None, str], Table] = {}
        for table in self.catalog.tables:
            index.setdefault((table.schema_name, table.name), table)
            index.setdefault((None, table.name), table)
        return index

    def table(self, name: str, schema: str | None = None) -> Table | None:
        return self._by_name.get((schema, name))

    @staticmethod
    def column(table: Table, name: str) -> Column | None:
        for column in table.columns:
            if column.name == name:
                return column
        return None

    @staticmethod
    def indexes_starting_with(table: Table, columns: list[str]) -> list[Index]:
        """Valid, non-partial indexes whose leading key columns are exactly `columns` (any order inside)."""
        wanted = {c.lower() for c in columns}
        out = []
        for index in table.indexes:
            if not index.valid or index.predicate:
                continue
            lead = [c.lower().removesuffix(" desc").removesuffix(" asc") for c in index.columns[: len(columns)]]
            if len(lead) == len(columns) and set(lead) == wanted:
                out.append(index)
        return out
