"""PostgreSQL adapter (asyncpg): a lazy bounded pool and read-only enforced in depth.

Layers, for a read-only connection (the default):
1. the pglast guard accepts exactly one read statement; functions it cannot classify are
   checked once against `pg_proc.provolatile` and refused when volatile;
2. the statement is prepared alone (extended protocol: nothing can ride along), must return
   rows, and runs in a `READ ONLY` transaction with `SET LOCAL` timeouts, always rolled back;
3. rows stream through a portal in batches, stopped at max_rows / max_bytes; the rollback
   discards the rest without reading it.
Server-side file and signal functions (pg_read_file, pg_terminate_backend) are stopped by the guard
only: a READ ONLY transaction allows them. Connect with a role that is not a superuser and lacks
pg_read_server_files / pg_signal_backend for a third line there.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final, TypeVar

import asyncpg

from dbspecialist.adapters.base import DatabaseAdapter, ExplainResult, Params, QueryResult, RowCollector, Setting
from dbspecialist.adapters.catalog import (
    Catalog,
    CheckConstraint,
    Column,
    Extension,
    ForeignKey,
    Index,
    PrimaryKey,
    Table,
    Trigger,
    UniqueConstraint,
)
from dbspecialist.adapters.catalog import (
    Sequence as SequenceModel,
)
from dbspecialist.adapters.guard_postgres import PgAccepted, check_postgres, check_postgres_single
from dbspecialist.config import ConnectionConfig
from dbspecialist.errors import (
    ConnectionFailedError,
    DBSpecialistError,
    QueryError,
    QueryRefusedError,
    QueryTimeoutError,
)
from dbspecialist.redaction import redact

T = TypeVar("T")
_PARAMETER: Final = re.compile(r"\$\d+\b")  # $1, $2 ... as pg_stat_statements normalises constants
_EXPLAIN_IDS: Final = itertools.count(1)

POOL_MIN_SIZE: Final = 0
POOL_MAX_SIZE: Final = 5
BATCH_ROWS: Final = 100  # rows per fetch: bounds memory for wide rows; the rollback discards what is not read
CLIENT_GRACE_S: Final = 2.0  # client-side deadline beyond the server's statement_timeout
IDLE_IN_TRANSACTION_MARGIN_MS: Final = 5_000
TOP_STATEMENTS: Final = 20

# ---------------------------------------------------------------------------------------------- catalog SQL
# Seven queries whatever the catalog size. $1 = schema or NULL, $2 = table names or NULL.
_USER_SCHEMA: Final = """
n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
AND n.nspname NOT LIKE 'pg\\_temp\\_%' AND n.nspname NOT LIKE 'pg\\_toast\\_temp\\_%'
AND ($1::text IS NULL OR n.nspname = $1)
"""
# Relations that belong to an extension (pg_stat_statements' view, ...) are not the user's schema.
_NOT_EXTENSION_MEMBER: Final = """
NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = 'pg_catalog.pg_class'::regclass
            AND d.objid = c.oid AND d.deptype = 'e')
"""
_SELECTED_RELATIONS: Final = f"""
SELECT c.oid FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND {_USER_SCHEMA}
  AND ($2::text[] IS NULL OR c.relname = ANY($2)) AND {_NOT_EXTENSION_MEMBER}
"""
META_SQL: Final = f"""
SELECT pg_catalog.current_database() AS database,
       pg_catalog.current_setting('server_version') AS version,
       ARRAY(SELECT n.nspname::text FROM pg_catalog.pg_namespace n WHERE {_USER_SCHEMA} ORDER BY 1) AS schemas,
       ARRAY(SELECT e.extname || '=' || e.extversion FROM pg_catalog.pg_extension e ORDER BY 1) AS extensions
"""
RELATIONS_SQL: Final = f"""
SELECT c.oid::int8 AS oid, n.nspname::text AS schema, c.relname::text AS name, c.relkind::text AS relkind,
       c.reltuples::float8 AS reltuples, c.relpersistence::text AS persistence, c.relrowsecurity AS rls,
       c.reloptions AS reloptions,
       CASE WHEN c.relkind IN ('r', 'p', 'm') THEN pg_catalog.pg_table_size(c.oid) END AS table_bytes,
       CASE WHEN c.relkind IN ('r', 'p', 'm') THEN pg_catalog.pg_indexes_size(c.oid) END AS index_bytes,
       CASE WHEN c.relkind IN ('r', 'p', 'm') THEN pg_catalog.pg_total_relation_size(c.oid) END AS total_bytes,
       CASE WHEN c.relkind IN ('v', 'm') THEN pg_catalog.pg_get_viewdef(c.oid, true) END AS definition,
       CASE WHEN c.relkind = 'p' THEN pg_catalog.pg_get_partkeydef(c.oid) END AS partition_key,
       CASE WHEN c.relispartition THEN pg_catalog.pg_get_expr(c.relpartbound, c.oid) END AS partition_bound,
       (SELECT pn.nspname || '.' || pc.relname FROM pg_catalog.pg_inherits i
          JOIN pg_catalog.pg_class pc ON pc.oid = i.inhparent
          JOIN pg_catalog.pg_namespace pn ON pn.oid = pc.relnamespace
         WHERE i.inhrelid = c.oid AND c.relispartition) AS partition_of,
       (SELECT s.srvname::text FROM pg_catalog.pg_foreign_table ft
          JOIN pg_catalog.pg_foreign_server s ON s.oid = ft.ftserver WHERE ft.ftrelid = c.oid) AS foreign_server,
       pg_catalog.obj_description(c.oid, 'pg_class') AS comment,
       CASE WHEN c.relkind IN ('r', 'm', 'p') THEN pg_catalog.age(c.relfrozenxid) END AS xid_age,
       (SELECT pg_catalog.to_jsonb(s) - 'relid' - 'schemaname' - 'relname'
          FROM pg_catalog.pg_stat_user_tables s WHERE s.relid = c.oid)::text AS stats
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.oid IN ({_SELECTED_RELATIONS})
ORDER BY n.nspname, c.relname
"""
COLUMNS_SQL: Final = f"""
SELECT a.attrelid::int8 AS oid, a.attnum::int AS ordinal, a.attname::text AS name,
       pg_catalog.format_type(a.atttypid, a.atttypmod) AS data_type, NOT a.attnotnull AS nullable,
       CASE WHEN a.attgenerated = '' THEN pg_catalog.pg_get_expr(ad.adbin, ad.adrelid) END AS "default",
       CASE WHEN a.attgenerated <> '' THEN pg_catalog.pg_get_expr(ad.adbin, ad.adrelid) END AS generated,
       a.attidentity::text AS identity, a.attgenerated::text AS generated_kind,
       CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation THEN co.collname::text END AS collation,
       pg_catalog.col_description(a.attrelid, a.attnum) AS comment
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_catalog.pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
LEFT JOIN pg_catalog.pg_collation co ON co.oid = a.attcollation
WHERE a.attrelid IN ({_SELECTED_RELATIONS}) AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum
"""
_KEY_NAMES: Final = """ARRAY(SELECT a.attname::text FROM pg_catalog.unnest({keys}) WITH ORDINALITY k(num, ord)
       JOIN pg_catalog.pg_attribute a ON a.attrelid = {rel} AND a.attnum = k.num ORDER BY k.ord)"""
CONSTRAINTS_SQL: Final = f"""
SELECT con.conrelid::int8 AS oid, con.conname::text AS name, con.contype::text AS type,
       {_KEY_NAMES.format(keys="con.conkey", rel="con.conrelid")} AS columns,
       rn.nspname::text AS ref_schema, rc.relname::text AS ref_table,
       {_KEY_NAMES.format(keys="con.confkey", rel="con.confrelid")} AS ref_columns,
       con.confdeltype::text AS on_delete, con.confupdtype::text AS on_update,
       con.condeferrable AS deferrable, con.convalidated AS validated,
       CASE WHEN con.contype = 'c' THEN pg_catalog.pg_get_expr(con.conbin, con.conrelid) END AS expression
