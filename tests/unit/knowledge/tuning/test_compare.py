"""Live PostgreSQL settings are shown as SHOW prints them, and compare with recommendations by meaning."""

from __future__ import annotations

import pytest

from dbspecialist.knowledge.tuning.compare import live_value, same


@pytest.mark.parametrize(
    ("value", "unit", "shown"),
    [
        ("16384", "8kB", "128MB"),
        ("524288", "8kB", "4GB"),
        ("4096", "kB", "4MB"),
        ("3000", "kB", "3000kB"),
        ("2048", "16MB", "32GB"),
        ("60000", "ms", "1min"),
        ("200", "ms", "200ms"),
        ("0", "ms", "0ms"),
        ("-1", "ms", "-1"),
        ("86400", "s", "1d"),
        ("on", None, "on"),
    ],
)
def test_postgres_live_values_read_as_show_prints_them(value: str, unit: str | None, shown: str) -> None:
    assert live_value("postgresql", value, unit) == shown


def test_recommendation_and_live_value_compare_by_meaning() -> None:
    assert same("128MB", live_value("postgresql", "16384", "8kB") or "")
    assert not same("4GB", live_value("postgresql", "16384", "8kB") or "")
    assert same("1min", live_value("postgresql", "60", "s") or "")
    assert live_value("mysql", "134217728", None) == "134217728"  # MySQL reports bytes as a plain number


@pytest.mark.parametrize(
    ("value", "like", "shown"),
    [
        ("134217728", "12G", "128M"),
        ("100663296", "3G", "96M"),
        ("1000", "64M", "1000"),
        ("200", "2000", "200"),  # not a size: left as the server gives it
        ("O_DIRECT", "O_DIRECT", "O_DIRECT"),
    ],
)
def test_mysql_byte_counts_read_in_the_recommendations_units(value: str, like: str, shown: str) -> None:
    assert live_value("mysql", value, None, like=like) == shown
    assert same(like, shown) == same(like, value)  # formatting never changes the verdict


@pytest.mark.parametrize(
    ("recommended", "live", "expected"),
    [
        ("0.05", "0.2", False),  # below 1: truncating to int once made these 0 == 0
        ("0.025", "0.1", False),
        ("1.1", "1.9", False),
        ("0.9", "0.5", False),
        ("0.05", "0.050", True),
        ("1.5MB", "1536kB", True),
        ("-2000", "-65536", False),
    ],
)
def test_decimal_values_compare_without_truncation(recommended: str, live: str, expected: bool) -> None:
    assert same(recommended, live) is expected


@pytest.mark.parametrize(
    ("name", "value", "recommended", "shown", "changes"),
    [
        ("auto_vacuum", "0", "NONE", "NONE", False),
        ("auto_vacuum", "2", "INCREMENTAL", "INCREMENTAL", False),
        ("auto_vacuum", "0", "INCREMENTAL", "NONE", True),
        ("synchronous", "1", "NORMAL", "NORMAL", False),
        ("synchronous", "2", "NORMAL", "FULL", True),
        ("temp_store", "2", "MEMORY", "MEMORY", False),
        ("temp_store", "0", "MEMORY", "DEFAULT", True),
    ],
)
def test_sqlite_numeric_enums_read_by_name(name: str, value: str, recommended: str, shown: str, changes: bool) -> None:
    current = live_value("sqlite", value, None, like=recommended, name=name)
    assert current == shown
    assert same(recommended, current) is not changes
