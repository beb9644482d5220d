"""plan_capacity: project every resource to `growth_factor` * today's load and find the first limit that breaks.

The model is linear: data, working set, connections, queries, writes and WAL all grow with the factor. Each
resource gets `headroom = limit / current` and `breaks_at`, the multiple of today's load where it reaches its limit
(the same number, except for storage, where space used by other files does not grow). Limits used:

- storage: STORAGE_MAX_FILL of the volume (room for VACUUM FULL / OPTIMIZE rewrites, WAL bursts, filesystem slack);
- memory: the engine's cache (InnoDB buffer pool, WiredTiger cache, Redis maxmemory) or, where the OS page cache
  serves reads too (PostgreSQL, SQLite), OS_CACHE_SHARE of RAM;
- connections: the clients' share of max_connections / maxclients;
- CPU: CPU_MAX_BUSY_PCT busy, the point where queueing makes latency climb;
- QPS, writes and WAL: only against a ceiling the caller measured (max_qps, ...).

The recommendations follow a fixed order (cheapest first): pooling, memory, read replicas, partitioning, caching,
and sharding on an existing distributed engine, each marked needed or not by the numbers.
"""

from __future__ import annotations

import math
from typing import Final

from dbspecialist.knowledge.capacity.model import CapacityFacts, CapacityReport, Projection, Recommendation, Resource

GROWTH_FACTOR_MIN: Final = 1
GROWTH_FACTOR_MAX: Final = 10_000
STORAGE_MAX_FILL: Final = 0.85
CPU_MAX_BUSY_PCT: Final = 80.0
OS_CACHE_SHARE: Final = 0.75  # RAM left for the engine's cache plus the OS page cache
REDIS_RAM_SHARE: Final = 0.75  # without maxmemory: room for fork copy-on-write and fragmentation
MONGO_RESERVED_BYTES: Final = 1024**3  # WiredTiger's default cache: 50 % of (RAM - 1 GiB) (MongoDB docs)
SHARED_BUFFERS_SHARE: Final = 0.25  # PostgreSQL docs: 25 % of RAM is a reasonable start for shared_buffers
POOL_PER_CORE: Final = 2  # PostgreSQL wiki, "Number Of Database Connections": about (cores * 2) + spindles
SECONDS_PER_DAY: Final = 86_400
BLOATED_DEAD_PCT: Final = 20.0  # autovacuum's default scale factor: more dead tuples than this is overdue cleanup
DISTRIBUTED: Final = {
    "postgresql": "Citus (distributed PostgreSQL: create_distributed_table on the shard key)",
    "mysql": "Vitess (sharded MySQL/MariaDB behind vtgate, a vindex maps the shard key to shards)",
    "mongodb": "MongoDB sharding (sh.shardCollection with a hashed or ranged shard key, behind mongos)",
    "redis": "Redis Cluster (16,384 hash slots spread over primaries; {hash tags} keep related keys together)",
    "sqlite": "none for SQLite: move to a server engine first (PostgreSQL, then Citus)",
}


def check_growth_factor(growth_factor: float) -> None:
    """Raise ValueError, in plain words, unless GROWTH_FACTOR_MIN < growth_factor <= GROWTH_FACTOR_MAX."""
    if not GROWTH_FACTOR_MIN < growth_factor <= GROWTH_FACTOR_MAX:
        raise ValueError(
            f"growth_factor must be more than {GROWTH_FACTOR_MIN:g} and at most {GROWTH_FACTOR_MAX:,} "
            f"(got {growth_factor:g}): it is the multiple of today's load to plan for, e.g. 10"
        )


