"""plan_migration, lint_migration, check_health, top_queries and plan_capacity through a real MCP client."""

from __future__ import annotations

from typing import Any

from dbspecialist.config import ConnectionConfig
from tests.unit.test_tools_inmemory import call, text

CHANGE = "ALTER TABLE orders ADD COLUMN shipped_at timestamptz NOT NULL DEFAULT clock_timestamp();"


def _data(result: Any) -> dict[str, Any]:
    assert not result.is_error, text(result)
    data: dict[str, Any] = result.structured_content
    return data


async def test_plan_migration_offline_gives_phases_locks_and_the_backfill(sample_config: ConnectionConfig) -> None:
    stats = {"orders": {"rows": 400_000_000, "bytes": 80 * 1024**3}}
    data = _data(
        await call([sample_config], "plan_migration", {"change": CHANGE, "version": "16", "table_stats": stats})
    )
    phases = [step["phase"] for step in data["steps"]]
    assert phases == sorted(phases, key=["prepare", "expand", "backfill", "validate", "switch", "contract"].index)
    assert {"expand", "backfill", "validate"} <= set(phases)
    blocking = [s for s in data["steps"] if s["lock"] and s["lock"]["blocks"] != "nothing"]
    assert blocking and all(s["table_effect"] == "metadata" for s in blocking)  # nothing rewrites under lock
    assert all(any("lock_timeout" in p for p in s["preamble"]) for s in blocking)
    assert data["backfill_script"] and "5000" in data["backfill_script"].replace(",", "").replace("_", "")
    assert "MIG013" in {f["rule_id"] for f in data["findings"]}  # the volatile default as written
    assert data["version"] == "16" and data["summary"]


async def test_plan_migration_on_a_live_connection_uses_its_engine(sample_config: ConnectionConfig) -> None:
    change = "ALTER TABLE orders ADD COLUMN note TEXT;"
    data = _data(await call([sample_config], "plan_migration", {"change": change, "connection": sample_config.name}))
    assert data["dialect"] == "sqlite" and data["engine"] == "sqlite"
    assert any("ADD COLUMN note TEXT" in s for step in data["steps"] for s in step["sql"])
    wrong = await call(
        [sample_config], "plan_migration", {"change": change, "connection": sample_config.name, "dialect": "mysql"}
    )
    assert wrong.is_error and "is sqlite, but dialect='mysql'" in text(wrong)


async def test_plan_migration_bad_input_is_a_clear_tool_error(sample_config: ConnectionConfig) -> None:
    neither = await call([sample_config], "plan_migration", {})
    assert neither.is_error and "give either `change`" in text(neither)
    unparseable = await call([sample_config], "plan_migration", {"change": "ALTER TABLE t ADD;"})
    assert unparseable.is_error and "cannot parse" in text(unparseable)
    no_current = await call([sample_config], "plan_migration", {"target_ddl": "CREATE TABLE t (id int);"})
    assert no_current.is_error and "current_ddl" in text(no_current)
    unknown = await call([sample_config], "plan_migration", {"change": CHANGE, "connection": "nope"})
    assert unknown.is_error and "nope" in text(unknown)


async def test_lint_migration_tool(sample_config: ConnectionConfig) -> None:
    sql = "CREATE INDEX orders_note_idx ON orders (note);\nBEGIN;\nCREATE INDEX CONCURRENTLY i2 ON orders (x);\nCOMMIT;"
    data = _data(await call([sample_config], "lint_migration", {"sql": sql, "version": "16"}))
    found = {(f["rule_id"], f["line"]) for f in data["findings"]}
    assert ("MIG001", 1) in found
    assert any(rule == "MIG005" and line == 3 for rule, line in found)  # CONCURRENTLY inside a transaction
    assert data["statements"] == 4


async def test_check_health_on_sqlite(sample_config: ConnectionConfig) -> None:
    data = _data(await call([sample_config], "check_health", {"connection": sample_config.name}))
    assert data["engine"] == "sqlite" and "quick_check" in " ".join(data["checks_run"])
    assert data["metrics"]["page_size"] == 4096
    for finding in data["findings"]:
        assert finding["evidence"]["measured"] in ("counter", "sample", "estimate")


async def test_plan_capacity_with_facts_and_errors(sample_config: ConnectionConfig) -> None:
    facts = {"engine": "postgresql", "connections_used": 60, "connections_max": 197}
    data = _data(await call([sample_config], "plan_capacity", {"facts": facts, "growth_factor": 10}))
    assert data["first_limit"] == "connections" and data["first_breaks_at"] == 3.28  # 197 / 60
    assert data["handles_factor"] is False
    nothing = await call([sample_config], "plan_capacity", {})
    assert nothing.is_error and "give `connection`" in text(nothing)
    typo = await call([sample_config], "plan_capacity", {"facts": {"ram_gigs": 64}})
    assert typo.is_error and "ram_gigs" in text(typo)


async def test_top_queries_on_sqlite_says_why_not(sample_config: ConnectionConfig) -> None:
    data = _data(await call([sample_config], "top_queries", {"connection": sample_config.name}))
    assert data["available"] is False and data["queries"] == []
    assert data["unavailable"].startswith("SQLite keeps no statement statistics")
    assert any("explain_query" in step for step in data["enable"])
