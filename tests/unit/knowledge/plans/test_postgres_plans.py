"""PostgreSQL plans: text and JSON parse alike, pev2 timing, PLN rules on recorded fixtures, compact tree, fuzzing.

Fixtures in tests/fixtures/plans/postgresql were recorded from PostgreSQL 15 by record.sh there.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dbspecialist.knowledge.plans.analyze import analyze_plan, detect_engine
from dbspecialist.knowledge.plans.annotate import annotate
from dbspecialist.knowledge.plans.compact import compact_tree
from dbspecialist.knowledge.plans.model import Plan, PlanNode
from dbspecialist.knowledge.plans.postgres_parse import display_name, parse_postgres_plan
from dbspecialist.knowledge.plans.rules_postgres import RULES, condition_columns

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "plans" / "postgresql"
NAMES = sorted(p.stem for p in FIXTURES.glob("*.plan"))


def text(name: str) -> str:
    return (FIXTURES / f"{name}.plan").read_text(encoding="utf-8")


def js(name: str) -> str:
    return (FIXTURES / f"{name}.json").read_text(encoding="utf-8")


def nodes(plan: Plan) -> list[PlanNode]:
    return list(plan.nodes())


def shape(node: PlanNode) -> tuple[Any, ...]:
    sub = node.parent_relationship if node.parent_relationship in ("InitPlan", "SubPlan") else None
    return (
        display_name(node), node.node_type, node.relation, node.alias, node.index_name, node.cte_name,
        node.join_type, node.plan_rows, node.plan_width, node.startup_cost, node.total_cost,
        node.actual_loops is not None, sub, node.subplan_name, node.filter, node.index_cond, node.sort_key,
        node.sort_method, node.hash_batches, node.original_hash_batches, node.workers_planned, len(node.children),
    )  # fmt: skip


def test_fixtures_exist() -> None:
    assert len(NAMES) >= 16
    assert all((FIXTURES / f"{n}.json").exists() for n in NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_text_and_json_give_the_same_tree(name: str) -> None:
    t, j = parse_postgres_plan(text(name)), parse_postgres_plan(js(name))
    assert (t.format, j.format) == ("text", "json")
    assert t.analyzed and j.analyzed
    assert [shape(n) for n in nodes(t)] == [shape(n) for n in nodes(j)]
    assert t.planning_ms is not None and j.planning_ms is not None
    assert t.execution_ms is not None and j.execution_ms is not None
    # the two forms come from two executions: times differ, but every executed node has them in both
    for a, b in zip(nodes(t), nodes(j), strict=True):
        assert (a.actual_total_ms is None) == (b.actual_total_ms is None)
        if not a.extra.get("Parallel Aware") and a.node_type not in ("Gather", "Aggregate"):
            assert a.actual_rows == b.actual_rows, a.node_type


def test_json_as_list_dict_and_string_agree() -> None:
    raw = json.loads(js("03-hash-batches"))
    a, b, c = parse_postgres_plan(raw), parse_postgres_plan(raw[0]), parse_postgres_plan(js("03-hash-batches"))
    assert a == b == c


def test_text_without_frame_and_json_in_psql_frame() -> None:
    framed = text("02-nested-loop")
    body = [ln[1:] for ln in framed.splitlines()[2:] if ln and not ln.startswith("(")]
    assert parse_postgres_plan("\n".join(body)) == parse_postgres_plan(framed)
    # FORMAT JSON as psql's aligned output prints it: one cell, '+' at each wrapped line end
    lines = js("02-nested-loop").splitlines()
    aligned = (
        " QUERY PLAN\n" + "-" * 40 + "\n" + "\n".join(f" {ln} +" for ln in lines[:-1]) + f"\n {lines[-1]}\n(1 row)\n"
    )
    assert parse_postgres_plan(aligned) == parse_postgres_plan(js("02-nested-loop"))


def test_text_details() -> None:
    p = parse_postgres_plan(text("04-external-sort"))
    assert (p.root.sort_method, p.root.sort_space_type, p.root.sort_space_kb) == ("external merge", "Disk", 10328.0)
    assert p.root.sort_key == ["total", "id"]
    assert p.root.buffers["temp_written"] == 5631
    hash_node = nodes(parse_postgres_plan(text("03-hash-batches")))[2]
    assert (hash_node.node_type, hash_node.hash_batches, hash_node.original_hash_batches) == ("Hash", 16, 16)
    bitmap = nodes(parse_postgres_plan(text("05-bitmap-lossy")))[1]
    assert (bitmap.exact_heap_blocks, bitmap.lossy_heap_blocks) == (949, 1038)
    jit_t, jit_j = parse_postgres_plan(text("11-jit")), parse_postgres_plan(js("11-jit"))
    assert jit_t.jit_functions == jit_j.jit_functions == 8
    assert jit_t.jit_ms and jit_j.jit_ms and jit_t.extra["jit_options"] == jit_j.extra["jit_options"]


def test_plain_explain_has_no_actuals() -> None:
    plain = "Seq Scan on orders  (cost=0.00..4987.00 rows=300000 width=23)\n  Filter: (customer_id = 1)"
    p = annotate(parse_postgres_plan(plain))
    assert not p.analyzed
    assert p.root.inclusive_ms is None and p.root.exclusive_pct is None and p.root.estimate_factor is None
    assert p.root.exclusive_cost == 4987.0 and p.root.node_id == 1
    assert analyze_plan(plain).warnings


# ------------------------------------------------------------------------------------------- pev2 timing


def test_parallel_timing_matches_pev2_by_hand() -> None:
    p = annotate(parse_postgres_plan(text("07-parallel-gather")))
    final, gather, partial, scan = nodes(p)
    assert gather.workers_launched == 1
    # under Gather: actual total x loops / (workers launched + 1)
    assert scan.inclusive_ms == pytest.approx(10.677 * 2 / 2)
    assert partial.inclusive_ms == pytest.approx(11.895 * 2 / 2)
    assert partial.exclusive_ms == pytest.approx(11.895 - 10.677)
    assert gather.inclusive_ms == pytest.approx(16.776)  # Gather itself is not divided
    assert gather.exclusive_ms == pytest.approx(16.776 - 11.895)
    assert final.exclusive_ms == pytest.approx(16.782 - 16.776)
    assert scan.exclusive_pct == pytest.approx(100 * 10.677 / 16.868)
    assert [n.node_id for n in nodes(p)] == [1, 2, 3, 4]


def test_loops_initplan_subplan_timing_matches_pev2_by_hand() -> None:
    p = annotate(parse_postgres_plan(text("12-initplan-subplan")))
    ios, init_agg, _init_scan, sub_agg, sub_scan = nodes(p)
    assert (init_agg.parent_relationship, sub_agg.parent_relationship) == ("InitPlan", "SubPlan")
    assert sub_scan.inclusive_ms == pytest.approx(0.009 * 200)
    assert sub_scan.total_actual_rows == 200
    assert sub_agg.exclusive_ms == pytest.approx(0.0)
    assert init_agg.exclusive_ms == pytest.approx(0.042 - 0.027)
    # SubPlan subtracted, InitPlan not; then the node reading $1 loses the InitPlan's time
    assert ios.exclusive_ms == pytest.approx(1.936 - 0.009 * 200 - 0.042)


def test_cte_scan_loses_the_cte_time() -> None:
    p = annotate(parse_postgres_plan(text("08-cte-materialized")))
    scan, cte = nodes(p)
    assert cte.subplan_name == "CTE recent" and scan.cte_name == "recent"
    assert scan.exclusive_ms == pytest.approx(49.026 - 21.774)
    assert scan.estimate_factor == pytest.approx(1439 / 15) and scan.estimate_direction == "over"


def test_annotate_does_not_mutate_its_input() -> None:
    p = parse_postgres_plan(js("07-parallel-gather"))
    before = p.model_dump()
    annotate(p)
    assert p.model_dump() == before


# ------------------------------------------------------------------------------------------- rules

EXPECTED: dict[str, tuple[str, str]] = {
    "PLN003": ("01-seq-scan-filter", "#1 Seq Scan on orders"),
    "PLN008": ("02-nested-loop", "#1 Nested Loop"),
    "PLN005": ("03-hash-batches", "#3 Hash"),
    "PLN004": ("04-external-sort", "#1 Sort"),
    "PLN006": ("05-bitmap-lossy", "#2 Bitmap Heap Scan on orders"),
    "PLN007": ("06-index-only-heap-fetches", "#1 Index Only Scan on events"),
    "PLN011": ("08-cte-materialized", "#1 CTE Scan on recent"),
    "PLN010": ("09-large-offset", "#1 Limit"),
    "PLN002": ("10-correlated-misestimate", "#1 Seq Scan on readings"),
    "PLN012": ("11-jit", "#1 HashAggregate"),
    "PLN009": ("13-index-scan-filter", "#1 Index Scan on orders"),
    "PLN014": ("14-workers-not-launched", "#2 Gather"),
    "PLN013": ("15-planning-slow", "#1 Limit"),
    "PLN001": ("01-seq-scan-filter", ""),
}


def test_rule_ids_are_unique_documented_and_in_range() -> None:
    ids = [spec.id for spec, _ in RULES]
    assert len(ids) == len(set(ids))
    assert all(i.startswith("PLN") and 1 <= int(i[3:]) <= 29 for i in ids)
    assert set(EXPECTED) <= set(ids)
    for _spec, check in RULES:
        doc = check.__doc__ or ""
        for section in ("## Why is this bad?", "## Example", "## Use instead", "## Fix safety"):
            assert section in doc, (check.__name__, section)


@pytest.mark.parametrize("rule_id", sorted(set(EXPECTED) - {"PLN001"}))
@pytest.mark.parametrize("form", ["plan", "json"])
def test_each_rule_fires_on_its_fixture(rule_id: str, form: str) -> None:
    name, subject = EXPECTED[rule_id]
    raw = text(name) if form == "plan" else js(name)
    found = [f for f in analyze_plan(raw).findings if f.rule_id == rule_id]
    assert found, f"{rule_id} silent on {name}"
    assert found[0].subject == subject and found[0].subject_kind == "node"
    assert found[0].evidence


def test_slow_node_names_the_slowest() -> None:
    a = analyze_plan(text("03-hash-batches"))
    slow = [f for f in a.findings if f.rule_id == "PLN001"]
    assert 1 <= len(slow) <= 3
    p = annotate(parse_postgres_plan(text("03-hash-batches")))
    worst = max(nodes(p), key=lambda n: n.exclusive_pct or 0.0)
    assert any(f.subject.startswith(f"#{worst.node_id} ") for f in slow)


def test_clean_plan_is_quiet() -> None:
    for raw in (text("16-clean-pk-lookup"), js("16-clean-pk-lookup")):
        a = analyze_plan(raw)
        assert a.findings == [] and sum(a.counts.values()) == 0


def _fix(name: str, rule_id: str) -> list[str]:
    f = next(f for f in analyze_plan(text(name)).findings if f.rule_id == rule_id)
    assert f.fix is not None
    return f.fix.statements


def test_fixes_are_concrete() -> None:
    assert _fix("01-seq-scan-filter", "PLN003") == [
        "CREATE INDEX CONCURRENTLY orders_customer_id_idx ON orders (customer_id);"
    ]
    assert _fix("04-external-sort", "PLN004") == ["SET LOCAL work_mem = '21MB';"]  # 2 x 10328 kB, rounded up
    stats = _fix("10-correlated-misestimate", "PLN002")
    assert stats[0].startswith("CREATE STATISTICS") and "ON a, b FROM readings" in stats[0]
    assert stats[-1] == "ANALYZE readings;"
    assert _fix("02-nested-loop", "PLN008") == ["CREATE INDEX CONCURRENTLY regions_code_idx ON regions (code);"]
    assert _fix("13-index-scan-filter", "PLN009") == [
        "CREATE INDEX CONCURRENTLY orders_customer_id_created_idx ON orders (customer_id, created);"
    ]
    assert _fix("06-index-only-heap-fetches", "PLN007") == ["VACUUM (ANALYZE) events;"]
    assert _fix("11-jit", "PLN012") == ["SET LOCAL jit = off;"]


def test_offset_from_sql_context() -> None:
    plain = (
        "Limit  (cost=3263.76..3264.41 rows=20 width=23)\n"
        "  ->  Seq Scan on t  (cost=0.00..9790.42 rows=300000 width=23)"
    )
    assert not [f for f in analyze_plan(plain).findings if f.rule_id == "PLN010"]
    found = analyze_plan(plain, context={"sql": "SELECT * FROM t ORDER BY id OFFSET 50000 LIMIT 20"}).findings
    assert [f.evidence["rows_skipped"] for f in found if f.rule_id == "PLN010"] == [50000.0]


def test_condition_columns() -> None:
    assert condition_columns("((created >= '2020-01-01'::date) AND (customer_id = 5))") == ["customer_id", "created"]
    assert condition_columns("((c.id % 300) = r.code)", "r") == ["code"]
    assert condition_columns("(status = 'a = b'::text)") == ["status"]


# ------------------------------------------------------------------------------------------- compact, entry


def test_compact_tree_is_small_and_names_the_slowest() -> None:
    a = analyze_plan(text("01-seq-scan-filter"))
    assert len(a.compact) == a.nodes == 1
    line = a.compact[0].line
    assert line.startswith("Seq Scan on orders (cost 0..") and "removed by filter" in line and "% time" in line
    big = analyze_plan(text("15-planning-slow"))
    assert len(big.compact) == big.nodes == 38
    assert all(len(c.line) < 300 for c in big.compact)
    tree = compact_tree(annotate(parse_postgres_plan(text("03-hash-batches"))))
    assert [c.depth for c in tree] == [0, 1, 1, 2]
    assert "16 batches" in tree[2].line


def test_compact_tree_is_capped() -> None:
    members = [
        {"Node Type": "Seq Scan", "Relation Name": f"p{i}", "Alias": f"p{i}", "Plan Rows": 1} for i in range(300)
    ]
    plan = parse_postgres_plan([{"Plan": {"Node Type": "Append", "Plans": members}}])
    tree = compact_tree(plan)
    assert len(tree) == 201 and tree[-1].line == "… 101 more nodes"


def test_detect_engine() -> None:
    assert detect_engine(text("01-seq-scan-filter")) == "postgresql"
    assert detect_engine(json.loads(js("01-seq-scan-filter"))) == "postgresql"
    assert detect_engine(js("01-seq-scan-filter")) == "postgresql"
    with pytest.raises(ValueError, match="Accepted"):
        detect_engine("hello world")


def test_bad_input_raises_value_error_naming_formats() -> None:
    for bad in ("", "not a plan", "[1, 2]", '{"Plan": 3}', "{"):
        with pytest.raises(ValueError, match=r"(?i)accepted"):
            analyze_plan(bad)
    with pytest.raises(ValueError):
        analyze_plan("x", engine="oracle")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_arbitrary_text_raises_only_value_error(raw: str) -> None:
    with contextlib.suppress(ValueError):
        analyze_plan(raw)


_JSONISH = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=True) | st.integers() | st.text(max_size=20),
    lambda kids: (
        st.lists(kids, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "Plan",
                    "Plans",
                    "Node Type",
                    "Actual Rows",
                    "Plan Rows",
                    "Actual Loops",
                    "Actual Total Time",
                    "Total Cost",
                    "Parent Relationship",
                    "Subplan Name",
                    "Workers Launched",
                    "Filter",
                    "x",
                ]
            ),
            kids,
            max_size=6,
        )
    ),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(_JSONISH)
def test_arbitrary_json_raises_only_value_error(raw: Any) -> None:
    for candidate in (raw, {"Plan": raw}, [{"Plan": raw}]):
        with contextlib.suppress(ValueError):
            analyze_plan(candidate, engine="postgresql")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(text("12-initplan-subplan").splitlines()), max_size=25))
def test_shuffled_plan_lines_raise_only_value_error(lines: list[str]) -> None:
    with contextlib.suppress(ValueError):
        analyze_plan("\n".join(lines))


def test_bench_5000_nodes() -> None:
    from bench.plan_analysis import main

    (row,) = main(quick=True)
    assert row["nodes"] == 5000
    assert row["total_ms"] <= 2 * row["target_ms"]  # the bench itself holds the 200 ms line; CI noise gets 2x here


def test_mysql_tree_text_is_not_taken_for_postgres() -> None:
    tree = "-> Inner hash join (t2.c1 = t1.c1)  (cost=0.70 rows=1)\n    -> Table scan on t2  (cost=0.35 rows=1)\n"
    with pytest.raises(ValueError, match="width"):
        parse_postgres_plan(tree)
    with pytest.raises(ValueError):
        parse_postgres_plan("-> Hash\n    -> Something else\n")
