"""A PostgreSQL 16 server for the version-gated paths the local PostgreSQL 15 cannot reach.

The server comes from the `pgserver` wheel (PostgreSQL 16.2 binaries, test-only), started on a Unix socket in a
temporary directory for the session and stopped after it. It has no contrib extensions, so these tests also see
how the tools behave without pg_stat_statements and HypoPG.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest

from dbspecialist.config import ConnectionConfig, parse_connection
from tests.integration.servers import IN_CI


@pytest.fixture(scope="session")
def pg16_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`postgresql://postgres@/dbspecialist_test?host=<socket dir>` on a PostgreSQL 16 started for the session."""
    if not os.environ.get("XDG_RUNTIME_DIR"):  # pgserver keeps its lock file there; without it platformdirs warns
        runtime = tmp_path_factory.mktemp("xdg-runtime")
        runtime.chmod(0o700)
        os.environ["XDG_RUNTIME_DIR"] = str(runtime)
    try:
        import pgserver
    except ImportError:
        message = "pgserver is not installed (pip install 'pgserver==0.1.4', test-only): PostgreSQL 16 tests not run"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(f"SKIPPED LOUDLY: {message}")
    data = Path(tmp_path_factory.mktemp("pg16")) / "data"
    server = pgserver.get_server(data, cleanup_mode="delete")
    try:
        server.psql("CREATE DATABASE dbspecialist_test;")
        yield server.get_uri(database="dbspecialist_test")
    finally:
        server.cleanup()


@pytest.fixture
def pg16(pg16_url: str) -> ConnectionConfig:
    return parse_connection("pg16", pg16_url, source="test")


@pytest.fixture
async def pg16_admin(pg16_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(pg16_url)
    try:
        yield conn
    finally:
        await conn.close()
