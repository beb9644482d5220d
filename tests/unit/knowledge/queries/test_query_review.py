"""review_queries: every QRY rule fires on a planted query and stays quiet on the clean rewrite.

Fixes are checked for real where that is cheap: PostgreSQL fix SQL must parse with pglast (the
server's own parser) and SQLite rewrites are run on an in-memory database against the original
query to show they return the rows the author meant.
"""

from __future__ import annotations

import inspect
import re
import sqlite3

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pglast import parser as pg_parser

from dbspecialist.adapters.catalog import Catalog, Column, Index, PrimaryKey, Table
from dbspecialist.knowledge.findings import Finding, Severity
from dbspecialist.knowledge.queries import QueryReview, review_queries
from dbspecialist.knowledge.queries.rules import RULES


def ids(review: QueryReview) -> list[str]:
    return [f.rule_id for f in review.findings]


def only(review: QueryReview, rule_id: str) -> Finding:
    found = [f for f in review.findings if f.rule_id == rule_id]
    assert len(found) == 1, (rule_id, [(f.rule_id, f.title) for f in review.findings])
    return found[0]


# ------------------------------------------------------------------------------------------ rules


CASES: list[tuple[str, str, str, str]] = [
    # (rule, dialect, planted, clean)
    ("QRY001", "postgres", "SELECT * FROM orders WHERE id = 1", "SELECT id, total FROM orders WHERE id = 1"),
    (
        "QRY002",
        "postgres",
        "SELECT id FROM customers WHERE id NOT IN (SELECT customer_id FROM orders)",
        "SELECT id FROM customers c WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id)",
    ),
    (
        "QRY003",
        "postgres",
        "SELECT id FROM orders WHERE date(created_at) = '2024-01-01'",
        "SELECT id FROM orders WHERE created_at >= '2024-01-01' AND created_at < '2024-01-02'",
    ),
    (
        "QRY005",
        "mysql",
        "SELECT id FROM users WHERE email = 'a@x.org' OR phone = '555'",
        "SELECT id FROM users WHERE status = 1 OR status = 2",
    ),
    (
        "QRY006",
        "postgres",
        "SELECT id FROM customers WHERE name ILIKE '%smith%'",
        "SELECT id FROM customers WHERE name LIKE 'smith%'",
    ),
    (
        "QRY007",
        "postgres",
        "SELECT id, title FROM posts ORDER BY id LIMIT 20 OFFSET 100000",
        "SELECT id, title FROM posts WHERE id > $1 ORDER BY id LIMIT 20",
    ),
    ("QRY008", "postgres", "DELETE FROM sessions", "DELETE FROM sessions WHERE expires_at < now()"),
    (
        "QRY009",
        "postgres",
        "SELECT o.id, c.name FROM orders o, customers c WHERE o.total > 100",
        "SELECT o.id, c.name FROM orders o, customers c WHERE c.id = o.customer_id AND o.total > 100",
    ),
    (
        "QRY010",
        "postgres",
        "SELECT c.id, (SELECT max(o.total) FROM orders o WHERE o.customer_id = c.id) FROM customers c",
        "SELECT c.id, m.total FROM customers c LEFT JOIN (SELECT customer_id, max(total) AS total FROM orders "
        "GROUP BY customer_id) m ON m.customer_id = c.id",
    ),
    (
        "QRY011",
        "postgres",
        "SELECT DISTINCT c.id, c.name FROM customers c JOIN orders o ON o.customer_id = c.id WHERE o.total > 100",
        "SELECT c.id, c.name FROM customers c WHERE EXISTS "
        "(SELECT 1 FROM orders o WHERE o.customer_id = c.id AND o.total > 100)",
    ),
    (
        "QRY012",
        "postgres",
        "SELECT id FROM products ORDER BY random() LIMIT 5",
        "SELECT id FROM products TABLESAMPLE SYSTEM (1) LIMIT 5",
    ),
    (
        "QRY013",
        "postgres",
        "SELECT id FROM customers c WHERE (SELECT count(*) FROM orders o WHERE o.customer_id = c.id) > 0",
        "SELECT id FROM customers c WHERE EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id)",
    ),
    (
        "QRY014",
        "postgres",
        "SELECT id FROM orders WHERE customer_id IN (" + ", ".join(map(str, range(1500))) + ")",
        "SELECT id FROM orders WHERE customer_id IN (" + ", ".join(map(str, range(50))) + ")",
    ),
    (
        "QRY015",
        "postgres",
        "SELECT c.name, (SELECT o.total FROM orders o WHERE o.customer_id = c.id LIMIT 1) AS last FROM customers c",
        "SELECT c.name FROM customers c WHERE EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id LIMIT 1)",
    ),
    (
        "QRY017",
        "postgres",
        "SELECT id FROM orders WHERE shipped_at = NULL",
        "SELECT id FROM orders WHERE shipped_at IS NULL",
    ),
    (
        "QRY006",
        "mysql",
        "SELECT id FROM customers WHERE name LIKE '%smith'",
        "SELECT id FROM customers WHERE name LIKE 'smith%'",
    ),
    ("QRY012", "mysql", "SELECT id FROM products ORDER BY RAND() LIMIT 5", "SELECT id FROM products LIMIT 5"),
    ("QRY007", "sqlite", "SELECT id FROM posts LIMIT 20 OFFSET 5000", "SELECT id FROM posts LIMIT 20"),
    ("QRY008", "sqlite", "UPDATE accounts SET balance = 0", "UPDATE accounts SET balance = 0 WHERE id = 7"),
    (
        "QRY003",
        "mysql",
        "SELECT id FROM orders WHERE YEAR(created_at) = 2024",
        "SELECT id FROM orders WHERE created_at >= '2024-01-01' AND created_at < '2025-01-01'",
    ),
]


