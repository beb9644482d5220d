"""One ASGI app for remote clients: Streamable HTTP at /mcp, legacy SSE at /sse, and /healthz.

Security: a bearer token (constant-time compare, 401 without it) guards everything but
/healthz; DNS-rebinding protection (Host and Origin allow-lists) stays on.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from mcp.server import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from dbspecialist import __version__
from dbspecialist.errors import ConfigError
from dbspecialist.server.state import ServerState

LOOPBACK_HOSTS = ("127.0.0.1:*", "localhost:*", "[::1]:*")
LOOPBACK_ORIGINS = ("http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*")
PUBLIC_PATHS = frozenset({"/healthz"})
log = logging.getLogger("dbspecialist.http")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class BearerAuthMiddleware:
    """Require `Authorization: Bearer <token>` on every HTTP path except PUBLIC_PATHS."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self._expected = token.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") in PUBLIC_PATHS:
            await self.app(scope, receive, send)
            return
        supplied = b""
        for key, value in scope.get("headers", ()):
            if key == b"authorization":
                supplied = value
                break
        scheme, _, credentials = supplied.strip().partition(b" ")
        # The scheme is case-insensitive (RFC 9110 section 11.1); the token is compared in constant time.
        if scheme.lower() != b"bearer" or not hmac.compare_digest(credentials.strip(), self._expected):
            body = json.dumps(
                {"error": "unauthorized", "message": "send the server's token as 'Authorization: Bearer <token>'"}
            ).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 401,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"www-authenticate", b'Bearer realm="dbspecialist"'),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)


class QuietRejectionMiddleware:
    """The SDK's SSE endpoint answers a bad Host/Origin with 403/421 and then raises; the client
    already has its answer, so log one line instead of an 'Exception in ASGI application' traceback."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.app(scope, receive, send)
        except ValueError as exc:
            if "Request validation failed" not in str(exc):
                raise
            log.info("rejected %s %s: %s", scope.get("method"), scope.get("path"), exc)


def with_default_port(patterns: Sequence[str]) -> list[str]:
    """`host:*` also admits the bare `host`: clients leave a default port (443 behind a TLS proxy) out of the Host
    and Origin headers, and the SDK's `:*` pattern only matches an explicit port."""
    out: list[str] = []
    for pattern in patterns:
        out.append(pattern)
        if pattern.endswith(":*"):
            out.append(pattern[:-2])
    return list(dict.fromkeys(out))


def build_http_app(
    mcp: MCPServer,
    state: ServerState,
    *,
    host: str,
    auth_token: str | None,
    allowed_hosts: Sequence[str] = (),
    allowed_origins: Sequence[str] = (),
) -> ASGIApp:
    """Build the combined app; refuse a non-loopback bind without a token."""
    auth_token = (auth_token or "").strip() or None  # HTTP trims header values: a blank token could never match
    if not is_loopback(host) and not auth_token:
        raise ConfigError(
            f"refusing to listen on {host} without authentication: anyone who can reach this port could "
            "query your databases. Set --auth-token (or DBSPECIALIST_AUTH_TOKEN), or bind 127.0.0.1."
        )
    security = TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=with_default_port([*LOOPBACK_HOSTS, *allowed_hosts]),
        allowed_origins=with_default_port([*LOOPBACK_ORIGINS, *allowed_origins]),
    )
    streamable = mcp.streamable_http_app(streamable_http_path="/mcp", transport_security=security, host=host)
    sse = mcp.sse_app(sse_path="/sse", message_path="/messages/", transport_security=security, host=host)

    async def healthz(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "server": "dbspecialist", "version": __version__})

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        try:
            async with mcp.session_manager.run():
                yield
        finally:
            await state.registry.close()

    app: ASGIApp = Starlette(
        routes=[Route("/healthz", healthz, methods=["GET"]), *streamable.routes, *sse.routes],
        lifespan=lifespan,
    )
    app = QuietRejectionMiddleware(app)
    if auth_token:
        app = BearerAuthMiddleware(app, auth_token)
    return app
