"""MySQL/MariaDB is read-only in depth: the guard, then the READ ONLY transaction; caps and timeouts."""

from __future__ import annotations

import asyncio
import os
import time
import tracemalloc

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dbspecialist.adapters import mysql as mysql_module
from dbspecialist.adapters.guard import Accepted
from dbspecialist.adapters.mysql import MySQLAdapter
from dbspecialist.errors import DBSpecialistError, QueryError, QueryRefusedError, QueryTimeoutError
from tests.integration.mysql.conftest import admin, checksum, make_config

pytestmark = pytest.mark.integration

OUTFILE = "/tmp/dbs_mysql_attack_out.txt"
DUMPFILE = "/tmp/dbs_mysql_attack_dump.bin"
# (attack, a word the refusal must contain)
ATTACKS: list[tuple[str, str]] = [
    (f"SELECT * FROM orders INTO OUTFILE '{OUTFILE}'", "INTO"),
    (f"SELECT total FROM orders LIMIT 1 INTO DUMPFILE '{DUMPFILE}'", "INTO"),
    ("SELECT LOAD_FILE('/etc/passwd')", "LOAD_FILE"),
    ("COMMIT; DROP TABLE orders", "2 statements"),
    ("/*!50000 DROP TABLE orders */", "executable comment"),
    ("SELECT 1 /*! ; DROP TABLE orders */", "executable comment"),
    ("SELECT 1 /*M!100000 , SLEEP(5) */", "executable comment"),
    ("LOCK TABLES orders WRITE", "LOCK"),
    ("UNLOCK TABLES", "UNLOCK"),
    ("HANDLER orders OPEN", "HANDLER"),
    ("SET GLOBAL max_connections = 1", "SET"),
    ("SET SESSION TRANSACTION READ WRITE", "SET"),
    ("SELECT GET_LOCK('x', 10)", "GET_LOCK"),
    ("SELECT BENCHMARK(100000000, MD5('x'))", "BENCHMARK"),
    ("SELECT SLEEP(60)", "SLEEP"),
    ("CREATE TABLE evil SELECT * FROM orders", "CREATE"),
    ("LOAD DATA INFILE '/etc/hostname' INTO TABLE audit", "LOAD"),
    ("REPLACE INTO customers (id, name) VALUES (1, 'x')", "REPLACE"),
    ("INSERT INTO customers (id, name) VALUES (1, 'x') ON DUPLICATE KEY UPDATE name = 'hacked'", "INSERT"),
    ("TRUNCATE TABLE orders", "TRUNCATE"),
    ("TRUNCATE orders", "TRUNCATE"),
    ("DELETE FROM orders", "DELETE"),
    ("UPDATE orders SET total = 0", "UPDATE"),
    ("DROP TABLE orders", "DROP"),
    ("ALTER TABLE orders ADD COLUMN evil INT", "ALTER"),
    ("RENAME TABLE orders TO gone", "RENAME"),
    ("GRANT ALL ON *.* TO 'evil'@'%'", "GRANT"),
    ("FLUSH TABLES", "FLUSH"),
    ("KILL 1", "KILL"),
    ("SELECT * FROM orders FOR UPDATE", "FOR UPDATE"),
    ("SELECT * FROM orders LOCK IN SHARE MODE", "LOCK"),
    ("SELECT 1 INTO @x", "INTO"),
    ("SELECT @x := 1", ":="),
    ("CALL mysql.evil()", "CALL"),
    ("DO RELEASE_ALL_LOCKS()", "DO"),
    ("PREPARE s FROM 'DELETE FROM orders'", "PREPARE"),
    ("START TRANSACTION", "START"),
    ("INSTALL PLUGIN evil SONAME 'evil.so'", "INSTALL"),
    ("SELECT sys_exec('touch /tmp/dbs_pwn')", "SYS_EXEC"),
    ("SELECT NEXTVAL(seq)", "NEXTVAL"),
    ("WITH x AS (SELECT 1) DELETE FROM orders", "DELETE"),
    ("ANALYZE DELETE FROM orders", "ANALYZE"),
    ("EXPLAIN ANALYZE SELECT * FROM orders", "ANALYZE"),
    ("SELECT 'a\\\\'; DROP TABLE orders -- '", "2 statements"),
    ("SELECT 1 # comment\n; DROP TABLE orders", "2 statements"),
    ("SELECT 1 --1\n; DROP TABLE orders", "--"),
    ("XA START 'x'", "XA"),
    ("SHUTDOWN", "SHUTDOWN"),
]
# What the server refuses on its own (READ ONLY transaction, multi-statements off), guard switched off.
DIGITS = (
    "(SELECT 0 d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 "
    "UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9)"
)
ENGINE_ATTACKS = [
    "DELETE FROM orders",
    "UPDATE orders SET total = 0",
    "REPLACE INTO customers (id, name) VALUES (1, 'x')",
    "INSERT INTO customers (id, name) VALUES (1, 'x') ON DUPLICATE KEY UPDATE name = 'hacked'",
    "INSERT INTO audit (note) VALUES ('x')",
    "COMMIT; DROP TABLE orders",
    "SELECT 1; DELETE FROM orders",
    "SELECT 'a\\\\'; DROP TABLE orders -- '",
    "LOAD DATA INFILE '/etc/hostname' INTO TABLE audit",
]


