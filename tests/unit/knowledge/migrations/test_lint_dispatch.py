"""lint_migration: dialect dispatch, versions, severity filter, suppression for every dialect, speed."""

from __future__ import annotations

import sys
import time
import types
from typing import Any

import pytest

from dbspecialist.knowledge.findings import Finding, RuleSpec, Severity
from dbspecialist.knowledge.migrations.lint import lint_migration
from dbspecialist.knowledge.migrations.lint_rules_postgres import RULES, enabled_rules
from dbspecialist.knowledge.migrations.model import MigrationInputError

MYSQL_MODULE = "dbspecialist.knowledge.migrations.lint_rules_mysql"
SQLITE_MODULE = "dbspecialist.knowledge.migrations.lint_rules_sqlite"


def _finding(rule_id: str, line: int, severity: Severity = Severity.HIGH) -> Finding:
    return Finding(
        rule_id=rule_id,
        name="fake-rule",
        severity=severity,
        title="t",
        subject=f"s{line}",
        subject_kind="query",
        rationale="r",
        help="h",
        line=line,
    )


def _fake_linter(calls: list[tuple[Any, ...]], findings: list[Finding]) -> types.ModuleType:
    module = types.ModuleType("fake_linter")
    spec = RuleSpec(
        id="MIG100", name="fake", capability="migrations", engines=("mysql",), severity=Severity.HIGH, summary="fake"
    )
    module.RULES = ((spec, None), (spec, None))  # type: ignore[attr-defined]

    def lint(*args: Any, **kwargs: Any) -> tuple[int, list[Finding], list[str]]:
        calls.append(args + tuple(kwargs.values()))
        return 3, list(findings), ["line 9: cannot parse"]

    module.lint_mysql = lint  # type: ignore[attr-defined]
    module.lint_sqlite = lint  # type: ignore[attr-defined]
    return module


def test_postgres_report_states_version_rules_and_counts() -> None:
    report = lint_migration("CREATE INDEX i ON orders (a);")
    assert report.dialect == "postgres"
    assert report.version == "15"
    assert report.statements == 1
    assert report.rules_run == len(RULES) - 1 == len(enabled_rules())
    assert [f.rule_id for f in report.findings] == ["MIG001", "MIG040", "MIG041"]
    assert report.counts == {"critical": 0, "high": 1, "medium": 1, "low": 1, "info": 0}
    assert lint_migration("SELECT 1;", "postgresql", "16.2").version == "16.2"
    assert lint_migration("SELECT 1;", "PG").dialect == "postgres"


def test_min_severity_filters_and_suppression_counts_what_it_silenced() -> None:
    sql = "-- dbspecialist:ignore MIG001\nCREATE INDEX i ON orders (a);\nDROP INDEX j; -- dbspecialist:ignore all\n"
    report = lint_migration(sql)
    assert sorted((f.rule_id, f.line) for f in report.findings) == [("MIG032", 2), ("MIG040", 2), ("MIG041", 2)]
    assert report.suppressed == 3  # MIG001 on line 2; MIG002 and MIG032 on line 3
    high = lint_migration(sql, min_severity=Severity.HIGH)
    assert high.findings == [] and high.suppressed == 1
    assert high.counts["medium"] == 0


def test_mysql_and_mariadb_dispatch_with_version_tuple_flavor_and_suppression(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[Any, ...]] = []
    fake = _fake_linter(calls, [_finding("MIG101", 3), _finding("MIG102", 3, Severity.LOW), _finding("MIG103", 1)])
    monkeypatch.setitem(sys.modules, MYSQL_MODULE, fake)
    sql = "SELECT 1;\n# dbspecialist:ignore MIG101\nALTER TABLE t ADD c int;\n"
    report = lint_migration(sql, "mariadb")
    assert calls == [(sql, (10, 11, 0), "mariadb", None)]  # no catalog given
    assert [f.rule_id for f in report.findings] == ["MIG103", "MIG102"]
    assert report.suppressed == 1
    assert report.statements == 3 and report.rules_run == 2 and report.parse_errors == ["line 9: cannot parse"]
    trailing = lint_migration("SELECT 1; -- dbspecialist:ignore all\n", "mysql", "8.0.29")
    assert calls[-1] == ("SELECT 1; -- dbspecialist:ignore all\n", (8, 0, 29), "mysql", None)
    assert trailing.suppressed == 1 and [f.rule_id for f in trailing.findings] == ["MIG101", "MIG102"]


def test_sqlite_dispatch_and_missing_module(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[Any, ...]] = []
    monkeypatch.setitem(sys.modules, SQLITE_MODULE, _fake_linter(calls, [_finding("MIG150", 1)]))
    report = lint_migration("ALTER TABLE t DROP COLUMN c;", "sqlite")
    assert calls == [("ALTER TABLE t DROP COLUMN c;", (3, 45, 0))]
    assert report.dialect == "sqlite" and report.version == "3.45.0"
    assert [f.rule_id for f in report.findings] == ["MIG150"]
    monkeypatch.setitem(sys.modules, SQLITE_MODULE, None)
    with pytest.raises(MigrationInputError, match="SQLite linting is not available"):
        lint_migration("SELECT 1;", "sqlite")


def test_bad_input_is_refused_with_a_message() -> None:
    with pytest.raises(MigrationInputError, match="cannot lint dialect 'oracle'"):
        lint_migration("SELECT 1;", "oracle")
    with pytest.raises(MigrationInputError, match="SQL text"):
        lint_migration(b"SELECT 1;", "postgres")  # type: ignore[arg-type]
    with pytest.raises(MigrationInputError, match="limit is 5,000,000"):
        lint_migration("SELECT 1;\n" * 600_000)
    with pytest.raises(MigrationInputError, match="version number"):
        lint_migration("SELECT 1;", version="latest")


def test_unparseable_file_reports_parse_errors_instead_of_raising() -> None:
    report = lint_migration("SELECT 'unterminated")
    assert report.statements == 0 and report.findings == []
    assert len(report.parse_errors) == 1 and "cannot parse" in report.parse_errors[0]


def test_one_thousand_statements_lint_quickly() -> None:
    parts = []
    for i in range(125):
        parts += [
            f"CREATE TABLE t{i} (id serial PRIMARY KEY, name varchar(40), at timestamp, payload json);",
            f"ALTER TABLE o{i} ADD COLUMN c{i} uuid DEFAULT gen_random_uuid();",
            f"CREATE INDEX o{i}_idx ON o{i} (c{i});",
            f"ALTER TABLE o{i} ADD CONSTRAINT o{i}_fk FOREIGN KEY (c{i}) REFERENCES p (id);",
            f"ALTER TABLE o{i} ALTER COLUMN c{i} SET NOT NULL;",
            f"BEGIN;\nALTER TABLE q{i} ADD COLUMN n int;\nUPDATE q{i} SET n = 1;\nCOMMIT;",
        ]
    sql = "\n".join(parts)
    started = time.perf_counter()
    report = lint_migration(sql)
    elapsed = time.perf_counter() - started
    assert report.statements == 1125
    assert report.counts["high"] >= 125 * 5
    assert elapsed < 2.0, f"linting 1,125 statements took {elapsed:.2f} s"
