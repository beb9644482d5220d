"""Live schema review on PostgreSQL: a deliberately flawed schema, reviewed through the MCP tool.

The schema lives in a private database (created and dropped here), because several rules look at the
whole catalog (singular/plural names, cascade chains) and other tests leave schemas in the shared one.
Every flaw is listed next to the rule it should trigger; `customers`, `stores`, `shelves` and `bins`
are well designed and must produce nothing.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
from mcp import Client

from dbspecialist.server.app import build_server
from dbspecialist.server.state import ServerState
from tests.helpers import connection_set
from tests.integration.postgres.conftest import PG_URL, pg_config

pytestmark = pytest.mark.integration

S = "shop"

FLAWED_SCHEMA = f"""
CREATE SCHEMA {S};

-- clean: bigint identity key, NOT NULL attributes, timestamptz, one index that queries use
CREATE TABLE {S}.customers (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  email text NOT NULL UNIQUE,
  full_name text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX customers_created_at_idx ON {S}.customers (created_at);
INSERT INTO {S}.customers (email, full_name, created_at)
  SELECT 'c' || g || '@example.com', 'Customer ' || g, now() - g * interval '1 hour' FROM generate_series(1, 100) g;

-- serial int4 key (SCH008, SCH034) whose sequence is near its end (SCH009); unindexed, nullable FK
-- (SCH002, SCH014); customer_email copies customers.email (SCH041); status text without CHECK (SCH038);
-- timestamp without time zone (SCH030); money in double precision (SCH036); an index on a low-cardinality
-- column (SCH011) that is a left prefix of another (SCH005); neither index is ever scanned (SCH006).
CREATE TABLE {S}.orders (
  id serial PRIMARY KEY,
  customer_id bigint REFERENCES {S}.customers (id),
  customer_email text,
  status text NOT NULL,
  placed_at timestamp NOT NULL,
  total_amount double precision NOT NULL
);
CREATE INDEX orders_status_idx ON {S}.orders (status);
CREATE INDEX orders_status_placed_at_idx ON {S}.orders (status, placed_at);
INSERT INTO {S}.orders (customer_id, customer_email, status, placed_at, total_amount)
  SELECT 1 + g % 100, 'c' || (1 + g % 100) || '@example.com', (ARRAY['new', 'paid', 'shipped'])[1 + g % 3],
         timestamp '2024-01-01' + g * interval '1 minute', g % 500 + 0.99
  FROM generate_series(1, 20000) g;

-- smallint FK to an integer key (SCH003); the money type (SCH033)
CREATE TABLE {S}.payments (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  order_id smallint NOT NULL REFERENCES {S}.orders (id),
  amount money NOT NULL
);
CREATE INDEX payments_order_id_idx ON {S}.payments (order_id);
INSERT INTO {S}.payments (order_id, amount) SELECT g, g * 1.5 FROM generate_series(1, 50) g;

-- char(n) (SCH031) and a unique index whose concurrent build failed on duplicates (SCH007, built below)
CREATE TABLE {S}.coupons (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  code char(12) NOT NULL,
  discount_pct numeric(5, 2) NOT NULL
);
INSERT INTO {S}.coupons (code, discount_pct) VALUES ('WELCOME', 10), ('WELCOME', 15), ('SPRING', 5);

-- no primary key (SCH001); json instead of jsonb (SCH035)
CREATE TABLE {S}.audit_events (
  occurred_at timestamptz NOT NULL,
  actor text,
  payload json
);
INSERT INTO {S}.audit_events
  SELECT now() - g * interval '1 second', 'admin', '{{"n": 1}}' FROM generate_series(1, 30) g;

-- an insert-only table with a time column, made to look huge below (SCH047)
CREATE TABLE {S}.page_views (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  created_at timestamptz NOT NULL,
  path text NOT NULL
) WITH (autovacuum_enabled = false);
INSERT INTO {S}.page_views (created_at, path) SELECT now() - g * interval '1 second', '/p/' || g
  FROM generate_series(1, 1000) g;

-- polymorphic association (SCH015); the same index twice (SCH004), both unused (SCH006)
CREATE TABLE {S}.comments (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  commentable_type text NOT NULL,
  commentable_id bigint NOT NULL,
  body text NOT NULL
);
CREATE INDEX comments_target_a_idx ON {S}.comments (commentable_type, commentable_id);
CREATE INDEX comments_target_b_idx ON {S}.comments (commentable_type, commentable_id);
INSERT INTO {S}.comments (commentable_type, commentable_id, body) VALUES ('Order', 1, 'fast'), ('Product', 2, 'ok');

-- random UUIDv4 key (SCH010); soft delete with a unique key that still covers deleted rows (SCH013)
CREATE TABLE {S}.products (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  sku text NOT NULL UNIQUE,
  title text NOT NULL,
  deleted_at timestamptz
);
INSERT INTO {S}.products (sku, title) SELECT 'SKU-' || g, 'Product ' || g FROM generate_series(1, 20) g;

-- entity-attribute-value (SCH039)
CREATE TABLE {S}.product_attributes (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  product_id uuid NOT NULL REFERENCES {S}.products (id),
  attribute_name text NOT NULL,
  value text,
  UNIQUE (product_id, attribute_name)
);

-- phone1..phone3 (SCH040), every non-key column nullable (SCH037), varchar(100) (SCH032)
CREATE TABLE {S}.suppliers (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  contact_name varchar(100),
  phone1 text,
  phone2 text,
  phone3 text
);

-- upper-case names that need quoting forever (SCH045)
CREATE TABLE {S}."Invoices" (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  "InvoiceNo" text NOT NULL
);

-- a reserved word as table name (SCH042) that is also the only singular name (SCH046)
CREATE TABLE {S}."user" (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  login text NOT NULL UNIQUE
);

-- ON DELETE CASCADE three levels deep from regions (SCH012); every FK indexed, so the rest is clean
CREATE TABLE {S}.regions (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, label text NOT NULL);
CREATE TABLE {S}.stores (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  region_id bigint NOT NULL REFERENCES {S}.regions (id) ON DELETE CASCADE,
  label text NOT NULL
);
CREATE INDEX stores_region_id_idx ON {S}.stores (region_id);
CREATE TABLE {S}.shelves (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  store_id bigint NOT NULL REFERENCES {S}.stores (id) ON DELETE CASCADE,
  label text NOT NULL
);
CREATE INDEX shelves_store_id_idx ON {S}.shelves (store_id);
CREATE TABLE {S}.bins (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  shelf_id bigint NOT NULL REFERENCES {S}.shelves (id) ON DELETE CASCADE,
  label text NOT NULL
);
CREATE INDEX bins_shelf_id_idx ON {S}.bins (shelf_id);
INSERT INTO {S}.regions (label) VALUES ('north'), ('south');
INSERT INTO {S}.stores (region_id, label) VALUES (1, 'n1'), (1, 'n2'), (2, 's1');
INSERT INTO {S}.shelves (store_id, label) SELECT 1 + g % 3, 'shelf ' || g FROM generate_series(1, 9) g;
INSERT INTO {S}.bins (shelf_id, label) SELECT 1 + g % 9, 'bin ' || g FROM generate_series(1, 27) g;

SELECT setval('{S}.orders_id_seq', 2000000000);
"""

INT4_MAX = 2_147_483_647

EXPECTED: set[tuple[str, str]] = {
    ("SCH001", "shop.audit_events"),
    ("SCH002", "shop.orders.customer_id"),
    ("SCH003", "shop.payments.order_id"),
    ("SCH004", "shop.comments_target_b_idx"),
    ("SCH005", "shop.orders_status_idx"),
    ("SCH006", "shop.orders_status_idx"),
    ("SCH006", "shop.orders_status_placed_at_idx"),
    ("SCH006", "shop.comments_target_a_idx"),
    ("SCH006", "shop.comments_target_b_idx"),
    ("SCH007", "shop.coupons_code_key"),
    ("SCH008", "shop.orders.id"),
    ("SCH009", "shop.orders_id_seq"),
    ("SCH010", "shop.products.id"),
    ("SCH011", "shop.orders_status_idx"),
    ("SCH011", "shop.orders_status_placed_at_idx"),
    ("SCH012", "shop.regions"),
    ("SCH013", "shop.products.deleted_at"),
    ("SCH014", "shop.orders.customer_id"),
    ("SCH015", "shop.comments.commentable_id"),
    ("SCH030", "shop.orders.placed_at"),
    ("SCH031", "shop.coupons.code"),
    ("SCH032", "shop.suppliers.contact_name"),
    ("SCH033", "shop.payments.amount"),
    ("SCH034", "shop.orders.id"),
    ("SCH035", "shop.audit_events.payload"),
    ("SCH036", "shop.orders.total_amount"),
    ("SCH037", "shop.suppliers"),
    ("SCH038", "shop.orders.status"),
    ("SCH039", "shop.product_attributes"),
    ("SCH040", "shop.suppliers"),
    ("SCH041", "shop.orders.customer_email"),
    ("SCH042", 'shop."user"'),
    ("SCH045", 'shop."Invoices"'),
    ("SCH046", 'shop."user"'),
    ("SCH047", "shop.page_views"),
}
CLEAN_TABLES = {"customers", "stores", "shelves", "bins"}


def _database_url(database: str) -> str:
    parts = urlsplit(PG_URL)
    return urlunsplit(parts._replace(path=f"/{database}"))


async def _wait_for_statistics(conn: asyncpg.Connection) -> None:
    """Until the scan of customers_created_at_idx and the page_views inserts show in the statistics views."""
    deadline = time.monotonic() + 15
    while True:
        row = await conn.fetchrow(
            "SELECT (SELECT idx_scan FROM pg_stat_user_indexes WHERE indexrelname = 'customers_created_at_idx') AS s,"
            f" (SELECT n_tup_ins FROM pg_stat_user_tables WHERE relid = '{S}.page_views'::regclass) AS i"
        )
        assert row is not None
        if (row["s"] or 0) > 0 and row["i"] == 1000:
            return
        if time.monotonic() > deadline:
            pytest.fail(f"statistics never arrived: {dict(row)}")
        await conn.execute("SELECT pg_stat_clear_snapshot()")
        await asyncio.sleep(0.2)


@pytest.fixture
async def flawed_db() -> AsyncIterator[str]:
    """A private database holding the flawed `shop` schema; dropped afterwards."""
    name = f"dbs_review_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(PG_URL)
    try:
        await admin.execute(f"CREATE DATABASE {name}")
        try:
            conn = await asyncpg.connect(_database_url(name))
            try:
                await conn.execute(FLAWED_SCHEMA)
                with pytest.raises(asyncpg.UniqueViolationError):  # leaves coupons_code_key INVALID
                    await conn.execute(f"CREATE UNIQUE INDEX CONCURRENTLY coupons_code_key ON {S}.coupons (code)")
                await conn.execute("ANALYZE")
                # 60 million rows as far as the planner (and the review) can tell; autovacuum is off for it.
                await conn.execute(
                    f"UPDATE pg_catalog.pg_class SET reltuples = 60000000 WHERE oid = '{S}.page_views'::regclass"
                )
                await conn.execute("SET enable_seqscan = off")
                await conn.execute(f"SELECT count(*) FROM {S}.customers WHERE created_at > now() - interval '1 day'")
                await conn.execute("SELECT pg_stat_force_next_flush()")
                await _wait_for_statistics(conn)
            finally:
                await conn.close()
            yield name
        finally:
            await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        await admin.close()


async def review(database: str, **args: Any) -> dict[str, Any]:
    config = pg_config("shopdb", _database_url(database))
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
    started = time.perf_counter()
    data = await review(flawed_db)
    elapsed = time.perf_counter() - started
    findings = data["findings"]
    got = {(f["rule_id"], f["subject"]) for f in findings}
    assert got == EXPECTED, f"missing {sorted(EXPECTED - got)}; unexpected {sorted(got - EXPECTED)}"
    assert len(findings) == len(EXPECTED)  # no (rule, subject) pair twice
    assert not {f["table"] for f in findings} & CLEAN_TABLES
    assert data["source"] == "live" and data["engine"] == "postgresql" and not data["truncated"]
    assert data["tables_reviewed"] == 16
    assert sum(data["counts"].values()) == len(EXPECTED)
    assert elapsed < 10, f"live review took {elapsed:.2f} s"

    f = by_key(findings)
    seq = f[("SCH009", "shop.orders_id_seq")]
    assert seq["severity"] == "critical" and seq["table"] == "orders"
    assert seq["evidence"]["current_value"] == 2_000_000_000 and seq["evidence"]["max_value"] == INT4_MAX
    assert seq["evidence"]["pct_used"] == 93.13 and seq["evidence"]["owned_by"] == "shop.orders.id"
    key = f[("SCH008", "shop.orders.id")]
    assert key["severity"] == "critical" and key["evidence"]["used_value"] == 2_000_000_000
    assert key["evidence"]["pct_used"] == 93.13 and key["evidence"]["referencing_columns"] == 1
    fk = f[("SCH002", "shop.orders.customer_id")]
    assert fk["severity"] == "high" and fk["evidence"]["rows"] == 20_000  # past small_table_rows
    assert fk["fix"]["statements"] == ["CREATE INDEX CONCURRENTLY orders_customer_id_idx ON shop.orders (customer_id);"]
    invalid = f[("SCH007", "shop.coupons_code_key")]
    assert invalid["evidence"]["valid"] is False and invalid["evidence"]["unique"] is True
    assert invalid["evidence"]["rows"] == 3
    assert invalid["fix"]["statements"] == [
        "DROP INDEX CONCURRENTLY shop.coupons_code_key;",
        "CREATE UNIQUE INDEX CONCURRENTLY coupons_code_key ON shop.coupons (code);",
    ]
    unused = f[("SCH006", "shop.orders_status_idx")]
    assert unused["evidence"]["scans"] == 0 and unused["evidence"]["rows"] == 20_000
    assert unused["evidence"]["size_bytes"] > 0
    low = f[("SCH011", "shop.orders_status_idx")]
    assert low["evidence"]["rows"] == 20_000 and low["evidence"]["leading_column"] == "status"
    big = f[("SCH047", "shop.page_views")]
    assert big["severity"] == "medium"
    assert big["evidence"]["rows"] == 60_000_000 and big["evidence"]["inserts"] == 1000
    assert big["evidence"]["change_pct_of_inserts"] == 0.0 and big["evidence"]["time_column"] == "created_at"
    chain = f[("SCH012", "shop.regions")]
    assert chain["evidence"]["depth"] == 3 and chain["evidence"]["tables_reached"] == 3
    assert chain["evidence"]["chain"] == "regions → stores → shelves → bins"
    assert chain["evidence"]["rows_reached"] == 3 + 9 + 27
    mismatch = f[("SCH003", "shop.payments.order_id")]
    assert mismatch["severity"] == "high" and mismatch["evidence"]["column_bytes"] == 2
    assert mismatch["evidence"]["referenced_bytes"] == 4
    plural = f[("SCH046", 'shop."user"')]
    assert plural["evidence"] == {"plural_tables": 15, "singular_tables": 1}
    assert f[("SCH013", "shop.products.deleted_at")]["severity"] == "medium"
    assert f[("SCH001", "shop.audit_events")]["evidence"]["rows"] == 30

    # the tables filter keeps only the findings about those tables (SCH009 belongs to orders)
    scoped = await review(flawed_db, tables=["orders"])
    assert {(x["rule_id"], x["subject"]) for x in scoped["findings"]} == {
        k for k in EXPECTED if k[1].startswith("shop.orders")
    } | {("SCH009", "shop.orders_id_seq")}


# Fixes that are plain DDL, checked inside a transaction that is rolled back.
TRANSACTIONAL_FIXES = [
    ("SCH003", "shop.payments.order_id"),
    ("SCH008", "shop.orders.id"),
    ("SCH009", "shop.orders_id_seq"),
    ("SCH014", "shop.orders.customer_id"),
    ("SCH030", "shop.orders.placed_at"),
    ("SCH031", "shop.coupons.code"),
    ("SCH033", "shop.payments.amount"),
    ("SCH035", "shop.audit_events.payload"),
    ("SCH036", "shop.orders.total_amount"),
]
# CONCURRENTLY fixes cannot run in a transaction block: they run for real on the private database.
CONCURRENT_FIXES = [
    ("SCH002", "shop.orders.customer_id"),
    ("SCH007", "shop.coupons_code_key"),
    ("SCH004", "shop.comments_target_b_idx"),
    ("SCH005", "shop.orders_status_idx"),
]


async def test_fix_statements_run(flawed_db: str) -> None:
    f = by_key((await review(flawed_db))["findings"])
    conn = await asyncpg.connect(_database_url(flawed_db))
    try:
        await conn.execute(f"DELETE FROM {S}.coupons WHERE discount_pct = 15")  # SCH007's help: dedupe first
        for key in CONCURRENT_FIXES:
            for statement in f[key]["fix"]["statements"]:
                await conn.execute(statement)
        indexes = {
            r["indexname"]: r["valid"]
            for r in await conn.fetch(
                "SELECT i.indexname, x.indisvalid AS valid FROM pg_indexes i "
                "JOIN pg_index x ON x.indexrelid = format('%I.%I', i.schemaname, i.indexname)::regclass "
                "WHERE i.schemaname = $1",
                S,
            )
        }
        assert indexes["orders_customer_id_idx"] is True and indexes["coupons_code_key"] is True
        assert not {"comments_target_b_idx", "orders_status_idx"} & set(indexes)
        for key in TRANSACTIONAL_FIXES:
            tx = conn.transaction()
            await tx.start()
            try:
                for statement in f[key]["fix"]["statements"]:
                    await conn.execute(statement)
            finally:
                await tx.rollback()
        id_type = await conn.fetchval(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
            f"WHERE attrelid = '{S}.orders'::regclass AND attname = 'id'"
        )
        assert id_type == "integer"  # rolled back
    finally:
        await conn.close()
    # The review of the repaired schema drops exactly those findings (and the unused-index ones they carried).
    after = {(x["rule_id"], x["subject"]) for x in (await review(flawed_db))["findings"]}
    gone = {
        ("SCH002", "shop.orders.customer_id"),
        ("SCH004", "shop.comments_target_b_idx"),
        ("SCH005", "shop.orders_status_idx"),
        ("SCH006", "shop.orders_status_idx"),
        ("SCH006", "shop.comments_target_b_idx"),
        ("SCH007", "shop.coupons_code_key"),
        ("SCH011", "shop.orders_status_idx"),
    }
    assert after == EXPECTED - gone
