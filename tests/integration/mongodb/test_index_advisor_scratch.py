"""recommend_indexes on MongoDB (SecantusDB): ESR candidates verified with explain on a scratch copy.

A 20,000-document collection with no index on the filter/sort fields. A `read_only = false` connection
verifies the ESR index with a measured drop in documents+keys examined; a read-only one keeps it unverified
with the hint. Either way the scratch database is gone afterwards and the source collection is unchanged.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from pymongo import MongoClient

from dbspecialist.adapters import mongodb_advisor
from dbspecialist.adapters.index_advisor import recommend
from dbspecialist.adapters.mongodb import MongoAdapter
from dbspecialist.knowledge.indexes.esr import esr_candidate
from tests.integration.mongodb.conftest import checksum, mongo_conn

DOCS = 20_000
CUSTOMERS = 200  # customer 42 has DOCS / CUSTOMERS = 100 orders
QUERY = json.dumps({"find": "orders", "filter": {"customer_id": 42}, "sort": {"created_at": -1}})
ESR_INDEX = 'db.orders.createIndex({"customer_id": 1, "created_at": -1})'


def _seed(client: MongoClient[dict[str, Any]], database: str) -> None:
    client[database].orders.insert_many(
        [
            {"_id": i, "customer_id": i % CUSTOMERS, "created_at": (i * 7919) % DOCS, "status": ["paid", "new"][i % 2]}
            for i in range(DOCS)
        ]
    )


def _scratch_databases(client: MongoClient[dict[str, Any]]) -> list[str]:
    return [n for n in client.list_database_names() if n.startswith(mongodb_advisor.SCRATCH_PREFIX)]


def _source_state(client: MongoClient[dict[str, Any]], database: str) -> tuple[int, list[str], str]:
    orders = client[database].orders
    return orders.count_documents({}), sorted(i["name"] for i in orders.list_indexes()), checksum(client, database)


async def test_writable_connection_verifies_the_esr_index_on_a_scratch_copy(
    mongo_uri: str, mongo_db: str, mongo_admin: MongoClient[dict[str, Any]]
) -> None:
    _seed(mongo_admin, mongo_db)
    before = _source_state(mongo_admin, mongo_db)
    adapter = MongoAdapter(mongo_conn(mongo_uri, mongo_db, read_only=False))
    try:
        advice = await recommend(adapter, [QUERY], use_workload=False, max_indexes=3, max_total_bytes=None)
    finally:
        await adapter.close()

    [rec] = advice.recommendations
    assert (rec.ddl, rec.table, rec.columns) == (ESR_INDEX, "orders", ["customer_id", "created_at DESC"])
    assert (rec.verified, rec.verification) == (True, "mongodb-scratch")
    [gain] = rec.queries_helped
    # Before: a COLLSCAN reads every document; after: 100 index keys and the 100 matching documents.
    assert (gain.cost_before, gain.cost_after, gain.improvement_pct) == (20_000.0, 200.0, 99.0)
    assert "COLLSCAN, 20,000 docs + 0 keys examined" in rec.reason
    assert "IXSCAN, 100 docs + 100 keys examined" in rec.reason
    assert advice.rejected == []
    [note] = [n for n in advice.notes if "scratch database" in n]
    assert "at most 50,000 documents per collection, the first by _id (20,000 of orders)" in note
    scratch = note.split("scratch database ")[1].split(" ")[0]
    assert scratch.startswith("dbspecialist_scratch_")
    assert scratch not in mongo_admin.list_database_names()
    assert _scratch_databases(mongo_admin) == []
    assert _source_state(mongo_admin, mongo_db) == before == (DOCS, ["_id_"], before[2])


async def test_read_only_connection_keeps_it_unverified_with_the_hint(
    mongo_uri: str, mongo_db: str, mongo_admin: MongoClient[dict[str, Any]]
) -> None:
    _seed(mongo_admin, mongo_db)
    before = _source_state(mongo_admin, mongo_db)
    adapter = MongoAdapter(mongo_conn(mongo_uri, mongo_db))  # read_only defaults to true
    try:
        advice = await recommend(adapter, [QUERY], use_workload=False, max_indexes=3, max_total_bytes=None)
    finally:
        await adapter.close()

    [rec] = advice.recommendations
    assert (rec.ddl, rec.verified, rec.verification, rec.queries_helped) == (ESR_INDEX, False, "esr-rule", [])
    assert rec.reason.endswith(
        "not verified: no scratch collection to test it on, so explain could not confirm the plan; "
        "configure the connection read_only = false to let the advisor verify on a scratch copy"
    )
    assert not any("scratch database" in n for n in advice.notes)
    assert _scratch_databases(mongo_admin) == []
    assert _source_state(mongo_admin, mongo_db) == before


async def test_sample_cap_bounds_the_copy_and_an_unhelpful_index_is_rejected(
    mongo_uri: str, mongo_db: str, mongo_admin: MongoClient[dict[str, Any]]
) -> None:
    _seed(mongo_admin, mongo_db)
    # status has 2 values: its index still reads half the documents (+ as many keys): no 50% cut.
    broad = json.dumps({"find": "orders", "filter": {"status": "paid"}})
    cands = [c for q in (QUERY, broad) if (c := esr_candidate(q)) is not None]
    adapter = MongoAdapter(mongo_conn(mongo_uri, mongo_db, read_only=False))
    try:
        result = await mongodb_advisor.evaluate(adapter, [QUERY, broad], cands, sample_cap=5_000)
    finally:
        await adapter.close()

    assert result.available and result.copied == {"orders": 5_000}
    status_index = 'db.orders.createIndex({"status": 1})'
    costs = {c.query: c for c in result.costs}
    # Each candidate is measured against every query on its collection: 25 keys + 25 documents of customer 42
    # in the sample; the status index reads 2,500 keys + 2,500 documents, no better than the scan.
    assert (costs[QUERY].cost_before, costs[broad].cost_before) == (5_000.0, 5_000.0)
    assert costs[QUERY].cost_after == {ESR_INDEX: 50.0, status_index: 5_000.0}
    assert costs[broad].cost_after == {ESR_INDEX: 5_000.0, status_index: 5_000.0}
    advice = mongodb_advisor.scratch_advice(
        cands, result, max_indexes=3, max_total_bytes=None, queries_analyzed=2, notes=result.notes
    )
    assert [r.ddl for r in advice.recommendations] == [ESR_INDEX]
    assert [(r.ddl, r.reason) for r in advice.rejected] == [
        (status_index, "best cost reduction 0.0% is below the 50% needed to recommend it")
    ]
    assert any("at most 5,000 documents per collection" in n for n in advice.notes)
    assert _scratch_databases(mongo_admin) == []


async def test_scratch_database_is_dropped_when_measuring_fails(
    mongo_uri: str, mongo_db: str, mongo_admin: MongoClient[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    _seed(mongo_admin, mongo_db)
    seen: list[str] = []

    def broken(reply: dict[str, Any]) -> mongodb_advisor.Measurement:
        seen.extend(_scratch_databases(mongo_admin))  # the copy exists while measuring
        raise RuntimeError("boom")

    monkeypatch.setattr(mongodb_advisor, "measurement", broken)
    cand = esr_candidate(QUERY)
    assert cand is not None
    adapter = MongoAdapter(mongo_conn(mongo_uri, mongo_db, read_only=False))
    try:
        with pytest.raises(RuntimeError, match="boom"):
            await mongodb_advisor.evaluate(adapter, [QUERY], [cand], sample_cap=1_000)
    finally:
        await adapter.close()
    assert len(seen) == 1 and seen[0].startswith(mongodb_advisor.SCRATCH_PREFIX)
    assert _scratch_databases(mongo_admin) == []
    assert mongo_admin[mongo_db].orders.count_documents({}) == DOCS
