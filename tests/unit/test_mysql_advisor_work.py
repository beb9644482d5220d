"""The measured cost of the MySQL/MariaDB scratch-copy verification: rows touched, how a query runs, what runs."""

from __future__ import annotations

import pytest

from dbspecialist.adapters.mysql_advisor import (
    RUN_MARIADB,
    RUN_MYSQL,
    WORK_COUNTERS,
    WORK_STATUS_SQL,
    qualifies_a_database,
    rows_touched,
    run_statement,
)


def test_rows_touched_sums_the_work_counters_less_the_status_reads() -> None:
    start = {"handler_read_rnd_next": 100, "sort_rows": 0, "handler_read_key": 5, "handler_commit": 1}
    end = {"handler_read_rnd_next": 50_120, "sort_rows": 10, "handler_read_key": 5, "handler_commit": 9}
    overhead = {"handler_read_rnd_next": 20}
    assert rows_touched(start, end, overhead) == 50_000 + 10  # handler_commit is not work


def test_rows_touched_never_goes_negative() -> None:
    assert rows_touched({"handler_read_key": 3}, {"handler_read_key": 4}, {"handler_read_key": 2}) == 0


def test_status_query_names_every_counter() -> None:
    assert all(f"'{c}'" in WORK_STATUS_SQL for c in WORK_COUNTERS)
    assert {"handler_read_rnd_next", "sort_rows", "handler_tmp_write", "handler_write"} <= set(WORK_COUNTERS)


@pytest.mark.parametrize(
    ("flavor", "version", "expected"),
    [
        ("mariadb", (10, 11, 9), RUN_MARIADB),
        ("mariadb", (11, 4, 2), RUN_MARIADB),
        ("mysql", (8, 0, 18), RUN_MYSQL),
        ("mysql", (8, 4, 0), RUN_MYSQL),
        ("mysql", (8, 0, 17), None),
        ("mysql", (5, 7, 44), None),
        (None, (), None),
    ],
)
def test_run_statement_by_server(flavor: str | None, version: tuple[int, ...], expected: str | None) -> None:
    assert run_statement(flavor, version) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("SELECT * FROM orders o WHERE o.status = 'paid' ORDER BY o.created_at LIMIT 10", False),
        ("WITH x AS (SELECT status FROM orders) SELECT COUNT(*) FROM x", False),
        ("SELECT * FROM orders WHERE id IN (SELECT order_id FROM items i WHERE i.qty > 1)", False),
        ("SELECT * FROM shop.orders", True),
        ("SELECT * FROM orders JOIN `other`.`customers` c ON c.id = orders.customer_id", True),
        ("SELECT * FROM orders WHERE id IN (SELECT 1 FROM information_schema.TABLES)", True),
        ("SELECT * FROM (((", True),  # unparsed: not run
    ],
)
def test_qualifies_a_database(query: str, expected: bool) -> None:
    assert qualifies_a_database(query) is expected
