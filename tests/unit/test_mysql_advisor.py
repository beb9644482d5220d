"""The pure helpers of the MySQL/MariaDB scratch-copy verification: plan cost, name tests, scratch names."""

from __future__ import annotations

import json

import pytest

from dbspecialist.adapters.mysql_advisor import (
    SCRATCH_PREFIX,
    names_database,
    names_table,
    plan_cost,
    quote,
    scratch_name,
    uses_index,
)


def test_plan_cost_reads_mysql_cost_info() -> None:
    plan = {"query_block": {"select_id": 1, "cost_info": {"query_cost": "10282.25"}, "table": {}}}
    assert plan_cost(plan) == 10282.25


def test_plan_cost_reads_mariadb_11_cost() -> None:
    assert plan_cost({"query_block": {"select_id": 1, "cost": 0.0125}}) == 0.0125


def test_plan_cost_is_none_without_a_cost() -> None:
    assert plan_cost({"query_block": {"select_id": 1, "nested_loop": []}}) is None
    assert plan_cost({"something": 1}) is None
    assert plan_cost([1, 2]) is None


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("SELECT * FROM shop.orders", True),
        ("SELECT * FROM `shop`.orders", True),
        ("SELECT * FROM SHOP . orders", True),
        ("SELECT * FROM orders JOIN shop.customers c ON 1", True),
        ("SELECT * FROM myshop.orders", False),
        ("SELECT * FROM shop_orders", False),
        ("SELECT shop FROM orders", False),
        ("SELECT o.shop FROM orders o", False),
    ],
)
def test_names_database(query: str, expected: bool) -> None:
    assert names_database(query, "shop") is expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("SELECT * FROM orders WHERE id = 1", True),
        ("SELECT * FROM `orders`", True),
        ("select * from ORDERS", True),
        ("SELECT * FROM orders_archive", False),
        ("SELECT * FROM big_orders", False),
        ("SELECT * FROM $orders", False),
    ],
)
def test_names_table(query: str, expected: bool) -> None:
    assert names_table(query, "orders") is expected


def test_uses_index_needs_the_key_not_only_possible_keys() -> None:
    used = json.dumps({"table": {"possible_keys": ["ix_c"], "key": "ix_c", "rows": 50}}, indent=2)
    possible = json.dumps({"table": {"possible_keys": ["ix_c"], "access_type": "ALL"}}, indent=2)
    merged = json.dumps({"table": {"key": "intersect(ix_a,ix_c)"}})
    assert uses_index(used, "ix_c") is True
    assert uses_index(possible, "ix_c") is False
    assert uses_index(merged, "ix_c") is True
    assert uses_index(used, "ix") is False


def test_scratch_names_are_prefixed_and_unique() -> None:
    names = {scratch_name() for _ in range(50)}
    assert len(names) == 50
    assert all(n.startswith(SCRATCH_PREFIX) and len(n) == len(SCRATCH_PREFIX) + 12 for n in names)


def test_quote_escapes_backticks() -> None:
    assert quote("a`b") == "`a``b`"
