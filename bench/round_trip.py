"""round_trip: latency of tool calls in one warm session, per transport and tool.

Rows:
- stdio, raw JSON-RPC driver (one write, one line read): the server's own cost, and the target rows;
- stdio, SDK `stdio_client` + `ClientSession`: what a Python MCP client sees (adds client overhead);
- Streamable HTTP and SSE with the SDK clients, against one `serve --http` process;
- the same calls to the minimal server's trivial `echo` tool: the SDK/transport floor.
Every call is checked (`isError` false); warm-up calls come first and are not timed.
"""

from __future__ import annotations

import functools
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, TextIO

import anyio
from mcp import ClientSession
from mcp.client.sse import sse_client
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client

from bench._util import (
    HOST,
    REPO_DIR,
    BenchEnv,
    StdioRpc,
    free_port,
    http_server,
    minimal_cmd,
    ours_cmd,
    proc_status_kib,
    summary_ms,
    timed_loop,
)

NAME = "round_trip"
TARGET_P50_MS = 5.0
TARGET_TOOLS = ("list_connections", "describe_schema")
QUERY = "SELECT id FROM orders LIMIT 10"
CALLS: list[tuple[str, dict[str, Any]]] = [
    ("list_connections", {}),
    ("describe_schema", {"connection": "sample"}),
    ("run_query", {"connection": "sample", "query": QUERY}),
]
FLOOR_CALL: tuple[str, dict[str, Any]] = ("echo", {"text": "hi"})
CALL_TIMEOUT_S = 30.0


def _row(transport: str, client: str, tool: str, samples: list[int], *, target: bool) -> dict[str, Any]:
    stats = summary_ms(samples)
    row: dict[str, Any] = {"transport": transport, "client": client, "tool": tool, **stats}
    if target:
        row["target"] = f"p50 <= {TARGET_P50_MS:g} ms"
        row["passed"] = stats["p50_ms"] <= TARGET_P50_MS
    return row


# --------------------------------------------------------------------------- raw stdio


