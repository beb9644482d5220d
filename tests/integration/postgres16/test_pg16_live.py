"""The tools on PostgreSQL 16 over a Unix socket: generic plans of `$n` text, the index advisor and top queries
without their extensions, health and introspection on 16's catalogs."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest

from dbspecialist.config import ConnectionConfig
from tests.helpers import call_tool, result_text

pytestmark = pytest.mark.integration

SCHEMA = """
DROP SCHEMA IF EXISTS shop CASCADE;
CREATE SCHEMA shop;
CREATE TABLE shop.customers (id int PRIMARY KEY, email text NOT NULL UNIQUE);
CREATE TABLE shop.orders (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id int NOT NULL REFERENCES shop.customers (id),
    status text NOT NULL DEFAULT 'new',
    total numeric(10, 2)
);
CREATE INDEX orders_customer ON shop.orders (customer_id);
INSERT INTO shop.customers SELECT g, 'c' || g || '@example.com' FROM generate_series(1, 2000) g;
INSERT INTO shop.orders (customer_id, status, total)
    SELECT 1 + g % 2000, (ARRAY['new', 'paid', 'sent'])[1 + g % 3], g % 500 FROM generate_series(1, 30000) g;
ANALYZE;
"""


@pytest.fixture
async def pg(pg16: ConnectionConfig, pg16_admin: asyncpg.Connection) -> ConnectionConfig:
    """The PostgreSQL 16 connection, with the shop schema freshly made."""
    await pg16_admin.execute(SCHEMA)
    return pg16


async def call(config: ConnectionConfig, tool: str, args: dict[str, Any]) -> Any:
    return await call_tool([config], tool, args)


text = result_text


async def structured(config: ConnectionConfig, tool: str, args: dict[str, Any]) -> dict[str, Any]:
    result = await call(config, tool, args)
    assert not result.is_error, text(result)
    assert result.structured_content is not None
    return dict(result.structured_content)


async def test_socket_connection_lists_version_16(pg: ConnectionConfig) -> None:
    (conn,) = (await structured(pg, "list_connections", {}))["connections"]
    assert conn["status"] == "ok" and conn["server_version"].startswith("16.")
    assert "host=/" in conn["url"]


async def test_parameterised_text_gets_its_generic_plan(pg: ConnectionConfig) -> None:
    # The text pg_stat_statements records: on 16 this once failed ("the server expects 1 argument").
    out = await structured(
        pg, "explain_query", {"connection": "pg16", "sql": "SELECT * FROM shop.orders WHERE customer_id = $1"}
    )
    lines = [node["line"] for node in out["compact"]]
    # The generic estimate: 30,000 orders over 2,000 distinct customers, whatever value $1 takes.
    assert lines == [
        "Bitmap Heap Scan on orders (cost 4.40..52.0; rows est 15)",
        "Bitmap Index Scan on orders_customer (cost 0..4.40; rows est 15)",
    ]


async def test_analyze_of_parameterised_text_is_refused_with_the_reason(pg: ConnectionConfig) -> None:
    result = await call(
        pg,
        "explain_query",
        {"connection": "pg16", "sql": "SELECT * FROM shop.orders WHERE customer_id = $1", "analyze": True},
    )
    assert result.is_error and "put real values in place of the parameters" in text(result)


async def test_describe_schema_reads_16s_catalogs(pg: ConnectionConfig) -> None:
    out = await structured(pg, "describe_schema", {"connection": "pg16", "schema": "shop", "detail": "full"})
    tables = {t["name"]: t for t in out["details"]}
    assert set(tables) == {"customers", "orders"}
    orders = tables["orders"]
    columns = {c["name"]: c for c in orders["columns"]}
    assert columns["id"]["identity"] == "always"
    assert columns["status"]["default"] == "'new'::text"
    assert [(fk["ref_table"], fk["validated"]) for fk in orders["foreign_keys"]] == [("customers", True)]
    assert {i["name"] for i in orders["indexes"]} == {"orders_pkey", "orders_customer"}


async def test_index_advisor_without_hypopg_says_how_to_verify(pg: ConnectionConfig) -> None:
    out = await structured(
        pg, "recommend_indexes", {"connection": "pg16", "queries": ["SELECT * FROM shop.orders WHERE status = $1"]}
    )
    (rec,) = out["recommendations"]
    assert rec["columns"] == ["status"] and rec["verified"] is False
    assert "CREATE EXTENSION hypopg" in rec["reason"]


async def test_top_queries_without_pg_stat_statements_gives_the_steps_to_enable_it(pg: ConnectionConfig) -> None:
    out = await structured(pg, "top_queries", {"connection": "pg16"})
    assert out["available"] is False and out["queries"] == []
    steps = " ".join(out["enable"])
    assert "shared_preload_libraries = 'pg_stat_statements'" in steps and "CREATE EXTENSION pg_stat_statements" in steps


async def test_health_runs_every_check_on_16(pg: ConnectionConfig) -> None:
    out = await structured(pg, "check_health", {"connection": "pg16"})
    assert out["server_version"].startswith("16.")
    assert out["skipped"] == {}
    assert {"checkpoints", "wraparound", "unused_indexes", "blocking_locks"} <= set(out["checks_run"])
    assert out["metrics"]["connections_used"] >= 1


async def test_run_query_read_only_framing_holds_on_16(pg: ConnectionConfig, pg16_admin: asyncpg.Connection) -> None:
    await pg16_admin.execute(
        "CREATE FUNCTION shop.sneaky() RETURNS int LANGUAGE sql VOLATILE AS 'DELETE FROM shop.orders RETURNING 1'"
    )
    refused = await call(pg, "run_query", {"connection": "pg16", "query": "SELECT shop.sneaky()"})
    assert refused.is_error
    ran = await structured(pg, "run_query", {"connection": "pg16", "query": "SELECT count(*) FROM shop.orders"})
    assert ran["rows"] == [[30000]]
