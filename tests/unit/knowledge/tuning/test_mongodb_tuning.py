"""MongoDB calculator: known values computed here from WiredTiger's published rule, version gating,
bad input, a property test of the memory budget, and the mongod.conf YAML snippet."""

from __future__ import annotations

import math
import time
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from dbspecialist.knowledge.tuning.dispatch import tune
from dbspecialist.knowledge.tuning.model import TuningInputError, TuningInputs, TuningReport

GIB = 1024**3
MIB = 1024**2
CACHE = "storage.wiredTiger.engineConfig.cacheSizeGB"


def run(ram_gb: float, workload: str = "oltp", cpus: int = 8, version: str | None = None, **kw: int) -> TuningReport:
    return tune(TuningInputs(engine="mongodb", ram_gb=ram_gb, cpus=cpus, workload=workload, version=version, **kw))  # type: ignore[arg-type]


def setting(report: TuningReport, name: str) -> str:
    matches = [s.value for s in report.settings if s.name == name]
    assert len(matches) == 1, f"{name}: {matches}"
    return matches[0]


def wt_default_gb(ram_gb: float, share: float = 0.5) -> float:
    """MongoDB manual, "WiredTiger Storage Engine": the larger of 50 % of (RAM - 1 GB) and 256 MB,
    written to two decimals (rounded down)."""
    return math.floor(max(share * (ram_gb - 1), 0.25) * 100 + 1e-9) / 100


def conf(report: TuningReport) -> dict[str, Any]:
    parsed = yaml.safe_load(report.config_snippet)
    assert isinstance(parsed, dict)
    return parsed


# --- known values ---------------------------------------------------------------------------------------


def test_16gb_gets_the_default_7_5gb_cache() -> None:
    report = run(16)
    assert wt_default_gb(16) == 7.5
    assert setting(report, CACHE) == "7.5"
    assert conf(report)["storage"]["wiredTiger"]["engineConfig"]["cacheSizeGB"] == 7.5
    assert 'cache_size=7680M"' in report.apply_statements[0]
    assert report.config_format == "mongod.conf"


def test_1gb_gets_the_256mb_floor() -> None:
    report = run(1)
    assert wt_default_gb(1) == 0.25
    assert setting(report, CACHE) == "0.25"
    assert "cache_size=256M" in report.apply_statements[0]


@pytest.mark.parametrize("ram_gb", [1.5, 2, 3.3, 8, 31.7, 64, 512, 4096])
@pytest.mark.parametrize("workload", ["web", "oltp", "dw", "mixed"])
def test_cache_is_wiredtigers_default_rule(ram_gb: float, workload: str) -> None:
    assert float(setting(run(ram_gb, workload), CACHE)) == wt_default_gb(ram_gb)


def test_desktop_takes_a_quarter() -> None:
    assert float(setting(run(16, "desktop"), CACHE)) == wt_default_gb(16, 0.25) == 3.75
    assert float(setting(run(1.5, "desktop"), CACHE)) == 0.25


def test_budget_lines_are_cache_connections_fs_reserve_and_os() -> None:
    report = run(16, "oltp", max_connections=2000)
    budget = report.memory_budget
    assert budget is not None
    by_item = {line.item.split(" (")[0]: line.bytes for line in budget.lines}
    assert by_item["WiredTiger cache"] == int(7.5 * GIB)
    assert by_item["connections"] == 2000 * MIB
    assert by_item["filesystem cache reserve"] == int(16 * GIB * 0.2)
    assert budget.os_reserve_bytes == int(16 * GIB * 0.05)  # 5 % beats the 512 MB floor at 16 GB
    assert budget.total_bytes == sum(by_item.values()) + budget.os_reserve_bytes
    assert budget.headroom_bytes == 16 * GIB - budget.total_bytes > 0
    assert setting(report, "net.maxIncomingConnections") == "2000"
    assert any("vm.max_map_count ≥ 4000" in note for note in report.notes)


def test_connections_are_capped_when_they_do_not_fit() -> None:
    report = run(1, "web")  # planned 1000 connections at ~1 MB each cannot fit in 1 GB
    free = GIB - 256 * MIB - 256 * MIB - int(0.2 * GIB)  # cache, OS reserve (RAM/4), filesystem reserve
    expected = free // MIB
    assert expected == 307
    assert setting(report, "net.maxIncomingConnections") == str(expected)
    assert conf(report)["net"]["maxIncomingConnections"] == expected
    assert report.memory_budget is not None and report.memory_budget.fits
    assert any("lowered from 1000 to 307" in a for a in report.memory_budget.adjustments)
    assert any("maxPoolSize" in r for r in report.recommendations)


