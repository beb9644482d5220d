"""Live schema review on SQLite: a deliberately flawed database file, reviewed through the MCP tool.

Each flaw names the rule it should trigger; `customers`, `tags`, `stores`, `shelves` and `bins` are
STRICT, integer-keyed and indexed where they reference, and must produce nothing.
"""

from __future__ import annotations

import shutil
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from dbspecialist.server.app import build_server
from dbspecialist.server.state import ServerState
from tests.helpers import connection_set, make_db, sqlite_conn

pytestmark = pytest.mark.integration

FLAWED_SCHEMA = """
CREATE TABLE customers (
  id INTEGER PRIMARY KEY,
  email TEXT NOT NULL UNIQUE,
  full_name TEXT NOT NULL,
  created_at TEXT NOT NULL
) STRICT;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100)
INSERT INTO customers SELECT i, 'c' || i || '@example.com', 'Customer ' || i, '2024-01-01' FROM n;

-- unindexed, nullable FK (SCH002, SCH014); customer_email copies customers.email (SCH041); status without
-- CHECK (SCH038); REAL money (SCH036); indexes led by status (SCH011), one a prefix of the other (SCH005)
CREATE TABLE orders (
  id INTEGER PRIMARY KEY,
  customer_id INTEGER REFERENCES customers (id),
  customer_email TEXT,
  status TEXT NOT NULL,
  created_at TEXT NOT NULL,
  total_amount REAL NOT NULL
) STRICT;
CREATE INDEX idx_orders_status ON orders (status);
CREATE INDEX idx_orders_status_created ON orders (status, created_at);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000)
INSERT INTO orders SELECT i, 1 + i % 100, 'c' || (1 + i % 100) || '@example.com',
  CASE i % 3 WHEN 0 THEN 'new' WHEN 1 THEN 'paid' ELSE 'shipped' END, '2024-01-01', i % 500 + 0.99 FROM n;

-- a TEXT column referencing an INTEGER key (SCH003)
CREATE TABLE payments (
  id INTEGER PRIMARY KEY,
  order_ref TEXT NOT NULL REFERENCES orders (id),
  amount_cents INTEGER NOT NULL
) STRICT;
CREATE INDEX idx_payments_order_ref ON payments (order_ref);
INSERT INTO payments VALUES (1, '1', 199), (2, '2', 250);

-- no primary key (SCH001), not STRICT (SCH052)
CREATE TABLE audit_entries (logged_at TEXT NOT NULL, message TEXT);
INSERT INTO audit_entries VALUES ('2024-01-01 10:00', 'login'), ('2024-01-01 10:05', 'logout');

-- AUTOINCREMENT (SCH053)
CREATE TABLE tickets (id INTEGER PRIMARY KEY AUTOINCREMENT, title TEXT NOT NULL) STRICT;
INSERT INTO tickets (title) VALUES ('first');

-- a narrow link table with a composite key, better WITHOUT ROWID (SCH054)
CREATE TABLE tags (id INTEGER PRIMARY KEY, label TEXT NOT NULL UNIQUE) STRICT;
CREATE TABLE order_tags (
  order_id INTEGER NOT NULL REFERENCES orders (id),
  tag_id INTEGER NOT NULL REFERENCES tags (id),
  PRIMARY KEY (order_id, tag_id)
) STRICT;
CREATE INDEX idx_order_tags_tag ON order_tags (tag_id);
INSERT INTO tags VALUES (1, 'gift'), (2, 'rush');
INSERT INTO order_tags VALUES (1, 1), (1, 2), (2, 2);

-- polymorphic association (SCH015); the same index twice (SCH004)
CREATE TABLE comments (
  id INTEGER PRIMARY KEY,
  commentable_type TEXT NOT NULL,
  commentable_id INTEGER NOT NULL,
  body TEXT NOT NULL
) STRICT;
CREATE INDEX idx_comments_target_a ON comments (commentable_type, commentable_id);
CREATE INDEX idx_comments_target_b ON comments (commentable_type, commentable_id);

-- soft delete with a unique key that still covers deleted rows (SCH013)
CREATE TABLE products (
  id INTEGER PRIMARY KEY,
  sku TEXT NOT NULL UNIQUE,
  title TEXT NOT NULL,
  deleted_at TEXT
) STRICT;

-- entity-attribute-value (SCH039)
CREATE TABLE product_attributes (
  id INTEGER PRIMARY KEY,
  product_id INTEGER NOT NULL REFERENCES products (id),
  attribute_name TEXT NOT NULL,
  value TEXT,
  UNIQUE (product_id, attribute_name)
) STRICT;

-- phone1..phone3 (SCH040), every non-key column nullable (SCH037), not STRICT (SCH052)
CREATE TABLE suppliers (
  id INTEGER PRIMARY KEY,
  contact_name VARCHAR(100),
  phone1 VARCHAR(20),
  phone2 VARCHAR(20),
  phone3 VARCHAR(20)
);
INSERT INTO suppliers VALUES (1, 'Ann', '555-1', '555-2', NULL);

-- a reserved word as table name (SCH042) and the only singular name (SCH046)
CREATE TABLE "group" (id INTEGER PRIMARY KEY, label TEXT NOT NULL) STRICT;

-- a camelCase column among snake_case names (SCH044)
CREATE TABLE devices (id INTEGER PRIMARY KEY, label TEXT NOT NULL, lastSeenAt TEXT) STRICT;

-- ON DELETE CASCADE three levels deep from regions (SCH012)
CREATE TABLE regions (id INTEGER PRIMARY KEY, label TEXT NOT NULL) STRICT;
CREATE TABLE stores (
  id INTEGER PRIMARY KEY,
  region_id INTEGER NOT NULL REFERENCES regions (id) ON DELETE CASCADE,
  label TEXT NOT NULL
) STRICT;
CREATE INDEX idx_stores_region ON stores (region_id);
CREATE TABLE shelves (
  id INTEGER PRIMARY KEY,
  store_id INTEGER NOT NULL REFERENCES stores (id) ON DELETE CASCADE,
  label TEXT NOT NULL
) STRICT;
CREATE INDEX idx_shelves_store ON shelves (store_id);
CREATE TABLE bins (
  id INTEGER PRIMARY KEY,
  shelf_id INTEGER NOT NULL REFERENCES shelves (id) ON DELETE CASCADE,
  label TEXT NOT NULL
) STRICT;
CREATE INDEX idx_bins_shelf ON bins (shelf_id);
INSERT INTO regions VALUES (1, 'north'), (2, 'south');
INSERT INTO stores VALUES (1, 1, 'n1'), (2, 1, 'n2'), (3, 2, 's1');
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 9)
INSERT INTO shelves SELECT i, 1 + i % 3, 'shelf ' || i FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 27)
INSERT INTO bins SELECT i, 1 + i % 9, 'bin ' || i FROM n;
"""

