"""Operations tools: check_health (statistics → findings), top_queries (the workload), plan_capacity (10x)."""

# No `from __future__ import annotations` here: the SDK resolves each tool's annotations three times at start-up,
# and real objects need no evaluation where strings are compiled and evaluated each time (~0.6 ms a tool).

import importlib
from typing import Annotated, Any, Literal

from mcp.server import MCPServer
from pydantic import Field

from dbspecialist.errors import QueryError
from dbspecialist.knowledge.capacity.model import CapacityFacts, CapacityReport
from dbspecialist.knowledge.health.model import HealthReport
from dbspecialist.knowledge.workload.top_queries_model import TopQueriesReport
from dbspecialist.server.errors import tool_errors
from dbspecialist.server.state import ServerState
from dbspecialist.server.tools import READ_ONLY

# adapter engine → the module suffix of adapters/health_<x>.py and knowledge/health/<x>.py
HEALTH_MODULES = {
    "postgresql": "postgres",
    "mysql": "mysql",
    "sqlite": "sqlite",
    "mongodb": "mongodb",
    "redis": "redis",
}


async def health_report(adapter: Any) -> HealthReport:
    """Snapshot (I/O) then rules (pure) for the adapter's engine."""
    suffix = HEALTH_MODULES[adapter.config.engine]
    snapshot_module = importlib.import_module(f"dbspecialist.adapters.health_{suffix}")
    rules_module = importlib.import_module(f"dbspecialist.knowledge.health.{suffix}")
    snapshot = await getattr(snapshot_module, f"{suffix}_health_snapshot")(adapter)
    report: HealthReport = getattr(rules_module, f"check_{suffix}")(snapshot)
    return report


def register_health_tools(mcp: MCPServer, state: ServerState) -> None:
    @mcp.tool(annotations=READ_ONLY, title="Check a database's health")
    @tool_errors
    async def check_health(
        connection: Annotated[str, Field(description="the connection to check (list_connections shows them)")],
    ) -> HealthReport:
        """Interpret the server's live statistics into findings with thresholds, evidence and the fix.

        PostgreSQL: cache hit ratio, connections vs max, long and idle-in-transaction sessions, blocking lock chains
        (who blocks whom), deadlocks, replication lag and inactive slots, vacuum staleness and dead tuples, bloat
        estimate, XID wraparound, sequences near overflow, invalid/unused/duplicate indexes, temp files,
        checkpoints. MySQL/MariaDB: buffer pool, connections, slow queries, aborted connections, on-disk temp tables,
        row-lock waits, replica lag, fragmentation. SQLite: quick_check, foreign_key_check, freelist, WAL, journal
        mode. MongoDB: connections, opcounters, WiredTiger cache and evictions, long operations, replica set,
        unused indexes. Redis: memory vs maxmemory, fragmentation, evictions, hit ratio, clients, persistence,
        replication, slowlog, latency. Each finding says whether it comes from a counter since server start or a
        value sampled now. Guide: dbspecialist://guides/monitoring.
        """
        adapter = await state.registry.get(connection)
        return await health_report(adapter)

    @mcp.tool(annotations=READ_ONLY, title="The most expensive queries")
    @tool_errors
    async def top_queries(
        connection: Annotated[str, Field(description="the connection whose workload to read")],
        order_by: Annotated[
            Literal["total_time", "mean_time", "calls", "rows"], Field(description="how to rank statements")
        ] = "total_time",
        limit: Annotated[int, Field(ge=1, le=100, description="how many statements")] = 10,
    ) -> TopQueriesReport:
        """The statements that cost the most: normalised text, calls, total and mean time, rows, share of the total,
        and for each the next step as a ready tool call (explain_query, review_query or recommend_indexes).

        Sources: pg_stat_statements; performance_schema statement digests (MySQL, MariaDB); MongoDB's profiler
        (system.profile), else currentOp; Redis SLOWLOG. When the source is not enabled, the report says exactly how
        to enable it. Guide: dbspecialist://guides/monitoring.
        """
        from dbspecialist.adapters.top_queries import fetch_top_queries
        from dbspecialist.knowledge.workload.top_queries import top_queries_report

        adapter = await state.registry.get(connection)
        raw = await fetch_top_queries(adapter, order_by, limit)
        try:
            return top_queries_report(raw, adapter.engine, order_by, limit)
        except ValueError as exc:
            raise QueryError(str(exc)) from None

    @mcp.tool(annotations=READ_ONLY, title="Can it handle 10x? (capacity plan)")
    @tool_errors
    async def plan_capacity(
        connection: Annotated[
            str | None, Field(description="read today's load and limits from this live database")
        ] = None,
        # The bounds are in the schema and checked in the body, so that a bad value gets our message rather than
        # the argument validator's raw text.
        growth_factor: Annotated[
            float,
            Field(
                json_schema_extra={"exclusiveMinimum": 1, "maximum": 10_000},
                description="the load multiple to plan for (more than 1, at most 10,000)",
            ),
        ] = 10,
        facts: Annotated[
            CapacityFacts | None,
            Field(description="known facts (RAM, CPUs, disk, QPS...); they override what the connection reports"),
        ] = None,
    ) -> CapacityReport:
        """Project data size, working set vs memory, connections, CPU, QPS, writes/WAL and storage at N times
        today's load; say which limit breaks first and at what multiple, and what to do in order: pooling, memory,
        read replicas, partitioning, caching, and finally sharding on an existing distributed engine (Citus, Vitess,
        MongoDB sharding, Redis Cluster) with the shard key considerations. Numbers and formulas, not prose.
        Guide: dbspecialist://guides/scaling.
        """
        from dbspecialist.knowledge.capacity.project import check_growth_factor
        from dbspecialist.knowledge.capacity.project import plan_capacity as project

        if connection is None and facts is None:
            raise QueryError("give `connection` (live statistics) or `facts` (e.g. data_bytes, ram_bytes, qps)")
        problems = facts.problems() if facts is not None else []
        try:  # before any live read: bad arguments fail fast
            check_growth_factor(growth_factor)
        except ValueError as exc:
            problems.insert(0, str(exc))
        if problems:
            raise QueryError("; ".join(problems))
        merged = facts or CapacityFacts()
        if connection is not None:
            from dbspecialist.adapters.capacity_facts import live_capacity_facts

            adapter = await state.registry.get(connection)
            merged = await live_capacity_facts(adapter, facts)
        try:
            return project(merged, growth_factor)
        except ValueError as exc:
            raise QueryError(str(exc)) from None
