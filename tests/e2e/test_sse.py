"""Legacy HTTP+SSE at /sse (messages at /messages/): the SDK's sse_client, every tool called."""

from __future__ import annotations

import asyncio

import httpx2
import pytest
from e2e_support import ServerProcess, assert_no_traceback, check_everything
from mcp import ClientSession
from mcp.client.sse import sse_client

pytestmark = pytest.mark.e2e

SESSION_TIMEOUT_S = 30


async def test_sse_client_calls_every_tool(http_server: ServerProcess) -> None:
    async with asyncio.timeout(SESSION_TIMEOUT_S):
        async with (
            sse_client(http_server.sse_url, timeout=10) as (read, write),
            ClientSession(read, write) as session,
        ):
            init = await session.initialize()
            assert init.server_info.name == "dbspecialist"
            assert init.capabilities.tools is not None
            await check_everything(session)
    assert_no_traceback(http_server.stderr(), where="SSE")


async def test_sse_endpoint_event_points_at_messages(http_server: ServerProcess) -> None:
    """The first SSE event tells the client where to POST: /messages/?session_id=..."""
    async with (
        asyncio.timeout(10),
        httpx2.AsyncClient(timeout=5) as client,
        client.stream("GET", http_server.sse_url) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        lines: list[str] = []
        async for line in response.aiter_lines():
            lines.append(line)
            if line.startswith("data:"):
                break
    assert "event: endpoint" in lines, lines
    assert lines[-1].startswith("data: /messages/?session_id="), lines


async def test_two_sse_sessions_are_independent(http_server: ServerProcess) -> None:
    """Two SSE connections at once each get their own session and correct answers."""

    async def one(n: int) -> list[list[int]]:
        async with (
            sse_client(http_server.sse_url, timeout=10) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            result = await session.call_tool(
                "run_query", {"connection": "sample", "query": "SELECT ? + 1 AS n", "params": [n]}
            )
            assert result.is_error is False, result.content
            return result.structured_content["rows"]

    async with asyncio.timeout(SESSION_TIMEOUT_S):
        assert await asyncio.gather(one(1), one(41)) == [[[2]], [[42]]]
