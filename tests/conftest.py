"""Shared fixtures: a private cache dir for the sample database, connection builders."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from dbspecialist.config import ConnectionConfig
from dbspecialist.redaction import forget_secrets
from dbspecialist.sample import ensure_sample, sample_connection


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("cache")
    old = os.environ.get("DBSPECIALIST_CACHE_DIR")
    os.environ["DBSPECIALIST_CACHE_DIR"] = str(path)
    yield path
    if old is None:
        os.environ.pop("DBSPECIALIST_CACHE_DIR", None)
    else:
        os.environ["DBSPECIALIST_CACHE_DIR"] = old


@pytest.fixture(scope="session")
def sample_config(cache_dir: Path) -> ConnectionConfig:
    config = sample_connection(cache_dir)
    ensure_sample(config.sqlite_path)
    return config


@pytest.fixture
def shop_copy(sample_config: ConnectionConfig, tmp_path: Path) -> Path:
    """A private copy of the sample database a test may checksum."""
    target = tmp_path / "shop.db"
    target.write_bytes(sample_config.sqlite_path.read_bytes())
    return target


@pytest.fixture(autouse=True)
def _fresh_secrets() -> Iterator[None]:
    """Secrets registered by one test must not mask text in the next."""
    yield
    forget_secrets()
