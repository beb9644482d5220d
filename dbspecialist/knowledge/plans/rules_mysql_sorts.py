"""MySQL/MariaDB plan rules on sorting and grouping outside an index: filesort (PLN032) and temporary
tables (PLN033).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from dbspecialist.knowledge.findings import Finding, Fix, RuleSpec, Severity
from dbspecialist.knowledge.plans.model import Plan, PlanNode
from dbspecialist.knowledge.plans.rules_mysql import (
    _MYSQL_ENGINES,
    _access,
    _resolve_mysql,
    _rows_read,
    is_internal_table,
)
from dbspecialist.knowledge.plans.rules_other_common import (
    BIG_TABLE_ROWS,
    _finding,
    _mysql_fix,
    _rows_severity,
    _Shape,
    _shape,
    _subject,
)


def _subtree_rows(node: PlanNode) -> float | None:
    values = [_rows_read(n) for n in node.walk() if _access(n) is not None]
    known = [v for v in values if v is not None]
    if known:
        return max(known)
    return node.actual_rows if node.actual_rows is not None else node.plan_rows


def _first_table(node: PlanNode) -> PlanNode | None:
    return next((n for n in node.walk() if _access(n) is not None and not is_internal_table(n)), None)


def _sort_owner(plan: Plan, node: PlanNode) -> PlanNode | None:
    """The table a sort / temporary table works for: the node itself in tabular output, else its first table."""
    if _access(node) is not None and not is_internal_table(node):
        return node
    return _first_table(node)


def _flagged_below(node: PlanNode, flag: str) -> bool:
    return any(n.extra.get(flag) is True for child in node.children for n in child.walk())


def _temporary_rows(node: PlanNode) -> float | None:
    """Rows held in the temporary table: the measured output of the node that fills it (TREE ANALYZE), else the
    rows read under it."""
    if node.actual_rows is not None and _access(node) is None:
        return node.actual_rows * (node.actual_loops if node.actual_loops is not None else 1.0)
    return _subtree_rows(node)


SPEC_PLN032 = RuleSpec(
    id="PLN032",
    name="mysql-filesort",
    capability="plans",
    engines=_MYSQL_ENGINES,
    severity=Severity.MEDIUM,
    summary="MySQL/MariaDB sorts rows itself (Using filesort) instead of reading them in index order.",
)


def _big_flagged_nodes(
    plan: Plan, flag: str, rows_of: Callable[[PlanNode], float | None] = _subtree_rows
) -> Iterator[tuple[PlanNode, float | None, PlanNode | None]]:
    """(node, rows under it, the table access it sorts) for nodes with `flag` over BIG_TABLE_ROWS rows."""
    for node in plan.nodes():
        if node.extra.get(flag) is not True:
            continue
        if is_internal_table(node) and _flagged_below(node, flag):
            continue  # TREE "Table scan on <temporary>" reads the temporary table the node below it fills
        rows = rows_of(node)
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
    for node, rows, owner in _big_flagged_nodes(plan, "using_temporary", _temporary_rows):
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
