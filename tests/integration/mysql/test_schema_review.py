"""Live schema review on MariaDB/MySQL: a deliberately flawed database, reviewed through the MCP tool.

A private database per test (created and dropped here): several rules look at the whole database
(naming style, singular/plural names, cascade chains). Each flaw names the rule it should trigger;
`customers`, `payments`, `stores`, `shelves` and `bins` are well designed and must produce nothing.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from typing import Any

import pymysql
import pytest
from mcp import Client

from dbspecialist.server.app import build_server
from dbspecialist.server.state import ServerState
from tests.helpers import connection_set
from tests.integration.mysql.conftest import admin, make_config

pytestmark = pytest.mark.integration

# Statements separated by "\n;\n", as in conftest.SCHEMA.
FLAWED_SCHEMA = """
CREATE TABLE customers (
  id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
  email VARCHAR(190) NOT NULL,
  full_name VARCHAR(100) NOT NULL,
  created_at DATETIME NOT NULL,
  UNIQUE KEY uq_customers_email (email)
) ENGINE=InnoDB
;
INSERT INTO customers (email, full_name, created_at)
  SELECT CONCAT('c', seq, '@example.com'), CONCAT('Customer ', seq), '2024-01-01' FROM seq_1_to_100
;
-- INT key (SCH008) whose AUTO_INCREMENT counter is near the top (SCH009); nullable FK (SCH014);
-- customer_email copies customers.email (SCH041); status without CHECK (SCH038); DOUBLE money (SCH036);
-- indexes led by status (SCH011), one a prefix of the other (SCH005); a boolean index (SCH011)
CREATE TABLE orders (
  id INT AUTO_INCREMENT PRIMARY KEY,
  customer_id BIGINT UNSIGNED NULL,
  customer_email VARCHAR(190) NULL,
  status VARCHAR(20) NOT NULL,
  is_gift TINYINT(1) NOT NULL DEFAULT 0,
  created_at DATETIME NOT NULL,
  total_amount DOUBLE NOT NULL,
  KEY idx_status (status),
  KEY idx_status_created (status, created_at),
  KEY idx_is_gift (is_gift),
  CONSTRAINT fk_orders_customer FOREIGN KEY (customer_id) REFERENCES customers (id)
) ENGINE=InnoDB
;
INSERT INTO orders (customer_id, customer_email, status, is_gift, created_at, total_amount)
  SELECT 1 + seq % 100, CONCAT('c', 1 + seq % 100, '@example.com'), ELT(1 + seq % 3, 'new', 'paid', 'shipped'),
         seq % 2, '2024-01-01' + INTERVAL seq MINUTE, seq % 500 + 0.99
  FROM seq_1_to_20000
