"""The SQLite 12-step table rebuild the planner writes for ALTER TABLE clauses SQLite cannot run itself.

The procedure of the SQLite docs ("ALTER TABLE", "Making Other Kinds Of Table Schema Changes"): with foreign keys
off (outside any transaction), one transaction creates `new_X` with the changed definition, copies the rows, drops
`X`, renames `new_X` to `X`, recreates indexes, triggers and views, checks the foreign keys and commits. It is
written out for the actual table from the current catalog; without one, the parts it can derive are given and
the rest is marked FILL IN.
"""

from __future__ import annotations

from typing import Final

from dbspecialist.adapters.catalog import ForeignKey
from dbspecialist.knowledge.migrations.estimate import estimate
from dbspecialist.knowledge.migrations.model import MigrationInputError, MigrationStep, TableStats
from dbspecialist.knowledge.migrations.sqlite_clauses import AlterAction
from dbspecialist.knowledge.migrations.sqlite_render import create_index_sql, create_table_sql, sequence_sql
from dbspecialist.knowledge.migrations.sqlite_state import PendingRebuild, SqlitePlanState
from dbspecialist.knowledge.migrations.sqlite_steps import (
    BACKUP_FILE,
    LOCK_NOTE,
    PREAMBLE,
    RETRY,
    StepGroup,
    foreign_keys_step,
    object_sql,
    q,
    sql_literal,
    sql_step,
    write_lock,
)
from dbspecialist.knowledge.migrations.sqlite_table_model import (
    TableModel,
    apply_action,
    model_from_table,
    table_from_model,
)

ROWID_NAMES: Final = frozenset({"rowid", "oid", "_rowid_"})
FOREIGN_KEY_NOTES: Final = (
    "Every PRAGMA foreign_key_check must return no rows; if one does, run ROLLBACK instead of COMMIT and fix the rows.",
    "Run this and the two PRAGMA foreign_keys steps on one connection: the setting is per connection.",
)


def start_rebuild(state: SqlitePlanState, table: str) -> PendingRebuild:
    """A pending rebuild of `table`, modelled from the tracked schema when the table is known."""
    found = state.table(table)
    if found is None:
        return PendingRebuild(table=table, model=None)
    if found.kind == "virtual_table":
        raise MigrationInputError(
            f"{found.name} is a virtual table (FTS, R-Tree, ...): it cannot be rebuilt column by column; "
            "create the new virtual table and copy the rows instead"
        )
    catalog = state.ctx.catalog  # the live adapter and SQLite DDL both list triggers; other DDL does not
    known = catalog is not None and (catalog.source == "live" or catalog.engine == "sqlite")
    return PendingRebuild(table=found.name, model=model_from_table(found, triggers_known=known).copy_for_rebuild())


def fold_action(state: SqlitePlanState, rebuild: PendingRebuild, action: AlterAction) -> None:
    """Add one ALTER clause to the pending rebuild: the model changes and the checks it will need."""
    rebuild.changes.append(action.text)
    rebuild.kinds.append(action.kind)
    model = rebuild.model
    kind = action.kind
    if kind == "add_check" and action.expression:
        rebuild.new_checks.append(action.expression)
    if kind == "set_not_null" and action.column:
        rebuild.new_not_null.append(action.column)
    if kind in ("add_unique", "add_primary_key"):
        rebuild.new_unique.append(list(action.columns))
    if kind == "add_foreign_key" and action.foreign_key:
        rebuild.new_foreign_keys.append(action.foreign_key)
    if kind == "alter_type" and action.column:
        rebuild.retyped.append(action.column)
    if kind == "drop_column" and action.column:
        rebuild.dropped.append(f"{rebuild.table}.{action.column}")
    if kind == "rename_column" and action.column and action.new_name:
        rebuild.renamed.append((f"{rebuild.table}.{action.column}", f"{rebuild.table}.{action.new_name}"))
    if kind == "add_column" and action.definition is not None:
        definition = action.definition
        rebuild.new_checks += list(definition.checks)
        if definition.primary_key or definition.unique:
            rebuild.new_unique.append([definition.name])
        if definition.references:
            rebuild.new_foreign_keys.append(definition.references)
        if definition.default is not None and not definition.default_constant:
            rebuild.notes.append(
                f"Existing rows get {definition.name} = {definition.default} as evaluated during the copy."
            )
        if definition.not_null and definition.default_is_null and definition.generated is None:
            rebuild.notes.append(
                f"New column {definition.name} is NOT NULL without a default: the copy fails unless the table "
                "is empty. Give it a DEFAULT."
            )
    if model is not None:
        apply_action(model, action, rebuild.notes)


def flush_rebuild(state: SqlitePlanState) -> None:
    """Write out the pending rebuild (if any) as its steps and update the tracked table."""
    rebuild, state.pending = state.pending, None
    if rebuild is None:
        return
    if rebuild.model is None:
        state.groups.append(rebuild_without_catalog(state, rebuild))
        return
    previous = state.table(rebuild.table)
    state.groups.append(rebuild_steps(state, rebuild, rebuild.model))
    state.tables[rebuild.table.lower()] = table_from_model(rebuild.model, previous)