async def run(adapter: MySQLAdapter, sql: str, params: object = None, **kw: int) -> mysql_module.QueryResult:
    return await adapter.run_read_only(
        sql,
        params,  # type: ignore[arg-type]
        max_rows=kw.get("max_rows", 200),
        max_bytes=kw.get("max_bytes", 1_000_000),
        timeout_ms=kw.get("timeout_ms", 5_000),
    )


def test_the_attack_corpus_is_large_enough() -> None:
    assert len(ATTACKS) >= 20 and len({a for a, _ in ATTACKS}) == len(ATTACKS)


async def test_guard_refuses_every_attack_and_nothing_changes(mysql_db: str) -> None:
    before = checksum(mysql_db)
    adapter = MySQLAdapter(make_config(mysql_db))
    try:
        wrong = []
        for attack, reason in ATTACKS:
            with pytest.raises(QueryRefusedError, match="Refused by the read-only guard") as info:
                await run(adapter, attack)
            if reason.lower() not in str(info.value).lower():
                wrong.append((attack, str(info.value)))
        assert not wrong
        result = await run(adapter, "SELECT COUNT(*) FROM orders")
        assert result.rows == [[3]]
    finally:
        await adapter.close()
    assert checksum(mysql_db) == before
    assert not await asyncio.to_thread(os.path.exists, OUTFILE)
    assert not await asyncio.to_thread(os.path.exists, DUMPFILE)


