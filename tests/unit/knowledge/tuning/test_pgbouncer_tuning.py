"""PgBouncer calculator: pool mode by workload, pool size from cores (PostgreSQL wiki formula), version gates."""

from __future__ import annotations

import configparser

import pytest

from dbspecialist.knowledge.tuning.dispatch import tune
from dbspecialist.knowledge.tuning.model import TuningInputError, TuningInputs, TuningReport


def run(**kwargs: object) -> TuningReport:
    base: dict[str, object] = {"engine": "pgbouncer", "ram_gb": 8, "cpus": 8}
    return tune(TuningInputs(**{**base, **kwargs}))  # type: ignore[arg-type]


def values(report: TuningReport) -> dict[str, str]:
    return {s.name: s.value for s in report.settings}


@pytest.mark.parametrize(
    ("workload", "mode"),
    [
        ("web", "transaction"),
        ("oltp", "transaction"),
        ("mixed", "transaction"),
        ("dw", "session"),
        ("desktop", "session"),
    ],
)
def test_pool_mode_by_workload(workload: str, mode: str) -> None:
    assert values(run(workload=workload))["pool_mode"] == mode


@pytest.mark.parametrize(
    ("cpus", "storage", "pool"), [(8, "ssd", 16), (8, "hdd", 17), (1, "nvme", 2), (64, "san", 128)]
)
def test_default_pool_size_is_cores_times_two_plus_spindles(cpus: int, storage: str, pool: int) -> None:
    got = values(run(cpus=cpus, storage=storage))
    assert got["default_pool_size"] == str(pool)
    reserve = max(1, round(pool * 0.25))
    assert got["reserve_pool_size"] == str(reserve)
    assert got["max_db_connections"] == str(pool + reserve)


def test_max_client_conn_from_input_or_workload() -> None:
    assert values(run(max_connections=5000))["max_client_conn"] == "5000"
    assert values(run(workload="web"))["max_client_conn"] == "1000"
    assert values(run(workload="dw"))["max_client_conn"] == "100"


def test_prepared_statements_gated_on_1_21() -> None:
    new = run(version="1.21")
    old = run(version="1.20.1")
    assert values(new)["max_prepared_statements"] == "200"
    assert "max_prepared_statements" not in values(old)
    assert any("statement_cache_size=0" in n for n in old.notes)
    assert "max_prepared_statements" not in values(run(version="1.22", workload="dw"))  # session mode needs none
    assert any("assumed PgBouncer" in n for n in run().notes)


def test_snippet_is_valid_ini_and_apply_is_reload() -> None:
    report = run(workload="oltp", cpus=4)
    parser = configparser.ConfigParser(comment_prefixes=(";", "#"))
    parser.read_string(report.config_snippet)
    assert parser.sections() == ["databases", "pgbouncer"]
    section = parser["pgbouncer"]
    for s in report.settings:
        assert section[s.name] == s.value
        assert s.apply == "reload" and s.formula and s.why
    assert report.config_format == "pgbouncer.ini"
    assert report.apply_statements == ["RELOAD;"]
    assert any("max_connections >= " in r for r in report.recommendations)


@pytest.mark.parametrize("version", ["banana", "2.0", "17"])
def test_bad_version(version: str) -> None:
    with pytest.raises(TuningInputError, match=r"1\.N"):
        run(version=version)


def test_bad_workload_names_the_valid_ones() -> None:
    with pytest.raises(TuningInputError, match="web, oltp, dw, mixed, desktop"):
        run(workload="cache")
