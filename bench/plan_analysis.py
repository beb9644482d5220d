"""Plan analysis speed: parse + annotate + rules on a generated 5,000-node PostgreSQL JSON plan (target ≤ 200 ms).

Run alone with `python -m bench.plan_analysis [--quick]`.
"""

from __future__ import annotations

import gc
import json
import statistics
import sys
import time
from typing import Any

TARGET_MS = 200.0
NODES = 5_000
NAME = "plan_analysis"


def _scan(i: int) -> dict[str, Any]:
    return {
        "Node Type": "Seq Scan",
        "Parent Relationship": "Inner",
        "Relation Name": f"t{i}",
        "Alias": f"t{i}",
        "Startup Cost": 0.0,
        "Total Cost": 431.0 + i,
        "Plan Rows": 3000 if i % 50 else 30,
        "Plan Width": 16,
        "Actual Startup Time": 0.01,
        "Actual Total Time": 0.5 + (i % 7) / 10,
        "Actual Rows": 2990 - i % 50,
        "Actual Loops": 1 + i % 3,
        "Filter": f"((a{i % 5} = {i}) AND (b >= 10))",
        "Rows Removed by Filter": 20_000 + i if i % 40 == 0 else i % 100,
        "Shared Hit Blocks": 100,
        "Shared Read Blocks": i % 11,
    }


def _member(i: int) -> dict[str, Any]:
    hash_node = {
        "Node Type": "Hash",
        "Parent Relationship": "Inner",
        "Startup Cost": 10.0,
        "Total Cost": 10.0 + i,
        "Plan Rows": 3000,
        "Plan Width": 16,
        "Actual Startup Time": 1.0,
        "Actual Total Time": 1.0,
        "Actual Rows": 40,
        "Actual Loops": 1,
        "Hash Batches": 1 + (i % 40 == 0),
        "Original Hash Batches": 1,
        "Peak Memory Usage": 64,
        "Plans": [_scan(2 * i + 1)],
    }
    outer = _scan(2 * i)
    outer["Parent Relationship"] = "Outer"
    return {
        "Node Type": "Hash Join",
        "Parent Relationship": "Member",
        "Join Type": "Inner",
        "Hash Cond": f"(t{2 * i}.id = t{2 * i + 1}.id)",
        "Startup Cost": 20.0 + i,
        "Total Cost": 500.0 + 2 * i,
        "Plan Rows": 1000 + i if i % 30 else 10,
        "Plan Width": 32,
        "Actual Startup Time": 2.0,
        "Actual Total Time": 3.0 + i / 100,
        "Actual Rows": 1000 + i,
        "Actual Loops": 1,
        "Plans": [outer, hash_node],
    }


def make_plan(nodes: int = NODES) -> list[dict[str, Any]]:
    """Limit → Sort (spilling) → Append over hash-join members (as a partitioned query gives): `nodes` nodes."""
    members = [_member(i) for i in range((nodes - 3) // 4)]
    append = {"Node Type": "Append", "Parent Relationship": "Outer", "Startup Cost": 0.0, "Total Cost": 9e5,
              "Plan Rows": 10**6, "Plan Width": 32, "Actual Startup Time": 2.0, "Actual Total Time": 3500.0,
              "Actual Rows": 10**6, "Actual Loops": 1, "Plans": members}  # fmt: skip
    sort = {"Node Type": "Sort", "Parent Relationship": "Outer", "Startup Cost": 9e5, "Total Cost": 9.5e5,
            "Plan Rows": 10**6, "Plan Width": 32, "Actual Startup Time": 3900.0, "Actual Total Time": 3990.0,
            "Actual Rows": 100_010, "Actual Loops": 1, "Sort Key": ["a", "b"], "Sort Method": "external merge",
            "Sort Space Used": 40960, "Sort Space Type": "Disk", "Plans": [append]}  # fmt: skip
    root: dict[str, Any] = {"Node Type": "Limit", "Startup Cost": 9e5, "Total Cost": 9.5e5, "Plan Rows": 10,
            "Plan Width": 32, "Actual Startup Time": 3990.0, "Actual Total Time": 4000.0, "Actual Rows": 10,
            "Actual Loops": 1, "Plans": [sort]}  # fmt: skip
    count = 3 + 4 * len(members)
    while count < nodes:
        root = {**root, "Plans": [root]}
        count += 1
    return [{"Plan": root, "Planning Time": 12.0, "Execution Time": 4000.0, "Triggers": []}]


def _timed(fn: Any, *args: Any) -> float:
    start = time.perf_counter()
    fn(*args)
    return (time.perf_counter() - start) * 1000


def main(quick: bool = False) -> list[dict[str, Any]]:
    from dbspecialist.knowledge.plans.analyze import analyze_plan
    from dbspecialist.knowledge.plans.annotate import annotate
    from dbspecialist.knowledge.plans.postgres_parse import parse_postgres_plan

    text = json.dumps(make_plan())
    # Earlier benchmarks in the same process (10,000-table schema review) leave a large heap whose full GC passes
    # would be charged to this one: collect and freeze it, so only this workload's own garbage is collected.
    gc.collect()
    gc.freeze()
    runs = 3 if quick else 10
    parse = [_timed(parse_postgres_plan, text) for _ in range(runs)]
    plan = parse_postgres_plan(text)
    ann = [_timed(annotate, plan) for _ in range(runs)]
    total = [_timed(analyze_plan, text) for _ in range(runs)]
    result = analyze_plan(text)
    median = statistics.median(total)
    return [
        {
            "what": f"PostgreSQL JSON plan, {result.nodes} nodes: parse + annotate + rules",
            "nodes": result.nodes,
            "findings": len(result.findings),
            "parse_ms": round(statistics.median(parse), 1),
            "annotate_ms": round(statistics.median(ann), 1),
            "total_ms": round(median, 1),
            "target_ms": TARGET_MS,
            "passed": median <= TARGET_MS,
        }
    ]


def run(benv: Any, *, quick: bool) -> dict[str, Any]:
    """`python -m bench` entry (bench.__main__ lists this module)."""
    del benv
    rows = main(quick=quick)
    return {"name": NAME, "rows": rows, "target": f"≤ {TARGET_MS:.0f} ms", "passed": all(r["passed"] for r in rows)}


def render(result: dict[str, Any]) -> list[str]:
    return [f"{NAME}: 5,000-node PostgreSQL plan, parse + annotate + rules"] + [
        f"  {json.dumps(r)}" for r in result["rows"]
    ]


if __name__ == "__main__":
    for row in main(quick="--quick" in sys.argv):
        print(json.dumps(row))
