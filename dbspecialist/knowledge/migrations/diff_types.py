"""Schema diff: type spellings and expressions normalised so that equal meanings compare equal."""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any, Final

DIALECTS: Final[dict[str, str]] = {
    "postgres": "postgres",
    "postgresql": "postgres",
    "mysql": "mysql",
    "mariadb": "mysql",
    "sqlite": "sqlite",
}
ENGINES: Final[dict[str, str]] = {"postgres": "postgresql", "mysql": "mysql", "sqlite": "sqlite"}
DEFAULT_SCHEMA: Final[dict[str, str | None]] = {"postgres": "public", "mysql": None, "sqlite": "main"}
TABLE_KINDS: Final = frozenset({"table", "partitioned_table"})
SQLITE_OPTIONS: Final = ("autoincrement", "strict", "without_rowid")


def _synonyms(groups: dict[str, tuple[str, ...]]) -> dict[str, str]:
    return {spelling: canonical for canonical, spellings in groups.items() for spelling in (canonical, *spellings)}


# Type spellings → one canonical spelling per meaning: format_type()'s for PostgreSQL (and SQLite), MySQL's own.
PG_TYPES: Final = _synonyms(
    {
        "integer": ("int", "int4", "serial", "serial4"),
        "smallint": ("int2", "smallserial", "serial2"),
        "bigint": ("int8", "bigserial", "serial8"),
        "real": ("float4",),
        "double precision": ("float8", "float", "double"),
        "boolean": ("bool",),
        "character varying": ("varchar",),
        "character": ("char", "bpchar"),
        "numeric": ("decimal",),
        "bit varying": ("varbit",),
        "timestamp without time zone": ("timestamp",),
        "timestamp with time zone": ("timestamptz",),
        "time without time zone": ("time",),
        "time with time zone": ("timetz",),
    }
)
MYSQL_TYPES: Final = _synonyms(
    {
        "int": ("integer",),
        "tinyint(1)": ("bool", "boolean"),
        "varchar": ("character varying",),
        "char": ("character",),
        "decimal": ("dec", "numeric", "fixed"),
        "double": ("double precision", "real"),
    }
)
MYSQL_INTEGERS: Final = frozenset({"int", "tinyint", "smallint", "mediumint", "bigint"})
ZONED: Final = re.compile(r"^(timestamp|time)( with(?:out)? time zone)$")
_TOKENS: Final = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|`(?:[^`]|``)*`|\s+|.", re.DOTALL)
_NUMBER: Final = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$", re.IGNORECASE)
PLAIN_NAME: Final = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")
_CAST: Final = re.compile(
    r"::(?:character varying|double precision|bit varying|(?:timestamp|time)(?:\(\d+\))? with(?:out)? time zone"
    r"|[a-z_][a-z0-9_.]*)(?:\(\d+(?:,\d+)?\))?(?:\[\])*"
)
ORDERING: Final = re.compile(r"\s+(?:(asc|desc)\b)?\s*(?:nulls\s+(first|last))?\s*$", re.IGNORECASE)
OPCLASS: Final = re.compile(r"^(.+?)\s+([A-Za-z_][A-Za-z0-9_.]*_ops)$")
NEXTVAL: Final = re.compile(r"^nextval\('(?:[^'.]*\.)?\"?([^'\"]+)\"?'(?:::regclass)?\)$", re.IGNORECASE)
SERIALS: Final[dict[str, str]] = {"integer": "serial", "bigint": "bigserial", "smallint": "smallserial"}
_NOW: Final = re.compile(r"\b(?:now\(\)|current_timestamp\(\)|localtimestamp(?:\(\))?|localtime(?:\(\))?)")


# --------------------------------------------------------------------------- normalising


def lower_outside_quotes(text: str) -> str:
    """Lower-case everything but string literals; quoted identifiers lose their quotes; whitespace runs → one space."""
    out = []
    for token in _TOKENS.findall(text):
        if token.startswith("'"):
            out.append(token)
        elif token[0] in '"`':
            out.append(token[1:-1])
        elif token.isspace():
            out.append(" ")
        else:
            out.append(token.lower())
    return "".join(out).strip()


