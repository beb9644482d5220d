"""HTTP security of `serve --http`: bearer token, public-bind refusal, DNS-rebinding protection, no token in logs."""

from __future__ import annotations

import asyncio
import json
import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from e2e_support import (
    FIRST_ORDERS_QUERY,
    TOOL_NAMES,
    ServerPool,
    ServerProcess,
    clean_env,
    free_port,
    server_command,
    text_of,
)
from mcp import ClientSession, MCPError
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client

pytestmark = pytest.mark.e2e

TOKEN = "e2e-" + secrets.token_hex(16)
SESSION_TIMEOUT_S = 30
REQUEST_TIMEOUT_S = 10
EVIL_ORIGIN = "http://evil.example"
EVIL_HOST = "evil.example:80"
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "e2e", "version": "1"}},
}
MCP_POST_HEADERS = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}


def bearer(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def token_server(module_servers: ServerPool) -> Iterator[ServerProcess]:
    server = module_servers.spawn_http("--auth-token", TOKEN, "--log-level", "DEBUG")
    yield server
    assert TOKEN not in server.stderr() + server.stdout()


async def request(
    method: str, url: str, *, headers: dict[str, str] | None = None, body: Any = None
) -> tuple[int, dict[str, str], str]:
    """One request; of an event stream only the first event is read, then the stream is closed."""
    async with (
        asyncio.timeout(REQUEST_TIMEOUT_S),
        httpx2.AsyncClient(timeout=REQUEST_TIMEOUT_S) as client,
        client.stream(
            method, url, headers=headers, content=None if body is None else json.dumps(body).encode()
        ) as response,
    ):
        if response.headers.get("content-type", "").startswith("text/event-stream"):
            text = ""
            async for line in response.aiter_lines():  # the first event is enough
                text += line + "\n"
                if line.startswith("data:"):
                    break
        else:
            text = (await response.aread()).decode()
        return response.status_code, dict(response.headers), text


def endpoint(server: ServerProcess, kind: str) -> tuple[str, str, dict[str, str], Any]:
    """(method, url, headers, body) of a well-formed request to one MCP endpoint."""
    if kind == "POST /mcp":
        return "POST", server.mcp_url, dict(MCP_POST_HEADERS), INITIALIZE
    if kind == "GET /sse":
        return "GET", server.sse_url, {}, None
    if kind == "POST /messages/":
        return (
            "POST",
            f"{server.base_url}/messages/?session_id=00000000000000000000000000000000",
            {"Content-Type": "application/json"},
            INITIALIZE,
        )
    raise AssertionError(kind)


ENDPOINTS = ["POST /mcp", "GET /sse", "POST /messages/"]


async def assert_sdk_session_works(url: str, *, transport: str, headers: dict[str, str]) -> None:
    """A full SDK session: initialize, list tools, one query with a known answer."""
    async with asyncio.timeout(SESSION_TIMEOUT_S):
        if transport == "http":
            async with (
                httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(30, read=300)) as http,
                streamable_http_client(url, http_client=http) as (read, write),
                ClientSession(read, write) as session,
            ):
                await _exercise(session)
        else:
            async with sse_client(url, headers=headers) as (read, write), ClientSession(read, write) as session:
                await _exercise(session)


async def _exercise(session: ClientSession) -> None:
    init = await session.initialize()
    assert init.server_info.name == "dbspecialist"
    assert {t.name for t in (await session.list_tools()).tools} == TOOL_NAMES
    result = await session.call_tool("run_query", {"connection": "sample", "query": FIRST_ORDERS_QUERY})
    assert result.is_error is False, text_of(result)
    assert result.structured_content["rows"] == [[1], [2], [3]]


# --- bearer token -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong-token", f"Bearer {TOKEN}x", f"Basic {TOKEN}", TOKEN, "Bearer"],
    ids=["missing", "wrong", "token-prefix", "basic-scheme", "no-scheme", "scheme-only"],
)
@pytest.mark.parametrize("kind", ["POST /mcp", "GET /mcp", "GET /sse", "POST /messages/"])
async def test_requests_without_the_right_token_get_401(
    token_server: ServerProcess, kind: str, authorization: str | None
) -> None:
    if kind == "GET /mcp":
        method, url, headers, body = "GET", token_server.mcp_url, {"Accept": "text/event-stream"}, None
    else:
        method, url, headers, body = endpoint(token_server, kind)
    if authorization is not None:
        headers["Authorization"] = authorization
    status, response_headers, text = await request(method, url, headers=headers, body=body)
    assert status == 401, (status, text)
    assert response_headers["www-authenticate"].startswith("Bearer"), response_headers
    assert json.loads(text)["error"] == "unauthorized"
    assert TOKEN not in text


async def test_healthz_needs_no_token(token_server: ServerProcess) -> None:
    status, _, text = await request("GET", f"{token_server.base_url}/healthz")
    assert status == 200, text
    assert json.loads(text)["status"] == "ok"


