"""The demo runs every tool against live PostgreSQL, MariaDB and Redis, engine-aware."""

from __future__ import annotations

import pytest

from dbspecialist.config import parse_connection
from dbspecialist.demo import run_demo
from tests.helpers import connection_set
from tests.integration.servers import require_server

pytestmark = pytest.mark.integration


async def test_demo_on_live_servers() -> None:
    require_server("PostgreSQL", "127.0.0.1", 5432)
    require_server("MariaDB", "127.0.0.1", 3306)
    require_server("Redis", "127.0.0.1", 6379)
    connections = connection_set(
        parse_connection("pg", "postgresql://postgres@127.0.0.1:5432/dbspecialist_test", source="test"),
        parse_connection("maria", "mysql://root@127.0.0.1:3306/mysql", source="test"),
        parse_connection("cache", "redis://127.0.0.1:6379/11", source="test"),
    )
    report = await run_demo(connections)
    assert report.ok, [(s.tool, s.lines) for s in report.steps if not s.ok]
    assert not report.missing_plans
    by_tool: dict[str, int] = {}
    for step in report.steps:
        by_tool[step.tool] = by_tool.get(step.tool, 0) + 1
    # one list, one describe per connection, a read and a refused write per connection, a review per
    # connection plus one of pasted DDL
    assert by_tool == {
        "list_connections": 1,
        "describe_schema": 3,
        "run_query": 6,
        "explain_query": 1,  # the pasted plan; live explains and index advice run on the sample only
        "review_query": 1,
        "review_schema": 4,
        "tune_config": 4,
        "plan_migration": 2,  # the offline 400 M-row plan, then one on the first live connection
        "lint_migration": 1,
        "check_health": 3,  # one per connection
        "top_queries": 3,
        "plan_capacity": 2,  # given facts, then the first live connection
    }
    refusals = [line for s in report.steps for line in s.lines if "was refused, as it must be" in line]
    assert len(refusals) == 3
