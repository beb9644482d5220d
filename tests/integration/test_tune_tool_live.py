"""tune_config with a live connection: facts from the server, current values, changes, the audit."""

from __future__ import annotations

from typing import Any

import pytest
from mcp import Client

from dbspecialist.config import parse_connection
from dbspecialist.server.app import build_server
from dbspecialist.server.state import ServerState
from tests.helpers import connection_set
from tests.integration.servers import require_server

pytestmark = pytest.mark.integration


async def tune(arguments: dict[str, Any]) -> Any:
    state = ServerState.from_connections(
        connection_set(
            parse_connection("pg", "postgresql://postgres@127.0.0.1:5432/dbspecialist_test", source="test"),
            parse_connection("maria", "mysql://root@127.0.0.1:3306/dbspecialist_test", source="test"),
        )
    )
    try:
        async with Client(build_server(state)) as client:
            return await client.call_tool("tune_config", arguments)
    finally:
        await state.registry.close()


async def test_postgres_live_facts_current_values_and_audit() -> None:
    require_server("PostgreSQL", "127.0.0.1", 5432)
    result = await tune({"engine": "postgres", "ram_gb": 8, "cpus": 2, "connection": "pg"})
    assert not result.is_error, result.content
    report = result.structured_content
    assert report["inputs"]["version"] == "15"  # from the server, not given
    assert report["inputs"]["db_size_gb"] is not None and report["inputs"]["db_size_gb"] > 0
    settings = {s["name"]: s for s in report["settings"]}
    shared = settings["shared_buffers"]
    assert shared["value"] == "2GB" and shared["current"] is not None  # RAM / 4
    assert shared["changes"] is (shared["current"] != str(2 * 1024**3) + "B")
    assert all(s["current"] is not None for s in report["settings"] if s["name"] in ("work_mem", "max_wal_size"))
    assert not [f for f in report["audit"] if f["severity"] == "critical"]


async def test_mysql_engine_on_a_mariadb_server_tunes_mariadb() -> None:
    require_server("MariaDB", "127.0.0.1", 3306)
    result = await tune({"engine": "mysql", "ram_gb": 16, "cpus": 4, "connection": "maria"})
    assert not result.is_error, result.content
    report = result.structured_content
    assert report["engine"] == "mariadb" and report["inputs"]["version"].startswith("10.")
    names = {s["name"] for s in report["settings"]}
    assert "innodb_log_file_size" in names and "innodb_redo_log_capacity" not in names
    pool = next(s for s in report["settings"] if s["name"] == "innodb_buffer_pool_size")
    assert pool["current"] is not None and pool["changes"] is not None


async def test_engine_must_match_the_connection() -> None:
    require_server("PostgreSQL", "127.0.0.1", 5432)
    result = await tune({"engine": "redis", "ram_gb": 8, "cpus": 2, "connection": "pg"})
    assert result.is_error and "is postgresql" in result.content[0].text
