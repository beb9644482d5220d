"""QA pass 2 (MongoDB): existing indexes count when reversed or with equality fields in another order; a $or gets
one candidate per branch that no index serves; collated and hidden indexes do not count."""

from __future__ import annotations

from dbspecialist.adapters.catalog import Catalog, Index, Table
from dbspecialist.knowledge.indexes.esr import esr_candidate, esr_candidates, serves


def _orders(*indexes: Index, hidden: list[str] | None = None) -> Catalog:
    table = Table(
        name="orders",
        kind="collection",
        indexes=[Index(name="_id_", columns=["_id"], unique=True, primary=True), *indexes],
        stats={"hidden_indexes": hidden} if hidden else {},
    )
    return Catalog(engine="mongodb", tables=[table])


TTL_CREATED = Index(name="ttl_created", columns=["created_at"], ttl_seconds=3600, method="btree")
STATUS_CREATED = Index(name="status_1_created_at_-1", columns=["status", "created_at DESC"], method="btree")


def test_a_reversed_index_serves_the_sort() -> None:
    query = {"find": "orders", "filter": {}, "sort": {"created_at": -1}, "limit": 10}
    assert esr_candidate(query, _orders(TTL_CREATED)) is None
    assert esr_candidates(query, _orders(TTL_CREATED)) == []


def test_a_range_fields_direction_does_not_matter() -> None:
    query = {"find": "orders", "filter": {"status": "paid", "created_at": {"$gte": {"$date": "2024-01-02T00:00:00Z"}}}}
    assert esr_candidate(query, _orders(STATUS_CREATED)) is None


def test_equality_fields_in_any_order_and_a_mixed_direction_sort_is_not_served() -> None:
    assert serves(["b", "a DESC", "c"], ["a", "b"], [], [])
    assert serves(["a", "x DESC", "y"], ["a"], [("x", 1), ("y", -1)], [])  # fully reversed
    assert not serves(["a", "x", "y"], ["a"], [("x", 1), ("y", -1)], [])  # only partly reversed
    assert not serves(["x", "a"], ["a"], [("x", 1)], [])  # the sort field before the equality field
    assert not serves(["loc 2dsphere"], ["loc"], [], [])


def test_collated_hidden_and_partial_indexes_do_not_count() -> None:
    query = {"find": "orders", "filter": {"status": "paid"}}
    fr = Index(name="status_fr", columns=["status"], collation={"locale": "fr", "strength": 3})
    assert esr_candidate(query, _orders(fr)) is not None
    plain = Index(name="status_1", columns=["status"])
    assert esr_candidate(query, _orders(plain, hidden=["status_1"])) is not None
    partial = Index(name="status_p", columns=["status"], predicate='{"total": {"$gt": 0}}')
    assert esr_candidate(query, _orders(partial)) is not None


def test_or_gets_a_candidate_for_each_unindexed_branch() -> None:
    query = {"find": "orders", "filter": {"$or": [{"user_id": 5}, {"total": {"$lt": 2}}]}}
    user = Index(name="uid", columns=["user_id"])
    [only] = esr_candidates(query, _orders(user))
    assert only.statement == 'db.orders.createIndex({"total": 1})'
    assert "$or branch 2 of 2" in only.reason
    both = esr_candidates(query)
    assert [c.statement for c in both] == [
        'db.orders.createIndex({"user_id": 1})',
        'db.orders.createIndex({"total": 1})',
    ]
