"""Guides are listed and linked correctly, every tool points to a guide, prompts chain real tools, live schema."""

from __future__ import annotations

import json
import re

import pytest
from mcp import Client

from dbspecialist.config import ConnectionConfig
from dbspecialist.knowledge.guides_index import GUIDE_LINK, guides
from dbspecialist.server.app import build_server
from dbspecialist.server.state import ServerState
from tests.helpers import connection_set

TOPIC_GUIDES = {
    "normalization",
    "modeling-patterns",
    "indexing",
    "query-optimization",
    "anti-patterns",
    "partitioning",
    "caching-and-materialized-views",
    "configuration",
    "connection-management",
    "monitoring",
    "zero-downtime-migrations",
    "scaling",
    "data-integrity",
    "backup-and-recovery",
}
SYSTEM_GUIDES = {
    "postgresql",
    "mysql-mariadb",
    "sqlite",
    "sql-server",
    "mongodb",
    "dynamodb",
    "redis",
    "time-series",
    "graph-databases",
    "clickhouse",
    "snowflake-bigquery",
    "debezium-cdc",
}
TOOL_NAME = re.compile(r"`([a-z_]+)`")
PROMPT_TOOLS = {
    "diagnose_slow_query": {"explain_query", "review_query", "recommend_indexes", "tune_config"},
    "review_schema_design": {"review_schema", "describe_schema", "plan_migration"},
    "plan_zero_downtime_migration": {"lint_migration", "plan_migration"},
    "tune_database": {"check_health", "tune_config", "top_queries"},
    "scale_for_10x": {"check_health", "top_queries", "plan_capacity", "tune_config", "recommend_indexes"},
}


def test_every_guide_the_issue_names_exists_with_title_summary_and_sources() -> None:
    found = {g.slug: g for g in guides()}
    assert set(found) == TOPIC_GUIDES | SYSTEM_GUIDES
    for guide in found.values():
        text = guide.text()
        assert text.startswith("# ") and guide.title, guide.slug
        assert 20 <= len(guide.summary) <= 160, (guide.slug, guide.summary)
        assert len(text.splitlines()) >= 60, f"{guide.slug} is too thin"
        assert "## Sources" in text, f"{guide.slug} names no sources"


def test_guides_have_no_broken_internal_links() -> None:
    slugs = {g.slug for g in guides()}
    broken = [(g.slug, link) for g in guides() for link in GUIDE_LINK.findall(g.text()) if link not in slugs]
    assert broken == []


async def _session(sample_config: ConnectionConfig) -> tuple[ServerState, Client]:
    state = ServerState.from_connections(connection_set(sample_config))
    return state, Client(build_server(state))


async def test_guides_are_listed_and_readable_as_resources(sample_config: ConnectionConfig) -> None:
    state, client = await _session(sample_config)
    try:
        async with client:
            listed = {str(r.uri): r for r in (await client.list_resources()).resources}
            templates = {t.uri_template for t in (await client.list_resource_templates()).resource_templates}
            for guide in guides():
                resource = listed[guide.uri]
                assert resource.description == guide.summary and resource.title == guide.title
            content = await client.read_resource("dbspecialist://guides/indexing")
            assert "BRIN" in content.contents[0].text  # type: ignore[union-attr]
            index = await client.read_resource("dbspecialist://guides")
            assert all(g.uri in index.contents[0].text for g in guides())  # type: ignore[union-attr]
            assert "dbspecialist://connections/{name}/schema" in templates
    finally:
        await state.registry.close()


async def test_every_tool_description_points_to_an_existing_guide(sample_config: ConnectionConfig) -> None:
    slugs = {g.slug for g in guides()}
    state, client = await _session(sample_config)
    try:
        async with client:
            tools = (await client.list_tools()).tools
    finally:
        await state.registry.close()
    for tool in tools:
        links = GUIDE_LINK.findall(tool.description or "")
        assert links, f"{tool.name} points to no guide"
        assert set(links) <= slugs, (tool.name, links)


async def test_prompts_chain_tools_that_exist(sample_config: ConnectionConfig) -> None:
    state, client = await _session(sample_config)
    try:
        async with client:
            tool_names = {t.name for t in (await client.list_tools()).tools}
            prompts = {p.name: p for p in (await client.list_prompts()).prompts}
            assert set(prompts) == {
                "diagnose_slow_query",
                "review_schema_design",
                "plan_zero_downtime_migration",
                "tune_database",
                "scale_for_10x",
            }
            required = {name: {a.name for a in p.arguments or [] if a.required} for name, p in prompts.items()}
            assert required["diagnose_slow_query"] == {"sql"}
            assert required["plan_zero_downtime_migration"] == {"change"}
            assert required["scale_for_10x"] == {"connection"}
            got = await client.get_prompt("diagnose_slow_query", {"sql": "SELECT * FROM orders", "connection": "shop"})
            text = got.messages[0].content.text  # type: ignore[union-attr]
            assert "SELECT * FROM orders" in text and "`shop`" in text
            # explain first, then review, then indexes
            assert text.index("`explain_query`") < text.index("`review_query`") < text.index("`recommend_indexes`")
            for name, prompt in prompts.items():
                args = {a.name: "x" for a in prompt.arguments or [] if a.required}
                body = (await client.get_prompt(name, args)).messages[0].content.text  # type: ignore[union-attr]
                assert set(TOOL_NAME.findall(body)) >= PROMPT_TOOLS[name], name
                assert PROMPT_TOOLS[name] <= tool_names, (name, PROMPT_TOOLS[name] - tool_names)
    finally:
        await state.registry.close()


async def test_live_schema_resource_template(sample_config: ConnectionConfig) -> None:
    state, client = await _session(sample_config)
    name = sample_config.name
    try:
        async with client:
            content = await client.read_resource(f"dbspecialist://connections/{name}/schema")
            data = json.loads(content.contents[0].text)  # type: ignore[union-attr]
            assert {t["name"] for t in data["tables"]} >= {"customers", "orders"}
            with pytest.raises(Exception, match="nope"):
                await client.read_resource("dbspecialist://connections/nope/schema")
    finally:
        await state.registry.close()
