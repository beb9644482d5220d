"""Shared helpers for the end-to-end tests: spawn the real server, wait for it, stop it, and
check what every transport must return for every tool.

Imported by `conftest.py` and the test modules (pytest puts this folder on `sys.path`).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import httpx2
import psutil

HEALTH_TIMEOUT_S = 20.0
STOP_TIMEOUT_S = 10.0
KILL_TIMEOUT_S = 5.0
TOOL_NAMES = {
    "list_connections",
    "describe_schema",
    "run_query",
    "explain_query",
    "review_query",
    "recommend_indexes",
    "review_schema",
    "tune_config",
    "plan_migration",
    "lint_migration",
    "check_health",
    "top_queries",
    "plan_capacity",
}
SAMPLE_TABLES = {"categories", "products", "customers", "orders", "order_items", "payments", "product_tags"}
ORDERS_ROWS = 3000
FIRST_ORDERS_QUERY = "SELECT id FROM orders ORDER BY id LIMIT 3"


def clean_env(cache_dir: Path, **extra: str) -> dict[str, str]:
    """The current environment without any DBSPECIALIST_* variable, plus a private cache dir.

    A developer's own DBSPECIALIST_DB_* or DBSPECIALIST_AUTH_TOKEN must not change what the tests see.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("DBSPECIALIST_")}
    env["DBSPECIALIST_CACHE_DIR"] = str(cache_dir)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def server_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "dbspecialist", "serve", *args]


@dataclass
class ServerProcess:
    """One `dbspecialist serve --http` subprocess; stdout and stderr go to files we can read at any time."""

    args: list[str]
    env: dict[str, str]
    port: int
    log_dir: Path
    host: str = "127.0.0.1"
    proc: subprocess.Popen[bytes] | None = None
    descendants: list[psutil.Process] = field(default_factory=list)
    stdout_path: Path = field(init=False)
    stderr_path: Path = field(init=False)

    def __post_init__(self) -> None:
        stem = f"server-{self.port}-{time.monotonic_ns()}"
        self.stdout_path = self.log_dir / f"{stem}.stdout"
        self.stderr_path = self.log_dir / f"{stem}.stderr"

    @property
    def base_url(self) -> str:
        # A server bound to 0.0.0.0 is probed through loopback.
        probe = "127.0.0.1" if self.host == "0.0.0.0" else self.host
        return f"http://{probe}:{self.port}"

    @property
    def mcp_url(self) -> str:
        return f"{self.base_url}/mcp"

    @property
    def sse_url(self) -> str:
        return f"{self.base_url}/sse"

    def start(self) -> None:
        with self.stdout_path.open("wb") as out, self.stderr_path.open("wb") as err:
            self.proc = subprocess.Popen(
                self.args,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,  # its own process group, so teardown can reach any child
            )

    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    def stdout(self) -> str:
        return self.stdout_path.read_text(encoding="utf-8", errors="replace")

    def describe(self) -> str:
        rc = None if self.proc is None else self.proc.poll()
        return (
            f"command: {' '.join(self.args)}\nexit code: {rc}\n"
            f"--- server stderr ---\n{self.stderr()}\n--- server stdout ---\n{self.stdout()}"
        )

    def wait_healthy(self, timeout: float = HEALTH_TIMEOUT_S) -> None:
        """Poll GET /healthz until it answers {"status": "ok"}; fail with the server's stderr otherwise."""
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        last_error = "no attempt"
        with httpx2.Client(timeout=2.0) as client:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise ServerExited(f"server exited before becoming healthy\n{self.describe()}")
                try:
                    response = client.get(f"{self.base_url}/healthz")
                    if response.status_code == 200 and response.json().get("status") == "ok":
                        self._remember_descendants()
                        return
                    last_error = f"HTTP {response.status_code}: {response.text[:200]}"
                except httpx2.HTTPError as exc:
                    last_error = f"{type(exc).__name__}: {exc}"
                time.sleep(0.05)
        raise AssertionError(
            f"server did not answer /healthz within {timeout:.0f} s (last: {last_error})\n{self.describe()}"
        )

    def _remember_descendants(self) -> None:
        assert self.proc is not None
        try:
            self.descendants = psutil.Process(self.proc.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            self.descendants = []

    def stop(self, timeout: float = STOP_TIMEOUT_S) -> int:
        """SIGTERM, then SIGKILL on the process group if needed; reap; assert nothing is left behind.

        Returns the exit code (negative: killed by that signal).
        """
        assert self.proc is not None
        proc = self.proc
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=KILL_TIMEOUT_S)
        rc = proc.returncode
        assert rc is not None
        # Reaped: the pid is gone (a zombie would still be listed by psutil).
        assert not _exists(proc.pid), f"server pid {proc.pid} still exists (zombie?) after wait()"
        leftovers = [p.pid for p in self.descendants if _exists(p.pid, p)]
        if leftovers:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            raise AssertionError(f"server left child processes running: {leftovers}")
        return rc


