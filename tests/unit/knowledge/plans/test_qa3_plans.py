"""QA pass 3 defects in plan analysis, on the real plans QA recorded (tests/fixtures/plans/qa3/):

- PLN002 on nodes whose reader stopped early (a satisfied LIMIT, the inner side of a semi/anti join);
- MariaDB ANALYZE FORMAT=JSON: the query block's time counted again under its filesort's temporary table;
- MySQL FORMAT=TREE: PLN030 on the internal <temporary> table, PLN033 twice for one temporary table.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dbspecialist.knowledge.plans.analyze import PlanAnalysis, analyze_plan

QA3 = Path(__file__).resolve().parents[3] / "fixtures" / "plans" / "qa3"


def _analyze(name: str, engine: str) -> PlanAnalysis:
    return analyze_plan((QA3 / name).read_text(), engine)


def _ids(analysis: PlanAnalysis, rule_id: str) -> list[str]:
    return [f.subject for f in analysis.findings if f.rule_id == rule_id]


# ---------------------------------------------------------------------------------------------------- PLN002


def test_seq_scan_stopped_by_limit_is_no_overestimate() -> None:
    # EXPLAIN ANALYZE SELECT * FROM orders WHERE status = 'paid' LIMIT 10: 100,160 rows estimated, 10 read.
    analysis = _analyze("pg-limit-seq-scan-stopped-early.txt", "postgresql")
    assert _ids(analysis, "PLN002") == []
    assert "stopped early by Limit" in analysis.compact[1].line


def test_top_n_sort_and_result_under_limit_offset_are_no_overestimates() -> None:
    analysis = _analyze("pg-limit-offset-topn-sort.txt", "postgresql")
    assert _ids(analysis, "PLN002") == []
    # the rest of the plan is still read: the 24M-row SubPlan scan, the spilled sort, the batched hash
    assert {"PLN001", "PLN003", "PLN004", "PLN005"} <= {f.rule_id for f in analysis.findings}


def _node(node_type: str, plan_rows: float, actual_rows: float, loops: float = 1, **more: Any) -> dict[str, Any]:
    return {
        "Node Type": node_type, "Startup Cost": 0.0, "Total Cost": 1000.0, "Plan Rows": plan_rows,
        "Plan Width": 8, "Actual Startup Time": 0.01, "Actual Total Time": 1.0, "Actual Rows": actual_rows,
        "Actual Loops": loops, **more,
    }  # fmt: skip


def _scan(plan_rows: float, actual_rows: float, loops: float = 1, **more: Any) -> dict[str, Any]:
    return _node("Seq Scan", plan_rows, actual_rows, loops, **{"Relation Name": "orders", "Alias": "orders", **more})


def _misestimated(root: dict[str, Any]) -> list[str]:
    analysis = analyze_plan([{"Plan": root}], "postgresql")
    return [f.subject for f in analysis.findings if f.rule_id == "PLN002"]


def test_limit_that_drained_its_input_keeps_the_overestimate() -> None:
    # LIMIT 500 over a scan that found only 10 rows: the Limit got fewer rows than asked, so 10 is the real count
    root = _node("Limit", 500, 10, Plans=[_scan(50_000, 10, **{"Parent Relationship": "Outer"})])
    assert "#2 Seq Scan on orders" in _misestimated(root)


def test_cut_stops_at_a_node_that_reads_all_its_input() -> None:
    # Limit -> Sort -> Seq Scan: the sort read the whole scan, so the scan's count is real
    sort = _node("Sort", 50_000, 10, **{"Parent Relationship": "Outer", "Sort Key": ["orders.id"]})
    sort["Plans"] = [_scan(50_000, 20, **{"Parent Relationship": "Outer"})]
    root = _node("Limit", 10, 10, Plans=[sort])
    assert _misestimated(root) == ["#3 Seq Scan on orders"]


def test_underestimate_under_a_limit_is_still_reported() -> None:
    root = _node("Limit", 10, 10, Plans=[_node("Nested Loop", 5, 10, **{"Parent Relationship": "Outer", "Plans": [
        _scan(1, 5_000, **{"Parent Relationship": "Outer"}),
        _scan(1, 1, loops=5_000, **{"Parent Relationship": "Inner", "Relation Name": "lines", "Alias": "l"}),
    ]})])  # fmt: skip
    assert _misestimated(root) == ["#3 Seq Scan on orders"]


def test_inner_side_of_a_semi_join_stops_at_the_first_match() -> None:
    semi = _node("Nested Loop", 1_000, 1_000, **{"Join Type": "Semi", "Plans": [
        _scan(1_000, 1_000, **{"Parent Relationship": "Outer"}),
        _scan(20_000, 1, loops=1_000, **{"Parent Relationship": "Inner", "Relation Name": "lines", "Alias": "l"}),
    ]})  # fmt: skip
    assert _misestimated(semi) == []
    inner = dict(semi, **{"Join Type": "Inner"})
    assert _misestimated(inner) == ["#3 Seq Scan on lines"]


# ------------------------------------------------------------------------------- MariaDB ANALYZE FORMAT=JSON


def test_mariadb_filesort_time_includes_the_reads_under_its_temporary_table() -> None:
    analysis = _analyze("mariadb-analyze-filesort-temporary.json", "mariadb")
    block, sort, temporary, users, orders = analysis.compact
    assert block.line == "Query Block (0% time, 0.0 ms)"  # all 87.3 ms are spent below it
    assert sort.line.endswith("1% time, 0.7 ms)")  # the sort's own r_total_time_ms
    assert temporary.line == "Temporary Table (0% time, 0.0 ms)"
    assert "98% time, 85.5 ms" in orders.line and "1% time, 1.1 ms" in users.line
    assert analysis.execution_ms is not None and round(analysis.execution_ms, 1) == 87.3


# ------------------------------------------------------------------------------------- MySQL FORMAT=TREE


def test_mysql_tree_temporary_table_is_no_full_scan_and_is_reported_once() -> None:
    analysis = _analyze("mysql-tree-temporary-aggregate.txt", "mysql")
    full_scans = [f for f in analysis.findings if f.rule_id == "PLN030"]
    assert [f.title for f in full_scans] == ["Every row of u (4,924) is read to answer the query"]
    (temporary,) = [f for f in analysis.findings if f.rule_id == "PLN033"]
    assert temporary.evidence["rows"] == 4987  # the groups the aggregate stored, not the estimate for u
    assert temporary.evidence["node"] == "Aggregate using temporary table"
