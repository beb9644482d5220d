"""Read-only guard for MySQL and MariaDB: the parser layer under the engine's READ ONLY transaction.

Two views of the text must both accept it. A small lexer that follows the server's own rules
(strings with backslash escapes, `#` and `-- ` comments, executable `/*! */` comments) sees what
the server will run: it refuses executable comments, several statements, session writes (`:=`),
locking clauses, `INTO` and every function on the deny list. sqlglot (dialect "mysql") then
parses the statement and checks its tree. DDL matters most here: in MySQL it commits implicitly,
so a READ ONLY transaction alone would not stop it.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Final

from dbspecialist.adapters.guard import MAX_STATEMENT_CHARS, Accepted, first_forbidden, sqlglot_write_nodes
from dbspecialist.errors import QueryRefusedError

logging.getLogger("sqlglot").setLevel(logging.ERROR)

# First words of the statements a read-only connection accepts.
MYSQL_READ_KEYWORDS: Final = frozenset({"SELECT", "WITH", "VALUES", "TABLE", "SHOW", "DESCRIBE", "DESC", "EXPLAIN"})

# Functions with side effects, file access, locks, waits or server-state changes.
# SLEEP is refused outright: a read tool has no use for it and it holds a pooled connection.
MYSQL_DENIED_FUNCTIONS: Final = frozenset(
    {
        "load_file",
        "sleep",
        "benchmark",
        "get_lock",
        "release_lock",
        "release_all_locks",
        "is_free_lock",
        "is_used_lock",
        "master_pos_wait",
        "source_pos_wait",
        "master_gtid_wait",
        "wait_for_executed_gtid_set",
        "wait_until_sql_thread_after_gtids",
        "sys_exec",
        "sys_eval",
        "sys_get",
        "sys_set",
        "lo_export",
        "nextval",
        "setval",
        "lastval",
    }
)

# Words that never belong in a read statement when they appear as code (not in strings/comments).
_DENIED_WORDS: Final = {
    "INTO": "SELECT ... INTO writes a file or sets variables",
    "OUTFILE": "INTO OUTFILE writes a file on the server",
    "DUMPFILE": "INTO DUMPFILE writes a file on the server",
    "LOCK": "locking reads (LOCK IN SHARE MODE) take row locks",
}
# Optimizer hints that would lift the statement timeout or change session variables.
_DENIED_HINTS_RE: Final = re.compile(r"\b(SET_VAR|MAX_EXECUTION_TIME)\b", re.IGNORECASE)
_WORD_CHARS: Final = re.compile(r"[0-9A-Za-z_$\u0080-\uffff]")


def _refuse(reason: str) -> QueryRefusedError:
    return QueryRefusedError(f"Refused by the read-only guard: {reason}")


@dataclass(frozen=True)
class Token:
    """A code token as the server sees it: kind is word, quoted (backtick), string, number, op or param."""

    kind: str
    text: str
    start: int
    end: int


def lex(sql: str) -> list[Token]:
    """Split `sql` the way the MySQL/MariaDB server does (default sql_mode); comments are dropped.

    Raises QueryRefusedError for executable comments, unterminated strings or comments, and
    `--` not followed by whitespace (the server reads that as two minus signs, not a comment).
    """
    tokens: list[Token] = []
    i, n = 0, len(sql)
    while i < n:
        ch = sql[i]
        if ch in " \t\r\n\f\v":
            i += 1
        elif ch == "#":
            end = sql.find("\n", i)
            i = n if end < 0 else end + 1
        elif sql.startswith("--", i):
            if i + 2 < n and not (sql[i + 2].isspace() or ord(sql[i + 2]) < 32):
                raise _refuse(
                    "'--' followed by a non-space is not a comment in MySQL (it is two minus signs); "
                    "write '-- ' with a space, or '- -' for a double negation"
                )
            end = sql.find("\n", i)
            i = n if end < 0 else end + 1
        elif sql.startswith("/*", i):
            if sql.startswith(("/*!", "/*M!", "/*m!"), i):
                raise _refuse("executable comments (/*! ... */, /*M! ... */) are run by the server and are refused")
            end = sql.find("*/", i + 2)
            if end < 0:
                raise _refuse("a /* comment is not closed")
            body = sql[i + 2 : end]
            if body.startswith("+") and _DENIED_HINTS_RE.search(body):
                raise _refuse("optimizer hints SET_VAR and MAX_EXECUTION_TIME change limits and are refused")
            i = end + 2
        elif ch in "'\"":
            j = i + 1
            while True:
                if j >= n:
                    raise _refuse("a string literal is not closed")
                if sql[j] == "\\":
                    j += 2
                    continue
                if sql[j] == ch:
                    if j + 1 < n and sql[j + 1] == ch:
                        j += 2
                        continue
                    break
                j += 1
            tokens.append(Token("string", sql[i : j + 1], i, j + 1))
            i = j + 1
        elif ch == "`":
            j = i + 1
            while True:
                end = sql.find("`", j)
                if end < 0:
                    raise _refuse("a `quoted` identifier is not closed")
                if end + 1 < n and sql[end + 1] == "`":
                    j = end + 2
                    continue
                break
            tokens.append(Token("quoted", sql[i + 1 : end].replace("``", "`"), i, end + 1))
            i = end + 1
        elif ch == "?":
            tokens.append(Token("param", "?", i, i + 1))
            i += 1
        elif ch == ":" and i + 1 < n and (sql[i + 1].isalpha() or sql[i + 1] == "_"):
            j = i + 1
            while j < n and (sql[j].isalnum() or sql[j] == "_"):
                j += 1
            tokens.append(Token("param", sql[i:j], i, j))
            i = j
        elif _WORD_CHARS.match(ch):
            j = i + 1
            while j < n and _WORD_CHARS.match(sql[j]):
                j += 1
            kind = "number" if ch.isdigit() else "word"
            tokens.append(Token(kind, sql[i:j], i, j))
            i = j
        else:
            two = sql[i : i + 2]
            op = two if two in (":=", "<=", ">=", "<>", "!=", "||", "&&", "<<", ">>", "->") else ch
            tokens.append(Token("op", op, i, i + len(op)))
            i += len(op)
    return tokens


def _check_single(tokens: list[Token]) -> list[Token]:
    """Drop trailing semicolons; refuse a semicolon anywhere else."""
    while tokens and tokens[-1].text == ";":
        tokens = tokens[:-1]
    if not tokens:
        raise _refuse("the query is empty (only whitespace, comments or semicolons)")
    count = 1 + sum(1 for t in tokens if t.text == ";")
    if count > 1:
        raise _refuse(f"{count} statements were given; send exactly one statement per call")
    return tokens


def _scan_code(tokens: list[Token]) -> None:
    """Refuse what the server would run that a read never needs (the server's view of the text)."""
    for pos, tok in enumerate(tokens):
        if tok.kind not in ("word", "quoted", "op"):
            continue
        if tok.text == ":=":
            raise _refuse("':=' assigns a user variable (session state); reads never need it")
        if tok.kind == "op":
            continue
        upper = tok.text.upper()
        if tok.kind == "word" and upper in _DENIED_WORDS:
            raise _refuse(f"{upper}: {_DENIED_WORDS[upper]}")
        nxt = tokens[pos + 1] if pos + 1 < len(tokens) else None
        if tok.kind == "word" and upper == "FOR" and nxt is not None and nxt.text.upper() in ("UPDATE", "SHARE"):
            raise _refuse(f"FOR {nxt.text.upper()} takes row locks; reads do not lock")
        if nxt is not None and nxt.text == "(" and tok.text.lower() in MYSQL_DENIED_FUNCTIONS:
            raise _refuse(f"function {tok.text.upper()}() waits, takes locks, reads files or changes server state")


def split_check(sql: str) -> list[Token]:
    """The checks every connection gets, writable or not: size, executable comments, one statement."""
    if len(sql) > MAX_STATEMENT_CHARS:
        raise _refuse(f"the statement is {len(sql):,} characters; the limit is {MAX_STATEMENT_CHARS:,}")
    return _check_single(lex(sql))


def check_mysql(sql: str) -> Accepted:
    """Accept exactly one MySQL/MariaDB read statement or raise QueryRefusedError saying why."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import ParseError, TokenError

    tokens = split_check(sql)
    first = tokens[0]
    lead = first.text.upper() if first.kind == "word" else first.text
    if lead == "(":
        lead = next((t.text.upper() for t in tokens if t.text != "("), lead)
    if lead not in MYSQL_READ_KEYWORDS:
        raise _refuse(
            f"{lead} is not a read statement; only SELECT, WITH ... SELECT, VALUES, TABLE, SHOW, "
            "DESCRIBE and EXPLAIN are allowed"
        )
    _scan_code(tokens)

    # A bare VALUES list (MariaDB 10.3+, MySQL 8.0.19+ with ROW()) is checked as the derived table it is:
    # sqlglot reads `VALUES (1), (2)` only inside FROM. The server still gets the statement as written.
    body = sql[tokens[0].start : tokens[-1].end]  # without trailing semicolons and comments
    text = f"SELECT * FROM (\n{body}\n) AS _values" if lead == "VALUES" else sql
    try:
        statements = [s for s in sqlglot.parse(text, read="mysql") if s is not None]
    except (ParseError, TokenError) as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise _refuse(f"the statement could not be parsed as MySQL SQL ({detail})") from None
    if len(statements) != 1:
        raise _refuse(f"{len(statements) or 'no'} statements were parsed; send exactly one statement per call")
    root = statements[0]
    kind = "select"
    if isinstance(root, exp.Describe):
        style = str(root.args.get("style") or "").upper()
        if "ANALYZE" in style:
            raise _refuse("EXPLAIN ANALYZE runs the statement; use the explain tool with analyze instead")
        inner = root.this
        if inner is not None and not isinstance(inner, exp.Table | exp.Select | exp.SetOperation | exp.Subquery):
            raise _refuse(f"EXPLAIN of {inner.key.upper()} is not allowed here; explain only read statements")
        kind = "explain"
    elif isinstance(root, exp.Show):
        kind = "show"
    elif isinstance(root, exp.Values) or lead == "VALUES":
        kind = "values"
    elif not isinstance(root, exp.Select | exp.SetOperation | exp.Subquery):
        raise _refuse(f"{root.key.upper()} is not a read statement")

    forbidden = first_forbidden(
        root, sqlglot_write_nodes("Lock", "TruncateTable", "Kill", "PropertyEQ"), MYSQL_DENIED_FUNCTIONS
    )
    if forbidden and forbidden[0] == "node":
        raise _refuse(f"it contains {forbidden[1]}, which writes, locks or changes state")
    if forbidden:
        raise _refuse(f"function {forbidden[1].upper()}() waits, takes locks, reads files or changes server state")
    return Accepted(kind=kind, sql=sql)
