"""The CLI: demo runs every tool and exits 0; configuration errors exit 2 with a clear message."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dbspecialist.cli import build_parser


def run_cli(*args: str, cache: Path, extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DBSPECIALIST_CACHE_DIR": str(cache), "COLUMNS": "120", **(extra_env or {})}
    env = {k: v for k, v in env.items() if not k.startswith("DBSPECIALIST_DB_")}
    return subprocess.run(
        [sys.executable, "-m", "dbspecialist", *args], capture_output=True, text=True, timeout=120, env=env
    )


def test_demo_on_the_bundled_sample(tmp_path: Path) -> None:
    result = run_cli("demo", cache=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    for tool in (
        "list_connections",
        "describe_schema",
        "run_query",
        "explain_query",
        "review_query",
        "recommend_indexes",
        "review_schema",
        "tune_config",
    ):
        assert f"✔ {tool}" in out
    assert "orders: 8 columns, 3,000 rows" in out
    assert "a write (DELETE FROM orders) was refused" in out and "demo passed" in out
    assert list(tmp_path.glob("sample-shop-*.db")), "the sample is built in the cache dir"
    assert "Traceback" not in result.stderr


def test_demo_against_a_given_database(tmp_path: Path) -> None:
    import sqlite3

    db = tmp_path / "mine.db"
    con = sqlite3.connect(db)
    con.executescript("CREATE TABLE widgets (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO widgets VALUES (1, 'a');")
    con.close()
    result = run_cli("demo", "--db", f"mine=sqlite:///{db}", cache=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "mine: sqlite" in result.stdout and "widgets: 2 columns, 1 rows" in result.stdout
    assert "sample" not in result.stdout.split("tools:")[1].split("demo passed")[0].replace("sample-", "")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--db", "x=oracle://u:p@h/db"], "unknown scheme 'oracle'"),
        (["--db", "x=sqlite:////no/such/file.db"], "does not exist"),
        (["--db", "nourl"], "expected NAME=URL"),
        (["--config", "/no/such/config.toml"], "does not exist"),
    ],
)
def test_configuration_errors_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    result = run_cli("serve", *args, cache=tmp_path)
    assert result.returncode == 2
    assert "configuration error" in result.stderr and message in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_password_never_printed_on_errors(tmp_path: Path) -> None:
    result = run_cli("serve", "--db", "x=oracle://user:Hunter2-Secret@h/db", cache=tmp_path)
    assert result.returncode == 2 and "Hunter2-Secret" not in result.stderr


def test_parser_options() -> None:
    args = build_parser().parse_args(
        ["serve", "--http", "--host", "0.0.0.0", "--port", "9000", "--allowed-host", "db.example.com:*"]
    )
    assert (args.command, args.http, args.host, args.port) == ("serve", True, "0.0.0.0", 9000)
    assert args.allowed_host == ["db.example.com:*"]
    defaults = build_parser().parse_args(["serve"])
    assert (defaults.http, defaults.host, defaults.port, defaults.db) == (False, "127.0.0.1", 8765, [])
