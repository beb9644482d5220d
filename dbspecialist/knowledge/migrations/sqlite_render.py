"""SQL text for a rebuilt SQLite table: CREATE TABLE from the table model, CREATE INDEX, the AUTOINCREMENT counter."""

from __future__ import annotations

import re
from typing import Final

from dbspecialist.adapters.catalog import ForeignKey, Index
from dbspecialist.knowledge.migrations.sqlite_steps import q, sql_literal
from dbspecialist.knowledge.migrations.sqlite_table_model import ColumnModel, TableModel

_LITERAL_DEFAULT: Final = re.compile(
    r"""^(?:[+-]?\d+(?:\.\d*)?(?:e[+-]?\d+)?|[+-]?\.\d+|'(?:[^']|'')*'|x'[0-9a-f]*'|null|true|false|"""
    r"""current_time|current_date|current_timestamp|\(.*\))$""",
    re.I | re.S,
)


def default_sql(text: str) -> str:
    """A DEFAULT value as SQLite accepts it: literals as they are, expressions in parentheses."""
    stripped = text.strip()
    return stripped if _LITERAL_DEFAULT.match(stripped) else f"({stripped})"


def column_sql(model: TableModel, col: ColumnModel) -> str:
    """One column definition of CREATE TABLE."""
    parts = [q(col.name)]
    if col.type_text:
        parts.append(col.type_text)
    in_key = col.name.lower() in {c.lower() for c in model.primary_key}
    inline_key = model.rowid_alias is not None and model.rowid_alias.lower() == col.name.lower()
    if inline_key:
        parts.append("PRIMARY KEY AUTOINCREMENT" if model.autoincrement else "PRIMARY KEY")
    elif col.not_null and not (in_key and model.without_rowid):
        parts.append("NOT NULL")
    if col.collation:
        parts.append(f"COLLATE {col.collation}")
    if col.default is not None and col.generated is None:
        parts.append(f"DEFAULT {default_sql(col.default)}")
    if col.generated is not None:
        expression = re.sub(r"\s+\b(STORED|VIRTUAL)\b\s*$", "", col.generated, flags=re.I)
        parts.append(f"GENERATED ALWAYS AS ({expression}) {'STORED' if col.stored else 'VIRTUAL'}")
    return " ".join(parts)


def columns_sql(names: list[str]) -> str:
    """Quoted, comma-separated column names."""
    return ", ".join(q(n) for n in names)


def constraint_sql(name: str | None) -> str:
    """`CONSTRAINT name ` when the constraint has a name."""
    return f"CONSTRAINT {q(name)} " if name else ""


def foreign_key_sql(fk: ForeignKey) -> str:
    """A table-level FOREIGN KEY clause."""
    text = f"{constraint_sql(fk.name)}FOREIGN KEY ({columns_sql(fk.columns)}) REFERENCES {q(fk.ref_table)}"
    if fk.ref_columns and "<primary key>" not in fk.ref_columns:
        text += f" ({columns_sql(fk.ref_columns)})"
    if fk.on_delete != "no action":
        text += f" ON DELETE {fk.on_delete.upper()}"
    if fk.on_update != "no action":
        text += f" ON UPDATE {fk.on_update.upper()}"
    if fk.deferrable:
        text += " DEFERRABLE INITIALLY DEFERRED"
    return text


def create_table_sql(model: TableModel, name: str) -> str:
    """`CREATE TABLE name (...)` for the model: columns, then key, UNIQUE, CHECK and FOREIGN KEY constraints."""
    lines = [column_sql(model, c) for c in model.columns]
    if model.primary_key and model.rowid_alias is None:
        lines.append(f"PRIMARY KEY ({columns_sql(model.primary_key)})")
    lines += [f"{constraint_sql(n)}UNIQUE ({columns_sql(cols)})" for n, cols in model.uniques]
    lines += [f"{constraint_sql(n)}CHECK ({expression})" for n, expression in model.checks]
    lines += [foreign_key_sql(fk) for fk in model.foreign_keys]
    options = [o for o, on in (("WITHOUT ROWID", model.without_rowid), ("STRICT", model.strict)) if on]
    body = ",\n    ".join(lines)
    return f"CREATE TABLE {q(name)} (\n    {body}\n){' ' + ', '.join(options) if options else ''};"


def index_column_sql(text: str, columns: set[str]) -> str:
    """An index key quoted when it is a column (with ASC / DESC), as written when an expression."""
    if text.lower() in columns:
        return q(text)
    match = re.match(r"^(.*)\s+(ASC|DESC)$", text, re.I)
    if match and match.group(1).lower() in columns:
        return f"{q(match.group(1))} {match.group(2).upper()}"
    return text


def create_index_sql(index: Index, table: str, columns: list[str]) -> str:
    """`CREATE [UNIQUE] INDEX` for a catalog index of `table`."""
    known = {c.lower() for c in columns}
    keys = ", ".join(index_column_sql(c, known) for c in index.columns)
    where = f" WHERE {index.predicate}" if index.predicate else ""
    return f"CREATE {'UNIQUE ' if index.unique else ''}INDEX {q(index.name)} ON {q(table)} ({keys}){where};"


def sequence_sql(table: str, new: str) -> list[str]:
    """Carry the AUTOINCREMENT counter over, so ids of deleted rows are not handed out again."""
    old_name, new_name = sql_literal(table), sql_literal(new)
    return [
        f"INSERT INTO sqlite_sequence (name, seq) SELECT {new_name}, 0 WHERE NOT EXISTS "
        f"(SELECT 1 FROM sqlite_sequence WHERE name = {new_name});",
        f"UPDATE sqlite_sequence SET seq = max(seq, (SELECT seq FROM sqlite_sequence WHERE name = {old_name})) "
        f"WHERE name = {new_name};",
    ]
