"""A PostgreSQL migration file as statements: text, first line, parse tree and transaction position.

Parsed by pglast (libpg_query: PostgreSQL's own grammar), so what PostgreSQL accepts is what we read. Shared by the
linter and the planner; both look at `node` (a pglast.ast node) and use the helpers below for the common
questions (relation names, type names, whether a default is volatile).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, Final

from dbspecialist.knowledge.migrations.model import MigrationInputError

if TYPE_CHECKING:
    from pglast import ast

MAX_MIGRATION_CHARS: Final = 5_000_000


@dataclass(frozen=True)
class PgStatement:
    index: int  # 0-based position in the file
    text: str  # the statement as written, without the trailing semicolon
    line: int  # 1-based line of its first character
    end_line: int
    node: ast.Node
    transaction: int | None  # the explicit BEGIN ... COMMIT block it is in (1, 2, ...), None outside any

    @property
    def kind(self) -> str:
        return type(self.node).__name__

    @property
    def in_transaction(self) -> bool:
        return self.transaction is not None


def split_postgres(sql: str) -> list[PgStatement]:
    """Parse `sql` into statements; MigrationInputError (with the line) when PostgreSQL's grammar rejects it."""
    if len(sql) > MAX_MIGRATION_CHARS:
        raise MigrationInputError(
            f"the migration is {len(sql):,} characters; the limit is {MAX_MIGRATION_CHARS:,} — split it into files"
        )
    from pglast import ast, parse_sql
    from pglast.parser import ParseError

    try:
        raw = parse_sql(sql)
    except ParseError as exc:
        position = exc.args[1] if len(exc.args) > 1 else None
        line = sql.count("\n", 0, max(0, int(position))) + 1 if isinstance(position, int) else None
        where = f" at line {line}" if line else " (at its end: an unfinished statement?)"
        raise MigrationInputError(f"PostgreSQL cannot parse the migration{where}: {exc.args[0]}") from None
    statements: list[PgStatement] = []
    block: int | None = None
    blocks = 0
    for index, item in enumerate(raw):
        start = item.stmt_location or 0
        length = item.stmt_len or len(sql) - start
        text = sql[start : start + length].strip()
        # stmt_location points at the end of the previous statement's semicolon: skip leading blanks/comments
        offset = start + _leading_noise(sql[start : start + length])
        line = sql.count("\n", 0, offset) + 1
        end_line = line + text.count("\n")
        node = item.stmt
        assert node is not None  # libpg_query gives every RawStmt a statement
        statement_block = block
        if isinstance(node, ast.TransactionStmt):
            kind = _transaction_kind(node)
            if kind in ("BEGIN", "START"):
                blocks += 1
                block = blocks
                statement_block = block
            elif kind in ("COMMIT", "ROLLBACK", "COMMIT_PREPARED", "ROLLBACK_PREPARED", "PREPARE"):
                statement_block = block
                block = None
        statements.append(PgStatement(index, strip_leading_comments(text), line, end_line, node, statement_block))
    return statements


def _transaction_kind(node: ast.TransactionStmt) -> str:
    kind = node.kind
    name = getattr(kind, "name", str(kind))
    return str(name).removeprefix("TRANS_STMT_")


def transaction_kind(node: Any) -> str | None:
    """BEGIN, START, COMMIT, ROLLBACK, SAVEPOINT, ... for a TransactionStmt, else None."""
    from pglast import ast

    return _transaction_kind(node) if isinstance(node, ast.TransactionStmt) else None


def _leading_noise(text: str) -> int:
    """Characters of whitespace and comments before the statement proper."""
    i = 0
    while i < len(text):
        if text[i].isspace():
            i += 1
        elif text.startswith("--", i):
            newline = text.find("\n", i)
            i = len(text) if newline < 0 else newline + 1
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = len(text) if end < 0 else end + 2
        else:
            break
    return i


def strip_leading_comments(text: str) -> str:
    """The statement without the blank lines and comments before it."""
    return text[_leading_noise(text) :].strip()


# ------------------------------------------------------------------------------------------- AST helpers


def deparse(node: Any) -> str:
    """The SQL text of a node, as PostgreSQL's own deparser (pglast.stream) prints it."""
    from pglast.stream import RawStream

    return str(RawStream()(node))


def relation_name(rangevar: Any) -> str:
    """'schema.table' or 'table' for a RangeVar."""
    if rangevar is None:
        return ""
    schema = getattr(rangevar, "schemaname", None)
    return f"{schema}.{rangevar.relname}" if schema else str(rangevar.relname)


def type_name(node: Any) -> str:
    """A TypeName as SQL, e.g. 'varchar(20)', 'timestamp with time zone', 'integer[]'."""
    return deparse(node)


# Functions whose result does not change within a statement (immutable or stable): a column added with one as its
# default is filled from the catalog, not by rewriting the table (PostgreSQL 11+, "fast default"). Source:
# pg_proc.provolatile on PostgreSQL 15. Anything not listed is treated as volatile, the safe assumption.
NON_VOLATILE_FUNCTIONS: Final = frozenset(
    {
        "now",
        "transaction_timestamp",
        "statement_timestamp",  # stable
        "current_date",
        "current_time",
        "current_timestamp",
        "localtime",
        "localtimestamp",
        "current_user",
        "session_user",
        "current_schema",
        "current_database",
        "current_setting",
        "lower",
        "upper",
        "coalesce",
        "nullif",
        "greatest",
        "least",
        "to_timestamp",
        "to_date",
        "to_char",
        "make_date",
        "make_interval",
        "make_timestamp",
        "make_timestamptz",
        "date_trunc",
        "jsonb_build_object",
        "json_build_object",
        "jsonb_build_array",
        "json_build_array",
        "array_fill",
        "concat",
        "md5",
        "length",
        "abs",
        "round",
        "trim",
        "replace",
        "substr",
        "substring",
        "inet",
        "uuid_nil",
    }
)


def is_volatile(expr: Any) -> bool:
    """True when evaluating `expr` may give a different value per row (volatile or unknown functions)."""
    if expr is None:
        return False
    finder = _volatile_finder()
    finder.found = False
    finder(expr)
    return bool(finder.found)


@cache
def _volatile_finder() -> Any:
    """One visitor, built once (defining the class per call costs a third of the lint time)."""
    from pglast.visitors import Visitor

    class _Find(Visitor):
        found = False

        def visit_FuncCall(self, _ancestors: Any, node: Any) -> None:
            if str(node.funcname[-1].sval).lower() not in NON_VOLATILE_FUNCTIONS:
                self.found = True

        def visit_SubLink(self, _ancestors: Any, _node: Any) -> None:
            self.found = True

    return _Find()
