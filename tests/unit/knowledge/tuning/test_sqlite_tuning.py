"""SQLite calculator: known values, version gates, the budget proof, bad inputs, and the PRAGMA
snippet run on a real SQLite database file and read back."""

from __future__ import annotations

import re
import sqlite3
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dbspecialist.knowledge.tuning.dispatch import tune
from dbspecialist.knowledge.tuning.model import TuningInputError, TuningInputs, TuningReport

GiB = 1024**3
MiB = 1024**2
KiB = 1024
LIB_VERSION = sqlite3.sqlite_version


def _tune(**kw: object) -> TuningReport:
    return tune(TuningInputs(engine="sqlite", **kw))  # type: ignore[arg-type]


def _value(report: TuningReport, name: str) -> str:
    matches = [s.value for s in report.settings if s.name == name]
    assert matches, name
    return matches[0]


def expected_cache_kib(ram_gb: float, workload: str) -> int:
    """Our stated rule: max(2000 KiB, min(2% of RAM, 64MB (dw 256MB))) per connection."""
    cap = 256 * MiB if workload == "dw" else 64 * MiB
    return max(2000 * KiB, min(cap, int(ram_gb * GiB * 0.02))) // KiB


def test_web_on_16gb() -> None:
    report = _tune(ram_gb=16, cpus=4, workload="web")
    assert _value(report, "journal_mode") == "WAL"
    assert _value(report, "synchronous") == "NORMAL"
    assert int(_value(report, "cache_size")) == -expected_cache_kib(16, "web") == -65536
    assert int(_value(report, "mmap_size")) == 256 * MiB
    assert _value(report, "busy_timeout") == "5000"
    assert _value(report, "temp_store") == "MEMORY"
    assert _value(report, "foreign_keys") == "ON"
    assert _value(report, "page_size") == "4096"
    assert _value(report, "auto_vacuum") == "NONE"
    assert int(_value(report, "journal_size_limit")) == 64 * MiB
    budget = report.memory_budget
    assert budget is not None and budget.fits and budget.adjustments == []
    assert budget.lines[0].bytes == 8 * 65536 * KiB  # 8 connections for web
    assert budget.lines[1].bytes == 256 * MiB  # mmap counted once


def test_desktop_and_dw_profiles() -> None:
    desktop = _tune(ram_gb=8, cpus=4, workload="desktop")
    assert _value(desktop, "synchronous") == "FULL"
    assert _value(desktop, "auto_vacuum") == "INCREMENTAL"
    assert desktop.memory_budget is not None
    assert desktop.memory_budget.lines[0].bytes == expected_cache_kib(8, "desktop") * KiB  # one connection
    dw = _tune(ram_gb=64, cpus=16, workload="dw")
    assert _value(dw, "page_size") == "8192"
    assert _value(dw, "temp_store") == "FILE"
    assert int(_value(dw, "cache_size")) == -expected_cache_kib(64, "dw") == -(256 * 1024)
    assert int(_value(dw, "mmap_size")) == 1 * GiB


