"""What every engine's planner receives, and what it returns to the assembler (plan.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

from dbspecialist.adapters.catalog import Catalog, Table
from dbspecialist.knowledge.findings import Finding
from dbspecialist.knowledge.migrations.model import MigrationStep, TableStats
from dbspecialist.knowledge.migrations.versions import Version


@dataclass
class PlanContext:
    dialect: str  # postgres | mysql | mariadb | sqlite | mongodb
    version: Version
    version_given: bool
    stats: dict[str, TableStats] = field(default_factory=dict)  # by table name as given (lower-cased)
    catalog: Catalog | None = None  # the current schema, when known (live or current_ddl)

    def stats_for(self, table: str) -> TableStats | None:
        """Size of `table` ('orders' or 'public.orders'): table_stats first, then the live catalog."""
        key = table.lower()
        short = key.rsplit(".", 1)[-1]
        for name in (key, short):
            if name in self.stats:
                return self.stats[name]
        found = self.table(table)
        if found is not None and (found.row_estimate is not None or found.table_bytes is not None):
            return TableStats(rows=found.row_estimate, bytes=found.table_bytes, index_bytes=found.index_bytes)
        return None

    def table(self, table: str) -> Table | None:
        if self.catalog is None:
            return None
        key = table.lower()
        short = key.rsplit(".", 1)[-1]
        for candidate in self.catalog.tables:
            qualified = f"{candidate.schema_name}.{candidate.name}".lower() if candidate.schema_name else None
            if key == qualified or short == candidate.name.lower():
                return candidate
        return None


@dataclass
class PlannerOutput:
    """An engine planner's result; plan.py numbers the steps, orders them by phase and adds lint findings."""

    steps: list[MigrationStep]
    findings: list[Finding] = field(default_factory=list)  # planner-specific risks (lint findings come separately)
    assumptions: list[str] = field(default_factory=list)
    backfill_script: str | None = None
    notes: list[str] = field(default_factory=list)
