"""Shared by the MySQL/MariaDB, SQLite and MongoDB plan rules (rules_mysql, rules_mysql_sorts, rules_sqlite,
rules_mongodb): the thresholds, the statement's shape read from the SQL in the context, index fixes, the finding
builder and the OFFSET check both SQL engines run.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from dbspecialist.knowledge.findings import Finding, Fix, RuleSpec, Severity
from dbspecialist.knowledge.plans.model import Plan, PlanNode
from dbspecialist.knowledge.plans.rules_postgres import LARGE_OFFSET_ROWS as PG_LARGE_OFFSET_ROWS

Check = Callable[[Plan, Mapping[str, Any]], Iterator[Finding]]
Rule = tuple[RuleSpec, Check]

# ------------------------------------------------------------------------------------------------ thresholds
# Rows at which a full read becomes worth an index: InnoDB reads ~1,000 rows in well under a millisecond from
# cache, so below this a scan is noise; the same figure the issue sets for "low filtered".
BIG_TABLE_ROWS: Final = 1_000
# pev2's "rows removed by filter" badge turns red above 90 % removed, i.e. below 10 % kept.
LOW_FILTERED_PCT: Final = 10.0
# A ref lookup that matches this many rows per key value is not selective: 5,000 random clustered-index lookups
# cost about as much as scanning a table of a few hundred thousand rows sequentially (InnoDB's cost model puts a
# random page read at several sequential ones). 1,000 rows per value of a 500k-row table is still selective.
NONSELECTIVE_REF_ROWS: Final = 5_000
# MongoDB: docsExamined or keysExamined at least 10x nReturned (the issue's ratio; pev2's 10x misestimate band).
MONGO_EXAMINED_RATIO: Final = 10.0
# MongoDB: below this many documents examined, a COLLSCAN or a loose index costs nothing worth a finding.
MONGO_MIN_EXAMINED: Final = 1_000
# Severity bands on rows read: HIGH from 100k rows (pev2-style 100x the floor), MEDIUM from the floor.
HIGH_ROWS: Final = 100_000
# OFFSET rows at which a page is worth keyset pagination: PostgreSQL's PLN010 threshold, shared so every engine
# flags the same statement.
LARGE_OFFSET_ROWS: Final = PG_LARGE_OFFSET_ROWS


def _rows_severity(rows: float | None, base: Severity = Severity.MEDIUM) -> Severity:
    if rows is not None and rows >= HIGH_ROWS:
        return Severity.HIGH
    return base


# ------------------------------------------------------------------------------------------------ SQL helpers


@dataclass
class _Shape:
    """What the statement says about one table: alias map and the columns an index could carry."""

    tables: dict[str, str] = field(default_factory=dict)  # alias or name → table name
    derived: set[str] = field(default_factory=set)  # aliases of subqueries / CTEs
    equality: dict[str, list[str]] = field(default_factory=dict)  # table → columns compared with a constant
    ranges: dict[str, list[str]] = field(default_factory=dict)
    order_by: dict[str, list[str]] = field(default_factory=dict)
    group_by: dict[str, list[str]] = field(default_factory=dict)


def _add(target: dict[str, list[str]], table: str, column: str) -> None:
    cols = target.setdefault(table, [])
    if column not in cols:
        cols.append(column)


def _shape(sql: Any, dialect: str) -> _Shape | None:
    """Parse the statement with sqlglot; None when there is no SQL or it does not parse."""
    if not isinstance(sql, str) or not sql.strip():
        return None
    try:
        import sqlglot
        from sqlglot import exp
    except ImportError:  # pragma: no cover - sqlglot is a dependency
        return None
    try:
        tree = sqlglot.parse_one(sql, read=dialect)
    except Exception:
        return None
    if tree is None:
        return None
    shape = _Shape()
    for source in tree.find_all(exp.Table):
        if source.name:
            shape.tables[source.alias_or_name] = source.name
    for sub in tree.find_all(exp.Subquery):
        if sub.alias:
            shape.derived.add(sub.alias)
    for cte in tree.find_all(exp.CTE):
        if cte.alias:
            shape.derived.add(cte.alias)
    only = next(iter(set(shape.tables.values()))) if len(set(shape.tables.values())) == 1 else None

    def owner(col: exp.Column) -> str | None:
        if col.table:
            return shape.tables.get(col.table)
        return only

    for where in tree.find_all(exp.Where):
        for pred in where.find_all(exp.EQ, exp.In, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Between, exp.Like):
            left = pred.this
            if not isinstance(left, exp.Column):
                continue
            others = [v for k, v in pred.args.items() if k != "this" and isinstance(v, exp.Expression)]
            if any(isinstance(o, exp.Column) for o in others):
                continue  # a join condition, not a filter
            table = owner(left)
            if table is None:
                continue
            if isinstance(pred, exp.Like):
                pattern = pred.expression
                if isinstance(pattern, exp.Literal) and str(pattern.this).startswith(("%", "_")):
                    continue  # a leading wildcard cannot use a B-tree
                _add(shape.ranges, table, left.name)
            elif isinstance(pred, exp.EQ | exp.In):
                _add(shape.equality, table, left.name)
            else:
                _add(shape.ranges, table, left.name)
    for order in tree.find_all(exp.Order):
        for item in order.expressions:
            col = item.this if isinstance(item, exp.Ordered) else item
            if isinstance(col, exp.Column) and (table := owner(col)):
                _add(shape.order_by, table, col.name + (" DESC" if item.args.get("desc") else ""))
    for group in tree.find_all(exp.Group):
        for col in group.expressions:
            if isinstance(col, exp.Column) and (table := owner(col)):
                _add(shape.group_by, table, col.name)
    return shape


# attached_condition / index_condition text: `db`.`t`.`col` = 42, o.total > 400, t.c in (1,2)
_COND: Final = re.compile(
    r"(?P<col>(?:`?\w+`?\.){0,2}`?\w+`?)\s*(?P<op><=>|<=|>=|<>|!=|=|<|>|\blike\b|\bbetween\b|\bin\b)\s*(?P<rhs>[^\s)]+)",
    re.IGNORECASE,
)
_COLREF: Final = re.compile(r"^`?[A-Za-z_]\w*`?(?:\.`?\w+`?)+$")


def _condition_columns(text: str | None) -> tuple[list[str], list[str]]:
    """(equality, range) column names from a MySQL/MariaDB condition; join comparisons are left out."""
    equality: list[str] = []
    ranges: list[str] = []
    if not text:
        return equality, ranges
    for m in _COND.finditer(text):
        rhs, op = m.group("rhs"), m.group("op").lower()
        if _COLREF.match(rhs) or op in ("<>", "!="):
            continue
        if op == "like" and rhs.strip("'\"").startswith("%"):
            continue
        col = m.group("col").split(".")[-1].strip("`")
        if col.isdigit():
            continue
        target = equality if op in ("=", "<=>", "in") else ranges
        if col not in equality and col not in ranges:
            target.append(col)
    return equality, ranges


def _index_name(table: str, columns: list[str]) -> str:
    base = "_".join(re.sub(r"\W+", "", c.split()[0]) for c in columns if c.split())
    return f"ix_{re.sub(r'[^A-Za-z0-9_]', '_', table)}_{base}"[:64]


def _quote_mysql(name: str) -> str:
    return name if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) else "`" + name.replace("`", "``") + "`"


def _quote_sqlite(name: str) -> str:
    return name if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) else '"' + name.replace('"', '""') + '"'


def _mysql_fix(table: str, columns: list[str], resolved: bool, title: str) -> Fix:
    columns = [c for c in columns if c.split()]
    cols = ", ".join(_quote_mysql(c.split()[0]) + (" DESC" if c.endswith(" DESC") else "") for c in columns)
    return Fix(
        title=title,
        statements=[
            f"ALTER TABLE {_quote_mysql(table)} ADD INDEX {_index_name(table, columns)} ({cols}), "
            "ALGORITHM=INPLACE, LOCK=NONE;"
        ],
        safety="safe" if resolved else "display-only",
        note=None if resolved else f"{table!r} is the name the plan shows; it may be an alias: use the base table.",
    )


def _sqlite_fix(table: str, columns: list[str], resolved: bool, title: str) -> Fix:
    columns = [c for c in columns if c.split()]
    cols = ", ".join(_quote_sqlite(c.split()[0]) + (" DESC" if c.endswith(" DESC") else "") for c in columns)
    return Fix(
        title=title,
        statements=[f"CREATE INDEX IF NOT EXISTS {_index_name(table, columns)} ON {_quote_sqlite(table)} ({cols});"],
        safety="safe" if resolved else "display-only",
        note=(
            "Run ANALYZE afterwards so the planner has statistics for the new index."
            if resolved
            else f"{table!r} is the name the plan shows; it may be an alias: use the base table."
        ),
    )


def _finding(spec: RuleSpec, node: PlanNode | None, subject: str, **kw: Any) -> Finding:
    return Finding(
        rule_id=spec.id,
        name=spec.name,
        severity=kw.pop("severity", spec.severity),
        subject=subject,
        subject_kind=kw.pop("subject_kind", "node"),
        table=kw.pop("table", node.relation if node is not None else None),
        **kw,
    )


def _subject(node: PlanNode) -> str:
    where = f" on {node.relation}" if node.relation else ""
    using = f" using {node.index_name}" if node.index_name else ""
    return f"{node.node_type}{where}{using}"


# ------------------------------------------------------------------------------------------------ OFFSET (all SQL)

# MySQL FORMAT=TREE / EXPLAIN ANALYZE "-> Limit/Offset: 10/90000 row(s)": node "Limit/Offset", detail "10/90000 row(s)"
_TREE_LIMIT_OFFSET: Final = re.compile(r"^(?P<limit>\d+)\s*/\s*(?P<offset>\d+)\s+row")


@dataclass(frozen=True)
class _Page:
    offset: int
    limit: int | None
    order_by: list[tuple[str, bool]]  # (expression, descending)
    table: str | None
    from_sql: bool = True  # False: read from a plan node, which does not say whether the statement has ORDER BY


def _sql_pages(sql: Any, dialect: str) -> list[_Page]:
    """Every SELECT of the statement with a literal OFFSET (MySQL's `LIMIT skip, n` too), largest first."""
    if not isinstance(sql, str) or not sql.strip():
        return []
    try:
        import sqlglot
        from sqlglot import exp

        tree = sqlglot.parse_one(sql, read=dialect)
    except Exception:
        return []
    if tree is None:
        return []
    pages: list[_Page] = []
    for offset in tree.find_all(exp.Offset):
        value = offset.expression
        if not isinstance(value, exp.Literal) or value.is_string or not str(value.this).isdigit():
            continue  # a placeholder or an expression: the page depth is not known
        select = offset.parent
        limit_node = select.args.get("limit") if select is not None else None
        limit_value = limit_node.expression if isinstance(limit_node, exp.Limit) else None
        limit = (
            int(str(limit_value.this))
            if isinstance(limit_value, exp.Literal) and str(limit_value.this).isdigit()
            else None
        )
        order = select.args.get("order") if select is not None else None
        keys: list[tuple[str, bool]] = []
        if isinstance(order, exp.Order):
            for item in order.expressions:
                key = item.this if isinstance(item, exp.Ordered) else item
                keys.append((key.sql(dialect=dialect), bool(item.args.get("desc"))))
        tables = {t.name for t in select.find_all(exp.Table) if t.name} if select is not None else set()
        pages.append(_Page(int(str(value.this)), limit, keys, next(iter(tables)) if len(tables) == 1 else None))
    return sorted(pages, key=lambda page: -page.offset)


def _large_offset(spec: RuleSpec, plan: Plan, context: Mapping[str, Any], dialect: str) -> Iterator[Finding]:
    """PLN010's check for plans that do not show the OFFSET: read it from the statement (or a MySQL tree node)."""
    pages = _sql_pages(context.get("sql"), dialect)
    if not pages and dialect == "mysql":
        for node in plan.nodes():
            match = _TREE_LIMIT_OFFSET.match(node.detail or "") if node.node_type == "Limit/Offset" else None
            if match:
                pages.append(_Page(int(match.group("offset")), int(match.group("limit")), [], None, from_sql=False))
        pages.sort(key=lambda page: -page.offset)
    if not pages or pages[0].offset < LARGE_OFFSET_ROWS:
        return
    page = pages[0]
    columns = ", ".join(key for key, _ in page.order_by) or "the ORDER BY columns"
    order = ", ".join(key + (" DESC" if desc else "") for key, desc in page.order_by) or columns
    directions = {desc for _, desc in page.order_by}
    compare = "<" if directions == {True} else ">"  # a descending listing continues below the last key
    note = "The client keeps the last row's sort key instead of a page number."
    if len(directions) > 1:
        note += " ASC and DESC keys mixed: spell the comparison out column by column instead of one row comparison."
    shown = f"LIMIT {page.limit} OFFSET {page.offset}" if page.limit is not None else f"OFFSET {page.offset}"
    rationale = "OFFSET still produces every skipped row; the cost grows with the page number."
    if page.from_sql and not page.order_by:
        rationale += " Without ORDER BY the rows of each page are not even defined, so pages can repeat or skip rows."
    yield _finding(
        spec,
        None,
        shown,
        subject_kind="query",
        table=page.table,
        title=f"The query reads and discards {page.offset} rows before the page it returns",
        evidence={"rows_skipped": page.offset, "limit": page.limit, "order_by": order if page.order_by else None},
        rationale=rationale,
        help=f"Use keyset pagination: WHERE ({columns}) {compare} (last row's values) ORDER BY {order} LIMIT n.",
        fix=Fix(
            title="Switch to keyset pagination",
            statements=[f"-- WHERE ({columns}) {compare} (?) ORDER BY {order} LIMIT ?"],
            safety="display-only",
            note=note,
        ),
    )
