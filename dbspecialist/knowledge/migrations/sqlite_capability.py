"""What SQLite's ALTER TABLE can do by itself, by version (SQLite docs, "ALTER TABLE", and the release log)."""

from __future__ import annotations

from typing import Final

from dbspecialist.knowledge.migrations.sqlite_clauses import AlterAction, ColumnDefinition

Version = tuple[int, int, int]

# Version gates (SQLite release log and the ALTER TABLE page).
RENAME_COLUMN_SINCE: Final[Version] = (3, 25, 0)
RENAME_REWRITES_FOREIGN_KEYS_SINCE: Final[Version] = (3, 26, 0)  # legacy_alter_table=OFF by default
VACUUM_INTO_SINCE: Final[Version] = (3, 27, 0)
GENERATED_COLUMNS_SINCE: Final[Version] = (3, 31, 0)
SQLITE_SCHEMA_NAME_SINCE: Final[Version] = (3, 33, 0)  # `sqlite_schema` alias of sqlite_master
DROP_COLUMN_SINCE: Final[Version] = (3, 35, 0)
DROP_COLUMN_SETTLED: Final[Version] = (3, 35, 5)  # the first 3.35 patch releases fixed DROP COLUMN defects
ADD_COLUMN_CHECKS_ROWS_SINCE: Final[Version] = (3, 37, 0)  # ADD COLUMN tests new CHECKs against existing rows


def add_column_blockers(definition: ColumnDefinition, *, version: Version) -> list[str]:
    """Why `ALTER TABLE ... ADD COLUMN` refuses this column (SQLite docs, ALTER TABLE ADD COLUMN); [] when it can."""
    out: list[str] = []
    if definition.primary_key:
        out.append("a PRIMARY KEY column cannot be added")
    if definition.unique:
        out.append("a UNIQUE column cannot be added")
    if definition.default is not None and not definition.default_constant:
        out.append(f"the default {definition.default} is not a constant (CURRENT_* or an expression in parentheses)")
    if definition.generated is not None and definition.stored:
        out.append("a STORED generated column cannot be added (VIRTUAL can)")
    if definition.generated is not None and version < GENERATED_COLUMNS_SINCE:
        out.append("generated columns need SQLite 3.31.0")
    if definition.references is not None and not definition.default_is_null:
        out.append("a REFERENCES column must default to NULL while foreign keys are enabled")
    return out


def needs_rebuild(action: AlterAction, *, version: Version) -> list[str]:
    """Why SQLite's ALTER TABLE cannot apply `action` itself, from the statement alone; [] when it can.

    Catalog-dependent reasons (DROP COLUMN of an indexed, UNIQUE or key column) are the planner's to add.
    ADD COLUMN ... NOT NULL without a default is not a rebuild case: the fix is a default (MIG151).
    """
    kind = action.kind
    if kind == "add_column" and action.definition is not None:
        return add_column_blockers(action.definition, version=version)
    if kind == "rename_column" and version < RENAME_COLUMN_SINCE:
        return ["RENAME COLUMN needs SQLite 3.25.0"]
    if kind == "drop_column" and version < DROP_COLUMN_SINCE:
        return ["DROP COLUMN needs SQLite 3.35.0"]
    reasons: dict[str, str] = {
        "alter_type": "SQLite cannot change a column's type in place",
        "set_not_null": "SQLite cannot add NOT NULL to an existing column",
        "drop_not_null": "SQLite cannot remove NOT NULL from a column",
        "set_default": "SQLite cannot change a column's default",
        "drop_default": "SQLite cannot change a column's default",
        "add_check": "SQLite cannot add a CHECK constraint to an existing table",
        "add_unique": "SQLite cannot add a UNIQUE constraint (a UNIQUE index can do the same job)",
        "add_primary_key": "SQLite cannot add a PRIMARY KEY to an existing table",
        "add_foreign_key": "SQLite cannot add a FOREIGN KEY to an existing table",
        "drop_constraint": "SQLite cannot drop a constraint",
    }
    return [reasons[kind]] if kind in reasons else []
