"""Operations tools through the tool path (in-memory MCP): check_health, top_queries, plan_capacity per live engine.

Issue 8 names no figure; our target is an interactive answer: check_health and top_queries p50 <= 500 ms on the local
servers. plan_capacity samples the server's counters twice, 1 s apart (its rates need it), so it is reported without a
target. Needs the local test servers; an unreachable one is a skipped row.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from typing import Any

from bench._util import BenchEnv

NAME = "operations"
TARGET_MS = 500.0
LIVE = [
    ("postgresql", "postgresql://postgres@127.0.0.1:5432/dbspecialist_test"),
    ("mariadb", "mysql://root@127.0.0.1:3306/dbspecialist_test"),
    ("redis", "redis://127.0.0.1:6379/0"),
]
CALLS = [
    ("check_health", {}, True),
    ("top_queries", {"limit": 10}, True),
    ("plan_capacity", {"growth_factor": 10}, False),
]


def run(benv: BenchEnv, *, quick: bool) -> dict[str, Any]:
    del benv
    rows = asyncio.run(_live(quick))
    verdicts = [r["passed"] for r in rows if isinstance(r.get("passed"), bool)]
    return {
        "name": NAME,
        "rows": rows,
        "target": f"check_health, top_queries p50 <= {TARGET_MS:g} ms (our target)",
        "passed": all(verdicts) if verdicts else None,
    }


async def _live(quick: bool) -> list[dict[str, Any]]:
    from mcp import Client

    from dbspecialist.config import ConnectionSet, parse_connection
    from dbspecialist.server.app import build_server
    from dbspecialist.server.state import ServerState

    rows: list[dict[str, Any]] = []
    for engine, url in LIVE:
        state = ServerState.from_connections(ConnectionSet({"live": parse_connection("live", url, source="bench")}))
        try:
            async with Client(build_server(state)) as client:
                for tool, extra, targeted in CALLS:
                    arguments = {"connection": "live", **extra}
                    first = await client.call_tool(tool, arguments)
                    if first.is_error:
                        rows.append({"what": f"{tool} {engine}", "skipped": first.content[0].text[:120]})
                        continue
                    samples = []
                    for _ in range(2 if not targeted else 5 if quick else 20):
                        started = time.perf_counter()
                        await client.call_tool(tool, arguments)
                        samples.append((time.perf_counter() - started) * 1000)
                    row: dict[str, Any] = {"what": f"{tool} {engine}", "p50_ms": round(statistics.median(samples), 1)}
                    data = first.structured_content or {}
                    if tool == "check_health":
                        row["findings"] = len(data.get("findings", []))
                        row["checks"] = len(data.get("checks_run", []))
                    if targeted:
                        row |= {"target_ms": TARGET_MS, "passed": row["p50_ms"] <= TARGET_MS}
                    rows.append(row)
        except Exception as exc:  # a server that is down is a skipped row, not a crash
            rows.append({"what": f"operations {engine}", "skipped": f"{type(exc).__name__}: {exc}"[:120]})
        finally:
            await state.registry.close()
    return rows


def render(result: dict[str, Any]) -> list[str]:
    lines = [f"{NAME}: {result['target']}; plan_capacity samples counters 1 s apart"]
    for row in result["rows"]:
        figures = {k: v for k, v in row.items() if k != "what"}
        lines.append(f"  {row['what']:<32} {figures}")
    return lines
