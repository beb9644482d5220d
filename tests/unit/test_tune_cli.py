"""`dbspecialist tune` and the tune_config tool: formats, sizes, errors, live comparison."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from dbspecialist.cli_tune import parse_gb
from dbspecialist.errors import ConfigError


def run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DBSPECIALIST_DB_")}
    return subprocess.run(
        [sys.executable, "-m", "dbspecialist", "tune", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**env, "COLUMNS": "200"},
    )


def test_parse_sizes() -> None:
    assert parse_gb("64GB", "--ram") == 64
    assert parse_gb("512MB", "--ram") == 0.5
    assert parse_gb("1TB", "--ram") == 1024
    assert parse_gb("16", "--ram") == 16
    with pytest.raises(ConfigError, match="not a size"):
        parse_gb("lots", "--ram")


def test_json_for_postgres() -> None:
    result = run("--engine", "postgres", "--ram", "64GB", "--cpus", "16", "--format", "json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    settings = {s["name"]: s for s in report["settings"]}
    assert settings["shared_buffers"]["value"] == "16GB"  # pgtune: RAM / 4
    assert settings["shared_buffers"]["apply"] == "restart"
    assert report["memory_budget"]["fits"] is True
    assert report["config_format"] == "postgresql.conf"
    assert any(s.startswith("ALTER SYSTEM SET shared_buffers") for s in report["apply_statements"])


def test_conf_output_is_the_snippet() -> None:
    result = run("--engine", "redis", "--ram", "10GB", "--cpus", "4", "--workload", "cache", "--format", "conf")
    assert result.returncode == 0, result.stderr
    assert "maxmemory-policy allkeys-lfu" in result.stdout


def test_text_output() -> None:
    result = run("--engine", "mysql", "--ram", "32GB", "--cpus", "8")
    assert result.returncode == 0, result.stderr
    assert "innodb_buffer_pool_size" in result.stdout and "Memory budget" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--engine", "postgres", "--ram", "0", "--cpus", "4"], "ram_gb must be between"),
        (["--engine", "postgres", "--ram", "8GB", "--cpus", "10000"], "cpus must be between"),
        (["--engine", "redis", "--ram", "8GB", "--cpus", "4", "--workload", "oltp"], "workload 'oltp'"),
        (["--engine", "postgres", "--ram", "8GB", "--cpus", "4", "--version", "9.6"], "9.6"),
    ],
)
def test_bad_inputs_exit_2_with_the_valid_range(args: list[str], message: str) -> None:
    result = run(*args)
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr
