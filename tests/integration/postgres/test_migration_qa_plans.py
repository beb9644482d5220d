"""plan_migration's plans run for real: every SQL step of the plan, in order, on a copy of the QA shop schema.

QA found plans PostgreSQL 15 rejects (an int → bigint primary key swap that dropped NOT NULL from a primary key
column, kept the serial sequence owned by the old column and left the referencing foreign keys on the old key's
index; CREATE INDEX CONCURRENTLY and NOT VALID foreign keys on partitioned tables). Each test plans the change from
the live catalog, runs the steps (backfill scripts as their batch loop) and checks the end state.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from dbspecialist.adapters.postgres import PostgresAdapter
from dbspecialist.knowledge.migrations.model import MigrationPlan, MigrationStep
from dbspecialist.knowledge.migrations.plan import plan_migration

pytestmark = pytest.mark.integration

SHOP = """
CREATE SCHEMA {s};
CREATE TYPE {s}.order_status AS ENUM ('new', 'paid', 'shipped');
CREATE TABLE {s}.customers (id bigserial PRIMARY KEY, email text NOT NULL);
CREATE TABLE {s}.orders (
    id serial PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES {s}.customers (id),
    status {s}.order_status NOT NULL DEFAULT 'new',
    total numeric(12, 2) NOT NULL
);
CREATE INDEX orders_status_idx ON {s}.orders (status);
CREATE TABLE {s}.order_items (
    order_id int NOT NULL REFERENCES {s}.orders (id) ON DELETE CASCADE,
    line_no int NOT NULL,
    qty int NOT NULL,
    PRIMARY KEY (order_id, line_no)
);
CREATE TABLE {s}.tickets (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, note text);
INSERT INTO {s}.tickets (note) SELECT 'n' || g FROM generate_series(1, 100) g;
CREATE TABLE {s}.events (
    id bigint GENERATED ALWAYS AS IDENTITY,
    customer_id bigint,
    kind text NOT NULL,
    occurred_at timestamptz NOT NULL,
    PRIMARY KEY (id, occurred_at)
) PARTITION BY RANGE (occurred_at);
CREATE TABLE {s}.events_2024 PARTITION OF {s}.events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE {s}.events_2025 PARTITION OF {s}.events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE {s}.events_default PARTITION OF {s}.events DEFAULT;
INSERT INTO {s}.customers (email) SELECT 'u' || g || '@x.test' FROM generate_series(1, 50) g;
INSERT INTO {s}.orders (customer_id, total) SELECT 1 + g % 50, g FROM generate_series(1, 300) g;
INSERT INTO {s}.order_items SELECT o, l, l FROM generate_series(1, 300) o, generate_series(1, 2) l;
INSERT INTO {s}.events (customer_id, kind, occurred_at)
    SELECT 1 + g % 50, 'view', timestamptz '2024-06-01' + g * interval '1 day' FROM generate_series(1, 600) g;
ANALYZE;
"""


@pytest.fixture
async def shop(admin: asyncpg.Connection) -> AsyncIterator[str]:
    name = f"dbs_test_{secrets.token_hex(4)}"
    await admin.execute(SHOP.format(s=name))
    try:
        yield name
    finally:
        await admin.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")


async def plan_live(adapter: PostgresAdapter, schema: str, change: str, **kwargs: Any) -> MigrationPlan:
    catalog = await adapter.introspect(schema=schema)
    version = await adapter.server_version()
    return plan_migration(change, catalog=catalog, version=version, **kwargs)


async def run_step(conn: asyncpg.Connection, step: MigrationStep) -> None:
    if step.kind == "script":
        await _run_batches(conn, step.sql[0])
        return
    for statement in step.sql:
        await conn.execute(statement)


async def _run_batches(conn: asyncpg.Connection, batch_sql: str) -> None:
    """The backfill script's loop: each batch after the last key of the one before, until a batch finds no rows."""
    keys = batch_sql.count("::text::")
    last: list[str] = ["-2147483648"] * keys  # the keys here are integer
    for _ in range(10_000):
        row = await conn.fetchrow(batch_sql, *last)
        assert row is not None
        if row["rows"] == 0:
            return
        last = [str(value) for value in list(row.values())[1:]]
    raise AssertionError("the backfill did not finish")


async def run_plan(conn: asyncpg.Connection, plan: MigrationPlan) -> None:
    for step in plan.steps:
        if step.kind in ("deploy",):
            continue
        try:
            await run_step(conn, step)
        except asyncpg.PostgresError as exc:
            if conn.is_in_transaction():
                await conn.execute("ROLLBACK")
            raise AssertionError(f"step {step.number} ({step.title}) failed: {exc}\n" + "\n".join(step.sql)) from exc


async def column_type(conn: asyncpg.Connection, schema: str, table: str, column: str) -> str:
    return str(
        await conn.fetchval(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = $1::regclass AND attname = $2",
            f"{schema}.{table}",
            column,
        )
    )


