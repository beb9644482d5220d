"""MySQL and MariaDB configuration calculator: InnoDB sizing, connections, per-thread buffers and durability.

`tune_mysql(inputs)` serves both engines (`inputs.engine` tells which). It starts from MySQL's own
`innodb_dedicated_server` sizing rules, gates every setting on the server version, and proves with
MySQLTuner's peak-memory formula that the result fits in RAM. When it does not fit it lowers, in
order, the per-thread buffers, the in-memory temporary table limits, the buffer pool and finally
max_connections, recording each step. Pure and deterministic: no I/O, no clock, no driver.
"""

from __future__ import annotations

import re
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
    largest_exact_unit,
)

# --- versions -------------------------------------------------------------------------------------
DEFAULT_MYSQL_VERSION = "8.4"  # the current LTS series
DEFAULT_MARIADB_VERSION = "11.4"  # the current MariaDB LTS series
MYSQL_SUPPORTED = "MySQL 8.0.x, 8.1-8.4 and 9.x"
MARIADB_SUPPORTED = "MariaDB 10.6-10.11 and 11.x"
# innodb_redo_log_capacity replaced innodb_log_file_size/innodb_log_files_in_group in MySQL 8.0.30 (release notes).
MYSQL_REDO_CAPACITY_SINCE = (8, 0, 30)
# MariaDB 10.9 made innodb_log_file_size dynamic (MDEV-27812, "Allow SET GLOBAL innodb_log_file_size").
MARIADB_DYNAMIC_LOG_FILE_SINCE = (10, 9, 0)
# MariaDB deprecated innodb_flush_method in 11.0 (replaced by innodb_data_file_buffering & co, MDEV-30136).
MARIADB_FLUSH_METHOD_DEPRECATED_SINCE = (11, 0, 0)

# --- buffer pool (MySQL manual, "Enabling Automatic Configuration for a Dedicated MySQL Server") -----
DEDICATED_SMALL_RAM = 1 * GB  # below this: 128MB
DEDICATED_MEDIUM_RAM = 4 * GB  # 1-4 GB: 0.5 x RAM; above: 0.75 x RAM
DEDICATED_SMALL_POOL = 128 * MB
DEDICATED_MEDIUM_FRACTION = 0.5
DEDICATED_LARGE_FRACTION = 0.75
# Our adjustment: analytics needs larger sort/join/temp-table memory per query, so the pool gives up 10% of RAM.
DW_LARGE_FRACTION = 0.65
# Our adjustment: a desktop/dev machine shares RAM with other programs (pgtune gives PostgreSQL RAM/16 there).
DESKTOP_POOL_DIVISOR = 8
POOL_CHUNK = 128 * MB  # innodb_buffer_pool_chunk_size default (MySQL manual, "Configuring Buffer Pool Size")
POOL_MIN = 5 * MB  # the smallest innodb_buffer_pool_size the server accepts
POOL_FLOOR = 32 * MB  # our floor when shrinking the pool to fit the budget
# MySQL manual: "specify a combination ... so that each buffer pool instance is at least 1GB"; 8 is the 8.0 default.
POOL_PER_INSTANCE_MIN = 1 * GB
POOL_MAX_INSTANCES = 8

# --- redo log --------------------------------------------------------------------------------------
# innodb_dedicated_server (MySQL >= 8.0.30): redo capacity = (logical CPUs / 2) GB, at most 16 GB.
REDO_PER_CPU = GB // 2
REDO_CAP = 16 * GB
REDO_MIN = 8 * MB  # innodb_redo_log_capacity minimum
MYSQL_OLD_LOG_FILES_IN_GROUP = 2  # innodb_log_files_in_group default before 8.0.30
# MariaDB (one ib_logfile0 since 10.5): our rule, a quarter of the pool, between its 96MB default and 16GB.
MARIADB_LOG_POOL_DIVISOR = 4
MARIADB_LOG_DEFAULT = 96 * MB

# --- I/O capacity by storage (IOPS the page cleaner may use for background flushing) ------------------
# MySQL manual ("Configuring InnoDB I/O Capacity"): 200 suits a single 7200 rpm disk, SSDs and
# PCIe/NVMe devices handle far more; innodb_io_capacity_max defaults to 2 x io_capacity, at least 2000.
# SAN: shared arrays with a write cache, but other hosts compete for the same spindles: between the two.
IO_CAPACITY: dict[str, tuple[int, int]] = {
    "hdd": (200, 2000),
    "ssd": (2000, 4000),
    "nvme": (10000, 20000),
    "san": (1000, 2000),
}