def checks_step(state: SqlitePlanState, rebuild: PendingRebuild, stats: TableStats | None) -> MigrationStep | None:
    """Queries counting the rows the new CHECK / NOT NULL / UNIQUE / FOREIGN KEY would reject."""
    table = rebuild.table
    queries = [f"SELECT COUNT(*) FROM {q(table)} WHERE NOT ({c});" for c in rebuild.new_checks]
    queries += [f"SELECT COUNT(*) FROM {q(table)} WHERE {q(c)} IS NULL;" for c in rebuild.new_not_null]
    queries += [state.duplicates_sql(table, cols) for cols in rebuild.new_unique]
    for fk in rebuild.new_foreign_keys:
        orphan = orphans_sql(state, table, fk)
        if orphan:
            queries.append(orphan)
    if not queries:
        return None
    notes = ["Fix those rows first: otherwise the copy or the foreign-key check fails and the rebuild rolls back."]
    if rebuild.retyped:
        notes.append(
            f"The counts use today's values; {', '.join(rebuild.retyped)} change type, and the constraints see "
            "the converted values."
        )
    return sql_step(
        "expand",
        f"Count the rows of {table} the new constraints would reject (each query must return 0 / no rows)",
        table,
        queries,
        effect="scan",
        stats=stats,
        lock_held=None,
        kind="check",
        notes=notes,
    )


def orphans_sql(state: SqlitePlanState, table: str, fk: ForeignKey) -> str | None:
    """Count of `table` rows whose `fk` columns point at no parent row; None when it cannot be written."""
    ref_columns = fk.ref_columns
    if "<primary key>" in ref_columns:
        parent = state.table(fk.ref_table)
        if parent is None or parent.primary_key is None:
            return None
        ref_columns = parent.primary_key.columns
    if len(ref_columns) != len(fk.columns):
        return None
    present = " AND ".join(f"c.{q(c)} IS NOT NULL" for c in fk.columns)
    match = " AND ".join(f"p.{q(r)} = c.{q(c)}" for c, r in zip(fk.columns, ref_columns, strict=True))
    return (
        f"SELECT COUNT(*) FROM {q(table)} AS c WHERE {present} "
        f"AND NOT EXISTS (SELECT 1 FROM {q(fk.ref_table)} AS p WHERE {match});"
    )


def capture_step(state: SqlitePlanState, table: str) -> MigrationStep:
    """Save the current CREATE statements around `table` (step 3 of the procedure)."""
    sql = (
        f"SELECT type, name, tbl_name, sql FROM {state.schema_table} WHERE tbl_name = {sql_literal(table)} "
        f"OR (type IN ('view', 'trigger') AND sql LIKE {sql_literal('%' + table + '%')});"
    )
    return sql_step(
        "expand",
        f"Save the current definitions of {table} and of the indexes, triggers and views around it",
        table,
        [sql],
        effect="none",
        stats=None,
        lock_held=None,
        kind="check",
        notes=["Step 3 of the procedure: keep the output; compare the recreated objects with it afterwards."],
    )


def rebuild_steps(state: SqlitePlanState, rebuild: PendingRebuild, model: TableModel) -> StepGroup:
    """The rebuild of a known table: save, check, foreign keys off, the transaction, foreign keys on."""
    table = rebuild.table
    stats = state.stats(table)
    new = state.new_name(table)
    copied = [c for c in model.columns if c.source is not None and c.generated is None]
    targets = [q(c.name) for c in copied]
    sources = [c.source or "" for c in copied]
    names = {c.name.lower() for c in model.columns}
    if model.rowid_alias is None and not model.without_rowid and not (names & ROWID_NAMES):
        targets.insert(0, "rowid")
        sources.insert(0, "rowid")
    body = [
        "BEGIN IMMEDIATE;",
        create_table_sql(model, new),
        f"INSERT INTO {q(new)} ({', '.join(targets)})\n    SELECT {', '.join(sources)} FROM {q(table)};",
    ]
    if model.autoincrement:
        body += sequence_sql(table, new)
    drops, creates = state.dependents(table)
    body += drops
    body += [f"DROP TABLE {q(table)};", f"ALTER TABLE {q(new)} RENAME TO {q(table)};"]
    column_names = [c.name for c in model.columns]
    notes = list(rebuild.notes)
    for index in model.indexes:
        if "<expression>" in index.columns:
            notes.append(f"Index {index.name} has an expression the catalog does not give: recreate it by hand.")
            continue
        body.append(create_index_sql(index, table, column_names))
    body += [object_sql(t.definition, "TRIGGER", t.name) for t in model.triggers if t.definition]
    body += creates
    body += [f"PRAGMA foreign_key_check({q(name)});" for name in [table, *state.children(table)]]
    body.append("COMMIT;")
    if model.rowid_alias is None and not model.without_rowid and model.primary_key:
        notes.append(
            f"PRIMARY KEY ({', '.join(model.primary_key)}) columns are written NOT NULL: the catalog cannot tell "
            "whether they were declared so, and SQLite otherwise allows NULL in a non-INTEGER key of a rowid table."
        )
    if not model.triggers_known:
        notes.append("The catalog here does not list triggers (it is not SQLite's): recreate any by hand.")
    unknown = [c.name for c in model.columns if c.generated is not None and c.stored is None]
    if unknown:
        notes.append(
            f"The catalog does not say whether the generated columns {', '.join(unknown)} are STORED or VIRTUAL; "
            "they are written as VIRTUAL: change that if they were STORED (see the saved definitions)."
        )
    notes.append(
        "Index definitions are rebuilt from the catalog: per-column COLLATE in an index is not carried over; "
        "compare with the saved definitions."
    )
    title = f"Rebuild {table} with {'; '.join(rebuild.changes)} (12-step procedure, one transaction)"
    return rebuild_group(state, rebuild, transaction_step(title, [table], body, stats, [*FOREIGN_KEY_NOTES, *notes]))