def plan_capacity(facts: CapacityFacts, growth_factor: float = 10) -> CapacityReport:
    """Project `facts` to `growth_factor` * today's load and say what breaks first and what to do, in order."""
    check_growth_factor(growth_factor)
    problems = facts.problems()
    if problems:
        raise ValueError("; ".join(problems))
    f = float(growth_factor)
    rows = [
        _storage(facts, f),
        _memory(facts, f),
        _connections(facts, f),
        _cpu(facts, f),
        _ceiling("qps", "queries/s", facts.qps, facts.max_qps, "max_qps", f),
        _ceiling(
            "writes", "writes/s", facts.writes_per_second, facts.max_writes_per_second, "max_writes_per_second", f
        ),
        _wal(facts, f),
    ]
    known = [r for r in rows if r.breaks_at is not None]
    first = min(known, key=lambda r: r.breaks_at or 0.0) if known else None
    handles = _handles(rows)
    unknown: list[Resource] = [r.resource for r in rows if r.breaks is None]
    notes = [
        f"linear model: data, working set, connections, queries, writes and WAL all * {_n(f)}; "
        "real growth is rarely uniform, so re-run with the facts of the resource that grows fastest",
        *facts.notes,
    ]
    return CapacityReport(
        engine=facts.engine,
        growth_factor=f,
        handles_factor=handles,
        first_limit=first.resource if first else None,
        first_breaks_at=first.breaks_at if first else None,
        verdict=_verdict(f, rows, first, handles),
        projections=rows,
        unknown=unknown,
        recommendations=_recommendations(facts, f, {r.resource: r for r in rows}),
        facts=facts,
        notes=notes,
    )


# -------------------------------------------------------------------------------------------------- resources


def _judged(row: Projection, factor: float) -> Projection:
    """Fill projected, headroom, breaks_at and breaks from current and limit (linear resources)."""
    if row.current is None:
        return row
    row.projected = _r(row.current * factor)
    if row.limit is None:
        return row
    if row.current <= 0:
        row.breaks = False
        return row
    row.headroom = _r(row.limit / row.current)
    row.breaks_at = row.headroom
    row.breaks = row.breaks_at < factor
    return row


def _storage(facts: CapacityFacts, f: float) -> Projection:
    data, total, free = facts.data_bytes, facts.storage_total_bytes, facts.storage_free_bytes
    row = Projection(resource="storage", unit="bytes", formula="")
    if total is None:
        row.current = data
        row.missing = ["storage_total_bytes", "storage_free_bytes"]
        row.formula = f"data {_b(data)} * {_n(f)} = {_b(data * f if data is not None else None)}; volume size unknown"
        if data is not None:
            row.projected = _r(data * f)
        if data is None:
            row.missing.insert(0, "data_bytes")
        return row
    used = total - free if free is not None else data
    if used is None:
        row.missing = ["data_bytes", "storage_free_bytes"]
        row.formula = "used space unknown"
        return row
    limit = total * STORAGE_MAX_FILL
    growing = data if data is not None and data <= used else used
    fixed = used - growing
    row.current, row.limit = float(used), _r(limit)
    row.limit_basis = f"{STORAGE_MAX_FILL:.0%} of the {_b(total)} volume"
    row.projected = _r(fixed + growing * f)
    row.headroom = _r(limit / used) if used else None
    row.breaks_at = _r((limit - fixed) / growing) if growing else None
    row.breaks = row.projected > limit
    row.formula = (
        f"used {_b(used)} = data {_b(growing)} + other {_b(fixed)}; at x{_n(f)}: {_b(fixed)} + {_b(growing)} * {_n(f)} "
        f"= {_b(row.projected)} vs limit {STORAGE_MAX_FILL} * {_b(total)} = {_b(limit)}"
        + (f"; breaks at ({_b(limit)} - {_b(fixed)}) / {_b(growing)} = x{_n(row.breaks_at)}" if row.breaks_at else "")
    )
    growth = facts.data_growth_bytes_per_day
    if growth:
        room = max(limit - used, 0.0)
        row.detail = {
            "days_to_limit_now": _r(room / growth, 1),
            "days_to_limit_at_factor": _r(room / (growth * f), 1),
        }
        row.formula += (
            f"; growth {_b(growth)}/day: ({_b(limit)} - {_b(used)}) / {_b(growth)} = {row.detail['days_to_limit_now']} "
            f"days now, / ({_b(growth)} * {_n(f)}) = {row.detail['days_to_limit_at_factor']} days at x{_n(f)}"
        )
    return row


