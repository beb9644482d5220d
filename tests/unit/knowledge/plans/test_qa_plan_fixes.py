"""QA defects in PostgreSQL plan analysis: OFFSET under a CTE (PLN010), qualified and partition-aware index fixes
(PLN003/PLN008/PLN009), and the warnings for generic plans whose partitions were pruned by NULL arguments."""

from __future__ import annotations

from typing import Any

from dbspecialist.knowledge.findings import Finding
from dbspecialist.knowledge.plans.analyze import analyze_plan


def _scan(relation: str, alias: str, *, schema: str | None = "shop", rows: float = 10, removed: float = 99_990,
          parent: dict[str, Any] | None = None, member: bool = False, **extra: Any) -> dict[str, Any]:  # fmt: skip
    node: dict[str, Any] = {
        "Node Type": "Seq Scan", "Relation Name": relation, "Alias": alias, "Startup Cost": 0.0,
        "Total Cost": 2000.0, "Plan Rows": rows, "Plan Width": 40, "Actual Startup Time": 0.01,
        "Actual Total Time": 30.0, "Actual Rows": rows, "Actual Loops": 1,
        "Filter": f"({alias}.sku = 'SKU1'::text)", "Rows Removed by Filter": removed, **extra,
    }  # fmt: skip
    if schema is not None:
        node["Schema"] = schema
    if parent is not None:
        node["*Partition Of"] = parent
    if member:
        node["Parent Relationship"] = "Member"
    return node


def _findings(plan: dict[str, Any], rule_id: str, sql: str | None = None) -> list[Finding]:
    context = {"sql": sql} if sql is not None else None
    analysis = analyze_plan([plan], "postgresql", context=context)
    return [f for f in analysis.findings if f.rule_id == rule_id]


# ---------------------------------------------------------------------------------------------------- PLN010

CTE_THEN_SORT = {
    "Plan": {
        "Node Type": "Limit", "Startup Cost": 100.0, "Total Cost": 101.0, "Plan Rows": 10, "Plan Width": 16,
        "Actual Startup Time": 50.0, "Actual Total Time": 50.1, "Actual Rows": 10, "Actual Loops": 1,
        "Plans": [
            {"Node Type": "Aggregate", "Strategy": "Hashed", "Parent Relationship": "InitPlan",
             "Subplan Name": "CTE big", "Startup Cost": 1.0, "Total Cost": 90.0, "Plan Rows": 50000,
             "Plan Width": 16, "Actual Startup Time": 40.0, "Actual Total Time": 45.0, "Actual Rows": 50000,
             "Actual Loops": 1},
            {"Node Type": "Sort", "Parent Relationship": "Outer", "Startup Cost": 95.0, "Total Cost": 99.0,
             "Plan Rows": 50000, "Plan Width": 16, "Actual Startup Time": 49.0, "Actual Total Time": 49.9,
             "Actual Rows": 10010, "Actual Loops": 1, "Sort Key": ["b.n DESC"],
             "Plans": [{"Node Type": "CTE Scan", "Parent Relationship": "Outer", "CTE Name": "big", "Alias": "b",
                        "Startup Cost": 0.0, "Total Cost": 50.0, "Plan Rows": 50000, "Plan Width": 16,
                        "Actual Startup Time": 40.0, "Actual Total Time": 47.0, "Actual Rows": 50000,
                        "Actual Loops": 1}]},
        ],
    }
}  # fmt: skip


def test_offset_counts_the_limits_own_input_not_a_cte_listed_before_it() -> None:
    sql = "WITH big AS MATERIALIZED (SELECT ...) SELECT b.n FROM big b ORDER BY b.n DESC OFFSET 10000 LIMIT 10"
    (finding,) = _findings(CTE_THEN_SORT, "PLN010", sql)
    assert finding.evidence["rows_skipped"] == 10_000  # the Sort returned 10,010; the CTE's 50,000 is not the input
    assert "b.n DESC" in finding.help


# ---------------------------------------------------------------------------------------------------- PLN003


def test_index_fix_names_the_schema_the_plan_gives() -> None:
    (finding,) = _findings({"Plan": _scan("order_items", "order_items")}, "PLN003")
    assert finding.fix is not None
    assert finding.fix.statements == ["CREATE INDEX CONCURRENTLY order_items_sku_idx ON shop.order_items (sku);"]
    assert "no schema" not in (finding.fix.note or "")


def test_index_fix_without_a_schema_in_the_plan_says_to_qualify_it() -> None:
    (finding,) = _findings({"Plan": _scan("order_items", "order_items", schema=None)}, "PLN003")
    assert finding.fix is not None
    assert finding.fix.statements == ["CREATE INDEX CONCURRENTLY order_items_sku_idx ON order_items (sku);"]
    assert "names no schema" in (finding.fix.note or "")


def test_index_fix_quotes_names_that_need_it() -> None:
    (finding,) = _findings({"Plan": _scan("Order Items", "oi", schema="My Shop")}, "PLN003")
    assert finding.fix is not None
    expected = 'CREATE INDEX CONCURRENTLY "order items_sku_idx" ON "My Shop"."Order Items" (sku);'
    assert finding.fix.statements == [expected]


