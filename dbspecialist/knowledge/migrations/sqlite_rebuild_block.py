"""Finding table rebuilds the change writes out itself (by hand, or as diff_schemas generates them).

A written rebuild is the procedure of the SQLite docs ("ALTER TABLE", "Making Other Kinds Of Table Schema
Changes"): `CREATE TABLE new_X (...)`, `INSERT INTO new_X ... SELECT ... FROM X`, `DROP TABLE X`,
`ALTER TABLE new_X RENAME TO X`, usually wrapped in `PRAGMA foreign_keys=OFF; BEGIN; ... COMMIT;
PRAGMA foreign_keys=ON` with indexes, triggers and views recreated and `PRAGMA foreign_key_check` before COMMIT.
Planned statement by statement, its DROP TABLE would look like dropping data, and with foreign keys on it does
delete every row first (firing ON DELETE actions in child tables). So the whole block is recognised here and
planned as one rebuild (sqlite_rebuild_block_plan).

Tolerated variations: any BEGIN form (BEGIN, BEGIN TRANSACTION, BEGIN IMMEDIATE / EXCLUSIVE, a top-level
SAVEPOINT ... RELEASE), COMMIT or END, no explicit transaction at all, PRAGMA foreign_keys missing or misplaced
inside the transaction, foreign_key_check anywhere or nowhere, any name for the new table, several tables rebuilt
in one transaction, and any index, trigger and view statements around the core.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from dbspecialist.knowledge.migrations.sqlite_statements import SqliteStatement, pragma_is_on

# PRAGMAs that belong to a rebuild and are absorbed with it when they are next to it.
BLOCK_PRAGMAS: Final = frozenset({"foreign_keys", "foreign_key_check", "legacy_alter_table"})
# Statements that commonly surround the core of an untransacted rebuild: drop the dependents before, recreate after.
_BEFORE_KINDS: Final = frozenset({"drop_view", "drop_trigger"})
_AFTER_KINDS: Final = frozenset({"create_index", "create_trigger", "create_view"})
_TRANSACTION_CONTROL: Final = frozenset({"begin", "commit", "savepoint", "release"})


@dataclass(frozen=True)
class RebuiltTable:
    """One table rebuilt by the block: the four core statements (the copy may be missing)."""

    table: str  # X, the table the block rebuilds
    temporary: str  # new_X, the name the new definition is created under
    create: SqliteStatement
    copy: SqliteStatement | None  # INSERT INTO new_X ... SELECT ... FROM X (or CREATE TABLE new_X AS SELECT)
    drop: SqliteStatement
    rename: SqliteStatement


@dataclass(frozen=True)
class RebuildBlock:
    """A written rebuild: what it covers in the change, the statements its transaction runs, the tables it rebuilds."""

    statements: tuple[SqliteStatement, ...]  # every statement the block covers, in order
    body: tuple[SqliteStatement, ...]  # what runs inside the transaction, as written (control and FK PRAGMAs out)
    tables: tuple[RebuiltTable, ...]
    begin: str | None  # the BEGIN as written; None when the rebuild was written without a transaction
    foreign_keys_off: bool  # the change turned foreign keys off (outside a transaction) before the first DROP TABLE
    misplaced_pragmas: tuple[SqliteStatement, ...]  # PRAGMA foreign_keys inside the transaction (no-ops there)
    left_out_pragmas: tuple[SqliteStatement, ...]  # PRAGMA foreign_keys / legacy_alter_table around it (plan's own)
    checks_after_commit: tuple[SqliteStatement, ...]  # PRAGMA foreign_key_check after COMMIT (moved inside)

    @property
    def has_foreign_key_check(self) -> bool:
        """Whether the transaction runs PRAGMA foreign_key_check after the last rename."""
        last_rename = max(self.body.index(t.rename) for t in self.tables)
        return any(_pragma_named(s, "foreign_key_check") for s in self.body[last_rename + 1 :])


def _pragma_named(stmt: SqliteStatement, name: str) -> bool:
    return stmt.kind == "pragma" and stmt.pragma is not None and stmt.pragma[0] == name


def _is_block_pragma(stmt: SqliteStatement) -> bool:
    return stmt.kind == "pragma" and stmt.pragma is not None and stmt.pragma[0] in BLOCK_PRAGMAS


def _same(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and a.lower() == b.lower()


def _reads_from(stmt: SqliteStatement, table: str) -> bool:
    return re.search(rf"\bFROM\s+(?:\w+\.)?[\"`\[]?{re.escape(table)}\b", stmt.text, re.I) is not None


def _find(statements: list[SqliteStatement], positions: range, kind: str, name: str) -> int | None:
    """The first position in `positions` of a `kind` statement on object `name`."""
    return next((i for i in positions if statements[i].kind == kind and _same(statements[i].name, name)), None)


def find_rebuilt_tables(statements: list[SqliteStatement]) -> list[RebuiltTable]:
    """Every CREATE TABLE T ... DROP TABLE X ... ALTER TABLE T RENAME TO X in the change, in order."""
    found: list[RebuiltTable] = []
    for r, rename in enumerate(statements):
        if rename.kind != "alter_table" or len(rename.actions) != 1 or rename.actions[0].kind != "rename_table":
            continue
        temporary, table = rename.table, rename.actions[0].new_name
        if temporary is None or table is None or _same(temporary, table):
            continue
        create_at = _find(statements, range(r - 1, -1, -1), "create_table", temporary)
        drop_at = _find(statements, range(create_at + 1, r), "drop_table", table) if create_at is not None else None
        if create_at is None or drop_at is None:
            continue
        create = statements[create_at]
        copy = next(
            (
                s
                for s in statements[create_at + 1 : drop_at]
                if s.kind == "insert" and _same(s.table, temporary) and _reads_from(s, table)
            ),
            create if _reads_from(create, table) else None,  # CREATE TABLE new_X AS SELECT ... FROM X
        )
        found.append(RebuiltTable(table, temporary, create, copy, statements[drop_at], rename))
    return found


def _transaction_span(statements: list[SqliteStatement], index: int) -> tuple[int, int]:
    """The first and last statement of the explicit transaction `statements[index]` runs in (itself in autocommit)."""
    transaction = statements[index].transaction
    if transaction is None:
        return index, index
    members = [i for i, s in enumerate(statements) if s.transaction == transaction]
    return members[0], members[-1]


def _extend(statements: list[SqliteStatement], lo: int, hi: int, *, transacted: bool) -> tuple[int, int]:
    """Widen [lo, hi] over the autocommit statements next to it that belong to the rebuild."""
    while lo > 0:
        before = statements[lo - 1]
        fits = _is_block_pragma(before) or (not transacted and before.kind in _BEFORE_KINDS)
        if before.transaction is not None or not fits:
            break
        lo -= 1
    while hi + 1 < len(statements):
        after = statements[hi + 1]
        fits = _is_block_pragma(after) or (not transacted and after.kind in _AFTER_KINDS)
        if after.transaction is not None or not fits:
            break
        hi += 1
    return lo, hi


def _spans(statements: list[SqliteStatement], rebuilt: list[RebuiltTable]) -> list[tuple[int, int]]:
    """Index ranges of the blocks: each core widened to its transactions and neighbours, overlapping ones merged."""
    spans: list[tuple[int, int]] = []
    for table in rebuilt:
        lo, hi = statements.index(table.create), statements.index(table.rename)
        transacted = False
        for end in (lo, hi):
            first, last = _transaction_span(statements, end)
            transacted = transacted or first != last or statements[end].transaction is not None
            lo, hi = min(lo, first), max(hi, last)
        spans.append(_extend(statements, lo, hi, transacted=transacted))
    merged: list[tuple[int, int]] = []
    for lo, hi in sorted(spans):
        if merged and lo <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(hi, merged[-1][1]))
        else:
            merged.append((lo, hi))
    return merged


def _controls(covered: list[SqliteStatement]) -> set[int]:
    """Positions of the statements that open or close the block's transactions (a nested SAVEPOINT stays)."""
    found: set[int] = set()
    for transaction in {s.transaction for s in covered if s.transaction is not None}:
        members = [i for i, s in enumerate(covered) if s.transaction == transaction]
        if covered[members[0]].kind in ("begin", "savepoint"):
            found.add(members[0])
        if covered[members[-1]].kind in ("commit", "release"):
            found.add(members[-1])
    return found


