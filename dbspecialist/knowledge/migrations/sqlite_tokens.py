"""Token helpers shared by the SQLite statement and ALTER TABLE clause readers (sqlglot's tokenizer underneath)."""

from __future__ import annotations

from typing import Final

from sqlglot.tokens import Token, TokenType  # type: ignore[attr-defined]

NON_WORDS: Final = frozenset({TokenType.IDENTIFIER, TokenType.STRING, TokenType.HEX_STRING, TokenType.NUMBER})


class ReadError(ValueError):
    """A statement or clause does not have the shape the reader expects."""


def token_word(tok: Token) -> str:
    """A keyword-like token in upper case with single spaces ('PRIMARY KEY'); '' for names, strings, numbers."""
    if tok.token_type in NON_WORDS:
        return ""
    return " ".join(tok.text.upper().split())


def accept(tokens: list[Token], i: int, phrase: str) -> int | None:
    """The index after `phrase` when the tokens at `i` spell it (multi-word tokens count word by word)."""
    want = phrase.split()
    j = i
    while want:
        if j >= len(tokens):
            return None
        got = token_word(tokens[j]).split()
        if not got or want[: len(got)] != got:
            return None
        want = want[len(got) :]
        j += 1
    return j


def closing(tokens: list[Token], open_index: int) -> int:
    depth = 0
    for j in range(open_index, len(tokens)):
        kind = tokens[j].token_type
        if kind == TokenType.L_PAREN:
            depth += 1
        elif kind == TokenType.R_PAREN:
            depth -= 1
            if depth == 0:
                return j
    raise ReadError("unbalanced parentheses")


def read_name(tokens: list[Token], i: int) -> tuple[str, int]:
    """An identifier (or `schema.name`, returning the name) at `i`, and the index after it."""
    if i >= len(tokens) or tokens[i].token_type in (TokenType.L_PAREN, TokenType.R_PAREN, TokenType.COMMA):
        raise ReadError("a name is missing")
    name, j = tokens[i].text, i + 1
    if j + 1 < len(tokens) and tokens[j].token_type == TokenType.DOT:
        name, j = tokens[j + 1].text, j + 2
    return name, j


def read_name_list(tokens: list[Token], i: int) -> tuple[tuple[str, ...], int]:
    """`(a, b DESC, ...)` at `i`: the names (ordering words dropped) and the index after the parenthesis."""
    if i >= len(tokens) or tokens[i].token_type != TokenType.L_PAREN:
        raise ReadError("a parenthesised column list is missing")
    end = closing(tokens, i)
    names: list[str] = []
    expect_name = True
    for tok in tokens[i + 1 : end]:
        if tok.token_type == TokenType.COMMA:
            expect_name = True
        elif expect_name:
            names.append(tok.text)
            expect_name = False
    return tuple(names), end + 1


def raw_text(source: str, tokens: list[Token], lo: int, hi: int) -> str:
    """The source text of tokens[lo:hi] (comments inside are kept)."""
    if lo >= hi:
        return ""
    return source[tokens[lo].start : tokens[hi - 1].end + 1]