PARENT = {
    "Schema": "shop",
    "Relation Name": "events",
    "Parent Is Partition": False,
    "Partitions": [
        {"Schema": "shop", "Relation Name": "events_2024", "Partitioned": False},
        {"Schema": "shop", "Relation Name": "events_2025", "Partitioned": False},
    ],
}


def test_index_fix_on_a_partition_targets_its_parent_partition_by_partition() -> None:
    (finding,) = _findings({"Plan": _scan("events_2025", "e", parent=PARENT)}, "PLN003")
    assert finding.fix is not None
    assert finding.fix.statements == [
        "CREATE INDEX IF NOT EXISTS events_sku_idx ON ONLY shop.events (sku);",
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS events_2024_sku_idx ON shop.events_2024 (sku);",
        "ALTER INDEX shop.events_sku_idx ATTACH PARTITION shop.events_2024_sku_idx;",
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS events_2025_sku_idx ON shop.events_2025 (sku);",
        "ALTER INDEX shop.events_sku_idx ATTACH PARTITION shop.events_2025_sku_idx;",
    ]
    assert "partition of shop.events" in (finding.fix.note or "")
    assert not any("CONCURRENTLY" in s and "ON ONLY" in s for s in finding.fix.statements)


def test_sub_partitioned_partition_and_nested_parent_are_noted() -> None:
    parent = {
        **PARENT,
        "Parent Is Partition": True,
        "Partitions": [{"Schema": "shop", "Relation Name": "events_eu", "Partitioned": True}],
    }
    (finding,) = _findings({"Plan": _scan("events_2025", "e", parent=parent)}, "PLN003")
    assert finding.fix is not None
    assert finding.fix.statements[1] == "CREATE INDEX IF NOT EXISTS events_eu_sku_idx ON ONLY shop.events_eu (sku);"
    note = finding.fix.note or ""
    assert "events_eu is itself partitioned" in note and "events is itself a partition" in note


def test_append_member_without_catalog_knowledge_gets_a_partition_note() -> None:
    append = {
        "Node Type": "Append", "Startup Cost": 0.0, "Total Cost": 4000.0, "Plan Rows": 20, "Plan Width": 40,
        "Actual Startup Time": 0.01, "Actual Total Time": 60.0, "Actual Rows": 20, "Actual Loops": 1,
        "Plans": [_scan("events_2024", "events_1", member=True), _scan("events_2025", "events_2", member=True)],
    }  # fmt: skip
    found = _findings({"Plan": append}, "PLN003")
    assert len(found) == 2
    assert all("if events_202" in (f.fix.note or "") for f in found if f.fix)


# ---------------------------------------------------------------------------------------- generic plans ($n)

PRUNED_BY_NULLS = {
    "Plan": {
        "Node Type": "Limit", "Startup Cost": 6836.4, "Total Cost": 6836.41, "Plan Rows": 3, "Plan Width": 66,
        "Plans": [{"Node Type": "Append", "Parent Relationship": "Outer", "Startup Cost": 0.0,
                   "Total Cost": 5836.07, "Plan Rows": 3, "Plan Width": 66, "Subplans Removed": 3}],
    }
}  # fmt: skip
SQL = "SELECT * FROM shop.events WHERE customer_id = $1 AND occurred_at >= $2 LIMIT 50"


def test_generic_plan_with_subplans_removed_warns_that_partition_scans_are_missing() -> None:
    warnings = analyze_plan([PRUNED_BY_NULLS], "postgresql", context={"sql": SQL}).warnings
    (warning,) = [w for w in warnings if "Partition scans are missing" in w]
    assert "#2 Append: Subplans Removed: 3" in warning and "NULL in place of $1, $2" in warning
    assert "representative values in place of $1, $2" in warning


def test_subplans_removed_without_parameters_is_real_pruning_and_not_flagged() -> None:
    for context in (None, {"sql": "SELECT * FROM shop.events WHERE occurred_at >= now() - interval '1 day'"}):
        warnings = analyze_plan([PRUNED_BY_NULLS], "postgresql", context=context).warnings
        assert not any("Partition scans are missing" in w for w in warnings)


def test_generic_plan_explained_without_run_time_pruning_says_so() -> None:
    plan = {
        **PRUNED_BY_NULLS,
        "Settings": {"enable_partition_pruning": "off", "plan_cache_mode": "force_generic_plan"},
    }
    plan["Plan"] = {**PRUNED_BY_NULLS["Plan"]}
    plan["Plan"]["Plans"] = [{**PRUNED_BY_NULLS["Plan"]["Plans"][0], "Subplans Removed": 0}]
    warnings = analyze_plan([plan], "postgresql", context={"sql": SQL}).warnings
    assert any("enable_partition_pruning = off" in w and "representative values" in w for w in warnings)
    assert not any("Partition scans are missing" in w for w in warnings)