async def test_right_token_passes_the_middleware(token_server: ServerProcess) -> None:
    """Control for the 401 tests: the same raw initialize with the token is answered."""
    method, url, headers, body = endpoint(token_server, "POST /mcp")
    status, _, text = await request(method, url, headers=headers | bearer(), body=body)
    assert status == 200, text
    assert '"serverInfo"' in text and '"dbspecialist"' in text, text


@pytest.mark.parametrize("transport", ["http", "sse"])
async def test_sdk_client_with_token(token_server: ServerProcess, transport: str) -> None:
    url = token_server.mcp_url if transport == "http" else token_server.sse_url
    await assert_sdk_session_works(url, transport=transport, headers=bearer())


def _flatten(exc: BaseException) -> list[BaseException]:
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for inner in exc.exceptions for leaf in _flatten(inner)]
    return [exc]


@pytest.mark.parametrize("transport", ["http", "sse"])
async def test_sdk_client_without_token_cannot_connect(token_server: ServerProcess, transport: str) -> None:
    """The SDK's clients are refused too (not left hanging): an HTTP error on connect/initialize."""
    with pytest.raises(Exception) as excinfo:  # the SDK reports the 401 differently per transport
        async with asyncio.timeout(SESSION_TIMEOUT_S):
            if transport == "http":
                async with (
                    streamable_http_client(token_server.mcp_url) as (read, write),
                    ClientSession(read, write) as session,
                ):
                    await session.initialize()
            else:
                async with sse_client(token_server.sse_url) as (read, write), ClientSession(read, write) as session:
                    await session.initialize()
    leaves = _flatten(excinfo.value)
    assert not any(isinstance(e, TimeoutError) for e in leaves), f"the client hung instead of being refused: {leaves}"
    if transport == "sse":
        assert any(isinstance(e, httpx2.HTTPStatusError) and e.response.status_code == 401 for e in leaves), leaves
    else:
        assert any(isinstance(e, MCPError) for e in leaves), leaves


async def test_auth_scheme_is_case_insensitive(token_server: ServerProcess) -> None:
    method, url, headers, body = endpoint(token_server, "POST /mcp")
    status, _, text = await request(method, url, headers=headers | {"Authorization": f"bearer {TOKEN}"}, body=body)
    assert status == 200, (status, text)


async def test_token_from_environment(servers: ServerPool) -> None:
    env_token = "env-" + secrets.token_hex(16)
    server = servers.spawn_http(env={"DBSPECIALIST_AUTH_TOKEN": env_token})
    method, url, headers, body = endpoint(server, "POST /mcp")
    status, _, _ = await request(method, url, headers=headers, body=body)
    assert status == 401
    status, _, _ = await request(method, url, headers=headers | bearer("wrong"), body=body)
    assert status == 401
    await assert_sdk_session_works(server.mcp_url, transport="http", headers=bearer(env_token))
    stderr = server.stderr()
    assert "auth: bearer token" in stderr, stderr
    assert env_token not in stderr + server.stdout()


@pytest.mark.parametrize("source", ["flag", "env"])
async def test_token_never_appears_in_logs(servers: ServerPool, source: str) -> None:
    """DEBUG logging through good and bad requests on every endpoint: the token is never written out."""
    token = f"{source}-" + secrets.token_hex(16)
    if source == "flag":
        server = servers.spawn_http("--auth-token", token, "--log-level", "DEBUG")
    else:
        server = servers.spawn_http(env={"DBSPECIALIST_AUTH_TOKEN": token, "DBSPECIALIST_LOG_LEVEL": "DEBUG"})
    await assert_sdk_session_works(server.mcp_url, transport="http", headers=bearer(token))
    await assert_sdk_session_works(server.sse_url, transport="sse", headers=bearer(token))
    for kind in ENDPOINTS:
        method, url, headers, body = endpoint(server, kind)
        status, _, _ = await request(method, url, headers=headers | bearer(token + "x"), body=body)
        assert status == 401
    server.stop()  # flush everything it would log
    stderr, stdout = server.stderr(), server.stdout()
    assert " DEBUG " in stderr, f"expected DEBUG logs:\n{stderr}"
    assert "POST /mcp" in stderr + stdout, "expected request logs"
    assert token not in stderr, f"token leaked to stderr:\n{stderr}"
    assert token not in stdout, f"token leaked to stdout:\n{stdout}"


