"""The tools through a real MCP client (in memory): structured output, annotations, clean errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from dbspecialist.config import ConnectionConfig, parse_connection
from dbspecialist.server.app import build_server
from dbspecialist.server.state import ServerState
from tests.helpers import call_tool, connection_set, result_text, sqlite_conn

call = call_tool
text = result_text


async def test_tools_are_annotated_read_only_with_output_schemas(sample_config: ConnectionConfig) -> None:
    state = ServerState.from_connections(connection_set(sample_config))
    try:
        async with Client(build_server(state)) as client:
            tools = {t.name: t for t in (await client.list_tools()).tools}
            assert client.instructions and "slow" in client.instructions
    finally:
        await state.registry.close()
    assert set(tools) == {
        "list_connections",
        "describe_schema",
        "run_query",
        "explain_query",
        "review_query",
        "recommend_indexes",
        "review_schema",
        "tune_config",
        "plan_migration",
        "lint_migration",
        "check_health",
        "top_queries",
        "plan_capacity",
    }
    for tool in tools.values():
        assert tool.annotations is not None and tool.annotations.read_only_hint is True
        assert tool.annotations.destructive_hint is False
        assert tool.output_schema and tool.output_schema.get("type") == "object"
        assert tool.description and len(tool.description) > 60


async def test_run_query_is_annotated_destructive_when_a_connection_allows_writes(tmp_path: Path) -> None:
    db = tmp_path / "w.db"
    db.write_bytes(b"")
    writable = sqlite_conn(db, "rw", read_only=False)
    state = ServerState.from_connections(connection_set(writable))
    async with Client(build_server(state)) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
    assert tools["run_query"].annotations is not None
    assert tools["run_query"].annotations.destructive_hint is True
    assert tools["run_query"].annotations.read_only_hint is False
    advisor = tools["recommend_indexes"].annotations  # scratch copies are writes, never destructive ones
    assert advisor is not None and advisor.read_only_hint is False and advisor.destructive_hint is False
    assert tools["explain_query"].annotations is not None and tools["explain_query"].annotations.read_only_hint


async def test_list_connections_reports_versions_and_unavailable_servers(sample_config: ConnectionConfig) -> None:
    secret = "Very-S3cret-pw"
    pg = parse_connection("pg", f"postgresql://app:{secret}@127.0.0.1:1/db", source="test")
    result = await call([sample_config, pg], "list_connections", {})
    assert not result.is_error
    conns = {c["name"]: c for c in result.structured_content["connections"]}
    assert conns["sample"]["status"] == "ok" and conns["sample"]["server_version"].startswith("3.")
    assert conns["sample"]["sample"] is True and conns["sample"]["read_only"] is True
    assert conns["pg"]["status"] == "unavailable" and conns["pg"]["error"]
    assert secret not in text(result) and "app:***@127.0.0.1:1" in conns["pg"]["url"]


async def test_describe_schema_summary_and_full(sample_config: ConnectionConfig) -> None:
    summary = await call([sample_config], "describe_schema", {"connection": "sample"})
    data = summary.structured_content
    assert data["total_tables"] == 7 and data["returned"] == 7 and not data["truncated"]
    orders = next(t for t in data["tables"] if t["name"] == "orders")
    assert orders["row_estimate"] == 3000 and orders["primary_key"] == ["id"]
    assert any("→ customers(id)" in fk for fk in orders["foreign_keys"])
    full = await call(
        [sample_config], "describe_schema", {"connection": "sample", "tables": ["orders"], "detail": "full"}
    )
    [table] = full.structured_content["details"]
    assert table["name"] == "orders" and {c["name"] for c in table["columns"]} >= {"id", "customer_id", "status"}


async def test_describe_schema_missing_table_and_bad_schema(sample_config: ConnectionConfig) -> None:
    missing = await call([sample_config], "describe_schema", {"connection": "sample", "tables": ["nope"]})
    assert missing.is_error and "no table named 'nope'" in text(missing)
    bad = await call([sample_config], "describe_schema", {"connection": "sample", "schema": "public"})
    assert bad.is_error and "only the schema 'main'" in text(bad)


async def test_run_query_returns_rows_and_caps(sample_config: ConnectionConfig) -> None:
    result = await call(
        [sample_config],
        "run_query",
        {"connection": "sample", "query": "SELECT id FROM orders ORDER BY id", "max_rows": 3},
    )
    data = result.structured_content
    assert data["rows"] == [[1], [2], [3]] and data["truncated"] is True and data["truncated_by"] == "max_rows"
    assert data["columns"] == ["id"] and data["elapsed_ms"] >= 0


async def test_run_query_json_looking_params(sample_config: ConnectionConfig) -> None:
    result = await call(
        [sample_config], "run_query", {"connection": "sample", "query": "SELECT :id AS v", "params": {"id": 7}}
    )
    assert result.structured_content["rows"] == [[7]]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"connection": "nope", "query": "SELECT 1"}, "unknown connection 'nope'. Configured connections: sample"),
        ({"connection": "sample", "query": "DELETE FROM orders"}, "read-only guard"),
        ({"connection": "sample", "query": "SELECT * FROM missing_table"}, "no such table: missing_table"),
        ({"connection": "sample", "query": "SELECT 1; SELECT 2"}, "2 statements"),
    ],
)
async def test_errors_are_tool_errors_without_tracebacks(
    sample_config: ConnectionConfig, args: dict[str, Any], expected: str
) -> None:
    result = await call([sample_config], "run_query", args)
    assert result.is_error
    message = text(result)
    assert expected in message and "Traceback" not in message


async def test_an_adapter_that_cannot_load_is_a_clear_error(
    sample_config: ConnectionConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dbspecialist.adapters import registry

    monkeypatch.setitem(registry.ADAPTERS, "redis", "dbspecialist.adapters.no_such_module:Nope")
    redis = parse_connection("cache", "redis://127.0.0.1:6379/0", source="test")
    result = await call([sample_config, redis], "run_query", {"connection": "cache", "query": "GET x"})
    assert result.is_error and "could not be loaded" in text(result) and "not available" in text(result)


async def test_unexpected_errors_are_summarised_not_leaked(
    sample_config: ConnectionConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dbspecialist.adapters.sqlite import SQLiteAdapter

    async def boom(*_: Any, **__: Any) -> None:
        raise RuntimeError("internal detail /secret/path")

    monkeypatch.setattr(SQLiteAdapter, "introspect", boom)
    result = await call([sample_config], "describe_schema", {"connection": "sample"})
    assert result.is_error
    assert "internal error in describe_schema (RuntimeError)" in text(result)
    assert "/secret/path" not in text(result)


async def test_rule_docs_are_resources(sample_config: ConnectionConfig) -> None:
    state = ServerState.from_connections(connection_set(sample_config))
    try:
        async with Client(build_server(state)) as client:
            listed = {str(r.uri) for r in (await client.list_resources()).resources}
            index = await client.read_resource("dbspecialist://rules")
            page = await client.read_resource("dbspecialist://rules/SCH002")
    finally:
        await state.registry.close()
    assert "dbspecialist://rules" in listed
    index_text = index.contents[0].text  # type: ignore[union-attr]
    assert (
        "[SCH001](SCH001.md)" in index_text
        and "[PLN003](PLN003.md)" in index_text
        and "[QRY008](QRY008.md)" in index_text
    )
    text = page.contents[0].text  # type: ignore[union-attr]
    assert text.startswith("# SCH002 `foreign-key-without-index`") and "## Use instead" in text


async def test_review_schema_of_ddl_it_cannot_read_at_all_is_a_tool_error() -> None:
    result = await call([], "review_schema", {"ddl": "CREATE TABLE (((\nSELEC oops;", "dialect": "postgres"})
    message = text(result)
    assert result.is_error and "no table could be read from `ddl` as postgres" in message
    assert "the first at line 1" in message and "Check `dialect`" in message
    # one readable table is enough: the unreadable statements stay parse warnings
    ok = await call([], "review_schema", {"ddl": "CREATE TABLE t (id int PRIMARY KEY);\nSELEC oops;"})
    assert not ok.is_error and ok.structured_content["tables_reviewed"] == 1
    assert len(ok.structured_content["parse_warnings"]) == 1
