"""Planning a table rebuild the change writes out itself, with the same safe steps as the rebuilds the planner writes.

The block (found by sqlite_rebuild_block) runs as written inside one `BEGIN IMMEDIATE` transaction. Around it the
plan puts what the procedure needs whatever the change said: a backup first (the only way back after COMMIT),
the saved definitions, checks of the rows the new constraints would reject, `PRAGMA foreign_keys = OFF` outside
the transaction (inside it SQLite ignores the PRAGMA, and with foreign keys on `DROP TABLE X` deletes every row
first, firing ON DELETE actions in child tables), `PRAGMA foreign_key_check` before COMMIT, and foreign keys on
again after it. Inside the transaction it adds only what the written rebuild needs to succeed or to keep state:
dropping and recreating the views and other tables' triggers that name the table (the rename fails otherwise)
and carrying the AUTOINCREMENT counter over.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlglot import exp

from dbspecialist.adapters.catalog import Table, Trigger
from dbspecialist.knowledge.migrations.model import MigrationStep, Phase, TableStats
from dbspecialist.knowledge.migrations.sqlite_objects import index_from_statement
from dbspecialist.knowledge.migrations.sqlite_rebuild import (
    FOREIGN_KEY_NOTES,
    capture_step,
    checks_step,
    flush_rebuild,
    transaction_step,
)
from dbspecialist.knowledge.migrations.sqlite_rebuild_block import RebuildBlock, RebuiltTable
from dbspecialist.knowledge.migrations.sqlite_render import sequence_sql
from dbspecialist.knowledge.migrations.sqlite_state import PendingRebuild, SqlitePlanState
from dbspecialist.knowledge.migrations.sqlite_steps import (
    StepGroup,
    foreign_keys_step,
    mentions,
    parse_sql,
    q,
)


@dataclass
class TableChange:
    """What rebuilding one table changes, read from the current and the new definition and the copy."""

    rebuilt: RebuiltTable
    old: Table | None
    new: Table | None
    added: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    renamed: list[tuple[str, str]] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    checks: PendingRebuild | None = None  # the new constraints to count violations of, for checks_step
    notes: list[str] = field(default_factory=list)

    @property
    def table(self) -> str:
        return self.rebuilt.table

    def summary(self) -> str:
        parts = [
            f"adds {', '.join(self.added)}" if self.added else "",
            f"drops {', '.join(self.dropped)}" if self.dropped else "",
            f"renames {', '.join(f'{a} to {b}' for a, b in self.renamed)}" if self.renamed else "",
            f"changes {', '.join(self.changed)}" if self.changed else "",
        ]
        return "; ".join(p for p in parts if p) or "same columns, new constraints or options"


def _key(name: str) -> str:
    """SQLite compares identifiers without case."""
    return name.lower()


def _parse_new_table(rebuilt: RebuiltTable) -> Table | None:
    """The new definition as a catalog table under the final name; None when it cannot be read (CREATE ... AS)."""
    from dbspecialist.knowledge.ddl.dispatch import parse_ddl

    try:
        tables = parse_ddl(rebuilt.create.text, "sqlite").catalog.tables
    except ValueError:
        return None
    if len(tables) != 1 or not tables[0].columns:
        return None
    return tables[0].model_copy(update={"name": rebuilt.table})


def copy_sources(rebuilt: RebuiltTable, old: Table, new: Table) -> dict[str, str | None] | None:
    """New column → the old column it is copied from (None: copied from an expression), from the INSERT ... SELECT.

    Columns the INSERT does not fill are absent. None when the copy is missing or cannot be read.
    """
    copy = rebuilt.copy
    node = parse_sql(copy.text) if copy is not None and copy.kind == "insert" else None
    if not isinstance(node, exp.Insert) or not isinstance(node.expression, exp.Select):
        return None
    target = node.this
    targets = [e.name for e in target.expressions] if isinstance(target, exp.Schema) else [c.name for c in new.columns]
    selected = list(node.expression.expressions)
    if len(selected) == 1 and isinstance(selected[0], exp.Star):
        sources: list[str | None] = [c.name for c in old.columns]
    else:
        sources = [_column_name(e) for e in selected]
    if len(sources) != len(targets):
        return None
    return {_key(t): s for t, s in zip(targets, sources, strict=True)}


def _column_name(expression: exp.Expression) -> str | None:
    inner = expression.this if isinstance(expression, exp.Alias) else expression
    return inner.name if isinstance(inner, exp.Column) else None


def _same_text(a: str | None, b: str | None) -> bool:
    return " ".join((a or "").lower().split()) == " ".join((b or "").lower().split())


def _columns_of(expression: str) -> set[str] | None:
    node = parse_sql(f"SELECT 1 WHERE {expression}")
    return None if node is None else {_key(c.name) for c in node.find_all(exp.Column)}


def analyse(state: SqlitePlanState, rebuilt: RebuiltTable) -> TableChange:
    """Compare the table before and after; the constraint checks apply to columns copied under the same name."""
    old, new = state.table(rebuilt.table), _parse_new_table(rebuilt)
    change = TableChange(rebuilt, old, new)
    if rebuilt.copy is None:
        change.notes.append(
            f"Nothing copies the rows of {rebuilt.table} into {rebuilt.temporary} before DROP TABLE: the rebuilt "
            f"table starts empty. Add INSERT INTO {rebuilt.temporary} (...) SELECT ... FROM {rebuilt.table}."
        )
    if old is None or new is None:
        what = "current" if old is None else "new"
        change.notes.append(
            f"The {what} definition of {rebuilt.table} is not known here, so the plan cannot check what the rebuild "
            "changes: compare it with the definitions the save step prints."
        )
        return change
    readable = copy_sources(rebuilt, old, new)
    sources = readable or {}
    old_names = {_key(c.name): c for c in old.columns}
    new_names = {_key(c.name): c for c in new.columns}
    same = {k for k in new_names if k in old_names and _key(sources.get(k) or "") == k}  # copied as it was
    for key, column in new_names.items():
        source = sources.get(key)
        if key in old_names:
            before = old_names[key]
            differs = not _same_text(before.data_type, column.data_type) or before.nullable != column.nullable
            if differs or not _same_text(before.default, column.default):
                change.changed.append(column.name)
        elif source is not None and _key(source) in old_names and _key(source) not in new_names:
            change.renamed.append((old_names[_key(source)].name, column.name))
        else:
            change.added.append(column.name)
            unfilled = readable is not None and key not in readable
            if unfilled and not column.nullable and column.default is None and column.generated is None:
                change.notes.append(
                    f"New column {column.name} is NOT NULL without a default and the copy does not fill it: the "
                    "INSERT fails unless the table is empty."
                )
    renamed_from = {_key(a) for a, _ in change.renamed}
    change.dropped = [c.name for k, c in old_names.items() if k not in new_names and k not in renamed_from]
    change.checks = _new_constraints(rebuilt.table, old, new, same)
    return change


def _new_constraints(table: str, old: Table, new: Table, same: set[str]) -> PendingRebuild:
    """The constraints the new definition adds on columns copied unchanged in name, as checks_step reads them."""
    pending = PendingRebuild(table=table, model=None)
    old_columns = {_key(c.name): c for c in old.columns}
    for column in new.columns:
        key = _key(column.name)
        if key in same and not column.nullable and old_columns[key].nullable:
            pending.new_not_null.append(column.name)
        if key in same and not _same_text(old_columns[key].data_type, column.data_type):
            pending.retyped.append(column.name)
    old_checks = [c.expression for c in old.check_constraints]
    for check in new.check_constraints:
        used = _columns_of(check.expression)
        if used and used <= same and not any(_same_text(check.expression, o) for o in old_checks):
            pending.new_checks.append(check.expression)
    old_keys = {tuple(_key(c) for c in u.columns) for u in old.unique_constraints}
    old_keys |= {tuple(_key(c) for c in i.columns) for i in old.indexes if i.unique}
    if old.primary_key is not None:
        old_keys.add(tuple(_key(c) for c in old.primary_key.columns))
    keys = [u.columns for u in new.unique_constraints] + ([new.primary_key.columns] if new.primary_key else [])
    for columns in keys:
        lowered = tuple(_key(c) for c in columns)
        if lowered not in old_keys and set(lowered) <= same:
            pending.new_unique.append(list(columns))
    old_fks = {(tuple(_key(c) for c in fk.columns), _key(fk.ref_table)) for fk in old.foreign_keys}
    for fk in new.foreign_keys:
        lowered = tuple(_key(c) for c in fk.columns)
        if (lowered, _key(fk.ref_table)) not in old_fks and set(lowered) <= same:
            pending.new_foreign_keys.append(fk)
    return pending


def _named(block: RebuildBlock, kinds: tuple[str, ...]) -> set[str]:
    return {_key(s.name) for s in block.body if s.kind in kinds and s.name}


def _dependents(
    state: SqlitePlanState, block: RebuildBlock, changes: list[TableChange], notes: list[str]
) -> tuple[list[str], list[str]]:
    """DROP / CREATE of the views and other tables' triggers naming a rebuilt table that the block leaves alone."""
    handled = _named(block, ("drop_view", "drop_trigger", "create_view", "create_trigger"))
    gone = [name for c in changes for name in [*c.dropped, *(a for a, _ in c.renamed)]]
    drops: list[str] = []
    creates: list[str] = []
    seen: set[str] = set()
    for table in block.tables:
        for kind, name, sql in state.dependent_objects(table.table):
            if _key(name) in handled or _key(name) in seen:
                continue
            seen.add(_key(name))
            drops.append(f"DROP {kind} {q(name)};")
            creates += sql
            used = [column for column in gone if any(mentions(s, column) for s in sql)]
            if used:
                notes.append(
                    f"{kind.capitalize()} {name} uses {', '.join(used)}, which the rebuild drops or renames: its "
                    "CREATE fails and rolls the transaction back. Rewrite it in the change (DROP and CREATE it there)."
                )
    if drops:
        notes.append(
            "Added: DROP and CREATE of the views and other tables' triggers that name the rebuilt table, around "
            "the rename (ALTER TABLE ... RENAME fails while they name a table that does not exist)."
        )
    return drops, creates


