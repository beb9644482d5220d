"""stdio transport: the SDK's own client spawns `python -m dbspecialist serve` and calls every tool.

stdout belongs to the protocol: a raw session also checks that every byte the server writes
there is a JSON-RPC message, and that logs go to stderr.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from e2e_support import (
    FIRST_ORDERS_QUERY,
    TOOL_NAMES,
    assert_no_traceback,
    check_everything,
    jsonrpc_lines,
    server_command,
)
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

pytestmark = pytest.mark.e2e

SESSION_TIMEOUT_S = 30
LINE_TIMEOUT_S = 15


async def test_stdio_sdk_client_calls_every_tool(server_env: dict[str, str], tmp_path: Path) -> None:
    """Initialize, list tools and call every tool over stdio with the SDK's ClientSession."""
    params = StdioServerParameters(
        command=sys.executable,
        args=server_command()[1:],
        env={
            "DBSPECIALIST_CACHE_DIR": server_env["DBSPECIALIST_CACHE_DIR"],
            "DBSPECIALIST_LOG_LEVEL": "DEBUG",
            "PYTHONUNBUFFERED": "1",  # a stray print reaches the client at once, not at exit
        },
    )
    stream_errors: list[Exception] = []

    async def on_message(message: Any) -> None:
        # A line on stdout that is not JSON-RPC arrives here as an exception.
        if isinstance(message, Exception):
            stream_errors.append(message)

    errlog_path = tmp_path / "stdio-server.stderr"
    with errlog_path.open("w+", encoding="utf-8") as errlog:
        async with asyncio.timeout(SESSION_TIMEOUT_S):
            async with (
                stdio_client(params, errlog=errlog) as (read, write),
                ClientSession(read, write, message_handler=on_message) as session,
            ):
                init = await session.initialize()
                assert init.server_info.name == "dbspecialist"
                assert init.protocol_version, init
                assert init.capabilities.tools is not None
                await check_everything(session)
    stderr = errlog_path.read_text(encoding="utf-8")
    assert not stream_errors, f"non-JSON-RPC output on stdout: {stream_errors!r}\n{stderr}"
    assert "connections: sample (sqlite)" in stderr, f"expected the startup log on stderr:\n{stderr}"
    assert_no_traceback(stderr, where="stdio")


class RawStdioSession:
    """Newline-delimited JSON-RPC over the server's pipes, reading stdout one line at a time."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.next_id = 1
        self.stdout_lines: list[str] = []

    async def send(self, message: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write((json.dumps(message) + "\n").encode())
        await self.proc.stdin.drain()

    async def request(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        request_id = self.next_id
        self.next_id += 1
        await self.send({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params or {}})
        assert self.proc.stdout is not None
        while True:
            line = await asyncio.wait_for(self.proc.stdout.readline(), LINE_TIMEOUT_S)
            assert line, f"server closed stdout while waiting for the answer to {method}"
            text = line.decode()
            self.stdout_lines.append(text)
            (message,) = jsonrpc_lines(text)  # fails on anything that is not JSON-RPC
            if message.get("id") == request_id:
                assert "error" not in message, message
                return message["result"]


async def test_stdio_stdout_is_only_jsonrpc_and_exits_on_eof(server_env: dict[str, str], tmp_path: Path) -> None:
    """With DEBUG logging and error paths exercised, stdout carries only JSON-RPC; EOF on stdin ends the server."""
    stderr_path = tmp_path / "raw-stdio.stderr"
    with stderr_path.open("wb") as stderr_file:
        proc = await asyncio.create_subprocess_exec(
            *server_command("--log-level", "DEBUG"),
            env=server_env,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=stderr_file,
            limit=4 * 1024 * 1024,  # tools/list is one JSON-RPC line of ~90 KB (13 tools with output schemas)
        )
    try:
        session = RawStdioSession(proc)
        init = await session.request(
            "initialize",
            {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "raw-e2e", "version": "1"}},
        )
        assert init["serverInfo"]["name"] == "dbspecialist"
        await session.send({"jsonrpc": "2.0", "method": "notifications/initialized"})

        tools = await session.request("tools/list")
        assert {t["name"] for t in tools["tools"]} == TOOL_NAMES
        assert all(t["annotations"]["readOnlyHint"] is True for t in tools["tools"])

        ok = await session.request(
            "tools/call", {"name": "run_query", "arguments": {"connection": "sample", "query": FIRST_ORDERS_QUERY}}
        )
        assert ok["isError"] is False and ok["structuredContent"]["rows"] == [[1], [2], [3]], ok
        # Error paths log on the server; those logs must not reach stdout.
        refused = await session.request(
            "tools/call", {"name": "run_query", "arguments": {"connection": "sample", "query": "DELETE FROM orders"}}
        )
        assert refused["isError"] is True and "read-only guard" in refused["content"][0]["text"], refused
        unknown = await session.request("tools/call", {"name": "describe_schema", "arguments": {"connection": "x"}})
        assert unknown["isError"] is True and "Configured connections: sample" in unknown["content"][0]["text"]

        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.close()
        rest = await asyncio.wait_for(proc.stdout.read(), LINE_TIMEOUT_S)
        rc = await asyncio.wait_for(proc.wait(), LINE_TIMEOUT_S)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    jsonrpc_lines(rest.decode())
    stderr = stderr_path.read_text(encoding="utf-8")
    assert rc == 0, f"server exit code {rc} after stdin EOF\n{stderr}"
    assert len(session.stdout_lines) >= 5
    assert "DEBUG" in stderr and "run_query failed" in stderr, f"logs should be on stderr:\n{stderr}"
    assert_no_traceback(stderr, where="stdio raw session")
