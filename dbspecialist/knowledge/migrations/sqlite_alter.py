"""ALTER TABLE in the SQLite planner: the clauses SQLite runs itself, and which ones must become a rebuild.

Direct: RENAME TO, RENAME COLUMN (3.25.0+), ADD COLUMN (no PRIMARY KEY, UNIQUE, non-constant default or STORED
generated column) and DROP COLUMN (3.35.0+; not for a key, UNIQUE, indexed column or one a constraint, trigger or
view uses). ADD UNIQUE becomes a UNIQUE index. Every other clause is folded into one rebuild of the table
(sqlite_rebuild), together with the clauses next to it on the same table.
"""

from __future__ import annotations

import re
from dataclasses import replace

from dbspecialist.adapters.catalog import CheckConstraint, Column, Index
from dbspecialist.knowledge.migrations.model import MigrationInputError, TableEffect, TableStats
from dbspecialist.knowledge.migrations.sqlite_capability import (
    ADD_COLUMN_CHECKS_ROWS_SINCE,
    RENAME_COLUMN_SINCE,
    RENAME_REWRITES_FOREIGN_KEYS_SINCE,
    needs_rebuild,
)
from dbspecialist.knowledge.migrations.sqlite_clauses import AlterAction, ColumnDefinition
from dbspecialist.knowledge.migrations.sqlite_objects import drop_index_step
from dbspecialist.knowledge.migrations.sqlite_rebuild import flush_rebuild, fold_action, start_rebuild
from dbspecialist.knowledge.migrations.sqlite_render import columns_sql
from dbspecialist.knowledge.migrations.sqlite_state import SqlitePlanState
from dbspecialist.knowledge.migrations.sqlite_statements import SqliteStatement
from dbspecialist.knowledge.migrations.sqlite_steps import (
    BACKUP_FILE,
    ENGINE,
    StepGroup,
    deploy_step,
    mentions,
    q,
    sql_step,
)
from dbspecialist.knowledge.migrations.versions import version_text


def plan_alter(state: SqlitePlanState, stmt: SqliteStatement) -> None:
    """Each clause runs directly or joins the rebuild of its table (merged with neighbouring clauses on it)."""
    if stmt.error or stmt.table is None:
        raise MigrationInputError(f"line {stmt.line}: cannot read `{stmt.text}`: {stmt.error}")
    table = stmt.table
    rebuild_here = any(rebuild_reasons(state, table, a) for a in stmt.actions)
    for action in stmt.actions:
        if adds_not_null_without_default(action):
            add_not_null_in_steps(state, stmt, table, action)
            continue
        renames = action.kind in ("rename_table", "rename_column")
        foldable = not renames or (action.kind == "rename_column" and state.version < RENAME_COLUMN_SINCE)
        pending_here = state.pending is not None and state.pending.table.lower() == table.lower()
        if foldable and (rebuild_here or pending_here or rebuild_reasons(state, table, action)):
            if not pending_here:
                flush_rebuild(state)
                state.pending = start_rebuild(state, table)
            assert state.pending is not None
            fold_action(state, state.pending, action)
            continue
        flush_rebuild(state)
        direct_alter(state, stmt, table, action)


PLACEHOLDER = "<value for existing rows>"


def adds_not_null_without_default(action: AlterAction) -> bool:
    """ADD COLUMN ... NOT NULL whose default is NULL: SQLite refuses it ("Cannot add a NOT NULL column with default
    value NULL"), even on an empty table."""
    definition = action.definition
    return (
        action.kind == "add_column"
        and definition is not None
        and definition.not_null
        and definition.default_is_null
        and definition.generated is None
        and not definition.primary_key
    )


