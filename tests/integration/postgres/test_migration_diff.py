"""diff_schemas against the server: a schema created from DDL reads back equal to parse_ddl of that DDL, and the
statements diffed towards a changed DDL run on the server and leave nothing to do."""

from __future__ import annotations

import secrets

import asyncpg
import pytest

from dbspecialist.adapters.postgres import PostgresAdapter
from dbspecialist.knowledge.ddl.dispatch import parse_ddl
from dbspecialist.knowledge.migrations.diff import diff_schemas

pytestmark = pytest.mark.integration

DDL = """
CREATE TYPE mood AS ENUM ('calm', 'busy');
CREATE TABLE customers (
    id serial PRIMARY KEY,
    email varchar(100) NOT NULL UNIQUE,
    nick character varying(10) DEFAULT 'anon',
    age int4 CHECK (age >= 0),
    vip bool DEFAULT false,
    joined timestamptz DEFAULT now(),
    seen timestamp(3),
    balance numeric(12, 2) DEFAULT -1,
    tags text[] DEFAULT '{}',
    state mood DEFAULT 'calm',
    "user" text,
    name_len int GENERATED ALWAYS AS (length(nick)) STORED
);
CREATE TABLE orders (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id int NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    placed date DEFAULT '2024-01-01',
    note varchar(20)
);
CREATE INDEX orders_customer_idx ON orders (customer_id, placed DESC);
CREATE UNIQUE INDEX orders_note_lower ON orders (lower(note)) WHERE note IS NOT NULL;
CREATE INDEX customers_user_idx ON customers ("user");
"""

CHANGED = (
    DDL.replace("nick character varying(10) DEFAULT 'anon'", "nick character varying(30) NOT NULL DEFAULT ''")
    .replace("age int4 CHECK (age >= 0)", "age bigint CHECK (age >= 18)")
    .replace("    note varchar(20)\n", "    note varchar(40),\n    shipped boolean NOT NULL DEFAULT false\n")
    .replace('CREATE INDEX customers_user_idx ON customers ("user");', "CREATE INDEX customers_vip ON customers (vip);")
)


async def test_live_catalog_equals_its_ddl_and_diffs_apply(admin: asyncpg.Connection, adapter: PostgresAdapter) -> None:
    schema = f"dbs_diff_{secrets.token_hex(4)}"
    await admin.execute(f"CREATE SCHEMA {schema}")
    try:
        await admin.execute(f"SET search_path = {schema}; {DDL}")
        live = await adapter.introspect(schema=schema)
        assert {t.name for t in live.tables} == {"customers", "orders"}
        assert diff_schemas(live, parse_ddl(DDL, "postgres").catalog, "postgres") == []

        target = parse_ddl(CHANGED, "postgres").catalog
        statements = diff_schemas(live, target, "postgres")
        assert statements == [
            f"ALTER TABLE {schema}.orders ADD COLUMN shipped boolean DEFAULT false NOT NULL",
            f"ALTER TABLE {schema}.customers DROP COLUMN name_len",  # it reads nick, which changes type
            f"ALTER TABLE {schema}.customers ALTER COLUMN nick TYPE character varying(30)",
            f"ALTER TABLE {schema}.customers ALTER COLUMN nick SET DEFAULT ''",
            f"ALTER TABLE {schema}.customers ALTER COLUMN nick SET NOT NULL",
            f"ALTER TABLE {schema}.customers ALTER COLUMN age TYPE bigint",
            f"ALTER TABLE {schema}.customers ADD COLUMN name_len integer GENERATED ALWAYS AS (length(nick)) STORED",
            f"ALTER TABLE {schema}.orders ALTER COLUMN note TYPE character varying(40)",
            f"CREATE INDEX customers_vip ON {schema}.customers (vip)",
            f"ALTER TABLE {schema}.customers DROP CONSTRAINT customers_age_check",
            f"ALTER TABLE {schema}.customers ADD CONSTRAINT customers_age_check CHECK (age >= 18)",
            f"DROP INDEX {schema}.customers_user_idx",
        ]
        for statement in statements:
            await admin.execute(statement)
        after = await adapter.introspect(schema=schema)
        assert diff_schemas(after, target, "postgres") == []
    finally:
        await admin.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
