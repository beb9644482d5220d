"""MongoDB ESR candidates from JSON query shapes."""

from __future__ import annotations

import json

from dbspecialist.adapters.catalog import Catalog, Index, Table
from dbspecialist.knowledge.indexes.advisor import esr_advice
from dbspecialist.knowledge.indexes.esr import esr_candidate


def test_equality_sort_range_order() -> None:
    shape = {"find": "orders", "filter": {"qty": {"$gt": 5}, "status": "A"}, "sort": {"created": -1}}
    cand = esr_candidate(shape)
    assert cand is not None
    assert cand.keys == [("status", 1), ("created", -1), ("qty", 1)]
    assert cand.statement == 'db.orders.createIndex({"status": 1, "created": -1, "qty": 1})'
    assert cand.reason.startswith("ESR rule: equality status, then sort created, then range qty")


def test_json_text_eq_in_and_and() -> None:
    text = json.dumps({"find": "my-orders", "filter": {"$and": [{"a": {"$eq": 1}}, {"b": {"$in": [1, 2]}}]}})
    cand = esr_candidate(text)
    assert cand is not None and cand.keys == [("a", 1), ("b", 1)]
    assert cand.statement.startswith('db.getCollection("my-orders").createIndex(')
    assert "$in" in cand.reason


def test_aggregate_leading_match_and_sort() -> None:
    shape = {"aggregate": "orders", "pipeline": [{"$match": {"cust": 3}}, {"$sort": {"ts": 1}}, {"$group": {}}]}
    cand = esr_candidate(shape)
    assert cand is not None and cand.keys == [("cust", 1), ("ts", 1)]


def test_nothing_to_index_and_already_covered() -> None:
    assert esr_candidate({"find": "orders", "filter": {}}) is None
    assert esr_candidate({"find": "orders", "filter": {"_id": 1}}) is None
    assert esr_candidate("not json") is None
    catalog = Catalog(
        engine="mongodb",
        tables=[Table(name="orders", kind="collection", indexes=[Index(name="i", columns=["status", "created DESC"])])],
    )
    shape = {"find": "orders", "filter": {"status": "A"}, "sort": {"created": -1}}
    assert esr_candidate(shape, catalog) is None
    assert esr_candidate({"find": "orders", "filter": {"other": 1}}, catalog) is not None


def test_esr_advice_is_unverified() -> None:
    cand = esr_candidate({"find": "orders", "filter": {"status": "A"}})
    assert cand is not None
    advice = esr_advice([cand, cand], max_indexes=5, queries_analyzed=2)
    [rec] = advice.recommendations
    assert rec.verified is False and rec.verification == "esr-rule" and "not verified" in rec.reason