def _foreign_keys_off_before(covered: list[SqliteStatement], index: int) -> bool:
    """Whether the last autocommit PRAGMA foreign_keys before `covered[index]` turned them off."""
    state: bool | None = None
    for stmt in covered[:index]:
        if _pragma_named(stmt, "foreign_keys") and stmt.transaction is None and stmt.pragma is not None:
            state = pragma_is_on(stmt.pragma[1])
    return state is False


def _block(covered: list[SqliteStatement], rebuilt: list[RebuiltTable]) -> RebuildBlock | None:
    """The block over `covered`; None when it is not one clean rebuild (it has a ROLLBACK)."""
    if any(s.kind == "rollback" for s in covered):
        return None
    controls = _controls(covered)
    last_inside = max((i for i, s in enumerate(covered) if s.transaction is not None), default=None)
    body: list[SqliteStatement] = []
    misplaced: list[SqliteStatement] = []
    left_out: list[SqliteStatement] = []
    after_commit: list[SqliteStatement] = []
    for i, stmt in enumerate(covered):
        if i in controls:
            continue
        if _pragma_named(stmt, "foreign_keys"):
            (misplaced if stmt.transaction is not None else left_out).append(stmt)
        elif _pragma_named(stmt, "foreign_key_check") and last_inside is not None and i > last_inside:
            after_commit.append(stmt)
        elif _pragma_named(stmt, "legacy_alter_table") and stmt.transaction is None:
            left_out.append(stmt)
        else:
            body.append(stmt)
    tables = tuple(t for t in rebuilt if t.create in body and t.rename in body)
    if not tables:
        return None
    opener = min(controls, default=None)
    return RebuildBlock(
        statements=tuple(covered),
        body=tuple(body),
        tables=tables,
        begin=covered[opener].text if opener is not None else None,
        foreign_keys_off=_foreign_keys_off_before(covered, min(covered.index(t.drop) for t in tables)),
        misplaced_pragmas=tuple(misplaced),
        left_out_pragmas=tuple(left_out),
        checks_after_commit=tuple(after_commit),
    )


def split_rebuild_blocks(statements: list[SqliteStatement]) -> list[SqliteStatement | RebuildBlock]:
    """The statements with every written rebuild replaced by one RebuildBlock, in order."""
    rebuilt = find_rebuilt_tables(statements)
    if not rebuilt:
        return list(statements)
    out: list[SqliteStatement | RebuildBlock] = []
    position = 0
    for lo, hi in _spans(statements, rebuilt):
        block = _block(statements[lo : hi + 1], rebuilt)
        if block is None:
            continue
        out += statements[position:lo]
        out.append(block)
        position = hi + 1
    out += statements[position:]
    return out
