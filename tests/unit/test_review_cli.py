"""`dbspecialist review-schema`: text, JSON and SARIF 2.1.0 output, and --fail-on exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

DDL = """\
-- a deliberately flawed schema
CREATE TABLE tags (name text, color text);

CREATE TABLE customers (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email text NOT NULL
);
"""


def run(*args: str, stdin: str | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DBSPECIALIST_DB_")}
    return subprocess.run(
        [sys.executable, "-m", "dbspecialist", "review-schema", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env={**env, "COLUMNS": "150"},
        cwd=cwd,
    )


@pytest.fixture
def ddl_file(tmp_path: Path) -> Path:
    path = tmp_path / "schema.sql"
    path.write_text(DDL)
    return path


def test_json_output_and_fail_on_high(ddl_file: Path) -> None:
    result = run(str(ddl_file), "--format", "json")
    assert result.returncode == 1, result.stderr  # SCH001 is high
    data = json.loads(result.stdout)
    assert data["source"] == "ddl" and data["engine"] == "postgresql" and data["tables_reviewed"] == 2
    missing_pk = [f for f in data["findings"] if f["rule_id"] == "SCH001"]
    assert [f["subject"] for f in missing_pk] == ["tags"] and missing_pk[0]["line"] == 2
    assert data["parse_warnings"] == []


def test_fail_on_never_and_critical(ddl_file: Path) -> None:
    assert run(str(ddl_file), "--format", "json", "--fail-on", "never").returncode == 0
    assert run(str(ddl_file), "--format", "json", "--fail-on", "critical").returncode == 0


def test_clean_schema_exits_zero(tmp_path: Path) -> None:
    path = tmp_path / "ok.sql"
    path.write_text("CREATE TABLE t (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL);\n")
    result = run(str(path), "--format", "json")
    assert result.returncode == 0, result.stdout
    assert not [f for f in json.loads(result.stdout)["findings"] if f["severity"] in ("critical", "high")]


def test_sarif_2_1_0(ddl_file: Path) -> None:
    result = run(str(ddl_file), "--format", "sarif", "--fail-on", "never")
    assert result.returncode == 0, result.stderr
    sarif = json.loads(result.stdout)
    assert sarif["version"] == "2.1.0" and sarif["$schema"].endswith("sarif-2.1.0.json")
    [run_] = sarif["runs"]
    rules = run_["tool"]["driver"]["rules"]
    assert run_["tool"]["driver"]["name"] == "dbspecialist"
    ids = [r["id"] for r in rules]
    assert ids == sorted(set(ids)) and "SCH001" in ids
    for res in run_["results"]:
        assert rules[res["ruleIndex"]]["id"] == res["ruleId"]
        assert res["level"] in ("error", "warning", "note")
        location = res["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uri"] == str(ddl_file)
        assert location["region"]["startLine"] >= 1
    sch001 = next(r for r in run_["results"] if r["ruleId"] == "SCH001")
    assert sch001["level"] == "error" and sch001["locations"][0]["physicalLocation"]["region"]["startLine"] == 2


def test_text_output_from_stdin() -> None:
    result = run("-", stdin=DDL)
    assert result.returncode == 1
    assert "Schema review" in result.stdout and "SCH001" in result.stdout and "HIGH" in result.stdout
    assert "ALTER TABLE" in result.stdout or "primary key" in result.stdout.lower()


def test_live_sqlite_review(sample_config: object) -> None:
    path = sample_config.sqlite_path  # type: ignore[attr-defined]
    result = run("--db", f"sqlite:///{path}", "--format", "json", "--fail-on", "never")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["source"] == "live" and data["engine"] == "sqlite"
    assert ("SCH001", "product_tags") in {(f["rule_id"], f["subject"]) for f in data["findings"]}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "give a DDL file"),
        (["x.sql", "--db", "sqlite:////nope.db"], "give a DDL file"),
        (["/no/such/file.sql"], "cannot read"),
        (["--db", "oracle://h/x"], "unknown scheme"),
    ],
)
def test_usage_errors_exit_2(args: list[str], message: str) -> None:
    result = run(*args)
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr


def test_unknown_dialect_exits_2(ddl_file: Path) -> None:
    result = run(str(ddl_file), "--dialect", "oracle")
    assert result.returncode == 2 and "postgres" in result.stderr
