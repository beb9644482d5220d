"""check_health on a real MariaDB/MySQL: planted problems are reported with the right threads and tables.

In a database of its own (`dbspecialist_health_h2_*`): session A holds a row lock in an open transaction and
session B's UPDATE waits for it; a session with a tiny tmp_table_size groups by a TEXT column (on-disk temporary
tables); a table gets most of its rows deleted (free space in its tablespace). The snapshot runs through the real
adapter, read-only. Thresholds are lowered so the test needs neither minutes of waiting nor gigabytes of data;
the counters are server-wide, so the test compares them with their values before the planting.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pymysql
import pytest

from dbspecialist.adapters.health_mysql import mysql_health_snapshot
from dbspecialist.adapters.mysql import MySQLAdapter
from dbspecialist.knowledge.health.mysql import MySqlThresholds, check_mysql
from tests.integration.mysql.conftest import admin, make_config

MIB = 1024**2
FRAG_ROWS = 100_000
KEPT_ROWS = 10_000
TMP_QUERIES = 5
THRESHOLDS = MySqlThresholds(
    lock_wait_seconds=0.5,
    tmp_tables_min=1,
    tmp_disk_pct=0.01,
    fragmentation_min_free_bytes=16 * MIB,
    fragmentation_pct=50.0,
)


@dataclass
class Planted:
    database: str
    holder: int  # thread id of A (holds the row lock, idle in its transaction)
    waiter: int  # thread id of B (its UPDATE waits)
    tmp_disk_before: int


def _status(cur: pymysql.cursors.Cursor, name: str) -> int:
    cur.execute("SHOW GLOBAL STATUS LIKE %s", (name,))
    row = cur.fetchone()
    assert row is not None
    return int(row[1])


def _wait_until(probe: Callable[[], bool], what: str, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not probe():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


@pytest.fixture
def planted(mysql_server: None) -> Iterator[Planted]:
    database = f"dbspecialist_health_h2_{secrets.token_hex(3)}"
    setup = admin()
    holder = waiter_conn = None
    waiter_thread: threading.Thread | None = None
    try:
        with setup.cursor() as cur:
            cur.execute(f"CREATE DATABASE `{database}`")
            cur.execute(f"USE `{database}`")
            cur.execute("CREATE TABLE h2_acct (id INT PRIMARY KEY, bal INT NOT NULL) ENGINE=InnoDB")
            cur.execute("INSERT INTO h2_acct VALUES (1, 10), (2, 20)")
            cur.execute("CREATE TABLE h2_notes (id INT PRIMARY KEY, body TEXT NOT NULL) ENGINE=InnoDB")
            cur.execute("INSERT INTO h2_notes SELECT seq, CONCAT('note ', seq % 50) FROM seq_1_to_2000")
            cur.execute("CREATE TABLE h2_frag (id INT AUTO_INCREMENT PRIMARY KEY, pad CHAR(255) NOT NULL)")
            cur.execute(f"INSERT INTO h2_frag (pad) SELECT REPEAT('x', 255) FROM seq_1_to_{FRAG_ROWS}")
            cur.execute(f"DELETE FROM h2_frag WHERE id > {KEPT_ROWS}")

            # On-disk temporary tables: a GROUP BY on a TEXT column with a tiny in-memory limit.
            tmp_disk_before = _status(cur, "Created_tmp_disk_tables")
            cur.execute("SET SESSION tmp_table_size = 1024, max_heap_table_size = 16384")
            for _ in range(TMP_QUERIES):
                cur.execute("SELECT body, COUNT(*) FROM h2_notes GROUP BY body ORDER BY COUNT(*) DESC")
                cur.fetchall()

            # The purge thread frees the deleted rows' pages within a second or two.
            def freed() -> bool:
                cur.execute(
                    "SELECT DATA_FREE FROM information_schema.TABLES "
                    "WHERE TABLE_SCHEMA = %s AND TABLE_NAME = 'h2_frag'",
                    (database,),
                )
                row = cur.fetchone()
                return bool(row and int(row[0]) >= 24 * MIB)

            _wait_until(freed, "InnoDB to purge the deleted rows of h2_frag")
            cur.execute("ANALYZE TABLE h2_frag")
            cur.fetchall()

        # A row-lock wait: A updates row 1 and stays idle in its transaction; B's UPDATE of the same row waits.
        holder = pymysql.connect(host=setup.host, port=setup.port, user=setup.user, database=database)
        with holder.cursor() as cur:
            cur.execute("BEGIN")
            cur.execute("UPDATE h2_acct SET bal = bal + 1 WHERE id = 1")
        waiter_conn = pymysql.connect(
            host=setup.host, port=setup.port, user=setup.user, database=database, autocommit=True
        )
        waiter_id = waiter_conn.thread_id()

        def wait_for_row() -> None:
            assert waiter_conn is not None
            with waiter_conn.cursor() as cur:
                cur.execute("SET SESSION innodb_lock_wait_timeout = 30")
                cur.execute("UPDATE h2_acct SET bal = bal - 1 WHERE id = 1")

        waiter_thread = threading.Thread(target=wait_for_row, daemon=True)
        waiter_thread.start()

        def waiting() -> bool:
            with setup.cursor() as cur:
                cur.execute(
                    "SELECT COUNT(*) FROM information_schema.INNODB_TRX "
                    "WHERE trx_mysql_thread_id = %s AND trx_state = 'LOCK WAIT'",
                    (waiter_id,),
                )
                row = cur.fetchone()
                return bool(row and row[0])

        _wait_until(waiting, "session B to wait for the row lock")
        time.sleep(THRESHOLDS.lock_wait_seconds + 0.2)
        yield Planted(database, holder.thread_id(), waiter_id, tmp_disk_before)
    finally:
        if holder is not None:
            holder.rollback()
            holder.close()
        if waiter_thread is not None:
            waiter_thread.join(35)
        if waiter_conn is not None:
            waiter_conn.close()
        with setup.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{database}`")
        setup.close()


async def test_planted_lock_wait_temp_tables_and_fragmentation_are_reported(planted: Planted) -> None:
    adapter = MySQLAdapter(make_config(planted.database))
    try:
        snapshot = await mysql_health_snapshot(adapter)
    finally:
        await adapter.close()
    assert snapshot["round_trips"] == 6 and snapshot["flavor"] in ("mariadb", "mysql")
    assert json.loads(json.dumps(snapshot)) == snapshot  # JSON-able, as the contract says
    report = check_mysql(snapshot, thresholds=THRESHOLDS)
    # The row-lock wait: A blocks B on h2_acct, A idle (Sleep) in its transaction.
    [lock] = [f for f in report.findings if f.rule_id == "HLT057" and f.evidence["blocking_thread"] == planted.holder]
    assert lock.subject == f"{planted.database}.h2_acct" and lock.table == "h2_acct"
    assert lock.evidence["waiting_threads"] == str(planted.waiter)
    assert lock.evidence["blocking_command"] == "Sleep" and lock.evidence["lock_index"] == "PRIMARY"
    assert float(lock.evidence["max_wait_seconds"] or 0) >= THRESHOLDS.lock_wait_seconds
    assert lock.evidence["measured"] == "sample"
    assert lock.fix is not None and lock.fix.statements == [f"KILL {planted.holder};"]
    assert report.metrics["current_lock_waits"] >= 1  # type: ignore[operator]

    # On-disk temporary tables: the server-wide counter includes the planted ones.
    [tmp] = [f for f in report.findings if f.rule_id == "HLT056"]
    assert int(tmp.evidence["created_tmp_disk_tables"] or 0) >= planted.tmp_disk_before + TMP_QUERIES
    assert tmp.evidence["measured"] == "counter" and tmp.evidence["since"] == report.stats_since

    # Fragmentation: h2_frag lost 90 % of its rows.
    [frag] = [f for f in report.findings if f.rule_id == "HLT061" and f.table == "h2_frag"]
    assert frag.subject == f"{planted.database}.h2_frag"
    assert int(frag.evidence["free_bytes"] or 0) >= 24 * MIB and float(frag.evidence["free_pct"] or 0) >= 50.0
    assert frag.fix is not None and frag.fix.statements == [f"OPTIMIZE TABLE {planted.database}.h2_frag;"]

    # Not a replica: both replication checks are skipped with the reason; the metrics carry the numbers.
    assert report.skipped["replica_lag"].startswith("not a replica")
    assert "replica_threads" not in report.checks_run and "current_lock_waits" in report.checks_run
    assert report.metrics["threads_connected"] >= 3  # type: ignore[operator]
    assert report.stats_since is not None and report.stats_since.endswith("Z")