def add_not_null_in_steps(state: SqlitePlanState, stmt: SqliteStatement, table: str, action: AlterAction) -> None:
    """The NOT NULL column SQLite cannot add directly: add it nullable, have the application write it, backfill
    the existing rows, then rebuild the table with NOT NULL (the rebuild's copy fails, rolled back, on a NULL)."""
    definition = action.definition
    assert definition is not None
    nullable_text = re.sub(r"\s+NOT\s+NULL\b", "", definition.text, count=1, flags=re.IGNORECASE)
    nullable = replace(definition, not_null=False, text=nullable_text)
    flush_rebuild(state)
    direct_alter(
        state,
        stmt,
        table,
        AlterAction("add_column", f"ADD COLUMN {nullable_text}", column=definition.name, definition=nullable),
    )
    added = state.groups[-1].steps[-1]
    state.groups[-1].steps[-1] = added.model_copy(
        update={
            "notes": [
                f"Added without NOT NULL first: SQLite refuses ADD COLUMN ... NOT NULL without a non-NULL DEFAULT. "
                f"The table is rebuilt with NOT NULL once every row has {definition.name}.",
                *added.notes,
            ]
        }
    )
    column = q(definition.name)
    state.groups.append(
        StepGroup(
            "expand",
            [
                deploy_step(
                    f"Deploy the application version that writes {table}.{definition.name} on every INSERT",
                    "expand",
                    note="Before the backfill and the rebuild: rows inserted without it would stay NULL and make "
                    "the rebuild fail.",
                )
            ],
        )
    )
    backfill = sql_step(
        "backfill",
        f"Backfill {table}.{definition.name} for existing rows (replace the placeholder value first)",
        table,
        [f"UPDATE {q(table)} SET {column} = {PLACEHOLDER} WHERE {column} IS NULL;"],
        effect="rows",
        stats=state.stats(table),
        lock_held="the whole statement",
        rollback=[f"UPDATE {q(table)} SET {column} = NULL;"],
        notes=[
            f"Replace {PLACEHOLDER} with the value existing rows should get; the statement does not run as "
            "generated. On a large table run it in rowid ranges so other writers get the lock between them.",
        ],
    )
    state.groups.append(StepGroup("backfill", [backfill]))
    set_not_null = AlterAction("set_not_null", f"ALTER COLUMN {column} SET NOT NULL", column=definition.name)
    state.pending = start_rebuild(state, table)
    fold_action(state, state.pending, set_not_null)


def rebuild_reasons(state: SqlitePlanState, table: str, action: AlterAction) -> list[str]:
    """Why `action` needs a rebuild of `table`; [] when SQLite's ALTER TABLE (or a UNIQUE index) does it."""
    if action.kind == "add_unique":
        return []  # a UNIQUE index does the same job without a rebuild
    if action.kind == "drop_constraint" and state.index_named(table, action.constraint_name) is not None:
        return []
    reasons = needs_rebuild(action, version=state.version)
    if action.kind == "drop_column" and action.column and not reasons:
        reasons = drop_column_blockers(state, table, action.column)
    return reasons


def drop_column_blockers(state: SqlitePlanState, table_name: str, column: str) -> list[str]:
    """Why SQLite's DROP COLUMN refuses this column (SQLite docs, ALTER TABLE DROP COLUMN)."""
    table = state.table(table_name)
    if table is None:
        return []
    name = column.lower()
    out: list[str] = []
    if table.primary_key and name in {c.lower() for c in table.primary_key.columns}:
        out.append("it is part of the PRIMARY KEY")
    if any(name in {c.lower() for c in u.columns} for u in table.unique_constraints):
        out.append("it has a UNIQUE constraint")
    for index in table.indexes:
        if index.origin != "index":
            continue
        if any(mentions(c, column) for c in index.columns):
            out.append(f"index {index.name} uses it")
        elif mentions(index.predicate, column):
            out.append(f"the WHERE clause of partial index {index.name} uses it")
    if any(mentions(c.expression, column) for c in table.check_constraints):
        out.append("a CHECK constraint uses it")
    if any(name in {c.lower() for c in fk.columns} for fk in table.foreign_keys):
        out.append("a FOREIGN KEY uses it")
    if any(c.generated and mentions(c.generated, column) for c in table.columns):
        out.append("a generated column uses it")
    users = [t.name for t in table.triggers if mentions(t.definition, column)]
    users += [v.name for v in state.views.values() if mentions(v.definition, column)]
    if users:
        out.append(f"{', '.join(sorted(users))} use it")
    return out


