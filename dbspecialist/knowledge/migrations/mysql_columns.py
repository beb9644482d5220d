"""MySQL/MariaDB column definitions: the type (name, parameters, signedness) and the attributes of a column as
written in CREATE/ALTER TABLE, or as the shared catalog describes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from dbspecialist.adapters.catalog import Column
from dbspecialist.knowledge.migrations.mysql_tokens import SqlSyntaxError, Tok, group_items, tokenize

INT_RANK: Final[dict[str, int]] = {"TINYINT": 1, "SMALLINT": 2, "MEDIUMINT": 3, "INT": 4, "INTEGER": 4, "BIGINT": 5}
_TYPE_ALIASES: Final[dict[str, str]] = {"INTEGER": "INT", "BOOL": "TINYINT", "BOOLEAN": "TINYINT", "CHARSET": ""}
TEXT_TYPES: Final = frozenset(
    {"CHAR", "VARCHAR", "TINYTEXT", "TEXT", "MEDIUMTEXT", "LONGTEXT", "ENUM", "SET", "NCHAR", "NVARCHAR"}
)


@dataclass(frozen=True)
class ColumnType:
    name: str  # upper case, aliases resolved (INTEGER → INT)
    params: tuple[str, ...] = ()
    unsigned: bool = False

    @property
    def length(self) -> int | None:
        if self.params and self.params[0].isdigit():
            return int(self.params[0])
        return None

    @property
    def members(self) -> tuple[str, ...]:
        return self.params if self.name in ("ENUM", "SET") else ()

    def same_as(self, other: ColumnType) -> bool:
        if self.name != other.name or self.unsigned != other.unsigned:
            return False
        if self.name in INT_RANK:
            return True  # display width is cosmetic
        return self.params == other.params


def parse_type(tokens: list[Tok]) -> tuple[ColumnType, int]:
    """The column type at the start of `tokens` and how many tokens it used."""
    if not tokens or tokens[0].kind != "word":
        raise SqlSyntaxError("a column type was expected")
    name = tokens[0].upper
    used = 1
    if name in ("DOUBLE",) and len(tokens) > 1 and tokens[1].upper == "PRECISION":
        used += 1
    if name in ("NATIONAL",) and len(tokens) > 1:
        name = tokens[1].upper
        used += 1
    name = _TYPE_ALIASES.get(name, name) or name
    params: tuple[str, ...] = ()
    if used < len(tokens) and tokens[used].kind == "group":
        params = tuple(" ".join(t.text for t in item) for item in group_items(tokens[used]))
        used += 1
    unsigned = False
    while used < len(tokens) and tokens[used].upper in ("UNSIGNED", "SIGNED", "ZEROFILL"):
        unsigned = unsigned or tokens[used].upper in ("UNSIGNED", "ZEROFILL")
        used += 1
    return ColumnType(name, params, unsigned), used


@dataclass
class ColumnDef:
    name: str
    type: ColumnType
    type_text: str
    nullable: bool | None = None  # None: not stated (MySQL makes it nullable)
    default: str | None = None
    default_is_expression: bool = False
    auto_increment: bool = False
    generated: str | None = None  # VIRTUAL | STORED
    generated_expr: str | None = None
    charset: str | None = None
    collation: str | None = None
    comment: str | None = None
    position: str | None = None  # FIRST | AFTER `col`
    primary_key: bool = False
    unique: bool = False
    text: str = ""  # the whole definition as written (name first), position included
    body: str = ""  # the definition without the name and the position clause


def parse_column(tokens: list[Tok], source: str) -> ColumnDef:
    """A column definition: name, type and attributes, in MySQL/MariaDB syntax."""
    if not tokens or tokens[0].kind not in ("word", "ident"):
        raise SqlSyntaxError("a column name was expected")
    name = tokens[0].name
    column_type, used = parse_type(tokens[1:])
    type_end = tokens[used].end
    column = ColumnDef(name, column_type, type_text=source[tokens[1].start : type_end])
    i = used + 1
    position_start: int | None = None
    while i < len(tokens):
        tok = tokens[i]
        word = tok.upper
        following = tokens[i + 1] if i + 1 < len(tokens) else None
        if word == "NOT" and following is not None and following.upper == "NULL":
            column.nullable = False
            i += 2
        elif word == "NULL":
            column.nullable = True
            i += 1
        elif word == "DEFAULT" and following is not None:
            i += 1
            value = [tokens[i]]
            if tokens[i].kind == "word" and i + 1 < len(tokens) and tokens[i + 1].kind == "group":
                value.append(tokens[i + 1])
            column.default = source[value[0].start : value[-1].end]
            column.default_is_expression = value[0].kind == "group"
            i += len(value)
        elif word == "AUTO_INCREMENT":
            column.auto_increment = True
            i += 1
        elif word in ("GENERATED", "ALWAYS"):
            i += 1
        elif word == "AS" and following is not None and following.kind == "group":
            column.generated_expr = following.text[1:-1].strip()
            column.generated = "VIRTUAL"
            i += 2
        elif word in ("STORED", "PERSISTENT"):
            column.generated = "STORED"
            i += 1
        elif word == "VIRTUAL":
            column.generated = "VIRTUAL"
            i += 1
        elif word in ("CHARACTER", "CHARSET"):
            i += 2 if word == "CHARACTER" else 1  # CHARACTER SET x | CHARSET x
            if i < len(tokens):
                column.charset = tokens[i].name.lower()
            i += 1
        elif word == "COLLATE" and following is not None:
            column.collation = following.name.lower()
            i += 2
        elif word == "COMMENT" and following is not None:
            column.comment = following.name
            i += 2
        elif word == "PRIMARY":
            column.primary_key = True
            i += 2 if following is not None and following.upper == "KEY" else 1
        elif word == "UNIQUE":
            column.unique = True
            i += 2 if following is not None and following.upper == "KEY" else 1
        elif word == "FIRST":
            position_start = tok.start if position_start is None else position_start
            column.position = "FIRST"
            i += 1
        elif word == "AFTER" and following is not None:
            position_start = tok.start if position_start is None else position_start
            column.position = f"AFTER {following.text}"
            i += 2
        else:
            i += 1
    if column.nullable is None and column.primary_key:
        column.nullable = False
    column.text = source[tokens[0].start : tokens[-1].end]
    body_end = position_start if position_start is not None else tokens[-1].end
    column.body = source[tokens[1].start : body_end].strip()
    if column.charset is None and column.collation:
        column.charset = column.collation.split("_", 1)[0]
    return column


def column_from_catalog(column: Column, flavor: str = "mysql") -> ColumnDef:
    """The catalog's column as a ColumnDef (its type parsed from the catalog's type text).

    A catalog read from DDL infers MySQL 8's default collation (utf8mb4_0900_ai_ci) for a bare character set; MariaDB
    has no such collation, so for MariaDB only the character set is kept.
    """
    tokens = tokenize(column.data_type)
    column_type, _ = parse_type(tokens)
    charset = column.collation.split("_", 1)[0] if column.collation else None
    return ColumnDef(
        name=column.name,
        type=column_type,
        type_text=column.data_type,
        nullable=column.nullable,
        default=column.default,
        auto_increment=column.identity is not None,
        generated=("VIRTUAL" if column.generated else None),
        generated_expr=column.generated,
        charset=charset,
        collation=None if flavor == "mariadb" and "_0900_" in (column.collation or "") else column.collation,
        comment=column.comment,
    )


def definition_body(column: ColumnDef, *, nullable: bool) -> str:
    """The column's definition after its name: type, character set, collation, NULL/NOT NULL and default."""
    parts = [column.type_text]
    if column.charset and column.type.name in TEXT_TYPES:
        parts.append(f"CHARACTER SET {column.charset}")
    if column.collation and column.type.name in TEXT_TYPES:
        parts.append(f"COLLATE {column.collation}")
    parts.append("NULL" if nullable or column.nullable is not False else "NOT NULL")
    if column.default is not None:
        parts.append(f"DEFAULT {column.default}")
    return " ".join(parts)
