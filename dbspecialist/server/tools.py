"""The MCP tools: validate arguments, call an adapter, shape the result. No expertise here."""

# No `from __future__ import annotations` here: the SDK resolves each tool's annotations three times at start-up,
# and real objects need no evaluation where strings are compiled and evaluated each time (~0.6 ms a tool).

import asyncio
from typing import Annotated, Any, Literal

from mcp.server import MCPServer
from mcp.types import ToolAnnotations
from pydantic import Field

from dbspecialist.adapters.base import DatabaseAdapter
from dbspecialist.adapters.catalog import Catalog
from dbspecialist.errors import DBSpecialistError, QueryError
from dbspecialist.knowledge.findings import Severity
from dbspecialist.knowledge.schema.review import SchemaReview
from dbspecialist.redaction import redact
from dbspecialist.server.errors import tool_errors
from dbspecialist.server.models import ConnectionInfo, ConnectionList, QueryOutput, SchemaDescription
from dbspecialist.server.schema_view import describe
from dbspecialist.server.state import ServerState

# Annotations come from a tool's kind, in one place.
READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False)
SCRATCH_WRITES = ToolAnnotations(
    read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=False
)
WRITES_POSSIBLE = ToolAnnotations(
    read_only_hint=False, destructive_hint=True, idempotent_hint=False, open_world_hint=False
)
VERSION_TIMEOUT_S = 5.0


def register_tools(mcp: MCPServer, state: ServerState) -> None:
    """Register the connection tools on `mcp`, bound to `state`."""

    @mcp.tool(annotations=READ_ONLY, title="List database connections")
    @tool_errors
    async def list_connections() -> ConnectionList:
        """List the databases this server can reach: name, engine, masked URL, server version, read-only flag.

        Call this first to learn which `connection` names the other tools accept. A connection
        whose server is down is listed with status "unavailable" and the reason.
        Guide: dbspecialist://guides/connection-management.
        """
        return ConnectionList(
            connections=list(await asyncio.gather(*(_info(state, c.name) for c in state.connections)))
        )

    @mcp.tool(annotations=READ_ONLY, title="Describe a database schema")
    @tool_errors
    async def describe_schema(
        connection: Annotated[str, Field(description="connection name from list_connections")],
        schema: Annotated[str | None, Field(description="only this schema (e.g. 'public'; SQLite: 'main')")] = None,
        tables: Annotated[list[str] | None, Field(description="only these tables (names, case-sensitive)")] = None,
        detail: Annotated[
            Literal["summary", "full"],
            Field(description="'summary': compact columns/keys/indexes; 'full': every catalog attribute"),
        ] = "summary",
        offset: Annotated[int, Field(ge=0, description="skip this many tables (paging; see next_offset)")] = 0,
    ) -> SchemaDescription:
        """Describe tables: columns (type, nullable, default), primary key, foreign keys, indexes, row estimates.

        Use it before writing or reviewing SQL against a database. Large catalogs come back compact
        and paged (`truncated`, `next_offset`, `note` say so); ask for specific `tables` to see them in full.
        Guide: dbspecialist://guides/modeling-patterns.
        """
        adapter = await state.registry.get(connection)
        catalog = await adapter.introspect(schema=schema, tables=tables)
        schema_note = None
        if schema is not None and not catalog.tables:
            schema_note = await _empty_schema_note(adapter, catalog, connection, schema)
        if tables:
            found = {t.name for t in catalog.tables}
            missing = [t for t in tables if t not in found]
            if missing and not found:
                raise QueryError(
                    f"no table named {', '.join(map(repr, missing))} in {connection!r}; "
                    "call describe_schema without `tables` to list them"
                )
        result = describe(adapter.config.name, catalog, detail=detail, offset=offset)
        if tables and (missing := [t for t in tables if t not in {x.name for x in catalog.tables}]):
            extra = f"Not found: {', '.join(missing)}."
            result = result.model_copy(update={"note": f"{result.note} {extra}" if result.note else extra})
        if schema_note:
            result = result.model_copy(update={"note": f"{result.note} {schema_note}" if result.note else schema_note})
        return result

    run_annotations = WRITES_POSSIBLE if state.any_writable else READ_ONLY

    @mcp.tool(annotations=run_annotations, title="Run a read-only query")
    @tool_errors
    async def run_query(
        connection: Annotated[str, Field(description="connection name from list_connections")],
        query: Annotated[
            str,
            Field(
                description="exactly one read statement: SQL (SELECT / WITH ... SELECT / VALUES / SHOW), "
                'MongoDB as JSON ({"find": "coll", "filter": {...}} or {"aggregate": "coll", "pipeline": [...]}), '
                "Redis as one command line (GET key, HGETALL key, SCAN 0 MATCH user:* COUNT 100)"
            ),
        ],
        params: Annotated[
            list[Any] | dict[str, Any] | None,
            Field(description="bind parameters: a list for ? / $1 placeholders, an object for :name"),
        ] = None,
        max_rows: Annotated[
            int | None, Field(ge=1, le=100_000, description="row cap (default: the connection's max_rows)")
        ] = None,
    ) -> QueryOutput:
        """Run one read-only query (SQL, a MongoDB command as JSON, or a Redis command) and return rows.

        The query is parsed first and refused unless it is a single read (no writes, DDL,
        transaction control, file access or settings changes); the database also enforces read-only.
        Rows stop at `max_rows` (or the byte cap) with `truncated=true`; long queries are stopped
        at the connection's statement timeout.
        Guide: dbspecialist://guides/query-optimization.
        """
        adapter = await state.registry.get(connection)
        options = adapter.config.options
        result = await adapter.run_read_only(
            query,
            params,
            max_rows=min(max_rows or options.max_rows, 100_000),
            max_bytes=options.max_bytes,
            timeout_ms=options.statement_timeout_ms,
        )
        return QueryOutput(connection=adapter.config.name, engine=adapter.config.engine, **result.model_dump())


