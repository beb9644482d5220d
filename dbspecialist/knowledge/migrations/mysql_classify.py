"""What a MySQL/MariaDB operation amounts to: its online DDL kinds (mysql_online_ddl.py), the best ALGORITHM and
LOCK for them on this server and table, what a MODIFY/CHANGE changes or silently loses, the plan phase it belongs
in and the operation that undoes it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

import sqlglot
from sqlglot import exp

from dbspecialist.adapters.catalog import Column, Table
from dbspecialist.knowledge.migrations.model import Phase
from dbspecialist.knowledge.migrations.mysql_columns import (
    INT_RANK,
    TEXT_TYPES,
    ColumnDef,
    ColumnType,
    column_from_catalog,
    definition_body,
)
from dbspecialist.knowledge.migrations.mysql_online_ddl import (
    OnlineDDL,
    TableTraits,
    bytes_per_char,
    is_innodb,
    online_ddl,
    weakest,
)
from dbspecialist.knowledge.migrations.mysql_statements import Operation
from dbspecialist.knowledge.migrations.mysql_tokens import quote
from dbspecialist.knowledge.migrations.versions import Version

_ROW_EVALUATED_FUNCTIONS: Final = frozenset({"UUID", "UUID_SHORT", "SYS_GUID", "NEXTVAL", "LASTVAL", "UUID_V4"})
_DROP_KINDS: Final = frozenset({"drop_column", "drop_index", "drop_foreign_key", "drop_check", "drop_primary_key"})
_UTF8MB3: Final = frozenset({"utf8", "utf8mb3"})


@dataclass
class Classified:
    """One operation, the online DDL kinds it amounts to and the server's best algorithm for them."""

    operation: Operation
    kinds: list[str]
    entry: OnlineDDL
    old: ColumnDef | None = None
    certain: bool = True  # False when the current column definition was unknown
    assumption: str | None = None


def table_charset(table: Table | None) -> str | None:
    if table is None:
        return None
    if table.options.get("charset"):
        return table.options["charset"].lower()
    collation = table.options.get("collation")
    return collation.split("_", 1)[0].lower() if collation else None


def index_column_name(column: str) -> str:
    """The column an index entry names, without its prefix length or DESC (case kept)."""
    return re.split(r"[\s(]", column.strip("`"), maxsplit=1)[0]


def index_columns(table: Table | None) -> set[str]:
    """Lower-cased names of the columns that are part of any index (prefixes and DESC dropped)."""
    if table is None:
        return set()
    names: set[str] = set()
    for index in table.indexes:
        for column in index.columns:
            names.add(index_column_name(column).strip("`").lower())
    return names


def traits_of(table: Table | None, column: str | None = None, *, foreign_key_checks: bool = True) -> TableTraits:
    if table is None:
        return TableTraits(foreign_key_checks=foreign_key_checks, indexes_known=False)
    low = column.lower() if column is not None else None
    composite = False
    for index in table.indexes:
        names = [index_column_name(c).strip("`").lower() for c in index.columns]
        if low in names and len(names) > 1:
            composite = True
    primary = table.primary_key.columns if table.primary_key is not None else []
    return TableTraits(
        row_format=table.options.get("row_format"),
        has_fulltext=any((index.method or "").lower() == "fulltext" for index in table.indexes),
        indexed=low is not None and low in index_columns(table),
        foreign_key_checks=foreign_key_checks,
        in_composite_index=composite,
        in_primary_key=low is not None and low in (c.lower() for c in primary),
        engine=table.options.get("engine"),
    )


def catalog_column(table: Table | None, name: str | None) -> Column | None:
    if table is None or name is None:
        return None
    low = name.lower()
    return next((c for c in table.columns if c.name.lower() == low), None)


def default_needs_row_evaluation(expression: str, flavor: str) -> bool:
    """Whether ADD COLUMN ... DEFAULT (expression) forces a table copy.

    MySQL: treated as yes for every parenthesised expression (strong_migrations flags them; our conservative
    reading). MariaDB 10.11, checked on the server: constants, NOW() and RAND() are instant; a default that reads
    another column or calls UUID() copies the table.
    """
    if flavor == "mysql":
        return True
    try:
        parsed = sqlglot.parse_one(f"SELECT {expression}", read="mysql")
    except sqlglot.errors.ParseError:
        return True
    for node in parsed.walk():
        if isinstance(node, exp.Column):
            return True
        if isinstance(node, exp.Func):
            name = node.sql_name() if not isinstance(node, exp.Anonymous) else str(node.this)
            if name.upper() in _ROW_EVALUATED_FUNCTIONS:
                return True
    return False


