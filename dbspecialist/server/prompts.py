"""MCP prompts: the common jobs as a chain of tool calls, with what to report at the end."""

from __future__ import annotations

import inspect
from collections.abc import Callable

from mcp.server import MCPServer
from mcp.server.mcpserver.prompts.base import Prompt, PromptArgument

_REPORT_RULES = (
    "Report like a senior DBA: lead with the answer, give numbers from the tool output (not guesses), quote the exact "
    "SQL or commands to run, say what each change costs (locks, rewrite time, restart) and how to verify it. Cite "
    "rule ids (e.g. PLN003, MIG010) so the user can read dbspecialist://rules/<id>."
)


def _connection_line(connection: str | None) -> str:
    if connection:
        return f"Use the connection `{connection}`."
    return "If no connection is named, call `list_connections` first and ask which one to use when several fit."


def diagnose_slow_query(sql: str, connection: str | None = None) -> str:
    """Why is this query slow, and what exactly fixes it (plan, rewrite, index, setting)."""
    return f"""Diagnose why this query is slow and fix it.

```sql
{sql}
```
{_connection_line(connection)}
1. `explain_query` with `sql` and `connection` (analyze=false first; set analyze=true only for a read and when the
   estimate alone does not explain it). Read the slowest nodes, row misestimates and spills.
2. `review_query` with the same SQL (and `connection`, so implicit casts are checked against real column types).
3. `recommend_indexes` with `queries=[the SQL]` and the connection: keep only indexes verified to help.
4. If a setting is implicated (sort/hash spills, work_mem), `tune_config` for the server.
Report: the cause in one sentence with the evidence (node, rows, time share), then fixes in order of payoff: rewrite
(full SQL), index (`CREATE INDEX CONCURRENTLY ...` with the measured cost reduction), statistics/settings. Guide:
dbspecialist://guides/query-optimization. {_REPORT_RULES}"""


def review_schema_design(connection: str | None = None, ddl: str | None = None) -> str:
    """A senior review of a schema: correctness, integrity, indexing, types, and what to change first."""
    source = (
        f"Review this DDL (offline):\n```sql\n{ddl}\n```"
        if ddl
        else f"Review the live schema. {_connection_line(connection)} Start with `describe_schema`."
    )
    return f"""{source}
1. `review_schema` (with `ddl`, or with `connection` for live statistics: unused indexes, sequence headroom, sizes).
2. For the tables behind critical or high findings, `describe_schema` with `tables=[...]` to see them whole.
3. For changes to existing big tables, `plan_migration` so each fix comes with a zero-downtime plan.
Report: the 3 to 5 changes that matter most (integrity first, then performance, then hygiene), each with the finding's
evidence and the exact DDL; group the rest briefly. Guides: dbspecialist://guides/normalization,
dbspecialist://guides/modeling-patterns, dbspecialist://guides/indexing. {_REPORT_RULES}"""


def plan_zero_downtime_migration(change: str, connection: str | None = None, version: str | None = None) -> str:
    """Turn a schema change into a safe runbook: phases, locks, durations, deploy steps, rollback."""
    server = f" on version {version}" if version else ""
    return f"""Plan this schema change so it runs without downtime{server}.

```sql
{change}
```
{_connection_line(connection)} (The connection gives table sizes and the server version; without one, ask for
row counts of the big tables and pass them as `table_stats`.)
1. `lint_migration` on the change as written: these are the risks to explain.
2. `plan_migration` with `change` (and `connection` or `table_stats`, `version`).
Report: a runbook by phase (expand → backfill → validate → switch → contract); for each step the SQL, the lock and
what it blocks, how long it should take on this table, whether it can run in a transaction, how to roll back; the
application deploys in order; what to watch while it runs (locks, replica lag). Guide:
dbspecialist://guides/zero-downtime-migrations. {_REPORT_RULES}"""


