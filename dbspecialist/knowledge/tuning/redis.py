"""Redis calculator: maxmemory with a fork copy-on-write budget, eviction policy, persistence, I/O threads.

Pure and deterministic: no I/O, no clock, no driver. Every number is explained by `formula` + `inputs`.
Sources are named next to each constant (redis.conf self-documentation, redis.io eviction and
persistence pages).
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

# Supported versions: 6.0 (I/O threads, ACLs, lazyfree-lazy-user-del) to 8.x. Default when not given.
VERSION_RANGE = ((6, 0), (8, 99))
DEFAULT_VERSION = "7.2"

# maxmemory as a share of RAM, by workload (expert-rules.md §1 "Redis guidance", redis.io persistence page).
# cache: 0.8, the middle of the usual 0.75-0.85 band: no fork ever happens (persistence off), so the rest only
#   has to hold allocator fragmentation, replica buffers and the OS.
# persistent: 0.5, because BGSAVE / BGREWRITEAOF fork and copy-on-write can double the dataset in the worst case.
# queue: 0.5, the low end of 0.5-0.6: a queue persists with AOF, whose rewrites fork exactly like a snapshot.
# mixed: 0.6, RDB snapshots only (fewer forks than AOF + RDB), and TTL keys can be evicted.
MAXMEMORY_FRACTION: dict[str, float] = {"cache": 0.80, "persistent": 0.50, "queue": 0.50, "mixed": 0.60}

# maxmemory-policy by workload (redis.io "Key eviction"): LFU keeps hot keys better than LRU for caches;
# a store of record or a queue must never lose data silently, so writes fail instead (noeviction).
POLICY: dict[str, str] = {
    "cache": "allkeys-lfu",
    "persistent": "noeviction",
    "queue": "noeviction",
    "mixed": "volatile-lfu",
}

# Copy-on-write planning fraction during a fork (RDB save or AOF rewrite): the share of the dataset's pages
# written while the child runs. redis.io ("Redis persistence", "Memory optimization") states the worst case,
# every page written during the fork, as a doubling (fraction 1.0); Redis logs the real figure as
# "Fork CoW for RDB: current N MB". We plan for half the dataset and print the worst-case limit as a note.
COW_FRACTION = 0.5
COW_WORST_CASE = 1.0

# Allocator fragmentation: jemalloc's resident memory above used_memory (INFO mem_fragmentation_ratio),
# typically 1.0-1.2 on a steady workload; 10 % of maxmemory is our planning figure.
FRAGMENTATION_FRACTION = 0.10

# OS reserve: kernel, page tables, sshd, monitoring agents. 5 % of RAM, at least min(256 MB, RAM / 4).
OS_RESERVE_FRACTION = 0.05
OS_RESERVE_MIN_BYTES = 256 * MB
OS_RESERVE_MAX_SHARE = 0.25

# Replica output buffer: redis.conf default "client-output-buffer-limit replica 256mb 64mb 60"; Redis does
# not count replica output buffers toward maxmemory (redis.io "Key eviction"), so they are budgeted apart.
# On small machines we lower the hard limit to 5 % of RAM (soft limit = hard / 4, as in the default).
REPLICA_BUFFER_DEFAULT_BYTES = 256 * MB
REPLICA_BUFFER_RAM_FRACTION = 0.05
REPLICA_BUFFER_SOFT_SECONDS = 60
# repl-backlog-size default (redis.conf).
REPL_BACKLOG_BYTES = 1 * MB

# I/O threads (redis.conf "THREADED I/O"): only with ≥ 4 cores, leave at least one spare core, more than 8
# rarely helps; its examples are 4 cores → 2 or 3 threads, 8 cores → 6. floor(cores * 3/4) matches both.
IO_THREADS_MIN_CORES = 4
IO_THREADS_SHARE = 0.75
IO_THREADS_MAX = 8

# tcp-backlog: redis.conf default 511; Linux silently caps it at net.core.somaxconn.
TCP_BACKLOG = 511
# maxclients: redis.conf default 10000 (also limited by the open-files ulimit minus 32).
DEFAULT_MAXCLIENTS = 10_000
# maxmemory-clients (Redis 7.0+): total memory of normal/pubsub clients, as a share of maxmemory; above it
# Redis disconnects the biggest clients instead of evicting keys or refusing writes (redis/redis#8687).
MAXMEMORY_CLIENTS = "10%"

# RDB snapshot rules: Redis 7's defaults (save 3600 1 300 100 60 10000).
SNAPSHOT_RULES: tuple[tuple[int, int], ...] = ((3600, 1), (300, 100), (60, 10_000))


def parse_version(version: str | None) -> tuple[int, int]:
    """'7.2' / '7.2.4' / '7' → (7, 2); anything outside 6.0-8.x raises TuningInputError."""
    return parse_major_minor(
        version,
        default=DEFAULT_VERSION,
        low=VERSION_RANGE[0],
        high=VERSION_RANGE[1],
        valid="Redis version must be 6.0 to 8.x (e.g. '7.2')",
    )


def redis_size(num_bytes: int) -> str:
    """redis.conf size: whole gb when exact, else whole mb (rounded down)."""
    if num_bytes >= GB and num_bytes % GB == 0:
        return f"{num_bytes // GB}gb"
    return f"{max(1, num_bytes // MB)}mb"


def os_reserve_bytes(ram_bytes: int) -> int:
    return int(max(ram_bytes * OS_RESERVE_FRACTION, min(OS_RESERVE_MIN_BYTES, ram_bytes * OS_RESERVE_MAX_SHARE)))


def replica_buffer_bytes(ram_bytes: int) -> int:
    """Hard limit of the replica output buffer, whole MB."""
    scaled = int(ram_bytes * REPLICA_BUFFER_RAM_FRACTION) // MB * MB
    return max(MB, min(REPLICA_BUFFER_DEFAULT_BYTES, scaled))


def io_threads(cpus: int) -> int:
    if cpus < IO_THREADS_MIN_CORES:
        return 1
    return min(IO_THREADS_MAX, math.floor(cpus * IO_THREADS_SHARE))


def _persistence(workload: str) -> tuple[bool, bool]:
    """(rdb snapshots, aof) per workload."""
    return {
        "cache": (False, False),
        "persistent": (True, True),
        "queue": (False, True),
        "mixed": (True, False),
    }[workload]


def tune_redis(inputs: TuningInputs) -> TuningReport:
    """Recommend redis.conf settings that fit in RAM, with the budget that proves it."""
    version = parse_version(inputs.version)
    version_text = f"{version[0]}.{version[1]}"
    workload = inputs.workload
    if workload not in MAXMEMORY_FRACTION:
        raise TuningInputError(
            f"workload {workload!r} does not apply to redis; use one of cache, persistent, queue, mixed"
        )
    ram = int(inputs.ram_gb * GB)
    rdb, aof = _persistence(workload)
    forks = rdb or aof
    cow = COW_FRACTION if forks else 0.0

    reserve = os_reserve_bytes(ram)
    replica_hard = replica_buffer_bytes(ram)
    replica_soft = max(MB, replica_hard // 4 // MB * MB)
    fraction = MAXMEMORY_FRACTION[workload]
    wanted = int(ram * fraction) // MB * MB
    room = ram - reserve - replica_hard - REPL_BACKLOG_BYTES
    fit_cap = int(room / (1 + FRAGMENTATION_FRACTION + cow)) // MB * MB
    adjustments: list[str] = []
    maxmemory = max(MB, min(wanted, fit_cap))
    if maxmemory < wanted:
        adjustments.append(
            f"maxmemory lowered from {redis_size(wanted)} ({fraction} * RAM) to {redis_size(maxmemory)} so that "
            f"fragmentation{', fork copy-on-write' if forks else ''}, replica buffers and the OS reserve still fit"
        )
    inputs_common: dict[str, float | int | str] = {"ram_gb": inputs.ram_gb, "workload": workload}

    settings: list[SettingAdvice] = [
        SettingAdvice(
            name="maxmemory",
            value=redis_size(maxmemory),
            formula=(
                f"min({fraction} * RAM, (RAM - OS reserve - replica buffer - backlog) / "
                f"(1 + fragmentation {FRAGMENTATION_FRACTION} + copy-on-write {cow})), rounded down to MB"
            ),
            inputs={
                **inputs_common,
                "fraction": fraction,
                "os_reserve_bytes": reserve,
                "replica_buffer_bytes": replica_hard,
                "fragmentation": FRAGMENTATION_FRACTION,
                "cow_fraction": cow,
            },
            why=(
                "A pure cache can use most of RAM because it never forks"
                if not forks
                else "Persistence forks the server, and copy-on-write can duplicate the pages written during the fork"
            ),
            apply="online",
        ),
        SettingAdvice(
            name="maxmemory-policy",
            value=POLICY[workload],
            formula=f"by workload: {workload} → {POLICY[workload]}",
            inputs={"workload": workload},
            why={
                "cache": "Every key is disposable, and LFU keeps the frequently read ones longer than LRU does",
                "persistent": (
                    "Data of record must not vanish silently; writes fail with OOM instead "
                    "(use volatile-lru only if keys with a TTL may be dropped)"
                ),
                "queue": "A queue entry evicted is a job lost, so writes must fail rather than evict",
                "mixed": "Only keys with a TTL (the cache part) may be evicted; keys without one are kept",
            }[workload],
            apply="online",
        ),
    ]
    save_value = " ".join(f"{s} {c}" for s, c in SNAPSHOT_RULES) if rdb else ""
    settings.append(
        SettingAdvice(
            name="save",
            value=save_value if rdb else '""',
            formula="RDB snapshots on (Redis 7 defaults)" if rdb else "RDB snapshots off",
            inputs={"workload": workload},
            why=(
                "Periodic snapshots give compact backups and fast restarts"
                if rdb
                else (
                    "A cache can be rebuilt from its source, so snapshot forks only cost memory and latency"
                    if workload == "cache"
                    else "The AOF is the durable copy; one kind of fork (the AOF rewrite) is enough"
                )
            ),
            apply="online",
        )
    )
    settings.append(
        SettingAdvice(
            name="appendonly",
            value="yes" if aof else "no",
            formula="AOF on for persistent and queue workloads",
            inputs={"workload": workload},
            why=(
                "The append-only file loses at most about one second of writes on a crash"
                if aof
                else "This workload tolerates losing recent writes, so the AOF's write amplification is not worth it"
            ),
            apply="online",
        )
    )
    if aof:
        settings.append(
            SettingAdvice(
                name="appendfsync",
                value="everysec",
                formula="everysec (redis.conf's recommended compromise)",
                inputs={"workload": workload},
                why="fsync once a second bounds loss to about a second without an fsync per write ('always')",
                apply="online",
            )
        )
        settings.append(
            SettingAdvice(
                name="aof-use-rdb-preamble",
                value="yes",
                formula="yes",
                inputs={"workload": workload},
                why="AOF rewrites start with a compact RDB image, so restarts load much faster",
                apply="online",
            )
        )
    threads = io_threads(inputs.cpus)
    settings.append(
        SettingAdvice(
            name="io-threads",
            value=str(threads),
            formula=(
                f"cores < {IO_THREADS_MIN_CORES} → 1; else min({IO_THREADS_MAX}, floor(cores * {IO_THREADS_SHARE}))"
            ),
            inputs={"cpus": inputs.cpus},
            why=(
                "Threaded socket I/O only pays with at least four cores and must leave a core spare"
                if threads > 1
                else "With fewer than four cores, I/O threads compete with the main thread"
            ),
            apply="restart",
        )
    )
    if threads > 1 and version < (8, 0):
        settings.append(
            SettingAdvice(
                name="io-threads-do-reads",
                value="yes",
                formula="yes when io-threads > 1 (before 8.0; Redis 8 always threads reads)",
                inputs={"io_threads": threads, "version": version_text},
                why="Before Redis 8, I/O threads only write replies unless reads are enabled too",
                apply="restart",
            )
        )
    lazy = ["lazyfree-lazy-eviction", "lazyfree-lazy-expire", "lazyfree-lazy-server-del", "lazyfree-lazy-user-del"]
    lazy.append("replica-lazy-flush")
    if version >= (6, 2):
        lazy.append("lazyfree-lazy-user-flush")
    for name in lazy:
        settings.append(
            SettingAdvice(
                name=name,
                value="yes",
                formula="yes",
                inputs={"version": version_text},
                why="Freeing big keys in a background thread keeps the main thread from stalling",
                apply="online",
            )
        )
    settings.append(
        SettingAdvice(
            name="tcp-backlog",
            value=str(TCP_BACKLOG),
            formula="511 (redis.conf default); effective value is min(tcp-backlog, net.core.somaxconn)",
            inputs={"tcp_backlog": TCP_BACKLOG},
            why="Bursts of new connections queue instead of being refused, if the kernel allows it",
            apply="restart",
        )
    )
    maxclients = inputs.max_connections or DEFAULT_MAXCLIENTS
    settings.append(
        SettingAdvice(
            name="maxclients",
            value=str(maxclients),
            formula="max_connections if given, else 10000 (Redis default)",
            inputs={"max_connections": inputs.max_connections or 0, "default": DEFAULT_MAXCLIENTS},
            why="Caps connections; the open-files ulimit must be at least maxclients + 32",
            apply="online",
        )
    )
    if version >= (7, 0):
        settings.append(
            SettingAdvice(
                name="maxmemory-clients",
                value=MAXMEMORY_CLIENTS,
                formula="10% of maxmemory",
                inputs={"maxmemory_bytes": maxmemory},
                why="Client buffers count toward maxmemory, so cap them before they evict keys or block writes",
                apply="online",
            )
        )
    buffer_value = f"replica {redis_size(replica_hard)} {redis_size(replica_soft)} {REPLICA_BUFFER_SOFT_SECONDS}"
    settings.append(
        SettingAdvice(
            name="client-output-buffer-limit",
            value=buffer_value,
            formula="replica hard limit = min(256mb, 5% * RAM), soft = hard / 4 over 60 s",
            inputs={"ram_gb": inputs.ram_gb, "hard_bytes": replica_hard},
            why="Replica output buffers sit outside maxmemory, so their limit is part of the RAM budget",
            apply="online",
        )
    )

    lines = [
        BudgetLine(
            item="maxmemory (dataset and normal client buffers)",
            bytes=maxmemory,
            formula="maxmemory",
        ),
        BudgetLine(
            item="allocator fragmentation",
            bytes=int(maxmemory * FRAGMENTATION_FRACTION),
            formula=f"maxmemory * {FRAGMENTATION_FRACTION}",
        ),
    ]
    if forks:
        lines.append(
            BudgetLine(
                item="fork copy-on-write during RDB save / AOF rewrite",
                bytes=int(maxmemory * cow),
                formula=f"maxmemory * {cow} (planning fraction; worst case {COW_WORST_CASE})",
            )
        )
    lines.append(
        BudgetLine(
            item="replica output buffer and replication backlog (not counted in maxmemory)",
            bytes=replica_hard + REPL_BACKLOG_BYTES,
            formula="client-output-buffer-limit replica hard limit + repl-backlog-size",
        )
    )
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

    snippet_lines = [f"# redis.conf for Redis {version_text}, workload {workload}, {inputs.ram_gb:g} GB RAM"]
    for advice in settings:
        if advice.name == "save" and rdb:
            snippet_lines.extend(f"save {s} {c}" for s, c in SNAPSHOT_RULES)
        else:
            snippet_lines.append(f"{advice.name} {advice.value}")
    statements = [f"CONFIG SET {a.name} {_quote(a.value)}" for a in settings if a.apply == "online"]
    statements.append("CONFIG REWRITE")

    notes = [
        "CONFIG SET changes the running server only; CONFIG REWRITE writes them back to redis.conf "
        "(it fails when the server was started without a config file).",
        "Replica output buffers and the replication backlog are not counted toward maxmemory; they are "
        "budgeted separately above.",
        "Set vm.overcommit_memory = 1 (sysctl), or a fork for BGSAVE/BGREWRITEAOF can fail under memory pressure; "
        "Redis warns about it at startup.",
        "Disable transparent huge pages (echo never > /sys/kernel/mm/transparent_hugepage/enabled): with THP, "
        "copy-on-write copies 2 MB pages and fork latency and memory use grow.",
        f"tcp-backlog {TCP_BACKLOG} only takes effect if net.core.somaxconn is at least as large.",
    ]
    if forks:
        worst = int(room / (1 + FRAGMENTATION_FRACTION + COW_WORST_CASE)) // MB * MB
        notes.append(
            f"The budget plans for {COW_FRACTION:.0%} of the dataset being rewritten during a fork; if INFO "
            f"persistence shows a larger copy-on-write (current_cow_peak), lower maxmemory to {redis_size(worst)}, "
            "the worst-case value."
        )
    if aof:
        notes.append("appendfsync everysec can lose about one second of acknowledged writes; use 'always' if not.")
    if workload == "persistent":
        notes.append(
            "noeviction makes writes fail with an OOM error at maxmemory; alert on used_memory well before it."
        )
    recommendations: list[str] = []
    if not budget.fits:
        recommendations.append("RAM is too small for Redis with this workload; add memory or shard the dataset.")
    return TuningReport(
        engine="redis",
        inputs=inputs,
        settings=settings,
        memory_budget=budget,
        config_format="redis.conf",
        config_snippet="\n".join(snippet_lines) + "\n",
        apply_statements=statements,
        recommendations=recommendations,
        notes=notes,
    )


def _quote(value: str) -> str:
    if value == '""':
        return value
    return f'"{value}"' if " " in value else value