# --- connections -------------------------------------------------------------------------------------
# pgtune's profile defaults (le0pard/pgtune configurationSlice.js); MySQL's own default is 151.
MAX_CONNECTIONS_BY_WORKLOAD: dict[str, int] = {"web": 200, "oltp": 300, "dw": 40, "desktop": 20, "mixed": 100}
MYSQL_DEFAULT_MAX_CONNECTIONS = 151
POOLER_CONNECTIONS_PER_CORE = 4  # expert-rules §1: recommend a pooler above about 4 x cores
THREAD_CACHE_BASE = 8  # MySQL manual: thread_cache_size default = 8 + max_connections / 100, at most 100
THREAD_CACHE_MAX_AUTO = 100
# MariaDB's own default (10.2+): 256, which the server caps at max_connections when it starts.
MARIADB_THREAD_CACHE_DEFAULT = 256
TABLES_PER_CONNECTION = 8  # MySQL manual: table_open_cache >= max_connections x tables per join; our N
TABLE_OPEN_CACHE_DEFAULT = 4000  # MySQL 8 default
TABLE_OPEN_CACHE_CAP = 32768  # our cap: each open table costs a file descriptor and a few KB
TABLE_DEFINITION_BASE = 400  # MySQL manual: default = MIN(400 + table_open_cache / 2, 2000)
TABLE_DEFINITION_CAP = 2000

# --- temporary tables --------------------------------------------------------------------------------
TMP_TABLE_DEFAULT = 16 * MB  # tmp_table_size / max_heap_table_size default
TMP_TABLE_RAM_DIVISOR = 512  # our rule: RAM/512 (RAM/256 for dw), between 16MB and the cap
TMP_TABLE_RAM_DIVISOR_DW = 256
TMP_TABLE_CAP = 256 * MB
TMP_TABLE_CAP_DW = 1 * GB
TMP_TABLE_FLOOR = 4 * MB  # our floor when shrinking to fit
# MySQL 8.4 default for temptable_max_ram: 3% of RAM, between 1GB and 4GB; we keep 3% but allow less on small hosts.
TEMPTABLE_RAM_FRACTION = 0.03
TEMPTABLE_CAP = 4 * GB
TEMPTABLE_FLOOR = 32 * MB

# --- per-thread buffers (MySQL 8 defaults) ------------------------------------------------------------
PER_THREAD_DEFAULT: dict[str, int] = {
    "sort_buffer_size": 256 * KB,
    "join_buffer_size": 256 * KB,
    "read_buffer_size": 128 * KB,
    "read_rnd_buffer_size": 256 * KB,
}
# MariaDB's defaults differ from MySQL's only in sort_buffer_size (2M; MariaDB system variables reference).
PER_THREAD_DEFAULT_MARIADB: dict[str, int] = PER_THREAD_DEFAULT | {"sort_buffer_size": 2 * MB}
PER_THREAD_DW: dict[str, int] = {
    "sort_buffer_size": 2 * MB,
    "join_buffer_size": 1 * MB,
    "read_buffer_size": 256 * KB,
    "read_rnd_buffer_size": 1 * MB,
}
PER_THREAD_LEAN: dict[str, int] = {  # used only when the defaults do not fit
    "sort_buffer_size": 64 * KB,
    "join_buffer_size": 128 * KB,
    "read_buffer_size": 64 * KB,
    "read_rnd_buffer_size": 64 * KB,
}
BINLOG_CACHE_SIZE = 32 * KB  # binlog_cache_size default (MySQL and MariaDB)
THREAD_STACK = {"mysql": 1 * MB, "mariadb": 292 * KB}  # thread_stack defaults on 64-bit builds

# --- global buffers -----------------------------------------------------------------------------------
KEY_BUFFER = 8 * MB  # MyISAM index cache; MySQL's default (MariaDB defaults to 128MB)
LOG_BUFFER_SMALL = 16 * MB  # innodb_log_buffer_size default in MySQL 8.0 and MariaDB
LOG_BUFFER_LARGE = 64 * MB  # MySQL 8.4 default; used from 8 GB of RAM
LOG_BUFFER_LARGE_FROM_RAM = 8 * GB
ARIA_PAGECACHE_DEFAULT = 128 * MB  # aria_pagecache_buffer_size default (MariaDB)
ARIA_RAM_DIVISOR = 64  # our rule on small hosts: RAM/64, at least 8MB
ARIA_FLOOR = 8 * MB

# --- OS reserve -----------------------------------------------------------------------------------------
# Our rule: 10% of RAM, at least 512MB, but never more than a quarter of RAM on small hosts. It also covers
# what the peak formula does not count (performance_schema, buffer pool control blocks, the binary itself).
OS_RESERVE_FRACTION = 0.10
OS_RESERVE_MIN = 512 * MB
OS_RESERVE_MAX_FRACTION = 0.25

