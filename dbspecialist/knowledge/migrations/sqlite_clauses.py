"""Reading SQLite ALTER TABLE clauses and column definitions into `AlterAction` / `ColumnDefinition`.

Types, defaults and CHECK expressions keep their text as written: a type rendered back by sqlglot can change a
column's affinity (NUMERIC becomes REAL), and sqlglot's sqlite dialect does not parse `ADD CHECK`. PostgreSQL-style
clauses (ALTER COLUMN ... TYPE, SET NOT NULL, ADD CONSTRAINT) are read too: the planner turns them into rebuilds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from sqlglot.tokens import Token, TokenType  # type: ignore[attr-defined]

from dbspecialist.adapters.catalog import FKAction, ForeignKey
from dbspecialist.knowledge.migrations.sqlite_tokens import (
    ReadError,
    accept,
    closing,
    raw_text,
    read_name,
    read_name_list,
    token_word,
)

ActionKind = Literal[
    "rename_table",
    "rename_column",
    "add_column",
    "drop_column",
    "alter_type",
    "set_not_null",
    "drop_not_null",
    "set_default",
    "drop_default",
    "add_check",
    "add_unique",
    "add_primary_key",
    "add_foreign_key",
    "drop_constraint",
]

_COLUMN_CONSTRAINT_WORDS: Final = frozenset(
    {"CONSTRAINT", "PRIMARY", "PRIMARY KEY", "NOT", "NULL", "UNIQUE", "CHECK", "DEFAULT", "COLLATE", "REFERENCES"}
    | {"GENERATED", "AS"}
)
_NON_CONSTANT_DEFAULTS: Final = frozenset({"CURRENT_TIME", "CURRENT_DATE", "CURRENT_TIMESTAMP"})
_FK_ACTIONS: Final[dict[str, FKAction]] = {
    "SET NULL": "set null",
    "SET DEFAULT": "set default",
    "CASCADE": "cascade",
    "RESTRICT": "restrict",
    "NO ACTION": "no action",
}


@dataclass(frozen=True)
class ColumnDefinition:
    """A column as written in `ADD COLUMN`, with the parts the ALTER TABLE restrictions care about."""

    name: str
    type_text: str
    text: str
    not_null: bool = False
    default: str | None = None  # SQL text as written; None when absent
    default_constant: bool = True
    primary_key: bool = False
    autoincrement: bool = False
    unique: bool = False
    checks: tuple[str, ...] = ()
    collation: str | None = None
    references: ForeignKey | None = None
    generated: str | None = None
    stored: bool = False

    @property
    def default_is_null(self) -> bool:
        return self.default is None or self.default.strip().upper() == "NULL"


@dataclass(frozen=True)
class AlterAction:
    """One clause of an ALTER TABLE statement (PostgreSQL-style clauses are accepted and planned as rebuilds)."""

    kind: ActionKind
    text: str
    column: str | None = None
    new_name: str | None = None
    type_text: str | None = None
    using: str | None = None
    default: str | None = None
    definition: ColumnDefinition | None = None
    constraint_name: str | None = None
    expression: str | None = None
    columns: tuple[str, ...] = ()
    foreign_key: ForeignKey | None = None


def _skip_conflict(tokens: list[Token], i: int) -> int:
    after = accept(tokens, i, "ON CONFLICT")
    return after + 1 if after is not None else i


def _references(tokens: list[Token], i: int, columns: tuple[str, ...]) -> tuple[ForeignKey, int]:
    """A foreign-key clause starting after REFERENCES."""
    ref_table, j = read_name(tokens, i)
    ref_columns: tuple[str, ...] = ()
    if j < len(tokens) and tokens[j].token_type == TokenType.L_PAREN:
        ref_columns, j = read_name_list(tokens, j)
    actions: dict[str, FKAction] = {}
    deferrable = False
    while j < len(tokens):
        for event in ("DELETE", "UPDATE"):
            after = accept(tokens, j, f"ON {event}")
            if after is not None:
                for spelled, action in _FK_ACTIONS.items():
                    done = accept(tokens, after, spelled)
                    if done is not None:
                        actions[event], j = action, done
                        break
                else:
                    raise ReadError(f"unknown ON {event} action")
                break
        else:
            if accept(tokens, j, "MATCH") is not None:
                j += 2
            elif (after := accept(tokens, j, "NOT DEFERRABLE")) is not None:
                j = after
            elif (after := accept(tokens, j, "DEFERRABLE")) is not None:
                j = after
                for tail in ("INITIALLY DEFERRED", "INITIALLY IMMEDIATE"):
                    done = accept(tokens, j, tail)
                    if done is not None:
                        deferrable = tail.endswith("DEFERRED")
                        j = done
            else:
                break
    fk = ForeignKey(
        columns=list(columns),
        ref_table=ref_table,
        ref_columns=list(ref_columns) or ["<primary key>"],
        on_delete=actions.get("DELETE", "no action"),
        on_update=actions.get("UPDATE", "no action"),
        deferrable=deferrable,
    )
    return fk, j


@dataclass
class DefaultValue:
    text: str | None = None
    constant: bool = True


def read_column_definition(source: str, tokens: list[Token]) -> ColumnDefinition:
    """`name [type] [constraints...]` as SQLite's grammar allows it (SQLite docs, "column-def")."""
    name, i = read_name(tokens, 0)
    type_start = i
    while i < len(tokens) and token_word(tokens[i]) not in _COLUMN_CONSTRAINT_WORDS:
        i = closing(tokens, i) + 1 if tokens[i].token_type == TokenType.L_PAREN else i + 1
    type_text = raw_text(source, tokens, type_start, i)
    flags: set[str] = set()
    default = DefaultValue()
    checks: list[str] = []
    collation: str | None = None
    references: ForeignKey | None = None
    generated: str | None = None
    while i < len(tokens):
        word = token_word(tokens[i])
        if word == "CONSTRAINT":
            i += 2
        elif (after := accept(tokens, i, "PRIMARY KEY")) is not None:
            flags.add("primary_key")
            i = after + (1 if after < len(tokens) and token_word(tokens[after]) in ("ASC", "DESC") else 0)
            i = _skip_conflict(tokens, i)
            if i < len(tokens) and token_word(tokens[i]) == "AUTOINCREMENT":
                flags.add("autoincrement")
                i += 1
        elif (after := accept(tokens, i, "NOT NULL")) is not None:
            flags.add("not_null")
            i = _skip_conflict(tokens, after)
        elif word == "NULL":
            i = _skip_conflict(tokens, i + 1)
        elif word == "UNIQUE":
            flags.add("unique")
            i = _skip_conflict(tokens, i + 1)
        elif word == "CHECK":
            end = closing(tokens, i + 1)
            checks.append(raw_text(source, tokens, i + 2, end))
            i = end + 1
        elif word == "DEFAULT":
            i = read_default(source, tokens, i + 1, default)
        elif word == "COLLATE":
            collation = read_name(tokens, i + 1)[0]
            i += 2
        elif word == "REFERENCES":
            references, i = _references(tokens, i + 1, (name,))
        elif word in ("GENERATED", "AS"):
            after = accept(tokens, i, "GENERATED ALWAYS AS") if word == "GENERATED" else i + 1
            if after is None:
                raise ReadError("expected GENERATED ALWAYS AS (...)")
            end = closing(tokens, after)
            generated = raw_text(source, tokens, after + 1, end)
            i = end + 1
            if i < len(tokens) and token_word(tokens[i]) in ("STORED", "VIRTUAL"):
                if token_word(tokens[i]) == "STORED":
                    flags.add("stored")
                i += 1
        else:
            raise ReadError(f"unexpected {tokens[i].text!r} in the column definition")
    return ColumnDefinition(
        name=name,
        type_text=type_text,
        text=raw_text(source, tokens, 0, len(tokens)),
        not_null="not_null" in flags,
        default=default.text,
        default_constant=default.constant,
        primary_key="primary_key" in flags,
        autoincrement="autoincrement" in flags,
        unique="unique" in flags,
        checks=tuple(checks),
        collation=collation,
        references=references,
        generated=generated,
        stored="stored" in flags,
    )


