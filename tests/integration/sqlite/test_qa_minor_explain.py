"""QA #13 (minor) on a real SQLite file: explain_query with analyze=true reports an analysed plan (the statement was
run and timed) without the "plain EXPLAIN" warning, and a large OFFSET is flagged (PLN055, PLN010's threshold)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.helpers import call_tool, result_text, sqlite_conn


async def test_explain_analyze_is_analysed_and_says_what_was_measured(shop_copy: Path) -> None:
    config = sqlite_conn(shop_copy, "q")
    result: Any = await call_tool(
        [config], "explain_query", {"sql": "SELECT * FROM orders", "connection": "q", "analyze": True}
    )
    assert not result.is_error, result_text(result)
    out = result.structured_content
    assert out["analyzed"] is True and out["execution_ms"] is not None
    assert not any("plain EXPLAIN" in w for w in out["warnings"]), out["warnings"]
    assert any("timed it as a whole" in w and "row/byte cap" in w for w in out["warnings"]), out["warnings"]

    plain: Any = await call_tool([config], "explain_query", {"sql": "SELECT * FROM orders", "connection": "q"})
    assert plain.structured_content["analyzed"] is False
    assert any("plain EXPLAIN" in w for w in plain.structured_content["warnings"])


async def test_large_offset_is_flagged_on_sqlite_plans(shop_copy: Path) -> None:
    config = sqlite_conn(shop_copy, "q")
    sql = "SELECT id FROM orders ORDER BY id LIMIT 10 OFFSET 90000"
    for analyze in (False, True):
        result: Any = await call_tool([config], "explain_query", {"sql": sql, "connection": "q", "analyze": analyze})
        assert not result.is_error, result_text(result)
        [finding] = [f for f in result.structured_content["findings"] if f["rule_id"] == "PLN055"]
        assert finding["evidence"]["rows_skipped"] == 90000 and finding["table"] == "orders"
        assert finding["fix"]["statements"] == ["-- WHERE (id) > (?) ORDER BY id LIMIT ?"]
    small: Any = await call_tool(
        [config], "explain_query", {"sql": "SELECT id FROM orders LIMIT 10 OFFSET 20", "connection": "q"}
    )
    assert "PLN055" not in [f["rule_id"] for f in small.structured_content["findings"]]
