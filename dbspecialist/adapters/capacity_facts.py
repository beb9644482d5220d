"""The live facts plan_capacity projects: sizes, limits and rates read from the server, no judgement.

Sizes and limits come from `adapter.settings()`, `adapter.statistics()` and `adapter.introspect()`. Rates (queries,
writes and WAL per second, Redis CPU) come from TWO SAMPLES of the server's cumulative counters taken
`sample_seconds` apart (1 s by default), never from counters divided by uptime: a since-start average hides today's
load, and PostgreSQL 15+ keeps its counters across restarts. A 1 s sample is a snapshot of now; give `qps` (and
the other rates) as facts for a peak hour. RAM, CPU and disk are not visible from SQL on PostgreSQL and MySQL/MariaDB:
they stay None and the notes say to give them. Redis INFO and MongoDB hostInfo/dbStats do report memory (and disk for
MongoDB); SQLite runs inside this process, so the machine's own RAM, cores and disk are read directly.

Coupling: MongoDB uses the adapter's private `_db` / `_guarded` for serverStatus, hostInfo and replSetGetStatus
(the guarded run_read_only reshapes replies into rows); SQLite reads the adapter's `_path`, as index_advisor does.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any, Final, TypeVar

from dbspecialist.adapters.base import DatabaseAdapter
from dbspecialist.adapters.catalog import Catalog
from dbspecialist.errors import DBSpecialistError
from dbspecialist.knowledge.capacity.model import CapacityFacts
from dbspecialist.knowledge.workload.top_queries_model import float_or_none

T = TypeVar("T")

SAMPLE_SECONDS: Final = 1.0
HOST_FACTS: Final = ("ram_bytes", "cpu_cores", "cpu_busy_pct", "storage_total_bytes", "storage_free_bytes")
GIVE_HOST: Final = (
    "RAM, CPU cores, CPU busy % and disk size/free are not visible from SQL here: give ram_bytes, cpu_cores, "
    "cpu_busy_pct, storage_total_bytes and storage_free_bytes in `facts`"
)
PG_SAMPLE_SQL: Final = """
SELECT extract(epoch FROM pg_catalog.clock_timestamp())::float8 AS t,
       (d.xact_commit + d.xact_rollback)::int8 AS xacts,
       (d.tup_inserted + d.tup_updated + d.tup_deleted)::int8 AS tuples_written,
       pg_catalog.pg_wal_lsn_diff(CASE WHEN pg_catalog.pg_is_in_recovery() THEN pg_catalog.pg_last_wal_replay_lsn()
                                       ELSE pg_catalog.pg_current_wal_lsn() END, '0/0')::float8 AS wal_bytes
FROM pg_catalog.pg_stat_database d WHERE d.datname = pg_catalog.current_database()
"""
PG_PGSS_SCHEMA_SQL: Final = """
SELECT n.nspname::text AS schema FROM pg_catalog.pg_extension e
JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
WHERE e.extname = 'pg_stat_statements'
  AND pg_catalog.current_setting('shared_preload_libraries') LIKE '%pg_stat_statements%'
