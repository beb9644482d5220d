"""The raw facts `check_health` interprets for SQLite: one JSON-able snapshot, no judgement.

Everything is read on the adapter's own read-only connection (mode=ro, query_only, the authorizer), in one
visit to its worker thread: the file-level PRAGMAs, `PRAGMA quick_check`, every `PRAGMA foreign_key_check`
violation (counted, with the first rowids of each foreign key) and the foreign key definitions, then the sizes
of the database and -wal files. The statement deadline of the connection stops a long quick_check; what could
not be read is recorded in `snapshot["unavailable"]`.

Coupling: like `hypopg.py` does for PostgreSQL, this module uses SQLiteAdapter's private `_lock`, `_connect`,
`_deadline` and `_path`, and the module flag `_INTERNAL_READ` (which lets the authorizer pass the adapter's own bare
PRAGMA reads; user SQL never runs with it set).
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any, Final

from dbspecialist.adapters import sqlite as sqlite_adapter
from dbspecialist.adapters.sqlite import FOREIGN_KEYS_SQL, SQLiteAdapter

PRAGMAS: Final = (
    "page_size",
    "page_count",
    "freelist_count",
    "journal_mode",
    "wal_autocheckpoint",
    "journal_size_limit",
    "auto_vacuum",
    "foreign_keys",
    "synchronous",
)
QUICK_CHECK_MAX_ERRORS: Final = 100
SAMPLE_ROWIDS: Final = 5  # rowids listed per violated foreign key (all of them are counted)


def _file_size(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except OSError:
        return None


def _read(raw: sqlite3.Connection) -> dict[str, Any]:
    """Runs on aiosqlite's worker thread, with the internal-read flag set."""
    out: dict[str, Any] = {"pragmas": {}, "unavailable": {}}
    for name in PRAGMAS:
        try:
            row = raw.execute(f"PRAGMA {name}").fetchone()
        except sqlite3.Error as exc:
            out["unavailable"][f"pragma {name}"] = str(exc)
            continue
        out["pragmas"][name] = row[0] if row else None
    out["round_trips"] = len(PRAGMAS)

    try:
        rows = raw.execute(f"PRAGMA quick_check({QUICK_CHECK_MAX_ERRORS})").fetchall()
        # One row may carry several problems, one a line, under a "*** in database main ***" header.
        lines = [line for r in rows for line in str(r[0]).splitlines() if line and not line.startswith("*** ")]
        out["quick_check"] = lines[:QUICK_CHECK_MAX_ERRORS]
    except sqlite3.OperationalError as exc:
        if "interrupted" in str(exc):
            out["unavailable"]["quick_check"] = "stopped at the connection's statement timeout (a large file); " + (
                "raise statement_timeout_ms for this connection to run it to the end"
            )
        else:
            out["quick_check"] = [f"quick_check failed: {exc}"]
    except sqlite3.DatabaseError as exc:  # "database disk image is malformed" is itself the answer
        out["quick_check"] = [f"quick_check failed: {exc}"]
    out["round_trips"] += 1

    violations: dict[tuple[str, int], dict[str, Any]] = {}
    try:
        for table, rowid, parent, fkid in raw.execute("PRAGMA foreign_key_check"):
            entry = violations.setdefault(
                (str(table), int(fkid)),
                {"table": str(table), "fkid": int(fkid), "parent": str(parent), "count": 0, "rowids": []},
            )
            entry["count"] += 1
            if len(entry["rowids"]) < SAMPLE_ROWIDS and rowid is not None:
                entry["rowids"].append(int(rowid))
        definitions: dict[tuple[str, int], dict[str, list[str | None]]] = {}
        for table, fid, _seq, _target, src, dst, _upd, _del in raw.execute(FOREIGN_KEYS_SQL):
            entry = definitions.setdefault((str(table), int(fid)), {"from": [], "to": []})
            entry["from"].append(src)
            entry["to"].append(dst)
        for key, violation in violations.items():
            columns = definitions.get(key, {"from": [], "to": []})
            violation["columns"] = columns["from"]
            violation["parent_columns"] = columns["to"]
        out["foreign_key_violations"] = sorted(violations.values(), key=lambda v: (v["table"], v["fkid"]))
    except sqlite3.Error as exc:
        reason = "stopped at the connection's statement timeout" if "interrupted" in str(exc) else str(exc)
        out["unavailable"]["foreign_key_check"] = reason
    out["round_trips"] += 2
    return out


async def sqlite_health_snapshot(adapter: SQLiteAdapter) -> dict[str, Any]:
    """Read everything `check_sqlite` needs: PRAGMAs, quick_check, foreign_key_check and the file sizes."""
    async with adapter._lock:
        conn = await adapter._connect()
        raw: sqlite3.Connection = conn._conn  # used on its own worker thread only

        def read() -> dict[str, Any]:
            sqlite_adapter._INTERNAL_READ.value = True
            try:
                return _read(raw)
            finally:
                sqlite_adapter._INTERNAL_READ.value = False

        adapter._deadline = time.monotonic() + adapter.config.options.statement_timeout_ms / 1000
        try:
            snapshot: dict[str, Any] = await conn._execute(read)  # type: ignore[no-untyped-call]
        finally:
            adapter._deadline = 0.0
    path = adapter._path or adapter.config.sqlite_path
    snapshot.update(
        {
            "engine": "sqlite",
            "server_version": sqlite3.sqlite_version,
            "path": str(path),
            "file_bytes": _file_size(path),
            "wal_bytes": _file_size(Path(f"{path}-wal")) or 0,
        }
    )
    return snapshot


__all__ = ["sqlite_health_snapshot"]
