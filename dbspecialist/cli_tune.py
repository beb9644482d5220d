"""`dbspecialist tune`: the tuning calculator for people (text), pipelines (JSON) and config files (conf)."""

from __future__ import annotations

import argparse
import json
import re
from typing import Any

from dbspecialist.errors import ConfigError

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(tb|t|gb|g|mb|m)?\s*$", re.IGNORECASE)
_TO_GB = {"": 1.0, "g": 1.0, "gb": 1.0, "t": 1024.0, "tb": 1024.0, "m": 1 / 1024, "mb": 1 / 1024}


def parse_gb(text: str, what: str) -> float:
    """`64GB`, `512MB`, `1TB` or a bare number of GB → GB."""
    match = _SIZE.match(text)
    if not match:
        raise ConfigError(f"{what} {text!r} is not a size; write e.g. 64GB, 512MB or 1TB")
    return float(match.group(1)) * _TO_GB[(match.group(2) or "").lower()]


def tune_command(args: argparse.Namespace) -> int:
    import anyio
    from mcp import Client

    from dbspecialist.config import ConnectionSet, parse_connection
    from dbspecialist.logs import setup_logging
    from dbspecialist.server.app import build_server
    from dbspecialist.server.state import ServerState

    setup_logging("WARNING")
    arguments: dict[str, Any] = {
        "engine": args.engine,
        "ram_gb": parse_gb(args.ram, "--ram"),
        "cpus": args.cpus,
        "storage": args.storage,
        "workload": args.workload or ("cache" if args.engine == "redis" else "oltp"),
        "os": args.os,
    }
    if args.max_connections is not None:
        arguments["max_connections"] = args.max_connections
    if args.server_version:
        arguments["version"] = args.server_version
    if args.db_size:
        arguments["db_size_gb"] = parse_gb(args.db_size, "--db-size")
    connections = ConnectionSet()
    if args.db:
        name, sep, url = args.db.partition("=")
        if not sep or "://" in name:
            name, url = "db", args.db
        config = parse_connection(name, url, source="--db")
        connections.connections[config.name] = config
        arguments["connection"] = config.name

    async def call() -> dict[str, Any]:
        state = ServerState.from_connections(connections)
        try:
            async with Client(build_server(state)) as client:
                result = await client.call_tool("tune_config", arguments)
        finally:
            await state.registry.close()
        if result.is_error:
            message = " ".join(getattr(c, "text", "") for c in result.content)
            raise ConfigError(message.removeprefix("Error executing tool tune_config: "))
        return dict(result.structured_content or {})

    report = anyio.run(call)
    if args.format == "json":
        print(json.dumps(report, indent=2))
    elif args.format == "conf":
        print(report["config_snippet"])
    else:
        print_report(report)
    return 1 if any(f["severity"] in ("critical", "high") for f in report.get("audit", [])) else 0


def print_report(report: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console()
    inputs = report["inputs"]
    console.print(
        f"[bold]{report['engine']}[/] for {inputs['ram_gb']:g} GB RAM, {inputs['cpus']} CPUs, {inputs['storage']}, "
        f"{inputs['workload']} (version {inputs.get('version') or 'default'})"
    )
    table = Table(show_lines=False)
    for column in ("setting", "value", "current", "apply", "formula", "why"):
        table.add_column(column, overflow="fold")
    for s in report["settings"]:
        current = "" if s.get("current") is None else str(s["current"]) + (" *" if s.get("changes") else "")
        table.add_row(s["name"], s["value"], current, s["apply"], s["formula"], s["why"])
    console.print(table)
    budget = report.get("memory_budget")
    if budget:
        gib = 1024**3
        verdict = "[green]fits[/]" if budget["fits"] else "[red]does NOT fit[/]"
        total, ram, headroom = (budget[k] / gib for k in ("total_bytes", "ram_bytes", "headroom_bytes"))
        console.print(f"[bold]Memory budget[/] {verdict}: {total:.2f} of {ram:.2f} GiB, headroom {headroom:.2f} GiB")
        for line in budget["lines"]:
            console.print(f"  {escape(line['item'])}: {line['bytes'] / gib:.3f} GiB  [dim]{escape(line['formula'])}[/]")
        for adjustment in budget.get("adjustments", []):
            console.print(f"  [yellow]adjusted:[/] {escape(adjustment)}")
    for rec in report.get("recommendations", []):
        console.print(f"[bold]→[/] {escape(rec)}")
    for note in report.get("notes", []):
        console.print(f"[dim]note: {escape(note)}[/]")
    for finding in report.get("audit", []):
        console.print(f"[red]{finding['rule_id']} {finding['severity']}[/]: {escape(finding['title'])}")
    console.rule(report["config_format"])
    console.print(escape(report["config_snippet"]))
    if report.get("apply_statements"):
        console.rule("apply online")
        console.print(escape("\n".join(report["apply_statements"])))