def _transaction_sql(
    state: SqlitePlanState, block: RebuildBlock, changes: list[TableChange], notes: list[str]
) -> list[str]:
    """The block's statements as written between BEGIN IMMEDIATE and COMMIT, with the additions it needs."""
    begin = "BEGIN EXCLUSIVE;" if block.begin and "EXCLUSIVE" in block.begin.upper() else "BEGIN IMMEDIATE;"
    drops, creates = _dependents(state, block, changes, notes)
    first_drop = min(block.body.index(t.drop) for t in block.tables)
    last_rename = max(block.body.index(t.rename) for t in block.tables)
    counters = {
        block.body.index(t.drop): t
        for t in block.tables
        if re.search(r"\bAUTOINCREMENT\b", t.create.text, re.I)
        and not any(mentions(s.text, "sqlite_sequence") for s in block.body)
    }
    sql = [begin]
    for i, stmt in enumerate(block.body):
        if i == first_drop:
            sql += drops
        if i in counters:
            sql += sequence_sql(counters[i].table, counters[i].temporary)
            notes.append(
                f"Added: the AUTOINCREMENT counter of {counters[i].table} is carried over, so the ids of deleted "
                "rows are not handed out again."
            )
        sql.append(stmt.text.rstrip().rstrip(";") + ";")
        if i == last_rename:
            sql += creates
    if not block.has_foreign_key_check:
        tables = [t.table for t in block.tables]
        children = [c for t in tables for c in state.children(t) if _key(c) not in {_key(n) for n in tables}]
        sql += [f"PRAGMA foreign_key_check({q(name)});" for name in dict.fromkeys([*tables, *children])]
        notes.append("Added: PRAGMA foreign_key_check before COMMIT, for the rebuilt tables and their children.")
    sql.append("COMMIT;")
    return sql