_VERSION_RE = re.compile(r"^\s*(\d+)\.(\d+)(?:\.(\d+))?")


@dataclass(frozen=True)
class _Version:
    major: int
    minor: int
    patch: int | None  # None: the series without a patch level; gated as its newest release

    def at_least(self, other: tuple[int, int, int]) -> bool:
        patch = self.patch if self.patch is not None else 999
        return (self.major, self.minor, patch) >= other

    def __str__(self) -> str:
        base = f"{self.major}.{self.minor}"
        return base if self.patch is None else f"{base}.{self.patch}"


def _parse_version(engine: str, raw: str | None) -> _Version:
    text = raw if raw is not None else (DEFAULT_MARIADB_VERSION if engine == "mariadb" else DEFAULT_MYSQL_VERSION)
    supported = MARIADB_SUPPORTED if engine == "mariadb" else MYSQL_SUPPORTED
    cleaned = text.strip()
    if engine == "mariadb" and cleaned.startswith("5.5.5-"):
        cleaned = cleaned[len("5.5.5-") :]  # the MySQL-protocol prefix MariaDB servers report
    if engine == "mysql" and "mariadb" in cleaned.lower():
        raise TuningInputError(f"version {text!r} is a MariaDB server; use engine 'mariadb' ({MARIADB_SUPPORTED})")
    match = _VERSION_RE.match(cleaned)
    if match is None:
        raise TuningInputError(f"unknown {engine} version {text!r}; supported: {supported}")
    version = _Version(int(match[1]), int(match[2]), int(match[3]) if match[3] is not None else None)
    if engine == "mariadb":
        ok = (version.major == 10 and 6 <= version.minor <= 11) or version.major == 11
    else:
        ok = (version.major == 8 and 0 <= version.minor <= 4) or version.major == 9
    if not ok:
        raise TuningInputError(f"unsupported {engine} version {text!r}; supported: {supported}")
    return version


def cnf_size(num_bytes: int) -> str:
    """my.cnf size: the largest of G/M/K that divides exactly, else plain bytes."""
    if num_bytes <= 0:
        return str(num_bytes)
    return largest_exact_unit(num_bytes, (("G", GB), ("M", MB), ("K", KB), ("", 1)))


@dataclass
class _Plan:
    """The mutable working state of one calculation (never leaves this module)."""

    engine: str
    ram: int
    os_reserve: int
    pool: int
    instances: int  # 0 on MariaDB: the variable no longer exists
    log_buffer: int
    key_buffer: int
    tmp_table: int
    temptable_max_ram: int  # 0 on MariaDB
    aria_pagecache: int  # 0 on MySQL
    max_connections: int
    per_thread: dict[str, int]
    thread_stack: int
    lean: bool = False  # per-thread buffers were lowered to fit
    adjustments: list[str] = field(default_factory=list)

    def per_connection(self) -> int:
        return sum(self.per_thread.values()) + self.thread_stack + BINLOG_CACHE_SIZE

    def global_tmp(self) -> int:
        return self.temptable_max_ram if self.engine == "mysql" else self.tmp_table

    def globals_total(self) -> int:
        return self.pool + self.log_buffer + self.key_buffer + self.global_tmp() + self.aria_pagecache

    def total(self) -> int:
        return self.globals_total() + self.max_connections * self.per_connection() + self.os_reserve

    def deficit(self) -> int:
        return self.total() - self.ram


def _os_reserve(ram: int) -> int:
    return int(min(max(ram * OS_RESERVE_FRACTION, OS_RESERVE_MIN), ram * OS_RESERVE_MAX_FRACTION))


