"""SQLite plan rules (PLN050-PLN059), read from EXPLAIN QUERY PLAN as parsed by `other_parse`."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any, Final

from dbspecialist.knowledge.findings import Finding, RuleSpec, Severity
from dbspecialist.knowledge.plans.model import Plan
from dbspecialist.knowledge.plans.rules_other_common import (
    _finding,
    _large_offset,
    _Shape,
    _shape,
    _sqlite_fix,
    _subject,
)

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