class ServerExited(AssertionError):
    """The server process ended before /healthz answered."""


def _exists(pid: int, known: psutil.Process | None = None) -> bool:
    """True while the process runs or lingers as a zombie (psutil lists zombies as running)."""
    try:
        proc = known or psutil.Process(pid)
        # is_running() on a known Process is also false when the pid was reused by another process.
        return proc.is_running()
    except psutil.NoSuchProcess:
        return False


class ServerPool:
    """Spawns servers on free ports and stops all of them at teardown."""

    def __init__(self, cache_dir: Path, log_dir: Path) -> None:
        self.cache_dir = cache_dir
        self.log_dir = log_dir
        self.servers: list[ServerProcess] = []

    def spawn_http(
        self,
        *extra_args: str,
        host: str = "127.0.0.1",
        env: Mapping[str, str] | None = None,
        wait: bool = True,
    ) -> ServerProcess:
        """Start `serve --http` on a free port (retrying if another process grabbed the port first)."""
        for _attempt in range(3):
            port = free_port("0.0.0.0" if host == "0.0.0.0" else "127.0.0.1")
            server = ServerProcess(
                args=server_command("--http", "--host", host, "--port", str(port), *extra_args),
                env=clean_env(self.cache_dir, **dict(env or {})),
                port=port,
                host=host,
                log_dir=self.log_dir,
            )
            server.start()
            self.servers.append(server)
            if not wait:
                return server
            try:
                server.wait_healthy()
            except ServerExited:
                if "address already in use" in server.stderr().lower():
                    continue
                raise
            return server
        raise AssertionError("could not find a free port in 3 attempts")

    def stop_all(self) -> None:
        errors = []
        for server in self.servers:
            try:
                server.stop()
            except AssertionError as exc:
                errors.append(str(exc))
        self.servers.clear()
        assert not errors, "\n".join(errors)


# ---------------------------------------------------------------------------------------------
# What every transport must return. `client` is a ClientSession or an mcp.Client.


class ToolClient(Protocol):
    async def list_tools(self) -> Any: ...
    async def call_tool(self, name: str, arguments: dict[str, Any] | None = None) -> Any: ...


def text_of(result: Any) -> str:
    return "\n".join(getattr(c, "text", "") for c in result.content)


async def check_tool_listing(client: ToolClient) -> None:
    listing = await client.list_tools()
    tools = {t.name: t for t in listing.tools}
    assert set(tools) == TOOL_NAMES, f"tools: {sorted(tools)}"
    for name, tool in tools.items():
        assert tool.annotations is not None, f"{name} has no annotations"
        assert tool.annotations.read_only_hint is True, f"{name}: readOnlyHint={tool.annotations.read_only_hint}"
        assert tool.annotations.destructive_hint is False, f"{name}: destructiveHint should be false"
        assert tool.output_schema, f"{name} has no output schema"
        assert tool.output_schema.get("type") == "object", f"{name}: {tool.output_schema}"
        assert tool.input_schema.get("type") == "object", f"{name}: {tool.input_schema}"
    assert "connection" in tools["run_query"].input_schema["properties"]
    assert "query" in tools["run_query"].input_schema.get("required", [])