def read_default(source: str, tokens: list[Token], i: int, default: DefaultValue) -> int:
    if i >= len(tokens):
        raise ReadError("DEFAULT without a value")
    tok = tokens[i]
    if tok.token_type == TokenType.L_PAREN:
        end = closing(tokens, i)
        default.text, default.constant = raw_text(source, tokens, i, end + 1), False
        return end + 1
    if tok.token_type in (TokenType.DASH, TokenType.PLUS) and i + 1 < len(tokens):
        default.text = raw_text(source, tokens, i, i + 2)
        return i + 2
    default.text = raw_text(source, tokens, i, i + 1)
    default.constant = token_word(tok) not in _NON_CONSTANT_DEFAULTS
    return i + 1


def _read_add_constraint(source: str, tokens: list[Token], i: int, name: str | None, text: str) -> AlterAction:
    word = token_word(tokens[i]) if i < len(tokens) else ""
    if word == "CHECK":
        end = closing(tokens, i + 1)
        return AlterAction("add_check", text, constraint_name=name, expression=raw_text(source, tokens, i + 2, end))
    if word == "UNIQUE":
        columns, _ = read_name_list(tokens, i + 1)
        return AlterAction("add_unique", text, constraint_name=name, columns=columns)
    if (after := accept(tokens, i, "PRIMARY KEY")) is not None:
        columns, _ = read_name_list(tokens, after)
        return AlterAction("add_primary_key", text, constraint_name=name, columns=columns)
    if (after := accept(tokens, i, "FOREIGN KEY")) is not None:
        columns, j = read_name_list(tokens, after)
        if accept(tokens, j, "REFERENCES") is None:
            raise ReadError("FOREIGN KEY without REFERENCES")
        fk, _ = _references(tokens, j + 1, columns)
        fk = fk.model_copy(update={"name": name})
        return AlterAction("add_foreign_key", text, constraint_name=name, columns=columns, foreign_key=fk)
    raise ReadError("expected CHECK, UNIQUE, PRIMARY KEY or FOREIGN KEY after ADD CONSTRAINT")


