"""QRY005/QRY006 index fixes on a partitioned PostgreSQL table (QA pg #2): CREATE INDEX CONCURRENTLY is refused on
the parent, so the fix is the per-partition build from knowledge.indexes.partitioned (run on PostgreSQL 15 in
tests/integration/postgres/test_qa_minor_fixes.py)."""

from __future__ import annotations

from dbspecialist.adapters.catalog import Catalog, Column, Table
from dbspecialist.knowledge.indexes.partitioned import PARTITIONED_NOTE
from dbspecialist.knowledge.queries import review_queries

COLUMNS = [
    Column(name="id", data_type="bigint"),
    Column(name="kind", data_type="text"),
    Column(name="customer_id", data_type="bigint"),
]


def _catalog(*, partitioned: bool = True, with_partitions: bool = True) -> Catalog:
    tables = [
        Table(schema_name="shop", name="events", kind="partitioned_table" if partitioned else "table", columns=COLUMNS)
    ]
    if partitioned and with_partitions:
        tables += [
            Table(schema_name="shop", name=n, partition_of="shop.events", columns=COLUMNS)
            for n in ("events_2024", "events_2025")
        ]
    return Catalog(engine="postgresql", schemas=["shop"], tables=tables)


def _fix(sql: str, rule: str, catalog: Catalog) -> tuple[list[str], str | None]:
    [finding] = [f for f in review_queries(sql, "postgres", schema=catalog).findings if f.rule_id == rule]
    assert finding.fix is not None
    return finding.fix.statements, finding.fix.note


def test_qry005_builds_each_partition_then_attaches() -> None:
    statements, note = _fix("SELECT id FROM shop.events WHERE kind = 'a' OR customer_id = 5", "QRY005", _catalog())
    assert statements[1:6] == [
        "CREATE INDEX CONCURRENTLY events_2024_customer_id_idx ON shop.events_2024 (customer_id);",
        "CREATE INDEX CONCURRENTLY events_2025_customer_id_idx ON shop.events_2025 (customer_id);",
        "CREATE INDEX events_customer_id_idx ON ONLY shop.events (customer_id);",
        "ALTER INDEX shop.events_customer_id_idx ATTACH PARTITION shop.events_2024_customer_id_idx;",
        "ALTER INDEX shop.events_customer_id_idx ATTACH PARTITION shop.events_2025_customer_id_idx;",
    ]
    assert len(statements) == 11
    assert not any(s.startswith("CREATE INDEX CONCURRENTLY") and " ON shop.events " in s for s in statements)
    assert note is not None and PARTITIONED_NOTE in note


TRGM = "kind gin_trgm_ops"


def test_qry006_trigram_index_per_partition() -> None:
    statements, note = _fix("SELECT id FROM shop.events WHERE kind LIKE '%x%'", "QRY006", _catalog())
    assert statements == [
        "CREATE EXTENSION IF NOT EXISTS pg_trgm;",
        f"CREATE INDEX CONCURRENTLY events_2024_kind_gin_trgm_ops_idx ON shop.events_2024 USING gin ({TRGM});",
        f"CREATE INDEX CONCURRENTLY events_2025_kind_gin_trgm_ops_idx ON shop.events_2025 USING gin ({TRGM});",
        "CREATE INDEX events_kind_trgm_idx ON ONLY shop.events USING gin (kind gin_trgm_ops);",
        "ALTER INDEX shop.events_kind_trgm_idx ATTACH PARTITION shop.events_2024_kind_gin_trgm_ops_idx;",
        "ALTER INDEX shop.events_kind_trgm_idx ATTACH PARTITION shop.events_2025_kind_gin_trgm_ops_idx;",
    ]
    assert note is not None and PARTITIONED_NOTE in note


def test_partitioned_without_known_partitions_is_the_plain_build() -> None:
    statements, note = _fix(
        "SELECT id FROM shop.events WHERE kind LIKE '%x%'", "QRY006", _catalog(with_partitions=False)
    )
    assert statements[1:] == ["CREATE INDEX events_kind_trgm_idx ON shop.events USING gin (kind gin_trgm_ops);"]
    assert note is not None and "refuses CONCURRENTLY" in note


def test_plain_table_keeps_concurrently() -> None:
    statements, note = _fix("SELECT id FROM shop.events WHERE kind LIKE '%x%'", "QRY006", _catalog(partitioned=False))
    assert statements[1:] == [
        "CREATE INDEX CONCURRENTLY events_kind_trgm_idx ON shop.events USING gin (kind gin_trgm_ops);"
    ]
    assert note is not None and "ON ONLY" not in note
