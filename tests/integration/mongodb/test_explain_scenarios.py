"""A real EXPLAIN scenario on MongoDB (SecantusDB): an unindexed filter, flagged as COLLSCAN and fixed.

explain_query runs the find with executionStats through the in-memory MCP client on a read-only
connection; the suggested createIndex is then applied for real with pymongo and the plan re-checked.
"""

from __future__ import annotations

import json
from typing import Any

from mcp import Client
from pymongo import MongoClient

from dbspecialist.adapters.mongodb import MongoAdapter
from dbspecialist.server.app import build_server
from dbspecialist.server.state import ServerState
from tests.helpers import connection_set
from tests.integration.mongodb.conftest import mongo_conn

DOCS = 5_000  # SecantusDB scans in Python: small, but well above PLN060's 1,000-document floor
CUSTOMERS = 250
IMPROVEMENT = 10.0  # brief: docsExamined drops at least 10x once the index exists

FIND = {"find": "orders", "filter": {"customer_id": 42}}

# The MCP SDK pre-parses JSON-looking text into a dict whenever a parameter is not typed exactly `str`;
# explain_query accepts the dict and turns it back into the command text. The scenario below pastes the plan
# the read-only adapter produced; the test after it sends the command itself as `sql`.


async def _call(uri: str, database: str, args: dict[str, Any]) -> dict[str, Any]:
    state = ServerState.from_connections(connection_set(mongo_conn(uri, database)))
    try:
        async with Client(build_server(state)) as client:
            result = await client.call_tool("explain_query", args)
    finally:
        await state.registry.close()
    assert not result.is_error, " ".join(getattr(c, "text", "") for c in result.content)
    assert isinstance(result.structured_content, dict)
    return result.structured_content


async def _explain(uri: str, database: str) -> dict[str, Any]:
    """explain_query on the plan the read-only adapter's explain (executionStats) returns."""
    adapter = MongoAdapter(mongo_conn(uri, database))
    try:
        raw = (await adapter.explain(json.dumps(FIND), analyze=True, timeout_ms=10_000)).plan
    finally:
        await adapter.close()
    return await _call(uri, database, {"plan": raw, "engine": "mongodb"})


def _seed(client: MongoClient[dict[str, Any]], database: str) -> None:
    client[database].orders.insert_many(
        [
            {"_id": i, "customer_id": i % CUSTOMERS, "status": ["paid", "new"][i % 2], "total": i % 97}
            for i in range(DOCS)
        ]
    )


async def test_explain_query_takes_a_mongodb_command_as_sql(
    mongo_uri: str, mongo_db: str, mongo_admin: MongoClient[dict[str, Any]]
) -> None:
    _seed(mongo_admin, mongo_db)
    live = await _call(mongo_uri, mongo_db, {"sql": json.dumps(FIND), "connection": "m", "analyze": True})
    assert [f["subject"] for f in live["findings"] if f["rule_id"] == "PLN060"] == ["COLLSCAN on orders"]


def _stats(client: MongoClient[dict[str, Any]], database: str) -> dict[str, Any]:
    reply = client[database].command({"explain": FIND, "verbosity": "executionStats"})
    stats = reply["executionStats"]
    assert isinstance(stats, dict)
    return stats


def _stages(node: Any) -> list[str]:
    if not isinstance(node, dict):
        return []
    found = [node["stage"]] if "stage" in node else []
    for key in ("inputStage", "executionStages"):
        found += _stages(node.get(key))
    for child in node.get("inputStages", []):
        found += _stages(child)
    return found


async def test_unindexed_filter_is_a_collscan_and_the_suggested_index_fixes_it(
    mongo_uri: str, mongo_db: str, mongo_admin: MongoClient[dict[str, Any]]
) -> None:
    _seed(mongo_admin, mongo_db)
    orders = mongo_admin[mongo_db].orders

    before = await _explain(mongo_uri, mongo_db)
    assert before["engine"] == "mongodb" and before["analyzed"] is True
    found = [f for f in before["findings"] if f["rule_id"] == "PLN060"]
    assert len(found) == 1, before["findings"]
    finding = found[0]
    assert finding["table"] == "orders" and finding["subject"] == "COLLSCAN on orders"
    assert finding["evidence"]["docs_examined"] == DOCS
    assert finding["evidence"]["n_returned"] == DOCS // CUSTOMERS
    assert json.loads(str(finding["evidence"]["index_keys"])) == {"customer_id": 1}
    (fix,) = finding["fix"]["statements"]
    assert fix == 'db.orders.createIndex({"customer_id": 1})'

    keys = json.loads(fix[fix.index("(") + 1 : fix.rindex(")")])
    stats_before = _stats(mongo_admin, mongo_db)
    orders.create_index(list(keys.items()))

    after = await _explain(mongo_uri, mongo_db)
    assert not [f for f in after["findings"] if f["rule_id"] == "PLN060"], after["findings"]
    assert any("IXSCAN" in n["line"] for n in after["compact"]), after["compact"]
    stats_after = _stats(mongo_admin, mongo_db)
    assert "IXSCAN" in _stages(stats_after["executionStages"]) and "COLLSCAN" not in _stages(
        stats_after["executionStages"]
    )
    assert stats_after["nReturned"] == stats_before["nReturned"] == DOCS // CUSTOMERS
    examined_before, examined_after = stats_before["totalDocsExamined"], stats_after["totalDocsExamined"]
    assert examined_after == DOCS // CUSTOMERS
    assert examined_before / max(examined_after, 1) >= IMPROVEMENT, (examined_before, examined_after)