FROM pg_catalog.pg_constraint con
LEFT JOIN pg_catalog.pg_class rc ON rc.oid = con.confrelid
LEFT JOIN pg_catalog.pg_namespace rn ON rn.oid = rc.relnamespace
WHERE con.conrelid IN ({_SELECTED_RELATIONS}) AND con.contype IN ('p', 'u', 'f', 'c')
ORDER BY con.conrelid, con.conname
"""
INDEXES_SQL: Final = f"""
SELECT i.indrelid::int8 AS oid, ic.relname::text AS name, am.amname::text AS method,
       i.indisunique AS is_unique, i.indisprimary AS is_primary, i.indisvalid AS valid,
       ARRAY(SELECT pg_catalog.pg_get_indexdef(i.indexrelid, k, true)
                    || CASE WHEN i.indoption[k - 1] & 1 = 1 THEN ' DESC' ELSE '' END
               FROM pg_catalog.generate_series(1, i.indnkeyatts) k ORDER BY k) AS columns,
       ARRAY(SELECT pg_catalog.pg_get_indexdef(i.indexrelid, k, true)
               FROM pg_catalog.generate_series(i.indnkeyatts + 1, i.indnatts) k ORDER BY k) AS include,
       pg_catalog.pg_get_expr(i.indpred, i.indrelid) AS predicate,
       pg_catalog.pg_relation_size(i.indexrelid) AS size_bytes, s.idx_scan AS scans,
       (SELECT con.contype::text FROM pg_catalog.pg_constraint con
         WHERE con.conindid = i.indexrelid AND con.conrelid = i.indrelid AND con.contype IN ('p', 'u')
         LIMIT 1) AS constraint_type
FROM pg_catalog.pg_index i
JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
JOIN pg_catalog.pg_am am ON am.oid = ic.relam
LEFT JOIN pg_catalog.pg_stat_user_indexes s ON s.indexrelid = i.indexrelid
WHERE i.indrelid IN ({_SELECTED_RELATIONS})
ORDER BY i.indrelid, ic.relname
"""
SEQUENCES_SQL: Final = f"""
SELECT s.schemaname::text AS schema, s.sequencename::text AS name, s.data_type::text AS data_type,
       s.last_value, s.max_value,
       (SELECT tn.nspname || '.' || tc.relname || '.' || ta.attname
          FROM pg_catalog.pg_depend d
          JOIN pg_catalog.pg_class tc ON tc.oid = d.refobjid
          JOIN pg_catalog.pg_namespace tn ON tn.oid = tc.relnamespace
          JOIN pg_catalog.pg_attribute ta ON ta.attrelid = d.refobjid AND ta.attnum = d.refobjsubid
         WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = c.oid
           AND d.refclassid = 'pg_catalog.pg_class'::regclass AND d.deptype IN ('a', 'i')
         LIMIT 1) AS owned_by,
       (SELECT d.refobjid::int8 FROM pg_catalog.pg_depend d
         WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = c.oid
           AND d.refclassid = 'pg_catalog.pg_class'::regclass AND d.deptype IN ('a', 'i') LIMIT 1) AS owner_oid
FROM pg_catalog.pg_sequences s
JOIN pg_catalog.pg_namespace n ON n.nspname = s.schemaname
JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = s.sequencename
WHERE {_USER_SCHEMA} AND {_NOT_EXTENSION_MEMBER}
ORDER BY 1, 2
"""
TRIGGERS_SQL: Final = f"""
SELECT t.tgrelid::int8 AS oid, t.tgname::text AS name, t.tgtype::int AS type,
       pg_catalog.pg_get_triggerdef(t.oid, true) AS definition
FROM pg_catalog.pg_trigger t
WHERE t.tgrelid IN ({_SELECTED_RELATIONS}) AND NOT t.tgisinternal
ORDER BY t.tgrelid, t.tgname
"""
CATALOG_QUERIES: Final = 7

VOLATILITY_SQL: Final = """
SELECT f.wanted, bool_and(p.provolatile IN ('i', 's')) AS safe, count(p.oid) AS found
FROM pg_catalog.unnest($1::text[]) AS f(wanted)
LEFT JOIN pg_catalog.pg_proc p
  ON p.proname = pg_catalog.split_part(f.wanted, '.', -1)
 AND CASE WHEN f.wanted LIKE '%.%'
          THEN p.pronamespace = (SELECT oid FROM pg_catalog.pg_namespace
                                 WHERE nspname = pg_catalog.split_part(f.wanted, '.', 1))
          ELSE pg_catalog.pg_function_is_visible(p.oid) END