;
ALTER TABLE orders AUTO_INCREMENT = 2000000000
;
CREATE TABLE payments (
  id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
  order_id INT NOT NULL,
  amount DECIMAL(10, 2) NOT NULL,
  paid_at DATETIME NOT NULL,
  CONSTRAINT fk_payments_order FOREIGN KEY (order_id) REFERENCES orders (id)
) ENGINE=InnoDB
;
INSERT INTO payments (order_id, amount, paid_at) SELECT seq, seq * 1.5, '2024-02-01' FROM seq_1_to_50
;
-- a foreign key column shorter than the key it references (SCH003)
CREATE TABLE coupons (
  id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
  code VARCHAR(40) NOT NULL,
  UNIQUE KEY uq_coupons_code (code)
) ENGINE=InnoDB
;
CREATE TABLE coupon_redemptions (
  id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
  coupon_code VARCHAR(20) NOT NULL,
  redeemed_at DATETIME NOT NULL,
  CONSTRAINT fk_redemptions_coupon FOREIGN KEY (coupon_code) REFERENCES coupons (code)
) ENGINE=InnoDB
;
INSERT INTO coupons (code) VALUES ('WELCOME'), ('SPRING')
;
INSERT INTO coupon_redemptions (coupon_code, redeemed_at) VALUES ('WELCOME', '2024-03-01')
;
-- MyISAM (SCH048) in latin1 (SCH049)
CREATE TABLE legacy_notes (
  id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
  note TEXT
) ENGINE=MyISAM DEFAULT CHARSET=latin1
;
INSERT INTO legacy_notes (note) SELECT CONCAT('note ', seq) FROM seq_1_to_7
;
-- InnoDB without a primary key (SCH001)
CREATE TABLE audit_entries (
  logged_at DATETIME NOT NULL,
  message TEXT
) ENGINE=InnoDB
;
INSERT INTO audit_entries SELECT '2024-01-01' + INTERVAL seq SECOND, 'login' FROM seq_1_to_30
;
-- CHAR(36) random UUID key (SCH010 on InnoDB's clustered index, SCH050)
CREATE TABLE sessions (
  id CHAR(36) NOT NULL PRIMARY KEY,
  customer_id BIGINT UNSIGNED NOT NULL,
  expires_at DATETIME NOT NULL,
  CONSTRAINT fk_sessions_customer FOREIGN KEY (customer_id) REFERENCES customers (id)
) ENGINE=InnoDB
;
INSERT INTO sessions SELECT UUID(), 1 + seq % 100, '2030-01-01' FROM seq_1_to_40
;
-- MariaDB's native UUID filled by uuid() (SCH010) and a camelCase column among snake_case (SCH044)
CREATE TABLE devices (
  id UUID NOT NULL DEFAULT uuid() PRIMARY KEY,
  label VARCHAR(50) NOT NULL,
  lastSeenAt DATETIME NULL
) ENGINE=InnoDB
;
-- polymorphic association (SCH015); the same index twice (SCH004)
CREATE TABLE comments (
  id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
  commentable_type VARCHAR(30) NOT NULL,
  commentable_id BIGINT UNSIGNED NOT NULL,
  body TEXT NOT NULL,
  KEY idx_target_a (commentable_type, commentable_id),
  KEY idx_target_b (commentable_type, commentable_id)
) ENGINE=InnoDB
;
-- soft delete with a unique key that ignores it (SCH013)
CREATE TABLE products (
  id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
  sku VARCHAR(40) NOT NULL,
  title VARCHAR(200) NOT NULL,
  deleted_at DATETIME NULL,
  UNIQUE KEY uq_products_sku (sku)
) ENGINE=InnoDB
;
-- entity-attribute-value (SCH039)
CREATE TABLE product_attributes (
  id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
  product_id BIGINT UNSIGNED NOT NULL,
  attribute_name VARCHAR(64) NOT NULL,
  value TEXT,
  UNIQUE KEY uq_product_attribute (product_id, attribute_name),
  CONSTRAINT fk_attributes_product FOREIGN KEY (product_id) REFERENCES products (id)
) ENGINE=InnoDB
;
-- phone1..phone3 (SCH040), every non-key column nullable (SCH037), a utf8mb3 column (SCH049)
CREATE TABLE suppliers (
  id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
  contact_name VARCHAR(100) NULL,
  phone1 VARCHAR(20) NULL,
  phone2 VARCHAR(20) NULL,
  phone3 VARCHAR(20) NULL,
  notes VARCHAR(200) CHARACTER SET utf8mb3 NULL
) ENGINE=InnoDB
;
-- a reserved word as table name (SCH042) and the only singular name (SCH046)
CREATE TABLE `group` (
  id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
  label VARCHAR(50) NOT NULL
) ENGINE=InnoDB
;
-- ON DELETE CASCADE three levels deep from regions (SCH012)
CREATE TABLE regions (id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY, label VARCHAR(50) NOT NULL) ENGINE=InnoDB
;
CREATE TABLE stores (
  id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
  region_id BIGINT UNSIGNED NOT NULL,
  label VARCHAR(50) NOT NULL,
  CONSTRAINT fk_stores_region FOREIGN KEY (region_id) REFERENCES regions (id) ON DELETE CASCADE
) ENGINE=InnoDB
;
CREATE TABLE shelves (
  id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
  store_id BIGINT UNSIGNED NOT NULL,
  label VARCHAR(50) NOT NULL,
  CONSTRAINT fk_shelves_store FOREIGN KEY (store_id) REFERENCES stores (id) ON DELETE CASCADE
) ENGINE=InnoDB
;
CREATE TABLE bins (
  id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
  shelf_id BIGINT UNSIGNED NOT NULL,
  label VARCHAR(50) NOT NULL,
  CONSTRAINT fk_bins_shelf FOREIGN KEY (shelf_id) REFERENCES shelves (id) ON DELETE CASCADE
) ENGINE=InnoDB
;
INSERT INTO regions (label) VALUES ('north'), ('south')
;
INSERT INTO stores (region_id, label) VALUES (1, 'n1'), (1, 'n2'), (2, 's1')
;
INSERT INTO shelves (store_id, label) SELECT 1 + seq % 3, CONCAT('shelf ', seq) FROM seq_1_to_9
;
INSERT INTO bins (shelf_id, label) SELECT 1 + seq % 9, CONCAT('bin ', seq) FROM seq_1_to_27
"""

INT_MAX = 2_147_483_647
CLEAN_TABLES = {"customers", "payments", "stores", "shelves", "bins"}


def expected(db: str) -> set[tuple[str, str]]:
    return {
        ("SCH001", f"{db}.audit_entries"),
        ("SCH003", f"{db}.coupon_redemptions.coupon_code"),
        ("SCH004", f"{db}.comments.idx_target_b"),
        ("SCH005", f"{db}.orders.idx_status"),
        ("SCH008", f"{db}.orders.id"),
        ("SCH009", f"{db}.orders.id"),
        ("SCH010", f"{db}.sessions.id"),
        ("SCH010", f"{db}.devices.id"),
        ("SCH011", f"{db}.orders.idx_status"),
        ("SCH011", f"{db}.orders.idx_status_created"),
        ("SCH011", f"{db}.orders.idx_is_gift"),
        ("SCH012", f"{db}.regions"),
        ("SCH013", f"{db}.products.deleted_at"),
        ("SCH014", f"{db}.orders.customer_id"),
        ("SCH015", f"{db}.comments.commentable_id"),
        ("SCH036", f"{db}.orders.total_amount"),
        ("SCH037", f"{db}.suppliers"),
        ("SCH038", f"{db}.orders.status"),
        ("SCH039", f"{db}.product_attributes"),
        ("SCH040", f"{db}.suppliers"),
        ("SCH041", f"{db}.orders.customer_email"),
        ("SCH042", f"{db}.`group`"),
        ("SCH044", f"{db}.devices"),
        ("SCH046", f"{db}.`group`"),
        ("SCH048", f"{db}.legacy_notes"),
        ("SCH049", f"{db}.legacy_notes"),
        ("SCH049", f"{db}.suppliers"),
        ("SCH050", f"{db}.sessions.id"),
    }


def run(database: str, statements: list[str]) -> None:
    with admin(database) as conn, conn.cursor() as cur:
        for statement in statements:
            cur.execute(statement)


@pytest.fixture
def flawed_db(mysql_server: None) -> Iterator[str]:
    name = f"dbs_review_{secrets.token_hex(4)}"
    with admin() as conn, conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    try:
        script = [s for s in FLAWED_SCHEMA.split("\n;\n") if s.strip()]
        bodies = ["\n".join(line for line in s.splitlines() if not line.startswith("--")).strip() for s in script]
        tables = [b.split("(")[0].split()[-1] for b in bodies if b.startswith("CREATE TABLE")]
        run(name, [*script, f"ANALYZE TABLE {', '.join(tables)}"])
        yield name
    finally:
        with admin() as conn, conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")


async def review(database: str, **args: Any) -> dict[str, Any]:
    config = make_config(database, "shopdb")
    state = ServerState.from_connections(connection_set(config))
    try:
        async with Client(build_server(state)) as client:
            result = await client.call_tool(
                "review_schema", {"connection": "shopdb", "min_severity": "info", "max_findings": 2000, **args}
            )
    finally:
        await state.registry.close()
    assert not result.is_error, result.content
    data: dict[str, Any] = result.structured_content
    return data


def by_key(findings: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(f["rule_id"], f["subject"]): f for f in findings}


async def test_live_review_finds_exactly_the_planted_flaws(flawed_db: str) -> None:
    db = flawed_db
    started = time.perf_counter()
    data = await review(db)
    elapsed = time.perf_counter() - started
    findings = data["findings"]
    got = {(f["rule_id"], f["subject"]) for f in findings}
    want = expected(db)
    assert got == want, f"missing {sorted(want - got)}; unexpected {sorted(got - want)}"
    assert len(findings) == len(want)
    assert not {f["table"] for f in findings} & CLEAN_TABLES
    assert data["source"] == "live" and data["engine"] == "mysql" and not data["truncated"]
    assert data["tables_reviewed"] == 18
    assert elapsed < 10, f"live review took {elapsed:.2f} s"

    f = by_key(findings)
    counter = f[("SCH009", f"{db}.orders.id")]
    assert counter["severity"] == "critical"
    assert counter["evidence"]["current_value"] == 2_000_000_000 and counter["evidence"]["max_value"] == INT_MAX
    assert counter["evidence"]["pct_used"] == 93.13
    key = f[("SCH008", f"{db}.orders.id")]
    assert key["severity"] == "critical" and key["evidence"]["pct_used"] == 93.13
    assert key["evidence"]["referencing_columns"] == 1
    boolean = f[("SCH011", f"{db}.orders.idx_is_gift")]
    assert boolean["severity"] == "medium" and boolean["evidence"]["boolean"] is True
    assert 10_000 <= boolean["evidence"]["rows"] <= 30_000  # InnoDB's estimate of 20,000 rows
    myisam = f[("SCH048", f"{db}.legacy_notes")]
    assert myisam["severity"] == "high" and myisam["evidence"]["engine"] == "MyISAM"
    assert myisam["evidence"]["rows"] == 7  # MyISAM counts exactly
    latin = f[("SCH049", f"{db}.legacy_notes")]
    assert latin["evidence"]["table_charset"] == "latin1"
    mb3 = f[("SCH049", f"{db}.suppliers")]
    assert mb3["evidence"]["table_charset"] == "utf8mb4" and mb3["evidence"]["example_column"] == "notes"
    assert mb3["fix"]["statements"] == [
        f"ALTER TABLE {db}.suppliers CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;"
    ]
    uuid_key = f[("SCH010", f"{db}.sessions.id")]
    assert uuid_key["severity"] == "high" and uuid_key["evidence"]["clustered"] is True
    assert uuid_key["evidence"]["key_bytes"] == 36
    chain = f[("SCH012", f"{db}.regions")]
    assert chain["evidence"]["depth"] == 3 and chain["evidence"]["chain"] == "regions → stores → shelves → bins"
    assert f[("SCH046", f"{db}.`group`")]["evidence"] == {"plural_tables": 17, "singular_tables": 1}
    assert f[("SCH003", f"{db}.coupon_redemptions.coupon_code")]["severity"] == "medium"
    assert f[("SCH013", f"{db}.products.deleted_at")]["severity"] == "medium"


async def test_fix_statements_run(flawed_db: str) -> None:
    """MySQL DDL commits implicitly, so the fixes run for real on the private database; the review after
    them has lost exactly those findings."""
    db = flawed_db
    f = by_key((await review(db))["findings"])
    fixed = [
        ("SCH003", f"{db}.coupon_redemptions.coupon_code"),
        ("SCH004", f"{db}.comments.idx_target_b"),
        ("SCH005", f"{db}.orders.idx_status"),
        ("SCH008", f"{db}.orders.id"),
        ("SCH014", f"{db}.orders.customer_id"),
        ("SCH036", f"{db}.orders.total_amount"),
        ("SCH048", f"{db}.legacy_notes"),
        ("SCH049", f"{db}.legacy_notes"),
        ("SCH049", f"{db}.suppliers"),
    ]
    for key in fixed:
        try:
            run(db, f[key]["fix"]["statements"])
        except pymysql.Error as exc:
            pytest.fail(f"fix of {key} failed: {exc}\n{f[key]['fix']['statements']}")
    after = {(x["rule_id"], x["subject"]) for x in (await review(db))["findings"]}
    # Widening orders.id to BIGINT (SCH008's fix) also ends the counter overflow (SCH009); the prefix index
    # was idx_status, so its low-cardinality finding goes with it.
    gone = {*fixed, ("SCH009", f"{db}.orders.id"), ("SCH011", f"{db}.orders.idx_status")}
    assert after == expected(db) - gone


async def test_counter_overflow_fix_runs_although_a_foreign_key_references_the_column(flawed_db: str) -> None:
    """SCH009's fix must be runnable as given: payments.order_id references orders.id, and MySQL/MariaDB
    refuse to change a column a foreign key uses (error 1833) unless the key is dropped and re-added
    around the change (as SCH008's fix does)."""
    db = flawed_db
    f = by_key((await review(db))["findings"])
    statements = f[("SCH009", f"{db}.orders.id")]["fix"]["statements"]
    try:
        run(db, statements)
    except pymysql.Error as exc:
        pytest.fail(f"SCH009's fix failed: {exc}\n{statements}")
    after = {(x["rule_id"], x["subject"]) for x in (await review(db))["findings"]}
    assert after == expected(db) - {("SCH008", f"{db}.orders.id"), ("SCH009", f"{db}.orders.id")}
