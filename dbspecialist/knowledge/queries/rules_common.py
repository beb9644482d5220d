"""Shared by the QRY rules (rules_*.py): thresholds, the finding builder, rewriting on a copy, walking conditions,
and resolving a column to its table and catalog entry.

Column-to-table resolution follows the same scoping rules as sqlglot's `qualify`: a qualified
column maps through the statement's table aliases; an unqualified one belongs to the only table
of its SELECT, or, with a catalog, to the one table of that SELECT that has the column.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from pydantic import Field
from sqlglot import exp

from dbspecialist.adapters.catalog import Catalog, Column, Table
from dbspecialist.knowledge.findings import Finding, Fix, RuleSpec, Severity
from dbspecialist.knowledge.indexes.partitioned import PARTITIONED_NOTE, is_partitioned, partitioned_index_statements
from dbspecialist.knowledge.sql_text import quote_ident

Check = Callable[[exp.Expr, str, int, Catalog | None, str], Iterator[Finding]]

# Thresholds (named, with their source).
LARGE_OFFSET = 1000  # our choice: past ~1,000 skipped rows OFFSET paging costs more than the page itself
LARGE_IN_LIST = 1000  # Oracle's hard limit on IN-list literals; also where PostgreSQL planning time becomes visible
SUBJECT_CHARS = 80  # brief: subject = first 80 characters of the statement + " (line N)"

_ENGINES = {"postgres": "postgresql", "mysql": "mysql", "sqlite": "sqlite"}
_COMPARISONS: tuple[type[exp.Expr], ...] = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE)
_PREDICATES: tuple[type[exp.Expr], ...] = (*_COMPARISONS, exp.In, exp.Between, exp.Like, exp.ILike)


# ----------------------------------------------------------------------------------------------- helpers


def engine_of(dialect: str) -> str:
    return _ENGINES.get(dialect, "any")


def engine_dialect(engine: str) -> str:
    return {v: k for k, v in _ENGINES.items()}.get(engine, "")


def _subject(text: str, line: int) -> str:
    return f"{' '.join(text.split())[:SUBJECT_CHARS]} (line {line})"


def _finding(
    spec: RuleSpec,
    text: str,
    line: int,
    *,
    title: str,
    evidence: dict[str, int | float | str | bool | None],
    rationale: str,
    help: str,
    fix: Fix | None = None,
    severity: Severity | None = None,
    table: str | None = None,
) -> Finding:
    return Finding(
        rule_id=spec.id,
        name=spec.name,
        severity=severity or spec.severity,
        title=title,
        subject=_subject(text, line),
        table=table,
        subject_kind="query",
        evidence=evidence,
        rationale=rationale,
        help=help,
        fix=fix,
        line=line,
    )


def _sql(node: exp.Expr, dialect: str) -> str:
    return node.sql(dialect=dialect or None)


def node_path(node: exp.Expr, root: exp.Expr) -> list[tuple[str, int | None]]:
    """How to reach `node` from `root` (arg keys and list positions), to find its twin in a copy."""
    path: list[tuple[str, int | None]] = []
    current: exp.Expr | None = node
    while current is not None and current is not root:
        path.append((current.arg_key or "this", current.index))
        current = current.parent
    path.reverse()
    return path


def follow_path(root: exp.Expr, path: list[tuple[str, int | None]]) -> exp.Expr:
    node = root
    for key, index in path:
        value = node.args[key]
        node = value[index] if isinstance(value, list) and index is not None else value
    return node


def _rewrite(root: exp.Expr, replacements: list[tuple[exp.Expr, exp.Expr]], dialect: str) -> str:
    """The statement with each target node replaced (on a copy: the input is never mutated)."""
    if len(replacements) == 1 and replacements[0][0] is root:
        return _sql(replacements[0][1], dialect) + ";"
    copy = root.copy()
    targets = [(follow_path(copy, node_path(target, root)), new) for target, new in replacements]
    for target, new in targets:
        target.replace(new)
    return _sql(copy, dialect) + ";"


def _walk_local(node: exp.Expr) -> Iterator[exp.Expr]:
    """Nodes of an expression without descending into nested queries."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        for child in current.iter_expressions():
            if not isinstance(child, (exp.Subquery, exp.Select, exp.SetOperation)):
                stack.append(child)