# The adapter's own connection never turns PRAGMA foreign_keys on, so SCH051 fires for any file that
# declares foreign keys (it is a per-connection setting: the finding reminds the application to set it).
EXPECTED: set[tuple[str, str]] = {
    ("SCH001", "audit_entries"),
    ("SCH002", "orders.customer_id"),
    ("SCH003", "payments.order_ref"),
    ("SCH004", "idx_comments_target_b"),
    ("SCH005", "idx_orders_status"),
    ("SCH011", "idx_orders_status"),
    ("SCH011", "idx_orders_status_created"),
    ("SCH012", "regions"),
    ("SCH013", "products.deleted_at"),
    ("SCH014", "orders.customer_id"),
    ("SCH015", "comments.commentable_id"),
    ("SCH036", "orders.total_amount"),
    ("SCH037", "suppliers"),
    ("SCH038", "orders.status"),
    ("SCH039", "product_attributes"),
    ("SCH040", "suppliers"),
    ("SCH041", "orders.customer_email"),
    ("SCH042", '"group"'),
    ("SCH044", "devices"),
    ("SCH046", '"group"'),
    ("SCH051", "PRAGMA foreign_keys"),
    ("SCH052", "audit_entries"),
    ("SCH052", "suppliers"),
    ("SCH053", "tickets"),
    ("SCH054", "order_tags"),
}
CLEAN_TABLES = {"customers", "tags", "stores", "shelves", "bins"}


@pytest.fixture
def flawed_db(tmp_path: Path) -> Path:
    return make_db(tmp_path / "shop.db", FLAWED_SCHEMA)


async def review(path: Path, **args: Any) -> dict[str, Any]:
    state = ServerState.from_connections(connection_set(sqlite_conn(path, "shopdb")))
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