def _set_storage(members: int) -> int:
    return 8 if members > 32 else (members + 7) // 8


def column_change_kinds(old: ColumnDef, new: ColumnDef, table: Table | None) -> list[str]:
    """The online DDL kinds a MODIFY/CHANGE from `old` to `new` amounts to (the rename itself excluded)."""
    kinds: list[str] = []
    old_type, new_type = old.type, new.type
    default_charset = table_charset(table)
    old_charset = (old.charset or default_charset or "utf8mb4").lower()
    # MODIFY restates the column: without CHARACTER SET it takes the table's default, not the old column's.
    new_charset = (new.charset or default_charset or old_charset).lower()
    text_type = new_type.name in TEXT_TYPES
    if not old_type.same_as(new_type):
        kinds.append(_type_change_kind(old_type, new_type, new_charset))
    elif text_type and new_charset != old_charset:
        kinds.append(
            "column_charset_utf8mb4" if old_charset in _UTF8MB3 and new_charset == "utf8mb4" else "column_charset"
        )
    elif text_type and new.collation and old.collation and new.collation.lower() != old.collation.lower():
        kinds.append("column_collation")
    generated_changed = (old.generated, old.generated_expr or "") != (new.generated, new.generated_expr or "")
    if generated_changed and "change_type" not in kinds and (old.generated or new.generated):
        kinds.append("change_type")
    new_nullable = new.nullable if new.nullable is not None else not in_primary_key(table, old.name)
    old_nullable = old.nullable if old.nullable is not None else True
    if old_nullable and not new_nullable:
        kinds.append("set_not_null")
    elif not old_nullable and new_nullable:
        kinds.append("drop_not_null")
    if new.position:
        kinds.append("reorder_column")
    if (new.default or None) != (old.default or None) and not kinds:
        kinds.append("set_default" if new.default is not None else "drop_default")
    if not kinds:
        kinds.append("column_metadata")
    return kinds


def in_primary_key(table: Table | None, column: str | None) -> bool:
    if table is None or table.primary_key is None or column is None:
        return False
    return column.lower() in (c.lower() for c in table.primary_key.columns)


def lost_attributes(old: ColumnDef, new: ColumnDef, *, primary_key: bool = False) -> list[str]:
    """What a MODIFY/CHANGE silently removes: it restates the whole column, so anything not repeated is dropped.

    `primary_key`: the column is in the primary key, which keeps it NOT NULL whatever the definition says.
    """
    lost = []
    if old.nullable is False and new.nullable is None and not (new.primary_key or primary_key):
        lost.append("NOT NULL")
    if old.default is not None and new.default is None and not old.auto_increment:
        lost.append(f"DEFAULT {old.default}")
    if old.auto_increment and not new.auto_increment:
        lost.append("AUTO_INCREMENT")
    if old.comment and new.comment is None:
        lost.append("its COMMENT")
    return lost


def _type_change_kind(old: ColumnType, new: ColumnType, charset: str) -> str:
    if old.name == new.name and old.name in ("VARCHAR", "VARBINARY") and old.length and new.length:
        if new.length < old.length:
            return "change_type"
        per_char = 1 if old.name == "VARBINARY" else bytes_per_char(charset)
        crossing = (old.length * per_char <= 255) != (new.length * per_char <= 255)
        return "varchar_extend_crossing" if crossing else "varchar_extend"
    if old.name in INT_RANK and new.name in INT_RANK and old.unsigned == new.unsigned:
        return "int_widen" if INT_RANK[new.name] > INT_RANK[old.name] else "change_type"
    if old.name == new.name and old.name in ("ENUM", "SET"):
        appended = new.members[: len(old.members)] == old.members and len(new.members) > len(old.members)
        if old.name == "ENUM":
            same_size = (len(old.members) <= 255) == (len(new.members) <= 255)
        else:
            same_size = _set_storage(len(old.members)) == _set_storage(len(new.members))
        return "enum_append" if appended and same_size else "change_type"
    return "change_type"