async def check_list_connections(client: ToolClient) -> None:
    result = await client.call_tool("list_connections", {})
    assert result.is_error is False, text_of(result)
    connections = {c["name"]: c for c in result.structured_content["connections"]}
    assert set(connections) == {"sample"}, connections
    sample = connections["sample"]
    assert sample["engine"] == "sqlite"
    assert sample["status"] == "ok", sample
    assert sample["read_only"] is True
    assert sample["sample"] is True
    version = sample["server_version"]
    assert isinstance(version, str), sample
    assert version.split(".")[0] == "3" and len(version.split(".")) >= 2, f"not an SQLite 3 version: {version!r}"
    # The text content carries the same data (clients without structured output read it).
    assert json.loads(text_of(result)) == result.structured_content


async def check_describe_schema(client: ToolClient) -> None:
    result = await client.call_tool("describe_schema", {"connection": "sample"})
    assert result.is_error is False, text_of(result)
    data = result.structured_content
    assert data["connection"] == "sample" and data["engine"] == "sqlite"
    tables = {t["name"]: t for t in data["tables"]}
    assert set(tables) == SAMPLE_TABLES, sorted(tables)
    assert data["total_tables"] == len(SAMPLE_TABLES) == data["returned"]
    assert data["truncated"] is False and data["next_offset"] is None
    orders = tables["orders"]
    assert orders["row_estimate"] == ORDERS_ROWS, orders
    assert orders["primary_key"] == ["id"], orders
    assert any(fk.startswith("(customer_id)") and "customers(id)" in fk for fk in orders["foreign_keys"]), orders

    # One table in full detail: real catalog attributes, not just the summary.
    full = await client.call_tool("describe_schema", {"connection": "sample", "tables": ["orders"], "detail": "full"})
    assert full.is_error is False, text_of(full)
    assert full.structured_content["detail"] == "full"
    (detail,) = full.structured_content["details"]
    assert detail["name"] == "orders"
    assert "customer_id" in json.dumps(detail)


async def check_run_query(client: ToolClient) -> None:
    result = await client.call_tool("run_query", {"connection": "sample", "query": FIRST_ORDERS_QUERY})
    assert result.is_error is False, text_of(result)
    data = result.structured_content
    assert data["columns"] == ["id"], data
    assert data["rows"] == [[1], [2], [3]], data
    assert data["row_count"] == 3 and data["truncated"] is False, data

    # Bind parameters and the row cap travel over the transport too.
    capped = await client.call_tool(
        "run_query",
        {
            "connection": "sample",
            "query": "SELECT id FROM orders WHERE id > ? ORDER BY id",
            "params": [2990],
            "max_rows": 4,
        },
    )
    assert capped.is_error is False, text_of(capped)
    assert capped.structured_content["rows"] == [[2991], [2992], [2993], [2994]], capped.structured_content
    assert capped.structured_content["truncated"] is True
    assert capped.structured_content["truncated_by"] == "max_rows"


async def check_errors(client: ToolClient) -> None:
    refused = await client.call_tool("run_query", {"connection": "sample", "query": "DELETE FROM orders"})
    assert refused.is_error is True, text_of(refused)
    assert "read-only guard" in text_of(refused), text_of(refused)

    # The DELETE did not happen.
    count = await client.call_tool("run_query", {"connection": "sample", "query": "SELECT COUNT(*) FROM orders"})
    assert count.structured_content["rows"] == [[ORDERS_ROWS]], count.structured_content

    for tool, args in (
        ("run_query", {"connection": "nope", "query": "SELECT 1"}),
        ("describe_schema", {"connection": "nope"}),
    ):
        unknown = await client.call_tool(tool, args)
        assert unknown.is_error is True, text_of(unknown)
        message = text_of(unknown)
        assert "unknown connection 'nope'" in message, message
        assert "Configured connections: sample" in message, message
        assert "Traceback" not in message


