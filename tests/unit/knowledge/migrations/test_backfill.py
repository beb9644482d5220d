"""Keyset backfill SQL and the generated script (run for real in tests/integration/postgres)."""

from __future__ import annotations

import ast

import pytest

from dbspecialist.knowledge.migrations.backfill import REPLICA_LAG_SQL, Backfill, backfill_script, backfill_sql, ident

SINGLE = """WITH batch AS (
    SELECT id FROM orders
    WHERE id > $1::text::bigint AND (total_cents IS NULL)
    ORDER BY id
    LIMIT 5000
    FOR NO KEY UPDATE
), updated AS (
    UPDATE orders SET total_cents = (total * 100)::bigint
    WHERE id IN (SELECT id FROM batch)
    RETURNING 1
)
SELECT (SELECT count(*) FROM updated) AS rows,
       (SELECT id::text FROM batch ORDER BY id DESC LIMIT 1) AS last_id"""


def test_single_key_batch_sql_exact() -> None:
    assert backfill_sql("orders", "id", "total_cents = (total * 100)::bigint", "total_cents IS NULL") == SINGLE


def test_first_batch_has_no_lower_bound() -> None:
    first = backfill_sql("orders", "id", "a = 1", "a IS NULL", first=True)
    assert "WHERE (a IS NULL)" in first
    assert "$1" not in first


def test_composite_key_uses_row_comparison() -> None:
    sql = backfill_sql("app.items", ["order_id", "line"], "x = 1", "x IS NULL", 1000, pk_types=["bigint", "int"])
    assert "SELECT order_id, line FROM app.items" in sql
    assert "WHERE (order_id, line) > ($1::text::bigint, $2::text::int) AND (x IS NULL)" in sql
    assert "ORDER BY order_id, line\n    LIMIT 1000" in sql
    assert "WHERE (order_id, line) IN (SELECT order_id, line FROM batch)" in sql
    assert "(SELECT line::text FROM batch ORDER BY order_id DESC, line DESC LIMIT 1) AS last_line" in sql


def test_identifiers_are_quoted_when_needed() -> None:
    sql = backfill_sql("Sales.Order", "Id", "a = 1", "a IS NULL")
    assert 'FROM "Sales"."Order"' in sql
    assert ident("Sales.Order") == '"Sales"."Order"'
    assert 'SELECT "Id" FROM' in sql
    assert ident("public.orders") == "public.orders"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"pk": []}, "primary key"),
        ({"batch": 0}, "at least 1"),
        ({"pk_types": ["bigint", "int"]}, "one type per key"),
    ],
)
def test_invalid_specs(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"table": "t", "pk": "id", "set_clause": "a = 1", "where_pending": "a IS NULL"}
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        Backfill.of(**args)  # type: ignore[arg-type]


def test_pending_sql() -> None:
    assert Backfill.of("t", "id", "a = 1", " a IS NULL ").pending_sql() == "SELECT count(*) FROM t WHERE a IS NULL"


def test_script_is_valid_python_with_the_loop_pieces() -> None:
    script = backfill_script("public.orders", "id", "total_cents = (total * 100)::bigint", "total_cents IS NULL")
    tree = ast.parse(script)
    functions = {node.name for node in ast.walk(tree) if isinstance(node, ast.AsyncFunctionDef)}
    assert functions == {"wait_for_replicas", "run_batch", "main"}
    assert REPLICA_LAG_SQL in script
    assert "SET lock_timeout = '2s'" in script
    assert "SET statement_timeout = '60s'" in script
    assert "FOR NO KEY UPDATE" in script
    assert 'default="backfill_public_orders_id.state.json"' in script
    assert "--max-lag" in script and "--restart" in script and "--verify" in script
    assert backfill_sql("public.orders", "id", "total_cents = (total * 100)::bigint", "total_cents IS NULL") in script


def test_script_keeps_quoted_identifiers_valid() -> None:
    script = backfill_script("Order", "id", '"Total" = 1', '"Total" IS NULL', sleep_s=0.5, max_lag_s=3)
    ast.parse(script)
    assert "default=0.5" in script
    assert "default=3" in script
    assert 'SELECT count(*) FROM "Order" WHERE "Total" IS NULL' in script
    assert 'default="backfill_order_id.state.json"' in script
