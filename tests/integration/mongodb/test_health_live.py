"""check_health on a real wire-protocol server (SecantusDB, or TEST_MONGO_URI): an index that no query uses,
connections and opcounters, and what the server cannot give skipped with its reason.

SecantusDB has no WiredTiger cache statistics, reports no connection limit and does not count index use
($indexStats has no accesses.since), so those checks must be skipped with a reason, not guessed: its zero ops
counts would call every index unused. Against a real mongod the unused index is reported, the used one is not.
"""

from __future__ import annotations

import json
from typing import Any

from pymongo import MongoClient

from dbspecialist.adapters.health_mongodb import UNTRACKED, mongodb_health_snapshot
from dbspecialist.adapters.mongodb import MongoAdapter
from dbspecialist.knowledge.health.mongodb import MongoThresholds, check_mongodb
from tests.integration.mongodb.conftest import mongo_conn

QUERIES = 5
THRESHOLDS = MongoThresholds(unused_index_min_days=0.0)  # the index was created seconds ago


async def test_unused_index_connections_opcounters_and_skips(
    mongo_uri: str, mongo_admin: MongoClient[dict[str, Any]], mongo_db: str
) -> None:
    orders = mongo_admin[mongo_db]["h2_orders"]
    orders.insert_many([{"_id": i, "status": ["new", "paid"][i % 2], "note": f"n{i}"} for i in range(30)])
    orders.create_index("status", name="h2_status")
    orders.create_index("note", name="h2_unused")
    queries_before = int(mongo_admin.admin.command("serverStatus")["opcounters"]["query"])
    for _ in range(QUERIES):
        assert len(list(orders.find({"status": "paid"}).hint("h2_status"))) == 15

    adapter = MongoAdapter(mongo_conn(mongo_uri, mongo_db))
    try:
        snapshot = await mongodb_health_snapshot(adapter)
    finally:
        await adapter.close()
    assert json.loads(json.dumps(snapshot)) == snapshot  # JSON-able, as the contract says
    report = check_mongodb(snapshot, thresholds=THRESHOLDS)

    # The snapshot read this database's three indexes, with their use counters.
    indexes = {i["name"]: i for i in snapshot["indexes"]}
    assert sorted(indexes) == ["_id_", "h2_status", "h2_unused"] and report.metrics["indexes_checked"] == 3
    assert indexes["h2_unused"]["ops"] == 0 and indexes["h2_unused"]["collection"] == "h2_orders"
    assert snapshot["collections"] == 1 and snapshot["round_trips"] in (5, 6)  # + listIndexes without `spec`

    # Connections and opcounters are reported as metrics, rates since the server started.
    assert int(report.metrics["connections_current"] or 0) >= 1
    assert int(report.metrics["opcounters_query"] or 0) >= queries_before + QUERIES
    assert int(report.metrics["opcounters_insert"] or 0) >= 1
    assert report.metrics["query_per_second"] is not None and report.stats_since is not None
    assert "long_operations" in report.checks_run and report.metrics["operations_over_1s"] == 0

    unused = [f for f in report.findings if f.rule_id == "HLT106"]
    if snapshot.get("emulator"):
        assert report.skipped["unused_indexes"] == UNTRACKED and unused == []
        assert "wiredTiger.cache" in report.skipped["wiredtiger_cache"]
        assert "no connection limit" in report.skipped["connections"]
        assert report.metrics["connections_available"] is None and report.metrics["wiredtiger_cache_fill_pct"] is None
    else:  # a real mongod counts index use
        assert [f.subject for f in unused] == ["h2_orders.h2_unused"]
        assert unused[0].evidence["ops"] == 0 and unused[0].evidence["window_source"] == "accesses.since"
        assert indexes["h2_status"]["ops"] >= QUERIES
