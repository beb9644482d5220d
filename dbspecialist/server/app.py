"""Build the one MCPServer named `dbspecialist`."""

from __future__ import annotations

from mcp.server import MCPServer

from dbspecialist import __version__
from dbspecialist.server.errors import DBSpecialistServer
from dbspecialist.server.prompts import register_prompts
from dbspecialist.server.resources import register_resources
from dbspecialist.server.state import ServerState
from dbspecialist.server.tools import register_review_tools, register_tools
from dbspecialist.server.tools_health import register_health_tools
from dbspecialist.server.tools_migrations import register_migration_tools
from dbspecialist.server.tools_plans import register_query_tools
from dbspecialist.server.tools_tuning import register_tuning_tools

INSTRUCTIONS = """\
dbspecialist is a senior database specialist for PostgreSQL, MySQL/MariaDB, SQLite, MongoDB and Redis.
Reach for it when the user shares a schema file or DDL, asks why a query is slow, wants indexes,
plans a migration or a column change on a big table, asks about scaling, or tunes server config.
Start with list_connections to see which databases are configured (a bundled SQLite sample shop
called `sample` is there when none is), describe_schema to learn tables, columns, keys and indexes,
and run_query for read-only SQL. explain_query analyses a plan (pasted, or run on a connection);
review_query reviews SQL statically (a whole log too, with N+1 detection); recommend_indexes proposes
indexes and verifies them with hypothetical indexes first; review_schema reviews pasted DDL or a live
schema; tune_config computes server settings from RAM, CPUs, storage and workload with a memory budget
that proves they fit (and audits a live server); plan_migration turns a schema change (or a target schema)
into a phased zero-downtime plan with each step's lock, duration and rollback, and lint_migration checks a
migration file for locking and safety risks. check_health interprets live statistics into findings, top_queries
lists the most expensive statements with the next tool to call, and plan_capacity answers "can it handle 10x?".
Guides (dbspecialist://guides) and prompts cover the common jobs. Every connection is read-only unless configured
otherwise. Give specific, measured advice with the exact SQL to apply it.
"""


def build_server(state: ServerState) -> MCPServer:
    mcp: MCPServer = DBSpecialistServer(
        "dbspecialist",
        title="dbspecialist",
        description="A database specialist: schema, queries, plans, indexes, migrations, tuning.",
        instructions=INSTRUCTIONS,
        version=__version__,
        website_url="https://github.com/dbspecialist/dbspecialist",
    )
    register_tools(mcp, state)
    register_review_tools(mcp, state)
    register_query_tools(mcp, state)
    register_tuning_tools(mcp, state)
    register_migration_tools(mcp, state)
    register_health_tools(mcp, state)
    register_resources(mcp, state)
    register_prompts(mcp)
    return mcp
