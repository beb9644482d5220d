"""Time the start-up phases of a server inside one fresh interpreter; prints JSON on stdout.

    python bench/_startup_phases.py ours|minimal

`ours` replays what `dbspecialist serve` does before it reads stdin (cli._serve), phase by phase,
importing the SDK first so every later phase shows only what dbspecialist adds to the floor.
It reads dbspecialist's internals and never changes them; if they move, the error is reported.
"""

from __future__ import annotations

import time

T0 = time.perf_counter_ns()

import json  # noqa: E402
import sys  # noqa: E402
from typing import Any  # noqa: E402

phases: list[dict[str, Any]] = []
_last = T0


def mark(name: str) -> None:
    global _last
    now = time.perf_counter_ns()
    phases.append({"phase": name, "ms": round((now - _last) / 1e6, 2)})
    _last = now


def ours() -> None:
    import mcp.server  # noqa: F401

    mark("import mcp.server (the SDK floor)")
    import anyio

    mark("import anyio")
    from dbspecialist import cli

    mark("import dbspecialist.cli")
    args = cli.build_parser().parse_args(["serve"])
    mark("parse arguments")
    from dbspecialist import config

    mark("import dbspecialist.config")
    from dbspecialist.logs import setup_logging
    from dbspecialist.redaction import register_secret

    mark("import dbspecialist.logs, .redaction")
    from dbspecialist.sample import sample_connection

    mark("import dbspecialist.sample")
    settings = config.ServerSettings()
    register_secret(settings.auth_token)
    mark("ServerSettings()")
    setup_logging("WARNING")
    mark("setup_logging()")
    connections = config.load_connections(config_path=args.config or settings.config, cli_dbs=args.db)
    mark("load_connections()")
    if not len(connections):
        sample = sample_connection(settings.cache_dir)
        connections.connections[sample.name] = sample
    mark("sample_connection() (sample DB already built)")
    from dbspecialist.server.state import ServerState

    mark("import dbspecialist.server.state (adapters)")
    from dbspecialist.server.app import build_server

    mark("import dbspecialist.server.app (tools, models)")
    state = ServerState.from_connections(connections)
    mark("ServerState.from_connections()")
    server = build_server(state)
    mark("build_server() (tools and their schemas, MCPServer, resources, prompts)")
    tools = anyio.run(server.list_tools)
    mark(f"list_tools() ({len(tools)} tools)")
    anyio.run(state.registry.close)


def minimal() -> None:
    import mcp.server

    mark("import mcp.server (the SDK floor)")
    import anyio

    mark("import anyio")
    server = mcp.server.MCPServer("minimal")

    async def echo(text: str = "") -> str:
        return text

    server.tool()(echo)
    mark("MCPServer() + 1 tool")
    tools = anyio.run(server.list_tools)
    mark(f"list_tools() ({len(tools)} tools)")


def main() -> None:
    error = None
    try:
        (ours if sys.argv[1:] == ["ours"] else minimal)()
    except Exception as exc:  # report, don't hide: the phases so far are still useful
        error = f"{type(exc).__name__}: {exc}"
    total = round((time.perf_counter_ns() - T0) / 1e6, 2)
    print(json.dumps({"phases": phases, "total_ms": total, "error": error}))


if __name__ == "__main__":
    main()
