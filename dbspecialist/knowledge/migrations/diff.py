"""Two schemas → the DDL that turns the current one into the target, in a safe order.

`diff_schemas(current, target, dialect)` compares two shared `Catalog`s (from `parse_ddl` or a live adapter's
`introspect()`) and returns statements for PostgreSQL, MySQL/MariaDB or SQLite, always in this order:

1. prerequisites (PostgreSQL: missing extensions and stand-alone sequences);
2. new tables, as the target defines them, referenced tables first (each followed by its indexes; a foreign key
   closing a cycle is added after the tables);
3. new columns;
4. changed columns (type, default, nullability, identity; MySQL: one MODIFY COLUMN with the full definition);
   on SQLite, whose ALTER TABLE only adds and drops plain columns, the table rebuild of the SQLite docs
   ("Making Other Kinds Of Table Schema Changes": foreign keys off, one transaction, new_X, copy, drop, rename,
   indexes and triggers back, foreign_key_check);
5. new or changed indexes, then primary keys, UNIQUE, CHECK and foreign keys (a changed object is dropped and
   re-created at this point, so that its name is free; one that only changed name is renamed);
6. drops, last: foreign keys, indexes, other constraints, columns, tables, sequences.

PostgreSQL indexes are written as plain `CREATE INDEX`: the planner decides on CONCURRENTLY. Renames cannot be told
from two schemas: a column that disappears while another of the same type appears is a drop plus an add (the
planner warns about it). Views, triggers, comments, privileges, enum and domain types and the objects a partition
or inheritance child takes from its parent are not compared. Names compare as the engine compares them: exactly
on PostgreSQL (the catalog holds the folded names), case-insensitively for columns, indexes and constraints on
MySQL (tables exactly first, then ignoring case) and for everything on SQLite. Types compare by meaning, not
spelling (`int4` = `integer`, `varchar(10)` = `character varying(10)`, `bool` = `boolean`; MySQL display widths,
`tinyint(1)` and MariaDB's JSON-as-LONGTEXT are read back), and expressions (defaults, CHECK, generated columns,
index columns and predicates) by their parse tree on PostgreSQL and by a normalised text elsewhere, so that a live
catalog (`'x'::text`, `(age > 0)`, `nextval('app.t_id_seq'::regclass)`) equals the DDL it was created from.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Final, TypeVar

from dbspecialist.adapters.catalog import (
    Catalog,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    PrimaryKey,
    Table,
    UniqueConstraint,
)
from dbspecialist.knowledge.sql_text import quote_ident

__all__ = ["diff_schemas"]

_DIALECTS: Final[dict[str, str]] = {
    "postgres": "postgres",
    "postgresql": "postgres",
    "mysql": "mysql",
    "mariadb": "mysql",
    "sqlite": "sqlite",
}
_ENGINES: Final[dict[str, str]] = {"postgres": "postgresql", "mysql": "mysql", "sqlite": "sqlite"}
_DEFAULT_SCHEMA: Final[dict[str, str | None]] = {"postgres": "public", "mysql": None, "sqlite": "main"}
_TABLE_KINDS: Final = frozenset({"table", "partitioned_table"})
_SQLITE_OPTIONS: Final = ("autoincrement", "strict", "without_rowid")


def _synonyms(groups: dict[str, tuple[str, ...]]) -> dict[str, str]:
    return {spelling: canonical for canonical, spellings in groups.items() for spelling in (canonical, *spellings)}


# Type spellings → one canonical spelling per meaning: format_type()'s for PostgreSQL (and SQLite), MySQL's own.
_PG_TYPES: Final = _synonyms(
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
_MYSQL_TYPES: Final = _synonyms(
    {
        "int": ("integer",),
        "tinyint(1)": ("bool", "boolean"),
        "varchar": ("character varying",),
        "char": ("character",),
        "decimal": ("dec", "numeric", "fixed"),
        "double": ("double precision", "real"),
    }
)
_MYSQL_INTEGERS: Final = frozenset({"int", "tinyint", "smallint", "mediumint", "bigint"})
_ZONED: Final = re.compile(r"^(timestamp|time)( with(?:out)? time zone)$")
_TOKENS: Final = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|`(?:[^`]|``)*`|\s+|.", re.DOTALL)
_NUMBER: Final = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$", re.IGNORECASE)
_PLAIN_NAME: Final = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")
_CAST: Final = re.compile(
    r"::(?:character varying|double precision|bit varying|(?:timestamp|time)(?:\(\d+\))? with(?:out)? time zone"
    r"|[a-z_][a-z0-9_.]*)(?:\(\d+(?:,\d+)?\))?(?:\[\])*"
)
_ORDERING: Final = re.compile(r"\s+(?:(asc|desc)\b)?\s*(?:nulls\s+(first|last))?\s*$", re.IGNORECASE)
_OPCLASS: Final = re.compile(r"^(.+?)\s+([A-Za-z_][A-Za-z0-9_.]*_ops)$")
_NEXTVAL: Final = re.compile(r"^nextval\('(?:[^'.]*\.)?\"?([^'\"]+)\"?'(?:::regclass)?\)$", re.IGNORECASE)
_SERIALS: Final[dict[str, str]] = {"integer": "serial", "bigint": "bigserial", "smallint": "smallserial"}
_NOW: Final = re.compile(r"\b(?:now\(\)|current_timestamp\(\)|localtimestamp(?:\(\))?|localtime(?:\(\))?)")

T = TypeVar("T")


def diff_schemas(current: Catalog, target: Catalog, dialect: str) -> list[str]:
    """The statements (no trailing `;`) that turn `current` into `target`, in a safe order; [] when they match."""
    canonical = _DIALECTS.get(dialect.strip().lower())
    if canonical is None:
        raise ValueError(f"unknown dialect {dialect!r} for a schema diff; accepted: {', '.join(_DIALECTS)}")
    return _Differ(current, target, canonical).run()


# --------------------------------------------------------------------------- normalising


def _lower_outside_quotes(text: str) -> str:
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


def _strip_outer_parens(text: str) -> str:
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
def _text_expr(expr: str) -> str:
    """A spelling-independent form of an expression for MySQL and SQLite (and PostgreSQL's fallback)."""
    text = _lower_outside_quotes(expr)
    text = re.sub(r"\s*([(),=<>+*/|%-])\s*", r"\1", text)
    text = _CAST.sub("", text)
    text = _NOW.sub("current_timestamp", text)
    text = re.sub(r"'([+-]?\d+(?:\.\d+)?)'", r"\1", text)
    previous = None
    while previous != text:
        previous = text
        text = _strip_outer_parens(text)
        text = re.sub(r"(?<![\w$])\(([a-z_][a-z0-9_$.]*|'(?:[^']|'')*'|[+-]?\d+(?:\.\d+)?)\)", r"\1", text)
    return text


@lru_cache(maxsize=4096)
def _pg_expr(expr: str) -> str:
    """PostgreSQL: the parse tree without locations, implicit casts on constants and columns, or schema prefixes."""
    from pglast import parser

    try:
        tree = json.loads(parser.parse_sql_json(f"SELECT {expr}"))
        select = tree["stmts"][0]["stmt"]["SelectStmt"]
    except Exception:
        return _text_expr(expr)
    if len(tree["stmts"]) != 1 or set(select) - {"targetList", "limitOption", "op"}:
        return _text_expr(expr)
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


# --------------------------------------------------------------------------- one side of the comparison


@dataclass
class _View:
    """A table as the diff sees it: its rendered name, key, and the objects that take part in the comparison."""

    table: Table
    key: tuple[str, str]
    schema: str | None
    columns: list[Column]
    primary_key: PrimaryKey | None
    uniques: list[UniqueConstraint]
    checks: list[CheckConstraint]
    foreign_keys: list[ForeignKey]
    indexes: list[Index]

    @property
    def name(self) -> str:
        return self.table.name


@dataclass
class _Buckets:
    prelude: list[str] = field(default_factory=list)
    create: list[str] = field(default_factory=list)
    add_columns: list[str] = field(default_factory=list)
    alter_columns: list[str] = field(default_factory=list)
    indexes: list[str] = field(default_factory=list)
    primary_keys: list[str] = field(default_factory=list)
    uniques: list[str] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)
    foreign_keys: list[str] = field(default_factory=list)
    drop_foreign_keys: list[str] = field(default_factory=list)
    drop_indexes: list[str] = field(default_factory=list)
    drop_constraints: list[str] = field(default_factory=list)
    drop_columns: list[str] = field(default_factory=list)
    drop_tables: list[str] = field(default_factory=list)
    drop_sequences: list[str] = field(default_factory=list)

    def statements(self) -> list[str]:
        out: list[str] = []
        for bucket in self.__dict__.values():
            out.extend(bucket)
        return out


