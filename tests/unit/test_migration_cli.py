"""`dbspecialist lint-migration` and `plan-migration`: formats, suppression, --fail-on exit codes, bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

RISKY = """\
ALTER TABLE orders ADD COLUMN note text;
CREATE INDEX orders_note_idx ON orders (note);
"""
SAFE = """\
SET lock_timeout = '1s';
SET statement_timeout = '5s';
CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_note_idx ON orders (note);
"""


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DBSPECIALIST_DB_")}
    return subprocess.run(
        [sys.executable, "-m", "dbspecialist", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env={**env, "COLUMNS": "150"},
    )


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    risky, safe = tmp_path / "0001_risky.sql", tmp_path / "0002_safe.sql"
    risky.write_text(RISKY)
    safe.write_text(SAFE)
    return risky, safe


def test_lint_json_covers_every_file_and_exits_1_on_high(files: tuple[Path, Path]) -> None:
    risky, safe = files
    result = run("lint-migration", str(risky), str(safe), "--format", "json", "--version", "16")
    assert result.returncode == 1, result.stderr
    reports = json.loads(result.stdout)
    assert [r["file"] for r in reports] == [str(risky), str(safe)]
    by_rule = {(f["rule_id"], f["line"]) for f in reports[0]["findings"]}
    assert ("MIG001", 2) in by_rule  # CREATE INDEX without CONCURRENTLY on line 2
    assert not [f for f in reports[1]["findings"] if f["severity"] in ("critical", "high")]


def test_lint_fail_on_never_and_suppression(files: tuple[Path, Path], tmp_path: Path) -> None:
    risky, _safe = files
    assert run("lint-migration", str(risky), "--fail-on", "never").returncode == 0
    silenced = tmp_path / "silenced.sql"
    silenced.write_text(RISKY.replace("CREATE INDEX", "-- dbspecialist:ignore MIG001\nCREATE INDEX"))
    result = run("lint-migration", str(silenced), "--format", "json")
    report = json.loads(result.stdout)[0]
    assert "MIG001" not in {f["rule_id"] for f in report["findings"]} and report["suppressed"] >= 1


def test_lint_sarif_points_at_file_and_line(files: tuple[Path, Path]) -> None:
    risky, _safe = files
    result = run("lint-migration", str(risky), "--format", "sarif")
    sarif = json.loads(result.stdout)
    results = sarif["runs"][0]["results"]
    hit = next(r for r in results if r["ruleId"] == "MIG001")
    location = hit["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == str(risky) and location["region"]["startLine"] == 2
    rule = next(r for r in sarif["runs"][0]["tool"]["driver"]["rules"] if r["id"] == "MIG001")
    assert rule["helpUri"].endswith("docs/rules/MIG001.md")


def test_lint_text_and_unparseable_input() -> None:
    text = run("lint-migration", "-", "--fail-on", "never", stdin=RISKY)
    assert text.returncode == 0 and "MIG001" in text.stdout and "Migration lint" in text.stdout
    broken = run("lint-migration", "-", stdin="ALTER TABLE orders ADD COLUMN;")
    assert broken.returncode == 2 and "Traceback" not in broken.stderr + broken.stdout
    assert "cannot parse the migration at line 1" in broken.stdout
    missing = run("lint-migration", "/nonexistent/migration.sql")
    assert missing.returncode == 2 and "cannot read /nonexistent/migration.sql" in missing.stderr


def test_plan_migration_json_and_text(tmp_path: Path) -> None:
    change = tmp_path / "change.sql"
    change.write_text(
        "ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id);"
    )
    stats = json.dumps({"orders": {"rows": 400_000_000, "bytes": 80 * 1024**3}})
    result = run("plan-migration", str(change), "--version", "16", "--table-stats", stats, "--format", "json")
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    sql = [s for step in plan["steps"] for s in step["sql"]]
    assert any("NOT VALID" in s for s in sql) and any("VALIDATE CONSTRAINT orders_customer_fk" in s for s in sql)
    validate = next(step for step in plan["steps"] if any("VALIDATE" in s for s in step["sql"]))
    assert validate["lock"]["blocks"] == "nothing" and validate["estimate"]["seconds"] > 100
    text = run("plan-migration", str(change), "--version", "16")
    assert text.returncode == 0 and "VALIDATE" in text.stdout and "Migration plan" in text.stdout
    bad = run("plan-migration", str(change), "--table-stats", "{not json")
    assert bad.returncode == 2 and "--table-stats is not JSON" in bad.stderr


def test_plan_migration_from_target_schema(tmp_path: Path) -> None:
    current, target = tmp_path / "current.sql", tmp_path / "target.sql"
    current.write_text("CREATE TABLE users (id bigint PRIMARY KEY, email text);")
    target.write_text(
        "CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL);\n"
        "CREATE INDEX users_email_idx ON users (email);"
    )
    result = run("plan-migration", str(target), "--current", str(current), "--format", "json", "--version", "15")
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    assert plan["generated_from_diff"] is True
    sql = " ".join(s for step in plan["steps"] for s in step["sql"])
    assert "CREATE INDEX CONCURRENTLY" in sql and "VALIDATE CONSTRAINT" in sql


@pytest.mark.parametrize(
    ("version", "message"),
    [
        ("99", "'99' is not a postgres server version (majors 9 to 19)"),
        ("8.0", "'8.0' is not a postgres server version (majors 9 to 19)"),
        ("abc", "cannot read a version number from 'abc'"),
    ],
)
def test_postgres_version_no_server_has_had_is_refused(tmp_path: Path, version: str, message: str) -> None:
    change = tmp_path / "m.sql"
    change.write_text(RISKY)
    for command in ("lint-migration", "plan-migration"):
        result = run(command, str(change), "--version", version)
        assert result.returncode == 2, result.stdout
        assert f"--version: {message}" in result.stderr
    for known in ("18", "9.6"):
        assert run("lint-migration", str(change), "--version", known, "--fail-on", "never").returncode == 0
    assert (
        run("lint-migration", str(change), "--dialect", "mysql", "--version", "8.0", "--fail-on", "never").returncode
        == 0
    )


@pytest.mark.parametrize(
    ("stats", "shown"), [('{"orders": {"rows": -5}}', "-5"), ('{"orders": {"bytes": 1.5}}', "1.5")]
)
def test_table_stats_sizes_must_be_whole_and_not_negative(tmp_path: Path, stats: str, shown: str) -> None:
    change = tmp_path / "m.sql"
    change.write_text(RISKY)
    result = run("plan-migration", str(change), "--table-stats", stats)
    assert result.returncode == 2
    key = "rows" if "rows" in stats else "bytes"
    assert f"--table-stats: orders.{key} must be a whole number of at least 0 (got {shown})" in result.stderr
    assert "errors.pydantic.dev" not in result.stderr
