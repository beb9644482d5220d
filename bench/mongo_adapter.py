"""mongo_adapter: MongoDB adapter figures against SecantusDB (or TEST_MONGO_URI).

Rows: introspection time and round trips for 5 and 40 collections; guard overhead, i.e. the p50 of a trivial
`find` by `_id` through the whole `run_query` tool path (in-memory MCP client) and through the adapter,
each divided by the p50 of the same command sent with the raw driver (`AsyncDatabase.command`).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import statistics
import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable
from typing import Any

from bench._util import mcp_floor_p50_ms

NAME = "mongo_adapter"
TARGET_RATIO = 1.5
QUERY = '{"find": "c00", "filter": {"_id": 1}}'


def _start() -> tuple[str, subprocess.Popen[bytes] | None, str | None]:
    uri = os.environ.get("TEST_MONGO_URI")
    if uri:
        return uri, None, None
    exe = shutil.which("secantusd-py")
    if exe is None:
        raise SystemExit(
            "secantusd-py is not installed (pip install 'secantusdb==0.7.0b3') and TEST_MONGO_URI is unset"
        )
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    home = tempfile.mkdtemp(prefix="bench-secantus-")
    proc = subprocess.Popen(
        [exe, "--host", "127.0.0.1", "--port", str(port), "--storage-path", f"{home}/data", "--log-level", "WARNING"],
        cwd=home,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return f"mongodb://127.0.0.1:{port}/?directConnection=true", proc, home


async def _p50(call: Callable[[], Awaitable[Any]], n: int) -> float:
    for _ in range(max(5, n // 10)):
        await call()
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


async def _run(base: str, quick: bool) -> list[dict[str, Any]]:
    from mcp import Client
    from pymongo import AsyncMongoClient

    from dbspecialist.adapters.mongodb import MongoAdapter
    from dbspecialist.config import ConnectionSet, parse_connection
    from dbspecialist.server.app import build_server
    from dbspecialist.server.state import ServerState

    raw: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(base, serverSelectionTimeoutMS=10_000)
    database = f"bench_{int(time.time())}"
    rows: list[dict[str, Any]] = []
    n = 50 if quick else 300
    try:
        for i in range(40):
            await raw[database][f"c{i:02d}"].insert_many([{"_id": j, "v": j, "tag": f"t{j % 7}"} for j in range(50)])
        url = base.replace("/?", f"/{database}?", 1) if "/?" in base else f"{base.rstrip('/')}/{database}"
        for count in (5, 40):
            adapter = MongoAdapter(parse_connection("bench", url, source="bench"))
            try:
                wanted = [f"c{i:02d}" for i in range(count)]
                await adapter.introspect(tables=wanted[:1])
                started = time.perf_counter()
                catalog = await adapter.introspect(tables=wanted)
                ms = (time.perf_counter() - started) * 1000
            finally:
                await adapter.close()
            rows.append(
                {"case": f"introspect {count} collections", "ms": round(ms, 1), "round_trips": catalog.round_trips}
            )

        db = raw[database]
        raw_p50 = await _p50(lambda: db.command({"find": "c00", "filter": {"_id": 1}}), n)
        adapter = MongoAdapter(parse_connection("bench", url, source="bench"))
        try:
            adapter_p50 = await _p50(
                lambda: adapter.run_read_only(QUERY, max_rows=200, max_bytes=256 * 1024, timeout_ms=15_000), n
            )
        finally:
            await adapter.close()
        config = parse_connection("bench", url, source="bench")
        state = ServerState.from_connections(ConnectionSet({config.name: config}))
        try:
            async with Client(build_server(state)) as client:
                tool_p50 = await _p50(lambda: client.call_tool("run_query", {"connection": "bench", "query": QUERY}), n)
                floor = await mcp_floor_p50_ms(client, n)
        finally:
            await state.registry.close()
        rows.append({"case": "raw driver find by _id", "p50_ms": round(raw_p50, 3)})
        adapter_row = {"case": "adapter run_read_only", "p50_ms": round(adapter_p50, 3)}
        adapter_row["ratio"] = round(adapter_p50 / raw_p50, 2)
        rows.append(adapter_row)
        tool_row: dict[str, Any] = {"case": "run_query tool (in-memory MCP)", "p50_ms": round(tool_p50, 3)}
        tool_row["ratio"] = round(tool_p50 / raw_p50, 2)
        tool_row["mcp_floor_p50_ms"] = round(floor, 3)
        tool_row["tool_minus_floor_ratio_to_raw"] = round((tool_p50 - floor) / raw_p50, 2)
        tool_row["target"] = f"ratio <= {TARGET_RATIO}"
        tool_row["passed"] = tool_row["ratio"] <= TARGET_RATIO
        rows.append(tool_row)
    finally:
        await raw.drop_database(database)
        await raw.close()
    return rows


def main(quick: bool = False) -> list[dict[str, Any]]:
    uri, proc, home = _start()
    try:
        from pymongo import MongoClient

        probe: MongoClient[dict[str, Any]] = MongoClient(uri, serverSelectionTimeoutMS=250)
        deadline = time.monotonic() + 30
        while True:
            try:
                probe.admin.command("ping")
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        probe.close()
        return asyncio.run(_run(uri, quick))
    finally:
        if proc is not None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        if home is not None:
            shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    for row in main():
        print(row)
