"""PostgreSQL classifier: the ClassifiedOp record, the operations pg_locks lacks, and lock claims."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from dbspecialist.knowledge.migrations import pg_locks
from dbspecialist.knowledge.migrations.pg_locks import (
    ACCESS_EXCLUSIVE,
    ROW_EXCLUSIVE,
    ROW_SHARE,
    SHARE_ROW_EXCLUSIVE,
    SHARE_UPDATE_EXCLUSIVE,
    Operation,
)

if TYPE_CHECKING:
    from dbspecialist.knowledge.migrations.model import LockClaim


Detail = dict[str, str | int | bool | None]

# Operations pg_locks.OPERATIONS does not list; each confirmed against PostgreSQL 15's pg_locks.
EXTRA_OPERATIONS: Final[dict[str, Operation]] = {
    "alter_type_rebuild_indexes": Operation(ACCESS_EXCLUSIVE, "build", note="heap kept; indexes on it rebuilt"),
    "add_not_null_not_valid": Operation(ACCESS_EXCLUSIVE, "metadata", note="NOT NULL ... NOT VALID (18+)"),
    "set_attribute_options": Operation(SHARE_UPDATE_EXCLUSIVE, "metadata", note="ALTER COLUMN SET (n_distinct...)"),
    "set_column_storage": Operation(ACCESS_EXCLUSIVE, "metadata", note="SET STORAGE / SET COMPRESSION"),
    "alter_identity": Operation(ACCESS_EXCLUSIVE, "metadata", note="SET GENERATED / DROP IDENTITY / RESTART"),
    "set_expression": Operation(ACCESS_EXCLUSIVE, "rewrite", note="SET EXPRESSION recomputes every row (17+)"),
    "set_tablespace": Operation(ACCESS_EXCLUSIVE, "rewrite", note="copies the files"),
    "set_access_method": Operation(ACCESS_EXCLUSIVE, "rewrite"),
    "cluster_on": Operation(SHARE_UPDATE_EXCLUSIVE, "metadata", note="CLUSTER ON / SET WITHOUT CLUSTER"),
    "alter_constraint": Operation(ACCESS_EXCLUSIVE, "metadata", note="deferrability"),
    "alter_table_other": Operation(ACCESS_EXCLUSIVE, "metadata", note="owner, replica identity, RLS, inherit..."),
    "set_schema": Operation(ACCESS_EXCLUSIVE, "metadata"),
    "create_partition": Operation(ACCESS_EXCLUSIVE, "none", note="CREATE TABLE ... PARTITION OF: on the parent"),
    "create_materialized_view": Operation(ACCESS_EXCLUSIVE, "none", note="on the new view; reads its sources"),
    "drop_view": Operation(ACCESS_EXCLUSIVE, "metadata"),
    "rename_enum_value": Operation(ACCESS_EXCLUSIVE, "none", note="on the type only", type_only=True),
    "vacuum": Operation(SHARE_UPDATE_EXCLUSIVE, "scan", transactional=False),
    "update_rows": Operation(ROW_EXCLUSIVE, "rows", note="row locks on every row it changes, in one transaction"),
    "delete_rows": Operation(ROW_EXCLUSIVE, "rows", note="row locks on every row it deletes, in one transaction"),
    "insert_rows": Operation(ROW_EXCLUSIVE, "rows"),
    "comment": Operation(SHARE_UPDATE_EXCLUSIVE, "metadata"),
}

# Secondary tables a kind also locks (detail key → mode), e.g. a foreign key's referenced table.
SECONDARY: Final[dict[str, tuple[str, str]]] = {
    "add_foreign_key": ("references", SHARE_ROW_EXCLUSIVE),
    "add_foreign_key_not_valid": ("references", SHARE_ROW_EXCLUSIVE),
    "create_table": ("references", SHARE_ROW_EXCLUSIVE),
    "validate_constraint": ("references", ROW_SHARE),
    "drop_constraint": ("references", ACCESS_EXCLUSIVE),
    "drop_table": ("references", ACCESS_EXCLUSIVE),
    "attach_partition": ("partition", ACCESS_EXCLUSIVE),
    "detach_partition": ("partition", ACCESS_EXCLUSIVE),
    "detach_partition_concurrently": ("partition", ACCESS_EXCLUSIVE),
    "create_partition": ("partition", ACCESS_EXCLUSIVE),
}


def operation(kind: str) -> Operation:
    """The Operation for a kind from pg_locks.OPERATIONS or EXTRA_OPERATIONS (KeyError if neither)."""
    return pg_locks.OPERATIONS[kind] if kind in pg_locks.OPERATIONS else EXTRA_OPERATIONS[kind]


# Kinds whose lock is on a type, not a table: queries on tables using the type are not blocked (observed on
# PostgreSQL 15: ALTER TYPE ... ADD VALUE / RENAME VALUE leave reads and writes of such tables running).
TYPE_ONLY_KINDS: Final = frozenset(
    kind for kind, op in {**pg_locks.OPERATIONS, **EXTRA_OPERATIONS}.items() if op.type_only
)


def claim(kind: str, tables: list[str], held: str | None = None) -> LockClaim:
    """pg_locks.claim, also for the kinds in EXTRA_OPERATIONS; type-level kinds block no table."""
    from dbspecialist.knowledge.migrations.model import LockClaim

    if kind in pg_locks.OPERATIONS:
        return pg_locks.claim(kind, tables, held)
    if kind in TYPE_ONLY_KINDS:
        mode = operation(kind).mode
        return LockClaim(mode=mode, tables=[], blocks="nothing", held=held or "on the type only; no table is locked")

    op = EXTRA_OPERATIONS[kind]
    if held is None:
        held = {
            "rewrite": "for the whole rewrite of the table and its indexes",
            "rows": "until the transaction commits",
            "build": "while the indexes are rebuilt",
            "scan": "for the whole statement (it reads the table)",
        }.get(op.effect, pg_locks.BRIEF)
    return LockClaim(mode=op.mode, tables=tables, blocks=op.blocks, held=held)


@dataclass(frozen=True)
class ClassifiedOp:
    kind: str  # a key of pg_locks.OPERATIONS or EXTRA_OPERATIONS
    table: str  # 'schema.table' or 'table' as written ('' when no table, e.g. enum values)
    column: str | None = None
    detail: Detail = field(default_factory=dict)

    @property
    def mode(self) -> str:
        return operation(self.kind).mode


def statement_lock(ops: list[ClassifiedOp]) -> dict[str, str]:
    """Table → the strongest lock mode the operations take on it (referenced tables and partitions included)."""
    modes: dict[str, list[str]] = {}
    for op in ops:
        if op.table:
            modes.setdefault(op.table, []).append(op.mode)
        secondary = SECONDARY.get(op.kind)
        if secondary is not None:
            other = op.detail.get(secondary[0])
            for name in str(other).split(",") if isinstance(other, str) else ():
                if name:
                    modes.setdefault(name, []).append(secondary[1])
    return {table: pg_locks.strongest(found) for table, found in modes.items()}
