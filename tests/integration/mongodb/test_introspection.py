"""MongoDB catalog, plans, settings and statistics, and the MCP tools on a MongoDB connection."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from mcp import Client
from pymongo import MongoClient

from dbspecialist.adapters.mongodb import MongoAdapter
from dbspecialist.config import ConnectionSet
from dbspecialist.errors import QueryRefusedError
from dbspecialist.server.app import build_server
from dbspecialist.server.state import ServerState
from tests.integration.mongodb.conftest import mongo_conn, seed_shop

pytestmark = pytest.mark.integration

Admin = MongoClient[dict[str, Any]]


async def _emulated(adapter: MongoAdapter) -> bool:
    """SecantusDB's $indexStats has no index `spec`, so index options need one listIndexes per collection."""
    info = await adapter.run_read_only('{"buildInfo": 1}', max_rows=1, max_bytes=100_000, timeout_ms=2_000)
    return "secantusVersion" in info.columns


async def test_catalog_describes_collections_indexes_views_and_sampled_fields(
    mongo_uri: str, mongo_db: str, mongo_admin: Admin
) -> None:
    seed_shop(mongo_admin, mongo_db)
    adapter = MongoAdapter(mongo_conn(mongo_uri, mongo_db))
    try:
        catalog = await adapter.introspect()
        emulated = await _emulated(adapter)
    finally:
        await adapter.close()
    assert catalog.engine == "mongodb" and catalog.database == mongo_db and catalog.schemas == [mongo_db]
    assert [t.name for t in catalog.tables] == ["customers", "orders", "paid_orders"]
    assert catalog.round_trips == (3 + 2 if emulated else 3)  # listCollections + stats/indexes + sample (+ listIndexes)

    customers = catalog.table("customers")
    assert customers is not None and customers.kind == "collection"
    assert customers.validator == {"$jsonSchema": {"bsonType": "object", "required": ["email"]}}
    assert customers.options == {"validationLevel": "strict"}
    assert customers.primary_key is not None and customers.primary_key.columns == ["_id"]
    indexes = {i.name: i for i in customers.indexes}
    assert indexes["_id_"].primary and indexes["email_1"].unique and indexes["email_1"].columns == ["email"]
    assert indexes["loc_2dsphere"].columns == ["loc 2dsphere"] and indexes["loc_2dsphere"].method == "2dsphere"
    phone = next(c for c in customers.columns if c.name == "phone")
    assert phone.data_type == "string" and phone.nullable and phone.sample is not None
    assert phone.sample.presence_pct == 50.0
    assert [c.name for c in customers.columns if c.name.startswith("address")] == [
        "address",
        "address.city",
        "address.zip",
    ]

    orders = catalog.table("orders")
    assert orders is not None and orders.row_estimate == 300 and orders.row_estimate_source == "statistics"
    by_name = {i.name: i for i in orders.indexes}
    assert by_name["status_created"].columns == ["status", "created_at DESC"]
    assert by_name["paid_by_customer"].predicate is not None
    assert json.loads(by_name["paid_by_customer"].predicate) == {"status": "paid"}
    assert by_name["ttl_created"].ttl_seconds == 10 * 365 * 86400
    assert by_name["coupon_hidden"].sparse and orders.stats["hidden_indexes"] == ["coupon_hidden"]
    columns = {c.name: c for c in orders.columns}
    assert columns["total"].data_type == "decimal" and columns["created_at"].data_type == "date"
    items = columns["items"]
    assert items.data_type == "array" and items.sample is not None
    assert (items.sample.array_length_min, items.sample.array_length_max) == (0, 3)
    assert "items[].sku" in columns and "tags[]" in columns
    assert (
        orders.stats["sampled_documents"] == 100 and 0 < orders.stats["avg_bson_size"] <= orders.stats["max_bson_size"]
    )

    view = catalog.table("paid_orders")
    assert view is not None and view.kind == "view" and view.definition is not None
    assert json.loads(view.definition) == {"viewOn": "orders", "pipeline": [{"$match": {"status": "paid"}}]}