def _block_notes(block: RebuildBlock, changes: list[TableChange]) -> list[str]:
    """What the plan changed in the written rebuild and what the written rebuild misses."""
    notes = [
        "Planned from the rebuild written in the change: its statements run as written, in one transaction, with "
        "foreign keys turned off before it and checked before COMMIT.",
    ]
    if block.begin is None:
        notes.append("The change ran the rebuild without BEGIN / COMMIT: here it is one transaction.")
    if block.misplaced_pragmas:
        notes.append(
            "PRAGMA foreign_keys inside the transaction does nothing (SQLite ignores it there): it is left out and "
            "foreign keys are turned off before the transaction instead."
        )
    elif not block.foreign_keys_off:
        notes.append(
            "The change did not turn foreign keys off: with them on, DROP TABLE deletes every row first and fires "
            "ON DELETE actions in child tables. The plan turns them off around the transaction."
        )
    if block.checks_after_commit:
        notes.append("PRAGMA foreign_key_check after COMMIT can no longer roll back: it runs before COMMIT here.")
    recreated = _named(block, ("create_index", "create_trigger"))
    for change in changes:
        notes += change.notes
        old = change.old
        if old is None:
            continue
        lost = [i.name for i in old.indexes if i.origin == "index" and not i.name.startswith("sqlite_autoindex")]
        lost += [t.name for t in old.triggers]
        for name in lost:
            if _key(name) not in recreated:
                notes.append(
                    f"{name} of {old.name} goes with the old table and the change does not recreate it: add its "
                    "CREATE statement after the rename unless it is dropped on purpose."
                )
    return notes


