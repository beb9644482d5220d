"""Plan rules for MySQL/MariaDB (PLN030-PLN049), SQLite (PLN050-PLN059) and MongoDB (PLN060-PLN069).

Each rule is a `(RuleSpec, check)` pair; `check(plan, context)` yields findings for a parsed `Plan`
(see `other_parse` for the node scheme). `context` is optional and may hold:

* ``"sql"`` - the statement (SQL text) that produced the plan; used to resolve aliases to tables and to read
  the WHERE / ORDER BY / GROUP BY columns that a suggested index should carry; PLN037 and PLN055 read the OFFSET
  from it, since no plan of these engines shows it (MySQL's FORMAT=TREE aside).
* ``"indexes"`` - ``{index_name: [column, ...]}`` (or ``{table: {index_name: [column, ...]}}``): the definitions
  of the plan's indexes, which PLN035 needs to see that only a prefix of an index is used.

Pure: no I/O, no clock; neither the plan nor the context is mutated. Thresholds are named constants below.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from dbspecialist.knowledge.findings import Finding, Fix, RuleSpec, Severity
from dbspecialist.knowledge.plans.model import Plan, PlanNode
from dbspecialist.knowledge.plans.rules_postgres import LARGE_OFFSET_ROWS as PG_LARGE_OFFSET_ROWS

__all__ = ["RULES_BY_ENGINE", "Check", "Rule", "run_rules"]

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


# ------------------------------------------------------------------------------------------------ MySQL / MariaDB

_MYSQL_ENGINES: Final = ("mysql",)


def _access(node: PlanNode) -> str | None:
    value = node.extra.get("access_type")
    return value if isinstance(value, str) else None


def _rows_read(node: PlanNode) -> float | None:
    """Rows one scan reads: measured (MariaDB r_rows / ANALYZE rows) when present, else the estimate."""
    if node.actual_rows is not None and _access(node) in ("ALL", "index") and node.extra.get("r_rows") is not None:
        return node.actual_rows
    return node.plan_rows if node.plan_rows is not None else node.actual_rows


def _kept_pct(node: PlanNode) -> float | None:
    for key in ("r_filtered", "filtered"):
        value = node.extra.get(key)
        if isinstance(value, int | float):
            return float(value)
    return None


def _resolve_mysql(node: PlanNode, shape: _Shape | None) -> tuple[str, bool]:
    shown = node.relation or "?"
    if shape is not None and shown in shape.tables:
        return shape.tables[shown], True
    return shown, False


def _mysql_index_columns(node: PlanNode, shape: _Shape | None, table: str) -> list[str]:
    eq, rng = _condition_columns(" and ".join(t for t in (node.index_cond, node.filter) if t))
    if shape is not None:
        eq = [*shape.equality.get(table, []), *[c for c in eq if c not in shape.equality.get(table, [])]]
        rng = [c for c in [*shape.ranges.get(table, []), *rng] if c not in eq]
    return list(dict.fromkeys([*eq, *rng]))


SPEC_PLN030 = RuleSpec(
    id="PLN030",
    name="mysql-full-table-scan",
    capability="plans",
    engines=_MYSQL_ENGINES,
    severity=Severity.MEDIUM,
    summary="MySQL/MariaDB reads a big table in full (access type ALL).",
)


def full_table_scan(plan: Plan, context: Mapping[str, Any]) -> Iterator[Finding]:
    """Access type ALL on a big table: every row is read and most are thrown away.

    ## Why is this bad?
    `ALL` means no index narrows the read: the engine walks the whole clustered index for each scan, and
    when the table is the inner side of a join it does so once per outer row. Time grows with the table,
    not with the result.

    ## Example
    ```sql
    EXPLAIN SELECT * FROM orders WHERE total = 42;   -- type: ALL, rows: 19840, Extra: Using where
    ```

    ## Use instead
    ```sql
    ALTER TABLE orders ADD INDEX ix_orders_total (total), ALGORITHM=INPLACE, LOCK=NONE;
    ```

    ## Fix safety
    Safe: InnoDB builds a secondary index online (`ALGORITHM=INPLACE, LOCK=NONE`); it costs disk space and
    slows writes slightly. The columns come from the plan's condition (or the statement when given), so
    check they match the query's selective predicates.
    """
    shape = _shape(context.get("sql"), "mysql")
    for node in plan.nodes():
        if _access(node) != "ALL":
            continue
        rows = _rows_read(node)
        if rows is None or rows < BIG_TABLE_ROWS:
            continue
        table, resolved = _resolve_mysql(node, shape)
        columns = _mysql_index_columns(node, shape, table)
        kept = _kept_pct(node)
        yield _finding(
            SPEC_PLN030,
            node,
            _subject(node),
            severity=_rows_severity(rows),
            title=f"Every row of {table} ({rows:,.0f}) is read to answer the query",
            evidence={
                "access_type": "ALL",
                "rows_examined_per_scan": rows,
                "filtered_pct": kept,
                "loops": node.actual_loops,
                "condition": node.filter,
            },
            rationale=(
                "A full table scan reads the whole table for each execution; with a filter that keeps few rows "
                "an index on the filtered columns reads only the matching ones."
            ),
            help=(
                f"Add an index on {table} ({', '.join(columns)})."
                if columns
                else f"Add an index on the columns {table} is filtered or joined by."
            ),
            fix=_mysql_fix(table, columns, resolved, f"Index {table} on {', '.join(columns)}") if columns else None,
        )


SPEC_PLN031 = RuleSpec(
    id="PLN031",
    name="mysql-full-index-scan",
    capability="plans",
    engines=_MYSQL_ENGINES,
    severity=Severity.LOW,
    summary="MySQL/MariaDB reads a whole index (access type index).",
)


def full_index_scan(plan: Plan, context: Mapping[str, Any]) -> Iterator[Finding]:
    """Access type `index` on a big table: the whole index is read, only cheaper than the table.

    ## Why is this bad?
    `index` walks every entry of an index, usually to get rows in index order or because the index covers
    the columns. It avoids a sort or the wider table but still reads every row; with a filter it is a full
    scan in disguise.

    ## Example
    ```sql
    EXPLAIN SELECT status, created_at FROM orders ORDER BY status, created_at;  -- type: index, rows: 19840
    ```

    ## Use instead
    ```sql
    SELECT status, created_at FROM orders WHERE status = 'paid' ORDER BY created_at LIMIT 50;
    ```

    ## Fix safety
    Display-only: the remedy is a narrower query (a WHERE clause or LIMIT) or an index that matches the
    filter; nothing is applied automatically.
    """
    for node in plan.nodes():
        if _access(node) != "index":
            continue
        rows = _rows_read(node)
        if rows is None or rows < BIG_TABLE_ROWS:
            continue
        yield _finding(
            SPEC_PLN031,
            node,
            _subject(node),
            severity=_rows_severity(rows, Severity.LOW),
            title=f"The whole index {node.index_name} of {node.relation} ({rows:,.0f} entries) is read",
            evidence={
                "access_type": "index",
                "rows_examined_per_scan": rows,
                "using_index": bool(node.extra.get("using_index")),
            },
            rationale=(
                "A full index scan touches every entry; it is cheaper than the table only because the index is "
                "narrower. A selective predicate on the leading index columns turns it into a range read."
            ),
            help="Filter on the index's leading columns or add LIMIT; or index the columns the query filters by.",
        )


def _subtree_rows(node: PlanNode) -> float | None:
    values = [_rows_read(n) for n in node.walk() if _access(n) is not None]
    known = [v for v in values if v is not None]
    if known:
        return max(known)
    return node.actual_rows if node.actual_rows is not None else node.plan_rows


def _first_table(node: PlanNode) -> PlanNode | None:
    return next((n for n in node.walk() if _access(n) is not None), None)


def _sort_owner(plan: Plan, node: PlanNode) -> PlanNode | None:
    """The table a sort / temporary table works for: the node itself in tabular output, else its first table."""
    if _access(node) is not None:
        return node
    return _first_table(node)


SPEC_PLN032 = RuleSpec(
    id="PLN032",
    name="mysql-filesort",
    capability="plans",
    engines=_MYSQL_ENGINES,
    severity=Severity.MEDIUM,
    summary="MySQL/MariaDB sorts rows itself (Using filesort) instead of reading them in index order.",
)


def _big_flagged_nodes(plan: Plan, flag: str) -> Iterator[tuple[PlanNode, float | None, PlanNode | None]]:
    """(node, rows under it, the table access it sorts) for nodes with `flag` over BIG_TABLE_ROWS rows."""
    for node in plan.nodes():
        if node.extra.get(flag) is not True:
            continue
        rows = _subtree_rows(node)
        if rows is not None and rows < BIG_TABLE_ROWS:
            continue
        yield node, rows, _sort_owner(plan, node)


def _ordered_index_fix(owner: PlanNode | None, shape: _Shape | None, clause: str, title: str) -> Fix | None:
    """An index on (equality columns, ORDER BY or GROUP BY columns) of the sorted table, when the SQL says which."""
    if owner is None or shape is None:
        return None
    table, resolved = _resolve_mysql(owner, shape)
    ordered = (shape.order_by if clause == "order_by" else shape.group_by).get(table, [])
    if not ordered:
        return None
    cols = list(dict.fromkeys([*shape.equality.get(table, []), *ordered]))
    return _mysql_fix(table, cols, resolved, title.format(table=table))


def filesort(plan: Plan, context: Mapping[str, Any]) -> Iterator[Finding]:
    """`Using filesort`: the rows are collected and sorted before the first one is returned.

    ## Why is this bad?
    A filesort reads every qualifying row before returning any, so LIMIT cannot stop early, and a sort
    larger than `sort_buffer_size` spills to temporary files in merge passes.

    ## Example
    ```sql
    SELECT * FROM orders WHERE customer_id = 7 ORDER BY created_at;   -- Using where; Using filesort
    ```

    ## Use instead
    ```sql
    ALTER TABLE orders ADD INDEX ix_orders_customer_id_created_at (customer_id, created_at),
      ALGORITHM=INPLACE, LOCK=NONE;   -- equality columns first, then the ORDER BY columns
    ```

    ## Fix safety
    Safe to build online. The index only removes the sort when the equality columns precede the sort
    columns and the sort directions match.
    """
    shape = _shape(context.get("sql"), "mysql")
    for node, rows, owner in _big_flagged_nodes(plan, "using_filesort"):
        fix = _ordered_index_fix(owner, shape, "order_by", "Read {table} in ORDER BY order through an index")
        yield _finding(
            SPEC_PLN032,
            owner or node,
            _subject(owner or node),
            severity=_rows_severity(rows),
            title=f"{rows:,.0f} rows are sorted before the first one is returned"
            if rows
            else "Rows are sorted in a filesort",
            evidence={
                "rows_sorted": rows,
                "sort_key": ", ".join(node.sort_key) or None,
                "sort_mode": node.extra.get("r_sort_mode"),
                "actual_output_rows": node.actual_rows,
            },
            rationale=(
                "Sorting needs all the rows first; an index whose column order matches the WHERE equality "
                "columns followed by the ORDER BY columns returns rows already sorted and lets LIMIT stop early."
            ),
            help="Add an index on (equality columns, ORDER BY columns) for the sorted table.",
            fix=fix,
        )


SPEC_PLN033 = RuleSpec(
    id="PLN033",
    name="mysql-temporary-table",
    capability="plans",
    engines=_MYSQL_ENGINES,
    severity=Severity.MEDIUM,
    summary="MySQL/MariaDB builds an internal temporary table (Using temporary) for GROUP BY, DISTINCT or UNION.",
)


def temporary_table(plan: Plan, context: Mapping[str, Any]) -> Iterator[Finding]:
    """`Using temporary`: an internal temporary table holds the rows for grouping, DISTINCT or UNION.

    ## Why is this bad?
    Every qualifying row is written into a temporary table before grouping; once it outgrows
    `tmp_table_size`/`max_heap_table_size` it moves to disk, and a GROUP BY on columns from a different
    table than the ORDER BY forces it.

    ## Example
    ```sql
    SELECT customer_id, COUNT(*) FROM orders WHERE status = 'paid' GROUP BY customer_id;  -- Using temporary
    ```

    ## Use instead
    ```sql
    ALTER TABLE orders ADD INDEX ix_orders_status_customer_id (status, customer_id), ALGORITHM=INPLACE, LOCK=NONE;
    ```

    ## Fix safety
    Safe to build online; the temporary table disappears only when the index delivers the rows grouped
    (equality columns first, then the GROUP BY columns).
    """
    shape = _shape(context.get("sql"), "mysql")
    for node, rows, owner in _big_flagged_nodes(plan, "using_temporary"):
        fix = _ordered_index_fix(owner, shape, "group_by", "Read {table} grouped through an index")
        yield _finding(
            SPEC_PLN033,
            owner or node,
            _subject(owner or node),
            severity=_rows_severity(rows),
            title=f"{rows:,.0f} rows go through an internal temporary table"
            if rows
            else "An internal temporary table is built",
            evidence={"rows": rows, "node": node.node_type},
            rationale=(
                "The temporary table costs a write and a read of every row and may spill to disk; an index that "
                "returns rows in GROUP BY order lets MySQL group as it reads."
            ),
            help="Add an index on (equality columns, GROUP BY columns), or group by columns of one table.",
            fix=fix,
        )


SPEC_PLN034 = RuleSpec(
    id="PLN034",
    name="mysql-low-filtered",
    capability="plans",
    engines=_MYSQL_ENGINES,
    severity=Severity.MEDIUM,
    summary="An index read returns many rows that the attached condition then discards (filtered < 10 %).",
)


def low_filtered(plan: Plan, context: Mapping[str, Any]) -> Iterator[Finding]:
    """An index access keeps under 10 % of the rows it reads: the index covers only part of the predicate.

    ## Why is this bad?
    `filtered` (or MariaDB's measured `r_filtered`) is the share of rows the attached condition keeps. Low
    values mean the index finds many rows, each fetched from the table, only to be thrown away by a
    condition on columns the index does not have.

    ## Example
    ```sql
    SELECT * FROM orders WHERE status = 'paid' AND total = 3;  -- ref on (status), r_filtered 0.21
    ```

    ## Use instead
    ```sql
    ALTER TABLE orders ADD INDEX ix_orders_status_total (status, total), ALGORITHM=INPLACE, LOCK=NONE;
    ```

    ## Fix safety
    Safe to build online; once it exists, the old single-column index may be redundant (check before
    dropping).
    """
    shape = _shape(context.get("sql"), "mysql")
    for node in plan.nodes():
        access = _access(node)
        if access in (None, "ALL", "const", "system", "eq_ref"):
            continue  # ALL is PLN030's; single-row accesses cannot discard much
        kept = _kept_pct(node)
        rows = node.actual_rows if node.actual_rows is not None else node.plan_rows
        if kept is None or rows is None or kept >= LOW_FILTERED_PCT or rows < BIG_TABLE_ROWS:
            continue
        table, resolved = _resolve_mysql(node, shape)
        key_parts = [str(c) for c in node.extra.get("used_key_parts") or []]
        columns = list(dict.fromkeys([*key_parts, *_mysql_index_columns(node, shape, table)]))
        yield _finding(
            SPEC_PLN034,
            node,
            _subject(node),
            severity=_rows_severity(rows),
            title=f"{100 - kept:.1f}% of the {rows:,.0f} rows read through {node.index_name or access} are discarded",
            evidence={
                "access_type": access,
                "rows_read": rows,
                "filtered_pct": kept,
                "measured": node.extra.get("r_filtered") is not None,
                "condition": node.filter,
            },
            rationale=(
                "Rows are looked up through the index and then rejected by a condition the index cannot check; "
                "a composite index with the filtered columns after the key columns finds only the rows kept."
            ),
            help=f"Extend the index to ({', '.join(columns)})." if columns else "Index the filtered columns too.",
            fix=_mysql_fix(table, columns, resolved, f"Composite index on {table}")
            if len(columns) > len(key_parts)
            else None,
        )


SPEC_PLN035 = RuleSpec(
    id="PLN035",
    name="mysql-partial-key-use",
    capability="plans",
    engines=_MYSQL_ENGINES,
    severity=Severity.LOW,
    summary="Only a prefix of a multi-column index is used (used_key_parts shorter than the index).",
)


def _index_definition(context: Mapping[str, Any], table: str | None, index: str) -> list[str] | None:
    indexes = context.get("indexes")
    if not isinstance(indexes, Mapping):
        return None
    direct = indexes.get(index)
    if isinstance(direct, list | tuple):
        return [str(c) for c in direct]
    per_table = indexes.get(table) if table else None
    if isinstance(per_table, Mapping) and isinstance(per_table.get(index), list | tuple):
        return [str(c) for c in per_table[index]]
    return None


def partial_key_use(plan: Plan, context: Mapping[str, Any]) -> Iterator[Finding]:
    """The plan uses the first columns of a composite index only; the rest of the key does no work.

    ## Why is this bad?
    MySQL uses an index left to right and stops at the first column without an equality (or at a range).
    If the query filters on a later column but skips one in between, that later column is checked row by
    row instead of in the index. Needs the index definitions in `context["indexes"]`.

    ## Example
    ```sql
    -- KEY ix_status_created (status, created_at)
    SELECT * FROM orders WHERE status = 'paid' AND total = 3;   -- used_key_parts: ["status"]
    ```

    ## Use instead
    ```sql
    ALTER TABLE orders ADD INDEX ix_orders_status_total (status, total), ALGORITHM=INPLACE, LOCK=NONE;
    ```

    ## Fix safety
    Display-only: whether to reorder, extend or add an index depends on the other queries using it.
    """
    for node in plan.nodes():
        if not node.index_name:
            continue
        used = [str(c) for c in node.extra.get("used_key_parts") or []]
        if not used:
            continue
        definition = _index_definition(context, node.relation, node.index_name)
        if definition is None or len(used) >= len(definition):
            continue
        unused = definition[len(used) :]
        eq, rng = _condition_columns(node.filter)
        yield _finding(
            SPEC_PLN035,
            node,
            _subject(node),
            title=f"Only {len(used)} of the {len(definition)} columns of {node.index_name} are used",
            evidence={
                "index": node.index_name,
                "used_key_parts": ", ".join(used),
                "unused_key_parts": ", ".join(unused),
                "key_length": str(node.extra.get("key_length")),
                "filtered_columns": ", ".join([*eq, *rng]) or None,
            },
            rationale=(
                "Index columns after the used prefix do not narrow the read; conditions on other columns are "
                "evaluated row by row after the lookup."
            ),
            help=(
                f"Put the filtered columns ({', '.join([*eq, *rng])}) right after {', '.join(used)} in an index."
                if eq or rng
                else "Filter on the next index column too, or use an index that matches the predicate."
            ),
            fix=(
                Fix(
                    title="Composite index matching the predicate",
                    statements=[
                        f"ALTER TABLE {_quote_mysql(node.relation or '?')} ADD INDEX "
                        f"{_index_name(node.relation or 't', [*used, *eq, *rng])} "
                        f"({', '.join(_quote_mysql(c) for c in dict.fromkeys([*used, *eq, *rng]))}), "
                        "ALGORITHM=INPLACE, LOCK=NONE;"
                    ],
                    safety="display-only",
                    note="Check other queries that use the existing index before replacing it.",
                )
                if eq or rng
                else None
            ),
        )


SPEC_PLN036 = RuleSpec(
    id="PLN036",
    name="mysql-nonselective-ref",
    capability="plans",
    engines=_MYSQL_ENGINES,
    severity=Severity.LOW,
    summary="A ref lookup matches thousands of rows per key value: the key is not selective.",
)


def nonselective_ref(plan: Plan, context: Mapping[str, Any]) -> Iterator[Finding]:
    """A `ref` access on a key value that matches thousands of rows.

    ## Why is this bad?
    Each matching index entry costs a lookup into the clustered index; past a few thousand rows per value
    that random I/O is slower than the scan it replaced, and the optimiser's choice becomes fragile.

    ## Example
    ```sql
    SELECT * FROM orders WHERE status = 'open';   -- ref on ix_status, rows: 9920 per lookup
    ```

    ## Use instead
    ```sql
    SELECT * FROM orders WHERE status = 'open' AND created_at >= '2024-06-01';  -- with (status, created_at)
    ```

    ## Fix safety
    Display-only: add a more selective column to the predicate and the index, or accept the scan.
    """
    for node in plan.nodes():
        if _access(node) not in ("ref", "ref_or_null"):
            continue
        rows = node.actual_rows if node.actual_rows is not None else node.plan_rows
        kept = _kept_pct(node)
        if rows is None or rows < NONSELECTIVE_REF_ROWS or (kept is not None and kept < LOW_FILTERED_PCT):
            continue  # low filtered is PLN034's finding, with a concrete index
        yield _finding(
            SPEC_PLN036,
            node,
            _subject(node),
            title=f"Each lookup on {node.index_name} matches about {rows:,.0f} rows of {node.relation}",
            evidence={"rows_per_lookup": rows, "index": node.index_name, "ref": ", ".join(node.extra.get("ref") or [])},
            rationale="A key value shared by thousands of rows makes each lookup a large random read.",
            help="Add a more selective column to the predicate and to the index after the key column.",
        )


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


SPEC_PLN037 = RuleSpec(
    id="PLN037",
    name="mysql-large-offset",
    capability="plans",
    engines=_MYSQL_ENGINES,
    severity=Severity.MEDIUM,
    summary="A LIMIT reads and discards a large OFFSET.",
    fix="sometimes",
)


def mysql_large_offset(plan: Plan, context: Mapping[str, Any]) -> Iterator[Finding]:
    """OFFSET pagination (`LIMIT n OFFSET m`, `LIMIT m, n`) reads every skipped row and throws it away.

    ## Why is this bad?
    MySQL and MariaDB have no way to jump to row 90,000: they produce the 90,000 rows before the page (reading
    the table or index in order, or sorting it all first) and discard them. The deeper the page, the slower,
    and rows shift between pages while users browse. The plan does not show the OFFSET, so the rule reads it
    from the statement (or from a `Limit/Offset` node of FORMAT=TREE).

    ## Example
    ```sql
    SELECT * FROM orders ORDER BY id LIMIT 20 OFFSET 100000;
    ```

    ## Use instead
    ```sql
    SELECT * FROM orders WHERE id > ? ORDER BY id LIMIT 20;  -- keyset pagination, ? = last id of the previous page
    ```

    ## Fix safety
    Display-only: the application must pass the last key of the previous page.
    """
    yield from _large_offset(SPEC_PLN037, plan, context, "mysql")


# ------------------------------------------------------------------------------------------------ SQLite

_SQLITE_ENGINES: Final = ("sqlite",)


def _sqlite_table(name: str | None, shape: _Shape | None) -> tuple[str | None, bool]:
    if name is None:
        return None, False
    if shape is None:
        return name, False
    if name in shape.derived:
        return None, True
    if name in shape.tables:
        return shape.tables[name], True
    return name, False


def _derived_names(plan: Plan) -> set[str]:
    return {n.cte_name for n in plan.nodes() if n.node_type in ("MATERIALIZE", "CO-ROUTINE") and n.cte_name}


SPEC_PLN050 = RuleSpec(
    id="PLN050",
    name="sqlite-table-scan",
    capability="plans",
    engines=_SQLITE_ENGINES,
    severity=Severity.MEDIUM,
    summary="SQLite scans a whole table that the query filters (SCAN without an index).",
)


def sqlite_scan(plan: Plan, context: Mapping[str, Any]) -> Iterator[Finding]:
    """`SCAN t`: SQLite reads every row of a table the query filters.

    ## Why is this bad?
    Without an index on the filtered columns SQLite steps through the whole table b-tree; the cost grows
    with the table. When the statement is known (`context["sql"]`), only scans of tables that have a WHERE
    predicate are reported: a scan of a table that is read in full anyway is not a problem.

    ## Example
    ```sql
    EXPLAIN QUERY PLAN SELECT * FROM orders WHERE created_at > '2024-06-01';   -- SCAN orders
    ```

    ## Use instead
    ```sql
    CREATE INDEX ix_orders_created_at ON orders (created_at);
    ```

    ## Fix safety
    Safe; SQLite locks the database while building the index, and ANALYZE afterwards refreshes the
    statistics the planner uses.
    """
    shape = _shape(context.get("sql"), "sqlite")
    derived = _derived_names(plan)
    for node in plan.nodes():
        if node.node_type != "SCAN" or node.extra.get("using") or node.relation in derived:
            continue
        table, resolved = _sqlite_table(node.relation, shape)
        if table is None:
            continue
        fix = None
        columns: list[str] = []
        if shape is not None:
            columns = list(dict.fromkeys([*shape.equality.get(table, []), *shape.ranges.get(table, [])]))
            if not columns:
                continue  # the query reads the table without a filter: a scan is the right plan
            fix = _sqlite_fix(table, columns, resolved, f"Index {table} on {', '.join(columns)}")
        yield _finding(
            SPEC_PLN050,
            node,
            _subject(node),
            table=table,
            title=f"SQLite reads every row of {table}",
            evidence={"detail": node.detail, "filter_columns": ", ".join(columns) or None},
            rationale="A full scan reads the whole table; an index on the filtered columns reads only matches.",
            help=f"Create an index on {table} ({', '.join(columns)})."
            if columns
            else "Index the columns the query filters this table by.",
            fix=fix,
        )


SPEC_PLN051 = RuleSpec(
    id="PLN051",
    name="sqlite-temp-b-tree",
    capability="plans",
    engines=_SQLITE_ENGINES,
    severity=Severity.LOW,
    summary="SQLite builds a temporary b-tree to sort, group or de-duplicate (USE TEMP B-TREE).",
)


def sqlite_temp_btree(plan: Plan, context: Mapping[str, Any]) -> Iterator[Finding]:
    """`USE TEMP B-TREE FOR ORDER BY / GROUP BY / DISTINCT`: rows are copied into a temporary b-tree.

    ## Why is this bad?
    SQLite has to read all qualifying rows into a transient index before it can return the first sorted or
    grouped one, so LIMIT cannot stop early and memory (or temp files) grow with the result.

    ## Example
    ```sql
    SELECT * FROM orders WHERE created_at > '2024-06-01' ORDER BY created_at;   -- USE TEMP B-TREE FOR ORDER BY
    ```

    ## Use instead
    ```sql
    CREATE INDEX ix_orders_created_at ON orders (created_at);
    ```

    ## Fix safety
    Safe. The index removes the temporary b-tree only when its columns match the ORDER BY / GROUP BY
    columns (after any equality columns).
    """
    shape = _shape(context.get("sql"), "sqlite")
    for node in plan.nodes():
        if node.node_type != "USE TEMP B-TREE":
            continue
        purpose = str(node.extra.get("purpose") or "")
        fix = None
        if shape is not None and len(set(shape.tables.values())) >= 1:
            wanted = shape.order_by if "ORDER BY" in purpose else shape.group_by if "GROUP BY" in purpose else {}
            for table, cols in wanted.items():
                if cols:
                    index_cols = list(dict.fromkeys([*shape.equality.get(table, []), *cols]))
                    fix = _sqlite_fix(table, index_cols, True, f"Read {table} in {purpose.lower()} order")
                    break
        yield _finding(
            SPEC_PLN051,
            node,
            f"USE TEMP B-TREE FOR {purpose}",
            subject_kind="query",
            table=None,
            title=f"SQLite builds a temporary b-tree for {purpose or 'sorting'}",
            evidence={"detail": node.detail, "purpose": purpose or None},
            rationale="Rows are copied and sorted before any is returned; an index in that order avoids it.",
            help=f"Create an index whose columns follow the {purpose or 'sort'} columns.",
            fix=fix,
        )


SPEC_PLN052 = RuleSpec(
    id="PLN052",
    name="sqlite-automatic-index",
    capability="plans",
    engines=_SQLITE_ENGINES,
    severity=Severity.HIGH,
    summary="SQLite builds a throw-away AUTOMATIC INDEX on every run: a permanent index is missing.",
)

_AUTO_COLS: Final = re.compile(r"(\w+)\s*(?:=|>|<|>=|<=)\s*\?")


def sqlite_automatic_index(plan: Plan, context: Mapping[str, Any]) -> Iterator[Finding]:
    """`USING AUTOMATIC (COVERING) INDEX (col=?)`: SQLite indexes the table on each execution.

    ## Why is this bad?
    SQLite found a join that would be a nested full scan and builds a transient index to survive it. That
    costs a full read plus an index build every time the statement runs; the index it builds names the
    missing permanent one.

    ## Example
    ```sql
    SELECT c.name, o.total FROM customers c JOIN orders o ON o.created_at = c.name;
    -- SEARCH c USING AUTOMATIC COVERING INDEX (name=?)
    ```

    ## Use instead
    ```sql
    CREATE INDEX ix_customers_name ON customers (name);
    ```

    ## Fix safety
    Safe; the table name is resolved from the statement when it is given, otherwise the plan's name (which
    may be an alias) is used and the fix is display-only.
    """
    shape = _shape(context.get("sql"), "sqlite")
    for node in plan.nodes():
        if node.extra.get("automatic_index") is not True:
            continue
        columns = list(dict.fromkeys(_AUTO_COLS.findall(node.index_cond or "")))
        table, resolved = _sqlite_table(node.relation, shape)
        if table is None:
            continue
        yield _finding(
            SPEC_PLN052,
            node,
            _subject(node),
            table=table,
            title=f"SQLite builds a temporary index on {table} ({', '.join(columns)}) on every run",
            evidence={"detail": node.detail, "columns": ", ".join(columns) or None},
            rationale="An automatic index is built from a full scan each time; a permanent index is built once.",
            help=f"Create an index on {table} ({', '.join(columns)}).",
            fix=_sqlite_fix(table, columns, resolved, f"Permanent index on {table} ({', '.join(columns)})")
            if columns
            else None,
        )


SPEC_PLN053 = RuleSpec(
    id="PLN053",
    name="sqlite-correlated-subquery",
    capability="plans",
    engines=_SQLITE_ENGINES,
    severity=Severity.MEDIUM,
    summary="A correlated subquery runs once per outer row (CORRELATED SCALAR/LIST SUBQUERY).",
    fix="never",
)


def sqlite_correlated_subquery(plan: Plan, context: Mapping[str, Any]) -> Iterator[Finding]:
    """`CORRELATED SCALAR SUBQUERY n`: the subquery is re-run for every row of the outer query.

    ## Why is this bad?
    The cost is outer rows x subquery cost. With an index behind the subquery each run is a lookup; with a
    SCAN inside it is a full scan per outer row, quadratic in practice.

    ## Example
    ```sql
    SELECT c.name, (SELECT max(total) FROM orders o WHERE o.customer_id = c.id) FROM customers c;
    ```

    ## Use instead
    ```sql
    SELECT c.name, m.max_total
    FROM customers c LEFT JOIN (SELECT customer_id, max(total) AS max_total FROM orders GROUP BY customer_id) m
      ON m.customer_id = c.id;
    ```

    ## Fix safety
    No automatic fix: the rewrite to a join or window function changes the statement and needs review.
    """
    for node in plan.nodes():
        if not node.node_type.startswith("CORRELATED"):
            continue
        inner = [n for n in node.walk() if n.node_type in ("SCAN", "SEARCH")]
        full = [n for n in inner if n.node_type == "SCAN" and not n.extra.get("using")]
        yield _finding(
            SPEC_PLN053,
            node,
            node.detail or node.node_type,
            severity=Severity.HIGH if full else Severity.MEDIUM,
            subject_kind="query",
            table=inner[0].relation if inner else None,
            title="A subquery is re-run for every outer row" + (" and scans a whole table each time" if full else ""),
            evidence={
                "detail": node.detail,
                "inner_access": "; ".join(n.detail or n.node_type for n in inner) or None,
                "inner_full_scan": bool(full),
            },
            rationale=(
                "A correlated subquery multiplies its cost by the outer row count; a join, LATERAL-style derived "
                "table or window function computes the same in one pass."
            ),
            help="Rewrite the subquery as a join on a grouped derived table (or a window function).",
        )


SPEC_PLN054 = RuleSpec(
    id="PLN054",
    name="sqlite-multi-index-or",
    capability="plans",
    engines=_SQLITE_ENGINES,
    severity=Severity.INFO,
    summary="An OR across columns is answered by several index probes merged by rowid (MULTI-INDEX OR).",
    fix="never",
)


def sqlite_multi_index_or(plan: Plan, context: Mapping[str, Any]) -> Iterator[Finding]:
    """`MULTI-INDEX OR`: each OR branch probes its own index and the rowids are de-duplicated.

    ## Why is this bad?
    It is better than a full scan, but every branch fetches its rows separately and SQLite keeps a rowid
    set to drop duplicates; with many branches or non-selective ones it approaches a scan.

    ## Example
    ```sql
    SELECT * FROM orders WHERE status = 'paid' OR total = 3;
    ```

    ## Use instead
    ```sql
    SELECT * FROM orders WHERE status = 'paid'
    UNION ALL
    SELECT * FROM orders WHERE total = 3 AND status IS NOT 'paid';
    ```

    ## Fix safety
    No automatic fix: informational, the rewrite must keep the OR's semantics (NULLs, duplicates).
    """
    for node in plan.nodes():
        if node.node_type != "MULTI-INDEX OR":
            continue
        probes = [n for n in node.walk() if n.node_type in ("SEARCH", "SCAN")]
        yield _finding(
            SPEC_PLN054,
            node,
            "MULTI-INDEX OR",
            subject_kind="query",
            table=probes[0].relation if probes else None,
            title=f"An OR is answered by {len(probes)} separate index probes merged by rowid",
            evidence={"branches": len(probes), "probes": "; ".join(n.detail or "" for n in probes)},
            rationale="Each branch is a separate search and the rowids are de-duplicated afterwards.",
            help="Fine for a few selective branches; otherwise split into UNION ALL branches.",
        )


SPEC_PLN055 = RuleSpec(
    id="PLN055",
    name="sqlite-large-offset",
    capability="plans",
    engines=_SQLITE_ENGINES,
    severity=Severity.MEDIUM,
    summary="A LIMIT reads and discards a large OFFSET.",
    fix="sometimes",
)


def sqlite_large_offset(plan: Plan, context: Mapping[str, Any]) -> Iterator[Finding]:
    """OFFSET pagination reads every skipped row and throws it away.

    ## Why is this bad?
    SQLite steps through every row before the page (and sorts them all first when no index gives the order),
    then discards them: the deeper the page, the slower, and rows shift between pages while users browse.
    EXPLAIN QUERY PLAN does not show the OFFSET, so the rule reads it from the statement.

    ## Example
    ```sql
    SELECT * FROM orders ORDER BY id LIMIT 20 OFFSET 100000;
    ```

    ## Use instead
    ```sql
    SELECT * FROM orders WHERE id > ? ORDER BY id LIMIT 20;  -- keyset pagination, ? = last id of the previous page
    ```

    ## Fix safety
    Display-only: the application must pass the last key of the previous page.
    """
    yield from _large_offset(SPEC_PLN055, plan, context, "sqlite")


# ------------------------------------------------------------------------------------------------ MongoDB

_MONGO_ENGINES: Final = ("mongodb",)
_EQ_OPS: Final = ("$eq", "$in")
_RANGE_OPS: Final = ("$gt", "$gte", "$lt", "$lte", "$ne", "$nin", "$regex", "$exists", "$type")


def _mongo_fields(query: Any, eq: list[str], rng: list[str], depth: int = 0) -> None:
    if depth > 50 or not isinstance(query, Mapping):
        return
    for key, value in query.items():
        if key == "$and" and isinstance(value, list):
            for item in value:
                _mongo_fields(item, eq, rng, depth + 1)
        elif key.startswith("$"):
            continue  # $or/$nor/$expr: no single index prefix
        elif isinstance(value, Mapping) and any(str(k).startswith("$") for k in value):
            ops = [str(k) for k in value]
            target = eq if all(op in _EQ_OPS for op in ops) else rng if any(op in _RANGE_OPS for op in ops) else None
            if target is not None and key not in eq and key not in rng:
                target.append(key)
        elif key not in eq:
            eq.append(key)


def _mongo_sort(plan: Plan) -> dict[str, Any]:
    sort = plan.extra.get("sort")
    if isinstance(sort, Mapping):
        return dict(sort)
    for node in plan.nodes():
        pattern = node.extra.get("sort_pattern")
        if isinstance(pattern, Mapping):
            return dict(pattern)
    return {}


def _esr_keys(plan: Plan, filter_doc: Any = None) -> dict[str, Any]:
    """Equality fields, then sort fields (with their direction), then range fields: the ESR rule."""
    eq: list[str] = []
    rng: list[str] = []
    _mongo_fields(filter_doc if filter_doc is not None else plan.extra.get("parsed_query"), eq, rng)
    keys: dict[str, Any] = {f: 1 for f in eq}
    for field_name, direction in _mongo_sort(plan).items():
        keys.setdefault(field_name, direction if direction in (1, -1) else 1)
    for field_name in rng:
        keys.setdefault(field_name, 1)
    return keys


def _mongo_collection(plan: Plan) -> str:
    for node in plan.nodes():
        if node.relation:
            return node.relation
    return "collection"


def _create_index(collection: str, keys: Mapping[str, Any]) -> str:
    target = (
        f"db.{collection}"
        if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", collection)
        else f"db.getCollection({json.dumps(collection)})"
    )
    return f"{target}.createIndex({json.dumps(dict(keys))})"


def _mongo_fix(collection: str, keys: Mapping[str, Any], title: str) -> Fix | None:
    if not keys:
        return None
    return Fix(
        title=title,
        statements=[_create_index(collection, keys)],
        safety="safe",
        note="Index builds on MongoDB 4.2+ hold an exclusive lock only at the start and end of the build.",
    )


def _ratio(a: Any, b: Any) -> float | None:
    if not isinstance(a, int | float) or not isinstance(b, int | float) or isinstance(a, bool):
        return None
    return float(a) / max(float(b), 1.0)


SPEC_PLN060 = RuleSpec(
    id="PLN060",
    name="mongodb-collscan",
    capability="plans",
    engines=_MONGO_ENGINES,
    severity=Severity.HIGH,
    summary="MongoDB reads the whole collection (COLLSCAN) for a filtered or sorted query.",
)


def mongo_collscan(plan: Plan, context: Mapping[str, Any]) -> Iterator[Finding]:
    """COLLSCAN: every document of the collection is read and matched.

    ## Why is this bad?
    Without an index on the filter fields MongoDB loads each document to test it; the cost grows with the
    collection and the working set is flushed from cache. The index to add follows the ESR rule: equality
    fields first, then the sort fields, then range fields.

    ## Example
    ```javascript
    db.orders.find({customer_id: 7, total: {$gt: 100}}).sort({created: -1})   // COLLSCAN + SORT
    ```

    ## Use instead
    ```javascript
    db.orders.createIndex({customer_id: 1, created: -1, total: 1})
    ```

    ## Fix safety
    Safe; index builds take a brief exclusive lock at start and end, and each index slows writes a little.
    """
    for node in plan.nodes():
        if node.node_type != "COLLSCAN":
            continue
        examined = plan.extra.get("totalDocsExamined")
        returned = plan.extra.get("nReturned")
        if isinstance(examined, int | float) and examined < MONGO_MIN_EXAMINED:
            continue
        filter_doc = node.extra.get("filter") or plan.extra.get("parsed_query")
        keys = _esr_keys(plan, filter_doc)
        branches = _or_branch_keys(filter_doc)
        if not keys and not branches:
            continue  # an unfiltered, unsorted read of everything: a scan is what was asked for
        collection = _mongo_collection(plan)
        if not keys:
            yield _or_collscan(node, plan, collection, branches)
            continue
        in_memory_sort = any(n.node_type == "SORT" for n in plan.nodes())
        yield _finding(
            SPEC_PLN060,
            node,
            f"COLLSCAN on {collection}",
            subject_kind="collection",
            table=collection,
            title=f"Every document of {collection} is read"
            + (
                f" ({examined:,} examined for {returned:,} returned)"
                if isinstance(examined, int) and isinstance(returned, int)
                else ""
            ),
            evidence={
                "docs_examined": examined,
                "n_returned": returned,
                "ratio": _ratio(examined, returned),
                "in_memory_sort": in_memory_sort,
                "execution_ms": plan.execution_ms,
                "index_keys": json.dumps(keys),
            },
            rationale=(
                "A collection scan touches every document; an index on the filter fields (ESR order: equality, "
                "sort, range) reads only the matching keys and also returns them sorted."
            ),
            help=f"Create the index {json.dumps(keys)} on {collection}.",
            fix=_mongo_fix(collection, keys, f"ESR index on {collection}"),
        )


def _or_branch_keys(filter_doc: Any) -> list[dict[str, Any]]:
    """ESR keys per branch of a top-level `$or` (each joined with the filter's other fields), distinct, in order."""
    if not isinstance(filter_doc, Mapping):
        return []
    branches = filter_doc.get("$or")
    if not isinstance(branches, list):
        return []
    rest = {k: v for k, v in filter_doc.items() if k != "$or"}
    out: list[dict[str, Any]] = []
    for branch in branches:
        eq: list[str] = []
        rng: list[str] = []
        _mongo_fields({"$and": [rest, branch]}, eq, rng)
        keys = {f: 1 for f in [*eq, *rng]}
        if keys and keys not in out:
            out.append(keys)
    return out


def _or_collscan(node: PlanNode, plan: Plan, collection: str, branches: list[dict[str, Any]]) -> Finding:
    """PLN060 for a `$or` scanned whole: MongoDB uses indexes for a $or only when every branch has one."""
    examined = plan.extra.get("totalDocsExamined")
    returned = plan.extra.get("nReturned")
    return _finding(
        SPEC_PLN060,
        node,
        f"COLLSCAN on {collection}",
        subject_kind="collection",
        table=collection,
        title=f"Every document of {collection} is read for a $or"
        + (
            f" ({examined:,} examined for {returned:,} returned)"
            if isinstance(examined, int) and isinstance(returned, int)
            else ""
        ),
        evidence={
            "docs_examined": examined,
            "n_returned": returned,
            "ratio": _ratio(examined, returned),
            "or_branches": len(branches),
            "execution_ms": plan.execution_ms,
            "index_keys": "; ".join(json.dumps(k) for k in branches),
        },
        rationale=(
            "MongoDB answers a $or from indexes only when every branch can use one (an OR of index scans); a "
            "single branch without an index makes it read the whole collection."
        ),
        help=(
            "Give every $or branch an index: "
            + "; ".join(json.dumps(k) for k in branches)
            + ". Branches whose fields already lead an index need nothing (recommend_indexes checks that)."
        ),
        fix=Fix(
            title=f"An index per $or branch on {collection}",
            statements=[_create_index(collection, k) for k in branches],
            safety="safe",
            note="Skip the statements whose keys already lead an existing index; the others are what the scan "
            "lacks. Index builds on MongoDB 4.2+ hold an exclusive lock only at the start and end of the build.",
        ),
    )


SPEC_PLN061 = RuleSpec(
    id="PLN061",
    name="mongodb-in-memory-sort",
    capability="plans",
    engines=_MONGO_ENGINES,
    severity=Severity.MEDIUM,
    summary="MongoDB sorts in memory (SORT stage) because no index supplies the order.",
)


def mongo_in_memory_sort(plan: Plan, context: Mapping[str, Any]) -> Iterator[Finding]:
    """A blocking SORT stage: results are sorted in memory (or spilled) instead of read in index order.

    ## Why is this bad?
    The SORT stage must consume every input document before returning one; it is capped by
    `internalQueryMaxBlockingSortMemoryUsageBytes` (100 MB) and otherwise spills or fails. An index whose
    keys follow equality fields then the sort fields returns documents already ordered.

    ## Example
    ```javascript
    db.orders.find({status: "paid"}).sort({total: 1})   // IXSCAN status_1 → FETCH → SORT
    ```

    ## Use instead
    ```javascript
    db.orders.createIndex({status: 1, total: 1})
    ```

    ## Fix safety
    Safe; the sort direction in the index must match (or be the exact reverse of) the query's sort.
    """
    if any(n.node_type == "COLLSCAN" for n in plan.nodes()):
        return  # PLN060's ESR index already carries the sort fields
    for node in plan.nodes():
        if node.node_type != "SORT":
            continue
        collection = _mongo_collection(plan)
        keys = _esr_keys(plan)
        yield _finding(
            SPEC_PLN061,
            node,
            f"SORT on {collection}",
            subject_kind="collection",
            table=collection,
            title=f"{collection} results are sorted in memory by {json.dumps(node.extra.get('sort_pattern') or {})}",
            evidence={
                "sort_pattern": json.dumps(node.extra.get("sort_pattern") or {}),
                "n_returned": plan.extra.get("nReturned"),
                "mem_limit_bytes": node.extra.get("memLimit"),
                "used_disk": node.extra.get("usedDisk"),
                "index_keys": json.dumps(keys),
            },
            rationale="A blocking sort holds every result in memory before returning the first one.",
            help=f"Create the index {json.dumps(keys)} so documents come back in sort order.",
            fix=_mongo_fix(collection, keys, f"Index on {collection} that supplies the sort"),
        )


def _has_fetch_filter(plan: Plan) -> bool:
    return any(n.node_type == "FETCH" and n.extra.get("filter") for n in plan.nodes())


SPEC_PLN062 = RuleSpec(
    id="PLN062",
    name="mongodb-docs-examined-ratio",
    capability="plans",
    engines=_MONGO_ENGINES,
    severity=Severity.MEDIUM,
    summary="MongoDB examines ≥ 10 documents per document returned although an index is used.",
)


def mongo_docs_examined(plan: Plan, context: Mapping[str, Any]) -> Iterator[Finding]:
    """totalDocsExamined ≫ nReturned with an index: the index narrows too little.

    ## Why is this bad?
    Each examined document is loaded and matched; when ten or more are examined per returned document the
    index used covers only part of the filter, and the rest is checked document by document.

    ## Example
    ```javascript
    db.orders.find({status: "paid", total: 3})   // IXSCAN {status: 1}: 1667 examined, 4 returned
    ```

    ## Use instead
    ```javascript
    db.orders.createIndex({status: 1, total: 1})
    ```

    ## Fix safety
    Safe to build; the new compound index may make the single-field one redundant.
    """
    if any(n.node_type == "COLLSCAN" for n in plan.nodes()) or _has_fetch_filter(plan):
        return  # PLN060 / PLN064 report these with a sharper fix
    examined, returned = plan.extra.get("totalDocsExamined"), plan.extra.get("nReturned")
    ratio = _ratio(examined, returned)
    if (
        ratio is None
        or ratio < MONGO_EXAMINED_RATIO
        or not isinstance(examined, int | float)
        or examined < MONGO_MIN_EXAMINED
    ):
        return
    collection = _mongo_collection(plan)
    keys = _esr_keys(plan)
    yield _finding(
        SPEC_PLN062,
        None,
        f"query on {collection}",
        subject_kind="collection",
        table=collection,
        title=f"{examined:,} documents of {collection} are examined to return {returned:,}",
        evidence={"docs_examined": examined, "n_returned": returned, "ratio": ratio, "index_keys": json.dumps(keys)},
        rationale="Documents loaded and then rejected cost I/O and cache; a compound index rejects them earlier.",
        help=f"Create the index {json.dumps(keys)} (ESR order).",
        fix=_mongo_fix(collection, keys, f"Compound ESR index on {collection}"),
    )


SPEC_PLN063 = RuleSpec(
    id="PLN063",
    name="mongodb-keys-examined-ratio",
    capability="plans",
    engines=_MONGO_ENGINES,
    severity=Severity.MEDIUM,
    summary="MongoDB scans ≥ 10 index keys per document returned: the index's key order is not selective.",
)


def mongo_keys_examined(plan: Plan, context: Mapping[str, Any]) -> Iterator[Finding]:
    """totalKeysExamined ≫ nReturned: the index bounds are wide and most keys are skipped.

    ## Why is this bad?
    When a range field comes before an equality field in the index, the scan walks the whole range and
    filters on the later key; the keys read grow with the range, not with the result.

    ## Example
    ```javascript
    // index {created: 1, status: 1}
    db.orders.find({status: "refunded", created: {$gt: 100}})   // 4900 keys for 40 documents
    ```

    ## Use instead
    ```javascript
    db.orders.createIndex({status: 1, created: 1})   // equality before range
    ```

    ## Fix safety
    Safe to build; drop the old index only after checking no other query needs its order.
    """
    keys_examined, returned = plan.extra.get("totalKeysExamined"), plan.extra.get("nReturned")
    ixscans = [n for n in plan.nodes() if n.node_type == "IXSCAN"]
    if len(ixscans) == 1 and ixscans[0].actual_rows is not None:
        returned = int(ixscans[0].actual_rows)  # keys the scan passed on: a FETCH filter above is PLN064's
    elif _has_fetch_filter(plan):
        return
    ratio = _ratio(keys_examined, returned)
    if (
        ratio is None
        or ratio < MONGO_EXAMINED_RATIO
        or not isinstance(keys_examined, int | float)
        or keys_examined < MONGO_MIN_EXAMINED
    ):
        return
    collection = _mongo_collection(plan)
    keys = _esr_keys(plan)
    current = ixscans[0].extra.get("key_pattern") if ixscans else None
    yield _finding(
        SPEC_PLN063,
        ixscans[0] if ixscans else None,
        f"IXSCAN {ixscans[0].index_name} on {collection}" if ixscans else f"query on {collection}",
        subject_kind="index" if ixscans else "collection",
        table=collection,
        title=f"{keys_examined:,} index keys are read to pass on {returned:,}",
        evidence={
            "keys_examined": keys_examined,
            "n_returned": returned,
            "ratio": ratio,
            "index": ixscans[0].index_name if ixscans else None,
            "key_pattern": json.dumps(current) if current else None,
            "index_keys": json.dumps(keys),
        },
        rationale="Wide index bounds read many keys that the remaining predicates reject.",
        help=f"Use an index in ESR order: {json.dumps(keys)}.",
        fix=(
            _mongo_fix(collection, keys, "ESR index (equality before range)")
            if not isinstance(current, Mapping) or list(keys.items()) != list(current.items())
            else None
        ),
    )


SPEC_PLN064 = RuleSpec(
    id="PLN064",
    name="mongodb-fetch-filter-after-ixscan",
    capability="plans",
    engines=_MONGO_ENGINES,
    severity=Severity.MEDIUM,
    summary="MongoDB fetches documents through an index and then filters on fields the index lacks.",
)


def mongo_fetch_filter(plan: Plan, context: Mapping[str, Any]) -> Iterator[Finding]:
    """FETCH with a filter above an IXSCAN: documents are loaded only to be rejected.

    ## Why is this bad?
    The index finds candidates on its own fields; the FETCH stage loads each candidate document and tests
    the other predicates. A compound index holding those fields too rejects candidates without loading
    them (and, with a projection, can cover the query entirely).

    ## Example
    ```javascript
    db.orders.find({status: "paid", total: 3})   // IXSCAN {status: 1} → FETCH filter {total: {$eq: 3}}
    ```

    ## Use instead
    ```javascript
    db.orders.createIndex({status: 1, total: 1})
    ```

    ## Fix safety
    Safe to build; a compound index whose prefix is the old index makes the old one redundant.
    """
    collection = _mongo_collection(plan)
    for node in plan.nodes():
        if node.node_type != "FETCH" or not node.extra.get("filter"):
            continue
        scan = next((n for n in node.walk() if n.node_type == "IXSCAN"), None)
        if scan is None:
            continue
        current = scan.extra.get("key_pattern") or {}
        keys = _esr_keys(plan)
        examined = node.extra.get("docsExamined", plan.extra.get("totalDocsExamined"))
        returned = node.actual_rows if node.actual_rows is not None else plan.extra.get("nReturned")
        if isinstance(examined, int | float) and isinstance(returned, int | float) and examined <= returned:
            continue  # measured: the filter rejected nothing (e.g. it repeats a partial index's own filter)
        merged: dict[str, Any] = dict(current) if isinstance(current, Mapping) else {}
        if keys and not set(merged) <= set(keys):
            merged = {}  # the scanned index leads with fields the query does not use: start from the query's
        eq: list[str] = []
        rng: list[str] = []
        _mongo_fields(node.extra.get("filter"), eq, rng)
        for f in [*eq, *rng]:
            merged.setdefault(f, 1)
        if keys and set(keys) >= set(merged):
            merged = keys
        ratio = _ratio(examined, returned)
        if ratio is not None and ratio < MONGO_EXAMINED_RATIO and isinstance(examined, int | float) and examined >= 0:
            severity = Severity.LOW
        else:
            severity = Severity.MEDIUM
        yield _finding(
            SPEC_PLN064,
            node,
            f"FETCH after IXSCAN {scan.index_name} on {collection}",
            severity=severity,
            table=collection,
            title=f"Documents found through {scan.index_name} are loaded and then filtered on {', '.join([*eq, *rng])}",
            evidence={
                "index": scan.index_name,
                "key_pattern": json.dumps(current),
                "fetch_filter": node.filter,
                "docs_examined": examined,
                "n_returned": returned,
                "ratio": ratio,
            },
            rationale="The FETCH filter rejects loaded documents; an index with its fields rejects them earlier.",
            help=f"Create the compound index {json.dumps(merged)}.",
            fix=_mongo_fix(collection, merged, f"Compound index on {collection} with the filtered fields"),
        )


# ------------------------------------------------------------------------------------------------ registry

_MYSQL_RULES: Final[tuple[Rule, ...]] = (
    (SPEC_PLN030, full_table_scan),
    (SPEC_PLN031, full_index_scan),
    (SPEC_PLN032, filesort),
    (SPEC_PLN033, temporary_table),
    (SPEC_PLN034, low_filtered),
    (SPEC_PLN035, partial_key_use),
    (SPEC_PLN036, nonselective_ref),
    (SPEC_PLN037, mysql_large_offset),
)

RULES_BY_ENGINE: Final[dict[str, tuple[Rule, ...]]] = {
    "mysql": _MYSQL_RULES,
    "mariadb": _MYSQL_RULES,
    "sqlite": (
        (SPEC_PLN050, sqlite_scan),
        (SPEC_PLN051, sqlite_temp_btree),
        (SPEC_PLN052, sqlite_automatic_index),
        (SPEC_PLN053, sqlite_correlated_subquery),
        (SPEC_PLN054, sqlite_multi_index_or),
        (SPEC_PLN055, sqlite_large_offset),
    ),
    "mongodb": (
        (SPEC_PLN060, mongo_collscan),
        (SPEC_PLN061, mongo_in_memory_sort),
        (SPEC_PLN062, mongo_docs_examined),
        (SPEC_PLN063, mongo_keys_examined),
        (SPEC_PLN064, mongo_fetch_filter),
    ),
}


def run_rules(plan: Plan, context: Mapping[str, Any] | None = None) -> list[Finding]:
    """All findings of the plan's engine's rules, in rule order (Report.of sorts them for output)."""
    ctx: Mapping[str, Any] = context or {}
    return [f for _, check in RULES_BY_ENGINE.get(plan.engine, ()) for f in check(plan, ctx)]