def _match(
    current: Sequence[T],
    target: Sequence[T],
    name: Callable[[T], str | None],
    old_sig: Callable[[T], Hashable],
    new_sig: Callable[[T], Hashable] | None = None,
) -> tuple[list[tuple[T, T]], list[T], list[T]]:
    """Pair objects by name, then the unnamed or renamed rest by definition; returns (pairs, dropped, added)."""
    new_sig = new_sig or old_sig
    pairs: list[tuple[T, T]] = []
    left = list(current)
    added: list[T] = []
    by_name = {name(item): item for item in left if name(item) is not None}
    unmatched: list[T] = []
    for item in target:
        key = name(item)
        found = by_name.pop(key, None) if key is not None else None
        if found is not None:
            pairs.append((found, item))
            left.remove(found)
        else:
            unmatched.append(item)
    for item in unmatched:
        sig = new_sig(item)
        found = next((old for old in left if old_sig(old) == sig), None)
        if found is not None:
            pairs.append((found, item))
            left.remove(found)
        else:
            added.append(item)
    return pairs, left, added


# --------------------------------------------------------------------------- the differ


class _Differ:
    def __init__(self, current: Catalog, target: Catalog, dialect: str) -> None:
        self.dialect = dialect
        self.engine = _ENGINES[dialect]
        self.current = current
        self.target = target
        self.out = _Buckets()
        self.fold = dialect != "postgres"
        cur_tables = [t for t in current.tables if t.kind in _TABLE_KINDS]
        tgt_tables = [t for t in target.tables if t.kind in _TABLE_KINDS]
        self.schema_map = self._schema_map(cur_tables, tgt_tables)
        schemas = {self._schema(t.schema_name, target=False) for t in cur_tables}
        schemas |= {self._schema(t.schema_name, target=True) for t in tgt_tables}
        self.qualify = dialect != "mysql" or len(schemas) > 1
        self.cur_views = {view.key: view for view in (self._view(t, target=False) for t in cur_tables)}
        self.tgt_views = {view.key: view for view in (self._view(t, target=True) for t in tgt_tables)}
        self.after_pk_drop: dict[tuple[str, str], list[str]] = {}

    # ----------------------------------------------------------------- names and keys

    def _schema_map(self, cur_tables: list[Table], tgt_tables: list[Table]) -> dict[str | None, str | None]:
        """One schema on each side (e.g. a live `app` schema vs unqualified DDL): the target's maps onto the current."""
        default = _DEFAULT_SCHEMA[self.dialect]
        cur = {t.schema_name or default for t in cur_tables}
        tgt = {t.schema_name or default for t in tgt_tables}
        if len(tgt) == 1 and len(cur) <= 1:
            only = next(iter(tgt))
            return {only: next(iter(cur)) if cur else only}
        return {}

    def _schema(self, schema: str | None, *, target: bool) -> str | None:
        schema = schema or _DEFAULT_SCHEMA[self.dialect]
        return self.schema_map.get(schema, schema) if target else schema

    def _key(self, name: str) -> str:
        return name.casefold() if self.fold else name

    def _table_key(self, schema: str | None, name: str) -> tuple[str, str]:
        if self.dialect == "mysql":  # exact (lower_case_table_names=0 on Linux); run() then ignores case
            return (schema or "", name)
        return (self._key(schema or ""), self._key(name))

    def _q(self, name: str) -> str:
        return quote_ident(name, self.engine)

    def _qualified(self, schema: str | None, name: str) -> str:
        default = _DEFAULT_SCHEMA[self.dialect]
        if schema and schema != default and self.qualify:
            return f"{self._q(schema)}.{self._q(name)}"
        return self._q(name)

    def _tname(self, view: _View) -> str:
        return self._qualified(view.schema, view.name)

    def _cols(self, names: Iterable[str]) -> str:
        return ", ".join(self._q(name) for name in names)

    # ----------------------------------------------------------------- building a view

    def _view(self, table: Table, *, target: bool) -> _View:
        schema = self._schema(table.schema_name, target=target)
        columns = list(table.columns)
        checks = list(table.check_constraints)
        uniques = list(table.unique_constraints)
        indexes = [i for i in table.indexes if not i.primary and i.origin != "primary_key"]
        if self.dialect == "mysql":
            columns, checks = self._mysql_json(columns, checks)
            names = {self._key(i.name) for i in indexes}
            for unique in uniques:  # a UNIQUE constraint is a unique index on MySQL
                name = unique.name or unique.columns[0]
                if self._key(name) not in names:
                    indexes.append(Index(name=name, columns=list(unique.columns), unique=True))
            uniques = []
        else:
            indexes = [i for i in indexes if i.origin == "index"]
        if self.dialect == "sqlite":
            indexes = [i for i in indexes if not i.name.lower().startswith("sqlite_autoindex_")]
        return _View(
            table=table,
            key=self._table_key(schema, table.name),
            schema=schema,
            columns=columns,
            primary_key=table.primary_key,
            uniques=uniques,
            checks=checks,
            foreign_keys=list(table.foreign_keys),
            indexes=indexes,
        )

    def _mysql_json(
        self, columns: list[Column], checks: list[CheckConstraint]
    ) -> tuple[list[Column], list[CheckConstraint]]:
        """MariaDB stores JSON as LONGTEXT plus CHECK (json_valid(col)): read that back as the json type."""
        kept = []
        json_columns = set()
        for check in checks:
            found = re.fullmatch(r"json_valid\(([^()]+)\)", _text_expr(check.expression))
            column = next((c for c in columns if found and self._key(c.name) == self._key(found.group(1))), None)
            if column is not None and _lower_outside_quotes(column.data_type) in ("longtext", "json"):
                json_columns.add(self._key(column.name))
            else:
                kept.append(check)
        columns = [
            c.model_copy(update={"data_type": "json", "collation": None}) if self._key(c.name) in json_columns else c
            for c in columns
        ]
        return columns, kept

    # ----------------------------------------------------------------- comparing

    def _type(self, data_type: str, schemas: Iterable[str | None] = ()) -> str:
        text = _lower_outside_quotes(data_type)
        text = re.sub(r"\s*([(),])\s*", r"\1", text)
        for schema in {*(s.lower() for s in schemas if s), "public", "pg_catalog"}:
            if text.startswith(schema + "."):
                text = text[len(schema) + 1 :]
        suffix = ""
        while text.endswith("[]"):
            text, suffix = text[:-2].rstrip(), suffix + "[]"
        found = re.search(r"\(([^()]*)\)", text)
        args = found.group(1) if found else None
        base = " ".join((text[: found.start()] + " " + text[found.end() :]).split()) if found else text
        if self.dialect == "mysql":
            return self._mysql_type(base, args) + suffix
        canonical = _PG_TYPES.get(base, base)
        if canonical == "character" and args is None and self.dialect == "postgres":
            args = "1"
        zoned = _ZONED.match(canonical)
        if zoned and args is not None:
            return f"{zoned.group(1)}({args}){zoned.group(2)}{suffix}"
        return f"{canonical}({args}){suffix}" if args is not None else canonical + suffix

    def _mysql_type(self, base: str, args: str | None) -> str:
        words = base.split()
        flags = [w for w in words if w in ("unsigned", "signed", "zerofill")]
        name = " ".join(w for w in words if w not in ("unsigned", "signed", "zerofill"))
        canonical = _MYSQL_TYPES.get(name, name)
        if canonical == "tinyint(1)":
            return canonical
        if canonical in _MYSQL_INTEGERS:
            args = "1" if canonical == "tinyint" and args == "1" and not flags else None
        elif canonical == "decimal":
            precision, _, scale = (args or "10").partition(",")
            args = f"{precision},{scale or '0'}"
        elif canonical == "char" and args is None:
            args = "1"
        elif canonical in ("datetime", "timestamp", "time") and args == "0":
            args = None
        typed = f"{canonical}({args})" if args is not None else canonical
        return " ".join([typed, *flags])

    def _expr(self, expr: str | None) -> str | None:
        if expr is None:
            return None
        normal = _pg_expr(expr) if self.dialect == "postgres" else _text_expr(expr)
        if normal in ("null", json.dumps([{"val": {"const": None}}])):
            return None
        if self.dialect == "mysql":
            normal = {"true": "1", "false": "0"}.get(normal, normal)
        return normal

    def _index_column(self, text: str) -> str:
        found = _ORDERING.search(text)
        direction = ""
        if found:  # ASC NULLS LAST and DESC NULLS FIRST are the defaults
            order = (found.group(1) or "asc").lower()
            nulls = (found.group(2) or ("last" if order == "asc" else "first")).lower()
            default_nulls = (order == "asc") == (nulls == "last")
            direction = ("" if order == "asc" else " desc") + ("" if default_nulls else f" nulls {nulls}")
            text = text[: found.start()]
        quoted = re.fullmatch(r'"((?:[^"]|"")+)"', text.strip())
        if _PLAIN_NAME.match(text.strip()) or quoted:  # a column (`user` alone would parse as a function)
            name = quoted.group(1).replace('""', '"') if quoted else text.strip()
            return f"column {self._key(name)}{direction}"
        if self.dialect == "postgres":
            return _pg_expr(text) + direction
        return _text_expr(text) + direction

    def _column_type(self, column: Column, view: _View) -> str:
        return self._type(column.data_type, (view.schema, view.table.schema_name))

    def _default(self, column: Column) -> str | None:
        return None if column.identity and self.dialect == "postgres" else self._expr(column.default)

    def _collation_changed(self, cur: Column, tgt: Column) -> bool:
        if tgt.collation is None or cur.collation is None:
            return False
        return _lower_outside_quotes(cur.collation) != _lower_outside_quotes(tgt.collation)

    def _nullable(self, column: Column, view: _View) -> bool:
        """A primary key column is NOT NULL whatever the source says (SQLite's pragmas and DDL disagree on it)."""
        return column.nullable and not (view.primary_key and self._key(column.name) in self._pk_sig(view.primary_key))

    def _identity(self, column: Column) -> str | None:
        return None if self.dialect == "sqlite" else column.identity

    def _index_sig(self, index: Index) -> Hashable:
        method = "" if self.dialect == "sqlite" else (index.method or "btree").lower()
        return (
            index.unique,
            method,
            tuple(self._index_column(c) for c in index.columns),
            tuple(self._key(c) for c in index.include),
            self._expr(index.predicate),
        )

    def _fk_ref(self, fk: ForeignKey, view: _View, *, target: bool) -> tuple[tuple[str, str], tuple[str, ...]]:
        schema = self._schema(fk.ref_schema or view.table.schema_name, target=target)
        key = self._table_key(schema, fk.ref_table)
        columns = list(fk.ref_columns)
        if not columns:
            views = self.tgt_views if target else self.cur_views
            referenced = views.get(key)
            if referenced is not None and referenced.primary_key is not None:
                columns = list(referenced.primary_key.columns)
        return key, tuple(self._key(c) for c in columns)

    def _fk_sig(self, fk: ForeignKey, view: _View, *, target: bool) -> Hashable:
        def action(value: str) -> str:
            return "no action" if self.dialect == "mysql" and value == "restrict" else value

        ref, ref_columns = self._fk_ref(fk, view, target=target)
        if self.dialect == "mysql":
            ref = (ref[0].casefold(), ref[1].casefold())
        columns = tuple(self._key(c) for c in fk.columns)
        return columns, ref, ref_columns, action(fk.on_delete), action(fk.on_update), fk.deferrable

    def _name(self, name: str | None) -> str | None:
        return None if name is None or self.dialect == "sqlite" else self._key(name)

    # ----------------------------------------------------------------- driving

    def run(self) -> list[str]:
        created = [self.tgt_views[k] for k in sorted(self.tgt_views) if k not in self.cur_views]
        dropped = [self.cur_views[k] for k in sorted(self.cur_views) if k not in self.tgt_views]
        pairs = [(self.cur_views[k], self.tgt_views[k]) for k in sorted(self.tgt_views) if k in self.cur_views]
        if self.dialect == "mysql":  # table names are case-sensitive on Linux; fall back to ignoring case
            pairs += self._pair_ignoring_case(created, dropped)
            pairs.sort(key=lambda pair: pair[1].key)
        if self.dialect == "postgres":
            self._prerequisites()
        self._create_tables(created)
        rebuilds: list[str] = []
        for cur, tgt in pairs:
            self._diff_table(cur, tgt, rebuilds)
        if rebuilds:  # SQLite: one transaction for every rebuilt table, foreign keys off meanwhile
            self.out.alter_columns += [
                "PRAGMA foreign_keys = OFF",
                "BEGIN",
                *rebuilds,
                "PRAGMA foreign_key_check",
                "COMMIT",
                "PRAGMA foreign_keys = ON",
            ]
        for view in reversed(self._dependency_order(dropped, target=False)):
            self.out.drop_tables.append(f"DROP TABLE {self._tname(view)}")
        return self.out.statements()

    def _pair_ignoring_case(self, created: list[_View], dropped: list[_View]) -> list[tuple[_View, _View]]:
        def folded(view: _View) -> tuple[str, str]:
            return view.key[0].casefold(), view.key[1].casefold()

        pairs = []
        for tgt in list(created):
            same = [cur for cur in dropped if folded(cur) == folded(tgt)]
            if len(same) == 1:
                pairs.append((same[0], tgt))
                created.remove(tgt)
                dropped.remove(same[0])
        return pairs

    def _prerequisites(self) -> None:
        """PostgreSQL: extensions the target uses that are missing, stand-alone sequences (first and last)."""
        have = {e.name for e in self.current.extensions}
        for extension in sorted({e.name for e in self.target.extensions} - have - {"plpgsql"}):
            self.out.prelude.append(f"CREATE EXTENSION IF NOT EXISTS {self._q(extension)}")

        def standalone(catalog: Catalog, *, target: bool) -> dict[tuple[str, str], tuple[str | None, str]]:
            found = {}
            for seq in catalog.sequences:
                if seq.owned_by is None:
                    schema = self._schema(seq.schema_name, target=target)
                    found[self._table_key(schema, seq.name)] = (schema, seq.name)
            return found

        cur = standalone(self.current, target=False)
        tgt = standalone(self.target, target=True)
        for key in sorted(set(tgt) - set(cur)):
            self.out.prelude.append(f"CREATE SEQUENCE {self._qualified(*tgt[key])}")
        for key in sorted(set(cur) - set(tgt)):
            self.out.drop_sequences.append(f"DROP SEQUENCE {self._qualified(*cur[key])}")

    # ----------------------------------------------------------------- new tables

    def _dependency_order(self, views: list[_View], *, target: bool) -> list[_View]:
        """Referenced tables (and partition parents) before the tables that need them; cycles broken by name."""
        keys = {view.key for view in views}
        needs = {view.key: self._dependencies(view, target=target) & keys - {view.key} for view in views}
        ordered: list[_View] = []
        done: set[tuple[str, str]] = set()
        remaining = sorted(views, key=lambda v: v.key)
        while remaining:
            ready = next((v for v in remaining if needs[v.key] <= done), remaining[0])
            ordered.append(ready)
            done.add(ready.key)
            remaining.remove(ready)
        return ordered

    def _dependencies(self, view: _View, *, target: bool) -> set[tuple[str, str]]:
        deps = {self._fk_ref(fk, view, target=target)[0] for fk in view.foreign_keys}
        if view.table.partition_of:
            schema, _, name = view.table.partition_of.rpartition(".")
            deps.add(self._table_key(self._schema(schema or None, target=target), name))
        return deps

    def _create_tables(self, created: list[_View]) -> None:
        existing = set(self.cur_views)
        for view in self._dependency_order(created, target=True):
            deferred = []
            inline = []
            for fk in view.foreign_keys:
                ref = self._fk_ref(fk, view, target=True)[0]
                if self.dialect == "sqlite" or ref in existing or ref == view.key:
                    inline.append(fk)
                else:
                    deferred.append(fk)
            self.out.create.append(self._create_table(view, view.name, inline))
            existing.add(view.key)
            if self.dialect != "mysql" and not view.table.partition_of:
                for index in sorted(view.indexes, key=lambda i: self._key(i.name)):
                    self.out.create.append(self._create_index(view, index))
            for fk in deferred:
                self.out.foreign_keys.append(f"ALTER TABLE {self._tname(view)} ADD {self._fk_def(fk, view)}")

    def _create_table(self, view: _View, name: str, foreign_keys: list[ForeignKey]) -> str:
        table = view.table
        qualified = self._qualified(view.schema, name)
        if self.dialect == "postgres" and table.partition_of:
            schema, _, parent = table.partition_of.rpartition(".")
            parent_name = self._qualified(self._schema(schema or None, target=True), parent)
            bound = table.options.get("partition_bound") or "DEFAULT"
            tail = f" PARTITION BY {table.partition_key}" if table.partition_key else ""
            return f"CREATE TABLE {qualified} PARTITION OF {parent_name} {bound}{tail}"
        inline_pk = self._sqlite_inline_pk(view)
        parts = [self._column_def(c, view, inline_pk=inline_pk) for c in view.columns]
        if view.primary_key is not None and inline_pk is None:
            parts.append(self._named(view.primary_key.name, f"PRIMARY KEY ({self._cols(view.primary_key.columns)})"))
        for unique in view.uniques:
            parts.append(self._named(unique.name, f"UNIQUE ({self._cols(unique.columns)})"))
        if self.dialect == "mysql":
            for index in sorted(view.indexes, key=lambda i: self._key(i.name)):
                kind = {"fulltext": "FULLTEXT KEY", "spatial": "SPATIAL KEY"}.get((index.method or "").lower(), "KEY")
                kind = "UNIQUE KEY" if index.unique else kind
                parts.append(f"{kind} {self._q(index.name)} ({self._index_columns(index)})")
        for check in view.checks:  # a new table is empty: its constraints are valid from the start
            parts.append(self._named(check.name, f"CHECK ({_strip_outer_parens(check.expression)})"))
        for fk in foreign_keys:
            parts.append(self._fk_def(fk, view, not_valid=False))
        persistence = "UNLOGGED " if table.options.get("persistence") == "unlogged" else ""
        body = ",\n".join(f"    {part}" for part in parts)
        text = f"CREATE {persistence}TABLE {qualified} (\n{body}\n)"
        if self.dialect == "postgres":
            if table.partition_key:
                text += f" PARTITION BY {table.partition_key}"
            if table.options.get("inherits"):
                parents = [p.rpartition(".") for p in table.options["inherits"].split(",")]
                names = [self._qualified(self._schema(s or None, target=True), n) for s, _, n in parents]
                text += f" INHERITS ({', '.join(names)})"
        elif self.dialect == "mysql" and table.options.get("engine"):
            text += f" ENGINE={table.options['engine']}"
        elif self.dialect == "sqlite":
            tails = [w for w, o in (("WITHOUT ROWID", "without_rowid"), ("STRICT", "strict")) if table.options.get(o)]
            text += " " + ", ".join(tails) if tails else ""
        return text

    def _named(self, name: str | None, body: str) -> str:
        if name and not (self.dialect == "mysql" and body.startswith("PRIMARY KEY")):
            return f"CONSTRAINT {self._q(name)} {body}"
        return body

    def _sqlite_inline_pk(self, view: _View) -> str | None:
        """SQLite AUTOINCREMENT must be written on the column: `id INTEGER PRIMARY KEY AUTOINCREMENT`."""
        pk = view.primary_key
        if self.dialect != "sqlite" or pk is None or len(pk.columns) != 1:
            return None
        return pk.columns[0] if view.table.options.get("autoincrement") else None

    def _serial(self, column: Column, view: _View) -> str | None:
        """PostgreSQL: integer + nextval('<table>_<column>_seq') is how a serial column reads back."""
        if self.dialect != "postgres" or column.default is None:
            return None
        found = _NEXTVAL.match(column.default.strip())
        serial = _SERIALS.get(self._column_type(column, view))
        if found and serial and found.group(1) == f"{view.name}_{column.name}_seq"[:63]:
            return serial
        return None

    def _column_def(self, column: Column, view: _View, *, inline_pk: str | None = None) -> str:
        parts = [self._q(column.name)]
        serial = self._serial(column, view)
        parts.append(serial or column.data_type)
        if self.dialect == "sqlite" and inline_pk is not None and self._key(inline_pk) == self._key(column.name):
            parts.append("PRIMARY KEY AUTOINCREMENT")
        if column.collation and not (self.dialect == "mysql" and column.data_type.lower() == "json"):
            collation = self._q(column.collation) if self.dialect == "postgres" else column.collation
            parts.append(f"COLLATE {collation}")
        if column.generated is not None:
            stored = " STORED" if self.dialect == "postgres" else ""
            parts.append(f"GENERATED ALWAYS AS ({_strip_outer_parens(column.generated)}){stored}")
        elif self.dialect == "postgres" and column.identity is not None:
            parts.append(f"GENERATED {column.identity.upper()} AS IDENTITY")
        if column.default is not None and serial is None and column.generated is None and not self._pg_identity(column):
            parts.append(f"DEFAULT {self._default_text(column.default)}")
        if not column.nullable and serial is None and not self._pg_identity(column):
            parts.append("NOT NULL")
        if self.dialect == "mysql" and column.identity is not None:
            parts.append("AUTO_INCREMENT")
        if self.dialect == "mysql" and column.comment:
            parts.append("COMMENT '" + column.comment.replace("'", "''") + "'")
        return " ".join(parts)

    def _pg_identity(self, column: Column) -> bool:
        return self.dialect == "postgres" and column.identity is not None

    def _default_text(self, default: str) -> str:
        """SQLite wants an expression default in parentheses: `DEFAULT (lower('X'))`."""
        text = default.strip()
        if self.dialect == "sqlite" and "(" in text and not text.startswith("("):
            return f"({text})"
        return text

    def _index_columns(self, index: Index) -> str:
        return ", ".join(self._index_element(c) for c in index.columns)

    def _index_element(self, text: str) -> str:
        if _PLAIN_NAME.match(text):
            return self._q(text)
        if self.dialect != "postgres":
            return text
        found = _ORDERING.search(text)
        base, suffix = (text[: found.start()], text[found.start() :]) if found else (text, "")
        opclass = _OPCLASS.match(base)
        if opclass:
            base, suffix = opclass.group(1), f" {opclass.group(2)}{suffix}"
        base = base.strip()
        if _PLAIN_NAME.match(base):
            base = self._q(base)
        elif not (base.startswith('"') or re.fullmatch(r"[\w.]+\(.*\)", base, re.DOTALL) or base.startswith("(")):
            base = f"({base})"
        return base + suffix

    def _create_index(self, view: _View, index: Index) -> str:
        method = (index.method or "").lower()
        if self.dialect == "mysql":
            kind = "UNIQUE " if index.unique else {"fulltext": "FULLTEXT ", "spatial": "SPATIAL "}.get(method, "")
        else:
            kind = "UNIQUE " if index.unique else ""
        name = self._q(index.name)
        using = f"USING {method} " if self.dialect == "postgres" and method not in ("", "btree") else ""
        text = f"CREATE {kind}INDEX {name} ON {self._tname(view)} {using}({self._index_columns(index)})"
        if index.include and self.dialect == "postgres":
            text += f" INCLUDE ({self._cols(index.include)})"
        if index.predicate and self.dialect != "mysql":
            text += f" WHERE {_strip_outer_parens(index.predicate)}"
        return text

    def _fk_def(self, fk: ForeignKey, view: _View, *, not_valid: bool = True) -> str:
        body = f"FOREIGN KEY ({self._cols(fk.columns)}) {self._references(fk, view)}"
        if not_valid and not fk.validated and self.dialect == "postgres":
            body += " NOT VALID"
        return self._named(fk.name, body)

    def _references(self, fk: ForeignKey, view: _View) -> str:
        schema = self._schema(fk.ref_schema or view.table.schema_name, target=True)
        ref_columns = list(fk.ref_columns) or list(self._fk_ref(fk, view, target=True)[1])
        ref_list = f" ({self._cols(ref_columns)})" if ref_columns else ""
        body = f"REFERENCES {self._qualified(schema, fk.ref_table)}{ref_list}"
        if fk.on_delete != "no action":
            body += f" ON DELETE {fk.on_delete.upper()}"
        if fk.on_update != "no action":
            body += f" ON UPDATE {fk.on_update.upper()}"
        if fk.deferrable and self.dialect != "mysql":
            body += " DEFERRABLE"
        return body

    # ----------------------------------------------------------------- changed tables

    def _diff_table(self, cur: _View, tgt: _View, rebuilds: list[str]) -> None:
        if self.dialect == "postgres" and (
            cur.table.partition_of or tgt.table.partition_of or "inherits" in tgt.table.options
        ):
            return  # a partition's or child's columns, keys and indexes come from its parent
        if self.dialect == "sqlite":  # ALTER TABLE adds and drops columns; anything more is a rebuild
            if self._needs_rebuild(cur, tgt):
                rebuilds.extend(self._rebuild(cur, tgt))
            else:
                self._diff_columns(cur, tgt, pk_dropped=False)
                self._diff_indexes(cur, tgt)
            return
        pk_dropped = cur.primary_key is not None and (
            tgt.primary_key is None or self._pk_sig(cur.primary_key) != self._pk_sig(tgt.primary_key)
        )
        self._diff_columns(cur, tgt, pk_dropped)
        self._diff_indexes(cur, tgt)
        self._diff_primary_key(cur, tgt)
        if self.dialect != "mysql":
            self._diff_uniques(cur, tgt)
        self._diff_checks(cur, tgt)
        self._diff_foreign_keys(cur, tgt)

    def _pk_sig(self, pk: PrimaryKey) -> tuple[str, ...]:
        return tuple(self._key(c) for c in pk.columns)

    def _diff_columns(self, cur: _View, tgt: _View, pk_dropped: bool) -> None:
        table = self._tname(cur)
        current = {self._key(c.name): c for c in cur.columns}
        wanted = {self._key(c.name) for c in tgt.columns}
        pk_columns = set(self._pk_sig(cur.primary_key)) if cur.primary_key and pk_dropped else set()
        inline_fks = self._sqlite_inline_fks(cur, tgt) if self.dialect == "sqlite" else {}
        regenerated = self._pg_dependent_generated(cur, tgt)
        for column in regenerated:
            self.out.alter_columns.append(f"ALTER TABLE {table} DROP COLUMN {self._q(column.name)}")
        for column in tgt.columns:
            old = current.get(self._key(column.name))
            if old is None:
                definition = self._column_def(column, tgt)
                if self._key(column.name) in inline_fks:
                    definition += f" {self._references(inline_fks[self._key(column.name)], tgt)}"
                self.out.add_columns.append(f"ALTER TABLE {table} ADD COLUMN {definition}")
            elif self._expr(old.generated) != self._expr(column.generated) and self.dialect == "postgres":
                self.out.add_columns.append(f"ALTER TABLE {table} DROP COLUMN {self._q(old.name)}")
                self.out.add_columns.append(f"ALTER TABLE {table} ADD COLUMN {self._column_def(column, tgt)}")
            elif self.dialect != "sqlite":  # SQLite: a changed column means a rebuild, decided before
                later = self._key(column.name) in pk_columns and self._nullable(column, tgt)
                self._alter_column(cur, tgt, old, column, later)
        for column in regenerated:
            self.out.alter_columns.append(f"ALTER TABLE {table} ADD COLUMN {self._column_def(column, tgt)}")
        for column in cur.columns:
            if self._key(column.name) not in wanted:
                self.out.drop_columns.append(f"ALTER TABLE {table} DROP COLUMN {self._q(column.name)}")

    def _pg_dependent_generated(self, cur: _View, tgt: _View) -> list[Column]:
        """PostgreSQL cannot retype a column a generated column reads: drop that one first and add it back after."""
        if self.dialect != "postgres":
            return []
        current = {self._key(c.name): c for c in cur.columns}
        retyped = {
            key
            for key, new in ((self._key(c.name), c) for c in tgt.columns)
            if key in current and self._column_type(current[key], cur) != self._column_type(new, tgt)
        }
        dependent = []
        for column in tgt.columns:
            old = current.get(self._key(column.name))
            if old is None or column.generated is None or self._expr(old.generated) != self._expr(column.generated):
                continue
            words = re.findall(r'"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*', column.generated)
            if {w[1:-1].replace('""', '"') if w.startswith('"') else w.lower() for w in words} & retyped:
                dependent.append(column)
        return dependent

    def _alter_column(self, cur: _View, tgt: _View, old: Column, new: Column, after_pk_drop: bool) -> None:
        table = self._tname(cur)
        type_changed = self._column_type(old, cur) != self._column_type(new, tgt)
        default_changed = self._default(old) != self._default(new)
        if self._serial(old, cur) and self._serial(new, tgt):
            default_changed = False
        null_changed = self._nullable(old, cur) != self._nullable(new, tgt)
        identity_changed = self._identity(old) != self._identity(new)
        collation_changed = self._collation_changed(old, new)
        generated_changed = self._expr(old.generated) != self._expr(new.generated)
        rebuilt = type_changed or null_changed or identity_changed or collation_changed or generated_changed
        if not (rebuilt or default_changed):
            return
        if self.dialect == "mysql":
            if rebuilt:
                statement = f"ALTER TABLE {table} MODIFY COLUMN {self._column_def(new, tgt)}"
                self._column_statement(cur, statement, later=after_pk_drop)
            elif new.default is None:
                self.out.alter_columns.append(f"ALTER TABLE {table} ALTER COLUMN {self._q(new.name)} DROP DEFAULT")
            else:
                self.out.alter_columns.append(
                    f"ALTER TABLE {table} ALTER COLUMN {self._q(new.name)} SET DEFAULT {new.default.strip()}"
                )
            return
        alter = f"ALTER TABLE {table} ALTER COLUMN {self._q(new.name)}"
        statements = []
        if identity_changed and old.identity is not None and new.identity is None:
            statements.append(f"{alter} DROP IDENTITY")
        if default_changed and old.default is not None and (new.default is None or new.identity is not None):
            statements.append(f"{alter} DROP DEFAULT")
        if type_changed or collation_changed:
            collate = f" COLLATE {self._q(new.collation)}" if collation_changed and new.collation else ""
            statements.append(f"{alter} TYPE {new.data_type}{collate}")
        if default_changed and new.default is not None and new.identity is None:
            statements.append(f"{alter} SET DEFAULT {new.default.strip()}")
        for statement in statements:
            self.out.alter_columns.append(statement)
        if null_changed:
            statement = f"{alter} {'DROP' if new.nullable else 'SET'} NOT NULL"
            self._column_statement(cur, statement, later=after_pk_drop)
        if identity_changed and new.identity is not None:
            how = new.identity.upper()
            verb = f"SET GENERATED {how}" if old.identity is not None else f"ADD GENERATED {how} AS IDENTITY"
            self.out.alter_columns.append(f"{alter} {verb}")

    def _column_statement(self, cur: _View, statement: str, *, later: bool) -> None:
        """A column leaving a dropped primary key can only become nullable after the key is gone."""
        if later:
            self.after_pk_drop.setdefault(cur.key, []).append(statement)
        else:
            self.out.alter_columns.append(statement)

    def _diff_indexes(self, cur: _View, tgt: _View) -> None:
        pairs, dropped, added = _match(
            sorted(cur.indexes, key=lambda i: self._key(i.name)),
            sorted(tgt.indexes, key=lambda i: self._key(i.name)),
            lambda i: self._key(i.name),
            self._index_sig,
        )
        for old, new in pairs:
            if self._index_sig(old) != self._index_sig(new):
                self.out.indexes.append(self._drop_index(cur, old))
                self.out.indexes.append(self._create_index(cur, new))
            elif self._key(old.name) != self._key(new.name) and self.dialect == "sqlite":  # no RENAME INDEX
                self.out.indexes.append(self._create_index(cur, new))
                self.out.drop_indexes.append(self._drop_index(cur, old))
            elif self._key(old.name) != self._key(new.name):
                self.out.indexes.append(self._rename_index(cur, old, new))
        for index in added:
            self.out.indexes.append(self._create_index(cur, index))
        created = [new for old, new in pairs if self._index_sig(old) != self._index_sig(new)] + added
        for index in dropped:
            if not self._mysql_drops_it(cur, index, created):
                self.out.drop_indexes.append(self._drop_index(cur, index))

    def _mysql_drops_it(self, view: _View, index: Index, created: list[Index]) -> bool:
        """MySQL silently drops the index it made for a foreign key once a new index can serve the key instead."""
        if self.dialect != "mysql":
            return False
        fk = next((fk for fk in view.foreign_keys if fk.name and self._key(fk.name) == self._key(index.name)), None)
        if fk is None:
            return False
        wanted = [self._key(c) for c in fk.columns]
        for new in created:
            leading = [self._key(re.sub(r"\(\d+\)$", "", c).strip()) for c in new.columns[: len(wanted)]]
            if leading == wanted:
                return True
        return False

    def _drop_index(self, view: _View, index: Index) -> str:
        if self.dialect == "mysql":
            return f"DROP INDEX {self._q(index.name)} ON {self._tname(view)}"
        return f"DROP INDEX {self._qualified(view.schema, index.name)}"

    def _rename_index(self, view: _View, old: Index, new: Index) -> str:
        if self.dialect == "mysql":
            return f"ALTER TABLE {self._tname(view)} RENAME INDEX {self._q(old.name)} TO {self._q(new.name)}"
        return f"ALTER INDEX {self._qualified(view.schema, old.name)} RENAME TO {self._q(new.name)}"

    def _rename_constraint(self, view: _View, old: str | None, new: str | None) -> str | None:
        if self.dialect != "postgres" or not old or not new or old == new:
            return None
        return f"ALTER TABLE {self._tname(view)} RENAME CONSTRAINT {self._q(old)} TO {self._q(new)}"

    def _drop_constraint(self, view: _View, name: str | None, fallback: str) -> str:
        return f"ALTER TABLE {self._tname(view)} DROP CONSTRAINT {self._q(name or fallback)}"

    def _diff_primary_key(self, cur: _View, tgt: _View) -> None:
        table = self._tname(cur)
        old, new = cur.primary_key, tgt.primary_key
        later = self.after_pk_drop.pop(cur.key, [])
        if old is not None and new is not None and self._pk_sig(old) == self._pk_sig(new):
            renamed = self._rename_constraint(cur, old.name, new.name)
            self.out.primary_keys.extend([renamed] if renamed else [])
            return
        if self.dialect == "mysql":
            if old is not None and new is not None:
                self.out.primary_keys.append(
                    f"ALTER TABLE {table} DROP PRIMARY KEY, ADD PRIMARY KEY ({self._cols(new.columns)})"
                )
                self.out.primary_keys.extend(later)
            elif new is not None:
                self.out.primary_keys.append(f"ALTER TABLE {table} ADD PRIMARY KEY ({self._cols(new.columns)})")
            elif old is not None:
                self.out.drop_constraints.append(f"ALTER TABLE {table} DROP PRIMARY KEY")
                self.out.drop_constraints.extend(later)
            return
        bucket = self.out.primary_keys if new is not None else self.out.drop_constraints
        if old is not None:
            bucket.append(self._drop_constraint(cur, old.name, f"{cur.name}_pkey"))
            bucket.extend(later)
        if new is not None:
            body = self._named(new.name, f"PRIMARY KEY ({self._cols(new.columns)})")
            self.out.primary_keys.append(f"ALTER TABLE {table} ADD {body}")

    def _diff_uniques(self, cur: _View, tgt: _View) -> None:
        def sig(unique: UniqueConstraint) -> Hashable:
            return tuple(self._key(c) for c in unique.columns)

        table = self._tname(cur)
        pairs, dropped, added = _match(cur.uniques, tgt.uniques, lambda u: self._name(u.name), sig)
        for old, new in pairs:
            if sig(old) != sig(new):
                self.out.uniques.append(self._drop_constraint(cur, old.name, self._unique_name(cur, old)))
                self.out.uniques.append(f"ALTER TABLE {table} ADD {self._unique_def(new)}")
                continue
            renamed = self._rename_constraint(cur, old.name, new.name)
            self.out.uniques.extend([renamed] if renamed else [])
        for unique in added:
            self.out.uniques.append(f"ALTER TABLE {table} ADD {self._unique_def(unique)}")
        for unique in dropped:
            self.out.drop_constraints.append(self._drop_constraint(cur, unique.name, self._unique_name(cur, unique)))

    def _unique_def(self, unique: UniqueConstraint) -> str:
        return self._named(unique.name, f"UNIQUE ({self._cols(unique.columns)})")

    def _unique_name(self, view: _View, unique: UniqueConstraint) -> str:
        return f"{view.name}_{'_'.join(unique.columns)}_key"[:63]

    def _diff_checks(self, cur: _View, tgt: _View) -> None:
        def sig(check: CheckConstraint) -> Hashable:
            return self._expr(check.expression)

        table = self._tname(cur)
        pairs, dropped, added = _match(cur.checks, tgt.checks, lambda c: self._name(c.name), sig)
        for old, new in pairs:
            if sig(old) != sig(new):
                self.out.checks.append(self._drop_constraint(cur, old.name, self._check_name(cur, old)))
                self.out.checks.append(f"ALTER TABLE {table} ADD {self._check_def(new)}")
                continue
            renamed = self._rename_constraint(cur, old.name, new.name)
            self.out.checks.extend([renamed] if renamed else [])
            if self.dialect == "postgres" and not old.validated and new.validated:
                self.out.checks.append(f"ALTER TABLE {table} VALIDATE CONSTRAINT {self._q(new.name or old.name or '')}")
        for check in added:
            self.out.checks.append(f"ALTER TABLE {table} ADD {self._check_def(check)}")
        for check in dropped:
            self.out.drop_constraints.append(self._drop_constraint(cur, check.name, self._check_name(cur, check)))

    def _check_def(self, check: CheckConstraint) -> str:
        not_valid = " NOT VALID" if self.dialect == "postgres" and not check.validated else ""
        return self._named(check.name, f"CHECK ({_strip_outer_parens(check.expression)}){not_valid}")

    def _check_name(self, view: _View, check: CheckConstraint) -> str:
        """PostgreSQL's name for an unnamed CHECK: `<table>_<first column it mentions>_check`."""
        words = re.findall(r"[A-Za-z_][A-Za-z0-9_$]*", check.expression)
        columns = {self._key(c.name): c.name for c in view.columns}
        first = next((columns[self._key(w)] for w in words if self._key(w) in columns), None)
        return f"{view.name}_{first}_check"[:63] if first else f"{view.name}_check"[:63]

    def _diff_foreign_keys(self, cur: _View, tgt: _View) -> None:
        def old_sig(fk: ForeignKey) -> Hashable:
            return self._fk_sig(fk, cur, target=False)

        def new_sig(fk: ForeignKey) -> Hashable:
            return self._fk_sig(fk, tgt, target=True)

        table = self._tname(cur)
        pairs, dropped, added = _match(
            cur.foreign_keys, tgt.foreign_keys, lambda fk: self._name(fk.name), old_sig, new_sig
        )
        for old, new in pairs:
            if old_sig(old) != new_sig(new):
                self.out.foreign_keys.append(self._drop_fk(cur, old))
                self.out.foreign_keys.append(f"ALTER TABLE {table} ADD {self._fk_def(new, tgt)}")
                continue
            renamed = self._rename_constraint(cur, old.name, new.name)
            self.out.foreign_keys.extend([renamed] if renamed else [])
            if self.dialect == "postgres" and not old.validated and new.validated:
                name = self._q(new.name or old.name or "")
                self.out.foreign_keys.append(f"ALTER TABLE {table} VALIDATE CONSTRAINT {name}")
        for fk in added:
            self.out.foreign_keys.append(f"ALTER TABLE {table} ADD {self._fk_def(fk, tgt)}")
        for fk in dropped:
            self.out.drop_foreign_keys.append(self._drop_fk(cur, fk))

    def _drop_fk(self, view: _View, fk: ForeignKey) -> str:
        name = fk.name or f"{view.name}_{'_'.join(fk.columns)}_fkey"[:63]
        if self.dialect == "mysql":
            return f"ALTER TABLE {self._tname(view)} DROP FOREIGN KEY {self._q(name)}"
        return self._drop_constraint(view, name, name)

    # ----------------------------------------------------------------- SQLite: the table rebuild

    def _needs_rebuild(self, cur: _View, tgt: _View) -> bool:
        """SQLite's ALTER TABLE adds and drops plain columns only; anything else rebuilds the table."""
        if any(cur.table.options.get(o) != tgt.table.options.get(o) for o in _SQLITE_OPTIONS):
            return True
        current = {self._key(c.name): c for c in cur.columns}
        wanted = {self._key(c.name): c for c in tgt.columns}
        for key, new in wanted.items():
            old = current.get(key)
            if old is None:
                if not self._sqlite_can_add(new, tgt):
                    return True
            elif (
                self._column_type(old, cur) != self._column_type(new, tgt)
                or self._nullable(old, cur) != self._nullable(new, tgt)
                or self._default(old) != self._default(new)
                or self._expr(old.generated) != self._expr(new.generated)
                or self._collation_changed(old, new)
            ):
                return True
        for key in set(current) - set(wanted):
            if self._sqlite_column_is_bound(key, cur):
                return True
        if (cur.primary_key and self._pk_sig(cur.primary_key)) != (tgt.primary_key and self._pk_sig(tgt.primary_key)):
            return True
        uniques = [{tuple(self._key(c) for c in u.columns) for u in v.uniques} for v in (cur, tgt)]
        checks = [{self._expr(c.expression) for c in v.checks} for v in (cur, tgt)]
        old_fks = {self._fk_sig(fk, cur, target=False) for fk in cur.foreign_keys}
        inline = [id(fk) for fk in self._sqlite_inline_fks(cur, tgt).values()]
        new_fks = {self._fk_sig(fk, tgt, target=True) for fk in tgt.foreign_keys if id(fk) not in inline}
        return uniques[0] != uniques[1] or checks[0] != checks[1] or old_fks != new_fks

    def _sqlite_inline_fks(self, cur: _View, tgt: _View) -> dict[str, ForeignKey]:
        """New one-column foreign keys on new columns: `ADD COLUMN c ... REFERENCES p (id)` needs no rebuild."""
        old_columns = {self._key(c.name) for c in cur.columns}
        defaults = {self._key(c.name): c.default for c in tgt.columns}
        old_fks = {self._fk_sig(fk, cur, target=False) for fk in cur.foreign_keys}
        inline = {}
        for fk in tgt.foreign_keys:
            key = self._key(fk.columns[0]) if len(fk.columns) == 1 else None
            if key is None or key in old_columns or self._expr(defaults.get(key)) is not None:
                continue
            if self._fk_sig(fk, tgt, target=True) not in old_fks:
                inline[key] = fk
        return inline

    def _sqlite_can_add(self, column: Column, view: _View) -> bool:
        key = self._key(column.name)
        if view.primary_key and key in self._pk_sig(view.primary_key):
            return False
        if any(key in (self._key(c) for c in u.columns) for u in view.uniques):
            return False
        default = self._expr(column.default)
        if not column.nullable and default is None:
            return False
        if default is not None and ("(" in default or default.startswith("current_")):
            return False
        return column.generated is None

    def _sqlite_column_is_bound(self, key: str, view: _View) -> bool:
        """A column SQLite's DROP COLUMN refuses: in a key, a UNIQUE, a foreign key, a CHECK or a generated column."""
        if view.primary_key and key in self._pk_sig(view.primary_key):
            return True
        if any(key in (self._key(c) for c in u.columns) for u in view.uniques):
            return True
        if any(key in (self._key(c) for c in fk.columns) for fk in view.foreign_keys):
            return True
        texts = [c.expression for c in view.checks] + [c.generated for c in view.columns if c.generated]
        words = {self._key(w) for text in texts for w in re.findall(r"[A-Za-z_][A-Za-z0-9_$]*", text)}
        return key in words

    def _rebuild(self, cur: _View, tgt: _View) -> list[str]:
        """Create the new table, copy the shared columns, drop the old one, rename, re-create indexes and triggers."""
        temporary = f"new_{tgt.name}"
        old_columns = {self._key(c.name) for c in cur.columns}
        shared = [c.name for c in tgt.columns if self._key(c.name) in old_columns and c.generated is None]
        current_names = {self._key(c.name): c.name for c in cur.columns}
        source = ", ".join(self._q(current_names[self._key(name)]) for name in shared)
        statements = [
            self._create_table(tgt, temporary, list(tgt.foreign_keys)),
            f"INSERT INTO {self._qualified(tgt.schema, temporary)} ({self._cols(shared)}) "
            f"SELECT {source} FROM {self._tname(cur)}",
            f"DROP TABLE {self._tname(cur)}",
            f"ALTER TABLE {self._qualified(tgt.schema, temporary)} RENAME TO {self._q(tgt.name)}",
        ]
        for index in sorted(tgt.indexes, key=lambda i: self._key(i.name)):
            statements.append(self._create_index(tgt, index))
        for trigger in cur.table.triggers:
            if trigger.definition and trigger.definition.lstrip().upper().startswith("CREATE"):
                statements.append(trigger.definition.strip().rstrip(";"))
        return statements
