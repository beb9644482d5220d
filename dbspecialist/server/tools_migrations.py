"""Migration tools: plan_migration (phased zero-downtime plan) and lint_migration (risks in a migration file)."""

# No `from __future__ import annotations` here: the SDK resolves each tool's annotations three times at start-up,
# and real objects need no evaluation where strings are compiled and evaluated each time (~0.6 ms a tool).

import asyncio
import json
from typing import Annotated, Any, Literal

from mcp.server import MCPServer
from pydantic import Field

from dbspecialist.errors import QueryError
from dbspecialist.knowledge.migrations.model import LintReport, MigrationInputError, MigrationPlan
from dbspecialist.server.errors import tool_errors
from dbspecialist.server.state import ServerState
from dbspecialist.server.tools import READ_ONLY

MigrationDialectArg = Literal["postgres", "mysql", "mariadb", "sqlite", "mongodb"]


def dialects_for_engine(engine: str) -> tuple[str, ...]:
    """The dialects a plan for a connection of `engine` may use: the inverse of the planner's dialect → engine map.

    The planner is imported here, on the first call, not at start-up.
    """
    from dbspecialist.knowledge.migrations.plan import ENGINE_OF

    return tuple(dialect for dialect, of in ENGINE_OF.items() if of == engine)


def register_migration_tools(mcp: MCPServer, state: ServerState) -> None:
    @mcp.tool(annotations=READ_ONLY, title="Plan a zero-downtime migration")
    @tool_errors
    async def plan_migration(
        change: Annotated[
            str | dict[str, Any] | list[Any] | None,
            Field(description="the statements to apply (MongoDB: JSON commands: createIndexes, collMod, update...)"),
        ] = None,
        target_ddl: Annotated[
            str | None, Field(description="the desired schema; diffed against `connection` or `current_ddl`")
        ] = None,
        connection: Annotated[
            str | None, Field(description="live database: current schema, table sizes and server version")
        ] = None,
        current_ddl: Annotated[str | None, Field(description="the current schema as DDL (offline)")] = None,
        dialect: Annotated[
            MigrationDialectArg | None, Field(description="postgres (default), mysql, mariadb, sqlite, mongodb")
        ] = None,
        version: Annotated[str | None, Field(description="server version, e.g. '16' or '8.0.36'")] = None,
        table_stats: Annotated[
            dict[str, dict[str, int]] | None,
            Field(description='table sizes, e.g. {"orders": {"rows": 400000000, "bytes": 85899345920}}'),
        ] = None,
    ) -> MigrationPlan:
        """Turn a schema change into a phased zero-downtime plan: expand → backfill → validate → switch → contract.

        Every step has the exact SQL, the lock it takes and whether it blocks reads or writes, whether it rewrites
        or scans the table or touches only metadata, whether it may run in a transaction, an estimated duration from
        the table size (throughput stated), rollback SQL, and the timeout preamble with retry guidance. Application
        deploy steps are named. Risky parts of the change as written come back as findings with stable rule ids.
        Version-gated (PostgreSQL 11/12/14/18, MySQL 8.0.12/8.0.29, MariaDB); MySQL big-table copies get a gh-ost or
        pt-online-schema-change command. Guide: dbspecialist://guides/zero-downtime-migrations (rules: MIG*).
        """
        from dbspecialist.knowledge.migrations.plan import plan_migration as plan

        if isinstance(change, dict | list):  # the SDK decodes JSON-looking text: a MongoDB change arrives decoded
            change = json.dumps(change)
        catalog = None
        if connection is not None:
            if current_ddl is not None:
                raise QueryError("give either `connection` or `current_ddl` as the current schema, not both")
            adapter = await state.registry.get(connection)
            engine = adapter.config.engine
            allowed = dialects_for_engine(engine)
            if not allowed:
                raise QueryError(f"connection {connection!r} is {engine}: migrations are planned for SQL and MongoDB")
            server_version = await adapter.server_version()
            if dialect is None:
                dialect = "mariadb" if "mariadb" in server_version.lower() else allowed[0]  # type: ignore[assignment]
            elif dialect not in allowed:
                raise QueryError(f"connection {connection!r} is {engine}, but dialect={dialect!r} was asked")
            version = version or server_version
            catalog = await adapter.introspect()
        try:
            return await asyncio.to_thread(
                plan,
                change,
                target_ddl=target_ddl,
                current_ddl=current_ddl,
                catalog=catalog,
                dialect=dialect or "postgres",
                version=version,
                table_stats=table_stats,
            )
        except MigrationInputError as exc:
            raise QueryError(str(exc)) from None

    @mcp.tool(annotations=READ_ONLY, title="Lint a migration for locking and safety risks")
    @tool_errors
    async def lint_migration(
        sql: Annotated[str, Field(description="the migration file's SQL (several statements, BEGIN/COMMIT allowed)")],
        dialect: Annotated[
            Literal["postgres", "mysql", "mariadb", "sqlite"], Field(description="SQL dialect of the migration")
        ] = "postgres",
        version: Annotated[str | None, Field(description="server version the migration will run on")] = None,
        include: Annotated[
            list[str] | None, Field(description="opt-in rules to run too, e.g. ['MIG036'] (require a schema)")
        ] = None,
        assume_in_transaction: Annotated[
            bool, Field(description="the migration tool wraps the file in a transaction (Rails, Django, Flyway)")
        ] = False,
    ) -> LintReport:
        """Find what will lock, rewrite or break in a migration before it runs: squawk's rules and strong_migrations'
        checks under stable MIG rule ids, transaction-aware (CONCURRENTLY inside BEGIN, locks accumulated by one
        transaction), version-aware, each with the safe rewrite as SQL. `-- dbspecialist:ignore MIG0xx` above a
        statement silences a rule for it. For the step-by-step safe plan, call plan_migration.
        Guide: dbspecialist://guides/zero-downtime-migrations (rules: MIG*).
        """
        from dbspecialist.knowledge.migrations.lint import lint_migration as lint

        try:
            return await asyncio.to_thread(
                lambda: lint(sql, dialect, version, include=include or (), assume_in_transaction=assume_in_transaction)
            )
        except MigrationInputError as exc:
            raise QueryError(str(exc)) from None
