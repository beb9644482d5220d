"""QA pass 2 (MongoDB, live on SecantusDB): collated indexes are introspected and not called redundant;
recommend_indexes knows reversed and reordered existing indexes and a $or's unindexed branch; explain reports a
$or scanned whole."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from mcp import Client
from pymongo import MongoClient

from dbspecialist.config import ConnectionSet
from dbspecialist.server.app import build_server
from dbspecialist.server.state import ServerState
from tests.integration.mongodb.conftest import mongo_conn

pytestmark = pytest.mark.integration

Admin = MongoClient[dict[str, Any]]
BASE = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


def _seed(client: Admin, database: str) -> None:
    db = client[database]
    db.items.insert_many([{"cat": f"c{i % 7}", "n": i} for i in range(200)])
    db.items.create_index("cat", name="cat_1")
    db.items.create_index("cat", name="cat_again", collation={"locale": "fr"})
    db.orders.insert_many(
        [
            {
                "user_id": i % 400,
                "status": ["paid", "new", "shipped"][i % 3],
                "total": float(i % 500),
                "created_at": BASE + dt.timedelta(minutes=i),
            }
            for i in range(2_000)
        ]
    )
    db.orders.create_index("created_at", name="ttl_created", expireAfterSeconds=10 * 365 * 86400)
    db.orders.create_index([("status", 1), ("created_at", -1)], name="status_1_created_at_-1")
    db.orders.create_index("user_id", name="uid")


async def _call(uri: str, database: str, tool: str, args: dict[str, Any]) -> dict[str, Any]:
    config = mongo_conn(uri, database, name="m")
    state = ServerState.from_connections(ConnectionSet({config.name: config}))
    try:
        async with Client(build_server(state)) as client:
            result = await client.call_tool(tool, {"connection": "m", **args})
    finally:
        await state.registry.close()
    assert not result.is_error and result.structured_content is not None, result.content
    return dict(result.structured_content)


async def test_collated_index_is_introspected_and_not_redundant(
    mongo_uri: str, mongo_db: str, mongo_admin: Admin
) -> None:
    _seed(mongo_admin, mongo_db)
    described = await _call(mongo_uri, mongo_db, "review_schema", {"min_severity": "info"})
    assert [f for f in described["findings"] if f["rule_id"] == "SCH075"] == []

    from dbspecialist.adapters.mongodb import MongoAdapter

    adapter = MongoAdapter(mongo_conn(mongo_uri, mongo_db))
    try:
        catalog = await adapter.introspect()
    finally:
        await adapter.close()
    items = catalog.table("items")
    assert items is not None
    by_name = {i.name: i for i in items.indexes}
    assert by_name["cat_1"].collation is None
    assert (by_name["cat_again"].collation or {}).get("locale") == "fr"


async def test_recommend_indexes_knows_existing_indexes_and_or_branches(
    mongo_uri: str, mongo_db: str, mongo_admin: Admin
) -> None:
    _seed(mongo_admin, mongo_db)
    queries = [
        json.dumps({"find": "orders", "filter": {}, "sort": {"created_at": -1}, "limit": 10}),
        json.dumps(
            {"find": "orders", "filter": {"status": "paid", "created_at": {"$gte": {"$date": "2024-01-02T00:00:00Z"}}}}
        ),
        json.dumps({"find": "orders", "filter": {"$or": [{"user_id": 5}, {"total": {"$lt": 2}}]}}),
    ]
    advice = await _call(mongo_uri, mongo_db, "recommend_indexes", {"queries": queries})
    assert [r["ddl"] for r in advice["recommendations"]] == ['db.orders.createIndex({"total": 1})']


async def test_explain_reports_an_or_scanned_whole(mongo_uri: str, mongo_db: str, mongo_admin: Admin) -> None:
    _seed(mongo_admin, mongo_db)
    query = json.dumps({"find": "orders", "filter": {"$or": [{"user_id": 5}, {"total": {"$lt": 2}}]}})
    plan = await _call(mongo_uri, mongo_db, "explain_query", {"sql": query, "analyze": True})
    [finding] = [f for f in plan["findings"] if f["rule_id"] == "PLN060"]
    assert 'db.orders.createIndex({"total": 1})' in finding["fix"]["statements"]
