"""Shared helpers: commands, environment, process control, /proc readings, a raw JSON-RPC stdio driver."""

from __future__ import annotations

import contextlib
import json
import math
import os
import selectors
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
MINIMAL_SERVER = BENCH_DIR / "minimal_server.py"
PROTOCOL_VERSION = "2025-11-25"  # the newest version that still uses the initialize handshake
HOST = "127.0.0.1"


# --------------------------------------------------------------------------- commands and environment


def ours_cmd(*, http_port: int | None = None) -> list[str]:
    cmd = [sys.executable, "-m", "dbspecialist", "serve"]
    if http_port is not None:
        cmd += ["--http", "--host", HOST, "--port", str(http_port)]
    return cmd


def minimal_cmd(*, http_port: int | None = None) -> list[str]:
    cmd = [sys.executable, str(MINIMAL_SERVER)]
    if http_port is not None:
        cmd += ["--http", str(http_port)]
    return cmd


@dataclass
class BenchEnv:
    """A private cache dir (the sample DB is built there once) and a clean environment."""

    cache_dir: Path
    env: dict[str, str] = field(default_factory=dict)

    @classmethod
    @contextlib.contextmanager
    def create(cls) -> Iterator[BenchEnv]:
        with tempfile.TemporaryDirectory(prefix="dbspecialist-bench-") as tmp:
            env = {k: v for k, v in os.environ.items() if not k.startswith("DBSPECIALIST_")}
            env["DBSPECIALIST_CACHE_DIR"] = str(Path(tmp) / "cache")
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            env.pop("PYTHONPROFILEIMPORTTIME", None)
            yield cls(cache_dir=Path(tmp) / "cache", env=env)


# --------------------------------------------------------------------------- processes


def stop(proc: subprocess.Popen[bytes] | None) -> None:
    """Close pipes, terminate, then kill; never raises, never leaves the child behind."""
    if proc is None:
        return
    for stream in (proc.stdin, proc.stdout):
        if stream is not None:
            with contextlib.suppress(OSError):
                stream.close()
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=3)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=3)


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        port: int = s.getsockname()[1]
        return port


def wait_for_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before listening on {port}")
        with socket.socket() as s:
            s.settimeout(0.2)
            if s.connect_ex((HOST, port)) == 0:
                return
        time.sleep(0.02)
    raise TimeoutError(f"nothing listening on {HOST}:{port} after {timeout:.0f} s")


def proc_status_kib(pid: int) -> dict[str, int]:
    """VmHWM (peak RSS) and VmRSS from /proc/PID/status, in KiB."""
    out: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmHWM", "VmRSS"):
            out[key] = int(value.split()[0])
    return out


@contextlib.contextmanager
def http_server(
    cmd: Sequence[str], port: int, env: dict[str, str], stderr: IO[bytes]
) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(list(cmd), stdin=subprocess.DEVNULL, stdout=stderr, stderr=stderr, env=env, cwd=REPO_DIR)
    try:
        wait_for_port(port, proc)
        yield proc
    finally:
        stop(proc)


# --------------------------------------------------------------------------- raw JSON-RPC over pipes


class RpcError(RuntimeError):
    pass


class StdioRpc:
    """Newline-delimited JSON-RPC to a child process's stdin/stdout, with deadlines.

    Measures what the server costs and nothing of a client library: one write, one line read.
    """

    def __init__(self, cmd: Sequence[str], env: dict[str, str], stderr: IO[bytes] | int = subprocess.DEVNULL) -> None:
        self.started_ns = time.perf_counter_ns()
        self.proc: subprocess.Popen[bytes] = subprocess.Popen(
            list(cmd), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr, env=env, cwd=REPO_DIR, bufsize=0
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self._in = self.proc.stdin
        self._fd = self.proc.stdout.fileno()
        self._buf = b""
        self._sel = selectors.DefaultSelector()
        self._sel.register(self._fd, selectors.EVENT_READ)
        self._next_id = 1

    @property
    def pid(self) -> int:
        return self.proc.pid

    def send(self, message: dict[str, Any]) -> None:
        self._in.write(json.dumps(message, separators=(",", ":")).encode() + b"\n")

    def notify(self, method: str, params: dict[str, Any] | None = None) -> None:
        msg: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            msg["params"] = params
        self.send(msg)

    def _read_line(self, deadline: float) -> bytes:
        while b"\n" not in self._buf:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not self._sel.select(remaining):
                raise TimeoutError("no answer from the server before the deadline")
            chunk = os.read(self._fd, 1 << 16)
            if not chunk:
                raise RpcError(f"server closed stdout (exit code {self.proc.poll()})")
            self._buf += chunk
        line, _, self._buf = self._buf.partition(b"\n")
        return line

    def request(self, method: str, params: dict[str, Any] | None = None, timeout: float = 30.0) -> dict[str, Any]:
        """Send one request and return its `result`; skips notifications and unrelated messages."""
        rid = self._next_id
        self._next_id += 1
        msg: dict[str, Any] = {"jsonrpc": "2.0", "id": rid, "method": method}
        if params is not None:
            msg["params"] = params
        self.send(msg)
        deadline = time.monotonic() + timeout
        while True:
            line = self._read_line(deadline)
            if not line.strip():
                continue
            reply = json.loads(line)
            if reply.get("id") != rid:
                continue
            if "error" in reply:
                raise RpcError(f"{method}: {reply['error']}")
            result: dict[str, Any] = reply["result"]
            return result

    def initialize(self, timeout: float = 30.0) -> dict[str, Any]:
        return self.request(
            "initialize",
            {
                "protocolVersion": PROTOCOL_VERSION,
                "capabilities": {},
                "clientInfo": {"name": "dbspecialist-bench", "version": "0"},
            },
            timeout=timeout,
        )

    def call_tool(self, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        result = self.request("tools/call", {"name": name, "arguments": arguments})
        if result.get("isError"):
            raise RpcError(f"{name} returned an error: {result.get('content')}")
        return result

    def close(self) -> None:
        self._sel.close()
        stop(self.proc)

    def __enter__(self) -> StdioRpc:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# --------------------------------------------------------------------------- statistics


def ms(ns: int | float) -> float:
    return ns / 1e6


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty sample."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def summary_ms(samples_ns: Sequence[int]) -> dict[str, float]:
    values = [ms(v) for v in samples_ns]
    return {
        "n": len(values),
        "p50_ms": round(percentile(values, 50), 3),
        "p99_ms": round(percentile(values, 99), 3),
        "mean_ms": round(statistics.fmean(values), 3),
        "min_ms": round(min(values), 3),
        "max_ms": round(max(values), 3),
    }


def timed_loop(fn: Any, n: int) -> list[int]:
    out: list[int] = []
    for _ in range(n):
        t0 = time.perf_counter_ns()
        fn()
        out.append(time.perf_counter_ns() - t0)
    return out


async def mcp_floor_p50_ms(client: Any, n: int, warm: int = 10) -> float:
    """p50 (ms) of `list_connections` through an MCP client: the SDK's dispatch, the client's output-schema
    check and our tool wrapper with no database work — the cost of any tool call before a guard or driver runs.

    `tool p50 - this floor` is what our guard, adapter and result model add to a raw driver call."""
    import time

    for _ in range(warm):
        await client.call_tool("list_connections", {})
    samples = []
    for _ in range(n):
        started = time.perf_counter_ns()
        result = await client.call_tool("list_connections", {})
        samples.append(time.perf_counter_ns() - started)
        assert not result.is_error
    return percentile([ms(s) for s in samples], 50)
