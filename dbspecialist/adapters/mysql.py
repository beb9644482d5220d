"""MySQL and MariaDB adapter (aiomysql): guard, READ ONLY transaction, server and client deadlines.

Layers for a read-only connection: the parser guard (guard_mysql), then per session a pinned
sql_mode, multi-statements switched off at the protocol level and a statement time limit, then
per call `START TRANSACTION READ ONLY` ... `ROLLBACK`. Rows stream through an unbuffered cursor;
a connection left with unread rows (cap reached) or a running statement (deadline passed) is
closed, never handed back to the pool. The flavor (`mysql` or `mariadb`) is read at first connect.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import decimal
import json
import re
import struct
import time
import weakref
from collections import defaultdict
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any, Final, Literal
from urllib.parse import parse_qsl, unquote, urlsplit

import aiomysql
import pymysql
from pymysql.constants import COMMAND
from pymysql.converters import escape_item, escape_string

from dbspecialist.adapters.base import DatabaseAdapter, ExplainResult, Params, QueryResult, RowCollector, Setting
from dbspecialist.adapters.catalog import (
    Catalog,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    PrimaryKey,
    Table,
    Trigger,
    UniqueConstraint,
)
from dbspecialist.adapters.catalog import (
    Sequence as CatalogSequence,
)
from dbspecialist.adapters.guard_mysql import Token, check_mysql, split_check
from dbspecialist.config import ConnectionConfig
from dbspecialist.errors import ConnectionFailedError, QueryError, QueryRefusedError, QueryTimeoutError
from dbspecialist.redaction import redact

POOL_MAX_SIZE: Final = 5
POOL_RECYCLE_S: Final = 600
DRAIN_ROWS: Final = 1_000  # rows read and dropped after a cap, to keep a nearly finished connection
FETCH_BATCH: Final = 500
KILL_GRACE_S: Final = 0.5  # client deadline = server limit + this, then KILL QUERY
# Client error codes meaning the connection is gone (2003 cannot connect, 2006 gone away, 2013 lost).
CONNECTION_ERRORS: Final = frozenset({2002, 2003, 2006, 2013, 2055})
AUTH_ERRORS: Final = frozenset({1044, 1045, 1049, 1698})
TIMEOUT_ERRORS: Final = frozenset({1317, 1969, 3024})  # interrupted; MariaDB / MySQL statement time limit
READ_ONLY_ERRORS: Final = frozenset({1792, 1290, 1836})

# Session setup: backslash escapes on (the guard lexes that way), no ANSI_QUOTES surprises.
SQL_MODE_SQL: Final = (
    "SET SESSION sql_mode = REPLACE(REPLACE(@@sql_mode, 'NO_BACKSLASH_ESCAPES', ''), 'ANSI_QUOTES', '')"
)
MARIADB_TIMEOUT_SQL: Final = "SET SESSION max_statement_time = %s"  # seconds (fractional)
MYSQL_TIMEOUT_SQL: Final = "SET SESSION max_execution_time = %s"  # milliseconds, SELECT only

# Catalog queries: one per object kind, filtered by schema (and tables) in SQL.
TABLES_SQL: Final = """
SELECT TABLE_NAME, TABLE_TYPE, ENGINE, ROW_FORMAT, TABLE_ROWS, DATA_LENGTH, INDEX_LENGTH, DATA_FREE,
       AUTO_INCREMENT, CREATE_OPTIONS, TABLE_COLLATION, TABLE_COMMENT, CREATE_TIME, UPDATE_TIME
FROM information_schema.TABLES
WHERE TABLE_SCHEMA = %s {tables}
ORDER BY TABLE_NAME
"""
COLUMNS_SQL: Final = """
SELECT TABLE_NAME, COLUMN_NAME, ORDINAL_POSITION, COLUMN_DEFAULT, IS_NULLABLE, COLUMN_TYPE, EXTRA,
       GENERATION_EXPRESSION, COLLATION_NAME, COLUMN_COMMENT
FROM information_schema.COLUMNS
WHERE TABLE_SCHEMA = %s {tables}
ORDER BY TABLE_NAME, ORDINAL_POSITION
"""
INDEXES_SQL_MARIADB: Final = """
SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, SEQ_IN_INDEX, COLUMN_NAME, SUB_PART, INDEX_TYPE, COLLATION,
       NULL AS EXPRESSION, {ignored} AS INVISIBLE, INDEX_COMMENT
FROM information_schema.STATISTICS
WHERE TABLE_SCHEMA = %s {tables}
ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX
"""
INDEXES_SQL_MYSQL8: Final = """
SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, SEQ_IN_INDEX, COLUMN_NAME, SUB_PART, INDEX_TYPE, COLLATION,
       EXPRESSION, IS_VISIBLE = 'NO' AS INVISIBLE, INDEX_COMMENT
