"""DDL of MySQL/MariaDB, SQLite, SQL Server, ClickHouse, Snowflake and BigQuery → the shared `Catalog`.

The text is cut into statements with sqlglot's tokenizer (so quotes, comments and dollar strings are
respected), each statement keeps the 1-based line where it starts, and each DDL statement is parsed
with `sqlglot.parse_one`. A statement that cannot be read becomes a `ParseWarning`; the rest goes on.

Where sqlglot's grammar is narrower than what real dumps contain, the statement is first tidied on
the token level, always keeping every character position (removed text becomes blanks), so that
the line numbers and the "type as written" slices stay exact:

* table options after the column list (MySQL, SQLite, SQL Server) are read here from the tokens;
* SQL Server's CLUSTERED/NONCLUSTERED, `WITH (PAD_INDEX = ...)`, `ON [PRIMARY]`, ROWGUIDCOL;
* MySQL's `/*!40101 ... */` conditional comments are opened (mysqldump wraps views and partition
  clauses in them), `DELIMITER` blocks are cut on their own delimiter;
* when a CREATE TABLE still fails, every column type is replaced by a placeholder of the same length
  (types are always taken from the original text, never from sqlglot's re-generated SQL).

Nothing here does I/O; the input is never changed; the same text gives the same catalog.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Final

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.tokens import Token, TokenType  # type: ignore[attr-defined]

from dbspecialist.adapters.catalog import (
    Catalog,
    CheckConstraint,
    Column,
    FKAction,
    ForeignKey,
    Index,
    PrimaryKey,
    Sequence,
    Table,
    Trigger,
    UniqueConstraint,
)
from dbspecialist.knowledge.ddl.model import ParsedSchema, ParseWarning
from dbspecialist.knowledge.ddl.sqlite_text import column_clauses, read_trigger
from dbspecialist.knowledge.sql_text import index_name

DIALECT_ENGINES: Final[dict[str, str]] = {
    "mysql": "mysql",
    "sqlite": "sqlite",
    "tsql": "tsql",
    "clickhouse": "clickhouse",
    "snowflake": "snowflake",
    "bigquery": "bigquery",
}

# Default collation of the common MySQL character sets (MySQL 8.0 Reference Manual, "Character Sets
# and Collations in MySQL", SHOW CHARACTER SET). Used when a column or table names only a charset.
MYSQL_DEFAULT_COLLATIONS: Final[dict[str, str]] = {
    "latin1": "latin1_swedish_ci",
    "latin2": "latin2_general_ci",
    "ascii": "ascii_general_ci",
    "utf8": "utf8mb3_general_ci",
    "utf8mb3": "utf8mb3_general_ci",
    "utf8mb4": "utf8mb4_0900_ai_ci",
    "ucs2": "ucs2_general_ci",
    "utf16": "utf16_general_ci",
    "utf32": "utf32_general_ci",
    "cp1250": "cp1250_general_ci",
    "cp1251": "cp1251_general_ci",
    "cp1252": "latin1_swedish_ci",
    "binary": "binary",
    "gbk": "gbk_chinese_ci",
    "big5": "big5_chinese_ci",
    "sjis": "sjis_japanese_ci",
    "euckr": "euckr_korean_ci",
}

_STATEMENT_START_CHARS: Final = 80
_SQLITE_ROWID_TYPE: Final = "integer"

# First words of statements a schema review has no use for: no warning, no parse.
_IGNORED_FIRST: Final = frozenset(
    {
        "SET", "USE", "LOCK", "UNLOCK", "INSERT", "REPLACE", "UPDATE", "DELETE", "SELECT", "WITH", "VALUES",
        "GRANT", "REVOKE", "DENY", "BEGIN", "START", "COMMIT", "ROLLBACK", "END", "SAVEPOINT", "RELEASE",
        "PRAGMA", "ANALYZE", "ANALYSE", "VACUUM", "REINDEX", "ATTACH", "DETACH", "EXPLAIN", "SHOW", "DESCRIBE",
        "DESC", "PRINT", "EXEC", "EXECUTE", "DECLARE", "IF", "CALL", "TRUNCATE", "OPTIMIZE", "FLUSH", "LOAD",
        "COPY", "PUT", "GET", "MERGE", "RAISERROR", "THROW", "RETURN", "CHECKPOINT", "DBCC", "BACKUP", "RESTORE",
        "KILL", "HANDLER", "DO", "PREPARE", "DEALLOCATE", "CHECK", "REPAIR", "CHECKSUM", "INSTALL", "UNINSTALL",
        "SYSTEM", "UNDROP", "LIST", "REMOVE", "ASSERT", "EXPORT", "ENABLE", "DISABLE", "COMMENT",
        "RENAME", "SOURCE", "DELIMITER", "WHILE", "GO", "SETUSER", "OPEN", "CLOSE", "FETCH",
    }
)  # fmt: skip

# Object kinds after CREATE that are not tables, views, indexes or sequences: read past silently.
_OTHER_OBJECTS: Final = frozenset(
    {
        "PROCEDURE", "PROC", "FUNCTION", "TRIGGER", "EVENT", "DATABASE", "SCHEMA", "USER", "ROLE", "LOGIN",
        "TYPE", "DOMAIN", "SYNONYM", "STAGE", "PIPE", "STREAM", "TASK", "WAREHOUSE", "DICTIONARY", "QUOTA",
        "POLICY", "PROFILE", "SETTINGS", "EXTENSION", "SERVER", "TABLESPACE", "LOGFILE", "AGGREGATE", "PACKAGE",
        "ASSEMBLY", "CERTIFICATE", "CREDENTIAL", "MASKING", "NAMED", "NETWORK", "INTEGRATION",
        "SHARE", "ALERT", "TAG", "FILE", "CONNECTION", "RESOURCE", "MODEL", "CAPABILITY", "RESERVATION",
        "ASSIGNMENT", "STATISTICS", "PARTITION", "FULLTEXT_CATALOG", "XML", "QUEUE", "CONTRACT", "ROUTE",
        "MESSAGE", "SNAPSHOT", "SEARCH", "COLLATION", "CAST", "OPERATOR", "RULE", "PUBLICATION", "SUBSCRIPTION",
        "DYNAMIC", "ICEBERG", "HYBRID", "GIT", "SECRET", "NOTEBOOK", "STREAMLIT", "EXTERNAL_ACCESS",
    }
)  # fmt: skip
_ROUTINES: Final = frozenset({"PROCEDURE", "PROC", "FUNCTION", "TRIGGER", "EVENT", "PACKAGE"})
_CREATE_OBJECTS: Final = frozenset({"TABLE", "INDEX", "VIEW", "SEQUENCE"}) | _OTHER_OBJECTS

# Words that open a table-level element (not a column) inside CREATE TABLE (...).
_ELEMENT_CONSTRAINTS: Final = frozenset(
    {"PRIMARY", "UNIQUE", "KEY", "INDEX", "FULLTEXT", "SPATIAL", "CONSTRAINT", "FOREIGN", "CHECK", "PERIOD",
     "PROJECTION", "EXCLUDE", "LIKE"}
)  # fmt: skip
# Words that end a column's type (at nesting depth 0).
_TYPE_STOPS: Final = frozenset(
    {
        "NOT", "NULL", "DEFAULT", "AUTO_INCREMENT", "AUTOINCREMENT", "PRIMARY", "UNIQUE", "KEY", "COLLATE",
        "CHARSET", "COMMENT", "GENERATED", "AS", "REFERENCES", "CHECK", "CONSTRAINT", "IDENTITY", "ON",
        "INVISIBLE", "VISIBLE", "COLUMN_FORMAT", "STORAGE", "SRID", "CODEC", "TTL", "MATERIALIZED", "ALIAS",
        "EPHEMERAL", "OPTIONS", "MASKING", "TAG", "ROWGUIDCOL", "SPARSE", "FILESTREAM", "START", "INCREMENT",
        "ORDER", "NOORDER", "STORED", "VIRTUAL", "PERSISTED", "PERSISTENT", "HIDDEN", "ENCODE", "FOREIGN",
        "MASKED", "CLUSTERED", "NONCLUSTERED", "ENCRYPTED", "STATISTICS",
    }
)  # fmt: skip
_ANGLE_TYPES: Final = frozenset({"ARRAY", "STRUCT", "MAP", "RANGE"})
_CHAR_TYPES: Final = re.compile(
    r"^(national\s+)?(char|varchar|character|nchar|nvarchar|tinytext|text|mediumtext|longtext|enum|set|long\s+varchar)\b"
)
_CONDITIONAL_COMMENT = re.compile(
    r"'(?:[^'\\]|\\.|'')*'|\"(?:[^\"\\]|\\.|\"\")*\"|`(?:[^`]|``)*`|--[^\n]*|#[^\n]*|/\*(M?)!(\d*)(.*?)\*/",
    re.S,
)
# A T-SQL batch separator: a line that is only `GO`, optionally with a repeat count (sqlcmd/SSMS).
_GO_AT = re.compile(r"[ \t]*GO[ \t]*(\d+)?[ \t]*(?=\r?\n|$)", re.I)
_GO_LINE = re.compile(r"^[ \t]*GO[ \t]*(\d+)?[ \t]*\r?$", re.I | re.M)
_DELIMITER_LINE = re.compile(r"^[ \t]*DELIMITER[ \t]+(\S+)[ \t]*\r?$", re.I | re.M)
_FK_ACTIONS: Final[dict[str, FKAction]] = {
    "CASCADE": "cascade",
    "RESTRICT": "restrict",
    "SET NULL": "set null",
    "SET DEFAULT": "set default",
    "NO ACTION": "no action",
}


# --------------------------------------------------------------------------------------------- splitting


@dataclass
class _Stmt:
    """One statement: its text, absolute first line, and its tokens (positions relative to `text`)."""

    text: str
    line: int
    tokens: list[Token] | None
    base_line: int = 1  # absolute line of the text's first line (token.line is relative to `text`)

    def abs_line(self, token_line: int) -> int:
        return self.base_line + token_line - 1


def _tokenize(text: str, dialect: str) -> list[Token]:
    return sqlglot.Dialect.get_or_raise(dialect).tokenize(text)


def _open_conditional_comments(text: str) -> str:
    """MySQL `/*!40101 SET ... */` → `         SET ...   `: the payload becomes real text, positions kept."""

    def repl(match: re.Match[str]) -> str:
        if match.group(3) is None:
            return match.group(0)
        version = match.group(2)
        if version and int(version) >= 999999:  # MariaDB's "sandbox mode" marker: never executed
            return match.group(0)
        head = 3 + len(match.group(1)) + len(version)
        return " " * head + match.group(3) + "  "

    if "/*" not in text:
        return text
    return _CONDITIONAL_COMMENT.sub(repl, text)


def _split(ddl: str, dialect: str) -> list[_Stmt]:
    text = _open_conditional_comments(ddl) if dialect == "mysql" else ddl
    if dialect == "tsql" and _GO_LINE.search(text):
        # sqlglot tokenizes GO as a COMMAND whose argument swallows the next batch (with broken token
        # positions), so cut at GO lines first; each batch is then split on ';' with its own line offset.
        out_batches: list[_Stmt] = []
        for piece_start, piece in _scan_pieces(text, None, go=True):
            out_batches.extend(_split_tokens(piece, 1 + text.count("\n", 0, piece_start), dialect))
        return out_batches
    if dialect != "mysql" or not _DELIMITER_LINE.search(text):
        return _split_tokens(text, 1, dialect)
    out: list[_Stmt] = []
    delimiter, pos = ";", 0
    for match in _DELIMITER_LINE.finditer(text):
        out.extend(_split_segment(text[pos : match.start()], text.count("\n", 0, pos) + 1, dialect, delimiter))
        delimiter, pos = match.group(1), match.end()
    out.extend(_split_segment(text[pos:], text.count("\n", 0, pos) + 1, dialect, delimiter))
    return out


def _split_segment(text: str, base_line: int, dialect: str, delimiter: str) -> list[_Stmt]:
    if delimiter == ";":
        return _split_tokens(text, base_line, dialect)
    out: list[_Stmt] = []
    for piece_start, piece in _scan_pieces(text, delimiter, go=False):
        out.extend(_split_tokens(piece, base_line + text.count("\n", 0, piece_start), dialect, whole=True))
    return out


def _split_tokens(text: str, base_line: int, dialect: str, *, whole: bool = False) -> list[_Stmt]:
    """Cut `text` at statement ends (`;`, T-SQL `GO` lines), respecting BEGIN ... END in routines."""
    try:
        tokens = _tokenize(text, dialect)
    except Exception:  # the tokenizer gives up on e.g. an unterminated quote: cut by a simpler scanner
        out: list[_Stmt] = []
        for piece_start, piece in _scan_pieces(text, ";", go=dialect == "tsql"):
            line = base_line + text.count("\n", 0, piece_start)
            try:
                piece_tokens = _tokenize(piece, dialect)
            except Exception:
                stripped = piece.lstrip()
                lead = piece[: len(piece) - len(stripped)]
                out.append(_Stmt(stripped.rstrip(), line + lead.count("\n"), None))
                continue
            out.extend(_group(piece, piece_tokens, line, dialect, whole=True))
        return out
    return _group(text, tokens, base_line, dialect, whole=whole)


def _group(text: str, tokens: list[Token], base_line: int, dialect: str, *, whole: bool) -> list[_Stmt]:
    out: list[_Stmt] = []
    current: list[Token] = []
    routine = skip_number = False
    depth = 0

    def flush() -> None:
        nonlocal current, routine, depth
        if current:
            start, end = current[0].start, current[-1].end
            rel = [_shift(t, start, current[0].line) for t in current]
            out.append(
                _Stmt(text[start : end + 1], base_line + current[0].line - 1, rel, base_line + current[0].line - 1)
            )
        current, routine, depth = [], False, 0

    n = len(tokens)
    for i, tok in enumerate(tokens):
        word = tok.text.upper() if tok.token_type != TokenType.IDENTIFIER else ""
        if skip_number:
            skip_number = False
            if tok.token_type == TokenType.NUMBER and tok.line == tokens[i - 1].line:
                continue
        if (
            dialect == "tsql"
            and word == "GO"
            and (i == 0 or tokens[i - 1].line < tok.line)
            and (i + 1 == n or tokens[i + 1].line > tok.line or tokens[i + 1].token_type == TokenType.NUMBER)
        ):
            flush()
            skip_number = True
            continue
        if tok.token_type == TokenType.SEMICOLON and not whole and (not routine or (depth <= 0 and dialect != "tsql")):
            flush()
            continue
        if tok.token_type == TokenType.SEMICOLON and not current:
            continue
        current.append(tok)
        if len(current) <= 12 and word in _ROUTINES and current[0].text.upper() in ("CREATE", "ALTER"):
            routine = True
        if routine:
            if word in ("BEGIN", "CASE"):
                nxt = tokens[i + 1].text.upper() if i + 1 < n else ""
                if not (word == "BEGIN" and nxt in ("TRANSACTION", "TRAN", "WORK")):
                    depth += 1
            elif word == "END":
                nxt = tokens[i + 1].text.upper() if i + 1 < n else ""
                if nxt not in ("IF", "LOOP", "WHILE", "REPEAT", "FOR"):
                    depth -= 1
    flush()
    return out


def _shift(tok: Token, offset: int, first_line: int) -> Token:
    """A copy of `tok` with positions relative to its statement (line 1 = the statement's first line)."""
    return Token(tok.token_type, tok.text, tok.line - first_line + 1, tok.col, tok.start - offset, tok.end - offset)


def _scan_pieces(text: str, delimiter: str | None, *, go: bool) -> Iterator[tuple[int, str]]:
    """Cut on `delimiter` (if any) outside quotes and comments, and on T-SQL GO lines if `go`."""
    i, start, n = 0, 0, len(text)
    at_line_start = True
    while i < n:
        ch = text[i]
        if go and at_line_start:
            match = _GO_AT.match(text, i)
            if match:
                yield start, text[start:i]
                i = match.end()
                start = i
                continue
        at_line_start = ch == "\n"
        if ch in "'\"`":
            end = text.find(ch, i + 1)
            i = n if end < 0 else end + 1
            continue
        if text.startswith("--", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        if text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
            continue
        if delimiter is not None and text.startswith(delimiter, i):
            yield start, text[start:i]
            i += len(delimiter)
            start = i
            continue
        i += 1
    yield start, text[start:]


# --------------------------------------------------------------------------------------------- model state


@dataclass
class _TableState:
    schema: str | None
    name: str
    kind: str
    line: int
    columns: list[Column] = field(default_factory=list)
    primary_key: PrimaryKey | None = None
    foreign_keys: list[ForeignKey] = field(default_factory=list)
    uniques: list[UniqueConstraint] = field(default_factory=list)
    checks: list[CheckConstraint] = field(default_factory=list)
    indexes: list[Index] = field(default_factory=list)
    options: dict[str, str] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)
    comment: str | None = None
    definition: str | None = None
    partition_key: str | None = None
    charset: str | None = None
    collation: str | None = None
    triggers: list[Trigger] = field(default_factory=list)

    def column_index(self, name: str) -> int | None:
        for i, column in enumerate(self.columns):
            if column.name.lower() == name.lower():
                return i
        return None

    def build(self) -> Table:
        return Table(
            schema_name=self.schema,
            name=self.name,
            kind=self.kind,  # type: ignore[arg-type]
            columns=list(self.columns),
            primary_key=self.primary_key,
            foreign_keys=list(self.foreign_keys),
            unique_constraints=list(self.uniques),
            check_constraints=list(self.checks),
            indexes=list(self.indexes),
            triggers=sorted(self.triggers, key=lambda t: t.name),
            options=dict(self.options),
            stats=dict(self.stats),
            comment=self.comment,
            definition=self.definition,
            partition_key=self.partition_key,
            source_line=self.line,
        )


@dataclass
class _ColumnLayout:
    """What the tokens say about one column element: its type as written and its line."""

    type_text: str
    type_start: int
    type_end: int
    line: int


@dataclass
class _Element:
    start: int  # token index (inclusive) inside the statement
    end: int  # token index (exclusive)
    column: str | None  # column name when the element is a column definition
    layout: _ColumnLayout | None = None


class _Builder:
    def __init__(self, dialect: str) -> None:
        self.dialect = dialect
        self.engine = DIALECT_ENGINES[dialect]
        self.tables: dict[tuple[str, str], _TableState] = {}
        self.sequences: list[Sequence] = []
        self.warnings: list[ParseWarning] = []
        self.current_db: str | None = None
        self.statements = 0

    # ---- helpers

    def key(self, schema: str | None, name: str) -> tuple[str, str]:
        return ((schema or "").lower(), name.lower())

    def find(self, schema: str | None, name: str) -> _TableState | None:
        found = self.tables.get(self.key(schema, name))
        if found is None and schema is None:
            for state in self.tables.values():
                if state.name.lower() == name.lower():
                    return state
        return found

    def warn(self, stmt: _Stmt, message: str) -> None:
        start = " ".join(stmt.text.split())[:_STATEMENT_START_CHARS]
        self.warnings.append(ParseWarning(line=stmt.line, statement_start=start, message=message))

    def table_name(self, table: exp.Expression | None) -> tuple[str | None, str]:
        if not isinstance(table, exp.Table):
            if isinstance(table, exp.Expression):
                return self.current_db, table.name
            return None, ""
        schema = table.db or None
        if schema is None and self.dialect == "mysql":
            schema = self.current_db
        return schema, table.name

    def sql(self, node: exp.Expression) -> str:
        return node.sql(dialect=self.dialect)

    def build(self) -> ParsedSchema:
        catalog = Catalog(
            engine=self.engine,
            source="ddl",
            schemas=sorted({s.schema for s in self.tables.values() if s.schema}),
            tables=[state.build() for state in self.tables.values()],
            sequences=list(self.sequences),
        )
        return ParsedSchema(catalog=catalog, warnings=list(self.warnings), statements=self.statements)


# --------------------------------------------------------------------------------------------- entry point


@contextmanager
def _quiet_sqlglot() -> Iterator[None]:
    logger = logging.getLogger("sqlglot")
    was = logger.disabled
    logger.disabled = True
    try:
        yield
    finally:
        logger.disabled = was


def parse_with_sqlglot(ddl: str, dialect: str) -> ParsedSchema:
    """Parse `ddl` written for `dialect` (a key of `DIALECT_ENGINES`) into the shared catalog.

    Never raises on bad input: statements that cannot be read become parse warnings.
    """
    if dialect not in DIALECT_ENGINES:
        raise ValueError(f"unknown sqlglot dialect {dialect!r}; accepted: {', '.join(sorted(DIALECT_ENGINES))}")
    builder = _Builder(dialect)
    with _quiet_sqlglot():
        try:
            statements = _split(ddl, dialect)
        except Exception as error:  # defensive: the splitter has its own fallbacks
            builder.warnings.append(
                ParseWarning(line=1, statement_start=ddl[:_STATEMENT_START_CHARS], message=str(error))
            )
            statements = []
        for stmt in statements:
            if not stmt.text.strip():
                continue
            builder.statements += 1
            try:
                _statement(builder, stmt)
            except Exception as error:  # one statement never stops the review of the rest
                builder.warn(stmt, f"could not read this statement: {_short(error)}")
    return builder.build()


def _short(error: BaseException) -> str:
    text = str(error).split("\n")[0].strip()
    text = re.sub(r"\x1b\[[0-9;]*m", "", text)
    return (text or type(error).__name__)[:200]


def _word(tok: Token) -> str:
    """The first word of a keyword token, upper-case (sqlglot has tokens like `PRIMARY KEY`); "" for names."""
    if tok.token_type == TokenType.IDENTIFIER:
        return ""
    parts = tok.text.upper().split()
    return parts[0] if parts else ""


def _words(tokens: list[Token], limit: int = 16) -> list[str]:
    return [_word(t) for t in tokens[:limit]]


def _create_object(tokens: list[Token]) -> str | None:
    """TABLE, INDEX, VIEW, ... : the kind of object a CREATE statement makes (None when unknown)."""
    for tok in tokens[1:16]:
        if tok.token_type == TokenType.IDENTIFIER:
            continue
        for part in tok.text.upper().split():
            if part in _CREATE_OBJECTS:
                return part
    return None


def _statement(b: _Builder, stmt: _Stmt) -> None:
    if stmt.tokens is None:
        b.warn(stmt, "could not split this text into SQL tokens (an unterminated quote or comment?)")
        return
    tokens = stmt.tokens
    if not tokens:
        return
    words = _words(tokens)
    first = words[0]
    if first == "USE" and len(tokens) > 1:
        if b.dialect == "mysql":
            b.current_db = tokens[1].text
        return
    if first in _IGNORED_FIRST:
        return
    if first == "CREATE":
        obj = _create_object(tokens)
        if obj == "TRIGGER" and b.dialect == "sqlite":
            _create_sqlite_trigger(b, stmt)
            return
        if obj is None or obj in _OTHER_OBJECTS:
            if obj is None:
                _parse_other(b, stmt)
            return
        if obj == "TABLE":
            _create_table(b, stmt, words)
        elif obj == "INDEX":
            _create_index(b, stmt)
        elif obj == "VIEW":
            _create_view(b, stmt, words)
        else:
            _create_sequence(b, stmt)
        return
    if first == "ALTER":
        if (len(words) > 1 and words[1] == "TABLE") or (
            len(words) > 2 and words[1] == "ONLINE" and words[2] == "TABLE"
        ):
            _alter_table(b, stmt)
        return
    if first == "DROP":
        _drop(b, stmt)
        return
    _parse_other(b, stmt)


_HARMLESS = tuple(
    getattr(exp, name)
    for name in (
        "Query", "Insert", "Update", "Delete", "Merge", "Set", "Use", "Transaction", "Commit", "Rollback",
        "Pragma", "Drop", "Describe", "Show", "Grant", "Revoke", "Analyze", "Copy", "Command", "Cache", "Uncache",
        "Refresh", "Kill", "Block", "Declare", "Summarize", "TruncateTable", "LoadData", "Export", "Alter",
    )
    if hasattr(exp, name)
)  # fmt: skip


def _parse_other(b: _Builder, stmt: _Stmt) -> None:
    """A statement with an unexpected first word: quiet when it is real SQL, a warning otherwise."""
    try:
        node = sqlglot.parse_one(stmt.text, read=b.dialect)
    except SqlglotError as error:
        b.warn(stmt, f"not a statement this parser understands: {_short(error)}")
        return
    if isinstance(node, _HARMLESS) and not (isinstance(node, exp.Command) and node.name.upper() == "CREATE"):
        return
    b.warn(stmt, "not a statement this parser understands (only DDL is read)")


# --------------------------------------------------------------------------------------------- token helpers


def _is_word(tok: Token, *words: str) -> bool:
    return _word(tok) in words


def _first_end(tok: Token) -> int:
    """End position of the first word of a (possibly multi-word) token."""
    parts = tok.text.split()
    return tok.start + len(parts[0]) - 1 if len(parts) > 1 else tok.end


def _matching(tokens: list[Token], open_index: int) -> int:
    depth = 0
    for i in range(open_index, len(tokens)):
        if tokens[i].token_type == TokenType.L_PAREN:
            depth += 1
        elif tokens[i].token_type == TokenType.R_PAREN:
            depth -= 1
            if depth == 0:
                return i
    return len(tokens) - 1


def _raw(stmt: _Stmt, tokens: list[Token], lo: int, hi: int) -> str:
    """Original text from token `lo` to token `hi - 1` inclusive."""
    if lo >= hi:
        return ""
    return stmt.text[tokens[lo].start : tokens[hi - 1].end + 1]


def _normalise_type(text: str, dialect: str) -> str:
    """`BIGINT(20)  UNSIGNED` → `bigint(20) unsigned`; `[nchar](5)` → `nchar(5)`; strings keep their case."""
    parts = re.split(r"('(?:[^'\\]|\\.|'')*')", text)
    out = []
    for i, part in enumerate(parts):
        if i % 2:
            out.append(part)
            continue
        piece = part.lower()
        if dialect == "tsql":
            piece = piece.replace("[", "").replace("]", "")
        piece = piece.replace("`", "").replace('"', "")
        piece = re.sub(r"\s+", " ", piece)
        piece = re.sub(r"\s*([(),<>])\s*", r"\1", piece)
        out.append(piece)
    result = "".join(out).strip()
    return re.sub(r"\)(?=[a-z])", ") ", result)


def _blank(chars: list[str], start: int, end: int, replacement: str = "") -> None:
    """Overwrite chars[start..end] (inclusive) with `replacement` padded by blanks; newlines are kept."""
    for i in range(start, min(end, len(chars) - 1) + 1):
        k = i - start
        if k < len(replacement):
            chars[i] = replacement[k]
        elif chars[i] not in "\r\n":
            chars[i] = " "


# --------------------------------------------------------------------------------------------- CREATE TABLE


def _table_group(tokens: list[Token], words: list[str]) -> int | None:
    """Token index of the `(` opening the column list, or None (CREATE TABLE ... AS SELECT / LIKE)."""
    try:
        start = words.index("TABLE")
    except ValueError:
        return None
    for i in range(start + 1, len(tokens)):
        tok = tokens[i]
        if tok.token_type == TokenType.L_PAREN:
            return i
        if _is_word(tok, "AS", "SELECT", "LIKE", "CLONE", "COPY", "USING"):
            return None
    return None


def _elements(stmt: _Stmt, tokens: list[Token], open_i: int, close_i: int, dialect: str) -> list[_Element]:
    out: list[_Element] = []
    depth = angle = 0
    start = open_i + 1
    for i in range(open_i + 1, close_i + 1):
        tok = tokens[i]
        if tok.token_type == TokenType.L_PAREN:
            depth += 1
        elif tok.token_type == TokenType.R_PAREN:
            depth -= 1
        elif tok.text == "<" and i > 0 and tokens[i - 1].text.upper() in _ANGLE_TYPES:
            angle += 1
        elif tok.text in (">", ">>") and angle:
            angle = max(0, angle - len(tok.text))
        if (i == close_i or (tok.token_type == TokenType.COMMA and depth == 0 and angle == 0)) and i > start:
            out.append(_element(stmt, tokens, start, i, dialect))
            start = i + 1
        elif i == close_i or (tok.token_type == TokenType.COMMA and depth == 0 and angle == 0):
            start = i + 1
    return out


def _element(stmt: _Stmt, tokens: list[Token], lo: int, hi: int, dialect: str) -> _Element:
    first = tokens[lo]
    if _word(first) in _ELEMENT_CONSTRAINTS:
        # `key varchar(10)` would be a column; a constraint is followed by a name or `(` then more
        return _Element(lo, hi, None)
    depth = angle = 0
    end = lo + 1
    for i in range(lo + 1, hi):
        tok = tokens[i]
        if depth == 0 and angle == 0 and i > lo + 1 and tok.token_type != TokenType.IDENTIFIER:
            word = _word(tok)
            nxt = _word(tokens[i + 1]) if i + 1 < hi else ""
            if word in _TYPE_STOPS or (word == "CHARACTER" and nxt == "SET"):
                break
            if word == "WITH" and nxt not in ("TIME", "LOCAL"):
                break
        if tok.token_type == TokenType.L_PAREN:
            depth += 1
        elif tok.token_type == TokenType.R_PAREN:
            depth -= 1
        elif tok.text == "<" and tokens[i - 1].text.upper() in _ANGLE_TYPES:
            angle += 1
        elif tok.text in (">", ">>") and angle:
            angle = max(0, angle - len(tok.text))
        end = i + 1
    type_text = _normalise_type(_raw(stmt, tokens, lo + 1, end), dialect)
    layout = _ColumnLayout(
        type_text=type_text,
        type_start=tokens[lo + 1].start if end > lo + 1 else -1,
        type_end=tokens[end - 1].end if end > lo + 1 else -1,
        line=stmt.abs_line(first.line),
    )
    return _Element(lo, hi, first.text, layout)


def _create_table(b: _Builder, stmt: _Stmt, words: list[str]) -> None:
    tokens = stmt.tokens or []
    open_i = _table_group(tokens, words)
    if "VIRTUAL" in words[: words.index("TABLE")] and b.dialect == "sqlite":
        vnode, _verror = _try_parse(stmt.text, b.dialect)
        schema, name = b.table_name(vnode.this if isinstance(vnode, exp.Create) else None)
        if name:
            state = _TableState(schema, name, "virtual_table", stmt.line, definition=stmt.text)
            b.tables[b.key(schema, name)] = state
        return
    chars = list(stmt.text)
    elements: list[_Element] = []
    tail_options: dict[str, str] = {}
    tail_info: dict[str, Any] = {}
    element_methods: dict[int, str] = {}
    inline_indexes: list[tuple[int, Index | None]] = []
    close_i = -1
    cut_tail = b.dialect in ("mysql", "sqlite", "tsql")
    if open_i is not None:
        close_i = _matching(tokens, open_i)
        elements = _elements(stmt, tokens, open_i, close_i, b.dialect)
        for n, element in enumerate(elements):
            _scrub_element(b, stmt, tokens, element, chars, n, element_methods, inline_indexes)
        if cut_tail and close_i + 1 < len(tokens):
            tail_info = _read_tail(b, stmt, tokens, close_i + 1, tail_options)
            _blank(chars, tokens[close_i + 1].start, len(chars) - 1)
    node, error = _try_parse("".join(chars), b.dialect)
    if node is None and open_i is not None:
        for element in elements:
            if element.layout is not None and element.layout.type_start >= 0:
                layout = element.layout
                if layout.type_end - layout.type_start + 1 >= 3:
                    _blank(chars, layout.type_start, layout.type_end, "INT")
        if not cut_tail and close_i + 1 < len(tokens):
            tail_info = _read_tail(b, stmt, tokens, close_i + 1, tail_options)
            _blank(chars, tokens[close_i + 1].start, len(chars) - 1)
        node, error = _try_parse("".join(chars), b.dialect)
    if node is None:
        b.warn(stmt, f"CREATE TABLE not understood: {error}")
        return
    if not isinstance(node, exp.Create):
        b.warn(stmt, "CREATE TABLE not understood (sqlglot read it as an opaque command)")
        return
    target = node.this
    table_node = target.this if isinstance(target, exp.Schema) else target
    schema, name = b.table_name(table_node)
    if not name:
        b.warn(stmt, "CREATE TABLE without a table name")
        return
    if b.dialect == "sqlite" and name.lower().startswith("sqlite_"):
        return  # SQLite's own bookkeeping tables (sqlite_sequence, sqlite_stat1)
    state = _TableState(schema, name, "table", stmt.line)
    state.options.update(tail_options)
    like = node.find(exp.LikeProperty)
    if like is not None and isinstance(like.this, exp.Table):
        source = b.find(*b.table_name(like.this))
        if source is not None:
            state.columns = list(source.columns)
            state.primary_key = source.primary_key
            state.indexes = list(source.indexes)
            state.uniques = list(source.uniques)
            state.checks = list(source.checks)
            state.options = {**source.options, **state.options}
    if "charset" in tail_info:
        state.charset = str(tail_info["charset"])
    if "collation" in tail_info:
        state.collation = str(tail_info["collation"])
    if "comment" in tail_info:
        state.comment = str(tail_info["comment"])
    if "auto_increment" in tail_info:
        state.stats["auto_increment"] = tail_info["auto_increment"]
    if "partition_key" in tail_info:
        state.kind = "partitioned_table"
        state.partition_key = str(tail_info["partition_key"])
    _table_properties(b, node, state)
    if isinstance(target, exp.Schema):
        by_name = {e.column.lower(): e for e in elements if e.column is not None}
        blanked = {n for n, _ in inline_indexes}
        c_iter = iter([(n, e) for n, e in enumerate(elements) if e.column is None and n not in blanked])
        for item in target.expressions:
            if isinstance(item, exp.ColumnDef | exp.Identifier):
                found = by_name.get(item.name.lower())
                _add_column(b, state, item, found.layout if found else None, stmt)
            else:
                n, constraint = next(c_iter, (-1, None))
                line = stmt.abs_line(tokens[constraint.start].line) if constraint else stmt.line
                _add_table_constraint(b, state, item, line, element_methods.get(n))
        state.indexes.extend(index for _, index in inline_indexes if index is not None)
    if b.dialect == "sqlite":
        _sqlite_column_clauses(state, stmt.text)
    _finish_table(b, state)
    b.tables[b.key(schema, name)] = state


def _try_parse(text: str, dialect: str) -> tuple[exp.Expression | None, str]:
    try:
        node = sqlglot.parse_one(text, read=dialect)
    except SqlglotError as error:
        return None, _short(error)
    if not isinstance(node, exp.Expression) or isinstance(node, exp.Command):
        return None, "sqlglot read it as an opaque command"
    return node, ""


def _scrub_element(
    b: _Builder,
    stmt: _Stmt,
    tokens: list[Token],
    element: _Element,
    chars: list[str],
    n: int,
    methods: dict[int, str],
    inline_indexes: list[tuple[int, Index | None]],
) -> None:
    """Remove what sqlglot cannot read inside one element, remembering what it meant."""
    lo, hi = element.start, element.end
    if b.dialect == "tsql":
        first = tokens[lo]
        if element.column is None and _is_word(first, "INDEX"):
            inline_indexes.append((n, _tsql_inline_index(b, stmt, tokens, lo, hi)))
            start = tokens[lo - 1].start if tokens[lo - 1].token_type == TokenType.COMMA else tokens[lo].start
            _blank(chars, start, tokens[hi - 1].end)
            return
        unique = any(_is_word(t, "UNIQUE") for t in tokens[lo:hi])
        i = lo
        while i < hi:
            tok = tokens[i]
            if _is_word(tok, "CLUSTERED", "NONCLUSTERED"):
                methods[n] = _word(tok).lower()
                _blank(chars, tok.start, _first_end(tok))
            elif _is_word(tok, "ROWGUIDCOL", "SPARSE", "FILESTREAM", "HIDDEN") or (
                # sqlglot reads no ASC in T-SQL key lists, and no sort order at all in a UNIQUE constraint
                element.column is None and (_is_word(tok, "ASC") or (unique and _is_word(tok, "DESC")))
            ):
                _blank(chars, tok.start, tok.end)
            elif (
                _is_word(tok, "NOT")
                and i + 2 < hi
                and _is_word(tokens[i + 1], "FOR")
                and _is_word(tokens[i + 2], "REPLICATION")
            ):
                _blank(chars, tok.start, tokens[i + 2].end)
                i += 2
            elif _is_word(tok, "WITH") and i + 1 < hi and tokens[i + 1].token_type == TokenType.L_PAREN:
                close = _matching(tokens, i + 1)
                _blank(chars, tok.start, tokens[close].end)
                i = close
            elif (
                _is_word(tok, "ON")
                and i > lo
                and tokens[i - 1].token_type == TokenType.R_PAREN
                and i + 1 < hi
                and not _is_word(tokens[i + 1], "DELETE", "UPDATE")
            ):
                end = i + 1
                if end + 1 < hi and tokens[end + 1].token_type == TokenType.L_PAREN:
                    end = _matching(tokens, end + 1)
                _blank(chars, tok.start, tokens[end].end)
                i = end
            i += 1
    elif b.dialect == "mysql":
        for i in range(lo, hi):
            tok = tokens[i]
            if _is_word(tok, "SRID") and i + 1 < hi:
                _blank(chars, tok.start, tokens[i + 1].end)
            elif _is_word(tok, "PERSISTENT"):
                _blank(chars, tok.start, tok.end, "STORED")
            elif _is_word(tok, "USING") and i + 1 < hi and _is_word(tokens[i + 1], "BTREE", "HASH", "RTREE"):
                methods[n] = tokens[i + 1].text.lower()
                _blank(chars, tok.start, tokens[i + 1].end)


def _tsql_inline_index(b: _Builder, stmt: _Stmt, tokens: list[Token], lo: int, hi: int) -> Index | None:
    """`INDEX ix [UNIQUE] [CLUSTERED|NONCLUSTERED] (a, b DESC)` inside a T-SQL CREATE TABLE."""
    if lo + 1 >= hi:
        return None
    name = tokens[lo + 1].text
    unique = False
    method = "nonclustered"
    i = lo + 2
    while i < hi and tokens[i].token_type != TokenType.L_PAREN:
        if _is_word(tokens[i], "UNIQUE"):
            unique = True
        elif _is_word(tokens[i], "CLUSTERED", "NONCLUSTERED"):
            method = tokens[i].text.lower()
        i += 1
    if i >= hi:
        return None
    close = _matching(tokens, i)
    columns = _token_columns(tokens, i + 1, close)
    return Index(name=name, columns=columns, unique=unique, method=method, source_line=stmt.abs_line(tokens[lo].line))


def _token_columns(tokens: list[Token], lo: int, hi: int) -> list[str]:
    """`a ASC, b DESC` → ["a", "b DESC"] straight from tokens (simple column lists only)."""
    out: list[str] = []
    current: list[Token] = []
    for i in range(lo, hi + 1):
        tok = tokens[i] if i < hi else None
        if tok is None or tok.token_type == TokenType.COMMA:
            if current:
                name = current[0].text
                if any(_is_word(t, "DESC") for t in current[1:]):
                    name += " DESC"
                out.append(name)
            current = []
        else:
            current.append(tok)
    return out


def _value(tokens: list[Token], i: int, stmt: _Stmt) -> tuple[str, int]:
    """The option value starting at token i (a word, a string, or a parenthesised group) and the next index."""
    if i >= len(tokens):
        return "", i
    if tokens[i].token_type == TokenType.L_PAREN:
        close = _matching(tokens, i)
        return _raw(stmt, tokens, i, close + 1), close + 1
    return tokens[i].text, i + 1


def _read_tail(b: _Builder, stmt: _Stmt, tokens: list[Token], lo: int, options: dict[str, str]) -> dict[str, Any]:
    """Table options after the column list: MySQL `ENGINE=InnoDB DEFAULT CHARSET=...`, SQLite `STRICT`, ..."""
    info: dict[str, Any] = {}
    i, n = lo, len(tokens)
    while i < n:
        tok = tokens[i]
        word = tok.text.upper()
        if tok.token_type == TokenType.COMMA:
            i += 1
            continue
        if b.dialect == "sqlite":
            if word == "WITHOUT" and i + 1 < n and tokens[i + 1].text.upper() == "ROWID":
                options["without_rowid"] = "true"
                i += 2
                continue
            if word == "STRICT":
                options["strict"] = "true"
            i += 1
            continue
        if b.dialect == "tsql":
            if word in ("ON", "TEXTIMAGE_ON", "FILESTREAM_ON") and i + 1 < n:
                key = {"ON": "filegroup", "TEXTIMAGE_ON": "textimage_on", "FILESTREAM_ON": "filestream_on"}[word]
                options[key], i = _value(tokens, i + 1, stmt)
                if i < n and tokens[i].token_type == TokenType.L_PAREN:  # partition scheme (column)
                    value, i = _value(tokens, i, stmt)
                    options[key] += value
                continue
            if word == "WITH" and i + 1 < n and tokens[i + 1].token_type == TokenType.L_PAREN:
                value, i = _value(tokens, i + 1, stmt)
                options["with"] = value[1:-1].strip()
                continue
            i += 1
            continue
        # MySQL / MariaDB
        if " ".join(word.split()) == "PARTITION BY" or (
            word == "PARTITION" and i + 1 < n and tokens[i + 1].text.upper() == "BY"
        ):
            i = i + 1 if " " in word else i + 2
            j = i
            while j < n and tokens[j].token_type != TokenType.L_PAREN:
                j += 1
            method = " ".join(t.text.upper() for t in tokens[i:j])
            expression = ""
            if j < n:
                close = _matching(tokens, j)
                expression = _raw(stmt, tokens, j + 1, close).replace("`", "")
            info["partition_key"] = f"{method} ({expression})" if expression else method
            options["partition_by"] = _raw(stmt, tokens, i, n)
            break
        if word == "WITH" and i + 2 < n and tokens[i + 1].text.upper() == "SYSTEM":
            options["system_versioned"] = "true"
            i += 3
            continue
        if word == "DEFAULT":
            i += 1
            continue
        if word == "CHARACTER" and i + 1 < n and tokens[i + 1].text.upper() == "SET":
            name, i = "charset", i + 2
        elif word in ("DATA", "INDEX") and i + 1 < n and tokens[i + 1].text.upper() == "DIRECTORY":
            name, i = f"{word.lower()}_directory", i + 2
        else:
            name, i = word.lower(), i + 1
        if i < n and tokens[i].token_type == TokenType.EQ:
            i += 1
        value, i = _value(tokens, i, stmt)
        if name in ("charset", "character_set"):
            info["charset"] = value
            options["charset"] = value
        elif name == "collate":
            info["collation"] = value
            options["collation"] = value
        elif name in ("engine", "type"):
            options["engine"] = value
        elif name == "comment":
            info["comment"] = value
        elif name == "auto_increment":
            if value.isdigit():
                info["auto_increment"] = int(value)
        elif name:
            options[name] = value
    return info


def _table_properties(b: _Builder, node: exp.Create, state: _TableState) -> None:
    """Table properties sqlglot did read (ClickHouse, Snowflake, BigQuery, and kinds for every dialect)."""
    props = node.args.get("properties")
    if not isinstance(props, exp.Properties):
        return
    for prop in props.expressions:
        if isinstance(prop, exp.EngineProperty):
            state.options["engine"] = b.sql(prop.this)
        elif isinstance(prop, exp.Order):
            state.options["order_by"] = ", ".join(
                b.sql(o.this if isinstance(o, exp.Ordered) else o) for o in prop.expressions
            )
        elif isinstance(prop, exp.PrimaryKey):
            state.options["primary_key"] = ", ".join(_index_column(b, e) for e in prop.expressions)
        elif isinstance(prop, exp.PartitionedByProperty):
            key = b.sql(prop.this)
            state.options["partition_by"] = key
            state.partition_key = key
        elif isinstance(prop, exp.ClusterProperty | exp.ClusteredByProperty):
            state.options["cluster_by"] = ", ".join(b.sql(e) for e in prop.expressions)
        elif isinstance(prop, exp.MergeTreeTTL):
            state.options["ttl"] = b.sql(prop).removeprefix("TTL ").strip()
        elif isinstance(prop, exp.SettingsProperty):
            state.options["settings"] = ", ".join(b.sql(e) for e in prop.expressions)
        elif isinstance(prop, exp.SchemaCommentProperty):
            state.comment = prop.this.name if isinstance(prop.this, exp.Literal) else b.sql(prop.this)
        elif isinstance(prop, exp.TransientProperty):
            state.options["transient"] = "true"
        elif isinstance(prop, exp.TemporaryProperty):
            state.options["temporary"] = "true"
        elif isinstance(prop, exp.Property):
            key = prop.name.lower()
            value = prop.args.get("value")
            text = value.name if isinstance(value, exp.Literal) else b.sql(value) if value else ""
            if key == "description":
                state.comment = text
            else:
                state.options[key] = text
        elif isinstance(prop, exp.CharacterSetProperty):
            state.charset = prop.this.name
            state.options["charset"] = prop.this.name
        elif isinstance(prop, exp.CollateProperty):
            state.collation = prop.this.name
            state.options["collation"] = prop.this.name


def _identity_kind(b: _Builder, kind: exp.GeneratedAsIdentityColumnConstraint) -> str:
    if b.dialect == "tsql":
        return "always"  # an IDENTITY column takes no explicit value without SET IDENTITY_INSERT
    return "always" if kind.this is True else "by default"


def _add_column(
    b: _Builder, state: _TableState, item: exp.ColumnDef | exp.Identifier, layout: _ColumnLayout | None, stmt: _Stmt
) -> None:
    name = item.name
    data_type = layout.type_text if layout is not None else ""
    if isinstance(item, exp.ColumnDef) and item.args.get("kind") is None:
        data_type = ""
    elif not data_type and isinstance(item, exp.ColumnDef) and isinstance(item.args.get("kind"), exp.DataType):
        data_type = _normalise_type(b.sql(item.args["kind"]), b.dialect)
    nullable = True
    if b.dialect == "clickhouse":
        nullable = data_type.startswith("nullable(")
    default: str | None = None
    identity: str | None = None
    generated: str | None = None
    generated_kind: str | None = None
    collation: str | None = None
    charset: str | None = None
    comment: str | None = None
    constraints = item.args.get("constraints") or [] if isinstance(item, exp.ColumnDef) else []
    line = layout.line if layout is not None else stmt.line
    inline_keys: list[tuple[str, str | None]] = []
    for constraint in constraints:
        kind = constraint.args.get("kind") if isinstance(constraint, exp.ColumnConstraint) else constraint
        cname = constraint.name if isinstance(constraint, exp.ColumnConstraint) and constraint.this else None
        if isinstance(kind, exp.NotNullColumnConstraint):
            nullable = bool(kind.args.get("allow_null"))
        elif isinstance(kind, exp.DefaultColumnConstraint):
            default = _default_text(b, kind.this)
        elif isinstance(kind, exp.AutoIncrementColumnConstraint):
            identity = "by default"
            if b.dialect == "sqlite":
                state.options["autoincrement"] = "true"
        elif isinstance(kind, exp.GeneratedAsIdentityColumnConstraint):
            if kind.args.get("expression") is not None:
                generated = b.sql(kind.args["expression"])
                generated_kind = "virtual" if b.dialect == "mysql" else None  # MySQL's default when not said
            else:
                identity = _identity_kind(b, kind)
        elif isinstance(kind, exp.ComputedColumnConstraint):
            generated = b.sql(kind.this)
            generated_kind = "stored" if kind.args.get("persisted") else "virtual"  # MySQL: VIRTUAL when not said
            if kind.args.get("not_null"):
                nullable = False
        elif isinstance(kind, exp.CollateColumnConstraint):
            collation = kind.this.name
        elif isinstance(kind, exp.CharacterSetColumnConstraint):
            charset = kind.this.name
        elif isinstance(kind, exp.CommentColumnConstraint):
            comment = kind.this.name if isinstance(kind.this, exp.Literal) else b.sql(kind.this)
        elif isinstance(kind, exp.PrimaryKeyColumnConstraint):
            state.primary_key = PrimaryKey(name=cname, columns=[name])
            inline_keys.append(("primary", cname))
            if b.dialect != "sqlite" or data_type == _SQLITE_ROWID_TYPE:
                nullable = False
        elif isinstance(kind, exp.UniqueColumnConstraint):
            state.uniques.append(UniqueConstraint(name=cname, columns=[name]))
            inline_keys.append(("unique", cname))
        elif isinstance(kind, exp.CheckColumnConstraint):
            state.checks.append(CheckConstraint(name=cname, expression=b.sql(kind.this)))
        elif isinstance(kind, exp.Reference):
            state.foreign_keys.append(_foreign_key(b, cname, [name], kind, line))
        elif isinstance(kind, exp.ForeignKey) and isinstance(kind.args.get("reference"), exp.Reference):
            state.foreign_keys.append(_foreign_key(b, cname, [name], kind.args["reference"], line))
    if charset is not None and collation is None and b.dialect == "mysql":
        collation = MYSQL_DEFAULT_COLLATIONS.get(charset.lower(), charset.lower())
    column = Column(
        name=name,
        data_type=data_type,
        nullable=nullable,
        default=default,
        ordinal=len(state.columns) + 1,
        identity=identity,  # type: ignore[arg-type]
        generated=generated,
        generated_kind=generated_kind,  # type: ignore[arg-type]
        collation=collation,
        comment=comment,
        source_line=line,
    )
    existing = state.column_index(name)
    if existing is None:
        state.columns.append(column)
    else:
        state.columns[existing] = column.model_copy(update={"ordinal": state.columns[existing].ordinal})
    for key_kind, key_name in inline_keys:
        if key_kind == "primary":
            _pk_index(b, state, key_name, [name], line, None)
        else:
            _unique_index(b, state, key_name, [name], line, None)


def _default_text(b: _Builder, node: exp.Expression) -> str | None:
    if isinstance(node, exp.Null):
        return None
    if isinstance(node, exp.CurrentTimestamp) and not node.this:
        return "CURRENT_TIMESTAMP"
    return b.sql(node)


def _index_column(b: _Builder, node: exp.Expression) -> str:
    """How an index key column is written in the catalog: `name`, `name DESC`, `name(10)`, or its SQL."""
    desc = False
    if isinstance(node, exp.Ordered):
        desc = bool(node.args.get("desc"))
        node = node.this
    if isinstance(node, exp.ColumnPrefix):
        text = f"{node.this.name}({b.sql(node.expression)})"
    elif isinstance(node, exp.Column | exp.Identifier | exp.Var):
        text = node.name
    elif (
        isinstance(node, exp.Anonymous)
        and len(node.expressions) == 1
        and isinstance(node.expressions[0], exp.Literal)
        and node.expressions[0].is_int
    ):
        text = f"{node.name}({node.expressions[0].this})"  # MySQL prefix index `name(10)` read as a call
    else:
        text = b.sql(node)
    return f"{text} DESC" if desc else text


def _column_names(b: _Builder, nodes: list[Any]) -> list[str]:
    return [_index_column(b, n) for n in nodes if isinstance(n, exp.Expression)]


def _fk_action(text: str) -> FKAction:
    return _FK_ACTIONS.get(" ".join(text.upper().split()), "no action")


def _foreign_key(b: _Builder, name: str | None, columns: list[str], ref: exp.Reference, line: int) -> ForeignKey:
    target = ref.this
    table = target.this if isinstance(target, exp.Schema) else target
    ref_schema, ref_table = b.table_name(table)
    if isinstance(table, exp.Table) and not table.db:
        ref_schema = b.current_db if b.dialect == "mysql" else None
    ref_columns = [e.name for e in target.expressions] if isinstance(target, exp.Schema) else []
    on_delete: FKAction = "no action"
    on_update: FKAction = "no action"
    deferrable = False
    for option in ref.args.get("options") or []:
        text = " ".join(str(option).upper().split())
        if text.startswith("ON DELETE "):
            on_delete = _fk_action(text.removeprefix("ON DELETE "))
        elif text.startswith("ON UPDATE "):
            on_update = _fk_action(text.removeprefix("ON UPDATE "))
        elif "DEFERRABLE" in text and "NOT DEFERRABLE" not in text:
            deferrable = True
    return ForeignKey(
        name=name,
        columns=columns,
        ref_schema=ref_schema,
        ref_table=ref_table,
        ref_columns=ref_columns,
        on_delete=on_delete,
        on_update=on_update,
        deferrable=deferrable,
        source_line=line,
    )


def _add_table_constraint(b: _Builder, state: _TableState, item: exp.Expression, line: int, method: str | None) -> None:
    name: str | None = None
    parts: list[exp.Expression] = [item]
    if isinstance(item, exp.Constraint):
        name = item.name or None
        parts = list(item.expressions)
    for n, part in enumerate(parts):
        if isinstance(part, exp.PrimaryKey):
            state.primary_key = PrimaryKey(name=name, columns=_plain(_column_names(b, part.expressions)))
            _mark_not_null(b, state, state.primary_key.columns)
            _pk_index(b, state, name, _column_names(b, part.expressions), line, method)
        elif isinstance(part, exp.PrimaryKeyColumnConstraint):
            rest = parts[n + 1 :]
            cols: list[str] = []
            for follower in rest:
                if isinstance(follower, exp.NonClusteredColumnConstraint | exp.ClusteredColumnConstraint):
                    cols = _column_names(b, follower.this if isinstance(follower.this, list) else [follower.this])
                    method = "nonclustered" if isinstance(follower, exp.NonClusteredColumnConstraint) else "clustered"
            if cols:
                state.primary_key = PrimaryKey(name=name, columns=_plain(cols))
                _mark_not_null(b, state, state.primary_key.columns)
                _pk_index(b, state, name, cols, line, method)
        elif isinstance(part, exp.UniqueColumnConstraint):
            schema = part.this
            uname = name
            cols = []
            if isinstance(schema, exp.Schema):
                if schema.this is not None:
                    uname = uname or schema.this.name
                cols = _column_names(b, schema.expressions)
            elif part.expressions:
                cols = _column_names(b, part.expressions)
            if cols:
                state.uniques.append(UniqueConstraint(name=uname, columns=_plain(cols)))
                _unique_index(b, state, uname, cols, line, method)
        elif isinstance(part, exp.ForeignKey):
            ref = part.args.get("reference")
            if isinstance(ref, exp.Reference):
                cols = [e.name for e in part.expressions]
                state.foreign_keys.append(_foreign_key(b, name, cols, ref, line))
        elif isinstance(part, exp.CheckColumnConstraint):
            state.checks.append(CheckConstraint(name=name, expression=b.sql(part.this)))
        elif isinstance(part, exp.IndexColumnConstraint):
            _inline_index(b, state, part, line, method)


def _plain(columns: list[str]) -> list[str]:
    """Key columns without DESC / prefix lengths, as PrimaryKey and UniqueConstraint carry them."""
    out = []
    for column in columns:
        text = column.removesuffix(" DESC")
        out.append(re.sub(r"\(\d+\)$", "", text))
    return out


def _mark_not_null(b: _Builder, state: _TableState, columns: list[str]) -> None:
    for column in columns:
        i = state.column_index(column)
        if i is None:
            continue
        current = state.columns[i]
        if b.dialect == "sqlite" and not (len(columns) == 1 and current.data_type == _SQLITE_ROWID_TYPE):
            continue  # SQLite lets a PRIMARY KEY column hold NULL unless it is the rowid alias
        state.columns[i] = current.model_copy(update={"nullable": False})


def _indexes_enforced(b: _Builder) -> bool:
    return b.dialect in ("mysql", "sqlite", "tsql")


def _pk_index(
    b: _Builder, state: _TableState, name: str | None, columns: list[str], line: int, method: str | None
) -> None:
    if not _indexes_enforced(b):
        return
    if b.dialect == "sqlite":
        if len(columns) == 1 and _column_type(state, columns[0]) == _SQLITE_ROWID_TYPE:
            return  # INTEGER PRIMARY KEY is the rowid itself: no separate index
        iname = f"sqlite_autoindex_{state.name}_{_autoindex_number(state)}"
    elif b.dialect == "mysql":
        iname = "PRIMARY"
    else:
        iname = name or index_name(state.name, _plain(columns), "pkey")
    state.indexes = [i for i in state.indexes if not i.primary]
    if b.dialect == "tsql":
        method = method or "clustered"
    elif b.dialect == "mysql":
        method = method or "btree"
    state.indexes.append(
        Index(
            name=iname,
            columns=columns,
            unique=True,
            primary=True,
            method=method,
            origin="primary_key",
            source_line=line,
        )
    )


def _unique_index(
    b: _Builder, state: _TableState, name: str | None, columns: list[str], line: int, method: str | None
) -> None:
    if not _indexes_enforced(b):
        return
    if b.dialect == "sqlite":
        iname = f"sqlite_autoindex_{state.name}_{_autoindex_number(state)}"
    elif b.dialect == "mysql":
        iname = name or _mysql_auto_name(state, columns)
        method = method or "btree"
    else:
        iname = name or index_name(state.name, _plain(columns), "key")
        method = method or "nonclustered"
    state.indexes.append(
        Index(name=iname, columns=columns, unique=True, method=method, origin="unique_constraint", source_line=line)
    )


def _autoindex_number(state: _TableState) -> int:
    return 1 + sum(1 for i in state.indexes if i.name.startswith("sqlite_autoindex_"))


def _column_type(state: _TableState, name: str) -> str | None:
    i = state.column_index(name)
    return state.columns[i].data_type if i is not None else None


def _mysql_auto_name(state: _TableState, columns: list[str]) -> str:
    """MySQL names an unnamed index after its first column, then `_2`, `_3`, ..."""
    base = _plain(columns[:1])[0] if columns else "idx"
    taken = {i.name.lower() for i in state.indexes}
    if base.lower() not in taken:
        return base
    n = 2
    while f"{base}_{n}".lower() in taken:
        n += 1
    return f"{base}_{n}"


def _mysql_fk_index(state: _TableState, name: str | None, columns: list[str], line: int) -> None:
    """InnoDB creates an index for a foreign key when no index starts with its columns (MySQL manual 15.1.20.5)."""
    wanted = [c.lower() for c in columns]
    for index in state.indexes:
        lead = [c.lower().removesuffix(" desc") for c in index.columns[: len(wanted)]]
        if lead == wanted:
            return
    iname = name or _mysql_auto_name(state, columns)
    if any(i.name.lower() == iname.lower() for i in state.indexes):
        iname = _mysql_auto_name(state, columns)
    state.indexes.append(Index(name=iname, columns=list(columns), method="btree", source_line=line))


def _inline_index(
    b: _Builder, state: _TableState, part: exp.IndexColumnConstraint, line: int, method: str | None
) -> None:
    kind = str(part.args.get("kind") or "").lower()
    columns = _column_names(b, part.expressions)
    if not columns and part.args.get("expression") is not None:  # ClickHouse data-skipping index
        columns = [b.sql(part.args["expression"])]
        index_type = part.args.get("index_type")
        method = b.sql(index_type) if isinstance(index_type, exp.Expression) else method
    name = part.name or (
        _mysql_auto_name(state, columns) if b.dialect == "mysql" else index_name(state.name, _plain(columns))
    )
    unique = kind == "unique"
    if kind in ("fulltext", "spatial"):
        method = kind
    elif b.dialect == "mysql":
        method = method or "btree"
    state.indexes.append(
        Index(
            name=name,
            columns=columns,
            unique=unique,
            method=method,
            origin="unique_constraint" if unique else "index",
            source_line=line,
        )
    )


def _finish_table(b: _Builder, state: _TableState) -> None:
    """Inherited collations (MySQL) and the foreign-key indexes InnoDB adds by itself."""
    if b.dialect != "mysql":
        return
    table_collation = state.collation or (
        MYSQL_DEFAULT_COLLATIONS.get(state.charset.lower(), state.charset.lower()) if state.charset else None
    )
    if table_collation:
        state.columns = [
            c.model_copy(update={"collation": table_collation})
            if c.collation is None and _CHAR_TYPES.match(c.data_type)
            else c
            for c in state.columns
        ]
    if state.options.get("engine", "innodb").lower() == "innodb":
        for fk in state.foreign_keys:
            _mysql_fk_index(state, fk.name, fk.columns, fk.source_line or state.line)


# --------------------------------------------------------------------------------------------- CREATE INDEX / VIEW


def _scrub_index_statement(b: _Builder, tokens: list[Token], chars: list[str]) -> str | None:
    method: str | None = None
    i = 0
    n = len(tokens)
    while i < n:
        tok = tokens[i]
        if _is_word(tok, "CLUSTERED", "NONCLUSTERED", "COLUMNSTORE") and b.dialect == "tsql":
            word = _word(tok).lower()
            method = word if method is None or word == "columnstore" else method
            _blank(chars, tok.start, _first_end(tok))
        elif _is_word(tok, "FULLTEXT", "SPATIAL") and i < 3 and b.dialect == "mysql":
            method = tok.text.lower()
            _blank(chars, tok.start, _first_end(tok))
        elif _is_word(tok, "USING") and i + 1 < n and _is_word(tokens[i + 1], "BTREE", "HASH", "RTREE"):
            method = tokens[i + 1].text.lower()
            _blank(chars, tok.start, tokens[i + 1].end)
            i += 1
        elif _is_word(tok, "ALGORITHM", "LOCK") and b.dialect == "mysql" and i + 1 < n:
            end = i + 2 if tokens[i + 1].token_type == TokenType.EQ else i + 1
            _blank(chars, tok.start, tokens[min(end, n - 1)].end)
            i = end
        elif (
            b.dialect == "tsql"
            and _is_word(tok, "WITH")
            and i + 1 < n
            and tokens[i + 1].token_type == TokenType.L_PAREN
        ):
            close = _matching(tokens, i + 1)
            _blank(chars, tok.start, tokens[close].end)
            i = close
        elif (
            b.dialect == "tsql"
            and _is_word(tok, "ON")
            and i > 0
            and tokens[i - 1].token_type == TokenType.R_PAREN
            and i + 1 < n
        ):
            end = i + 1
            if end + 1 < n and tokens[end + 1].token_type == TokenType.L_PAREN:
                end = _matching(tokens, end + 1)
            _blank(chars, tok.start, tokens[end].end)
            i = end
        i += 1
    return method


def _create_index(b: _Builder, stmt: _Stmt) -> None:
    tokens = stmt.tokens or []
    chars = list(stmt.text)
    method = _scrub_index_statement(b, tokens, chars)
    node, error = _try_parse("".join(chars), b.dialect)
    if node is None or not isinstance(node, exp.Create) or not isinstance(node.this, exp.Index):
        b.warn(stmt, f"CREATE INDEX not understood: {error or 'unexpected shape'}")
        return
    index_node = node.this
    schema, table = b.table_name(index_node.args.get("table"))
    state = b.find(schema, table)
    if state is None:
        b.warn(stmt, f"CREATE INDEX on {table!r}, a table not defined earlier in this DDL")
        return
    params = index_node.args.get("params")
    columns: list[str] = []
    include: list[str] = []
    predicate: str | None = None
    if isinstance(params, exp.IndexParameters):
        columns = _column_names(b, params.args.get("columns") or [])
        include = [e.name for e in params.args.get("include") or []]
        where = params.args.get("where")
        if isinstance(where, exp.Where):
            predicate = _raw_predicate(tokens, "".join(chars)) or b.sql(where.this)
        using = params.args.get("using")
        if using is not None and method is None:
            method = using.name.lower() if isinstance(using, exp.Expression) else str(using).lower()
    if method is None and b.dialect == "mysql":
        method = "btree"
    if method is None and b.dialect == "tsql":
        method = "nonclustered"
    name = index_node.name or index_name(state.name, _plain(columns))
    unique = bool(node.args.get("unique"))
    state.indexes = [i for i in state.indexes if i.name.lower() != name.lower()]
    state.indexes.append(
        Index(
            name=name,
            columns=columns,
            unique=unique,
            method=method,
            predicate=predicate,
            include=include,
            source_line=stmt.line,
        )
    )


def _raw_predicate(tokens: list[Token], scrubbed: str) -> str | None:
    """The WHERE clause of a partial index as written (what follows WHERE once options are blanked)."""
    depth = 0
    for tok in tokens:
        if tok.token_type == TokenType.L_PAREN:
            depth += 1
        elif tok.token_type == TokenType.R_PAREN:
            depth -= 1
        elif depth == 0 and _is_word(tok, "WHERE"):
            text = " ".join(scrubbed[tok.end + 1 :].split())
            return text or None
    return None


def _create_view(b: _Builder, stmt: _Stmt, words: list[str]) -> None:
    materialized = "MATERIALIZED" in words[: words.index("VIEW")]
    node, error = _try_parse(stmt.text, b.dialect)
    name_node: exp.Expression | None = None
    definition: str | None = None
    if isinstance(node, exp.Create):
        target = node.this
        name_node = target.this if isinstance(target, exp.Schema) else target
        query = node.args.get("expression")
        definition = b.sql(query) if isinstance(query, exp.Expression) else None
    else:
        # keep the view (rules count objects) even when its query is beyond sqlglot: name from tokens
        tokens = stmt.tokens or []
        i = words.index("VIEW") + 1
        while i < len(tokens) and _is_word(tokens[i], "IF", "NOT", "EXISTS"):
            i += 1
        parts: list[str] = []
        while i < len(tokens):
            parts.append(tokens[i].text)
            if i + 1 < len(tokens) and tokens[i + 1].token_type == TokenType.DOT:
                i += 2
                continue
            break
        if not parts:
            b.warn(stmt, f"CREATE VIEW not understood: {error}")
            return
        name_node = exp.Table(
            this=exp.to_identifier(parts[-1]), db=exp.to_identifier(parts[-2]) if len(parts) > 1 else None
        )
        match = re.search(r"\bAS\b(.*)$", stmt.text, re.I | re.S)
        definition = match.group(1).strip() if match else None
    schema, name = b.table_name(name_node)
    if not name:
        b.warn(stmt, "CREATE VIEW without a name")
        return
    state = _TableState(schema, name, "materialized_view" if materialized else "view", stmt.line, definition=definition)
    b.tables[b.key(schema, name)] = state


def _create_sequence(b: _Builder, stmt: _Stmt) -> None:
    node, _error = _try_parse(stmt.text, b.dialect)
    if not isinstance(node, exp.Create):
        return  # sequences are optional for the rules offline; not worth a warning
    schema, name = b.table_name(node.this)
    max_value: int | None = None
    data_type: str | None = None
    for prop in node.find_all(exp.SequenceProperties):
        maxvalue = prop.args.get("maxvalue")
        if isinstance(maxvalue, exp.Literal) and maxvalue.is_int:
            max_value = int(maxvalue.this)
    match = re.search(r"\bAS\s+(\w+)", stmt.text, re.I)
    if match:
        data_type = match.group(1).lower()
    b.sequences.append(
        Sequence(schema_name=schema, name=name, data_type=data_type, max_value=max_value, source_line=stmt.line)
    )


# --------------------------------------------------------------------------------------------- ALTER / DROP


def _alter_table(b: _Builder, stmt: _Stmt) -> None:
    tokens = stmt.tokens or []
    chars = list(stmt.text)
    untrusted = False
    if b.dialect == "tsql":
        if _tsql_constraint_trust(b, tokens):
            return
        words = _words(tokens, len(tokens))
        untrusted = any(words[i : i + 3] == ["WITH", "NOCHECK", "ADD"] for i in range(len(words)))
        _tsql_alter_scrub(tokens, chars)
        default = _tsql_add_default(b, stmt, tokens)
        if default:
            return
    else:
        _scrub_index_statement(b, tokens, chars)
    node, _error = _try_parse("".join(chars), b.dialect)
    if not isinstance(node, exp.Alter):
        return  # ALTER TABLE forms that change no modelled structure (DISABLE KEYS, CHECK CONSTRAINT ...)
    schema, name = b.table_name(node.this)
    state = b.find(schema, name)
    if state is None:
        b.warn(stmt, f"ALTER TABLE on {name!r}, a table not defined earlier in this DDL")
        return
    for action in node.args.get("actions") or []:
        if isinstance(action, exp.AddConstraint):
            known = (len(state.foreign_keys), len(state.checks))
            for item in action.expressions:
                _add_table_constraint(b, state, item, stmt.line, None)
            if untrusted:  # WITH NOCHECK: existing rows were not checked, so SQL Server marks it untrusted
                state.foreign_keys[known[0] :] = [
                    fk.model_copy(update={"validated": False}) for fk in state.foreign_keys[known[0] :]
                ]
                state.checks[known[1] :] = [c.model_copy(update={"validated": False}) for c in state.checks[known[1] :]]
        elif isinstance(action, exp.ColumnDef):
            _add_column(b, state, action, _layout_for(b, stmt, tokens, action.name), stmt)
            if b.dialect == "sqlite":  # the column as if written in CREATE TABLE, as SQLite keeps it
                _sqlite_column_clauses(state, f"CREATE TABLE t ({_raw(stmt, tokens, _add_at(tokens), len(tokens))})")
        elif isinstance(action, exp.ModifyColumn | exp.AlterColumn) and isinstance(action.this, exp.ColumnDef):
            _add_column(b, state, action.this, _layout_for(b, stmt, tokens, action.this.name), stmt)
        elif isinstance(action, exp.Drop):
            _drop_in_table(b, state, action)
    _finish_table(b, state)


def _layout_for(b: _Builder, stmt: _Stmt, tokens: list[Token], column: str) -> _ColumnLayout | None:
    """The type-as-written of a column added or modified by ALTER TABLE."""
    for i, tok in enumerate(tokens):
        if tok.text == column and i > 2:
            layout = _element(stmt, tokens, i, _element_end(tokens, i), b.dialect).layout
            if layout is not None:
                return layout
    return None


def _element_end(tokens: list[Token], lo: int) -> int:
    depth = 0
    for i in range(lo, len(tokens)):
        if tokens[i].token_type == TokenType.L_PAREN:
            depth += 1
        elif tokens[i].token_type == TokenType.R_PAREN:
            depth -= 1
        elif tokens[i].token_type == TokenType.COMMA and depth == 0:
            return i
    return len(tokens)


def _tsql_constraint_trust(b: _Builder, tokens: list[Token]) -> bool:
    """`ALTER TABLE t [WITH CHECK | WITH NOCHECK] {CHECK | NOCHECK} CONSTRAINT {ALL | name, ...}`.

    NOCHECK disables the constraints, after which SQL Server no longer trusts them; only
    WITH CHECK CHECK re-validates the rows and makes them trusted again. A plain CHECK CONSTRAINT
    (what SSMS scripts after WITH NOCHECK ADD) enables them but leaves them untrusted.
    """
    words = _words(tokens, len(tokens))
    at = next(
        (i for i in range(3, len(words) - 1) if words[i] in ("CHECK", "NOCHECK") and words[i + 1] == "CONSTRAINT"),
        None,
    )
    if at is None:
        return False
    head = at - 2 if words[at - 2 : at] in (["WITH", "CHECK"], ["WITH", "NOCHECK"]) else at
    parts = [t.text for t in tokens[2:head] if t.token_type != TokenType.DOT]
    if not parts:
        return True
    state = b.find(parts[-2] if len(parts) > 1 else None, parts[-1])
    if state is None:
        return True
    if words[at] == "NOCHECK":
        validated: bool | None = False
    elif words[head : at + 1] == ["WITH", "CHECK", "CHECK"]:
        validated = True
    else:
        validated = None  # enabled again, trust unchanged
    if validated is None:
        return True
    names = {t.text.lower() for t in tokens[at + 2 :] if t.token_type != TokenType.COMMA}
    every = "all" in names and len(names) == 1
    state.foreign_keys = [
        fk.model_copy(update={"validated": validated}) if every or (fk.name or "").lower() in names else fk
        for fk in state.foreign_keys
    ]
    state.checks = [
        c.model_copy(update={"validated": validated}) if every or (c.name or "").lower() in names else c
        for c in state.checks
    ]
    return True


def _tsql_alter_scrub(tokens: list[Token], chars: list[str]) -> None:
    for i, tok in enumerate(tokens):
        if _is_word(tok, "CLUSTERED", "NONCLUSTERED"):
            _blank(chars, tok.start, _first_end(tok))
        elif _is_word(tok, "WITH") and i + 1 < len(tokens) and _is_word(tokens[i + 1], "CHECK", "NOCHECK"):
            _blank(chars, tok.start, tokens[i + 1].end)
        elif _is_word(tok, "WITH") and i + 1 < len(tokens) and tokens[i + 1].token_type == TokenType.L_PAREN:
            close = _matching(tokens, i + 1)
            _blank(chars, tok.start, tokens[close].end)
        elif (
            _is_word(tok, "ON")
            and i > 0
            and tokens[i - 1].token_type == TokenType.R_PAREN
            and i + 1 < len(tokens)
            and not _is_word(tokens[i + 1], "DELETE", "UPDATE")
        ):
            _blank(chars, tok.start, tokens[i + 1].end)


def _tsql_add_default(b: _Builder, stmt: _Stmt, tokens: list[Token]) -> bool:
    """`ALTER TABLE t ADD [CONSTRAINT df] DEFAULT (expr) FOR col`: SSMS scripts put defaults here."""
    words = _words(tokens, len(tokens))
    if "DEFAULT" not in words or "FOR" not in words:
        return False
    d, f = words.index("DEFAULT"), len(words) - 1 - words[::-1].index("FOR")
    if f + 1 >= len(tokens) or d > f:
        return False
    table_tokens = tokens[2 : words.index("ADD")] if "ADD" in words else []
    parts = [t.text for t in table_tokens if t.token_type != TokenType.DOT]
    if not parts:
        return True
    state = b.find(parts[-2] if len(parts) > 1 else None, parts[-1])
    column = tokens[f + 1].text
    if state is None:
        return True
    i = state.column_index(column)
    if i is not None:
        state.columns[i] = state.columns[i].model_copy(update={"default": _raw(stmt, tokens, d + 1, f)})
    return True


def _drop_in_table(b: _Builder, state: _TableState, action: exp.Drop) -> None:
    kind = str(action.args.get("kind") or "").upper()
    target = action.this
    name = target.name if isinstance(target, exp.Expression) else ""
    if not name:
        return
    if kind == "COLUMN" or not kind:
        i = state.column_index(name)
        if i is not None:
            del state.columns[i]
    elif kind in ("INDEX", "KEY"):
        state.indexes = [i for i in state.indexes if i.name.lower() != name.lower()]
    elif kind in ("FOREIGN KEY", "CONSTRAINT"):
        state.foreign_keys = [f for f in state.foreign_keys if (f.name or "").lower() != name.lower()]
    del b


def _drop(b: _Builder, stmt: _Stmt) -> None:
    node, _error = _try_parse(stmt.text, b.dialect)
    if not isinstance(node, exp.Drop):
        return
    kind = str(node.args.get("kind") or "").upper()
    if kind in ("TABLE", "VIEW", "MATERIALIZED VIEW"):
        targets = node.args.get("tables") or ([node.this] if node.this is not None else [])
        for target in targets:
            schema, name = b.table_name(target)
            b.tables.pop(b.key(schema, name), None)
    elif kind == "INDEX":
        name = node.this.name if isinstance(node.this, exp.Expression) else ""
        for state in b.tables.values():
            state.indexes = [i for i in state.indexes if i.name.lower() != name.lower()]
    elif kind == "TRIGGER" and b.dialect == "sqlite":
        targets = node.args.get("tables") or ([node.this] if node.this is not None else [])
        names = {t.name.lower() for t in targets if isinstance(t, exp.Expression)}
        for state in b.tables.values():
            state.triggers = [t for t in state.triggers if t.name.lower() not in names]


# --------------------------------------------------------------------------------------------- SQLite


def _sqlite_column_clauses(state: _TableState, create_sql: str) -> None:
    """COLLATE and generated columns as written (kind and text): the live adapter reads them the same way."""
    clauses = column_clauses(create_sql)
    for i, column in enumerate(state.columns):
        clause = clauses.get(column.name.lower())
        if clause is not None:
            update = {
                "collation": clause.collation,
                "generated": clause.generated,
                "generated_kind": clause.generated_kind,
            }
            state.columns[i] = column.model_copy(update=update)


def _add_at(tokens: list[Token]) -> int:
    """Index of the column definition in `ALTER TABLE t ADD [COLUMN] ...`."""
    at = next((i for i, tok in enumerate(tokens) if _is_word(tok, "ADD")), len(tokens) - 1) + 1
    return at + 1 if at < len(tokens) and _is_word(tokens[at], "COLUMN") else at


def _create_sqlite_trigger(b: _Builder, stmt: _Stmt) -> None:
    """CREATE TRIGGER on its table, as the live adapter reports it (TEMP triggers are not in the file)."""
    read = read_trigger(stmt.text)
    if read is None:
        b.warn(stmt, "CREATE TRIGGER not understood")
        return
    if read.temporary:
        return
    state = b.find(None, read.table)
    if state is None:
        b.warn(stmt, f"CREATE TRIGGER on {read.table!r}, a table not defined earlier in this DDL")
        return
    trigger = Trigger(name=read.name, timing=read.timing, events=list(read.events), definition=read.definition)
    state.triggers = [t for t in state.triggers if t.name.lower() != read.name.lower()] + [trigger]