GROUP BY f.wanted
"""
# The read runs in our own transaction, whose SET LOCAL timeouts show as source 'session': report what the
# session had before them (reset_val), so statement_timeout reads as the server's, not the guard's 15 s.
SETTINGS_SQL: Final = """
SELECT name,
       CASE WHEN source = 'session' THEN reset_val ELSE setting END AS setting,
       unit,
       CASE WHEN source <> 'session' THEN source
            WHEN reset_val IS NOT DISTINCT FROM boot_val THEN 'default'
            ELSE 'server configuration' END AS source,
       category, context, short_desc
FROM pg_catalog.pg_settings ORDER BY name
"""
STATS_OVERVIEW_SQL: Final = """
SELECT (SELECT pg_catalog.to_jsonb(d) FROM pg_catalog.pg_stat_database d
         WHERE d.datname = pg_catalog.current_database())::text AS database,
       (SELECT pg_catalog.to_jsonb(b) FROM pg_catalog.pg_stat_bgwriter b)::text AS bgwriter,
       (SELECT pg_catalog.jsonb_build_object(
            'tables', count(*), 'seq_scan', sum(seq_scan), 'seq_tup_read', sum(seq_tup_read),
            'idx_scan', sum(idx_scan), 'idx_tup_fetch', sum(idx_tup_fetch), 'n_live_tup', sum(n_live_tup),
            'n_dead_tup', sum(n_dead_tup), 'n_mod_since_analyze', sum(n_mod_since_analyze),
            'n_tup_ins', sum(n_tup_ins), 'n_tup_upd', sum(n_tup_upd), 'n_tup_del', sum(n_tup_del),
            'n_tup_hot_upd', sum(n_tup_hot_upd),
            'never_vacuumed', count(*) FILTER (WHERE last_vacuum IS NULL AND last_autovacuum IS NULL),
            'never_analyzed', count(*) FILTER (WHERE last_analyze IS NULL AND last_autoanalyze IS NULL))
          FROM pg_catalog.pg_stat_user_tables)::text AS user_tables,
       (SELECT pg_catalog.jsonb_build_object(
            'heap_blks_read', sum(heap_blks_read), 'heap_blks_hit', sum(heap_blks_hit),
            'idx_blks_read', sum(idx_blks_read), 'idx_blks_hit', sum(idx_blks_hit),
            'toast_blks_read', sum(toast_blks_read), 'toast_blks_hit', sum(toast_blks_hit))
          FROM pg_catalog.pg_statio_user_tables)::text AS statio_user_tables,
       (SELECT pg_catalog.jsonb_object_agg(coalesce(state, 'null'), n) FROM (
          SELECT state, count(*) AS n FROM pg_catalog.pg_stat_activity
           WHERE backend_type = 'client backend' GROUP BY state) a)::text AS activity_by_state,
       (SELECT count(*) FROM pg_catalog.pg_stat_activity
         WHERE backend_type = 'client backend' AND wait_event_type = 'Lock') AS waiting_on_locks,
       (SELECT pg_catalog.jsonb_agg(pg_catalog.to_jsonb(r) - 'pid') FROM pg_catalog.pg_stat_replication r)::text
         AS replication,
       (SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
            'slot_name', slot_name, 'slot_type', slot_type, 'active', active,
            'retained_bytes', pg_catalog.pg_wal_lsn_diff(
                CASE WHEN pg_catalog.pg_is_in_recovery() THEN pg_catalog.pg_last_wal_receive_lsn()
                     ELSE pg_catalog.pg_current_wal_lsn() END, restart_lsn)))
          FROM pg_catalog.pg_replication_slots)::text AS replication_slots,
       pg_catalog.pg_is_in_recovery() AS in_recovery,
       pg_catalog.pg_database_size(pg_catalog.current_database()) AS database_size_bytes,
       pg_catalog.current_setting('max_connections')::int AS max_connections,
       EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'pg_stat_statements')
         AS pgss_installed,
       pg_catalog.current_setting('shared_preload_libraries') AS shared_preload_libraries,
       (SELECT n.nspname::text FROM pg_catalog.pg_extension e
          JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
         WHERE e.extname = 'pg_stat_statements') AS pgss_schema