DIALECTS = "postgres, mysql, mariadb, sqlite, tsql, clickhouse, snowflake, bigquery"


def register_review_tools(mcp: MCPServer, state: ServerState) -> None:
    """Expert tools over the knowledge engines."""

    @mcp.tool(annotations=READ_ONLY, title="Review a schema")
    @tool_errors
    async def review_schema(
        ddl: Annotated[
            str | None, Field(description="DDL text to review offline (pg_dump, mysqldump, .schema, ...)")
        ] = None,
        connection: Annotated[str | None, Field(description="review this live connection instead")] = None,
        dialect: Annotated[str, Field(description=f"dialect of `ddl`: {DIALECTS}")] = "postgres",
        tables: Annotated[
            list[str] | None,
            Field(description="only findings about these tables: 'orders' (every schema) or 'shop.orders'"),
        ] = None,
        min_severity: Annotated[
            Literal["critical", "high", "medium", "low", "info"], Field(description="drop findings below this")
        ] = "low",
        max_findings: Annotated[int, Field(ge=1, le=2000, description="most severe findings returned")] = 150,
    ) -> SchemaReview:
        """Review a schema like a senior DBA: keys, indexes, types, naming, normalisation, engine pitfalls.

        Give exactly one of `ddl` (offline: PostgreSQL via its real parser; MySQL/MariaDB, SQLite,
        SQL Server, ClickHouse, Snowflake, BigQuery via sqlglot) or `connection` (live: adds what
        only statistics show — unused/invalid indexes, sequence headroom, table sizes; MongoDB and
        Redis from their sampled documents and keys). Each finding has a stable rule_id, severity,
        evidence numbers, a rationale and the fix as runnable SQL/commands.
        Guide: dbspecialist://guides/normalization.
        """
        import asyncio

        from dbspecialist.knowledge.schema.review import review_catalog, review_ddl

        if (ddl is None) == (connection is None):
            raise QueryError("give exactly one of `ddl` (DDL text) or `connection` (a connection name)")
        severity = Severity(min_severity)
        if ddl is not None:
            if not ddl.strip():
                raise QueryError("`ddl` is empty; paste CREATE TABLE statements (or a pg_dump --schema-only file)")
            try:
                result = await asyncio.to_thread(review_ddl, ddl, dialect=dialect, min_severity=severity, tables=tables)
            except ValueError as exc:
                raise QueryError(str(exc)) from None
            if result.nothing_parsed():
                first = result.parse_warnings[0]
                raise QueryError(
                    f"no table could be read from `ddl` as {dialect}: {len(result.parse_warnings)} statement(s) "
                    f"failed to parse, the first at line {first.line} ({first.message}: {first.statement_start!r}). "
                    "Check `dialect`, or paste CREATE TABLE statements"
                )
            return result.capped(max_findings)
        assert connection is not None
        adapter = await state.registry.get(connection)
        catalog = await adapter.introspect()
        settings: dict[str, str] = {}
        try:
            settings = {s.name: s.value for s in await adapter.settings() if s.value is not None}
        except DBSpecialistError:
            settings = {}
        try:
            result = review_catalog(
                catalog,
                engine=adapter.config.engine,
                live=True,
                settings=settings,
                version=catalog.server_version,
                min_severity=severity,
                tables=tables,
            )
        except ValueError as exc:  # an unknown name in `tables`: the message lists the known ones
            raise QueryError(str(exc)) from None
        return result.capped(max_findings)


