"""QA #13 (minor): a timed SQLite run is an analysed plan, and a large OFFSET is flagged on MySQL/MariaDB and SQLite
plans as PLN010 flags it on PostgreSQL (same threshold, same wording), read from the statement."""

from __future__ import annotations

from typing import Any

import pytest

from dbspecialist.knowledge.plans.analyze import analyze_plan
from dbspecialist.knowledge.plans.rules_postgres import LARGE_OFFSET_ROWS

SQLITE_SCAN = [{"id": 2, "parent": 0, "detail": "SCAN orders"}]
# MariaDB 10.11 EXPLAIN FORMAT=JSON of SELECT * FROM orders ORDER BY created_at LIMIT 10 OFFSET 90000: no OFFSET in it
MARIADB_JSON: dict[str, Any] = {
    "query_block": {
        "select_id": 1,
        "nested_loop": [
            {
                "read_sorted_file": {
                    "filesort": {
                        "sort_key": "orders.created_at",
                        "table": {"table_name": "orders", "access_type": "ALL", "rows": 99834, "filtered": 100},
                    }
                }
            }
        ],
    }
}
MYSQL_TREE = (
    "-> Limit/Offset: 10/90000 row(s)  (cost=10098 rows=10)\n    -> Table scan on orders  (cost=10098 rows=99834)\n"
)


def _ids(raw: Any, engine: str, sql: str | None) -> list[str]:
    return [f.rule_id for f in analyze_plan(raw, engine, context={"sql": sql}).findings]


def test_sqlite_timed_run_is_analysed_without_the_plain_explain_warning() -> None:
    raw = {"query_plan": SQLITE_SCAN, "execution": {"elapsed_ms": 12.5, "rows": 200, "truncated": True}}
    result = analyze_plan(raw, "sqlite", context={"sql": "SELECT * FROM orders"})
    assert result.analyzed is True and result.execution_ms == 12.5
    assert not any("plain EXPLAIN" in w for w in result.warnings)
    (warning,) = result.warnings
    assert "timed it as a whole" in warning and "200 rows" in warning and "row/byte cap" in warning


def test_sqlite_plan_without_a_run_keeps_the_plain_explain_warning() -> None:
    result = analyze_plan(SQLITE_SCAN, "sqlite", context={"sql": "SELECT * FROM orders"})
    assert result.analyzed is False and result.execution_ms is None
    assert any("plain EXPLAIN" in w for w in result.warnings)


def test_sqlite_large_offset_pln055_follows_pln010() -> None:
    sql = "SELECT * FROM orders ORDER BY created_at DESC, id DESC LIMIT 10 OFFSET 90000"
    (finding,) = [
        f for f in analyze_plan(SQLITE_SCAN, "sqlite", context={"sql": sql}).findings if f.rule_id == "PLN055"
    ]
    assert finding.severity.value == "medium" and finding.table == "orders"
    assert finding.title == "The query reads and discards 90000 rows before the page it returns"
    assert finding.evidence["rows_skipped"] == 90000 and finding.evidence["limit"] == 10
    assert finding.rationale.startswith("OFFSET still produces every skipped row")
    assert finding.fix is not None and finding.fix.safety == "display-only"
    assert finding.fix.statements == ["-- WHERE (created_at, id) < (?) ORDER BY created_at DESC, id DESC LIMIT ?"]


@pytest.mark.parametrize(
    ("offset", "flagged"), [(LARGE_OFFSET_ROWS - 1, False), (LARGE_OFFSET_ROWS, True), (90_000, True)]
)
def test_offset_threshold_is_pln010s(offset: int, flagged: bool) -> None:
    sql = f"SELECT * FROM orders LIMIT 10 OFFSET {offset}"
    assert ("PLN055" in _ids(SQLITE_SCAN, "sqlite", sql)) is flagged
    assert ("PLN037" in _ids(MARIADB_JSON, "mariadb", sql)) is flagged


def test_mariadb_and_mysql_limit_comma_form() -> None:
    sql = "SELECT * FROM orders o ORDER BY o.created_at LIMIT 90000, 10"
    for engine in ("mariadb", "mysql"):
        found = [f for f in analyze_plan(MARIADB_JSON, engine, context={"sql": sql}).findings if f.rule_id == "PLN037"]
        assert len(found) == 1, engine
        assert found[0].evidence == {"rows_skipped": 90000, "limit": 10, "order_by": "o.created_at"}
        assert "WHERE (o.created_at) > (last row's values) ORDER BY o.created_at LIMIT n" in found[0].help


def test_mysql_tree_limit_offset_node_without_sql() -> None:
    assert "PLN037" in _ids(MYSQL_TREE, "mysql", None)
    assert "PLN037" not in _ids(MYSQL_TREE.replace("10/90000", "10/900"), "mysql", None)


def test_offset_without_order_by_says_pages_are_undefined_and_placeholders_are_ignored() -> None:
    (finding,) = [
        f
        for f in analyze_plan(
            SQLITE_SCAN, "sqlite", context={"sql": "SELECT * FROM orders LIMIT 10 OFFSET 90000"}
        ).findings
        if f.rule_id == "PLN055"
    ]
    assert "Without ORDER BY" in finding.rationale
    assert "PLN055" not in _ids(SQLITE_SCAN, "sqlite", "SELECT * FROM orders LIMIT ? OFFSET ?")
    assert "PLN055" not in _ids(SQLITE_SCAN, "sqlite", None)


def test_offset_in_a_subquery_is_flagged_with_its_own_order() -> None:
    sql = "SELECT * FROM (SELECT id FROM orders ORDER BY id LIMIT 5 OFFSET 20000) AS page"
    (finding,) = [
        f for f in analyze_plan(MARIADB_JSON, "mariadb", context={"sql": sql}).findings if f.rule_id == "PLN037"
    ]
    assert finding.evidence["rows_skipped"] == 20000 and finding.evidence["order_by"] == "id"
