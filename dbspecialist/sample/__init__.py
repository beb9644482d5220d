"""The bundled sample database: an online shop in SQLite, built on first use.

The SQL script ships inside the package (`shop.sql`); the database file is created in the
user's cache directory (never inside site-packages), named after the script's hash so that
a new release rebuilds it, and written atomically so concurrent first uses are safe.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import tempfile
from importlib import resources
from pathlib import Path

from dbspecialist.config import ConnectionConfig, ConnectionOptions

SAMPLE_NAME = "sample"


def script_text() -> str:
    return resources.files(__package__).joinpath("shop.sql").read_text(encoding="utf-8")


def cache_dir(override: Path | None = None) -> Path:
    """Where the sample lives: the override, `DBSPECIALIST_CACHE_DIR`, the user cache dir, or a temp dir."""
    if override is not None:
        return override
    env = os.environ.get("DBSPECIALIST_CACHE_DIR")
    if env:
        return Path(env)
    import platformdirs  # only needed here

    return Path(platformdirs.user_cache_dir("dbspecialist", appauthor=False))


def sample_path(directory: Path | None = None) -> Path:
    digest = hashlib.sha256(script_text().encode()).hexdigest()[:12]
    return cache_dir(directory) / f"sample-shop-{digest}.db"


def ensure_sample(path: Path) -> Path:
    """Create the sample database at `path` unless it already exists; return the path used.

    Falls back to the temp directory when the cache directory is not writable.
    """
    if path.is_file():
        return path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _build(path)
    except OSError:
        fallback = Path(tempfile.gettempdir()) / "dbspecialist" / path.name
        if fallback.is_file():
            return fallback
        fallback.parent.mkdir(parents=True, exist_ok=True)
        _build(fallback)
        return fallback
    return path


def _build(path: Path) -> None:
    fd, tmp = tempfile.mkstemp(prefix=".sample-", suffix=".db", dir=path.parent)
    os.close(fd)
    try:
        con = sqlite3.connect(tmp)
        try:
            con.executescript(script_text())
            con.commit()
        finally:
            con.close()
        os.replace(tmp, path)  # atomic: a concurrent builder's file is identical
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def sample_connection(directory: Path | None = None) -> ConnectionConfig:
    """The `sample` connection registered when no connection is configured (file built lazily)."""
    path = sample_path(directory).absolute()
    return ConnectionConfig(
        name=SAMPLE_NAME,
        url=f"sqlite:///{path}",
        engine="sqlite",
        options=ConnectionOptions(),
        source="built-in sample (online shop)",
        is_sample=True,
    )
