"""`dbspecialist review-schema`: the schema review for people (text) and pipelines (JSON, SARIF)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dbspecialist.errors import ConfigError, DBSpecialistError
from dbspecialist.knowledge.findings import Severity
from dbspecialist.knowledge.schema.review import SchemaReview


def review_schema_command(args: argparse.Namespace) -> int:
    """Exit codes: 0 clean (below --fail-on), 1 findings at or above --fail-on, 2 usage/config error
    or DDL of which no table could be parsed (the output, with its parse warnings, is still printed)."""
    if (args.file is None) == (args.db is None):
        raise ConfigError("give a DDL file (or - for stdin) or --db URL, not both")
    severity = Severity(args.min_severity)
    if args.db is not None:
        try:
            review, source = _review_live(args.db, severity, args.tables)
        except ValueError as exc:  # an unknown table in --tables
            raise ConfigError(str(exc)) from None
    else:
        source = "stdin" if args.file == "-" else args.file
        try:
            text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read {args.file}: {exc}") from None
        from dbspecialist.knowledge.schema.review import review_ddl

        try:
            review = review_ddl(text, dialect=args.dialect, min_severity=severity, tables=args.tables)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
    from dbspecialist import render

    if args.format == "json":
        print(render.format_json(review))
    elif args.format == "sarif":
        print(render.format_sarif(review, artifact_uri=source if source != "stdin" else "schema.sql"))
    else:
        render.print_text(review, source)
    if review.nothing_parsed():
        print(
            f"dbspecialist: no table could be parsed from {source} "
            f"({len(review.parse_warnings)} parse warnings; is --dialect {args.dialect or 'postgres'} right?)",
            file=sys.stderr,
        )
        return 2
    if args.fail_on == "never":
        return 0
    threshold = Severity(args.fail_on)
    return 1 if any(f.severity.at_least(threshold) for f in review.findings) else 0


def _review_live(db: str, severity: Severity, tables: list[str] | None) -> tuple[SchemaReview, str]:
    import anyio

    from dbspecialist.adapters.registry import AdapterRegistry
    from dbspecialist.config import parse_connection
    from dbspecialist.knowledge.schema.review import review_catalog
    from dbspecialist.logs import setup_logging

    setup_logging("WARNING")
    name, sep, url = db.partition("=")
    if not sep or "://" in name:
        name, url = "db", db
    config = parse_connection(name, url, source="--db")

    async def run() -> SchemaReview:
        registry = AdapterRegistry([config])
        try:
            adapter = await registry.get(config.name)
            catalog = await adapter.introspect()
            try:
                settings = {s.name: s.value for s in await adapter.settings() if s.value is not None}
            except DBSpecialistError:
                settings = {}
            return review_catalog(
                catalog,
                engine=config.engine,
                live=True,
                settings=settings,
                version=catalog.server_version,
                min_severity=severity,
                tables=tables,
            )
        finally:
            await registry.close()

    return anyio.run(run), config.redacted_url
