"""Helpers shared by tests (fixtures live in conftest.py)."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path
from typing import Any

from dbspecialist.config import ConnectionConfig, ConnectionOptions, ConnectionSet, parse_connection


def sqlite_conn(path: Path, name: str = "t", **options: object) -> ConnectionConfig:
    return parse_connection(name, f"sqlite:///{path}", source="test", options=ConnectionOptions(**options))  # type: ignore[arg-type]


def connection_set(*configs: ConnectionConfig) -> ConnectionSet:
    return ConnectionSet({c.name: c for c in configs})


def checksum(path: Path) -> str:
    """Digest of the database file and its side files (WAL/SHM/journal), if any."""
    digest = hashlib.sha256()
    for suffix in ("", "-wal", "-shm", "-journal"):
        side = Path(f"{path}{suffix}")
        if side.exists():
            digest.update(suffix.encode())
            digest.update(side.read_bytes())
    return digest.hexdigest()


def make_db(path: Path, script: str) -> Path:
    con = sqlite3.connect(path)
    try:
        con.executescript(script)
        con.commit()
    finally:
        con.close()
    return path


async def call_tool(configs: list[ConnectionConfig], tool: str, args: dict[str, Any]) -> Any:
    """Call one tool through the in-memory MCP client on a server holding `configs`; the registry is closed after."""
    from mcp import Client

    from dbspecialist.server.app import build_server
    from dbspecialist.server.state import ServerState

    state = ServerState.from_connections(connection_set(*configs))
    try:
        async with Client(build_server(state)) as client:
            return await client.call_tool(tool, args)
    finally:
        await state.registry.close()


def result_text(result: Any) -> str:
    """The text content of a tool result (an error's message)."""
    return " ".join(getattr(c, "text", "") for c in result.content)