# --- binding a public address -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "env"),
    [
        ("0.0.0.0", {}),
        ("::", {}),
        ("192.0.2.10", {}),
        ("0.0.0.0", {"DBSPECIALIST_AUTH_TOKEN": ""}),
        ("0.0.0.0", {"DBSPECIALIST_AUTH_TOKEN": "   "}),
    ],
    ids=["ipv4-any", "ipv6-any", "specific-ip", "empty-env-token", "blank-env-token"],
)
def test_refuses_public_bind_without_token(cache_dir: Path, host: str, env: dict[str, str]) -> None:
    port = free_port()
    result = subprocess.run(
        server_command("--http", "--host", host, "--port", str(port)),
        env=clean_env(cache_dir, **env),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert "refusing to listen" in result.stderr, result.stderr
    assert host in result.stderr and "--auth-token" in result.stderr, result.stderr
    assert result.stdout == ""
    assert "Uvicorn running" not in result.stderr


async def test_public_bind_with_token_starts(servers: ServerPool) -> None:
    server = servers.spawn_http("--auth-token", TOKEN, host="0.0.0.0")
    assert "0.0.0.0" in server.stderr()
    method, url, headers, body = endpoint(server, "POST /mcp")
    status, _, _ = await request(method, url, headers=headers, body=body)
    assert status == 401
    await assert_sdk_session_works(server.mcp_url, transport="http", headers=bearer())


# --- DNS-rebinding protection -------------------------------------------------------------------


@pytest.mark.parametrize("kind", ENDPOINTS)
@pytest.mark.parametrize(
    ("header", "value", "status", "message"),
    [("Origin", EVIL_ORIGIN, 403, "Invalid Origin header"), ("Host", EVIL_HOST, 421, "Invalid Host header")],
    ids=["foreign-origin", "foreign-host"],
)
async def test_foreign_origin_or_host_is_rejected(
    http_server: ServerProcess, kind: str, header: str, value: str, status: int, message: str
) -> None:
    method, url, headers, body = endpoint(http_server, kind)
    got, _, text = await request(method, url, headers=headers | {header: value}, body=body)
    assert (got, text) == (status, message)


@pytest.mark.parametrize("kind", ["POST /mcp", "GET /sse"])
async def test_loopback_origin_and_host_are_accepted(http_server: ServerProcess, kind: str) -> None:
    """Control for the rejection tests: the same requests from a loopback page are served."""
    method, url, headers, body = endpoint(http_server, kind)
    extra = {"Origin": f"http://127.0.0.1:{http_server.port}", "Host": f"localhost:{http_server.port}"}
    status, _, text = await request(method, url, headers=headers | extra, body=body)
    assert status == 200, text
    assert ('"serverInfo"' in text) if kind == "POST /mcp" else ("/messages/?session_id=" in text), text


async def test_rebinding_protection_also_applies_with_a_token(token_server: ServerProcess) -> None:
    method, url, headers, body = endpoint(token_server, "POST /mcp")
    status, _, text = await request(method, url, headers=headers | bearer() | {"Origin": EVIL_ORIGIN}, body=body)
    assert (status, text) == (403, "Invalid Origin header")


@pytest.fixture(scope="module")
def allowing_server(module_servers: ServerPool) -> ServerProcess:
    return module_servers.spawn_http("--allowed-host", "evil.example:*", "--allowed-origin", EVIL_ORIGIN)


@pytest.mark.parametrize("kind", ["POST /mcp", "GET /sse"])
async def test_allowed_host_and_origin_pass(allowing_server: ServerProcess, kind: str) -> None:
    method, url, headers, body = endpoint(allowing_server, kind)
    # "evil.example:*" also admits the bare host: clients leave a default port (443 behind TLS) out of Host
    bare = {"Host": EVIL_HOST.rsplit(":", 1)[0]}
    for extra in ({"Origin": EVIL_ORIGIN}, {"Host": EVIL_HOST}, {"Origin": EVIL_ORIGIN, "Host": EVIL_HOST}, bare):
        status, _, text = await request(method, url, headers=headers | extra, body=body)
        assert status == 200, (extra, status, text)
        assert ('"serverInfo"' in text) if kind == "POST /mcp" else ("/messages/?session_id=" in text), text


@pytest.mark.parametrize("kind", ["POST /mcp", "GET /sse"])
async def test_allow_lists_do_not_open_everything(allowing_server: ServerProcess, kind: str) -> None:
    method, url, headers, body = endpoint(allowing_server, kind)
    status, _, _ = await request(method, url, headers=headers | {"Origin": "http://other.example"}, body=body)
    assert status == 403
    for other in ("other.example:80", "other.example", "evil.example.other.example"):
        status, _, _ = await request(method, url, headers=headers | {"Host": other}, body=body)
        assert status == 421, other


@pytest.mark.parametrize("transport", ["http", "sse"])
async def test_sdk_session_through_allowed_host_and_origin(allowing_server: ServerProcess, transport: str) -> None:
    url = allowing_server.mcp_url if transport == "http" else allowing_server.sse_url
    await assert_sdk_session_works(url, transport=transport, headers={"Origin": EVIL_ORIGIN, "Host": EVIL_HOST})


async def test_rejected_sse_request_logs_no_traceback(servers: ServerPool) -> None:
    server = servers.spawn_http()
    method, url, headers, body = endpoint(server, "GET /sse")
    status, _, _ = await request(method, url, headers=headers | {"Origin": EVIL_ORIGIN}, body=body)
    assert status == 403
    server.stop()
    assert "Traceback" not in server.stderr(), server.stderr()
