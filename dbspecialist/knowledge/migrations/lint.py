"""lint_migration: a migration file → risk findings with stable rule ids, for PostgreSQL, MySQL/MariaDB and SQLite.

PostgreSQL is linted by lint_rules_postgres (squawk's rules and more, transaction- and version-aware); MySQL and
MariaDB by lint_rules_mysql; SQLite by lint_rules_sqlite. Every dialect honours inline suppression
(`-- dbspecialist:ignore MIG001, MIG010` or `ignore all`, see suppress.py). Findings are sorted by severity, rule id
and subject, so the same input always gives the same report.
"""

from __future__ import annotations

import importlib
from collections.abc import Collection
from typing import Any, Final

from dbspecialist.adapters.catalog import Catalog
from dbspecialist.knowledge.findings import Finding, Report, Severity
from dbspecialist.knowledge.migrations.model import LintReport, MigrationInputError
from dbspecialist.knowledge.migrations.suppress import apply_suppressions
from dbspecialist.knowledge.migrations.versions import Version, parse_version, version_text

MAX_MIGRATION_CHARS: Final = 5_000_000
DIALECTS: Final[dict[str, str]] = {
    "postgres": "postgres",
    "postgresql": "postgres",
    "pg": "postgres",
    "mysql": "mysql",
    "mariadb": "mariadb",
    "sqlite": "sqlite",
    "sqlite3": "sqlite",
}


def lint_migration(
    sql: str,
    dialect: str = "postgres",
    version: str | None = None,
    *,
    min_severity: Severity = Severity.INFO,
    include: Collection[str] = (),
    assume_in_transaction: bool = False,
    catalog: Catalog | None = None,
) -> LintReport:
    """Lint a migration. `version` like "16" or "14.2" (None: the dialect's assumed default, stated in evidence).

    `include` names opt-in rules to run as well (ids or names, e.g. ["MIG036"]). `assume_in_transaction`
    (PostgreSQL): the migration tool wraps the file in a transaction, as Rails, Django and Flyway do by default.
    """
    if not isinstance(sql, str):
        raise MigrationInputError("the migration must be SQL text")
    canonical = DIALECTS.get(str(dialect).strip().lower())
    if canonical is None:
        raise MigrationInputError(f"cannot lint dialect {dialect!r}; accepted: postgres, mysql, mariadb, sqlite")
    if len(sql) > MAX_MIGRATION_CHARS:
        raise MigrationInputError(
            f"the migration is {len(sql):,} characters; the limit is {MAX_MIGRATION_CHARS:,} — split it into files"
        )
    parsed, given = parse_version(version, canonical)
    count, findings, errors, rules_run = _run(sql, canonical, parsed, given, include, assume_in_transaction, catalog)
    wanted = [f for f in findings if f.severity.at_least(min_severity)]
    kept, suppressed = apply_suppressions(wanted, sql, canonical)
    report = Report.of(kept, rules_run=rules_run, min_severity=min_severity)
    return LintReport(
        dialect=canonical,
        version=version_text(parsed, canonical),
        statements=count,
        rules_run=rules_run,
        counts=report.counts,
        findings=report.findings,
        suppressed=suppressed,
        parse_errors=errors,
    )


def _run(
    sql: str,
    dialect: str,
    version: Version,
    given: bool,
    include: Collection[str],
    assume_in_transaction: bool,
    catalog: Catalog | None,
) -> tuple[int, list[Finding], list[str], int]:
    """(statements, findings, parse errors, rules run) from the dialect's linter."""
    if dialect == "postgres":
        from dbspecialist.knowledge.migrations.lint_rules_postgres import enabled_rules, lint_postgres

        count, findings, errors = lint_postgres(
            sql,
            version,
            version_given=given,
            include=include,
            assume_in_transaction=assume_in_transaction,
            catalog=catalog,
        )
        return count, findings, errors, len(enabled_rules(include))
    if dialect in ("mysql", "mariadb"):
        mysql: Any = importlib.import_module("dbspecialist.knowledge.migrations.lint_rules_mysql")
        count, findings, errors = mysql.lint_mysql(sql, version, dialect, catalog=catalog)
        return count, findings, errors, len(mysql.RULES)
    try:
        sqlite: Any = importlib.import_module("dbspecialist.knowledge.migrations.lint_rules_sqlite")
    except ImportError:
        raise MigrationInputError("SQLite linting is not available") from None
    count, findings, errors = sqlite.lint_sqlite(sql, version)
    return count, findings, errors, len(sqlite.RULES)
