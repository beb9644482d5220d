"""SQLite index advisor: candidates verified on an in-memory copy; the real file is never changed."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from dbspecialist.adapters.index_advisor import recommend
from dbspecialist.adapters.sqlite import SQLiteAdapter
from dbspecialist.adapters.sqlite_advisor import SCORE_SCAN, plan_score
from dbspecialist.config import parse_connection


def _make(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.executescript(
        """
        CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT NOT NULL, country TEXT);
        CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL REFERENCES customers (id),
                             status TEXT NOT NULL, total REAL, created_at TEXT);
        CREATE INDEX orders_created_at_idx ON orders (created_at);
        WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 2000)
        INSERT INTO customers SELECT n, 'c' || n || '@x.org', CASE n % 3 WHEN 0 THEN 'FR' ELSE 'DE' END FROM g;
        WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 20000)
        INSERT INTO orders SELECT n, 1 + n % 2000, CASE n % 10 WHEN 0 THEN 'pending' ELSE 'done' END,
                                  n * 1.5, date('2024-01-01', '+' || (n % 365) || ' days') FROM g;
        ANALYZE;
        """
    )
    conn.commit()
    conn.close()


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    path = tmp_path / "shop.db"
    _make(path)
    return path


async def test_join_key_index_verified_on_copy(shop: Path) -> None:
    before = _sha(shop)
    adapter = SQLiteAdapter(parse_connection("lite", f"sqlite:///{shop}", source="test"))
    try:
        advice = await recommend(
            adapter,
            [
                "SELECT c.email, o.total FROM orders o JOIN customers c ON c.id = o.customer_id WHERE c.id = 42",
                "SELECT id, total FROM orders WHERE customer_id = 7",
                "SELECT count(*) FROM orders",
            ],
            use_workload=False,
            max_indexes=5,
            max_total_bytes=None,
        )
    finally:
        await adapter.close()
    assert _sha(shop) == before  # the real file is untouched
    assert advice.queries_analyzed == 3
    top = advice.recommendations[0]
    assert top.table == "orders" and top.columns[0] == "customer_id", advice
    assert top.verified and top.verification == "sqlite-copy"
    assert top.ddl.startswith("CREATE INDEX ") and "CONCURRENTLY" not in top.ddl
    helped = {g.query for g in top.queries_helped}
    assert any("customer_id = 7" in q for q in helped)
    assert all(g.cost_before >= SCORE_SCAN and g.improvement_pct >= 50 for g in top.queries_helped)

    # applying it for real turns the scan into a SEARCH using it
    conn = sqlite3.connect(shop)
    try:
        q = "SELECT id, total FROM orders WHERE customer_id = 7"
        plan_before = [r[3] for r in conn.execute(f"EXPLAIN QUERY PLAN {q}")]
        conn.execute(top.ddl)
        plan_after = [r[3] for r in conn.execute(f"EXPLAIN QUERY PLAN {q}")]
    finally:
        conn.close()
    assert plan_score(plan_after) <= plan_score(plan_before) * (1 - top.queries_helped[0].improvement_pct / 100) + 1
    assert any(d.startswith("SEARCH orders USING") for d in plan_after)


async def test_already_indexed_query_gets_no_recommendation(shop: Path) -> None:
    adapter = SQLiteAdapter(parse_connection("lite", f"sqlite:///{shop}", source="test"))
    try:
        advice = await recommend(
            adapter,
            ["SELECT id FROM orders WHERE created_at = '2024-02-01'"],
            use_workload=False,
            max_indexes=5,
            max_total_bytes=None,
        )
    finally:
        await adapter.close()
    assert advice.recommendations == []
