"""QA pass 3, defect 9: `review-schema` on DDL it cannot parse exits 2, and SARIF carries the parse
warnings as toolExecutionNotifications. Defect 1 end to end: T-SQL with GO after ';'."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

BAD = "CREATE TABLE t (id int PRIMARY KEY, x NUMBER(\n;\nCREAT TABLE u (id int);\n"
PARTLY = "CREAT TABLE u (id int);\nCREATE TABLE v (id int PRIMARY KEY, name varchar(20) NOT NULL);\n"
TSQL_GO = "".join(f"CREATE TABLE dbo.T{i} (Id INT NOT NULL, Name NVARCHAR(20) NOT NULL);\nGO\n" for i in range(1, 7))


def run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DBSPECIALIST_DB_")}
    return subprocess.run(
        [sys.executable, "-m", "dbspecialist", "review-schema", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**env, "COLUMNS": "150"},
    )


def test_nothing_parsed_exits_2_with_sarif_notifications(tmp_path: Path) -> None:
    path = tmp_path / "bad.sql"
    path.write_text(BAD)
    result = run(str(path), "--dialect", "mysql", "--format", "sarif", "--fail-on", "never")
    assert result.returncode == 2, result.stderr
    assert "no table could be parsed" in result.stderr and "Traceback" not in result.stderr
    [run_] = json.loads(result.stdout)["runs"]
    [invocation] = run_["invocations"]
    assert invocation["executionSuccessful"] is False
    notes = invocation["toolExecutionNotifications"]
    assert [n["locations"][0]["physicalLocation"]["region"]["startLine"] for n in notes] == [1, 3]
    assert all(n["level"] == "warning" and n["message"]["text"] for n in notes)
    assert notes[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == str(path)


def test_nothing_parsed_exits_2_in_text(tmp_path: Path) -> None:
    path = tmp_path / "bad.sql"
    path.write_text(BAD)
    result = run(str(path), "--dialect", "mysql")
    assert result.returncode == 2 and "parse warning" in result.stdout


def test_partly_parsed_reports_warnings_and_succeeds(tmp_path: Path) -> None:
    path = tmp_path / "partly.sql"
    path.write_text(PARTLY)
    result = run(str(path), "--dialect", "mysql", "--format", "sarif", "--fail-on", "never")
    assert result.returncode == 0, result.stderr
    [invocation] = json.loads(result.stdout)["runs"][0]["invocations"]
    assert invocation["executionSuccessful"] is True
    assert [
        n["locations"][0]["physicalLocation"]["region"]["startLine"] for n in invocation["toolExecutionNotifications"]
    ] == [1]


def test_empty_input_is_not_a_parse_failure(tmp_path: Path) -> None:
    path = tmp_path / "empty.sql"
    path.write_text("-- nothing yet\n")
    assert run(str(path), "--format", "json").returncode == 0


def test_tsql_go_after_semicolon_reviews_every_table(tmp_path: Path) -> None:
    path = tmp_path / "tsql.sql"
    path.write_text(TSQL_GO)
    result = run(str(path), "--dialect", "tsql", "--format", "json", "--fail-on", "never")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["tables_reviewed"] == 6 and data["parse_warnings"] == []
    missing_pk = sorted(f["line"] for f in data["findings"] if f["rule_id"] == "SCH001")
    assert missing_pk == [1, 3, 5, 7, 9, 11]
