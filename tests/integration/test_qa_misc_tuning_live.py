"""QA follow-ups for tune_config with a live connection: values compared by meaning, settings that only
describe our own connection left without a current value, and PgBouncer not taking PostgreSQL's facts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from dbspecialist.config import ConnectionConfig, parse_connection
from dbspecialist.server.app import build_server
from dbspecialist.server.state import ServerState
from tests.helpers import connection_set, make_db
from tests.integration.servers import require_server

pytestmark = pytest.mark.integration

PG_URL = "postgresql://postgres@127.0.0.1:5432/dbspecialist_test"


async def tune(config: ConnectionConfig, arguments: dict[str, Any]) -> Any:
    state = ServerState.from_connections(connection_set(config))
    try:
        async with Client(build_server(state)) as client:
            return await client.call_tool("tune_config", {**arguments, "connection": config.name})
    finally:
        await state.registry.close()


async def test_postgres_decimal_settings_below_one_are_seen_to_change() -> None:
    require_server("PostgreSQL", "127.0.0.1", 5432)
    result = await tune(parse_connection("pg", PG_URL, source="test"), {"engine": "postgres", "ram_gb": 8, "cpus": 2})
    assert not result.is_error, result.content
    settings = {s["name"]: s for s in result.structured_content["settings"]}
    for name in ("autovacuum_vacuum_scale_factor", "autovacuum_analyze_scale_factor"):
        advice = settings[name]
        assert advice["current"] is not None
        assert advice["changes"] is (float(advice["value"]) != float(advice["current"])), advice


async def test_sqlite_per_connection_pragmas_have_no_current_value(tmp_path: Path) -> None:
    db = make_db(tmp_path / "app.db", "PRAGMA journal_mode=WAL; CREATE TABLE t (id INTEGER PRIMARY KEY);")
    config = parse_connection("lite", f"sqlite:///{db}", source="test")
    result = await tune(config, {"engine": "sqlite", "ram_gb": 4, "cpus": 2, "workload": "oltp"})
    assert not result.is_error, result.content
    report = result.structured_content
    settings = {s["name"]: s for s in report["settings"]}
    # file-level: read from the database file and compared by name (auto_vacuum 0 is NONE)
    assert settings["auto_vacuum"]["value"] == "NONE"
    assert settings["auto_vacuum"]["current"] == "NONE" and settings["auto_vacuum"]["changes"] is False
    assert settings["journal_mode"]["current"] == "wal" and settings["journal_mode"]["changes"] is False
    # per connection: dbspecialist's own connection says nothing about the application's
    for name in ("busy_timeout", "cache_size", "synchronous", "temp_store", "foreign_keys"):
        assert settings[name]["current"] is None and settings[name]["changes"] is None, settings[name]
    assert any("busy_timeout" in note and "belong to each connection" in note for note in report["notes"])


async def test_pgbouncer_with_a_postgres_connection_does_not_take_postgres_version() -> None:
    require_server("PostgreSQL", "127.0.0.1", 5432)
    result = await tune(parse_connection("pg", PG_URL, source="test"), {"engine": "pgbouncer", "ram_gb": 8, "cpus": 4})
    assert not result.is_error, result.content
    report = result.structured_content
    assert report["inputs"]["version"] is None  # PostgreSQL 15 is not PgBouncer 1.N
    assert report["inputs"]["max_connections"] is None  # the server's limit is not the clients to accept
    clients = next(s for s in report["settings"] if s["name"] == "max_client_conn")
    assert clients["formula"].startswith("by workload")
