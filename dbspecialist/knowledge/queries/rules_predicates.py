"""QRY rules on WHERE / JOIN predicates: implicit type conversion (QRY004), OR across columns (QRY005),
LIKE with a leading wildcard (QRY006) and comparison with NULL (QRY017).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from sqlglot import exp

from dbspecialist.adapters.catalog import Catalog
from dbspecialist.knowledge.findings import Finding, Fix, RuleSpec, Severity
from dbspecialist.knowledge.queries.rules_common import (
    _COMPARISONS,
    _PREDICATES,
    _conditions,
    _enclosing_select,
    _finding,
    _indexes_leading_with,
    _pg_index_ddl,
    _predicates,
    _real_table,
    _rewrite,
    _source_of,
    _sql,
    _unparen,
    _walk_local,
    catalog_column,
    engine_of,
    table_of,
    table_sql,
)
from dbspecialist.knowledge.sql_text import index_name, quote_ident

_TEXT_TYPES = re.compile(r"char|text|string|clob|citext|enum|uuid", re.I)
_INT_TYPES = re.compile(r"int|serial", re.I)
_NUMERIC_TYPES = re.compile(r"int|serial|numeric|decimal|real|double|float|money", re.I)


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
