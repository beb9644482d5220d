"""MySQL/MariaDB text: a tokenizer of our own, statement splitting (quotes, comments, the client's DELIMITER
command) and identifier quoting.

A parenthesised part is one `group` token holding its raw text, so the statement parser (mysql_statements.py) reads
ALTER TABLE specifications, column definitions and index column lists level by level.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from dbspecialist.knowledge.sql_text import quote_ident

TokKind = Literal["word", "string", "ident", "group", "punct", "number"]


@dataclass(frozen=True)
class Tok:
    kind: TokKind
    text: str
    start: int
    end: int

    @property
    def upper(self) -> str:
        return self.text.upper() if self.kind == "word" else ""

    @property
    def name(self) -> str:
        """The identifier it spells (backticks and quotes removed)."""
        if self.kind == "ident":
            return self.text[1:-1].replace("``", "`")
        if self.kind == "string":
            return self.text[1:-1]
        return self.text


class SqlSyntaxError(ValueError):
    """Text the tokenizer cannot read (an unterminated quote, comment or parenthesis)."""


_WORD = re.compile(r"[A-Za-z0-9_$@]+")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?![A-Za-z_$])")


def _skip_quoted(text: str, i: int) -> int:
    quote = text[i]
    j = i + 1
    while j < len(text):
        ch = text[j]
        if ch == "\\" and quote != "`":
            j += 2
            continue
        if ch == quote:
            if j + 1 < len(text) and text[j + 1] == quote:
                j += 2
                continue
            return j + 1
        j += 1
    raise SqlSyntaxError(f"unterminated {quote} quote")


def _skip_comment(text: str, i: int) -> int | None:
    """End of a comment starting at i, or None when there is none."""
    if text.startswith("--", i) and (i + 2 >= len(text) or text[i + 2] in " \t\r\n"):
        end = text.find("\n", i)
        return len(text) if end < 0 else end + 1
    if text[i] == "#":
        end = text.find("\n", i)
        return len(text) if end < 0 else end + 1
    if text.startswith("/*", i):
        end = text.find("*/", i + 2)
        if end < 0:
            raise SqlSyntaxError("unterminated /* comment")
        return end + 2
    return None


def _starts_number(text: str, i: int, tokens: list[Tok]) -> bool:
    if text[i] == "-":  # a sign only after an operator or keyword (DEFAULT -1), never after a value (a-1)
        return bool(_NUMBER.match(text, i)) and (not tokens or tokens[-1].kind in ("punct", "word"))
    return text[i].isdigit() and bool(_NUMBER.match(text, i))


def tokenize(text: str) -> list[Tok]:
    """Top-level tokens; a parenthesised part is one `group` token holding its raw text."""
    tokens: list[Tok] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        comment_end = _skip_comment(text, i)
        if comment_end is not None:
            i = comment_end
            continue
        if ch in "'\"`":
            end = _skip_quoted(text, i)
            tokens.append(Tok("ident" if ch == "`" else "string", text[i:end], i, end))
            i = end
        elif ch == "(":
            depth, j = 0, i
            while j < len(text):
                c = text[j]
                if c in "'\"`":
                    j = _skip_quoted(text, j)
                    continue
                skipped = _skip_comment(text, j)
                if skipped is not None:
                    j = skipped
                    continue
                depth += c == "("
                depth -= c == ")"
                j += 1
                if depth == 0:
                    break
            if depth:
                raise SqlSyntaxError("unbalanced parenthesis")
            tokens.append(Tok("group", text[i:j], i, j))
            i = j
        elif _starts_number(text, i, tokens):
            match = _NUMBER.match(text, i)
            assert match is not None
            tokens.append(Tok("number", match.group(), i, match.end()))
            i = match.end()
        elif _WORD.match(text, i):
            match = _WORD.match(text, i)
            assert match is not None
            tokens.append(Tok("word", match.group(), i, match.end()))
            i = match.end()
        else:
            tokens.append(Tok("punct", ch, i, i + 1))
            i += 1
    return tokens


def split_top(tokens: list[Tok], separator: str = ",") -> list[list[Tok]]:
    parts: list[list[Tok]] = [[]]
    for tok in tokens:
        if tok.kind == "punct" and tok.text == separator:
            parts.append([])
        else:
            parts[-1].append(tok)
    return [part for part in parts if part]


def group_items(group: Tok) -> list[list[Tok]]:
    """The comma-separated items inside a `(...)` group."""
    return split_top(tokenize(group.text[1:-1]))


# ----------------------------------------------------------------------------------------------- statements


@dataclass(frozen=True)
class Statement:
    text: str  # without the terminating delimiter
    line: int  # 1-based line of its first token in the whole input


def split_statements(sql: str) -> list[Statement]:
    """Statements in order, honouring quotes, comments and the mysql client's DELIMITER command."""
    statements: list[Statement] = []
    delimiter = ";"
    i = 0
    first: int | None = None
    line = 1
    line_at_first = 1

    def flush(end: int) -> None:
        nonlocal first
        if first is not None:
            body = sql[first:end].strip()
            if body:
                statements.append(Statement(body, line_at_first))
        first = None

    while i < len(sql):
        ch = sql[i]
        if first is None and sql.startswith(("DELIMITER ", "delimiter "), i) and (i == 0 or sql[i - 1] == "\n"):
            end = sql.find("\n", i)
            end = len(sql) if end < 0 else end
            delimiter = sql[i + len("DELIMITER ") : end].strip() or ";"
            i = end
            continue
        if ch == "\n":
            line += 1
            i += 1
            continue
        if ch.isspace():
            i += 1
            continue
        comment_end = _skip_comment(sql, i)
        if comment_end is not None:
            line += sql.count("\n", i, comment_end)
            i = comment_end
            continue
        if sql.startswith(delimiter, i):
            flush(i)
            i += len(delimiter)
            continue
        if first is None:
            first, line_at_first = i, line
        if ch in "'\"`":
            end = _skip_quoted(sql, i)
            line += sql.count("\n", i, end)
            i = end
            continue
        i += 1
    flush(len(sql))
    return statements


def quote(name: str) -> str:
    """A (possibly qualified) MySQL identifier, quoted only when needed."""
    return ".".join(quote_ident(part, "mysql") for part in name.split("."))


def short_name(table: str) -> str:
    return table.rsplit(".", 1)[-1]
