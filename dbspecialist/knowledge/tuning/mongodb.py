"""MongoDB calculator: WiredTiger cache, connection limits, profiler, journal and Linux notes.

Pure and deterministic: no I/O, no clock, no driver. Every number is explained by `formula` + `inputs`.
Sources are named next to each constant (MongoDB manual pages).
"""

from __future__ import annotations

import math

from dbspecialist.knowledge.tuning.model import (
    GB,
    MB,
    BudgetLine,
    MemoryBudget,
    SettingAdvice,
    TuningInputError,
    TuningInputs,
    TuningReport,
    parse_major_minor,
)

# Supported versions: 6.0 to 8.x (6.0 is the oldest with the current write-concern and journal behaviour
# we describe). Default when not given: 8.0.
VERSION_RANGE = ((6, 0), (8, 99))
DEFAULT_VERSION = "8.0"

# WiredTiger's own default cache size (MongoDB manual, "WiredTiger Storage Engine"): the larger of
# 50 % of (RAM - 1 GB) and 256 MB. cacheSizeGB accepts 0.25 to 10000 (manual, configuration options).
WT_CACHE_SHARE = 0.5
WT_CACHE_RAM_OFFSET_GB = 1.0
WT_CACHE_MIN_GB = 0.25
WT_CACHE_MAX_GB = 10_000.0
# A desktop / developer machine shares RAM with other programs: we plan a quarter of (RAM - 1 GB) instead.
DESKTOP_CACHE_SHARE = 0.25

# Below 1 GB there is no room for the minimum 0.25 GB cache, mongod itself, its connections and the OS.
MIN_RAM_GB = 1.0

# Each connection is served by a thread; the manual ("Production Notes" / connection pool docs) puts its
# cost at up to about 1 MB of RAM (mostly thread stack).
PER_CONNECTION_BYTES = 1 * MB

# Filesystem cache reserve: WiredTiger keeps uncompressed pages in its cache and relies on the OS page cache
# for the compressed on-disk blocks (manual, "WiredTiger Storage Engine" → memory use), so a share of RAM must
# stay free for it. 20 % is our planning floor; everything not budgeted also serves as filesystem cache.
FS_CACHE_RESERVE_FRACTION = 0.20

# OS reserve: kernel, page tables, agents. 5 % of RAM, at least min(512 MB, RAM / 4).
OS_RESERVE_FRACTION = 0.05
OS_RESERVE_MIN_BYTES = 512 * MB
OS_RESERVE_MAX_SHARE = 0.25

# Planned server connections when max_connections is not given: application instances * driver pool size
# (drivers default to maxPoolSize 100). Our planning figures, not MongoDB defaults.
DEFAULT_CONNECTIONS: dict[str, int] = {"web": 1000, "oltp": 500, "mixed": 500, "dw": 100, "desktop": 50}
DRIVER_MAX_POOL_SIZE = 100  # driver default (MongoDB drivers' connection-pool specification)

# operationProfiling.slowOpThresholdMs by workload (server default 100 ms): stricter for OLTP, looser for
# analytics whose queries are long by design.
SLOW_OP_MS: dict[str, int] = {"web": 100, "oltp": 50, "mixed": 200, "dw": 1000, "desktop": 100}

# storage.journal.commitIntervalMs: default 100, range 1-500 (manual, configuration options).
JOURNAL_COMMIT_INTERVAL_MS = 100

# mongod's startup check warns when vm.max_map_count < 2 * maxIncomingConnections (startup warning
# "vm.max_map_count is too low", attribute recommendedMinimum = 2 * maxConns).
MAX_MAP_COUNT_PER_CONNECTION = 2
# Recommended ulimits (manual, "UNIX ulimit Settings"): open files and processes/threads 64000.
ULIMIT_NOFILE = 64_000


def parse_version(version: str | None) -> tuple[int, int]:
    """'8.0' / '7.0.14' / '8' → (8, 0); anything outside 6.0-8.x raises TuningInputError."""
    return parse_major_minor(
        version,
        default=DEFAULT_VERSION,
        low=VERSION_RANGE[0],
        high=VERSION_RANGE[1],
        valid="MongoDB version must be 6.0 to 8.x (e.g. '8.0')",
    )


def default_cache_gb(ram_gb: float) -> float:
    """WiredTiger's own rule: max(0.5 * (RAM - 1 GB), 0.25 GB)."""
    return max(WT_CACHE_SHARE * (ram_gb - WT_CACHE_RAM_OFFSET_GB), WT_CACHE_MIN_GB)


def os_reserve_bytes(ram_bytes: int) -> int:
    return int(max(ram_bytes * OS_RESERVE_FRACTION, min(OS_RESERVE_MIN_BYTES, ram_bytes * OS_RESERVE_MAX_SHARE)))


