"""idle_rss: peak RSS (VmHWM) of an idle server after `initialize` + `tools/list`, per mode.

stdio servers are driven with the raw JSON-RPC driver; HTTP servers with the SDK's Streamable
HTTP client, whose session stays open while /proc/PID/status is read. The minimal server gives
the SDK's floor for each mode.
"""

from __future__ import annotations

import tempfile
import time
from typing import Any

import anyio

from bench._util import HOST, BenchEnv, StdioRpc, free_port, http_server, minimal_cmd, ours_cmd, proc_status_kib
from bench.round_trip import sdk_session

NAME = "idle_rss"
SETTLE_S = 0.3


def stdio_rss(cmd: list[str], env: dict[str, str]) -> dict[str, int]:
    with tempfile.TemporaryFile() as err, StdioRpc(cmd, env, stderr=err) as rpc:
        rpc.initialize()
        rpc.notify("notifications/initialized")
        rpc.request("tools/list")
        time.sleep(SETTLE_S)
        return proc_status_kib(rpc.pid)


def http_rss(cmd_for_port: Any, env: dict[str, str]) -> dict[str, int]:
    port = free_port()
    with tempfile.TemporaryFile() as err, http_server(cmd_for_port(http_port=port), port, env, err) as proc:

        async def handshake() -> dict[str, int]:
            async with sdk_session("http", url=f"http://{HOST}:{port}/mcp") as session:
                await session.list_tools()
                await anyio.sleep(SETTLE_S)
                return proc_status_kib(proc.pid)

        return anyio.run(handshake)


def run(benv: BenchEnv, *, quick: bool) -> dict[str, Any]:
    env = benv.env
    stdio_rss(ours_cmd(), env)  # warm-up: sample DB and .pyc files
    measured = [
        ("ours", "stdio", stdio_rss(ours_cmd(), env)),
        ("floor (minimal)", "stdio", stdio_rss(minimal_cmd(), env)),
        ("ours", "http", http_rss(ours_cmd, env)),
        ("floor (minimal)", "http", http_rss(minimal_cmd, env)),
    ]
    rows: list[dict[str, Any]] = [
        {
            "server": server,
            "mode": mode,
            "peak_rss_mib": round(st["VmHWM"] / 1024, 1),
            "rss_mib": round(st["VmRSS"] / 1024, 1),
            **st,
        }
        for server, mode, st in measured
    ]
    return {"name": NAME, "rows": rows, "target": None, "passed": None}


def render(result: dict[str, Any]) -> list[str]:
    lines = [
        "idle_rss  (after initialize + tools/list, idle; VmHWM = peak RSS; no target)",
        f"  {'server':<17}{'mode':<7}{'peak RSS':>11}{'RSS now':>11}{'vs floor':>11}",
    ]
    floor = {r["mode"]: r["peak_rss_mib"] for r in result["rows"] if r["server"] != "ours"}
    for r in result["rows"]:
        delta = f"{r['peak_rss_mib'] - floor[r['mode']]:+8.1f}MiB" if r["server"] == "ours" else ""
        lines.append(f"  {r['server']:<17}{r['mode']:<7}{r['peak_rss_mib']:>8.1f}MiB{r['rss_mib']:>8.1f}MiB{delta:>11}")
    return lines
