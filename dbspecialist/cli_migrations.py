"""`dbspecialist lint-migration` and `plan-migration`: the migration engines for people and CI pipelines."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Final

from dbspecialist.errors import ConfigError

if TYPE_CHECKING:
    from dbspecialist.knowledge.findings import Finding
    from dbspecialist.knowledge.migrations.model import LintReport, MigrationPlan


def add_migration_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    lint = commands.add_parser(
        "lint-migration",
        help="lint migration files for locking and safety risks; exit 1 on findings at or above --fail-on",
    )
    lint.add_argument("files", nargs="+", metavar="FILE", help="migration SQL files (- for stdin)")
    lint.add_argument("--dialect", choices=["postgres", "mysql", "mariadb", "sqlite"], default="postgres")
    lint.add_argument("--version", dest="server_version", help="server version the migration runs on, e.g. 16")
    lint.add_argument("--format", choices=["text", "json", "sarif"], default="text")
    lint.add_argument(
        "--include", action="append", default=[], metavar="RULE", help="also run an opt-in rule, e.g. MIG036"
    )
    lint.add_argument(
        "--assume-in-transaction",
        action="store_true",
        help="the migration tool wraps each file in a transaction (Rails, Django, Flyway do by default)",
    )
    lint.add_argument(
        "--fail-on",
        choices=["critical", "high", "medium", "low", "info", "never"],
        default="high",
        help="exit 1 when a finding at or above this severity exists (default high)",
    )

    plan = commands.add_parser("plan-migration", help="turn a change into a phased zero-downtime plan")
    plan.add_argument("file", help="the change: SQL statements (MongoDB: JSON commands), or - for stdin")
    plan.add_argument("--dialect", choices=["postgres", "mysql", "mariadb", "sqlite", "mongodb"], default="postgres")
    plan.add_argument("--version", dest="server_version", help="server version, e.g. 16 or 8.0.36")
    plan.add_argument("--current", metavar="DDL_FILE", help="current schema as DDL (FILE is then the target schema)")
    plan.add_argument(
        "--table-stats", metavar="JSON", help='table sizes, e.g. \'{"orders": {"rows": 400000000}}\' or @file.json'
    )
    plan.add_argument("--format", choices=["text", "json"], default="text")


def _read(path: str) -> str:
    try:
        return sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None


TABLE_STAT_KEYS: Final = ("rows", "bytes", "index_bytes")


def _check_version(dialect: str, version: str | None) -> None:
    """A --version that no server of the dialect has had is an error, not a label on the report."""
    if version is None:
        return
    from dbspecialist.knowledge.migrations.model import MigrationInputError
    from dbspecialist.knowledge.migrations.versions import DEFAULT_VERSIONS, parse_version

    try:
        parse_version(version, dialect if dialect in DEFAULT_VERSIONS else "postgres")
    except MigrationInputError as exc:
        raise ConfigError(f"--version: {exc}") from None


def _check_table_stats(stats: dict[str, object]) -> None:
    """Each table's sizes are whole numbers of at least 0 (the planner names unknown keys itself)."""
    for table, sizes in stats.items():
        if not isinstance(sizes, dict):
            continue
        for key in TABLE_STAT_KEYS:
            value = sizes.get(key)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ConfigError(
                    f"--table-stats: {table}.{key} must be a whole number of at least 0 (got {json.dumps(value)})"
                )


def lint_migration_command(args: argparse.Namespace) -> int:
    """Exit codes: 0 clean (below --fail-on), 1 findings at or above --fail-on, 2 unreadable or unparseable input."""
    from dbspecialist.knowledge.findings import Severity
    from dbspecialist.knowledge.migrations.lint import lint_migration
    from dbspecialist.knowledge.migrations.model import MigrationInputError

    _check_version(args.dialect, args.server_version)
    reports: list[tuple[str, LintReport]] = []
    for path in args.files:
        try:
            report = lint_migration(
                _read(path),
                args.dialect,
                args.server_version,
                include=args.include,
                assume_in_transaction=args.assume_in_transaction,
            )
        except MigrationInputError as exc:
            raise ConfigError(f"{path}: {exc}") from None
        reports.append(("stdin" if path == "-" else path, report))
    if args.format == "json":
        print(json.dumps([{"file": name, **report.model_dump(mode="json")} for name, report in reports], indent=2))
    elif args.format == "sarif":
        print(_sarif(reports))
    else:
        _print_lint(reports)
    if any(report.parse_errors for _name, report in reports):
        return 2  # part of a file was not linted: a pipeline must not pass it
    if args.fail_on == "never":
        return 0
    threshold = Severity(args.fail_on)
    return 1 if any(f.severity.at_least(threshold) for _name, r in reports for f in r.findings) else 0


