"""QA fixes in the schema review: SCH002 on partitioned tables (defect 2), the `tables` filter (defect 9)
and SCH030's conversion without a rewrite (defect 12). The statements run on PostgreSQL 15 in
tests/integration/postgres/test_qa_query_fixes.py."""

from __future__ import annotations

import pytest

from dbspecialist.adapters.catalog import Catalog, Column, ForeignKey, PrimaryKey, Table
from dbspecialist.knowledge.findings import Finding
from dbspecialist.knowledge.schema.review import UnknownTablesError, review_catalog


def _col(name: str, data_type: str = "bigint", nullable: bool = True) -> Column:
    return Column(name=name, data_type=data_type, nullable=nullable)


def _shop() -> list[Table]:
    customers = Table(
        schema_name="shop", name="customers", columns=[_col("id")], primary_key=PrimaryKey(columns=["id"])
    )
    fk = ForeignKey(columns=["customer_id"], ref_schema="shop", ref_table="customers", ref_columns=["id"])
    events = Table(
        schema_name="shop",
        name="events",
        kind="partitioned_table",
        columns=[_col("id"), _col("customer_id"), _col("occurred_at", "timestamp with time zone")],
        foreign_keys=[fk],
        row_estimate=300_000,
    )
    parts = [
        Table(
            schema_name="shop",
            name=name,
            partition_of="shop.events",
            columns=events.columns,
            foreign_keys=[fk],
            row_estimate=100_000,
        )
        for name in ("events_2025", "events_2024")
    ]
    orders = Table(
        schema_name="shop",
        name="orders",
        columns=[_col("id"), _col("customer_id")],
        primary_key=PrimaryKey(columns=["id"]),
        foreign_keys=[fk],
        row_estimate=200_000,
    )
    other = Table(schema_name="legacy", name="orders", columns=[_col("id"), _col("placed_at", "timestamp")])
    return [customers, events, *parts, orders, other]


def _review(tables: list[Table], **kw: object) -> list[Finding]:
    catalog = Catalog(engine="postgresql", tables=tables)
    return review_catalog(catalog, engine="postgresql", live=True, **kw).findings  # type: ignore[arg-type]


def test_sch002_on_a_partitioned_table_builds_per_partition() -> None:
    [finding] = [f for f in _review(_shop()) if f.rule_id == "SCH002" and f.table == "events"]
    assert finding.fix is not None
    assert finding.fix.statements == [
        "CREATE INDEX CONCURRENTLY events_2024_customer_id_idx ON shop.events_2024 (customer_id);",
        "CREATE INDEX CONCURRENTLY events_2025_customer_id_idx ON shop.events_2025 (customer_id);",
        "CREATE INDEX events_customer_id_idx ON ONLY shop.events (customer_id);",
        "ALTER INDEX shop.events_customer_id_idx ATTACH PARTITION shop.events_2024_customer_id_idx;",
        "ALTER INDEX shop.events_customer_id_idx ATTACH PARTITION shop.events_2025_customer_id_idx;",
    ]
    assert finding.fix.note is not None and "ON ONLY" in finding.fix.note
    [plain] = [f for f in _review(_shop()) if f.rule_id == "SCH002" and f.table == "orders"]
    assert plain.fix is not None
    assert plain.fix.statements == ["CREATE INDEX CONCURRENTLY orders_customer_id_idx ON shop.orders (customer_id);"]


def test_sch002_on_a_partitioned_table_without_known_partitions_is_a_plain_build() -> None:
    tables = [t for t in _shop() if not t.partition_of]
    [finding] = [f for f in _review(tables) if f.rule_id == "SCH002" and f.table == "events"]
    assert finding.fix is not None
    assert finding.fix.statements == ["CREATE INDEX events_customer_id_idx ON shop.events (customer_id);"]
    assert "CONCURRENTLY" in (finding.fix.note or "")


