"""SQLite configuration calculator: the PRAGMAs an application should set, and why.

SQLite has no server: its "configuration" is a list of PRAGMAs, some stored in the database file
(journal_mode=WAL, page_size, auto_vacuum) and the rest set again on every connection. The memory
budget counts each connection's private page cache plus the memory-mapped part of the file, which
lives in the OS page cache and is shared by every connection and process that maps the same file.
Pure and deterministic: no I/O, no clock, no driver.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dbspecialist.knowledge.tuning.model import (
    GB,
    KB,
    MB,
    BudgetLine,
    MemoryBudget,
    SettingAdvice,
    TuningInputError,
    TuningInputs,
    TuningReport,
)

# --- versions -------------------------------------------------------------------------------------------
DEFAULT_SQLITE_VERSION = "3.46"
SQLITE_SUPPORTED = "SQLite 3.18 or newer (3.x)"
SQLITE_MIN_VERSION = (3, 18, 0)  # PRAGMA optimize appeared in 3.18.0 (sqlite.org release history)
OPTIMIZE_AT_OPEN_SINCE = (3, 46, 0)  # sqlite.org/pragma.html#pragma_optimize: run optimize=0x10002 at open
OPTIMIZE_AT_OPEN_MASK = "0x10002"  # 0x02 analyze tables that need it + 0x10000 check every table

# --- connections ---------------------------------------------------------------------------------------
# Our assumption of concurrent connections (one per worker thread/process of the application).
CONNECTIONS_BY_WORKLOAD: dict[str, int] = {"desktop": 1, "web": 8, "oltp": 8, "mixed": 4, "dw": 2}
# Our limit: SQLite serialises writers; past this many concurrent connections a server engine is the answer.
SQLITE_MAX_CONNECTIONS = 1000

# --- page cache ------------------------------------------------------------------------------------------
CACHE_RAM_FRACTION = 0.02  # our rule: 2% of RAM per connection ...
CACHE_CAP = 64 * MB  # ... at most 64MB (256MB for analytics, which scans more pages per query)
CACHE_CAP_DW = 256 * MB
CACHE_DEFAULT = 2000 * KB  # SQLite's default cache_size is -2000 (2000 KiB)
CACHE_MIN_PAGES = 10  # SQLite keeps at least 10 pages per cache whatever cache_size says

# --- memory-mapped I/O -----------------------------------------------------------------------------------
MMAP_CAP = 256 * MB  # our rule: map up to 256MB of the file (1GB for analytics) ...
MMAP_CAP_DW = 1 * GB
MMAP_RAM_FRACTION = 0.25  # ... and never more than a quarter of RAM

# --- file layout -----------------------------------------------------------------------------------------
PAGE_SIZE = 4096  # SQLite's default since 3.12.0; matches the OS page and most SSD sectors
PAGE_SIZE_DW = 8192  # larger pages: fewer interior B-tree levels and fewer reads for long scans
JOURNAL_SIZE_LIMIT = 64 * MB  # our rule: truncate the WAL back to 64MB after checkpoints
BUSY_TIMEOUT_MS = 5000  # wait up to 5 s for a lock instead of failing at once with SQLITE_BUSY

# --- OS reserve (the application process itself lives here too) -------------------------------------------
OS_RESERVE_FRACTION = 0.10
OS_RESERVE_MIN = 512 * MB
OS_RESERVE_MAX_FRACTION = 0.25

_VERSION_RE = re.compile(r"^\s*(\d+)\.(\d+)(?:\.(\d+))?\s*$")


def _parse_version(raw: str | None) -> tuple[int, int, int]:
    text = raw if raw is not None else DEFAULT_SQLITE_VERSION
    match = _VERSION_RE.match(text)
    if match is None:
        raise TuningInputError(f"unknown sqlite version {text!r}; supported: {SQLITE_SUPPORTED}")
    version = (int(match[1]), int(match[2]), int(match[3] or 0))
    if version[0] != 3 or version < SQLITE_MIN_VERSION:
        raise TuningInputError(f"unsupported sqlite version {text!r}; supported: {SQLITE_SUPPORTED}")
    return version


@dataclass(frozen=True)
class _Pragma:
    name: str
    value: str
    formula: str
    inputs: dict[str, float | int | str]
    why: str
    persistent: bool  # stored in the database file (True) or set per connection (False)


def tune_sqlite(inputs: TuningInputs) -> TuningReport:
    """Recommend the PRAGMAs for an SQLite application and prove the page caches fit in RAM."""
    version = _parse_version(inputs.version)
    version_text = ".".join(str(p) for p in version)
    ram = int(inputs.ram_gb * GB)
    workload = inputs.workload
    dw = workload == "dw"
    notes: list[str] = []
    if inputs.version is None:
        notes.append(f"No version given: assumed SQLite {DEFAULT_SQLITE_VERSION}.")
    if inputs.max_connections is not None:
        if inputs.max_connections > SQLITE_MAX_CONNECTIONS:
            raise TuningInputError(
                f"max_connections for sqlite must be between 1 and {SQLITE_MAX_CONNECTIONS} "
                f"(got {inputs.max_connections}); SQLite serialises writers, use a server engine beyond that"
            )
        connections, conn_formula = inputs.max_connections, "given"
    else:
        connections = CONNECTIONS_BY_WORKLOAD[workload]
        conn_formula = f"{workload} default"
    page_size = PAGE_SIZE_DW if dw else PAGE_SIZE
    os_reserve = int(min(max(ram * OS_RESERVE_FRACTION, OS_RESERVE_MIN), ram * OS_RESERVE_MAX_FRACTION))
    available = ram - os_reserve

    # --- page cache and mmap, then fit ------------------------------------------------------------------
    cache_cap = CACHE_CAP_DW if dw else CACHE_CAP
    cache = max(CACHE_DEFAULT, min(cache_cap, int(ram * CACHE_RAM_FRACTION))) // KB * KB
    cache_formula = f"max(2000 KiB, min(2% of RAM, {cache_cap // MB}MB)) per connection"
    mmap_cap = min(MMAP_CAP_DW if dw else MMAP_CAP, int(ram * MMAP_RAM_FRACTION))
    if inputs.db_size_gb is not None:
        db_bytes = int(inputs.db_size_gb * GB)
        mmap = min(mmap_cap, -(-db_bytes // MB) * MB)
        mmap_formula = f"min(database size, {(MMAP_CAP_DW if dw else MMAP_CAP) // MB}MB, RAM / 4)"
    else:
        mmap = mmap_cap
        mmap_formula = f"min({(MMAP_CAP_DW if dw else MMAP_CAP) // MB}MB, RAM / 4) (database size unknown)"
    mmap = mmap // MB * MB
    adjustments: list[str] = []

    def deficit() -> int:
        return connections * cache + mmap - available

    if deficit() > 0 and cache > CACHE_DEFAULT:
        old = cache
        cache = max(CACHE_DEFAULT, (available - mmap) // connections) // KB * KB
        if cache < old:
            adjustments.append(f"cache_size lowered {old // KB} -> {cache // KB} KiB per connection to fit the budget")
            cache_formula += "; lowered to fit the memory budget"
    if deficit() > 0 and mmap > 0:
        old = mmap
        mmap = max(0, available - connections * cache) // MB * MB
        adjustments.append(f"mmap_size lowered {old // MB}MB -> {mmap // MB}MB to fit the budget")
        mmap_formula += "; lowered to fit the memory budget"
    if deficit() > 0:
        old = cache
        floor = CACHE_MIN_PAGES * page_size
        cache = max(floor, (available - mmap) // connections // KB * KB)
        adjustments.append(
            f"cache_size lowered {old // KB} -> {cache // KB} KiB per connection (below SQLite's default) "
            f"for {connections} connections"
        )
        cache_formula += "; lowered below the default to fit the memory budget"

    # --- the PRAGMAs, in the order they must run --------------------------------------------------------
    pragmas: list[_Pragma] = [
        _Pragma(
            "page_size",
            str(page_size),
            "8192 for dw, else 4096 (the default)" if dw else "4096 (the default)",
            {"workload": workload},
            "Set before the first table is created; changing it later needs VACUUM outside WAL mode.",
            True,
        ),
        _Pragma(
            "auto_vacuum",
            "INCREMENTAL" if workload in ("desktop", "dw") else "NONE",
            "INCREMENTAL for desktop/dw, else NONE",
            {"workload": workload},
            "INCREMENTAL lets the file shrink with PRAGMA incremental_vacuum; switching on an existing database "
            "needs a VACUUM."
            if workload in ("desktop", "dw")
            else "Free pages are reused rather than returned to the OS, which avoids the overhead of auto-vacuum "
            "on a busy database.",
            True,
        ),
        _Pragma(
            "journal_mode",
            "WAL",
            "WAL",
            {},
            "Readers no longer block the writer nor the writer the readers, and commits write once to the WAL.",
            True,
        ),
        _Pragma(
            "synchronous",
            "FULL" if workload == "desktop" else "NORMAL",
            "FULL for desktop, else NORMAL (with WAL)",
            {"workload": workload},
            "FULL syncs the WAL at every commit so a power loss cannot undo it."
            if workload == "desktop"
            else "In WAL mode NORMAL never corrupts the database; a power loss may undo the last commits, "
            "in exchange for far fewer fsyncs.",
            False,
        ),
        _Pragma(
            "cache_size",
            str(-(cache // KB)),
            cache_formula + " (negative = KiB)",
            {"ram_bytes": ram, "connections": connections},
            "Each connection's private page cache; a negative value is a size in KiB, independent of page_size.",
            False,
        ),
        _Pragma(
            "mmap_size",
            str(mmap),
            mmap_formula,
            {"ram_bytes": ram, "db_size_gb": inputs.db_size_gb if inputs.db_size_gb is not None else "unknown"},
            "Reads through a memory map skip a copy into the page cache; mapped pages live in the OS page cache, "
            "shared by all connections.",
            False,
        ),
        _Pragma(
            "busy_timeout",
            str(BUSY_TIMEOUT_MS),
            "5000 ms",
            {},
            "Waits for a lock held by another connection instead of failing at once with SQLITE_BUSY.",
            False,
        ),
        _Pragma(
            "temp_store",
            "FILE" if dw else "MEMORY",
            "FILE for dw, else MEMORY",
            {"workload": workload},
            "Large analytic sorts would hold their temporary B-trees in RAM, so they go to temporary files."
            if dw
            else "Temporary tables and indexes for sorts and DISTINCT stay in RAM instead of temporary files.",
            False,
        ),
        _Pragma(
            "foreign_keys",
            "ON",
            "ON",
            {},
            "SQLite does not enforce foreign keys unless each connection turns them on.",
            False,
        ),
        _Pragma(
            "journal_size_limit",
            str(JOURNAL_SIZE_LIMIT),
            "64MB",
            {},
            "Truncates the WAL file back to this size after a checkpoint so one large transaction does not leave "
            "a huge file behind.",
            False,
        ),
    ]
    optimize_at_open = version >= OPTIMIZE_AT_OPEN_SINCE
    pragmas.append(
        _Pragma(
            "optimize",
            OPTIMIZE_AT_OPEN_MASK if optimize_at_open else "",
            "optimize=0x10002 when the connection opens, plain optimize before it closes"
            if optimize_at_open
            else "plain optimize before each connection closes (optimize at open needs 3.46)",
            {"version": version_text},
            "Runs ANALYZE only on tables whose statistics are missing or stale, so the planner keeps choosing the "
            "right index.",
            False,
        )
    )

    def statement(p: _Pragma) -> str:
        return f"PRAGMA {p.name}={p.value};"

    settings = [
        SettingAdvice(
            name=p.name,
            value=p.value or "(run before closing)",
            formula=p.formula,
            inputs=p.inputs,
            why=p.why,
            apply="pragma",
        )
        for p in pragmas
    ]
    snippet = [f"-- SQLite {version_text}: {inputs.ram_gb:g} GB RAM, {workload}, {connections} connection(s)"]
    snippet.append("-- stored in the database file (run once, before creating tables):")
    snippet.extend(statement(p) for p in pragmas if p.persistent)
    snippet.append("-- per connection (run on every new connection):")
    snippet.extend(statement(p) for p in pragmas if not p.persistent and p.value)
    snippet.append("-- before closing a connection (and every few hours on long-lived ones): PRAGMA optimize;")

    budget_lines = [
        BudgetLine(
            item="cache_size x connections",
            bytes=connections * cache,
            formula=f"{connections} connection(s) ({conn_formula}) x {cache // KB} KiB private page cache",
        ),
        BudgetLine(
            item="mmap_size",
            bytes=mmap,
            formula="counted once: mapped pages sit in the OS page cache, shared by every connection",
        ),
    ]
    total = connections * cache + mmap + os_reserve
    budget = MemoryBudget(
        ram_bytes=ram,
        os_reserve_bytes=os_reserve,
        lines=budget_lines,
        total_bytes=total,
        headroom_bytes=ram - total,
        fits=total <= ram,
        adjustments=adjustments,
    )
    notes.append(
        "journal_mode=WAL, page_size and auto_vacuum are stored in the database file; every other PRAGMA "
        "lasts only for the connection that ran it, so run them whenever the application opens a connection."
    )
    notes.append(
        "page_size and auto_vacuum only take effect on an empty database, or after VACUUM (page_size cannot "
        "change while the database is in WAL mode: switch to DELETE, VACUUM, then back to WAL)."
    )
    if not dw:
        notes.append("temp_store=MEMORY is not in the budget: its size depends on the largest sort a query does.")
    recommendations: list[str] = []
    if connections > 1 and workload in ("web", "oltp", "mixed"):
        recommendations.append(
            "Keep one writer: SQLite serialises writes, so route writes through one connection (or queue) and "
            "keep transactions short; use BEGIN IMMEDIATE for read-then-write transactions."
        )
    return TuningReport(
        engine="sqlite",
        inputs=inputs,
        settings=settings,
        memory_budget=budget,
        config_format="PRAGMA",
        config_snippet="\n".join(snippet) + "\n",
        apply_statements=[statement(p) for p in pragmas if p.value],
        recommendations=recommendations,
        notes=notes,
    )


__all__ = ["tune_sqlite"]
