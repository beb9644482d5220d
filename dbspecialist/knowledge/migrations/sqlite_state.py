"""What the SQLite planner tracks while it reads a migration: the schema as changed so far, the step groups, notes.

`SqlitePlanState` starts from the current catalog (when known) and is updated statement by statement, so a
later statement sees the tables, columns and indexes the earlier ones created, renamed or dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dbspecialist.adapters.catalog import ForeignKey, Index, Table
from dbspecialist.knowledge.migrations.context import PlanContext
from dbspecialist.knowledge.migrations.model import TableStats
from dbspecialist.knowledge.migrations.sqlite_capability import SQLITE_SCHEMA_NAME_SINCE
from dbspecialist.knowledge.migrations.sqlite_render import columns_sql
from dbspecialist.knowledge.migrations.sqlite_steps import StepGroup, mentions, object_sql, q
from dbspecialist.knowledge.migrations.sqlite_table_model import TableModel


@dataclass
class PendingRebuild:
    """The ALTER TABLE clauses folded into one rebuild of `table`, and what the checks and deploy steps need."""

    table: str
    model: TableModel | None  # None: the table is not in the catalog
    changes: list[str] = field(default_factory=list)
    new_checks: list[str] = field(default_factory=list)
    new_not_null: list[str] = field(default_factory=list)
    new_unique: list[list[str]] = field(default_factory=list)
    new_foreign_keys: list[ForeignKey] = field(default_factory=list)
    retyped: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    renamed: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class SqlitePlanState:
    """The schema as changed so far, the step groups in statement order, the pending rebuild, notes and scripts."""

    def __init__(self, ctx: PlanContext) -> None:
        self.ctx = ctx
        self.version = ctx.version
        self.tables: dict[str, Table] = {}
        self.views: dict[str, Table] = {}
        if ctx.catalog is not None:
            for table in ctx.catalog.tables:
                (self.views if table.kind == "view" else self.tables)[table.name.lower()] = table
        self.groups: list[StepGroup] = []
        self.pending: PendingRebuild | None = None
        self.notes: list[str] = []
        self.scripts: list[str] = []

    def stats(self, table: str | None) -> TableStats | None:
        """The size of `table` (given stats first, then the catalog)."""
        return self.ctx.stats_for(table) if table else None

    def table(self, name: str | None) -> Table | None:
        """The tracked table `name`, as changed by the statements so far."""
        return self.tables.get(name.lower()) if name else None

    def note(self, text: str) -> None:
        """Add a plan note once."""
        if text not in self.notes:
            self.notes.append(text)

    @property
    def schema_table(self) -> str:
        """sqlite_schema from 3.33.0, sqlite_master before."""
        return "sqlite_schema" if self.version >= SQLITE_SCHEMA_NAME_SINCE else "sqlite_master"

    def index_named(self, table: str, name: str | None) -> Index | None:
        """The explicit index `name` of `table`, if there is one."""
        found = self.table(table)
        if found is None or name is None:
            return None
        return next((i for i in found.indexes if i.name.lower() == name.lower() and i.origin == "index"), None)

    def duplicates_sql(self, table: str, columns: list[str]) -> str:
        """Up to 10 groups of rows that would break a UNIQUE index on `columns` (NULLs never conflict)."""
        cols = columns_sql(columns)
        not_null = " AND ".join(f"{q(c)} IS NOT NULL" for c in columns)
        return f"SELECT {cols}, COUNT(*) FROM {q(table)} WHERE {not_null} GROUP BY {cols} HAVING COUNT(*) > 1 LIMIT 10;"

    def register_index(self, table: str, index: Index) -> None:
        """Track a new (or replaced) index of `table`."""
        found = self.table(table)
        if found is not None:
            kept = [i for i in found.indexes if i.name.lower() != index.name.lower()]
            self.tables[table.lower()] = found.model_copy(update={"indexes": [*kept, index]})

    def find_index(self, name: str) -> tuple[str, Index] | None:
        """(table, index) for the index `name` in any tracked table."""
        for table in self.tables.values():
            for index in table.indexes:
                if index.name.lower() == name.lower():
                    return table.name, index
        return None

    def new_name(self, table: str) -> str:
        """`new_<table>`, numbered when that name is taken."""
        candidate, n = f"new_{table}", 1
        while candidate.lower() in self.tables or candidate.lower() in self.views:
            candidate, n = f"new_{table}_{n}", n + 1
        return candidate

    def dependent_objects(self, table: str) -> list[tuple[str, str, list[str]]]:
        """(VIEW | TRIGGER, name, CREATE statements) of the views and other tables' triggers that name `table`.

        ALTER TABLE ... RENAME (step 7) refuses to run while a view or trigger names a table that does not exist,
        so they are dropped before the old table and created again after the rename. A view comes with its own
        (INSTEAD OF) triggers, which go with it; views on those views follow.
        """
        found: list[tuple[str, str, list[str]]] = []
        names = [table]
        seen: set[str] = set()
        while names:
            current = names.pop(0)
            for view in self.views.values():
                if view.name.lower() in seen or not mentions(view.definition, current):
                    continue
                seen.add(view.name.lower())
                names.append(view.name)
                creates = [object_sql(view.definition or "", "VIEW", view.name)]
                creates += [object_sql(t.definition, "TRIGGER", t.name) for t in view.triggers if t.definition]
                found.append(("VIEW", view.name, creates))
            for other in self.tables.values():
                if other.name.lower() == table.lower():
                    continue
                for trigger in other.triggers:
                    if trigger.name.lower() in seen or not mentions(trigger.definition, current):
                        continue
                    seen.add(trigger.name.lower())
                    found.append(
                        ("TRIGGER", trigger.name, [object_sql(trigger.definition or "", "TRIGGER", trigger.name)])
                    )
        return found

    def dependents(self, table: str) -> tuple[list[str], list[str]]:
        """(DROP statements, CREATE statements) for the dependent objects of `table` (see dependent_objects)."""
        found = self.dependent_objects(table)
        drops = [f"DROP {kind} {q(name)};" for kind, name, _ in found]
        return drops, [sql for _, _, creates in found for sql in creates]

    def children(self, table: str) -> list[str]:
        """Tables with a foreign key referencing `table`."""
        return sorted(
            t.name
            for t in self.tables.values()
            if t.name.lower() != table.lower() and any(fk.ref_table.lower() == table.lower() for fk in t.foreign_keys)
        )