@pytest.mark.parametrize("attack", ENGINE_ATTACKS)
async def test_engine_refuses_even_without_the_guard(
    mysql_db: str, attack: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Switch the parser guard off: the READ ONLY transaction and single-statement protocol must hold."""
    monkeypatch.setattr(mysql_module, "check_mysql", lambda sql: Accepted(kind="select", sql=sql))
    before = checksum(mysql_db)
    adapter = MySQLAdapter(make_config(mysql_db))
    try:
        with pytest.raises(DBSpecialistError):
            await run(adapter, attack)
        assert (await run(adapter, "SELECT COUNT(*) FROM orders")).rows == [[3]]
    finally:
        await adapter.close()
    assert checksum(mysql_db) == before


READS = [
    "SELECT * FROM orders",
    "SELECT name FROM customers ORDER BY id",
    "SHOW TABLES",
    "SELECT * FROM audit",
    "VALUES (1, 'a'), (2, 'b')",
]
WRITES = [
    "DELETE FROM orders",
    "DROP TABLE audit",
    "INSERT INTO audit (note) VALUES ('x')",
    "UPDATE customers SET name = 'x'",
    "CREATE TABLE evil (a INT)",
    "TRUNCATE audit",
    "SELECT GET_LOCK('x', 0)",
    "LOCK TABLES audit WRITE",
    "SET @a = 1",
    "COMMIT",
]
SEPARATORS = [";", "; ", ";\n", " /*! ; */ ", "\n#x\n;", " /* c */ ;", ";-- \n"]


def test_random_statement_sequences_never_change_data(mysql_db: str) -> None:
    """Hypothesis: any mix of reads and writes, joined any way, is refused or only reads."""
    before = checksum(mysql_db)
    loop = asyncio.new_event_loop()
    adapter = MySQLAdapter(make_config(mysql_db))
    outcomes: dict[str, int] = {"accepted": 0, "refused": 0}

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(
        st.lists(st.sampled_from(READS + WRITES), min_size=1, max_size=4),
        st.lists(st.sampled_from(SEPARATORS), min_size=4, max_size=4),
    )
    def check(statements: list[str], seps: list[str]) -> None:
        sql = "".join(s + (seps[i] if i < len(statements) - 1 else "") for i, s in enumerate(statements))
        try:
            loop.run_until_complete(run(adapter, sql))
            outcomes["accepted"] += 1
            assert len(statements) == 1 and statements[0] in READS, sql
        except QueryRefusedError:
            outcomes["refused"] += 1

    try:
        check()
    finally:
        loop.run_until_complete(adapter.close())
        loop.close()
    assert checksum(mysql_db) == before
    assert outcomes["refused"] > 0


async def test_ten_million_rows_are_capped_fast_with_bounded_memory(mysql_db: str) -> None:
    digits = DIGITS
    names = "abcdefg"
    number = " + ".join(f"{10**i}*{n}.d" for i, n in enumerate(names))
    sql = f"SELECT {number} AS n, REPEAT('x', 80) AS pad FROM " + ", ".join(f"{digits} {n}" for n in names)
    adapter = MySQLAdapter(make_config(mysql_db))
    try:
        await run(adapter, "SELECT 1")  # connect outside the measurement
        small_peak, small_elapsed = await _measure(adapter, sql + " LIMIT 1000")
        tracemalloc.start()
        started = time.perf_counter()
        result = await run(adapter, sql, max_rows=200, max_bytes=10_000_000, timeout_ms=20_000)
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        # The pool still works after the connection with unread rows was discarded.
        assert (await run(adapter, "SELECT 42")).rows == [[42]]
    finally:
        await adapter.close()
    assert result.row_count == 200 and result.truncated and result.truncated_by == "max_rows"
    # 10,000,000 rows of ~90 bytes would be ~900 MB; streaming keeps the peak small and flat.
    assert peak < 5 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"
    assert peak < small_peak * 3 + 1_000_000, (peak, small_peak)
    assert elapsed < 2.0, f"{elapsed:.2f} s (small result: {small_elapsed:.2f} s)"


async def _measure(adapter: MySQLAdapter, sql: str) -> tuple[int, float]:
    tracemalloc.start()
    started = time.perf_counter()
    result = await run(adapter, sql, max_rows=200, max_bytes=10_000_000)
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert result.truncated
    return peak, elapsed


async def test_byte_cap_truncates(mysql_db: str) -> None:
    adapter = MySQLAdapter(make_config(mysql_db))
    try:
        sql = (
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 5000) "
            "SELECT x, REPEAT('y', 100) FROM c"
        )
        result = await run(adapter, sql, max_rows=5000, max_bytes=20_000)
    finally:
        await adapter.close()
    assert result.truncated and result.truncated_by == "max_bytes"
    assert 0 < result.row_count < 5000


async def test_slow_query_stops_at_the_timeout_and_the_server_stops_too(mysql_db: str) -> None:
    """SLEEP is refused by the guard, so a legal heavy query stands in for it."""
    adapter = MySQLAdapter(make_config(mysql_db))
    slow = "SELECT COUNT(*) AS slow_count_marker FROM " + ", ".join(f"{DIGITS} d{i}" for i in range(9))
    try:
        started = time.perf_counter()
        with pytest.raises(QueryTimeoutError, match="longer than 400 ms") as info:
            await run(adapter, slow, timeout_ms=400)
        assert "127.0.0.1" in str(info.value) or "localhost" in str(info.value)
        assert time.perf_counter() - started < 2.0
        assert (await run(adapter, "SELECT 42")).rows == [[42]]
    finally:
        await adapter.close()
    await asyncio.sleep(0.2)
    with admin() as conn, conn.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE %s", ("%slow_count_mark%",))
        assert cur.fetchone()[0] <= 1  # only this very query


async def test_client_deadline_kills_a_query_the_server_does_not_limit(
    mysql_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Guard off and server limit off: SLEEP(30) must still end at the client deadline via KILL QUERY."""
    monkeypatch.setattr(mysql_module, "check_mysql", lambda sql: Accepted(kind="select", sql=sql))
    monkeypatch.setattr(mysql_module, "MARIADB_TIMEOUT_SQL", "SET SESSION max_statement_time = 0 + 0 * %s")
    monkeypatch.setattr(mysql_module, "MYSQL_TIMEOUT_SQL", "SET SESSION max_execution_time = 0 * %s")
    adapter = MySQLAdapter(make_config(mysql_db))
    try:
        started = time.perf_counter()
        with pytest.raises(QueryTimeoutError):
            await run(adapter, "SELECT SLEEP(30)", timeout_ms=300)
        assert time.perf_counter() - started < 3.0
    finally:
        await adapter.close()
    await asyncio.sleep(0.3)
    with admin() as conn, conn.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO = 'SELECT SLEEP(30)'")
        assert cur.fetchone()[0] == 0


async def test_sql_errors_are_clear_and_parameters_bind(mysql_db: str) -> None:
    adapter = MySQLAdapter(make_config(mysql_db))
    try:
        with pytest.raises(QueryError, match="doesn't exist"):
            await run(adapter, "SELECT * FROM nope")
        positional = await run(adapter, "SELECT id FROM customers WHERE id IN (?, ?) ORDER BY id", [1, 3])
        named = await run(adapter, "SELECT name FROM customers WHERE name = :n OR name = :n", {"n": "Bob"})
        nasty = "it's \\ '; DROP TABLE orders; --"
        tricky = await run(adapter, "SELECT ? AS s, ? AS b, '?' AS q", [nasty, b"\x00\xff"])
        with pytest.raises(QueryError, match="placeholder"):
            await run(adapter, "SELECT ?", [1, 2])
        # a bare VALUES list: MariaDB 10.3+ spelling, MySQL 8.0.19+ needs ROW(); the guard reads it as a derived table
        rows = "(1, 'a'), (2, 'b')" if adapter.flavor == "mariadb" else "ROW(1, 'a'), ROW(2, 'b')"
        values = await run(adapter, f"VALUES {rows}")
    finally:
        await adapter.close()
    assert positional.rows == [[1], [3]] and named.rows == [["Bob"]]
    assert values.rows == [[1, "a"], [2, "b"]]
    assert tricky.rows == [["it's \\ '; DROP TABLE orders; --", {"$base64": "AP8=", "bytes": 2}, "?"]]


async def test_writable_connection_writes_one_statement_and_analyze_rolls_back(mysql_db: str) -> None:
    adapter = MySQLAdapter(make_config(mysql_db, read_only=False))
    try:
        await run(adapter, "INSERT INTO audit (note) VALUES ('kept')")
        with pytest.raises(QueryRefusedError, match="2 statements"):
            await run(adapter, "INSERT INTO audit (note) VALUES ('a'); DELETE FROM audit")
        plan = await adapter.explain("DELETE FROM orders", analyze=True, timeout_ms=5_000)
        assert plan.analyzed and plan.format == "json"
        count = await run(adapter, "SELECT COUNT(*) FROM orders")
        notes = await run(adapter, "SELECT note FROM audit WHERE note <> 'order'")
    finally:
        await adapter.close()
    assert count.rows == [[3]]  # the analysed DELETE was rolled back
    assert notes.rows == [["kept"]]
