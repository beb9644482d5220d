"""SQLite planner steps for CREATE / DROP of tables, indexes, views and triggers, and for other statements."""

from __future__ import annotations

from sqlglot import exp

from dbspecialist.adapters.catalog import Index, Trigger
from dbspecialist.knowledge.ddl.sqlite_text import read_trigger
from dbspecialist.knowledge.migrations.sqlite_render import create_index_sql
from dbspecialist.knowledge.migrations.sqlite_state import SqlitePlanState
from dbspecialist.knowledge.migrations.sqlite_statements import SqliteStatement
from dbspecialist.knowledge.migrations.sqlite_steps import (
    BACKUP_FILE,
    ENGINE,
    StepGroup,
    object_sql,
    parse_sql,
    q,
    sql_step,
)


def create_table(state: SqlitePlanState, stmt: SqliteStatement) -> None:
    """CREATE TABLE as written; the new table joins the tracked schema."""
    name = stmt.name or "?"
    step = sql_step(
        "expand",
        f"Create table {name}",
        name,
        [stmt.text.rstrip(";") + ";"],
        effect="metadata",
        stats=None,
        lock_held="milliseconds: a new schema record",
        rollback=[f"DROP TABLE {q(name)};"],
    )
    state.groups.append(StepGroup("expand", [step]))
    from dbspecialist.knowledge.ddl.dispatch import parse_ddl

    parsed = parse_ddl(stmt.text, "sqlite").catalog.tables
    if parsed:
        state.tables[parsed[0].name.lower()] = parsed[0]


def create_index(state: SqlitePlanState, stmt: SqliteStatement) -> None:
    """CREATE INDEX as written: SQLite has no concurrent build, so writers wait for all of it."""
    table = stmt.table
    step = sql_step(
        "expand",
        f"Create index {stmt.name} on {table}",
        table,
        [stmt.text + ";"],
        effect="build",
        stats=state.stats(table),
        lock_held="the whole index build",
        rollback=[f"DROP INDEX {q(stmt.name or '?')};"],
        notes=["SQLite has no concurrent index build: writers wait for the whole build."],
    )
    state.groups.append(StepGroup("expand", [step]))
    index = index_from_statement(stmt)
    if table and index is not None:
        state.register_index(table, index)


def index_from_statement(stmt: SqliteStatement) -> Index | None:
    """The catalog index a CREATE INDEX statement makes (name, keys as written, unique), when sqlglot reads it."""
    node = parse_sql(stmt.text)
    if not stmt.name or not isinstance(node, exp.Create) or not isinstance(node.this, exp.Index):
        return None
    params = node.this.args.get("params")
    columns = [c.sql(dialect=ENGINE) for c in (params.args.get("columns") or [])] if params else []
    return Index(name=stmt.name, columns=columns, unique=bool(node.args.get("unique")))


def drop_index(state: SqlitePlanState, stmt: SqliteStatement) -> None:
    """DROP INDEX, with the index recreated from the tracked schema as its rollback."""
    name = stmt.name or "?"
    found = state.find_index(name)
    drop_index_step(state, found[0] if found else None, name, found[1] if found else None, text=stmt.text)


def drop_index_step(
    state: SqlitePlanState, table: str | None, name: str, index: Index | None, text: str | None = None
) -> None:
    """The contract step that drops index `name` (of `table`, when known)."""
    rollback: list[str] = []
    if index is not None and table is not None and "<expression>" not in index.columns:
        owner = state.table(table)
        rollback = [create_index_sql(index, table, [c.name for c in owner.columns] if owner else [])]
    step = sql_step(
        "contract",
        f"Drop index {name}" + (f" on {table}" if table else ""),
        table,
        [(text or f"DROP INDEX {q(name)}").rstrip(";") + ";"],
        effect="metadata",
        stats=state.stats(table),
        lock_held="milliseconds to seconds: the index's pages go to the free list",
        rollback=rollback or [f"-- recreate index {name} from its definition (not in the current schema here)"],
        reversible=bool(rollback),
        notes=["Queries that used the index slow down at once; check their plans before dropping it."],
    )
    state.groups.append(StepGroup("contract", [step]))
    owner = state.table(table)
    if owner is not None:
        kept = [i for i in owner.indexes if i.name.lower() != name.lower()]
        state.tables[owner.name.lower()] = owner.model_copy(update={"indexes": kept})


