"""`dbspecialist demo`: a real MCP client calls every registered tool and reports what came back.

Each tool has a demo plan below; a registered tool without one fails the demo, so new tools
cannot be forgotten.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from mcp import Client

from dbspecialist.config import ConnectionSet
from dbspecialist.demo_migrations import plan_lint_migration, plan_plan_migration
from dbspecialist.demo_operations import plan_check_health, plan_plan_capacity, plan_top_queries

SAMPLE_QUERY = """\
SELECT c.id, c.first_name || ' ' || c.last_name AS customer, COUNT(o.id) AS orders,
       SUM(o.total_cents) / 100.0 AS revenue
FROM customers AS c JOIN orders AS o ON o.customer_id = c.id
WHERE o.status <> 'cancelled'
GROUP BY c.id ORDER BY revenue DESC LIMIT 5"""


@dataclass
class DemoStep:
    tool: str
    arguments: dict[str, Any]
    ok: bool
    elapsed_ms: float
    lines: list[str] = field(default_factory=list)


@dataclass
class DemoReport:
    server: str
    protocol: str
    tools: list[str]
    steps: list[DemoStep] = field(default_factory=list)
    missing_plans: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.missing_plans and all(s.ok for s in self.steps) and bool(self.steps)


@dataclass
class DemoContext:
    client: Client
    connections: list[str]
    usable: list[str] = field(default_factory=list)
    engines: dict[str, str] = field(default_factory=dict)
    first_table: dict[str, str] = field(default_factory=dict)
    first_schema: dict[str, str] = field(default_factory=dict)  # where the first table lives (PostgreSQL, MySQL)
    sample: set[str] = field(default_factory=set)


async def _call(ctx: DemoContext, tool: str, arguments: dict[str, Any]) -> tuple[DemoStep, dict[str, Any]]:
    started = time.perf_counter()
    result = await ctx.client.call_tool(tool, arguments)
    elapsed = (time.perf_counter() - started) * 1000
    data = result.structured_content or {}
    step = DemoStep(tool=tool, arguments=arguments, ok=not result.is_error, elapsed_ms=elapsed)
    if result.is_error:
        step.lines.append("error: " + " ".join(getattr(c, "text", "") for c in result.content))
    return step, data


async def plan_list_connections(ctx: DemoContext) -> list[DemoStep]:
    step, data = await _call(ctx, "list_connections", {})
    for conn in data.get("connections", []):
        state = conn["server_version"] if conn["status"] == "ok" else f"unavailable: {conn['error']}"
        ro = "read-only" if conn["read_only"] else "READ-WRITE"
        step.lines.append(f"{conn['name']}: {conn['engine']} {state} ({ro}) {conn['url']}")
        if conn["status"] == "ok":
            ctx.usable.append(conn["name"])
            ctx.engines[conn["name"]] = conn["engine"]
        if conn.get("sample"):
            ctx.sample.add(conn["name"])
    return [step]


async def plan_describe_schema(ctx: DemoContext) -> list[DemoStep]:
    steps = []
    for name in ctx.usable:
        step, data = await _call(ctx, "describe_schema", {"connection": name})
        tables = data.get("tables", [])
        keyspace = data.get("keyspace")
        if keyspace:
            dbs = ", ".join(f"db{d['db']}: {d['keys']:,} keys" for d in keyspace.get("databases", [])) or "no keys"
            step.lines.append(f"{name}: {dbs}; {keyspace.get('sampled_keys', 0)} keys sampled")
            for pattern in keyspace.get("patterns", [])[:8]:
                step.lines.append(
                    f"  {pattern['pattern']} ({pattern['type']}): {pattern['sampled_keys']} sampled, "
                    f"{pattern['ttl_share_pct']:.0f}% with a TTL"
                )
            steps.append(step)
            continue
        step.lines.append(f"{name}: {data.get('total_tables', 0)} tables")
        for table in tables[:8]:
            rows = table.get("row_estimate")
            fks = len(table.get("foreign_keys") or [])
            idx = len(table.get("indexes") or [])
            step.lines.append(
                f"  {table['name']}: {table['column_count']} columns, "
                f"{'?' if rows is None else f'{rows:,}'} rows, {fks} foreign keys, {idx} indexes"
            )
        if len(tables) > 8:
            step.lines.append(f"  … and {len(tables) - 8} more")
        if data.get("note"):
            step.lines.append(f"  note: {data['note']}")
        if tables:
            ctx.first_table[name] = tables[0]["name"]
            if tables[0].get("schema_name"):
                ctx.first_schema[name] = tables[0]["schema_name"]
        steps.append(step)
    return steps


# A harmless read and a write the guard must refuse, per engine.
def demo_queries(engine: str, first_table: str | None, is_sample: bool, schema: str | None = None) -> tuple[str, str]:
    if engine == "mongodb":
        read = json.dumps({"find": first_table, "limit": 5}) if first_table else json.dumps({"listCollections": 1})
        return read, json.dumps({"delete": first_table or "orders", "deletes": [{"q": {}, "limit": 0}]})
    if engine == "redis":
        return "SCAN 0 COUNT 10", "FLUSHALL"
    if is_sample:
        return SAMPLE_QUERY, "DELETE FROM orders"
    quote = "`" if engine == "mysql" else '"'
    if first_table:
        # qualified: the first table listed may live outside the search path (PostgreSQL) or database (MySQL)
        parts = [schema, first_table] if schema and engine in ("postgresql", "mysql") else [first_table]
        name = ".".join(quote + p.replace(quote, quote * 2) + quote for p in parts)
        return f"SELECT * FROM {name} LIMIT 5", f"DELETE FROM {name}"
    return "SELECT 1 AS ok", "DROP TABLE dbspecialist_demo_probe"


async def plan_run_query(ctx: DemoContext) -> list[DemoStep]:
    steps = []
    for name in ctx.usable:
        read, write = demo_queries(
            ctx.engines.get(name, ""), ctx.first_table.get(name), name in ctx.sample, ctx.first_schema.get(name)
        )
        step, data = await _call(ctx, "run_query", {"connection": name, "query": read})
        if step.ok:
            step.lines.append(
                f"{name}: {data['row_count']} rows in {data['elapsed_ms']:.1f} ms"
                f"{' (truncated)' if data['truncated'] else ''}"
            )
            step.lines.append("  " + " | ".join(data["columns"]))
            for row in data["rows"][:5]:
                step.lines.append("  " + " | ".join(_short(v) for v in row))
        steps.append(step)
        refused, _ = await _call(ctx, "run_query", {"connection": name, "query": write})
        refused.ok = not refused.ok  # the guard must refuse it
        verdict = "refused, as it must be" if refused.ok else "NOT refused"
        refused.lines = [f"{name}: a write ({_short(write)}) was {verdict}"]
        steps.append(refused)
    return steps


def _short(value: object, limit: int = 60) -> str:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


DEMO_DDL = """\
CREATE TABLE customers (id serial PRIMARY KEY, email varchar(255) NOT NULL, created_at timestamp);
CREATE TABLE orders (
    id serial PRIMARY KEY,
    customer_id integer REFERENCES customers (id) ON DELETE CASCADE,
    status text NOT NULL,
    total money
);
"""


async def plan_review_schema(ctx: DemoContext) -> list[DemoStep]:
    steps = []
    targets: list[dict[str, Any]] = [{"ddl": DEMO_DDL, "dialect": "postgres"}]
    targets += [{"connection": name} for name in ctx.usable]
    for arguments in targets:
        step, data = await _call(ctx, "review_schema", arguments)
        if step.ok:
            label = arguments.get("connection") or "pasted PostgreSQL DDL"
            counts = ", ".join(f"{n} {s}" for s, n in data["counts"].items() if n) or "no findings"
            step.lines.append(f"{label}: {data['tables_reviewed']} tables, {data['rules_run']} rules: {counts}")
            for finding in data["findings"][:6]:
                step.lines.append(f"  {finding['severity']:<8} {finding['rule_id']} {_short(finding['title'], 90)}")
                if finding.get("fix") and finding["fix"]["statements"]:
                    step.lines.append(f"           fix: {_short(finding['fix']['statements'][0], 90)}")
        steps.append(step)
    return steps


DEMO_PLAN = """\
                                                 QUERY PLAN
