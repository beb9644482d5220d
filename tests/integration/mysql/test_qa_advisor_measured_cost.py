"""QA #4: on the scratch copy, recommend_indexes measures the rows the server touches, not the optimizer cost.

MariaDB 10.x `Last_query_cost` is the same with and without an index on (status, created_at) for
`WHERE status = ? ORDER BY created_at DESC LIMIT 10`: it ignores the LIMIT and the filesort the index avoids,
so the index was rejected with "best cost reduction 0.0%" although the query reads ~10 rows instead of the
whole table once it exists. A private database with a 50k-row `orders` table; the query runs on the copy only.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dbspecialist.adapters import mysql_advisor
from dbspecialist.adapters.index_advisor import recommend
from dbspecialist.adapters.mysql import MySQLAdapter
from dbspecialist.knowledge.indexes.candidates import candidates
from tests.integration.mysql.conftest import admin, checksum, create_database, drop_database, make_config

pytestmark = pytest.mark.integration

ROWS = 50_000
SCHEMA = """
CREATE TABLE orders (
  id INT PRIMARY KEY,
  customer_id INT NOT NULL,
  status VARCHAR(10) NOT NULL,
  total DECIMAL(10, 2) NOT NULL,
  created_at DATETIME NOT NULL,
  note VARCHAR(60) NOT NULL
) ENGINE=InnoDB
;
INSERT INTO orders
  SELECT seq, 1 + (seq * 7919) % 5000, ELT(1 + seq % 5, 'new', 'paid', 'shipped', 'done', 'gone'), (seq % 1000) / 3,
    '2023-01-01' + INTERVAL ((seq * 104729) % 500000) MINUTE, 'some order note text' FROM seq_1_to_{rows}
;
ANALYZE TABLE orders
"""
TOP_PAID = "SELECT * FROM orders WHERE status = 'paid' ORDER BY created_at DESC LIMIT 10"
TOP_PAID_DDL = "CREATE INDEX orders_status_created_at_idx ON orders (status, created_at)"
# 50k x 50k row pairs: EXPLAIN is instant, running it is not.
ENDLESS = "SELECT COUNT(*) FROM orders a JOIN orders b ON a.note < b.note WHERE a.status = 'paid'"


@pytest.fixture
def shop(mysql_server: None) -> Iterator[str]:
    name = create_database(SCHEMA.format(rows=ROWS))
    try:
        yield name
    finally:
        drop_database(name)


def scratch_databases() -> set[str]:
    with admin() as conn, conn.cursor() as cur:
        cur.execute("SHOW DATABASES LIKE 'dbspecialist\\_scratch\\_%'")
        return {str(r[0]) for r in cur.fetchall()}


async def test_index_serving_order_by_limit_is_recommended(shop: str) -> None:
    before = checksum(shop)
    existing = scratch_databases()
    adapter = MySQLAdapter(make_config(shop, read_only=False))
    try:
        advice = await recommend(adapter, [TOP_PAID], use_workload=False, max_indexes=3, max_total_bytes=None)
    finally:
        await adapter.close()
    assert [r.ddl for r in advice.recommendations] == [TOP_PAID_DDL], advice
    [rec] = advice.recommendations
    assert rec.verified is True and rec.verification == "mysql-scratch"
    [gain] = rec.queries_helped
    assert gain.cost_before >= ROWS  # the whole table read, then sorted
    assert gain.cost_after < 100  # an index range read backwards, stopped after 10 rows
    assert gain.improvement_pct >= 99
    assert any("rows the server touched" in n and "ANALYZE FORMAT=JSON" in n for n in advice.notes), advice.notes
    assert scratch_databases() == existing
    assert checksum(shop) == before
    with admin(shop) as conn, conn.cursor() as cur:
        cur.execute("SHOW INDEX FROM orders")
        assert {r[2] for r in cur.fetchall()} == {"PRIMARY"}


async def test_measured_costs_are_repeatable(shop: str) -> None:
    adapter = MySQLAdapter(make_config(shop, read_only=False))
    try:
        catalog = await adapter.introspect()
        cands = candidates(TOP_PAID, "mysql", catalog)
        first = await mysql_advisor.evaluate(adapter, [TOP_PAID], cands, catalog)
        second = await mysql_advisor.evaluate(adapter, [TOP_PAID], cands, catalog)
    finally:
        await adapter.close()
    assert first.costs == second.costs
    [costs] = first.costs
    assert costs.cost_before >= ROWS
    assert costs.cost_after == {cands[0].key: costs.cost_after[cands[0].key]}


async def test_query_past_the_timeout_falls_back_to_the_optimizer_cost(shop: str) -> None:
    existing = scratch_databases()
    adapter = MySQLAdapter(make_config(shop, read_only=False, statement_timeout_ms=1_000))
    try:
        catalog = await adapter.introspect()
        cands = candidates(TOP_PAID, "mysql", catalog)
        result = await mysql_advisor.evaluate(adapter, [TOP_PAID, ENDLESS], cands, catalog)
    finally:
        await adapter.close()
    assert result.available, result
    by_query = {c.query: c for c in result.costs}
    assert set(by_query) == {TOP_PAID, ENDLESS}
    assert by_query[TOP_PAID].cost_before >= ROWS  # measured
    assert by_query[ENDLESS].cost_before > 0  # estimated (EXPLAIN), not run to the end
    assert any("its run on the copy failed" in n and ENDLESS[:40] in n for n in result.notes), result.notes
    assert scratch_databases() == existing


async def test_query_naming_another_database_is_estimated_not_run(shop: str) -> None:
    query = "SELECT o.id FROM orders o JOIN mysql.db d ON d.Db = o.status WHERE o.customer_id = 42"
    adapter = MySQLAdapter(make_config(shop, read_only=False))
    try:
        catalog = await adapter.introspect()
        cands = candidates(TOP_PAID, "mysql", catalog)
        result = await mysql_advisor.evaluate(adapter, [TOP_PAID, query], cands, catalog)
    finally:
        await adapter.close()
    assert any("compared by the optimizer's cost estimate instead" in n and "mysql.db" in n for n in result.notes), (
        result.notes
    )