def memory_limit(facts: CapacityFacts) -> tuple[float | None, str]:
    """The memory the hot data may use, and why (see the module docstring)."""
    engine, ram, cache = facts.engine, facts.ram_bytes, facts.cache_bytes
    name = facts.cache_name or "the engine's cache"
    if engine == "redis":
        if facts.maxmemory_bytes:
            return float(facts.maxmemory_bytes), f"maxmemory {_b(facts.maxmemory_bytes)}"
        if ram:
            return _r(ram * REDIS_RAM_SHARE), f"no maxmemory: {REDIS_RAM_SHARE} * RAM {_b(ram)}"
        return None, "maxmemory is 0 and RAM is unknown"
    if engine in ("postgresql", "sqlite") or (engine is None and cache is None):
        if ram:
            return _r(ram * OS_CACHE_SHARE), f"{OS_CACHE_SHARE} * RAM {_b(ram)} (engine cache + OS page cache)"
        if cache:
            # shared_buffers is not a limit: the OS page cache serves reads too, so without RAM nothing is known.
            return None, f"RAM unknown ({name} {_b(cache)} is only part of the cache: the OS page cache serves reads)"
        return None, "RAM unknown"
    if cache:
        return float(cache), f"{name} {_b(cache)}"
    if engine == "mongodb" and ram:
        wt = max((ram - MONGO_RESERVED_BYTES) * 0.5, 256 * 1024**2)
        return _r(wt), f"default WiredTiger cache 0.5 * (RAM {_b(ram)} - 1 GiB)"
    return None, f"{name} unknown"


def _memory(facts: CapacityFacts, f: float) -> Projection:
    current = facts.working_set_bytes
    basis = facts.working_set_basis or "working set"
    missing = []
    if current is None and facts.data_bytes is not None:
        current, basis = facts.data_bytes, "all data (working set unknown: an upper bound)"
    if current is None:
        missing.append("working_set_bytes")
    limit, limit_basis = memory_limit(facts)
    if limit is None:
        missing.append("ram_bytes" if facts.engine != "mysql" else "cache_bytes")
    row = _judged(
        Projection(
            resource="memory",
            unit="bytes",
            current=None if current is None else float(current),
            limit=limit,
            limit_basis=limit_basis,
            missing=missing,
            formula="",
        ),
        f,
    )
    row.formula = f"{basis} {_b(current)} * {_n(f)} = {_b(row.projected)} vs {limit_basis}" + _tail(row, "bytes")
    if facts.working_set_bytes is None and row.breaks_at is not None and row.breaks_at < 1:
        # All the data is over the limit today, yet the server runs: only part of it is hot, and how much is
        # unknown. An upper bound can show that memory suffices, never that it breaks.
        row.formula += (
            "; all data is already past the limit today, so only part of it is hot: give working_set_bytes to judge"
        )
        row.headroom = row.breaks_at = row.breaks = None
        row.missing = [*row.missing, "working_set_bytes"]
    return row


def _connections(facts: CapacityFacts, f: float) -> Projection:
    used, top = facts.connections_used, facts.connections_max
    row = _judged(
        Projection(
            resource="connections",
            unit="connections",
            current=None if used is None else float(used),
            limit=None if top is None else float(top),
            limit_basis=None if top is None else f"{top} usable connections",
            missing=[m for m, v in (("connections_used", used), ("connections_max", top)) if v is None],
            formula="",
        ),
        f,
    )
    row.formula = f"{_n(used)} used * {_n(f)} = {_n(row.projected)} vs max {_n(top)}" + _tail(row, "")
    return row


