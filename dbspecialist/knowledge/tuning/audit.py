"""The live configuration audit: dangerous or contradictory settings on a running server (TUN001-TUN039).

`audit(engine, settings)` takes the settings exactly as the live adapter's `settings()` reports them
(name -> value) and returns findings in the shared `Finding` model. It is pure: no I/O, no clock, no
driver; the caller reads the settings (and, for Redis, the keyspace sample) first.

What each engine's settings can and cannot show:

- PostgreSQL: `pg_settings.setting`, raw (booleans `on`/`off`, sizes in the unit column). A standby
  reports `in_hot_standby = on` (PostgreSQL 14+), which makes the primary-only rules stay quiet even
  when the caller did not say `primary=False`.
- MySQL/MariaDB: SHOW GLOBAL VARIABLES. The `version` variable tells MariaDB from MySQL (MariaDB has
  no SET PERSIST). Whether the server is a primary is the caller's knowledge: `read_only` alone does
  not prove it.
- SQLite: PRAGMAs read on the adapter's own connection. `journal_mode = wal` is stored in the file, so
  every connection sees it; `synchronous` and the other journal modes are per connection, so the
  audit sees the values a fresh connection gets (the compile-time defaults), not what the application
  sets on its own connections. Pass the application's values in `settings` to audit those.
- MongoDB: getCmdLineOpts (`storage.journal.enabled`, `operationProfiling.mode`,
  `storage.wiredTiger.engineConfig.cacheSizeGB`) and getParameter. A profiling level set at run time
  with `db.setProfilingLevel()` is per database and invisible here; only the startup level is.
- Redis: CONFIG GET *. The cache/persistent rules need
  the keyspace sample (`Catalog.keyspace`): without it they stay quiet rather than guess.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from dbspecialist.adapters.catalog import Keyspace
from dbspecialist.knowledge.findings import Finding, Fix, RuleSpec, Severity
from dbspecialist.knowledge.schema.rules.cache_keys_without_ttl import looks_like_cache

__all__ = ["AUDIT_ENGINES", "AUDIT_RULES", "AuditContext", "audit"]

# The adapter engine names, plus the calculator's names for the same servers.
AUDIT_ENGINES: tuple[str, ...] = ("postgresql", "mysql", "sqlite", "mongodb", "redis")
ENGINE_ALIASES: dict[str, str] = {"postgres": "postgresql", "mariadb": "mysql"}

# A PostgreSQL server with more connection slots than this pays for them in memory and in snapshot
# cost even when idle (PostgreSQL wiki, "Number Of Database Connections"; pgtune's highest default is
# 300 for OLTP). Above it a pooler serves the same clients with far fewer backends.
PG_MAX_CONNECTIONS_HIGH = 500
# A Redis keyspace counts as "a cache" when cache-like key patterns (SCH080's word list) hold at least
# this share of the sampled keys, and as "persistent data" when patterns that are neither cache-like
# nor expiring hold at least this share (our own judgement: the majority decides).
REDIS_MAJORITY_PCT = 50.0
# The WiredTiger cache beyond this share of RAM leaves too little for the filesystem cache, indexes
# being built, connections and the OS (MongoDB docs, "WiredTiger Storage Engine": the default is
# max(50% of (RAM - 1 GB), 256 MB); our ceiling is 80%).
MONGO_CACHE_MAX_SHARE_OF_RAM = 0.8
# Redis maxmemory suggested when none is set: leave a quarter of RAM for the persistence fork's
# copy-on-write pages and fragmentation (expert-rules §1: 0.75-0.85 x RAM for a pure cache).
REDIS_CACHE_SHARE_OF_RAM = 0.75

# Redis `bind` addresses that mean "every interface" (redis.conf; an empty bind listens on all too).
_ALL_INTERFACES = frozenset({"*", "::*", "::", "0.0.0.0"})  # noqa: S104 - we detect it, we do not bind
_OFF = frozenset({"off", "0", "false", "no"})
_ON = frozenset({"on", "1", "true", "yes"})
_GB = 1024**3
_MB = 1024**2

Evidence = dict[str, int | float | str | bool | None]


@dataclass(frozen=True)
class AuditContext:
    """What one audit knows: the engine, the live settings (names lower-cased) and the caller's facts."""

    engine: str
    settings: Mapping[str, str]
    primary: bool = True
    keyspace: Keyspace | None = None
    version: str | None = None
    ram_gb: float | None = None

    def get(self, name: str) -> str | None:
        value = self.settings.get(name)
        return None if value is None else str(value).strip()

    def low(self, name: str) -> str | None:
        value = self.get(name)
        return None if value is None else value.lower()

    def is_off(self, name: str) -> bool:
        return self.low(name) in _OFF

    def is_on(self, name: str) -> bool:
        return self.low(name) in _ON

    @property
    def is_replica(self) -> bool:
        """The caller said so, or the server itself reports it (a PostgreSQL hot standby)."""
        if not self.primary:
            return True
        if self.engine == "postgresql":
            return self.is_on("in_hot_standby")
        return False

    @property
    def mariadb(self) -> bool:
        return "mariadb" in (self.low("version") or "") or "mariadb" in (self.version or "").lower()

    @property
    def mysql_version(self) -> tuple[int, ...]:
        text = self.get("version") or self.version or ""
        match = re.match(r"(\d+)\.(\d+)(?:\.(\d+))?", text)
        return tuple(int(g) for g in match.groups() if g is not None) if match else ()


Check = Callable[[AuditContext], Iterator[Finding]]


def _finding(
    spec: RuleSpec,
    subject: str,
    title: str,
    evidence: Evidence,
    rationale: str,
    help_: str,
    fix: Fix | None,
    severity: Severity | None = None,
) -> Finding:
    return Finding(
        rule_id=spec.id,
        name=spec.name,
        severity=severity or spec.severity,
        title=title,
        subject=subject,
        subject_kind="server",
        table=None,
        evidence=evidence,
        rationale=rationale,
        help=help_,
        fix=fix,
    )


def _pg_fix(name: str, value: str, *, restart: bool = False, note: str | None = None) -> Fix:
    apply = "restart the server (pg_ctl restart)" if restart else "SELECT pg_reload_conf();"
    statements = [f"ALTER SYSTEM SET {name} = {value};"]
    if not restart:
        statements.append("SELECT pg_reload_conf();")
    return Fix(
        title=f"Set {name} = {value}",
        statements=statements,
        safety="safe",
        note=note
        or (
            f"ALTER SYSTEM writes postgresql.auto.conf; {apply if restart else 'the reload applies it'}. "
            "A -c option on the server's command line would still win."
        ),
    )


def _mysql_fix(ctx: AuditContext, name: str, value: str, *, dynamic: bool = True, note: str | None = None) -> Fix:
    """SET PERSIST on MySQL 8.0+; SET GLOBAL plus my.cnf on MariaDB and older MySQL; my.cnf only if static."""
    persist = not ctx.mariadb and ctx.mysql_version >= (8, 0)
    cnf = f"# my.cnf, [mysqld] section:\n{name} = {value}"
    if not dynamic:
        statements = [cnf, "-- then restart the server"]
    elif persist:
        statements = [f"SET PERSIST {name} = {value};"]
    else:
        statements = [f"SET GLOBAL {name} = {value};", cnf]
    default_note = (
        "SET PERSIST applies it now and keeps it across restarts (mysqld-auto.cnf)."
        if dynamic and persist
        else "SET GLOBAL lasts until the next restart; the my.cnf line keeps it."
        if dynamic
        else "The variable is read-only at run time: it takes a restart."
    )
    return Fix(title=f"Set {name} = {value}", statements=statements, safety="safe", note=note or default_note)


# -- PostgreSQL -----------------------------------------------------------------------------------

PG_FSYNC_OFF = RuleSpec(
    id="TUN001",
    name="fsync-off",
    capability="tuning",
    engines=("postgresql",),
    severity=Severity.CRITICAL,
    status="preview",
    fix="always",
    live_only=True,
    summary="PostgreSQL runs with fsync = off: a crash or power loss can corrupt the whole cluster.",
)


