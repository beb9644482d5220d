"""SQLite schema text read one way by the live adapter and by `parse_ddl`: column clauses and triggers.

SQLite's PRAGMAs say which columns are generated (`table_xinfo.hidden`: 2 virtual, 3 stored) but give neither
a column's COLLATE nor its generation expression, and a trigger is nothing but its SQL. Those facts live only in
the CREATE statements `sqlite_schema.sql` keeps. The live adapter reads them from there and the offline parser
from the DDL file, both through these functions, so one schema gives one catalog whichever way it is read.
Text keeps its spelling (`a*2` stays `a*2`), as SQLite stores it; columns are read by the migration planner's
column-definition reader (SQLite docs, "column-def").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

import sqlglot
from sqlglot.tokens import Token, TokenType  # type: ignore[attr-defined]

from dbspecialist.knowledge.migrations.sqlite_clauses import read_column_definition, split_top_level
from dbspecialist.knowledge.migrations.sqlite_tokens import ReadError, accept, closing, read_name, token_word

GeneratedKind = Literal["stored", "virtual"]

# First words of a table constraint (not a column) inside CREATE TABLE (...) (SQLite docs, "table-constraint").
_TABLE_CONSTRAINTS: Final = frozenset(
    {"CONSTRAINT", "PRIMARY", "PRIMARY KEY", "UNIQUE", "CHECK", "FOREIGN", "FOREIGN KEY"}
)
# Trigger timings as SQLite spells them; none written means BEFORE (SQLite's grammar, "trigger_time").
_TIMINGS: Final = ("BEFORE", "AFTER", "INSTEAD OF")
_EVENTS: Final = frozenset({"INSERT", "UPDATE", "DELETE"})


@dataclass(frozen=True)
class ColumnClauses:
    """What a column's definition says beyond its type: COLLATE, and the generation expression and kind."""

    collation: str | None = None
    generated: str | None = None
    generated_kind: GeneratedKind | None = None


@dataclass(frozen=True)
class TriggerText:
    """A CREATE TRIGGER statement: its name, table, timing, event, and the text `sqlite_schema` keeps."""

    name: str
    table: str
    timing: str
    events: tuple[str, ...]
    definition: str
    temporary: bool = False


def _tokens(sql: str) -> list[Token] | None:
    try:
        return list(sqlglot.Dialect.get_or_raise("sqlite").tokenize(sql))
    except Exception:  # sqlglot's TokenError: an unterminated quote or comment
        return None


def _word(tokens: list[Token], i: int) -> str:
    return token_word(tokens[i]) if i < len(tokens) else ""


def column_clauses(create_table_sql: str) -> dict[str, ColumnClauses]:
    """Column name (lower case) → its COLLATE and GENERATED clauses, read from a CREATE TABLE statement.

    Columns the reader cannot follow are left out; CREATE TABLE ... AS SELECT and virtual tables give {}.

    >>> column_clauses("CREATE TABLE t (a TEXT COLLATE NOCASE, b INT AS (a*2) STORED)")["b"].generated
    'a*2'
    """
    tokens = _tokens(create_table_sql)
    if not tokens:
        return {}
    at = next((i for i, tok in enumerate(tokens) if token_word(tok) == "TABLE"), None)
    if at is None or any(token_word(tok) == "VIRTUAL" for tok in tokens[:at]):
        return {}
    try:
        _, i = read_name(tokens, accept(tokens, at + 1, "IF NOT EXISTS") or at + 1)
        if i >= len(tokens) or tokens[i].token_type != TokenType.L_PAREN:
            return {}
        end = closing(tokens, i)
    except ReadError:
        return {}
    out: dict[str, ColumnClauses] = {}
    for element in split_top_level(tokens[i + 1 : end]):
        if token_word(element[0]) in _TABLE_CONSTRAINTS:
            continue
        try:
            definition = read_column_definition(create_table_sql, element)
        except (ReadError, IndexError):
            continue
        kind: GeneratedKind | None = None
        if definition.generated is not None:
            kind = "stored" if definition.stored else "virtual"
        out[definition.name.lower()] = ColumnClauses(definition.collation, definition.generated, kind)
    return out


def read_trigger(sql: str) -> TriggerText | None:
    """A CREATE TRIGGER statement read: None when `sql` is not one or has a shape SQLite would refuse.

    `definition` is the text SQLite keeps in `sqlite_schema.sql`: `CREATE TRIGGER ` followed by the statement
    from the trigger's name (without a schema prefix) to its final END, IF NOT EXISTS and TEMP left out.

    >>> read_trigger("create trigger if not exists main.t after update of a on x begin select 1; end;").definition
    'CREATE TRIGGER t after update of a on x begin select 1; end'
    """
    tokens = _tokens(sql)
    if not tokens or _word(tokens, 0) != "CREATE":
        return None
    i = 1
    temporary = _word(tokens, i) in ("TEMP", "TEMPORARY")
    if temporary:
        i += 1
    if _word(tokens, i) != "TRIGGER":
        return None
    try:
        i = accept(tokens, i + 1, "IF NOT EXISTS") or i + 1
        name_at = i + 2 if i + 1 < len(tokens) and tokens[i + 1].token_type == TokenType.DOT else i
        name, i = read_name(tokens, i)
        timing = "BEFORE"
        for spelled in _TIMINGS:
            after = accept(tokens, i, spelled)
            if after is not None:
                timing, i = spelled, after
                break
        event = _word(tokens, i)
        if event not in _EVENTS:
            return None
        i += 1
        while event == "UPDATE" and i < len(tokens) and _word(tokens, i) != "ON":
            i += 1  # UPDATE OF a, b
        after = accept(tokens, i, "ON")
        if after is None:
            return None
        table, _ = read_name(tokens, after)
    except ReadError:
        return None
    last = len(tokens) - 1
    while last > name_at and tokens[last].token_type == TokenType.SEMICOLON:
        last -= 1
    definition = "CREATE TRIGGER " + sql[tokens[name_at].start : tokens[last].end + 1]
    return TriggerText(name, table, timing, (event,), definition, temporary)
