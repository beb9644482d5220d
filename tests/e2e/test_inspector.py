"""A third-party client: the MCP Inspector CLI (Node) lists and calls the tools over stdio, HTTP and SSE.

The npm package is installed once into ~/.cache/dbspecialist-test/inspector (override with
DBSPECIALIST_TEST_INSPECTOR_DIR) and reused. Without npm/node (or without network for the first
install) the tests are skipped locally and fail on CI (CI=true).

Inspector 0.15 (the newest that runs on Node 20) has no --header option, so the HTTP runs use a
server without a token; a token-protected server is checked to refuse the inspector.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from e2e_support import ORDERS_ROWS, TOOL_NAMES, ServerPool, ServerProcess, clean_env

pytestmark = pytest.mark.e2e

PACKAGE = "@modelcontextprotocol/inspector"
PINNED = "0.15"
INSTALL_TIMEOUT_S = 300
RUN_TIMEOUT_S = 60
COUNT_QUERY = "SELECT COUNT(*) AS n FROM orders"


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"MCP Inspector unavailable on CI: {reason}")
    pytest.skip(f"MCP Inspector unavailable: {reason}")


def _install_dir() -> Path:
    override = os.environ.get("DBSPECIALIST_TEST_INSPECTOR_DIR")
    return Path(override) if override else Path.home() / ".cache" / "dbspecialist-test" / "inspector"


def _installed_version(prefix: Path) -> str | None:
    manifest = prefix / "node_modules" / "@modelcontextprotocol" / "inspector" / "package.json"
    try:
        return str(json.loads(manifest.read_text(encoding="utf-8"))["version"])
    except (OSError, ValueError, KeyError):
        return None


@contextlib.contextmanager
def _install_lock(prefix: Path) -> Iterator[None]:
    """Serialise installs between concurrent test runs."""
    prefix.mkdir(parents=True, exist_ok=True)
    with (prefix / ".install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def inspector() -> Path:
    """Path of the installed `mcp-inspector` executable (installing the pinned version if needed)."""
    npm, node = shutil.which("npm"), shutil.which("node")
    if npm is None or node is None:
        _unavailable("`npm` and `node` must be on PATH (install Node.js 20+)")
    assert npm is not None
    prefix = _install_dir()
    with _install_lock(prefix):
        version = _installed_version(prefix)
        if version is None or not version.startswith(PINNED + "."):
            try:
                result = subprocess.run(
                    [npm, "install", "--prefix", str(prefix), "--no-audit", "--no-fund", f"{PACKAGE}@{PINNED}"],
                    capture_output=True,
                    text=True,
                    timeout=INSTALL_TIMEOUT_S,
                    check=False,
                )
            except subprocess.TimeoutExpired:
                _unavailable(f"`npm install {PACKAGE}@{PINNED}` took more than {INSTALL_TIMEOUT_S} s")
            if result.returncode != 0:
                _unavailable(f"`npm install {PACKAGE}@{PINNED}` failed:\n{result.stdout}\n{result.stderr}")
            version = _installed_version(prefix)
    assert version is not None and version.startswith(PINNED + "."), f"installed {PACKAGE} version: {version}"
    manifest = json.loads(
        (prefix / "node_modules" / "@modelcontextprotocol" / "inspector" / "package.json").read_text(encoding="utf-8")
    )
    (bin_name,) = manifest["bin"]  # "mcp-inspector" in 0.15
    executable = prefix / "node_modules" / ".bin" / bin_name
    assert executable.exists(), f"{executable} missing after install"
    return executable


def run_inspector(
    inspector: Path, target: list[str], method_args: list[str], *, env: dict[str, str], cwd: Path
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(inspector), "--cli", *target, *method_args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )


def parse_output(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert result.returncode == 0, f"inspector exit code {result.returncode}\n{result.stdout}\n{result.stderr}"
    try:
        return dict(json.loads(result.stdout))
    except ValueError:
        raise AssertionError(f"inspector printed no JSON:\n{result.stdout}\n{result.stderr}") from None


def assert_tool_list(result: subprocess.CompletedProcess[str]) -> None:
    data = parse_output(result)
    tools = {t["name"]: t for t in data["tools"]}
    assert set(tools) == TOOL_NAMES, sorted(tools)
    for name, tool in tools.items():
        assert tool["annotations"]["readOnlyHint"] is True, (name, tool["annotations"])
        assert tool["outputSchema"]["type"] == "object", (name, tool.get("outputSchema"))
    assert '"readOnlyHint": true' in result.stdout


def assert_count(result: subprocess.CompletedProcess[str]) -> None:
    data = parse_output(result)
    assert data["isError"] is False, data
    assert data["structuredContent"]["columns"] == ["n"], data
    assert data["structuredContent"]["rows"] == [[ORDERS_ROWS]], data
    assert json.loads(data["content"][0]["text"])["rows"] == [[ORDERS_ROWS]]
    assert '"isError": false' in result.stdout


TOOLS_LIST = ["--method", "tools/list"]
COUNT_CALL = [
    "--method",
    "tools/call",
    "--tool-name",
    "run_query",
    "--tool-arg",
    "connection=sample",
    "--tool-arg",
    f"query={COUNT_QUERY}",
]


def inspector_env(tmp_path: Path, cache_dir: Path) -> dict[str, str]:
    """The inspector's own environment: no DBSPECIALIST_* and a private XDG cache, so a server that did
    not receive `-e DBSPECIALIST_CACHE_DIR=...` would build its sample outside the expected folder."""
    env = clean_env(cache_dir)
    del env["DBSPECIALIST_CACHE_DIR"]
    env["XDG_CACHE_HOME"] = str(tmp_path / "xdg-cache")
    return env


def test_inspector_stdio_tools_list_and_call(inspector: Path, tmp_path: Path) -> None:
    stdio_cache = tmp_path / "stdio-cache"
    env = inspector_env(tmp_path, stdio_cache)
    target = ["-e", f"DBSPECIALIST_CACHE_DIR={stdio_cache}", sys.executable, "-m", "dbspecialist", "serve"]

    assert_tool_list(run_inspector(inspector, target, TOOLS_LIST, env=env, cwd=tmp_path))
    assert_count(run_inspector(inspector, target, COUNT_CALL, env=env, cwd=tmp_path))
    # The variable given with -e reached the server: the sample was built there, nowhere else.
    assert list(stdio_cache.glob("sample-shop-*.db")), list(tmp_path.rglob("*"))
    assert not (tmp_path / "xdg-cache").exists()


def test_inspector_stdio_error_result(inspector: Path, tmp_path: Path) -> None:
    """A refused statement reaches a third-party client as a tool error, not a protocol failure."""
    env = inspector_env(tmp_path, tmp_path / "cache")
    target = ["-e", f"DBSPECIALIST_CACHE_DIR={tmp_path / 'cache'}", sys.executable, "-m", "dbspecialist", "serve"]
    call = ["--method", "tools/call", "--tool-name", "run_query", "--tool-arg", "connection=sample"]
    data = parse_output(
        run_inspector(inspector, target, [*call, "--tool-arg", "query=DELETE FROM orders"], env=env, cwd=tmp_path)
    )
    assert data["isError"] is True, data
    assert "read-only guard" in data["content"][0]["text"], data


@pytest.mark.parametrize(("transport", "path"), [("http", "/mcp"), ("sse", "/sse")])
def test_inspector_over_http(
    inspector: Path, http_server: ServerProcess, cache_dir: Path, tmp_path: Path, transport: str, path: str
) -> None:
    url = f"{http_server.base_url}{path}"
    target = [url, "--transport", transport]
    env = inspector_env(tmp_path, cache_dir)
    assert_tool_list(run_inspector(inspector, target, TOOLS_LIST, env=env, cwd=tmp_path))
    assert_count(run_inspector(inspector, target, COUNT_CALL, env=env, cwd=tmp_path))


def test_inspector_is_refused_by_a_token_server(
    inspector: Path, servers: ServerPool, cache_dir: Path, tmp_path: Path
) -> None:
    """0.15 cannot send a token, so a protected server must turn it away, and the user sees why."""
    server = servers.spawn_http("--auth-token", "inspector-" + os.urandom(8).hex())
    result = run_inspector(
        inspector,
        [server.mcp_url, "--transport", "http"],
        TOOLS_LIST,
        env=inspector_env(tmp_path, cache_dir),
        cwd=tmp_path,
    )
    assert result.returncode != 0, result.stdout
    output = result.stdout + result.stderr
    assert "unauthorized" in output and "Authorization: Bearer <token>" in output, output
    assert '"tools"' not in result.stdout