def _cpu(facts: CapacityFacts, f: float) -> Projection:
    busy = facts.cpu_busy_pct
    row = _judged(
        Projection(
            resource="cpu",
            unit="% busy",
            current=busy,
            limit=CPU_MAX_BUSY_PCT,
            limit_basis=f"{CPU_MAX_BUSY_PCT:.0f} % busy: beyond it queueing makes latency climb",
            missing=[] if busy is not None else ["cpu_busy_pct", "cpu_cores"],
            formula="",
        ),
        f,
    )
    if busy is None:
        row.limit = None
    row.formula = f"{_n(busy)} % * {_n(f)} = {_n(row.projected)} % vs {_n(CPU_MAX_BUSY_PCT)} %" + _tail(row, "")
    if busy is not None and facts.cpu_cores:
        cores = math.ceil(facts.cpu_cores * busy * f / CPU_MAX_BUSY_PCT)
        row.detail = {"cores_needed_at_factor": cores}
        row.formula += (
            f"; cores needed: ceil({facts.cpu_cores} * {_n(busy)} % * {_n(f)} / {_n(CPU_MAX_BUSY_PCT)} %) = {cores}"
        )
    return row


def _ceiling(
    resource: Resource, unit: str, current: float | None, limit: float | None, name: str, f: float
) -> Projection:
    missing = [m for m, v in ((resource.replace("writes", "writes_per_second"), current), (name, limit)) if v is None]
    row = _judged(
        Projection(
            resource=resource,
            unit=unit,
            current=current,
            limit=limit,
            limit_basis=None if limit is None else f"{name} (given)",
            missing=missing,
            formula="",
        ),
        f,
    )
    row.formula = f"{_n(current)} {unit} * {_n(f)} = {_n(row.projected)} {unit}" + (
        f" vs {name} {_n(limit)}" + _tail(row, "") if limit is not None else f"; no ceiling known (give {name})"
    )
    return row


def _wal(facts: CapacityFacts, f: float) -> Projection:
    rate, limit = facts.wal_bytes_per_second, facts.max_wal_bytes_per_second
    row = _judged(
        Projection(
            resource="wal",
            unit="bytes/s",
            current=rate,
            limit=limit,
            limit_basis=None if limit is None else "max_wal_bytes_per_second (given)",
            missing=[m for m, v in (("wal_bytes_per_second", rate), ("max_wal_bytes_per_second", limit)) if v is None],
            formula="",
        ),
        f,
    )
    row.formula = f"{_b(rate)}/s * {_n(f)} = {_b(row.projected)}/s" + (
        f" vs {_b(limit)}/s" + _tail(row, "")
        if limit is not None
        else "; no ceiling known (give max_wal_bytes_per_second)"
    )
    if rate is not None:
        row.detail = {"per_day_now": _r(rate * SECONDS_PER_DAY), "per_day_at_factor": _r(rate * SECONDS_PER_DAY * f)}
        row.formula += f"; per day {_b(rate * SECONDS_PER_DAY)} → {_b(rate * SECONDS_PER_DAY * f)} (backups, replicas)"
    return row


def _tail(row: Projection, unit: str) -> str:
    if row.breaks_at is None or row.current is None or row.limit is None:
        return ""
    show = _b if unit == "bytes" else _n
    return f"; headroom {show(row.limit)} / {show(row.current)} = x{_n(row.headroom)}"


# -------------------------------------------------------------------------------------------------- verdict

# A "yes" needs the data side and the load side judged: one of these, and one of those. Connections alone (or
# memory alone) fitting says nothing about the rest, so the answer is then unknown, not yes.
DATA_RESOURCES: Final[frozenset[Resource]] = frozenset({"storage", "memory"})
LOAD_RESOURCES: Final[frozenset[Resource]] = frozenset({"cpu", "qps", "writes"})


def _handles(rows: list[Projection]) -> bool | None:
    """False when a judged resource breaks; True when none does and both sides were judged; else None."""
    if any(r.breaks for r in rows):
        return False
    judged = {r.resource for r in rows if r.breaks is False}
    if judged & DATA_RESOURCES and judged & LOAD_RESOURCES:
        return True
    return None