def pg_fsync_off(ctx: AuditContext) -> Iterator[Finding]:
    """With fsync off, a power loss or OS crash can leave the cluster unrecoverably corrupt.

    ## Why is this bad?
    PostgreSQL's crash safety rests on the write-ahead log reaching disk before the data it
    describes. With `fsync = off` nothing is forced to disk, so after an OS crash or power cut the
    WAL and the data files can disagree in ways recovery cannot repair: not a few lost commits, but
    a damaged cluster (PostgreSQL docs, "Write Ahead Log" settings, fsync). It is only defensible for
    a throw-away cluster that is re-created from scratch after any crash.

    ## Example
    ```
    fsync = off
    ```

    ## Use instead
    ```sql
    ALTER SYSTEM SET fsync = on;
    SELECT pg_reload_conf();
    ```
    For faster commits that can only lose the last few transactions, use `synchronous_commit = off`.

    ## Fix safety
    Safe. Turning it back on does not repair damage from an earlier crash: if the server crashed while
    it was off, check the data (amcheck, a dump and restore) before trusting it.
    """
    if ctx.is_off("fsync"):
        yield _finding(
            PG_FSYNC_OFF,
            "fsync",
            "fsync is off, so an OS crash or power loss can corrupt the cluster beyond recovery",
            {"fsync": ctx.get("fsync"), "primary": not ctx.is_replica},
            (
                "Nothing is forced to disk, so after a crash the WAL and the data files can disagree in ways crash "
                "recovery cannot repair. This is corruption of the whole cluster, not a bounded loss of recent "
                "commits."
            ),
            "Turn fsync back on; use synchronous_commit = off if faster commits are the goal.",
            _pg_fix(
                "fsync",
                "on",
                note="The reload applies it. If the server crashed while fsync was off, "
                "verify the data (amcheck, pg_dump) before trusting it.",
            ),
        )


PG_FULL_PAGE_WRITES_OFF = RuleSpec(
    id="TUN002",
    name="full-page-writes-off",
    capability="tuning",
    engines=("postgresql",),
    severity=Severity.CRITICAL,
    status="preview",
    fix="always",
    live_only=True,
    summary="full_page_writes = off: a crash during a page write leaves torn pages WAL replay cannot fix.",
)


def pg_full_page_writes_off(ctx: AuditContext) -> Iterator[Finding]:
    """Without full-page writes, a page half-written at crash time is silently corrupt.

    ## Why is this bad?
    An 8 kB PostgreSQL page spans several disk sectors, and a crash can leave it half old, half new.
    Recovery repairs this by restoring the copy of the whole page that was logged the first time it
    changed after a checkpoint. With `full_page_writes = off` there is no such copy, so the torn page
    stays torn (PostgreSQL docs, "Write Ahead Log" settings, full_page_writes). Only a filesystem that
    guarantees atomic 8 kB writes (for example ZFS with its copy-on-write blocks) makes it safe.

    ## Example
    ```
    full_page_writes = off
    ```

    ## Use instead
    ```sql
    ALTER SYSTEM SET full_page_writes = on;
    SELECT pg_reload_conf();
    ```
    To cut the WAL volume it causes, use `wal_compression` and longer checkpoint intervals.

    ## Fix safety
    Safe; WAL volume grows after each checkpoint. Keep it off only on storage with atomic page writes.
    """
    if ctx.is_off("full_page_writes"):
        yield _finding(
            PG_FULL_PAGE_WRITES_OFF,
            "full_page_writes",
            "full_page_writes is off, so a crash during a page write leaves a torn page recovery cannot repair",
            {"full_page_writes": ctx.get("full_page_writes"), "wal_compression": ctx.get("wal_compression")},
            (
                "A page write interrupted by a crash leaves a page that is part old, part new; recovery fixes it "
                "from the full-page image in the WAL, which this setting stops writing. Only storage with atomic "
                "8 kB writes (e.g. ZFS) makes that safe."
            ),
            "Turn full_page_writes on; reduce WAL volume with wal_compression instead.",
            _pg_fix("full_page_writes", "on"),
        )


PG_SYNCHRONOUS_COMMIT_OFF = RuleSpec(
    id="TUN003",
    name="synchronous-commit-off-on-primary",
    capability="tuning",
    engines=("postgresql",),
    severity=Severity.MEDIUM,
    status="preview",
    fix="always",
    live_only=True,
    summary="synchronous_commit = off on a primary: a crash loses the last acknowledged commits.",
)


def pg_synchronous_commit_off(ctx: AuditContext) -> Iterator[Finding]:
    """A commit is acknowledged before it is on disk, so a crash loses recently confirmed transactions.

    ## Why is this bad?
    With `synchronous_commit = off` the server answers COMMIT before the WAL is flushed. A crash loses
    the transactions of the last moments (up to three times `wal_writer_delay`, 600 ms by default),
    although the client was told they succeeded. Unlike `fsync = off` the database stays consistent:
    the loss window is bounded and nothing is corrupted (PostgreSQL docs, "Asynchronous Commit").
    That trade can be right for some data, but it should be chosen per transaction, not server-wide.

    ## Example
    ```
    synchronous_commit = off
    ```

    ## Use instead
    ```sql
    ALTER SYSTEM SET synchronous_commit = on;
    SELECT pg_reload_conf();
    -- and, only where losing the last commits is acceptable:
    SET LOCAL synchronous_commit = off;
    ```

    ## Fix safety
    Safe; commits wait for the WAL flush again, which costs latency on slow disks.
    """
    if ctx.is_replica or ctx.low("synchronous_commit") != "off":
        return
    delay = ctx.get("wal_writer_delay")
    yield _finding(
        PG_SYNCHRONOUS_COMMIT_OFF,
        "synchronous_commit",
        "synchronous_commit is off on a primary, so a crash loses the last commits clients were told succeeded",
        {"synchronous_commit": "off", "wal_writer_delay_ms": int(delay) if delay and delay.isdigit() else delay},
        (
            "COMMIT returns before the WAL is flushed, so a crash loses up to about three wal_writer_delay "
            "intervals of acknowledged transactions. The database stays consistent (unlike fsync = off), but "
            "the loss is silent."
        ),
        "Turn it on server-wide and use SET LOCAL synchronous_commit = off only for data you can lose.",
        _pg_fix("synchronous_commit", "on"),
    )


PG_AUTOVACUUM_OFF = RuleSpec(
    id="TUN004",
    name="autovacuum-off",
    capability="tuning",
    engines=("postgresql",),
    severity=Severity.HIGH,
    status="preview",
    fix="always",
    live_only=True,
    summary="autovacuum (or track_counts, which it needs) is off: bloat grows and XID wraparound approaches.",
)


def pg_autovacuum_off(ctx: AuditContext) -> Iterator[Finding]:
    """Without autovacuum, dead rows pile up, statistics go stale and transaction IDs run toward wraparound.

    ## Why is this bad?
    Autovacuum removes dead row versions, refreshes planner statistics and freezes old rows before
    the 32-bit transaction counter wraps. With it off (or with `track_counts` off, which it needs to
    know what changed) tables and indexes bloat, plans degrade, and eventually the server stops
    accepting writes to protect itself from wraparound (PostgreSQL docs, "Routine Vacuuming").
    Anti-wraparound vacuums still start, but only at the last moment and all at once.

    ## Example
    ```
    autovacuum = off
    ```

    ## Use instead
    ```sql
    ALTER SYSTEM SET autovacuum = on;
    SELECT pg_reload_conf();
    ```
    To keep it off one table during a bulk load: `ALTER TABLE t SET (autovacuum_enabled = off)`.

    ## Fix safety
    Safe; the first runs after a long pause can take I/O for a while.
    """
    off = [name for name in ("autovacuum", "track_counts") if ctx.is_off(name)]
    if not off:
        return
    yield _finding(
        PG_AUTOVACUUM_OFF,
        off[0],
        f"{' and '.join(off)} {'is' if len(off) == 1 else 'are'} off, so dead rows pile up and "
        "transaction IDs run toward wraparound",
        {"autovacuum": ctx.get("autovacuum"), "track_counts": ctx.get("track_counts")},
        (
            "Autovacuum removes dead rows, keeps statistics fresh and freezes old rows before the transaction "
            "counter wraps; without it tables bloat, plans degrade and the server eventually refuses writes."
        ),
        "Turn autovacuum (and track_counts) on; disable it per table if a bulk load needs that.",
        Fix(
            title="Turn autovacuum on",
            statements=[f"ALTER SYSTEM SET {name} = on;" for name in off] + ["SELECT pg_reload_conf();"],
            safety="safe",
            note="The reload applies it; expect some vacuum I/O while it catches up.",
        ),
    )


