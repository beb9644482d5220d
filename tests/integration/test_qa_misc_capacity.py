"""plan_capacity through the MCP tool: plain-word argument errors, and MariaDB's working set scoped to the
database instead of the server-wide buffer pool counter."""

from __future__ import annotations

import os
from typing import Any

import pymysql
import pytest
from mcp import Client

from dbspecialist.config import parse_connection
from dbspecialist.server.app import build_server
from dbspecialist.server.state import ServerState
from tests.helpers import connection_set
from tests.integration.servers import require_server

pytestmark = pytest.mark.integration


async def plan(arguments: dict[str, Any], *, url: str | None = None) -> Any:
    configs = [parse_connection("maria", url, source="test")] if url else []
    state = ServerState.from_connections(connection_set(*configs))
    try:
        async with Client(build_server(state)) as client:
            return await client.call_tool("plan_capacity", arguments)
    finally:
        await state.registry.close()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"growth_factor": 1, "facts": {"cpu_busy_pct": 50}}, "growth_factor must be more than 1 and at most 10,000"),
        ({"growth_factor": 0, "facts": {"cpu_busy_pct": 50}}, "(got 0)"),
        ({"facts": {"engine": "postgresql", "dataBytes": 5}}, "unknown fact 'dataBytes': did you mean 'data_bytes'?"),
        ({"facts": {"cpu_busy_pct": 150}}, "cpu_busy_pct is a share of all cores, 0-100 (got 150)"),
        (
            {"facts": {"storage_total_bytes": 100, "storage_free_bytes": 500, "data_bytes": 50}},
            "storage_free_bytes 500 is more than storage_total_bytes 100",
        ),
    ],
)
async def test_bad_arguments_get_plain_messages(arguments: dict[str, Any], message: str) -> None:
    result = await plan(arguments)
    assert result.is_error
    text = result.content[0].text
    assert message in text
    assert "errors.pydantic.dev" not in text and "validation error" not in text


async def test_schema_still_states_the_bounds() -> None:
    state = ServerState.from_connections(connection_set())
    async with Client(build_server(state)) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
    schema = tools["plan_capacity"].input_schema
    assert schema["properties"]["growth_factor"]["exclusiveMinimum"] == 1
    assert schema["properties"]["growth_factor"]["maximum"] == 10_000
    facts = schema["$defs"]["CapacityFacts"]
    assert facts["additionalProperties"] is False
    assert facts["properties"]["cpu_busy_pct"]["maximum"] == 100


async def test_mariadb_working_set_is_not_the_whole_buffer_pool() -> None:
    """A small database on a server whose buffer pool caches other schemas too (QA: 'breaks at x2.93')."""
    require_server("MariaDB", "127.0.0.1", 3306)
    name = f"dbspecialist_qa_misc_{os.getpid()}"
    admin = pymysql.connect(host="127.0.0.1", port=3306, user="root", autocommit=True)
    try:
        with admin.cursor() as cur:
            cur.execute(f"CREATE DATABASE {name}")
            cur.execute(f"CREATE TABLE {name}.t (id INT PRIMARY KEY, v VARCHAR(20)) ENGINE=InnoDB")
            cur.execute(f"INSERT INTO {name}.t VALUES (1, 'a'), (2, 'b')")
            cur.execute("SHOW GLOBAL STATUS LIKE 'Innodb_buffer_pool_bytes_data'")
            cached = int(cur.fetchone()[1])
        result = await plan({"connection": "maria", "growth_factor": 10}, url=f"mysql://root@127.0.0.1:3306/{name}")
    finally:
        with admin.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {name}")
        admin.close()
    assert not result.is_error, result.content
    report = result.structured_content
    facts = report["facts"]
    assert facts["data_bytes"] is not None and facts["data_bytes"] < cached  # the premise: others are cached
    assert facts["working_set_bytes"] == facts["data_bytes"]
    memory = next(p for p in report["projections"] if p["resource"] == "memory")
    assert memory["breaks"] is False and memory["breaks_at"] > 100