async def check_review_schema(client: ToolClient) -> None:
    live = await client.call_tool("review_schema", {"connection": "sample"})
    assert live.is_error is False, text_of(live)
    data = live.structured_content
    assert data["source"] == "live" and data["engine"] == "sqlite" and data["tables_reviewed"] == len(SAMPLE_TABLES)
    subjects = {(f["rule_id"], f["subject"]) for f in data["findings"]}
    assert ("SCH001", "product_tags") in subjects, sorted(subjects)  # the sample's table without a primary key
    assert sum(data["counts"].values()) >= len(data["findings"])
    offline = await client.call_tool(
        "review_schema", {"ddl": "CREATE TABLE t (a int, b text);", "dialect": "postgres", "min_severity": "high"}
    )
    assert offline.is_error is False, text_of(offline)
    assert [f["rule_id"] for f in offline.structured_content["findings"]] == ["SCH001"]
    both = await client.call_tool("review_schema", {"connection": "sample", "ddl": "CREATE TABLE t (a int);"})
    assert both.is_error is True and "exactly one" in text_of(both)


async def check_expert_tools(client: ToolClient) -> None:
    plan = await client.call_tool(
        "explain_query", {"sql": "SELECT quantity FROM order_items WHERE product_id = 42", "connection": "sample"}
    )
    assert plan.is_error is False, text_of(plan)
    assert plan.structured_content["engine"] == "sqlite"
    assert "PLN050" in {f["rule_id"] for f in plan.structured_content["findings"]}
    review = await client.call_tool("review_query", {"sql": "DELETE FROM payments;", "dialect": "sqlite"})
    assert review.is_error is False, text_of(review)
    assert [f["rule_id"] for f in review.structured_content["findings"]] == ["QRY008"]
    advice = await client.call_tool(
        "recommend_indexes",
        {"connection": "sample", "queries": ["SELECT quantity FROM order_items WHERE product_id = 42"]},
    )
    assert advice.is_error is False, text_of(advice)
    [rec] = advice.structured_content["recommendations"]
    assert rec["verified"] is True and "order_items (product_id)" in rec["ddl"]
    tuned = await client.call_tool("tune_config", {"engine": "postgres", "ram_gb": 64, "cpus": 16})
    assert tuned.is_error is False, text_of(tuned)
    settings = {s["name"]: s["value"] for s in tuned.structured_content["settings"]}
    assert settings["shared_buffers"] == "16GB" and tuned.structured_content["memory_budget"]["fits"] is True


async def check_everything(client: ToolClient) -> None:
    """Every tool, with real arguments, asserting real content."""
    await check_tool_listing(client)
    await check_list_connections(client)
    await check_describe_schema(client)
    await check_run_query(client)
    await check_review_schema(client)
    await check_expert_tools(client)
    await check_errors(client)


def assert_no_traceback(stderr: str, *, where: str) -> None:
    assert "Traceback" not in stderr, f"{where}: the server logged a traceback:\n{stderr}"


def jsonrpc_lines(text: str) -> list[dict[str, Any]]:
    """Parse newline-delimited JSON-RPC; fail on any line that is not a JSON-RPC 2.0 message."""
    messages = []
    for number, line in enumerate(text.splitlines(), 1):
        try:
            message = json.loads(line)
        except json.JSONDecodeError:
            raise AssertionError(f"stdout line {number} is not JSON: {line!r}") from None
        assert isinstance(message, dict) and message.get("jsonrpc") == "2.0", f"line {number}: {line!r}"
        assert "id" in message or "method" in message, f"line {number}: {line!r}"
        messages.append(message)
    return messages