PG_WAL_LEVEL_MINIMAL = RuleSpec(
    id="TUN005",
    name="wal-level-minimal-on-primary",
    capability="tuning",
    engines=("postgresql",),
    severity=Severity.LOW,
    status="preview",
    fix="always",
    live_only=True,
    summary="wal_level = minimal: no standby, WAL archive or point-in-time recovery can be built on this server.",
)


def pg_wal_level_minimal(ctx: AuditContext) -> Iterator[Finding]:
    """With wal_level minimal the WAL cannot feed a standby or an archive, so there is no point-in-time recovery.

    ## Why is this bad?
    `minimal` skips logging some bulk operations, which makes the WAL useless for replication, archiving
    and point-in-time recovery (PostgreSQL docs, wal_level). Adding any of them later needs a restart,
    usually at the moment it is urgent. `replica` is the default since PostgreSQL 10 and costs little.

    ## Example
    ```
    wal_level = minimal
    max_wal_senders = 0
    ```

    ## Use instead
    ```
    wal_level = replica        # restart required
    max_wal_senders = 10
    ```

    ## Fix safety
    Safe, but it takes a restart and WAL volume grows somewhat for bulk loads.
    """
    if ctx.is_replica or ctx.low("wal_level") != "minimal":
        return
    yield _finding(
        PG_WAL_LEVEL_MINIMAL,
        "wal_level",
        "wal_level is minimal, so no standby, WAL archive or point-in-time recovery is possible without a restart",
        {
            "wal_level": "minimal",
            "archive_mode": ctx.get("archive_mode"),
            "max_wal_senders": ctx.get("max_wal_senders"),
        },
        (
            "The minimal level leaves bulk operations out of the WAL, so it cannot be replayed elsewhere. Adding "
            "a standby or backups with point-in-time recovery later needs a restart."
        ),
        "Use wal_level = replica (the default) unless this server is disposable.",
        Fix(
            title="Set wal_level = replica",
            statements=["ALTER SYSTEM SET wal_level = replica;", "ALTER SYSTEM SET max_wal_senders = 10;"],
            safety="safe",
            note="wal_level and max_wal_senders take effect after a restart.",
        ),
    )


PG_MAX_CONNECTIONS_VERY_HIGH = RuleSpec(
    id="TUN006",
    name="max-connections-very-high",
    capability="tuning",
    engines=("postgresql",),
    severity=Severity.LOW,
    status="preview",
    fix="sometimes",
    live_only=True,
    summary=f"max_connections above {PG_MAX_CONNECTIONS_HIGH}: per-backend memory and snapshot cost; use a pooler.",
)


def pg_max_connections_very_high(ctx: AuditContext) -> Iterator[Finding]:
    """Thousands of connection slots cost memory and CPU even idle; a pooler serves the clients better.

    ## Why is this bad?
    Each PostgreSQL connection is a process with its own memory (work_mem per sort or hash node on top),
    and every snapshot has to look at all of them. Far more active connections than cores only adds
    contention, and a burst that uses all slots can exhaust RAM (PostgreSQL wiki, "Number Of Database
    Connections"). pgtune's highest default is 300.

    ## Example
    ```
    max_connections = 2000
    ```

    ## Use instead
    ```
    max_connections = 200
    # PgBouncer in front: pool_mode = transaction, default_pool_size ~ 2-4 x cores
    ```

    ## Fix safety
    Display only: lowering it refuses clients beyond the new limit until a pooler is in place; restart.
    """
    value = ctx.get("max_connections")
    if value is None or not value.isdigit() or int(value) <= PG_MAX_CONNECTIONS_HIGH:
        return
    yield _finding(
        PG_MAX_CONNECTIONS_VERY_HIGH,
        "max_connections",
        f"max_connections is {value}, so a burst of connections can exhaust memory and slow every snapshot",
        {
            "max_connections": int(value),
            "threshold": PG_MAX_CONNECTIONS_HIGH,
            "shared_buffers": ctx.get("shared_buffers"),
        },
        (
            "Every connection is a process with its own memory, and each snapshot scans all of them; far more "
            "active connections than cores add contention rather than throughput."
        ),
        "Put a pooler (PgBouncer, transaction mode) in front and lower max_connections.",
        Fix(
            title="Pool connections and lower max_connections",
            statements=[f"ALTER SYSTEM SET max_connections = {PG_MAX_CONNECTIONS_HIGH // 2};"],
            safety="display-only",
            note="Takes a restart; deploy the pooler first or clients beyond the limit are refused.",
        ),
    )


PG_ZERO_DAMAGED_PAGES = RuleSpec(
    id="TUN007",
    name="zero-damaged-pages-on",
    capability="tuning",
    engines=("postgresql",),
    severity=Severity.HIGH,
    status="preview",
    fix="always",
    live_only=True,
    summary="zero_damaged_pages = on: damaged pages are silently replaced by empty ones, losing their rows.",
)


def pg_zero_damaged_pages(ctx: AuditContext) -> Iterator[Finding]:
    """zero_damaged_pages turns a detectable corruption into silent data loss.

    ## Why is this bad?
    Normally a page with a damaged header stops the query with an error, so the damage is noticed and
    can be restored from a backup. With `zero_damaged_pages = on` PostgreSQL zeroes the page in memory
    and carries on, so the rows on it vanish without an error, and a later write makes that permanent
    (PostgreSQL docs, "Developer Options"). It is a last-resort salvage tool, never a standing setting.

    ## Example
    ```
    zero_damaged_pages = on
    ```

    ## Use instead
    ```sql
    ALTER SYSTEM SET zero_damaged_pages = off;
    SELECT pg_reload_conf();
    ```

    ## Fix safety
    Safe.
    """
    if ctx.is_on("zero_damaged_pages"):
        yield _finding(
            PG_ZERO_DAMAGED_PAGES,
            "zero_damaged_pages",
            "zero_damaged_pages is on, so damaged pages are silently emptied and their rows lost",
            {"zero_damaged_pages": ctx.get("zero_damaged_pages")},
            (
                "Instead of an error that reveals the corruption, the page is zeroed and queries carry on without "
                "its rows; the next write makes the loss permanent."
            ),
            "Turn it off; use it only during a one-off salvage.",
            _pg_fix("zero_damaged_pages", "off"),
        )


# -- MySQL / MariaDB ------------------------------------------------------------------------------

MYSQL_FLUSH_LOG_NOT_1 = RuleSpec(
    id="TUN010",
    name="innodb-flush-log-at-trx-commit-not-1",
    capability="tuning",
    engines=("mysql",),
    severity=Severity.HIGH,
    status="preview",
    fix="always",
    live_only=True,
    summary="innodb_flush_log_at_trx_commit is not 1 on a primary: a crash loses up to a second of commits.",
)


def mysql_flush_log_not_1(ctx: AuditContext) -> Iterator[Finding]:
    """Commits are acknowledged before the redo log is on disk, so a crash loses the last second of them.

    ## Why is this bad?
    With 1 (the default) InnoDB writes and flushes the redo log at every commit. With 2 it writes at
    commit but flushes about once a second, so a mysqld crash loses nothing but an OS crash or power
    loss loses up to a second of commits. With 0 it neither writes nor flushes at commit, so even a
    mysqld crash loses up to a second (MySQL docs, innodb_flush_log_at_trx_commit). On a primary the
    lost commits may also already be in the binary log, so replicas end up ahead of it.

    ## Example
    ```
    innodb_flush_log_at_trx_commit = 2
    ```

    ## Use instead
    ```sql
    SET PERSIST innodb_flush_log_at_trx_commit = 1;   -- MariaDB: SET GLOBAL ... and my.cnf
    ```

    ## Fix safety
    Safe; each commit waits for a flush again, which costs latency on slow disks (group commit helps).
    """
    value = ctx.get("innodb_flush_log_at_trx_commit")
    if ctx.is_replica or value is None or value == "1":
        return
    loses = (
        "a mysqld crash alone loses up to about a second of commits"
        if value == "0"
        else "an OS crash or power loss loses up to about a second of commits (a mysqld crash alone does not)"
    )
    yield _finding(
        MYSQL_FLUSH_LOG_NOT_1,
        "innodb_flush_log_at_trx_commit",
        f"innodb_flush_log_at_trx_commit is {value} on a primary: {loses}",
        {
            "innodb_flush_log_at_trx_commit": value,
            "innodb_flush_log_at_timeout": ctx.get("innodb_flush_log_at_timeout"),
            "sync_binlog": ctx.get("sync_binlog"),
        },
        (
            "With 0 the redo log is neither written nor flushed at commit; with 2 it is written but flushed only "
            "about once a second. Either way acknowledged commits can vanish, and on a primary replicas may "
            "already have them."
        ),
        "Set it to 1 on the primary; 2 is a reasonable trade only on replicas that can be rebuilt.",
        _mysql_fix(ctx, "innodb_flush_log_at_trx_commit", "1"),
    )