"""
PG_PGSS_CALLS_SQL: Final = """
SELECT coalesce(sum(s.calls), 0)::int8 AS calls FROM {schema}.pg_stat_statements s
WHERE s.dbid = (SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database())
"""
# Innodb_buffer_pool_bytes_data at this share of the pool or more: the pool is full and evicting (free pages are
# kept for new reads, so a full pool never reaches 100 %).
POOL_FULL_SHARE: Final = 0.9
_PG_UNIT_BYTES: Final = {"B": 1, "kB": 1024, "8kB": 8192, "MB": 1024**2, "GB": 1024**3, "TB": 1024**4}
MYSQL_WRITE_COMMANDS: Final = (
    "Com_insert",
    "Com_insert_select",
    "Com_update",
    "Com_update_multi",
    "Com_delete",
    "Com_delete_multi",
    "Com_replace",
    "Com_replace_select",
)


async def live_capacity_facts(
    adapter: DatabaseAdapter,
    given: CapacityFacts | dict[str, Any] | None = None,
    *,
    sample_seconds: float = SAMPLE_SECONDS,
) -> CapacityFacts:
    """What the server says about its load and limits, with `given` facts on top (a given value always wins)."""
    readers: dict[str, Callable[[DatabaseAdapter, float], Awaitable[CapacityFacts]]] = {
        "postgresql": _postgres,
        "mysql": _mysql,
        "mongodb": _mongodb,
        "redis": _redis,
        "sqlite": _sqlite,
    }
    reader = readers.get(adapter.engine)
    live = await reader(adapter, sample_seconds) if reader else CapacityFacts(engine=adapter.engine)
    merged = live.merged(given)
    if GIVE_HOST in merged.notes:  # name only the host facts still missing after the caller's
        missing = [name for name in HOST_FACTS if getattr(merged, name) is None]
        notes = [n for n in merged.notes if n != GIVE_HOST]
        if missing:
            notes.insert(0, f"not visible from SQL here: give {', '.join(missing)} in `facts`")
        merged = merged.model_copy(update={"notes": notes})
    return merged


async def _try(notes: list[str], what: str, call: Awaitable[T]) -> T | None:
    """Await `call`; on a typed failure record what could not be read and go on with the rest."""
    try:
        return await call
    except DBSpecialistError as exc:
        notes.append(f"could not read {what}: {exc}")
        return None


async def _rows(adapter: DatabaseAdapter, sql: str) -> list[dict[str, Any]]:
    result = await adapter.run_read_only(
        sql, max_rows=10, max_bytes=100_000, timeout_ms=adapter.config.options.statement_timeout_ms
    )
    return [dict(zip(result.columns, row, strict=False)) for row in result.rows]


def _rate(before: Any, after: Any, seconds: float) -> float | None:
    if before is None or after is None or seconds <= 0:
        return None
    return round(max(float(after) - float(before), 0.0) / seconds, 3)


def _int(value: Any) -> int | None:
    number = float_or_none(value)
    return None if number is None else int(number)


def _sample_label(seconds: float) -> str:
    return f"2 samples {seconds:g} s apart"


def _largest(catalog: Catalog | None) -> tuple[str | None, int | None]:
    if catalog is None:
        return None, None
    sized = [t for t in catalog.tables if t.total_bytes is not None]
    if not sized:
        return None, None
    top = max(sized, key=lambda t: t.total_bytes or 0)
    return top.qualified_name, top.total_bytes


def pg_dead_pct(catalog: Catalog | None, qualified_name: str | None) -> float | None:
    """n_dead_tup / (n_live_tup + n_dead_tup) of one table, in % (pg_stat_user_tables), or None."""
    if catalog is None or qualified_name is None:
        return None
    for table in catalog.tables:
        if table.qualified_name == qualified_name:
            live, dead = _int(table.stats.get("n_live_tup")), _int(table.stats.get("n_dead_tup"))
            if live is None or dead is None or live + dead == 0:
                return None
            return round(100 * dead / (live + dead), 2)
    return None


# -------------------------------------------------------------------------------------------------- PostgreSQL


def pg_setting_bytes(value: str | None, unit: str | None) -> int | None:
    """pg_settings value times its unit (shared_buffers '16384' in '8kB' → 134217728)."""
    if value is None or not value.isdigit():  # -1 means "not set"
        return None
    return int(value) * _PG_UNIT_BYTES.get(unit or "B", 1)


def pg_working_set(catalog: Catalog) -> tuple[int, str]:
    """Every index, plus the heap of each table read by sequential scans (it is read whole)."""
    indexes = sum(t.index_bytes or 0 for t in catalog.tables)
    scanned = [t for t in catalog.tables if (t.stats.get("seq_scan") or 0) > 0 and t.table_bytes]
    heap = sum(t.table_bytes or 0 for t in scanned)
    basis = (
        f"all indexes ({indexes} bytes) + heap of the {len(scanned)} table(s) read by sequential scans "
        f"({heap} bytes), from pg_stat_user_tables since the statistics were reset"
    )
    return indexes + heap, basis


async def _pg_sample(adapter: DatabaseAdapter, pgss: str | None) -> dict[str, Any]:
    [row] = await _rows(adapter, PG_SAMPLE_SQL)
    if pgss is not None:
        [calls] = await _rows(adapter, PG_PGSS_CALLS_SQL.format(schema=pgss))
        row["calls"] = calls["calls"]
    return row


async def _postgres(adapter: DatabaseAdapter, seconds: float) -> CapacityFacts:
    notes: list[str] = [GIVE_HOST]
    sources: dict[str, str] = {}
    settings = {s.name: s for s in await adapter.settings()}
    stats = await adapter.statistics()
    catalog = await _try(notes, "the catalog (working set, largest table)", adapter.introspect())

    def setting(name: str) -> int | None:
        s = settings.get(name)
        return _int(s.value) if s is not None else None

    shared = settings.get("shared_buffers")
    cache = pg_setting_bytes(shared.value, shared.unit) if shared else None
    max_conn = setting("max_connections")
    reserved = (setting("superuser_reserved_connections") or 0) + (setting("reserved_connections") or 0)
    usable = None if max_conn is None else max_conn - reserved
    used = sum(int(v) for v in (stats.get("pg_stat_activity", {}).get("by_state") or {}).values())
    sources |= {
        "cache_bytes": "shared_buffers (pg_settings)",
        "connections_max": f"max_connections {max_conn} - {reserved} reserved for superusers/roles",
        "connections_used": "client backends in pg_stat_activity (all databases)",
        "data_bytes": "pg_database_size(current_database())",
        "replicas": "pg_stat_replication rows",
    }
    working_set: int | None = None
    basis: str | None = None
    largest: tuple[str | None, int | None] = (None, None)
    if catalog is not None:
        working_set, basis = pg_working_set(catalog)
        largest = _largest(catalog)
        sources["working_set_bytes"] = "estimate: " + basis
        sources["largest_table_bytes"] = "pg_total_relation_size of the largest table"
        sources["largest_table_dead_pct"] = "n_dead_tup / (n_live_tup + n_dead_tup) of it, pg_stat_user_tables"

    pgss_rows = await _try(notes, "pg_stat_statements", _rows(adapter, PG_PGSS_SCHEMA_SQL))
    pgss = '"' + str(pgss_rows[0]["schema"]).replace('"', '""') + '"' if pgss_rows else None
    before = await _try(notes, "the activity counters", _pg_sample(adapter, pgss))
    await asyncio.sleep(seconds)
    after = await _try(notes, "the activity counters", _pg_sample(adapter, pgss))
    qps = writes = wal = None
    if before and after:
        elapsed = float(after["t"]) - float(before["t"])
        label = _sample_label(seconds)
        if pgss is not None:
            qps = _rate(before.get("calls"), after.get("calls"), elapsed)
            sources["qps"] = f"pg_stat_statements calls of this database, {label}"
        else:
            qps = _rate(before["xacts"], after["xacts"], elapsed)
            sources["qps"] = f"transactions (commit + rollback) of this database, {label}: no pg_stat_statements"
        writes = _rate(before["tuples_written"], after["tuples_written"], elapsed)
        wal = _rate(before["wal_bytes"], after["wal_bytes"], elapsed)
        sources["writes_per_second"] = f"rows inserted + updated + deleted in this database, {label}"
        sources["wal_bytes_per_second"] = f"WAL position (pg_current_wal_lsn, whole cluster), {label}"
        notes.append(
            "PostgreSQL backends report their counters at most once a second (idle ones within 10 s): a short "
            "sample can under-read a bursty load; give qps/writes_per_second for the peak hour"
        )
    return CapacityFacts(
        engine="postgresql",
        data_bytes=_int(stats.get("database_size_bytes")),
        largest_table=largest[0],
        largest_table_bytes=largest[1],
        largest_table_dead_pct=pg_dead_pct(catalog, largest[0]),
        cache_bytes=cache,
        cache_name="shared_buffers",
        working_set_bytes=working_set,
        working_set_basis=basis,
        connections_used=used,
        connections_max=usable,
        qps=qps,
        writes_per_second=writes,
        wal_bytes_per_second=wal,
        replicas=len(stats.get("pg_stat_replication") or []),
        sources=sources,
        notes=notes,
    )


# -------------------------------------------------------------------------------------------------- MySQL


async def _mysql(adapter: DatabaseAdapter, seconds: float) -> CapacityFacts:
    notes: list[str] = [GIVE_HOST]
    settings = {s.name.lower(): s.value for s in await adapter.settings()}
    catalog = await _try(notes, "the catalog (data size, largest table)", adapter.introspect())
    first, started = await adapter.statistics(), time.monotonic()
    await asyncio.sleep(seconds)
    second = await adapter.statistics()
    elapsed = time.monotonic() - started  # SHOW GLOBAL STATUS carries no clock; Uptime has a 1 s resolution
    s1, s2 = first.get("global_status", {}), second.get("global_status", {})
    label = _sample_label(seconds)

    def total(status: Mapping[str, Any], names: tuple[str, ...]) -> float | None:
        values = [float_or_none(status.get(n)) for n in names if status.get(n) is not None]
        return sum(v for v in values if v is not None) if values else None

    log_names = ("Innodb_os_log_written", "Binlog_bytes_written")
    dumps = sum(
        int(v) for k, v in (second.get("processlist", {}).get("by_command") or {}).items() if "Binlog Dump" in k
    )
    data = sum(t.total_bytes or 0 for t in catalog.tables) if catalog is not None else None
    largest = _largest(catalog)
    pool = _int(settings.get("innodb_buffer_pool_size"))
    hot, hot_basis, hot_source = mysql_working_set(_int(s2.get("Innodb_buffer_pool_bytes_data")), pool, data, notes)
    reads, requests = (
        float_or_none(s2.get("Innodb_buffer_pool_reads")),
        float_or_none(s2.get("Innodb_buffer_pool_read_requests")),
    )
    if reads is not None and requests:
        miss = 100 * reads / requests
        if miss > 1:
            notes.append(
                f"{miss:.2f} % of buffer pool reads go to disk (since start): the working set is larger than the "
                "pages cached now; give working_set_bytes if you know it"
            )
    return CapacityFacts(
        engine="mysql",
        data_bytes=data,
        largest_table=largest[0],
        largest_table_bytes=largest[1],
        cache_bytes=pool,
        cache_name="innodb_buffer_pool_size",
        working_set_bytes=hot,
        working_set_basis=hot_basis,
        connections_used=_int(s2.get("Threads_connected")),
        connections_max=_int(settings.get("max_connections")),
        qps=_rate(s1.get("Questions"), s2.get("Questions"), elapsed),
        writes_per_second=_rate(total(s1, MYSQL_WRITE_COMMANDS), total(s2, MYSQL_WRITE_COMMANDS), elapsed),
        wal_bytes_per_second=_rate(total(s1, log_names), total(s2, log_names), elapsed),
        replicas=dumps,
        sources={
            "data_bytes": "data_length + index_length of the connection's database (information_schema.TABLES)",
            "cache_bytes": "innodb_buffer_pool_size",
            **({"working_set_bytes": hot_source} if hot is not None else {}),
            "connections_used": "Threads_connected",
            "connections_max": "max_connections",
            "qps": f"Questions (statements from clients), {label}",
            "writes_per_second": f"INSERT/UPDATE/DELETE/REPLACE statements (Com_*), {label}",
            "wal_bytes_per_second": f"redo log (Innodb_os_log_written) + binlog (Binlog_bytes_written), {label}",
            "replicas": "connected replicas (Binlog Dump threads in the processlist)",
        },
        notes=notes,
    )


def mysql_working_set(
    cached: int | None, pool: int | None, data: int | None, notes: list[str]
) -> tuple[int | None, str | None, str]:
    """The database's hot data from the server-wide bytes cached in the buffer pool.

    Innodb_buffer_pool_bytes_data counts every schema's pages and cannot exceed the pool: a full pool shows its own
    size, not the working set, so it gives no estimate then. Otherwise the database's share is at most its data.
    """
    source = "estimate: Innodb_buffer_pool_bytes_data (server-wide), at most this database's data"
    if cached is None:
        return None, None, source
    if pool and cached >= POOL_FULL_SHARE * pool:
        notes.append(
            f"the InnoDB buffer pool is full ({cached} of {pool} bytes hold data): what it caches shows the pool's "
            "size, not the working set; give working_set_bytes if you know it"
        )
        return None, None, source
    if data is not None and data < cached:
        return (
            data,
            (f"this database's data ({data} bytes): fewer than the {cached} bytes all schemas have in the buffer pool"),
            source,
        )
    return (
        cached,
        (
            f"InnoDB pages cached now, all schemas (Innodb_buffer_pool_bytes_data {cached} bytes, the pool not "
            "full): an upper bound for this database"
        ),
        source,
    )


# -------------------------------------------------------------------------------------------------- MongoDB


async def _mongodb(adapter: DatabaseAdapter, seconds: float) -> CapacityFacts:
    from pymongo.errors import OperationFailure

    from dbspecialist.adapters.mongodb import MongoAdapter

    assert isinstance(adapter, MongoAdapter)
    max_ms = adapter.config.options.statement_timeout_ms
    admin = adapter._db("admin")
    notes: list[str] = []
    stats = await adapter.statistics()

    async def command(doc: dict[str, Any]) -> dict[str, Any]:
        try:
            return dict(await admin.command({**doc, "maxTimeMS": max_ms}))
        except OperationFailure as exc:
            return {"error": str(exc.details.get("errmsg") if exc.details else exc)}

    host = await adapter._guarded("hostInfo", max_ms, lambda: command({"hostInfo": 1}))
    repl = await adapter._guarded("replSetGetStatus", max_ms, lambda: command({"replSetGetStatus": 1}))
    first = await adapter._guarded("serverStatus", max_ms, lambda: command({"serverStatus": 1}))
    started = time.monotonic()
    await asyncio.sleep(seconds)
    second = await adapter._guarded("serverStatus", max_ms, lambda: command({"serverStatus": 1}))
    elapsed = time.monotonic() - started
    system = host.get("system") or {}
    db_stats, status = stats.get("dbStats") or {}, stats.get("serverStatus") or {}
    cache = status.get("wiredTiger.cache") or {}
    conns = status.get("connections") or {}
    label = _sample_label(seconds)

    def ops(doc: Mapping[str, Any], names: tuple[str, ...]) -> float | None:
        counters = doc.get("opcounters") or {}
        values = [float_or_none(counters.get(n)) for n in names]
        return sum(v for v in values if v is not None) if counters else None

    every = ("query", "insert", "update", "delete", "getmore", "command")
    written = ("insert", "update", "delete")
    members = repl.get("members")
    if "error" in repl:
        notes.append(f"no replica set ({repl['error']})")
    fs_total, fs_used = _int(db_stats.get("fsTotalSize")), _int(db_stats.get("fsUsedSize"))
    sized = [(name, _int(c.get("storageSize")) or 0) for name, c in (stats.get("collStats") or {}).items()]
    largest = max(sized, key=lambda x: x[1]) if sized else (None, None)
    used, available = _int(conns.get("current")), _int(conns.get("available"))
    data = (_int(db_stats.get("storageSize")) or 0) + (_int(db_stats.get("indexSize")) or 0) if db_stats else None
    mem_mb = float_or_none(system.get("memSizeMB"))
    notes.append("CPU busy % is not reported by MongoDB: give cpu_busy_pct in `facts`")
    return CapacityFacts(
        engine="mongodb",
        data_bytes=data,
        largest_table=largest[0],
        largest_table_bytes=largest[1],
        ram_bytes=int(mem_mb * 1024**2) if mem_mb else None,
        cache_bytes=_int(cache.get("maximum bytes configured")),
        cache_name="WiredTiger cache",
        working_set_bytes=_int(cache.get("bytes currently in the cache")),
        working_set_basis="bytes in the WiredTiger cache now (cannot exceed the cache)",
        connections_used=used,
        connections_max=used + available if used is not None and available is not None else None,
        qps=_rate(ops(first, every), ops(second, every), elapsed),
        writes_per_second=_rate(ops(first, written), ops(second, written), elapsed),
        storage_total_bytes=fs_total,
        storage_free_bytes=fs_total - fs_used if fs_total is not None and fs_used is not None else None,
        cpu_cores=_int(system.get("numCores")),
        replicas=max(len(members) - 1, 0) if isinstance(members, list) else 0,
        sources={
            "data_bytes": "dbStats storageSize + indexSize (on disk, compressed)",
            "ram_bytes": "hostInfo system.memSizeMB",
            "cpu_cores": "hostInfo system.numCores",
            "cache_bytes": "serverStatus wiredTiger.cache 'maximum bytes configured'",
            "working_set_bytes": "estimate: serverStatus wiredTiger.cache 'bytes currently in the cache'",
            "connections_used": "serverStatus connections.current",
            "connections_max": "connections.current + connections.available",
            "qps": f"serverStatus opcounters (all operations), {label}",
            "writes_per_second": f"opcounters insert + update + delete, {label}",
            "storage_total_bytes": "dbStats fsTotalSize",
            "storage_free_bytes": "dbStats fsTotalSize - fsUsedSize",
            "replicas": "replSetGetStatus members - 1",
        },
        notes=notes,
    )


# -------------------------------------------------------------------------------------------------- Redis


async def _redis(adapter: DatabaseAdapter, seconds: float) -> CapacityFacts:
    settings = {s.name: s.value for s in await adapter.settings()}
    first, started = (await adapter.statistics()).get("info") or {}, time.monotonic()
    await asyncio.sleep(seconds)
    second = (await adapter.statistics()).get("info") or {}
    elapsed = time.monotonic() - started
    label = _sample_label(seconds)

    def field(info: Mapping[str, Any], section: str, name: str) -> Any:
        return (info.get(section) or {}).get(name)

    def cpu(info: Mapping[str, Any]) -> float | None:
        main = [field(info, "cpu", f"used_cpu_{k}_main_thread") for k in ("sys", "user")]
        if any(v is None for v in main):
            main = [field(info, "cpu", f"used_cpu_{k}") for k in ("sys", "user")]
        values = [float_or_none(v) for v in main]
        return None if any(v is None for v in values) else sum(v for v in values if v is not None)

    busy = _rate(cpu(first), cpu(second), elapsed)
    aof = field(second, "persistence", "aof_enabled") == 1
    maxmemory = _int(field(second, "memory", "maxmemory"))
    used_memory = _int(field(second, "memory", "used_memory"))
    notes = [
        "Redis runs commands on one thread: cpu_busy_pct is that thread's share of one core, the limit that counts",
        "disk size and free space are not in INFO: give storage_total_bytes and storage_free_bytes for RDB/AOF files",
    ]
    return CapacityFacts(
        engine="redis",
        data_bytes=used_memory,
        ram_bytes=_int(field(second, "memory", "total_system_memory")) or None,
        maxmemory_bytes=maxmemory,
        cache_bytes=maxmemory or None,
        cache_name="maxmemory",
        working_set_bytes=used_memory,
        working_set_basis="used_memory: Redis keeps every key in memory",
        connections_used=_int(field(second, "clients", "connected_clients")),
        connections_max=_int(settings.get("maxclients")),
        qps=_rate(
            field(first, "stats", "total_commands_processed"),
            field(second, "stats", "total_commands_processed"),
            elapsed,
        ),
        wal_bytes_per_second=(
            _rate(
                field(first, "persistence", "aof_current_size"),
                field(second, "persistence", "aof_current_size"),
                elapsed,
            )
            if aof
            else None
        ),
        cpu_cores=1,
        cpu_busy_pct=None if busy is None else round(busy * 100, 2),
        replicas=_int(field(second, "replication", "connected_slaves")),
        sources={
            "data_bytes": "INFO memory used_memory",
            "ram_bytes": "INFO memory total_system_memory",
            "maxmemory_bytes": "INFO memory maxmemory (0 = no limit)",
            "connections_used": "INFO clients connected_clients",
            "connections_max": "CONFIG GET maxclients",
            "qps": f"INFO stats total_commands_processed, {label}",
            "cpu_busy_pct": f"INFO cpu used_cpu_sys/user (main thread where reported), {label}",
            "cpu_cores": "one: Redis executes commands on a single thread",
            "wal_bytes_per_second": f"INFO persistence aof_current_size, {label}" if aof else "AOF is off",
            "replicas": "INFO replication connected_slaves",
        },
        notes=notes,
    )


# -------------------------------------------------------------------------------------------------- SQLite


async def _sqlite(adapter: DatabaseAdapter, seconds: float) -> CapacityFacts:
    notes: list[str] = [
        "SQLite keeps no query counters: give qps and writes_per_second in `facts`",
        "SQLite runs inside the application: RAM, cores and disk are this machine's",
    ]
    catalog = await _try(notes, "the catalog (largest table)", adapter.introspect())
    path = Path(getattr(adapter, "_path", None) or adapter.config.sqlite_path)
    files = [path, path.with_name(path.name + "-wal")]
    data = sum(p.stat().st_size for p in files if p.exists())
    disk = shutil.disk_usage(path.parent)
    largest = _largest(catalog)
    return CapacityFacts(
        engine="sqlite",
        data_bytes=data,
        largest_table=largest[0],
        largest_table_bytes=largest[1],
        ram_bytes=_machine_ram(),
        storage_total_bytes=disk.total,
        storage_free_bytes=disk.free,
        cpu_cores=os.cpu_count(),
        sources={
            "data_bytes": f"size of {path.name} and its -wal file",
            "ram_bytes": "this machine (os.sysconf)",
            "storage_total_bytes": f"the volume holding {path.parent}",
            "storage_free_bytes": f"the volume holding {path.parent}",
            "cpu_cores": "this machine (os.cpu_count)",
        },
        notes=notes,
    )


def _machine_ram() -> int | None:
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return None


__all__ = ["live_capacity_facts", "mysql_working_set", "pg_setting_bytes", "pg_working_set"]
