"""Schema diff: one table as the differ sees it, and the differ's names, views and signatures."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

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
from dbspecialist.knowledge.migrations.diff_types import (
    DEFAULT_SCHEMA,
    ENGINES,
    MYSQL_INTEGERS,
    MYSQL_TYPES,
    ORDERING,
    PG_TYPES,
    PLAIN_NAME,
    TABLE_KINDS,
    ZONED,
    lower_outside_quotes,
    pg_expr,
    text_expr,
)
from dbspecialist.knowledge.sql_text import quote_ident

T = TypeVar("T")


# --------------------------------------------------------------------------- one side of the comparison


@dataclass
class View:
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
class Buckets:
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


def match(
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


class DifferBase:
    """State, names, views and the normalised signatures every part of the differ compares."""

    def __init__(self, current: Catalog, target: Catalog, dialect: str) -> None:
        self.dialect = dialect
        self.engine = ENGINES[dialect]
        self.current = current
        self.target = target
        self.out = Buckets()
        self.fold = dialect != "postgres"
        cur_tables = [t for t in current.tables if t.kind in TABLE_KINDS]
        tgt_tables = [t for t in target.tables if t.kind in TABLE_KINDS]
        self.schema_map = self._schema_map(cur_tables, tgt_tables)
        schemas = {self._schema(t.schema_name, target=False) for t in cur_tables}
        schemas |= {self._schema(t.schema_name, target=True) for t in tgt_tables}
        self.qualify = dialect != "mysql" or len(schemas) > 1
        self.cur_views = {view.key: view for view in (self._view(t, target=False) for t in cur_tables)}
        self.tgt_views = {view.key: view for view in (self._view(t, target=True) for t in tgt_tables)}
        self.after_pk_drop: dict[tuple[str, str], list[str]] = {}
        self.drops: frozenset[str] | None = None  # None: drop whatever the target lacks; else only these names
        self.kept: list[str] = []  # missing from the target but not in `drops`: left alone

    def may_drop(self, schema: str | None, name: str) -> bool:
        """Whether a table or sequence the target lacks is dropped (else it is recorded in `kept`)."""
        if self.drops is None:
            return True
        qualified = f"{schema}.{name}" if schema else name
        if name.lower() in self.drops or qualified.lower() in self.drops:
            return True
        self.kept.append(qualified)
        return False

    # ----------------------------------------------------------------- names and keys

    def _schema_map(self, cur_tables: list[Table], tgt_tables: list[Table]) -> dict[str | None, str | None]:
        """One schema on each side (e.g. a live `app` schema vs unqualified DDL): the target's maps onto the current."""
        default = DEFAULT_SCHEMA[self.dialect]
        cur = {t.schema_name or default for t in cur_tables}
        tgt = {t.schema_name or default for t in tgt_tables}
        if len(tgt) == 1 and len(cur) <= 1:
            only = next(iter(tgt))
            return {only: next(iter(cur)) if cur else only}
        return {}

    def _schema(self, schema: str | None, *, target: bool) -> str | None:
        schema = schema or DEFAULT_SCHEMA[self.dialect]
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
        default = DEFAULT_SCHEMA[self.dialect]
        if schema and schema != default and self.qualify:
            return f"{self._q(schema)}.{self._q(name)}"
        return self._q(name)

    def _tname(self, view: View) -> str:
        return self._qualified(view.schema, view.name)

    def _cols(self, names: Iterable[str]) -> str:
        return ", ".join(self._q(name) for name in names)

    # ----------------------------------------------------------------- building a view

    def _view(self, table: Table, *, target: bool) -> View:
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
        return View(
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
            found = re.fullmatch(r"json_valid\(([^()]+)\)", text_expr(check.expression))
            column = next((c for c in columns if found and self._key(c.name) == self._key(found.group(1))), None)
            if column is not None and lower_outside_quotes(column.data_type) in ("longtext", "json"):
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
        text = lower_outside_quotes(data_type)
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
        canonical = PG_TYPES.get(base, base)
        if canonical == "character" and args is None and self.dialect == "postgres":
            args = "1"
        zoned = ZONED.match(canonical)
        if zoned and args is not None:
            return f"{zoned.group(1)}({args}){zoned.group(2)}{suffix}"
        return f"{canonical}({args}){suffix}" if args is not None else canonical + suffix

    def _mysql_type(self, base: str, args: str | None) -> str:
        words = base.split()
        flags = [w for w in words if w in ("unsigned", "signed", "zerofill")]
        name = " ".join(w for w in words if w not in ("unsigned", "signed", "zerofill"))
        canonical = MYSQL_TYPES.get(name, name)
        if canonical == "tinyint(1)":
            return canonical
        if canonical in MYSQL_INTEGERS:
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
        normal = pg_expr(expr) if self.dialect == "postgres" else text_expr(expr)
        if normal in ("null", json.dumps([{"val": {"const": None}}])):
            return None
        if self.dialect == "mysql":
            normal = {"true": "1", "false": "0"}.get(normal, normal)
        return normal

    def _index_column(self, text: str) -> str:
        found = ORDERING.search(text)
        direction = ""
        if found:  # ASC NULLS LAST and DESC NULLS FIRST are the defaults
            order = (found.group(1) or "asc").lower()
            nulls = (found.group(2) or ("last" if order == "asc" else "first")).lower()
            default_nulls = (order == "asc") == (nulls == "last")
            direction = ("" if order == "asc" else " desc") + ("" if default_nulls else f" nulls {nulls}")
            text = text[: found.start()]
        quoted = re.fullmatch(r'"((?:[^"]|"")+)"', text.strip())
        if PLAIN_NAME.match(text.strip()) or quoted:  # a column (`user` alone would parse as a function)
            name = quoted.group(1).replace('""', '"') if quoted else text.strip()
            return f"column {self._key(name)}{direction}"
        if self.dialect == "postgres":
            return pg_expr(text) + direction
        return text_expr(text) + direction

    def _column_type(self, column: Column, view: View) -> str:
        return self._type(column.data_type, (view.schema, view.table.schema_name))

    def _default(self, column: Column) -> str | None:
        return None if column.identity and self.dialect == "postgres" else self._expr(column.default)

    def _collation_changed(self, cur: Column, tgt: Column) -> bool:
        if tgt.collation is None or cur.collation is None:
            return False
        return lower_outside_quotes(cur.collation) != lower_outside_quotes(tgt.collation)

    def _nullable(self, column: Column, view: View) -> bool:
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

    def _fk_ref(self, fk: ForeignKey, view: View, *, target: bool) -> tuple[tuple[str, str], tuple[str, ...]]:
        schema = self._schema(fk.ref_schema or view.table.schema_name, target=target)
        key = self._table_key(schema, fk.ref_table)
        columns = list(fk.ref_columns)
        if not columns:
            views = self.tgt_views if target else self.cur_views
            referenced = views.get(key)
            if referenced is not None and referenced.primary_key is not None:
                columns = list(referenced.primary_key.columns)
        return key, tuple(self._key(c) for c in columns)

    def _fk_sig(self, fk: ForeignKey, view: View, *, target: bool) -> Hashable:
        def action(value: str) -> str:
            return "no action" if self.dialect == "mysql" and value == "restrict" else value

        ref, ref_columns = self._fk_ref(fk, view, target=target)
        if self.dialect == "mysql":
            ref = (ref[0].casefold(), ref[1].casefold())
        columns = tuple(self._key(c) for c in fk.columns)
        return columns, ref, ref_columns, action(fk.on_delete), action(fk.on_update), fk.deferrable

    def _name(self, name: str | None) -> str | None:
        return None if name is None or self.dialect == "sqlite" else self._key(name)

    def _pk_sig(self, pk: PrimaryKey) -> tuple[str, ...]:
        return tuple(self._key(c) for c in pk.columns)
