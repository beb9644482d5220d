"""QA pass 2 (MongoDB): a $or scanned whole gets PLN060 with an index per branch; PLN064 starts from the query's
fields and stays quiet when the FETCH filter rejected nothing. Plans recorded from SecantusDB 8.2.11."""

from __future__ import annotations

import copy
from typing import Any

from dbspecialist.knowledge.plans.analyze import analyze_plan

OR_FILTER = {"$or": [{"user_id": {"$eq": 5}}, {"total": {"$lt": 2}}]}
OR_COLLSCAN: dict[str, Any] = {
    "queryPlanner": {
        "namespace": "shop.orders",
        "parsedQuery": OR_FILTER,
        "winningPlan": {"stage": "COLLSCAN", "filter": OR_FILTER, "direction": "forward"},
    },
    "executionStats": {
        "executionSuccess": True,
        "nReturned": 23,
        "executionTimeMillis": 68,
        "totalKeysExamined": 0,
        "totalDocsExamined": 5000,
        "executionStages": {"stage": "COLLSCAN", "nReturned": 23},
    },
}
PARTIAL_FETCH: dict[str, Any] = {
    "queryPlanner": {
        "namespace": "shop.orders",
        "parsedQuery": {"status": {"$eq": "paid"}},
        "winningPlan": {
            "stage": "FETCH",
            "filter": {"status": {"$eq": "paid"}},
            "inputStage": {
                "stage": "IXSCAN",
                "keyPattern": {"user_id": 1},
                "indexName": "partial_user",
                "isPartial": True,
                "direction": "forward",
            },
        },
    },
    "executionStats": {
        "executionSuccess": True,
        "nReturned": 1305,
        "executionTimeMillis": 18,
        "totalKeysExamined": 1305,
        "totalDocsExamined": 1305,
        "executionStages": {"stage": "FETCH", "nReturned": 1305, "inputStage": {"stage": "IXSCAN", "nReturned": 1305}},
    },
}


def _planner_only(plan: dict[str, Any]) -> dict[str, Any]:
    return {"queryPlanner": copy.deepcopy(plan["queryPlanner"])}


def test_or_with_an_unindexed_branch_is_a_collscan_finding_with_an_index_per_branch() -> None:
    for plan in (OR_COLLSCAN, _planner_only(OR_COLLSCAN)):
        [finding] = [f for f in analyze_plan(plan, "mongodb").findings if f.rule_id == "PLN060"]
        assert finding.fix is not None
        assert finding.fix.statements == [
            'db.orders.createIndex({"user_id": 1})',
            'db.orders.createIndex({"total": 1})',
        ]
        assert "$or" in finding.title and finding.evidence["or_branches"] == 2


def test_or_next_to_other_fields_gets_the_index_on_those_fields() -> None:
    plan = copy.deepcopy(OR_COLLSCAN)
    plan["queryPlanner"]["parsedQuery"] = {"$and": [{"status": {"$eq": "paid"}}, OR_FILTER]}
    plan["queryPlanner"]["winningPlan"]["filter"] = plan["queryPlanner"]["parsedQuery"]
    [finding] = [f for f in analyze_plan(plan, "mongodb").findings if f.rule_id == "PLN060"]
    assert finding.fix is not None and finding.fix.statements == ['db.orders.createIndex({"status": 1})']


def test_fetch_filter_that_rejected_nothing_is_not_reported() -> None:
    assert [f.rule_id for f in analyze_plan(PARTIAL_FETCH, "mongodb").findings] == []


def test_fetch_filter_index_starts_from_the_querys_fields_not_the_scanned_index() -> None:
    [finding] = [f for f in analyze_plan(_planner_only(PARTIAL_FETCH), "mongodb").findings if f.rule_id == "PLN064"]
    assert finding.fix is not None and finding.fix.statements == ['db.orders.createIndex({"status": 1})']
