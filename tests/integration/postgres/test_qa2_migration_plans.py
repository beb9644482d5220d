"""Second PostgreSQL QA pass, migrations: the fixes and plans run as written on the real server.

- a backfill on a table with no primary key (batches by heap page ranges, not by a made-up `id`);
- MIG001 / MIG008 fixes on a partitioned table (CONCURRENTLY and NOT VALID are refused on the parent);
- MIG032's fix for ADD PRIMARY KEY re-runs without touching the key, even once foreign keys reference it;
- LOCK TABLE outside a transaction block is an error (MIG055).
"""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest

from dbspecialist.adapters.postgres import PostgresAdapter
from dbspecialist.knowledge.migrations.lint import lint_migration
from dbspecialist.knowledge.migrations.model import MigrationPlan
from dbspecialist.knowledge.migrations.plan import plan_migration

pytestmark = pytest.mark.integration

TABLES = """
CREATE TABLE {s}.customers (id bigserial PRIMARY KEY, email text NOT NULL);
INSERT INTO {s}.customers (email) SELECT 'u' || g || '@x.test' FROM generate_series(1, 50) g;
CREATE TABLE {s}.audit_log (msg text, at timestamp);
INSERT INTO {s}.audit_log SELECT 'message ' || g, timestamp '2024-01-01' + g * interval '1 minute'
    FROM generate_series(1, 30000) g;
INSERT INTO {s}.audit_log VALUES ('no time', NULL);
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
INSERT INTO {s}.events (customer_id, kind, occurred_at)
    SELECT 1 + g % 50, 'view', timestamptz '2024-06-01' + g * interval '1 day' FROM generate_series(1, 600) g;
ANALYZE;
"""


async def plan_live(adapter: PostgresAdapter, schema: str, change: str) -> MigrationPlan:
    catalog = await adapter.introspect(schema=schema)
    return plan_migration(change, catalog=catalog, version=await adapter.server_version())


async def run_ctid_batches(conn: asyncpg.Connection, first_sql: str, next_sql: str) -> int:
    """The backfill script's loop for page-range batches: until a batch says no pages remain."""
    row = await conn.fetchrow(first_sql)
    done, batches = 0, 0
    while row is not None:
        done, batches = done + row["rows"], batches + 1
        if not row["more"]:
            return batches
        row = await conn.fetchrow(next_sql, row["last_page"])
        assert batches < 10_000, "the backfill did not finish"
    raise AssertionError("a batch returned no row")


async def test_backfill_of_a_table_without_a_key_runs_and_converts_every_row(
    admin: asyncpg.Connection, adapter: PostgresAdapter, schema: str
) -> None:
    await admin.execute(TABLES.format(s=schema))
    plan = await plan_live(adapter, schema, f"ALTER TABLE {schema}.audit_log ALTER COLUMN at TYPE timestamptz;")
    batch_step = next(s for s in plan.steps if s.phase == "backfill")
    assert "ctid" in batch_step.sql[0] and " id " not in batch_step.sql[0]
    assert plan.backfill_script is not None
    namespace: dict[str, Any] = {}
    exec(plan.backfill_script.split("\n", 1)[1].split("async def wait_for_replicas")[0], namespace)  # constants only
    for step in plan.steps:
        if step.phase == "backfill":
            batches = await run_ctid_batches(admin, namespace["FIRST_BATCH"], namespace["NEXT_BATCH"])
            assert batches > 1  # ~200 pages: several ranges
            assert await admin.fetchval(namespace["STILL_PENDING"]) == 0
            continue
        if step.kind == "deploy":
            continue
        for statement in step.sql:
            await admin.execute(statement)
    column_type = await admin.fetchval(
        "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = $1::regclass AND attname = 'at'",
        f"{schema}.audit_log",
    )
    assert column_type == "timestamp with time zone"
    assert await admin.fetchval(f"SELECT count(*) FROM {schema}.audit_log WHERE at IS NULL") == 1
    assert await admin.fetchval(f"SELECT count(*) FROM {schema}.audit_log") == 30001


async def test_partitioned_index_and_foreign_key_fixes_run_as_written(
    admin: asyncpg.Connection, adapter: PostgresAdapter, schema: str
) -> None:
    await admin.execute(TABLES.format(s=schema))
    plan = await plan_live(
        adapter,
        schema,
        f"CREATE INDEX events_kind_idx ON {schema}.events (kind);\n"
        f"ALTER TABLE {schema}.events ADD CONSTRAINT ev_fk2 FOREIGN KEY (customer_id) "
        f"REFERENCES {schema}.customers (id);",
    )
    fixes = {f.rule_id: f.fix for f in plan.findings if f.rule_id in ("MIG001", "MIG008")}
    for rule_id in ("MIG001", "MIG008"):
        fix = fixes[rule_id]
        assert fix is not None
        for statement in fix.statements:  # autocommit, one by one, as a person would run them
            await admin.execute(statement)
    valid = await admin.fetchval(
        "SELECT indisvalid FROM pg_index WHERE indexrelid = $1::regclass", f"{schema}.events_kind_idx"
    )
    assert valid is True
    fks = await admin.fetch(
        "SELECT conrelid::regclass::text AS t, convalidated FROM pg_constraint WHERE conname = 'ev_fk2' "
        "AND connamespace = $1::regnamespace ORDER BY 1",
        schema,
    )
    assert len(fks) == 4 and all(r["convalidated"] for r in fks)  # the parent and its three partitions


async def test_robust_add_primary_key_fix_reruns_without_rebuilding_the_key(
    admin: asyncpg.Connection, schema: str
) -> None:
    await admin.execute(f"CREATE TABLE {schema}.items (id int NOT NULL, name text)")
    await admin.execute(f"INSERT INTO {schema}.items SELECT g, 'n' FROM generate_series(1, 100) g")
    sql = f"ALTER TABLE {schema}.items ADD PRIMARY KEY (id);\nSELECT 1;"
    fix = next(f.fix for f in lint_migration(sql, "postgres", "15").findings if f.rule_id == "MIG032")
    assert fix is not None
    for statement in fix.statements:
        await admin.execute(statement)
    index_before = await admin.fetchval("SELECT $1::regclass::oid", f"{schema}.items_pkey")
    await admin.execute(f"CREATE TABLE {schema}.item_tags (item_id int REFERENCES {schema}.items (id))")
    for statement in fix.statements:  # the re-run: a no-op, even with a foreign key on the key
        await admin.execute(statement)
    assert await admin.fetchval("SELECT $1::regclass::oid", f"{schema}.items_pkey") == index_before


async def test_lock_table_outside_a_transaction_block_is_an_error(admin: asyncpg.Connection, schema: str) -> None:
    with pytest.raises(asyncpg.PostgresError, match="LOCK TABLE can only be used in transaction blocks"):
        await admin.execute(f"LOCK TABLE {schema}.t IN ACCESS EXCLUSIVE MODE")
