"""describe_schema never floods the context: compact entries, then pages that cover everything."""

from __future__ import annotations

from dbspecialist.adapters.catalog import Catalog, Column, ForeignKey, Index, PrimaryKey, Table
from dbspecialist.server.schema_view import SUMMARY_BUDGET_BYTES, column_text, describe


def table(i: int) -> Table:
    return Table(
        schema_name="public",
        name=f"table_{i:04d}",
        columns=[Column(name=f"col_{c}", data_type="bigint", nullable=c > 0) for c in range(8)],
        primary_key=PrimaryKey(columns=["col_0"]),
        foreign_keys=[ForeignKey(columns=["col_1"], ref_table="table_0000", ref_columns=["col_0"])],
        indexes=[Index(name=f"ix_{i}", columns=["col_1"])],
        row_estimate=i * 10,
    )


def test_small_catalog_is_shown_whole_with_columns() -> None:
    result = describe(
        "c", Catalog(engine="postgresql", tables=[table(i) for i in range(5)]), detail="summary", offset=0
    )
    assert result.returned == 5 and not result.truncated and result.next_offset is None
    first = result.tables[0]
    assert first.columns is not None and first.columns[0] == "col_0 bigint NOT NULL"
    assert first.foreign_keys == ["(col_1) → table_0000(col_0)"]
    assert first.indexes == ["ix_0 (col_1)"]


def test_large_catalog_is_compact_and_paged_within_budget() -> None:
    catalog = Catalog(engine="postgresql", tables=[table(i) for i in range(2000)])
    seen: list[str] = []
    offset: int | None = 0
    pages = 0
    while offset is not None:
        page = describe("c", catalog, detail="summary", offset=offset)
        assert len(page.model_dump_json()) < SUMMARY_BUDGET_BYTES + 1_000
        assert not page.tables and page.compact  # one line per table
        assert page.note and "one line" in page.note
        assert page.compact[0].endswith("8 columns, ~" + f"{page.offset * 10:,} rows")
        seen.extend(line.split(":")[0].removeprefix("public.") for line in page.compact)
        offset = page.next_offset
        pages += 1
        assert pages < 50
    assert seen == sorted(t.name for t in catalog.tables)  # every table exactly once, in order


def test_full_detail_pages_too() -> None:
    catalog = Catalog(engine="postgresql", tables=[table(i) for i in range(600)])
    page = describe("c", catalog, detail="full", offset=0)
    assert page.details and page.truncated and page.next_offset == len(page.details)
    assert page.details[0].columns[0].name == "col_0"


def test_offset_past_the_end_says_so() -> None:
    page = describe("c", Catalog(engine="sqlite", tables=[table(1)]), detail="summary", offset=10)
    assert page.returned == 0 and page.note and "past the last table" in page.note


def test_column_text_shows_default_and_generated() -> None:
    col = Column(name="total", data_type="REAL", nullable=False, default="0", generated="a * 2")
    assert column_text(col) == "total REAL NOT NULL DEFAULT 0 GENERATED AS (a * 2)"
