"""Small helpers to write fix SQL in the right dialect (quoting, qualified names)."""

from __future__ import annotations

import re

_PLAIN = re.compile(r"^[a-z_][a-z0-9_$]*$")
_PLAIN_ANY_CASE = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")


def quote_ident(name: str, engine: str) -> str:
    """Quote an identifier only when needed: not plain, or a reserved word (backticks on MySQL)."""
    from dbspecialist.knowledge.schema.reserved_words import is_reserved

    plain = _PLAIN if engine == "postgresql" else _PLAIN_ANY_CASE
    if plain.match(name) and not is_reserved(name, engine):
        return name
    if engine == "mysql":
        return "`" + name.replace("`", "``") + "`"
    return '"' + name.replace('"', '""') + '"'


def qualified(schema: str | None, name: str, engine: str) -> str:
    """`schema.table`, leaving out PostgreSQL's public and SQLite's main."""
    if schema and not (engine == "postgresql" and schema == "public") and not (engine == "sqlite" and schema == "main"):
        return f"{quote_ident(schema, engine)}.{quote_ident(name, engine)}"
    return quote_ident(name, engine)


def index_name(table: str, columns: list[str], suffix: str = "idx", limit: int = 63) -> str:
    """A conventional index name, `<table>_<col>_<col>_idx`, cut to the identifier limit."""
    cleaned = [re.sub(r"\W+", "_", c).strip("_").lower() for c in columns]
    name = "_".join([table.lower(), *cleaned, suffix])
    return name[:limit]