def _gb_text(hundredths: int) -> str:
    return f"{hundredths / 100:g}"


def tune_mongodb(inputs: TuningInputs) -> TuningReport:
    """Recommend mongod.conf settings that fit in RAM, with the budget that proves it."""
    version = parse_version(inputs.version)
    version_text = f"{version[0]}.{version[1]}"
    if inputs.ram_gb < MIN_RAM_GB:
        raise TuningInputError(
            f"ram_gb for mongodb must be between {MIN_RAM_GB:g} and 16,384 (got {inputs.ram_gb}): WiredTiger's "
            f"cache cannot go below {WT_CACHE_MIN_GB} GB and mongod, its connections and the OS need the rest"
        )
    workload = inputs.workload
    ram = int(inputs.ram_gb * GB)
    share = DESKTOP_CACHE_SHARE if workload == "desktop" else WT_CACHE_SHARE
    cache_gb = min(WT_CACHE_MAX_GB, max(share * (inputs.ram_gb - WT_CACHE_RAM_OFFSET_GB), WT_CACHE_MIN_GB))
    cache_hundredths = math.floor(cache_gb * 100 + 1e-9)
    cache_bytes = cache_hundredths * GB // 100
    cache_mb = cache_bytes // MB

    reserve = os_reserve_bytes(ram)
    fs_reserve = int(ram * FS_CACHE_RESERVE_FRACTION)
    room_for_connections = ram - cache_bytes - reserve - fs_reserve
    max_fit = max(1, room_for_connections // PER_CONNECTION_BYTES)
    planned = inputs.max_connections or DEFAULT_CONNECTIONS[workload]
    connections = min(planned, max_fit)
    adjustments: list[str] = []
    recommendations: list[str] = []
    if connections < planned:
        adjustments.append(
            f"net.maxIncomingConnections lowered from {planned} to {connections}: at about 1 MB per connection "
            "more would not fit beside the WiredTiger cache, the filesystem cache reserve and the OS"
        )
        recommendations.append(
            "Reduce server connections: lower the drivers' maxPoolSize, share one MongoClient per process, or add RAM."
        )

    cache_why = {
        "dw": (
            "Keep WiredTiger's default even for a large working set: the rest of RAM serves as filesystem cache "
            "for compressed pages, which WiredTiger relies on"
        ),
        "desktop": "A desktop shares RAM with other programs, so the cache takes a quarter of (RAM - 1 GB)",
    }.get(
        workload,
        "This is WiredTiger's own default, written out so that containers and shared hosts do not size it "
        "from the host's RAM",
    )
    slow_ms = SLOW_OP_MS[workload]
    settings: list[SettingAdvice] = [
        SettingAdvice(
            name="storage.wiredTiger.engineConfig.cacheSizeGB",
            value=_gb_text(cache_hundredths),
            formula=f"max({share} * (RAM - 1 GB), 0.25 GB), rounded down to 0.01 GB",
            inputs={"ram_gb": inputs.ram_gb, "share": share, "workload": workload},
            why=cache_why,
            apply="online",
        ),
        SettingAdvice(
            name="net.maxIncomingConnections",
            value=str(connections),
            formula="min(planned connections, (RAM - cache - FS reserve - OS reserve) / 1 MB)",
            inputs={
                "planned": planned,
                "fit_limit": max_fit,
                "per_connection_bytes": PER_CONNECTION_BYTES,
            },
            why="Each connection costs a thread of about 1 MB, so the limit keeps a connection storm within RAM",
            apply="restart",
        ),
        SettingAdvice(
            name="maxPoolSize",
            value=str(min(DRIVER_MAX_POOL_SIZE, connections)),
            formula="driver default 100, at most net.maxIncomingConnections; instances * maxPoolSize ≤ the limit",
            inputs={"driver_default": DRIVER_MAX_POOL_SIZE, "max_incoming": connections},
            why="The client pool, not the server, decides how many connections arrive",
            apply="connection-string",
        ),
        SettingAdvice(
            name="operationProfiling.mode",
            value="slowOp",
            formula="slowOp",
            inputs={"workload": workload},
            why="Records operations slower than the threshold in system.profile for later analysis",
            apply="online",
        ),
        SettingAdvice(
            name="operationProfiling.slowOpThresholdMs",
            value=str(slow_ms),
            formula=f"by workload: {workload} → {slow_ms} ms (server default 100)",
            inputs={"workload": workload},
            why="The threshold matches what counts as slow for this workload",
            apply="online",
        ),
        SettingAdvice(
            name="storage.journal.commitIntervalMs",
            value=str(JOURNAL_COMMIT_INTERVAL_MS),
            formula="100 (default; range 1-500)",
            inputs={"default": JOURNAL_COMMIT_INTERVAL_MS},
            why="Bounds how much unjournaled data a crash can lose for writes that did not ask for j: true",
            apply="restart",
        ),
    ]
    if version < (6, 1):
        settings.append(
            SettingAdvice(
                name="storage.journal.enabled",
                value="true",
                formula="true (the option was removed in 6.1, where journaling is always on)",
                inputs={"version": version_text},
                why="Without the journal, a crash loses everything since the last checkpoint",
                apply="restart",
            )
        )

    lines = [
        BudgetLine(item="WiredTiger cache", bytes=cache_bytes, formula="cacheSizeGB"),
        BudgetLine(
            item="connections (thread stack and buffers)",
            bytes=connections * PER_CONNECTION_BYTES,
            formula="net.maxIncomingConnections * 1 MB",
        ),
        BudgetLine(
            item="filesystem cache reserve (compressed pages WiredTiger reads through the OS)",
            bytes=fs_reserve,
            formula=f"RAM * {FS_CACHE_RESERVE_FRACTION}",
        ),
    ]
    total = sum(line.bytes for line in lines) + reserve
    budget = MemoryBudget(
        ram_bytes=ram,
        os_reserve_bytes=reserve,
        lines=lines,
        total_bytes=total,
        headroom_bytes=ram - total,
        fits=total <= ram,
        adjustments=adjustments,
    )

    yaml = [f"# mongod.conf for MongoDB {version_text}, workload {workload}, {inputs.ram_gb:g} GB RAM", "storage:"]
    yaml += ["  journal:"]
    if version < (6, 1):
        yaml.append("    enabled: true")
    yaml += [
        f"    commitIntervalMs: {JOURNAL_COMMIT_INTERVAL_MS}",
        "  wiredTiger:",
        "    engineConfig:",
        f"      cacheSizeGB: {_gb_text(cache_hundredths)}",
        "net:",
        f"  maxIncomingConnections: {connections}",
        "operationProfiling:",
        "  mode: slowOp",
        f"  slowOpThresholdMs: {slow_ms}",
    ]
    statements = [
        f'db.adminCommand({{setParameter: 1, wiredTigerEngineRuntimeConfig: "cache_size={cache_mb}M"}})',
        f"db.setProfilingLevel(1, {{slowms: {slow_ms}}})",
    ]

    thp = (
        "MongoDB 8.0+ uses a TCMalloc with per-CPU caches and recommends enabling transparent huge pages "
        "(enabled=always, defrag=defer+madvise, khugepaged/max_ptes_none=0) before mongod starts "
        "(legacy-TCMalloc platforms such as PPC64LE/s390x: disable THP)."
        if version >= (8, 0)
        else f"MongoDB {version_text} recommends disabling transparent huge pages (enabled=never) before mongod starts."
    )
    notes = [
        "WiredTiger cache: the server's default is max(50% * (RAM - 1 GB), 256 MB). Set cacheSizeGB explicitly "
        "in containers and on hosts shared with other services; otherwise the default is right. Do not raise it "
        "to fit a big working set: the rest of RAM is the filesystem cache WiredTiger relies on for compressed "
        "pages.",
        "The cache size can be changed online with the setParameter statement; put the same value in mongod.conf "
        "so it survives a restart.",
        "db.setProfilingLevel sets the mode for the current database only (slowms is server-wide); with mode off, "
        "slow operations are still written to the log.",
        "Journaling is always on since MongoDB 6.1; writes with j: true wait for the journal flush, others may "
        "lose up to commitIntervalMs of data on a crash.",
        'Write concern: the implicit default is w: "majority" since 5.0 (and majority writes are journaled when '
        "writeConcernMajorityJournalDefault is true); keep it for data you cannot lose. Read concern defaults "
        'to "local"; use "majority" for reads that must not be rolled back. Change cluster defaults with '
        "setDefaultRWConcern on a replica set.",
        thp,
        "Use XFS for the data directory (mongod warns on other filesystems with WiredTiger).",
        f"Raise ulimits for the mongod user: open files (nofile) and processes (nproc) to at least {ULIMIT_NOFILE}.",
        f"Set vm.max_map_count ≥ {MAX_MAP_COUNT_PER_CONNECTION * connections} "
        f"(2 * net.maxIncomingConnections; mongod warns when it is lower) and vm.swappiness to 0 or 1.",
        "Size the drivers' maxPoolSize so that application instances * maxPoolSize stays at or below "
        "net.maxIncomingConnections.",
    ]
    if not budget.fits:
        recommendations.append("RAM is too small for this configuration; add memory.")
    return TuningReport(
        engine="mongodb",
        inputs=inputs,
        settings=settings,
        memory_budget=budget,
        config_format="mongod.conf",
        config_snippet="\n".join(yaml) + "\n",
        apply_statements=statements,
        recommendations=recommendations,
        notes=notes,
    )