def _verdict(f: float, rows: list[Projection], first: Projection | None, handles: bool | None) -> str:
    judged = [r.resource for r in rows if r.breaks is not None]
    unjudged = [r.resource for r in rows if r.breaks is None]
    wanted = sorted({m for r in rows if r.breaks is None for m in r.missing})
    if not judged:
        return f"unknown: no limit could be judged; give {', '.join(wanted)}"
    rest = f"; not judged: {', '.join(unjudged)} (give {', '.join(wanted)})" if unjudged else ""
    if handles is None:
        closest = (
            f"the closest limit is {first.resource}, reached at x{_n(first.breaks_at)}"
            if first is not None
            else "none reaches its limit"
        )
        return (
            f"unknown at x{_n(f)}: only {', '.join(judged)} checked ({closest}); a yes needs storage or memory "
            f"and cpu, qps or writes judged too{rest}"
        )
    if first is None:
        return f"yes at x{_n(f)}: no judged resource reaches its limit ({', '.join(judged)}){rest}"
    broken = sorted((r for r in rows if r.breaks), key=lambda r: r.breaks_at or 0.0)
    if not broken:
        return (
            f"yes at x{_n(f)}: the closest limit is {first.resource}, reached at x{_n(first.breaks_at)} "
            f"(judged: {', '.join(judged)}){rest}"
        )
    rest = ", ".join(f"{r.resource} at x{_n(r.breaks_at)}" for r in broken[1:] if r.breaks_at is not None)
    return (
        f"no: {first.resource} breaks first, at x{_n(first.breaks_at)} of today's load"
        + (f"; then {rest}" if rest else "")
        + f" (target x{_n(f)})"
    )


# -------------------------------------------------------------------------------------------------- recommendations


def _recommendations(facts: CapacityFacts, f: float, rows: dict[Resource, Projection]) -> list[Recommendation]:
    engine = facts.engine or "postgresql"
    read_share = _read_share(facts)
    load = _load_row(rows)
    write_fit = None if load is None or load.breaks_at is None or read_share is None else f * (1 - read_share)
    return [
        _pooling(facts, f, rows["connections"], engine),
        _memory_step(facts, f, rows["memory"], engine),
        _replicas(f, load, read_share, write_fit, engine),
        _partitioning(facts, f, rows["storage"], engine),
        _caching(f, load, read_share, engine),
        _sharding(facts, f, rows, load, engine),
    ]


def _read_share(facts: CapacityFacts) -> float | None:
    if facts.qps is None or facts.writes_per_second is None or facts.qps <= 0:
        return None
    return max(0.0, min(1.0, 1 - facts.writes_per_second / facts.qps))


def _load_row(rows: dict[Resource, Projection]) -> Projection | None:
    """The row that measures query load: CPU, else a measured QPS ceiling."""
    for name in ("cpu", "qps"):
        row = rows[name]
        if row.breaks_at is not None:
            return row
    return None


def _pooling(facts: CapacityFacts, f: float, row: Projection, engine: str) -> Recommendation:
    if row.breaks is None:
        return Recommendation(order=1, step="pooling", needed=None, reason="connections used or max unknown")
    reason = f"connections: {row.formula}"
    pool = POOL_PER_CORE * facts.cpu_cores if facts.cpu_cores else None
    size = f"{pool} (= {POOL_PER_CORE} * {facts.cpu_cores} cores)" if pool else f"about {POOL_PER_CORE} * CPU cores"
    actions = {
        "postgresql": [
            f"PgBouncer in transaction mode: the {_n(row.projected)} client connections share a pool of {size} "
            "server connections (default_pool_size); session state (SET, advisory locks, LISTEN) must not span "
            "transactions",
            "keep max_connections near the pool size plus admin reserve: each backend costs memory (work_mem per sort)",
        ],
        "mysql": [
            f"ProxySQL multiplexing in front: client connections share about {size} backend connections",
            "MariaDB: thread_handling = pool-of-threads; MySQL Enterprise/Percona: the thread pool plugin",
        ],
        "mongodb": [
            "size each application's driver pool (maxPoolSize): instances * maxPoolSize must stay below the limit",
        ],
        "redis": ["reuse a client-side pool per application instance; raise maxclients only with the ulimit"],
        "sqlite": ["one writer at a time: send writes through one connection or a queue; readers in WAL mode"],
    }.get(engine, [f"a connection pooler with about {size} server connections"])
    return Recommendation(order=1, step="pooling", needed=bool(row.breaks), reason=reason, actions=actions)


