"""`dbspecialist`: serve the MCP server (stdio or HTTP), run the demo, or run an engine (review, tune, migrations).

Heavy modules (the MCP SDK, drivers, rich) are imported inside the commands that need them,
so `--help` and config errors are instant.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from dbspecialist import __version__

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765


def _add_connection_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", type=Path, metavar="FILE", help='TOML file with [connections.NAME] url = "..." tables'
    )
    parser.add_argument(
        "--db",
        action="append",
        default=[],
        metavar="NAME=URL",
        help="add a connection (repeatable); overrides the config file and DBSPECIALIST_DB_<NAME>",
    )
    parser.add_argument("--log-level", choices=["DEBUG", "INFO", "WARNING", "ERROR"], type=str.upper)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dbspecialist",
        description="An MCP server that gives your assistant a senior database specialist.",
    )
    parser.add_argument("--version", action="version", version=f"dbspecialist {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the MCP server (stdio by default, --http for remote clients)")
    _add_connection_options(serve)
    serve.add_argument("--http", action="store_true", help="serve Streamable HTTP at /mcp and SSE at /sse")
    serve.add_argument("--host", default=DEFAULT_HOST, help=f"HTTP bind address (default {DEFAULT_HOST})")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"HTTP port (default {DEFAULT_PORT})")
    serve.add_argument("--auth-token", help="bearer token required on HTTP (or DBSPECIALIST_AUTH_TOKEN)")
    serve.add_argument(
        "--allowed-host",
        action="append",
        default=[],
        metavar="HOST[:PORT|:*]",
        help="accept this Host header too (repeatable; loopback names are always accepted)",
    )
    serve.add_argument(
        "--allowed-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="accept this Origin header too, e.g. https://app.example.com (repeatable)",
    )

    demo = commands.add_parser("demo", help="start the server, call every tool with a real client, print a report")
    _add_connection_options(demo)

    review = commands.add_parser(
        "review-schema",
        help="review DDL (a file or stdin) or a live database; exit 1 on findings at or above --fail-on",
    )
    review.add_argument("file", nargs="?", help="DDL file, or - for stdin (omit with --db)")
    review.add_argument("--db", metavar="URL", help="review a live database instead (URL, or NAME=URL)")
    review.add_argument(
        "--dialect",
        default="postgres",
        help="DDL dialect: postgres, mysql, mariadb, sqlite, tsql, clickhouse, snowflake, bigquery",
    )
    review.add_argument("--format", choices=["text", "json", "sarif"], default="text")
    review.add_argument(
        "--fail-on",
        choices=["critical", "high", "medium", "low", "info", "never"],
        default="high",
        help="exit 1 when a finding at or above this severity exists (default high)",
    )
    review.add_argument(
        "--min-severity", choices=["critical", "high", "medium", "low", "info"], default="low", help="hide below this"
    )
    review.add_argument("--table", action="append", dest="tables", metavar="NAME", help="only these tables")

    tune = commands.add_parser("tune", help="recommend server settings with a memory budget that fits in RAM")
    tune.add_argument(
        "--engine", required=True, choices=["postgres", "mysql", "mariadb", "sqlite", "mongodb", "redis", "pgbouncer"]
    )
    tune.add_argument("--ram", required=True, help="machine RAM, e.g. 64GB, 512MB or 16 (GB)")
    tune.add_argument("--cpus", required=True, type=int)
    tune.add_argument("--storage", choices=["hdd", "ssd", "nvme", "san"], default="ssd")
    tune.add_argument(
        "--workload", choices=["web", "oltp", "dw", "mixed", "desktop", "cache", "persistent", "queue"], default=None
    )
    tune.add_argument("--max-connections", type=int)
    tune.add_argument("--version", dest="server_version", help="server version, e.g. 16 or 8.0.36")
    tune.add_argument("--db-size", help="data size, e.g. 200GB")
    tune.add_argument("--os", choices=["linux", "windows", "macos"], default="linux")
    tune.add_argument("--db", metavar="URL", help="compare with and audit a live server (URL or NAME=URL)")
    tune.add_argument("--format", choices=["text", "json", "conf"], default="text")

    from dbspecialist.cli_migrations import add_migration_commands

    add_migration_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from dbspecialist.errors import ConfigError, DBSpecialistError
    from dbspecialist.redaction import redact

    try:
        if args.command == "serve":
            return _serve(args)
        if args.command == "review-schema":
            from dbspecialist.cli_review import review_schema_command

            return review_schema_command(args)
        if args.command == "tune":
            from dbspecialist.cli_tune import tune_command

            return tune_command(args)
        if args.command == "lint-migration":
            from dbspecialist.cli_migrations import lint_migration_command

            return lint_migration_command(args)
        if args.command == "plan-migration":
            from dbspecialist.cli_migrations import plan_migration_command

            return plan_migration_command(args)
        return _demo(args)
    except ConfigError as exc:
        print(f"dbspecialist: configuration error: {redact(str(exc))}", file=sys.stderr)
        return 2
    except DBSpecialistError as exc:
        print(f"dbspecialist: error: {redact(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _settings_and_connections(args: argparse.Namespace, default_level: str | None = None):  # type: ignore[no-untyped-def]
    from dbspecialist.config import ConnectionSet, ServerSettings, load_connections
    from dbspecialist.logs import setup_logging
    from dbspecialist.redaction import register_secret
    from dbspecialist.sample import sample_connection

    settings = ServerSettings()
    register_secret(settings.auth_token)
    setup_logging(args.log_level or default_level or settings.log_level)
    connections: ConnectionSet = load_connections(config_path=args.config or settings.config, cli_dbs=args.db)
    if not len(connections):
        sample = sample_connection(settings.cache_dir)
        connections.connections[sample.name] = sample
    return settings, connections


def _serve(args: argparse.Namespace) -> int:
    import gc
    import logging

    # Start-up builds many long-lived objects (tool schemas, models) and no garbage worth a collection: collect
    # nothing until the server is built, then move what it built out of the collector's way (~40 ms at start-up).
    gc.disable()

    from dbspecialist.redaction import register_secret

    settings, connections = _settings_and_connections(args)
    token = args.auth_token or settings.auth_token
    register_secret(token)
    log = logging.getLogger("dbspecialist")
    from dbspecialist.server.app import build_server
    from dbspecialist.server.state import ServerState

    state = ServerState.from_connections(connections)
    try:
        mcp = build_server(state)
    finally:
        gc.freeze()
        gc.enable()
    log.info("connections: %s", ", ".join(f"{c.name} ({c.engine})" for c in connections))
    if not args.http:
        import anyio

        async def run_stdio() -> None:
            try:
                await mcp.run_stdio_async()
            finally:
                await state.registry.close()

        anyio.run(run_stdio)
        return 0

    import uvicorn

    from dbspecialist.server.http import build_http_app

    app = build_http_app(
        mcp,
        state,
        host=args.host,
        auth_token=token,
        allowed_hosts=args.allowed_host,
        allowed_origins=args.allowed_origin,
    )
    log.info(
        "serving Streamable HTTP at http://%s:%d/mcp and SSE at /sse (auth: %s)",
        args.host,
        args.port,
        "bearer token" if token else "none, loopback only",
    )
    level = (args.log_level or settings.log_level).lower()
    # log_config=None: uvicorn's loggers go through our stderr handler (with redaction), never stdout.
    uvicorn.run(app, host=args.host, port=args.port, log_level=level, log_config=None, access_log=level == "debug")
    return 0


def _demo(args: argparse.Namespace) -> int:
    import anyio

    from dbspecialist.demo import render_report, run_demo

    _settings, connections = _settings_and_connections(args, default_level="WARNING")
    report = anyio.run(run_demo, connections)
    render_report(report)
    return 0 if report.ok else 1


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
