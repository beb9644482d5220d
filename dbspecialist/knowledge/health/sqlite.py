"""check_health for SQLite: the snapshot of `adapters/health_sqlite.py` interpreted into findings (HLT080-HLT085).

Pure: no I/O. SQLite has no server and no cumulative counters: every value is read from the file now
("sample"). The adapter's connection is read-only, so each fix is a statement for the application (or the
sqlite3 shell) to run on a writable connection.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from dbspecialist.knowledge.findings import Finding, Fix, FixAvailability, RuleSpec, Severity
from dbspecialist.knowledge.health.common import (
    MIB,
    Metrics,
    as_int,
    health_finding,
    health_report,
    health_spec,
    pct,
    unavailable_checks,
)
from dbspecialist.knowledge.health.model import HealthReport
from dbspecialist.knowledge.sql_text import quote_ident

# SQLite's default page size since 3.12.0 (sqlite.org, "PRAGMA page_size").
DEFAULT_PAGE_SIZE = 4096
# SQLite's default wal_autocheckpoint is 1000 pages (sqlite.org, "Write-Ahead Logging").
DEFAULT_WAL_AUTOCHECKPOINT = 1000


@dataclass(frozen=True)
class SqliteThresholds:
    """The numbers the rules compare against (our own judgement unless a source is named)."""

    freelist_pct: float = 25.0
    freelist_high_pct: float = 50.0
    freelist_min_bytes: int = 1 * MIB
    # The WAL is "large" past this many checkpoint intervals (wal_autocheckpoint pages) and this many bytes.
    wal_checkpoint_multiple: float = 10.0
    wal_min_bytes: int = 64 * MIB


@dataclass(frozen=True)
class SqliteHealthContext:
    snapshot: Mapping[str, Any]
    thresholds: SqliteThresholds = field(default_factory=SqliteThresholds)

    def pragma(self, name: str) -> Any:
        return (self.snapshot.get("pragmas") or {}).get(name)

    def pragma_int(self, name: str, default: int = 0) -> int:
        return as_int(self.pragma(name), default)

    @property
    def database(self) -> str:
        path = str(self.snapshot.get("path") or "")
        return PurePath(path).name or "main"


Check = Callable[[SqliteHealthContext], Iterator[Finding]]


def _spec(rule_id: str, name: str, severity: Severity, summary: str, fix: FixAvailability = "always") -> RuleSpec:
    return health_spec("sqlite", rule_id, name, severity, summary, fix=fix)


# -- HLT080 -------------------------------------------------------------------------------------------------

QUICK_CHECK = _spec(
    "HLT080",
    "integrity-check-failed",
    Severity.CRITICAL,
    "PRAGMA quick_check reports damage in the database file.",
    fix="sometimes",
)


def integrity_check_failed(ctx: SqliteHealthContext) -> Iterator[Finding]:
    """PRAGMA quick_check found damage in the database file: some rows or pages can no longer be trusted.

    ## Why it matters
    `quick_check` verifies the structure of every B-tree page, the freelist and NOT NULL and CHECK
    constraints (sqlite.org, "PRAGMA quick_check"); any answer other than `ok` means corruption: reads
    may return wrong rows or fail, and writes may make it worse. Causes are storage that lies about
    fsync, copying the file while it is written, or disabling the journal.

    ## Threshold
    Any result other than `ok`. `integrity_check` additionally verifies that each index matches its
    table; it is slower.

    ## Fix
    Stop writing, keep a copy of the file with its -wal, then run `PRAGMA integrity_check` for the full
    list, and recover with the sqlite3 shell's `.recover` command into a new file, or restore a backup.
    """
    messages = ctx.snapshot.get("quick_check") or []
    if not messages or messages == ["ok"]:
        return
    yield health_finding(
        QUICK_CHECK,
        measured="sample",
        subject=ctx.database,
        subject_kind="server",
        title=f"quick_check reports {len(messages)} problem(s) in {ctx.database}",
        evidence={
            "problems": len(messages),
            "first_problems": "; ".join(messages[:5]),
            "limit": 100,
            "expected": "ok",
        },
        rationale=(
            "Anything but 'ok' from quick_check means the file is damaged: reads may return wrong rows or fail, and "
            "further writes can spread the damage."
        ),
        help_="Stop writes, copy the file (with its -wal), run PRAGMA integrity_check, then recover with the "
        "shell's .recover or restore a backup.",
        fix=Fix(
            title="Recover the data into a new file",
            statements=[
                "PRAGMA integrity_check;",
                f"sqlite3 {ctx.database} .recover | sqlite3 recovered.db",
            ],
            safety="display-only",
            note="The second line runs in a shell. Compare the recovered file with a backup before switching over.",
        ),
    )


# -- HLT081 -------------------------------------------------------------------------------------------------

FOREIGN_KEY_VIOLATIONS = _spec(
    "HLT081",
    "foreign-key-violations",
    Severity.HIGH,
    "Rows reference parent rows that do not exist (PRAGMA foreign_key_check).",
)


def _orphans_query(violation: dict[str, Any]) -> str:
    table = quote_ident(str(violation["table"]), "sqlite")
    parent = quote_ident(str(violation["parent"]), "sqlite")
    columns = [c for c in violation.get("columns") or [] if c]
    parent_columns = violation.get("parent_columns") or []
    if columns and len(parent_columns) == len(columns) and all(parent_columns):
        present = " AND ".join(f"c.{quote_ident(c, 'sqlite')} IS NOT NULL" for c in columns)
        join = " AND ".join(
            f"p.{quote_ident(str(pc), 'sqlite')} = c.{quote_ident(c, 'sqlite')}"
            for c, pc in zip(columns, parent_columns, strict=True)
        )
        return (
            f"SELECT c.* FROM {table} AS c WHERE {present} AND NOT EXISTS (SELECT 1 FROM {parent} AS p WHERE {join});"
        )
    literal = "'" + str(violation["table"]).replace("'", "''") + "'"
    return (
        f"SELECT * FROM {table} WHERE rowid IN "
        f"(SELECT rowid FROM pragma_foreign_key_check({literal}) WHERE fkid = {int(violation['fkid'])});"
    )


def foreign_key_violations(ctx: SqliteHealthContext) -> Iterator[Finding]:
    """Rows point at parent rows that do not exist: the foreign key was not enforced when they were written.

    ## Why it matters
    SQLite enforces foreign keys only on connections that run `PRAGMA foreign_keys = ON`, and the
    setting is off by default and per connection (sqlite.org, "SQLite Foreign Key Support"). Any
    connection without it can insert orphans or delete parents, and joins then silently drop those rows.

    ## Threshold
    Any row `PRAGMA foreign_key_check` reports. All violations are counted; the first rowids of each
    foreign key are listed.

    ## Fix
    Inspect the orphans with the query in the fix, then insert the missing parents, point the rows
    elsewhere, or delete them. Make every connection of the application run `PRAGMA foreign_keys = ON`
    (the schema review's foreign-keys rule checks the setting).
    """
    for violation in ctx.snapshot.get("foreign_key_violations") or []:
        table = str(violation.get("table"))
        parent = str(violation.get("parent"))
        count = int(violation.get("count") or 0)
        columns = [c for c in violation.get("columns") or [] if c]
        rowids = [str(r) for r in violation.get("rowids") or []]
        yield health_finding(
            FOREIGN_KEY_VIOLATIONS,
            measured="sample",
            subject=f"{table} -> {parent}",
            subject_kind="constraint",
            table=table,
            title=f"{count} row(s) of {table} reference missing rows of {parent}",
            evidence={
                "table": table,
                "parent": parent,
                "columns": ",".join(columns) or None,
                "parent_columns": ",".join(str(c) for c in violation.get("parent_columns") or [] if c) or None,
                "fkid": int(violation.get("fkid") or 0),
                "violations": count,
                "rowids": ",".join(rowids) or None,
                "foreign_keys_pragma": ctx.pragma("foreign_keys"),
            },
            rationale=(
                "SQLite checks foreign keys only on connections that set PRAGMA foreign_keys = ON; these rows were "
                "written without it, and joins to the parent silently drop them."
            ),
            help_="Fix or delete the orphans, then make every connection run PRAGMA foreign_keys = ON.",
            fix=Fix(
                title=f"List the orphaned rows of {table}",
                statements=[_orphans_query(violation), "PRAGMA foreign_keys = ON;"],
                safety="display-only",
                note="Decide per row: insert the missing parent, re-point the row or delete it. foreign_keys is "
                "per connection: the application must set it every time it connects.",
            ),
        )


# -- HLT082 -------------------------------------------------------------------------------------------------

FREELIST = _spec(
    "HLT082",
    "large-freelist",
    Severity.LOW,
    "A large share of the file's pages are free (deleted data): VACUUM would shrink it.",
)


def large_freelist(ctx: SqliteHealthContext) -> Iterator[Finding]:
    """Much of the file is free pages left by deleted data: the file is bigger than its contents.

    ## Why it matters
    Deleting rows puts their pages on the freelist; SQLite reuses them for new data but, with
    `auto_vacuum = NONE` (the default), never gives them back to the file system (sqlite.org, "VACUUM").
    Backups and copies carry the empty pages, and the remaining data is scattered over more pages.

    ## Threshold
    `freelist_count / page_count` at 25 % (low) or 50 % (medium), and at least 1 MiB free: our own
    judgement.

    ## Fix
    `VACUUM` rebuilds the file compactly (it needs free disk space for a copy and blocks writers while it
    runs); with `auto_vacuum = INCREMENTAL`, `PRAGMA incremental_vacuum` frees pages without a rebuild.
    """
    t = ctx.thresholds
    free = ctx.pragma_int("freelist_count")
    pages = ctx.pragma_int("page_count")
    page_size = ctx.pragma_int("page_size", DEFAULT_PAGE_SIZE)
    share = pct(free, pages)
    if share is None or share < t.freelist_pct or free * page_size < t.freelist_min_bytes:
        return
    incremental = ctx.pragma_int("auto_vacuum") == 2
    yield health_finding(
        FREELIST,
        measured="sample",
        subject=ctx.database,
        subject_kind="server",
        title=f"{share}% of {ctx.database} is free pages ({free * page_size / MIB:.1f} MiB)",
        evidence={
            "freelist_count": free,
            "page_count": pages,
            "page_size": page_size,
            "free_bytes": free * page_size,
            "freelist_pct": share,
            "auto_vacuum": ctx.pragma("auto_vacuum"),
            "threshold_pct": t.freelist_pct,
        },
        rationale=(
            "Deleted data leaves free pages that SQLite reuses but does not return to the file system, so the file, "
            "its backups and copies stay large."
        ),
        help_="Run VACUUM at a quiet moment (or PRAGMA incremental_vacuum with auto_vacuum = INCREMENTAL).",
        fix=Fix(
            title="Free the pages" if incremental else "Rebuild the file compactly",
            statements=["PRAGMA incremental_vacuum;"] if incremental else ["VACUUM;"],
            note=None
            if incremental
            else "VACUUM writes a new copy of the database (free disk space of about its size is needed) and "
            "blocks writers while it runs.",
        ),
        severity=Severity.MEDIUM if share >= t.freelist_high_pct else None,
    )


# -- HLT083 -------------------------------------------------------------------------------------------------

LARGE_WAL = _spec(
    "HLT083",
    "large-wal-file",
    Severity.MEDIUM,
    "The -wal file is many checkpoint intervals long: checkpoints do not complete.",
)


def large_wal_file(ctx: SqliteHealthContext) -> Iterator[Finding]:
    """The -wal file is many times larger than one checkpoint interval: checkpoints cannot catch up.

    ## Why it matters
    In WAL mode commits append to the -wal file and a checkpoint copies them back into the database
    once it holds `wal_autocheckpoint` pages (1000 by default). A checkpoint cannot finish while a reader
    still uses older content, so a reader that never stops lets the WAL grow without bound, and every
    read then searches a larger WAL index (sqlite.org, "Write-Ahead Logging", "Avoiding Excessively Large
    WAL Files"). The file keeps its size after a checkpoint unless `journal_size_limit` is set.

    ## Threshold
    A -wal file at least 10 checkpoint intervals (`wal_autocheckpoint` x `page_size`) and 64 MiB: our own
    judgement.

    ## Fix
    Find the long-lived reader (a connection that keeps a statement or transaction open), run `PRAGMA
    wal_checkpoint(TRUNCATE)` when it is gone, and set `journal_size_limit` so the file shrinks back.
    """
    if str(ctx.pragma("journal_mode") or "").lower() != "wal":
        return
    t = ctx.thresholds
    wal_bytes = int(ctx.snapshot.get("wal_bytes") or 0)
    page_size = ctx.pragma_int("page_size", DEFAULT_PAGE_SIZE)
    autocheckpoint = ctx.pragma_int("wal_autocheckpoint", DEFAULT_WAL_AUTOCHECKPOINT)
    interval = autocheckpoint * page_size
    threshold = max(int(t.wal_checkpoint_multiple * interval), t.wal_min_bytes)
    if wal_bytes < threshold:
        return
    yield health_finding(
        LARGE_WAL,
        measured="sample",
        subject=f"{ctx.database}-wal",
        subject_kind="server",
        title=f"the -wal file of {ctx.database} is {wal_bytes / MIB:.1f} MiB, {wal_bytes // max(interval, 1)} "
        "checkpoint intervals long",
        evidence={
            "wal_bytes": wal_bytes,
            "wal_autocheckpoint_pages": autocheckpoint,
            "checkpoint_interval_bytes": interval,
            "journal_size_limit": ctx.pragma("journal_size_limit"),
            "threshold_bytes": threshold,
        },
        rationale=(
            "A checkpoint cannot finish while a reader still uses older content, so a reader that never stops lets "
            "the WAL grow, and every read searches a larger WAL index."
        ),
        help_="Close long-lived readers, then checkpoint with TRUNCATE and set journal_size_limit.",
        fix=Fix(
            title="Checkpoint and cap the -wal file",
            statements=["PRAGMA wal_checkpoint(TRUNCATE);", f"PRAGMA journal_size_limit = {64 * MIB};"],
            note="The checkpoint waits for (or stops at) readers still using old content; journal_size_limit is "
            "per connection, so the application sets it when it connects.",
        ),
        severity=Severity.MEDIUM,
    )


# -- HLT084 -------------------------------------------------------------------------------------------------

JOURNAL_MODE = _spec(
    "HLT084",
    "rollback-journal-mode",
    Severity.LOW,
    "The database uses a rollback journal (readers and the writer block each other) or no journal at all.",
)


def rollback_journal_mode(ctx: SqliteHealthContext) -> Iterator[Finding]:
    """The database is not in WAL mode: a writer blocks every reader while it commits.

    ## Why it matters
    With a rollback journal (`delete`, `truncate`, `persist`) a writing transaction takes an exclusive
    lock on the whole file to commit, so concurrent readers get SQLITE_BUSY; in WAL mode readers and the
    one writer proceed together (sqlite.org, "Write-Ahead Logging"). With `memory` or `off` a crash in
    the middle of a write can corrupt the database.

    ## Threshold
    `journal_mode` other than `wal` (low); `memory` or `off` (high). WAL is stored in the file; the
    rollback modes are per connection, so what this connection sees is the default unless the file is in
    WAL mode.

    ## Fix
    `PRAGMA journal_mode = WAL` once, on a writable connection (the mode stays in the file). WAL needs
    all processes on the same host (not a network file system).
    """
    mode = str(ctx.pragma("journal_mode") or "").lower()
    if not mode or mode == "wal":
        return
    unsafe = mode in ("memory", "off")
    yield health_finding(
        JOURNAL_MODE,
        measured="sample",
        subject=ctx.database,
        subject_kind="server",
        title=f"{ctx.database} uses journal_mode={mode}: "
        + ("a crash during a write can corrupt it" if unsafe else "a writer blocks every reader while it commits"),
        evidence={"journal_mode": mode, "recommended": "wal"},
        rationale=(
            "Without a journal a crash in the middle of a write can corrupt the database."
            if unsafe
            else "With a rollback journal the writer locks the whole file to commit, so concurrent readers get "
            "SQLITE_BUSY; in WAL mode readers and the writer proceed together."
        ),
        help_="Switch the file to WAL once: PRAGMA journal_mode = WAL.",
        fix=Fix(
            title="Switch to WAL mode",
            statements=["PRAGMA journal_mode = WAL;"],
            note="Run once on a writable connection; it persists in the file. All processes must be on the same "
            "host (WAL uses shared memory).",
        ),
        severity=Severity.HIGH if unsafe else None,
    )


# -- HLT085 -------------------------------------------------------------------------------------------------

PAGE_SIZE = _spec(
    "HLT085",
    "small-page-size",
    Severity.LOW,
    "The page size is below 4096 bytes, the default since SQLite 3.12.0.",
)


def small_page_size(ctx: SqliteHealthContext) -> Iterator[Finding]:
    """The page size is below 4096 bytes: more pages, deeper B-trees and more I/O for the same data.

    ## Why it matters
    SQLite's default page size has been 4096 bytes since 3.12.0, matching the OS page and most storage
    sectors (sqlite.org, "PRAGMA page_size"). Older files made with 1024-byte pages keep them: each read
    returns less data, and B-trees have more levels.

    ## Threshold
    `page_size` below 4096.

    ## Fix
    Set the new size and rebuild with VACUUM; a database in WAL mode must switch to a rollback journal
    for the rebuild and back afterwards.
    """
    size = ctx.pragma_int("page_size", DEFAULT_PAGE_SIZE)
    if size >= DEFAULT_PAGE_SIZE:
        return
    wal = str(ctx.pragma("journal_mode") or "").lower() == "wal"
    statements = ["PRAGMA journal_mode = DELETE;"] if wal else []
    statements += [f"PRAGMA page_size = {DEFAULT_PAGE_SIZE};", "VACUUM;"]
    statements += ["PRAGMA journal_mode = WAL;"] if wal else []
    yield health_finding(
        PAGE_SIZE,
        measured="sample",
        subject=ctx.database,
        subject_kind="server",
        title=f"{ctx.database} uses {size}-byte pages (default {DEFAULT_PAGE_SIZE})",
        evidence={"page_size": size, "page_count": ctx.pragma_int("page_count"), "threshold_bytes": DEFAULT_PAGE_SIZE},
        rationale="Small pages mean more pages per table, deeper B-trees and more reads for the same data.",
        help_=f"Rebuild the file with page_size = {DEFAULT_PAGE_SIZE} (VACUUM).",
        fix=Fix(
            title=f"Rebuild with {DEFAULT_PAGE_SIZE}-byte pages",
            statements=statements,
            note="VACUUM rewrites the whole file and blocks writers while it runs.",
        ),
    )


RULES: tuple[tuple[RuleSpec, Check], ...] = (
    (QUICK_CHECK, integrity_check_failed),
    (FOREIGN_KEY_VIOLATIONS, foreign_key_violations),
    (FREELIST, large_freelist),
    (LARGE_WAL, large_wal_file),
    (JOURNAL_MODE, rollback_journal_mode),
    (PAGE_SIZE, small_page_size),
)
RULE_CHECKS: dict[str, str] = {
    "HLT080": "quick_check",
    "HLT081": "foreign_key_check",
    "HLT082": "freelist",
    "HLT083": "wal_size",
    "HLT084": "journal_mode",
    "HLT085": "page_size",
}
# The PRAGMAs each check reads: when one could not be read, the check is skipped.
_CHECK_PRAGMAS: dict[str, tuple[str, ...]] = {
    "freelist": ("freelist_count", "page_count", "page_size"),
    "wal_size": ("journal_mode", "wal_autocheckpoint", "page_size"),
    "journal_mode": ("journal_mode",),
    "page_size": ("page_size",),
}


def _skipped(ctx: SqliteHealthContext) -> dict[str, str]:
    skipped = unavailable_checks(ctx.snapshot)
    for check, pragmas in _CHECK_PRAGMAS.items():
        missing = [p for p in pragmas if ctx.pragma(p) is None]
        if missing and check not in skipped:
            skipped[check] = f"PRAGMA {', '.join(missing)} could not be read on this connection"
    return skipped


def _metrics(ctx: SqliteHealthContext) -> Metrics:
    free, pages = ctx.pragma_int("freelist_count"), ctx.pragma_int("page_count")
    quick = ctx.snapshot.get("quick_check")
    violations = ctx.snapshot.get("foreign_key_violations")
    return {
        "file_bytes": ctx.snapshot.get("file_bytes"),
        "page_size": ctx.pragma("page_size"),
        "page_count": pages,
        "freelist_count": free,
        "freelist_pct": pct(free, pages),
        "journal_mode": ctx.pragma("journal_mode"),
        "wal_bytes": ctx.snapshot.get("wal_bytes"),
        "wal_autocheckpoint": ctx.pragma("wal_autocheckpoint"),
        "auto_vacuum": ctx.pragma("auto_vacuum"),
        "quick_check": None if quick is None else ("ok" if quick == ["ok"] else f"{len(quick)} problem(s)"),
        "foreign_key_violations": None if violations is None else sum(int(v.get("count") or 0) for v in violations),
    }


def check_sqlite(snapshot: dict[str, Any], *, thresholds: SqliteThresholds | None = None) -> HealthReport:
    """Run every SQLite health rule whose data the snapshot has; say which checks were skipped and why."""
    ctx = SqliteHealthContext(snapshot, thresholds or SqliteThresholds())
    return health_report(
        "sqlite", snapshot, ctx, RULES, RULE_CHECKS, _skipped(ctx), stats_since=None, metrics=_metrics(ctx)
    )


__all__ = ["RULES", "RULE_CHECKS", "SqliteThresholds", "check_sqlite"]
