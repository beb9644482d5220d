"""Pure parts of the MongoDB scratch-copy verification: explain parsing, query shapes, the advice builders."""

from __future__ import annotations

import json

import pytest

from dbspecialist.adapters import mongodb_advisor
from dbspecialist.adapters.mongodb import MongoAdapter
from dbspecialist.adapters.mongodb_advisor import Measurement, ScratchResult
from dbspecialist.config import parse_connection
from dbspecialist.knowledge.indexes.esr import esr_candidate, query_shape
from dbspecialist.knowledge.indexes.select import QueryCosts

QUERY = json.dumps({"find": "orders", "filter": {"customer_id": 42}, "sort": {"created_at": -1}})
INDEX = 'db.orders.createIndex({"customer_id": 1, "created_at": -1})'


def test_plan_stages_walks_nested_and_slot_based_plans() -> None:
    classic = {"stage": "SORT", "inputStage": {"stage": "FETCH", "inputStage": {"stage": "IXSCAN", "indexName": "a"}}}
    assert mongodb_advisor.plan_stages(classic) == ("SORT > FETCH > IXSCAN", ("a",))
    sbe = {"queryPlan": {"stage": "OR", "inputStages": [{"stage": "IXSCAN", "indexName": "x"}, {"stage": "COLLSCAN"}]}}
    assert mongodb_advisor.plan_stages(sbe) == ("OR > IXSCAN > COLLSCAN", ("x",))


def test_measurement_reads_find_and_aggregate_cursor_replies() -> None:
    stats = {"totalDocsExamined": 100, "totalKeysExamined": 100, "executionTimeMillis": 3}
    planner = {"winningPlan": {"stage": "FETCH", "inputStage": {"stage": "IXSCAN", "indexName": "i"}}}
    found = mongodb_advisor.measurement({"queryPlanner": planner, "executionStats": stats})
    assert found == Measurement(100, 100, 3, "FETCH > IXSCAN", ("i",))
    assert found.cost == 200.0
    assert found.describe() == "FETCH > IXSCAN, 100 docs + 100 keys examined, 3 ms"
    nested = {"stages": [{"$cursor": {"queryPlanner": planner, "executionStats": stats}}, {"$group": {}}]}
    assert mongodb_advisor.measurement(nested) == found
    with pytest.raises(ValueError, match="no executionStats"):
        mongodb_advisor.measurement({"queryPlanner": planner})


def test_aggregate_leading_stages_are_explained_as_the_equivalent_find() -> None:
    agg = {
        "aggregate": "orders",
        "pipeline": [{"$match": {"a": 1}}, {"$sort": {"b": -1}}, {"$limit": 5}, {"$group": {"_id": "$c"}}],
    }
    shape = query_shape(agg)
    assert shape is not None
    assert mongodb_advisor.explain_command(shape, 1500) == {
        "explain": {"find": "orders", "filter": {"a": 1}, "sort": {"b": -1}, "limit": 5},
        "verbosity": "executionStats",
        "maxTimeMS": 1500,
    }
    found = query_shape({"find": "orders", "filter": {"a": 1}, "limit": -3})
    assert found is not None and (found.sort, found.limit) == ({}, 3)
    unlimited = query_shape({"aggregate": "orders", "pipeline": [{"$match": {"a": 1}}, {"$project": {"a": 1}}]})
    assert unlimited is not None and unlimited.limit is None


def test_copied_index_specs_drop_the_primary_key_bookkeeping_and_ttl() -> None:
    source = [
        {"v": 2, "key": {"_id": 1}, "name": "_id_"},
        {"v": 2, "key": {"created_at": 1}, "name": "ttl", "expireAfterSeconds": 60, "background": True},
        {"v": 2, "key": {"a": 1}, "name": "a_1", "unique": True, "partialFilterExpression": {"a": {"$gt": 0}}},
    ]
    assert mongodb_advisor.copied_index_specs(source) == [
        {"key": {"created_at": 1}, "name": "ttl"},
        {"key": {"a": 1}, "name": "a_1", "unique": True, "partialFilterExpression": {"a": {"$gt": 0}}},
    ]


def test_scratch_advice_verifies_only_a_measured_cut_of_half() -> None:
    cand = esr_candidate(QUERY)
    assert cand is not None and cand.statement == INDEX
    before = Measurement(20_000, 0, 200, "SORT > COLLSCAN")
    after = Measurement(100, 100, 2, "FETCH > IXSCAN", ("dbspecialist_candidate",))
    result = ScratchResult(
        before={QUERY: before},
        after={(QUERY, INDEX): after},
        costs=[QueryCosts(query=QUERY, cost_before=20_000.0, cost_after={INDEX: 200.0})],
    )
    advice = mongodb_advisor.scratch_advice([cand], result, max_indexes=2, max_total_bytes=None, queries_analyzed=1)
    [rec] = advice.recommendations
    assert (rec.verified, rec.verification, rec.columns, rec.queries_helped[0].improvement_pct) == (
        True,
        "mongodb-scratch",
        ["customer_id", "created_at DESC"],
        99.0,
    )
    assert "SORT > COLLSCAN, 20,000 docs + 0 keys examined, 200 ms → FETCH > IXSCAN, 100 docs" in rec.reason

    weak = ScratchResult(costs=[QueryCosts(query=QUERY, cost_before=20_000.0, cost_after={INDEX: 12_000.0})])
    advice = mongodb_advisor.scratch_advice([cand], weak, max_indexes=2, max_total_bytes=None, queries_analyzed=1)
    assert advice.recommendations == []
    assert [r.reason for r in advice.rejected] == ["best cost reduction 40.0% is below the 50% needed to recommend it"]


async def test_read_only_connection_adds_the_hint_and_runs_nothing() -> None:
    cand = esr_candidate(QUERY)
    assert cand is not None
    adapter = MongoAdapter(parse_connection("m", "mongodb://127.0.0.1:1/x", source="test"))  # read_only by default
    advice = await mongodb_advisor.advise(adapter, [QUERY], [cand], max_indexes=3, max_total_bytes=None, notes=["n"])
    [rec] = advice.recommendations
    assert (rec.verified, advice.notes) == (False, ["n"])
    assert rec.reason.endswith(
        "; configure the connection read_only = false to let the advisor verify on a scratch copy"
    )