@pytest.mark.parametrize(("rule", "dialect", "planted", "clean"), CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_rule_fires_on_planted_query_and_not_on_rewrite(rule: str, dialect: str, planted: str, clean: str) -> None:
    fired = review_queries(planted, dialect)
    finding = only(fired, rule)
    assert finding.subject_kind == "query" and finding.line == 1
    assert finding.subject.endswith("(line 1)") and finding.subject.startswith(" ".join(planted.split())[:20])
    assert finding.rationale and finding.help
    quiet = review_queries(clean, dialect)
    assert rule not in ids(quiet), [(f.rule_id, f.title) for f in quiet.findings]
    assert not quiet.parse_warnings and not fired.parse_warnings


def test_every_rule_is_covered_by_a_case_or_a_dedicated_test() -> None:
    covered = {c[0] for c in CASES} | {"QRY004", "QRY016"}
    assert covered == {spec.id for spec, _ in RULES}


def test_rule_ids_are_unique_in_range_and_documented() -> None:
    seen = [spec.id for spec, _ in RULES]
    assert len(seen) == len(set(seen))
    for spec, check in RULES:
        assert re.fullmatch(r"QRY0(0[1-9]|1\d|2\d)", spec.id) and spec.capability == "queries"
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", spec.name)
        doc = inspect.getdoc(check) or ""
        for section in ("## Why is this bad?", "## Example", "## Use instead", "## Fix safety"):
            assert section in doc, (spec.id, section)


# ------------------------------------------------------------------------------------------ fixes


def test_postgres_fixes_parse_with_the_postgres_parser() -> None:
    planted = [c[2] for c in CASES if c[1] == "postgres"]
    fixes = 0
    for sql in planted:
        for finding in review_queries(sql).findings:
            if finding.fix is None:
                continue
            for statement in finding.fix.statements:
                pg_parser.parse_sql(statement)  # raises on invalid SQL
                fixes += 1
    assert fixes >= 8


def test_date_function_rewrite_is_a_sargable_range() -> None:
    fix = only(review_queries("SELECT id FROM orders WHERE date(created_at) = '2024-02-28'"), "QRY003").fix
    assert fix is not None
    assert fix.statements == ["SELECT id FROM orders WHERE created_at >= '2024-02-28' AND created_at < '2024-02-29';"]


def test_keyset_rewrite_replaces_offset() -> None:
    finding = only(review_queries("SELECT id, title FROM posts ORDER BY id LIMIT 20 OFFSET 100000"), "QRY007")
    assert finding.severity == Severity.MEDIUM and finding.evidence["offset"] == 100000
    assert finding.fix is not None
    assert finding.fix.statements == ["SELECT id, title FROM posts WHERE id > $1 ORDER BY id LIMIT 20;"]
    small = only(review_queries("SELECT id FROM posts ORDER BY created_at DESC, id DESC LIMIT 20 OFFSET 40"), "QRY007")
    assert small.severity == Severity.LOW and small.fix is not None
    assert "(created_at, id) < ($1, $2)" in small.fix.statements[0] and "OFFSET" not in small.fix.statements[0]


def test_trigram_index_fix_on_postgres() -> None:
    fix = only(review_queries("SELECT id FROM customers WHERE name ILIKE '%smith%'"), "QRY006").fix
    assert fix is not None
    assert fix.statements == [
        "CREATE EXTENSION IF NOT EXISTS pg_trgm;",
        "CREATE INDEX CONCURRENTLY customers_name_trgm_idx ON customers USING gin (name gin_trgm_ops);",
    ]


def test_update_without_where_is_critical_and_set_null_is_not_a_null_comparison() -> None:
    review = review_queries("UPDATE accounts SET closed_at = NULL")
    assert ids(review) == ["QRY008"] and review.findings[0].severity == Severity.CRITICAL
    assert review.findings[0].table == "accounts"


@pytest.fixture
def shop() -> sqlite3.Connection:
    db = sqlite3.connect(":memory:")
    db.executescript(
        """
        CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT);
        CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER, total REAL, created_at TEXT,
                             shipped_at TEXT);
        INSERT INTO customers VALUES (1, 'ann'), (2, 'bob'), (3, 'cy');
        INSERT INTO orders VALUES (10, 1, 50, '2024-01-01 09:00:00', NULL),
                                  (11, 1, 150, '2024-01-01 23:59:59', '2024-01-03'),
                                  (12, 2, 300, '2024-01-02 00:00:00', NULL),
                                  (13, NULL, 20, '2023-12-31 23:00:00', NULL);
        """
    )
    return db


def _rows(db: sqlite3.Connection, sql: str) -> list[tuple[object, ...]]:
    return sorted(db.execute(sql).fetchall(), key=repr)


def test_sqlite_not_in_rewrite_returns_the_rows_not_in_meant(shop: sqlite3.Connection) -> None:
    sql = "SELECT id FROM customers WHERE id NOT IN (SELECT customer_id FROM orders)"
    finding = only(review_queries(sql, "sqlite"), "QRY002")
    assert finding.fix is not None
    assert _rows(shop, sql) == []  # the NULL customer_id hides every customer: the bug the rule names
    assert _rows(shop, finding.fix.statements[0]) == [(3,)]


def test_sqlite_rewrites_return_the_same_rows(shop: sqlite3.Connection) -> None:
    for sql, rule in [
        ("SELECT id FROM customers c WHERE (SELECT count(*) FROM orders o WHERE o.customer_id = c.id) > 0", "QRY013"),
        ("SELECT id FROM customers c WHERE (SELECT count(*) FROM orders o WHERE o.customer_id = c.id) = 0", "QRY013"),
        ("SELECT id FROM orders WHERE date(created_at) = '2024-01-01'", "QRY003"),
        ("SELECT id FROM orders WHERE customer_id = 1 OR total > 200", "QRY005"),
        (
            "SELECT DISTINCT c.id, c.name FROM customers c JOIN orders o ON o.customer_id = c.id WHERE o.total > 100",
            "QRY011",
        ),
    ]:
        fix = only(review_queries(sql, "sqlite"), rule).fix
        assert fix is not None, rule
        assert _rows(shop, fix.statements[0]) == _rows(shop, sql), (rule, fix.statements[0])
    fixed = only(review_queries("SELECT id FROM orders WHERE shipped_at = NULL", "sqlite"), "QRY017").fix
    assert fixed is not None and _rows(shop, fixed.statements[0]) == [(10,), (12,), (13,)]


# ------------------------------------------------------------------------------------------ schema-aware


def _catalog(engine: str = "postgresql") -> Catalog:
    return Catalog(
        engine=engine,
        tables=[
            Table(
                schema_name="public",
                name="customers",
                columns=[
                    Column(name="id", data_type="bigint", nullable=False),
                    Column(name="name", data_type="text"),
                    Column(name="phone", data_type="character varying(20)"),
                    Column(name="email", data_type="text"),
                ],
                primary_key=PrimaryKey(columns=["id"]),
                indexes=[
                    Index(name="customers_pkey", columns=["id"], unique=True, primary=True),
                    Index(name="customers_phone_idx", columns=["phone"]),
                    Index(name="customers_email_idx", columns=["email"]),
                    Index(name="customers_lower_name_idx", columns=["lower(name)"]),
                ],
            ),
            Table(
                schema_name="public",
                name="orders",
                columns=[
                    Column(name="id", data_type="bigint", nullable=False),
                    Column(name="customer_id", data_type="bigint", nullable=True),
                    Column(name="account_id", data_type="bigint", nullable=False),
                    Column(name="created_at", data_type="timestamp with time zone", nullable=False),
                    Column(name="total", data_type="numeric(12,2)"),
                ],
                primary_key=PrimaryKey(columns=["id"]),
                indexes=[
                    Index(name="orders_pkey", columns=["id"], unique=True, primary=True),
                    Index(name="orders_created_at_idx", columns=["created_at"]),
                ],
            ),
        ],
    )


def test_not_in_over_a_nullable_column_is_high_and_over_not_null_is_quiet() -> None:
    schema = _catalog()
    nullable = review_queries(
        "SELECT id FROM customers WHERE id NOT IN (SELECT customer_id FROM orders)", schema=schema
    )
    finding = only(nullable, "QRY002")
    assert finding.severity == Severity.HIGH and finding.evidence["nullable"] is True
    assert finding.table == "orders"
    quiet = review_queries("SELECT id FROM customers WHERE id NOT IN (SELECT account_id FROM orders)", schema=schema)
    assert "QRY002" not in ids(quiet)
    unknown = review_queries("SELECT id FROM customers WHERE id NOT IN (SELECT customer_id FROM orders)")
    assert only(unknown, "QRY002").severity == Severity.MEDIUM


def test_implicit_conversion_needs_the_schema_and_rewrites_the_literal() -> None:
    schema = _catalog()
    sql = "SELECT id FROM customers WHERE phone = 5551234"
    assert "QRY004" not in ids(review_queries(sql))
    finding = only(review_queries(sql, schema=schema), "QRY004")
    assert finding.evidence["column_type"] == "character varying(20)" and finding.table == "customers"
    assert finding.fix is not None
    assert finding.fix.statements == ["SELECT id FROM customers WHERE phone = '5551234';"]
    assert "QRY004" not in ids(review_queries("SELECT id FROM customers WHERE phone = '5551234'", schema=schema))
    decimal = only(review_queries("SELECT id FROM orders WHERE customer_id = 1.5", schema=schema), "QRY004")
    assert "decimal" in decimal.title
    assert "QRY004" not in ids(review_queries("SELECT id FROM orders WHERE customer_id = '17'", schema=schema))
    join = review_queries("SELECT o.id FROM orders o JOIN customers c ON c.phone = o.customer_id", schema=schema)
    assert only(join, "QRY004").evidence["clause"] == "JOIN"


def test_mysql_string_column_compared_with_number() -> None:
    schema = _catalog("mysql")
    finding = only(review_queries("SELECT id FROM customers WHERE phone = 5551234", "mysql", schema=schema), "QRY004")
    assert finding.fix is not None and finding.fix.statements == ["SELECT id FROM customers WHERE phone = '5551234';"]


def test_non_sargable_is_high_on_an_indexed_column_and_quiet_with_a_matching_expression_index() -> None:
    schema = _catalog()
    finding = only(
        review_queries("SELECT id FROM orders WHERE created_at::date = '2024-01-01'", schema=schema), "QRY003"
    )
    assert finding.severity == Severity.HIGH and finding.evidence["index"] == "orders_created_at_idx"
    assert "QRY003" not in ids(review_queries("SELECT id FROM customers WHERE lower(name) = 'ann'", schema=schema))
    lower_email = only(review_queries("SELECT id FROM customers WHERE lower(email) = 'a'", schema=schema), "QRY003")
    assert lower_email.fix is not None
    assert lower_email.fix.statements == [
        "CREATE INDEX CONCURRENTLY customers_lower_email_idx ON customers ((LOWER(email)));"
    ]


def test_or_across_indexed_columns_is_quiet_on_postgres_with_schema() -> None:
    sql = "SELECT id FROM customers WHERE email = 'a@x.org' OR phone = '555'"
    assert "QRY005" in ids(review_queries(sql))
    assert "QRY005" not in ids(review_queries(sql, schema=_catalog()))


def test_distinct_over_a_many_to_one_join_is_quiet_with_schema() -> None:
    sql = "SELECT DISTINCT o.id, o.total FROM orders o JOIN customers c ON c.id = o.customer_id WHERE c.name = 'x'"
    assert "QRY011" in ids(review_queries(sql))
    assert "QRY011" not in ids(review_queries(sql, schema=_catalog()))


def test_select_star_fix_lists_the_catalog_columns() -> None:
    fix = only(review_queries("SELECT * FROM orders WHERE id = 1", schema=_catalog()), "QRY001").fix
    assert fix is not None
    assert fix.statements == ["SELECT id, customer_id, account_id, created_at, total FROM orders WHERE id = 1;"]
    assert "QRY001" not in ids(review_queries("SELECT id FROM t WHERE EXISTS (SELECT * FROM u WHERE u.t_id = t.id)"))


def test_cartesian_join_uses_schema_to_resolve_unqualified_join_columns() -> None:
    sql = "SELECT name FROM customers, orders WHERE customer_id = 7"
    assert "QRY009" in ids(review_queries(sql, schema=_catalog()))
    assert "QRY009" not in ids(review_queries("SELECT 1 FROM a CROSS JOIN b"))
    assert "QRY009" not in ids(review_queries("SELECT 1 FROM a NATURAL JOIN b"))
    assert "QRY009" not in ids(review_queries("SELECT 1 FROM a JOIN b USING (id)"))
    assert "QRY009" in ids(review_queries("SELECT 1 FROM a JOIN b ON a.x = 1"))


# ------------------------------------------------------------------------------------------ logs and N+1


def _log() -> str:
    lines: list[str] = []
    for i in range(20):
        lines.append(f"SELECT * FROM orders WHERE customer_id = {17 + i};")
        lines.append(f"UPDATE sessions SET seen_at = now() WHERE id = {i % 2};")  # only 2 distinct values
    lines += [f"INSERT INTO audit (kind) VALUES ('k{i % 5}');" for i in range(5)]
    lines += ["SELECT count(*) FROM customers;", "BEGIN;", "COMMIT;", "SELECT now();", "SELECT version();"]
    assert len(lines) == 50
    return "\n".join(lines)


def test_n_plus_one_in_a_log_of_50_statements() -> None:
    review = review_queries(_log())
    assert review.statements == 50 and not review.parse_warnings
    groups = {g.normalised: g for g in review.n_plus_one}
    assert len([g for g in review.n_plus_one if g.count == 20]) == 1
    orders = next(g for g in review.n_plus_one if g.count == 20)
    assert "orders" in orders.normalised and "$1" in orders.normalised and "17" not in orders.normalised
    assert orders.first_line == 1 and orders.distinct_values == 20
    assert orders.example_literals[:3] == ["17", "18", "19"]
    assert orders.rewrite is not None and "= ANY(ARRAY[17, 18," in orders.rewrite
    pg_parser.parse_sql(orders.rewrite)
    assert not any("sessions" in n for n in groups)  # repeated, but always with the same two values
    audit = next(g for g in review.n_plus_one if "audit" in g.normalised)
    assert audit.count == 5 and audit.rewrite is not None and audit.rewrite.count("('k") == 5
    finding = next(f for f in review.findings if f.rule_id == "QRY016" and "orders" in f.subject)
    assert finding.evidence["count"] == 20 and finding.line == 1 and finding.severity == Severity.HIGH


def test_n_plus_one_in_mysql_and_sqlite_logs_uses_in_lists(shop: sqlite3.Connection) -> None:
    log = "\n".join(f"SELECT id, total FROM orders WHERE customer_id = {i};" for i in (1, 2, 3, 2))
    for dialect in ("mysql", "sqlite"):
        review = review_queries(log, dialect)
        assert len(review.n_plus_one) == 1 and review.n_plus_one[0].count == 4
        rewrite = review.n_plus_one[0].rewrite
        assert rewrite == "SELECT id, total FROM orders WHERE customer_id IN (1, 2, 3);"
    batched = _rows(shop, "SELECT id, total FROM orders WHERE customer_id IN (1, 2, 3)")
    separate = sorted(
        (
            r
            for i in (1, 2, 3)
            for r in shop.execute(f"SELECT id, total FROM orders WHERE customer_id = {i}").fetchall()
        ),
        key=repr,
    )
    assert batched == separate


def test_paged_repeats_group_alike_on_every_dialect_without_a_wrong_rewrite() -> None:
    log = "\n".join(
        f"SELECT id FROM posts WHERE author_id = {i} ORDER BY id LIMIT 20 OFFSET {20 * i};" for i in range(4)
    )
    for dialect in ("postgres", "mysql", "sqlite"):
        groups = review_queries(log, dialect).n_plus_one
        assert len(groups) == 1 and groups[0].count == 4, dialect
        assert groups[0].rewrite is None  # the page moves too: one IN list would not be the same result


def test_log_lines_and_parse_warnings() -> None:
    log = "SELECT 1;\n\n-- a comment; with a semicolon\nSELEC oops;\nSELECT $$a;b$$;\nDELETE FROM t;\nSELECT 'open"
    review = review_queries(log)
    assert review.statements == 5
    assert [w.line for w in review.parse_warnings] == [4, 7]
    assert only(review, "QRY008").line == 6 and only(review, "QRY008").subject == "DELETE FROM t; (line 6)"


def test_mysql_and_sqlite_parse_warnings_and_unknown_dialect() -> None:
    review = review_queries("SELECT id FROM t WHERE;\nDELETE FROM t", "mysql")
    assert review.statements == 2 and [w.line for w in review.parse_warnings] == [1]
    assert ids(review) == ["QRY008"]
    odd = review_queries("DELETE FROM t", "no-such-dialect")
    assert odd.parse_warnings and ids(odd) == ["QRY008"]


def test_findings_are_sorted_and_counted() -> None:
    review = review_queries(
        "SELECT * FROM t ORDER BY random() LIMIT 1 OFFSET 5000;\nDELETE FROM t;\nSELECT a FROM t WHERE b = NULL"
    )
    ranks = [(f.severity.rank, f.rule_id, f.subject) for f in review.findings]
    assert ranks == sorted(ranks) and review.findings[0].rule_id == "QRY008"
    assert sum(review.counts.values()) == len(review.findings) and review.counts["critical"] == 1
    assert review == review_queries(
        "SELECT * FROM t ORDER BY random() LIMIT 1 OFFSET 5000;\nDELETE FROM t;\nSELECT a FROM t WHERE b = NULL"
    )


# ------------------------------------------------------------------------------------------ never raises

FRAGMENTS = [
    "SELECT",
    "*",
    "FROM t",
    "JOIN u",
    "ON",
    "t.a = u.b",
    "WHERE",
    "a NOT IN (SELECT b FROM u)",
    "lower(x) = 'a'",
    "OR",
    "AND",
    "LIKE '%x'",
    "ORDER BY random()",
    "LIMIT 5",
    "OFFSET 9999",
    "(",
    ")",
    ";",
    ",",
    "'unterminated",
    "$$",
    "/*",
    "--",
    "\n",
    "UPDATE t SET a = 1",
    "DELETE FROM t",
    "DISTINCT",
    "(SELECT count(*) FROM u) > 0",
    "= NULL",
    "IN (1, 2)",
    "$1",
    "?",
    "INSERT INTO t VALUES (1)",
]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    dialect=st.sampled_from(["postgres", "mysql", "sqlite", "tsql", "bogus"]),
    parts=st.lists(st.sampled_from(FRAGMENTS), max_size=30),
    with_schema=st.booleans(),
)
def test_sql_shaped_noise_never_raises(dialect: str, parts: list[str], with_schema: bool) -> None:
    review = review_queries(" ".join(parts), dialect, schema=_catalog() if with_schema else None)
    assert sum(review.counts.values()) == len(review.findings)