FROM information_schema.STATISTICS
WHERE TABLE_SCHEMA = %s {tables}
ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX
"""
FOREIGN_KEYS_SQL: Final = """
SELECT k.TABLE_NAME, k.CONSTRAINT_NAME, k.COLUMN_NAME, k.ORDINAL_POSITION, k.REFERENCED_TABLE_SCHEMA,
       k.REFERENCED_TABLE_NAME, k.REFERENCED_COLUMN_NAME, r.UPDATE_RULE, r.DELETE_RULE
FROM information_schema.KEY_COLUMN_USAGE AS k
LEFT JOIN information_schema.REFERENTIAL_CONSTRAINTS AS r
  ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.TABLE_NAME = k.TABLE_NAME
 AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME
WHERE k.TABLE_SCHEMA = %s AND k.REFERENCED_TABLE_NAME IS NOT NULL {ktables}
ORDER BY k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION
"""
CHECKS_SQL_MARIADB: Final = """
SELECT TABLE_NAME, CONSTRAINT_NAME, CHECK_CLAUSE
FROM information_schema.CHECK_CONSTRAINTS
WHERE CONSTRAINT_SCHEMA = %s {tables}
ORDER BY TABLE_NAME, CONSTRAINT_NAME
"""
CHECKS_SQL_MYSQL8: Final = """
SELECT t.TABLE_NAME, c.CONSTRAINT_NAME, c.CHECK_CLAUSE
FROM information_schema.CHECK_CONSTRAINTS AS c
JOIN information_schema.TABLE_CONSTRAINTS AS t
  ON t.CONSTRAINT_SCHEMA = c.CONSTRAINT_SCHEMA AND t.CONSTRAINT_NAME = c.CONSTRAINT_NAME
 AND t.CONSTRAINT_TYPE = 'CHECK'
WHERE c.CONSTRAINT_SCHEMA = %s {ttables}
ORDER BY t.TABLE_NAME, c.CONSTRAINT_NAME
"""
VIEWS_SQL: Final = """
SELECT TABLE_NAME, VIEW_DEFINITION, CHECK_OPTION, IS_UPDATABLE, SECURITY_TYPE
FROM information_schema.VIEWS
WHERE TABLE_SCHEMA = %s {tables}
"""
TRIGGERS_SQL: Final = """
SELECT EVENT_OBJECT_TABLE, TRIGGER_NAME, ACTION_TIMING, EVENT_MANIPULATION, ACTION_STATEMENT
FROM information_schema.TRIGGERS
WHERE EVENT_OBJECT_SCHEMA = %s {etables}
ORDER BY EVENT_OBJECT_TABLE, ACTION_TIMING, EVENT_MANIPULATION, ACTION_ORDER
"""
PARTITIONS_SQL: Final = """
SELECT TABLE_NAME, PARTITION_NAME, SUBPARTITION_NAME, PARTITION_METHOD, PARTITION_EXPRESSION,
       PARTITION_DESCRIPTION, TABLE_ROWS, DATA_LENGTH, INDEX_LENGTH
