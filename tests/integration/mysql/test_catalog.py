"""Introspection in a fixed number of round trips; explain, settings, statistics; the MCP tools."""

from __future__ import annotations

from typing import Any

import pytest
from mcp import Client

from dbspecialist.adapters.mysql import MySQLAdapter
from dbspecialist.errors import QueryRefusedError
from dbspecialist.server.app import build_server
from dbspecialist.server.state import ServerState
from tests.helpers import connection_set
from tests.integration.mysql.conftest import create_database, drop_database, make_config

pytestmark = pytest.mark.integration


async def test_catalog_of_the_shop(mysql_db: str) -> None:
    adapter = MySQLAdapter(make_config(mysql_db))
    try:
        catalog = await adapter.introspect()
        assert adapter.flavor in ("mariadb", "mysql")
    finally:
        await adapter.close()
    assert catalog.engine == "mysql" and catalog.database == mysql_db and catalog.round_trips == 9
    customers, orders = catalog.table("customers"), catalog.table("orders")
    events, view = catalog.table("events"), catalog.table("big_orders")
    assert customers and orders and events and view
    cols = {c.name: c for c in customers.columns}
    assert cols["id"].identity == "by default" and not cols["id"].nullable
    assert cols["name"].comment == "display name" and cols["email"].collation == "utf8mb4_bin"
    assert cols["status"].default in ("'new'", "new") and cols["email"].default is None
    assert cols["name_upper"].generated and "`name`" in cols["name_upper"].generated
    assert cols["name_upper"].generated_kind == "virtual" and cols["name"].generated_kind is None
    assert customers.primary_key and customers.primary_key.columns == ["id"]
    assert [u.columns for u in customers.unique_constraints] == [["email"]]
    indexes = {i.name: i for i in customers.indexes}
    assert indexes["ix_name_prefix"].columns == ["name(10)"] and indexes["ix_name_prefix"].method == "btree"
    assert any(c.name == "ck_status" and "active" in c.expression for c in customers.check_constraints)
    assert customers.options["engine"] == "InnoDB" and customers.comment == "people who buy"
    assert customers.row_estimate is not None and customers.stats["auto_increment"] == 4
    [fk] = orders.foreign_keys
    assert (fk.name, fk.columns, fk.ref_table, fk.ref_columns) == (
        "fk_orders_customer",
        ["customer_id"],
        "customers",
        ["id"],
    )
    assert fk.on_delete == "cascade" and fk.on_update == "restrict"
    assert {i.name: i.columns for i in orders.indexes}["ix_customer_created"] == ["customer_id", "created DESC"]
    assert [t.name for t in orders.triggers] == ["trg_orders_ai"] and orders.triggers[0].timing == "AFTER"
    assert events.kind == "partitioned_table" and events.partition_key and "happened" in events.partition_key
    assert [p["name"] for p in events.stats["partitions"]] == ["p2023", "pmax"]
    assert view.kind == "view" and view.definition and "total" in view.definition
    assert any(i.size_bytes for i in orders.indexes)  # from mysql.innodb_index_stats


async def test_round_trips_do_not_grow_with_the_catalog(mysql_server: None) -> None:
    small = create_database("CREATE TABLE a (id INT PRIMARY KEY)")
    many = "\n;\n".join(
        f"CREATE TABLE t{i} (id INT PRIMARY KEY, p INT, KEY ix_p (p), FOREIGN KEY (p) REFERENCES t{max(i - 1, 0)} (id))"
        for i in range(40)
    )
    large = create_database(many)
    try:
        trips = []
        for db in (small, large):
            adapter = MySQLAdapter(make_config(db))
            try:
                catalog = await adapter.introspect()
                only = await adapter.introspect(tables=["t3"]) if db == large else None
            finally:
                await adapter.close()
            trips.append(catalog.round_trips)
        assert len(catalog.tables) == 40 and only is not None and [t.name for t in only.tables] == ["t3"]
        assert trips[0] == trips[1]
    finally:
        drop_database(small)
        drop_database(large)


async def test_explain_settings_statistics(mysql_db: str) -> None:
    adapter = MySQLAdapter(make_config(mysql_db))
    try:
        plain = await adapter.explain("SELECT * FROM orders WHERE customer_id = 1", timeout_ms=5_000)
        analyzed = await adapter.explain("SELECT * FROM orders", analyze=True, timeout_ms=5_000)
        with pytest.raises(QueryRefusedError):
            await adapter.explain("DELETE FROM orders", analyze=True, timeout_ms=5_000)
        settings = {s.name: s for s in await adapter.settings()}
        stats = await adapter.statistics()
        count = await adapter.run_read_only("SELECT COUNT(*) FROM orders", max_rows=1, max_bytes=1000, timeout_ms=1000)
    finally:
        await adapter.close()
    assert plain.format == "json" and not plain.analyzed and "query_block" in plain.plan
    assert analyzed.analyzed and (analyzed.format == "text" or "r_total_time_ms" in str(analyzed.plan))
    assert settings["wait_timeout"].unit == "s" and settings["innodb_buffer_pool_size"].unit == "B"
    assert settings["max_connections"].value and int(settings["max_connections"].value) > 0
    assert stats["global_status"]["Uptime"] > 0 and isinstance(stats["innodb_metrics"], dict)
    assert sum(stats["processlist"]["by_command"].values()) >= 1
    assert count.rows == [[3]]


async def test_mcp_tools_work_on_mysql(mysql_db: str) -> None:
    config = make_config(mysql_db, "shop")
    state = ServerState.from_connections(connection_set(config))
    try:
        async with Client(build_server(state)) as client:
            listed: Any = await client.call_tool("list_connections", {})
            described: Any = await client.call_tool("describe_schema", {"connection": "shop"})
            queried: Any = await client.call_tool(
                "run_query", {"connection": "shop", "query": "SELECT id FROM orders ORDER BY id", "max_rows": 2}
            )
            refused: Any = await client.call_tool("run_query", {"connection": "shop", "query": "DROP TABLE orders"})
    finally:
        await state.registry.close()
    [conn] = listed.structured_content["connections"]
    assert conn["engine"] == "mysql" and conn["status"] == "ok" and conn["server_version"]
    assert {t["name"] for t in described.structured_content["tables"]} >= {"customers", "orders", "big_orders"}
    assert queried.structured_content["rows"] == [[1], [2]] and queried.structured_content["truncated"] is True
    assert refused.is_error and "read-only guard" in " ".join(getattr(c, "text", "") for c in refused.content)