def test_sch002_on_a_sub_partitioned_table_attaches_bottom_up() -> None:
    tables = _shop()
    mid = tables[2].model_copy(update={"kind": "partitioned_table"})
    leaf = Table(schema_name="shop", name="events_2025_q1", partition_of="shop.events_2025", columns=mid.columns)
    tables = [t for t in tables if t.name != mid.name] + [mid, leaf]
    [finding] = [f for f in _review(tables) if f.rule_id == "SCH002" and f.table == "events"]
    assert finding.fix is not None
    assert finding.fix.statements == [
        "CREATE INDEX CONCURRENTLY events_2024_customer_id_idx ON shop.events_2024 (customer_id);",
        "CREATE INDEX CONCURRENTLY events_2025_q1_customer_id_idx ON shop.events_2025_q1 (customer_id);",
        "CREATE INDEX events_2025_customer_id_idx ON ONLY shop.events_2025 (customer_id);",
        "ALTER INDEX shop.events_2025_customer_id_idx ATTACH PARTITION shop.events_2025_q1_customer_id_idx;",
        "CREATE INDEX events_customer_id_idx ON ONLY shop.events (customer_id);",
        "ALTER INDEX shop.events_customer_id_idx ATTACH PARTITION shop.events_2024_customer_id_idx;",
        "ALTER INDEX shop.events_customer_id_idx ATTACH PARTITION shop.events_2025_customer_id_idx;",
    ]


def test_tables_filter_accepts_schema_qualified_names() -> None:
    catalog = Catalog(engine="postgresql", tables=_shop())
    result = review_catalog(catalog, engine="postgresql", live=True, tables=["legacy.orders"])
    assert result.tables_reviewed == 1
    assert result.findings and {f.subject.split(".")[0] for f in result.findings} == {"legacy"}
    shop = review_catalog(catalog, engine="postgresql", live=True, tables=["shop.orders"])
    assert shop.findings and all(f.subject.startswith("shop.orders") for f in shop.findings)
    both = review_catalog(catalog, engine="postgresql", live=True, tables=["orders"])
    assert both.tables_reviewed == 2
    assert {f.subject.split(".")[0] for f in both.findings} == {"shop", "legacy"}


def test_tables_filter_matches_the_default_schema_unqualified() -> None:
    table = Table(schema_name="public", name="audit", columns=[_col("at", "timestamp")])
    catalog = Catalog(engine="postgresql", tables=[table, *_shop()])
    result = review_catalog(catalog, engine="postgresql", live=True, tables=["public.audit"])
    assert result.findings and all(f.table == "audit" for f in result.findings)


@pytest.mark.parametrize("names", [["nope"], ["orders", "shop.nope"], ["public.orders"]])
def test_tables_filter_rejects_unknown_names(names: list[str]) -> None:
    catalog = Catalog(engine="postgresql", tables=_shop())
    with pytest.raises(UnknownTablesError) as error:
        review_catalog(catalog, engine="postgresql", live=True, tables=names)
    message = str(error.value)
    assert repr(names[-1]) in message and "shop.orders" in message and "legacy.orders" in message


def test_sch030_converts_without_a_using_clause_under_utc() -> None:
    [finding] = [f for f in _review(_shop()) if f.rule_id == "SCH030"]
    assert finding.fix is not None
    assert finding.fix.statements == [
        "SET TimeZone = 'UTC';",
        "ALTER TABLE legacy.orders ALTER COLUMN placed_at TYPE timestamptz;",
        "RESET TimeZone;",
    ]
    note = finding.fix.note or ""
    assert "no rewrite" in note and "USING clause" in note and "rewrites" in note


def test_sch030_before_postgresql_12_says_it_rewrites() -> None:
    catalog = Catalog(engine="postgresql", tables=_shop())
    result = review_catalog(catalog, engine="postgresql", live=True, version="11.22")
    [finding] = [f for f in result.findings if f.rule_id == "SCH030"]
    assert finding.fix is not None and "no rewrite" not in (finding.fix.note or "")
