"""Inline suppression of migration-lint findings: `-- dbspecialist:ignore MIG001, MIG010` (or `ignore all`).

A directive silences the rules it names for one statement. It is written either on the statement's first line
(a trailing comment) or on its own line directly above the statement; further comment-only lines may sit between
the directive and the statement, a blank line may not. Rules are named by id (`MIG001`) or by name
(`create-index-blocks-writes`); `all` silences every rule. Text after the list (a reason) is ignored:
`-- dbspecialist:ignore MIG020 the column was unused since release 41`.

The scanner follows the dialect's quoting ('...', "...", E'...' and $tag$...$tag$ with nested /* */ in PostgreSQL;
backslash escapes, `...` and `#` comments in MySQL/MariaDB), so a directive inside a string literal is not one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from dbspecialist.knowledge.findings import Finding

DIRECTIVE: Final = "dbspecialist:ignore"
ALL: Final = "all"

_DIRECTIVE = re.compile(r"dbspecialist:ignore(?![\w-])", re.IGNORECASE)
_ITEM = re.compile(r"[\s,]*([A-Za-z][A-Za-z0-9_-]*)")
_RULE_ID = re.compile(r"^[A-Za-z]{2,}\d{3}$")
_RULE_NAME = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)+$")
# Positions where the scanner's state can change, per dialect family.
_INTERESTING_PG = re.compile(r"--|/\*|'|\"|\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$|\n")
_INTERESTING_MYSQL = re.compile(r"--|/\*|#|'|\"|`|\n")
_INTERESTING_SQLITE = re.compile(r"--|/\*|'|\"|`|\[|\n")
_MYSQL = frozenset({"mysql", "mariadb"})


@dataclass(frozen=True)
class Suppression:
    """One directive: the code line it applies to, the line it is written on, and what it silences."""

    line: int  # 1-based line of the statement it silences (its first line)
    comment_line: int
    rules: frozenset[str]  # rule ids upper-cased, rule names lower-cased
    everything: bool = False

    def covers(self, finding: Finding) -> bool:
        return self.everything or finding.rule_id.upper() in self.rules or finding.name.lower() in self.rules


@dataclass(frozen=True)
class _Comment:
    start_line: int
    end_line: int
    body: str


def parse_directive(body: str) -> tuple[frozenset[str], bool] | None:
    """(rules, everything) named by a comment body, or None when it holds no directive."""
    match = _DIRECTIVE.search(body)
    if match is None:
        return None
    rest = body[match.end() :]
    if rest and not rest[0].isspace():
        return None
    rules: set[str] = set()
    everything = False
    position = 0
    while True:
        item = _ITEM.match(rest, position)
        if item is None:
            break
        word = item.group(1)
        if word.lower() == ALL:
            everything = True
        elif _RULE_ID.match(word):
            rules.add(word.upper())
        elif _RULE_NAME.match(word):
            rules.add(word)
        else:
            break
        position = item.end()
    if not rules and not everything:
        return None
    return frozenset(rules), everything


def _scan(text: str, dialect: str) -> tuple[list[_Comment], set[int]]:
    """The comments of `text` and the 1-based lines holding code (anything that is not a comment or blank)."""
    mysql = dialect in _MYSQL
    interesting = _INTERESTING_MYSQL if mysql else _INTERESTING_SQLITE if dialect == "sqlite" else _INTERESTING_PG
    comments: list[_Comment] = []
    code_lines: set[int] = set()
    line = 1
    position = 0
    size = len(text)

    def mark_code(start: int, end: int, first_line: int) -> None:
        for offset, part in enumerate(text[start:end].split("\n")):
            if part.strip():
                code_lines.add(first_line + offset)

    while position < size:
        match = interesting.search(text, position)
        if match is None:
            mark_code(position, size, line)
            break
        token = match.group()
        start = match.start()
        mark_code(position, start, line)
        if token == "\n":
            line += 1
            position = match.end()
            continue
        if token in ("--", "#"):
            if mysql and token == "--" and text[start + 2 : start + 3] not in ("", " ", "\t", "\n", "\r"):
                code_lines.add(line)  # MySQL: `--` starts a comment only when followed by a blank
                position = match.end()
                continue
            newline = text.find("\n", start)
            end = size if newline < 0 else newline
            comments.append(_Comment(line, line, text[start + len(token) : end]))
            position = end
            continue
        if token == "/*":
            end = _block_comment_end(text, start, nested=not mysql and dialect != "sqlite")
            end_line = line + text.count("\n", start, end)
            comments.append(_Comment(line, end_line, text[start + 2 : max(start + 2, end - 2)]))
            line = end_line
            position = end
            continue
        closing = "]" if token == "[" else token
        backslashes = token == "'" and (mysql or _escape_string(text, start))
        end = _quoted_end(text, match.end(), closing, backslashes=backslashes)
        end_line = line + text.count("\n", start, end)
        code_lines.update(range(line, end_line + 1))
        line = end_line
        position = end
    return comments, code_lines


def _escape_string(text: str, quote: int) -> bool:
    """PostgreSQL E'...' strings take backslash escapes; a plain '...' does not."""
    if quote == 0 or text[quote - 1] not in "Ee":
        return False
    return quote < 2 or not (text[quote - 2].isalnum() or text[quote - 2] == "_")


def _block_comment_end(text: str, start: int, *, nested: bool) -> int:
    """Index just past the `*/` closing the comment opened at `start` (PostgreSQL nests block comments)."""
    depth = 1
    position = start + 2
    while True:
        closing = text.find("*/", position)
        if closing < 0:
            return len(text)
        opening = text.find("/*", position) if nested else -1
        if 0 <= opening < closing:
            depth += 1
            position = opening + 2
            continue
        depth -= 1
        position = closing + 2
        if depth == 0:
            return position


def _quoted_end(text: str, position: int, closing: str, *, backslashes: bool) -> int:
    """Index just past the quote closing a literal opened before `position` (a doubled quote is an escape)."""
    while True:
        found = text.find(closing, position)
        if found < 0:
            return len(text)
        if backslashes and _backslash_escaped(text, found, position):
            position = found + 1
            continue
        if len(closing) == 1 and closing != "]" and text.startswith(closing, found + 1):
            position = found + 2
            continue
        return found + len(closing)


def _backslash_escaped(text: str, index: int, floor: int) -> bool:
    """True when an odd run of backslashes (after `floor`) precedes text[index]."""
    count = 0
    position = index - 1
    while position >= floor and text[position] == "\\":
        count += 1
        position -= 1
    return count % 2 == 1


def suppressions(text: str, dialect: str = "postgres") -> list[Suppression]:
    """Every directive in `text` with the code line it applies to (directives with no statement below are dropped)."""
    if DIRECTIVE not in text.lower():
        return []
    comments, code_lines = _scan(text, dialect)
    comment_lines: set[int] = set()
    for comment in comments:
        comment_lines.update(range(comment.start_line, comment.end_line + 1))
    last_line = text.count("\n") + 1
    found: list[Suppression] = []
    for comment in comments:
        parsed = parse_directive(comment.body)
        if parsed is None:
            continue
        rules, everything = parsed
        if comment.start_line in code_lines:
            target: int | None = comment.start_line
        else:
            target = _next_code_line(comment.end_line, code_lines, comment_lines, last_line)
        if target is not None:
            found.append(Suppression(target, comment.start_line, rules, everything))
    return found


def _next_code_line(after: int, code_lines: set[int], comment_lines: set[int], last_line: int) -> int | None:
    """The first code line below `after`, if only comment lines lie between (a blank line ends the search)."""
    for number in range(after + 1, last_line + 1):
        if number in code_lines:
            return number
        if number not in comment_lines:
            return None
    return None


def suppressions_by_line(text: str, dialect: str = "postgres") -> dict[int, list[Suppression]]:
    """The directives of `text` grouped by the statement line they silence."""
    grouped: dict[int, list[Suppression]] = {}
    for suppression in suppressions(text, dialect):
        grouped.setdefault(suppression.line, []).append(suppression)
    return grouped


def apply_suppressions(findings: Iterable[Finding], text: str, dialect: str = "postgres") -> tuple[list[Finding], int]:
    """(findings not silenced, how many were silenced) for findings whose `line` is a statement's first line."""
    kept = list(findings)
    by_line = suppressions_by_line(text, dialect)
    if not by_line:
        return kept, 0
    remaining: list[Finding] = []
    silenced = 0
    for finding in kept:
        directives = by_line.get(finding.line) if finding.line is not None else None
        if directives and any(directive.covers(finding) for directive in directives):
            silenced += 1
        else:
            remaining.append(finding)
    return remaining, silenced