def _memory_step(facts: CapacityFacts, f: float, row: Projection, engine: str) -> Recommendation:
    if row.breaks is None or row.projected is None:
        return Recommendation(order=2, step="memory", needed=None, reason=f"memory: {row.formula}")
    need = row.projected
    if engine == "postgresql":
        ram = need / OS_CACHE_SHARE
        actions = [
            f"RAM >= {_b(need)} / {OS_CACHE_SHARE} = {_b(ram)}; shared_buffers ~ {SHARED_BUFFERS_SHARE} * RAM = "
            f"{_b(ram * SHARED_BUFFERS_SHARE)} (PostgreSQL docs: 25 % of RAM is a reasonable start), "
            f"effective_cache_size ~ {_b(need)}",
        ]
    elif engine == "mysql":
        actions = [
            f"innodb_buffer_pool_size >= {_b(need)} (resizable online since MySQL 5.7.5 / MariaDB 10.2); RAM >= "
            f"{_b(need)} / {OS_CACHE_SHARE} = {_b(need / OS_CACHE_SHARE)}",
        ]
    elif engine == "mongodb":
        ram = 2 * need + MONGO_RESERVED_BYTES
        actions = [f"WiredTiger cache >= {_b(need)}: RAM >= 2 * {_b(need)} + 1 GiB = {_b(ram)} with the default cache"]
    elif engine == "redis":
        actions = [
            f"maxmemory >= {_b(need)}; RAM >= {_b(need)} / {REDIS_RAM_SHARE} = {_b(need / REDIS_RAM_SHARE)} "
            "(fork copy-on-write during RDB/AOF rewrite); beyond one host, Redis Cluster",
        ]
    else:
        actions = [f"RAM >= {_b(need)} / {OS_CACHE_SHARE} = {_b(need / OS_CACHE_SHARE)} for the OS page cache"]
    actions.append("or shrink what must stay hot: drop unused indexes, move cold rows out (partitioning, archiving)")
    return Recommendation(
        order=2, step="memory", needed=bool(row.breaks), reason=f"memory: {row.formula}", actions=actions
    )


def _replicas(
    f: float, load: Projection | None, read_share: float | None, write_fit: float | None, engine: str
) -> Recommendation:
    if load is None or load.breaks_at is None:
        return Recommendation(
            order=3, step="read_replicas", needed=None, reason="query load unknown: give cpu_busy_pct (or max_qps)"
        )
    if engine == "sqlite":
        return Recommendation(order=3, step="read_replicas", needed=False, reason="SQLite has no server replicas")
    share = 0.5 if read_share is None else read_share
    replicas = math.ceil(f * share / load.breaks_at)
    reason = (
        f"{load.resource} breaks at x{_n(load.breaks_at)}; reads are "
        + (f"{_n(read_share * 100)} % of queries" if read_share is not None else "of unknown share (50 % assumed)")
        + f": replicas for the reads at x{_n(f)} = ceil({_n(f)} * {_n(share)} / {_n(load.breaks_at)}) = {replicas}"
    )
    if write_fit is not None:
        reason += f"; the primary keeps the writes: {_n(f)} * {_n(1 - share)} = x{_n(write_fit)} of today's load"
    needed = bool(load.breaks) and share >= 0.5
    actions = {
        "postgresql": [f"{replicas} streaming replica(s) (hot standby) behind a read endpoint; watch replay lag"],
        "mysql": [f"{replicas} replica(s) with GTID replication; route reads with ProxySQL query rules"],
        "mongodb": [f"{replicas} secondary member(s); readPreference secondaryPreferred for reads that tolerate lag"],
        "redis": [f"{replicas} replica(s) (replicaof); read from them with READONLY-aware clients"],
    }.get(engine, [f"{replicas} read replica(s)"])
    actions.append("reads that must see their own writes stay on the primary (replicas lag)")
    return Recommendation(order=3, step="read_replicas", needed=needed, reason=reason, actions=actions)