def _conditions(root: exp.Expr) -> Iterator[tuple[str, exp.Expr]]:
    """(clause, condition) for every WHERE and JOIN ... ON in the statement, at any depth."""
    for node in root.walk():
        if isinstance(node, exp.Where):
            yield "WHERE", node.this
        elif isinstance(node, exp.Join) and node.args.get("on") is not None:
            yield "JOIN", node.args["on"]


def _predicates(condition: exp.Expr) -> Iterator[exp.Expr]:
    for node in _walk_local(condition):
        if isinstance(node, _PREDICATES):
            yield node


def _unparen(node: exp.Expr) -> exp.Expr:
    while isinstance(node, exp.Paren):
        node = node.this
    return node


def _direct_sources(select: exp.Select) -> list[tuple[str, exp.Expr]]:
    """(alias, source) for the FROM item and every JOIN of one SELECT."""
    items: list[exp.Expr] = []
    from_ = select.args.get("from_")
    if from_ is not None:
        items.append(from_.this)
    items.extend(join.this for join in select.args.get("joins") or [])
    return [(item.alias_or_name, item) for item in items]


def _real_table(node: exp.Expr) -> str | None:
    if isinstance(node, exp.Table) and isinstance(node.this, exp.Identifier):
        return node.name
    return None


def _enclosing_select(node: exp.Expr) -> exp.Select | None:
    parent = node.parent
    while parent is not None and not isinstance(parent, exp.Select):
        parent = parent.parent
    return parent


class QueryCatalog(Catalog):
    """A catalog plus the schemas an unqualified table name resolves through, in order (PostgreSQL's search_path)."""

    search_path: list[str] = Field(default_factory=list)


TableRef = str | exp.Table  # a bare name, or the table node as the query wrote it (with its schema, if any)


def _search_path(schema: Catalog) -> list[str]:
    """Where an unqualified name is looked up: the connection's search path when known, else the default schema."""
    path = list(getattr(schema, "search_path", None) or [])
    if path:
        return path
    if schema.engine == "postgresql":
        return ["public"]
    return [schema.database] if schema.database else []


def catalog_table(schema: Catalog | None, name: TableRef | None) -> Table | None:
    """The catalog table a query names. `shop.orders` is that schema's table; a bare name is the only table so
    named, or the first match along the search path; several candidates and none on the path → None (unknown)."""
    if schema is None or name is None:
        return None
    db: str | None = None
    if isinstance(name, exp.Table):
        db = name.db or None
        name = name.name
    low = name.lower()
    matches = [t for t in schema.tables if t.name.lower() == low]
    if db is not None:
        in_schema = [t for t in matches if (t.schema_name or "").lower() == db.lower()]
        if in_schema:
            return next((t for t in in_schema if t.name == name), in_schema[0])
        # A catalog without schema names (offline DDL, SQLite) cannot contradict the qualifier.
        return matches[0] if len(matches) == 1 and matches[0].schema_name is None else None
    if len(matches) <= 1:
        return matches[0] if matches else None
    for path_schema in _search_path(schema):
        on_path = [t for t in matches if (t.schema_name or "").lower() == path_schema.lower()]
        if on_path:
            return next((t for t in on_path if t.name == name), on_path[0])
    return None  # the same name in several schemas, none of them on the search path: do not guess


def catalog_column(schema: Catalog | None, table: TableRef | None, column: str) -> Column | None:
    found = catalog_table(schema, table)
    if found is None:
        return None
    low = column.lower()
    return next((c for c in found.columns if c.name.lower() == low), None)


def _bare_columns(node: exp.Expr) -> exp.Expr:
    """A copy of `node` whose columns lose their table/alias qualifier (`o.note` → `note`)."""
    copy = node.copy()
    for column in copy.find_all(exp.Column):
        for part in ("table", "db", "catalog"):
            column.set(part, None)
    return copy


def _is_mariadb(schema: Catalog | None) -> bool:
    """True when the live catalog comes from a MariaDB server (its version string says so)."""
    return schema is not None and "mariadb" in (schema.server_version or "").lower()


def _as_table(node: exp.Expr) -> exp.Table | None:
    return node if isinstance(node, exp.Table) and isinstance(node.this, exp.Identifier) else None


