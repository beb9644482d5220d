"""Splitting a SQLite migration into statements: kind, target table, transaction, ALTER TABLE actions, PRAGMAs.

The text is cut with sqlglot's tokenizer at top-level semicolons (a CREATE TRIGGER body keeps its own); BEGIN ...
COMMIT and SAVEPOINT ... RELEASE are tracked so each statement knows the explicit transaction it runs in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import sqlglot
from sqlglot.errors import TokenError
from sqlglot.tokens import Token, TokenType  # type: ignore[attr-defined]

from dbspecialist.knowledge.migrations.model import MigrationInputError
from dbspecialist.knowledge.migrations.sqlite_clauses import AlterAction, read_alter
from dbspecialist.knowledge.migrations.sqlite_tokens import ReadError, accept, read_name, token_word

StatementKind = Literal[
    "alter_table",
    "create_table",
    "create_index",
    "create_view",
    "create_trigger",
    "drop_table",
    "drop_index",
    "drop_view",
    "drop_trigger",
    "pragma",
    "begin",
    "commit",
    "rollback",
    "savepoint",
    "release",
    "insert",
    "update",
    "delete",
    "vacuum",
    "select",
    "other",
]


@dataclass(frozen=True)
class SqliteStatement:
    index: int  # 0-based position in the migration
    text: str  # as written, without the trailing semicolon
    line: int  # 1-based line of its first token
    kind: StatementKind
    transaction: int | None  # the explicit transaction (1, 2, ...) it runs in; None in autocommit
    table: str | None = None  # the table it changes (ALTER/CREATE/DROP TABLE, CREATE INDEX ... ON, DML target)
    name: str | None = None  # the object it creates or drops (index, view, trigger, table)
    actions: tuple[AlterAction, ...] = ()
    pragma: tuple[str, str | None] | None = None  # (name, value) for PRAGMA statements
    error: str | None = None  # why an ALTER TABLE clause could not be read
    if_exists: bool = False


def _statement_kind(tokens: list[Token]) -> tuple[StatementKind, int]:
    """The statement kind and the index of the token after the leading keywords (object name for DDL)."""
    first = token_word(tokens[0])
    if first == "ALTER" and accept(tokens, 1, "TABLE") is not None:
        return "alter_table", 2
    if first == "CREATE":
        i = 1
        while i < len(tokens) and token_word(tokens[i]) in ("TEMP", "TEMPORARY", "UNIQUE", "VIRTUAL"):
            i += 1
        word = token_word(tokens[i]) if i < len(tokens) else ""
        kinds: dict[str, StatementKind] = {
            "TABLE": "create_table",
            "INDEX": "create_index",
            "VIEW": "create_view",
            "TRIGGER": "create_trigger",
        }
        if word in kinds:
            j = i + 1
            j = accept(tokens, j, "IF NOT EXISTS") or j
            return kinds[word], j
        return "other", 1
    if first == "DROP":
        word = token_word(tokens[1]) if len(tokens) > 1 else ""
        drops: dict[str, StatementKind] = {
            "TABLE": "drop_table",
            "INDEX": "drop_index",
            "VIEW": "drop_view",
            "TRIGGER": "drop_trigger",
        }
        if word in drops:
            return drops[word], 2
        return "other", 1
    simple: dict[str, StatementKind] = {
        "PRAGMA": "pragma",
        "BEGIN": "begin",
        "COMMIT": "commit",
        "END": "commit",
        "SAVEPOINT": "savepoint",
        "RELEASE": "release",
        "INSERT": "insert",
        "REPLACE": "insert",
        "UPDATE": "update",
        "DELETE": "delete",
        "VACUUM": "vacuum",
        "SELECT": "select",
    }
    if first == "ROLLBACK":
        return ("other" if any(token_word(t) == "TO" for t in tokens[1:]) else "rollback"), 1
    if first == "WITH":
        for tok in tokens:
            if token_word(tok) in ("INSERT", "UPDATE", "DELETE", "REPLACE"):
                return simple[token_word(tok)], 1
        return "select", 1
    return simple.get(first, "other"), 1


def _dml_table(tokens: list[Token], kind: StatementKind) -> str | None:
    keyword = {"insert": "INTO", "update": "UPDATE", "delete": "FROM"}[str(kind)]
    for j, tok in enumerate(tokens):
        if token_word(tok) == keyword:
            k = j + 1
            while k < len(tokens) and token_word(tokens[k]) in ("OR", "ROLLBACK", "ABORT", "REPLACE", "FAIL", "IGNORE"):
                k += 1
            try:
                return read_name(tokens, k)[0]
            except ReadError:
                return None
    return None


def _group(tokens: list[Token]) -> list[list[Token]]:
    """Cut at top-level semicolons; a CREATE TRIGGER body (BEGIN ... END) keeps its own semicolons."""
    groups: list[list[Token]] = []
    current: list[Token] = []
    trigger, depth = False, 0
    for tok in tokens:
        word = token_word(tok)
        if tok.token_type == TokenType.SEMICOLON and (not trigger or depth <= 0):
            if current:
                groups.append(current)
            current, trigger, depth = [], False, 0
            continue
        current.append(tok)
        if len(current) <= 4 and word == "TRIGGER" and token_word(current[0]) == "CREATE":
            trigger = True
        elif trigger and word in ("BEGIN", "CASE"):
            depth += 1
        elif trigger and word == "END":
            depth -= 1
    if current:
        groups.append(current)
    return groups


def split_sqlite(sql: str) -> list[SqliteStatement]:
    """The statements of a SQLite migration; MigrationInputError when the text cannot be tokenized."""
    try:
        tokens = sqlglot.Dialect.get_or_raise("sqlite").tokenize(sql)
    except TokenError as exc:
        raise MigrationInputError(f"cannot read the SQLite migration: {exc} (an unterminated quote?)") from None
    statements: list[SqliteStatement] = []
    transaction: int | None = None
    transactions = 0
    savepoints: list[str] = []
    for index, group in enumerate(_group(tokens)):
        kind, after = _statement_kind(group)
        text = sql[group[0].start : group[-1].end + 1]
        fields: dict[str, object] = {}
        if kind == "alter_table":
            table, actions, error = read_alter(sql, group)
            fields.update(table=table, actions=actions, error=error)
        elif kind in ("create_table", "drop_table", "create_view", "drop_view", "drop_index", "drop_trigger"):
            exists_at = accept(group, after, "IF EXISTS")
            start = exists_at or after
            try:
                name = read_name(group, start)[0]
            except ReadError:
                name = None
            fields.update(name=name, if_exists=exists_at is not None)
            if kind in ("create_table", "drop_table"):
                fields["table"] = name
        elif kind in ("create_index", "create_trigger"):
            fields["name"] = read_name(group, after)[0] if after < len(group) else None
            on = next((j for j in range(after, len(group)) if token_word(group[j]) == "ON"), None)
            if on is not None and on + 1 < len(group):
                fields["table"] = read_name(group, on + 1)[0]
        elif kind in ("insert", "update", "delete"):
            fields["table"] = _dml_table(group, kind)
        elif kind == "pragma":
            fields["pragma"] = _pragma(group)
        if kind == "begin" or (kind == "savepoint" and transaction is None):
            transactions += 1
            transaction = transactions
        in_transaction = transaction
        if kind == "savepoint":
            savepoints.append(group[1].text.lower() if len(group) > 1 else "")
        elif kind == "release" and savepoints:
            name = group[-1].text.lower()
            if name in savepoints:
                del savepoints[savepoints.index(name) :]
            if not savepoints and statements and _opened_by_savepoint(statements, transaction):
                transaction = None
        elif kind in ("commit", "rollback"):
            transaction, savepoints = None, []
        statements.append(
            SqliteStatement(
                index=index,
                text=text,
                line=group[0].line,
                kind=kind,
                transaction=in_transaction,
                **fields,  # type: ignore[arg-type]
            )
        )
    return statements


def _opened_by_savepoint(statements: list[SqliteStatement], transaction: int | None) -> bool:
    opener = next((s for s in statements if s.transaction == transaction), None)
    return opener is not None and opener.kind == "savepoint"


def _pragma(tokens: list[Token]) -> tuple[str, str | None] | None:
    """(name, value) of a PRAGMA statement; None for a bare `PRAGMA` (SQLite rejects it)."""
    try:
        name, i = read_name(tokens, 1)
    except ReadError:
        return None
    value: str | None = None
    if i + 1 < len(tokens) and tokens[i].token_type in (TokenType.EQ, TokenType.L_PAREN):
        value = tokens[i + 1].text
    return name.lower(), value


def pragma_is_on(value: str | None) -> bool | None:
    """PRAGMA boolean values: ON/TRUE/YES/1 → True, OFF/FALSE/NO/0 → False, anything else → None."""
    if value is None:
        return None
    lowered = value.strip().strip("'\"").lower()
    if lowered in ("on", "true", "yes", "1"):
        return True
    if lowered in ("off", "false", "no", "0"):
        return False
    return None