def transaction_step(
    title: str, tables: list[str], sql: list[str], stats: TableStats | None, notes: list[str]
) -> MigrationStep:
    """The rebuild transaction of `tables`: the write lock throughout, ROLLBACK before COMMIT, the backup after."""
    lock = write_lock(tables[0], "the whole transaction: the copy, the index builds and the commit")
    return MigrationStep(
        phase="expand",
        kind="sql",
        title=title,
        table=tables[0],
        sql=sql,
        lock=lock.model_copy(update={"tables": tables}),
        blocks_writes=True,
        table_effect="rewrite",
        transactional=True,
        estimate=estimate("rewrite", stats),
        rollback=[
            "ROLLBACK;  -- any time before COMMIT: nothing of the rebuild remains",
            f"-- after COMMIT: restore {BACKUP_FILE} (stop the application, replace the database file)",
        ],
        reversible=False,
        preamble=list(PREAMBLE),
        retry=RETRY,
        notes=[LOCK_NOTE, *notes],
    )


def rebuild_group(state: SqlitePlanState, rebuild: PendingRebuild, transaction: MigrationStep) -> StepGroup:
    """The steps of one table's rebuild around its `transaction`, in the phase its changes call for."""
    table = rebuild.table
    return StepGroup(
        "contract" if set(rebuild.kinds) == {"drop_column"} else "expand",
        [*steps_around(state, rebuild, state.stats(table)), transaction, foreign_keys_step(table, on=True)],
        destructive=True,
        stops_using=rebuild.dropped,
        starts_using=rebuild.renamed,
    )


def steps_around(state: SqlitePlanState, rebuild: PendingRebuild, stats: TableStats | None) -> list[MigrationStep]:
    """The steps before the rebuild transaction: save the definitions, the checks, foreign keys off."""
    steps = [capture_step(state, rebuild.table)]
    check = checks_step(state, rebuild, stats)
    if check is not None:
        steps.append(check)
    steps.append(foreign_keys_step(rebuild.table, on=False))
    return steps


def rebuild_without_catalog(state: SqlitePlanState, rebuild: PendingRebuild) -> StepGroup:
    """The rebuild of a table the schema does not give: the same steps with FILL IN parts."""
    table = rebuild.table
    stats = state.stats(table)
    new = state.new_name(table)
    changes = "\n".join(f"    --   {c}" for c in rebuild.changes)
    body = [
        "BEGIN IMMEDIATE;",
        f"CREATE TABLE {q(new)} (\n    -- FILL IN: the column and constraint definitions of {table} from the "
        f"saved CREATE TABLE, with these changes applied:\n{changes}\n);",
        f"INSERT INTO {q(new)} (/* FILL IN: the columns kept */)\n    SELECT /* the same columns */ FROM {q(table)};",
        f"-- FILL IN: DROP VIEW / DROP TRIGGER for views and other tables' triggers that name {table}",
        f"DROP TABLE {q(table)};",
        f"ALTER TABLE {q(new)} RENAME TO {q(table)};",
        f"-- FILL IN: CREATE INDEX and CREATE TRIGGER statements of {table}, and the views dropped above, "
        "from the saved definitions",
        f"PRAGMA foreign_key_check({q(table)});",
        "COMMIT;",
    ]
    title = f"Rebuild {table} with {'; '.join(rebuild.changes)} (12-step procedure; fill in the definitions)"
    notes = [
        f"The current definition of {table} is not known here (no connection or current_ddl, or the table "
        "is missing from it), so the new one cannot be written out: fill in the FILL IN parts from the "
        "definitions saved by the step before, or plan again with the current schema.",
        "Views and other tables' triggers that name the table must be dropped before DROP TABLE and "
        "recreated after the rename, or the rename fails ('error in view ...').",
        "PRAGMA foreign_key_check must return no rows (also run it for tables that reference this one); if "
        "it does, run ROLLBACK instead of COMMIT.",
        *rebuild.notes,
    ]
    return rebuild_group(state, rebuild, transaction_step(title, [table], body, stats, notes))