def test_mmap_follows_database_size() -> None:
    report = _tune(ram_gb=16, cpus=4, db_size_gb=0.1)
    assert int(_value(report, "mmap_size")) == -(-int(0.1 * GiB) // MiB) * MiB  # rounded up to whole MB
    assert int(_value(_tune(ram_gb=16, cpus=4, db_size_gb=500), "mmap_size")) == 256 * MiB


def test_optimize_is_version_gated() -> None:
    new = _tune(ram_gb=4, cpus=2, version="3.46.1")
    old = _tune(ram_gb=4, cpus=2, version="3.45.0")
    assert "PRAGMA optimize=0x10002;" in new.apply_statements
    assert not any("optimize" in s for s in old.apply_statements)
    assert "PRAGMA optimize;" in old.config_snippet  # still advised before closing
    assert any("3.46" in n for n in _tune(ram_gb=4, cpus=2).notes)  # the default version is said


@pytest.mark.parametrize(
    ("kw", "needle"),
    [
        ({"version": "3.17.0"}, "SQLite 3.18 or newer"),
        ({"version": "2.8.17"}, "SQLite 3.18 or newer"),
        ({"version": "garbage"}, "SQLite 3.18 or newer"),
        ({"workload": "cache"}, "web, oltp, dw, mixed, desktop"),
        ({"max_connections": 1001}, "between 1 and 1000"),
        ({"ram_gb": 0}, "ram_gb must be between"),
    ],
)
def test_bad_inputs(kw: dict[str, object], needle: str) -> None:
    args: dict[str, object] = {"ram_gb": 4, "cpus": 2, **kw}
    with pytest.raises(TuningInputError, match=re.escape(needle)):
        _tune(**args)


def test_many_connections_on_a_tiny_host_fit() -> None:
    report = _tune(ram_gb=0.25, cpus=1, workload="dw", max_connections=1000)
    budget = report.memory_budget
    assert budget is not None and budget.fits and budget.headroom_bytes >= 0
    assert [a.split()[0] for a in budget.adjustments] == ["cache_size", "mmap_size", "cache_size"]
    assert int(_value(report, "mmap_size")) == 0
    assert -int(_value(report, "cache_size")) * KiB >= 10 * 8192  # SQLite keeps at least 10 pages


@settings(max_examples=300, deadline=None)
@given(
    ram_gb=st.floats(min_value=0.25, max_value=16_384, allow_nan=False),
    workload=st.sampled_from(["web", "oltp", "dw", "mixed", "desktop"]),
    max_connections=st.none() | st.integers(min_value=1, max_value=1000),
    db_size_gb=st.none() | st.floats(min_value=0, max_value=1_000_000, allow_nan=False),
    version=st.none() | st.sampled_from(["3.18.0", "3.31.1", "3.40.1", "3.45.3", "3.46.0", "3.50.4"]),
)
def test_property_budget_fits_and_values_sane(
    ram_gb: float, workload: str, max_connections: int | None, db_size_gb: float | None, version: str | None
) -> None:
    report = _tune(
        ram_gb=ram_gb,
        cpus=4,
        workload=workload,
        max_connections=max_connections,
        db_size_gb=db_size_gb,
        version=version,
    )
    budget = report.memory_budget
    assert budget is not None and budget.fits
    assert budget.total_bytes == sum(line.bytes for line in budget.lines) + budget.os_reserve_bytes <= budget.ram_bytes
    page = int(_value(report, "page_size"))
    cache_kib = -int(_value(report, "cache_size"))
    assert 10 * page <= cache_kib * KiB <= 256 * MiB
    mmap = int(_value(report, "mmap_size"))
    assert 0 <= mmap <= min(1 * GiB, ram_gb * GiB / 4)
    if db_size_gb is not None:
        assert mmap <= db_size_gb * GiB + MiB
    assert page in (4096, 8192)


@pytest.mark.parametrize("workload", ["web", "desktop", "dw"])
def test_snippet_runs_and_reads_back(tmp_path: Path, workload: str) -> None:
    report = _tune(ram_gb=16, cpus=4, workload=workload, version=LIB_VERSION)
    conn = sqlite3.connect(tmp_path / "t.db")
    try:
        conn.executescript(report.config_snippet)
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
        read = {name: conn.execute(f"PRAGMA {name}").fetchone()[0] for name in (
            "page_size", "auto_vacuum", "journal_mode", "synchronous", "cache_size", "mmap_size",
            "busy_timeout", "temp_store", "foreign_keys", "journal_size_limit",
        )}  # fmt: skip
    finally:
        conn.close()
    assert read["page_size"] == int(_value(report, "page_size"))
    assert read["auto_vacuum"] == {"NONE": 0, "FULL": 1, "INCREMENTAL": 2}[_value(report, "auto_vacuum")]
    assert read["journal_mode"] == "wal"
    assert read["synchronous"] == {"NORMAL": 1, "FULL": 2}[_value(report, "synchronous")]
    assert read["cache_size"] == int(_value(report, "cache_size"))
    assert read["mmap_size"] == int(_value(report, "mmap_size"))
    assert read["busy_timeout"] == 5000
    assert read["temp_store"] == {"FILE": 1, "MEMORY": 2}[_value(report, "temp_store")]
    assert read["foreign_keys"] == 1
    assert read["journal_size_limit"] == int(_value(report, "journal_size_limit"))
    # journal_mode, page_size and auto_vacuum persist in the file; the rest are per connection
    again = sqlite3.connect(tmp_path / "t.db")
    try:
        assert again.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert again.execute("PRAGMA page_size").fetchone()[0] == int(_value(report, "page_size"))
        assert again.execute("PRAGMA foreign_keys").fetchone()[0] == 0
    finally:
        again.close()


def test_apply_statements_run_on_an_in_memory_database() -> None:
    report = _tune(ram_gb=2, cpus=2, workload="oltp", version=LIB_VERSION)
    conn = sqlite3.connect(":memory:")
    try:
        for statement in report.apply_statements:
            conn.execute(statement)
        assert conn.execute("PRAGMA cache_size").fetchone()[0] == int(_value(report, "cache_size"))
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    finally:
        conn.close()
    assert report.config_format == "PRAGMA"
    assert all(s.apply == "pragma" for s in report.settings)


def test_one_call_is_fast() -> None:
    inputs = TuningInputs(engine="sqlite", ram_gb=16, cpus=4, workload="web")
    tune(inputs)
    timings = []
    for _ in range(20):
        start = time.perf_counter()
        tune(inputs)
        timings.append(time.perf_counter() - start)
    timings.sort()
    assert timings[len(timings) // 2] < 0.020
