"""Candidate indexes for one statement, resolved against a catalog with sqlglot's `qualify`.

Per table the query touches, columns are gathered from WHERE and JOIN ... ON (equality and range
predicates, join keys), GROUP BY and ORDER BY, and ordered the way a B-tree can use them: equality
columns first, then one range column, then sort columns. Variants are added where they fit:

* a single-column index per join key (what a nested loop or merge join needs on its inner side);
* a partial index when a predicate compares a low-cardinality column with a constant
  (`WHERE status = 'pending'`): that column moves into the index's WHERE clause;
* an expression index when a predicate wraps the column in a function (`lower(email) = ...`);
* a covering variant with INCLUDE (PostgreSQL 11+) when the table contributes few other select-list columns.

Candidates whose key columns are a prefix of an existing valid index's key columns are skipped: that index
already serves the same lookups. Pure: no I/O, input never mutated.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Final

import sqlglot
from pydantic import BaseModel, ConfigDict, Field
from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import traverse_scope

from dbspecialist.adapters.catalog import Catalog, Table
from dbspecialist.knowledge.indexes.partitioned import is_partitioned, partitioned_index_statements

# Covering (INCLUDE) variants only when the table adds at most this many non-key select-list columns;
# wider INCLUDE lists bloat the index for little gain (pganalyze's index advisor uses a similar small cap).
MAX_INCLUDE_COLUMNS: Final = 3
# Key columns per candidate: Dexter stops at 2; we allow a few more for eq + range + sort composites.
MAX_KEY_COLUMNS: Final = 4
# PostgreSQL truncates identifiers at 63 bytes (NAMEDATALEN - 1).
PG_MAX_IDENTIFIER: Final = 63
# Column names that usually hold a handful of distinct values (status flags, kinds). With no n_distinct at
# hand this name heuristic, boolean types and CHECK (... IN (...)) constraints decide "low cardinality".
LOW_CARDINALITY_NAME: Final = re.compile(r"(^|_)(status|state|type|kind|flag|stage|phase|deleted|active)$|^(is|has)_")
LOW_CARDINALITY_TYPES: Final = ("bool", "boolean")

_DIALECTS: Final = {
    "postgresql": "postgres",
    "postgres": "postgres",
    "mysql": "mysql",
    "mariadb": "mysql",
    "sqlite": "sqlite",
}
_RANGE_OPS: Final = (exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Between)


class Candidate(BaseModel):
    """One index worth testing. `columns` are key columns (SQL text for an expression), in order."""

    model_config = ConfigDict(frozen=True)

    table: str
    schema_name: str | None = None
    columns: list[str]
    include: list[str] = Field(default_factory=list)
    predicate: str | None = Field(default=None, description="WHERE clause of a partial index")
    expression: bool = Field(default=False, description="true when a key is an expression, e.g. lower(email)")
    method: str = "btree"
    ddl: str = Field(description="the statement to run (CREATE INDEX CONCURRENTLY on PostgreSQL)")
    reason: str
    note: str | None = Field(default=None, description="how to run `ddl` safely when it needs more than itself")
    dialect: str = "postgres"

    @property
    def name(self) -> str:
        return index_name(
            self.table,
            self.columns,
            partial=self.predicate is not None,
            covering=bool(self.include),
            predicate=self.predicate,
        )

    @property
    def key(self) -> str:
        """Identity for de-duplication and selection: the DDL."""
        return self.ddl

    def statement(self, *, concurrently: bool) -> str:
        """CREATE INDEX text; `concurrently=False` is the form HypoPG and in-memory copies accept."""
        return _ddl(
            self.dialect,
            self.schema_name,
            self.table,
            self.columns,
            self.include,
            self.predicate,
            concurrently=concurrently,
        )


@dataclass
class _TableUse:
    table: Table
    catalog: Catalog | None = None  # the whole catalog, for a partitioned table's partitions
    equality: list[str] = field(default_factory=list)
    range: list[str] = field(default_factory=list)
    sort: list[str] = field(default_factory=list)
    join: list[str] = field(default_factory=list)
    partial: list[tuple[str, str]] = field(default_factory=list)  # (column, predicate SQL)
    expressions: list[str] = field(default_factory=list)
    selected: list[str] = field(default_factory=list)
    star: bool = False


def sqlglot_dialect(dialect: str) -> str:
    return _DIALECTS.get(dialect.lower(), dialect.lower())


def candidates(sql: str, dialect: str, schema: Catalog) -> list[Candidate]:
    """Candidate indexes for one statement; [] when it cannot be parsed or names no known table."""
    dia = sqlglot_dialect(dialect)
    try:
        tree = sqlglot.parse_one(sql, read=dia)
    except SqlglotError:
        return []
    if tree is None:
        return []
    default_db = _default_schema(schema)
    mapping = _mapping(schema)
    try:
        qualified = qualify(
            tree.copy(),
            schema=mapping,
            dialect=dia,
            db=default_db,
            validate_qualify_columns=False,
            quote_identifiers=False,
            expand_stars=False,
        )
    except (SqlglotError, KeyError, ValueError):
        return []
    uses: dict[tuple[str | None, str], _TableUse] = {}
    try:
        scopes = traverse_scope(qualified)
    except SqlglotError:
        return []
    for scope in scopes:
        _scan_scope(scope, schema, dia, uses)
    out: list[Candidate] = []
    seen: set[str] = set()
    for use in uses.values():
        for cand in _synthesise(use, dia):
            if cand.ddl not in seen and not _covered(cand, use.table):
                seen.add(cand.ddl)
                out.append(cand)
    return out


# ---------------------------------------------------------------------------------------------- resolution


def _default_schema(catalog: Catalog) -> str | None:
    if catalog.engine == "postgresql":
        names = {t.schema_name for t in catalog.tables if t.schema_name}
        return names.pop() if len(names) == 1 else "public"
    return None


def _mapping(catalog: Catalog) -> dict[str, object]:
    if catalog.engine == "postgresql":
        nested: dict[str, object] = {}
        for t in catalog.tables:
            cols = {c.name: c.data_type for c in t.columns}
            nested.setdefault(t.schema_name or "public", {})[t.name] = cols  # type: ignore[index]
        return nested
    return {t.name: {c.name: c.data_type for c in t.columns} for t in catalog.tables}


def _lookup(catalog: Catalog, node: exp.Table) -> Table | None:
    db = node.args.get("db")
    schema_name = db.name if isinstance(db, exp.Identifier) else None
    if catalog.engine != "postgresql":
        schema_name = None
    return catalog.table(node.name, schema_name) or (catalog.table(node.name) if schema_name is None else None)


def _scan_scope(scope: object, catalog: Catalog, dia: str, uses: dict[tuple[str | None, str], _TableUse]) -> None:
    from sqlglot.optimizer.scope import Scope

    assert isinstance(scope, Scope)
    aliases: dict[str, _TableUse] = {}
    for alias, source in scope.selected_sources.items():
        node = source[1]
        if not isinstance(node, exp.Table):
            continue
        table = _lookup(catalog, node)
        if table is None or table.kind not in ("table", "partitioned_table", "materialized_view"):
            continue
        key = (table.schema_name, table.name)
        aliases[alias] = uses.setdefault(key, _TableUse(table=table, catalog=catalog))
    if not aliases:
        return
    select = scope.expression
    if not isinstance(select, exp.Select):
        return
    conditions: list[exp.Expr] = []
    where = select.args.get("where")
    if isinstance(where, exp.Where):
        conditions.extend(_conjuncts(where.this))
    for join in select.args.get("joins") or []:
        on = join.args.get("on")
        if isinstance(on, exp.Expr):
            conditions.extend(_conjuncts(on))
    for cond in conditions:
        _classify(cond, aliases, dia)
    group = select.args.get("group")
    if isinstance(group, exp.Group):
        _add_sort(group.expressions, aliases)
    order = select.args.get("order")
    if isinstance(order, exp.Order):
        items = [o.this if isinstance(o, exp.Ordered) else o for o in order.expressions]
        _add_sort([_projected(i, select) for i in items], aliases)
    for projection in select.expressions:
        if isinstance(projection, exp.Star) or (isinstance(projection, exp.Column) and projection.is_star):
            for use in aliases.values():
                use.star = True
            continue
        for col in projection.find_all(exp.Column):
            owner = aliases.get(col.table)
            if owner is not None and col.name and col.name not in owner.selected:
                owner.selected.append(col.name)
            if isinstance(col.this, exp.Star) and owner is not None:
                owner.star = True


def _projected(item: exp.Expr, select: exp.Select) -> exp.Expr:
    """An ORDER BY name left unqualified by `qualify` (it may name an output column): the column it projects."""
    if not isinstance(item, exp.Column) or item.table:
        return item
    for projection in select.expressions:
        inner = projection.this if isinstance(projection, exp.Alias) else projection
        if projection.alias_or_name == item.name and isinstance(inner, exp.Column) and inner.table:
            return inner
    return item


def _conjuncts(node: exp.Expr) -> Iterable[exp.Expr]:
    node = node.unnest()
    if isinstance(node, exp.And):
        yield from _conjuncts(node.left)
        yield from _conjuncts(node.right)
    else:
        yield node


def _is_constant(node: exp.Expr) -> bool:
    if isinstance(node, exp.Literal | exp.Placeholder | exp.Parameter | exp.Boolean | exp.Null):
        return True
    if isinstance(node, exp.Cast | exp.Neg | exp.Paren):
        return _is_constant(node.this)
    return not list(node.find_all(exp.Column)) and not list(node.find_all(exp.Select))


def _column_of(node: exp.Expr | None, aliases: dict[str, _TableUse]) -> tuple[_TableUse, str] | None:
    if isinstance(node, exp.Column) and node.table in aliases and node.name:
        return aliases[node.table], node.name
    return None


def _classify(cond: exp.Expr, aliases: dict[str, _TableUse], dia: str) -> None:
    if isinstance(cond, exp.EQ | exp.In | exp.Is):
        left = cond.this
        right = cond.args.get("expression")
        if isinstance(cond, exp.In):
            if cond.args.get("query") is not None or not all(_is_constant(e) for e in cond.expressions):
                return
            right = exp.Literal.number(0)
        if isinstance(cond, exp.EQ) and not _column_of(left, aliases) and _column_of(right, aliases):
            left, right = right, left
        col = _column_of(left, aliases)
        if col is not None and isinstance(right, exp.Expr):
            use, name = col
            other = _column_of(right, aliases)
            if other is not None:  # join key: both sides
                if other[0] is not use:
                    _append(use.join, name)
                    _append(other[0].join, other[1])
                    _append(use.equality, name)
                    _append(other[0].equality, other[1])
                return
            if not _is_constant(right):
                return
            if (
                isinstance(cond, exp.EQ)
                and _low_cardinality(use.table, name)
                and isinstance(right, exp.Literal | exp.Boolean)
            ):
                use.partial.append((name, _unqualified(cond, dia)))
            _append(use.equality, name)
            return
        if isinstance(cond, exp.EQ) and isinstance(left, exp.Func) and right is not None and _is_constant(right):
            cols = list(left.find_all(exp.Column))
            if len(cols) == 1 and cols[0].table in aliases:
                _append(aliases[cols[0].table].expressions, _unqualified(left, dia))
        return
    if isinstance(cond, _RANGE_OPS):
        left, right = cond.this, cond.args.get("expression")
        if isinstance(cond, exp.Between):
            if _column_of(left, aliases) and _is_constant(cond.args["low"]) and _is_constant(cond.args["high"]):
                use, name = _column_of(left, aliases)  # type: ignore[misc]
                _append(use.range, name)
            return
        if right is not None and not _column_of(left, aliases) and _column_of(right, aliases):
            left, right = right, left
        col = _column_of(left, aliases)
        if col is not None and right is not None and _is_constant(right):
            _append(col[0].range, col[1])
        return
    if isinstance(cond, exp.Like):
        col = _column_of(cond.this, aliases)
        pattern = cond.expression
        if col is not None and isinstance(pattern, exp.Literal) and pattern.is_string:
            text = pattern.this
            if text and text[0] not in "%_" and _like_can_seek(col[0], col[1], dia):  # no leading wildcard
                _append(col[0].range, col[1])


def _like_can_seek(use: _TableUse, name: str, dia: str) -> bool:
    """Whether an index can serve `LIKE 'prefix%'` on the column.

    SQLite's LIKE is case-insensitive, so it seeks only on a column declared COLLATE NOCASE (or with
    `PRAGMA case_sensitive_like = ON`, which the advisor cannot know): "The LIKE optimization" in SQLite's
    query optimizer overview. Elsewhere the candidate is kept and the verification decides (PostgreSQL needs the C
    collation or text_pattern_ops, which HypoPG's plans show).
    """
    if dia != "sqlite":
        return True
    column = next((c for c in use.table.columns if c.name.lower() == name.lower()), None)
    return column is not None and (column.collation or "").upper() == "NOCASE"


def _add_sort(items: Iterable[exp.Expr], aliases: dict[str, _TableUse]) -> None:
    cols = [_column_of(i, aliases) for i in items]
    if not cols or any(c is None for c in cols):
        return
    owners = {id(c[0]) for c in cols if c}
    if len(owners) != 1:  # sorting across tables: no single index delivers the order
        return
    for c in cols:
        assert c is not None
        _append(c[0].sort, c[1])


def _append(items: list[str], value: str) -> None:
    if value not in items:
        items.append(value)


def _unqualified(node: exp.Expr, dia: str) -> str:
    copy = node.copy()
    for col in copy.find_all(exp.Column):
        col.set("table", None)
        col.set("db", None)
        col.set("catalog", None)
    return copy.sql(dialect=dia)


def _low_cardinality(table: Table, column: str) -> bool:
    col = next((c for c in table.columns if c.name == column), None)
    if col is not None and col.data_type.lower() in LOW_CARDINALITY_TYPES:
        return True
    for check in table.check_constraints:
        if re.search(rf"\b{re.escape(column)}\b.*(\bIN\b|= ANY)", check.expression, re.IGNORECASE):
            return True
    return bool(LOW_CARDINALITY_NAME.search(column.lower()))


# ---------------------------------------------------------------------------------------------- synthesis


def _synthesise(use: _TableUse, dia: str) -> list[Candidate]:
    t = use.table
    out: list[Candidate] = []
    partial_cols = {c for c, _ in use.partial}
    eq = list(use.equality)
    rng = [c for c in use.range if c not in eq][:1]
    sort = [c for c in use.sort if c not in eq and c not in rng]
    main = (eq + rng + sort)[:MAX_KEY_COLUMNS]
    if main:
        parts = [
            f"equality on {', '.join(eq)}" if eq else "",
            f"range on {rng[0]}" if rng else "",
            f"sort/group on {', '.join(sort)}" if sort else "",
        ]
        reason = "; ".join(p for p in parts if p)
        out.append(_make(use, main, [], None, False, dia, f"composite index: {reason}"))
        include = _include(use, main)
        if include and dia == "postgres":
            out.append(
                _make(
                    use,
                    main,
                    include,
                    None,
                    False,
                    dia,
                    f"covering index ({reason}) with INCLUDE so the query never visits the heap",
                )
            )
        if use.partial and dia != "mysql":  # MySQL and MariaDB have no partial indexes
            rest = [c for c in main if c not in partial_cols]
            predicate = " AND ".join(p for _, p in use.partial)
            if rest:
                out.append(
                    _make(
                        use,
                        rest,
                        [],
                        predicate,
                        False,
                        dia,
                        f"partial index: only rows with {predicate} are indexed (low-cardinality filter)",
                    )
                )
    if rng and sort and len(main) > len(eq) + 1:
        # sort columns after a range cannot give the order: the index without them serves the filter, is
        # smaller, and is more likely shared with other queries filtering on the same range
        seek = eq + rng
        out.append(_make(use, seek, [], None, False, dia, f"index for the range on {rng[0]} (without the sort)"))
    for key in use.join:
        if [key] != main:
            out.append(_make(use, [key], [], None, False, dia, f"join key {t.name}.{key}"))
    if sort and not eq and not rng and sort != main:
        out.append(_make(use, sort, [], None, False, dia, f"sort/group on {', '.join(sort)}"))
    if dia != "mysql":  # MariaDB has no functional indexes; MySQL 8 needs ((...)) — left to the PG/SQLite paths
        for expr_sql in use.expressions:
            out.append(
                _make(use, [expr_sql], [], None, True, dia, f"expression index: the predicate filters on {expr_sql}")
            )
    return out


def _include(use: _TableUse, keys: list[str]) -> list[str]:
    if use.star:
        return []
    extra = [c for c in use.selected if c not in keys]
    return extra if 0 < len(extra) <= MAX_INCLUDE_COLUMNS else []


def _make(
    use: _TableUse,
    columns: list[str],
    include: list[str],
    predicate: str | None,
    expression: bool,
    dia: str,
    reason: str,
) -> Candidate:
    t = use.table
    schema_name = t.schema_name if dia == "postgres" else None
    partitioned = dia == "postgres" and is_partitioned(t)
    return Candidate(
        table=t.name,
        schema_name=schema_name,
        columns=columns,
        include=include,
        predicate=predicate,
        expression=expression,
        method="btree",
        # PostgreSQL refuses CREATE INDEX CONCURRENTLY on a partitioned table: the one statement is the plain build.
        ddl=_ddl(
            dia, schema_name, t.name, columns, include, predicate, concurrently=dia == "postgres" and not partitioned
        ),
        reason=reason,
        dialect=dia,
        note=_partitioned_note(use.catalog, t, columns, include, predicate) if partitioned else None,
    )


def _partitioned_note(
    catalog: Catalog | None, table: Table, columns: list[str], include: list[str], predicate: str | None
) -> str:
    """How to build the index on a partitioned table without blocking writes (PostgreSQL)."""
    plain = (
        f"{table.name} is partitioned, and PostgreSQL refuses CONCURRENTLY there: the plain CREATE INDEX blocks "
        "writes to every partition while it builds."
    )
    tail = (f" INCLUDE ({', '.join(_ident(c, 'postgres') for c in include)})" if include else "") + (
        f" WHERE {predicate}" if predicate else ""
    )
    name = index_name(table.name, columns, partial=predicate is not None, covering=bool(include), predicate=predicate)
    steps = (
        partitioned_index_statements(
            catalog.tables, table, [_key(c, "postgres") for c in columns], name=name, tail=tail
        )
        if catalog is not None
        else None
    )
    if not steps:
        return plain
    return (
        f"{plain} To keep writes flowing, run instead: {' '.join(steps)} The parent's index turns valid after the "
        "last ATTACH, and partitions added later get it automatically."
    )


def _ident(name: str, dia: str) -> str:
    return exp.to_identifier(name).sql(dialect=dia)


def index_name(
    table: str, columns: list[str], *, partial: bool = False, covering: bool = False, predicate: str | None = None
) -> str:
    """`<table>_<cols>[_<predicate words>|_partial|_covering]_idx`, cut to the identifier limit.

    Partial indexes on the same columns differ by predicate, so its words go into the name
    (`orders_created_at_status_pending_idx`), keeping two such candidates from sharing a name.
    """
    words = [re.sub(r"[^a-z0-9]+", "_", c.lower()).strip("_") for c in columns]
    suffix = "_covering" if covering and not partial else ""
    if partial:
        tail = re.sub(r"[^a-z0-9]+", "_", (predicate or "").lower()).strip("_")
        suffix = f"_{tail[:24].strip('_')}" if tail else "_partial"
    base = f"{table}_{'_'.join(words)}"[: PG_MAX_IDENTIFIER - len(suffix) - 4]
    return f"{base}{suffix}_idx"


def _ddl(
    dia: str,
    schema_name: str | None,
    table: str,
    columns: list[str],
    include: list[str],
    predicate: str | None,
    *,
    concurrently: bool,
) -> str:
    name = index_name(table, columns, partial=predicate is not None, covering=bool(include), predicate=predicate)
    target = f"{_ident(schema_name, dia)}.{_ident(table, dia)}" if schema_name else _ident(table, dia)
    keys = ", ".join(_key(c, dia) for c in columns)
    sql = f"CREATE INDEX {'CONCURRENTLY ' if concurrently else ''}{_ident(name, dia)} ON {target} ({keys})"
    if include:
        sql += f" INCLUDE ({', '.join(_ident(c, dia) for c in include)})"
    if predicate:
        sql += f" WHERE {predicate}"
    return sql


def _key(column: str, dia: str) -> str:
    if re.fullmatch(r"\w+", column):
        return _ident(column, dia)
    if re.fullmatch(r"\w+\(.*\)", column, re.DOTALL):  # a function call needs no extra parentheses
        return column
    return f"({column})"


def _normalise(text: str) -> str:
    return re.sub(r'[\s"`\[\]]', "", text.lower())


def _covered(cand: Candidate, table: Table) -> bool:
    """An existing valid, non-partial index whose leading key columns equal the candidate's columns."""
    wanted = [_normalise(c) for c in cand.columns]
    for index in table.indexes:
        if not index.valid or index.predicate:
            continue
        have = [_normalise(c).removesuffix("desc").removesuffix("asc") for c in index.columns]
        if have[: len(wanted)] == wanted:
            return True
    pk = table.primary_key
    return pk is not None and [_normalise(c) for c in pk.columns][: len(wanted)] == wanted


__all__ = ["MAX_INCLUDE_COLUMNS", "MAX_KEY_COLUMNS", "Candidate", "candidates", "index_name", "sqlglot_dialect"]