async def test_live_review_finds_exactly_the_planted_flaws(flawed_db: Path) -> None:
    started = time.perf_counter()
    data = await review(flawed_db)
    elapsed = time.perf_counter() - started
    findings = data["findings"]
    got = {(f["rule_id"], f["subject"]) for f in findings}
    assert got == EXPECTED, f"missing {sorted(EXPECTED - got)}; unexpected {sorted(got - EXPECTED)}"
    assert len(findings) == len(EXPECTED)
    assert not {f["table"] for f in findings} & CLEAN_TABLES
    assert data["source"] == "live" and data["engine"] == "sqlite" and not data["truncated"]
    assert data["tables_reviewed"] == 17
    assert elapsed < 10, f"live review took {elapsed:.2f} s"

    f = by_key(findings)
    pragma = f[("SCH051", "PRAGMA foreign_keys")]
    assert pragma["severity"] == "high" and pragma["table"] is None
    assert pragma["evidence"] == {"foreign_keys": "0", "tables_with_foreign_keys": 7, "declared_foreign_keys": 8}
    fk = f[("SCH002", "orders.customer_id")]
    assert fk["severity"] == "high" and fk["evidence"]["rows"] == 20_000
    assert fk["fix"]["statements"] == ["CREATE INDEX orders_customer_id_idx ON orders (customer_id);"]
    low = f[("SCH011", "idx_orders_status")]
    assert low["evidence"]["rows"] == 20_000 and low["evidence"]["leading_column"] == "status"
    assert f[("SCH003", "payments.order_ref")]["severity"] == "high"
    assert f[("SCH001", "audit_entries")]["evidence"]["rows"] == 2
    assert f[("SCH053", "tickets")]["evidence"] == {"primary_key": "id", "rows": 1}
    assert f[("SCH054", "order_tags")]["evidence"] == {"primary_key_columns": 2, "columns": 2, "rows": 3}
    chain = f[("SCH012", "regions")]
    assert chain["evidence"]["depth"] == 3 and chain["evidence"]["rows_reached"] == 3 + 9 + 27
    assert f[("SCH046", '"group"')]["evidence"] == {"plural_tables": 16, "singular_tables": 1}
    assert f[("SCH052", "suppliers")]["evidence"]["columns"] == 5

    # The tables filter keeps only findings about those tables, so the server-level PRAGMA one goes too.
    scoped = await review(flawed_db, tables=["orders"])
    assert {(x["rule_id"], x["subject"]) for x in scoped["findings"]} == {
        k for k in EXPECTED if k[1].startswith(("orders.", "idx_orders_"))
    }


async def test_no_pragma_finding_without_foreign_keys(tmp_path: Path) -> None:
    path = make_db(tmp_path / "plain.db", "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL) STRICT;")
    assert (await review(path))["findings"] == []


def _run_fix(source: Path, target: Path, statements: list[str]) -> str | None:
    """Run `statements` on a fresh copy of `source`; the error text, or None when they all ran."""
    shutil.copyfile(source, target)
    con = sqlite3.connect(target)
    try:
        con.executescript("\n".join(statements))
    except sqlite3.Error as exc:
        return str(exc)
    finally:
        con.close()
    return None


async def test_fix_statements_run(flawed_db: Path, tmp_path: Path) -> None:
    """Every fix with statements (SCH001 aside, see the next test) runs on a copy of the file."""
    findings = (await review(flawed_db))["findings"]
    failures = {}
    ran = 0
    for finding in findings:
        fix = finding["fix"]
        if not fix or not fix["statements"] or finding["rule_id"] == "SCH001":
            continue
        ran += 1
        error = _run_fix(flawed_db, tmp_path / "copy.db", fix["statements"])
        if error:
            failures[(finding["rule_id"], finding["subject"])] = (error, fix["statements"])
    assert not failures
    assert ran >= 12


async def test_missing_primary_key_fix_is_sqlite(flawed_db: Path, tmp_path: Path) -> None:
    """SQLite has no ALTER TABLE ... ADD PRIMARY KEY: the fix must be a rebuild (or absent), not that statement."""
    fix = by_key((await review(flawed_db))["findings"])[("SCH001", "audit_entries")]["fix"]
    if fix is None:
        return
    error = _run_fix(flawed_db, tmp_path / "copy.db", fix["statements"])
    assert error is None, f"{error}: {fix['statements']}"
