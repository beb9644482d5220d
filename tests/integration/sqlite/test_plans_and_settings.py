"""SQLite explain (EXPLAIN QUERY PLAN), settings (PRAGMAs) and statistics: raw, through the guard."""

from __future__ import annotations

from pathlib import Path

import pytest

from dbspecialist.adapters.sqlite import SQLiteAdapter
from dbspecialist.errors import QueryRefusedError
from tests.helpers import checksum, sqlite_conn


async def test_explain_shows_the_scan_of_an_unindexed_foreign_key(shop_copy: Path) -> None:
    adapter = SQLiteAdapter(sqlite_conn(shop_copy))
    try:
        plan = await adapter.explain("SELECT * FROM order_items WHERE product_id = 5", timeout_ms=1000)
        indexed = await adapter.explain("SELECT * FROM orders WHERE customer_id = 5", timeout_ms=1000)
    finally:
        await adapter.close()
    assert plan.format == "rows" and not plan.analyzed
    assert [step["detail"] for step in plan.plan] == ["SCAN order_items"]
    assert any("USING INDEX ix_orders_customer" in step["detail"] for step in indexed.plan)


async def test_explain_analyze_times_a_capped_run(shop_copy: Path) -> None:
    adapter = SQLiteAdapter(sqlite_conn(shop_copy))
    try:
        result = await adapter.explain("SELECT id FROM orders", analyze=True, timeout_ms=2000)
    finally:
        await adapter.close()
    assert result.analyzed and result.plan["execution"]["rows"] == 200  # the connection's max_rows
    assert result.plan["execution"]["truncated"] is True
    assert result.plan["query_plan"][0]["detail"].startswith("SCAN orders")


async def test_explain_goes_through_the_guard(shop_copy: Path) -> None:
    before = checksum(shop_copy)
    adapter = SQLiteAdapter(sqlite_conn(shop_copy))
    try:
        with pytest.raises(QueryRefusedError):
            await adapter.explain("DELETE FROM orders", analyze=True, timeout_ms=1000)
    finally:
        await adapter.close()
    assert checksum(shop_copy) == before


async def test_settings_and_statistics(shop_copy: Path) -> None:
    adapter = SQLiteAdapter(sqlite_conn(shop_copy))
    try:
        settings = {s.name: s for s in await adapter.settings()}
        stats = await adapter.statistics()
        # Internal PRAGMA reads do not open a door for users.
        with pytest.raises(QueryRefusedError):
            await adapter.run_read_only("PRAGMA busy_timeout", max_rows=1, max_bytes=100, timeout_ms=100)
    finally:
        await adapter.close()
    assert settings["journal_mode"].value == "delete"
    assert settings["page_size"].value == "4096" and settings["page_size"].unit == "bytes"
    assert settings["busy_timeout"].unit == "ms"
    assert stats["pragmas"]["page_count"] * stats["pragmas"]["page_size"] == stats["file_bytes"]
