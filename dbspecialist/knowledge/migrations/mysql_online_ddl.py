"""InnoDB online DDL: per operation kind and server version, the most efficient ALGORITHM, the weakest LOCK it
allows and whether it rebuilds the table.

Sources: MySQL 8.0 Reference Manual, 17.12.1 "Online DDL Operations" (tables per index, column, primary key,
generated column, foreign key and table operation; INSTANT ADD COLUMN from 8.0.12, any position and DROP COLUMN
from 8.0.29, RENAME COLUMN from 8.0.28, at most 64 row versions per table, 255 from 9.1.0); MariaDB Knowledge Base,
"InnoDB Online DDL Operations with ALGORITHM=INSTANT / NOCOPY / INPLACE" and "Online Schema Change" (MariaDB's
algorithm hierarchy COPY < INPLACE < NOCOPY < INSTANT; instant ADD COLUMN last in 10.3, DROP/reorder and
utf8mb3→utf8mb4 in 10.4, collation change of indexed columns NOCOPY in 10.6, ALGORITHM=COPY with LOCK=NONE in 11.2).

Every MariaDB 10.11 entry is checked against the server by tests/integration/mysql/test_migration_algorithms.py:
the chosen ALGORITHM/LOCK is accepted and the next more efficient algorithm is refused. MariaDB gates name the
release series (10.3, 10.4, ...) because the pre-GA releases inside a series never ran in production.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Final, Literal

from dbspecialist.knowledge.migrations.model import Blocks, TableEffect
from dbspecialist.knowledge.migrations.versions import Version

Algorithm = Literal["INSTANT", "NOCOPY", "INPLACE", "COPY"]
LockOption = Literal["NONE", "SHARED", "EXCLUSIVE"]
Flavor = Literal["mysql", "mariadb"]

# Least to most efficient (MariaDB's hierarchy; MySQL has no NOCOPY).
ALGORITHM_ORDER: Final[tuple[Algorithm, ...]] = ("COPY", "INPLACE", "NOCOPY", "INSTANT")
LOCK_ORDER: Final[tuple[LockOption, ...]] = ("NONE", "SHARED", "EXCLUSIVE")
LOCK_BLOCKS: Final[dict[LockOption, Blocks]] = {"NONE": "nothing", "SHARED": "writes", "EXCLUSIVE": "reads and writes"}

SOURCE_MYSQL: Final = "MySQL 8.0 Reference Manual, 17.12.1 'Online DDL Operations'"
SOURCE_MARIADB: Final = (
    "MariaDB KB, 'InnoDB Online DDL Operations with ALGORITHM=INSTANT/NOCOPY/INPLACE' (checked on MariaDB 10.11)"
)

MYSQL_INSTANT: Final[Version] = (8, 0, 12)
MYSQL_INSTANT_ANY_POSITION: Final[Version] = (8, 0, 29)
MYSQL_INSTANT_RENAME_COLUMN: Final[Version] = (8, 0, 28)
MYSQL_ROW_VERSIONS_255: Final[Version] = (9, 1, 0)
MARIADB_INSTANT: Final[Version] = (10, 3, 0)  # ALGORITHM=INSTANT/NOCOPY keywords (10.3.7, the first 10.3 GA)
MARIADB_ONLINE_COPY: Final[Version] = (11, 2, 0)  # ALGORITHM=COPY, LOCK=NONE (MDEV-16329)


def max_row_versions(version: Version) -> int:
    """MySQL: instant ADD/DROP COLUMN operations allowed before the table must be rebuilt (64; 255 from 9.1.0)."""
    return 255 if version >= MYSQL_ROW_VERSIONS_255 else 64


@dataclass(frozen=True)
class Gate:
    """From `since` on (until a later gate), the operation runs with this algorithm and lock."""

    since: Version
    algorithm: Algorithm
    lock: LockOption = "NONE"
    rebuilds: bool = False
    metadata_only: bool = False
    note: str = ""


@dataclass(frozen=True)
class TableTraits:
    """What about the table changes the answer (from the catalog when known)."""

    row_format: str | None = None  # REDUNDANT, COMPACT, DYNAMIC, COMPRESSED
    has_fulltext: bool = False
    indexed: bool = False  # the column the operation touches is part of an index
    foreign_key_checks: bool = True
    in_composite_index: bool = False  # ... of an index with other columns too (dropping it shrinks that index)
    in_primary_key: bool = False  # ... of the primary key
    indexes_known: bool = True  # False when the table is unknown (no schema): its indexes may include the column
    engine: str | None = None  # the table's storage engine; None: unknown, planned as InnoDB


@dataclass(frozen=True)
class OnlineDDL:
    """The best way the server can run one operation kind, and why."""

    kind: str
    flavor: Flavor
    version: Version
    algorithm: Algorithm
    lock: LockOption
    rebuilds: bool
    metadata_only: bool
    note: str
    source: str

    @property
    def concurrent_dml(self) -> bool:
        return self.lock == "NONE"

    @property
    def blocks(self) -> Blocks:
        return LOCK_BLOCKS[self.lock]

    @property
    def effect(self) -> TableEffect:
        if self.metadata_only:
            return "metadata"
        if self.rebuilds or self.algorithm == "COPY":
            return "rewrite"
        return "build"

    @property
    def rejected(self) -> Algorithm | None:
        """The next more efficient algorithm, which the server refuses for this operation (None after INSTANT)."""
        ladder = algorithms(self.flavor, self.version)
        position = ladder.index(self.algorithm)
        return ladder[position + 1] if position + 1 < len(ladder) else None

    def clause(self) -> str:
        return f"ALGORITHM={self.algorithm}, LOCK={self.lock}"


def algorithms(flavor: str, version: Version) -> tuple[Algorithm, ...]:
    """The ALGORITHM values the server knows, least to most efficient."""
    if flavor == "mariadb":
        return ALGORITHM_ORDER if version >= MARIADB_INSTANT else ("COPY", "INPLACE")
    return ("COPY", "INPLACE", "INSTANT") if version >= MYSQL_INSTANT else ("COPY", "INPLACE")


_BASE_MYSQL: Final[Version] = (5, 6, 0)
_BASE_MARIADB: Final[Version] = (10, 0, 0)
_COPY = Gate(_BASE_MYSQL, "COPY", "SHARED", rebuilds=True, note="copies the table; writes wait for the copy")
_COPY_M = replace(_COPY, since=_BASE_MARIADB)
# metadata only: in place from the base version, INSTANT once the keyword exists
_METADATA_MYSQL: Final = (
    Gate(_BASE_MYSQL, "INPLACE", metadata_only=True),
    Gate(MYSQL_INSTANT, "INSTANT", metadata_only=True),
)
_METADATA_MARIADB: Final = (
    Gate(_BASE_MARIADB, "INPLACE", metadata_only=True),
    Gate(MARIADB_INSTANT, "INSTANT", metadata_only=True),
)

# kind → one-line description (the operation kinds the planner and the linter recognise).
OPERATION_KINDS: Final[dict[str, str]] = {
    "add_column_last": "ADD COLUMN at the end of the table",
    "add_column_middle": "ADD COLUMN ... FIRST / AFTER another column",
    "add_column_auto_increment": "ADD COLUMN ... AUTO_INCREMENT",
    "add_column_expression_default": "ADD COLUMN ... DEFAULT (expression) evaluated per row",
    "add_stored_generated": "ADD COLUMN ... AS (expr) STORED / PERSISTENT",
    "add_virtual_generated": "ADD COLUMN ... AS (expr) VIRTUAL",
    "drop_column": "DROP COLUMN",
    "rename_column": "RENAME COLUMN / CHANGE old new with the same definition",
    "reorder_column": "MODIFY ... FIRST / AFTER (same definition)",
    "set_default": "ALTER COLUMN ... SET DEFAULT",
    "drop_default": "ALTER COLUMN ... DROP DEFAULT",
    "column_metadata": "a column COMMENT change",
    "varchar_extend": "VARCHAR/VARBINARY longer, staying on the same side of the 255-byte length prefix",
    "varchar_extend_crossing": "VARCHAR/VARBINARY longer, crossing 255 bytes (utf8mb4: 63 → 64+ characters)",
    "int_widen": "a wider integer type (INT → BIGINT)",
    "change_type": "any other column type change (shorter, other type, signedness, CHAR length, ...)",
    "enum_append": "ENUM/SET members appended at the end, storage size unchanged",
    "column_charset": "a column's character set (other than utf8mb3 → utf8mb4)",
    "column_charset_utf8mb4": "a column's character set from utf8mb3 to utf8mb4",
    "column_collation": "a column's collation within its character set",
    "set_not_null": "NULL → NOT NULL",
    "drop_not_null": "NOT NULL → NULL",
    "add_index": "ADD INDEX / ADD UNIQUE / CREATE INDEX",
    "drop_index": "DROP INDEX",
    "rename_index": "RENAME INDEX",
    "index_visibility": "ALTER INDEX ... INVISIBLE (MySQL 8.0) / IGNORED (MariaDB 10.6)",
    "add_fulltext_index": "ADD FULLTEXT INDEX",
    "add_spatial_index": "ADD SPATIAL INDEX",
    "add_primary_key": "ADD PRIMARY KEY",
    "drop_primary_key": "DROP PRIMARY KEY (without adding another in the same statement)",
    "replace_primary_key": "DROP PRIMARY KEY, ADD PRIMARY KEY (...) in one statement",
    "add_foreign_key": "ADD FOREIGN KEY",
    "drop_foreign_key": "DROP FOREIGN KEY",
    "add_check": "ADD CHECK constraint",
    "drop_check": "DROP CHECK / DROP CONSTRAINT of a CHECK",
    "convert_charset": "CONVERT TO CHARACTER SET (every text column)",
    "table_default_charset": "DEFAULT CHARACTER SET / COLLATE of the table (new columns only)",
    "rename_table": "RENAME TABLE / ALTER TABLE ... RENAME TO",
    "change_row_format": "ROW_FORMAT= / KEY_BLOCK_SIZE=",
    "rebuild": "OPTIMIZE TABLE, ALTER TABLE ... FORCE, ENGINE=InnoDB",
    "change_engine": "ENGINE= another storage engine than the table's",
    "table_metadata": "table COMMENT= / AUTO_INCREMENT=",
}

_MYSQL: Final[dict[str, tuple[Gate, ...]]] = {
    "add_column_last": (
        Gate(_BASE_MYSQL, "INPLACE", rebuilds=True, note="rebuilds the table before 8.0.12"),
        Gate(MYSQL_INSTANT, "INSTANT", metadata_only=True, note="instant ADD COLUMN (last) from 8.0.12"),
    ),
    "add_column_middle": (
        Gate(_BASE_MYSQL, "INPLACE", rebuilds=True, note="instant ADD COLUMN only as the last column before 8.0.29"),
        Gate(MYSQL_INSTANT_ANY_POSITION, "INSTANT", metadata_only=True, note="instant at any position from 8.0.29"),
    ),
    "add_column_auto_increment": (
        Gate(_BASE_MYSQL, "INPLACE", "SHARED", rebuilds=True, note="an AUTO_INCREMENT column blocks writes"),
    ),
    "add_column_expression_default": (
        replace(_COPY, note="a DEFAULT (expression) column is filled row by row: table copy (strong_migrations)"),
    ),
    "add_stored_generated": (replace(_COPY, note="a STORED generated column is computed for every row: COPY"),),
    "add_virtual_generated": _METADATA_MYSQL,
    "drop_column": (
        Gate(_BASE_MYSQL, "INPLACE", rebuilds=True, note="rebuilds the table before 8.0.29"),
        Gate(MYSQL_INSTANT_ANY_POSITION, "INSTANT", metadata_only=True, note="instant DROP COLUMN from 8.0.29"),
    ),
    "rename_column": (
        Gate(_BASE_MYSQL, "INPLACE", metadata_only=True),
        Gate(MYSQL_INSTANT_RENAME_COLUMN, "INSTANT", metadata_only=True, note="instant RENAME COLUMN from 8.0.28"),
    ),
    "reorder_column": (Gate(_BASE_MYSQL, "INPLACE", rebuilds=True, note="reordering rebuilds the table"),),
    "set_default": _METADATA_MYSQL,
    "drop_default": _METADATA_MYSQL,
    "column_metadata": (Gate(_BASE_MYSQL, "INPLACE", metadata_only=True),),
    "varchar_extend": (
        replace(_COPY, note="extending VARCHAR in place arrived in 5.7"),
        Gate((5, 7, 0), "INPLACE", metadata_only=True, note="same number of length bytes: metadata only"),
    ),
    "varchar_extend_crossing": (replace(_COPY, note="the length prefix grows from 1 to 2 bytes: every row changes"),),
    "int_widen": (replace(_COPY, note="a column type change copies the table"),),
    "change_type": (replace(_COPY, note="a column type change copies the table"),),
    "enum_append": (
        Gate(_BASE_MYSQL, "INPLACE", metadata_only=True),
        Gate(MYSQL_INSTANT, "INSTANT", metadata_only=True, note="appending members keeps the stored numbers"),
    ),
    "column_charset": (replace(_COPY, note="a column character set change converts every value"),),
    "column_charset_utf8mb4": (replace(_COPY, note="a column character set change converts every value"),),
    "column_collation": (replace(_COPY, note="treated as a column type change"),),
    "set_not_null": (
        Gate(_BASE_MYSQL, "INPLACE", rebuilds=True, note="rebuilds; fails if a NULL exists (strict sql_mode)"),
    ),
    "drop_not_null": (Gate(_BASE_MYSQL, "INPLACE", rebuilds=True),),
    "add_index": (Gate(_BASE_MYSQL, "INPLACE", note="builds the index while reads and writes continue"),),
    "drop_index": (Gate(_BASE_MYSQL, "INPLACE", metadata_only=True),),
    "rename_index": (
        replace(_COPY, note="RENAME INDEX arrived in 5.7"),
        Gate((5, 7, 0), "INPLACE", metadata_only=True),
    ),
    "index_visibility": (Gate((8, 0, 0), "INPLACE", metadata_only=True, note="invisible indexes from 8.0"),),
    "add_fulltext_index": (
        Gate(_BASE_MYSQL, "INPLACE", "SHARED", rebuilds=True, note="the first FULLTEXT index rebuilds the table"),
    ),
    "add_spatial_index": (Gate(_BASE_MYSQL, "INPLACE", "SHARED", note="a SPATIAL index build blocks writes"),),
    "add_primary_key": (Gate(_BASE_MYSQL, "INPLACE", rebuilds=True, note="the clustered index is rebuilt"),),
    "drop_primary_key": (replace(_COPY, note="dropping the primary key alone needs COPY"),),
    "replace_primary_key": (Gate(_BASE_MYSQL, "INPLACE", rebuilds=True),),
    "add_foreign_key": (
        replace(_COPY, note="with foreign_key_checks=1 only COPY can add a foreign key"),
    ),  # foreign_key_checks=0: see online_ddl()
    "drop_foreign_key": (Gate(_BASE_MYSQL, "INPLACE", metadata_only=True),),
    "add_check": (replace(_COPY, note="existing rows are checked by copying the table"),),
    "drop_check": (Gate((8, 0, 16), "INPLACE", metadata_only=True, note="CHECK constraints exist from 8.0.16"),),
    "convert_charset": (replace(_COPY, note="CONVERT TO CHARACTER SET rewrites every text column"),),
    "table_default_charset": (
        Gate(_BASE_MYSQL, "INPLACE", rebuilds=True, note="the manual lists a rebuild if the encoding differs"),
    ),
    "rename_table": (Gate(_BASE_MYSQL, "INPLACE", metadata_only=True), Gate((8, 0, 0), "INSTANT", metadata_only=True)),
    "change_row_format": (Gate(_BASE_MYSQL, "INPLACE", rebuilds=True),),
    "rebuild": (Gate(_BASE_MYSQL, "INPLACE", rebuilds=True, note="online rebuild (OPTIMIZE TABLE maps to it)"),),
    "change_engine": (replace(_COPY, note="a different storage engine: every row is copied into the new one"),),
    "table_metadata": (Gate(_BASE_MYSQL, "INPLACE", metadata_only=True),),
}

_MARIADB: Final[dict[str, tuple[Gate, ...]]] = {
    "add_column_last": (
        Gate(_BASE_MARIADB, "INPLACE", rebuilds=True),
        Gate(MARIADB_INSTANT, "INSTANT", metadata_only=True, note="instant ADD COLUMN (last) from 10.3"),
    ),
    "add_column_middle": (
        Gate(_BASE_MARIADB, "INPLACE", rebuilds=True, note="only the last position is instant in 10.3"),
        Gate((10, 4, 0), "INSTANT", metadata_only=True, note="instant at any position from 10.4"),
    ),
    "add_column_auto_increment": (
        Gate(_BASE_MARIADB, "INPLACE", "SHARED", rebuilds=True, note="an AUTO_INCREMENT column blocks writes"),
    ),
    "add_column_expression_default": (
        replace(_COPY_M, note="a default that reads other columns or calls UUID() is evaluated per row: COPY"),
    ),
    "add_stored_generated": (replace(_COPY_M, note="a STORED/PERSISTENT generated column is computed per row"),),
    "add_virtual_generated": _METADATA_MARIADB,
    "drop_column": (
        Gate(_BASE_MARIADB, "INPLACE", rebuilds=True),
        Gate((10, 4, 0), "INSTANT", metadata_only=True, note="instant DROP COLUMN from 10.4"),
    ),
    "rename_column": _METADATA_MARIADB,
    "reorder_column": (
        Gate(_BASE_MARIADB, "INPLACE", rebuilds=True),
        Gate((10, 4, 0), "INSTANT", metadata_only=True, note="instant reorder from 10.4"),
    ),
    "set_default": _METADATA_MARIADB,
    "drop_default": _METADATA_MARIADB,
    "column_metadata": _METADATA_MARIADB,
    "varchar_extend": (
        replace(_COPY_M, note="extending VARCHAR in place arrived in 10.2.2"),
        Gate((10, 2, 2), "INPLACE", metadata_only=True),
        Gate(MARIADB_INSTANT, "NOCOPY", metadata_only=True),
        Gate((10, 4, 0), "INSTANT", metadata_only=True, note="instant VARCHAR extension from 10.4"),
    ),
    "varchar_extend_crossing": (
        replace(_COPY_M, note="the length prefix grows from 1 to 2 bytes (instant only with ROW_FORMAT=REDUNDANT)"),
    ),
    "int_widen": (replace(_COPY_M, note="a column type change copies the table (even INT → BIGINT on 10.11)"),),
    "change_type": (replace(_COPY_M, note="a column type change copies the table"),),
    "enum_append": _METADATA_MARIADB,
    "column_charset": (replace(_COPY_M, note="a column character set change converts every value"),),
    "column_charset_utf8mb4": (
        replace(_COPY_M, note="a column character set change converts every value before 10.4"),
        Gate((10, 4, 0), "INSTANT", metadata_only=True, note="utf8mb3 → utf8mb4 is instant from 10.4"),
    ),
    "column_collation": (
        replace(_COPY_M, note="collation changes copy before 10.4"),
        Gate((10, 4, 0), "INSTANT", metadata_only=True, note="non-indexed column: instant from 10.4"),
    ),
    "set_not_null": (Gate(_BASE_MARIADB, "INPLACE", rebuilds=True, note="rebuilds; fails if a NULL exists"),),
    "drop_not_null": (
        Gate(_BASE_MARIADB, "INPLACE", rebuilds=True, note="instant only with ROW_FORMAT=REDUNDANT (10.4+)"),
    ),
    "add_index": (
        Gate(_BASE_MARIADB, "INPLACE"),
        Gate(MARIADB_INSTANT, "NOCOPY", note="builds the index without copying the table"),
    ),
    "drop_index": (
        Gate(_BASE_MARIADB, "INPLACE", metadata_only=True),
        Gate(MARIADB_INSTANT, "NOCOPY", metadata_only=True),
    ),
    "rename_index": (
        replace(_COPY_M, note="RENAME INDEX arrived in 10.5.2: drop and re-create the index before that"),
        Gate((10, 5, 2), "INSTANT", metadata_only=True),
    ),
    "index_visibility": (Gate((10, 6, 0), "INSTANT", metadata_only=True, note="IGNORED indexes from 10.6"),),
    "add_fulltext_index": (
        Gate(_BASE_MARIADB, "INPLACE", "SHARED", rebuilds=True, note="the first FULLTEXT index rebuilds the table"),
    ),
    "add_spatial_index": (
        Gate(_BASE_MARIADB, "INPLACE", "SHARED", note="a SPATIAL index build blocks writes"),
        Gate(MARIADB_INSTANT, "NOCOPY", "SHARED", note="a SPATIAL index build blocks writes"),
    ),
    "add_primary_key": (Gate(_BASE_MARIADB, "INPLACE", rebuilds=True, note="the clustered index is rebuilt"),),
    "drop_primary_key": (replace(_COPY_M, note="dropping the primary key alone needs COPY"),),
    "replace_primary_key": (Gate(_BASE_MARIADB, "INPLACE", rebuilds=True),),
    "add_foreign_key": (replace(_COPY_M, note="with foreign_key_checks=1 only COPY can add a foreign key"),),
    "drop_foreign_key": _METADATA_MARIADB,
    "add_check": (replace(_COPY_M, note="existing rows are checked by copying the table"),),
    "drop_check": (Gate(MARIADB_INSTANT, "INSTANT", metadata_only=True, note="MDEV-16331"),),
    "convert_charset": (replace(_COPY_M, note="CONVERT TO CHARACTER SET rewrites every text column"),),
    "table_default_charset": _METADATA_MARIADB,
    "rename_table": (
        Gate(_BASE_MARIADB, "INSTANT", "EXCLUSIVE", metadata_only=True, note="ALTER ... RENAME needs LOCK=EXCLUSIVE"),
    ),
    "change_row_format": (Gate(_BASE_MARIADB, "INPLACE", rebuilds=True),),
    "rebuild": (Gate(_BASE_MARIADB, "INPLACE", rebuilds=True, note="online rebuild (OPTIMIZE TABLE maps to it)"),),
    "change_engine": (replace(_COPY_M, note="a different storage engine: every row is copied into the new one"),),
    "table_metadata": _METADATA_MARIADB,
}

# Checked on MariaDB 10.11 with MyISAM and Aria tables: these change only the table definition and run INSTANT,
# LOCK=NONE on any engine; every other ALTER of a non-InnoDB table is refused unless ALGORITHM=COPY, LOCK=SHARED
# (ADD/DROP COLUMN, indexes, VARCHAR extension, NOT NULL, AUTO_INCREMENT=, DEFAULT CHARSET, FORCE, ...). MySQL: its
# online DDL table covers InnoDB only, so every ALTER of another engine is planned as COPY, LOCK=SHARED.
ENGINE_INDEPENDENT_KINDS: Final = frozenset(
    {"rename_column", "set_default", "drop_default", "column_metadata", "rename_index", "index_visibility"}
)

TABLES: Final[dict[str, dict[str, tuple[Gate, ...]]]] = {"mysql": _MYSQL, "mariadb": _MARIADB}

_INSTANT_COLUMN_KINDS: Final = frozenset({"add_column_last", "add_column_middle", "drop_column"})


def _gate(kind: str, flavor: str, version: Version) -> Gate:
    try:
        gates = TABLES[flavor][kind]
    except KeyError as exc:
        raise KeyError(f"no online DDL entry for {kind!r} on {flavor!r}") from exc
    chosen = gates[0]
    for gate in gates:
        if version >= gate.since:
            chosen = gate
    return chosen


def online_ddl(kind: str, flavor: str, version: Version, traits: TableTraits | None = None) -> OnlineDDL:
    """The best ALGORITHM and weakest LOCK for `kind` on this server and table (KeyError for an unknown kind)."""
    if flavor not in TABLES:
        raise ValueError(f"flavor must be 'mysql' or 'mariadb', not {flavor!r}")
    traits = traits or TableTraits()
    gate = _gate(kind, flavor, version)
    row_format = (traits.row_format or "").upper()
    mariadb = flavor == "mariadb"
    notes = [gate.note] if gate.note else []

    if kind == "add_foreign_key" and not traits.foreign_key_checks:
        online = "INSTANT" if mariadb and version >= MARIADB_INSTANT else "INPLACE"
        gate = Gate(gate.since, online, metadata_only=True)  # type: ignore[arg-type]
        notes = ["foreign_key_checks=0: existing rows are not checked; run the orphan check afterwards"]
    if gate.algorithm == "INSTANT" and kind in _INSTANT_COLUMN_KINDS | {"reorder_column"}:
        blocked = ""
        if row_format == "COMPRESSED":
            blocked = "ROW_FORMAT=COMPRESSED"
        elif traits.has_fulltext:
            blocked = "a FULLTEXT index"
        if blocked:
            lock: LockOption = "SHARED" if traits.has_fulltext else "NONE"
            gate = Gate(gate.since, "INPLACE", lock, rebuilds=True)
            notes = [f"instant column changes are not possible on a table with {blocked}: rebuild"]
        elif kind == "drop_column" and (traits.indexed or not traits.indexes_known):
            gate, notes = _drop_indexed_column(gate, traits, mariadb)
    if kind == "drop_column" and traits.in_primary_key:
        # MariaDB 10.11 refuses INPLACE (1846: "Dropping a primary key is not allowed without also adding a new
        # primary key"); MySQL's online DDL table: dropping the primary key alone is COPY only.
        gate = replace(_COPY_M if mariadb else _COPY, note="")
        notes = ["the column is in the primary key, which goes with it: only a table copy can do that"]
    redundant = mariadb and version >= (10, 4, 0) and row_format == "REDUNDANT"
    if redundant and kind in ("varchar_extend_crossing", "drop_not_null"):
        gate = Gate(gate.since, "INSTANT", metadata_only=True)
        notes = ["ROW_FORMAT=REDUNDANT stores lengths and NULLs the same way either side: instant (10.4+)"]
    if mariadb and kind == "column_collation" and traits.indexed and version >= (10, 4, 0):
        if version >= (10, 6, 0):
            gate = Gate(gate.since, "NOCOPY", note="the indexes on the column are rebuilt")
            notes = ["collation change of an indexed column: its indexes are rebuilt (NOCOPY from 10.6)"]
        else:
            gate = replace(_COPY_M, note="")
            notes = ["collation change of an indexed column copies the table before 10.6 (MDEV-26294)"]
    if kind == "rebuild" and traits.has_fulltext:
        gate = Gate(gate.since, "INPLACE", "SHARED", rebuilds=True) if mariadb else replace(_COPY, note="")
        notes = ["a table with a FULLTEXT index cannot be rebuilt online"]
    if kind == "add_fulltext_index" and traits.has_fulltext:
        gate = Gate(gate.since, "INPLACE", "SHARED")
        notes = ["a further FULLTEXT index is built without a rebuild, but writes still wait"]

    other_engine = not is_innodb(traits.engine)
    if other_engine and not (mariadb and kind in ENGINE_INDEPENDENT_KINDS) and kind != "rename_table":
        gate = replace(_COPY_M if mariadb else _COPY, note="")
        notes = [f"{traits.engine} is not InnoDB: only InnoDB changes tables online; every other ALTER copies it"]
    if kind == "change_engine":
        notes = notes or ["a different storage engine: every row is copied into the new one"]

    algorithm, lock_option = gate.algorithm, gate.lock
    if algorithm not in algorithms(flavor, version):
        algorithm = "INPLACE"
    # An online COPY (11.2+) is left out for other engines and engine changes: not verified there, and LOCK=SHARED
    # is accepted wherever LOCK=NONE is.
    online_copy = not other_engine and kind != "change_engine"
    if algorithm == "COPY" and mariadb and version >= MARIADB_ONLINE_COPY and online_copy:
        lock_option = "NONE"
        notes.append("MariaDB 11.2+ copies with LOCK=NONE: writes continue, replayed from an online change log")
    return OnlineDDL(
        kind=kind,
        flavor="mariadb" if mariadb else "mysql",
        version=version,
        algorithm=algorithm,
        lock=lock_option,
        rebuilds=gate.rebuilds or algorithm == "COPY",
        metadata_only=gate.metadata_only and algorithm != "COPY",
        note="; ".join(notes),
        source=SOURCE_MARIADB if mariadb else SOURCE_MYSQL,
    )


def is_innodb(engine: str | None) -> bool:
    """Whether the engine is InnoDB (an unknown engine counts as InnoDB, the default since MySQL 5.5)."""
    return engine is None or engine.strip().strip("`'\"").lower() in ("innodb", "")


def _drop_indexed_column(gate: Gate, traits: TableTraits, mariadb: bool) -> tuple[Gate, list[str]]:
    """DROP COLUMN of a column in an index: the index is dropped or shrunk with it, which no INSTANT path does.

    MariaDB 10.11, checked on the server: a column only in single-column indexes drops with NOCOPY (the indexes
    go, the rows stay); a column in a multi-column index needs INPLACE, which rebuilds the table (1845 "Try
    ALGORITHM=INPLACE" for NOCOPY/INSTANT). MySQL 8.0: the manual's online DDL table lists dropping or changing an
    index as not instant, so the drop is INPLACE with a rebuild either way.
    """
    if not traits.indexes_known:
        note = (
            "the table's indexes are unknown (no schema): INPLACE, LOCK=NONE is accepted whatever they are; if "
            "the column is in no index, ALGORITHM=INSTANT is metadata only — give the schema for the exact plan"
        )
        return Gate(gate.since, "INPLACE", rebuilds=True), [note]
    if traits.in_composite_index:
        note = "a multi-column index on the column shrinks to the other columns: the table is rebuilt"
        return Gate(gate.since, "INPLACE", rebuilds=True), [note]
    if mariadb:
        return Gate(gate.since, "NOCOPY"), ["the column's index is dropped with it, which needs NOCOPY"]
    return Gate(gate.since, "INPLACE", rebuilds=True), ["the column's index is dropped with it: INPLACE rebuild"]


def weakest(entries: list[OnlineDDL]) -> OnlineDDL:
    """Operations run in one statement: the least efficient algorithm and the strictest lock win."""
    if not entries:
        raise ValueError("no operations")
    algorithm = min((e.algorithm for e in entries), key=ALGORITHM_ORDER.index)
    lock = max((e.lock for e in entries), key=LOCK_ORDER.index)
    first = entries[0]
    return OnlineDDL(
        kind="+".join(e.kind for e in entries),
        flavor=first.flavor,
        version=first.version,
        algorithm=algorithm,
        lock=lock,
        rebuilds=any(e.rebuilds for e in entries),
        metadata_only=all(e.metadata_only for e in entries),
        note="; ".join(dict.fromkeys(e.note for e in entries if e.note)),
        source=first.source,
    )


def length_bytes(max_chars: int, bytes_per_char: int) -> int:
    """Length-prefix bytes InnoDB stores for a VARCHAR of that size: 1 up to 255 bytes, 2 above."""
    return 1 if max_chars * bytes_per_char <= 255 else 2


CHARSET_BYTES: Final[dict[str, int]] = {
    "utf8mb4": 4,
    "utf8mb3": 3,
    "utf8": 3,
    "ucs2": 2,
    "utf16": 4,
    "utf16le": 4,
    "utf32": 4,
    "latin1": 1,
    "ascii": 1,
    "binary": 1,
    "latin2": 1,
    "cp1250": 1,
    "cp1251": 1,
    "cp1252": 1,
    "gbk": 2,
    "gb18030": 4,
    "big5": 2,
    "sjis": 2,
    "ujis": 3,
    "euckr": 2,
}


def bytes_per_char(charset: str | None) -> int:
    """Maximum bytes per character (unknown character sets count as utf8mb4, the worst common case)."""
    if not charset:
        return 4
    return CHARSET_BYTES.get(charset.lower(), 4)


def max_row_versions_note(version: Version) -> str:
    return (
        f"MySQL counts instant ADD/DROP COLUMN as row versions: at {max_row_versions(version)} the table must be "
        "rebuilt (error 4092); INFORMATION_SCHEMA.INNODB_TABLES.TOTAL_ROW_VERSIONS shows the count"
    )