MYSQL_SYNC_BINLOG = RuleSpec(
    id="TUN011",
    name="sync-binlog-not-1-on-primary",
    capability="tuning",
    engines=("mysql",),
    severity=Severity.HIGH,
    status="preview",
    fix="always",
    live_only=True,
    summary="sync_binlog is not 1 on a primary with the binary log on: a crash loses binlog events replicas need.",
)


def mysql_sync_binlog(ctx: AuditContext) -> Iterator[Finding]:
    """The binary log is not flushed at commit, so after a crash it can miss transactions InnoDB kept.

    ## Why is this bad?
    With `sync_binlog = 0` the OS decides when the binary log reaches disk; with N > 1 it is flushed
    every N commit groups. An OS crash or power loss then loses binlog events for transactions that
    InnoDB committed, so replicas and point-in-time recovery miss them and drift from the primary
    (MySQL docs, sync_binlog). MySQL 8.0 defaults to 1; MariaDB still defaults to 0.

    ## Example
    ```
    log_bin = ON
    sync_binlog = 0
    ```

    ## Use instead
    ```sql
    SET PERSIST sync_binlog = 1;   -- MariaDB: SET GLOBAL sync_binlog = 1; and my.cnf
    ```

    ## Fix safety
    Safe; one more flush per commit group (cheap on SSDs with group commit).
    """
    value = ctx.get("sync_binlog")
    if ctx.is_replica or not ctx.is_on("log_bin") or value is None or not value.isdigit() or value == "1":
        return
    severity = Severity.HIGH if value == "0" else Severity.MEDIUM
    yield _finding(
        MYSQL_SYNC_BINLOG,
        "sync_binlog",
        (
            "sync_binlog is 0 on a primary with the binary log on, so a crash can lose binlog events replicas need"
            if value == "0"
            else f"sync_binlog is {value} on a primary, so a crash can lose up to {value} commit groups of binlog"
        ),
        {"sync_binlog": int(value), "log_bin": ctx.get("log_bin")},
        (
            "The binary log is not flushed at each commit, so after an OS crash it can miss transactions InnoDB "
            "kept; replicas and point-in-time recovery then silently diverge from the primary."
        ),
        "Set sync_binlog = 1 on the primary.",
        _mysql_fix(ctx, "sync_binlog", "1"),
        severity,
    )


MYSQL_DOUBLEWRITE_OFF = RuleSpec(
    id="TUN012",
    name="innodb-doublewrite-off",
    capability="tuning",
    engines=("mysql",),
    severity=Severity.HIGH,
    status="preview",
    fix="always",
    live_only=True,
    summary="innodb_doublewrite is off (or detect-only): a crash mid-write leaves torn pages InnoDB cannot repair.",
)


def mysql_doublewrite_off(ctx: AuditContext) -> Iterator[Finding]:
    """Without the doublewrite buffer, a page torn by a crash cannot be recovered.

    ## Why is this bad?
    InnoDB pages (16 kB) are larger than what the disk writes atomically. The doublewrite buffer keeps
    a good copy of each page until its in-place write completes, so crash recovery can replace a torn
    page. With it off (or MySQL 8.0.30+'s DETECT_ONLY, which keeps no page contents) a torn page is
    detected at best and the table is damaged (MySQL docs, "Doublewrite Buffer"). Only storage with
    atomic 16 kB writes (e.g. ZFS, some FusionIO/NVMe setups) makes it safe to drop.

    ## Example
    ```
    innodb_doublewrite = OFF
    ```

    ## Use instead
    ```
    [mysqld]
    innodb_doublewrite = ON
    ```

    ## Fix safety
    Safe; needs a restart (MySQL 8.0.30+ can switch between the enabled modes online).
    """
    value = ctx.low("innodb_doublewrite")
    if value not in _OFF | {"detect_only"}:
        return
    yield _finding(
        MYSQL_DOUBLEWRITE_OFF,
        "innodb_doublewrite",
        f"innodb_doublewrite is {ctx.get('innodb_doublewrite')}, so a crash during a page write leaves a torn page",
        {"innodb_doublewrite": ctx.get("innodb_doublewrite")},
        (
            "A 16 kB InnoDB page is not written atomically; the doublewrite buffer keeps the copy recovery uses "
            "to repair a torn page. Without it the page, and the table, stay damaged."
        ),
        "Turn the doublewrite buffer on unless the storage guarantees atomic 16 kB writes.",
        _mysql_fix(ctx, "innodb_doublewrite", "ON", dynamic=False),
    )


MYSQL_QUERY_CACHE_ON = RuleSpec(
    id="TUN013",
    name="query-cache-enabled",
    capability="tuning",
    engines=("mysql",),
    severity=Severity.MEDIUM,
    status="preview",
    fix="always",
    live_only=True,
    summary="The query cache is on: one global mutex and table-wide invalidation throttle concurrent writes.",
)


def mysql_query_cache_on(ctx: AuditContext) -> Iterator[Finding]:
    """The query cache serializes queries on one lock and is emptied by every write to a table.

    ## Why is this bad?
    Every cached result of a table is thrown away by any write to it, and lookups, inserts and
    invalidations all take one global lock. On a multi-core server with writes this costs more than
    it saves; MySQL deprecated it in 5.7.20 and removed it in 8.0, and MariaDB disables it by default
    since 10.1.7 (MySQL docs, "The MySQL Query Cache"; MariaDB KB, "Query Cache").

    ## Example
    ```
    query_cache_type = ON
    query_cache_size = 64M
    ```

    ## Use instead
    ```
    query_cache_type = OFF
    query_cache_size = 0
    ```
    Cache in the application (or Redis) where results can be invalidated precisely.

    ## Fix safety
    Safe; queries that relied on cache hits hit InnoDB's buffer pool instead.
    """
    kind = ctx.low("query_cache_type")
    size = ctx.get("query_cache_size")
    if kind not in ("on", "1") or (size is not None and size.isdigit() and int(size) == 0):
        return
    fix = _mysql_fix(ctx, "query_cache_type", "OFF")
    size_fix = _mysql_fix(ctx, "query_cache_size", "0")
    yield _finding(
        MYSQL_QUERY_CACHE_ON,
        "query_cache_type",
        "the query cache is on, so every query and write contends on one global lock",
        {
            "query_cache_type": ctx.get("query_cache_type"),
            "query_cache_size": int(size) if size and size.isdigit() else size,
        },
        (
            "Any write to a table empties its cached results, and every lookup and invalidation takes one global "
            "lock; with concurrency and writes it slows the server down. MySQL 8.0 removed it."
        ),
        "Turn the query cache off and cache in the application where invalidation is precise.",
        Fix(
            title="Turn the query cache off",
            statements=fix.statements + size_fix.statements,
            safety="safe",
            note=fix.note,
        ),
    )


MYSQL_NAME_RESOLVE = RuleSpec(
    id="TUN014",
    name="skip-name-resolve-off",
    capability="tuning",
    engines=("mysql",),
    severity=Severity.LOW,
    status="preview",
    fix="always",
    live_only=True,
    summary="skip_name_resolve is off: every new connection waits on a reverse DNS lookup.",
)


