"""QRY rules on subqueries: NOT IN (subquery) (QRY002), correlated subqueries in the SELECT list (QRY010),
COUNT(*) as an existence test (QRY013) and LIMIT without ORDER BY inside a subquery (QRY015).
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlglot import exp

from dbspecialist.adapters.catalog import Catalog
from dbspecialist.knowledge.findings import Finding, Fix, RuleSpec, Severity
from dbspecialist.knowledge.queries.rules_common import (
    _COMPARISONS,
    SUBJECT_CHARS,
    _direct_sources,
    _enclosing_select,
    _finding,
    _inside,
    _literal_number,
    _rewrite,
    _source_of,
    _sql,
    _unparen,
    _walk_local,
    catalog_column,
    table_of,
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