------------------------------------------------------------------------------------------------------------
 Sort  (cost=1693.02..1705.52 rows=5000 width=16) (actual time=48.112..55.903 rows=60000 loops=1)
   Sort Key: created_at
   Sort Method: external merge  Disk: 1640kB
   ->  Seq Scan on orders  (cost=0.00..1386.00 rows=5000 width=16) (actual time=0.011..20.500 rows=60000 loops=1)
         Filter: (status = 'paid'::text)
         Rows Removed by Filter: 40000
 Planning Time: 0.080 ms
 Execution Time: 58.991 ms
"""
DEMO_LOG = """\
SELECT * FROM orders WHERE customer_id = 17;
SELECT * FROM orders WHERE customer_id = 18;
SELECT * FROM orders WHERE customer_id = 19;
SELECT id FROM customers WHERE id NOT IN (SELECT customer_id FROM orders);
SELECT * FROM products WHERE name LIKE '%lamp%' ORDER BY id OFFSET 5000 LIMIT 50;
DELETE FROM payments;
"""
SAMPLE_SLOW_QUERIES = [
    "SELECT oi.quantity FROM order_items AS oi WHERE oi.product_id = 42",
    "SELECT p.amount FROM payments AS p WHERE p.order_id = 7",
]


def _findings_lines(data: dict[str, Any], limit: int = 5) -> list[str]:
    lines = []
    for finding in data.get("findings", [])[:limit]:
        lines.append(f"  {finding['severity']:<8} {finding['rule_id']} {_short(finding['title'], 90)}")
        if finding.get("fix") and finding["fix"]["statements"]:
            lines.append(f"           fix: {_short(finding['fix']['statements'][0], 90)}")
    return lines


async def plan_explain_query(ctx: DemoContext) -> list[DemoStep]:
    steps = []
    targets: list[dict[str, Any]] = [{"plan": DEMO_PLAN}]
    for name in ctx.sample:
        if name in ctx.usable:
            targets.append({"sql": SAMPLE_SLOW_QUERIES[0], "connection": name})
            targets.append({"sql": SAMPLE_SLOW_QUERIES[0], "connection": name, "analyze": True})
    for arguments in targets:
        step, data = await _call(ctx, "explain_query", arguments)
        if step.ok:
            label = (
                f"{arguments['connection']}: {_short(arguments['sql'], 60)}" if "sql" in arguments else "pasted plan"
            )
            step.lines.append(f"{label} ({data['engine']}, {data['nodes']} nodes, analyzed={data['analyzed']})")
            step.lines.extend(_findings_lines(data))
            step.lines.extend(f"  | {node['line']}" for node in data.get("compact", [])[:4])
        steps.append(step)
    return steps


async def plan_review_query(ctx: DemoContext) -> list[DemoStep]:
    step, data = await _call(ctx, "review_query", {"sql": DEMO_LOG, "dialect": "postgres"})
    if step.ok:
        counts = ", ".join(f"{n} {s}" for s, n in data["counts"].items() if n) or "no findings"
        step.lines.append(f"a log of {data['statements']} statements: {counts}")
        step.lines.extend(_findings_lines(data, 6))
        for group in data.get("n_plus_one", []):
            step.lines.append(f"  N+1: {group['count']}x {_short(group['normalised'], 60)}")
            if group.get("rewrite"):
                step.lines.append(f"       batch: {_short(group['rewrite'], 80)}")
    return [step]


async def plan_recommend_indexes(ctx: DemoContext) -> list[DemoStep]:
    steps = []
    for name in [n for n in ctx.usable if n in ctx.sample]:
        step, data = await _call(ctx, "recommend_indexes", {"connection": name, "queries": SAMPLE_SLOW_QUERIES})
        if step.ok:
            step.lines.append(f"{name}: {len(data['recommendations'])} indexes for {data['queries_analyzed']} queries")
            for rec in data["recommendations"]:
                step.lines.append(f"  {rec['ddl']}  (verified={rec['verified']}, {rec['verification']})")
        steps.append(step)
    return steps


TUNE_ENGINE = {"postgresql": "postgres", "mysql": "mysql", "sqlite": "sqlite", "mongodb": "mongodb", "redis": "redis"}


async def plan_tune_config(ctx: DemoContext) -> list[DemoStep]:
    steps = []
    targets: list[dict[str, Any]] = [{"engine": "postgres", "ram_gb": 64, "cpus": 16, "workload": "oltp"}]
    for name in ctx.usable:
        engine = TUNE_ENGINE.get(ctx.engines.get(name, ""))
        if engine:
            workload = "cache" if engine == "redis" else "oltp"
            targets.append({"engine": engine, "ram_gb": 8, "cpus": 4, "workload": workload, "connection": name})
    for arguments in targets:
        step, data = await _call(ctx, "tune_config", arguments)
        if step.ok:
            where = f" vs live {arguments['connection']}" if "connection" in arguments else ""
            step.lines.append(
                f"{arguments['engine']} on {arguments['ram_gb']} GB / {arguments['cpus']} CPUs{where}: "
                f"{len(data['settings'])} settings ({data['config_format']})"
            )
            for advice in data["settings"][:6]:
                current = f" (now {advice['current']})" if advice.get("current") is not None else ""
                step.lines.append(f"  {advice['name']} = {advice['value']}{current}  [{_short(advice['formula'], 50)}]")
            budget = data.get("memory_budget")
            if budget:
                gib = 1024**3
                step.lines.append(
                    f"  memory budget: {budget['total_bytes'] / gib:.1f} of {budget['ram_bytes'] / gib:.1f} GiB, "
                    f"{'fits' if budget['fits'] else 'does not fit'}"
                )
            for finding in data.get("audit", [])[:3]:
                step.lines.append(f"  audit {finding['severity']}: {_short(finding['title'], 90)}")
        steps.append(step)
    return steps


PLANS: dict[str, Callable[[DemoContext], Awaitable[list[DemoStep]]]] = {
    "list_connections": plan_list_connections,
    "describe_schema": plan_describe_schema,
    "run_query": plan_run_query,
    "explain_query": plan_explain_query,
    "review_query": plan_review_query,
    "recommend_indexes": plan_recommend_indexes,
    "review_schema": plan_review_schema,
    "tune_config": plan_tune_config,
    "plan_migration": plan_plan_migration,
    "lint_migration": plan_lint_migration,
    "check_health": plan_check_health,
    "top_queries": plan_top_queries,
    "plan_capacity": plan_plan_capacity,
}


async def run_demo(connections: ConnectionSet) -> DemoReport:
    """Start the server in-process, connect a real MCP client, and exercise every tool."""
    from dbspecialist.server.app import build_server
    from dbspecialist.server.state import ServerState

    state = ServerState.from_connections(connections)
    server = build_server(state)
    try:
        async with Client(server) as client:
            listed = await client.list_tools()
            names = [t.name for t in listed.tools]
            info = client.server_info
            report = DemoReport(
                server=f"{info.name} {info.version}" if info else "dbspecialist",
                protocol=client.protocol_version,
                tools=names,
            )
            report.missing_plans = [n for n in names if n not in PLANS]
            ctx = DemoContext(client=client, connections=connections.names())
            for name in PLANS:
                if name in names:
                    report.steps.extend(await PLANS[name](ctx))
            return report
    finally:
        await state.registry.close()


def render_report(report: DemoReport) -> None:
    """Print the report with rich (to stdout)."""
    from rich.console import Console
    from rich.panel import Panel
    from rich.text import Text

    console = Console()
    console.print(
        Panel.fit(
            f"[bold]{report.server}[/] over MCP {report.protocol} (in-memory client)\ntools: {', '.join(report.tools)}",
            title="dbspecialist demo",
        )
    )
    for step in report.steps:
        mark = "[green]✔[/]" if step.ok else "[red]✘[/]"
        args = ", ".join(f"{k}={v!r}" if len(repr(v)) < 40 else f"{k}=…" for k, v in step.arguments.items())
        console.print(f"{mark} [bold]{step.tool}[/]({args})  [dim]{step.elapsed_ms:.1f} ms[/]")
        for line in step.lines:
            console.print(Text("    " + line))
    for name in report.missing_plans:
        console.print(f"[red]✘ tool {name} has no demo plan[/]")
    console.print("[bold green]demo passed[/]" if report.ok else "[bold red]demo failed[/]")