def _read_alter_column(source: str, tokens: list[Token], text: str) -> AlterAction:
    i = 1 + (1 if token_word(tokens[1]) == "COLUMN" else 0)
    column, i = read_name(tokens, i)
    for phrase in ("SET DATA TYPE", "TYPE"):
        after = accept(tokens, i, phrase)
        if after is None:
            continue
        using_at = next((j for j in range(after, len(tokens)) if token_word(tokens[j]) == "USING"), len(tokens))
        type_text = raw_text(source, tokens, after, using_at)
        if not type_text:
            raise ReadError("TYPE without a type")
        using = raw_text(source, tokens, using_at + 1, len(tokens)) or None
        return AlterAction("alter_type", text, column=column, type_text=type_text, using=using)
    simple: dict[str, ActionKind] = {
        "SET NOT NULL": "set_not_null",
        "DROP NOT NULL": "drop_not_null",
        "DROP DEFAULT": "drop_default",
    }
    for phrase, kind in simple.items():
        if accept(tokens, i, phrase) is not None:
            return AlterAction(kind, text, column=column)
    after = accept(tokens, i, "SET DEFAULT")
    if after is not None:
        default = DefaultValue()
        read_default(source, tokens, after, default)
        return AlterAction("set_default", text, column=column, default=default.text)
    raise ReadError("expected TYPE, SET/DROP NOT NULL or SET/DROP DEFAULT after ALTER COLUMN")


def _read_clause(source: str, tokens: list[Token]) -> AlterAction:
    text = raw_text(source, tokens, 0, len(tokens))
    first = token_word(tokens[0])
    if first == "RENAME":
        if accept(tokens, 1, "TO") is not None:
            return AlterAction("rename_table", text, new_name=read_name(tokens, 2)[0])
        i = 1 + (1 if token_word(tokens[1]) == "COLUMN" else 0)
        column, i = read_name(tokens, i)
        if accept(tokens, i, "TO") is None:
            raise ReadError("RENAME COLUMN without TO")
        return AlterAction("rename_column", text, column=column, new_name=read_name(tokens, i + 1)[0])
    if first == "ADD":
        if token_word(tokens[1]) == "CONSTRAINT":
            name, i = read_name(tokens, 2)
            return _read_add_constraint(source, tokens, i, name, text)
        if token_word(tokens[1]) in ("CHECK", "UNIQUE", "PRIMARY KEY", "PRIMARY", "FOREIGN KEY", "FOREIGN"):
            return _read_add_constraint(source, tokens, 1, None, text)
        i = 2 if token_word(tokens[1]) == "COLUMN" else 1
        definition = read_column_definition(source, tokens[i:])
        return AlterAction("add_column", text, column=definition.name, definition=definition)
    if first == "DROP":
        if token_word(tokens[1]) == "CONSTRAINT":
            i = accept(tokens, 2, "IF EXISTS") or 2
            return AlterAction("drop_constraint", text, constraint_name=read_name(tokens, i)[0])
        i = 2 if token_word(tokens[1]) == "COLUMN" else 1
        i = accept(tokens, i, "IF EXISTS") or i
        return AlterAction("drop_column", text, column=read_name(tokens, i)[0])
    if first == "ALTER":
        return _read_alter_column(source, tokens, text)
    raise ReadError(f"unknown ALTER TABLE clause starting with {tokens[0].text!r}")


def split_top_level(tokens: list[Token]) -> list[list[Token]]:
    """The comma-separated parts of a list (commas inside parentheses do not separate); empty parts dropped."""
    clauses: list[list[Token]] = [[]]
    depth = 0
    for tok in tokens:
        if tok.token_type == TokenType.L_PAREN:
            depth += 1
        elif tok.token_type == TokenType.R_PAREN:
            depth -= 1
        if tok.token_type == TokenType.COMMA and depth == 0:
            clauses.append([])
            continue
        clauses[-1].append(tok)
    return [c for c in clauses if c]


def read_alter(source: str, tokens: list[Token]) -> tuple[str | None, tuple[AlterAction, ...], str | None]:
    """(table, actions, error) for an ALTER TABLE statement."""
    try:
        i = accept(tokens, 2, "IF EXISTS") or 2
        i = accept(tokens, i, "ONLY") or i
        table, i = read_name(tokens, i)
    except ReadError as exc:
        return None, (), str(exc)
    if i >= len(tokens):
        return table, (), "ALTER TABLE without a clause"
    try:
        return table, tuple(_read_clause(source, clause) for clause in split_top_level(tokens[i:])), None
    except (ReadError, IndexError) as exc:
        reason = str(exc) if isinstance(exc, ReadError) else "the clause ends too early"
        return table, (), reason
