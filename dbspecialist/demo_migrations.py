"""Demo plans for the migration tools: the 400 M-row question offline, a lint, and a plan on a live connection."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dbspecialist.demo import DemoContext, DemoStep

BIG_TABLE_CHANGE = """\
ALTER TABLE orders ADD COLUMN shipped_at timestamptz NOT NULL DEFAULT clock_timestamp();
CREATE INDEX orders_shipped_at_idx ON orders (shipped_at);
ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id);"""
BIG_TABLE_STATS = {"orders": {"rows": 400_000_000, "bytes": 80 * 1024**3}, "customers": {"rows": 5_000_000}}
# For the live connection's engine: a change on the connection's first table that needs more than one step.
_LIVE_CHANGE = {
    "sqlite": "ALTER TABLE {table} ADD COLUMN note TEXT;\nALTER TABLE {table} RENAME TO {table}_v2;",
    "postgresql": "ALTER TABLE {table} ADD COLUMN note text NOT NULL DEFAULT '';",
    "mysql": "ALTER TABLE {table} ADD COLUMN note varchar(200) NULL;",
}


def _lines_for_plan(step: DemoStep, data: dict[str, Any], max_steps: int = 8) -> None:
    step.lines.append(data.get("summary", "")[:300])
    for item in data.get("steps", [])[:max_steps]:
        lock = item.get("lock") or {}
        lock_text = f"{lock.get('mode')}, blocks {lock.get('blocks')}" if lock else "no lock"
        seconds = (item.get("estimate") or {}).get("seconds")
        estimate = f", ~{seconds:g} s" if isinstance(seconds, int | float) else ""
        step.lines.append(f"  {item['number']}. [{item['phase']}] {item['title'][:80]} ({lock_text}{estimate})")
    for finding in data.get("findings", [])[:3]:
        step.lines.append(f"  risk {finding['severity']} {finding['rule_id']}: {finding['title'][:90]}")


async def plan_plan_migration(ctx: DemoContext) -> list[DemoStep]:
    from dbspecialist.demo import _call

    arguments: dict[str, Any] = {"change": BIG_TABLE_CHANGE, "version": "16", "table_stats": BIG_TABLE_STATS}
    step, data = await _call(ctx, "plan_migration", arguments)
    if step.ok:
        step.lines.insert(0, "PostgreSQL 16, orders = 400 M rows / 80 GiB (offline, table_stats):")
        _lines_for_plan(step, data)
    steps = [step]
    for name in ctx.usable:
        template = _LIVE_CHANGE.get(ctx.engines.get(name, ""))
        table = ctx.first_table.get(name)
        if template is None or table is None:
            continue
        live, live_data = await _call(
            ctx, "plan_migration", {"change": template.format(table=table), "connection": name}
        )
        if live.ok:
            live.lines.insert(0, f"live {name} ({ctx.engines[name]}), table {table}:")
            _lines_for_plan(live, live_data, max_steps=6)
        steps.append(live)
        break
    return steps


async def plan_lint_migration(ctx: DemoContext) -> list[DemoStep]:
    from dbspecialist.demo import _call

    step, data = await _call(ctx, "lint_migration", {"sql": BIG_TABLE_CHANGE, "version": "16"})
    if step.ok:
        step.lines.append(f"{data['statements']} statements, {data['rules_run']} rules, counts {data['counts']}")
        for finding in data.get("findings", [])[:6]:
            step.lines.append(
                f"  {finding['severity']} {finding['rule_id']} line {finding['line']}: {finding['title'][:80]}"
            )
    return [step]