FROM information_schema.PARTITIONS
WHERE TABLE_SCHEMA = %s AND PARTITION_NAME IS NOT NULL {tables}
ORDER BY TABLE_NAME, PARTITION_ORDINAL_POSITION, SUBPARTITION_ORDINAL_POSITION
"""
INDEX_SIZES_SQL: Final = """
SELECT table_name, index_name, SUM(stat_value) * @@innodb_page_size
FROM mysql.innodb_index_stats
WHERE database_name = %s AND stat_name = 'size'
GROUP BY table_name, index_name
"""

SETTINGS_SQL_MARIADB: Final = """
SELECT VARIABLE_NAME, GLOBAL_VALUE, GLOBAL_VALUE_ORIGIN, READ_ONLY, VARIABLE_COMMENT
FROM information_schema.SYSTEM_VARIABLES ORDER BY VARIABLE_NAME
"""
SETTINGS_SQL: Final = "SHOW GLOBAL VARIABLES"
SETTINGS_SOURCE_SQL_MYSQL8: Final = "SELECT VARIABLE_NAME, VARIABLE_SOURCE FROM performance_schema.variables_info"
STATUS_SQL: Final = "SHOW GLOBAL STATUS"
INNODB_METRICS_SQL_MARIADB: Final = "SELECT NAME, COUNT FROM information_schema.INNODB_METRICS WHERE ENABLED = 1"
INNODB_METRICS_SQL_MYSQL: Final = "SELECT NAME, COUNT FROM information_schema.INNODB_METRICS WHERE STATUS = 'enabled'"
PROCESSLIST_SQL: Final = """
SELECT COMMAND, COALESCE(STATE, ''), COUNT(*) FROM information_schema.PROCESSLIST GROUP BY COMMAND, STATE
"""

_FK_ACTIONS: Final = {"NO ACTION", "RESTRICT", "CASCADE", "SET NULL", "SET DEFAULT"}
_SIZE_NAMES: Final = re.compile(r"(_size|_buffer|_buffer_size|_length|_cache_size|max_allowed_packet|_limit)$")
_SECONDS_NAMES: Final = re.compile(r"(_timeout|^long_query_time|^max_statement_time|_wait_timeout|_delay)$")
_ANALYZABLE: Final = frozenset({"SELECT", "WITH", "TABLE", "VALUES", "INSERT", "UPDATE", "DELETE", "REPLACE", "("})


class _Broken(Exception):
    """Internal: the connection must not go back to the pool."""


class MySQLAdapter(DatabaseAdapter):
    engine = "mysql"

    def __init__(self, config: ConnectionConfig) -> None:
        super().__init__(config)
        parts = urlsplit(config.url)
        self._host = parts.hostname or "localhost"
        self._port = parts.port or 3306
        self._user = unquote(parts.username or "root")
        self._password = unquote(parts.password or "")
        self.database: str | None = unquote(parts.path.lstrip("/")) or None
        self._query = dict(parse_qsl(parts.query))
        self._pool: aiomysql.Pool | None = None
        self._pool_lock = asyncio.Lock()
        self._prepared: weakref.WeakKeyDictionary[Any, int] = weakref.WeakKeyDictionary()
        self.version: str | None = None
        self.version_tuple: tuple[int, int, int] = (0, 0, 0)
        self.flavor: str | None = None  # "mariadb" or "mysql", known after the first connect

    # ------------------------------------------------------------------ connections

    def _where(self) -> str:
        return f"connection {self.config.name!r} (MySQL/MariaDB at {self.config.host_port})"

    def _connect_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "host": self._host,
            "port": self._port,
            "user": self._user,
            "password": self._password,
            "db": self.database,
            "charset": self._query.get("charset", "utf8mb4"),
            "autocommit": True,
            "local_infile": False,
            "connect_timeout": self.config.options.connect_timeout_ms / 1000,
        }
        return kwargs

    def _connection_error(self, exc: BaseException) -> ConnectionFailedError:
        detail = redact(str(exc.args[1]) if isinstance(exc, pymysql.Error) and len(exc.args) > 1 else str(exc))
        if isinstance(exc, pymysql.Error) and exc.args and exc.args[0] in AUTH_ERRORS:
            hint = "check the user, password and database name in the URL, and the user's grants"
        else:
            hint = "check that the server is running and reachable, or that host and port are right"
        return ConnectionFailedError(f"{self._where()}: cannot connect ({detail or type(exc).__name__}); {hint}")

    async def _get_pool(self) -> aiomysql.Pool:
        if self._pool is not None:
            return self._pool
        async with self._pool_lock:
            if self._pool is None:
                self._pool = await aiomysql.create_pool(
                    minsize=0, maxsize=POOL_MAX_SIZE, pool_recycle=POOL_RECYCLE_S, **self._connect_kwargs()
                )
        return self._pool

    async def _prepare(self, conn: Any) -> None:
        """One-time session setup: flavor, multi-statements off, sql_mode, read-only default, time limit."""
        if self.flavor is None:
            async with conn.cursor() as cur:
                await cur.execute("SELECT VERSION()")
                (version,) = await cur.fetchone()
            self._set_version(str(version))
        # COM_SET_OPTION 1 = MYSQL_OPTION_MULTI_STATEMENTS_OFF (aiomysql always asks for them at connect).
        await conn._execute_command(COMMAND.COM_SET_OPTION, struct.pack("<H", 1))
        await conn._read_packet()
        async with conn.cursor() as cur:
            await cur.execute(SQL_MODE_SQL)
            if self.config.options.read_only:
                await cur.execute("SET SESSION TRANSACTION READ ONLY")
        self._prepared[conn] = -1

    async def _set_timeout(self, conn: Any, timeout_ms: int) -> None:
        if self._prepared.get(conn) == timeout_ms:
            return
        async with conn.cursor() as cur:
            if self.flavor == "mariadb":
                await cur.execute(MARIADB_TIMEOUT_SQL, (timeout_ms / 1000,))
            elif self.version_tuple >= (5, 7, 8):
                await cur.execute(MYSQL_TIMEOUT_SQL, (timeout_ms,))
        self._prepared[conn] = timeout_ms

    def _set_version(self, version: str) -> None:
        self.version = version
        self.flavor = "mariadb" if "mariadb" in version.lower() else "mysql"
        match = re.match(r"(\d+)\.(\d+)\.(\d+)", version)
        if match:
            self.version_tuple = (int(match[1]), int(match[2]), int(match[3]))

    @contextlib.asynccontextmanager
    async def _connection(self, timeout_ms: int) -> AsyncIterator[Any]:
        """A prepared pooled connection; closed instead of returned if anything went wrong on it."""
        pool = await self._get_pool()
        try:
            conn = await pool.acquire()
        except (pymysql.Error, OSError, TimeoutError) as exc:
            raise self._connection_error(exc) from None
        healthy = False
        try:
            try:
                if conn not in self._prepared:
                    await self._prepare(conn)
                await self._set_timeout(conn, timeout_ms)
            except (pymysql.Error, OSError) as exc:
                raise self._connection_error(exc) from None
            yield conn
            healthy = True
        finally:
            if not healthy or conn.closed or conn.get_transaction_status():
                conn.close()
                pool.release(conn)
                # aiomysql wakes waiting acquirers only when a live connection comes back.
                await pool._wakeup()
            else:
                pool.release(conn)

    async def _kill_query(self, thread_id: int) -> None:
        """Stop a running statement from a separate connection (best effort)."""
        with contextlib.suppress(Exception):
            async with asyncio.timeout(self.config.options.connect_timeout_ms / 1000 + 1):
                killer = await aiomysql.connect(**self._connect_kwargs())
                try:
                    async with killer.cursor() as cur:
                        await cur.execute(f"KILL QUERY {int(thread_id)}")
                finally:
                    killer.close()

    async def server_version(self) -> str:
        if self.version is None:
            async with self._connection(self.config.options.statement_timeout_ms):
                pass
        return self.version or ""

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            with contextlib.suppress(Exception):
                await pool.clear()
            pool.close()
            with contextlib.suppress(Exception):
                await pool.wait_closed()

    # ------------------------------------------------------------------ queries

    def _timeout_message(self, timeout_ms: int) -> str:
        return (
            f"the query on {self.config.name!r} ({self.config.host_port}) ran longer than {timeout_ms} ms and was "
            "stopped. Narrow it (WHERE, LIMIT), or raise statement_timeout_ms for this connection."
        )

    def _translate(self, exc: BaseException, timeout_ms: int) -> Exception:
        """A driver error as one of ours."""
        if isinstance(exc, QueryRefusedError | QueryError | QueryTimeoutError | ConnectionFailedError):
            return exc
        code = exc.args[0] if isinstance(exc, pymysql.Error) and exc.args else None
        message = redact(str(exc.args[1]) if isinstance(exc, pymysql.Error) and len(exc.args) > 1 else str(exc))
        if code in TIMEOUT_ERRORS or isinstance(exc, TimeoutError):
            return QueryTimeoutError(self._timeout_message(timeout_ms))
        if code in CONNECTION_ERRORS or isinstance(exc, OSError | ConnectionError):
            return ConnectionFailedError(f"{self._where()}: the connection was lost ({message or 'no detail'})")
        if code in READ_ONLY_ERRORS:
            return QueryError(f"MySQL refused the statement as not read-only ({code}): {message}")
        return QueryError(f"MySQL error {code}: {message}" if code else f"MySQL error: {message}")

    async def run_read_only(
        self,
        query: str,
        params: Params | None = None,
        *,
        max_rows: int,
        max_bytes: int,
        timeout_ms: int,
    ) -> QueryResult:
        read_only = self.config.options.read_only
        if read_only:
            check_mysql(query)
        sql = bind(query, split_check(query), params)
        for attempt in (1, 2):
            try:
                return await self._run(sql, max_rows=max_rows, max_bytes=max_bytes, timeout_ms=timeout_ms)
            except _Retry as retry:
                if attempt == 2 or not read_only:
                    raise retry.error from None
        raise AssertionError("unreachable")  # pragma: no cover

    async def _run(self, sql: str, *, max_rows: int, max_bytes: int, timeout_ms: int) -> QueryResult:
        read_only = self.config.options.read_only
        collector = RowCollector(max_rows, max_bytes)
        started = time.perf_counter()
        columns: list[str] = []
        delivered = False
        async with self._connection(timeout_ms) as conn:
            thread_id = conn.thread_id()
            try:
                async with asyncio.timeout(timeout_ms / 1000 + KILL_GRACE_S):
                    if read_only:
                        await conn.query("START TRANSACTION READ ONLY")
                    cur = await conn.cursor(aiomysql.SSCursor)
                    await cur.execute(sql)
                    delivered = True
                    columns = [d[0] for d in cur.description or ()]
                    finished = await _collect(cur, collector)
                    if not finished:
                        raise _Broken
                    await cur.close()
                    if read_only:
                        await conn.query("ROLLBACK")
            except _Broken:
                conn.close()
            except TimeoutError:
                conn.close()
                await self._kill_query(thread_id)
                raise QueryTimeoutError(self._timeout_message(timeout_ms)) from None
            except (pymysql.Error, OSError) as exc:
                conn.close()
                error = self._translate(exc, timeout_ms)
                if isinstance(error, ConnectionFailedError) and not delivered:
                    raise _Retry(error) from None
                if isinstance(error, QueryTimeoutError):
                    await self._kill_query(thread_id)
                raise error from None
        return QueryResult(
            columns=columns,
            rows=collector.rows,
            row_count=len(collector.rows),
            truncated=collector.truncated_by is not None,
            truncated_by=collector.truncated_by,
            elapsed_ms=round((time.perf_counter() - started) * 1000, 3),
        )

    async def _fetch(self, sql: str, args: Any = None, *, timeout_ms: int | None = None) -> list[tuple[Any, ...]]:
        """A small buffered catalog/admin query on a pooled connection."""
        limit = timeout_ms or self.config.options.statement_timeout_ms
        async with self._connection(limit) as conn:
            try:
                async with asyncio.timeout(limit / 1000 + KILL_GRACE_S), conn.cursor() as cur:
                    await cur.execute(sql, args)
                    return list(await cur.fetchall())
            except TimeoutError:
                conn.close()
                await self._kill_query(conn.thread_id())
                raise QueryTimeoutError(self._timeout_message(limit)) from None
            except (pymysql.Error, OSError) as exc:
                raise self._translate(exc, limit) from None

    # ------------------------------------------------------------------ explain, settings, statistics

    async def explain(self, statement: str, *, analyze: bool = False, timeout_ms: int) -> ExplainResult:
        read_only = self.config.options.read_only
        tokens = split_check(statement)
        if read_only:
            check_mysql(statement)
        body = statement.strip().rstrip(";").strip()
        if analyze:
            lead = tokens[0].text.upper()
            if lead not in _ANALYZABLE:
                raise QueryRefusedError(
                    f"Refused by the read-only guard: ANALYZE runs the statement, and {lead} is not a query or "
                    "DML statement that can be rolled back"
                )
        await self.server_version()
        if not analyze:
            sql, fmt = f"EXPLAIN FORMAT=JSON {body}", "json"
        elif self.flavor == "mariadb":
            sql, fmt = f"ANALYZE FORMAT=JSON {body}", "json"
        elif self.version_tuple >= (8, 0, 18):
            sql, fmt = f"EXPLAIN ANALYZE {body}", "text"
        else:
            raise QueryError(f"EXPLAIN ANALYZE needs MySQL 8.0.18 or later; {self.config.name!r} runs {self.version}")
        async with self._connection(timeout_ms) as conn:
            thread_id = conn.thread_id()
            try:
                async with asyncio.timeout(timeout_ms / 1000 + KILL_GRACE_S), conn.cursor() as cur:
                    await cur.execute("START TRANSACTION READ ONLY" if read_only else "START TRANSACTION")
                    try:
                        await cur.execute(sql)
                        rows = await cur.fetchall()
                    finally:
                        await cur.execute("ROLLBACK")
            except TimeoutError:
                conn.close()
                await self._kill_query(thread_id)
                raise QueryTimeoutError(self._timeout_message(timeout_ms)) from None
            except (pymysql.Error, OSError) as exc:
                conn.close()
                raise self._translate(exc, timeout_ms) from None
        text = "\n".join(str(r[0]) for r in rows)
        plan: Any = json.loads(text) if fmt == "json" else text
        return ExplainResult(engine="mysql", format=fmt, analyzed=analyze, plan=plan, statement=statement)  # type: ignore[arg-type]

    async def settings(self) -> list[Setting]:
        await self.server_version()
        if self.flavor == "mariadb":
            rows = await self._fetch(SETTINGS_SQL_MARIADB)
            return [
                Setting(
                    name=str(name).lower(),
                    value=None if value is None else str(value),
                    unit=_unit(str(name).lower()),
                    source=str(origin).lower() if origin else None,
                    restart_required=str(read_only).upper() == "YES",
                    description=comment or None,
                )
                for name, value, origin, read_only, comment in rows
            ]
        rows = await self._fetch(SETTINGS_SQL)
        sources: dict[str, str] = {}
        if self.version_tuple >= (8, 0, 0):
            with contextlib.suppress(QueryError):
                sources = {str(n).lower(): str(s).lower() for n, s in await self._fetch(SETTINGS_SOURCE_SQL_MYSQL8)}
        return [
            Setting(name=str(n), value=None if v is None else str(v), unit=_unit(str(n)), source=sources.get(str(n)))
            for n, v in rows
        ]

    async def statistics(self) -> dict[str, Any]:
        await self.server_version()
        status = {str(k): _number(v) for k, v in await self._fetch(STATUS_SQL)}
        metrics: dict[str, Any] = {}
        with contextlib.suppress(QueryError):
            sql = INNODB_METRICS_SQL_MARIADB if self.flavor == "mariadb" else INNODB_METRICS_SQL_MYSQL
            metrics = {str(n): int(c) for n, c in await self._fetch(sql)}
        by_command: dict[str, int] = defaultdict(int)
        by_state: dict[str, int] = defaultdict(int)
        for command, state, count in await self._fetch(PROCESSLIST_SQL):
            by_command[str(command)] += int(count)
            by_state[str(state)] += int(count)
        return {
            "global_status": status,
            "innodb_metrics": metrics,
            "processlist": {"by_command": dict(by_command), "by_state": dict(by_state)},
            "flavor": self.flavor,
            "version": self.version,
        }

    # ------------------------------------------------------------------ introspection

    async def introspect(self, schema: str | None = None, tables: Sequence[str] | None = None) -> Catalog:
        await self.server_version()
        target = schema or self.database
        if not target:
            raise QueryError(f"{self._where()}: the URL names no database; pass a schema (database) name to describe")
        limit = self.config.options.statement_timeout_ms
        wanted = list(tables or [])
        marks = ", ".join(["%s"] * len(wanted))

        def sql(template: str) -> str:
            return template.format(
                tables=f"AND TABLE_NAME IN ({marks})" if wanted else "",
                ktables=f"AND k.TABLE_NAME IN ({marks})" if wanted else "",
                ttables=f"AND t.TABLE_NAME IN ({marks})" if wanted else "",
                etables=f"AND EVENT_OBJECT_TABLE IN ({marks})" if wanted else "",
                ignored="IGNORED = 'YES'" if self.version_tuple >= (10, 6, 0) else "0",
            )

        args = (target, *wanted)
        mariadb = self.flavor == "mariadb"
        mysql8 = not mariadb and self.version_tuple >= (8, 0, 0)
        async with self._connection(limit) as conn:
            try:
                async with asyncio.timeout(limit / 1000 + KILL_GRACE_S), conn.cursor() as cur:

                    async def fetch(query: str, params: Any = args) -> list[tuple[Any, ...]]:
                        await cur.execute(query, params)
                        return list(await cur.fetchall())

                    trips = 8
                    t_rows = await fetch(sql(TABLES_SQL))
                    c_rows = await fetch(sql(COLUMNS_SQL))
                    i_rows = await fetch(sql(INDEXES_SQL_MYSQL8 if mysql8 else INDEXES_SQL_MARIADB))
                    f_rows = await fetch(sql(FOREIGN_KEYS_SQL))
                    v_rows = await fetch(sql(VIEWS_SQL))
                    tr_rows = await fetch(sql(TRIGGERS_SQL))
                    p_rows = await fetch(sql(PARTITIONS_SQL))
                    ch_rows: list[tuple[Any, ...]] = []
                    if mariadb and self.version_tuple >= (10, 2, 0):
                        ch_rows = await fetch(sql(CHECKS_SQL_MARIADB))
                    elif not mariadb and self.version_tuple >= (8, 0, 16):
                        ch_rows = await fetch(sql(CHECKS_SQL_MYSQL8))
                    else:
                        trips -= 1
                    sizes: dict[tuple[str, str], int] = {}
                    trips += 1
                    try:
                        for tname, iname, size in await fetch(INDEX_SIZES_SQL, (target,)):
                            key = (str(tname).split("#", 1)[0], str(iname))
                            sizes[key] = sizes.get(key, 0) + int(size or 0)
                    except pymysql.Error:
                        sizes = {}  # no SELECT grant on mysql.innodb_index_stats: sizes stay unknown
            except TimeoutError:
                conn.close()
                await self._kill_query(conn.thread_id())
                raise QueryTimeoutError(self._timeout_message(limit)) from None
            except (pymysql.Error, OSError) as exc:
                conn.close()
                raise self._translate(exc, limit) from None
        return _build_catalog(
            self.version, target, t_rows, c_rows, i_rows, f_rows, v_rows, tr_rows, p_rows, ch_rows, sizes, trips
        )


class _Retry(Exception):
    """Internal: the connection died before the statement ran; a read may be tried once more."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