def raw_stdio(
    cmd: list[str], env: dict[str, str], calls: list[tuple[str, dict[str, Any]]], n: int, warm: int, *, targets: bool
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    rows = []
    with tempfile.TemporaryFile() as err, StdioRpc(cmd, env, stderr=err) as rpc:
        rpc.initialize()
        rpc.notify("notifications/initialized")
        rpc.request("tools/list")
        for tool, args in calls:
            for _ in range(warm):
                rpc.call_tool(tool, args)
            samples = timed_loop(lambda t=tool, a=args: rpc.call_tool(t, a), n)
            rows.append(_row("stdio", "raw JSON-RPC", tool, samples, target=targets and tool in TARGET_TOOLS))
        status = proc_status_kib(rpc.pid)
    return rows, status


# --------------------------------------------------------------------------- SDK clients


@asynccontextmanager
async def sdk_session(
    transport: str,
    *,
    url: str = "",
    cmd: list[str] | None = None,
    env: dict[str, str] | None = None,
    errlog: TextIO | None = None,
) -> AsyncIterator[ClientSession]:
    if transport == "stdio":
        assert cmd is not None and errlog is not None
        params = StdioServerParameters(command=cmd[0], args=cmd[1:], env=env, cwd=str(REPO_DIR))
        async with stdio_client(params, errlog=errlog) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            yield session
    elif transport == "http":
        async with streamable_http_client(url) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            yield session
    elif transport == "sse":
        async with sse_client(url) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            yield session
    else:
        raise ValueError(transport)


async def sdk_calls(
    session: ClientSession,
    transport: str,
    calls: list[tuple[str, dict[str, Any]]],
    n: int,
    warm: int,
    *,
    targets: bool = False,
) -> list[dict[str, Any]]:
    await session.list_tools()
    rows = []
    for tool, args in calls:

        async def call(tool: str = tool, args: dict[str, Any] = args) -> None:
            with anyio.fail_after(CALL_TIMEOUT_S):
                result = await session.call_tool(tool, args)
            if getattr(result, "is_error", False):
                raise RuntimeError(f"{tool} over {transport} returned an error: {result}")

        for _ in range(warm):
            await call()
        samples: list[int] = []
        for _ in range(n):
            t0 = time.perf_counter_ns()
            await call()
            samples.append(time.perf_counter_ns() - t0)
        rows.append(_row(transport, "SDK ClientSession", tool, samples, target=targets and tool in TARGET_TOOLS))
    return rows


async def _sdk_stdio(
    cmd: list[str], env: dict[str, str], calls: list[tuple[str, dict[str, Any]]], n: int, warm: int, *, targets: bool
) -> list[dict[str, Any]]:
    with tempfile.TemporaryFile("w+") as errlog:
        async with sdk_session("stdio", cmd=cmd, env=env, errlog=errlog) as session:
            return await sdk_calls(session, "stdio", calls, n, warm, targets=targets)


async def _sdk_url(
    transport: str, url: str, calls: list[tuple[str, dict[str, Any]]], n: int, warm: int
) -> list[dict[str, Any]]:
    async with sdk_session(transport, url=url) as session:
        return await sdk_calls(session, transport, calls, n, warm)


# --------------------------------------------------------------------------- the benchmark


def run(benv: BenchEnv, *, quick: bool) -> dict[str, Any]:
    n = 50 if quick else 200
    warm = 5 if quick else 20
    env = benv.env
    rows: list[dict[str, Any]] = []
    peak: dict[str, Any] = {}

    stdio_rows, status = raw_stdio(ours_cmd(), env, CALLS, n, warm, targets=True)
    rows += stdio_rows
    peak["stdio ours, after raw-driver loops"] = status
    rows += anyio.run(functools.partial(_sdk_stdio, ours_cmd(), env, CALLS, n, warm, targets=False))

    port = free_port()
    with tempfile.TemporaryFile() as err, http_server(ours_cmd(http_port=port), port, env, err) as proc:
        rows += anyio.run(_sdk_url, "http", f"http://{HOST}:{port}/mcp", CALLS, n, warm)
        rows += anyio.run(_sdk_url, "sse", f"http://{HOST}:{port}/sse", CALLS, n, warm)
        peak["http ours, after HTTP + SSE loops"] = proc_status_kib(proc.pid)

    # The floor: the minimal server's trivial tool through the same drivers.
    floor_rows, _ = raw_stdio(minimal_cmd(), env, [FLOOR_CALL], n, warm, targets=False)
    port = free_port()
    with tempfile.TemporaryFile() as err, http_server(minimal_cmd(http_port=port), port, env, err):
        floor_rows += anyio.run(_sdk_url, "http", f"http://{HOST}:{port}/mcp", [FLOOR_CALL], n, warm)
    for r in floor_rows:
        r["tool"] = "echo (minimal server: floor)"
    rows += floor_rows

    targets = [r for r in rows if "passed" in r]
    return {
        "name": NAME,
        "calls_per_row": n,
        "warmup_calls": warm,
        "query": QUERY,
        "rows": rows,
        "peak_rss_after_load_kib": peak,
        "target": f"p50 <= {TARGET_P50_MS:g} ms over stdio for {', '.join(TARGET_TOOLS)}",
        "passed": all(r["passed"] for r in targets),
    }


def render(result: dict[str, Any]) -> list[str]:
    lines = [
        f"round_trip  ({result['calls_per_row']} timed calls per row after {result['warmup_calls']} warm-up calls; "
        f"one session per row group)",
        f"  {'transport':<10}{'client':<19}{'tool':<30}{'p50':>9}{'p99':>9}{'mean':>9}{'min':>9}{'max':>9}  target",
    ]
    for r in result["rows"]:
        verdict = ""
        if "passed" in r:
            verdict = f"{r['target']}  {'PASS' if r['passed'] else 'FAIL'}"
        lines.append(
            f"  {r['transport']:<10}{r['client']:<19}{r['tool']:<30}"
            f"{r['p50_ms']:>7.2f}ms{r['p99_ms']:>7.2f}ms{r['mean_ms']:>7.2f}ms{r['min_ms']:>7.2f}ms"
            f"{r['max_ms']:>7.2f}ms  {verdict}"
        )
    for label, st in result["peak_rss_after_load_kib"].items():
        lines.append(f"  peak RSS {label}: {st['VmHWM'] / 1024:.1f} MiB (RSS now {st['VmRSS'] / 1024:.1f} MiB)")
    return lines