def mysql_name_resolve(ctx: AuditContext) -> Iterator[Finding]:
    """Every new connection does a reverse DNS lookup, so a slow DNS server stalls logins.

    ## Why is this bad?
    Without `skip_name_resolve` the server resolves each client's address to a host name to match
    accounts like 'app'@'web1.example'. A slow or failing DNS server then delays or blocks new
    connections, and the host cache can fill up (MySQL docs, "DNS Lookups and the Host Cache").

    ## Example
    ```
    skip_name_resolve = OFF
    ```

    ## Use instead
    ```
    [mysqld]
    skip_name_resolve = ON
    ```

    ## Fix safety
    Display only: accounts defined by host name stop matching; recreate them by IP address or
    network (e.g. 'app'@'10.0.%') first. Needs a restart.
    """
    if not ctx.is_off("skip_name_resolve"):
        return
    fix = _mysql_fix(ctx, "skip_name_resolve", "ON", dynamic=False)
    yield _finding(
        MYSQL_NAME_RESOLVE,
        "skip_name_resolve",
        "skip_name_resolve is off, so every new connection waits on a reverse DNS lookup",
        {"skip_name_resolve": ctx.get("skip_name_resolve")},
        (
            "Each login resolves the client address to a host name; a slow or failing DNS server delays or "
            "blocks new connections."
        ),
        "Turn skip_name_resolve on after moving host-name accounts to IP addresses or networks.",
        fix.model_copy(
            update={"safety": "display-only", "note": "Accounts defined by host name stop matching; restart needed."}
        ),
    )


# -- SQLite ---------------------------------------------------------------------------------------

# PRAGMA synchronous as a number or a name (SQLite docs, "PRAGMA synchronous").
_SQLITE_SYNC = {"0": "OFF", "1": "NORMAL", "2": "FULL", "3": "EXTRA"}
_SQLITE_SYNC.update({v.lower(): v for v in list(_SQLITE_SYNC.values())})


def _sqlite_sync(ctx: AuditContext) -> str | None:
    value = ctx.low("synchronous")
    return None if value is None else _SQLITE_SYNC.get(value)


SQLITE_SYNCHRONOUS_OFF = RuleSpec(
    id="TUN020",
    name="sqlite-synchronous-off",
    capability="tuning",
    engines=("sqlite",),
    severity=Severity.HIGH,
    status="preview",
    fix="always",
    live_only=True,
    summary="PRAGMA synchronous = OFF: a power loss or OS crash can corrupt the database file.",
)


def sqlite_synchronous_off(ctx: AuditContext) -> Iterator[Finding]:
    """SQLite never waits for the disk, so a power loss can corrupt the database file.

    ## Why is this bad?
    With `synchronous = OFF` SQLite hands data to the OS and carries on without syncing, so a power
    loss or OS crash can leave the file with half a transaction applied: corruption, not only lost
    commits (SQLite docs, "PRAGMA synchronous"). An application crash alone is safe. The setting is
    per connection, so every connection that writes has to set it right.

    ## Example
    ```sql
    PRAGMA synchronous = OFF;
    ```

    ## Use instead
    ```sql
    PRAGMA journal_mode = WAL;
    PRAGMA synchronous = NORMAL;   -- durable up to the last checkpoint in WAL mode; FULL otherwise
    ```

    ## Fix safety
    Safe; commits wait for fsync again. It has to be set on every connection that writes.
    """
    if _sqlite_sync(ctx) != "OFF":
        return
    journal = ctx.low("journal_mode")
    target = "NORMAL" if journal == "wal" else "FULL"
    yield _finding(
        SQLITE_SYNCHRONOUS_OFF,
        "PRAGMA synchronous",
        "PRAGMA synchronous is OFF, so a power loss or OS crash can corrupt the database file",
        {"synchronous": ctx.get("synchronous"), "journal_mode": journal},
        (
            "SQLite does not wait for the disk at commit, so after a power loss the file can hold part of a "
            "transaction. It is per connection: every connection that writes must set it."
        ),
        f"Set PRAGMA synchronous = {target} on every connection"
        + (" (NORMAL is safe in WAL mode)." if target == "NORMAL" else " (or switch to WAL with NORMAL)."),
        Fix(
            title=f"Set PRAGMA synchronous = {target}",
            statements=[f"PRAGMA synchronous = {target};"],
            safety="safe",
            note="Per connection: put it where the application opens connections (pool init hook).",
        ),
    )


SQLITE_JOURNAL_OFF = RuleSpec(
    id="TUN021",
    name="sqlite-journal-mode-unsafe",
    capability="tuning",
    engines=("sqlite",),
    severity=Severity.HIGH,
    status="preview",
    fix="always",
    live_only=True,
    summary="PRAGMA journal_mode = OFF or MEMORY: a crash in the middle of a write can corrupt the database.",
)


def sqlite_journal_off(ctx: AuditContext) -> Iterator[Finding]:
    """Without an on-disk journal a crash mid-transaction leaves the database half-written.

    ## Why is this bad?
    The rollback journal (or the WAL) is how SQLite undoes a transaction cut short. With
    `journal_mode = OFF` there is none, and ROLLBACK itself becomes undefined; with `MEMORY` the journal
    dies with the process. A crash of the application or the machine during a write then leaves the
    database corrupt (SQLite docs, "PRAGMA journal_mode").

    ## Example
    ```sql
    PRAGMA journal_mode = MEMORY;
    ```

    ## Use instead
    ```sql
    PRAGMA journal_mode = WAL;   -- persistent: stored in the database file
    ```

    ## Fix safety
    Safe. WAL needs the database on a local filesystem (shared memory), not a network share.
    """
    journal = ctx.low("journal_mode")
    if journal not in ("off", "memory"):
        return
    yield _finding(
        SQLITE_JOURNAL_OFF,
        "PRAGMA journal_mode",
        f"PRAGMA journal_mode is {journal.upper()}, so a crash during a write can corrupt the database",
        {"journal_mode": journal, "synchronous": ctx.get("synchronous")},
        (
            "The journal is how SQLite undoes an interrupted transaction; with none (OFF) or one that lives only "
            "in memory, a crash mid-write leaves the file half-updated."
        ),
        "Use journal_mode = WAL (or DELETE) so interrupted transactions can be rolled back.",
        Fix(
            title="Use the WAL journal",
            statements=["PRAGMA journal_mode = WAL;"],
            safety="safe",
            note="WAL is remembered by the database file; it needs a local filesystem.",
        ),
    )


SQLITE_NORMAL_WITHOUT_WAL = RuleSpec(
    id="TUN022",
    name="sqlite-synchronous-normal-without-wal",
    capability="tuning",
    engines=("sqlite",),
    severity=Severity.LOW,
    status="preview",
    fix="always",
    live_only=True,
    summary="synchronous = NORMAL with a rollback journal: a power loss at the wrong moment can corrupt the file.",
)


def sqlite_normal_without_wal(ctx: AuditContext) -> Iterator[Finding]:
    """NORMAL is safe in WAL mode but not with a rollback journal.

    ## Why is this bad?
    In WAL mode `synchronous = NORMAL` can only lose the transactions since the last checkpoint. With a
    rollback journal (DELETE, TRUNCATE, PERSIST) it skips a sync the journal relies on, so a power loss
    at just the wrong moment can corrupt the database (SQLite docs, "PRAGMA synchronous").

    ## Example
    ```sql
    PRAGMA journal_mode = DELETE;
    PRAGMA synchronous = NORMAL;
    ```

    ## Use instead
    ```sql
    PRAGMA journal_mode = WAL;
    PRAGMA synchronous = NORMAL;
    ```

    ## Fix safety
    Safe; WAL needs a local filesystem.
    """
    journal = ctx.low("journal_mode")
    if _sqlite_sync(ctx) != "NORMAL" or journal in (None, "wal", "off", "memory"):
        return
    yield _finding(
        SQLITE_NORMAL_WITHOUT_WAL,
        "PRAGMA synchronous",
        f"synchronous = NORMAL with journal_mode = {journal.upper()}, so a power loss can corrupt the file",
        {"synchronous": ctx.get("synchronous"), "journal_mode": journal},
        (
            "NORMAL skips a sync the rollback journal depends on; only in WAL mode is its worst case the loss "
            "of recent commits rather than corruption."
        ),
        "Switch to WAL (keeping NORMAL), or use synchronous = FULL with the rollback journal.",
        Fix(
            title="Use WAL with synchronous = NORMAL",
            statements=["PRAGMA journal_mode = WAL;", "PRAGMA synchronous = NORMAL;"],
            safety="safe",
            note="synchronous is per connection; journal_mode = WAL is stored in the file.",
        ),
    )


# -- MongoDB --------------------------------------------------------------------------------------

MONGO_JOURNAL_OFF = RuleSpec(
    id="TUN025",
    name="mongodb-journal-disabled",
    capability="tuning",
    engines=("mongodb",),
    severity=Severity.HIGH,
    status="preview",
    fix="always",
    live_only=True,
    summary="mongod runs without a journal: a crash loses every write since the last checkpoint (up to 60 s).",
)


