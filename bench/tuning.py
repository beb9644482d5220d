"""Config tuning: one calculator call per engine (in-process, target <= 20 ms) and a live audit per engine.

The live part needs the local test servers (PostgreSQL, MariaDB, Redis); an unreachable one is reported
as skipped.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from typing import Any

from bench._util import BenchEnv

NAME = "tuning"
TARGET_MS = 20.0
CASES = [
    ("postgres", "oltp"),
    ("pgbouncer", "web"),
    ("mysql", "oltp"),
    ("mariadb", "oltp"),
    ("sqlite", "web"),
    ("mongodb", "oltp"),
    ("redis", "cache"),
]
LIVE = [
    ("postgres", "postgresql://postgres@127.0.0.1:5432/dbspecialist_test", "oltp"),
    ("mysql", "mysql://root@127.0.0.1:3306/dbspecialist_test", "oltp"),
    ("redis", "redis://127.0.0.1:6379/0", "cache"),
]


def run(benv: BenchEnv, *, quick: bool) -> dict[str, Any]:
    del benv
    from dbspecialist.knowledge.tuning.dispatch import tune
    from dbspecialist.knowledge.tuning.model import TuningInputs

    calls = 50 if quick else 300
    rows: list[dict[str, Any]] = []
    for engine, workload in CASES:
        inputs = TuningInputs(engine=engine, ram_gb=64, cpus=16, workload=workload)  # type: ignore[arg-type]
        tune(inputs)  # warm: imports the calculator
        samples = []
        for _ in range(calls):
            started = time.perf_counter()
            tune(inputs)
            samples.append((time.perf_counter() - started) * 1000)
        p50 = statistics.median(samples)
        rows.append(
            {
                "what": f"tune {engine} (64 GB, 16 CPUs, {workload})",
                "p50_ms": round(p50, 3),
                "max_ms": round(max(samples), 3),
                "target_ms": TARGET_MS,
                "passed": p50 <= TARGET_MS,
            }
        )
    rows.extend(asyncio.run(_live(quick)))
    verdicts = [r["passed"] for r in rows if isinstance(r.get("passed"), bool)]
    return {"name": NAME, "rows": rows, "target": f"p50 <= {TARGET_MS} ms per call", "passed": all(verdicts)}


async def _live(quick: bool) -> list[dict[str, Any]]:
    from mcp import Client

    from dbspecialist.config import ConnectionSet, parse_connection
    from dbspecialist.server.app import build_server
    from dbspecialist.server.state import ServerState

    rows: list[dict[str, Any]] = []
    for engine, url, workload in LIVE:
        config = parse_connection("live", url, source="bench")
        state = ServerState.from_connections(ConnectionSet({"live": config}))
        arguments = {"engine": engine, "ram_gb": 16, "cpus": 4, "workload": workload, "connection": "live"}
        try:
            async with Client(build_server(state)) as client:
                first = await client.call_tool("tune_config", arguments)
                if first.is_error:
                    rows.append({"what": f"live tune + audit {engine}", "skipped": first.content[0].text[:120]})
                    continue
                samples = []
                for _ in range(5 if quick else 20):
                    started = time.perf_counter()
                    await client.call_tool("tune_config", arguments)
                    samples.append((time.perf_counter() - started) * 1000)
                audit = (first.structured_content or {}).get("audit", [])
                rows.append(
                    {
                        "what": f"live tune + audit {engine} (tool path, in-memory MCP)",
                        "p50_ms": round(statistics.median(samples), 2),
                        "audit_findings": len(audit),
                    }
                )
        except Exception as exc:  # a server that is down is a skipped row, not a crash
            rows.append({"what": f"live tune + audit {engine}", "skipped": f"{type(exc).__name__}: {exc}"[:120]})
        finally:
            await state.registry.close()
    return rows


def render(result: dict[str, Any]) -> list[str]:
    lines = [f"{NAME}: calculator per call (target p50 <= {TARGET_MS} ms) and live audit"]
    for row in result["rows"]:
        figures = {k: v for k, v in row.items() if k != "what"}
        lines.append(f"  {row['what']:<58} {figures}")
    return lines
