"""Parser-level read-only guard: the first of the layers that keep tools from writing.

A statement is accepted only when it parses as exactly one statement of a read kind and
contains nothing that writes, changes session state or touches files. Engines enforce
read-only again underneath (read-only file/transaction, authorizers, timeouts).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Final

from dbspecialist.errors import QueryRefusedError

MAX_STATEMENT_CHARS: Final = 100_000

# PRAGMAs that only read. Those taking a table/index argument may be called with one;
# the others only in their bare, value-reading form (`PRAGMA journal_mode(WAL)` would set it).
SQLITE_PRAGMAS_WITH_ARGUMENT: Final = frozenset(
    {
        "table_info",
        "table_xinfo",
        "index_list",
        "index_info",
        "index_xinfo",
        "foreign_key_list",
        "foreign_key_check",
        "integrity_check",
        "quick_check",
    }
)
SQLITE_PRAGMAS_BARE: Final = SQLITE_PRAGMAS_WITH_ARGUMENT | frozenset(
    {
        "application_id",
        "collation_list",
        "compile_options",
        "database_list",
        "encoding",
        "foreign_keys",
        "freelist_count",
        "function_list",
        "journal_mode",
        "module_list",
        "page_count",
        "page_size",
        "pragma_list",
        "schema_version",
        "table_list",
        "user_version",
        "auto_vacuum",
        "cache_size",
        "synchronous",
    }
)
# Functions with side effects or file access (some exist only in the sqlite3 shell, refused anyway).
SQLITE_DENIED_FUNCTIONS: Final = frozenset(
    {"load_extension", "readfile", "writefile", "edit", "fts3_tokenizer", "sqlite_dbpage", "zipfile"}
)

_PRAGMA_RE = re.compile(
    r"^\s*PRAGMA\s+(?:(?P<schema>\"?\w+\"?)\s*\.\s*)?(?P<name>\w+)\s*(?P<rest>.*?)\s*;?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_PRAGMA_ARG_RE = re.compile(r"^\(\s*(?:'[^']*'|\"[^\"]*\"|\w+)\s*\)$")

logging.getLogger("sqlglot").setLevel(logging.ERROR)


@dataclass(frozen=True)
class Accepted:
    """The statement passed the guard; `kind` is what it is (select, pragma, ...)."""

    kind: str
    sql: str


def _refuse(reason: str) -> QueryRefusedError:
    return QueryRefusedError(f"Refused by the read-only guard: {reason}")


# sqlglot node types that write, lock, or change session/transaction state (shared by the sqlglot guards).
SQLGLOT_WRITE_NODES: Final = (
    "Insert",
    "Update",
    "Delete",
    "Merge",
    "Create",
    "Drop",
    "Alter",
    "Command",
    "Into",
    "Transaction",
    "Commit",
    "Rollback",
    "Set",
)


def first_forbidden(
    root: object, write_nodes: tuple[type, ...], denied_functions: frozenset[str]
) -> tuple[str, str] | None:
    """Walk a sqlglot tree: ("node", KEY) for a writing node, ("function", name) for a denied call."""
    from sqlglot import exp

    assert isinstance(root, exp.Expression)
    for node in root.walk():
        if isinstance(node, write_nodes):
            return "node", node.key.upper()
        if isinstance(node, exp.Func):
            name = (node.name if isinstance(node, exp.Anonymous) else node.sql_name()).lower()
            if name in denied_functions:
                return "function", name
    return None


def sqlglot_write_nodes(*extra: str) -> tuple[type, ...]:
    from sqlglot import exp

    return tuple(getattr(exp, name) for name in (*SQLGLOT_WRITE_NODES, *extra))


def _leading_keyword(sql: str) -> str:
    import sqlglot.tokens

    try:
        tokens = sqlglot.tokens.Tokenizer().tokenize(sql)
    except Exception:
        tokens = []
    words = [t.text.upper() for t in tokens if t.text.strip()]
    return words[0] if words else "the statement"


def _strip_comments(sql: str) -> str:
    import sqlglot.tokens

    try:
        tokens = sqlglot.tokens.Tokenizer().tokenize(sql)
    except Exception:
        return sql.strip()
    return "" if not tokens else sql.strip()


def check_sqlite(sql: str) -> Accepted:
    """Accept exactly one SQLite read statement or raise QueryRefusedError saying why."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import ParseError, TokenError

    if len(sql) > MAX_STATEMENT_CHARS:
        raise _refuse(f"the statement is {len(sql):,} characters; the limit is {MAX_STATEMENT_CHARS:,}")
    if not _strip_comments(sql):
        raise _refuse("the query is empty (only whitespace or comments)")

    pragma = _PRAGMA_RE.match(sql)
    if pragma and not sql.lstrip().startswith("--"):
        return _check_sqlite_pragma(sql, pragma)

    try:
        statements = [s for s in sqlglot.parse(sql, read="sqlite") if s is not None]
    except (ParseError, TokenError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise _refuse(f"the statement could not be parsed as SQLite SQL ({first})") from None
    if not statements:
        raise _refuse("the query is empty")
    if len(statements) > 1:
        raise _refuse(f"{len(statements)} statements were given; send exactly one statement per call")
    root = statements[0]

    if not isinstance(root, exp.Select | exp.SetOperation | exp.Values | exp.Subquery):
        known = (exp.Insert, exp.Update, exp.Delete, exp.Merge, exp.Create, exp.Drop, exp.Alter, exp.Attach)
        keyword = root.key.upper() if isinstance(root, known) else _leading_keyword(sql)
        raise _refuse(
            f"{keyword} is not a read statement; only SELECT, WITH ... SELECT, VALUES and read-only PRAGMAs are allowed"
        )
    forbidden = first_forbidden(root, sqlglot_write_nodes("Attach", "Detach", "Pragma"), SQLITE_DENIED_FUNCTIONS)
    if forbidden and forbidden[0] == "node":
        raise _refuse(f"it contains a {forbidden[1]} clause, which writes or changes state")
    if forbidden:
        raise _refuse(f"function {forbidden[1]}() has side effects or reads files")
    for node in root.find_all(exp.Table):
        if node.name.lower() in SQLITE_DENIED_FUNCTIONS:
            raise _refuse(f"table-valued function {node.name}() has side effects or reads files")
    kind = "select" if not isinstance(root, exp.Values) else "values"
    return Accepted(kind=kind, sql=sql)


def _check_sqlite_pragma(sql: str, match: re.Match[str]) -> Accepted:
    name = match["name"].lower()
    rest = match["rest"].strip()
    if rest.startswith("="):
        raise _refuse(f"PRAGMA {name} = ... changes a setting; only reading PRAGMAs are allowed")
    if ";" in rest:
        raise _refuse("more than one statement was given; send exactly one statement per call")
    if rest:
        if not _PRAGMA_ARG_RE.match(rest):
            raise _refuse(f"PRAGMA {name} with argument {rest!r} is not a recognised read-only form")
        if name not in SQLITE_PRAGMAS_WITH_ARGUMENT:
            raise _refuse(f"PRAGMA {name}(...) sets a value; read it with plain PRAGMA {name}")
    elif name not in SQLITE_PRAGMAS_BARE:
        raise _refuse(f"PRAGMA {name} is not on the read-only allow-list ({', '.join(sorted(SQLITE_PRAGMAS_BARE))})")
    return Accepted(kind="pragma", sql=sql)