def drop_table(state: SqlitePlanState, stmt: SqliteStatement) -> None:
    """DROP TABLE: a contract step after a backup; with foreign keys on it deletes every row first."""
    name = stmt.name or "?"
    step = sql_step(
        "contract",
        f"Drop table {name}",
        name,
        [stmt.text + ";"],
        effect="scan",
        stats=state.stats(name),
        lock_held="until every page of the table is freed",
        rollback=[f"-- the table and its rows are gone: restore {BACKUP_FILE} (taken in the prepare step)"],
        reversible=False,
        notes=[
            "With foreign keys on, DROP TABLE first deletes every row (ON DELETE actions fire in child tables "
            "and restricting references make it fail); time grows with the table's size."
        ],
    )
    state.groups.append(StepGroup("contract", [step], destructive=True, stops_using=[name]))
    state.tables.pop(name.lower(), None)


def create_object(state: SqlitePlanState, stmt: SqliteStatement) -> None:
    """CREATE VIEW / CREATE TRIGGER as written."""
    what = "view" if stmt.kind == "create_view" else "trigger"
    step = sql_step(
        "expand",
        f"Create {what} {stmt.name}",
        stmt.table,
        [stmt.text + ";"],
        effect="metadata",
        stats=None,
        lock_held="milliseconds: a new schema record",
        rollback=[f"DROP {what.upper()} {q(stmt.name or '?')};"],
    )
    state.groups.append(StepGroup("expand", [step]))
    read = read_trigger(stmt.text) if what == "trigger" else None
    if read is not None and not read.temporary:  # a later rebuild of the table recreates it as it is now
        trigger = Trigger(name=read.name, timing=read.timing, events=list(read.events), definition=read.definition)
        _track_trigger(state, read.name, read.table, trigger)


def drop_object(state: SqlitePlanState, stmt: SqliteStatement) -> None:
    """DROP VIEW / DROP TRIGGER, recreated from the saved definition as its rollback."""
    what = "view" if stmt.kind == "drop_view" else "trigger"
    name = stmt.name or "?"
    definition: str | None = None
    if what == "view" and name.lower() in state.views:
        definition = state.views[name.lower()].definition
    for table in state.tables.values():
        for trigger in table.triggers:
            if what == "trigger" and trigger.name.lower() == name.lower():
                definition = trigger.definition
    rollback = [object_sql(definition, what.upper(), name)] if definition else []
    step = sql_step(
        "contract",
        f"Drop {what} {name}",
        None,
        [stmt.text + ";"],
        effect="metadata",
        stats=None,
        lock_held="milliseconds: a schema record is removed",
        rollback=rollback or [f"-- recreate {what} {name} from its definition (not in the current schema here)"],
        reversible=bool(rollback),
    )
    state.groups.append(StepGroup("contract", [step], stops_using=[name] if what == "view" else []))
    if what == "trigger":
        _track_trigger(state, name, None, None)


def _track_trigger(state: SqlitePlanState, name: str, table: str | None, trigger: Trigger | None) -> None:
    """Remove trigger `name` from the tracked schema, then add `trigger` to `table` (views included)."""
    for tracked in (state.tables, state.views):
        for key, owner in tracked.items():
            kept = [t for t in owner.triggers if t.name.lower() != name.lower()]
            if trigger is not None and table is not None and owner.name.lower() == table.lower():
                kept.append(trigger)
            if kept != owner.triggers:
                tracked[key] = owner.model_copy(update={"triggers": kept})


def other_statement(state: SqlitePlanState, stmt: SqliteStatement) -> None:
    """Any other statement as written, without an automatic rollback."""
    outside = stmt.kind == "vacuum" or (
        stmt.kind == "pragma" and stmt.pragma is not None and stmt.pragma[0] in ("journal_mode", "page_size")
    )
    step = sql_step(
        "expand",
        f"Run `{stmt.text.split(chr(10))[0][:60]}`",
        stmt.table,
        [stmt.text + ";"],
        effect="rewrite" if stmt.kind == "vacuum" else "metadata",
        stats=state.stats(stmt.table),
        lock_held="the statement" if stmt.kind != "pragma" else None,
        transactional=not outside,
        reversible=False,
        rollback=["-- no automatic rollback for this statement"],
    )
    state.groups.append(StepGroup("expand", [step]))
