"""The raw statistics `check_health` interprets for MySQL and MariaDB: one JSON-able snapshot, no judgement.

At most six round trips on ONE pooled connection of the adapter (its session is READ ONLY and carries the
statement time limit), whatever the number of tables: the server clock and version, the variables and the status
counters the rules read (`SHOW GLOBAL ... WHERE Variable_name IN (...)`), the current row-lock waits (who blocks
whom), the replica status, and the tables with the most free space. A section that fails (no PROCESS privilege, a view
missing on this flavor, the time limit, performance_schema off on MySQL 8) is recorded in
`snapshot["unavailable"]` and the others still run.

Flavors: MariaDB and MySQL 5.7 list lock waits in information_schema.INNODB_LOCK_WAITS/INNODB_LOCKS; MySQL 8
moved them to performance_schema.data_lock_waits/data_locks. `SHOW REPLICA STATUS` exists from MariaDB 10.5.1
and MySQL 8.0.22 (`SHOW SLAVE STATUS` before); its column names are normalised to the Source/Replica spelling.

Coupling: like `hypopg.py` for PostgreSQL, this module uses MySQLAdapter's private `_connection` (pool, session
setup, time limit), `_kill_query`, `_timeout_message`, `_translate` and the flavor it detects.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass
from typing import Any, Final

import pymysql

from dbspecialist.adapters import mysql as mysql_adapter
from dbspecialist.adapters.mysql import MySQLAdapter
from dbspecialist.errors import QueryTimeoutError
from dbspecialist.redaction import redact

MAX_LOCK_WAITS: Final = 100  # waits listed (longest first)
MAX_FRAGMENTED: Final = 50  # tables with the most free space
QUERY_TEXT_CHARS: Final = 300
SYSTEM_SCHEMAS: Final = ("mysql", "information_schema", "performance_schema", "sys")

VARIABLES: Final = (
    "version",
    "version_comment",
    "max_connections",
    "max_user_connections",
    "slow_query_log",
    "long_query_time",
    "log_output",
    "tmp_table_size",
    "max_heap_table_size",
    "innodb_buffer_pool_size",
    "innodb_page_size",
    "innodb_lock_wait_timeout",
    "innodb_file_per_table",
    "information_schema_stats_expiry",
    "performance_schema",
    "read_only",
)
STATUS: Final = (
    "Uptime",
    "Uptime_since_flush_status",
    "Questions",
    "Connections",
    "Threads_connected",
    "Threads_running",
    "Max_used_connections",
    "Connection_errors_max_connections",
    "Aborted_connects",
    "Aborted_clients",
    "Slow_queries",
    "Created_tmp_tables",
    "Created_tmp_disk_tables",
    "Innodb_buffer_pool_read_requests",
    "Innodb_buffer_pool_reads",
    "Innodb_buffer_pool_pages_total",
    "Innodb_buffer_pool_pages_free",
    "Innodb_buffer_pool_pages_data",
    "Innodb_buffer_pool_pages_dirty",
    "Innodb_buffer_pool_wait_free",
    "Innodb_row_lock_waits",
    "Innodb_row_lock_time",
    "Innodb_row_lock_time_avg",
    "Innodb_row_lock_time_max",
    "Innodb_row_lock_current_waits",
)

SERVER_SQL: Final = "SELECT VERSION(), DATE_FORMAT(UTC_TIMESTAMP(), '%Y-%m-%dT%H:%i:%sZ')"
VARIABLES_SQL: Final = "SHOW GLOBAL VARIABLES WHERE Variable_name IN ({marks})"
STATUS_SQL: Final = "SHOW GLOBAL STATUS WHERE Variable_name IN ({marks})"

# One row per waiting lock request: the waiter, the blocker (its transaction and what its session is doing) and
# the object. {source} is the flavor's lock-wait join.
LOCK_WAITS_SQL: Final = f"""
SELECT r.trx_mysql_thread_id, TIMESTAMPDIFF(MICROSECOND, r.trx_wait_started, NOW(6)) / 1e6,
       LEFT(r.trx_query, {QUERY_TEXT_CHARS}), TIMESTAMPDIFF(SECOND, r.trx_started, NOW()),
       b.trx_mysql_thread_id, LEFT(b.trx_query, {QUERY_TEXT_CHARS}), TIMESTAMPDIFF(SECOND, b.trx_started, NOW()),
       b.trx_rows_locked, p.COMMAND, p.TIME, p.USER,
       {{lock_schema}}, {{lock_table}}, {{lock_index}}, {{lock_mode}}