async def _collect(cur: Any, collector: RowCollector) -> bool:
    """Stream rows into `collector`; True when the result was read to its end (connection reusable)."""
    while True:
        rows = await cur.fetchmany(FETCH_BATCH)
        if not rows:
            return True
        for row in rows:
            if not collector.add(row):
                break
        else:
            continue
        break
    # Cap reached: read (and drop) a little more; a result that ends soon keeps its connection.
    drained = 0
    while drained < DRAIN_ROWS:
        rows = await cur.fetchmany(FETCH_BATCH)
        if not rows:
            return True
        drained += len(rows)
    return False


_SCALARS: Final = (
    type(None),
    bool,
    int,
    float,
    str,
    bytes,
    bytearray,
    decimal.Decimal,
    dt.date,
    dt.datetime,
    dt.time,
    dt.timedelta,
)


def _literal(value: Any) -> str:
    if not isinstance(value, _SCALARS):
        raise QueryError(f"bind parameter of type {type(value).__name__} is not supported; pass a scalar value")
    if isinstance(value, str):
        return "'" + str(escape_string(value)) + "'"
    if isinstance(value, bytes | bytearray):
        return "X'" + bytes(value).hex() + "'"
    return str(escape_item(value, "utf8mb4"))


def bind(sql: str, tokens: list[Token], params: Params | None) -> str:
    """Put escaped literals where `?` or `:name` placeholders stand (found by the server-accurate lexer)."""
    marks = [t for t in tokens if t.kind == "param"]
    if params is None:
        if marks:
            raise QueryError(f"the query has {len(marks)} placeholder(s) but no params were given")
        return sql
    if isinstance(params, Mapping):
        if any(t.text == "?" for t in marks):
            raise QueryError("named params (an object) need :name placeholders, not ?")
        missing = sorted({t.text[1:] for t in marks} - set(params))
        if missing:
            raise QueryError(f"no value for placeholder(s) {', '.join(':' + m for m in missing)}")
        values = [params[t.text[1:]] for t in marks]
    else:
        if any(t.text != "?" for t in marks):
            raise QueryError("positional params (a list) need ? placeholders, not :name")
        if len(marks) != len(params):
            raise QueryError(f"the query has {len(marks)} ? placeholder(s) but {len(params)} params were given")
        values = list(params)
    out, last = [], 0
    for mark, value in zip(marks, values, strict=True):
        out.append(sql[last : mark.start])
        out.append(_literal(value))
        last = mark.end
    out.append(sql[last:])
    return "".join(out)


