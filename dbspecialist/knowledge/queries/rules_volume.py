"""QRY rules on how much a statement reads, writes, sorts or sends: SELECT * (QRY001), OFFSET paging (QRY007),
UPDATE/DELETE without WHERE (QRY008), ORDER BY random (QRY012), huge IN lists (QRY014) and N+1 (QRY016).
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlglot import exp

from dbspecialist.adapters.catalog import Catalog
from dbspecialist.knowledge.findings import Finding, Fix, RuleSpec, Severity
from dbspecialist.knowledge.queries.rules_common import (
    LARGE_IN_LIST,
    LARGE_OFFSET,
    _as_table,
    _direct_sources,
    _finding,
    _inside,
    _literal_number,
    _real_table,
    _rewrite,
    _root_selects,
    _sql,
    catalog_table,
    engine_of,
)
from dbspecialist.knowledge.sql_text import quote_ident

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


# ----------------------------------------------------------------------------------------------- QRY012

ORDER_BY_RANDOM = RuleSpec(
    id="QRY012",
    name="order-by-random",
    capability="queries",
    engines=("postgresql", "mysql", "sqlite", "any"),
    severity=Severity.MEDIUM,
    status="preview",
    fix="never",
    summary="ORDER BY RAND()/random()/NEWID() sorts the whole table to pick a few rows.",
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
        # NEWID() (SQL Server) and gen_random_uuid() give every row a fresh random key, like random()
        if not any(o.this.find(exp.Rand, exp.Uuid) for o in order.expressions):
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
