"""Shared pieces of the MongoDB planner: the command model, version gates, lock texts, step builders, planner state.

A change is JSON: one database command or a list of them. Lock facts (MongoDB manual, "FAQ: Concurrency"): document
writes take intent (IX) locks with WiredTiger document-level concurrency; catalog changes (collMod, dropIndexes,
drop) take an exclusive (X) collection lock for milliseconds, but wait behind operations already running.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Final

from dbspecialist.adapters.catalog import Table
from dbspecialist.knowledge.findings import Finding
from dbspecialist.knowledge.migrations.context import PlanContext
from dbspecialist.knowledge.migrations.estimate import estimate
from dbspecialist.knowledge.migrations.model import (
    DurationEstimate,
    LockClaim,
    MigrationInputError,
    MigrationStep,
    Phase,
    StepKind,
    TableEffect,
    TableStats,
)
from dbspecialist.knowledge.migrations.versions import Version

Command = dict[str, Any]

# Version gates (MongoDB release notes).
OPTIMIZED_INDEX_BUILDS_SINCE: Final[Version] = (4, 2, 0)  # X lock only at start/end; no foreground/background
PIPELINE_UPDATES_SINCE: Final[Version] = (4, 2, 0)  # `u` may be an aggregation pipeline ($set: {b: "$a"})
RENAME_COLLECTION_LOCKS_SINCE: Final[Version] = (4, 2, 0)  # X on the two collections instead of the database
HIDDEN_INDEXES_SINCE: Final[Version] = (4, 4, 0)

# Our thresholds (stated in the output where used).
ROLLING_BUILD_BYTES: Final = 10 * 1024**3  # from here a replica set should consider the rolling index build
ROLLING_BUILD_DOCUMENTS: Final = 50_000_000
OBSERVATION_PERIOD: Final = "a full business cycle (at least a week, covering month-end jobs if any)"
BACKUP_DIR: Final = "backup"
SUPPORTED: Final = ("createIndexes", "dropIndexes", "collMod", "update", "renameCollection", "create", "drop")

INDEX_BUILD_LOCK: Final = "IX during the build; exclusive (X) collection lock only at its start and end"
FOREGROUND_LOCK: Final = "background build: IX (intent) locks; a foreground build would hold X on the database"
CATALOG_LOCK: Final = "exclusive (X) collection lock while the catalog entry changes"
WRITE_INTENT: Final = "intent exclusive (IX) on database and collection; document-level concurrency (WiredTiger)"
READ_INTENT: Final = "intent shared (IS) on database and collection"
X_LOCK_NOTE: Final = (
    "An exclusive collection lock waits for operations already running on the collection, and new reads and "
    "writes queue behind it: run it when no long query or batch job is active on the collection."
)
NON_IDEMPOTENT_OPERATORS: Final = ("$inc", "$mul", "$push", "$pop", "$bit", "$currentDate")
# The connection string in the mongodump/mongorestore commands: a shell variable, never the real URI (credentials).
URI_PLACEHOLDER: Final = "$MONGODB_URI"
# The mark a non-idempotent backfill sets on each document it changes, and filters on (our convention).
MIGRATION_MARK_FIELD: Final = "schema_version"
MIGRATION_MARK_VALUE: Final = 2


def to_json(value: Any) -> str:
    """Compact, readable JSON of a command or filter."""
    return json.dumps(value, separators=(", ", ": "), ensure_ascii=False)


def shell_command(command: Command, *, admin: bool = False) -> str:
    """The mongosh call that runs `command`."""
    return f"db.{'adminCommand' if admin else 'runCommand'}({to_json(command)})"


def collection_of(command: Command) -> str:
    """The collection a command acts on (the source collection of renameCollection)."""
    name = next(iter(command))
    value = command[name]
    return str(value).split(".", 1)[1] if name == "renameCollection" and "." in str(value) else str(value)


def documents_in(ctx: PlanContext, collection: str) -> int | None:
    """The document count of `collection`, when known."""
    stats = ctx.stats_for(collection)
    return stats.rows if stats is not None else None


def multi_updates(command: Command) -> list[dict[str, Any]]:
    """The multi-document entries of an `update` command."""
    if "update" not in command:
        return []
    return [u for u in command.get("updates") or [] if isinstance(u, dict) and u.get("multi")]


def too_big_for_simultaneous_build(stats: TableStats | None) -> bool:
    """Whether the collection reaches our rolling-index-build threshold."""
    if stats is None:
        return False
    return (stats.bytes or 0) >= ROLLING_BUILD_BYTES or (stats.rows or 0) >= ROLLING_BUILD_DOCUMENTS


def current_ttl(ctx: PlanContext, collection: str, name: str | None) -> int | None:
    """expireAfterSeconds of index `name` of `collection` in the catalog, when known."""
    table = ctx.table(collection)
    if table is None or name is None:
        return None
    found = next((i for i in table.indexes if i.name == name), None)
    return found.ttl_seconds if found is not None else None


def command_step(
    phase: Phase,
    title: str,
    collection: str | None,
    commands: list[Command],
    *,
    lock: LockClaim | None,
    effect: TableEffect,
    stats: TableStats | None,
    rollback: list[Command] | list[str] | None = None,
    reversible: bool = True,
    notes: list[str] | None = None,
    kind: StepKind = "command",
    admin: bool = False,
    duration: DurationEstimate | None = None,
) -> MigrationStep:
    """A step running `commands` (JSON in `sql`, mongosh calls in `command`) with its lock and retry advice."""
    blocks = lock.blocks if lock is not None else "nothing"
    retry = (
        "If it waits behind a long operation (db.currentOp() shows waitingForLock), stop it with db.killOp() and "
        "run it again when the collection is quiet; nothing was changed."
        if blocks != "nothing"
        else None
    )
    return MigrationStep(
        phase=phase,
        kind=kind,
        title=title,
        table=collection,
        sql=[to_json(c) for c in commands],
        command="\n".join(shell_command(c, admin=admin) for c in commands) or None,
        lock=lock,
        blocks_reads=blocks == "reads and writes",
        blocks_writes=blocks != "nothing",
        table_effect=effect,
        transactional=False,
        estimate=duration or estimate(effect, stats),
        rollback=[r if isinstance(r, str) else to_json(r) for r in rollback or []],
        reversible=reversible,
        retry=retry,
        notes=notes or [],
    )


def catalog_lock(collection: str) -> LockClaim:
    """The exclusive collection lock of a catalog change, held for milliseconds."""
    return LockClaim(
        mode=CATALOG_LOCK, tables=[collection], blocks="reads and writes", held="milliseconds (catalog change)"
    )


def catalog_step(
    phase: Phase,
    title: str,
    collection: str,
    commands: list[Command],
    *,
    rollback: list[Command] | list[str],
    stats: TableStats | None = None,
    reversible: bool = True,
    notes: list[str] | None = None,
) -> MigrationStep:
    """A catalog change of `collection` (collMod, dropIndexes, drop) under its exclusive lock, X_LOCK_NOTE first."""
    return command_step(
        phase,
        title,
        collection,
        commands,
        lock=catalog_lock(collection),
        effect="metadata",
        stats=stats,
        rollback=rollback,
        reversible=reversible,
        notes=[X_LOCK_NOTE, *(notes or [])],
    )


def and_filters(*conditions: dict[str, Any] | None) -> dict[str, Any]:
    """The conjunction of the non-empty filters (one filter as it is, none as {})."""
    kept: list[dict[str, Any]] = []
    for condition in conditions:
        if condition and list(condition) == ["$and"]:
            kept += condition["$and"]
        elif condition:
            kept.append(condition)
    if len(kept) <= 1:
        return kept[0] if kept else {}
    return {"$and": kept}


def non_idempotent_operators(change: Any) -> list[str]:
    """The update operators of `change` that change a document again on every run ($inc, $push, ...)."""
    if not isinstance(change, dict):
        return []
    return sorted(op for op in change if op in NON_IDEMPOTENT_OPERATORS)


def marked_update(change: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """`change` plus a `$set` of the migration mark, and the filter that skips documents already marked."""
    marked = {**change, "$set": {**(change.get("$set") or {}), MIGRATION_MARK_FIELD: MIGRATION_MARK_VALUE}}
    return marked, {MIGRATION_MARK_FIELD: {"$ne": MIGRATION_MARK_VALUE}}


def deploy_step(title: str, phase: Phase) -> MigrationStep:
    """An application deploy step (no command): `title` names what the application must change."""
    return MigrationStep(phase=phase, kind="deploy", title=title, table_effect="none", transactional=False)


def parse_commands(change: str) -> list[Command]:
    """The change as a list of command objects; MigrationInputError when it is not JSON of that shape."""
    try:
        parsed = json.loads(change)
    except json.JSONDecodeError as exc:
        raise MigrationInputError(
            f"the MongoDB change must be JSON (a command object or a list of them): {exc.msg} at line {exc.lineno}"
        ) from None
    commands = parsed if isinstance(parsed, list) else [parsed]
    if not commands or not all(isinstance(c, dict) and c for c in commands):
        raise MigrationInputError('give a command object such as {"createIndexes": "orders", "indexes": [...]}')
    return commands


@dataclass
class MongoPlanState:
    """What the MongoDB planner collects: steps in order, findings, notes, scripts, collections already dumped."""

    ctx: PlanContext
    steps: list[MigrationStep] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    scripts: list[str] = field(default_factory=list)
    dumped: set[str] = field(default_factory=set)

    @property
    def version(self) -> Version:
        return self.ctx.version

    @property
    def database(self) -> str:
        catalog = self.ctx.catalog
        return catalog.database if catalog is not None and catalog.database else "<database>"

    def stats(self, collection: str) -> TableStats | None:
        return self.ctx.stats_for(collection)

    def table(self, collection: str) -> Table | None:
        return self.ctx.table(collection)