@settings(max_examples=80, deadline=None)
@given(dialect=st.sampled_from(["postgres", "mysql", "sqlite"]), text=st.text(max_size=300))
def test_arbitrary_text_never_raises(dialect: str, text: str) -> None:
    review = review_queries(text, dialect)
    assert review.statements >= 0


@pytest.mark.parametrize(
    ("dialect", "sql", "expected"),
    [
        (
            "postgres",
            "SELECT id FROM shop.orders o WHERE lower(o.note) = 'x'",
            "CREATE INDEX CONCURRENTLY orders_lower_note_idx ON shop.orders ((LOWER(note)));",
        ),
        (
            "postgres",
            "SELECT id FROM shop.orders WHERE note LIKE '%x'",
            "CREATE INDEX CONCURRENTLY orders_note_trgm_idx ON shop.orders USING gin (note gin_trgm_ops);",
        ),
        (
            "mysql",
            "SELECT id FROM shop.orders WHERE note LIKE '%x'",
            "ALTER TABLE shop.orders ADD FULLTEXT INDEX orders_note_ft (note);",
        ),
        (
            "postgres",
            "SELECT id FROM orders WHERE lower(note) = 'x'",
            "CREATE INDEX CONCURRENTLY orders_lower_note_idx ON orders ((LOWER(note)));",
        ),
    ],
)
def test_index_fixes_name_the_table_as_the_query_does(dialect: str, sql: str, expected: str) -> None:
    statements = [s for f in review_queries(sql, dialect).findings if f.fix for s in f.fix.statements]
    assert expected in statements


