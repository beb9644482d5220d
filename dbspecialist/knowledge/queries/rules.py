"""QRY rules: anti-patterns visible in the SQL text alone (static review, nothing runs).

Each rule is a `(RuleSpec, check)` pair in `RULES`. A check receives the parsed sqlglot expression
(never mutated), the statement text, its first line in the reviewed text, the live `Catalog` when
one is known (column types, nullability, indexes) and the sqlglot dialect name, and yields
findings with `subject_kind="query"`.

Column-to-table resolution follows the same scoping rules as sqlglot's `qualify`: a qualified
column maps through the statement's table aliases; an unqualified one belongs to the only table
of its SELECT, or, with a catalog, to the one table of that SELECT that has the column.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator

from pydantic import Field
from sqlglot import exp

from dbspecialist.adapters.catalog import Catalog, Column, Table
from dbspecialist.knowledge.findings import Finding, Fix, RuleSpec, Severity
from dbspecialist.knowledge.indexes.partitioned import PARTITIONED_NOTE, is_partitioned, partitioned_index_statements
from dbspecialist.knowledge.sql_text import index_name, quote_ident

Check = Callable[[exp.Expr, str, int, Catalog | None, str], Iterator[Finding]]

# Thresholds (named, with their source).
LARGE_OFFSET = 1000  # our choice: past ~1,000 skipped rows OFFSET paging costs more than the page itself
LARGE_IN_LIST = 1000  # Oracle's hard limit on IN-list literals; also where PostgreSQL planning time becomes visible
SUBJECT_CHARS = 80  # brief: subject = first 80 characters of the statement + " (line N)"

_ENGINES = {"postgres": "postgresql", "mysql": "mysql", "sqlite": "sqlite"}
_COMPARISONS: tuple[type[exp.Expr], ...] = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE)
_PREDICATES: tuple[type[exp.Expr], ...] = (*_COMPARISONS, exp.In, exp.Between, exp.Like, exp.ILike)
_ARITHMETIC: tuple[type[exp.Expr], ...] = (exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Mod, exp.DPipe)
_TEXT_TYPES = re.compile(r"char|text|string|clob|citext|enum|uuid", re.I)
_INT_TYPES = re.compile(r"int|serial", re.I)
_NUMERIC_TYPES = re.compile(r"int|serial|numeric|decimal|real|double|float|money", re.I)
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


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


# ----------------------------------------------------------------------------------------------- QRY001

SELECT_STAR = RuleSpec(
    id="QRY001",
    name="select-star",
    capability="queries",
    engines=("postgresql", "mysql", "sqlite", "any"),
    severity=Severity.LOW,
    status="preview",
    fix="sometimes",
    summary="The outer SELECT returns every column with *.",
)


def check_select_star(root: exp.Expr, text: str, line: int, schema: Catalog | None, dialect: str) -> Iterator[Finding]:
    """SELECT * fetches every column, including ones the caller never reads.

    ## Why is this bad?
    The query ships wide rows it does not need, it can never be answered from a covering
    (index-only) scan, and it silently changes shape when a column is added or dropped, which
    breaks positional consumers and views.

    ## Example
    ```sql
    SELECT * FROM orders WHERE customer_id = 17;
    ```

    ## Use instead
    ```sql
    SELECT id, status, total FROM orders WHERE customer_id = 17;
    ```

    ## Fix safety
    Display-only: the rewrite lists every column the catalog knows, so trim it to the ones the
    caller reads. Stars inside EXISTS (...) are harmless and never flagged.
    """
    for select in _root_selects(root):
        stars = [e for e in select.expressions if isinstance(e, exp.Star) or (isinstance(e, exp.Column) and e.is_star)]
        if not stars or _inside(select, (exp.Exists,)):
            continue
        sources = _direct_sources(select)
        nodes = [t for t in (_as_table(s) for _, s in sources) if t is not None]
        tables = [t.name for t in nodes]
        fix = None
        found = catalog_table(schema, nodes[0]) if len(sources) == 1 and len(nodes) == 1 else None
        if found is not None and found.columns and len(stars) == len(select.expressions):
            engine = engine_of(dialect)
            columns = [exp.column(quote_ident(c.name, engine)) for c in found.columns]
            new = select.copy()
            new.set("expressions", columns)
            fix = Fix(
                title=f"List the columns of {found.name} the caller reads",
                statements=[_rewrite(root, [(select, new)], dialect)],
                safety="display-only",
                note="Every column is listed; keep only the ones the application uses.",
            )
        yield _finding(
            SELECT_STAR,
            text,
            line,
            title="SELECT * returns every column, so no covering index can serve it and the result changes shape",
            evidence={"stars": len(stars), "tables": len(sources)},
            rationale=(
                "Fetching columns nobody reads costs I/O and network, rules out index-only scans and "
                "couples the caller to the table's current column list."
            ),
            help="Name the columns the caller needs.",
            fix=fix,
            table=tables[0] if len(tables) == 1 else None,
        )


# ----------------------------------------------------------------------------------------------- QRY002

NOT_IN_SUBQUERY = RuleSpec(
    id="QRY002",
    name="not-in-subquery",
    capability="queries",
    engines=("postgresql", "mysql", "sqlite", "any"),
    severity=Severity.HIGH,
    status="preview",
    fix="always",
    summary="NOT IN (subquery) returns no rows as soon as the subquery yields a NULL.",
)


def _subquery_select(node: exp.Expr) -> exp.Select | None:
    node = _unparen(node)
    if isinstance(node, exp.Subquery):
        node = node.this
    return node if isinstance(node, exp.Select) else None


def _not_exists_for(outer: exp.Expr, inner_select: exp.Select) -> exp.Expr | None:
    """NOT EXISTS (SELECT 1 FROM ... WHERE ... AND inner = outer), or None when it cannot be built."""
    if len(inner_select.expressions) != 1:
        return None
    inner_col = _unparen(inner_select.expressions[0])
    if isinstance(inner_col, exp.Alias):
        inner_col = inner_col.this
    if not isinstance(inner_col, exp.Column) or inner_select.args.get("group") or inner_select.args.get("limit"):
        return None
    outer = outer.copy()
    inner_col = inner_col.copy()
    sources = _direct_sources(inner_select)
    if not inner_col.table and len(sources) == 1:
        inner_col.set("table", exp.to_identifier(sources[0][0]))
    if isinstance(outer, exp.Column) and not outer.table:
        outer_select = _enclosing_select(inner_select)
        outer_sources = _direct_sources(outer_select) if outer_select is not None else []
        if len(outer_sources) == 1:
            outer.set("table", exp.to_identifier(outer_sources[0][0]))
    new = inner_select.copy()
    new.set("expressions", [exp.Literal.number(1)])
    new = new.where(exp.EQ(this=inner_col, expression=outer), copy=False)
    return exp.Not(this=exp.Exists(this=new))


def check_not_in_subquery(
    root: exp.Expr, text: str, line: int, schema: Catalog | None, dialect: str
) -> Iterator[Finding]:
    """NOT IN (subquery) is wrong as soon as the subquery returns a NULL, and plans badly.

    ## Why is this bad?
    `x NOT IN (1, NULL)` is never true, so one NULL in the subquery's column makes the whole
    query return nothing. PostgreSQL also cannot turn NOT IN into an anti-join: it runs a
    hashed subplan, or re-scans the subquery per row when the hash does not fit in work_mem.

    ## Example
    ```sql
    SELECT id FROM customers WHERE id NOT IN (SELECT customer_id FROM orders);
    ```

    ## Use instead
    ```sql
    SELECT id FROM customers c
    WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id);
    ```

    ## Fix safety
    Safe when the subquery's column cannot be NULL (same result, better plan). When it can be
    NULL the rewrite returns the rows the author most likely meant, which NOT IN did not.
    """
    for node in root.walk():
        if not (isinstance(node, exp.Not) and isinstance(_unparen(node.this), exp.In)):
            continue
        in_node = _unparen(node.this)
        inner = _subquery_select(in_node.args.get("query") or exp.Null())
        if inner is None:
            continue
        severity = Severity.MEDIUM
        nullable: bool | None = None
        inner_expr = _unparen(inner.expressions[0]) if len(inner.expressions) == 1 else None
        if isinstance(inner_expr, exp.Alias):
            inner_expr = inner_expr.this
        if isinstance(inner_expr, exp.Column) and schema is not None:
            column = catalog_column(schema, _source_of(inner_expr, schema), inner_expr.name)
            if column is not None:
                nullable = column.nullable
        if nullable is False:
            continue
        if nullable is True:
            severity = Severity.HIGH
        replacement = _not_exists_for(in_node.this, inner)
        fix = None
        if replacement is not None:
            fix = Fix(
                title="Rewrite NOT IN (subquery) as NOT EXISTS",
                statements=[_rewrite(root, [(node, replacement)], dialect)],
                safety="unsafe",
                note="NOT EXISTS ignores NULLs in the subquery; NOT IN returned no rows when one was present.",
            )
        column_text = _sql(inner_expr, dialect) if inner_expr is not None else None
        yield _finding(
            NOT_IN_SUBQUERY,
            text,
            line,
            title=(
                f"NOT IN over the nullable column {column_text} returns no rows once a NULL appears"
                if nullable
                else "NOT IN (subquery) returns no rows if the subquery's column may be NULL"
            ),
            evidence={"subquery_column": column_text, "nullable": nullable},
            rationale=(
                "A NULL in the subquery makes NOT IN unknown for every row, and the planner cannot use an "
                "anti-join for it, so it is both a correctness trap and a slow plan."
            ),
            help="Use NOT EXISTS (correlated on the same columns) instead of NOT IN (subquery).",
            fix=fix,
            severity=severity,
            table=table_of(inner_expr, schema) if isinstance(inner_expr, exp.Column) else None,
        )


# ----------------------------------------------------------------------------------------------- QRY003

NON_SARGABLE = RuleSpec(
    id="QRY003",
    name="non-sargable-predicate",
    capability="queries",
    engines=("postgresql", "mysql", "sqlite", "any"),
    severity=Severity.MEDIUM,
    status="preview",
    fix="sometimes",
    summary="A function, cast or arithmetic wraps a column in WHERE or JOIN, so its index cannot be used.",
)


def _wrapped_column(side: exp.Expr) -> exp.Column | None:
    side = _unparen(side)
    if isinstance(side, (exp.Column, exp.Literal, exp.Parameter, exp.Placeholder, exp.Null, exp.Subquery)):
        return None
    if isinstance(side, exp.AggFunc) or side.find(exp.AggFunc, exp.Subquery, exp.Select, exp.Window) is not None:
        return None
    if not isinstance(side, (exp.Func, exp.Cast, exp.Extract, *_ARITHMETIC)):
        return None
    columns = list(side.find_all(exp.Column))
    names = {(c.table, c.name) for c in columns}
    return columns[0] if len(names) == 1 else None


def _date_of(side: exp.Expr) -> exp.Column | None:
    """The column under date(col) / col::date / DATE(col)."""
    side = _unparen(side)
    if (isinstance(side, exp.Cast) and side.to.this == exp.DataType.Type.DATE) or isinstance(
        side, (exp.Date, exp.TsOrDsToDate)
    ):
        inner = _unparen(side.this)
    else:
        return None
    if isinstance(inner, exp.TsOrDsToDate):
        inner = _unparen(inner.this)
    return inner if isinstance(inner, exp.Column) else None


def _year_of(side: exp.Expr) -> exp.Column | None:
    side = _unparen(side)
    inner: exp.Expr | None = None
    if isinstance(side, exp.Extract) and side.this.name.upper() == "YEAR":
        inner = side.expression
    elif isinstance(side, exp.Year):
        inner = side.this
    if isinstance(inner, exp.TsOrDsToDate):
        inner = inner.this
    return inner if isinstance(inner, exp.Column) else None


def _range_rewrite(predicate: exp.Expr, side: exp.Expr, other: exp.Expr) -> exp.Expr | None:
    """date(col) = 'D' → col >= 'D' AND col < 'D+1'; EXTRACT(YEAR FROM col) = Y → a year range."""
    if not isinstance(predicate, exp.EQ):
        return None
    other = _unparen(other)
    column = _date_of(side)
    if column is not None and isinstance(other, exp.Literal) and other.is_string and _ISO_DATE.match(other.this):
        try:
            start = dt.date.fromisoformat(other.this)
        except ValueError:
            return None
        end = start + dt.timedelta(days=1)
    else:
        column = _year_of(side)
        year = _literal_number(other)
        if column is None or year is None or not year.is_integer() or not 1 <= year < 9999:
            return None
        start, end = dt.date(int(year), 1, 1), dt.date(int(year) + 1, 1, 1)
    return exp.and_(
        exp.GTE(this=column.copy(), expression=exp.Literal.string(start.isoformat())),
        exp.LT(this=column.copy(), expression=exp.Literal.string(end.isoformat())),
    )


def _has_column(node: exp.Expr) -> bool:
    return node.find(exp.Column, exp.Subquery, exp.Select) is not None


def _shift_rewrite(
    predicate: exp.Expr, side: exp.Expr, position: int, column_type: str | None, dialect: str
) -> tuple[exp.Expr, bool] | None:
    """`col + c OP x` → `col OP x - c` and `col - c OP x` → `col OP x + c` when c and x name no column.

    Returns (new predicate, exact): exact for plain numbers; an interval can move the boundary (month ends,
    daylight-saving changes), so the rewrite is then not exactly the same test. An untyped x (a quoted literal,
    a parameter) took the column's type from the comparison; moved next to an interval it would not, so it is
    cast to the column's type, and without a known type no rewrite is offered.
    """
    if not isinstance(predicate, _COMPARISONS):
        return None
    inner = _unparen(side)
    other = predicate.expression if position == 0 else predicate.this
    if _has_column(other) or not isinstance(inner, (exp.Add, exp.Sub)):
        return None
    left, right = _unparen(inner.this), _unparen(inner.expression)
    if isinstance(left, exp.Column) and not _has_column(right):
        column, constant = left, right
    elif isinstance(inner, exp.Add) and isinstance(right, exp.Column) and not _has_column(left):
        column, constant = right, left
    else:
        return None
    operand = exp.paren(other.copy()) if isinstance(_unparen(other), _ARITHMETIC) else other.copy()
    amount = exp.paren(constant.copy()) if isinstance(constant, _ARITHMETIC) else constant.copy()
    untyped = _unparen(other)
    if _literal_number(constant) is None and (
        (isinstance(untyped, exp.Literal) and untyped.is_string)
        or isinstance(untyped, (exp.Parameter, exp.Placeholder))
    ):
        if column_type is None:
            return None
        try:
            operand = exp.cast(other.copy(), exp.DataType.build(column_type, dialect=dialect or None))
        except Exception:  # a type sqlglot cannot write back
            return None
    moved: exp.Expr = (
        exp.Sub(this=operand, expression=amount)
        if isinstance(inner, exp.Add)
        else exp.Add(this=operand, expression=amount)
    )
    new = predicate.copy()
    new.set("this" if position == 0 else "expression", column.copy())
    new.set("expression" if position == 0 else "this", moved)
    exact = constant.find(exp.Interval) is None and _literal_number(constant) is not None
    return new, exact


# Functions PostgreSQL marks STABLE or VOLATILE (pg_proc.provolatile), so an index expression cannot use them.
_NOT_IMMUTABLE_NODES: tuple[type[exp.Expr], ...] = (
    exp.CurrentTimestamp,
    exp.CurrentDate,
    exp.CurrentTime,
    exp.Localtimestamp,
    exp.Rand,
    exp.TimeToStr,  # to_char(timestamp/timestamptz, ...) is STABLE
)
_NOT_IMMUTABLE_NAMES = frozenset(
    {
        "age",
        "clock_timestamp",
        "current_setting",
        "localtime",
        "nextval",
        "now",
        "random",
        "statement_timestamp",
        "timeofday",
        "to_char",
        "transaction_timestamp",
        "uuid_generate_v4",
        "gen_random_uuid",
    }
)
_TEMPORAL_NODES: tuple[type[exp.Expr], ...] = (
    exp.Interval,
    exp.Date,
    exp.TsOrDsToDate,
    exp.Extract,
    exp.TimestampTrunc,
    exp.DateTrunc,
    exp.AtTimeZone,
)
_TEMPORAL_CASTS = frozenset(
    {
        exp.DataType.Type.DATE,
        exp.DataType.Type.TIME,
        exp.DataType.Type.TIMETZ,
        exp.DataType.Type.TIMESTAMP,
        exp.DataType.Type.TIMESTAMPTZ,
    }
)
_TEXT_CASTS = frozenset({exp.DataType.Type.TEXT, exp.DataType.Type.VARCHAR, exp.DataType.Type.CHAR})
_ZONED = re.compile(r"with time zone|timestamptz|timetz", re.I)
_TEMPORAL_TYPE = re.compile(r"timestamp|date|time|interval", re.I)


def _not_immutable(side: exp.Expr, column_type: str | None, engine: str) -> str | None:
    """Why PostgreSQL would refuse an index on `side` ("functions in index expression must be marked IMMUTABLE"),
    or None when it accepts it. `column_type` is the wrapped column's type (None: unknown, no catalog).
    MySQL only refuses the non-deterministic functions (NOW(), RAND(), ...)."""
    for node in side.walk():
        if isinstance(node, _NOT_IMMUTABLE_NODES) or (
            isinstance(node, exp.Anonymous) and str(node.this).lower() in _NOT_IMMUTABLE_NAMES
        ):
            return f"{_sql(node, engine_dialect(engine))} changes between calls (not IMMUTABLE)"
    if engine != "postgresql":
        return None
    temporal = any(isinstance(n, _TEMPORAL_NODES) for n in side.walk()) or any(
        isinstance(n, exp.Cast) and n.to.this in _TEMPORAL_CASTS for n in side.walk()
    )
    casts_to_text = any(isinstance(n, exp.Cast) and n.to.this in _TEXT_CASTS for n in side.walk())
    if column_type is not None and _ZONED.search(column_type):
        if temporal or casts_to_text:
            return f"date/time arithmetic, casts and functions on a {column_type} column depend on TimeZone (STABLE)"
        return None
    if column_type is None and temporal:
        return "the column's type is unknown, and on a timestamptz column this expression depends on TimeZone (STABLE)"
    if column_type is not None and casts_to_text and _TEMPORAL_TYPE.search(column_type):
        return f"casting {column_type} to text depends on DateStyle (STABLE)"
    return None


def check_non_sargable(root: exp.Expr, text: str, line: int, schema: Catalog | None, dialect: str) -> Iterator[Finding]:
    """A function, cast or arithmetic on a column in WHERE/JOIN hides the column from its index.

    ## Why is this bad?
    An index on `created_at` is ordered by `created_at`, not by `date(created_at)`. Once the
    column is wrapped the planner must compute the expression for every row and cannot seek,
    so a selective filter turns into a full scan.

    ## Example
    ```sql
    SELECT id FROM orders WHERE date(created_at) = '2024-01-01';
    ```

    ## Use instead
    ```sql
    SELECT id FROM orders WHERE created_at >= '2024-01-01' AND created_at < '2024-01-02';
    ```

    ## Fix safety
    The range rewrite is safe for date and year tests on date/timestamp columns. Arithmetic with a
    constant moves to the other side (`created_at + interval '1 day' > now()` becomes
    `created_at > now() - interval '1 day'`): exact for numbers, unsafe for intervals, whose month
    and daylight-saving boundaries do not invert exactly. Otherwise the fix is an expression index
    matching the predicate exactly, which costs write time and space; it is never proposed when
    PostgreSQL would refuse it as not IMMUTABLE (now(), to_char, date/time functions and casts on
    timestamptz, or on a column whose type is unknown).
    """
    engine = engine_of(dialect)
    for clause, condition in _conditions(root):
        for predicate in _predicates(condition):
            sides = [predicate.this, predicate.expression] if isinstance(predicate, _COMPARISONS) else [predicate.this]
            if isinstance(predicate, (exp.Like, exp.ILike, exp.In, exp.Between)):
                sides = [predicate.this]
            for position, side in enumerate(sides):
                column = _wrapped_column(side)
                if column is None:
                    continue
                source = _source_of(column, schema)
                table = _real_table(source) if source is not None else None
                side_sql = _sql(_bare_columns(_unparen(side)), dialect)  # as an index expression: no alias
                if _has_expression_index(schema, source, side_sql):
                    continue
                indexed = _indexes_leading_with(schema, source, column.name)
                other = sides[1 - position] if len(sides) == 2 else exp.Null()
                rewrite = _range_rewrite(predicate, side, other)
                known = catalog_column(schema, source, column.name)
                shifted = (
                    _shift_rewrite(predicate, side, position, known.data_type if known else None, dialect)
                    if rewrite is None
                    else None
                )
                refused = (
                    _not_immutable(_unparen(side), known.data_type if known is not None else None, engine)
                    if engine in ("postgresql", "mysql")
                    else None
                )
                fix: Fix | None
                if rewrite is not None:
                    fix = Fix(
                        title=f"Compare {column.name} itself against a range",
                        statements=[_rewrite(root, [(predicate, rewrite)], dialect)],
                        safety="safe",
                        note="Same rows for date and timestamp columns; the index on the column becomes usable.",
                    )
                elif shifted is not None:
                    new_predicate, exact = shifted
                    fix = Fix(
                        title=f"Move the arithmetic to the other side so {column.name} stands alone",
                        statements=[_rewrite(root, [(predicate, new_predicate)], dialect)],
                        safety="safe" if exact else "unsafe",
                        note=(
                            "The same test with the column bare, so an index on it can seek."
                            if exact
                            else "The column stands bare, so its index can seek. With an interval the boundary can "
                            "move slightly: months and years do not invert at month ends, and days on timestamptz "
                            "follow daylight-saving changes; fixed units (hours, minutes, seconds) are exact."
                        ),
                    )
                elif refused is not None:
                    fix = None  # PostgreSQL/MySQL would reject the expression index; no other rewrite is known
                elif engine == "mysql" and _is_mariadb(schema):
                    fix = None  # MariaDB has no expression indexes (CREATE INDEX ((...)) is a syntax error there)
                elif table is not None and engine in ("postgresql", "mysql", "sqlite"):
                    name = index_name(table, [re.sub(r"\W+", "_", side_sql)[:40]])
                    target = table_sql(column, schema, engine) or quote_ident(table, engine)
                    if engine == "postgresql":
                        ddl = f"CREATE INDEX CONCURRENTLY {name} ON {target} (({side_sql}));"
                    elif engine == "mysql":
                        ddl = f"CREATE INDEX {name} ON {target} (({side_sql}));"
                    else:
                        ddl = f"CREATE INDEX {name} ON {target} ({side_sql});"
                    fix = Fix(
                        title=f"Add an expression index on {side_sql}",
                        statements=[ddl],
                        safety="safe" if engine == "postgresql" else "unsafe",
                        note=(
                            "Only worth it when this predicate is frequent and selective."
                            + (
                                " MySQL needs 8.0.13+; MariaDB has no expression indexes (index a generated "
                                "column AS (the expression) and filter on that column instead)."
                                if engine == "mysql"
                                else ""
                            )
                        ),
                    )
                else:
                    fix = None
                yield _finding(
                    NON_SARGABLE,
                    text,
                    line,
                    title=f"{side_sql} in {clause} wraps {column.name}, so an index on it cannot be used",
                    evidence={
                        "expression": side_sql,
                        "column": column.name,
                        "clause": clause,
                        "indexed": bool(indexed),
                        "index": indexed[0] if indexed else None,
                    },
                    rationale=(
                        "Indexes are ordered by the stored value; a predicate on an expression of the column "
                        "must evaluate it for every row instead of seeking."
                    ),
                    help=(
                        "Rewrite the predicate so the bare column is compared (a range), or index a generated "
                        f"column AS ({side_sql}) and filter on that column: MariaDB has no expression indexes."
                        if refused is None and engine == "mysql" and _is_mariadb(schema)
                        else "Rewrite the predicate so the bare column is compared (a range), or add an index on "
                        "exactly this expression."
                        if refused is None
                        else "Rewrite the predicate so the bare column is compared (a range); no index on this "
                        f"expression is proposed: {refused}, and PostgreSQL only indexes IMMUTABLE expressions."
                        if engine == "postgresql"
                        else "Rewrite the predicate so the bare column is compared (a range); no index on this "
                        f"expression is proposed: {refused}, and MySQL refuses it in an index."
                    ),
                    fix=fix,
                    severity=Severity.HIGH if indexed else None,
                    table=table,
                )


# ----------------------------------------------------------------------------------------------- QRY004

IMPLICIT_CONVERSION = RuleSpec(
    id="QRY004",
    name="implicit-type-conversion",
    capability="queries",
    engines=("postgresql", "mysql", "any"),
    severity=Severity.HIGH,
    status="preview",
    fix="sometimes",
    live_only=True,
    summary="A column is compared with a value of another type, so the column is converted and its index skipped.",
)


def _family(data_type: str) -> str | None:
    if _TEXT_TYPES.search(data_type):
        return "text"
    if _INT_TYPES.search(data_type):
        return "integer"
    if _NUMERIC_TYPES.search(data_type):
        return "numeric"
    return None


def check_implicit_conversion(
    root: exp.Expr, text: str, line: int, schema: Catalog | None, dialect: str
) -> Iterator[Finding]:
    """Comparing a column with a value of another type converts the column, not the value.

    ## Why is this bad?
    On MySQL, `varchar_col = 17` converts every stored string to a number, so the index on the
    column is useless and '017' matches too. On PostgreSQL, `int_col = 1.5` compares as numeric
    and skips the integer index, and `text_col = 17` is an error. Join keys of different types
    have the same problem on every row.

    ## Example
    ```sql
    SELECT id FROM users WHERE phone = 5551234;  -- phone is varchar
    ```

    ## Use instead
    ```sql
    SELECT id FROM users WHERE phone = '5551234';
    ```

    ## Fix safety
    Safe when the literal is written as the column's type; a type mismatch between join keys
    needs a migration that aligns the column types.
    """
    if schema is None:
        return
    engine = engine_of(dialect)
    if engine == "sqlite":
        # SQLite converts the literal to the column's affinity (a TEXT column compared with 5 compares with '5'),
        # so the index stays usable: "Type Affinity" in SQLite's datatype documentation.
        return
    for clause, condition in _conditions(root):
        for predicate in _predicates(condition):
            if not isinstance(predicate, (*_COMPARISONS, exp.In)):
                continue
            left = _unparen(predicate.this)
            rights = list(predicate.expressions) if isinstance(predicate, exp.In) else [_unparen(predicate.expression)]
            pairs = [(left, r) for r in rights] + ([(rights[0], left)] if len(rights) == 1 else [])
            for col, value in pairs:
                if not isinstance(col, exp.Column):
                    continue
                source = _source_of(col, schema)
                table = _real_table(source) if source is not None else None
                column = catalog_column(schema, source, col.name)
                if column is None:
                    continue
                family = _family(column.data_type)
                problem: str | None = None
                fixed: exp.Expr | None = None
                if isinstance(value, exp.Literal) and not value.is_string:
                    if family == "text":
                        problem = f"the {column.data_type} column {col.name} is compared with the number {value.this}"
                        fixed = exp.Literal.string(value.this)
                    elif family == "integer" and engine == "postgresql" and not float(value.this).is_integer():
                        problem = f"the {column.data_type} column {col.name} is compared with the decimal {value.this}"
                elif isinstance(value, exp.Column) and value is not col and isinstance(predicate, exp.EQ):
                    other = catalog_column(schema, _source_of(value, schema), value.name)
                    if other is not None:
                        other_family = _family(other.data_type)
                        if family and other_family and "text" in (family, other_family) and family != other_family:
                            if id(value) < id(col):
                                continue  # report a column pair once
                            problem = f"{col.name} ({column.data_type}) is joined to {value.name} ({other.data_type})"
                if problem is None:
                    continue
                fix = None
                if fixed is not None:
                    fix = Fix(
                        title=f"Write the value as the column's type ({column.data_type})",
                        statements=[_rewrite(root, [(value, fixed)], dialect)],
                        safety="safe",
                    )
                yield _finding(
                    IMPLICIT_CONVERSION,
                    text,
                    line,
                    title=f"In {clause}, {problem}: the column is converted and its index skipped",
                    evidence={
                        "column": col.name,
                        "column_type": column.data_type,
                        "clause": clause,
                        "value": _sql(value, dialect),
                    },
                    rationale=(
                        "When the types differ the database converts the column side for every row, which "
                        "defeats the index and can match values the author did not intend."
                    ),
                    help="Compare the column with a value of its own type (or align the join keys' types).",
                    fix=fix,
                    table=table,
                )


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


# ----------------------------------------------------------------------------------------------- QRY005

OR_ACROSS_COLUMNS = RuleSpec(
    id="QRY005",
    name="or-across-columns",
    capability="queries",
    engines=("postgresql", "mysql", "sqlite", "any"),
    severity=Severity.MEDIUM,
    status="preview",
    fix="sometimes",
    summary="OR between predicates on different columns, which one index cannot serve.",
)


def _or_leaves(node: exp.Expr) -> list[exp.Expr]:
    node = _unparen(node)
    if isinstance(node, exp.Or):
        return _or_leaves(node.this) + _or_leaves(node.expression)
    return [node]


def check_or_across_columns(
    root: exp.Expr, text: str, line: int, schema: Catalog | None, dialect: str
) -> Iterator[Finding]:
    """OR between different columns cannot be answered by any single index.

    ## Why is this bad?
    `email = ? OR phone = ?` has no index order that serves both sides, so without one index per
    column (PostgreSQL combines them with a BitmapOr, MySQL sometimes with index_merge) the
    filter falls back to a full scan.

    ## Example
    ```sql
    SELECT id FROM users WHERE email = 'a@x.org' OR phone = '555';
    ```

    ## Use instead
    ```sql
    SELECT id FROM users WHERE email = 'a@x.org'
    UNION ALL
    SELECT id FROM users WHERE phone = '555' AND (email = 'a@x.org') IS NOT TRUE;
    ```

    ## Fix safety
    The UNION ALL form returns the same rows (the second branch excludes rows the first already
    returned); give each column its own index so each branch can seek.
    """
    engine = engine_of(dialect)
    for node in root.walk():
        if not isinstance(node, exp.Where):
            continue
        for candidate in _walk_local(node.this):
            if not isinstance(candidate, exp.Or) or isinstance(candidate.parent, exp.Or):
                continue
            leaves = _or_leaves(candidate)
            columns: list[exp.Column] = []
            for leaf in leaves:
                if not isinstance(leaf, _PREDICATES):
                    columns = []
                    break
                found = [c for c in leaf.find_all(exp.Column)]
                columns.extend(found)
            names = sorted({c.name.lower() for c in columns})
            if len(names) < 2:
                continue
            tables = {table_of(c, schema) for c in columns}
            table = next(iter(tables)) if len(tables) == 1 else None
            source = _source_of(columns[0], schema) if table is not None else None
            target = (table_sql(columns[0], schema, engine) or quote_ident(table, engine)) if table else ""
            if (
                engine == "postgresql"
                and schema is not None
                and table is not None
                and all(_indexes_leading_with(schema, source, n) for n in names)
            ):
                continue  # each column has an index: a BitmapOr serves it
            fix = None
            select = _enclosing_select(node)
            if (
                select is not None
                and select is root
                and candidate is _unparen(node.this)
                and len(leaves) == 2
                and not select.args.get("order")
                and not select.args.get("limit")
                and not select.args.get("group")
            ):
                first = select.copy().where(leaves[0].copy(), append=False, copy=False)
                guard = exp.Is(this=exp.Paren(this=leaves[0].copy()), expression=exp.Not(this=exp.true()))
                second = select.copy().where(exp.and_(leaves[1].copy(), guard), append=False, copy=False)
                index_sql: list[str] = []
                build_note: str | None = None
                for n in names:
                    if table is None or _indexes_leading_with(schema, source, n):
                        continue
                    if engine == "postgresql":
                        ddl, build_note = _pg_index_ddl(
                            schema, source, target, index_name(table, [n]), [quote_ident(n, engine)]
                        )
                        index_sql.extend(ddl)
                    else:
                        plain = f"CREATE INDEX {index_name(table, [n])} ON {target} ({quote_ident(n, engine)});"
                        index_sql.append(plain)
                fix = Fix(
                    title="Split the OR into UNION ALL branches, one index per column",
                    statements=[_sql(exp.union(first, second, distinct=False), dialect) + ";", *index_sql],
                    safety="display-only",
                    note="On PostgreSQL separate indexes alone are often enough (BitmapOr)."
                    + (f" {build_note}" if build_note else ""),
                )
            yield _finding(
                OR_ACROSS_COLUMNS,
                text,
                line,
                title=f"OR across {', '.join(names)} cannot use a single index",
                evidence={"columns": ", ".join(names), "branches": len(leaves)},
                rationale=(
                    "No single index order serves predicates on different columns joined by OR; without an "
                    "index per column the database scans the table."
                ),
                help="Index each column separately (PostgreSQL BitmapOr) or rewrite as UNION ALL.",
                fix=fix,
                severity=Severity.LOW if engine == "postgresql" else None,
                table=table,
            )


# ----------------------------------------------------------------------------------------------- QRY006

LEADING_WILDCARD = RuleSpec(
    id="QRY006",
    name="leading-wildcard-like",
    capability="queries",
    engines=("postgresql", "mysql", "sqlite", "any"),
    severity=Severity.MEDIUM,
    status="preview",
    fix="sometimes",
    summary="LIKE/ILIKE with a pattern starting with % or _ cannot use a B-tree index.",
)


def check_leading_wildcard(
    root: exp.Expr, text: str, line: int, schema: Catalog | None, dialect: str
) -> Iterator[Finding]:
    """A pattern that starts with a wildcard cannot seek in a B-tree index.

    ## Why is this bad?
    B-tree indexes find rows by their leading characters. `LIKE '%smith'` has no fixed prefix,
    so every row is read and matched, however selective the search is.

    ## Example
    ```sql
    SELECT id FROM customers WHERE name ILIKE '%smith%';
    ```

    ## Use instead
    ```sql
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
    CREATE INDEX CONCURRENTLY customers_name_trgm_idx ON customers USING gin (name gin_trgm_ops);
    ```

    ## Fix safety
    A trigram index is safe to build concurrently but is large and slows writes; on MySQL a
    FULLTEXT index needs MATCH ... AGAINST, which matches words, not substrings.
    """
    engine = engine_of(dialect)
    for node in root.walk():
        if not isinstance(node, (exp.Like, exp.ILike)):
            continue
        pattern = _unparen(node.expression)
        if isinstance(pattern, exp.DPipe):
            pattern = _unparen(pattern.this)
        if not isinstance(pattern, exp.Literal) or not pattern.is_string or pattern.this[:1] not in ("%", "_"):
            continue
        target = _unparen(node.this)
        column = target if isinstance(target, exp.Column) else target.find(exp.Column)
        table = table_of(column, schema) if column is not None else None
        fix = None
        if column is not None and table is not None:
            on = table_sql(column, schema, engine) or quote_ident(table, engine)
            if engine == "postgresql":
                ddl, build_note = _pg_index_ddl(
                    schema,
                    _source_of(column, schema),
                    on,
                    index_name(table, [column.name], "trgm_idx"),
                    [f"{quote_ident(column.name, engine)} gin_trgm_ops"],
                    " USING gin",
                )
                fix = Fix(
                    title=f"Add a trigram GIN index on {table}.{column.name}",
                    statements=["CREATE EXTENSION IF NOT EXISTS pg_trgm;", *ddl],
                    safety="safe",
                    note="Trigram indexes serve LIKE/ILIKE with any wildcard position (patterns of 3+ characters)."
                    + (f" {build_note}" if build_note else ""),
                )
            elif engine == "mysql":
                fix = Fix(
                    title=f"Add a FULLTEXT index on {table}.{column.name} and search with MATCH ... AGAINST",
                    statements=[
                        f"ALTER TABLE {on} ADD FULLTEXT INDEX "
                        f"{index_name(table, [column.name], 'ft')} ({quote_ident(column.name, engine)});"
                    ],
                    safety="display-only",
                    note="FULLTEXT matches words, not substrings: the query must change to MATCH ... AGAINST.",
                )
            elif engine == "sqlite":
                fix = Fix(
                    title=f"Index {table}.{column.name} in an FTS5 virtual table",
                    statements=[
                        f"CREATE VIRTUAL TABLE {index_name(table, [column.name], 'fts')} USING fts5("
                        f"{quote_ident(column.name, engine)}, content={quote_ident(table, engine)});"
                    ],
                    safety="display-only",
                    note="Queries then use MATCH on the FTS table; keep it in sync with triggers.",
                )
        yield _finding(
            LEADING_WILDCARD,
            text,
            line,
            title=f"{'ILIKE' if isinstance(node, exp.ILike) else 'LIKE'} '{pattern.this}' starts with a wildcard, "
            "so it scans every row",
            evidence={"pattern": pattern.this, "column": column.name if column is not None else None},
            rationale=(
                "A B-tree index can only seek on a known prefix; a leading wildcard forces the database to read "
                "and match every row."
            ),
            help=(
                "Add a pg_trgm GIN index for substring search."
                if engine == "postgresql"
                else "Use a full-text index for word search, or anchor the pattern at the start."
            ),
            fix=fix,
            table=table,
        )


# ----------------------------------------------------------------------------------------------- QRY007

OFFSET_PAGINATION = RuleSpec(
    id="QRY007",
    name="offset-pagination",
    capability="queries",
    engines=("postgresql", "mysql", "sqlite", "any"),
    severity=Severity.MEDIUM,
    status="preview",
    fix="sometimes",
    summary="Paging with OFFSET reads and throws away every skipped row.",
)


def check_offset_pagination(
    root: exp.Expr, text: str, line: int, schema: Catalog | None, dialect: str
) -> Iterator[Finding]:
    """OFFSET paging gets slower with every page because skipped rows are still read.

    ## Why is this bad?
    `OFFSET 100000` makes the database produce 100,000 rows and discard them before the page
    starts. Pages also shift when rows are inserted between requests, so users see duplicates.

    ## Example
    ```sql
    SELECT id, title FROM posts ORDER BY id LIMIT 20 OFFSET 100000;
    ```

    ## Use instead
    ```sql
    SELECT id, title FROM posts WHERE id > $1 ORDER BY id LIMIT 20;  -- $1 = last id of the previous page
    ```

    ## Fix safety
    Display-only: keyset paging needs the application to pass the last row's sort key, and the
    ORDER BY must end in a unique column.
    """
    engine = engine_of(dialect)
    for select in root.find_all(exp.Select):
        offset = select.args.get("offset")
        if offset is None:
            continue
        amount = _literal_number(offset.expression)
        order = select.args.get("order")
        if amount == 0 or (order is None and (amount is None or amount < LARGE_OFFSET)):
            continue
        large = amount is not None and amount >= LARGE_OFFSET
        fix = None
        keys = list(order.expressions) if order is not None else []
        if keys and all(isinstance(k, exp.Ordered) and isinstance(k.this, exp.Column) for k in keys):
            directions = {bool(k.args.get("desc")) for k in keys}
            if len(directions) == 1:
                columns = [k.this.copy() for k in keys]
                params: list[exp.Expr] = [
                    exp.Placeholder(this=str(i + 1)) if engine == "postgresql" else exp.Placeholder()
                    for i in range(len(columns))
                ]
                if engine == "postgresql":
                    params = [exp.Parameter(this=exp.Literal.number(i + 1)) for i in range(len(columns))]
                left: exp.Expr = columns[0] if len(columns) == 1 else exp.Tuple(expressions=columns)
                right: exp.Expr = params[0] if len(params) == 1 else exp.Tuple(expressions=params)
                cond = exp.LT(this=left, expression=right) if directions.pop() else exp.GT(this=left, expression=right)
                new = select.copy()
                new.set("offset", None)
                new = new.where(cond, copy=False)
                fix = Fix(
                    title="Page with a keyset (the last row's sort key) instead of OFFSET",
                    statements=[_rewrite(root, [(select, new)], dialect)],
                    safety="display-only",
                    note="Pass the previous page's last sort key; the ORDER BY must end in a unique column.",
                )
        yield _finding(
            OFFSET_PAGINATION,
            text,
            line,
            title=(
                f"OFFSET {int(amount)} reads and discards {int(amount)} rows before the page"
                if large and amount is not None
                else "OFFSET pagination re-reads every earlier page and gets slower page by page"
            ),
            evidence={"offset": int(amount) if amount is not None else None, "ordered": order is not None},
            rationale=(
                "The database must produce every skipped row before returning the page, so deep pages cost "
                "as much as reading everything before them; rows shift between pages under concurrent writes."
            ),
            help="Use keyset pagination: WHERE (sort key) > (last seen) ORDER BY sort key LIMIT n.",
            fix=fix,
            severity=None if large else Severity.LOW,
        )


# ----------------------------------------------------------------------------------------------- QRY008

UNBOUNDED_WRITE = RuleSpec(
    id="QRY008",
    name="update-delete-without-where",
    capability="queries",
    engines=("postgresql", "mysql", "sqlite", "any"),
    severity=Severity.CRITICAL,
    status="preview",
    fix="never",
    summary="UPDATE or DELETE without a WHERE clause changes every row of the table.",
)


def check_unbounded_write(
    root: exp.Expr, text: str, line: int, schema: Catalog | None, dialect: str
) -> Iterator[Finding]:
    """UPDATE or DELETE without WHERE touches every row.

    ## Why is this bad?
    It is almost always an accident: a missing or commented-out WHERE. It rewrites or removes the
    whole table, holds row locks on all of it, and on PostgreSQL leaves a dead copy of every row.

    ## Example
    ```sql
    DELETE FROM sessions;
    ```

    ## Use instead
    ```sql
    DELETE FROM sessions WHERE expires_at < now();
    -- or, when emptying the table is intended:
    TRUNCATE sessions;
    ```

    ## Fix safety
    No automatic fix: only the author knows which rows were meant.
    """
    for node in root.walk():
        if not isinstance(node, (exp.Update, exp.Delete)) or node.args.get("where") is not None:
            continue
        if isinstance(node, exp.Delete) and node.args.get("using"):
            continue
        target = node.this
        table = _real_table(target) if isinstance(target, exp.Table) else None
        kind = "UPDATE" if isinstance(node, exp.Update) else "DELETE"
        verb = "changes" if kind == "UPDATE" else "removes"
        limit = node.args.get("limit")
        if limit is not None:  # MySQL/SQLite `UPDATE ... LIMIT n`: bounded, but which rows is left to chance
            count = limit.expression if isinstance(limit, exp.Limit) else limit
            rows = f"up to {count.sql()}" if isinstance(count, exp.Expr) else "a limited number of"
            ordered = node.args.get("order") is not None
            yield _finding(
                UNBOUNDED_WRITE,
                text,
                line,
                title=f"{kind} without WHERE {verb} {rows} {'' if ordered else 'arbitrary '}rows of "
                f"{table or 'the table'}",
                evidence={"statement": kind, "table": table, "limit": True, "ordered": ordered},
                rationale=(
                    "With LIMIT and no WHERE the write touches the first rows the server happens to read"
                    + ("" if ordered else ", which can differ between runs and between a primary and its replicas")
                    + "; a batched cleanup normally selects its rows with a WHERE clause."
                ),
                help="Add the WHERE clause that selects the intended rows"
                + ("" if ordered else ", and ORDER BY a key so each run picks the same ones"),
                severity=Severity.MEDIUM if not ordered else Severity.LOW,
                table=table,
            )
            continue
        yield _finding(
            UNBOUNDED_WRITE,
            text,
            line,
            title=f"{kind} without WHERE {verb} every row of {table or 'the table'}",
            evidence={"statement": kind, "table": table, "limit": False},
            rationale=(
                "A write with no WHERE clause affects the whole table; it is usually a lost condition and "
                "cannot be undone once committed."
            ),
            help="Add the WHERE clause that selects the intended rows (or TRUNCATE if emptying the table is meant).",
            table=table,
        )


# ----------------------------------------------------------------------------------------------- QRY009

CARTESIAN_JOIN = RuleSpec(
    id="QRY009",
    name="cartesian-join",
    capability="queries",
    engines=("postgresql", "mysql", "sqlite", "any"),
    severity=Severity.HIGH,
    status="preview",
    fix="never",
    summary="Tables joined with no condition connecting them (an accidental cross product).",
)


def _alias_of(column: exp.Column, sources: dict[str, exp.Table | None], schema: Catalog | None) -> str | None:
    if column.table:
        key = column.table.lower()
        return key if key in sources else None
    if len(sources) == 1:
        return next(iter(sources))
    if schema is not None:
        owners = [a for a, t in sources.items() if t and catalog_column(schema, t, column.name) is not None]
        if len(owners) == 1:
            return owners[0]
    return None


def _root_finder(parent: dict[str, str]) -> Callable[[str], str]:
    def find(alias: str) -> str:
        while parent[alias] != alias:
            alias = parent[alias]
        return alias

    return find


def check_cartesian_join(
    root: exp.Expr, text: str, line: int, schema: Catalog | None, dialect: str
) -> Iterator[Finding]:
    """Two tables in one FROM with nothing relating them multiply their row counts.

    ## Why is this bad?
    `FROM orders, customers` without a join condition pairs every order with every customer:
    10,000 by 10,000 rows is 100 million, usually followed by a DISTINCT that hides the mistake.

    ## Example
    ```sql
    SELECT o.id, c.name FROM orders o, customers c WHERE o.total > 100;
    ```

    ## Use instead
    ```sql
    SELECT o.id, c.name FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.total > 100;
    ```

    ## Fix safety
    No automatic fix: the missing condition is not in the text. Write CROSS JOIN when a cross
    product is intended; explicit CROSS JOINs are never flagged.
    """
    for select in root.find_all(exp.Select):
        joins = select.args.get("joins") or []
        if not joins:
            continue
        sources: dict[str, exp.Table | None] = {}
        for alias, source in _direct_sources(select):
            sources[alias.lower()] = _as_table(source)
        if any(t is None for t in sources.values()):
            continue  # derived tables, functions and LATERAL are out of scope
        cross = {j.this.alias_or_name.lower() for j in joins if (j.args.get("kind") or "").upper() == "CROSS"}
        if any(j.args.get("using") or (j.args.get("method") or "").upper() == "NATURAL" for j in joins):
            continue  # USING and NATURAL joins carry their condition
        parent = {a: a for a in sources}
        find = _root_finder(parent)
        conditions: list[exp.Expr] = [j.args["on"] for j in joins if j.args.get("on") is not None]
        where = select.args.get("where")
        if where is not None:
            conditions.append(where.this)
        unknown = False
        for condition in conditions:
            for conj in condition.flatten() if isinstance(condition, exp.And) else [condition]:
                columns = [c for n in _walk_local(conj) if isinstance(n, exp.Column) for c in [n]]
                if any(n for n in conj.find_all(exp.Subquery)):
                    columns += [c for c in conj.find_all(exp.Column) if c.table and c.table.lower() in sources]
                aliases = {_alias_of(c, sources, schema) for c in columns}
                if None in aliases and len(columns) > 1:
                    unknown = True
                known = [a for a in aliases if a is not None]
                for other in known[1:]:
                    parent[find(other)] = find(known[0])
        for alias in cross:
            for other in sources:
                parent[find(other)] = find(alias)  # an explicit CROSS JOIN is intended
        groups = {find(a) for a in sources}
        if unknown or len(groups) < 2:
            continue
        names = sorted(sources)
        yield _finding(
            CARTESIAN_JOIN,
            text,
            line,
            title=f"No condition connects {len(groups)} groups of tables ({', '.join(names)}): a cross product",
            evidence={"tables": ", ".join(names), "disconnected_groups": len(groups)},
            rationale=(
                "Without a join condition every row of one side pairs with every row of the other, so the "
                "result (and the work) is the product of the table sizes."
            ),
            help="Add the missing join condition (JOIN ... ON), or write CROSS JOIN if the product is intended.",
        )


# ----------------------------------------------------------------------------------------------- QRY010

CORRELATED_SELECT_SUBQUERY = RuleSpec(
    id="QRY010",
    name="correlated-subquery-in-select",
    capability="queries",
    engines=("postgresql", "mysql", "sqlite", "any"),
    severity=Severity.MEDIUM,
    status="preview",
    fix="never",
    summary="A subquery in the SELECT list runs once per outer row.",
)


def _outer_references(inner: exp.Select) -> list[exp.Column]:
    local: set[str] = set()
    for sub in inner.find_all(exp.Select):
        local.update(a.lower() for a, _ in _direct_sources(sub))
    return [c for c in inner.find_all(exp.Column) if c.table and c.table.lower() not in local]


def _is_count_test(node: exp.Expr) -> bool:
    parent = node.parent
    while isinstance(parent, exp.Paren):
        parent = parent.parent
    return isinstance(parent, _COMPARISONS)


def check_correlated_select_subquery(
    root: exp.Expr, text: str, line: int, schema: Catalog | None, dialect: str
) -> Iterator[Finding]:
    """A correlated subquery in the SELECT list is evaluated for every row returned.

    ## Why is this bad?
    `(SELECT count(*) FROM orders o WHERE o.customer_id = c.id)` runs as a nested loop: one
    probe per outer row. It cannot be planned as one hash join or aggregated once, so it grows
    linearly with the result and is slow without a perfect index.

    ## Example
    ```sql
    SELECT c.id, (SELECT count(*) FROM orders o WHERE o.customer_id = c.id) AS orders
    FROM customers c;
    ```

    ## Use instead
    ```sql
    SELECT c.id, coalesce(o.n, 0) AS orders
    FROM customers c
    LEFT JOIN (SELECT customer_id, count(*) AS n FROM orders GROUP BY customer_id) o ON o.customer_id = c.id;
    ```

    ## Fix safety
    No automatic fix; a LEFT JOIN to an aggregate, LEFT JOIN LATERAL (PostgreSQL) or a window
    function replaces it, keeping NULL/zero semantics in mind.
    """
    for select in root.find_all(exp.Select):
        for projection in select.expressions:
            for sub in projection.find_all(exp.Subquery):
                if _enclosing_select(sub) is not select or _is_count_test(sub):
                    continue
                inner = sub.this
                if not isinstance(inner, exp.Select):
                    continue
                outer = _outer_references(inner)
                if not outer:
                    continue
                yield _finding(
                    CORRELATED_SELECT_SUBQUERY,
                    text,
                    line,
                    title="A correlated subquery in the SELECT list runs once per returned row",
                    evidence={
                        "correlated_columns": ", ".join(sorted({_sql(c, dialect) for c in outer})),
                        "subquery": _sql(inner, dialect)[:SUBJECT_CHARS],
                    },
                    rationale=(
                        "Each outer row re-runs the subquery, which is a nested loop the planner cannot turn into "
                        "one join or one aggregation."
                    ),
                    help="Join to the subquery's aggregate (GROUP BY the key), use LEFT JOIN LATERAL, or a window "
                    "function.",
                )


# ----------------------------------------------------------------------------------------------- QRY011

DISTINCT_OVER_JOIN = RuleSpec(
    id="QRY011",
    name="distinct-hides-fan-out",
    capability="queries",
    engines=("postgresql", "mysql", "sqlite", "any"),
    severity=Severity.MEDIUM,
    status="preview",
    fix="sometimes",
    summary="DISTINCT removes duplicates made by a join to a table none of whose columns are returned.",
)


def _joined_on_unique(join: exp.Join, alias: str, table: exp.Table | None, schema: Catalog | None) -> bool:
    """True when the catalog shows the join matches at most one row of `table` (its key or a unique index)."""
    found = catalog_table(schema, table)
    on = join.args.get("on")
    if found is None or on is None:
        return False
    own = {c.name.lower() for c in on.find_all(exp.Column) if (c.table or "").lower() == alias}
    keys = [found.primary_key.columns] if found.primary_key else []
    keys += [u.columns for u in found.unique_constraints]
    keys += [i.columns for i in found.indexes if i.unique and not i.predicate]
    return any(k and {c.lower() for c in k} <= own for k in keys)


def check_distinct_over_join(
    root: exp.Expr, text: str, line: int, schema: Catalog | None, dialect: str
) -> Iterator[Finding]:
    """SELECT DISTINCT over a join to a one-to-many table hides the fan-out instead of avoiding it.

    ## Why is this bad?
    Joining customers to their orders only to filter produces one row per order; DISTINCT then
    sorts or hashes them all back to one per customer. The work grows with the child table, and
    DISTINCT can hide real duplicates elsewhere.

    ## Example
    ```sql
    SELECT DISTINCT c.id, c.name FROM customers c JOIN orders o ON o.customer_id = c.id WHERE o.total > 100;
    ```

    ## Use instead
    ```sql
    SELECT c.id, c.name FROM customers c
    WHERE EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id AND o.total > 100);
    ```

    ## Fix safety
    The EXISTS form is equivalent when the DISTINCT only removed the join's duplicates. Check the
    parent rows themselves are unique (they are when its key is in the select list).
    """
    for select in root.find_all(exp.Select):
        joins = select.args.get("joins") or []
        if not select.args.get("distinct") or not joins or select.args.get("group"):
            continue
        sources = {a.lower(): _as_table(s) for a, s in _direct_sources(select)}
        if len(sources) < 2 or any(t is None for t in sources.values()):
            continue
        used: set[str] = set()
        for projection in select.expressions:
            if isinstance(projection, exp.Star):
                used.update(sources)
            for column in projection.find_all(exp.Column):
                alias = _alias_of(column, sources, schema)
                if alias is None:
                    used.update(sources)  # cannot tell: assume it is used
                else:
                    used.add(alias)
        unused = [
            j
            for j in joins
            if j.this.alias_or_name.lower() not in used
            and (j.args.get("kind") or "").upper() not in ("CROSS",)
            and (j.args.get("side") or "").upper() != "LEFT"
        ]
        unused = [
            j
            for j in unused
            if not _joined_on_unique(j, j.this.alias_or_name.lower(), sources[j.this.alias_or_name.lower()], schema)
        ]
        if not unused:
            continue
        fix = None
        if len(joins) == 1 and len(unused) == 1 and select is root and joins[0].args.get("on") is not None:
            join = joins[0]
            alias = join.this.alias_or_name.lower()
            inner_conds: list[exp.Expr] = [join.args["on"].copy()]
            outer_conds: list[exp.Expr] = []
            where = select.args.get("where")
            for conj in (where.this.flatten() if isinstance(where.this, exp.And) else [where.this]) if where else []:
                refs = {(c.table or "").lower() for c in conj.find_all(exp.Column)}
                (inner_conds if alias in refs else outer_conds).append(conj.copy())
            sub = exp.select("1").from_(join.this.copy()).where(exp.and_(*inner_conds))
            new = select.copy()
            new.set("distinct", None)
            new.set("joins", None)
            new.set("where", None)
            new = new.where(exp.and_(*outer_conds, exp.Exists(this=sub)) if outer_conds else exp.Exists(this=sub))
            fix = Fix(
                title="Filter with EXISTS instead of joining and de-duplicating",
                statements=[_sql(new, dialect) + ";"],
                safety="display-only",
                note="Equivalent when the remaining columns are unique per parent row (e.g. include its key).",
            )
        names = ", ".join(j.this.alias_or_name for j in unused)
        yield _finding(
            DISTINCT_OVER_JOIN,
            text,
            line,
            title=f"DISTINCT removes the duplicates made by joining {names}, whose columns are not returned",
            evidence={"joined_only_to_filter": names, "one_to_many_known": schema is not None},
            rationale=(
                "A join used only as a filter multiplies the rows by the number of matches; DISTINCT then has "
                "to sort or hash them all back down. A semi-join (EXISTS) stops at the first match."
            ),
            help="Replace the join with WHERE EXISTS (...) and drop the DISTINCT.",
            fix=fix,
        )


# ----------------------------------------------------------------------------------------------- QRY012

ORDER_BY_RANDOM = RuleSpec(
    id="QRY012",
    name="order-by-random",
    capability="queries",
    engines=("postgresql", "mysql", "sqlite", "any"),
    severity=Severity.MEDIUM,
    status="preview",
    fix="never",
    summary="ORDER BY RAND()/random() sorts the whole table to pick a few rows.",
)


def check_order_by_random(
    root: exp.Expr, text: str, line: int, schema: Catalog | None, dialect: str
) -> Iterator[Finding]:
    """ORDER BY random() reads and sorts every row to return a handful.

    ## Why is this bad?
    Every row gets a random key and the whole set is sorted (or top-N heap-sorted) just to
    keep LIMIT n of them, so the cost grows with the table, not with n.

    ## Example
    ```sql
    SELECT id FROM products ORDER BY random() LIMIT 5;
    ```

    ## Use instead
    ```sql
    SELECT id FROM products TABLESAMPLE SYSTEM (1) LIMIT 5;  -- PostgreSQL
    ```

    ## Fix safety
    No automatic fix: sampling (TABLESAMPLE, tsm_system_rows) or picking random keys in the id
    range changes the distribution slightly; choose what the feature needs.
    """
    engine = engine_of(dialect)
    for order in root.find_all(exp.Order):
        if not any(isinstance(o.this, exp.Rand) or o.this.find(exp.Rand) for o in order.expressions):
            continue
        select = order.parent
        limit = select.args.get("limit") if select is not None else None
        yield _finding(
            ORDER_BY_RANDOM,
            text,
            line,
            title="ORDER BY random order sorts every row to return a few",
            evidence={"limit": _sql(limit.expression, dialect) if limit is not None else None},
            rationale="Every row gets a random key and the whole set is sorted; the cost grows with the table.",
            help=(
                "Sample with TABLESAMPLE SYSTEM/BERNOULLI (or tsm_system_rows), or pick random ids in the key range."
                if engine == "postgresql"
                else "Pick random ids in the key range (WHERE id >= random offset LIMIT n) or keep a sampled table."
            ),
        )


# ----------------------------------------------------------------------------------------------- QRY013

COUNT_FOR_EXISTENCE = RuleSpec(
    id="QRY013",
    name="count-as-existence-test",
    capability="queries",
    engines=("postgresql", "mysql", "sqlite", "any"),
    severity=Severity.MEDIUM,
    status="preview",
    fix="sometimes",
    summary="COUNT(*) compared with 0 to test whether any row exists.",
)


def _count_select(node: exp.Expr) -> exp.Select | None:
    inner = _subquery_select(node)
    if inner is None or len(inner.expressions) != 1 or inner.args.get("group"):
        return None
    projection = _unparen(inner.expressions[0])
    if isinstance(projection, exp.Alias):
        projection = projection.this
    return inner if isinstance(projection, exp.Count) else None


def _zero_test(predicate: exp.Expr, number: float) -> bool | None:
    """True for 'some rows' (> 0, <> 0, >= 1), False for 'no rows' (= 0, < 1), None otherwise."""
    if isinstance(predicate, (exp.GT, exp.NEQ)) and number == 0:
        return True
    if isinstance(predicate, exp.GTE) and number == 1:
        return True
    if (isinstance(predicate, exp.EQ) and number == 0) or (isinstance(predicate, exp.LT) and number == 1):
        return False
    return None


def check_count_for_existence(
    root: exp.Expr, text: str, line: int, schema: Catalog | None, dialect: str
) -> Iterator[Finding]:
    """Counting every matching row only to compare the count with zero wastes the work.

    ## Why is this bad?
    `(SELECT count(*) ...) > 0` must find and count every match; EXISTS stops at the first one.
    On a popular key that is the difference between reading one index entry and thousands.

    ## Example
    ```sql
    SELECT id FROM customers c WHERE (SELECT count(*) FROM orders o WHERE o.customer_id = c.id) > 0;
    ```

    ## Use instead
    ```sql
    SELECT id FROM customers c WHERE EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id);
    ```

    ## Fix safety
    Safe: EXISTS is true exactly when the count is above zero.
    """
    for predicate in root.find_all(*_COMPARISONS):
        left, right = _unparen(predicate.this), _unparen(predicate.expression)
        number = _literal_number(right)
        inner = _count_select(left)
        if inner is None or number is None:
            continue
        some = _zero_test(predicate, number)
        if some is None:
            continue
        new_inner = inner.copy()
        new_inner.set("expressions", [exp.Literal.number(1)])
        exists: exp.Expr = exp.Exists(this=new_inner)
        replacement = exists if some else exp.Not(this=exists)
        yield _finding(
            COUNT_FOR_EXISTENCE,
            text,
            line,
            title="COUNT(*) counts every match just to test whether one exists",
            evidence={"test": _sql(predicate, dialect)[:SUBJECT_CHARS]},
            rationale="A count must visit every matching row; EXISTS stops at the first match.",
            help=f"Use {'EXISTS' if some else 'NOT EXISTS'} (SELECT 1 ...) instead.",
            fix=Fix(
                title=f"Test with {'EXISTS' if some else 'NOT EXISTS'}",
                statements=[_rewrite(root, [(predicate, replacement)], dialect)],
                safety="safe",
            ),
        )
    for having in root.find_all(exp.Having):
        for predicate in _walk_local(having.this):
            if not isinstance(predicate, _COMPARISONS):
                continue
            left, number = _unparen(predicate.this), _literal_number(predicate.expression)
            if isinstance(left, exp.Count) and number is not None and _zero_test(predicate, number) is True:
                yield _finding(
                    COUNT_FOR_EXISTENCE,
                    text,
                    line,
                    title="HAVING COUNT(*) > 0 is always true for a group, or an existence test written as a count",
                    evidence={"test": _sql(predicate, dialect)},
                    rationale="Every group has at least one row, so the condition filters nothing; if it means "
                    "'has a matching child row', EXISTS says it without counting.",
                    help="Drop the HAVING, or express the existence test with EXISTS (SELECT 1 ...).",
                    severity=Severity.LOW,
                )


# ----------------------------------------------------------------------------------------------- QRY014

LARGE_IN = RuleSpec(
    id="QRY014",
    name="large-in-list",
    capability="queries",
    engines=("postgresql", "mysql", "sqlite", "any"),
    severity=Severity.LOW,
    status="preview",
    fix="sometimes",
    summary=f"An IN list with more than {LARGE_IN_LIST} literals.",
)


def check_large_in_list(
    root: exp.Expr, text: str, line: int, schema: Catalog | None, dialect: str
) -> Iterator[Finding]:
    """A huge IN list is parsed, planned and logged as text every time.

    ## Why is this bad?
    Thousands of literals make the statement large to send and parse, slow to plan, unique per
    call (so prepared-statement and pg_stat_statements grouping stop helping), and some engines
    cap the list length.

    ## Example
    ```sql
    SELECT id FROM orders WHERE customer_id IN (1, 2, 3, /* ... 5,000 values */ 5000);
    ```

    ## Use instead
    ```sql
    SELECT id FROM orders WHERE customer_id = ANY($1);  -- $1 is one array parameter
    ```

    ## Fix safety
    Display-only: the caller must bind the values as one array (PostgreSQL) or load them into a
    temporary table and join.
    """
    engine = engine_of(dialect)
    for node in root.find_all(exp.In):
        values = node.expressions
        if len(values) <= LARGE_IN_LIST:
            continue
        fix = None
        if engine == "postgresql":
            new = exp.EQ(
                this=node.this.copy(),
                expression=exp.Any(this=exp.Paren(this=exp.Parameter(this=exp.Literal.number(1)))),
            )
            fix = Fix(
                title="Bind the values as one array parameter",
                statements=[_rewrite(root, [(node, new)], dialect)],
                safety="display-only",
                note="$1 is an array of the values (one parameter, one plan).",
            )
        yield _finding(
            LARGE_IN,
            text,
            line,
            title=f"IN list of {len(values)} values makes the statement slow to parse and plan",
            evidence={"values": len(values), "threshold": LARGE_IN_LIST},
            rationale="Very long literal lists cost parse and plan time on every call and defeat statement caching.",
            help=(
                "Pass the values as one array (= ANY($1)) or join to a temporary table of them."
                if engine == "postgresql"
                else "Join to a temporary table of the values, or batch the list."
            ),
            fix=fix,
        )


# ----------------------------------------------------------------------------------------------- QRY015

LIMIT_WITHOUT_ORDER = RuleSpec(
    id="QRY015",
    name="limit-without-order-by-in-subquery",
    capability="queries",
    engines=("postgresql", "mysql", "sqlite", "any"),
    severity=Severity.MEDIUM,
    status="preview",
    fix="never",
    summary="A subquery takes LIMIT n rows with no ORDER BY, so which rows it keeps is arbitrary.",
)


def check_limit_without_order(
    root: exp.Expr, text: str, line: int, schema: Catalog | None, dialect: str
) -> Iterator[Finding]:
    """LIMIT without ORDER BY inside a subquery returns whichever rows come first.

    ## Why is this bad?
    Without an ORDER BY, "the first n rows" depends on the plan: a new index, a parallel scan or
    a VACUUM changes which rows the subquery keeps, so results change without any data change.

    ## Example
    ```sql
    SELECT c.name, (SELECT o.total FROM orders o WHERE o.customer_id = c.id LIMIT 1) FROM customers c;
    ```

    ## Use instead
    ```sql
    SELECT c.name, (SELECT o.total FROM orders o WHERE o.customer_id = c.id ORDER BY o.created_at DESC LIMIT 1)
    FROM customers c;
    ```

    ## Fix safety
    No automatic fix: only the author knows which row is wanted. LIMIT inside EXISTS is fine and
    never flagged.
    """
    for select in root.find_all(exp.Select):
        if select is root or select.args.get("limit") is None or select.args.get("order") is not None:
            continue
        if _inside(select, (exp.Exists,)) or isinstance(select.parent, exp.SetOperation):
            continue
        if select.parent is root and isinstance(root, exp.Insert):
            continue
        yield _finding(
            LIMIT_WITHOUT_ORDER,
            text,
            line,
            title="A subquery keeps LIMIT rows without ORDER BY, so which rows it returns is arbitrary",
            evidence={"limit": _sql(select.args["limit"].expression, dialect)},
            rationale="Row order is undefined without ORDER BY; the rows kept can change with any plan change.",
            help="Add an ORDER BY that identifies the rows you want (ending in a unique column).",
        )


# ----------------------------------------------------------------------------------------------- QRY016

N_PLUS_ONE = RuleSpec(
    id="QRY016",
    name="n-plus-one-queries",
    capability="queries",
    engines=("postgresql", "mysql", "sqlite", "any"),
    severity=Severity.HIGH,
    status="preview",
    fix="sometimes",
    summary="The same statement runs many times in a log with only its literals changing (N+1).",
)


def check_n_plus_one(root: exp.Expr, text: str, line: int, schema: Catalog | None, dialect: str) -> Iterator[Finding]:
    """The same statement repeated with different literals is one query split into N round trips.

    ## Why is this bad?
    An ORM loop that loads a parent list and then one query per parent pays a network round trip,
    a parse and an executor start-up per row. One batched statement does the same work once.
    This rule looks at the whole log, so it only fires when a log of statements is reviewed.

    ## Example
    ```sql
    SELECT * FROM orders WHERE customer_id = 17;
    SELECT * FROM orders WHERE customer_id = 18;
    SELECT * FROM orders WHERE customer_id = 19;
    ```

    ## Use instead
    ```sql
    SELECT * FROM orders WHERE customer_id = ANY(ARRAY[17, 18, 19]);
    ```

    ## Fix safety
    Display-only: the application must issue the batched statement and distribute the rows.
    """
    return iter(())  # log-level rule: review_queries groups statements and reports it


# ----------------------------------------------------------------------------------------------- QRY017

NULL_COMPARISON = RuleSpec(
    id="QRY017",
    name="comparison-with-null",
    capability="queries",
    engines=("postgresql", "mysql", "sqlite", "any"),
    severity=Severity.HIGH,
    status="preview",
    fix="always",
    summary="= NULL or <> NULL, which is never true.",
)


def check_null_comparison(
    root: exp.Expr, text: str, line: int, schema: Catalog | None, dialect: str
) -> Iterator[Finding]:
    """`x = NULL` is never true: comparisons with NULL are unknown.

    ## Why is this bad?
    NULL means "unknown", so `status = NULL` and `status <> NULL` both evaluate to NULL and the
    row is dropped. The query silently returns nothing.

    ## Example
    ```sql
    SELECT id FROM orders WHERE shipped_at = NULL;
    ```

    ## Use instead
    ```sql
    SELECT id FROM orders WHERE shipped_at IS NULL;
    ```

    ## Fix safety
    Safe: IS NULL / IS NOT NULL is what the comparison was meant to say.
    """
    replacements: list[tuple[exp.Expr, exp.Expr]] = []
    for predicate in root.find_all(exp.EQ, exp.NEQ):
        left, right = _unparen(predicate.this), _unparen(predicate.expression)
        if isinstance(left, exp.Null) and not isinstance(right, exp.Null):
            left, right = right, left
        if not isinstance(right, exp.Null) or isinstance(predicate.parent, (exp.Update, exp.Set)):
            continue
        if isinstance(predicate.parent, exp.Update) or (
            predicate.find_ancestor(exp.Update) is not None and (predicate.find_ancestor(exp.Where) is None)
        ):
            continue  # SET col = NULL is an assignment
        is_null: exp.Expr = exp.Is(this=left.copy(), expression=exp.Null())
        replacements.append((predicate, is_null if isinstance(predicate, exp.EQ) else exp.Not(this=is_null)))
    if replacements:
        yield _finding(
            NULL_COMPARISON,
            text,
            line,
            title="A comparison with NULL is never true, so the condition matches nothing",
            evidence={"comparisons": len(replacements), "first": _sql(replacements[0][0], dialect)},
            rationale="Any comparison with NULL yields NULL (unknown), which WHERE treats as false.",
            help="Use IS NULL / IS NOT NULL.",
            fix=Fix(title="Use IS [NOT] NULL", statements=[_rewrite(root, replacements, dialect)], safety="safe"),
        )


RULES: tuple[tuple[RuleSpec, Check], ...] = (
    (SELECT_STAR, check_select_star),
    (NOT_IN_SUBQUERY, check_not_in_subquery),
    (NON_SARGABLE, check_non_sargable),
    (IMPLICIT_CONVERSION, check_implicit_conversion),
    (OR_ACROSS_COLUMNS, check_or_across_columns),
    (LEADING_WILDCARD, check_leading_wildcard),
    (OFFSET_PAGINATION, check_offset_pagination),
    (UNBOUNDED_WRITE, check_unbounded_write),
    (CARTESIAN_JOIN, check_cartesian_join),
    (CORRELATED_SELECT_SUBQUERY, check_correlated_select_subquery),
    (DISTINCT_OVER_JOIN, check_distinct_over_join),
    (ORDER_BY_RANDOM, check_order_by_random),
    (COUNT_FOR_EXISTENCE, check_count_for_existence),
    (LARGE_IN, check_large_in_list),
    (LIMIT_WITHOUT_ORDER, check_limit_without_order),
    (N_PLUS_ONE, check_n_plus_one),
    (NULL_COMPARISON, check_null_comparison),
)
