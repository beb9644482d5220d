"""SQLite migration planner: ALTER TABLE where SQLite can, the 12-step table rebuild where it cannot.

SQLite's ALTER TABLE renames tables and columns (RENAME COLUMN from 3.25.0), adds columns (no PRIMARY KEY,
UNIQUE, non-constant default or STORED generated column; NOT NULL needs a non-NULL default) and drops columns
(3.35.0; not when the column is a key, UNIQUE, indexed or used by a constraint, trigger or view). Everything
else is done with the procedure of the SQLite docs ("ALTER TABLE", "Making Other Kinds Of Table Schema
Changes"): with foreign keys off (outside any transaction), one transaction creates `new_X` with the changed
definition, copies the rows, drops `X`, renames `new_X` to `X`, recreates indexes, triggers and views, checks
the foreign keys and commits. That procedure is written out for the actual table from the current catalog
(sqlite_rebuild); a rebuild the change already writes out is recognised and planned with the same steps
(sqlite_rebuild_block, sqlite_rebuild_block_plan). This module routes the statements (sqlite_alter for ALTER
TABLE, sqlite_objects for CREATE / DROP, sqlite_batches for DML) and assembles the steps.

Locking (SQLite docs, "File Locking And Concurrency" and "Write-Ahead Logging"): SQLite has one write lock for
the whole database. `BEGIN IMMEDIATE` takes it at once, so a rebuild never fails half-way on a lock; other
writers wait for their busy_timeout and then get SQLITE_BUSY. In WAL mode readers continue and see the old
table until COMMIT; in rollback-journal mode they are shut out while the commit (or a page-cache spill of a
large transaction) writes the database file. DDL is transactional, so until COMMIT everything rolls back as
one; after it, only the backup taken first (`VACUUM INTO`) undoes the change.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from dbspecialist.knowledge.migrations.context import PlanContext, PlannerOutput
from dbspecialist.knowledge.migrations.estimate import estimate
from dbspecialist.knowledge.migrations.model import (
    PHASE_ORDER,
    DurationEstimate,
    LockClaim,
    MigrationInputError,
    MigrationStep,
    Phase,
    TableStats,
)
from dbspecialist.knowledge.migrations.sqlite_alter import plan_alter
from dbspecialist.knowledge.migrations.sqlite_batches import plan_dml
from dbspecialist.knowledge.migrations.sqlite_capability import VACUUM_INTO_SINCE
from dbspecialist.knowledge.migrations.sqlite_objects import (
    create_index,
    create_object,
    create_table,
    drop_index,
    drop_object,
    drop_table,
    other_statement,
)
from dbspecialist.knowledge.migrations.sqlite_rebuild import flush_rebuild
from dbspecialist.knowledge.migrations.sqlite_rebuild_block import RebuildBlock, split_rebuild_blocks
from dbspecialist.knowledge.migrations.sqlite_rebuild_block_plan import plan_rebuild_block
from dbspecialist.knowledge.migrations.sqlite_render import create_index_sql, create_table_sql
from dbspecialist.knowledge.migrations.sqlite_state import SqlitePlanState
from dbspecialist.knowledge.migrations.sqlite_statements import SqliteStatement, split_sqlite
from dbspecialist.knowledge.migrations.sqlite_steps import BACKUP_FILE, ENGINE, WRITE_LOCK, deploy_step
from dbspecialist.knowledge.migrations.versions import version_text

Handler = Callable[[SqlitePlanState, SqliteStatement], None]
HANDLERS: Final[dict[str, Handler]] = {
    "create_table": create_table,
    "create_index": create_index,
    "drop_index": drop_index,
    "drop_table": drop_table,
    "create_view": create_object,
    "create_trigger": create_object,
    "drop_view": drop_object,
    "drop_trigger": drop_object,
    "update": plan_dml,
    "delete": plan_dml,
    "insert": plan_dml,
}


def add_statement(state: SqlitePlanState, stmt: SqliteStatement) -> None:
    """Plan one statement (an ALTER TABLE clause may join the rebuild still pending for its table)."""
    if stmt.kind == "alter_table":
        plan_alter(state, stmt)
        return
    flush_rebuild(state)
    if stmt.kind in ("begin", "commit", "rollback", "savepoint", "release"):
        state.note("Transaction statements in the change were left out: the plan sets its own transactions.")
        return
    if stmt.kind == "select":
        state.note("SELECT statements in the change were left out of the plan (they change nothing).")
        return
    if stmt.kind == "pragma" and stmt.pragma and stmt.pragma[0] in ("foreign_keys", "legacy_alter_table"):
        state.note(f"`{stmt.text}` was left out: the plan turns foreign keys off and on around each rebuild.")
        return
    HANDLERS.get(stmt.kind, other_statement)(state, stmt)


def backup_step(state: SqlitePlanState) -> MigrationStep:
    """Copy the whole database first: after a COMMIT it is the only way back."""
    total = database_bytes(state)
    seconds = estimate("rewrite", TableStats(bytes=total)).seconds if total is not None else None
    basis = (
        f"the whole database (~{total / 1024 / 1024:,.0f} MiB) copied at the rewrite rate"
        if total is not None
        else "copies the whole database file: time ≈ file size / disk write speed"
    )
    if state.version >= VACUUM_INTO_SINCE:
        sql, command = [f"VACUUM INTO '{BACKUP_FILE}';"], None
        title = f"Back up the database to {BACKUP_FILE} (VACUUM INTO)"
    else:
        sql, command = [], f"sqlite3 <database> \".backup '{BACKUP_FILE}'\""
        title = f"Back up the database to {BACKUP_FILE} (.backup; VACUUM INTO needs 3.27.0)"
    return MigrationStep(
        phase="prepare",
        kind="sql" if sql else "command",
        title=title,
        sql=sql,
        command=command,
        lock=LockClaim(
            mode="read transaction (SHARED)",
            tables=[],
            blocks="nothing",
            held="the whole copy",
        ),
        table_effect="scan",
        transactional=False,
        estimate=DurationEstimate(seconds=seconds, basis=basis),
        rollback=[f"-- delete {BACKUP_FILE} once the migration is verified"],
        notes=[
            "The only way back after a COMMIT. The target file must not exist yet; put it on a disk with room "
            "for the whole database.",
            "It reads a consistent snapshot; in rollback-journal mode writers cannot commit while it runs (in WAL "
            "mode they can).",
        ],
    )


def database_bytes(state: SqlitePlanState) -> int | None:
    if state.ctx.catalog is None:
        return None
    sizes = [t.total_bytes or t.table_bytes for t in state.ctx.catalog.tables if t.kind == "table"]
    known = [s for s in sizes if s is not None]
    return sum(known) if known and len(known) == len(sizes) else None


def assemble_steps(state: SqlitePlanState) -> list[MigrationStep]:
    """The groups' steps in statement order, with the backup first and the application deploy steps."""
    flush_rebuild(state)
    phases: list[Phase] = [g.phase for g in state.groups]
    for i in range(len(phases) - 2, -1, -1):  # keep statement order under the assembler's stable phase sort
        if PHASE_ORDER[phases[i]] > PHASE_ORDER[phases[i + 1]]:
            phases[i] = phases[i + 1]
    steps: list[MigrationStep] = []
    if any(g.destructive for g in state.groups):
        steps.append(backup_step(state))
    for group, phase in zip(state.groups, phases, strict=True):
        steps += [s.model_copy(update={"phase": phase}) for s in group.steps]
    switched = [pair for g in state.groups for pair in g.starts_using]
    if switched:
        changes = ", ".join(f"{new} instead of {old}" for old, new in switched)
        steps.append(deploy_step(f"Deploy the application version that uses {changes}", "switch"))
    stopped = [
        name for g, phase in zip(state.groups, phases, strict=True) if phase == "contract" for name in g.stops_using
    ]
    if stopped:
        steps.append(
            deploy_step(
                f"Deploy the application version that no longer reads or writes {', '.join(stopped)}",
                "switch",
                note="The contract steps remove them: run those only once no running version uses them.",
            )
        )
    for group, phase in zip(state.groups, phases, strict=True):
        if phase != "contract" and group.stops_using:
            state.note(
                f"{', '.join(group.stops_using)} is removed in statement order, before later changes of the same "
                "migration: the running application must already have stopped using it."
            )
    return steps


