"""A real EXPLAIN scenario on MariaDB/MySQL: an unindexed filter on a 200k-row table, flagged and fixed.

explain_query runs ANALYZE FORMAT=JSON (MariaDB) through the in-memory MCP client on a read-only
connection; the suggested ALTER TABLE ... ADD INDEX is then applied for real on a separate connection.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from mcp import Client

from dbspecialist.server.app import build_server
from dbspecialist.server.state import ServerState
from tests.helpers import connection_set
from tests.integration.mysql.conftest import admin, create_database, drop_database, make_config

ROWS = 200_000
IMPROVEMENT = 10.0  # brief: rows examined drop at least 10x once the index exists

ORDERS = """
CREATE TABLE orders (
  id INT PRIMARY KEY,
  customer_id INT NOT NULL,
  total DECIMAL(10, 2) NOT NULL,
  note VARCHAR(40) NOT NULL
) ENGINE=InnoDB
;
INSERT INTO orders (id, customer_id, total, note)
  SELECT seq, 1 + (seq * 7919) % 20000, (seq % 1000) / 3, 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'
  FROM seq_1_to_{rows}
;
ANALYZE TABLE orders
"""


@pytest.fixture
def scratch_db(mysql_server: None) -> Iterator[str]:
    name = create_database(ORDERS.format(rows=ROWS))
    try:
        yield name
    finally:
        drop_database(name)


async def _explain(database: str, sql: str) -> dict[str, Any]:
    state = ServerState.from_connections(connection_set(make_config(database)))
    try:
        async with Client(build_server(state)) as client:
            result = await client.call_tool("explain_query", {"sql": sql, "connection": "m", "analyze": True})
    finally:
        await state.registry.close()
    assert not result.is_error, " ".join(getattr(c, "text", "") for c in result.content)
    assert isinstance(result.structured_content, dict)
    return result.structured_content


def _table_access(database: str, sql: str) -> dict[str, Any]:
    """The `table` object of MariaDB's ANALYZE FORMAT=JSON for a single-table query (the measured figures)."""
    with admin(database) as conn, conn.cursor() as cur:
        cur.execute(f"ANALYZE FORMAT=JSON {sql}")
        (raw,) = cur.fetchone()
    doc = json.loads(raw)
    block = doc["query_block"]
    table = block.get("table") or block["nested_loop"][0]["table"]
    assert isinstance(table, dict)
    return table


async def test_unindexed_filter_is_a_full_scan_and_the_suggested_index_fixes_it(scratch_db: str) -> None:
    with admin() as conn:
        if "mariadb" not in conn.get_server_info().lower():
            pytest.skip("SKIPPED LOUDLY: the scenario uses MariaDB's seq_1_to_N and ANALYZE FORMAT=JSON")
    sql = "SELECT id, total FROM orders WHERE customer_id = 4242"
    before = await _explain(scratch_db, sql)
    assert before["engine"] == "mariadb" and before["analyzed"] is True
    found = [f for f in before["findings"] if f["rule_id"] == "PLN030"]
    assert len(found) == 1, before["findings"]
    finding = found[0]
    assert finding["table"] == "orders" and "orders" in finding["subject"]
    assert finding["evidence"]["access_type"] == "ALL"
    assert finding["evidence"]["rows_examined_per_scan"] >= ROWS * 0.9
    (fix,) = finding["fix"]["statements"]
    assert fix.startswith("ALTER TABLE orders ADD INDEX") and "(customer_id)" in fix
    assert finding["fix"]["safety"] == "safe"

    measured_before = _table_access(scratch_db, sql)
    assert measured_before["access_type"] == "ALL"
    with admin(scratch_db) as conn, conn.cursor() as cur:
        cur.execute(fix)
        cur.execute("ANALYZE TABLE orders")

    after = await _explain(scratch_db, sql)
    assert not [f for f in after["findings"] if f["rule_id"] in ("PLN030", "PLN031")], after["findings"]
    measured_after = _table_access(scratch_db, sql)
    assert measured_after["access_type"] in ("ref", "range"), measured_after
    assert measured_after["key"].startswith("ix_orders_customer_id")
    examined_before = float(measured_before["r_rows"]) * float(measured_before.get("r_loops", 1))
    examined_after = float(measured_after["r_rows"]) * float(measured_after.get("r_loops", 1))
    assert examined_after == 10  # 200k rows over 20k customers
    assert examined_before / examined_after >= IMPROVEMENT, (examined_before, examined_after)
