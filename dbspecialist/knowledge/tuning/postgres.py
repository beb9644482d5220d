"""PostgreSQL configuration calculator: pgtune's current formulas, version-gated for 10-18, plus timeouts,
autovacuum, checkpoints and huge pages, and a memory-budget proof that the result fits in RAM.

Sources (formulas written in our own words; the numbers are theirs):
- le0pard/pgtune `src/features/configuration/configurationSlice.js`@7caef27 (the base formulas, noted "pgtune").
- PostgreSQL documentation, "Server Configuration" chapter, versions 10-18 (contexts, ranges, defaults).

Everything is computed in kB, as pgtune does, so the values match its output exactly unless the memory budget
had to lower them; each such change is recorded in `memory_budget.adjustments`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from dbspecialist.knowledge.tuning.model import (
    GB,
    KB,
    MB,
    ApplyHow,
    BudgetLine,
    MemoryBudget,
    SettingAdvice,
    TuningInputError,
    TuningInputs,
    TuningReport,
    format_size,
    validate,
)

# --- versions -------------------------------------------------------------------------------------------------
PG_VERSION_RANGE = (10, 18)  # pgtune's DB_VERSIONS (constants.js@7caef27)
DEFAULT_PG_VERSION = 17  # the brief's default when neither the input nor a live server gives one

# --- pgtune constants (configurationSlice.js@7caef27) ---------------------------------------------------------
KB_PER_MB = 1024
KB_PER_GB = 1024 * 1024
DEFAULT_MAX_CONNECTIONS: dict[str, int] = {"web": 200, "oltp": 300, "dw": 40, "desktop": 20, "mixed": 100}
SHARED_BUFFERS_DIVISOR: dict[str, int] = {"web": 4, "oltp": 4, "dw": 4, "desktop": 16, "mixed": 4}
MAINTENANCE_DIVISOR: dict[str, int] = {"web": 16, "oltp": 16, "dw": 8, "desktop": 16, "mixed": 16}
MAINTENANCE_CAP_KB = 8 * KB_PER_GB  # "default cap is 8GB"
# Budgeted maintenance sessions (ours, not pgtune): CREATE INDEX, manual VACUUM and pg_restore each take a full
# maintenance_work_mem; one at a time is the usual practice, and more needs its own room.
MAINTENANCE_OPERATIONS = 1
WINDOWS_2GB_LIMIT_KB = 2 * KB_PER_GB - KB_PER_MB  # 2GB raises an error on Windows with PG <= 17
WORK_MEM_DIVISOR: dict[str, int] = {"web": 1, "oltp": 1, "dw": 2, "desktop": 6, "mixed": 2}
WORK_MEM_ALLOCATIONS_PER_CONNECTION = 3  # pgtune: "(max_connections + max_worker_processes) * 3"
WORK_MEM_FLOOR_KB = 4 * KB_PER_MB  # pgtune's modern floor: 4MB
WORK_MEM_FITS_IN_RAM_FACTOR = 1.3  # DB smaller than RAM
WORK_MEM_EXCEEDS_RAM_FACTOR = 0.9  # DB larger than 3x RAM
DEFAULT_MAX_WORKER_PROCESSES = 8  # PostgreSQL's default; pgtune uses it when CPUs < 4
WAL_BUFFERS_PERCENT = 3
WAL_BUFFERS_MAX_KB = 16 * KB_PER_MB
WAL_BUFFERS_ROUND_UP_FROM_KB = 14 * KB_PER_MB
WAL_BUFFERS_MIN_KB = 32
MIN_WAL_SIZE_MB: dict[str, int] = {"web": 1024, "oltp": 2048, "dw": 4096, "desktop": 100, "mixed": 1024}
MAX_WAL_SIZE_MB: dict[str, int] = {"web": 4096, "oltp": 8192, "dw": 16384, "desktop": 2048, "mixed": 4096}
CHECKPOINT_COMPLETION_TARGET = 0.9
DEFAULT_STATISTICS_TARGET: dict[str, int] = {"web": 100, "oltp": 100, "dw": 500, "desktop": 100, "mixed": 100}
EFFECTIVE_IO_CONCURRENCY: dict[str, int] = {"hdd": 2, "ssd": 200, "san": 300, "nvme": 1000}
HUGE_PAGES_THRESHOLD_KB = 2 * KB_PER_GB  # huge_pages = try from shared_buffers >= 2GB
PARALLEL_MIN_CPUS = 4
PARALLEL_PER_GATHER_CAP = 4  # except dw
PARALLEL_MAINTENANCE_CAP = 4
AUTOVACUUM_WORK_MEM_CAP_KB = 2 * KB_PER_GB
DB_SIZE_MID_RAM_FACTOR = 3.0  # pgtune's "1x - 3x RAM" class
IO_WORKERS_RANGE = (3, 32)  # PG 18 default 3, hard maximum 32

# --- PostgreSQL limits (guc_tables.c / docs) ---------------------------------------------------------------------
MAX_KILOBYTES = 2**31 - 1  # int GUCs in kB on 64-bit builds
SHARED_BUFFERS_MAX_KB = (2**30 - 1) * 8  # INT_MAX / 2 pages of 8kB
SHARED_BUFFERS_MIN_KB = 128
WORK_MEM_MIN_KB = 64
AUTOVACUUM_WORK_MEM_MIN_KB = 1024  # values below 1MB are clamped up by the server
AUTOVACUUM_WORK_MEM_SOFT_FLOOR_KB = 64 * 1024  # PostgreSQL's default maintenance_work_mem
DEFAULT_AUTOVACUUM_MAX_WORKERS = 3
VACUUM_DEAD_TUPLE_CAP_KB = KB_PER_GB  # before PG 17, VACUUM used at most 1GB for dead tuple ids (docs)
MAX_CONNECTIONS_LIMIT = 262_143

# --- our own budget model ------------------------------------------------------------------------------------
# Memory-hungry nodes per active query. A typical OLTP/web statement runs at most one sort and one hash
# (ORDER BY + a hash join or hash aggregate); reports run more, but rarely on every connection at once.
# pgtune assumes 3 work_mem allocations per connection *without* hash_mem_multiplier; 2 nodes x multiplier 2.0
# (PG 15+) is the more cautious 4 x work_mem per connection, which is what a hash-heavy query can really use.
SORT_HASH_NODES_PER_QUERY = 2
# OS reserve: the kernel, page tables, sshd/systemd, monitoring agents and backup tools need roughly 0.5-1GB;
# on big machines keep 10% so the page cache still holds the hot set. Small machines reserve a quarter.
OS_RESERVE_FRACTION = 0.10
OS_RESERVE_FIXED_BYTES = 1 * GB
OS_RESERVE_SMALL_FRACTION = 0.25
# Shared memory beyond shared_buffers, measured with `postgres -C shared_memory_size_in_huge_pages` on PG 15
# (shared_buffers 1GB-1TB, 100-10000 connections): buffer descriptors, the buffer hash and the checkpointer's
# request queue take 1.95-2.2% of shared_buffers (the most between 4GB and 64GB), ~46kB per backend slot
# (PGPROC, locks), ~14MB fixed plus wal_buffers. The estimate takes the top of that range, counts the
# background slots as backends, and adds a margin for extensions' shared memory (pg_stat_statements): a
# page short and huge_pages=try silently falls back to normal pages.
HUGE_PAGE_BYTES = 2 * MB
SHM_OVERHEAD_FRACTION = 0.0225
SHM_OVERHEAD_FIXED_KB = 16 * KB_PER_MB
SHM_OVERHEAD_PER_CONNECTION_KB = 48
SHM_BACKGROUND_SLOTS = 16  # autovacuum workers + launcher, WAL senders (10 by default), checkpointer, ...
HUGE_PAGES_MARGIN_KB = 32 * KB_PER_MB
SHM_SIZE_IN_HUGE_PAGES_SINCE = 15  # `postgres -C shared_memory_size_in_huge_pages`
POOLER_CONNECTIONS_PER_CPU = 4  # expert-rules §1: recommend a pooler above ~4 connections per core

# --- our advice (not pgtune) --------------------------------------------------------------------------------
# statement_timeout / idle_in_transaction_session_timeout / lock_timeout by workload. Web requests are short;
# analytics legitimately run long, so they get no global cap (set one per role instead).
STATEMENT_TIMEOUT: dict[str, str] = {"web": "30s", "oltp": "60s", "mixed": "5min", "dw": "0", "desktop": "0"}
IDLE_IN_TX_TIMEOUT: dict[str, str] = {"web": "60s", "oltp": "60s", "mixed": "5min", "dw": "30min", "desktop": "0"}
LOCK_TIMEOUT: dict[str, str] = {"web": "10s", "oltp": "10s", "mixed": "30s", "dw": "0", "desktop": "0"}
CHECKPOINT_TIMEOUT = "15min"  # fewer full-page writes than the 5min default; max_wal_size is sized for it
# Autovacuum: the default 0.2/0.1 waits for 20% of a table to be dead; at 100M rows that is 20M rows.
AUTOVACUUM_VACUUM_SCALE_FACTOR = 0.05
AUTOVACUUM_ANALYZE_SCALE_FACTOR = 0.025
BIG_TABLE_VACUUM_SCALE_FACTOR = 0.01
BIG_TABLE_ANALYZE_SCALE_FACTOR = 0.005
LARGE_DB_GB = 100.0  # from here per-table scale factors are worth setting on the biggest tables

# Settings of `postmaster` context (need a restart); autovacuum_max_workers became reloadable in 18.
RESTART_SETTINGS = frozenset(
    {
        "max_connections",
        "shared_buffers",
        "huge_pages",
        "max_worker_processes",
        "wal_buffers",
        "wal_level",
        "max_wal_senders",
        "io_method",
    }
)


def parse_pg_version(version: str | None) -> tuple[int, bool]:
    """Major version from '16', '16.4', '17beta2', 'PostgreSQL 15.3'; (major, was_defaulted)."""
    lo, hi = PG_VERSION_RANGE
    if version is None or not version.strip():
        return DEFAULT_PG_VERSION, True
    text = version.strip().lower().removeprefix("postgresql").strip()
    digits = ""
    for char in text:
        if not char.isdigit():
            break
        digits += char
    if not digits:
        raise TuningInputError(f"PostgreSQL version must be a major version from {lo} to {hi} (got {version!r})")
    major = int(digits)
    if not lo <= major <= hi:
        raise TuningInputError(f"PostgreSQL version must be a major version from {lo} to {hi} (got {version!r})")
    return major, False


def db_size_class(ram_gb: float, db_size_gb: float | None) -> str:
    """pgtune's three classes: 'less_ram' (< RAM), 'mid_ram' (1x-3x RAM, also when unknown), 'greater_ram'."""
    if db_size_gb is None:
        return "mid_ram"
    if db_size_gb < ram_gb:
        return "less_ram"
    if db_size_gb > DB_SIZE_MID_RAM_FACTOR * ram_gb:
        return "greater_ram"
    return "mid_ram"