def mongo_journal_off(ctx: AuditContext) -> Iterator[Finding]:
    """Without the journal a crash rolls the data back to the last checkpoint, up to a minute ago.

    ## Why is this bad?
    WiredTiger writes a consistent checkpoint every 60 seconds; the journal covers the writes in
    between. With `storage.journal.enabled: false` a crash loses every write since the checkpoint,
    including ones acknowledged with `w: "majority"`, and a replica set member cannot use it for
    `j: true` (MongoDB docs, "Journaling"). MongoDB 6.1+ no longer lets it be turned off.

    ## Example
    ```yaml
    storage:
      journal:
        enabled: false
    ```

    ## Use instead
    ```yaml
    storage:
      journal:
        enabled: true
    ```

    ## Fix safety
    Safe; needs a mongod restart.
    """
    names = [n for n in ("storage.journal.enabled", "journal", "nojournal") if n in ctx.settings]
    disabled = ctx.is_off("storage.journal.enabled") or ctx.is_on("nojournal")
    if not names or not disabled:
        return
    yield _finding(
        MONGO_JOURNAL_OFF,
        "storage.journal.enabled",
        "journaling is disabled, so a crash loses every write since the last checkpoint (up to a minute)",
        {n: ctx.get(n) for n in names},
        (
            "WiredTiger checkpoints every 60 seconds and the journal covers the writes in between; without it a "
            "crash silently rolls acknowledged writes back to the last checkpoint."
        ),
        "Enable the journal (the default) and restart mongod.",
        Fix(
            title="Enable journaling",
            statements=["# mongod.conf", "storage:", "  journal:", "    enabled: true"],
            safety="safe",
            note="Remove --nojournal from the command line too; takes a restart.",
        ),
    )


MONGO_CACHE_TOO_BIG = RuleSpec(
    id="TUN026",
    name="wiredtiger-cache-too-big",
    capability="tuning",
    engines=("mongodb",),
    severity=Severity.HIGH,
    status="preview",
    fix="always",
    live_only=True,
    summary=f"The WiredTiger cache is set above {MONGO_CACHE_MAX_SHARE_OF_RAM:.0%} of RAM: risk of swapping or OOM.",
)


def mongo_cache_too_big(ctx: AuditContext) -> Iterator[Finding]:
    """A WiredTiger cache close to RAM leaves nothing for connections, index builds and the OS cache.

    ## Why is this bad?
    mongod uses memory beyond the WiredTiger cache: per connection (about 1 MB each), for aggregations
    and index builds, and the OS page cache holds the compressed data files. The default cache is the
    larger of 50% of (RAM - 1 GB) and 256 MB for that reason (MongoDB docs, "WiredTiger Storage
    Engine"). Set far above it, the server swaps or is killed by the OOM killer. Needs the machine's RAM
    (`ram_gb`); without it the rule stays quiet.

    ## Example
    ```yaml
    storage:
      wiredTiger:
        engineConfig:
          cacheSizeGB: 15      # on a 16 GB machine
    ```

    ## Use instead
    ```yaml
    storage:
      wiredTiger:
        engineConfig:
          cacheSizeGB: 7.5     # or leave it unset: the server's default rule
    ```

    ## Fix safety
    Safe (`wiredTigerEngineRuntimeConfig` changes it online); reads may hit disk more often.
    """
    raw = ctx.get("storage.wiredtiger.engineconfig.cachesizegb")
    if raw is None or ctx.ram_gb is None or ctx.ram_gb <= 0:
        return
    try:
        cache_gb = float(raw)
    except ValueError:
        return
    limit = ctx.ram_gb * MONGO_CACHE_MAX_SHARE_OF_RAM
    if cache_gb <= limit:
        return
    default_gb = round(max(0.5 * (ctx.ram_gb - 1), 0.25), 2)
    yield _finding(
        MONGO_CACHE_TOO_BIG,
        "storage.wiredTiger.engineConfig.cacheSizeGB",
        f"the WiredTiger cache is {cache_gb:g} GB on a {ctx.ram_gb:g} GB machine, leaving too little for "
        "connections, index builds and the OS",
        {"cache_size_gb": cache_gb, "ram_gb": ctx.ram_gb, "limit_gb": round(limit, 2), "server_default_gb": default_gb},
        (
            "mongod needs memory outside the cache for connections, sorts, index builds, and the OS page cache "
            "holds the data files; a cache near RAM leads to swapping or the OOM killer."
        ),
        f"Lower cacheSizeGB to about {default_gb:g} GB (the server's default rule) or remove the override.",
        Fix(
            title=f"Set the WiredTiger cache to {default_gb:g} GB",
            statements=[
                "db.adminCommand({setParameter: 1, wiredTigerEngineRuntimeConfig: "
                f'"cache_size={int(default_gb * 1024)}M"}})',
                "# mongod.conf: storage.wiredTiger.engineConfig.cacheSizeGB: " + f"{default_gb:g}",
            ],
            safety="safe",
            note="The runtime change lasts until restart; the mongod.conf line keeps it.",
        ),
    )


MONGO_PROFILER_ALL = RuleSpec(
    id="TUN027",
    name="mongodb-profiler-level-2",
    capability="tuning",
    engines=("mongodb",),
    severity=Severity.MEDIUM,
    status="preview",
    fix="always",
    live_only=True,
    summary="The database profiler records every operation (level 2 / mode all): extra writes on every request.",
)


def mongo_profiler_all(ctx: AuditContext) -> Iterator[Finding]:
    """Profiling level 2 writes a document for every operation, slowing the whole server.

    ## Why is this bad?
    At level 2 (`operationProfiling.mode: all`) mongod writes every operation to `system.profile`, a
    capped collection per database: an extra write per request, cache churn, and the slow operations
    one is looking for are quickly pushed out (MongoDB docs, "Database Profiler"). Level 1 with a
    `slowms` threshold gives the useful part. Only the startup level is visible to this audit; one set
    with `db.setProfilingLevel()` lives per database.

    ## Example
    ```yaml
    operationProfiling:
      mode: all
    ```

    ## Use instead
    ```yaml
    operationProfiling:
      mode: slowOp
      slowOpThresholdMs: 100
    ```

    ## Fix safety
    Safe; `db.setProfilingLevel(1, { slowms: 100 })` applies it per database without a restart.
    """
    mode = ctx.low("operationprofiling.mode")
    if mode not in ("all", "2"):
        return
    yield _finding(
        MONGO_PROFILER_ALL,
        "operationProfiling.mode",
        "the profiler records every operation (level 2), adding a write to each request",
        {"operationProfiling.mode": mode, "slowms": ctx.get("operationprofiling.slowopthresholdms")},
        (
            "Every operation is written to system.profile, which costs a write per request and flushes out the "
            "slow operations worth keeping."
        ),
        "Profile slow operations only (level 1 with slowms).",
        Fix(
            title="Profile only slow operations",
            statements=[
                "db.setProfilingLevel(1, { slowms: 100 })",
                "# mongod.conf: operationProfiling: { mode: slowOp, slowOpThresholdMs: 100 }",
            ],
            safety="safe",
            note="setProfilingLevel acts on the current database; run it in each profiled database.",
        ),
    )


# -- Redis ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Keys:
    sampled: int
    cache_pct: float
    persistent_pct: float
    cache_patterns: tuple[str, ...]
    ttl_share_pct: float


def _keys(keyspace: Keyspace | None) -> _Keys | None:
    """Shares of the sampled keys in cache-like patterns and in non-cache patterns that never expire."""
    if keyspace is None:
        return None
    sampled = sum(p.sampled_keys for p in keyspace.patterns)
    if sampled == 0:
        return None
    cache = [p for p in keyspace.patterns if looks_like_cache(p.pattern)]
    persistent = [p for p in keyspace.patterns if not looks_like_cache(p.pattern) and p.ttl_share_pct == 0]
    with_ttl = sum(p.sampled_keys * p.ttl_share_pct for p in keyspace.patterns) / sampled
    return _Keys(
        sampled=sampled,
        cache_pct=round(100 * sum(p.sampled_keys for p in cache) / sampled, 1),
        persistent_pct=round(100 * sum(p.sampled_keys for p in persistent) / sampled, 1),
        cache_patterns=tuple(sorted(p.pattern for p in cache)),
        ttl_share_pct=round(with_ttl, 1),
    )


