"""MySQL/MariaDB plan rules (PLN030-PLN049) on how a table is read, from EXPLAIN FORMAT=JSON / TREE as
parsed by `other_parse`; the sort and temporary-table rules are in rules_mysql_sorts.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Final

from dbspecialist.knowledge.findings import Finding, Fix, RuleSpec, Severity
from dbspecialist.knowledge.plans.model import Plan, PlanNode
from dbspecialist.knowledge.plans.rules_other_common import (
    BIG_TABLE_ROWS,
    LOW_FILTERED_PCT,
    NONSELECTIVE_REF_ROWS,
    _condition_columns,
    _finding,
    _index_name,
    _large_offset,
    _mysql_fix,
    _quote_mysql,
    _rows_severity,
    _Shape,
    _shape,
    _subject,
)

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


def is_internal_table(node: PlanNode) -> bool:
    """A table MySQL makes for itself: <temporary>, <derived2>, <subquery3>, <union1,2>; no index of ours reaches it."""
    return (node.relation or "").startswith("<")


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
        if _access(node) != "ALL" or is_internal_table(node):
            continue  # reading back MySQL's own temporary/derived table: the work is in what fills it
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
