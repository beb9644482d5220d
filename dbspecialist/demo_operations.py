"""Demo plans for the operations tools: check_health, top_queries and plan_capacity on every usable connection."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dbspecialist.demo import DemoContext, DemoStep


async def plan_check_health(ctx: DemoContext) -> list[DemoStep]:
    from dbspecialist.demo import _call

    steps = []
    for name in ctx.usable:
        step, data = await _call(ctx, "check_health", {"connection": name})
        if step.ok:
            metrics = ", ".join(f"{k}={v}" for k, v in list(data.get("metrics", {}).items())[:4])
            step.lines.append(f"{name}: {len(data['checks_run'])} checks, counts {data['counts']}; {metrics}")
            for finding in data.get("findings", [])[:3]:
                step.lines.append(f"  {finding['severity']} {finding['rule_id']}: {finding['title'][:90]}")
            for check, why in list(data.get("skipped", {}).items())[:2]:
                step.lines.append(f"  skipped {check}: {why[:90]}")
        steps.append(step)
    return steps


async def plan_top_queries(ctx: DemoContext) -> list[DemoStep]:
    from dbspecialist.demo import _call

    steps = []
    for name in ctx.usable:
        if ctx.engines.get(name) == "sqlite":
            continue  # SQLite keeps no statement statistics
        step, data = await _call(ctx, "top_queries", {"connection": name, "limit": 3})
        if step.ok:
            if not data["available"]:
                step.lines.append(f"{name}: {data['source']} not available; enable with: {' / '.join(data['enable'])}")
            for query in data.get("queries", []):
                nxt = (query.get("next_step") or {}).get("tool", "-")
                step.lines.append(
                    f"{name}: {query['calls']} calls, {query['total_time_ms']:.1f} ms total → {nxt}: "
                    f"{' '.join(query['query'].split())[:60]}"
                )
        steps.append(step)
    return steps


async def plan_plan_capacity(ctx: DemoContext) -> list[DemoStep]:
    from dbspecialist.demo import _call

    facts = {
        "engine": "postgresql",
        "data_bytes": 200 * 1024**3,
        "ram_bytes": 64 * 1024**3,
        "cache_bytes": 16 * 1024**3,
        "working_set_bytes": 24 * 1024**3,
        "connections_used": 180,
        "connections_max": 400,
        "qps": 3000,
        "cpu_cores": 16,
        "cpu_busy_pct": 35,
        "storage_total_bytes": 1024**4,
    }
    targets: list[dict[str, object]] = [{"facts": facts, "growth_factor": 10}]
    targets += [{"connection": name, "growth_factor": 10} for name in ctx.usable[:1]]
    steps = []
    for arguments in targets:
        step, data = await _call(ctx, "plan_capacity", arguments)
        if step.ok:
            where = arguments.get("connection", "given facts (200 GB on 64 GB RAM)")
            verdict = str(data["verdict"])
            if len(verdict) > 240:  # cut at a word, and say so
                verdict = verdict[:240].rsplit(" ", 1)[0] + " …"
            step.lines.append(f"{where}: {verdict}")
            for row in data["projections"][:6]:
                if row.get("breaks_at") is not None:
                    step.lines.append(f"  {row['resource']}: breaks at x{row['breaks_at']:g}")
        steps.append(step)
    return steps
