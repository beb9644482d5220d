"""The MCP tools on a PostgreSQL connection, through the in-memory client."""

from __future__ import annotations

import pytest

from tests.helpers import call_tool, result_text
from tests.integration.postgres.conftest import pg_config

pytestmark = pytest.mark.integration


call = call_tool
text = result_text


async def test_list_connections_shows_the_version_and_a_down_server() -> None:
    down = pg_config("down", "postgresql://postgres:Hidden-pw1@127.0.0.1:1/x")
    result = await call([pg_config(), down], "list_connections", {})
    conns = {c["name"]: c for c in result.structured_content["connections"]}
    assert conns["pg"]["status"] == "ok" and conns["pg"]["engine"] == "postgresql"
    assert conns["pg"]["server_version"][:2].isdigit()
    assert conns["down"]["status"] == "unavailable" and "127.0.0.1:1" in conns["down"]["error"]
    assert "Hidden-pw1" not in text(result)


async def test_describe_schema_and_run_query(schema: str) -> None:
    described = await call([pg_config()], "describe_schema", {"connection": "pg", "schema": schema})
    assert not described.is_error
    names = {t["name"] for t in described.structured_content["tables"]}
    assert {"t", "child", "m"} <= names
    query = f"SELECT id FROM {schema}.t ORDER BY id"
    ran = await call([pg_config()], "run_query", {"connection": "pg", "query": query, "max_rows": 3})
    data = ran.structured_content
    assert data["rows"] == [[1], [2], [3]] and data["truncated"] and data["engine"] == "postgresql"


async def test_run_query_refusal_is_a_clear_tool_error(schema: str) -> None:
    result = await call([pg_config()], "run_query", {"connection": "pg", "query": f"DELETE FROM {schema}.t"})
    assert result.is_error and "Refused by the read-only guard" in text(result)
