"""PostgreSQL fixtures: the server check, a private schema per test, a data checksum."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Iterator
from typing import Any

import asyncpg
import pytest

from dbspecialist.adapters.postgres import PostgresAdapter
from dbspecialist.config import ConnectionConfig, ConnectionOptions, parse_connection
from tests.integration.servers import require_server

PG_HOST = "127.0.0.1"
PG_PORT = int(os.environ.get("DBSPECIALIST_TEST_PG_PORT", "5432"))
PG_URL = os.environ.get("DBSPECIALIST_TEST_PG_URL", f"postgresql://postgres@{PG_HOST}:{PG_PORT}/dbspecialist_test")

# Objects every test schema holds; {s} is the schema name.
SCHEMA_DDL = """
CREATE SCHEMA {s};
CREATE TABLE {s}.t (id int PRIMARY KEY, v text NOT NULL);
INSERT INTO {s}.t SELECT g, 'row ' || g FROM generate_series(1, 50) g;
CREATE TABLE {s}.child (id int PRIMARY KEY, t_id int REFERENCES {s}.t (id));
INSERT INTO {s}.child VALUES (1, 1), (2, 2);
CREATE SEQUENCE {s}.s;
CREATE MATERIALIZED VIEW {s}.m AS SELECT count(*) AS n FROM {s}.t;
CREATE FUNCTION {s}.evil() RETURNS int LANGUAGE sql VOLATILE AS 'INSERT INTO {s}.t VALUES (1000, ''evil'') RETURNING 1';
CREATE FUNCTION {s}.double_it(int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT $1 * 2';
CREATE PROCEDURE {s}.p() LANGUAGE sql AS 'DELETE FROM {s}.child';
"""


@pytest.fixture(scope="session", autouse=True)
def _postgres_reachable() -> None:
    require_server("PostgreSQL", PG_HOST, PG_PORT)


def pg_config(name: str = "pg", url: str = PG_URL, **options: Any) -> ConnectionConfig:
    return parse_connection(name, url, source="test", options=ConnectionOptions(**options))


@pytest.fixture
async def admin() -> AsyncIterator[asyncpg.Connection]:
    """A direct connection for setup and checks (never through the adapter)."""
    conn = await asyncpg.connect(PG_URL)
    try:
        yield conn
    finally:
        await conn.close()


@pytest.fixture
async def schema(admin: asyncpg.Connection) -> AsyncIterator[str]:
    name = f"dbs_test_{secrets.token_hex(4)}"
    await admin.execute(SCHEMA_DDL.format(s=name))
    try:
        yield name
    finally:
        await admin.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")


@pytest.fixture
async def adapter() -> AsyncIterator[PostgresAdapter]:
    pg = PostgresAdapter(pg_config())
    try:
        yield pg
    finally:
        await pg.close()


async def checksum(conn: asyncpg.Connection, schema: str) -> str:
    """md5 over every row of every table in `schema`, the list of its objects and its sequences' state."""
    tables = await conn.fetch(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = $1 AND c.relkind IN ('r', 'm') ORDER BY 1",
        schema,
    )
    parts = [
        str(
            await conn.fetchval(
                "SELECT string_agg(c.relname || ':' || c.relkind::text, ',' ORDER BY c.relname) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1",
                schema,
            )
        ),
        str(await conn.fetchval(f"SELECT last_value || ':' || is_called FROM {schema}.s")),
        str(await conn.fetchval("SELECT count(*) FROM pg_largeobject_metadata")),
    ]
    for (table,) in tables:
        parts.append(
            str(
                await conn.fetchval(
                    f"SELECT md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) FROM {schema}.{table} x"
                )
            )
        )
    return "/".join(parts)


@pytest.fixture
def hypothesis_runner() -> Iterator[Any]:
    import asyncio

    with asyncio.Runner() as runner:
        yield runner


@pytest.fixture
def pg_test_schema(hypothesis_runner: Any) -> Iterator[str]:
    """A private schema for sync (hypothesis) tests, built on the test's own event loop."""
    name = f"dbs_test_{secrets.token_hex(4)}"

    async def run(sql: str) -> None:
        conn = await asyncpg.connect(PG_URL)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    hypothesis_runner.run(run(SCHEMA_DDL.format(s=name)))
    try:
        yield name
    finally:
        hypothesis_runner.run(run(f"DROP SCHEMA IF EXISTS {name} CASCADE"))
