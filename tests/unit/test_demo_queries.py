"""The demo's read and refused write name the first table where it lives, so they run whatever the search path."""

from __future__ import annotations

import pytest

from dbspecialist.demo import demo_queries


@pytest.mark.parametrize(
    ("engine", "table", "schema", "read", "write"),
    [
        (
            "postgresql",
            "order_items",
            "qa",
            'SELECT * FROM "qa"."order_items" LIMIT 5',
            'DELETE FROM "qa"."order_items"',
        ),
        ("mysql", "orders", "shop", "SELECT * FROM `shop`.`orders` LIMIT 5", "DELETE FROM `shop`.`orders`"),
        ("sqlite", "orders", "main", 'SELECT * FROM "orders" LIMIT 5', 'DELETE FROM "orders"'),
        ("postgresql", 'we"ird', None, 'SELECT * FROM "we""ird" LIMIT 5', 'DELETE FROM "we""ird"'),
        ("postgresql", None, None, "SELECT 1 AS ok", "DROP TABLE dbspecialist_demo_probe"),
    ],
)
def test_demo_queries_qualify_the_first_table(
    engine: str, table: str | None, schema: str | None, read: str, write: str
) -> None:
    assert demo_queries(engine, table, False, schema) == (read, write)