def _source_of(column: exp.Column, schema: Catalog | None) -> exp.Table | None:
    """The table node (as written in FROM/JOIN) an (un)qualified column belongs to, or None when it cannot be told."""
    select = _enclosing_select(column)
    while select is not None:
        sources = _direct_sources(select)
        if column.table:
            for alias, source in sources:
                if alias.lower() == column.table.lower():
                    return _as_table(source)
        else:
            tables = [t for t in (_as_table(s) for _, s in sources) if t is not None]
            if len(sources) == 1 and len(tables) == 1:
                return tables[0]
            if schema is not None:
                having = [t for t in tables if catalog_column(schema, t, column.name) is not None]
                if len(having) == 1:
                    return having[0]
            return None
        select = _enclosing_select(select)
    return None


def table_of(column: exp.Column, schema: Catalog | None) -> str | None:
    """The real table (bare name) an (un)qualified column belongs to, or None when it cannot be told."""
    source = _source_of(column, schema)
    return _real_table(source) if source is not None else None


def table_sql(column: exp.Column, schema: Catalog | None, engine: str) -> str | None:
    """That table as the query names it (`shop.orders` stays qualified), quoted for `engine`, for fix DDL."""
    source = _source_of(column, schema)
    if source is None:
        return None
    return ".".join(quote_ident(part, engine) for part in (source.db, source.name) if part)


def _indexes_leading_with(schema: Catalog | None, table: TableRef | None, column: str) -> list[str]:
    found = catalog_table(schema, table)
    if found is None:
        return []
    low = column.lower()
    return [i.name for i in found.indexes if i.columns and i.columns[0].lower() == low and i.valid]


def _norm(text: str) -> str:
    return re.sub(r"[\s\"`()]+", "", text).lower()


def _has_expression_index(schema: Catalog | None, table: TableRef | None, expression: str) -> bool:
    found = catalog_table(schema, table)
    if found is None:
        return False
    want = _norm(expression)
    return any(i.columns and _norm(i.columns[0]) == want for i in found.indexes)


def _literal_number(node: exp.Expr) -> float | None:
    node = _unparen(node)
    negative = False
    if isinstance(node, exp.Neg):
        negative, node = True, node.this
    if isinstance(node, exp.Literal) and not node.is_string:
        try:
            value = float(node.this)
        except ValueError:
            return None
        return -value if negative else value
    return None


def _root_selects(root: exp.Expr) -> list[exp.Select]:
    """The SELECTs whose columns are the statement's output (set-operation branches included)."""
    node = root
    if isinstance(node, exp.Insert):
        node = node.expression
    if isinstance(node, exp.Subquery):
        node = node.this
    if isinstance(node, exp.Select):
        return [node]
    if isinstance(node, exp.SetOperation):
        return [s for s in (_root_selects(node.left) + _root_selects(node.right))]
    return []


def _inside(node: exp.Expr, kinds: tuple[type[exp.Expr], ...]) -> bool:
    return node.find_ancestor(*kinds) is not None


# ----------------------------------------------------------------------------------------------- index DDL

PARTITIONED_NO_PARTITIONS_NOTE = (
    "A partitioned table refuses CONCURRENTLY; with no partition known the plain build is the way (it blocks "
    "writes to every partition while it runs). With partitions, build each partition's index CONCURRENTLY, then "
    "CREATE INDEX ... ON ONLY the parent and ALTER INDEX ... ATTACH PARTITION each one."
)


def _pg_index_ddl(
    schema: Catalog | None, source: TableRef | None, target: str, name: str, key: list[str], using: str = ""
) -> tuple[list[str], str | None]:
    """PostgreSQL index DDL for fixes: CREATE INDEX CONCURRENTLY, or the per-partition build on a partitioned table.

    `key` is the key SQL, already quoted; `using` an optional ` USING method`. The second item is the note the
    partitioned build needs (None for the plain CONCURRENTLY statement).
    """
    found = catalog_table(schema, source)
    if schema is None or found is None or not is_partitioned(found):
        return [f"CREATE INDEX CONCURRENTLY {name} ON {target}{using} ({', '.join(key)});"], None
    steps = partitioned_index_statements(schema.tables, found, key, name=name, using=using)
    if steps is None:
        return [f"CREATE INDEX {name} ON {target}{using} ({', '.join(key)});"], PARTITIONED_NO_PARTITIONS_NOTE
    return steps, PARTITIONED_NOTE
