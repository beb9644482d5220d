"""Selection for index count: one index serving several queries, near ties to the smaller, redundancy."""

from __future__ import annotations

from dbspecialist.knowledge.indexes.advisor import build_advice, drop_recommendation
from dbspecialist.knowledge.indexes.candidates import candidates
from dbspecialist.knowledge.indexes.select import NEAR_TIE_PCT, QueryCosts, redundant, select
from tests.unit.knowledge.indexes.test_candidates import _catalog


def test_one_composite_serving_two_queries_is_one_index_not_two() -> None:
    queries = [
        QueryCosts("qa", 10_000.0, {"a_only": 100.0, "shared": 150.0}),
        QueryCosts("qb", 8_000.0, {"b_only": 100.0, "shared": 120.0}),
    ]
    sizes = {"a_only": 100_000, "b_only": 100_000, "shared": 400_000}
    sel = select(["a_only", "b_only", "shared"], queries, sizes, max_indexes=5)
    # shared saves 17,730 in one index; a_only would save 9,900: the shared one wins though it is larger,
    # and afterwards neither single index halves its query's cost again
    assert [c.key for c in sel.chosen] == ["shared"]
    assert [g.query for g in sel.chosen[0].gains] == ["qa", "qb"]
    assert "already served" in dict(sel.rejected)["a_only"]


def test_near_equal_savings_go_to_the_smaller_index() -> None:
    # wide saves 9,700, narrow 9,450: within NEAR_TIE_PCT, so the index a ninth of the size wins (and wide
    # would not halve narrow's 550 again)
    assert NEAR_TIE_PCT >= 5
    queries = [QueryCosts("q", 10_000.0, {"wide": 300.0, "narrow": 550.0})]
    sel = select(["wide", "narrow"], queries, {"wide": 9_000_000, "narrow": 1_000_000}, max_indexes=5)
    assert [c.key for c in sel.chosen] == ["narrow"]
    # a clear difference in saving goes to the bigger saver
    far = [QueryCosts("q", 10_000.0, {"wide": 50.0, "narrow": 4_000.0})]
    assert [c.key for c in select(["wide", "narrow"], far, {"wide": 9_000_000, "narrow": 1}, max_indexes=5).chosen] == [
        "wide"
    ]


def test_index_made_redundant_by_a_wider_choice_is_named() -> None:
    # measured together: leaving "narrow" out costs nothing (the wide index serves its query), leaving
    # "wide" out costs 5,000, leaving "other" out 3,000; floor = 1 % of 100,000 = 1,000
    together: dict[str | None, dict[str, float]] = {
        None: {"q1": 10.0, "q2": 20.0, "q3": 30.0},
        "narrow": {"q1": 10.0, "q2": 20.0, "q3": 30.0},
        "wide": {"q1": 5_010.0, "q2": 20.0, "q3": 30.0},
        "other": {"q1": 10.0, "q2": 20.0, "q3": 3_030.0},
    }
    assert redundant(together, 100_000.0) == ("narrow", 0.0)
    del together["narrow"]
    assert redundant(together, 100_000.0) is None
    assert redundant(together, 1_000_000.0) == ("other", 3_000.0)  # floor 10,000 now
    assert redundant({}, 100_000.0) is None


def test_drop_recommendation_moves_it_to_rejected() -> None:
    cands = candidates("SELECT id FROM orders WHERE customer_id = 1 ORDER BY created_at", "postgresql", _catalog())
    costs = [QueryCosts("SELECT id FROM orders WHERE customer_id = 1 ORDER BY created_at", 5000.0, {cands[0].key: 8.0})]
    advice = build_advice(
        cands, costs, {}, verification="hypopg", max_indexes=5, max_total_bytes=None, workload_source="queries"
    )
    [rec] = advice.recommendations
    dropped = drop_recommendation(advice, rec.ddl, "redundant")
    assert dropped.recommendations == [] and dropped.rejected[-1].ddl == rec.ddl
    assert dropped.rejected[-1].reason == "redundant"
    assert drop_recommendation(advice, "CREATE INDEX nothing", "x") is advice


def test_order_by_an_unqualified_output_column_gives_a_sort_candidate() -> None:
    sql = "SELECT id, created_at FROM orders ORDER BY created_at DESC LIMIT 50"
    assert next(c.columns for c in candidates(sql, "postgresql", _catalog())) == ["created_at"]


def test_range_plus_group_also_offers_the_range_only_index() -> None:
    sql = "SELECT customer_id, count(*) FROM orders WHERE created_at >= '2025-01-01' GROUP BY customer_id"
    cols = [c.columns for c in candidates(sql, "postgresql", _catalog()) if not c.include]
    assert ["created_at", "customer_id"] in cols and ["created_at"] in cols
