"""SQLite is read-only in depth: the guard, then mode=ro + query_only + an authorizer."""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

import pytest

from dbspecialist.adapters import sqlite as sqlite_adapter
from dbspecialist.adapters.guard import Accepted
from dbspecialist.adapters.sqlite import SQLiteAdapter
from dbspecialist.errors import DBSpecialistError, QueryError, QueryRefusedError, QueryTimeoutError
from tests.helpers import checksum, sqlite_conn

ATTACKS = [
    "DELETE FROM orders",
    "DROP TABLE orders",
    "ATTACH DATABASE '{tmp}/evil.db' AS evil",
    "PRAGMA writable_schema=1",
    "SELECT 1; DELETE FROM orders",
    "WITH x AS (SELECT 1) INSERT INTO categories (id, name) SELECT 999, 'x' FROM x",
    "UPDATE orders SET status = 'hacked'",
    "CREATE TABLE evil (a)",
    "VACUUM INTO '{tmp}/copy.db'",
    "PRAGMA journal_mode(WAL)",
    "PRAGMA query_only = 0",
    "INSERT INTO categories (id, name) VALUES (999, 'x')",
]


async def run(adapter: SQLiteAdapter, sql: str, **kw: int) -> object:
    return await adapter.run_read_only(
        sql,
        max_rows=kw.get("max_rows", 200),
        max_bytes=kw.get("max_bytes", 1_000_000),
        timeout_ms=kw.get("timeout_ms", 5_000),
    )


@pytest.mark.parametrize("attack", ATTACKS)
async def test_guard_refuses_and_file_is_unchanged(shop_copy: Path, tmp_path: Path, attack: str) -> None:
    before = checksum(shop_copy)
    adapter = SQLiteAdapter(sqlite_conn(shop_copy))
    try:
        with pytest.raises(QueryRefusedError, match="read-only guard"):
            await run(adapter, attack.format(tmp=tmp_path))
        result = await adapter.run_read_only(
            "SELECT COUNT(*) FROM orders", max_rows=1, max_bytes=10_000, timeout_ms=5_000
        )
        assert result.rows == [[3000]]
    finally:
        await adapter.close()
    assert checksum(shop_copy) == before
    assert not (tmp_path / "evil.db").exists() and not (tmp_path / "copy.db").exists()


