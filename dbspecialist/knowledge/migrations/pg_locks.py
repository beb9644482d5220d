"""PostgreSQL's table-level lock modes, what each blocks, and the lock every migration operation takes.

Source: PostgreSQL documentation, "Explicit Locking" (table 13.2, conflicting lock modes) and the ALTER TABLE
reference (lock level per subcommand; the strictest wins when subcommands are combined). The claims here are
checked against the server itself by tests/integration/postgres/test_migration_locks.py, which runs every
operation while a second session reads and writes and observes pg_locks. Observed there on PostgreSQL 15, beyond
the documentation's tables: dropping a foreign key takes ACCESS EXCLUSIVE on the referenced table too; CREATE TABLE
... REFERENCES takes SHARE ROW EXCLUSIVE on the referenced tables; ALTER INDEX RENAME locks only the index; DETACH
PARTITION CONCURRENTLY holds no table lock while it waits between its two transactions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from dbspecialist.knowledge.migrations.model import Blocks, LockClaim, TableEffect

ACCESS_SHARE: Final = "ACCESS SHARE"
ROW_SHARE: Final = "ROW SHARE"
ROW_EXCLUSIVE: Final = "ROW EXCLUSIVE"
SHARE_UPDATE_EXCLUSIVE: Final = "SHARE UPDATE EXCLUSIVE"
SHARE: Final = "SHARE"
SHARE_ROW_EXCLUSIVE: Final = "SHARE ROW EXCLUSIVE"
EXCLUSIVE: Final = "EXCLUSIVE"
ACCESS_EXCLUSIVE: Final = "ACCESS EXCLUSIVE"

# Weakest to strongest.
MODES: Final[tuple[str, ...]] = (
    ACCESS_SHARE,
    ROW_SHARE,
    ROW_EXCLUSIVE,
    SHARE_UPDATE_EXCLUSIVE,
    SHARE,
    SHARE_ROW_EXCLUSIVE,
    EXCLUSIVE,
    ACCESS_EXCLUSIVE,
)

# Table 13.2: the modes each mode conflicts with.
CONFLICTS: Final[dict[str, frozenset[str]]] = {
    ACCESS_SHARE: frozenset({ACCESS_EXCLUSIVE}),
    ROW_SHARE: frozenset({EXCLUSIVE, ACCESS_EXCLUSIVE}),
    ROW_EXCLUSIVE: frozenset({SHARE, SHARE_ROW_EXCLUSIVE, EXCLUSIVE, ACCESS_EXCLUSIVE}),
    SHARE_UPDATE_EXCLUSIVE: frozenset(
        {SHARE_UPDATE_EXCLUSIVE, SHARE, SHARE_ROW_EXCLUSIVE, EXCLUSIVE, ACCESS_EXCLUSIVE}
    ),
    SHARE: frozenset({ROW_EXCLUSIVE, SHARE_UPDATE_EXCLUSIVE, SHARE_ROW_EXCLUSIVE, EXCLUSIVE, ACCESS_EXCLUSIVE}),
    SHARE_ROW_EXCLUSIVE: frozenset(
        {ROW_EXCLUSIVE, SHARE_UPDATE_EXCLUSIVE, SHARE, SHARE_ROW_EXCLUSIVE, EXCLUSIVE, ACCESS_EXCLUSIVE}
    ),
    EXCLUSIVE: frozenset(
        {ROW_SHARE, ROW_EXCLUSIVE, SHARE_UPDATE_EXCLUSIVE, SHARE, SHARE_ROW_EXCLUSIVE, EXCLUSIVE, ACCESS_EXCLUSIVE}
    ),
    ACCESS_EXCLUSIVE: frozenset(MODES),
}

# pg_locks.mode spells the modes in CamelCase.
PG_LOCKS_NAME: Final[dict[str, str]] = {mode: "".join(w.capitalize() for w in mode.split()) + "Lock" for mode in MODES}


def conflicts(held: str, requested: str) -> bool:
    return requested in CONFLICTS[held]


def blocks(mode: str) -> Blocks:
    """What a lock held in `mode` blocks: plain SELECTs take ACCESS SHARE, INSERT/UPDATE/DELETE ROW EXCLUSIVE."""
    if conflicts(mode, ACCESS_SHARE):
        return "reads and writes"
    if conflicts(mode, ROW_EXCLUSIVE):
        return "writes"
    return "nothing"


def strongest(modes: list[str]) -> str:
    return max(modes, key=MODES.index)


@dataclass(frozen=True)
class Operation:
    """One kind of migration operation: the lock it takes and what it does to the table."""

    mode: str
    effect: TableEffect
    transactional: bool = True
    note: str = ""
    blocks_override: Blocks | None = None  # when the table lock alone understates (or overstates) what waits
    type_only: bool = False  # the lock is on a type, not on any table

    @property
    def blocks(self) -> Blocks:
        if self.type_only:
            return "nothing"
        return self.blocks_override or blocks(self.mode)


BRIEF = "a few milliseconds (catalog update only), once the lock is granted"

# Every operation kind the linter recognises and the planner emits.
OPERATIONS: Final[dict[str, Operation]] = {
    # columns
    "add_column": Operation(ACCESS_EXCLUSIVE, "metadata", note="nullable, or a non-volatile default on 11+"),
    "add_column_rewrite": Operation(ACCESS_EXCLUSIVE, "rewrite", note="volatile default, identity, stored generated"),
    "drop_column": Operation(ACCESS_EXCLUSIVE, "metadata", note="marks the column dropped; space is reused later"),
    "rename_column": Operation(ACCESS_EXCLUSIVE, "metadata"),
    "set_default": Operation(ACCESS_EXCLUSIVE, "metadata"),
    "drop_default": Operation(ACCESS_EXCLUSIVE, "metadata"),
    "set_not_null": Operation(ACCESS_EXCLUSIVE, "scan", note="scans the table unless a valid CHECK proves it (12+)"),
    "set_not_null_proven": Operation(ACCESS_EXCLUSIVE, "metadata", note="a validated CHECK (c IS NOT NULL) exists"),
    "drop_not_null": Operation(ACCESS_EXCLUSIVE, "metadata"),
    "alter_type": Operation(ACCESS_EXCLUSIVE, "rewrite", note="rewrites the table and rebuilds its indexes"),
    "alter_type_coercible": Operation(ACCESS_EXCLUSIVE, "metadata", note="binary-coercible: no rewrite"),
    "set_statistics": Operation(SHARE_UPDATE_EXCLUSIVE, "metadata"),
    "set_storage_options": Operation(SHARE_UPDATE_EXCLUSIVE, "metadata", note="fillfactor, autovacuum_*"),
    "add_identity": Operation(ACCESS_EXCLUSIVE, "metadata", note="ALTER COLUMN ADD GENERATED ... AS IDENTITY"),
    # constraints
    "add_check": Operation(ACCESS_EXCLUSIVE, "scan", note="validates every row while holding the lock"),
    "add_check_not_valid": Operation(ACCESS_EXCLUSIVE, "metadata"),
    "add_foreign_key": Operation(SHARE_ROW_EXCLUSIVE, "scan", note="on both tables, while every row is checked"),
    "add_foreign_key_not_valid": Operation(SHARE_ROW_EXCLUSIVE, "metadata", note="on both tables"),
    "validate_constraint": Operation(SHARE_UPDATE_EXCLUSIVE, "scan", note="ROW SHARE on a foreign key's target"),
    "add_unique": Operation(ACCESS_EXCLUSIVE, "build", note="builds the unique index under the lock"),
    "add_primary_key": Operation(ACCESS_EXCLUSIVE, "build", note="builds the index and checks NOT NULL"),
    "add_constraint_using_index": Operation(ACCESS_EXCLUSIVE, "metadata"),
    "drop_constraint": Operation(ACCESS_EXCLUSIVE, "metadata"),
    "rename_constraint": Operation(ACCESS_EXCLUSIVE, "metadata"),
    # indexes
    "create_index": Operation(SHARE, "build"),
    "create_index_concurrently": Operation(SHARE_UPDATE_EXCLUSIVE, "build", transactional=False),
    "drop_index": Operation(ACCESS_EXCLUSIVE, "metadata"),
    "drop_index_concurrently": Operation(SHARE_UPDATE_EXCLUSIVE, "metadata", transactional=False),
    "reindex": Operation(
        SHARE,
        "build",
        note="ACCESS EXCLUSIVE on each index: planning any query on the table opens every index, so reads wait too",
        blocks_override="reads and writes",
    ),
    "reindex_concurrently": Operation(SHARE_UPDATE_EXCLUSIVE, "build", transactional=False),
    "rename_index": Operation(SHARE_UPDATE_EXCLUSIVE, "metadata"),
    # tables
    "create_table": Operation(ACCESS_EXCLUSIVE, "none", note="on the new table only"),
    "drop_table": Operation(ACCESS_EXCLUSIVE, "metadata"),
    "rename_table": Operation(ACCESS_EXCLUSIVE, "metadata"),
    "truncate": Operation(ACCESS_EXCLUSIVE, "metadata"),
    "set_logged": Operation(ACCESS_EXCLUSIVE, "rewrite"),
    "vacuum_full": Operation(ACCESS_EXCLUSIVE, "rewrite", transactional=False),
    "cluster": Operation(ACCESS_EXCLUSIVE, "rewrite"),
    "create_view": Operation(ACCESS_EXCLUSIVE, "none", note="on the view only"),
    "refresh_materialized_view": Operation(ACCESS_EXCLUSIVE, "rewrite"),
    "refresh_materialized_view_concurrently": Operation(EXCLUSIVE, "scan", note="applies a diff; no rewrite"),
    # triggers
    "create_trigger": Operation(SHARE_ROW_EXCLUSIVE, "metadata"),
    "drop_trigger": Operation(ACCESS_EXCLUSIVE, "metadata"),
    "enable_disable_trigger": Operation(SHARE_ROW_EXCLUSIVE, "metadata"),
    # partitions
    "attach_partition": Operation(SHARE_UPDATE_EXCLUSIVE, "scan", note="ACCESS EXCLUSIVE on the partition"),
    "detach_partition": Operation(ACCESS_EXCLUSIVE, "metadata"),
    "detach_partition_concurrently": Operation(SHARE_UPDATE_EXCLUSIVE, "metadata", transactional=False),
    # types
    "add_enum_value": Operation(ACCESS_EXCLUSIVE, "none", note="on the type only, not on tables", type_only=True),
    # data
    "backfill_batch": Operation(ROW_EXCLUSIVE, "rows", note="row locks on one batch at a time"),
    "analyze": Operation(SHARE_UPDATE_EXCLUSIVE, "scan", note="samples the table"),
}


def claim(kind: str, tables: list[str], held: str | None = None) -> LockClaim:
    """The LockClaim for an operation kind on `tables` (KeyError for an unknown kind)."""
    op = OPERATIONS[kind]
    if op.type_only:
        return LockClaim(mode=op.mode, tables=[], blocks="nothing", held=held or "on the type only; no table is locked")
    if held is None:
        held = BRIEF if op.effect in ("metadata", "none") else "for the whole statement (it reads the table)"
        if op.effect == "rewrite":
            held = "for the whole rewrite of the table and its indexes"
        elif op.effect == "rows":
            held = "per batch; each batch commits on its own"
    return LockClaim(mode=op.mode, tables=tables, blocks=op.blocks, held=held)