def direct_alter(state: SqlitePlanState, stmt: SqliteStatement, table: str, action: AlterAction) -> None:
    """Plan a clause SQLite's ALTER TABLE runs itself."""
    stats = state.stats(table)
    sql = [f"ALTER TABLE {q(table)} {action.text};"]
    kind = action.kind
    if kind == "add_column" and action.definition is not None:
        add_column(state, table, action.definition, sql, stats)
    elif kind == "drop_column" and action.column:
        drop_column(state, table, action.column, sql, stats)
    elif kind == "rename_column" and action.column and action.new_name:
        rename_column(state, table, action.column, action.new_name)
    elif kind == "rename_table" and action.new_name:
        rename_table(state, table, action.new_name)
    elif kind == "add_unique":
        unique_index(state, table, action.constraint_name, list(action.columns))
    elif kind == "drop_constraint":
        index = state.index_named(table, action.constraint_name)
        assert index is not None
        drop_index_step(state, table, index.name, index)
    else:  # pragma: no cover - every other kind is a rebuild
        raise MigrationInputError(f"line {stmt.line}: cannot plan `{action.text}`")


def add_column(
    state: SqlitePlanState, table: str, definition: ColumnDefinition, sql: list[str], stats: TableStats | None
) -> None:
    """ADD COLUMN: a schema-record change, or a scan of the rows from 3.37.0 when it brings a CHECK."""
    notes: list[str] = []
    scans = bool(definition.checks) or (definition.generated is not None and definition.not_null)
    effect: TableEffect = "scan" if scans and state.version >= ADD_COLUMN_CHECKS_ROWS_SINCE else "metadata"
    if effect == "scan":
        notes.append("SQLite 3.37.0+ tests the new column's CHECK / NOT NULL against every existing row.")
    elif definition.checks:
        notes.append("Before 3.37.0 SQLite does not test the new CHECK against existing rows.")
    if definition.not_null and definition.default_is_null and definition.generated is None:
        notes.append(
            "SQLite rejects this statement: a NOT NULL column needs a non-NULL DEFAULT (see MIG151); add one "
            "or add the column nullable and backfill it."
        )
    if definition.references is not None:
        notes.append("With foreign keys on, a REFERENCES column must default to NULL.")
    rollback, reversible = drop_column_rollback(state, table, definition.name)
    step = sql_step(
        "expand",
        f"Add column {table}.{definition.name}",
        table,
        sql,
        effect=effect,
        stats=stats,
        lock_held="milliseconds: only the table's schema record changes"
        if effect == "metadata"
        else "the scan of existing rows",
        rollback=rollback,
        reversible=reversible,
        notes=notes,
    )
    state.groups.append(StepGroup("expand", [step]))
    found = state.table(table)
    if found is not None:
        column = Column(
            name=definition.name,
            data_type=definition.type_text,
            nullable=not definition.not_null,
            default=definition.default,
            ordinal=len(found.columns),
            generated=definition.generated,
            generated_kind=("stored" if definition.stored else "virtual") if definition.generated else None,
            collation=definition.collation,
        )
        foreign = [*found.foreign_keys, definition.references] if definition.references else found.foreign_keys
        checks = [*found.check_constraints, *(CheckConstraint(expression=c) for c in definition.checks)]
        state.tables[table.lower()] = found.model_copy(
            update={"columns": [*found.columns, column], "foreign_keys": foreign, "check_constraints": checks}
        )


def drop_column_rollback(state: SqlitePlanState, table: str, column: str) -> tuple[list[str], bool]:
    """The statement that undoes ADD COLUMN, or a restore when this version has no DROP COLUMN."""
    if needs_rebuild(AlterAction("drop_column", "", column=column), version=state.version):
        return [f"-- SQLite {version_text(state.version, ENGINE)} has no DROP COLUMN: restore {BACKUP_FILE}"], False
    return [f"ALTER TABLE {q(table)} DROP COLUMN {q(column)};"], True


def drop_column(state: SqlitePlanState, table: str, column: str, sql: list[str], stats: TableStats | None) -> None:
    """DROP COLUMN (3.35.0+): rewrites every row; a contract step after the application stops using it."""
    notes = ["DROP COLUMN rewrites every row of the table to remove the column's data."]
    if state.table(table) is None:
        notes.append(
            "The current schema is unknown here: SQLite refuses the DROP when the column is part of the PRIMARY "
            "KEY, UNIQUE, indexed, in a partial-index WHERE, a CHECK, a foreign key, a generated column, a "
            "trigger or a view; plan with the catalog to get the rebuild instead."
        )
    step = sql_step(
        "contract",
        f"Drop column {table}.{column}",
        table,
        sql,
        effect="rewrite",
        stats=stats,
        lock_held="the whole rewrite of the table",
        rollback=[f"-- the column's data is gone: restore {BACKUP_FILE} (taken in the prepare step)"],
        reversible=False,
        notes=notes,
    )
    state.groups.append(StepGroup("contract", [step], destructive=True, stops_using=[f"{table}.{column}"]))
    found = state.table(table)
    if found is not None:
        kept = [c for c in found.columns if c.name.lower() != column.lower()]
        state.tables[table.lower()] = found.model_copy(update={"columns": kept})


