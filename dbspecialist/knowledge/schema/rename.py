"""Rename statements in each engine's own syntax (SQL Server has no ALTER TABLE ... RENAME)."""

from __future__ import annotations

from dbspecialist.knowledge.sql_text import qualified, quote_ident


def _tsql_part(name: str) -> str:
    """One part of an sp_rename object name: bracketed when it is not a plain identifier."""
    quoted = quote_ident(name, "tsql")
    return name if quoted == name else "[" + name.replace("]", "]]") + "]"


def _tsql_literal(text: str) -> str:
    return "N'" + text.replace("'", "''") + "'"


def _tsql_object(schema: str | None, *parts: str) -> str:
    return ".".join(_tsql_part(p) for p in ([schema] if schema else []) + list(parts))


def rename_table(engine: str, schema: str | None, table: str, new: str) -> str:
    """Rename `schema.table` to `new` (kept in the same schema)."""
    if engine == "tsql":
        # sp_rename takes the new name as written: brackets there would become part of the name.
        return f"EXEC sp_rename {_tsql_literal(_tsql_object(schema, table))}, {_tsql_literal(new)};"
    old = qualified(schema, table, engine)
    if engine in ("mysql", "clickhouse"):
        # An unqualified target would move the table into the session's current database.
        return f"RENAME TABLE {old} TO {qualified(schema, new, engine)};"
    return f"ALTER TABLE {old} RENAME TO {quote_ident(new, engine)};"


def rename_column(engine: str, schema: str | None, table: str, column: str, new: str) -> str:
    """Rename column `column` of `schema.table` to `new`."""
    if engine == "tsql":
        obj = _tsql_literal(_tsql_object(schema, table, column))
        return f"EXEC sp_rename {obj}, {_tsql_literal(new)}, 'COLUMN';"
    old = qualified(schema, table, engine)
    return f"ALTER TABLE {old} RENAME COLUMN {quote_ident(column, engine)} TO {quote_ident(new, engine)};"
