"""QA fixes in the static query review.

- Table lookups follow the query's schema qualifier; an unqualified name resolves along the search path
  (default `public`), and a name in several schemas with none on the path stays unknown (QA defect 4).
- QRY003 moves `col + interval` to the other side and never proposes an index PostgreSQL refuses as not
  IMMUTABLE (QA defect 10). The server's verdict on each expression is checked in
  tests/integration/postgres/test_qa_query_fixes.py.
"""

from __future__ import annotations

import pytest
from pglast import parser as pg_parser

from dbspecialist.adapters.catalog import Catalog, Column, Table
from dbspecialist.knowledge.findings import Finding
from dbspecialist.knowledge.queries import QueryReview, review_queries


def _only(review: QueryReview, rule_id: str) -> Finding:
    found = [f for f in review.findings if f.rule_id == rule_id]
    assert len(found) == 1, (rule_id, [(f.rule_id, f.title) for f in review.findings])
    return found[0]


def _two_schemas(with_public: bool = False) -> Catalog:
    """shop.orders (customer_id NOT NULL) and legacy.orders (other columns, customer_id nullable)."""
    shop = Table(
        schema_name="shop",
        name="orders",
        columns=[
            Column(name="id", data_type="integer", nullable=False),
            Column(name="customer_id", data_type="bigint", nullable=False),
            Column(name="total", data_type="numeric"),
        ],
    )
    legacy = Table(
        schema_name="legacy",
        name="orders",
        columns=[
            Column(name="legacy_id", data_type="integer"),
            Column(name="amount", data_type="numeric"),
            Column(name="customer_id", data_type="bigint", nullable=True),
        ],
    )
    customers = Table(schema_name="shop", name="customers", columns=[Column(name="id", data_type="bigint")])
    tables = [legacy, shop, customers]  # legacy first: a name-only lookup would pick it
    if with_public:
        tables.append(
            Table(
                schema_name="public",
                name="orders",
                columns=[Column(name="pid", data_type="integer"), Column(name="customer_id", data_type="bigint")],
            )
        )
    return Catalog(engine="postgresql", tables=tables)


NOT_IN = "SELECT c.id FROM {q}customers c WHERE c.id NOT IN (SELECT o.customer_id FROM {q}orders o)"


def test_qualified_table_uses_that_schema_for_select_star() -> None:
    review = review_queries("SELECT * FROM shop.orders WHERE customer_id = 5", schema=_two_schemas())
    fix = _only(review, "QRY001").fix
    assert fix is not None
    assert fix.statements == ["SELECT id, customer_id, total FROM shop.orders WHERE customer_id = 5;"]
    review = review_queries("SELECT * FROM legacy.orders WHERE customer_id = 5", schema=_two_schemas())
    fix = _only(review, "QRY001").fix
    assert fix is not None and fix.statements[0].startswith("SELECT legacy_id, amount, customer_id FROM legacy")


def test_qualified_not_null_column_is_not_flagged() -> None:
    review = review_queries(NOT_IN.format(q="shop."), schema=_two_schemas())
    assert "QRY002" not in [f.rule_id for f in review.findings]
    nullable = _only(review_queries(NOT_IN.format(q="legacy."), schema=_two_schemas()), "QRY002")
    assert nullable.severity == "high" and nullable.evidence["nullable"] is True


def test_unqualified_name_in_several_schemas_is_not_guessed() -> None:
    finding = _only(review_queries(NOT_IN.format(q=""), schema=_two_schemas()), "QRY002")
    assert finding.evidence["nullable"] is None and finding.severity == "medium"
    star = _only(review_queries("SELECT * FROM orders", schema=_two_schemas()), "QRY001")
    assert star.fix is None  # no column list from a table that may not be the one meant


def test_unqualified_name_follows_the_search_path() -> None:
    review = review_queries(NOT_IN.format(q=""), schema=_two_schemas(), search_path=["shop", "public"])
    assert "QRY002" not in [f.rule_id for f in review.findings]
    review = review_queries(NOT_IN.format(q=""), schema=_two_schemas(), search_path=["legacy"])
    assert _only(review, "QRY002").evidence["nullable"] is True


def test_unqualified_name_defaults_to_public() -> None:
    star = _only(review_queries("SELECT * FROM orders", schema=_two_schemas(with_public=True)), "QRY001")
    assert star.fix is not None and star.fix.statements == ["SELECT pid, customer_id FROM orders;"]


def test_unqualified_name_in_one_schema_is_that_table() -> None:
    catalog = Catalog(
        engine="postgresql",
        tables=[Table(schema_name="shop", name="events", columns=[Column(name="id", data_type="integer")])],
    )
    star = _only(review_queries("SELECT * FROM events", schema=catalog), "QRY001")
    assert star.fix is not None and star.fix.statements == ["SELECT id FROM events;"]


# ------------------------------------------------------------------------------------------ QRY003