def _unit(name: str) -> str | None:
    if name == "max_execution_time":
        return "ms"
    if _SECONDS_NAMES.search(name):
        return "s"
    if _SIZE_NAMES.search(name) and not name.endswith(("_length_limit",)):
        return "B"
    return None


def _number(value: Any) -> Any:
    text = str(value) if value is not None else ""
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    if re.fullmatch(r"-?\d+\.\d+", text):
        return float(text)
    return value


def _fk_action(raw: Any) -> Any:
    value = str(raw or "NO ACTION").upper()
    return value.lower() if value in _FK_ACTIONS else "no action"


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def _default(raw: Any, nullable: bool) -> str | None:
    """MariaDB writes a NULL default as the text 'NULL' and quotes literals; MySQL gives NULL itself."""
    if raw is None:
        return None
    text = str(raw)
    return None if text == "NULL" and nullable else text


def _build_catalog(
    version: str | None,
    schema: str,
    t_rows: list[tuple[Any, ...]],
    c_rows: list[tuple[Any, ...]],
    i_rows: list[tuple[Any, ...]],
    f_rows: list[tuple[Any, ...]],
    v_rows: list[tuple[Any, ...]],
    tr_rows: list[tuple[Any, ...]],
    p_rows: list[tuple[Any, ...]],
    ch_rows: list[tuple[Any, ...]],
    sizes: dict[tuple[str, str], int],
    trips: int,
) -> Catalog:
    cols_by: dict[str, list[Column]] = defaultdict(list)
    for tname, cname, ordinal, default, nullable, ctype, extra, gen_expr, collation, comment in c_rows:
        is_null = str(nullable).upper() == "YES"
        extra_text = str(extra or "").lower()
        generated = (
            str(gen_expr)
            if gen_expr
            and (
                "generated" in extra_text
                or "virtual" in extra_text
                or "stored" in extra_text
                or "persistent" in extra_text
            )
            else None
        )
        cols_by[tname].append(
            Column(
                name=cname,
                data_type=str(ctype),
                nullable=is_null,
                default=None if generated else _default(default, is_null),
                ordinal=_int(ordinal),
                identity="by default" if "auto_increment" in extra_text else None,
                generated=generated,
                generated_kind=_generated_kind(extra_text) if generated else None,
                collation=collation,
                comment=comment or None,
            )
        )

    idx_by: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for tname, iname, non_unique, _seq, cname, sub_part, itype, collation, expression, hidden, icomment in i_rows:
        entry = idx_by[tname].setdefault(
            iname,
            {
                "cols": [],
                "unique": not int(non_unique),
                "method": itype,
                "invisible": bool(hidden),
                "comment": icomment,
            },
        )
        label = str(cname) if cname is not None else f"({expression})" if expression else "<expression>"
        if sub_part is not None:
            label = f"{label}({int(sub_part)})"
        if collation == "D":
            label = f"{label} DESC"
        entry["cols"].append(label)

    fk_by: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for tname, cname, col, _pos, ref_schema, ref_table, ref_col, on_update, on_delete in f_rows:
        entry = fk_by[tname].setdefault(
            cname,
            {
                "cols": [],
                "ref_cols": [],
                "ref_schema": ref_schema,
                "ref": ref_table,
                "upd": on_update,
                "del": on_delete,
            },
        )
        entry["cols"].append(col)
        entry["ref_cols"].append(ref_col)

    views = {r[0]: r for r in v_rows}
    trig_by: dict[str, list[Trigger]] = defaultdict(list)
    for tname, trname, timing, event, action in tr_rows:
        trig_by[tname].append(Trigger(name=trname, timing=timing, events=[str(event)], definition=action))
    checks_by: dict[str, list[CheckConstraint]] = defaultdict(list)
    for tname, cname, clause in ch_rows:
        checks_by[tname].append(CheckConstraint(name=cname, expression=str(clause)))
    parts_by: dict[str, list[dict[str, Any]]] = defaultdict(list)
    part_key: dict[str, str] = {}
    for tname, pname, spname, method, expression, description, rows, data_len, index_len in p_rows:
        part_key.setdefault(tname, f"{method} ({expression})" if expression else str(method))
        parts_by[tname].append(
            {
                "name": pname if spname is None else f"{pname}.{spname}",
                "description": description,
                "rows": _int(rows),
                "data_bytes": _int(data_len),
                "index_bytes": _int(index_len),
            }
        )

    result: list[Table] = []
    sequences: list[CatalogSequence] = []
    for row in t_rows:
        (
            name,
            ttype,
            engine,
            row_format,
            rows,
            data_len,
            index_len,
            data_free,
            auto_inc,
            create_options,
            collation,
            comment,
            created,
            updated,
        ) = row
        ttype = str(ttype).upper()
        if ttype == "SEQUENCE":
            sequences.append(CatalogSequence(schema_name=schema, name=name))
            continue
        is_view = ttype == "VIEW"
        indexes: list[Index] = []
        uniques: list[UniqueConstraint] = []
        primary: PrimaryKey | None = None
        invisible: list[str] = []
        for iname, e in sorted(idx_by.get(name, {}).items()):
            is_pk = iname == "PRIMARY"
            origin = "primary_key" if is_pk else "unique_constraint" if e["unique"] else "index"
            indexes.append(
                Index(
                    name=iname,
                    columns=e["cols"],
                    unique=e["unique"],
                    primary=is_pk,
                    method=str(e["method"]).lower() if e["method"] else None,
                    size_bytes=sizes.get((name, iname)),
                    origin=origin,  # type: ignore[arg-type]
                )
            )
            if e["invisible"]:
                invisible.append(iname)
            if is_pk:
                primary = PrimaryKey(name="PRIMARY", columns=[c.split("(")[0] for c in e["cols"]])
            elif e["unique"]:
                uniques.append(UniqueConstraint(name=iname, columns=e["cols"]))
        foreign = [
            ForeignKey(
                name=fname,
                columns=e["cols"],
                ref_schema=e["ref_schema"],
                ref_table=e["ref"],
                ref_columns=e["ref_cols"],
                on_update=_fk_action(e["upd"]),
                on_delete=_fk_action(e["del"]),
            )
            for fname, e in sorted(fk_by.get(name, {}).items())
        ]
        options: dict[str, str] = {}
        for key, value in (
            ("engine", engine),
            ("row_format", row_format),
            ("collation", collation),
            ("create_options", create_options),
        ):
            if value:
                options[key] = str(value)
        if ttype == "SYSTEM VERSIONED":
            options["system_versioned"] = "true"
        if is_view:
            view = views.get(name)
            if view is not None:
                options.update({"check_option": str(view[2]), "updatable": str(view[3]), "security": str(view[4])})
        stats: dict[str, Any] = {}
        if auto_inc is not None:
            stats["auto_increment"] = int(auto_inc)
        if data_free is not None:
            stats["data_free_bytes"] = int(data_free)
        if created is not None:
            stats["create_time"] = created.isoformat() if hasattr(created, "isoformat") else str(created)
        if updated is not None:
            stats["update_time"] = updated.isoformat() if hasattr(updated, "isoformat") else str(updated)
        if invisible:
            stats["invisible_indexes"] = invisible
        partitions = parts_by.get(name)
        if partitions:
            stats["partitions"] = partitions
        table_bytes, index_bytes = _int(data_len), _int(index_len)
        result.append(
            Table(
                schema_name=schema,
                name=name,
                kind="view" if is_view else "partitioned_table" if partitions else "table",
                columns=cols_by.get(name, []),
                primary_key=primary,
                foreign_keys=foreign,
                unique_constraints=uniques,
                check_constraints=checks_by.get(name, []),
                indexes=indexes,
                triggers=trig_by.get(name, []),
                row_estimate=None if is_view else _int(rows),
                row_estimate_source=None if is_view or rows is None else "statistics",
                table_bytes=None if is_view else table_bytes,
                index_bytes=None if is_view else index_bytes,
                total_bytes=None if is_view or table_bytes is None else table_bytes + (index_bytes or 0),
                partition_key=part_key.get(name),
                options=options,
                definition=str(views[name][1]) if is_view and name in views else None,
                comment=(comment or None) if not is_view or comment != "VIEW" else None,
                stats=stats,
            )
        )
    return Catalog(
        engine="mysql",
        server_version=version,
        database=schema,
        schemas=[schema],
        tables=result,
        sequences=sequences,
        round_trips=trips,
    )


def _generated_kind(extra: str) -> Literal["stored", "virtual"] | None:
    """information_schema EXTRA: 'STORED GENERATED' / 'VIRTUAL GENERATED' (MySQL), 'PERSISTENT'/'VIRTUAL' (MariaDB)."""
    if "stored" in extra or "persistent" in extra:
        return "stored"
    return "virtual" if "virtual" in extra else None
