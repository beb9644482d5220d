"""QA #13 (minor) against the real MariaDB: a large OFFSET is flagged (PLN037, PLN010's threshold), describe_schema
with an unknown schema names the databases that exist, and a candidate the optimizer never picks is rejected with
a reason in plain words (not "not evaluated against any query")."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.helpers import call_tool, result_text
from tests.integration.mysql.conftest import create_database, drop_database, make_config

pytestmark = pytest.mark.integration

# customer_id is unique, so its existing index finds the one row and a (customer_id, created_at) index adds nothing.
SCHEMA = """
CREATE TABLE orders (
  id INT PRIMARY KEY, customer_id INT NOT NULL, status VARCHAR(10) NOT NULL, created_at DATETIME NOT NULL,
  total DECIMAL(10, 2) NOT NULL, KEY ix_customer (customer_id)
) ENGINE=InnoDB
;
INSERT INTO orders SELECT seq, seq, ELT(1 + seq % 4, 'new', 'paid', 'sent', 'gone'),
  '2023-01-01' + INTERVAL (seq % 700) DAY, (seq % 1000) / 3 FROM seq_1_to_50000
;
ANALYZE TABLE orders
"""


@pytest.fixture
def shop(mysql_server: None) -> Iterator[str]:
    name = create_database(SCHEMA)
    try:
        yield name
    finally:
        drop_database(name)


async def test_large_offset_is_flagged_on_mariadb_plans(shop: str) -> None:
    config = make_config(shop, "m")
    for sql in (
        "SELECT * FROM orders ORDER BY created_at DESC LIMIT 10 OFFSET 40000",
        "SELECT * FROM orders ORDER BY created_at DESC LIMIT 40000, 10",
    ):
        for analyze in (False, True):
            result: Any = await call_tool(
                [config], "explain_query", {"sql": sql, "connection": "m", "analyze": analyze}
            )
            assert not result.is_error, result_text(result)
            [finding] = [f for f in result.structured_content["findings"] if f["rule_id"] == "PLN037"]
            assert finding["evidence"]["rows_skipped"] == 40000 and finding["evidence"]["limit"] == 10
            assert finding["title"] == "The query reads and discards 40000 rows before the page it returns"
            assert finding["fix"]["statements"] == ["-- WHERE (created_at) < (?) ORDER BY created_at DESC LIMIT ?"]
    small: Any = await call_tool(
        [config], "explain_query", {"sql": "SELECT * FROM orders ORDER BY id LIMIT 10 OFFSET 20", "connection": "m"}
    )
    assert "PLN037" not in [f["rule_id"] for f in small.structured_content["findings"]]


async def test_describe_schema_unknown_schema_names_the_databases(shop: str) -> None:
    config = make_config(shop, "m")
    missing: Any = await call_tool([config], "describe_schema", {"connection": "m", "schema": "nope_qa_minor"})
    assert missing.is_error
    message = result_text(missing)
    assert "no schema named 'nope_qa_minor'" in message and f"'{shop}'" in message
    assert "'performance_schema'" not in message
    empty = create_database("")
    try:
        described: Any = await call_tool([config], "describe_schema", {"connection": "m", "schema": empty})
        assert not described.is_error, result_text(described)
        assert described.structured_content["total_tables"] == 0
        assert "exists but has no tables" in described.structured_content["note"]
    finally:
        drop_database(empty)


async def test_unused_candidate_is_rejected_in_plain_words(shop: str) -> None:
    config = make_config(shop, "w", read_only=False)
    queries = [
        "SELECT * FROM orders WHERE status = 'paid' ORDER BY created_at DESC LIMIT 10",
        "SELECT id, total FROM orders WHERE customer_id = 42 AND created_at > '2024-01-01'",
    ]
    result: Any = await call_tool([config], "recommend_indexes", {"connection": "w", "queries": queries})
    assert not result.is_error, result_text(result)
    rejected = {r["ddl"]: r["reason"] for r in result.structured_content["rejected"]}
    reason = rejected["CREATE INDEX orders_customer_id_created_at_idx ON orders (customer_id, created_at)"]
    assert "not evaluated" not in reason
    assert reason.startswith("not used: with this index in place the planner still read orders another way")