def _redis_bytes(value: str | None) -> int | None:
    """CONFIG GET maxmemory answers in bytes; accept redis.conf units too (1k = 1000, 1kb = 1024)."""
    if value is None:
        return None
    match = re.fullmatch(r"(\d+)\s*([kmg]b?)?", value.strip().lower())
    if not match:
        return None
    units = {"": 1, "k": 1000, "kb": 1024, "m": 1000**2, "mb": _MB, "g": 1000**3, "gb": _GB}
    return int(match.group(1)) * units[match.group(2) or ""]


def _redis_limit(ctx: AuditContext) -> str:
    if ctx.ram_gb:
        return f"{int(ctx.ram_gb * REDIS_CACHE_SHARE_OF_RAM * 1024)}mb"
    return "<0.75 x RAM, e.g. 6gb>"


def _redis_evidence(ctx: AuditContext, keys: _Keys) -> Evidence:
    return {
        "maxmemory": _redis_bytes(ctx.get("maxmemory")),
        "maxmemory_policy": ctx.low("maxmemory-policy"),
        "sampled_keys": keys.sampled,
        "cache_like_share_pct": keys.cache_pct,
        "ttl_share_pct": keys.ttl_share_pct,
        "example_pattern": keys.cache_patterns[0] if keys.cache_patterns else None,
    }


REDIS_NO_MAXMEMORY_CACHE = RuleSpec(
    id="TUN030",
    name="redis-cache-without-maxmemory",
    capability="tuning",
    engines=("redis",),
    severity=Severity.HIGH,
    status="preview",
    fix="always",
    live_only=True,
    summary="maxmemory 0 (no limit) while most sampled keys are cache data: memory grows until the OOM killer.",
)


def redis_no_maxmemory_cache(ctx: AuditContext) -> Iterator[Finding]:
    """A cache without a memory limit never evicts: it grows until the machine swaps or kills Redis.

    ## Why is this bad?
    `maxmemory 0` means no limit, and eviction only happens at the limit, so the eviction policy never
    acts (Redis docs, "Key eviction"). A cache keeps growing with traffic until the kernel's OOM killer
    ends the process, taking every key with it. A fork for persistence can double the footprint on the
    way (copy-on-write), so the limit must leave room for it.

    ## Example
    ```
    maxmemory 0
    # keys: cache:*, session:* ...
    ```

    ## Use instead
    ```
    CONFIG SET maxmemory 6gb          # ~0.75 x RAM for a cache
    CONFIG SET maxmemory-policy allkeys-lfu
    CONFIG REWRITE
    ```

    ## Fix safety
    Display only: the limit has to fit the machine; allkeys-* may evict any key.
    """
    keys = _keys(ctx.keyspace)
    if keys is None or _redis_bytes(ctx.get("maxmemory")) != 0 or keys.cache_pct < REDIS_MAJORITY_PCT:
        return
    statements = [f"CONFIG SET maxmemory {_redis_limit(ctx)}"]
    if ctx.low("maxmemory-policy") in (None, "noeviction"):
        statements.append("CONFIG SET maxmemory-policy allkeys-lfu")
    statements.append("CONFIG REWRITE")
    yield _finding(
        REDIS_NO_MAXMEMORY_CACHE,
        "maxmemory",
        f"maxmemory is 0 (no limit) while {keys.cache_pct:g} % of the sampled keys are cache data, so memory "
        "grows until the OOM killer stops Redis",
        _redis_evidence(ctx, keys),
        (
            "Eviction only starts at the memory limit, so without one the cache grows with traffic until the "
            "machine swaps or the kernel kills the process, losing every key."
        ),
        "Set maxmemory (about 0.75 x RAM for a cache, less with persistence) and an allkeys eviction policy.",
        Fix(
            title="Limit memory and evict the least used keys",
            statements=statements,
            safety="display-only",
            note="Size the limit for this machine; CONFIG REWRITE persists it only if Redis runs from a config file.",
        ),
    )


REDIS_NOEVICTION_CACHE = RuleSpec(
    id="TUN031",
    name="redis-cache-with-noeviction",
    capability="tuning",
    engines=("redis",),
    severity=Severity.HIGH,
    status="preview",
    fix="always",
    live_only=True,
    summary="maxmemory-policy noeviction on a cache: at the limit every write fails with OOM instead of evicting.",
)


def redis_noeviction_cache(ctx: AuditContext) -> Iterator[Finding]:
    """A full cache with noeviction refuses writes instead of dropping stale entries.

    ## Why is this bad?
    With `noeviction` (the default) Redis answers every write with an OOM error once `maxmemory` is
    reached (Redis docs, "Key eviction"). That is right for a queue or a primary data store, but for a
    cache it turns "full" into an outage, when dropping the least used entries would have cost nothing.

    ## Example
    ```
    maxmemory 4gb
    maxmemory-policy noeviction
    # keys: cache:*, session:* ...
    ```

    ## Use instead
    ```
    CONFIG SET maxmemory-policy allkeys-lfu
    CONFIG REWRITE
    ```

    ## Fix safety
    Display only: allkeys-* may evict any key, so keep non-cache data in another instance.
    """
    keys = _keys(ctx.keyspace)
    limit = _redis_bytes(ctx.get("maxmemory"))
    if keys is None or not limit or ctx.low("maxmemory-policy") != "noeviction" or keys.cache_pct < REDIS_MAJORITY_PCT:
        return
    yield _finding(
        REDIS_NOEVICTION_CACHE,
        "maxmemory-policy",
        f"maxmemory-policy is noeviction while {keys.cache_pct:g} % of the sampled keys are cache data, so a full "
        "server refuses every write",
        _redis_evidence(ctx, keys),
        (
            "At the memory limit noeviction fails writes with an OOM error; a cache should drop its least used "
            "entries instead."
        ),
        "Use allkeys-lfu (or allkeys-lru) for a cache.",
        Fix(
            title="Evict the least frequently used keys",
            statements=["CONFIG SET maxmemory-policy allkeys-lfu", "CONFIG REWRITE"],
            safety="display-only",
            note="allkeys-* may evict any key; move data that is not a cache to another instance.",
        ),
    )


REDIS_NO_PERSISTENCE = RuleSpec(
    id="TUN032",
    name="redis-persistent-data-without-persistence",
    capability="tuning",
    engines=("redis",),
    severity=Severity.MEDIUM,
    status="preview",
    fix="always",
    live_only=True,
    summary="No AOF and no RDB snapshots while most keys look like lasting data: a restart loses everything.",
)


def redis_no_persistence(ctx: AuditContext) -> Iterator[Finding]:
    """With neither AOF nor RDB snapshots, a restart empties the server.

    ## Why is this bad?
    `appendonly no` and `save ""` keep the data only in memory. That suits a pure cache, but when most
    keys are neither cache-like nor expiring they look like data the application expects to keep, and a
    restart, crash or failover without a replica loses all of it (Redis docs, "Redis persistence").

    ## Example
    ```
    appendonly no
    save ""
    ```

    ## Use instead
    ```
    CONFIG SET appendonly yes
    CONFIG SET appendfsync everysec
    CONFIG REWRITE
    ```

    ## Fix safety
    Display only: AOF rewrites and RDB saves fork, which can briefly double memory (copy-on-write);
    keep maxmemory near 0.5 x RAM with persistence.
    """
    keys = _keys(ctx.keyspace)
    if keys is None or not ctx.is_off("appendonly") or (ctx.get("save") or "") != "":
        return
    if keys.persistent_pct < REDIS_MAJORITY_PCT:
        return
    yield _finding(
        REDIS_NO_PERSISTENCE,
        "appendonly",
        f"no AOF and no RDB snapshots while {keys.persistent_pct:g} % of the sampled keys look like lasting data, "
        "so a restart loses them",
        {
            "appendonly": ctx.get("appendonly"),
            "save": ctx.get("save"),
            "sampled_keys": keys.sampled,
            "persistent_share_pct": keys.persistent_pct,
            "ttl_share_pct": keys.ttl_share_pct,
        },
        (
            "The data lives only in memory, and these keys neither expire nor look like cache entries, so the "
            "application probably expects them to survive a restart."
        ),
        "Turn on AOF (appendfsync everysec), or RDB snapshots if losing minutes is acceptable.",
        Fix(
            title="Turn on the append-only file",
            statements=["CONFIG SET appendonly yes", "CONFIG SET appendfsync everysec", "CONFIG REWRITE"],
            safety="display-only",
            note="Persistence forks: leave copy-on-write headroom (maxmemory about 0.5 x RAM).",
        ),
    )


