"""QRY003: predicates an index cannot serve because the column is wrapped in a function or arithmetic,
with the range or shifted rewrite that can, or the expression index that would.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

from sqlglot import exp

from dbspecialist.adapters.catalog import Catalog
from dbspecialist.knowledge.findings import Finding, Fix, RuleSpec, Severity
from dbspecialist.knowledge.queries.rules_common import (
    _COMPARISONS,
    _bare_columns,
    _conditions,
    _finding,
    _has_expression_index,
    _indexes_leading_with,
    _is_mariadb,
    _literal_number,
    _predicates,
    _real_table,
    _rewrite,
    _source_of,
    _sql,
    _unparen,
    catalog_column,
    engine_dialect,
    engine_of,
    table_sql,
)
from dbspecialist.knowledge.sql_text import index_name, quote_ident

_ARITHMETIC: tuple[type[exp.Expr], ...] = (exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Mod, exp.DPipe)
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


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


def _case_folded_like(
    root: exp.Expr, predicate: exp.Expr, side: exp.Expr, column: exp.Column, engine: str, dialect: str
) -> tuple[Fix | None, str] | None:
    """(fix, help) for `lower(col) LIKE pattern`, where an expression index is the wrong advice: a B-tree never
    serves a pattern starting with a wildcard, and SQLite's LIKE already ignores ASCII case (and only uses an
    index on the bare column). None: not such a predicate, the general advice applies."""
    if not isinstance(predicate, (exp.Like, exp.ILike)):
        return None
    pattern = _unparen(predicate.expression)
    text = pattern.this if isinstance(pattern, exp.Literal) and pattern.is_string else None
    inner = _unparen(side)
    folding = isinstance(inner, (exp.Lower, exp.Upper)) and isinstance(_unparen(inner.this), exp.Column)
    leading = text is not None and text[:1] in ("%", "_")
    if engine == "sqlite" and folding:
        bare = predicate.copy()
        bare.set("this", column.copy())
        dropped = Fix(
            title=f"Drop {inner.key.upper()}(): SQLite's LIKE already ignores case",
            statements=[_rewrite(root, [(predicate, bare)], dialect)],
            safety="unsafe",
            note="Same rows unless PRAGMA case_sensitive_like is on (both fold ASCII letters only).",
        )
        return dropped, (
            "SQLite's LIKE ignores ASCII case by itself, and its LIKE optimisation only uses an index on the bare "
            "column (declared COLLATE NOCASE) for a pattern without a leading wildcard; an expression index on "
            f"{_sql(inner, dialect)} is never used by LIKE."
        )
    if not leading:
        return None
    fix: Fix | None = None
    lowered = isinstance(inner, exp.Lower) and text is not None and text == text.lower()
    if engine == "postgresql" and lowered and isinstance(predicate, exp.Like):
        ilike = exp.ILike(this=column.copy(), expression=pattern.copy())
        fix = Fix(
            title=f"Compare {column.name} with ILIKE",
            statements=[_rewrite(root, [(predicate, ilike)], dialect)],
            safety="unsafe",
            note="ILIKE folds case as lower() does under the database collation; a trigram index (QRY006) serves "
            "it, whatever the wildcard position.",
        )
    return fix, (
        "A B-tree index, on the column or on this expression, cannot serve a pattern that starts with a wildcard, "
        "so none is proposed: see QRY006 for a trigram, full-text or FTS index"
        + (" (it serves ILIKE, so lower() is not needed)." if engine == "postgresql" else ".")
    )


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
                like = _case_folded_like(root, predicate, side, column, engine, dialect)
                if like is not None:
                    fix, like_help = like
                elif rewrite is not None:
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
                    help=like_help
                    if like is not None
                    else (
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