async def test_round_trips_follow_the_formula_and_tables_filter(
    mongo_uri: str, mongo_db: str, mongo_admin: Admin
) -> None:
    db = mongo_admin[mongo_db]
    for i in range(20):
        db[f"c{i:02d}"].insert_many([{"_id": j, "v": j} for j in range(5)])
    adapter = MongoAdapter(mongo_conn(mongo_uri, mongo_db))
    try:
        emulated = await _emulated(adapter)
        started = time.perf_counter()
        catalog = await adapter.introspect()
        elapsed = time.perf_counter() - started
        only_two = await adapter.introspect(tables=["c03", "c07"])
    finally:
        await adapter.close()
    print(f"\nmongo introspection of 20 collections: {elapsed * 1000:.1f} ms, {catalog.round_trips} round trips")
    assert len(catalog.tables) == 20 and all(t.row_estimate == 5 for t in catalog.tables)
    assert catalog.round_trips == (3 + 20 if emulated else 3)
    assert [t.name for t in only_two.tables] == ["c03", "c07"]
    assert only_two.round_trips == (3 + 2 if emulated else 3)


async def test_explain_settings_and_statistics(mongo_uri: str, mongo_db: str, mongo_admin: Admin) -> None:
    seed_shop(mongo_admin, mongo_db, orders=30)
    adapter = MongoAdapter(mongo_conn(mongo_uri, mongo_db))
    try:
        planned = await adapter.explain(
            '{"find": "customers", "filter": {"email": "c1@example.com"}}', timeout_ms=2_000
        )
        analyzed = await adapter.explain(
            '{"aggregate": "orders", "pipeline": [{"$match": {"status": "paid"}}]}', analyze=True, timeout_ms=2_000
        )
        with pytest.raises(QueryRefusedError, match="read-only guard"):
            await adapter.explain('{"delete": "orders", "deletes": [{"q": {}, "limit": 0}]}', timeout_ms=2_000)
        settings = await adapter.settings()
        stats = await adapter.statistics()
    finally:
        await adapter.close()
    assert planned.engine == "mongodb" and planned.format == "json" and not planned.analyzed
    assert "IXSCAN" in json.dumps(planned.plan["queryPlanner"]["winningPlan"])
    assert analyzed.analyzed and "executionStats" in json.dumps(analyzed.plan)
    assert settings and all(s.name and s.source for s in settings)
    assert any(s.source == "server parameter" for s in settings)
    assert stats["serverStatus"]["connections"]["current"] >= 1 and "opcounters" in stats["serverStatus"]
    assert stats["dbStats"]["db"] == mongo_db
    assert set(stats["collStats"]) == {"customers", "orders"} and stats["collStats"]["orders"]["count"] == 30


async def test_tools_work_on_a_mongodb_connection(mongo_uri: str, mongo_db: str, mongo_admin: Admin) -> None:
    seed_shop(mongo_admin, mongo_db, orders=30)
    config = mongo_conn(mongo_uri, mongo_db, name="docs")
    state = ServerState.from_connections(ConnectionSet({config.name: config}))
    try:
        async with Client(build_server(state)) as client:
            listed = await client.call_tool("list_connections", {})
            described = await client.call_tool("describe_schema", {"connection": "docs"})
            queried = await client.call_tool(
                "run_query", {"connection": "docs", "query": '{"find": "orders", "sort": {"_id": 1}}', "max_rows": 5}
            )
            refused = await client.call_tool(
                "run_query", {"connection": "docs", "query": '{"aggregate": "orders", "pipeline": [{"$out": "x"}]}'}
            )
    finally:
        await state.registry.close()
    [conn] = listed.structured_content["connections"]
    assert conn["engine"] == "mongodb" and conn["status"] == "ok" and conn["server_version"]
    assert {t["name"] for t in described.structured_content["tables"]} == {"customers", "orders", "paid_orders"}
    data = queried.structured_content
    assert data["engine"] == "mongodb" and data["row_count"] == 5 and data["truncated"] is True
    assert data["columns"][0] == "_id" and [r[0] for r in data["rows"]] == [0, 1, 2, 3, 4]
    assert refused.is_error and "$out writes" in " ".join(getattr(c, "text", "") for c in refused.content)
    assert "x" not in mongo_admin[mongo_db].list_collection_names()
