"""The generated postgresql.conf snippet really starts a server, and SHOW reports the recommended values.

A scratch cluster is created with initdb in a temp dir (as the `postgres` OS user when run as root), the snippet
for PostgreSQL 15 with a small RAM input is appended, and the server is started on a free loopback port.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from dbspecialist.knowledge.tuning.dispatch import tune
from dbspecialist.knowledge.tuning.model import TuningInputs, TuningReport
from tests.integration.servers import IN_CI

pytestmark = pytest.mark.integration

PG_BIN = Path(os.environ.get("DBSPECIALIST_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))
SIZE_UNITS_KB = {"kB": 1, "MB": 1024, "GB": 1024**2, "TB": 1024**3}
TIME_UNITS_MS = {"ms": 1, "s": 1000, "min": 60_000, "h": 3_600_000, "d": 86_400_000}
PG_UNIT_KB = {"kB": 1, "8kB": 8, "MB": 1024}


def _need_initdb() -> None:
    if not (PG_BIN / "initdb").exists():
        message = f"initdb not found in {PG_BIN}; set DBSPECIALIST_TEST_PG_BIN or install postgresql-15"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(f"SKIPPED LOUDLY: {message}")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _as_postgres(args: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


@pytest.fixture
def cluster() -> Iterator[tuple[int, TuningReport]]:
    _need_initdb()
    report = tune(TuningInputs(engine="postgres", ram_gb=2, cpus=2, version="15", workload="oltp", db_size_gb=1))
    root = Path(tempfile.mkdtemp(prefix="dbs_tuned_"))
    data = root / "data"
    port = _free_port()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
    started = False
    try:
        subprocess.run(
            _as_postgres([str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"]),
            check=True,
            capture_output=True,
            timeout=120,
        )
        with (data / "postgresql.conf").open("a") as conf:
            conf.write("\n" + report.config_snippet)
            conf.write(f"port = {port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{root}'\n")
        subprocess.run(
            _as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(root / "log"), "-w", "-t", "60", "start"]),
            check=True,
            capture_output=True,
            timeout=90,
        )
        started = True
        yield port, report
    except subprocess.CalledProcessError as exc:
        log = (root / "log").read_text() if (root / "log").exists() else ""
        pytest.fail(f"{exc.cmd} failed: {exc.stderr!r}\n{log}")
    finally:
        if started:
            subprocess.run(
                _as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "-t", "60", "stop"]),
                capture_output=True,
                timeout=90,
            )
        shutil.rmtree(root, ignore_errors=True)


def _normalise(value: str, unit: str | None) -> float | str:
    """Our recommended value in the unit pg_settings reports it in."""
    match = re.fullmatch(r"(-?\d+(?:\.\d+)?)\s*([a-zA-Z]*)", value)
    if not match:
        return value
    number, suffix = float(match.group(1)), match.group(2)
    if unit in PG_UNIT_KB:
        return number * SIZE_UNITS_KB.get(suffix or "kB", 1) / PG_UNIT_KB[unit]
    if unit in ("ms", "s", "min"):
        ms = number * TIME_UNITS_MS[suffix or unit]
        return ms / TIME_UNITS_MS[unit]
    if unit == "MB":
        return number * SIZE_UNITS_KB.get(suffix or "MB", 1024) / 1024
    return value if suffix else number


async def test_generated_snippet_starts_and_show_matches(cluster: tuple[int, TuningReport]) -> None:
    port, report = cluster
    started = time.perf_counter()
    conn = await asyncpg.connect(host="127.0.0.1", port=port, user="postgres", database="postgres", timeout=10)
    try:
        rows = await conn.fetch("SELECT name, setting, unit, source FROM pg_catalog.pg_settings")
        shown = {
            name: await conn.fetchval(f"SHOW {name}")
            for name in (
                "shared_buffers",
                "work_mem",
                "effective_cache_size",
                "random_page_cost",
                "maintenance_work_mem",
                "max_connections",
            )
        }
    finally:
        await conn.close()
    elapsed = time.perf_counter() - started
    by_name = {r["name"]: r for r in rows}
    values = {s.name: s.value for s in report.settings}
    # SHOW prints the values exactly as the snippet wrote them.
    for name, value in shown.items():
        assert value == values[name], (name, value, values[name])
    # Every recommended setting is live, from the configuration file, with the recommended value.
    for s in report.settings:
        row = by_name[s.name]
        assert row["source"] == "configuration file", (s.name, row["source"])
        expected = _normalise(s.value, row["unit"])
        actual: float | str = row["setting"]
        if isinstance(expected, float):
            actual = float(row["setting"])
        assert actual == expected, (s.name, row["setting"], row["unit"], s.value)
    assert elapsed < 10