def classify(
    operation: Operation,
    table: Table | None,
    flavor: str,
    version: Version,
    *,
    foreign_key_checks: bool = True,
) -> Classified:
    """The online DDL kinds of one operation and the best algorithm for them on this server and table."""
    traits = traits_of(table, operation.name, foreign_key_checks=foreign_key_checks)
    old: ColumnDef | None = None
    certain = True
    assumption = None
    action = operation.action
    kinds: list[str]
    if action == "add_column":
        kinds = [_add_column_kind(operation, flavor)]
        column = operation.column
        if column is not None and column.unique:
            kinds.append("add_index")
        if column is not None and column.primary_key:
            kinds.append("add_primary_key")
    elif action in ("modify_column", "change_column"):
        current = catalog_column(table, operation.name)
        new = operation.column
        assert new is not None
        if action == "change_column" and (operation.new_name or "").lower() != (operation.name or "").lower():
            kinds = ["rename_column"]
        else:
            kinds = []
        if current is not None:
            old = column_from_catalog(current, flavor)
            kinds += column_change_kinds(old, new, table)
        else:
            certain = False
            kinds += [_guess_modify_kind(new)]
            if new.nullable is False:
                kinds.append("set_not_null")
            assumption = (
                f"the current definition of {operation.name} is unknown (no schema given): the change is planned "
                "as a column type change, which only a table copy does; give current_ddl or a connection to find "
                "out whether an online algorithm applies"
            )
    elif action == "drop_constraint":
        kinds = [_drop_constraint_kind(operation, table)]
    elif action == "drop_index" and (operation.name or "").upper() == "PRIMARY":
        kinds = ["drop_primary_key"]
    elif action == "add_index":
        kinds = [
            {"FULLTEXT": "add_fulltext_index", "SPATIAL": "add_spatial_index"}.get(operation.index_kind, "add_index")
        ]
    elif action == "rebuild" and _changes_engine(operation, table):
        kinds = ["change_engine"]
    elif action == "table_metadata" and not is_innodb(traits.engine) and "AUTO_INCREMENT" in operation.text.upper():
        kinds = ["rebuild"]  # MariaDB 10.11 copies a MyISAM/Aria table for AUTO_INCREMENT= (checked)
    elif action == "unknown":
        return Classified(operation, ["unknown"], _unknown_entry(flavor, version), certain=False)
    else:
        kinds = [
            {
                "drop_column": "drop_column",
                "rename_column": "rename_column",
                "set_default": "set_default",
                "drop_default": "drop_default",
                "drop_index": "drop_index",
                "rename_index": "rename_index",
                "index_visibility": "index_visibility",
                "add_primary_key": "add_primary_key",
                "drop_primary_key": "drop_primary_key",
                "add_foreign_key": "add_foreign_key",
                "drop_foreign_key": "drop_foreign_key",
                "add_check": "add_check",
                "drop_check": "drop_check",
                "convert_charset": "convert_charset",
                "table_default_charset": "table_default_charset",
                "change_row_format": "change_row_format",
                "rebuild": "rebuild",
                "rename_table": "rename_table",
                "table_metadata": "table_metadata",
            }[action]
        ]
    entries = [online_ddl(kind, flavor, version, traits) for kind in kinds]
    return Classified(operation, kinds, weakest(entries), old=old, certain=certain, assumption=assumption)


def _add_column_kind(operation: Operation, flavor: str) -> str:
    column = operation.column
    assert column is not None
    if column.auto_increment:
        return "add_column_auto_increment"
    if column.generated == "STORED":
        return "add_stored_generated"
    if column.generated == "VIRTUAL":
        return "add_virtual_generated"
    if column.default_is_expression and column.default and default_needs_row_evaluation(column.default, flavor):
        return "add_column_expression_default"
    return "add_column_middle" if column.position else "add_column_last"


def _guess_modify_kind(new: ColumnDef) -> str:
    """Without the current definition: a column type change, the one reading the server never refuses.

    A MODIFY restates the type, and most restated types differ from the old one (DECIMAL(10,2) → (12,2), INT →
    BIGINT, DATETIME → TIMESTAMP, a shorter VARCHAR): MariaDB 10.11 refuses every such change unless ALGORITHM=COPY
    (1846 "Cannot change column type"), and so does MySQL 8.0 by its online DDL table. The cheaper cases (a longer
    VARCHAR, ENUM members appended, NULL/NOT NULL alone) need the old definition to be told apart.
    """
    return "change_type"


def optimistic_kind(new: ColumnDef) -> str:
    """Without the current definition: the cheapest change this new definition could be (for a note only)."""
    if new.type.name in ("VARCHAR", "VARBINARY"):
        return "varchar_extend"
    if new.type.name in ("ENUM", "SET"):
        return "enum_append"
    return "set_not_null" if new.nullable is False else "drop_not_null"


def shrunk_length(old: ColumnDef | None, new: ColumnDef | None) -> int | None:
    """The new, shorter length when a MODIFY/CHANGE shortens a CHAR/VARCHAR/BINARY/VARBINARY column."""
    if old is None or new is None or old.type.name != new.type.name:
        return None
    if old.type.name not in ("CHAR", "VARCHAR", "BINARY", "VARBINARY") or not old.type.length:
        return None
    if new.type.length is not None and new.type.length < old.type.length:
        return new.type.length
    return None