def kb(value_kb: int) -> str:
    """A kB amount written the way pgtune and PostgreSQL do (GB/MB when exact, else kB)."""
    return format_size(value_kb * KB)


@dataclass
class _Calc:
    """The working state of one calculation (all memory in kB)."""

    inputs: TuningInputs
    version: int
    settings: list[SettingAdvice] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    recommendations: list[str] = field(default_factory=list)

    def add(
        self,
        name: str,
        value: str,
        formula: str,
        inputs: dict[str, float | int | str],
        why: str,
        apply: ApplyHow | None = None,
    ) -> None:
        how: ApplyHow
        if apply is not None:
            how = apply
        elif name in RESTART_SETTINGS or (name == "autovacuum_max_workers" and self.version < 18):
            how = "restart"
        else:
            how = "reload"
        self.settings.append(SettingAdvice(name=name, value=value, formula=formula, inputs=inputs, why=why, apply=how))


@dataclass(frozen=True)
class _Memory:
    """The memory-relevant numbers, before and after the budget."""

    shared_buffers_kb: int
    wal_buffers_kb: int
    work_mem_kb: int
    hash_mem_multiplier: float
    max_connections: int
    autovacuum_workers: int
    autovacuum_work_mem_kb: int | None  # None → -1 (uses maintenance_work_mem)
    maintenance_work_mem_kb: int