# The schemas (databases) a connection can see: a catalog read for one schema lists that one only. System
# schemas are left out of the list a user is shown.
_SCHEMA_LIST_SQL = {
    "postgresql": "SELECT nspname::text FROM pg_catalog.pg_namespace "
    "WHERE nspname <> 'information_schema' AND nspname NOT LIKE 'pg\\_%' ORDER BY 1",
    "mysql": "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA ORDER BY SCHEMA_NAME",
}
_SYSTEM_SCHEMAS = frozenset({"information_schema", "mysql", "performance_schema", "sys"})


async def _schema_names(adapter: DatabaseAdapter, catalog: Catalog) -> list[str] | None:
    """The user schemas of the connection, or None when they cannot be listed."""
    query = _SCHEMA_LIST_SQL.get(catalog.engine)
    if query is None:
        return None
    options = adapter.config.options
    try:
        listed = await adapter.run_read_only(
            query, max_rows=1000, max_bytes=options.max_bytes, timeout_ms=options.statement_timeout_ms
        )
    except DBSpecialistError:
        return None
    return [str(row[0]) for row in listed.rows if row and str(row[0]).lower() not in _SYSTEM_SCHEMAS]


async def _empty_schema_note(adapter: DatabaseAdapter, catalog: Catalog, connection: str, schema: str) -> str:
    """Why describe_schema(schema=...) found no table: the schema is empty (a note) or does not exist (an error)."""
    if schema in catalog.schemas and catalog.engine == "postgresql":  # PostgreSQL lists only schemas that exist
        return f"Schema {schema!r} exists but has no tables or views this connection can see."
    names = await _schema_names(adapter, catalog)
    if names is None:
        return f"No tables in schema {schema!r}: it is empty, does not exist, or this connection cannot see it."
    if schema in names:
        return f"Schema {schema!r} exists but has no tables or views this connection can see."
    similar = [n for n in names if n.lower() == schema.lower()]
    hint = f" (names are case-sensitive: did you mean {similar[0]!r}?)" if similar else ""
    shown = ", ".join(map(repr, names[:50])) + (f" and {len(names) - 50} more" if len(names) > 50 else "")
    raise QueryError(
        f"no schema named {schema!r} in {connection!r}{hint}; "
        + (f"the schemas it can see: {shown}" if names else "it can see no user schema")
    )


async def _info(state: ServerState, name: str) -> ConnectionInfo:
    config = state.registry.config(name)
    version: str | None = None
    error: str | None = None
    try:
        adapter = await state.registry.get(name)
        version = await asyncio.wait_for(adapter.server_version(), VERSION_TIMEOUT_S)
    except DBSpecialistError as exc:
        error = redact(str(exc))
    except TimeoutError:
        error = f"no answer from {config.host_port} within {VERSION_TIMEOUT_S:.0f} s"
    return ConnectionInfo(
        name=config.name,
        engine=config.engine,
        url=config.redacted_url,
        server_version=version,
        read_only=config.options.read_only,
        status="ok" if error is None else "unavailable",
        error=error,
        source=config.source,
        sample=config.is_sample,
    )