def _changes_engine(operation: Operation, table: Table | None) -> bool:
    """ENGINE=X names another engine than the table's (than InnoDB when the table is unknown)."""
    wanted = (operation.value or "").strip("`'\"")
    if not wanted:
        return False  # FORCE
    current = table.options.get("engine") if table is not None else None
    if current is None:
        return not is_innodb(wanted)
    return wanted.lower() != current.strip("`'\"").lower()


def _drop_constraint_kind(operation: Operation, table: Table | None) -> str:
    name = (operation.name or "").lower()
    if table is not None:
        if any((fk.name or "").lower() == name for fk in table.foreign_keys):
            return "drop_foreign_key"
        if any(index.name.lower() == name for index in table.indexes):
            return "drop_index"
    return "drop_check"


def _unknown_entry(flavor: str, version: Version) -> OnlineDDL:
    entry = online_ddl("table_metadata", flavor, version)
    return OnlineDDL(
        kind="unknown",
        flavor=entry.flavor,
        version=version,
        algorithm="INPLACE",
        lock="NONE",
        rebuilds=True,
        metadata_only=False,
        note="an ALTER TABLE specification this planner does not recognise: INPLACE, LOCK=NONE makes the server "
        "refuse rather than copy the table",
        source=entry.source,
    )


def phase_of(kinds: list[str]) -> Phase:
    """The plan phase of an ALTER with these kinds: drops contract, NOT NULL validates, the rest expands."""
    if any(kind in _DROP_KINDS for kind in kinds):
        return "contract"
    if "set_not_null" in kinds:
        return "validate"
    return "expand"


def inverse_of(
    classified: Classified, table: Table | None, flavor: str, version: Version
) -> tuple[str, OnlineDDL | None] | None:
    """(specification, entry) undoing one operation; entry None for a comment; None when it cannot be undone."""
    operation = classified.operation
    kinds = classified.kinds
    traits = traits_of(table, operation.name)

    def entry(kind: str) -> OnlineDDL:
        return online_ddl(kind, flavor, version, traits)

    name = quote(operation.name) if operation.name else None
    if operation.action == "add_column" and name:
        return f"DROP COLUMN {name}", entry("drop_column")
    if operation.action == "add_index":
        if name:
            return f"DROP INDEX {name}", entry("drop_index")
        return "drop the new index by the name the server gave it (SHOW CREATE TABLE)", None
    if operation.action == "rename_index" and name and operation.new_name:
        return f"RENAME INDEX {quote(operation.new_name)} TO {name}", entry("rename_index")
    if operation.action in ("set_default", "drop_default") and name:
        old = catalog_column(table, operation.name)
        if old is None:
            return f"restore the previous default of {operation.name} (unknown without the schema)", None
        if old.default is None:
            return f"ALTER COLUMN {name} DROP DEFAULT", entry("drop_default")
        return f"ALTER COLUMN {name} SET DEFAULT {old.default}", entry("set_default")
    if operation.action == "modify_column" and classified.old is not None and operation.column is not None and name:
        back = column_change_kinds(operation.column, classified.old, table)
        entries = [online_ddl(kind, flavor, version, traits) for kind in back]
        body = definition_body(classified.old, nullable=bool(classified.old.nullable))
        return f"MODIFY COLUMN {name} {body}", weakest(entries)
    if operation.action == "add_check" and operation.name:
        keyword = "CONSTRAINT" if flavor == "mariadb" else "CHECK"
        return f"DROP {keyword} {quote(operation.name)}", entry("drop_check")
    if operation.action == "add_primary_key" and "replace_primary_key" not in kinds:
        return "DROP PRIMARY KEY", entry("drop_primary_key")
    if operation.action in ("rebuild", "change_row_format", "table_metadata", "table_default_charset"):
        return "set the previous table options again if needed (a rebuild itself needs no undo)", None
    if operation.action == "index_visibility" and name:
        value = (operation.value or "").upper()
        opposite = {"INVISIBLE": "VISIBLE", "VISIBLE": "INVISIBLE", "IGNORED": "NOT IGNORED"}.get(value, "IGNORED")
        return f"ALTER INDEX {name} {opposite}", entry("index_visibility")
    if operation.action in ("convert_charset", "drop_primary_key", "drop_check", "drop_foreign_key", "unknown"):
        return None
    return f"undo '{' '.join(operation.text.split())[:60]}' by hand (its previous state is not known)", None