def rename_column(state: SqlitePlanState, table: str, old: str, new: str) -> None:
    """RENAME COLUMN (3.25.0+): instant; queries using the old name fail from then on."""
    step = sql_step(
        "expand",
        f"Rename column {table}.{old} to {new}",
        table,
        [f"ALTER TABLE {q(table)} RENAME COLUMN {q(old)} TO {q(new)};"],
        effect="metadata",
        stats=state.stats(table),
        lock_held="milliseconds: the schema text is rewritten",
        rollback=[f"ALTER TABLE {q(table)} RENAME COLUMN {q(new)} TO {q(old)};"],
        notes=[
            "SQLite also renames the column inside indexes, triggers and views (3.25.0+). Queries using the old "
            "name fail from this moment: release the application change together with it."
        ],
    )
    state.groups.append(StepGroup("expand", [step], starts_using=[(f"{table}.{old}", f"{table}.{new}")]))
    found = state.table(table)
    if found is not None:
        columns = [c.model_copy(update={"name": new}) if c.name.lower() == old.lower() else c for c in found.columns]
        state.tables[table.lower()] = found.model_copy(update={"columns": columns})


def rename_table(state: SqlitePlanState, old: str, new: str) -> None:
    """RENAME TO: instant; foreign keys, triggers and views follow the new name from 3.26.0."""
    notes = ["Queries using the old name fail from this moment: release the application change together with it."]
    if state.version >= RENAME_REWRITES_FOREIGN_KEYS_SINCE:
        notes.append(
            "Foreign keys, triggers and views that name the table are rewritten to the new name "
            "(3.26.0+ with legacy_alter_table off, the default)."
        )
    else:
        notes.append("Before 3.26.0 triggers and views naming the old table are not all rewritten: check them.")
    step = sql_step(
        "expand",
        f"Rename table {old} to {new}",
        old,
        [f"ALTER TABLE {q(old)} RENAME TO {q(new)};"],
        effect="metadata",
        stats=state.stats(old),
        lock_held="milliseconds: the schema text is rewritten",
        rollback=[f"ALTER TABLE {q(new)} RENAME TO {q(old)};"],
        notes=notes,
    )
    state.groups.append(StepGroup("expand", [step], starts_using=[(old, new)]))
    found = state.tables.pop(old.lower(), None)
    if found is not None:
        state.tables[new.lower()] = found.model_copy(update={"name": new})


def unique_index(state: SqlitePlanState, table: str, name: str | None, columns: list[str]) -> None:
    """ADD UNIQUE as a duplicates check and a CREATE UNIQUE INDEX instead of a rebuild."""
    index = name or f"{table}_{'_'.join(columns)}_key"
    stats = state.stats(table)
    check = sql_step(
        "expand",
        f"Find duplicates that would stop the UNIQUE index on {table} ({', '.join(columns)})",
        table,
        [state.duplicates_sql(table, columns)],
        effect="scan",
        stats=stats,
        lock_held=None,
        kind="check",
        notes=["Must return no rows; NULLs never conflict in a SQLite UNIQUE index."],
    )
    create = sql_step(
        "expand",
        f"Create UNIQUE index {index} on {table} ({', '.join(columns)}) instead of a UNIQUE constraint",
        table,
        [f"CREATE UNIQUE INDEX {q(index)} ON {q(table)} ({columns_sql(columns)});"],
        effect="build",
        stats=stats,
        lock_held="the whole index build",
        rollback=[f"DROP INDEX {q(index)};"],
        notes=[
            "SQLite cannot add a UNIQUE constraint; a UNIQUE index enforces the same rule (and can serve as a "
            "foreign-key parent key) without rebuilding the table."
        ],
    )
    state.groups.append(StepGroup("expand", [check, create]))
    state.register_index(table, Index(name=index, columns=columns, unique=True))