def _partitioning(facts: CapacityFacts, f: float, storage: Projection, engine: str) -> Recommendation:
    if engine == "redis":
        return Recommendation(
            order=4,
            step="partitioning",
            needed=False,
            reason="Redis has no tables to partition; split big keys (hash buckets) instead",
        )
    # RAM only: the engine's cache (shared_buffers) is a fraction of the memory that keeps a table hot.
    big, ram = facts.largest_table_bytes, facts.ram_bytes
    reasons: list[str] = []
    needed: bool | None = None
    dead = facts.largest_table_dead_pct
    if big is not None and dead is not None and dead >= BLOATED_DEAD_PCT:
        live = big * (1 - dead / 100)
        reasons.append(
            f"largest table {facts.largest_table or ''} is {_n(dead)} % dead tuples: {_b(big)} on disk, about "
            f"{_b(live)} live; reclaim the space first (VACUUM FULL or pg_repack rewrites it; plain VACUUM makes "
            "it reusable) and judge the live size"
        )
        big = int(live)
    if big is not None and ram:
        needed = big * f > ram
        reasons.append(
            f"largest table {facts.largest_table or ''} {_b(big)} * {_n(f)} = {_b(big * f)} vs RAM {_b(ram)} "
            "(PostgreSQL docs: partitioning pays off when a table outgrows the server's memory)"
        )
    elif big is not None:
        reasons.append(
            f"largest table {facts.largest_table or ''} {_b(big)} * {_n(f)} = {_b(big * f)}; RAM unknown (give "
            f"ram_bytes: {facts.cache_name or 'the engine cache'} is only part of what keeps a table in memory)"
        )
    if storage.breaks:
        needed = True
        reasons.append("storage breaks: dropping old partitions frees space at once, DELETE does not")
    if not reasons:
        return Recommendation(
            order=4, step="partitioning", needed=None, reason="give largest_table_bytes and ram_bytes to judge"
        )
    if needed is None:
        return Recommendation(order=4, step="partitioning", needed=None, reason="; ".join(reasons))
    actions = {
        "postgresql": [
            "declarative partitioning by time (RANGE) for append-mostly data, by tenant (LIST/HASH) otherwise; the "
            "partition key must be in the queries' WHERE to prune, and in every primary/unique key",
        ],
        "mysql": ["PARTITION BY RANGE on a date column (it must be part of every unique key); drop old partitions"],
        "mongodb": [
            "time-series collections or TTL indexes for aging data; archive cold documents to another collection"
        ],
        "sqlite": ["one database file per period or tenant (ATTACH DATABASE to query across)"],
    }.get(engine, ["partition the largest table by time or tenant"])
    return Recommendation(order=4, step="partitioning", needed=needed, reason="; ".join(reasons), actions=actions)


def _caching(f: float, load: Projection | None, read_share: float | None, engine: str) -> Recommendation:
    if load is None or load.breaks_at is None:
        return Recommendation(order=5, step="caching", needed=None, reason="query load unknown")
    if not load.breaks:
        return Recommendation(
            order=5, step="caching", needed=False, reason=f"{load.resource} holds to x{_n(load.breaks_at)}"
        )
    r = 0.5 if read_share is None else read_share
    w = 1 - r
    budget = load.breaks_at / f  # the share of the xf load one server can take
    if r <= 0 or budget <= w:
        reason = (
            f"caching cannot save it: writes alone are {_n(w)} * {_n(f)} = x{_n(w * f)} of today's load, above "
            f"x{_n(load.breaks_at)}"
        )
        return Recommendation(order=5, step="caching", needed=False, reason=reason)
    hit = max(0.0, 1 - (budget - w) / r)
    reason = (
        f"a cache answering h of the reads leaves x{_n(f)} * ({_n(w)} + {_n(r)} * (1 - h)) on the database; it fits "
        f"x{_n(load.breaks_at)} when h >= 1 - ({_n(load.breaks_at)} / {_n(f)} - {_n(w)}) / {_n(r)} = {_n(hit * 100)} %"
    )
    actions = [
        "cache-aside in Redis or Memcached with a TTL for hot reads (invalidate on write)",
        "materialized views (PostgreSQL: REFRESH MATERIALIZED VIEW CONCURRENTLY) or summary tables for aggregates"
        if engine != "redis"
        else "client-side caching (CLIENT TRACKING, Redis 6+) for hot keys",
    ]
    return Recommendation(order=5, step="caching", needed=True, reason=reason, actions=actions)


