"""Streamable HTTP at /mcp: the SDK's clients against a spawned `serve --http`, every tool called."""

from __future__ import annotations

import asyncio
import signal

import httpx2
import pytest
from e2e_support import ServerPool, ServerProcess, assert_no_traceback, check_everything
from mcp import Client, ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp_types.version import LATEST_HANDSHAKE_VERSION, LATEST_PROTOCOL_VERSION

pytestmark = pytest.mark.e2e

SESSION_TIMEOUT_S = 30


async def test_healthz(http_server: ServerProcess) -> None:
    async with httpx2.AsyncClient(timeout=5) as client:
        response = await client.get(f"{http_server.base_url}/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["server"] == "dbspecialist", body


async def test_client_session_handshake_calls_every_tool(http_server: ServerProcess) -> None:
    """The initialize handshake (ClientSession + streamable_http_client), then every tool."""
    async with asyncio.timeout(SESSION_TIMEOUT_S):
        async with (
            streamable_http_client(http_server.mcp_url) as (read, write),
            ClientSession(read, write) as session,
        ):
            init = await session.initialize()
            assert init.protocol_version == LATEST_HANDSHAKE_VERSION
            assert init.server_info.name == "dbspecialist"
            await check_everything(session)
    assert_no_traceback(http_server.stderr(), where="streamable HTTP")


async def test_high_level_client_modern_protocol_calls_every_tool(http_server: ServerProcess) -> None:
    """`mcp.Client(url)` negotiates the newest (session-less) protocol; the tools work there too."""
    async with asyncio.timeout(SESSION_TIMEOUT_S), Client(http_server.mcp_url) as client:
        assert client.protocol_version == LATEST_PROTOCOL_VERSION
        assert client.server_info is not None and client.server_info.name == "dbspecialist"
        await check_everything(client)
    assert_no_traceback(http_server.stderr(), where="streamable HTTP (modern protocol)")


async def test_concurrent_sessions_share_one_server(http_server: ServerProcess) -> None:
    """Several clients at once on one process get independent, correct answers."""

    async def one(n: int) -> list[list[int]]:
        async with (
            streamable_http_client(http_server.mcp_url) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            result = await session.call_tool(
                "run_query", {"connection": "sample", "query": "SELECT id FROM orders WHERE id = ?", "params": [n]}
            )
            assert result.is_error is False
            return result.structured_content["rows"]

    async with asyncio.timeout(SESSION_TIMEOUT_S):
        rows = await asyncio.gather(*(one(n) for n in range(1, 6)))
    assert rows == [[[n]] for n in range(1, 6)]


async def test_sigterm_stops_http_server_cleanly(servers: ServerPool) -> None:
    """After serving a session, SIGTERM runs the graceful shutdown (lifespan exit) without a traceback.

    uvicorn re-raises the signal once it has shut down, so the exit status is "killed by SIGTERM"
    (-15) rather than 0; both are a clean stop, SIGKILL (the fixture's escalation) is not.
    """
    server = servers.spawn_http()
    async with (
        streamable_http_client(server.mcp_url) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        assert (await session.call_tool("list_connections", {})).is_error is False
    rc = server.stop()
    assert rc in (0, -signal.SIGTERM), server.describe()
    stderr = server.stderr()
    assert "Application shutdown complete" in stderr, stderr
    assert_no_traceback(stderr, where="shutdown")


async def test_http_mode_writes_no_logs_to_stdout(http_server: ServerProcess) -> None:
    """Logs belong on stderr in every mode; after requests, the HTTP server's stdout is empty."""
    async with httpx2.AsyncClient(timeout=5) as client:
        assert (await client.get(f"{http_server.base_url}/healthz")).status_code == 200
    await asyncio.sleep(0.2)  # let the access log line be written, if any
    assert http_server.stdout() == "", f"stdout of an HTTP server:\n{http_server.stdout()}"
