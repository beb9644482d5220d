"""Cases for the key and index rules."""

from __future__ import annotations

import pytest

from dbspecialist.adapters.catalog import Column, Index, PrimaryKey, Table
from tests.unit.knowledge.schema.cases import RuleCase, assert_case

CASES: list[RuleCase] = [
    RuleCase(
        "SCH001",
        "table without a primary key",
        (Table(name="product_tags", columns=[Column(name="product_id", data_type="bigint", nullable=False)]),),
        fires=True,
        subjects=("product_tags",),
    ),
    RuleCase(
        "SCH001",
        "table with a primary key",
        (
            Table(
                name="orders",
                columns=[Column(name="id", data_type="bigint", nullable=False)],
                primary_key=PrimaryKey(columns=["id"]),
                indexes=[Index(name="orders_pkey", columns=["id"], unique=True, primary=True)],
            ),
        ),
        fires=False,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.rule_id}-{c.title}")
def test_rule_case(case: RuleCase) -> None:
    assert_case(case)
