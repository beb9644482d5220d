"""recommend_indexes on MariaDB/MySQL verifies candidates on a scratch copy when the connection allows writes.

A private database with a 50k-row `orders` table whose `customer_id` has no index: a read_only=false
connection gets the index verified with a measured cost drop; a read-only one gets verified=false with the
hint. The scratch database is gone afterwards (also after a cancellation) and the user's tables are unchanged.
"""

from __future__ import annotations

import asyncio
import re
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
  total DECIMAL(10, 2) NOT NULL,
  note VARCHAR(40) NOT NULL,
  note_upper VARCHAR(40) AS (UPPER(note)) VIRTUAL
) ENGINE=InnoDB
;
INSERT INTO orders (id, customer_id, total, note)
  SELECT seq, 1 + (seq * 7919) % 5000, (seq % 1000) / 3, 'order note' FROM seq_1_to_{rows}
;
ANALYZE TABLE orders
"""
QUERY = "SELECT id, total FROM orders WHERE customer_id = 42"
INDEX_DDL = "CREATE INDEX orders_customer_id_idx ON orders (customer_id)"


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


def scratch_of(notes: list[str]) -> str:
    found = [m.group(0) for n in notes if (m := re.search(r"dbspecialist_scratch_[0-9a-f]{12}", n))]
    assert found, notes
    return found[0]


async def test_writable_connection_verifies_the_index_on_a_scratch_copy(shop: str) -> None:
    before = checksum(shop)
    adapter = MySQLAdapter(make_config(shop, read_only=False))
    try:
        explicit = f"SELECT id FROM `{shop}`.orders WHERE total > 300"
        advice = await recommend(adapter, [QUERY, explicit], use_workload=False, max_indexes=3, max_total_bytes=None)
    finally:
        await adapter.close()
    assert len(advice.recommendations) == 1, advice
    rec = advice.recommendations[0]
    assert rec.ddl == INDEX_DDL
    assert rec.verified is True
    assert rec.verification == "mysql-scratch"
    assert rec.columns == ["customer_id"]
    [gain] = rec.queries_helped
    assert gain.query == QUERY
    assert gain.cost_before >= 1000  # a full scan of 50k rows
    assert gain.cost_after < gain.cost_before / 10
    assert gain.improvement_pct >= 90
    assert any("at most 100,000 rows per table" in n for n in advice.notes), advice.notes
    assert any("names the database" in n and shop in n for n in advice.notes), advice.notes
    scratch = scratch_of(advice.notes)
    assert scratch not in scratch_databases()
    assert checksum(shop) == before
    with admin(shop) as conn, conn.cursor() as cur:
        cur.execute("SHOW INDEX FROM orders")
        assert {r[2] for r in cur.fetchall()} == {"PRIMARY"}


async def test_read_only_connection_stays_unverified_with_the_hint(shop: str) -> None:
    existing = scratch_databases()
    adapter = MySQLAdapter(make_config(shop))
    try:
        advice = await recommend(adapter, [QUERY], use_workload=False, max_indexes=3, max_total_bytes=None)
    finally:
        await adapter.close()
    [rec] = advice.recommendations
    assert rec.ddl == INDEX_DDL
    assert rec.verified is False
    assert rec.verification == "none"
    assert "configure the connection read_only = false to let the advisor verify on a scratch copy" in rec.reason
    assert scratch_databases() == existing


async def test_sample_cap_is_reported(shop: str) -> None:
    adapter = MySQLAdapter(make_config(shop, read_only=False))
    try:
        catalog = await adapter.introspect()
        cands = candidates(QUERY, "mysql", catalog)
        result = await mysql_advisor.evaluate(adapter, [QUERY], cands, catalog, sample_rows=2_000)
    finally:
        await adapter.close()
    assert result.available
    assert any(n.startswith("orders: sampled 2,000 of about") for n in result.notes), result.notes
    assert any("at most 2,000 rows per table" in n for n in result.notes), result.notes
    [costs] = result.costs
    assert set(costs.cost_after) == {cands[0].key}
    assert costs.cost_after[cands[0].key] < costs.cost_before
    assert result.scratch is not None and result.scratch not in scratch_databases()


async def test_cancellation_drops_the_scratch_database(shop: str) -> None:
    before = checksum(shop)
    adapter = MySQLAdapter(make_config(shop, read_only=False))
    reached = asyncio.Event()

    async def stall(_done: float, _total: float, message: str) -> None:
        if message.startswith("testing"):
            reached.set()
            await asyncio.sleep(30)

    try:
        catalog = await adapter.introspect()
        cands = candidates(QUERY, "mysql", catalog)
        task = asyncio.create_task(mysql_advisor.evaluate(adapter, [QUERY], cands, catalog, progress=stall))
        await asyncio.wait_for(reached.wait(), 30)
        during = scratch_databases()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    finally:
        await adapter.close()
    created = {d for d in during if d.startswith(mysql_advisor.SCRATCH_PREFIX)}
    assert created, "the scratch database existed while candidates were being tested"
    assert not created & scratch_databases()
    assert checksum(shop) == before


async def test_query_naming_only_the_real_database_is_not_tested(shop: str) -> None:
    adapter = MySQLAdapter(make_config(shop, read_only=False))
    try:
        catalog = await adapter.introspect()
        query = f"SELECT id FROM {shop}.orders WHERE customer_id = 7"
        cands = candidates(QUERY, "mysql", catalog)
        result = await mysql_advisor.evaluate(adapter, [query], cands, catalog)
    finally:
        await adapter.close()
    assert result.available is False
    assert result.reason == "no query could be tested on a scratch copy"
    assert result.scratch is None
