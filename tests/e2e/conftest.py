"""Fixtures for the end-to-end tests: real server processes on real transports.

Every test in this folder is marked `e2e`. Servers get a private cache directory (the bundled
sample database is built there once per session), a free port, a bounded wait for /healthz, and
are always stopped (SIGTERM, then SIGKILL) and reaped at teardown.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e_support import ServerPool, ServerProcess, clean_env

E2E_DIR = Path(__file__).parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if E2E_DIR in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """DBSPECIALIST_CACHE_DIR for every server of the session (the sample DB is built there)."""
    return tmp_path_factory.mktemp("dbspecialist-cache")


@pytest.fixture
def server_env(cache_dir: Path) -> dict[str, str]:
    """A clean environment for a server subprocess (no inherited DBSPECIALIST_* settings)."""
    return clean_env(cache_dir)


@pytest.fixture
def servers(cache_dir: Path, tmp_path: Path) -> Iterator[ServerPool]:
    """Spawn HTTP servers in a test; all are stopped and reaped when the test ends."""
    pool = ServerPool(cache_dir, tmp_path)
    try:
        yield pool
    finally:
        pool.stop_all()


@pytest.fixture(scope="module")
def module_servers(cache_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerPool]:
    """Like `servers`, shared by the tests of one module."""
    pool = ServerPool(cache_dir, tmp_path_factory.mktemp("server-logs"))
    try:
        yield pool
    finally:
        pool.stop_all()


@pytest.fixture(scope="module")
def http_server(module_servers: ServerPool) -> ServerProcess:
    """One plain `serve --http` on loopback without a token, shared by a module."""
    return module_servers.spawn_http()
