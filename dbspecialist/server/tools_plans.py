"""Query tools: explain_query (plan analysis), review_query (static review), recommend_indexes."""

# No `from __future__ import annotations` here: the SDK resolves each tool's annotations three times at start-up,
# and real objects need no evaluation where strings are compiled and evaluated each time (~0.6 ms a tool).

import asyncio
import json
from typing import Annotated, Any, Literal

from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from pydantic import Field

from dbspecialist.errors import DBSpecialistError, QueryError
from dbspecialist.knowledge.indexes.advisor import IndexAdvice
from dbspecialist.knowledge.plans.analyze import PlanAnalysis
from dbspecialist.knowledge.queries.model import QueryReview
from dbspecialist.server.errors import tool_errors
from dbspecialist.server.state import ServerState
from dbspecialist.server.tools import READ_ONLY, SCRATCH_WRITES

PLAN_ENGINES = Literal["postgresql", "mysql", "mariadb", "sqlite", "mongodb"]
MAX_PLAN_CHARS = 5_000_000


def register_query_tools(mcp: MCPServer, state: ServerState) -> None:
    @mcp.tool(annotations=READ_ONLY, title="Explain and analyse a query plan")
    @tool_errors
    async def explain_query(
        sql: Annotated[
            str | dict[str, Any] | None,
            Field(description="the query to explain on `connection` (MongoDB: the JSON command)"),
        ] = None,
        connection: Annotated[str | None, Field(description="run EXPLAIN on this connection")] = None,
        plan: Annotated[
            str | dict[str, Any] | list[Any] | None,
            Field(description="a pasted plan: PostgreSQL text/JSON, MySQL table/JSON/TREE, SQLite, MongoDB explain"),
        ] = None,
        engine: Annotated[PLAN_ENGINES | None, Field(description="engine of a pasted plan (auto-detected)")] = None,
        analyze: Annotated[bool, Field(description="run it (EXPLAIN ANALYZE, read-only, rolled back)")] = False,
    ) -> PlanAnalysis:
        """Analyse an execution plan: the slowest nodes, misestimates, spills, wasteful scans, with the fix.

        Give a pasted `plan` (any supported format; engine detected), or `sql` + `connection` (the server
        runs EXPLAIN; `analyze=true` runs EXPLAIN ANALYZE under the read-only guard; PostgreSQL text with $1, $2
        as pg_stat_statements shows it gets its generic plan). Returns findings
        with stable rule ids, evidence numbers and the fix (an index, a setting, a rewrite), plus a compact
        tree of the plan to explain it from.
        Guide: dbspecialist://guides/query-optimization.
        """
        from dbspecialist.knowledge.plans.analyze import analyze_plan

        if isinstance(sql, dict):  # the SDK decodes JSON-looking text; a MongoDB command arrives as a dict
            sql = json.dumps(sql)
        if (plan is None) == (sql is None):
            raise QueryError("give either `plan` (a pasted plan) or `sql` with `connection`")
        context: dict[str, Any] = {}
        if plan is not None:
            if isinstance(plan, str) and len(plan) > MAX_PLAN_CHARS:
                raise QueryError(f"the plan is {len(plan):,} characters; the limit is {MAX_PLAN_CHARS:,}")
            raw: Any = plan
        else:
            if connection is None:
                raise QueryError("`sql` needs a `connection` to run EXPLAIN on (or paste a `plan` instead)")
            adapter = await state.registry.get(connection)
            options = adapter.config.options
            explained = await adapter.explain(sql or "", analyze=analyze, timeout_ms=options.statement_timeout_ms)
            raw = explained.plan
            detected = engine or _plan_engine(adapter.config.engine, getattr(adapter, "flavor", None))
            context["engine"] = detected
            context["sql"] = sql
        try:
            return await asyncio.to_thread(analyze_plan, raw, context.pop("engine", engine), context=context)
        except ValueError as exc:
            raise QueryError(str(exc)) from None

    @mcp.tool(annotations=READ_ONLY, title="Review SQL without running it")
    @tool_errors
    async def review_query(
        sql: Annotated[str, Field(description="one statement, or a whole log of statements")],
        dialect: Annotated[str, Field(description="postgres, mysql, mariadb, sqlite, tsql, ...")] = "postgres",
        connection: Annotated[
            str | None, Field(description="use this connection's schema (types, nullability, indexes)")
        ] = None,
    ) -> QueryReview:
        """Review SQL statically: SELECT *, NOT IN with NULLs, non-sargable predicates, implicit casts,
        leading-wildcard LIKE, OFFSET paging, UPDATE/DELETE without WHERE, cartesian joins, N+1 patterns
        in a log (with the batched rewrite), and more — each with the rewrite. Nothing is executed.
        Guide: dbspecialist://guides/anti-patterns.
        """
        from dbspecialist.knowledge.queries.review import review_queries

        if not sql.strip():
            raise QueryError("`sql` is empty")
        schema = None
        search_path: list[str] | None = None
        if connection is not None:
            adapter = await state.registry.get(connection)
            schema = await adapter.introspect()
            if adapter.config.engine == "postgresql":
                search_path = await _search_path(adapter)
            if dialect == "postgres" and adapter.config.engine != "postgresql":
                dialect = {"mysql": "mysql", "sqlite": "sqlite"}.get(adapter.config.engine, dialect)
        return await asyncio.to_thread(review_queries, sql, dialect, schema=schema, search_path=search_path)

    # On a connection configured read_only = false, MySQL/MariaDB and MongoDB candidates are measured on a scratch
    # copy the advisor creates and drops: a write (never to the user's own tables), so the hint must say so.
    advisor_annotations = SCRATCH_WRITES if state.any_writable else READ_ONLY

    @mcp.tool(annotations=advisor_annotations, title="Recommend indexes (verified)")
    @tool_errors
    async def recommend_indexes(
        connection: Annotated[str, Field(description="the database to advise")],
        ctx: Context,
        queries: Annotated[list[str] | None, Field(description="the queries to optimise")] = None,
        use_workload: Annotated[bool, Field(description="take the top queries from pg_stat_statements")] = False,
        max_indexes: Annotated[int, Field(ge=1, le=50, description="at most this many indexes")] = 5,
        max_total_bytes: Annotated[int | None, Field(ge=1, description="size budget for all new indexes")] = None,
    ) -> IndexAdvice:
        """Recommend indexes for queries (or the live workload) and verify them before recommending.

        PostgreSQL: every candidate is tested with HypoPG (hypothetical indexes, plain EXPLAIN) and kept
        only where a query of cost >= 100 gains >= 50 %; SQLite: verified on an in-memory copy of the
        schema; MySQL/MariaDB and MongoDB (ESR rule): measured on a bounded scratch copy when the connection is
        configured read_only = false, otherwise unverified with the reasoning.
        Each recommendation has the queries it helps, cost before/after, size and the CREATE INDEX.
        Guide: dbspecialist://guides/indexing.
        """
        from dbspecialist.adapters.index_advisor import recommend

        if not queries and not use_workload:
            raise QueryError("give `queries` (a list of SQL statements) or use_workload=true")
        adapter = await state.registry.get(connection)

        async def progress(done: float, total: float, message: str) -> None:
            await ctx.report_progress(done, total, message)

        return await recommend(
            adapter,
            queries,
            use_workload=use_workload,
            max_indexes=max_indexes,
            max_total_bytes=max_total_bytes,
            progress=progress,
        )


SEARCH_PATH_SQL = "SELECT pg_catalog.unnest(pg_catalog.current_schemas(false))"


async def _search_path(adapter: Any) -> list[str] | None:
    """The schemas the connection resolves unqualified names through, in order (None when it cannot be read)."""
    try:
        result = await adapter.run_read_only(
            SEARCH_PATH_SQL, max_rows=100, max_bytes=100_000, timeout_ms=adapter.config.options.statement_timeout_ms
        )
    except DBSpecialistError:
        return None
    return [str(row[0]) for row in result.rows if row and row[0]] or None


def _plan_engine(adapter_engine: str, flavor: str | None) -> str:
    if adapter_engine == "mysql" and flavor == "mariadb":
        return "mariadb"
    return adapter_engine