async def test_int_to_bigint_primary_key_plan_runs_and_fixes_the_overflow(
    admin: asyncpg.Connection, adapter: PostgresAdapter, shop: str
) -> None:
    plan = await plan_live(adapter, shop, f"ALTER TABLE {shop}.orders ALTER COLUMN id TYPE bigint;")
    await run_plan(admin, plan)

    assert await column_type(admin, shop, "orders", "id") == "bigint"
    assert await column_type(admin, shop, "order_items", "order_id") == "bigint"  # the referencing column too
    seq = await admin.fetchrow(
        "SELECT s.seqtypid::regtype::text AS type, s.seqmax, d.refobjsubid FROM pg_sequence s "
        "JOIN pg_depend d ON d.objid = s.seqrelid AND d.deptype = 'a' WHERE s.seqrelid = $1::regclass",
        f"{shop}.orders_id_seq",
    )
    assert seq["type"] == "bigint" and seq["seqmax"] == 9223372036854775807
    owner = await admin.fetchval(
        "SELECT attname FROM pg_attribute WHERE attrelid = $1::regclass AND attnum = $2", f"{shop}.orders", seq[2]
    )
    assert owner == "id"
    fk = await admin.fetchrow(
        "SELECT convalidated, confdeltype, pg_get_constraintdef(oid) AS def FROM pg_constraint "
        "WHERE conrelid = $1::regclass AND contype = 'f'",
        f"{shop}.order_items",
    )
    assert fk["convalidated"] and fk["confdeltype"] == b"c"  # ON DELETE CASCADE kept
    old_columns = await admin.fetchval(
        "SELECT count(*) FROM pg_attribute WHERE attrelid IN ($1::regclass, $2::regclass) AND attname LIKE '%_old' "
        "AND NOT attisdropped",
        f"{shop}.orders",
        f"{shop}.order_items",
    )
    assert old_columns == 0
    # New rows past the integer range work end to end.
    await admin.execute(f"SELECT setval('{shop}.orders_id_seq', 3000000000)")
    new_id = await admin.fetchval(f"INSERT INTO {shop}.orders (customer_id, total) VALUES (1, 1) RETURNING id")
    assert new_id > 2**31
    await admin.execute(f"INSERT INTO {shop}.order_items (order_id, line_no, qty) VALUES ($1, 1, 1)", new_id)
    assert await admin.fetchval(f"SELECT count(*) FROM {shop}.orders") == 301
    assert await admin.fetchval(f"SELECT count(*) FROM {shop}.order_items") == 601
    assert "avoids" not in plan.summary or "MIG204" not in plan.counts


async def test_int_to_bigint_identity_primary_key_plan_runs(
    admin: asyncpg.Connection, adapter: PostgresAdapter, shop: str
) -> None:
    plan = await plan_live(adapter, shop, f"ALTER TABLE {shop}.tickets ALTER COLUMN id TYPE bigint;")
    await run_plan(admin, plan)

    assert await column_type(admin, shop, "tickets", "id") == "bigint"
    identity = await admin.fetchval(
        "SELECT attidentity FROM pg_attribute WHERE attrelid = $1::regclass AND attname = 'id'", f"{shop}.tickets"
    )
    assert identity == b"a"
    new_id = await admin.fetchval(f"INSERT INTO {shop}.tickets (note) VALUES ('x') RETURNING id")
    assert new_id == 101  # continues after the existing values


async def test_index_on_partitioned_table_is_built_per_partition_and_attached(
    admin: asyncpg.Connection, adapter: PostgresAdapter, shop: str
) -> None:
    for change in (
        f"CREATE INDEX events_kind_idx ON {shop}.events (kind);",
        f"CREATE INDEX CONCURRENTLY events_cust_idx ON {shop}.events (customer_id);",
    ):
        plan = await plan_live(adapter, shop, change)
        assert not any("CONCURRENTLY" in sql and f"{shop}.events " in sql for s in plan.steps for sql in s.sql)
        await run_plan(admin, plan)
    valid = await admin.fetch(
        "SELECT c.relname, i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "WHERE i.indrelid = $1::regclass AND c.relname IN ('events_kind_idx', 'events_cust_idx')",
        f"{shop}.events",
    )
    assert sorted((r["relname"], r["indisvalid"]) for r in valid) == [
        ("events_cust_idx", True),
        ("events_kind_idx", True),
    ]
    attached = await admin.fetchval(
        "SELECT count(*) FROM pg_inherits WHERE inhparent = $1::regclass", f"{shop}.events_kind_idx"
    )
    assert attached == 3


async def test_foreign_key_on_partitioned_table_goes_through_the_partitions(
    admin: asyncpg.Connection, adapter: PostgresAdapter, shop: str
) -> None:
    plan = await plan_live(
        adapter,
        shop,
        f"ALTER TABLE {shop}.events ADD CONSTRAINT ev_fk2 FOREIGN KEY (customer_id) REFERENCES {shop}.customers (id);",
    )
    assert not any(f"{shop}.events ADD" in sql and "NOT VALID" in sql for s in plan.steps for sql in s.sql)
    await run_plan(admin, plan)
    rows = await admin.fetch(
        "SELECT conrelid::regclass::text AS rel, convalidated, conparentid <> 0 AS inherited FROM pg_constraint "
        "WHERE conname = 'ev_fk2' ORDER BY 1"
    )
    assert [(r["rel"].rsplit(".", 1)[-1], r["convalidated"], r["inherited"]) for r in rows] == [
        ("events", True, False),
        ("events_2024", True, True),
        ("events_2025", True, True),
        ("events_default", True, True),
    ]