def _sharding(
    facts: CapacityFacts,
    f: float,
    rows: dict[Resource, Projection],
    load: Projection | None,
    engine: str,
) -> Recommendation:
    write_rows = [rows[r] for r in ("writes", "wal") if rows[r].breaks_at is not None]
    limits = [r.breaks_at for r in write_rows if r.breaks_at]
    parts = [f"{r.resource} reaches its ceiling at x{_n(r.breaks_at)}" for r in write_rows]
    if load is not None and load.breaks_at is not None and facts.qps and facts.writes_per_second is not None:
        w = max(min(facts.writes_per_second / facts.qps, 1.0), 1e-9)
        limits.append(_r(load.breaks_at / w))
        parts.append(
            f"writes are {_n(w * 100)} % of queries and stay on the primary: {load.resource} limit "
            f"x{_n(load.breaks_at)} / {_n(w)} = x{_n(limits[-1])}"
        )
    if not limits:
        reason = "write ceiling unknown: give writes_per_second with max_writes_per_second (or cpu_busy_pct and qps)"
        return Recommendation(order=6, step="sharding", needed=None, reason=reason, actions=_shard_actions(engine))
    first = min(limits)
    shards = math.ceil(f / first)
    writes_break = first < f
    if writes_break:
        reason = f"the write path (one primary) breaks at x{_n(first)} < x{_n(f)}: " + "; ".join(parts)
        reason += f"; shards ~ ceil({_n(f)} / {_n(first)}) = {shards}"
    else:
        reason = f"the write path holds to x{_n(first)} >= x{_n(f)}: " + "; ".join(parts)
    return Recommendation(order=6, step="sharding", needed=writes_break, reason=reason, actions=_shard_actions(engine))


def _shard_actions(engine: str) -> list[str]:
    return [
        f"engine: {DISTRIBUTED.get(engine, DISTRIBUTED['postgresql'])}",
        "shard key: high cardinality and even spread (tenant_id, user_id), many more values than shards",
        "shard key: present in nearly every query's filter; queries without it fan out to every shard",
        "shard key: not monotonically increasing under range sharding (timestamps, sequences put every insert on the "
        "last shard): hash it",
        "co-locate what is joined or written together on the same key (Citus: colocated and reference tables; "
        "Vitess: the same vindex; Redis: {hash tags}); cross-shard transactions cost a two-phase commit",
        "plan for a hot key (one huge tenant): its own shard, or a compound key",
    ]


# -------------------------------------------------------------------------------------------------- formatting


def _r(value: float, digits: int = 2) -> float:
    return round(value, digits)


def _n(value: float | int | None) -> str:
    if value is None:
        return "?"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def _b(value: float | int | None) -> str:
    """Bytes in binary units, two decimals: 1536 → '1.50 KiB'."""
    if value is None:
        return "?"
    size = float(value)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(size) < 1024 or unit == "TiB":
            return f"{size:.0f} B" if unit == "B" else f"{size:.2f} {unit}"
        size /= 1024
    return f"{size:.2f} TiB"  # pragma: no cover


__all__ = [
    "CPU_MAX_BUSY_PCT",
    "OS_CACHE_SHARE",
    "STORAGE_MAX_FILL",
    "check_growth_factor",
    "memory_limit",
    "plan_capacity",
]