def _total(values: list[int | None]) -> int | None:
    """The sum when every value is known."""
    known = [v for v in values if v is not None]
    return sum(known) if len(known) == len(values) else None


def _combined_stats(state: SqlitePlanState, tables: list[str]) -> TableStats | None:
    """The size of all rebuilt tables together (the transaction copies each of them)."""
    sizes = [state.stats(t) for t in tables]
    if len(sizes) == 1:
        return sizes[0]
    known = [s for s in sizes if s is not None]
    if len(known) != len(sizes):
        return None
    return TableStats(rows=_total([s.rows for s in known]), bytes=_total([s.bytes for s in known]))


def _new_state(state: SqlitePlanState, block: RebuildBlock, change: TableChange) -> None:
    """The tracked table after the block: the new definition with the indexes and triggers the block creates."""
    new, old, rebuilt = change.new, change.old, change.rebuilt
    if new is None:
        return
    names = {_key(rebuilt.table), _key(rebuilt.temporary)}
    indexes = [
        index
        for s in block.body
        if s.kind == "create_index" and s.table and _key(s.table) in names
        for index in [index_from_statement(s)]
        if index is not None
    ]
    triggers = [
        Trigger(name=s.name, definition=s.text)
        for s in block.body
        if s.kind == "create_trigger" and s.name and s.table and _key(s.table) in names
    ]
    carried: dict[str, object] = {}
    if old is not None:
        carried = {
            "row_estimate": old.row_estimate,
            "row_estimate_source": old.row_estimate_source,
            "table_bytes": old.table_bytes,
            "index_bytes": old.index_bytes,
        }
    state.tables[_key(rebuilt.table)] = new.model_copy(
        update={"indexes": [*new.indexes, *indexes], "triggers": triggers, **carried}
    )


def plan_rebuild_block(state: SqlitePlanState, block: RebuildBlock) -> None:
    """The written rebuild as one group: save, check, foreign keys off, the transaction, foreign keys on."""
    flush_rebuild(state)
    changes = [analyse(state, t) for t in block.tables]
    tables = [t.table for t in block.tables]
    notes = _block_notes(block, changes)
    sql = _transaction_sql(state, block, changes, notes)
    steps: list[MigrationStep] = []
    for change in changes:
        steps.append(capture_step(state, change.table))
        check = checks_step(state, change.checks, state.stats(change.table)) if change.checks else None
        if check is not None:
            steps.append(check)
    off = foreign_keys_step(tables[0], on=False)
    if len(tables) > 1:
        title = f"Turn foreign keys off for this connection (before rebuilding {', '.join(tables)})"
        off = off.model_copy(update={"title": title})
    summary = "; ".join(f"{c.table}: {c.summary()}" if len(changes) > 1 else c.summary() for c in changes)
    stats = _combined_stats(state, tables)
    title = f"Rebuild {', '.join(tables)} as written ({summary}; 12-step procedure, one transaction)"
    transaction = transaction_step(title, tables, sql, stats, [*FOREIGN_KEY_NOTES, *notes])
    steps += [off, transaction, foreign_keys_step(tables[0], on=True)]
    only_drops = all(c.dropped and not (c.added or c.renamed or c.changed) for c in changes)
    phase: Phase = "contract" if only_drops else "expand"
    state.groups.append(
        StepGroup(
            phase,
            steps,
            destructive=True,
            stops_using=[f"{c.table}.{name}" for c in changes for name in c.dropped],
            starts_using=[(f"{c.table}.{a}", f"{c.table}.{b}") for c in changes for a, b in c.renamed],
        )
    )
    for change in changes:
        _new_state(state, block, change)
