"""MySQL/MariaDB, SQLite and MongoDB plans: every fixture parses into the expected tree, each rule fires on its
planted plan and stays quiet on a good one, detect() tells the formats apart, and no input escapes ValueError.

Fixtures: tests/fixtures/plans/{mariadb,sqlite,mongodb} were recorded from MariaDB 10.11, SQLite 3.40 and
SecantusDB here; tests/fixtures/plans/mysql/*-docs-* come from MySQL's documentation (source in the first
line); files named *-docs-shape-* follow a documented field set with written values (see their first line).
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dbspecialist.knowledge.findings import Finding
from dbspecialist.knowledge.plans.model import Plan
from dbspecialist.knowledge.plans.other_parse import detect, parse_plan
from dbspecialist.knowledge.plans.rules_other import RULES_BY_ENGINE, run_rules

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "plans"


def load(rel: str) -> tuple[Any, dict[str, Any]]:
    """The raw plan (comment lines dropped) and its context (SQL when the fixture records it)."""
    path = FIXTURES / rel
    text = "\n".join(line for line in path.read_text(encoding="utf-8").splitlines() if not line.startswith("# "))
    context: dict[str, Any] = {}
    if path.parent.name == "sqlite" and path.suffix == ".json":
        doc = json.loads(text)
        return doc["plan"], {"sql": doc["sql"]}
    sidecar = path.with_suffix(".sql")
    if sidecar.exists():
        context["sql"] = sidecar.read_text(encoding="utf-8")
    return text, context


def parsed(rel: str) -> tuple[Plan, dict[str, Any]]:
    raw, context = load(rel)
    engine = detect(raw)
    assert engine is not None, rel
    return parse_plan(raw, engine), context


def shape(plan: Plan) -> list[tuple[int, str, str | None]]:
    out: list[tuple[int, str, str | None]] = []

    def walk(node: Any, depth: int) -> None:
        out.append((depth, node.node_type, node.relation))
        for child in node.children:
            walk(child, depth + 1)

    walk(plan.root, 0)
    return out


def ids(findings: list[Finding]) -> list[str]:
    return sorted(f.rule_id for f in findings)


ALL_FIXTURES = sorted(
    str(p.relative_to(FIXTURES))
    for p in FIXTURES.glob("*/*")
    if p.parent.name in ("mysql", "mariadb", "sqlite", "mongodb") and p.suffix in (".txt", ".json")
)


# ------------------------------------------------------------------------------------------------ detection


@pytest.mark.parametrize("rel", ALL_FIXTURES)
def test_every_fixture_is_detected_and_parses(rel: str) -> None:
    raw, _ = load(rel)
    engine = detect(raw)
    folder = rel.split("/", 1)[0]
    # tabular MariaDB output is indistinguishable from MySQL's and is read as such
    expected = {"mysql"} if folder == "mysql" else {"mariadb", "mysql"} if folder == "mariadb" else {folder}
    assert engine in expected
    plan = parse_plan(raw, engine)
    assert plan.root.children or plan.engine == "mongodb" or plan.format == "tree"


def test_detect_tells_mariadb_json_from_mysql_json() -> None:
    assert detect(load("mariadb/03-json-full-scan-filesort.json")[0]) == "mariadb"
    assert detect(load("mariadb/04-analyze-json-full-scan-filesort.json")[0]) == "mariadb"
    assert detect(load("mysql/05-docs-shape-format-json-ordering.json")[0]) == "mysql"
    assert detect(json.loads(load("mysql/05-docs-shape-format-json-ordering.json")[0])) == "mysql"


def test_detect_accepts_adapter_shapes() -> None:
    rows, _ = load("sqlite/01-scan-temp-btree-order-by.json")
    assert detect(rows) == "sqlite"
    assert detect({"query_plan": rows, "execution": {"elapsed_ms": 1.5, "rows": 3, "truncated": False}}) == "sqlite"
    assert detect(json.loads(load("mongodb/01-collscan-sort-executionstats.json")[0])) == "mongodb"
    aggregate = {"stages": [{"$cursor": json.loads(load("mongodb/03-ixscan-fetch-queryplanner.json")[0])}]}
    assert detect(aggregate) == "mongodb"


@pytest.mark.parametrize(
    "rel", sorted(p.name for p in (FIXTURES / "postgresql").glob("*.*") if p.suffix in (".plan", ".json"))
)
def test_detect_returns_none_for_postgresql_plans(rel: str) -> None:
    assert detect((FIXTURES / "postgresql" / rel).read_text(encoding="utf-8")) is None


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "hello world",
        "Seq Scan on t  (cost=0.00..35.50 rows=2550 width=4)",
        "->  Seq Scan on t  (cost=0.00..35.50 rows=2550 width=4)",
        [{"Plan": {"Node Type": "Seq Scan"}}],
        {"foo": 1},
        [],
        42,
        None,
    ],
)
def test_detect_returns_none_for_other_input(raw: Any) -> None:
    assert detect(raw) is None


def test_parse_plan_rejects_foreign_engine_and_garbage() -> None:
    with pytest.raises(ValueError):
        parse_plan("anything", "postgresql")
    for engine in ("mysql", "mariadb", "sqlite", "mongodb"):
        with pytest.raises(ValueError):
            parse_plan("this is not a plan", engine)
        with pytest.raises(ValueError):
            parse_plan({"Plan": {}}, engine)


# ------------------------------------------------------------------------------------------------ MySQL / MariaDB trees


def test_mariadb_tabular_and_vertical_read_alike() -> None:
    table, _ = parsed("mariadb/01-tabular-full-scan-filesort.txt")
    vertical, _ = parsed("mariadb/02-vertical-full-scan-filesort.txt")
    assert shape(table) == shape(vertical) == [(0, "Query Block", None), (1, "ALL", "o"), (1, "eq_ref", "c")]
    scan, lookup = table.root.children
    assert scan.plan_rows == 19840 and scan.extra["access_type"] == "ALL" and scan.index_name is None
    assert scan.extra["using_filesort"] is True and scan.extra["using_where"] is True
    assert lookup.index_name == "PRIMARY" and lookup.extra["key_length"] == "4"
    assert lookup.extra["ref"] == ["dbsp_other_plans.o.customer_id"]
    assert table.analyzed is False and table.format == "table"


def test_mariadb_json_tree_and_flags() -> None:
    plan, _ = parsed("mariadb/03-json-full-scan-filesort.json")
    assert plan.engine == "mariadb" and not plan.analyzed
    assert shape(plan) == [
        (0, "Query Block", None),
        (1, "Read Sorted File", None),
        (2, "Sort", None),
        (3, "ALL", "o"),
        (1, "eq_ref", "c"),
    ]
    sort = plan.root.children[0].children[0]
    assert sort.extra["using_filesort"] is True and sort.sort_key == ["o.created_at"]
    scan = sort.children[0]
    assert scan.filter == "o.total = 42 and o.customer_id is not null" and scan.extra["filtered"] == 100
    assert plan.root.children[1].extra["used_key_parts"] == ["id"]


def test_mariadb_analyze_json_actuals_are_per_loop() -> None:
    plan, _ = parsed("mariadb/04-analyze-json-full-scan-filesort.json")
    assert plan.analyzed and plan.planning_ms == pytest.approx(0.059745419)
    assert plan.execution_ms == pytest.approx(1.851326099)
    scan = next(n for n in plan.nodes() if n.relation == "o")
    assert (scan.plan_rows, scan.actual_rows, scan.actual_loops) == (19840, 20000, 1)
    assert scan.extra["r_filtered"] == 0.2
    assert scan.actual_total_ms == pytest.approx(1.371869493 + 0.414247888)
    lookup = next(n for n in plan.nodes() if n.relation == "c")
    assert lookup.actual_loops == 40
    assert lookup.actual_total_ms == pytest.approx((0.032649468 + 0.009513155) / 40)


def test_mariadb_temporary_table_nesting() -> None:
    plan, _ = parsed("mariadb/05-analyze-json-temporary-low-filtered.json")
    assert shape(plan) == [(0, "Query Block", None), (1, "Sort", None), (2, "Temporary Table", None), (3, "ALL", "o")]
    assert plan.root.children[0].children[0].extra["using_temporary"] is True


def test_mysql_docs_explain_analyze_tree() -> None:
    plan, _ = parsed("mysql/01-docs-explain-analyze-hash-join.txt")
    assert plan.engine == "mysql" and plan.format == "tree" and plan.analyzed
    assert shape(plan) == [
        (0, "Inner hash join", None),
        (1, "Table scan", "t2"),
        (1, "Hash", None),
        (2, "Table scan", "t1"),
    ]
    root = plan.root
    assert root.hash_cond == "t2.c2 = t1.c1" and root.total_cost == 4.70 and root.plan_rows == 6
    assert (root.actual_startup_ms, root.actual_total_ms, root.actual_rows, root.actual_loops) == (0.032, 0.035, 6, 1)
    assert root.children[0].extra["access_type"] == "ALL"
    assert plan.execution_ms == pytest.approx(0.035)


def test_mysql_docs_filter_and_range_tree() -> None:
    plan, _ = parsed("mysql/02-docs-explain-analyze-filter-scan.txt")
    assert shape(plan) == [(0, "Filter", None), (1, "Table scan", "t3")]
    assert plan.root.filter == "(t3.i > 8)" and plan.root.children[0].actual_rows == 15
    ranged, _ = parsed("mysql/03-docs-explain-analyze-range.txt")
    scan = ranged.root.children[0]
    assert (scan.node_type, scan.relation, scan.index_name, scan.extra["access_type"]) == (
        "Index range scan",
        "t3",
        "PRIMARY",
        "range",
    )


def test_mysql_docs_format_tree_has_no_actuals() -> None:
    plan, _ = parsed("mysql/04-docs-format-tree-hash-join.txt")
    assert not plan.analyzed and plan.root.actual_rows is None
    assert [n.plan_rows for n in plan.nodes()] == [1, 1, None, 1]


def test_mysql_tree_single_line_form_and_never_executed() -> None:
    text = (
        "-> Nested loop inner join  (cost=2.50 rows=5) (actual time=0.1..0.9 rows=3 loops=1)\n"
        "    -> Table scan on o  (cost=1.25 rows=5000) (actual time=0.05..0.6 rows=5000 loops=1)\n"
        "    -> Single-row index lookup on c using PRIMARY (id=o.customer_id)  (cost=0.25 rows=1) (never executed)\n"
    )
    assert detect(text) == "mysql"
    plan = parse_plan(text, "mysql")
    scan, lookup = plan.root.children
    assert scan.extra["access_type"] == "ALL" and scan.actual_rows == 5000
    assert lookup.extra["access_type"] == "eq_ref" and lookup.index_cond == "id=o.customer_id"
    assert (lookup.actual_rows, lookup.actual_loops) == (0, 0)
    assert "PLN030" in ids(run_rules(plan))


def test_mysql_json_ordering_operation() -> None:
    plan, _ = parsed("mysql/05-docs-shape-format-json-ordering.json")
    assert plan.engine == "mysql" and plan.root.total_cost == 2251.40
    assert shape(plan) == [(0, "Query Block", None), (1, "Ordering", None), (2, "ALL", "o"), (2, "eq_ref", "c")]
    ordering = plan.root.children[0]
    assert ordering.extra["using_filesort"] is True and ordering.extra["using_temporary"] is True
    scan = ordering.children[0]
    assert scan.plan_rows == 19840 and scan.extra["rows_produced_per_join"] == 1984 and scan.extra["filtered"] == 10


# ------------------------------------------------------------------------------------------------ SQLite trees


def test_sqlite_rows_tree() -> None:
    plan, _ = parsed("sqlite/04-multi-index-or.json")
    assert shape(plan) == [
        (0, "QUERY PLAN", None),
        (1, "MULTI-INDEX OR", None),
        (2, "INDEX", None),
        (3, "SEARCH", "orders"),
        (2, "INDEX", None),
        (3, "SEARCH", "orders"),
    ]
    search = plan.root.children[0].children[0].children[0]
    assert search.index_name == "ix_orders_status" and search.index_cond == "status=?"


def test_sqlite_shell_text_matches_rows() -> None:
    text_plan, _ = parsed("sqlite/09-shell-text-multi-index-or.txt")
    rows_plan, _ = parsed("sqlite/04-multi-index-or.json")
    assert text_plan.format == "text" and rows_plan.format == "rows"
    assert shape(text_plan) == shape(rows_plan)
    correlated, _ = parsed("sqlite/08-shell-text-correlated-order-by.txt")
    assert shape(correlated) == [
        (0, "QUERY PLAN", None),
        (1, "SCAN", "c"),
        (1, "CORRELATED SCALAR SUBQUERY", None),
        (2, "SEARCH", "o"),
        (1, "USE TEMP B-TREE", None),
    ]


def test_sqlite_automatic_index_node() -> None:
    plan, _ = parsed("sqlite/02-automatic-index.json")
    search = plan.root.children[1]
    assert search.extra["automatic_index"] is True and search.extra["covering"] is True
    assert search.index_cond == "name=?"


def test_sqlite_analyzed_adapter_shape() -> None:
    rows, _ = load("sqlite/05-search-pk-good.json")
    plan = parse_plan({"query_plan": rows, "execution": {"elapsed_ms": 0.4, "rows": 1, "truncated": False}}, "sqlite")
    assert plan.execution_ms == 0.4 and plan.root.actual_rows == 1


# ------------------------------------------------------------------------------------------------ MongoDB trees


def test_mongo_queryplanner_tree() -> None:
    plan, _ = parsed("mongodb/03-ixscan-fetch-queryplanner.json")
    assert not plan.analyzed and shape(plan) == [(0, "FETCH", "orders"), (1, "IXSCAN", "orders")]
    scan = plan.root.children[0]
    assert scan.index_name == "status_1" and scan.extra["key_pattern"] == {"status": 1}


def test_mongo_execution_stats_are_attached() -> None:
    plan, _ = parsed("mongodb/05-ixscan-fetch-sort-executionstats.json")
    assert plan.analyzed and plan.execution_ms == 57
    assert plan.extra["nReturned"] == 1667 and plan.extra["totalDocsExamined"] == 1667
    assert shape(plan) == [(0, "SORT", "orders"), (1, "FETCH", "orders"), (2, "IXSCAN", "orders")]
    # SecantusDB's executionStages omit the SORT: its numbers land on FETCH/IXSCAN, not on SORT
    assert plan.root.actual_rows is None
    assert plan.root.children[0].actual_rows == 1667 and plan.root.children[0].children[0].actual_rows == 1667


def test_mongo_full_execution_stages() -> None:
    plan, _ = parsed("mongodb/06-docs-shape-fetch-filter-executionstats.json")
    fetch = plan.root
    assert fetch.extra["filter"] == {"total": {"$eq": 3}} and fetch.extra["docsExamined"] == 1667
    assert fetch.actual_rows == 4 and fetch.actual_total_ms == 5
    assert fetch.children[0].extra["keysExamined"] == 1667


def test_mongo_aggregate_cursor() -> None:
    inner = json.loads(load("mongodb/01-collscan-sort-executionstats.json")[0])
    plan = parse_plan({"stages": [{"$cursor": inner}, {"$group": {"_id": "$status"}}]}, "mongodb")
    assert plan.extra["pipeline"] == ["$cursor", "$group"] and plan.root.node_type == "SORT"


def test_parsing_never_mutates_input() -> None:
    doc = json.loads(load("mongodb/06-docs-shape-fetch-filter-executionstats.json")[0])
    before = copy.deepcopy(doc)
    run_rules(parse_plan(doc, "mongodb"))
    assert doc == before
    maria = json.loads(load("mariadb/04-analyze-json-full-scan-filesort.json")[0])
    before = copy.deepcopy(maria)
    parse_plan(maria, "mariadb")
    assert maria == before


# ------------------------------------------------------------------------------------------------ rules: fire / quiet

MARIA_SQL = (
    "SELECT c.name, o.total FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.total = 42 "
    "ORDER BY o.created_at"
)
MARIA_GROUP_SQL = (
    "SELECT o.status, COUNT(*) FROM orders o WHERE o.status = 'paid' AND o.total > 400 GROUP BY o.customer_id"
)


def findings(rel: str, **context: Any) -> list[Finding]:
    plan, ctx = parsed(rel)
    return run_rules(plan, {**ctx, **context})


def by_id(found: list[Finding], rule_id: str) -> Finding:
    matches = [f for f in found if f.rule_id == rule_id]
    assert len(matches) == 1, (rule_id, [f.rule_id for f in found])
    return matches[0]


@pytest.mark.parametrize(
    "rel",
    [
        "mariadb/07-json-const-good.json",
        "mariadb/08-tabular-const-good.txt",
        "mysql/01-docs-explain-analyze-hash-join.txt",
        "mysql/03-docs-explain-analyze-range.txt",
        "sqlite/05-search-pk-good.json",
        "mongodb/03-ixscan-fetch-queryplanner.json",
    ],
)
def test_good_plans_are_quiet(rel: str) -> None:
    assert findings(rel) == []


def test_pln030_full_table_scan_names_table_and_index() -> None:
    f = by_id(findings("mariadb/04-analyze-json-full-scan-filesort.json", sql=MARIA_SQL), "PLN030")
    assert f.subject == "ALL on o" and f.table == "o"
    assert f.evidence["rows_examined_per_scan"] == 20000 and f.evidence["filtered_pct"] == 0.2
    assert f.fix is not None and f.fix.safety == "safe"
    assert f.fix.statements == ["ALTER TABLE orders ADD INDEX ix_orders_total (total), ALGORITHM=INPLACE, LOCK=NONE;"]
    # without the statement the alias cannot be resolved: the fix is only shown
    bare = by_id(findings("mariadb/03-json-full-scan-filesort.json"), "PLN030")
    assert (
        bare.fix is not None
        and bare.fix.safety == "display-only"
        and "ALTER TABLE o ADD INDEX" in bare.fix.statements[0]
    )


def test_pln030_reads_mysql_condition_text() -> None:
    f = by_id(findings("mysql/05-docs-shape-format-json-ordering.json"), "PLN030")
    assert f.fix is not None and "(total)" in f.fix.statements[0]


def test_pln031_full_index_scan() -> None:
    for rel in ("mariadb/10-json-full-index-scan.json", "mariadb/11-tabular-full-index-scan.txt"):
        f = by_id(findings(rel), "PLN031")
        assert f.subject == "index on orders using ix_status_created" and f.evidence["rows_examined_per_scan"] == 19840


def test_pln032_filesort_with_order_by_index() -> None:
    f = by_id(findings("mariadb/04-analyze-json-full-scan-filesort.json", sql=MARIA_SQL), "PLN032")
    assert f.table == "o" and f.evidence["rows_sorted"] == 20000 and f.evidence["sort_key"] == "o.created_at"
    assert f.fix is not None
    assert f.fix.statements == [
        "ALTER TABLE orders ADD INDEX ix_orders_total_created_at (total, created_at), ALGORITHM=INPLACE, LOCK=NONE;"
    ]
    assert "PLN032" in ids(findings("mariadb/01-tabular-full-scan-filesort.txt"))


def test_pln033_temporary_table_with_group_by_index() -> None:
    f = by_id(findings("mariadb/05-analyze-json-temporary-low-filtered.json", sql=MARIA_GROUP_SQL), "PLN033")
    assert f.fix is not None and "(status, customer_id)" in f.fix.statements[0]
    assert "PLN033" in ids(findings("mariadb/06-tabular-temporary-filesort.txt"))
    assert "PLN033" not in ids(findings("mariadb/01-tabular-full-scan-filesort.txt"))


def test_pln034_low_filtered_index_read() -> None:
    f = by_id(findings("mariadb/09-analyze-json-partial-key.json"), "PLN034")
    assert f.evidence["filtered_pct"] == pytest.approx(0.210021002) and f.evidence["measured"] is True
    assert f.fix is not None
    assert f.fix.statements == [
        "ALTER TABLE orders ADD INDEX ix_orders_status_total (status, total), ALGORITHM=INPLACE, LOCK=NONE;"
    ]


def test_pln035_partial_key_use_needs_index_definitions() -> None:
    rel = "mariadb/09-analyze-json-partial-key.json"
    assert "PLN035" not in ids(findings(rel))
    f = by_id(findings(rel, indexes={"orders": {"ix_status_created": ["status", "created_at"]}}), "PLN035")
    assert f.evidence["used_key_parts"] == "status" and f.evidence["unused_key_parts"] == "created_at"
    assert f.fix is not None and "(status, total)" in f.fix.statements[0]
    whole = findings(rel, indexes={"ix_status_created": ["status"]})
    assert "PLN035" not in ids(whole)


def test_pln036_nonselective_ref() -> None:
    f = by_id(findings("mysql/06-docs-shape-format-json-partial-key.json"), "PLN036")
    assert f.evidence["rows_per_lookup"] == 9920
    # when the filter discards most rows, PLN034 reports it with a concrete index instead
    assert "PLN036" not in ids(findings("mariadb/09-analyze-json-partial-key.json"))


def test_pln050_sqlite_scan_only_for_filtered_tables() -> None:
    f = by_id(findings("sqlite/01-scan-temp-btree-order-by.json"), "PLN050")
    assert f.table == "orders" and f.fix is not None
    assert f.fix.statements == ["CREATE INDEX IF NOT EXISTS ix_orders_created_at ON orders (created_at);"]
    # scans of tables read in full (no WHERE on them) are the right plan
    assert "PLN050" not in ids(findings("sqlite/02-automatic-index.json"))
    assert "PLN050" not in ids(findings("sqlite/07-materialize-subquery.json"))


def test_pln051_temp_btree() -> None:
    f = by_id(findings("sqlite/01-scan-temp-btree-order-by.json"), "PLN051")
    assert f.evidence["purpose"] == "ORDER BY" and f.fix is not None
    grouped = [f for f in findings("sqlite/06-temp-btree-group-distinct.json") if f.rule_id == "PLN051"]
    assert sorted(str(f.evidence["purpose"]) for f in grouped) == ["DISTINCT", "GROUP BY"]
    group = next(f for f in grouped if f.evidence["purpose"] == "GROUP BY")
    assert group.fix is not None and group.fix.statements == [
        "CREATE INDEX IF NOT EXISTS ix_orders_customer_id ON orders (customer_id);"
    ]


def test_pln052_automatic_index_names_the_missing_index() -> None:
    f = by_id(findings("sqlite/02-automatic-index.json"), "PLN052")
    assert f.table == "customers" and f.evidence["columns"] == "name"
    assert f.fix is not None and f.fix.safety == "safe"
    assert f.fix.statements == ["CREATE INDEX IF NOT EXISTS ix_customers_name ON customers (name);"]


def test_pln053_correlated_subquery() -> None:
    f = by_id(findings("sqlite/03-correlated-scalar-subquery.json"), "PLN053")
    assert f.evidence["inner_full_scan"] is False and f.table == "o"
    rows = [
        {"id": 2, "parent": 0, "detail": "SCAN c"},
        {"id": 5, "parent": 0, "detail": "CORRELATED LIST SUBQUERY 1"},
        {"id": 7, "parent": 5, "detail": "SCAN orders"},
    ]
    worse = by_id(run_rules(parse_plan(rows, "sqlite")), "PLN053")
    assert worse.severity.value == "high" and worse.evidence["inner_full_scan"] is True


def test_pln054_multi_index_or() -> None:
    f = by_id(findings("sqlite/04-multi-index-or.json"), "PLN054")
    assert f.evidence["branches"] == 2 and f.severity.value == "info"


def test_pln060_collscan_esr_index() -> None:
    f = by_id(findings("mongodb/01-collscan-sort-executionstats.json"), "PLN060")
    assert f.table == "orders" and f.evidence["docs_examined"] == 5000 and f.evidence["n_returned"] == 20
    assert f.evidence["in_memory_sort"] is True
    # ESR: equality (customer_id), sort (created desc), range (total)
    assert f.fix is not None
    assert f.fix.statements == ['db.orders.createIndex({"customer_id": 1, "created": -1, "total": 1})']
    assert "PLN061" not in ids(findings("mongodb/01-collscan-sort-executionstats.json"))


def test_pln061_in_memory_sort() -> None:
    f = by_id(findings("mongodb/05-ixscan-fetch-sort-executionstats.json"), "PLN061")
    assert f.fix is not None and f.fix.statements == ['db.orders.createIndex({"status": 1, "total": 1})']


def test_pln062_docs_examined_ratio() -> None:
    doc = json.loads(load("mongodb/06-docs-shape-fetch-filter-executionstats.json")[0])
    for stage in (doc["queryPlanner"]["winningPlan"], doc["executionStats"]["executionStages"]):
        del stage["filter"]  # same numbers, but the plan no longer says where documents were dropped
    f = by_id(run_rules(parse_plan(doc, "mongodb")), "PLN062")
    assert f.evidence["ratio"] == pytest.approx(1667 / 4)
    assert f.fix is not None and f.fix.statements == ['db.orders.createIndex({"status": 1, "total": 1})']
    assert "PLN062" not in ids(findings("mongodb/06-docs-shape-fetch-filter-executionstats.json"))


def test_pln063_keys_examined_ratio() -> None:
    f = by_id(findings("mongodb/07-docs-shape-wide-index-bounds-executionstats.json"), "PLN063")
    assert f.subject == "IXSCAN created_1_status_1 on orders" and f.evidence["keys_examined"] == 4900
    assert f.fix is not None and f.fix.statements == ['db.orders.createIndex({"status": 1, "created": 1})']
    assert "PLN063" not in ids(findings("mongodb/06-docs-shape-fetch-filter-executionstats.json"))


def test_pln064_fetch_filter_after_ixscan() -> None:
    f = by_id(findings("mongodb/06-docs-shape-fetch-filter-executionstats.json"), "PLN064")
    assert f.evidence["index"] == "status_1" and f.evidence["ratio"] == pytest.approx(1667 / 4)
    assert f.fix is not None and f.fix.statements == ['db.orders.createIndex({"status": 1, "total": 1})']


def test_mongo_collection_names_needing_quotes() -> None:
    doc = json.loads(load("mongodb/02-collscan-equality-executionstats.json")[0])
    doc["queryPlanner"]["namespace"] = "shop.order-items"
    f = by_id(run_rules(parse_plan(doc, "mongodb")), "PLN060")
    assert f.fix is not None and f.fix.statements[0].startswith('db.getCollection("order-items").createIndex(')


# ------------------------------------------------------------------------------------------------ registry and docs


def test_registry_ids_ranges_and_docs() -> None:
    ranges = {"mysql": (30, 49), "mariadb": (30, 49), "sqlite": (50, 59), "mongodb": (60, 69)}
    seen: dict[str, str] = {}
    for engine, rules in RULES_BY_ENGINE.items():
        low, high = ranges[engine]
        for spec, check in rules:
            assert re.fullmatch(r"PLN\d{3}", spec.id) and low <= int(spec.id[3:]) <= high, spec.id
            assert seen.setdefault(spec.id, spec.name) == spec.name
            assert spec.capability == "plans" and re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", spec.name)
            doc = check.__doc__ or ""
            for section in ("## Why is this bad?", "## Example", "## Use instead", "## Fix safety"):
                assert section in doc, (spec.id, section)
    assert len(seen) == 19


# ------------------------------------------------------------------------------------------------ fuzzing

_plan_like = st.one_of(
    st.text(max_size=400),
    st.text(alphabet="-> |`*+()=.:\n\tSCANSEARCHrowscost0123456789", max_size=400),
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
        lambda children: (
            st.lists(children, max_size=4)
            | st.dictionaries(
                st.sampled_from(
                    [
                        "query_block",
                        "table",
                        "nested_loop",
                        "access_type",
                        "rows",
                        "r_loops",
                        "filesort",
                        "queryPlanner",
                        "winningPlan",
                        "stage",
                        "inputStage",
                        "inputStages",
                        "executionStats",
                        "executionStages",
                        "detail",
                        "id",
                        "parent",
                        "query_plan",
                        "stages",
                        "$cursor",
                        "filter",
                    ]
                ),
                children,
                max_size=5,
            )
        ),
        max_leaves=30,
    ),
)


@settings(max_examples=400, deadline=None)
@given(raw=_plan_like, engine=st.sampled_from(["mysql", "mariadb", "sqlite", "mongodb"]))
def test_arbitrary_input_raises_only_value_error(raw: Any, engine: str) -> None:
    detected = detect(raw)
    assert detected in (None, "mysql", "mariadb", "sqlite", "mongodb")
    try:
        plan = parse_plan(raw, engine)
    except ValueError:
        return
    run_rules(plan, {"sql": raw if isinstance(raw, str) else None})


_JSON_FIXTURES = [rel for rel in ALL_FIXTURES if rel.endswith(".json") and not rel.startswith("sqlite/")]
_junk: st.SearchStrategy[Any] = (
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10) | st.just([]) | st.just({})
)


def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(doc, dict):
        for key, value in doc.items():
            out.extend(_paths(value, (*prefix, key)))
    elif isinstance(doc, list):
        for i, value in enumerate(doc):
            out.extend(_paths(value, (*prefix, i)))
    return out


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_damaged_real_plans_raise_only_value_error(data: st.DataObject) -> None:
    rel = data.draw(st.sampled_from(_JSON_FIXTURES))
    doc = json.loads(load(rel)[0])
    for _ in range(data.draw(st.integers(1, 3))):
        paths = [p for p in _paths(doc) if p]
        if not paths:
            break
        path = data.draw(st.sampled_from(paths))
        target = doc
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = data.draw(_junk)
    engine = rel.split("/", 1)[0]
    try:
        plan = parse_plan(doc, engine)
    except ValueError:
        return
    run_rules(plan, {"indexes": {"ix_status_created": ["status", "created_at"]}})


# ------------------------------------------------------------------------------------------ fixes, applied for real


def _eqp(conn: Any, sql: str) -> list[dict[str, Any]]:
    return [{"id": r[0], "parent": r[1], "detail": r[3]} for r in conn.execute(f"EXPLAIN QUERY PLAN {sql}")]


def test_sqlite_fixes_change_the_real_plan(tmp_path: Path) -> None:
    """Plant the problems in a real SQLite file, run the suggested statements, and re-plan."""
    import sqlite3

    conn = sqlite3.connect(tmp_path / "shop.db")
    try:
        conn.executescript(
            """
            CREATE TABLE customers (id INTEGER PRIMARY KEY, country TEXT, name TEXT);
            CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INT, status TEXT, total INT, created_at TEXT);
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
              INSERT INTO customers SELECT i, 'US', 'c' || i FROM n;
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000)
              INSERT INTO orders
              SELECT i, i % 2000 + 1, 'open', i % 500, date('2024-01-01', '+' || (i % 300) || ' days') FROM n;
            ANALYZE;
            """
        )
        cases = [
            ("SELECT c.name, o.total FROM customers c JOIN orders o ON o.created_at = c.name", "PLN052"),
            ("SELECT * FROM orders WHERE created_at > '2024-06-01' ORDER BY created_at", "PLN050"),
        ]
        for sql, rule_id in cases:
            before = run_rules(parse_plan(_eqp(conn, sql), "sqlite"), {"sql": sql})
            fix = by_id(before, rule_id).fix
            assert fix is not None and fix.safety == "safe"
            for statement in fix.statements:
                conn.execute(statement)
            conn.execute("ANALYZE")
            after = run_rules(parse_plan(_eqp(conn, sql), "sqlite"), {"sql": sql})
            assert rule_id not in ids(after), (sql, [f.title for f in after])
    finally:
        conn.close()


def test_mysql_tree_recorded_by_mysqls_own_test_suite() -> None:
    """Real server output (mysql-test/r/hash_join.result), with the bare EXPLAIN column header it prints."""
    weedout, _ = parsed("mysql/07-mysql-test-format-tree-weedout.txt")
    assert shape(weedout) == [
        (0, "Remove duplicate t2 rows using temporary table (weedout)", None),
        (1, "Inner hash join", None),
        (2, "Table scan", "t1"),
        (2, "Hash", None),
        (3, "Table scan", "t2"),
    ]
    assert [(n.plan_rows, n.total_cost) for n in weedout.nodes()] == [
        (2, 1.1),
        (2, 1.1),
        (3, 0.38),
        (None, None),
        (2, 0.25),
    ]
    assert not weedout.analyzed
    ordered, _ = parsed("mysql/08-mysql-test-format-tree-sort.txt")
    assert [n.node_type for n in ordered.nodes()][:3] == ["Sort", "Stream results", "Inner hash join"]
    assert ordered.root.plan_rows is None and ordered.root.children[0].children[0].plan_rows == 4