FROM {{source}}
LEFT JOIN information_schema.PROCESSLIST p ON p.ID = b.trx_mysql_thread_id
ORDER BY r.trx_wait_started, r.trx_mysql_thread_id
LIMIT {MAX_LOCK_WAITS}
"""
LOCK_SOURCE_INFORMATION_SCHEMA: Final = """information_schema.INNODB_LOCK_WAITS w
JOIN information_schema.INNODB_TRX r ON r.trx_id = w.requesting_trx_id
JOIN information_schema.INNODB_TRX b ON b.trx_id = w.blocking_trx_id
LEFT JOIN information_schema.INNODB_LOCKS l ON l.lock_id = w.requested_lock_id"""
LOCK_SOURCE_PERFORMANCE_SCHEMA: Final = """performance_schema.data_lock_waits w
JOIN information_schema.INNODB_TRX r ON r.trx_id = w.REQUESTING_ENGINE_TRANSACTION_ID
JOIN information_schema.INNODB_TRX b ON b.trx_id = w.BLOCKING_ENGINE_TRANSACTION_ID
LEFT JOIN performance_schema.data_locks l ON l.ENGINE_LOCK_ID = w.REQUESTING_ENGINE_LOCK_ID"""

FRAGMENTATION_SQL: Final = f"""
SELECT TABLE_SCHEMA, TABLE_NAME, ENGINE, TABLE_ROWS, DATA_LENGTH, INDEX_LENGTH, DATA_FREE
FROM information_schema.TABLES
WHERE TABLE_TYPE = 'BASE TABLE' AND DATA_FREE > 0
  AND TABLE_SCHEMA NOT IN ({", ".join(f"'{s}'" for s in SYSTEM_SCHEMAS)})
ORDER BY DATA_FREE DESC, TABLE_SCHEMA, TABLE_NAME
LIMIT {MAX_FRAGMENTED}
"""

# SHOW REPLICA STATUS columns we keep, in the new spelling (older servers say Master/Slave).
REPLICA_FIELDS: Final = (
    "Connection_name",
    "Source_Host",
    "Source_Port",
    "Replica_IO_Running",
    "Replica_SQL_Running",
    "Seconds_Behind_Source",
    "Last_IO_Errno",
    "Last_IO_Error",
    "Last_SQL_Errno",
    "Last_SQL_Error",
    "Replica_SQL_Running_State",
)
_REPLICA_NAMES: Final = (("Master", "Source"), ("Slave", "Replica"))


NOT_A_REPLICA: Final = "not a replica: SHOW REPLICA STATUS is empty on this server"
PERFORMANCE_SCHEMA_OFF: Final = (
    "MySQL 8 lists lock waits in performance_schema.data_lock_waits, and performance_schema is OFF: set "
    "performance_schema = ON in the server's configuration file and restart"
)


def uses_performance_schema(flavor: str | None, version: tuple[int, int, int]) -> bool:
    """MySQL 8 moved the lock-wait tables from information_schema to performance_schema."""
    return flavor != "mariadb" and version >= (8, 0, 0)


def lock_wait_sql(flavor: str | None, version: tuple[int, int, int]) -> str:
    """The current-lock-waits query for this server's flavor and version."""
    if uses_performance_schema(flavor, version):
        return LOCK_WAITS_SQL.format(
            source=LOCK_SOURCE_PERFORMANCE_SCHEMA,
            lock_schema="l.OBJECT_SCHEMA",
            lock_table="l.OBJECT_NAME",
            lock_index="l.INDEX_NAME",
            lock_mode="l.LOCK_MODE",
        )
    return LOCK_WAITS_SQL.format(
        source=LOCK_SOURCE_INFORMATION_SCHEMA,
        lock_schema="NULL",
        lock_table="l.lock_table",
        lock_index="l.lock_index",
        lock_mode="l.lock_mode",
    )