def strip_outer_parens(text: str) -> str:
    """`((a > 0))` → `a > 0`; `(a) + (b)` is left alone."""
    text = text.strip()
    while text.startswith("(") and text.endswith(")") and _closing_paren(text, 0) == len(text) - 1:
        text = text[1:-1].strip()
    return text


def _closing_paren(text: str, start: int) -> int:
    depth = 0
    position = start
    for token in _TOKENS.findall(text[start:]):
        if token == "(":
            depth += 1
        elif token == ")":
            depth -= 1
            if depth == 0:
                return position
        position += len(token)
    return -1


@lru_cache(maxsize=4096)
def text_expr(expr: str) -> str:
    """A spelling-independent form of an expression for MySQL and SQLite (and PostgreSQL's fallback)."""
    text = lower_outside_quotes(expr)
    text = re.sub(r"\s*([(),=<>+*/|%-])\s*", r"\1", text)
    text = _CAST.sub("", text)
    text = _NOW.sub("current_timestamp", text)
    text = re.sub(r"'([+-]?\d+(?:\.\d+)?)'", r"\1", text)
    previous = None
    while previous != text:
        previous = text
        text = strip_outer_parens(text)
        text = re.sub(r"(?<![\w$])\(([a-z_][a-z0-9_$.]*|'(?:[^']|'')*'|[+-]?\d+(?:\.\d+)?)\)", r"\1", text)
    return text


@lru_cache(maxsize=4096)
def pg_expr(expr: str) -> str:
    """PostgreSQL: the parse tree without locations, implicit casts on constants and columns, or schema prefixes."""
    from pglast import parser

    try:
        tree = json.loads(parser.parse_sql_json(f"SELECT {expr}"))
        select = tree["stmts"][0]["stmt"]["SelectStmt"]
    except Exception:
        return text_expr(expr)
    if len(tree["stmts"]) != 1 or set(select) - {"targetList", "limitOption", "op"}:
        return text_expr(expr)
    targets = [_clean_pg(item["ResTarget"]) for item in select["targetList"]]
    return json.dumps(targets, sort_keys=True)


def _clean_pg(node: Any) -> Any:
    if isinstance(node, list):
        return [_clean_pg(item) for item in node]
    if not isinstance(node, dict):
        return node
    if "TypeCast" in node and len(node) == 1:
        arg = node["TypeCast"].get("arg", {})
        if isinstance(arg, dict) and ("A_Const" in arg or "ColumnRef" in arg):
            return _clean_pg(arg)
    if "A_Const" in node and len(node) == 1:
        return {"const": _pg_const(node["A_Const"])}
    cleaned = {key: _clean_pg(value) for key, value in node.items() if key not in ("location", "funcformat")}
    call = cleaned.get("FuncCall")
    if isinstance(call, dict):
        names = [part.get("String", {}).get("sval") for part in call.get("funcname", [])]
        if len(names) > 1 and names[0] == "pg_catalog":
            call["funcname"] = call["funcname"][1:]
            names = names[1:]
        args = call.get("args") or []
        if names == ["nextval"] and args and isinstance(args[0], dict) and "const" in args[0]:
            args[0] = {"const": str(args[0]["const"]).rsplit(".", 1)[-1].strip('"')}
    return cleaned


def _pg_const(const: dict[str, Any]) -> str | None:
    if const.get("isnull"):
        return None
    for kind in ("ival", "fval", "sval", "boolval", "bsval"):
        if kind in const:
            value = const[kind].get(kind, 0 if kind == "ival" else False)
            text = str(value).lower() if kind == "boolval" else str(value)
            return text.lstrip("+") if _NUMBER.match(text) else text
    return json.dumps(const, sort_keys=True)