def _pool_instances(engine: str, pool: int) -> int:
    if engine == "mariadb":
        return 0
    return max(1, min(POOL_MAX_INSTANCES, pool // POOL_PER_INSTANCE_MIN))


def _round_pool(pool: int, instances: int) -> int:
    """Round down to chunk x instances (the server rounds up, which could break the budget)."""
    unit = POOL_CHUNK * max(1, instances)
    if pool >= unit:
        return pool // unit * unit
    return max(POOL_MIN, pool // MB * MB)  # below one chunk the server truncates the chunk to the pool


def _pool_target(inputs: TuningInputs, ram: int) -> tuple[int, str]:
    if ram < DEDICATED_SMALL_RAM:
        raw, formula = DEDICATED_SMALL_POOL, "128MB (RAM < 1GB)"
    elif ram <= DEDICATED_MEDIUM_RAM:
        raw, formula = int(ram * DEDICATED_MEDIUM_FRACTION), "0.5 x RAM (1GB <= RAM <= 4GB)"
    elif inputs.workload == "dw":
        raw, formula = int(ram * DW_LARGE_FRACTION), "0.65 x RAM (RAM > 4GB, dw keeps room for sorts and joins)"
    else:
        raw, formula = int(ram * DEDICATED_LARGE_FRACTION), "0.75 x RAM (RAM > 4GB)"
    if inputs.workload == "desktop":
        desktop = max(DEDICATED_SMALL_POOL, ram // DESKTOP_POOL_DIVISOR)
        if desktop < raw:
            raw, formula = desktop, "max(128MB, RAM / 8) (desktop shares RAM with other programs)"
    return raw, formula


def _fit(plan: _Plan) -> None:
    """Lower memory consumers in a fixed order until the peak fits in RAM, recording each step."""
    if plan.deficit() <= 0:
        return
    before = plan.per_connection()
    plan.per_thread = {name: min(value, PER_THREAD_LEAN[name]) for name, value in plan.per_thread.items()}
    if plan.per_connection() < before:
        plan.lean = True
        plan.adjustments.append(
            f"per-thread buffers lowered to {', '.join(f'{k}={cnf_size(v)}' for k, v in plan.per_thread.items())}: "
            f"{plan.max_connections} connections x {cnf_size(before)} did not fit"
        )
    if plan.deficit() > 0:
        old_tmp, old_temptable = plan.tmp_table, plan.temptable_max_ram
        # Lowering never raises: a value already under the floor stays where it is.
        if plan.engine == "mysql":
            lowered = max(TEMPTABLE_FLOOR, plan.temptable_max_ram - plan.deficit()) // MB * MB
            plan.temptable_max_ram = min(plan.temptable_max_ram, lowered)
            plan.tmp_table = min(plan.tmp_table, plan.temptable_max_ram)
        else:
            lowered = max(TMP_TABLE_FLOOR, plan.tmp_table - plan.deficit()) // MB * MB
            plan.tmp_table = min(plan.tmp_table, lowered)
        if (plan.tmp_table, plan.temptable_max_ram) != (old_tmp, old_temptable):
            what = (
                f"temptable_max_ram {cnf_size(old_temptable)} -> {cnf_size(plan.temptable_max_ram)}"
                if plan.engine == "mysql"
                else f"tmp_table_size {cnf_size(old_tmp)} -> {cnf_size(plan.tmp_table)}"
            )
            plan.adjustments.append(f"in-memory temporary tables lowered ({what}) to fit the budget")
    if plan.deficit() > 0:
        old_pool = plan.pool
        wanted = max(POOL_FLOOR, plan.pool - plan.deficit())
        plan.instances = _pool_instances(plan.engine, wanted)
        plan.pool = _round_pool(wanted, plan.instances)
        if plan.pool < old_pool:
            plan.adjustments.append(
                f"innodb_buffer_pool_size lowered {cnf_size(old_pool)} -> {cnf_size(plan.pool)} to fit the budget"
            )
    if plan.deficit() > 0:
        old_conn = plan.max_connections
        room = plan.ram - plan.os_reserve - plan.globals_total()
        plan.max_connections = max(1, room // plan.per_connection())
        plan.adjustments.append(
            f"max_connections lowered {old_conn} -> {plan.max_connections}: even lean per-thread buffers "
            f"({cnf_size(plan.per_connection())} each) do not fit; put a connection pooler in front"
        )


@dataclass(frozen=True)
class _Out:
    name: str
    cnf: str  # as written in my.cnf
    sql: str  # as written in SET
    formula: str
    inputs: dict[str, float | int | str]
    why: str
    apply: ApplyHow


def _size(name: str, value: int, formula: str, inputs: dict[str, float | int | str], why: str, apply: ApplyHow) -> _Out:
    return _Out(name, cnf_size(value), str(value), formula, inputs, why, apply)


def _plain(
    name: str, value: str | int, formula: str, inputs: dict[str, float | int | str], why: str, apply: ApplyHow
) -> _Out:
    text = str(value)
    sql = text if isinstance(value, int) or text.isdigit() else f"'{text}'"
    return _Out(name, text, sql, formula, inputs, why, apply)


def tune_mysql(inputs: TuningInputs) -> TuningReport:
    """Recommend a my.cnf for MySQL or MariaDB and prove its peak memory fits in RAM."""
    engine = inputs.engine
    if engine not in ("mysql", "mariadb"):
        raise TuningInputError(f"tune_mysql serves engines 'mysql' and 'mariadb' (got {engine!r})")
    version = _parse_version(engine, inputs.version)
    is_maria = engine == "mariadb"
    label = "MariaDB" if is_maria else "MySQL"
    ram = int(inputs.ram_gb * GB)
    cpus = inputs.cpus
    notes: list[str] = []
    if inputs.version is None:
        notes.append(f"No version given: assumed {label} {version} (the current LTS series).")
    elif version.patch is None:
        notes.append(f"Version {version} without a patch level: gated as the newest {version} release.")

    # --- the unconstrained recommendation -------------------------------------------------------------
    pool_raw, pool_formula = _pool_target(inputs, ram)
    instances = _pool_instances(engine, pool_raw)
    pool = _round_pool(pool_raw, instances)
    if inputs.max_connections is not None:
        max_conn, conn_formula = inputs.max_connections, "given"
    else:
        max_conn = MAX_CONNECTIONS_BY_WORKLOAD[inputs.workload]
        conn_formula = f"{inputs.workload} profile default (pgtune's profile numbers)"
    tmp_divisor = TMP_TABLE_RAM_DIVISOR_DW if inputs.workload == "dw" else TMP_TABLE_RAM_DIVISOR
    tmp_cap = TMP_TABLE_CAP_DW if inputs.workload == "dw" else TMP_TABLE_CAP
    tmp_table = (
        TMP_TABLE_DEFAULT if inputs.workload == "desktop" else min(tmp_cap, max(TMP_TABLE_DEFAULT, ram // tmp_divisor))
    )
    tmp_table = tmp_table // MB * MB
    temptable = 0
    if not is_maria:
        temptable = max(tmp_table, min(TEMPTABLE_CAP, int(ram * TEMPTABLE_RAM_FRACTION))) // MB * MB
    plan = _Plan(
        engine=engine,
        ram=ram,
        os_reserve=_os_reserve(ram),
        pool=pool,
        instances=instances,
        log_buffer=LOG_BUFFER_LARGE if ram >= LOG_BUFFER_LARGE_FROM_RAM else LOG_BUFFER_SMALL,
        key_buffer=KEY_BUFFER,
        tmp_table=tmp_table,
        temptable_max_ram=temptable,
        aria_pagecache=min(ARIA_PAGECACHE_DEFAULT, max(ARIA_FLOOR, ram // ARIA_RAM_DIVISOR // MB * MB))
        if is_maria
        else 0,
        max_connections=max_conn,
        per_thread=dict(
            PER_THREAD_DW if inputs.workload == "dw" else PER_THREAD_DEFAULT_MARIADB if is_maria else PER_THREAD_DEFAULT
        ),
        thread_stack=THREAD_STACK[engine],
    )
    _fit(plan)

    # --- settings ---------------------------------------------------------------------------------------
    ram_in: dict[str, float | int | str] = {"ram_bytes": ram}
    out: list[_Out] = []
    pool_inputs: dict[str, float | int | str] = {"ram_bytes": ram, "chunk_bytes": POOL_CHUNK}
    if not is_maria:
        pool_inputs["instances"] = plan.instances
    pool_formula_full = f"{pool_formula}, rounded down to chunk x instances"
    if plan.pool != pool:
        pool_formula_full += "; then lowered to fit the memory budget"
    out.append(
        _size(
            "innodb_buffer_pool_size",
            plan.pool,
            pool_formula_full,
            pool_inputs,
            "InnoDB's page cache: the larger it is, the more of the working set is served from RAM.",
            "online",  # dynamic since MySQL 5.7.5 / MariaDB 10.2
        )
    )
    if is_maria:
        notes.append(
            "innodb_buffer_pool_instances is omitted: MariaDB ignores it from 10.5 and removed it in 10.6 "
            "(one buffer pool with finer-grained latches)."
        )
    else:
        out.append(
            _plain(
                "innodb_buffer_pool_instances",
                plan.instances,
                "min(8, max(1, floor(pool / 1GB)))",
                {"pool_bytes": plan.pool},
                "Splits the pool to reduce latch contention; each instance should hold at least 1GB.",
                "restart",
            )
        )
    redo = max(REDO_MIN, min(REDO_CAP, cpus * REDO_PER_CPU))
    redo_inputs: dict[str, float | int | str] = {"cpus": cpus, "cap_bytes": REDO_CAP}
    if not is_maria and version.at_least(MYSQL_REDO_CAPACITY_SINCE):
        out.append(
            _size(
                "innodb_redo_log_capacity",
                redo,
                "min(CPUs / 2 GB, 16GB) (innodb_dedicated_server rule)",
                redo_inputs,
                "A larger redo log spaces out checkpoints so bursts of writes are absorbed; recovery takes longer.",
                "online",  # dynamic from 8.0.30
            )
        )
    elif not is_maria:
        per_file = redo // MYSQL_OLD_LOG_FILES_IN_GROUP // MB * MB
        out.append(
            _size(
                "innodb_log_file_size",
                per_file,
                "min(CPUs / 2 GB, 16GB) / innodb_log_files_in_group (2)",
                {**redo_inputs, "log_files_in_group": MYSQL_OLD_LOG_FILES_IN_GROUP},
                "Before 8.0.30 the redo log is a group of files; their total should absorb write bursts.",
                "restart",
            )
        )
        notes.append(f"MySQL {version} predates innodb_redo_log_capacity (8.0.30): the redo log is sized per file.")
    else:
        log_size = max(MARIADB_LOG_DEFAULT, min(REDO_CAP, plan.pool // MARIADB_LOG_POOL_DIVISOR)) // MB * MB
        dynamic = version.at_least(MARIADB_DYNAMIC_LOG_FILE_SINCE)
        out.append(
            _size(
                "innodb_log_file_size",
                log_size,
                "max(96MB, min(pool / 4, 16GB)) (MariaDB has one ib_logfile0 since 10.5)",
                {"pool_bytes": plan.pool, "cap_bytes": REDO_CAP},
                "MariaDB's single redo log file; larger spaces out checkpoints at the cost of longer crash recovery.",
                "online" if dynamic else "restart",
            )
        )
    out.append(
        _size(
            "innodb_log_buffer_size",
            plan.log_buffer,
            "64MB when RAM >= 8GB, else 16MB",
            ram_in,
            "Holds redo records until commit; large transactions that overflow it write to disk early.",
            "restart" if is_maria else "online",
        )
    )
    if inputs.os == "linux" and not (is_maria and version.at_least(MARIADB_FLUSH_METHOD_DEPRECATED_SINCE)):
        out.append(
            _plain(
                "innodb_flush_method",
                "O_DIRECT",
                "O_DIRECT on Linux",
                {"os": inputs.os},
                "Bypasses the OS page cache so data is not cached twice; O_DIRECT_NO_FSYNC is not used because "
                "skipping fsync is unsafe on some file systems.",
                "restart",
            )
        )
    elif inputs.os == "linux":
        notes.append(
            "innodb_flush_method is omitted: deprecated in MariaDB 11.0, whose defaults already bypass the "
            "page cache for data files (innodb_data_file_buffering=OFF)."
        )
    else:
        notes.append(f"innodb_flush_method is left at the {inputs.os} default (O_DIRECT is a Linux setting).")
    io, io_max = IO_CAPACITY[inputs.storage]
    out.append(
        _plain(
            "innodb_io_capacity",
            io,
            f"{inputs.storage}: {io}",
            {"storage": inputs.storage},
            "The background flushing rate InnoDB aims for; match what the device sustains, not its peak.",
            "online",
        )
    )
    out.append(
        _plain(
            "innodb_io_capacity_max",
            io_max,
            f"{inputs.storage}: {io_max}",
            {"storage": inputs.storage},
            "The flushing rate InnoDB may burst to when it falls behind.",
            "online",
        )
    )
    out.append(
        _plain(
            "innodb_flush_log_at_trx_commit",
            1,
            "1 (durable)",
            {},
            "Writes and flushes the redo log at every commit, so a crash loses no committed transaction.",
            "online",
        )
    )
    out.append(
        _plain(
            "sync_binlog",
            1,
            "1 (durable)",
            {},
            "Flushes the binary log at every commit, so replicas and point-in-time recovery never miss a "
            "committed transaction.",
            "online",
        )
    )
    conn_inputs: dict[str, float | int | str] = {"workload": inputs.workload}
    if inputs.max_connections is not None:
        conn_inputs["given"] = inputs.max_connections
    if plan.max_connections != max_conn:
        conn_formula += "; lowered to fit the memory budget"
    out.append(
        _plain(
            "max_connections",
            plan.max_connections,
            conn_formula,
            conn_inputs,
            f"Each connection is a thread with its own buffers; {label}'s default is {MYSQL_DEFAULT_MAX_CONNECTIONS}.",
            "online",
        )
    )
    if is_maria:
        thread_cache = min(MARIADB_THREAD_CACHE_DEFAULT, plan.max_connections)
        thread_cache_formula = "min(256, max_connections) (MariaDB's own default, capped as the server caps it)"
    else:
        thread_cache = min(THREAD_CACHE_MAX_AUTO, THREAD_CACHE_BASE + plan.max_connections // 100)
        thread_cache_formula = "min(100, 8 + max_connections / 100) (MySQL's own default formula)"
    out.append(
        _plain(
            "thread_cache_size",
            thread_cache,
            thread_cache_formula,
            {"max_connections": plan.max_connections},
            "Keeps threads of closed connections for reuse, so new connections skip thread creation.",
            "online",
        )
    )
    toc = min(TABLE_OPEN_CACHE_CAP, max(TABLE_OPEN_CACHE_DEFAULT, plan.max_connections * TABLES_PER_CONNECTION))
    out.append(
        _plain(
            "table_open_cache",
            toc,
            "min(32768, max(4000, max_connections x 8))",
            {"max_connections": plan.max_connections, "tables_per_connection": TABLES_PER_CONNECTION},
            "Every connection opens its own handle per table it uses; a miss reopens the table file.",
            "online",
        )
    )
    tdc = min(TABLE_DEFINITION_CAP, TABLE_DEFINITION_BASE + toc // 2)
    out.append(
        _plain(
            "table_definition_cache",
            tdc,
            "min(2000, 400 + table_open_cache / 2) (MySQL's own default formula"
            + ("; MariaDB's default is a flat 400)" if is_maria else ")"),
            {"table_open_cache": toc},
            "Caches table definitions; raise it above the number of tables if the schema has more.",
            "online",
        )
    )
    tmp_formula = (
        "16MB (desktop)"
        if inputs.workload == "desktop"
        else (f"min({cnf_size(tmp_cap)}, max(16MB, RAM / {tmp_divisor}))")
    )
    if plan.tmp_table != tmp_table:
        tmp_formula += "; lowered to fit the memory budget"
    for name in ("tmp_table_size", "max_heap_table_size"):
        out.append(
            _size(
                name,
                plan.tmp_table,
                tmp_formula,
                ram_in,
                "An in-memory temporary table larger than the smaller of tmp_table_size and max_heap_table_size "
                "spills to disk, so both are set equal.",
                "online",
            )
        )
    if not is_maria:
        out.append(
            _size(
                "temptable_max_ram",
                plan.temptable_max_ram,
                "max(tmp_table_size, min(4GB, 3% of RAM)) (MySQL 8.4's default rule without its 1GB floor)",
                ram_in,
                "The total RAM all TempTable internal temporary tables may share before they spill to disk.",
                "online",
            )
        )
    per_thread_formula = "data-warehouse sizes" if inputs.workload == "dw" else f"{label}'s own defaults"
    if plan.lean:
        per_thread_formula = "lean sizes (the defaults did not fit the memory budget)"
    why_thread = {
        "sort_buffer_size": "Allocated whole by every sort; a large value slows every small sort, so keep it near "
        "the default and fix sorts with indexes.",
        "join_buffer_size": "Allocated per join without an index, possibly several per query; large values hide "
        "missing indexes.",
        "read_buffer_size": "Buffer for sequential scans of MyISAM tables and some temp files; rarely worth raising.",
        "read_rnd_buffer_size": "Buffer for reading rows in sorted order (multi-range read); large values rarely help.",
    }
    for name, value in plan.per_thread.items():
        out.append(_size(name, value, per_thread_formula, {}, why_thread[name], "online"))
    out.append(
        _size(
            "key_buffer_size",
            plan.key_buffer,
            "8MB (only MyISAM indexes use it)",
            {},
            "InnoDB does not use it; a small value is enough for MyISAM system tables and leaves RAM to the pool.",
            "online",
        )
    )
    if is_maria:
        out.append(
            _size(
                "aria_pagecache_buffer_size",
                plan.aria_pagecache,
                "min(128MB, max(8MB, RAM / 64))",
                ram_in,
                "Aria caches MariaDB's on-disk internal temporary tables and system tables; 128MB is plenty.",
                "restart",
            )
        )
        out.append(
            _plain(
                "query_cache_type",
                "OFF",
                "OFF",
                {},
                "The query cache serialises writers on one mutex and is invalidated by every write to a table.",
                "online",
            )
        )
        out.append(_size("query_cache_size", 0, "0", {}, "No memory for a disabled query cache.", "online"))

    # --- memory budget ---------------------------------------------------------------------------------
    lines = [
        BudgetLine(item="innodb_buffer_pool_size", bytes=plan.pool, formula="global"),
        BudgetLine(item="innodb_log_buffer_size", bytes=plan.log_buffer, formula="global"),
        BudgetLine(item="key_buffer_size", bytes=plan.key_buffer, formula="global"),
    ]
    if is_maria:
        lines.append(
            BudgetLine(
                item="tmp_table_size",
                bytes=plan.tmp_table,
                formula="counted once, as MySQLTuner does (min of tmp_table_size, max_heap_table_size)",
            )
        )
        lines.append(BudgetLine(item="aria_pagecache_buffer_size", bytes=plan.aria_pagecache, formula="global"))
        lines.append(BudgetLine(item="query_cache_size", bytes=0, formula="disabled"))
    else:
        lines.append(
            BudgetLine(
                item="temptable_max_ram",
                bytes=plan.temptable_max_ram,
                formula="the shared cap on all in-memory internal temporary tables (counted once)",
            )
        )
    per_conn = plan.per_connection()
    parts = " + ".join(f"{k} {cnf_size(v)}" for k, v in plan.per_thread.items())
    lines.append(
        BudgetLine(
            item="connections x per-thread buffers",
            bytes=plan.max_connections * per_conn,
            formula=(
                f"max_connections {plan.max_connections} x ({parts} + thread_stack {cnf_size(plan.thread_stack)} "
                f"+ binlog_cache_size {cnf_size(BINLOG_CACHE_SIZE)} = {cnf_size(per_conn)}) (MySQLTuner's peak formula)"
            ),
        )
    )
    total = plan.total()
    budget = MemoryBudget(
        ram_bytes=ram,
        os_reserve_bytes=plan.os_reserve,
        lines=lines,
        total_bytes=total,
        headroom_bytes=ram - total,
        fits=total <= ram,
        adjustments=list(plan.adjustments),
    )

    # --- recommendations and notes ----------------------------------------------------------------------
    recommendations: list[str] = []
    if plan.max_connections > POOLER_CONNECTIONS_PER_CORE * cpus or any(
        "max_connections" in a for a in plan.adjustments
    ):
        pooler = "ProxySQL or MariaDB MaxScale" if is_maria else "ProxySQL"
        recommendations.append(
            f"Put a connection pooler ({pooler}) in front: {plan.max_connections} connections on {cpus} cores "
            f"exceeds {POOLER_CONNECTIONS_PER_CORE} per core, and active threads beyond the cores only queue "
            f"for the CPU while each holds its own buffers."
        )
        if is_maria:
            recommendations.append(
                "Or enable MariaDB's built-in thread pool (thread_handling=pool-of-threads), which runs many "
                "connections on a few worker threads per core."
            )
    if inputs.db_size_gb is not None and inputs.db_size_gb * GB > plan.pool:
        recommendations.append(
            f"The data ({inputs.db_size_gb:g} GB) is larger than the buffer pool ({cnf_size(plan.pool)}): "
            "reads of cold rows go to disk; more RAM or fewer unused indexes helps the hit rate."
        )
    notes.append(
        "Durability: innodb_flush_log_at_trx_commit=1 and sync_binlog=1 cost one flush per commit; 2/0 are faster "
        "but lose up to a second of commits on an OS crash, acceptable only on a replica you can rebuild."
    )
    notes.append(
        "The memory budget follows MySQLTuner's peak formula; the OS reserve also covers what it does not count "
        "(performance_schema, buffer pool control blocks, the server binary)."
    )
    if is_maria:
        notes.append(
            "MariaDB has no SET PERSIST: the SET GLOBAL statements last until the next restart, so also write the "
            "my.cnf snippet; settings marked restart only take effect from my.cnf."
        )
    else:
        notes.append(
            "SET PERSIST applies dynamic settings now and keeps them across restarts (mysqld-auto.cnf); "
            "SET PERSIST_ONLY records restart-only settings for the next start."
        )

    settings = [
        SettingAdvice(name=o.name, value=o.cnf, formula=o.formula, inputs=o.inputs, why=o.why, apply=o.apply)
        for o in out
    ]
    snippet_lines = [f"# {label} {version}: {inputs.ram_gb:g} GB RAM, {cpus} CPUs, {inputs.storage}, {inputs.workload}"]
    snippet_lines.append("[mysqld]")
    snippet_lines.extend(f"{o.name} = {o.cnf}" for o in out)
    apply_statements: list[str] = []
    for o in out:
        if is_maria:
            if o.apply == "online":
                apply_statements.append(f"SET GLOBAL {o.name} = {o.sql};")
        elif o.apply == "online":
            apply_statements.append(f"SET PERSIST {o.name} = {o.sql};")
        else:
            apply_statements.append(f"SET PERSIST_ONLY {o.name} = {o.sql};")
    return TuningReport(
        engine=engine,
        inputs=inputs,
        settings=settings,
        memory_budget=budget,
        config_format="my.cnf",
        config_snippet="\n".join(snippet_lines) + "\n",
        apply_statements=apply_statements,
        recommendations=recommendations,
        notes=notes,
    )


__all__ = ["cnf_size", "tune_mysql"]