def replica_status_sql(flavor: str | None, version: tuple[int, int, int]) -> str:
    new = version >= (10, 5, 1) if flavor == "mariadb" else version >= (8, 0, 22)
    return "SHOW REPLICA STATUS" if new else "SHOW SLAVE STATUS"


def _split_table(schema: Any, table: Any) -> tuple[str | None, str | None]:
    """MariaDB's INNODB_LOCKS.lock_table is "`db`.`t`" (a partition adds " /* Partition ... */")."""
    if table is None:
        return None, None
    if schema is not None:
        return str(schema), str(table)
    text = str(table).split(" /*", 1)[0]
    if text.startswith("`") and "`.`" in text:
        left, _, right = text.partition("`.`")
        return left[1:].replace("``", "`"), right.rstrip("`").replace("``", "`")
    return None, text


def _on(value: Any) -> bool:
    return str(value).upper() in ("ON", "1", "YES", "TRUE")


def _marks(names: tuple[str, ...]) -> str:
    return ", ".join(["%s"] * len(names))


def _number(value: Any) -> Any:
    return mysql_adapter._number(value)


def _float(value: Any) -> float | None:
    return None if value is None else round(float(value), 3)


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", "backslashreplace")
    return str(value)


def _lock_waits(rows: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    waits = []
    for row in rows:
        (waiter, wait_s, waiter_query, waiter_trx_s, blocker, blocker_query, blocker_trx_s, rows_locked) = row[:8]
        command, command_s, user, lock_schema, lock_table, lock_index, lock_mode = row[8:]
        schema, table = _split_table(lock_schema, lock_table)
        waits.append(
            {
                "waiting_thread": _int(waiter),
                "wait_seconds": _float(wait_s),
                "waiting_query": _text(waiter_query),
                "waiting_trx_seconds": _int(waiter_trx_s),
                "blocking_thread": _int(blocker),
                "blocking_query": _text(blocker_query),
                "blocking_trx_seconds": _int(blocker_trx_s),
                "blocking_rows_locked": _int(rows_locked),
                "blocking_command": _text(command),
                "blocking_command_seconds": _int(command_s),
                "blocking_user": _text(user),
                "schema": schema,
                "table": table,
                "index": _text(lock_index),
                "lock_mode": _text(lock_mode),
            }
        )
    return waits


def _replicas(columns: list[str], rows: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    out = []
    for row in rows:
        named: dict[str, Any] = {}
        for column, value in zip(columns, row, strict=False):
            for old, new in _REPLICA_NAMES:
                column = column.replace(old, new)
            named[column] = value
        out.append({field: _number(_text(named.get(field))) for field in REPLICA_FIELDS})
    return out


def _tables(rows: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    return [
        {
            "schema": _text(schema),
            "table": _text(table),
            "engine": _text(engine),
            "rows": _int(rows_estimate),
            "data_bytes": _int(data),
            "index_bytes": _int(index),
            "free_bytes": _int(free),
        }
        for schema, table, engine, rows_estimate, data, index, free in rows
    ]


def _started(now: str | None, uptime: Any) -> str | None:
    if not now or not isinstance(uptime, int):
        return None
    start = dt.datetime.fromisoformat(now.replace("Z", "+00:00")) - dt.timedelta(seconds=uptime)
    return start.strftime("%Y-%m-%dT%H:%M:%SZ")


def _reason(exc: pymysql.Error, what: str, grant: str) -> str:
    code = exc.args[0] if exc.args else None
    message = redact(str(exc.args[1]) if len(exc.args) > 1 else str(exc))
    if code in (1142, 1227, 1044, 1045):
        return f"{what} needs a privilege this user lacks ({message}): {grant}"
    if code in mysql_adapter.TIMEOUT_ERRORS:
        return f"{what} ran past the connection's statement time limit; raise statement_timeout_ms to read it"
    return f"{what} failed: MySQL error {code}: {message}"


@dataclass
class _Reader:
    """The snapshot's one connection: each query under the client deadline, the round trips counted."""

    cur: Any
    limit_ms: int
    flavor: str | None
    version: tuple[int, int, int]
    trips: int = 0

    async def fetch(self, sql: str, args: Any = None) -> list[tuple[Any, ...]]:
        self.trips += 1
        async with asyncio.timeout(self.limit_ms / 1000 + mysql_adapter.KILL_GRACE_S):
            await self.cur.execute(sql, args)
            return list(await self.cur.fetchall())

    @property
    def columns(self) -> list[str]:
        return [d[0] for d in self.cur.description or ()]


async def _read(reader: _Reader, snapshot: dict[str, Any]) -> None:
    unavailable: dict[str, str] = snapshot["unavailable"]
    flavor, version = reader.flavor, reader.version
    (server_version, now), *_ = await reader.fetch(SERVER_SQL)
    snapshot.update({"server_version": _text(server_version), "now": _text(now)})
    variables = await reader.fetch(VARIABLES_SQL.format(marks=_marks(VARIABLES)), VARIABLES)
    snapshot["variables"] = {str(k).lower(): _number(_text(v)) for k, v in variables}
    status = await reader.fetch(STATUS_SQL.format(marks=_marks(STATUS)), STATUS)
    snapshot["status"] = {str(k): _number(_text(v)) for k, v in status}

    if uses_performance_schema(flavor, version) and not _on(snapshot["variables"].get("performance_schema")):
        unavailable["current_lock_waits"] = PERFORMANCE_SCHEMA_OFF
    else:
        try:
            snapshot["lock_waits"] = _lock_waits(await reader.fetch(lock_wait_sql(flavor, version)))
        except pymysql.Error as exc:
            grant = "GRANT PROCESS ON *.* TO <user>;"
            unavailable["current_lock_waits"] = _reason(exc, "Reading the lock waits (INNODB_TRX)", grant)

    snapshot["replica_sql"] = replica_sql = replica_status_sql(flavor, version)
    try:
        snapshot["replicas"] = replicas = _replicas(reader.columns, await reader.fetch(replica_sql))
        if not replicas:
            unavailable["replica_threads"] = unavailable["replica_lag"] = NOT_A_REPLICA
    except pymysql.Error as exc:
        grant = f"GRANT {'REPLICA MONITOR' if flavor == 'mariadb' else 'REPLICATION CLIENT'} ON *.* TO <user>;"
        unavailable["replica_threads"] = unavailable["replica_lag"] = _reason(exc, replica_sql, grant)

    try:
        snapshot["tables"] = _tables(await reader.fetch(FRAGMENTATION_SQL))
    except pymysql.Error as exc:
        grant = "GRANT SELECT ON <schema>.* TO <user>;"
        unavailable["fragmentation"] = _reason(exc, "Reading information_schema.TABLES", grant)


async def mysql_health_snapshot(adapter: MySQLAdapter) -> dict[str, Any]:
    """Read everything `check_mysql` needs: variables, status counters, lock waits, replica status, free space."""
    await adapter.server_version()
    limit = adapter.config.options.statement_timeout_ms
    snapshot: dict[str, Any] = {"engine": "mysql", "flavor": adapter.flavor, "unavailable": {}}
    async with adapter._connection(limit) as conn:
        thread_id = conn.thread_id()
        try:
            async with conn.cursor() as cur:
                reader = _Reader(cur, limit, adapter.flavor, adapter.version_tuple)
                await _read(reader, snapshot)
        except TimeoutError:
            conn.close()
            await adapter._kill_query(thread_id)
            raise QueryTimeoutError(adapter._timeout_message(limit)) from None
        except (pymysql.Error, OSError) as exc:
            conn.close()
            raise adapter._translate(exc, limit) from None
    uptime = snapshot["status"].get("Uptime")
    snapshot.update(
        {
            "round_trips": reader.trips,
            "uptime_seconds": uptime,
            "server_started": _started(snapshot.get("now"), uptime),
        }
    )
    return snapshot


__all__ = ["lock_wait_sql", "mysql_health_snapshot", "replica_status_sql", "uses_performance_schema"]
