"""Shared pieces of the SQLite planner: lock and retry texts, quoting, the step builders and a step group.

Locking (SQLite docs, "File Locking And Concurrency" and "Write-Ahead Logging"): SQLite has one write lock for
the whole database. `BEGIN IMMEDIATE` takes it at once, so a rebuild never fails half-way on a lock; other
writers wait for their busy_timeout and then get SQLITE_BUSY. In WAL mode readers continue and see the old
table until COMMIT; in rollback-journal mode they are shut out while the commit (or a page-cache spill of a
large transaction) writes the database file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from dbspecialist.knowledge.migrations.estimate import estimate
from dbspecialist.knowledge.migrations.model import (
    DurationEstimate,
    LockClaim,
    MigrationStep,
    Phase,
    StepKind,
    TableEffect,
    TableStats,
)
from dbspecialist.knowledge.sql_text import quote_ident

ENGINE: Final = "sqlite"
BACKUP_FILE: Final = "backup.db"
BUSY_TIMEOUT_MS: Final = 5_000
PREAMBLE: Final = [f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS};"]
RETRY: Final = (
    "SQLITE_BUSY (database is locked) means another connection held the write lock past busy_timeout; nothing "
    "was changed: wait for it to finish and run the step again."
)
WRITE_LOCK: Final = "database write lock (RESERVED from the first write, EXCLUSIVE while committing)"
LOCK_NOTE: Final = (
    "SQLite locks the whole database, not one table: other writers wait up to their busy_timeout and then get "
    "SQLITE_BUSY. In WAL mode readers continue (they see the old state until COMMIT); in rollback-journal mode "
    "readers are shut out while the commit writes the file, and from the first page-cache spill of a large "
    "transaction."
)


def q(name: str) -> str:
    """`name` quoted for SQLite when it needs quoting."""
    return quote_ident(name, ENGINE)


def sql_literal(text: str) -> str:
    """`text` as a SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def mentions(sql: str | None, name: str) -> bool:
    """Whether `sql` names `name` as a word (bare or quoted)."""
    if not sql:
        return False
    return re.search(rf"(?<![\w$]){re.escape(name)}(?![\w$])", sql, re.I) is not None


def object_sql(definition: str, kind: str, name: str) -> str:
    """A saved view / trigger definition as a CREATE statement ending in a semicolon."""
    text = definition.strip().rstrip(";")
    if not text.upper().startswith("CREATE"):
        text = f"CREATE {kind} {q(name)} AS {text}"
    return text + ";"


# ----------------------------------------------------------------------------------------------- steps


def write_lock(table: str, held: str) -> LockClaim:
    """The database write lock, claimed for `table` and held for `held`."""
    return LockClaim(mode=WRITE_LOCK, tables=[table], blocks="writes", held=held)


def sql_step(
    phase: Phase,
    title: str,
    table: str | None,
    sql: list[str],
    *,
    effect: TableEffect,
    stats: TableStats | None,
    lock_held: str | None,
    transactional: bool = True,
    rollback: list[str] | None = None,
    reversible: bool = True,
    notes: list[str] | None = None,
    kind: StepKind = "sql",
) -> MigrationStep:
    """A step with the write lock (when `lock_held` says for how long), its estimate, preamble and retry advice."""
    lock = write_lock(table or "database", lock_held) if lock_held else None
    return MigrationStep(
        phase=phase,
        kind=kind,
        title=title,
        table=table,
        sql=sql,
        lock=lock,
        blocks_reads=False,
        blocks_writes=lock is not None,
        table_effect=effect,
        transactional=transactional,
        estimate=estimate(effect, stats),
        rollback=rollback or [],
        reversible=reversible,
        preamble=list(PREAMBLE) if lock is not None else [],
        retry=RETRY if lock is not None else None,
        notes=([LOCK_NOTE] if lock is not None else []) + (notes or []),
    )


@dataclass
class StepGroup:
    """The steps one statement (or one merged rebuild) produces, sharing a phase."""

    phase: Phase
    steps: list[MigrationStep]
    destructive: bool = False
    stops_using: list[str] = field(default_factory=list)  # what the application must stop using first (contract)
    starts_using: list[tuple[str, str]] = field(default_factory=list)  # (old, new) names the application switches


def deploy_step(title: str, phase: Phase, note: str | None = None) -> MigrationStep:
    """An application deploy step (no SQL): `title` names what the application must change."""
    return MigrationStep(
        phase=phase,
        kind="deploy",
        title=title,
        table_effect="none",
        transactional=False,
        estimate=None,
        notes=[note] if note else [],
    )


def parse_sql(text: str) -> exp.Expr | None:
    """sqlglot's tree of one statement, or None when sqlglot cannot read it."""
    try:
        return sqlglot.parse_one(text, read=ENGINE)
    except SqlglotError:
        return None


def foreign_keys_step(table: str, *, on: bool) -> MigrationStep:
    """`PRAGMA foreign_keys = ON|OFF` as its own step, outside the rebuild transaction."""
    value = "ON" if on else "OFF"
    note = (
        "Only if foreign keys were on before (PRAGMA foreign_keys returned 1)."
        if on
        else "Outside any transaction: inside one SQLite ignores it. Check first with `PRAGMA foreign_keys;`."
    )
    return MigrationStep(
        phase="expand",
        title=f"Turn foreign keys {value.lower()} for this connection"
        + ("" if on else f" (before rebuilding {table})"),
        table=table,
        sql=[f"PRAGMA foreign_keys = {value};"],
        table_effect="none",
        transactional=False,
        estimate=DurationEstimate(seconds=0.0, basis="a connection setting"),
        rollback=[f"PRAGMA foreign_keys = {'OFF' if on else 'ON'};"],
        notes=[note],
    )