def plan_sqlite(change: str, ctx: PlanContext) -> PlannerOutput:
    """Plan a SQLite migration: direct ALTER TABLE where SQLite can, the 12-step rebuild where it cannot.

    A rebuild the change writes out itself (CREATE TABLE new_X, copy, DROP TABLE X, RENAME) is planned as one
    rebuild with the same safe steps, never as a bare DROP TABLE.
    """
    statements = split_sqlite(change)
    if not statements:
        raise MigrationInputError("the change has no SQL statements")
    state = SqlitePlanState(ctx)
    for item in split_rebuild_blocks(statements):
        if isinstance(item, RebuildBlock):
            plan_rebuild_block(state, item)
        else:
            add_statement(state, item)
    steps = assemble_steps(state)
    assumptions = [
        "SQLite runs one writer at a time: every write-locking step blocks the other writers of the whole database "
        "file for its duration (readers too in rollback-journal mode while committing).",
    ]
    if not ctx.version_given:
        assumptions.insert(0, f"SQLite {version_text(ctx.version, ENGINE)} assumed (pass version to change it).")
    if ctx.catalog is None:
        assumptions.append("No current schema was given: rebuild steps have FILL IN parts.")
    script = "\n\n".join(state.scripts) if state.scripts else None
    return PlannerOutput(steps=steps, assumptions=assumptions, backfill_script=script, notes=state.notes)


__all__ = ["WRITE_LOCK", "create_index_sql", "create_table_sql", "plan_sqlite"]