def _mysql_catalog(version: str) -> Catalog:
    columns = [Column(name="id", data_type="int", nullable=False), Column(name="email", data_type="varchar(200)")]
    columns.append(Column(name="status", data_type="varchar(20)"))
    return Catalog(engine="mysql", server_version=version, tables=[Table(name="orders", columns=columns)])


def test_mariadb_gets_no_expression_index_and_mysql_8_does() -> None:
    sql = "SELECT id FROM orders WHERE lower(email) = 'a@b.c'"
    mariadb = only(review_queries(sql, "mysql", schema=_mysql_catalog("10.11.19-MariaDB-0+deb12u1")), "QRY003")
    assert mariadb.fix is None and "MariaDB has no expression indexes" in mariadb.help
    mysql = only(review_queries(sql, "mysql", schema=_mysql_catalog("8.4.3")), "QRY003")
    assert mysql.fix is not None and mysql.fix.statements == [
        "CREATE INDEX orders_lower_email_idx ON orders ((LOWER(email)));"
    ]


def test_sqlite_compares_through_affinity_so_no_implicit_conversion_finding() -> None:
    schema = Catalog(
        engine="sqlite",
        tables=[
            Table(
                name="orders", columns=[Column(name="id", data_type="INTEGER"), Column(name="status", data_type="TEXT")]
            )
        ],
    )
    assert "QRY004" not in ids(review_queries("SELECT id FROM orders WHERE status = 5", "sqlite", schema=schema))


@pytest.mark.parametrize(
    ("sql", "severity", "title"),
    [
        ("UPDATE orders SET status = 'x' LIMIT 10", "medium", "UPDATE without WHERE changes up to 10 arbitrary rows"),
        ("DELETE FROM orders ORDER BY id LIMIT 100", "low", "DELETE without WHERE removes up to 100 rows"),
        ("DELETE FROM orders", "critical", "DELETE without WHERE removes every row"),
    ],
)
def test_write_without_where_says_how_many_rows(sql: str, severity: str, title: str) -> None:
    finding = only(review_queries(sql, "mysql"), "QRY008")
    assert finding.severity == severity and finding.title.startswith(title)