def _typed(data_type: str) -> Catalog:
    return Catalog(
        engine="postgresql",
        tables=[
            Table(
                schema_name="public",
                name="orders",
                columns=[
                    Column(name="id", data_type="integer"),
                    Column(name="created_at", data_type=data_type),
                    Column(name="email", data_type="text"),
                ],
            )
        ],
    )


def test_interval_arithmetic_moves_to_the_other_side() -> None:
    finding = _only(review_queries("SELECT id FROM orders WHERE created_at + interval '1 day' > now()"), "QRY003")
    assert finding.fix is not None
    assert finding.fix.statements == ["SELECT id FROM orders WHERE created_at > CURRENT_TIMESTAMP - INTERVAL '1 DAY';"]
    assert finding.fix.safety == "unsafe"  # month/DST boundaries do not invert exactly
    assert "CREATE INDEX" not in " ".join(finding.fix.statements)
    pg_parser.parse_sql(finding.fix.statements[0])


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        (
            "SELECT id FROM orders WHERE interval '2 hours' + created_at <= $1",
            "created_at <= CAST($1 AS TIMESTAMPTZ) - INTERVAL '2 HOURS'",
        ),
        (
            "SELECT id FROM orders WHERE created_at - interval '1 day' >= '2024-01-01'",
            "created_at >= CAST('2024-01-01' AS TIMESTAMPTZ) + INTERVAL '1 DAY'",
        ),
        ("SELECT id FROM orders WHERE id + 1 = 5", "id = 5 - 1"),
        ("SELECT id FROM orders WHERE 5 < id + 1", "5 - 1 < id"),
        ("SELECT id FROM orders WHERE id + 1 > $1", "id > $1 - 1"),
    ],
)
def test_shift_rewrites(sql: str, expected: str) -> None:
    fix = _only(review_queries(sql, schema=_typed("timestamp with time zone")), "QRY003").fix
    assert fix is not None and expected in fix.statements[0], fix.statements
    pg_parser.parse_sql(fix.statements[0])


def test_untyped_value_next_to_an_interval_needs_the_column_type() -> None:
    """`'2024-01-01' - interval '1 day'` alone is an error in PostgreSQL: without the type, no rewrite."""
    finding = _only(review_queries("SELECT id FROM orders WHERE created_at + interval '1 day' > $1"), "QRY003")
    assert finding.fix is None


def test_numeric_shift_is_exact() -> None:
    fix = _only(review_queries("SELECT id FROM orders WHERE id + 1 = 5"), "QRY003").fix
    assert fix is not None and fix.safety == "safe"


@pytest.mark.parametrize(
    ("sql", "data_type"),
    [
        ("SELECT id FROM orders WHERE date(created_at) = current_date", "timestamp with time zone"),
        ("SELECT id FROM orders WHERE date(created_at) = current_date", None),  # type unknown
        ("SELECT id FROM orders WHERE date_trunc('day', created_at) = $1", "timestamptz"),
        ("SELECT id FROM orders WHERE extract(year from created_at) = $1", "timestamp with time zone"),
        ("SELECT id FROM orders WHERE created_at::text LIKE '2024%'", "timestamp without time zone"),
        ("SELECT id FROM orders WHERE to_char(created_at, 'YYYY') = '2024'", "timestamp without time zone"),
        ("SELECT id FROM orders WHERE created_at - now() < $1", "timestamp without time zone"),
    ],
)
def test_no_index_on_an_expression_postgresql_refuses(sql: str, data_type: str | None) -> None:
    schema = _typed(data_type) if data_type else None
    finding = _only(review_queries(sql, schema=schema), "QRY003")
    statements = finding.fix.statements if finding.fix else []
    assert not any("CREATE INDEX" in s for s in statements), statements
    assert "IMMUTABLE" in finding.help


@pytest.mark.parametrize(
    ("sql", "data_type", "index"),
    [
        ("SELECT id FROM orders WHERE lower(email) = 'x'", None, "((LOWER(email)))"),
        ("SELECT id FROM orders WHERE date(created_at) = current_date", "timestamp without time zone", "DATE"),
        ("SELECT id FROM orders WHERE extract(year from created_at) = $1", "timestamp", "EXTRACT(YEAR"),
    ],
)
def test_index_still_proposed_for_immutable_expressions(sql: str, data_type: str | None, index: str) -> None:
    finding = _only(review_queries(sql, schema=_typed(data_type) if data_type else None), "QRY003")
    assert finding.fix is not None and finding.fix.statements[0].startswith("CREATE INDEX CONCURRENTLY")
    assert index in finding.fix.statements[0]


def test_mysql_refuses_only_non_deterministic_functions() -> None:
    now = _only(review_queries("SELECT id FROM orders WHERE created_at - NOW() < 5", "mysql"), "QRY003")
    assert now.fix is None or not any("CREATE INDEX" in s for s in now.fix.statements)
    date = _only(review_queries("SELECT id FROM orders WHERE DATE(created_at) = CURDATE()", "mysql"), "QRY003")
    assert date.fix is not None and date.fix.statements[0].startswith("CREATE INDEX")