@pytest.mark.parametrize(("workload", "slowms"), [("web", 100), ("oltp", 50), ("dw", 1000), ("mixed", 200)])
def test_profiler_threshold_by_workload(workload: str, slowms: int) -> None:
    report = run(8, workload)
    assert setting(report, "operationProfiling.slowOpThresholdMs") == str(slowms)
    assert conf(report)["operationProfiling"] == {"mode": "slowOp", "slowOpThresholdMs": slowms}
    assert f"db.setProfilingLevel(1, {{slowms: {slowms}}})" in report.apply_statements


def test_yaml_snippet_matches_the_settings() -> None:
    report = run(24, "dw", max_connections=300)
    parsed = conf(report)
    assert parsed["storage"]["journal"] == {"commitIntervalMs": 100}
    assert str(parsed["storage"]["wiredTiger"]["engineConfig"]["cacheSizeGB"]) == setting(report, CACHE)
    assert parsed["net"]["maxIncomingConnections"] == 300
    assert setting(report, "maxPoolSize") == "100"


# --- version gating -------------------------------------------------------------------------------------


def test_journal_enabled_only_before_6_1() -> None:
    assert conf(run(8, version="6.0"))["storage"]["journal"]["enabled"] is True
    for version in ("6.1", "7.0", "8.0"):
        assert "enabled" not in conf(run(8, version=version))["storage"]["journal"]


def test_thp_advice_depends_on_the_version() -> None:
    assert any("recommends enabling transparent huge pages" in n for n in run(8, version="8.0").notes)
    assert any("recommends enabling transparent huge pages" in n for n in run(8).notes)  # default 8.0
    assert any("disabling transparent huge pages" in n for n in run(8, version="7.0.14").notes)
    assert not any("enabling transparent" in n for n in run(8, version="6.0").notes)


@pytest.mark.parametrize("version", ["2.6", "x", "5.0", "9.0", "", "8.x"])
def test_unknown_version_is_rejected_with_the_valid_range(version: str) -> None:
    with pytest.raises(TuningInputError, match=r"6\.0 to 8\.x"):
        run(8, version=version)


def test_ram_below_one_gb_names_the_mongodb_range() -> None:
    with pytest.raises(TuningInputError, match=r"between 1 and 16,384"):
        run(0.5)


@pytest.mark.parametrize("ram_gb", [0, -4])
def test_bad_ram_is_rejected(ram_gb: float) -> None:
    with pytest.raises(TuningInputError, match=r"ram_gb must be between 0\.25"):
        run(ram_gb)


def test_redis_workload_is_rejected_for_mongodb() -> None:
    with pytest.raises(TuningInputError, match="web, oltp, dw, mixed, desktop"):
        run(8, "cache")


# --- property -------------------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(
    ram_gb=st.floats(min_value=1, max_value=16_384, allow_nan=False),
    cpus=st.integers(min_value=1, max_value=1024),
    workload=st.sampled_from(["web", "oltp", "dw", "mixed", "desktop"]),
    version=st.sampled_from([None, "6.0", "6.1", "7.0", "7.3", "8.0.4", "8.2"]),
    max_connections=st.none() | st.integers(min_value=1, max_value=100_000),
)
def test_budget_always_fits_and_values_are_in_range(
    ram_gb: float, cpus: int, workload: str, version: str | None, max_connections: int | None
) -> None:
    report = run(ram_gb, workload, cpus=cpus, version=version, max_connections=max_connections)  # type: ignore[arg-type]
    budget = report.memory_budget
    assert budget is not None
    assert budget.fits and budget.headroom_bytes >= 0
    assert budget.total_bytes == sum(line.bytes for line in budget.lines) + budget.os_reserve_bytes
    assert budget.total_bytes <= budget.ram_bytes
    cache = float(setting(report, CACHE))
    assert 0.25 <= cache <= 10_000  # cacheSizeGB's accepted range
    assert cache <= wt_default_gb(ram_gb)  # never above the server's own default
    connections = int(setting(report, "net.maxIncomingConnections"))
    assert 1 <= connections <= (max_connections or 1000)
    assert 1 <= int(setting(report, "operationProfiling.slowOpThresholdMs")) <= 10_000
    assert 1 <= int(setting(report, "storage.journal.commitIntervalMs")) <= 500
    parsed = conf(report)
    assert parsed["net"]["maxIncomingConnections"] == connections


# --- speed ----------------------------------------------------------------------------------------------


def test_one_call_is_fast() -> None:
    run(16)
    timings = []
    for _ in range(20):
        start = time.perf_counter()
        run(64, "oltp", cpus=16)
        timings.append(time.perf_counter() - start)
    median_ms = sorted(timings)[len(timings) // 2] * 1000
    print(f"mongodb tune_config one call: median {median_ms:.3f} ms")
    assert median_ms <= 20
