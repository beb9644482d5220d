"""recommend_indexes on a partitioned PostgreSQL table (QA defect 2): PostgreSQL refuses CREATE INDEX
CONCURRENTLY there, so `ddl` is the plain build on the parent and the note gives the per-partition
statements (run on PostgreSQL 15 in tests/integration/postgres/test_qa_query_fixes.py)."""

from __future__ import annotations

from dbspecialist.adapters.catalog import Catalog, Column, Table
from dbspecialist.knowledge.indexes.advisor import build_advice
from dbspecialist.knowledge.indexes.candidates import candidates
from dbspecialist.knowledge.indexes.select import QueryCosts

QUERY = "SELECT * FROM shop.events WHERE customer_id = 42 ORDER BY occurred_at DESC LIMIT 50"


def _catalog(with_partitions: bool = True) -> Catalog:
    columns = [
        Column(name="id", data_type="bigint"),
        Column(name="customer_id", data_type="bigint"),
        Column(name="occurred_at", data_type="timestamp with time zone"),
    ]
    tables = [Table(schema_name="shop", name="events", kind="partitioned_table", columns=columns)]
    if with_partitions:
        tables += [
            Table(schema_name="shop", name=n, partition_of="shop.events", columns=columns)
            for n in ("events_2024", "events_2025")
        ]
    return Catalog(engine="postgresql", tables=tables)


def test_partitioned_candidate_is_a_plain_build_with_the_per_partition_note() -> None:
    [cand] = candidates(QUERY, "postgresql", _catalog())
    assert cand.ddl == "CREATE INDEX events_customer_id_occurred_at_idx ON shop.events (customer_id, occurred_at)"
    assert cand.note is not None
    for statement in (
        "CREATE INDEX CONCURRENTLY events_2024_customer_id_occurred_at_idx ON shop.events_2024 "
        "(customer_id, occurred_at);",
        "CREATE INDEX events_customer_id_occurred_at_idx ON ONLY shop.events (customer_id, occurred_at);",
        "ALTER INDEX shop.events_customer_id_occurred_at_idx ATTACH PARTITION "
        "shop.events_2025_customer_id_occurred_at_idx;",
    ):
        assert statement in cand.note
    costs = [QueryCosts(query=QUERY, cost_before=3000.0, cost_after={cand.key: 12.0})]
    [rec] = build_advice(
        [cand], costs, {}, verification="hypopg", max_indexes=5, max_total_bytes=None, workload_source="queries"
    ).recommendations
    assert rec.ddl == cand.ddl and rec.note == cand.note


def test_partitioned_candidate_without_known_partitions_says_why_no_concurrently() -> None:
    [cand] = candidates(QUERY, "postgresql", _catalog(with_partitions=False))
    assert "CONCURRENTLY" not in cand.ddl
    assert cand.note is not None and "refuses CONCURRENTLY" in cand.note and "ON ONLY" not in cand.note


def test_a_partition_itself_keeps_concurrently() -> None:
    [cand] = candidates(QUERY.replace("shop.events", "shop.events_2024"), "postgresql", _catalog())
    assert cand.ddl.startswith("CREATE INDEX CONCURRENTLY") and cand.note is None