def _sarif(reports: list[tuple[str, LintReport]]) -> str:
    from dbspecialist.knowledge.rule_docs import all_rules
    from dbspecialist.render import sarif_document

    specs = {spec.id: spec for spec, _check in all_rules()}
    located: list[tuple[Finding, str]] = [
        (finding, "migration.sql" if name == "stdin" else name)
        for name, report in reports
        for finding in report.findings
    ]
    counts: dict[str, int] = {}
    for _name, report in reports:
        for severity, count in report.counts.items():
            counts[severity] = counts.get(severity, 0) + count
    return sarif_document(located, specs, tags=["database", "migration"], properties={"counts": counts})


def _print_lint(reports: list[tuple[str, LintReport]]) -> None:
    from rich.console import Console
    from rich.markup import escape

    from dbspecialist.render import print_findings

    console = Console()
    for name, report in reports:
        counts = ", ".join(f"{n} {s}" for s, n in report.counts.items() if n)
        suppressed = f", {report.suppressed} suppressed" if report.suppressed else ""
        console.print(
            f"[bold]Migration lint[/] of {escape(name)} ({report.dialect} {report.version or ''}): "
            f"{report.statements} statements, {report.rules_run} rules, {counts or 'no findings'}{suppressed}"
        )
        for error in report.parse_errors:
            console.print(f"[yellow]parse error[/] {escape(error)}")
        print_findings(console, report.findings)


def plan_migration_command(args: argparse.Namespace) -> int:
    """Exit codes: 0 a plan was printed, 2 unreadable or invalid input."""
    from dbspecialist.knowledge.migrations.model import MigrationInputError
    from dbspecialist.knowledge.migrations.plan import plan_migration

    text = _read(args.file)
    stats = None
    if args.table_stats:
        raw = _read(args.table_stats[1:]) if args.table_stats.startswith("@") else args.table_stats
        try:
            stats = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"--table-stats is not JSON: {exc}") from None
        if not isinstance(stats, dict):
            raise ConfigError('--table-stats must be a JSON object like {"orders": {"rows": 400000000}}')
        _check_table_stats(stats)
    _check_version(args.dialect, args.server_version)
    try:
        if args.current:
            plan = plan_migration(
                target_ddl=text,
                current_ddl=_read(args.current),
                dialect=args.dialect,
                version=args.server_version,
                table_stats=stats,
            )
        else:
            plan = plan_migration(text, dialect=args.dialect, version=args.server_version, table_stats=stats)
    except MigrationInputError as exc:
        raise ConfigError(str(exc)) from None
    if args.format == "json":
        print(plan.model_dump_json(indent=2))
    else:
        print_plan(plan)
    return 0


def print_plan(plan: MigrationPlan) -> None:
    """The plan as a runbook: phases, each step's SQL, lock, effect, estimate, rollback."""
    from rich.console import Console
    from rich.markup import escape
    from rich.syntax import Syntax

    from dbspecialist.render import print_findings

    console = Console()
    console.print(f"[bold]Migration plan[/] ({plan.dialect} {plan.version})")
    console.print(escape(plan.summary))
    phase = None
    for step in plan.steps:
        if step.phase != phase:
            phase = step.phase
            console.rule(f"[bold]{phase.upper()}[/]")
        console.print(f"[bold]{step.number}.[/] {escape(step.title)}")
        facts = [f"effect: {step.table_effect}", "in a transaction: " + ("yes" if step.transactional else "no")]
        if step.lock is not None:
            facts.insert(0, f"lock: {step.lock.mode} (blocks {step.lock.blocks}; held {step.lock.held})")
        if step.estimate is not None:
            seconds = "unknown" if step.estimate.seconds is None else f"{step.estimate.seconds:g} s"
            facts.append(f"estimate: {seconds} ({step.estimate.basis})")
        for fact in facts:
            console.print(f"    {escape(fact)}")
        body = [*step.preamble, *step.sql]
        if body:
            console.print(Syntax("\n".join(body), "sql", padding=(0, 4), theme="ansi_dark", word_wrap=True))
        if step.command:
            console.print(Syntax(step.command, "bash", padding=(0, 4), theme="ansi_dark", word_wrap=True))
        if step.retry:
            console.print(f"    retry: {escape(step.retry)}")
        if step.rollback:
            console.print("    rollback:" if step.reversible else "    rollback (partial):")
            console.print(Syntax("\n".join(step.rollback), "sql", padding=(0, 6), theme="ansi_dark", word_wrap=True))
        elif not step.reversible:
            console.print("    [red]irreversible[/]")
        for note in step.notes:
            console.print(f"    [dim]{escape(note)}[/]")
    if plan.findings:
        console.rule("[bold]Risks in the change as written[/]")
        print_findings(console, plan.findings)
    for assumption in plan.assumptions:
        console.print(f"[dim]assumption: {escape(assumption)}[/]")
    if plan.backfill_script:
        console.rule("[bold]Backfill script[/]")
        console.print(Syntax(plan.backfill_script, "python", theme="ansi_dark", word_wrap=True))