"""
CHECKPOINTER_SQL: Final = "SELECT pg_catalog.to_jsonb(c)::text FROM pg_catalog.pg_stat_checkpointer c"
# pg_stat_statements renamed total_time → total_exec_time in 1.8 (PostgreSQL 13).
PGSS_TOP_SQL: Final = """
SELECT pg_catalog.to_jsonb(s)::text FROM {schema}.pg_stat_statements s
WHERE s.dbid = (SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database())
ORDER BY s.{total} DESC NULLS LAST LIMIT {limit}
"""

_FK_ACTIONS: Final = {"a": "no action", "r": "restrict", "c": "cascade", "n": "set null", "d": "set default"}
_RELKINDS: Final = {
    "r": "table",
    "p": "partitioned_table",
    "v": "view",
    "m": "materialized_view",
    "f": "foreign_table",
}
# asyncpg errors that mean the connection (not the statement) failed.
_CONNECTION_ERRORS: Final = (
    OSError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.InterfaceError,
)


@dataclass(frozen=True)
class Capabilities:
    """What the server can do, detected once on the first connection."""

    version_num: int  # e.g. 150020
    version: str

    @property
    def major(self) -> int:
        return self.version_num // 10_000

    @property
    def has_checkpointer_view(self) -> bool:
        return self.major >= 17

    @property
    def pgss_total_column(self) -> str:
        return "total_exec_time" if self.major >= 13 else "total_time"


class _Retry(Exception):
    """The pooled connection was dead before anything ran: safe to try once more on a fresh one."""


_STALE_STATEMENT: Final = (asyncpg.exceptions.InvalidCachedStatementError, asyncpg.exceptions.OutdatedSchemaCacheError)


class _Stale(Exception):
    """A cached statement no longer matches the schema; it was dropped and the call can run again."""


async def _cached_statement(conn: asyncpg.Connection, query: str) -> Any:
    """The statement from asyncpg's own per-connection statement cache, so a repeated query needs no Parse.

    `Connection.prepare` never uses that cache; `_prepare(use_cache=True)` is what asyncpg's `fetch` and
    `cursor` use. If a later asyncpg drops it, the statement is prepared uncached (one more round trip).
    """
    prepare = getattr(conn, "_prepare", None)
    if prepare is None:  # pragma: no cover - asyncpg 0.30-0.32 all have it
        return await conn.prepare(query)
    return await prepare(query, use_cache=True)


async def _no_reset(_conn: asyncpg.Connection) -> None:
    """Read-only connections need no separate reset round trip on release: every call ends in
    `_rollback`, which sends the session reset with the ROLLBACK."""


class PostgresAdapter(DatabaseAdapter):
    engine = "postgresql"

    def __init__(self, config: ConnectionConfig) -> None:
        super().__init__(config)
        self._pool: asyncpg.Pool | None = None
        self._pool_lock = asyncio.Lock()
        self.capabilities: Capabilities | None = None
        self._volatility: dict[str, bool] = {}  # function name as written → safe (immutable/stable)

    # ---------------------------------------------------------------------------------------- connections

    @property
    def _where(self) -> str:
        return f"connection {self.config.name!r} ({self.config.host_port})"

    async def _get_pool(self) -> asyncpg.Pool:
        if self._pool is not None:
            return self._pool
        async with self._pool_lock:
            if self._pool is None:
                opts = self.config.options
                try:
                    self._pool = await asyncpg.create_pool(
                        self.config.url,
                        min_size=POOL_MIN_SIZE,
                        max_size=POOL_MAX_SIZE,
                        timeout=opts.connect_timeout_ms / 1000,
                        command_timeout=opts.statement_timeout_ms / 1000 + CLIENT_GRACE_S,
                        reset=_no_reset if opts.read_only else None,
                        server_settings={"application_name": f"dbspecialist/{self.config.name}"},
                    )
                except Exception as exc:  # bad DSN options are reported by asyncpg as various types
                    raise ConnectionFailedError(
                        f"{self._where}: cannot create a connection pool: {redact(str(exc))}"
                    ) from None
        return self._pool

    def _connection_error(self, exc: BaseException) -> ConnectionFailedError:
        if isinstance(exc, TimeoutError):
            reason = f"no answer within {self.config.options.connect_timeout_ms} ms"
        elif isinstance(exc, ConnectionRefusedError) or "Connect call failed" in str(exc):
            reason = "connection refused (is the server running and listening there?)"
        else:
            reason = redact(str(exc)) or type(exc).__name__
        return ConnectionFailedError(f"{self._where}: cannot reach PostgreSQL: {reason}")

    async def _with_connection(self, work: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
        """Run `work` on a pooled connection; map failures to typed errors; retry a dead one once."""
        pool = await self._get_pool()
        for attempt in (1, 2):
            try:
                async with pool.acquire() as conn:
                    if self.capabilities is None:
                        self.capabilities = _detect(conn)
                    return await work(conn)
            except _Retry as exc:
                if attempt == 2:
                    raise self._connection_error(exc.__cause__ or exc) from None
            except DBSpecialistError:
                raise
            except asyncpg.exceptions.InvalidAuthorizationSpecificationError as exc:
                raise ConnectionFailedError(f"{self._where}: authentication failed: {redact(str(exc))}") from None
            except asyncpg.exceptions.InvalidCatalogNameError as exc:
                raise ConnectionFailedError(f"{self._where}: {redact(str(exc))}") from None
            except (*_CONNECTION_ERRORS, TimeoutError) as exc:
                raise self._connection_error(exc) from None
        raise AssertionError("unreachable")  # pragma: no cover

    async def _begin(
        self, conn: asyncpg.Connection, *, read_only: bool, timeout_ms: int, snapshot: bool = False
    ) -> None:
        """BEGIN with the limits, in one round trip. A dead connection here has run nothing: retry it."""
        mode = " ISOLATION LEVEL REPEATABLE READ" if snapshot else ""
        mode += " READ ONLY" if read_only else ""
        timeout = max(1, int(timeout_ms))
        lock_timeout = max(1, timeout * 9 // 10)  # fires first, so a lock wait is reported as one
        sql = (
            f"BEGIN{mode}; SET LOCAL statement_timeout = {timeout}; SET LOCAL lock_timeout = {lock_timeout}; "
            f"SET LOCAL idle_in_transaction_session_timeout = {timeout + IDLE_IN_TRANSACTION_MARGIN_MS}"
        )
        try:
            await conn.execute(sql)
        except (*_CONNECTION_ERRORS, TimeoutError) as exc:
            conn.terminate()  # never hand a dead connection back to the pool
            raise _Retry() from exc

    async def _rollback(self, conn: asyncpg.Connection) -> None:
        """ROLLBACK; on a read-only pool (which skips asyncpg's reset on release) the session reset rides along
        in the same round trip, undoing what a function declared STABLE might have left behind (a session
        setting, an advisory lock, LISTEN)."""
        if conn.is_closed():
            return
        sql = f"ROLLBACK; {conn.get_reset_query()}" if self.config.options.read_only else "ROLLBACK"
        try:
            async with asyncio.timeout(CLIENT_GRACE_S):
                await conn.execute(sql)
        except Exception:
            conn.terminate()  # unknown state: never hand it back to the pool

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            try:
                await asyncio.wait_for(pool.close(), CLIENT_GRACE_S * 2)
            except Exception:
                pool.terminate()

    async def server_version(self) -> str:
        async def work(conn: asyncpg.Connection) -> str:
            try:
                return str(await conn.fetchval("SHOW server_version"))
            except (*_CONNECTION_ERRORS, TimeoutError) as exc:
                conn.terminate()
                raise _Retry() from exc

        return await self._with_connection(work)

    # ---------------------------------------------------------------------------------------- queries

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
            accepted = check_postgres(query)
        else:
            check_postgres_single(query)
            accepted = PgAccepted(kind="any", sql=query)
        args = _positional(params)
        started = time.perf_counter()

        async def work(conn: asyncpg.Connection) -> QueryResult:
            if read_only and accepted.unknown_functions:
                await self._refuse_volatile(conn, accepted.unknown_functions)
            await self._begin(conn, read_only=read_only, timeout_ms=timeout_ms)
            committed = False
            try:
                async with asyncio.timeout(timeout_ms / 1000 + CLIENT_GRACE_S):
                    columns, collector = await self._stream(conn, query, args, max_rows, max_bytes, read_only)
                    if not read_only:
                        await conn.execute("COMMIT")
                        committed = True
            except TimeoutError:
                conn.terminate()
                raise QueryTimeoutError(self._timeout_message(timeout_ms)) from None
            except _STALE_STATEMENT as exc:
                await self._rollback(conn)
                committed = True  # rolled back already
                await conn.reload_schema_state()  # drops this connection's cached statements
                raise _Stale() from exc
            except asyncpg.PostgresError as exc:
                raise self._query_error(exc, timeout_ms) from None
            except asyncpg.exceptions.InterfaceError as exc:
                if conn.is_closed():
                    raise
                raise QueryError(f"{self._where}: {redact(str(exc))}") from None
            finally:
                if not committed:
                    await self._rollback(conn)
            return QueryResult(
                columns=columns,
                rows=collector.rows,
                row_count=len(collector.rows),
                truncated=collector.truncated_by is not None,
                truncated_by=collector.truncated_by,
                elapsed_ms=round((time.perf_counter() - started) * 1000, 3),
            )

        try:
            return await self._with_connection(work)
        except _Stale:  # the table changed since this connection cached the statement: prepare it afresh, once
            pass
        try:
            return await self._with_connection(work)
        except _Stale:
            raise QueryError(f"{self._where}: the tables changed twice while the statement ran; run it again") from None

    async def _stream(
        self, conn: asyncpg.Connection, query: str, args: list[Any], max_rows: int, max_bytes: int, read_only: bool
    ) -> tuple[list[str], RowCollector]:
        """Prepare the one statement (cached per connection), then read it through a portal in batches.

        The first batch is bound and executed in one round trip; a repeated statement needs no Parse.
        """
        collector = RowCollector(max_rows, max_bytes)
        stmt = await _cached_statement(conn, query)
        columns = [a.name for a in stmt.get_attributes()]
        if not columns:
            if read_only:
                raise QueryRefusedError(
                    f"{self._where}: the statement returns no rows, so it is not a read; it was not run"
                )
            await stmt.fetch(*args)
            return columns, collector
        async for row in stmt.cursor(*args, prefetch=min(max_rows + 1, BATCH_ROWS)):
            if not collector.add(row):
                break
        return columns, collector

    async def _refuse_volatile(self, conn: asyncpg.Connection, names: Sequence[str]) -> None:
        """Look up unknown functions once (cached per adapter); refuse volatile ones by name."""
        missing = [n for n in names if n not in self._volatility]
        if missing:
            try:
                rows = await conn.fetch(VOLATILITY_SQL, missing)
            except (*_CONNECTION_ERRORS, TimeoutError) as exc:
                conn.terminate()
                raise _Retry() from exc
            for row in rows:
                if row["found"]:  # a function that does not exist fails later, with PostgreSQL's message
                    self._volatility[row["wanted"]] = bool(row["safe"])
        volatile = [n for n in names if self._volatility.get(n) is False]
        if volatile:
            listed = ", ".join(f"{n}()" for n in volatile)
            raise QueryRefusedError(
                f"Refused by the read-only guard: {listed} {'is' if len(volatile) == 1 else 'are'} VOLATILE in "
                "pg_proc (may write or have side effects); only IMMUTABLE or STABLE functions are allowed"
            )

    def _timeout_message(self, timeout_ms: int) -> str:
        return (
            f"the query on {self._where} ran longer than {timeout_ms} ms and was stopped. "
            "Narrow it (WHERE, LIMIT), or raise statement_timeout_ms for this connection."
        )

    def _query_error(self, exc: asyncpg.PostgresError, timeout_ms: int) -> DBSpecialistError:
        state = getattr(exc, "sqlstate", None)
        if isinstance(exc, _CONNECTION_ERRORS):  # 08xxx, admin shutdown, crash: the connection is gone
            return self._connection_error(exc)
        if isinstance(exc, asyncpg.exceptions.QueryCanceledError):
            return QueryTimeoutError(self._timeout_message(timeout_ms))
        if isinstance(exc, asyncpg.exceptions.LockNotAvailableError):
            return QueryTimeoutError(
                f"the query on {self._where} waited more than {timeout_ms} ms for a lock and was stopped"
            )
        if isinstance(exc, asyncpg.exceptions.ReadOnlySQLTransactionError):
            return QueryError(
                f"PostgreSQL refused the statement on {self._where}: it writes, and the connection is read-only "
                f"({redact(str(exc))})"
            )
        message = " ".join(str(exc).split())  # asyncpg puts DETAIL and HINT on their own lines
        return QueryError(redact(f"PostgreSQL error {state} on {self._where}: {message}"))

    # ---------------------------------------------------------------------------------------- explain

    async def explain(self, statement: str, *, analyze: bool = False, timeout_ms: int) -> ExplainResult:
        read_only = self.config.options.read_only
        if read_only:
            accepted = check_postgres(statement, plan_only=not analyze)
            if accepted.kind == "show":
                raise QueryRefusedError("Refused by the read-only guard: SHOW has no plan; explain a query")
            unknown = accepted.unknown_functions
        else:
            kind = check_postgres_single(statement)
            if kind == "explain":
                raise QueryRefusedError("Refused by the read-only guard: pass the statement without EXPLAIN")
            unknown = ()
        # VERBOSE: JSON plans then name each relation's "Schema", so fixes can qualify the table they target.
        options = "FORMAT JSON, VERBOSE, ANALYZE, BUFFERS" if analyze else "FORMAT JSON, VERBOSE"
        params = sorted({int(m[1:]) for m in _PARAMETER.findall(statement)})
        if params and analyze:
            raise QueryRefusedError(
                f"the statement has parameters (${params[0]}...): EXPLAIN ANALYZE must run it, so put real values in "
                "place of the parameters, or use analyze=false for the generic plan"
            )

        async def work(conn: asyncpg.Connection) -> ExplainResult:
            if unknown:
                await self._refuse_volatile(conn, unknown)
            await self._begin(conn, read_only=read_only, timeout_ms=timeout_ms)
            try:
                async with asyncio.timeout(timeout_ms / 1000 + CLIENT_GRACE_S):
                    if params:
                        raw = await self._explain_generic(conn, statement, max(params))
                    else:
                        raw = await conn.fetchval(f"EXPLAIN ({options}) {statement}")
                    plan = json.loads(raw) if isinstance(raw, str) else raw
                    await _mark_partitions(conn, plan)
            except TimeoutError:
                conn.terminate()
                raise QueryTimeoutError(self._timeout_message(timeout_ms)) from None
            except asyncpg.PostgresError as exc:
                raise self._query_error(exc, timeout_ms) from None
            finally:
                await self._rollback(conn)  # ANALYZE of a write is always undone
            return ExplainResult(engine=self.engine, format="json", analyzed=analyze, plan=plan, statement=statement)

        return await self._with_connection(work)

    async def _explain_generic(self, conn: asyncpg.Connection, statement: str, last_param: int) -> Any:
        """The generic plan of a parameterised statement ($1, $2 ... as pg_stat_statements shows them).

        The statement is prepared in this (read-only, rolled back) transaction and its generic plan explained with
        NULL arguments, which a generic plan does not depend on. This works on every version. EXPLAIN
        (GENERIC_PLAN) (16+) cannot be used here: sent through the extended protocol, the $n of the explained
        statement become parameters of the EXPLAIN itself, and the server asks for their values.

        One thing does depend on the arguments: run-time partition pruning at executor start-up. With NULLs every
        partition that a $n selects is pruned ("Subplans Removed"), and the plan loses its partition scans. The
        statement is then planned again with enable_partition_pruning off (SETTINGS records it in the plan), and
        that plan is kept when it has the same partitions and cost, i.e. when plan-time pruning removed nothing
        the first plan had. Otherwise the first plan stays, and the analysis warns that scans are missing.
        """
        args = ", ".join("NULL" for _ in range(last_param))
        await conn.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        pruned = await self._explain_prepared(conn, statement, args, "FORMAT JSON, VERBOSE")
        caps = self.capabilities or _detect(conn)
        if not _subplans_removed(pruned) or caps.version_num < 120_000:  # SETTINGS is 12+
            return pruned
        await conn.execute("SET LOCAL enable_partition_pruning = off")
        unpruned = await self._explain_prepared(conn, statement, args, "FORMAT JSON, VERBOSE, SETTINGS")
        return unpruned if _same_partitions(pruned, unpruned) else pruned

    @staticmethod
    async def _explain_prepared(conn: asyncpg.Connection, statement: str, args: str, options: str) -> Any:
        name = f"dbspecialist_explain_{next(_EXPLAIN_IDS)}"
        await conn.execute(f"PREPARE {name} AS {statement}")
        try:
            raw = await conn.fetchval(f"EXPLAIN ({options}) EXECUTE {name}({args})")
        finally:
            await conn.execute(f"DEALLOCATE {name}")
        return json.loads(raw) if isinstance(raw, str) else raw

    # ---------------------------------------------------------------------------------------- settings, stats

    async def _read(self, fn: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
        """Run catalog reads in one READ ONLY snapshot with the connection's statement timeout."""
        timeout_ms = self.config.options.statement_timeout_ms

        async def work(conn: asyncpg.Connection) -> T:
            await self._begin(conn, read_only=True, timeout_ms=timeout_ms, snapshot=True)
            try:
                return await fn(conn)
            except asyncpg.PostgresError as exc:
                raise self._query_error(exc, timeout_ms) from None
            finally:
                await self._rollback(conn)

        return await self._with_connection(work)

    async def settings(self) -> list[Setting]:
        rows = await self._read(lambda conn: conn.fetch(SETTINGS_SQL))
        return [
            Setting(
                name=r["name"],
                value=r["setting"],
                unit=r["unit"],
                source=r["source"],
                category=r["category"],
                restart_required=r["context"] == "postmaster",
                description=r["short_desc"],
            )
            for r in rows
        ]

    async def statistics(self) -> dict[str, Any]:
        async def fn(conn: asyncpg.Connection) -> dict[str, Any]:
            caps = self.capabilities or _detect(conn)
            row = await conn.fetchrow(STATS_OVERVIEW_SQL)
            assert row is not None
            out: dict[str, Any] = {
                "server_version_num": caps.version_num,
                "pg_stat_database": _loads(row["database"]),
                "pg_stat_bgwriter": _loads(row["bgwriter"]),
                "pg_stat_user_tables": _loads(row["user_tables"]),
                "pg_statio_user_tables": _loads(row["statio_user_tables"]),
                "pg_stat_activity": {
                    "by_state": _loads(row["activity_by_state"]) or {},
                    "waiting_on_locks": row["waiting_on_locks"],
                    "max_connections": row["max_connections"],
                },
                "pg_stat_replication": _loads(row["replication"]) or [],
                "pg_replication_slots": _loads(row["replication_slots"]) or [],
                "in_recovery": row["in_recovery"],
                "database_size_bytes": row["database_size_bytes"],
            }
            if caps.has_checkpointer_view:
                out["pg_stat_checkpointer"] = _loads(await conn.fetchval(CHECKPOINTER_SQL))
            preloaded = "pg_stat_statements" in (row["shared_preload_libraries"] or "")
            pgss: dict[str, Any] = {"installed": row["pgss_installed"], "preloaded": preloaded, "top": []}
            if row["pgss_installed"] and preloaded:
                schema = '"' + str(row["pgss_schema"]).replace('"', '""') + '"'
                sql = PGSS_TOP_SQL.format(schema=schema, total=caps.pgss_total_column, limit=TOP_STATEMENTS)
                pgss["top"] = [_loads(r[0]) for r in await conn.fetch(sql)]
            out["pg_stat_statements"] = pgss
            return out

        return await self._read(fn)

    # ---------------------------------------------------------------------------------------- introspection

    async def introspect(self, schema: str | None = None, tables: Sequence[str] | None = None) -> Catalog:
        wanted = list(tables) if tables else None

        async def fn(conn: asyncpg.Connection) -> Catalog:
            meta = await conn.fetchrow(META_SQL, schema)
            assert meta is not None
            relations = await conn.fetch(RELATIONS_SQL, schema, wanted)
            columns = await conn.fetch(COLUMNS_SQL, schema, wanted)
            constraints = await conn.fetch(CONSTRAINTS_SQL, schema, wanted)
            indexes = await conn.fetch(INDEXES_SQL, schema, wanted)
            sequences = await conn.fetch(SEQUENCES_SQL, schema)
            triggers = await conn.fetch(TRIGGERS_SQL, schema, wanted)
            return _build_catalog(meta, relations, columns, constraints, indexes, sequences, triggers, wanted)

        return await self._read(fn)


# ------------------------------------------------------------------------------------------ explain helpers

# The partitioned parent of each scanned partition, with the parent's own partitions: a fix on a partition's scan
# (an index) belongs on the parent, built partition by partition. $1/$2: schemas and names of the scanned relations.
_PARTITION_PARENTS_SQL: Final = """
SELECT r.nsp, r.rel, pn.nspname AS parent_schema, p.relname AS parent, p.relispartition AS parent_is_partition,
       ARRAY(SELECT pg_catalog.jsonb_build_array(kn.nspname, k.relname, k.relkind = 'p')::text
             FROM pg_catalog.pg_inherits i2
             JOIN pg_catalog.pg_class k ON k.oid = i2.inhrelid
             JOIN pg_catalog.pg_namespace kn ON kn.oid = k.relnamespace
             WHERE i2.inhparent = p.oid ORDER BY kn.nspname, k.relname) AS partitions
FROM unnest($1::text[], $2::text[]) AS r(nsp, rel)
JOIN pg_catalog.pg_namespace n ON n.nspname = r.nsp
JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = r.rel AND c.relispartition
JOIN pg_catalog.pg_inherits i ON i.inhrelid = c.oid
JOIN pg_catalog.pg_class p ON p.oid = i.inhparent AND p.relkind = 'p'
JOIN pg_catalog.pg_namespace pn ON pn.oid = p.relnamespace
"""
# Derived keys start with "*" (pev2's convention): PostgreSQL never writes them, the analysis reads them.
PARTITION_OF_KEY: Final = "*Partition Of"


def _plan_nodes(plan: Any) -> list[dict[str, Any]]:
    """Every node of a JSON plan (EXPLAIN (FORMAT JSON) output), in pre-order."""
    out: list[dict[str, Any]] = []
    stack = [e.get("Plan") for e in reversed(plan) if isinstance(e, dict)] if isinstance(plan, list) else []
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            out.append(node)
            children = node.get("Plans")
            if isinstance(children, list):
                stack.extend(reversed(children))
    return out


def _subplans_removed(plan: Any) -> bool:
    return any(node.get("Subplans Removed") for node in _plan_nodes(plan))


def _append_shape(plan: Any) -> list[int]:
    """Per Append / Merge Append: its subplans, counting those removed at executor start-up."""
    shape = []
    for node in _plan_nodes(plan):
        if node.get("Node Type") in ("Append", "Merge Append"):
            kids = [k for k in node.get("Plans") or [] if k.get("Parent Relationship") == "Member"]
            shape.append(len(kids) + int(node.get("Subplans Removed") or 0))
    return shape


def _same_partitions(pruned: Any, unpruned: Any) -> bool:
    """The unpruned plan is the pruned one with its subplans back: same Appends, subplan counts and cost."""
    costs = [_plan_nodes(p)[0].get("Total Cost") if _plan_nodes(p) else None for p in (pruned, unpruned)]
    return costs[0] is not None and costs[0] == costs[1] and _append_shape(pruned) == _append_shape(unpruned)


async def _mark_partitions(conn: asyncpg.Connection, plan: Any) -> None:
    """Add "*Partition Of" to each scan of a partition: its parent and the parent's partitions (one query)."""
    scans = [
        n for n in _plan_nodes(plan) if isinstance(n.get("Schema"), str) and isinstance(n.get("Relation Name"), str)
    ]
    if not scans:
        return
    pairs = sorted({(n["Schema"], n["Relation Name"]) for n in scans})
    rows = await conn.fetch(_PARTITION_PARENTS_SQL, [p[0] for p in pairs], [p[1] for p in pairs])
    parents: dict[tuple[str, str], dict[str, Any]] = {}
    for r in rows:
        parents[(r["nsp"], r["rel"])] = {
            "Schema": r["parent_schema"],
            "Relation Name": r["parent"],
            "Parent Is Partition": r["parent_is_partition"],
            "Partitions": [
                {"Schema": k[0], "Relation Name": k[1], "Partitioned": k[2]} for k in map(json.loads, r["partitions"])
            ],
        }
    for node in scans:
        parent = parents.get((node["Schema"], node["Relation Name"]))
        if parent is not None:
            node[PARTITION_OF_KEY] = parent


# -------------------------------------------------------------------------------------------------- helpers


def _detect(conn: asyncpg.Connection) -> Capabilities:
    """Parse the server_version the server reported at startup (no query): 15.4 → 150004, 9.6.3 → 90603."""
    version = str(conn.get_settings().server_version)
    parts = [int(p) for p in re.findall(r"\d+", version.split(" ", 1)[0])[:3]] + [0, 0, 0]
    num = parts[0] * 10_000 + parts[1] if parts[0] >= 10 else parts[0] * 10_000 + parts[1] * 100 + parts[2]
    return Capabilities(version_num=num, version=version)


def _positional(params: Params | None) -> list[Any]:
    if params is None:
        return []
    if isinstance(params, dict) or not isinstance(params, Sequence) or isinstance(params, str | bytes):
        raise QueryError("PostgreSQL takes positional parameters: pass a list for $1, $2, ...")
    return list(params)


def _loads(text: Any) -> Any:
    return json.loads(text) if isinstance(text, str) else text


def _latest(*values: Any) -> str | None:
    present = [v for v in values if v]
    return max(present) if present else None


def _build_catalog(
    meta: Any,
    relations: Sequence[Any],
    columns: Sequence[Any],
    constraints: Sequence[Any],
    indexes: Sequence[Any],
    sequences: Sequence[Any],
    triggers: Sequence[Any],
    wanted: list[str] | None,
) -> Catalog:
    cols_by: dict[int, list[Column]] = defaultdict(list)
    for c in columns:
        cols_by[c["oid"]].append(
            Column(
                name=c["name"],
                data_type=c["data_type"],
                nullable=c["nullable"],
                default=c["default"],
                ordinal=c["ordinal"],
                identity={"a": "always", "d": "by default"}.get(c["identity"] or ""),  # type: ignore[arg-type]
                generated=c["generated"],
                generated_kind={"s": "stored", "v": "virtual"}.get(c["generated_kind"] or ""),  # type: ignore[arg-type]
                collation=c["collation"],
                comment=c["comment"],
            )
        )
    pk_by: dict[int, PrimaryKey] = {}
    fk_by: dict[int, list[ForeignKey]] = defaultdict(list)
    uq_by: dict[int, list[UniqueConstraint]] = defaultdict(list)
    ck_by: dict[int, list[CheckConstraint]] = defaultdict(list)
    for k in constraints:
        oid, kind = k["oid"], k["type"]
        if kind == "p":
            pk_by[oid] = PrimaryKey(name=k["name"], columns=list(k["columns"]))
        elif kind == "u":
            uq_by[oid].append(UniqueConstraint(name=k["name"], columns=list(k["columns"])))
        elif kind == "c":
            ck_by[oid].append(CheckConstraint(name=k["name"], expression=k["expression"], validated=k["validated"]))
        elif kind == "f":
            fk_by[oid].append(
                ForeignKey(
                    name=k["name"],
                    columns=list(k["columns"]),
                    ref_schema=k["ref_schema"],
                    ref_table=k["ref_table"],
                    ref_columns=list(k["ref_columns"]),
                    on_delete=_FK_ACTIONS.get(k["on_delete"], "no action"),  # type: ignore[arg-type]
                    on_update=_FK_ACTIONS.get(k["on_update"], "no action"),  # type: ignore[arg-type]
                    deferrable=k["deferrable"],
                    validated=k["validated"],
                )
            )
    idx_by: dict[int, list[Index]] = defaultdict(list)
    for i in indexes:
        origin = {"p": "primary_key", "u": "unique_constraint"}.get(i["constraint_type"] or "", "index")
        idx_by[i["oid"]].append(
            Index(
                name=i["name"],
                columns=list(i["columns"]),
                unique=i["is_unique"],
                primary=i["is_primary"],
                method=i["method"],
                predicate=i["predicate"],
                include=list(i["include"]),
                valid=i["valid"],
                size_bytes=i["size_bytes"],
                scans=i["scans"],
                origin=origin,  # type: ignore[arg-type]
            )
        )
    trig_by: dict[int, list[Trigger]] = defaultdict(list)
    for t in triggers:
        trig_by[t["oid"]].append(Trigger(name=t["name"], definition=t["definition"], **_trigger_parts(t["type"])))

    tables: list[Table] = []
    for r in relations:
        oid = r["oid"]
        stats: dict[str, Any] = _loads(r["stats"]) or {}
        if r["xid_age"] is not None:
            stats["relfrozenxid_age"] = r["xid_age"]
        options = dict(opt.split("=", 1) for opt in (r["reloptions"] or []) if "=" in opt)
        if r["persistence"] == "u":
            options["persistence"] = "unlogged"
        if r["rls"]:
            options["row_security"] = "enabled"
        if r["partition_bound"]:
            options["partition_bound"] = r["partition_bound"]
        if r["foreign_server"]:
            options["foreign_server"] = r["foreign_server"]
        reltuples = r["reltuples"]
        row_estimate = int(reltuples) if reltuples is not None and reltuples >= 0 and r["relkind"] != "v" else None
        tables.append(
            Table(
                schema_name=r["schema"],
                name=r["name"],
                kind=_RELKINDS[r["relkind"]],  # type: ignore[arg-type]
                columns=cols_by.get(oid, []),
                primary_key=pk_by.get(oid),
                foreign_keys=fk_by.get(oid, []),
                unique_constraints=uq_by.get(oid, []),
                check_constraints=ck_by.get(oid, []),
                indexes=idx_by.get(oid, []),
                triggers=trig_by.get(oid, []),
                row_estimate=row_estimate,
                row_estimate_source="statistics" if row_estimate is not None else None,
                table_bytes=r["table_bytes"],
                index_bytes=r["index_bytes"],
                total_bytes=r["total_bytes"],
                last_vacuum=_latest(stats.get("last_vacuum"), stats.get("last_autovacuum")),
                last_analyze=_latest(stats.get("last_analyze"), stats.get("last_autoanalyze")),
                partition_of=r["partition_of"],
                partition_key=r["partition_key"],
                options=options,
                definition=r["definition"],
                comment=r["comment"],
                stats=stats,
            )
        )
    selected_oids = {r["oid"] for r in relations}
    seqs = [
        SequenceModel(
            schema_name=s["schema"],
            name=s["name"],
            data_type=s["data_type"],
            current_value=s["last_value"],
            max_value=s["max_value"],
            owned_by=s["owned_by"],
        )
        for s in sequences
        if wanted is None or s["owner_oid"] in selected_oids
    ]
    extensions = [Extension(name=e.split("=", 1)[0], version=e.split("=", 1)[1]) for e in meta["extensions"]]
    return Catalog(
        engine="postgresql",
        server_version=meta["version"],
        database=meta["database"],
        schemas=list(meta["schemas"]),
        tables=tables,
        sequences=seqs,
        extensions=extensions,
        round_trips=CATALOG_QUERIES,
    )


def _trigger_parts(tgtype: int) -> dict[str, Any]:
    """Decode pg_trigger.tgtype bits: 2 = BEFORE, 64 = INSTEAD OF, else AFTER; 4/8/16/32 = events."""
    timing = "INSTEAD OF" if tgtype & 64 else "BEFORE" if tgtype & 2 else "AFTER"
    events = [name for bit, name in ((4, "INSERT"), (16, "UPDATE"), (8, "DELETE"), (32, "TRUNCATE")) if tgtype & bit]
    return {"timing": timing, "events": events}


__all__ = ["Capabilities", "PostgresAdapter"]
