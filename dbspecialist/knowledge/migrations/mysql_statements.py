"""MySQL/MariaDB statements the planner and the linter understand: ALTER TABLE (one Operation per specification),
CREATE/DROP INDEX, RENAME TABLE, OPTIMIZE/TRUNCATE/DROP TABLE, CREATE TABLE, SET, transaction control, UPDATE and
DELETE. Anything else is kind "other". The parser never raises: a syntax problem lands in ParsedStatement.error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final, Literal

from dbspecialist.knowledge.migrations.mysql_columns import ColumnDef, parse_column
from dbspecialist.knowledge.migrations.mysql_tokens import (
    SqlSyntaxError,
    Statement,
    Tok,
    group_items,
    split_top,
    tokenize,
)

Action = Literal[
    "add_column",
    "drop_column",
    "modify_column",
    "change_column",
    "rename_column",
    "set_default",
    "drop_default",
    "add_index",
    "drop_index",
    "rename_index",
    "index_visibility",
    "add_primary_key",
    "drop_primary_key",
    "add_foreign_key",
    "drop_foreign_key",
    "add_check",
    "drop_check",
    "drop_constraint",
    "convert_charset",
    "table_default_charset",
    "change_row_format",
    "rebuild",
    "rename_table",
    "table_metadata",
    "algorithm",
    "lock",
    "unknown",
]


@dataclass
class Operation:
    """One ALTER TABLE specification (CREATE/DROP INDEX become one too)."""

    action: Action
    text: str
    column: ColumnDef | None = None
    name: str | None = None  # the column, index or constraint acted on
    new_name: str | None = None
    index_kind: str = ""  # UNIQUE | FULLTEXT | SPATIAL
    index_columns: list[str] = field(default_factory=list)
    ref_table: str | None = None
    ref_columns: list[str] = field(default_factory=list)
    value: str | None = None


_INDEX_WORDS: Final = frozenset({"INDEX", "KEY"})


def _names(group: Tok) -> list[str]:
    """Column names in an index or key column list (prefix lengths and ASC/DESC dropped)."""
    names = []
    for item in group_items(group):
        if item and item[0].kind in ("word", "ident"):
            names.append(item[0].name)
        elif item:
            names.append(" ".join(t.text for t in item))
    return names


def _skip_if_exists(tokens: list[Tok], i: int) -> int:
    if i + 1 < len(tokens) and tokens[i].upper == "IF" and tokens[i + 1].upper in ("EXISTS", "NOT"):
        return i + (3 if tokens[i + 1].upper == "NOT" else 2)
    return i


def _index_operation(tokens: list[Tok], i: int, text: str, kind: str) -> Operation:
    """ADD [UNIQUE|FULLTEXT|SPATIAL] [INDEX|KEY] [name] [USING ...] (cols) ..."""
    if i < len(tokens) and tokens[i].upper in _INDEX_WORDS:
        i += 1
    i = _skip_if_exists(tokens, i)
    name = None
    if i < len(tokens) and tokens[i].kind in ("word", "ident") and tokens[i].upper not in ("USING",):
        name = tokens[i].name
        i += 1
    while i < len(tokens) and tokens[i].kind != "group":
        i += 1
    columns = _names(tokens[i]) if i < len(tokens) else []
    return Operation("add_index", text, name=name, index_kind=kind, index_columns=columns)


def _add_operation(tokens: list[Tok], text: str) -> Operation:
    i = 1
    constraint_name = None
    if i < len(tokens) and tokens[i].upper == "CONSTRAINT":
        i += 1
        if i < len(tokens) and tokens[i].upper not in ("PRIMARY", "UNIQUE", "FOREIGN", "CHECK"):
            constraint_name = tokens[i].name
            i += 1
    head = tokens[i].upper if i < len(tokens) else ""
    if head == "PRIMARY":
        group = next((t for t in tokens[i:] if t.kind == "group"), None)
        return Operation("add_primary_key", text, index_columns=_names(group) if group else [])
    if head in ("UNIQUE", "FULLTEXT", "SPATIAL"):
        operation = _index_operation(tokens, i + 1, text, head)
        operation.name = operation.name or constraint_name
        return operation
    if head in _INDEX_WORDS:
        return _index_operation(tokens, i, text, "")
    if head == "FOREIGN":
        j = i + 2 if i + 1 < len(tokens) and tokens[i + 1].upper == "KEY" else i + 1
        name = constraint_name
        if j < len(tokens) and tokens[j].kind != "group":
            name = name or tokens[j].name
            j += 1
        columns = _names(tokens[j]) if j < len(tokens) and tokens[j].kind == "group" else []
        ref_index = next((k for k, t in enumerate(tokens) if t.upper == "REFERENCES"), None)
        ref_table, ref_columns = None, []
        if ref_index is not None and ref_index + 1 < len(tokens):
            ref_table = tokens[ref_index + 1].name
            if ref_index + 2 < len(tokens) and tokens[ref_index + 2].kind == "group":
                ref_columns = _names(tokens[ref_index + 2])
        return Operation(
            "add_foreign_key", text, name=name, index_columns=columns, ref_table=ref_table, ref_columns=ref_columns
        )
    if head == "CHECK":
        return Operation("add_check", text, name=constraint_name)
    # ADD [COLUMN] [IF NOT EXISTS] definition
    i = 2 if tokens[1].upper == "COLUMN" else 1
    i = _skip_if_exists(tokens, i)
    if i < len(tokens) and tokens[i].kind == "group":
        return Operation("unknown", text, value="ADD COLUMN (a, b, ...): list the columns one per ADD")
    return Operation("add_column", text, column=parse_column(tokens[i:], text), name=tokens[i].name)


def _drop_operation(tokens: list[Tok], text: str) -> Operation:
    head = tokens[1].upper if len(tokens) > 1 else ""
    last = tokens[-1].name if tokens else None
    if head == "PRIMARY":
        return Operation("drop_primary_key", text)
    if head in _INDEX_WORDS:
        return Operation("drop_index", text, name=last)
    if head == "FOREIGN":
        return Operation("drop_foreign_key", text, name=last)
    if head == "CHECK":
        return Operation("drop_check", text, name=last)
    if head == "CONSTRAINT":
        return Operation("drop_constraint", text, name=last)
    i = _skip_if_exists(tokens, 2 if head == "COLUMN" else 1)
    return Operation("drop_column", text, name=tokens[i].name if i < len(tokens) else last)


def _option_value(tokens: list[Tok]) -> str:
    values = [t for t in tokens[1:] if not (t.kind == "punct" and t.text == "=")]
    return " ".join(t.name for t in values)


def parse_specification(tokens: list[Tok], text: str) -> Operation:
    """Classify one ALTER TABLE specification."""
    head = tokens[0].upper
    second = tokens[1].upper if len(tokens) > 1 else ""
    if head == "ADD":
        return _add_operation(tokens, text)
    if head == "DROP":
        return _drop_operation(tokens, text)
    if head in ("MODIFY", "CHANGE"):
        i = 2 if second == "COLUMN" else 1
        i = _skip_if_exists(tokens, i)
        if head == "MODIFY":
            column = parse_column(tokens[i:], text)
            return Operation("modify_column", text, column=column, name=column.name)
        column = parse_column(tokens[i + 1 :], text)
        return Operation("change_column", text, column=column, name=tokens[i].name, new_name=column.name)
    if head == "RENAME":
        if second == "COLUMN":
            return Operation("rename_column", text, name=tokens[2].name, new_name=tokens[4].name)
        if second in _INDEX_WORDS:
            return Operation("rename_index", text, name=tokens[2].name, new_name=tokens[4].name)
        return Operation("rename_table", text, new_name=tokens[-1].name)
    if head == "ALTER":
        if second == "INDEX":
            return Operation("index_visibility", text, name=tokens[2].name, value=_option_value(tokens[2:]))
        i = 2 if second == "COLUMN" else 1
        name = tokens[i].name
        rest = [t.upper for t in tokens[i + 1 :]]
        if rest[:2] == ["DROP", "DEFAULT"]:
            return Operation("drop_default", text, name=name)
        if rest[:2] == ["SET", "DEFAULT"]:
            default_tokens = tokens[i + 3 :]
            value = text[default_tokens[0].start : default_tokens[-1].end] if default_tokens else None
            return Operation("set_default", text, name=name, value=value)
        if head == "ALTER" and second == "CHECK":
            return Operation("unknown", text)
        return Operation("unknown", text, name=name)
    if head == "CONVERT":
        return Operation("convert_charset", text, value=_option_value(tokens[3:]))
    if head in ("DEFAULT", "CHARACTER", "CHARSET", "COLLATE"):
        return Operation("table_default_charset", text)
    if head in ("ROW_FORMAT", "KEY_BLOCK_SIZE"):
        return Operation("change_row_format", text, value=_option_value(tokens))
    if head in ("FORCE", "ENGINE"):
        return Operation("rebuild", text, value=_option_value(tokens) or None)
    if head in ("COMMENT", "AUTO_INCREMENT", "STATS_PERSISTENT", "STATS_AUTO_RECALC", "STATS_SAMPLE_PAGES"):
        return Operation("table_metadata", text)
    if head == "ALGORITHM":
        return Operation("algorithm", text, value=_option_value(tokens).upper())
    if head == "LOCK":
        return Operation("lock", text, value=_option_value(tokens).upper())
    return Operation("unknown", text)


# The words a MySQL/MariaDB statement can start with (anything else is a syntax error on the server).
STATEMENT_KEYWORDS: Final = frozenset(
    {
        "ALTER",
        "ANALYZE",
        "BEGIN",
        "BINLOG",
        "CACHE",
        "CALL",
        "CHANGE",
        "CHECK",
        "CHECKSUM",
        "COMMIT",
        "CREATE",
        "DEALLOCATE",
        "DECLARE",
        "DELETE",
        "DELIMITER",
        "DESC",
        "DESCRIBE",
        "DO",
        "DROP",
        "EXECUTE",
        "EXPLAIN",
        "FLUSH",
        "GET",
        "GRANT",
        "HANDLER",
        "HELP",
        "IMPORT",
        "INSERT",
        "INSTALL",
        "KILL",
        "LOAD",
        "LOCK",
        "OPTIMIZE",
        "PREPARE",
        "PURGE",
        "RELEASE",
        "RENAME",
        "REPAIR",
        "REPLACE",
        "RESET",
        "RESIGNAL",
        "RESTART",
        "REVOKE",
        "ROLLBACK",
        "SAVEPOINT",
        "SELECT",
        "SET",
        "SHOW",
        "SHUTDOWN",
        "SIGNAL",
        "START",
        "STOP",
        "TABLE",
        "TRUNCATE",
        "UNINSTALL",
        "UNLOCK",
        "UPDATE",
        "USE",
        "VALUES",
        "WITH",
        "XA",
        "BACKUP",
    }
)

StatementKind = Literal[
    "alter_table",
    "create_index",
    "drop_index",
    "rename_table",
    "optimize",
    "truncate",
    "drop_table",
    "create_table",
    "set",
    "begin",
    "commit",
    "update",
    "delete",
    "other",
]


@dataclass
class ParsedStatement:
    text: str
    line: int
    kind: StatementKind
    table: str | None = None  # as written, unquoted parts joined with '.'
    table_sql: str | None = None  # as written in the statement
    operations: list[Operation] = field(default_factory=list)
    algorithm: str | None = None  # given by the user
    lock: str | None = None
    renames: list[tuple[str, str]] = field(default_factory=list)
    settings: dict[str, str] = field(default_factory=dict)
    error: str | None = None

    @property
    def changes(self) -> list[Operation]:
        """The operations other than the ALGORITHM and LOCK options."""
        return [op for op in self.operations if op.action not in ("algorithm", "lock")]


def _table_name(tokens: list[Tok], i: int, text: str) -> tuple[str, str, int]:
    """(name, as written, next index) for a possibly qualified table name starting at tokens[i]."""
    start = i
    parts = [tokens[i].name]
    i += 1
    while i + 1 < len(tokens) and tokens[i].kind == "punct" and tokens[i].text == ".":
        parts.append(tokens[i + 1].name)
        i += 2
    # `db`.`t` tokenizes as ident, punct, ident; db.t as one word
    return ".".join(parts), text[tokens[start].start : tokens[i - 1].end], i


def parse_statement(statement: Statement) -> ParsedStatement:
    """Read one statement (never raises: syntax problems land in `error`)."""
    text = statement.text
    try:
        return _parse_statement(statement)
    except (SqlSyntaxError, IndexError) as exc:
        detail = str(exc) if isinstance(exc, SqlSyntaxError) else "the statement ends too early"
        return ParsedStatement(text, statement.line, "other", error=f"line {statement.line}: {detail}")


def _parse_statement(statement: Statement) -> ParsedStatement:
    text, line = statement.text, statement.line
    tokens = tokenize(text)
    words = [t.upper for t in tokens[:4]]
    parsed = ParsedStatement(text, line, "other")
    if not tokens:
        return parsed
    head = words[0]
    if head == "ALTER" and "TABLE" in words[:3]:
        i = words.index("TABLE") + 1
        i = _skip_if_exists(tokens, i)
        parsed.kind = "alter_table"
        parsed.table, parsed.table_sql, i = _table_name(tokens, i, text)
        if i < len(tokens) and tokens[i].upper in ("WAIT", "NOWAIT"):
            i += 2 if tokens[i].upper == "WAIT" else 1
        for part in split_top(tokens[i:]):
            spec_text = text[part[0].start : part[-1].end]
            operation = parse_specification(tokenize(spec_text), spec_text)
            parsed.operations.append(operation)
            if operation.action == "algorithm":
                parsed.algorithm = operation.value
            elif operation.action == "lock":
                parsed.lock = operation.value
        return parsed
    if head == "CREATE" and "INDEX" in words[1:4]:
        return _parse_create_index(tokens, text, parsed)
    if head == "DROP" and words[1:2] == ["INDEX"]:
        on = next(k for k, t in enumerate(tokens) if t.upper == "ON")
        parsed.kind = "drop_index"
        parsed.table, parsed.table_sql, i = _table_name(tokens, on + 1, text)
        parsed.operations.append(Operation("drop_index", f"DROP INDEX {tokens[2].text}", name=tokens[2].name))
        _trailing_options(tokens[i:], parsed)
        return parsed
    if head == "RENAME" and words[1:2] == ["TABLE"]:
        parsed.kind = "rename_table"
        for part in split_top(tokens[2:]):
            old, _, k = _table_name(part, 0, text)
            new, _, _ = _table_name(part, k + 1, text)
            parsed.renames.append((old, new))
        parsed.table, parsed.table_sql, _ = _table_name(tokens, 2, text)
        return parsed
    if head in ("OPTIMIZE", "TRUNCATE") or (head == "DROP" and words[1:2] == ["TABLE"]):
        parsed.kind = "optimize" if head == "OPTIMIZE" else "truncate" if head == "TRUNCATE" else "drop_table"
        i = 1
        while i < len(tokens) and tokens[i].upper in ("TABLE", "TABLES", "NO_WRITE_TO_BINLOG", "LOCAL", "TEMPORARY"):
            i += 1
        i = _skip_if_exists(tokens, i)
        parsed.table, parsed.table_sql, _ = _table_name(tokens, i, text)
        return parsed
    if head == "CREATE" and "TABLE" in words[1:3]:
        parsed.kind = "create_table"
        i = _skip_if_exists(tokens, words.index("TABLE") + 1)
        parsed.table, parsed.table_sql, _ = _table_name(tokens, i, text)
        return parsed
    if head == "SET":
        parsed.kind = "set"
        for part in split_top(tokens[1:]):
            equals = next((k for k, t in enumerate(part) if t.text in ("=", ":")), None)
            if equals is None:
                continue
            name = "".join(t.text for t in part[:equals]).lower()
            name = re.sub(r"^(?:@@)?(?:session|global|local|persist)[.\s]*", "", name).removeprefix("@@")
            value = " ".join(t.name for t in part[equals + 1 :] if t.text not in ("=", ":"))
            parsed.settings[name.strip()] = value
        return parsed
    if head in ("BEGIN", "START"):
        parsed.kind = "begin"
        return parsed
    if head in ("COMMIT", "ROLLBACK"):
        parsed.kind = "commit"
        return parsed
    if head in ("UPDATE", "DELETE"):
        parsed.kind = "update" if head == "UPDATE" else "delete"
        i = 1
        while i < len(tokens) and tokens[i].upper in ("LOW_PRIORITY", "IGNORE", "QUICK", "FROM"):
            i += 1
        parsed.table, parsed.table_sql, _ = _table_name(tokens, i, text)
        return parsed
    if tokens[0].kind != "group" and head not in STATEMENT_KEYWORDS:
        parsed.error = f"line {line}: not a MySQL/MariaDB statement (it starts with {tokens[0].text[:40]!r})"
    return parsed


def _trailing_options(tokens: list[Tok], parsed: ParsedStatement) -> None:
    i = 0
    while i < len(tokens):
        word = tokens[i].upper
        if word in ("ALGORITHM", "LOCK"):
            j = i + 1
            if j < len(tokens) and tokens[j].text == "=":
                j += 1
            if j < len(tokens):
                setattr(parsed, word.lower(), tokens[j].upper)
            i = j + 1
        else:
            i += 1


def _parse_create_index(tokens: list[Tok], text: str, parsed: ParsedStatement) -> ParsedStatement:
    words = [t.upper for t in tokens]
    index_at = words.index("INDEX")
    kind = words[1] if words[1] in ("UNIQUE", "FULLTEXT", "SPATIAL") else ""
    name_at = _skip_if_exists(tokens, index_at + 1)
    on = words.index("ON", name_at)
    parsed.kind = "create_index"
    parsed.table, parsed.table_sql, i = _table_name(tokens, on + 1, text)
    while i < len(tokens) and tokens[i].kind != "group":
        i += 1
    group = tokens[i]
    spec = f"ADD {kind + ' ' if kind else ''}INDEX {tokens[name_at].text} {group.text}"
    operation = Operation("add_index", spec, name=tokens[name_at].name, index_kind=kind, index_columns=_names(group))
    parsed.operations.append(operation)
    _trailing_options(tokens[i + 1 :], parsed)
    return parsed