@pytest.mark.parametrize("attack", ATTACKS)
async def test_engine_refuses_even_without_the_guard(
    shop_copy: Path, tmp_path: Path, attack: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Switch the parser guard off: mode=ro, query_only and the authorizer must still hold."""
    monkeypatch.setattr(sqlite_adapter, "check_sqlite", lambda sql: Accepted(kind="select", sql=sql))
    before = checksum(shop_copy)
    adapter = SQLiteAdapter(sqlite_conn(shop_copy))
    try:
        with pytest.raises(DBSpecialistError):
            await run(adapter, attack.format(tmp=tmp_path))
    finally:
        await adapter.close()
    assert checksum(shop_copy) == before
    assert not (tmp_path / "evil.db").exists() and not (tmp_path / "copy.db").exists()


async def test_million_rows_are_capped_while_streaming(shop_copy: Path) -> None:
    adapter = SQLiteAdapter(sqlite_conn(shop_copy))
    sql = (
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000000) "
        "SELECT x, printf('%080d', x) AS pad FROM c"
    )
    try:
        await run(adapter, "SELECT 1")  # open the connection outside the measurement
        tracemalloc.start()
        started = time.perf_counter()
        result = await adapter.run_read_only(sql, max_rows=200, max_bytes=10_000_000, timeout_ms=10_000)
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    finally:
        await adapter.close()
    assert result.row_count == 200 and result.truncated and result.truncated_by == "max_rows"
    assert result.rows[0][0] == 1 and result.rows[-1][0] == 200
    # 1,000,000 rows of ~100 bytes would be ~100 MB; streaming keeps the peak tiny and fast.
    assert peak < 5 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"
    assert elapsed < 2.0


async def test_byte_cap_truncates(shop_copy: Path) -> None:
    adapter = SQLiteAdapter(sqlite_conn(shop_copy))
    try:
        result = await adapter.run_read_only(
            "SELECT * FROM customers", max_rows=1000, max_bytes=20_000, timeout_ms=5_000
        )
    finally:
        await adapter.close()
    assert result.truncated and result.truncated_by == "max_bytes"
    assert 0 < result.row_count < 1000


async def test_endless_recursive_cte_stops_at_the_timeout(shop_copy: Path) -> None:
    adapter = SQLiteAdapter(sqlite_conn(shop_copy))
    endless = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT MAX(x) FROM c"
    try:
        started = time.perf_counter()
        with pytest.raises(QueryTimeoutError, match="longer than 300 ms"):
            await adapter.run_read_only(endless, max_rows=10, max_bytes=10_000, timeout_ms=300)
        assert time.perf_counter() - started < 2.0
        # The connection is usable afterwards.
        result = await adapter.run_read_only("SELECT 42", max_rows=1, max_bytes=1000, timeout_ms=1000)
        assert result.rows == [[42]]
    finally:
        await adapter.close()


async def test_sql_errors_are_clear(shop_copy: Path) -> None:
    adapter = SQLiteAdapter(sqlite_conn(shop_copy))
    try:
        with pytest.raises(QueryError, match="no such table: nope"):
            await run(adapter, "SELECT * FROM nope")
        with pytest.raises(QueryError, match="no such column"):
            await run(adapter, "SELECT missing_col FROM orders")
    finally:
        await adapter.close()


async def test_parameters_bind(shop_copy: Path) -> None:
    adapter = SQLiteAdapter(sqlite_conn(shop_copy))
    try:
        positional = await adapter.run_read_only(
            "SELECT id FROM orders WHERE id IN (?, ?) ORDER BY id",
            [5, 7],
            max_rows=10,
            max_bytes=10_000,
            timeout_ms=1000,
        )
        named = await adapter.run_read_only(
            "SELECT id FROM orders WHERE id = :id", {"id": 9}, max_rows=10, max_bytes=10_000, timeout_ms=1000
        )
    finally:
        await adapter.close()
    assert positional.rows == [[5], [7]] and named.rows == [[9]]


async def test_blob_and_special_values_are_json_safe(tmp_path: Path) -> None:
    from tests.helpers import make_db

    db = make_db(tmp_path / "v.db", "CREATE TABLE v (b BLOB, r REAL); INSERT INTO v VALUES (x'00ff10', 1.5);")
    adapter = SQLiteAdapter(sqlite_conn(db))
    try:
        result = await run(adapter, "SELECT b, r FROM v")
    finally:
        await adapter.close()
    assert result.rows == [[{"$base64": "AP8Q", "bytes": 3}, 1.5]]  # type: ignore[attr-defined]


async def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    db = tmp_path / "gone.db"
    db.write_bytes(b"")
    config = sqlite_conn(db)
    db.unlink()
    adapter = SQLiteAdapter(config)
    with pytest.raises(DBSpecialistError, match="does not exist"):
        await run(adapter, "SELECT 1")


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT randomblob(800000000)",
        "SELECT zeroblob(500000000)",
        "SELECT replace(hex(zeroblob(10000000)), '0', '00000000')",  # 160 M characters built step by step
    ],
)
async def test_one_huge_value_is_refused_before_it_is_built(shop_copy: Path, sql: str) -> None:
    adapter = SQLiteAdapter(sqlite_conn(shop_copy))
    try:
        started = time.perf_counter()
        with pytest.raises(QueryError, match="string or blob too big"):
            await run(adapter, sql)
        assert time.perf_counter() - started < 2.0
        # a value under the limit is still fine
        big = await run(adapter, f"SELECT length(randomblob({sqlite_adapter.VALUE_LIMIT_BYTES // 2})) AS n")
        assert big.rows == [[sqlite_adapter.VALUE_LIMIT_BYTES // 2]]  # type: ignore[attr-defined]
    finally:
        await adapter.close()