def _os_reserve_bytes(ram_bytes: int) -> int:
    return int(max(OS_RESERVE_FRACTION * ram_bytes, min(OS_RESERVE_FIXED_BYTES, OS_RESERVE_SMALL_FRACTION * ram_bytes)))


def _autovacuum_each_kb(mem: _Memory, version: int) -> int:
    each = mem.autovacuum_work_mem_kb if mem.autovacuum_work_mem_kb is not None else mem.maintenance_work_mem_kb
    if version < 17:
        each = min(each, VACUUM_DEAD_TUPLE_CAP_KB)
    return each


def _per_connection_kb(mem: _Memory) -> float:
    return mem.work_mem_kb * mem.hash_mem_multiplier * SORT_HASH_NODES_PER_QUERY


def _shared_and_maintenance_bytes(mem: _Memory) -> int:
    """shared_buffers, wal_buffers and one maintenance operation (CREATE INDEX, manual VACUUM, restore)."""
    return (mem.shared_buffers_kb + mem.wal_buffers_kb + mem.maintenance_work_mem_kb * MAINTENANCE_OPERATIONS) * KB


def _budget_total_bytes(mem: _Memory, version: int, reserve: int) -> int:
    conn = int(mem.max_connections * _per_connection_kb(mem)) * KB
    autovac = mem.autovacuum_workers * _autovacuum_each_kb(mem, version) * KB
    return _shared_and_maintenance_bytes(mem) + conn + autovac + reserve


