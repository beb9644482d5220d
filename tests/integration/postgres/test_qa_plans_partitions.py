"""QA defects 3, 8, 11 against the real server: generic plans of partitioned tables, OFFSET under a CTE, and index
fixes that run as written (schema-qualified; on a partition's parent, partition by partition)."""

from __future__ import annotations

from typing import Any

import asyncpg

from dbspecialist.adapters.postgres import PostgresAdapter
from dbspecialist.knowledge.findings import Finding
from dbspecialist.knowledge.plans.analyze import PlanAnalysis, analyze_plan

EVENTS = """
CREATE TABLE {s}.events (id bigint GENERATED ALWAYS AS IDENTITY, customer_id bigint NOT NULL, kind text NOT NULL,
                         occurred_at timestamptz NOT NULL, PRIMARY KEY (id, occurred_at))
  PARTITION BY RANGE (occurred_at);
CREATE TABLE {s}.events_2024 PARTITION OF {s}.events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE {s}.events_2025 PARTITION OF {s}.events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE {s}.events_default PARTITION OF {s}.events DEFAULT;
INSERT INTO {s}.events (customer_id, kind, occurred_at)
  SELECT 1 + g % 5000, CASE WHEN g % 1000 = 0 THEN 'rare' ELSE 'view' END,
         timestamptz '2024-01-01' + g * interval '15 minutes'
  FROM generate_series(1, 60000) g;
ANALYZE {s}.events;
"""


def _scans(plan: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    stack = [plan[0]["Plan"]]
    while stack:
        node = stack.pop()
        if "Relation Name" in node:
            out.append(node)
        stack.extend(node.get("Plans", []))
    return out


async def _analyse(adapter: PostgresAdapter, sql: str, *, analyze: bool = False) -> tuple[Any, PlanAnalysis]:
    explained = await adapter.explain(sql, analyze=analyze, timeout_ms=20_000)
    return explained.plan, analyze_plan(explained.plan, "postgresql", context={"sql": sql})


def _found(analysis: PlanAnalysis, rule_id: str) -> list[Finding]:
    return [f for f in analysis.findings if f.rule_id == rule_id]


async def test_generic_plan_of_a_partitioned_table_keeps_its_partition_scans(
    adapter: PostgresAdapter, admin: asyncpg.Connection, schema: str
) -> None:
    await admin.execute(EVENTS.format(s=schema))
    sql = f"SELECT * FROM {schema}.events WHERE customer_id = $1 AND occurred_at >= $2 ORDER BY occurred_at LIMIT 50"
    plan, analysis = await _analyse(adapter, sql)
    # NULL arguments prune every partition at executor start-up; the adapter explains it again without that pruning
    assert sorted(n["Relation Name"] for n in _scans(plan)) == ["events_2024", "events_2025", "events_default"]
    assert plan[0]["Settings"]["enable_partition_pruning"] == "off"
    assert any("enable_partition_pruning = off" in w and "representative values" in w for w in analysis.warnings)
    assert not any("Partition scans are missing" in w for w in analysis.warnings)


async def test_generic_plan_that_also_prunes_at_plan_time_warns_that_scans_are_missing(
    adapter: PostgresAdapter, admin: asyncpg.Connection, schema: str
) -> None:
    await admin.execute(EVENTS.format(s=schema))
    # the constant bound prunes events_2024 at plan time: turning pruning off would bring it back, so the first plan
    # stays, with its scans pruned by the NULLs, and the analysis says so
    sql = f"SELECT * FROM {schema}.events WHERE occurred_at >= '2025-01-01' AND occurred_at < $1 AND customer_id = $2"
    plan, analysis = await _analyse(adapter, sql)
    assert _scans(plan) == []
    (warning,) = [w for w in analysis.warnings if "Partition scans are missing" in w]
    assert "Append: Subplans Removed: 2" in warning
    assert "representative values in place of $1, $2" in warning


async def test_index_fix_on_a_partition_scan_builds_the_parents_index_and_runs_as_written(
    adapter: PostgresAdapter, admin: asyncpg.Connection, schema: str
) -> None:
    await admin.execute(EVENTS.format(s=schema))
    sql = f"SELECT count(*) FROM {schema}.events WHERE kind = 'rare' AND occurred_at >= '2025-02-01'"
    _, analysis = await _analyse(adapter, sql, analyze=True)
    (finding,) = _found(analysis, "PLN003")
    assert finding.table == "events_2025" and finding.fix is not None
    statements = finding.fix.statements
    assert statements[0] == f"CREATE INDEX IF NOT EXISTS events_kind_occurred_at_idx ON ONLY {schema}.events " + (
        "(kind, occurred_at);"
    )
    for statement in statements:  # one by one, outside a transaction block, default search_path
        await admin.execute(statement)
    valid = await admin.fetchval(
        "SELECT i.indisvalid FROM pg_index i WHERE i.indexrelid = $1::regclass",
        f"{schema}.events_kind_occurred_at_idx",
    )
    assert valid is True
    attached = await admin.fetchval(
        "SELECT count(*) FROM pg_inherits WHERE inhparent = $1::regclass", f"{schema}.events_kind_occurred_at_idx"
    )
    assert attached == 3
    for statement in statements:  # the fix can be run again
        await admin.execute(statement)
    _, after = await _analyse(adapter, sql, analyze=True)
    assert not _found(after, "PLN003")


async def test_index_fix_names_the_schema_so_it_runs_off_the_search_path(
    adapter: PostgresAdapter, admin: asyncpg.Connection, schema: str
) -> None:
    await admin.execute(
        f"CREATE TABLE {schema}.order_items (order_id int NOT NULL, sku text NOT NULL);"
        f"INSERT INTO {schema}.order_items SELECT g, 'SKU' || (g % 5000) FROM generate_series(1, 60000) g;"
        f"ANALYZE {schema}.order_items;"
    )
    _, analysis = await _analyse(adapter, f"SELECT * FROM {schema}.order_items WHERE sku = 'SKU1'", analyze=True)
    (finding,) = _found(analysis, "PLN003")
    assert finding.fix is not None
    assert finding.fix.statements == [f"CREATE INDEX CONCURRENTLY order_items_sku_idx ON {schema}.order_items (sku);"]
    await admin.execute(finding.fix.statements[0])
    assert await admin.fetchval("SELECT to_regclass($1) IS NOT NULL", f"{schema}.order_items_sku_idx")


async def test_offset_under_a_materialized_cte_counts_the_limits_input(
    adapter: PostgresAdapter, admin: asyncpg.Connection, schema: str
) -> None:
    await admin.execute(EVENTS.format(s=schema))
    sql = (
        f"WITH big AS MATERIALIZED (SELECT id, count(*) AS n FROM {schema}.events GROUP BY 1) "
        "SELECT b.id, b.n FROM big b ORDER BY b.n DESC, b.id OFFSET 10000 LIMIT 10"
    )
    _, analysis = await _analyse(adapter, sql, analyze=True)
    (finding,) = _found(analysis, "PLN010")
    # the Sort under the Limit returned 10,010 rows; the CTE listed before it 60,000
    assert finding.evidence["rows_skipped"] == 10_000, finding.evidence