def tune_database(
    connection: str, ram_gb: str | None = None, cpus: str | None = None, workload: str | None = None
) -> str:
    """Settings for this server's hardware and workload, compared with what runs now, plus its health."""
    hardware = f"RAM {ram_gb} GB, {cpus} CPUs" if ram_gb and cpus else "ask the user for RAM and CPU cores"
    return f"""Tune the database server behind `{connection}` ({hardware}; workload {workload or "oltp"}).
1. `check_health` on the connection: the hit ratios, connection use, spills and checkpoints show what hurts now.
2. `tune_config` with the engine, RAM, CPUs, storage, workload and `connection` (it reads the version and size,
   compares every setting with the live value and audits dangerous settings).
3. If the health check shows slow statements, `top_queries` to see whether tuning or indexes matter more.
Report: the settings that change (current → recommended, why, reload or restart), the memory budget proving they
fit, the apply statements, and any audit finding first. Guide: dbspecialist://guides/configuration.
{_REPORT_RULES}"""


def scale_for_10x(connection: str, growth_factor: str = "10") -> str:
    """Which limit breaks first at N times today's load, at what multiple, and what to do in order."""
    return f"""Can the database behind `{connection}` handle {growth_factor}x its current load?
1. `check_health` on the connection (today's pressure points).
2. `top_queries` (what the load is made of; the top statements will grow first).
3. `plan_capacity` with `connection` and `growth_factor={growth_factor}`; pass RAM, CPU and storage as `facts` if the
   tool says it could not read them.
4. For the first limit that breaks, the matching tool: `tune_config` (memory), `recommend_indexes` (CPU/IO from
   queries), `plan_migration` (partitioning a big table).
Report: a table of resources (now, at {growth_factor}x, limit, breaks at which multiple), the first limit to break,
then actions in order — pooling, memory, read replicas, partitioning, caching, and only then sharding (Citus,
Vitess, MongoDB sharding, Redis Cluster) with the shard key. Guide: dbspecialist://guides/scaling. {_REPORT_RULES}"""


_CONNECTION = "a configured connection (list_connections shows them)"
# name → (title, function, [(argument, description, required)]). Built as Prompt objects directly: the arguments get
# descriptions, and registration skips deriving a pydantic model from each signature (it showed in cold start).
PROMPTS: dict[str, tuple[str, Callable[..., str], list[tuple[str, str, bool]]]] = {
    "diagnose_slow_query": (
        "Diagnose a slow query",
        diagnose_slow_query,
        [("sql", "the slow query", True), ("connection", _CONNECTION, False)],
    ),
    "review_schema_design": (
        "Review a schema design",
        review_schema_design,
        [("connection", _CONNECTION + " (live review)", False), ("ddl", "DDL to review offline", False)],
    ),
    "plan_zero_downtime_migration": (
        "Plan a zero-downtime migration",
        plan_zero_downtime_migration,
        [
            ("change", "the DDL statements to apply", True),
            ("connection", _CONNECTION + " (sizes, version)", False),
            ("version", "server version, e.g. 16", False),
        ],
    ),
    "tune_database": (
        "Tune a database server",
        tune_database,
        [
            ("connection", _CONNECTION, True),
            ("ram_gb", "RAM of the database machine, in GB", False),
            ("cpus", "CPU cores of the database machine", False),
            ("workload", "oltp, web, dw, mixed (Redis: cache, persistent, queue)", False),
        ],
    ),
    "scale_for_10x": (
        "Can it handle 10x?",
        scale_for_10x,
        [("connection", _CONNECTION, True), ("growth_factor", "the load multiple to plan for (default 10)", False)],
    ),
}


def register_prompts(mcp: MCPServer) -> None:
    for name, (title, fn, arguments) in PROMPTS.items():
        mcp.add_prompt(
            Prompt(
                name=name,
                title=title,
                description=inspect.getdoc(fn),
                arguments=[PromptArgument(name=a, description=d, required=r) for a, d, r in arguments],
                fn=fn,
                context_kwarg=None,
            )
        )