def _fit(mem: _Memory, version: int, ram_bytes: int) -> tuple[_Memory, list[str]]:
    """Lower per-connection memory (then autovacuum memory, then, last, connections) until the budget fits."""
    reserve = _os_reserve_bytes(ram_bytes)
    adjustments: list[str] = []
    if _budget_total_bytes(mem, version, reserve) <= ram_bytes:
        return mem, adjustments

    def work_mem_that_fits(m: _Memory) -> int:
        fixed = reserve + _shared_and_maintenance_bytes(m)
        fixed += m.autovacuum_workers * _autovacuum_each_kb(m, version) * KB
        per_kb = m.max_connections * m.hash_mem_multiplier * SORT_HASH_NODES_PER_QUERY
        return int(max(0, ram_bytes - fixed) // KB / per_kb)

    original = mem.work_mem_kb
    # 1. work_mem down to pgtune's 4MB floor.
    target = _rounded(work_mem_that_fits(mem))
    if target >= WORK_MEM_FLOOR_KB:
        mem = _replace(mem, work_mem_kb=min(mem.work_mem_kb, target))
        adjustments.append(
            f"work_mem lowered from {kb(original)} to {kb(mem.work_mem_kb)} so that {mem.max_connections} connections "
            f"x {SORT_HASH_NODES_PER_QUERY} sort/hash nodes x hash_mem_multiplier {mem.hash_mem_multiplier} fit in RAM"
        )
        return mem, adjustments
    if mem.work_mem_kb > WORK_MEM_FLOOR_KB:
        mem = _replace(mem, work_mem_kb=WORK_MEM_FLOOR_KB)
        adjustments.append(
            f"work_mem lowered from {kb(original)} to {kb(WORK_MEM_FLOOR_KB)} (pgtune's floor) to fit in RAM"
        )
    # 2. autovacuum memory down to PostgreSQL's default maintenance_work_mem (64MB), keeping work_mem at 4MB.
    mem = _lower_autovacuum(mem, version, ram_bytes, reserve, AUTOVACUUM_WORK_MEM_SOFT_FLOOR_KB, adjustments)
    if _budget_total_bytes(mem, version, reserve) <= ram_bytes:
        return mem, adjustments
    # 3. work_mem below 4MB, down to PostgreSQL's minimum of 64kB.
    target = max(WORK_MEM_MIN_KB, min(WORK_MEM_FLOOR_KB, _rounded(work_mem_that_fits(mem))))
    mem = _replace(mem, work_mem_kb=target)
    adjustments.append(
        f"work_mem lowered from {kb(original)} to {kb(target)} (below pgtune's 4MB floor: sorts and hashes will "
        f"spill to disk sooner) so that {mem.max_connections} connections fit in RAM; use a pooler instead"
    )
    if _budget_total_bytes(mem, version, reserve) <= ram_bytes:
        return mem, adjustments
    # 4. autovacuum memory down to the server's 1MB minimum.
    lowered = _lower_autovacuum(mem, version, ram_bytes, reserve, AUTOVACUUM_WORK_MEM_MIN_KB, adjustments)
    if lowered is not mem:
        # Autovacuum gave memory back: hand it to work_mem again (still at most 4MB).
        mem = lowered
        regained = max(mem.work_mem_kb, min(WORK_MEM_FLOOR_KB, _rounded(work_mem_that_fits(mem))))
        if regained != mem.work_mem_kb:
            adjustments.append(f"work_mem raised back to {kb(regained)} with the memory autovacuum gave back")
            mem = _replace(mem, work_mem_kb=regained)
    if _budget_total_bytes(mem, version, reserve) <= ram_bytes:
        return mem, adjustments
    # 5. Last resort: even at the minimum work_mem the connections cannot fit.
    fixed = reserve + _shared_and_maintenance_bytes(mem)
    fixed += mem.autovacuum_workers * _autovacuum_each_kb(mem, version) * KB
    fitting = int(max(0, ram_bytes - fixed) // (_per_connection_kb(mem) * KB))
    fitting = max(1, fitting)
    adjustments.append(
        f"max_connections lowered from {mem.max_connections} to {fitting}: even at work_mem {kb(mem.work_mem_kb)} "
        f"that many connections cannot fit in RAM; put a pooler (PgBouncer) in front of the server"
    )
    return _replace(mem, max_connections=fitting), adjustments


def _rounded(value_kb: int) -> int:
    """Down to whole MB when at least 1MB (readable values, and rounding down keeps the budget true)."""
    return value_kb - value_kb % KB_PER_MB if value_kb >= KB_PER_MB else value_kb


def _lower_autovacuum(
    mem: _Memory, version: int, ram_bytes: int, reserve: int, floor_kb: int, adjustments: list[str]
) -> _Memory:
    """Lower autovacuum_work_mem to what leaves room for the connections, not below floor_kb."""
    current = _autovacuum_each_kb(mem, version)
    if not mem.autovacuum_workers or current <= floor_kb:
        return mem
    fixed = reserve + _shared_and_maintenance_bytes(mem)
    conn = int(mem.max_connections * _per_connection_kb(mem)) * KB
    each_kb = int(max(0, ram_bytes - fixed - conn) // KB // mem.autovacuum_workers)
    each_kb = max(floor_kb, _rounded(each_kb))
    if each_kb >= current:
        return mem
    adjustments.append(
        f"autovacuum_work_mem lowered from {kb(current)} to {kb(each_kb)} per worker "
        f"({mem.autovacuum_workers} workers) to leave room for the connections"
    )
    return _replace(mem, autovacuum_work_mem_kb=each_kb)


def _replace(mem: _Memory, **changes: int | float | None) -> _Memory:
    values = {**mem.__dict__, **changes}
    return _Memory(**values)


def _budget(mem: _Memory, version: int, ram_bytes: int, adjustments: list[str]) -> MemoryBudget:
    reserve = _os_reserve_bytes(ram_bytes)
    av_each = _autovacuum_each_kb(mem, version)
    av_source = "autovacuum_work_mem" if mem.autovacuum_work_mem_kb is not None else "maintenance_work_mem"
    av_formula = f"autovacuum_max_workers x {av_source}"
    if version < 17:
        av_formula += " (at most 1GB each before PostgreSQL 17)"
    lines = [
        BudgetLine(item="shared_buffers", bytes=mem.shared_buffers_kb * KB, formula="shared_buffers"),
        BudgetLine(item="wal_buffers", bytes=mem.wal_buffers_kb * KB, formula="wal_buffers"),
        BudgetLine(
            item="connections",
            bytes=int(mem.max_connections * _per_connection_kb(mem)) * KB,
            formula=(
                f"max_connections {mem.max_connections} x work_mem {kb(mem.work_mem_kb)} x hash_mem_multiplier "
                f"{mem.hash_mem_multiplier} x {SORT_HASH_NODES_PER_QUERY} sort/hash nodes per query"
            ),
        ),
        BudgetLine(
            item="autovacuum",
            bytes=mem.autovacuum_workers * av_each * KB,
            formula=f"{av_formula} = {mem.autovacuum_workers} x {kb(av_each)}",
        ),
        BudgetLine(
            item="maintenance",
            bytes=mem.maintenance_work_mem_kb * MAINTENANCE_OPERATIONS * KB,
            formula=(
                f"maintenance_work_mem {kb(mem.maintenance_work_mem_kb)} x {MAINTENANCE_OPERATIONS} "
                "(one CREATE INDEX, manual VACUUM or restore at a time)"
            ),
        ),
    ]
    total = sum(line.bytes for line in lines) + reserve
    return MemoryBudget(
        ram_bytes=ram_bytes,
        os_reserve_bytes=reserve,
        lines=lines,
        total_bytes=total,
        headroom_bytes=ram_bytes - total,
        fits=total <= ram_bytes,
        adjustments=adjustments,
    )


def tune_postgres(inputs: TuningInputs) -> TuningReport:
    """Recommend postgresql.conf settings for the machine and workload, with the proof that they fit in RAM."""
    validate(inputs)
    version, defaulted = parse_pg_version(inputs.version)
    calc = _Calc(inputs=inputs, version=version)
    if defaulted:
        calc.notes.append(f"No version given: assumed PostgreSQL {DEFAULT_PG_VERSION}.")
    workload, os_name, storage, cpus = inputs.workload, inputs.os, inputs.storage, inputs.cpus
    ram_kb = int(inputs.ram_gb * KB_PER_GB)
    ram_bytes = ram_kb * KB
    size_class = db_size_class(inputs.ram_gb, inputs.db_size_gb)
    db_size: float | str = inputs.db_size_gb if inputs.db_size_gb is not None else "unknown"
    windows_limited = os_name == "windows" and version <= 17

    # --- pgtune base values ---------------------------------------------------------------------------------
    max_connections = inputs.max_connections or DEFAULT_MAX_CONNECTIONS[workload]
    shared_buffers = max(SHARED_BUFFERS_MIN_KB, min(SHARED_BUFFERS_MAX_KB, ram_kb // SHARED_BUFFERS_DIVISOR[workload]))
    effective_cache = min(MAX_KILOBYTES, (ram_kb * 3) // 4 if workload != "desktop" else ram_kb // 4)
    maintenance = ram_kb // MAINTENANCE_DIVISOR[workload]
    maintenance_cap = WINDOWS_2GB_LIMIT_KB + KB_PER_MB if windows_limited else MAINTENANCE_CAP_KB
    if maintenance >= maintenance_cap:
        maintenance = WINDOWS_2GB_LIMIT_KB if windows_limited else MAINTENANCE_CAP_KB
    maintenance = max(maintenance, KB_PER_MB)  # PostgreSQL's minimum maintenance_work_mem is 1MB

    parallel = cpus >= PARALLEL_MIN_CPUS
    per_gather = math.ceil(cpus / 2)
    if workload != "dw":
        per_gather = min(per_gather, PARALLEL_PER_GATHER_CAP)
    workers_for_work_mem = cpus if parallel else DEFAULT_MAX_WORKER_PROCESSES

    base = (ram_kb - shared_buffers) / ((max_connections + workers_for_work_mem) * WORK_MEM_ALLOCATIONS_PER_CONNECTION)
    work_mem = math.floor(base / WORK_MEM_DIVISOR[workload])
    if size_class == "less_ram":
        work_mem = math.floor(work_mem * WORK_MEM_FITS_IN_RAM_FACTOR)
    elif size_class == "greater_ram":
        work_mem = math.floor(work_mem * WORK_MEM_EXCEEDS_RAM_FACTOR)
    work_mem = max(work_mem, WORK_MEM_FLOOR_KB)
    if windows_limited:
        work_mem = min(work_mem, WINDOWS_2GB_LIMIT_KB)
    work_mem = min(work_mem, MAX_KILOBYTES)
    pgtune_work_mem = work_mem

    wal_buffers = (WAL_BUFFERS_PERCENT * shared_buffers) // 100
    wal_buffers = min(wal_buffers, WAL_BUFFERS_MAX_KB)
    if WAL_BUFFERS_ROUND_UP_FROM_KB < wal_buffers < WAL_BUFFERS_MAX_KB:
        wal_buffers = WAL_BUFFERS_MAX_KB
    wal_buffers = max(wal_buffers, WAL_BUFFERS_MIN_KB)

    autovacuum_workers: int | None = 5 if cpus >= 32 else 4 if cpus >= 16 else None
    autovacuum_work_mem: int | None = None
    if maintenance >= AUTOVACUUM_WORK_MEM_CAP_KB:
        autovacuum_work_mem = WINDOWS_2GB_LIMIT_KB if windows_limited else AUTOVACUUM_WORK_MEM_CAP_KB
    hash_mem_multiplier = 2.0 if version >= 15 else 1.0

    # --- memory budget ----------------------------------------------------------------------------------------
    before = _Memory(
        shared_buffers_kb=shared_buffers,
        wal_buffers_kb=wal_buffers,
        work_mem_kb=work_mem,
        hash_mem_multiplier=hash_mem_multiplier,
        max_connections=min(max_connections, MAX_CONNECTIONS_LIMIT),
        autovacuum_workers=autovacuum_workers or DEFAULT_AUTOVACUUM_MAX_WORKERS,
        autovacuum_work_mem_kb=autovacuum_work_mem,
        maintenance_work_mem_kb=maintenance,
    )
    after, adjustments = _fit(before, version, ram_bytes)
    budget = _budget(after, version, ram_bytes, adjustments)
    work_mem = after.work_mem_kb
    max_connections = after.max_connections
    if after.autovacuum_work_mem_kb != autovacuum_work_mem:
        autovacuum_work_mem = after.autovacuum_work_mem_kb

    # --- settings -------------------------------------------------------------------------------------------
    add = calc.add
    add(
        "max_connections",
        str(max_connections),
        "given" if inputs.max_connections else f"pgtune default for {workload}",
        {"workload": workload, "max_connections": max_connections},
        "Each connection is a process with its own memory, so allow only what the application pool needs.",
    )
    add(
        "shared_buffers",
        kb(shared_buffers),
        f"RAM / {SHARED_BUFFERS_DIVISOR[workload]}",
        {"ram_kb": ram_kb},
        "PostgreSQL's own cache; the rest of RAM is left to the OS page cache, which PostgreSQL also relies on.",
    )
    add(
        "effective_cache_size",
        kb(effective_cache),
        "RAM x 3/4" if workload != "desktop" else "RAM / 4",
        {"ram_kb": ram_kb},
        "A planner hint (allocates nothing) for how much of the data the OS and PostgreSQL can cache together.",
    )
    add(
        "maintenance_work_mem",
        kb(maintenance),
        f"min(RAM / {MAINTENANCE_DIVISOR[workload]}, {kb(maintenance_cap)}"
        + (" - 1MB on Windows up to PG 17)" if windows_limited else ")"),
        {"ram_kb": ram_kb, "cap_kb": maintenance_cap},
        "Memory for VACUUM, CREATE INDEX and ALTER TABLE ADD FOREIGN KEY; more makes them faster.",
    )
    work_mem_formula = (
        f"floor((RAM - shared_buffers) / ((max_connections + max_worker_processes) x 3) / {WORK_MEM_DIVISOR[workload]})"
    )
    if size_class == "less_ram":
        work_mem_formula += f" x {WORK_MEM_FITS_IN_RAM_FACTOR} (DB smaller than RAM)"
    elif size_class == "greater_ram":
        work_mem_formula += f" x {WORK_MEM_EXCEEDS_RAM_FACTOR} (DB larger than 3x RAM)"
    work_mem_formula += ", at least 4MB"
    if work_mem != pgtune_work_mem:
        work_mem_formula += "; then lowered to fit the memory budget"
    add(
        "work_mem",
        kb(work_mem),
        work_mem_formula,
        {
            "ram_kb": ram_kb,
            "shared_buffers_kb": shared_buffers,
            "max_connections": before.max_connections,
            "max_worker_processes": workers_for_work_mem,
            "db_size_gb": db_size,
            "pgtune_kb": pgtune_work_mem,
        },
        "Per sort or hash node, per query; too low spills to disk, too high risks running out of memory.",
    )
    add(
        "wal_buffers",
        kb(wal_buffers),
        "3% of shared_buffers, at most 16MB (rounded up to 16MB above 14MB), at least 32kB",
        {"shared_buffers_kb": shared_buffers},
        "WAL written by concurrent transactions is gathered here before it is flushed.",
    )
    add(
        "min_wal_size",
        kb(MIN_WAL_SIZE_MB[workload] * KB_PER_MB),
        f"pgtune table for {workload}",
        {"workload": workload},
        "WAL segments kept for reuse instead of being removed and created again.",
    )
    add(
        "max_wal_size",
        kb(MAX_WAL_SIZE_MB[workload] * KB_PER_MB),
        f"pgtune table for {workload}",
        {"workload": workload},
        "Checkpoints are spaced by time rather than forced by WAL volume, which cuts full-page writes.",
    )
    add(
        "checkpoint_completion_target",
        str(CHECKPOINT_COMPLETION_TARGET),
        "constant 0.9 (the default since PostgreSQL 14)",
        {"version": version},
        "Spreads checkpoint writes over most of the interval instead of bursting them.",
    )
    if workload != "desktop":
        add(
            "checkpoint_timeout",
            CHECKPOINT_TIMEOUT,
            "constant",
            {"max_wal_size_mb": MAX_WAL_SIZE_MB[workload]},
            "Fewer checkpoints mean fewer full-page images in WAL; crash recovery takes a little longer.",
        )
    add(
        "default_statistics_target",
        str(DEFAULT_STATISTICS_TARGET[workload]),
        f"pgtune table for {workload}",
        {"workload": workload},
        "Bigger samples give analytic queries better row estimates, at the cost of slower ANALYZE.",
    )
    rpc = _random_page_cost(size_class, storage, workload)
    add(
        "random_page_cost",
        _number(rpc),
        "1.1 if the DB fits in RAM; else 4 for hdd or dw; else 1.1",
        {"db_size_class": size_class, "storage": storage, "workload": workload},
        "Tells the planner how much a random read costs relative to a sequential one on this storage.",
    )
    if os_name == "linux":
        add(
            "effective_io_concurrency",
            str(EFFECTIVE_IO_CONCURRENCY[storage]),
            f"by storage: {storage}",
            {"storage": storage},
            "How many concurrent reads bitmap heap scans (and AIO on 18) may issue; SSDs handle many.",
        )
    else:
        calc.notes.append(
            "effective_io_concurrency is left at its default: it needs posix_fadvise (Linux) and must be 0 elsewhere."
        )
    huge = "off" if os_name == "macos" else "try" if shared_buffers >= HUGE_PAGES_THRESHOLD_KB else "off"
    add(
        "huge_pages",
        huge,
        "try when shared_buffers >= 2GB (never on macOS)",
        {"shared_buffers_kb": shared_buffers, "os": os_name},
        "Huge pages shrink page tables for a big shared memory segment; 'try' still starts if none are free.",
    )
    if huge == "try":
        workers = cpus if parallel else DEFAULT_MAX_WORKER_PROCESSES
        _huge_pages_note(calc, shared_buffers, wal_buffers, max_connections, workers)
    if parallel:
        _parallel_settings(calc, cpus, per_gather, workload)
    if hash_mem_multiplier != 1.0:
        add(
            "hash_mem_multiplier",
            _number(hash_mem_multiplier),
            "2.0 on PostgreSQL 15+ (its default there), counted in the memory budget",
            {"version": version},
            "Hash joins and aggregates may use this multiple of work_mem before spilling.",
        )
    elif version >= 13:
        calc.notes.append("hash_mem_multiplier is left at 1.0 (the PG 13-14 default); the budget assumes 1.0.")
    if version >= 12 and workload in ("web", "oltp", "mixed"):
        add(
            "jit",
            "off",
            "off for web/oltp/mixed on 12+",
            {"workload": workload},
            "JIT compilation costs more than it saves on short queries and causes planning-time spikes.",
        )
    wal_compression = "lz4" if version >= 15 else "on"
    add(
        "wal_compression",
        wal_compression,
        "lz4 on 15+, else on (pglz)",
        {"version": version},
        "Compresses full-page images in WAL: less WAL and replication traffic for a little CPU.",
    )
    if wal_compression == "lz4":
        calc.notes.append("wal_compression = lz4 needs a build with lz4 (the PGDG and most distribution packages).")
    if autovacuum_workers is not None:
        add(
            "autovacuum_max_workers",
            str(autovacuum_workers),
            "5 from 32 CPUs, 4 from 16 CPUs",
            {"cpus": cpus},
            "More workers keep up with more tables being vacuumed at once on bigger servers.",
        )
    if autovacuum_work_mem is not None:
        add(
            "autovacuum_work_mem",
            kb(autovacuum_work_mem),
            "min(maintenance_work_mem, 2GB)" + ("; then lowered to fit the memory budget" if adjustments else ""),
            {"maintenance_work_mem_kb": maintenance},
            "Caps each autovacuum worker so several of them cannot take maintenance_work_mem each.",
        )
    if version >= 18:
        _io_settings(calc, cpus)
    if workload == "desktop":
        add("wal_level", "minimal", "desktop", {"workload": workload}, "No replication on a desktop: least WAL.")
        add("max_wal_senders", "0", "required by wal_level = minimal", {}, "wal_level = minimal forbids WAL senders.")
    _timeouts(calc, workload)
    _autovacuum_scale(calc, workload, inputs.db_size_gb)

    # --- recommendations ------------------------------------------------------------------------------------
    requested = before.max_connections
    if requested > POOLER_CONNECTIONS_PER_CPU * cpus or adjustments:
        reason = (
            f"max_connections {requested} > {POOLER_CONNECTIONS_PER_CPU} x {cpus} CPUs"
            if requested > POOLER_CONNECTIONS_PER_CPU * cpus
            else "the memory budget had to lower per-connection memory"
        )
        pool = cpus * 2 + (1 if storage == "hdd" else 0)
        calc.recommendations.append(
            f"Put PgBouncer in front ({reason}): pool_mode = transaction, default_pool_size ≈ {pool} "
            f"(CPUs x 2 + spindles), so few server processes serve many clients; see tune_config(engine='pgbouncer')."
        )
        calc.notes.append(
            "More active backends than cores only queue on CPU and locks; a pooler keeps throughput and memory steady."
        )
    if inputs.db_size_gb is None:
        calc.notes.append("Database size unknown: treated as 1-3x RAM (no work_mem or random_page_cost adjustment).")
    if inputs.ram_gb <= 0.25 or inputs.ram_gb > 100:
        calc.notes.append("pgtune's formulas are least tested below 256MB and above 100GB of RAM; check the result.")

    snippet = _snippet(inputs, version, calc.settings, budget)
    apply_statements = [f"ALTER SYSTEM SET {s.name} = '{s.value}';" for s in calc.settings]
    apply_statements.append("SELECT pg_reload_conf();")
    restart = [s.name for s in calc.settings if s.apply == "restart"]
    if restart:
        calc.notes.append(f"These need a server restart after ALTER SYSTEM: {', '.join(restart)}.")
    return TuningReport(
        engine="postgres",
        inputs=inputs,
        settings=calc.settings,
        memory_budget=budget,
        config_format="postgresql.conf",
        config_snippet=snippet,
        apply_statements=apply_statements,
        recommendations=calc.recommendations,
        notes=calc.notes,
    )


def _random_page_cost(size_class: str, storage: str, workload: str) -> float:
    if size_class == "less_ram":
        return 1.1
    if storage == "hdd" or workload == "dw":
        return 4.0
    return 1.1


def _number(value: float) -> str:
    return str(int(value)) if value == int(value) else str(value)


def _huge_pages_note(
    calc: _Calc, shared_buffers: int, wal_buffers: int, max_connections: int, worker_processes: int
) -> None:
    backends = max_connections + worker_processes + SHM_BACKGROUND_SLOTS
    overhead_kb = math.ceil(SHM_OVERHEAD_FRACTION * shared_buffers) + SHM_OVERHEAD_FIXED_KB + wal_buffers
    overhead_kb += SHM_OVERHEAD_PER_CONNECTION_KB * backends + HUGE_PAGES_MARGIN_KB
    pages = math.ceil((shared_buffers + overhead_kb) * KB / HUGE_PAGE_BYTES)
    exact = calc.version >= SHM_SIZE_IN_HUGE_PAGES_SINCE
    note = (
        f"Huge pages: vm.nr_hugepages = ceil((shared_buffers {kb(shared_buffers)} + ~{kb(overhead_kb)} other shared "
        f"memory and margin) / 2MB) = {pages}, an upper-bound estimate: with huge_pages=try a single page short "
        "makes PostgreSQL fall back to normal pages without an error. Apply it with "
        f"`sysctl -w vm.nr_hugepages={pages}` and persist it in /etc/sysctl.d/."
    )
    if exact:
        note += (
            " The exact count: with the new settings in postgresql.conf and the server stopped (the restart "
            "shared_buffers needs anyway), run `postgres -D $PGDATA -C shared_memory_size_in_huge_pages` as the "
            "postgres user (the server binary, e.g. /usr/lib/postgresql/<major>/bin/postgres on Debian), and set "
            "vm.nr_hugepages to what it prints."
        )
        calc.recommendations.append(
            'sysctl -w vm.nr_hugepages="$(sudo -u postgres postgres -D "$PGDATA" -C shared_memory_size_in_huge_pages)"'
            f"  # exact; with the server stopped and the new settings written (estimate: {pages})"
        )
    else:
        note += " After the restart, HugePages_Rsvd in /proc/meminfo above 0 shows they are used."
        calc.recommendations.append(f"sysctl -w vm.nr_hugepages={pages}")
    calc.notes.append(note)


def _parallel_settings(calc: _Calc, cpus: int, per_gather: int, workload: str) -> None:
    calc.add(
        "max_worker_processes",
        str(cpus),
        "CPUs",
        {"cpus": cpus},
        "Background worker slots, shared by parallel queries and extensions.",
    )
    calc.add(
        "max_parallel_workers_per_gather",
        str(per_gather),
        "ceil(CPUs / 2)" + (", at most 4" if workload != "dw" else ""),
        {"cpus": cpus},
        "Workers one query node may use; more than 4 rarely pays off outside analytics.",
    )
    calc.add(
        "max_parallel_workers",
        str(cpus),
        "CPUs",
        {"cpus": cpus},
        "Parallel workers running at once across all queries.",
    )
    if calc.version >= 11:
        calc.add(
            "max_parallel_maintenance_workers",
            str(min(PARALLEL_MAINTENANCE_CAP, math.ceil(cpus / 2))),
            "min(4, ceil(CPUs / 2))",
            {"cpus": cpus},
            "Workers for parallel CREATE INDEX and VACUUM.",
        )


def _io_settings(calc: _Calc, cpus: int) -> None:
    lo, hi = IO_WORKERS_RANGE
    workers = min(hi, max(lo, cpus // 4))
    calc.add(
        "io_method",
        "worker",
        "worker (PostgreSQL 18's default); pgtune says io_uring on Linux",
        {"version": calc.version},
        "Worker processes do asynchronous reads everywhere; io_uring is faster but needs liburing and a runtime "
        "that allows it.",
    )
    calc.notes.append(
        "io_method = io_uring (pgtune's choice on Linux) is faster, but the server refuses to start when the build "
        "lacks liburing, and container seccomp profiles often block io_uring: switch only after checking both."
    )
    if workers > lo:
        calc.add(
            "io_workers",
            str(workers),
            "clamp(floor(CPUs / 4), 3, 32)",
            {"cpus": cpus},
            "More I/O workers keep more asynchronous reads in flight on bigger machines.",
        )


def _timeouts(calc: _Calc, workload: str) -> None:
    calc.add(
        "statement_timeout",
        STATEMENT_TIMEOUT[workload],
        f"by workload: {workload}",
        {"workload": workload},
        "Stops runaway queries from holding connections and locks; raise it per role for batch jobs "
        "(ALTER ROLE … SET statement_timeout).",
    )
    calc.add(
        "idle_in_transaction_session_timeout",
        IDLE_IN_TX_TIMEOUT[workload],
        f"by workload: {workload}",
        {"workload": workload},
        "An abandoned open transaction holds locks and stops VACUUM from removing dead rows.",
    )
    calc.add(
        "lock_timeout",
        LOCK_TIMEOUT[workload],
        f"by workload: {workload}",
        {"workload": workload},
        "A statement waiting on a lock makes everything queued behind it wait too; migrations should set "
        "1-5s per session and retry.",
    )
    if calc.version >= 17:
        calc.notes.append(
            "PostgreSQL 17+ also has transaction_timeout; set it per role if whole transactions must be bounded."
        )


def _autovacuum_scale(calc: _Calc, workload: str, db_size_gb: float | None) -> None:
    if workload == "desktop":
        return
    calc.add(
        "autovacuum_vacuum_scale_factor",
        str(AUTOVACUUM_VACUUM_SCALE_FACTOR),
        "constant (default 0.2)",
        {},
        "Vacuums after 5% of a table changed instead of 20%, so big tables do not accumulate millions of dead rows.",
    )
    calc.add(
        "autovacuum_analyze_scale_factor",
        str(AUTOVACUUM_ANALYZE_SCALE_FACTOR),
        "constant (default 0.1)",
        {},
        "Keeps planner statistics of big tables fresh.",
    )
    if db_size_gb is not None and db_size_gb >= LARGE_DB_GB:
        calc.recommendations.append(
            f"For the largest tables (database {db_size_gb:g} GB): ALTER TABLE <big_table> SET "
            f"(autovacuum_vacuum_scale_factor = {BIG_TABLE_VACUUM_SCALE_FACTOR}, "
            f"autovacuum_analyze_scale_factor = {BIG_TABLE_ANALYZE_SCALE_FACTOR});"
        )


def _snippet(inputs: TuningInputs, version: int, settings: list[SettingAdvice], budget: MemoryBudget) -> str:
    header = [
        "# Generated by dbspecialist tune_config (pgtune formulas + memory budget)",
        f"# PostgreSQL {version}, {inputs.os}, {inputs.workload}, RAM {inputs.ram_gb:g} GB, {inputs.cpus} CPUs, "
        f"{inputs.storage}",
        f"# Memory budget: {budget.total_bytes / GB:.2f} GB of {budget.ram_bytes / GB:.2f} GB"
        f" (headroom {budget.headroom_bytes / GB:.2f} GB)",
    ]
    body = [f"{s.name} = {s.value}" + ("  # restart" if s.apply == "restart" else "") for s in settings]
    return "\n".join([*header, "", *body]) + "\n"