REDIS_VOLATILE_WITHOUT_TTL = RuleSpec(
    id="TUN033",
    name="redis-volatile-policy-without-expiring-keys",
    capability="tuning",
    engines=("redis",),
    severity=Severity.HIGH,
    status="preview",
    fix="sometimes",
    live_only=True,
    summary="A volatile-* eviction policy while no sampled key has an expiry: nothing can be evicted.",
)


def redis_volatile_without_ttl(ctx: AuditContext) -> Iterator[Finding]:
    """A volatile-* policy can only evict keys with an expiry; with none, it is noeviction in disguise.

    ## Why is this bad?
    `volatile-lru`, `volatile-lfu`, `volatile-random` and `volatile-ttl` choose only among keys that
    have an expiry. When no key has one, a full server has nothing to evict and refuses writes with an
    OOM error, exactly like `noeviction` (Redis docs, "Key eviction").

    ## Example
    ```
    maxmemory-policy volatile-lru
    # INFO keyspace: db0:keys=100000,expires=0
    ```

    ## Use instead
    Give the disposable keys an expiry (`SET key value EX 3600`), or, if every key is disposable:
    ```
    CONFIG SET maxmemory-policy allkeys-lru
    ```

    ## Fix safety
    Display only: which keys may be evicted is the application's decision.
    """
    keys = _keys(ctx.keyspace)
    policy = ctx.low("maxmemory-policy") or ""
    if (
        keys is None
        or not policy.startswith("volatile-")
        or keys.ttl_share_pct > 0
        or not _redis_bytes(ctx.get("maxmemory"))
    ):
        return
    family = policy.rsplit("-", 1)[-1] if policy.rsplit("-", 1)[-1] in ("lru", "lfu") else "lru"
    yield _finding(
        REDIS_VOLATILE_WITHOUT_TTL,
        "maxmemory-policy",
        f"maxmemory-policy is {policy} but none of the {keys.sampled} sampled keys has an expiry, so nothing can "
        "be evicted",
        _redis_evidence(ctx, keys),
        f"{policy} evicts only keys with an expiry; with none, a full server refuses writes like noeviction.",
        "Give disposable keys an expiry, or use an allkeys policy if every key is disposable.",
        Fix(
            title=f"Use allkeys-{family} if every key is disposable",
            statements=[f"CONFIG SET maxmemory-policy allkeys-{family}", "CONFIG REWRITE"],
            safety="display-only",
            note="Only if every key can be rebuilt; otherwise set expiries where the keys are written.",
        ),
    )


REDIS_OPEN_UNPROTECTED = RuleSpec(
    id="TUN034",
    name="redis-open-without-auth",
    capability="tuning",
    engines=("redis",),
    severity=Severity.HIGH,
    status="preview",
    fix="always",
    live_only=True,
    summary="protected-mode no, listening on all interfaces, and no password: anyone on the network has full access.",
)


def redis_open_unprotected(ctx: AuditContext) -> Iterator[Finding]:
    """Redis listens on every interface with no password and protected mode off: anyone can run any command.

    ## Why is this bad?
    Protected mode is Redis' guard for exactly this case: when it binds to all interfaces without a
    password it only answers loopback clients (Redis docs, "Redis security"). Turned off, any host that
    reaches the port can read or wipe the data, or rewrite the config (CONFIG SET dir / dbfilename) to
    write files on the server.

    ## Example
    ```
    bind * -::*
    protected-mode no
    requirepass ""
    ```

    ## Use instead
    ```
    bind 127.0.0.1 -::1 10.0.0.5
    protected-mode yes
    # ACL SETUSER app on >long-random-password ~app:* +@read +@write
    ```

    ## Fix safety
    Display only: turning protected mode on or binding to fewer interfaces drops remote clients that
    have no password; set credentials in the clients first.
    """
    bind = ctx.low("bind")
    if not ctx.is_off("protected-mode") or ctx.get("requirepass") or bind is None:
        return
    addresses = bind.split()
    if addresses and not any(a.lstrip("-") in _ALL_INTERFACES for a in addresses):
        return
    yield _finding(
        REDIS_OPEN_UNPROTECTED,
        "protected-mode",
        "Redis listens on all interfaces with protected-mode off and no password, so anyone on the network has "
        "full access",
        {"protected-mode": ctx.get("protected-mode"), "bind": ctx.get("bind"), "requirepass_set": False},
        (
            "Any client that reaches the port can read, delete or overwrite data, and can use CONFIG SET to "
            "write files on the host."
        ),
        "Require authentication (requirepass or ACL users) and bind only the interfaces clients use.",
        Fix(
            title="Turn protected mode back on and require a password",
            statements=[
                "CONFIG SET protected-mode yes",
                "CONFIG SET requirepass <long-random-password>",
                "CONFIG REWRITE",
            ],
            safety="display-only",
            note="Give clients the password first; remote clients without one are refused afterwards.",
        ),
    )


# Registration: (spec, check), one check per rule. IDs are stable and never reused.
AUDIT_RULES: tuple[tuple[RuleSpec, Check], ...] = (
    (PG_FSYNC_OFF, pg_fsync_off),
    (PG_FULL_PAGE_WRITES_OFF, pg_full_page_writes_off),
    (PG_SYNCHRONOUS_COMMIT_OFF, pg_synchronous_commit_off),
    (PG_AUTOVACUUM_OFF, pg_autovacuum_off),
    (PG_WAL_LEVEL_MINIMAL, pg_wal_level_minimal),
    (PG_MAX_CONNECTIONS_VERY_HIGH, pg_max_connections_very_high),
    (PG_ZERO_DAMAGED_PAGES, pg_zero_damaged_pages),
    (MYSQL_FLUSH_LOG_NOT_1, mysql_flush_log_not_1),
    (MYSQL_SYNC_BINLOG, mysql_sync_binlog),
    (MYSQL_DOUBLEWRITE_OFF, mysql_doublewrite_off),
    (MYSQL_QUERY_CACHE_ON, mysql_query_cache_on),
    (MYSQL_NAME_RESOLVE, mysql_name_resolve),
    (SQLITE_SYNCHRONOUS_OFF, sqlite_synchronous_off),
    (SQLITE_JOURNAL_OFF, sqlite_journal_off),
    (SQLITE_NORMAL_WITHOUT_WAL, sqlite_normal_without_wal),
    (MONGO_JOURNAL_OFF, mongo_journal_off),
    (MONGO_CACHE_TOO_BIG, mongo_cache_too_big),
    (MONGO_PROFILER_ALL, mongo_profiler_all),
    (REDIS_NO_MAXMEMORY_CACHE, redis_no_maxmemory_cache),
    (REDIS_NOEVICTION_CACHE, redis_noeviction_cache),
    (REDIS_NO_PERSISTENCE, redis_no_persistence),
    (REDIS_VOLATILE_WITHOUT_TTL, redis_volatile_without_ttl),
    (REDIS_OPEN_UNPROTECTED, redis_open_unprotected),
)


def audit(
    engine: str,
    settings: Mapping[str, str],
    *,
    primary: bool = True,
    keyspace: Keyspace | None = None,
    version: str | None = None,
    ram_gb: float | None = None,
) -> list[Finding]:
    """Dangerous or contradictory live settings, sorted by severity, rule id and subject.

    `engine` is an adapter engine name (postgresql, mysql, sqlite, mongodb, redis; postgres and mariadb
    are accepted too). `settings` maps names to values as the adapter's `settings()` reports them.
    `primary=False` silences the rules that only matter where writes are accepted. `ram_gb`, when known,
    enables the rules that compare memory settings with the machine.
    """
    name = ENGINE_ALIASES.get(engine.lower(), engine.lower())
    if name not in AUDIT_ENGINES:
        raise ValueError(f"audit: unknown engine {engine!r}; use one of {', '.join(AUDIT_ENGINES)}")
    normalized = {str(k).lower(): str(v) for k, v in settings.items() if v is not None}
    ctx = AuditContext(
        engine=name, settings=normalized, primary=primary, keyspace=keyspace, version=version, ram_gb=ram_gb
    )
    findings = [f for spec, check in AUDIT_RULES if name in spec.engines for f in check(ctx)]
    return sorted(findings, key=lambda f: (f.severity.rank, f.rule_id, f.subject))
