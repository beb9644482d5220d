"""PostgreSQL health rules about the server as a whole: cache hit ratio, deadlocks, replication, wraparound,
temporary files and checkpoints (HLT001, HLT007-HLT009, HLT014, HLT019, HLT020)."""

from __future__ import annotations

from collections.abc import Iterator

from dbspecialist.knowledge.findings import Finding, Fix, Severity
from dbspecialist.knowledge.health.postgres_common import (
    DAY_SECONDS,
    WRAPAROUND_LIMIT,
    PgHealthContext,
    as_float,
    as_int,
    finding,
    human_bytes,
    name_of,
    pct,
    seconds,
    spec,
)

# -- HLT001 -------------------------------------------------------------------------------------------------

CACHE_HIT = spec(
    "HLT001",
    "low-cache-hit-ratio",
    Severity.MEDIUM,
    "Too many table or index block reads miss shared_buffers (pg_statio counters).",
)


def low_cache_hit_ratio(ctx: PgHealthContext) -> Iterator[Finding]:
    """Too many table or index reads miss shared_buffers: the working set does not fit in memory.

    ## Why it matters
    `pg_statio_user_tables` counts, per table, the blocks found in shared_buffers (`*_blks_hit`) and
    the blocks PostgreSQL had to ask the operating system for (`*_blks_read`). A read may still come
    from the OS page cache, so this overstates disk reads, but a low ratio on an OLTP database usually
    means the hot data no longer fits in memory, or scans keep pushing it out.

    ## Threshold
    99 % for OLTP (medium), 90 % (high): the common rule of thumb (Craig Kerstiens, "Understanding
    Postgres Performance"). Counters since the statistics reset; fewer than 10,000 blocks is too little
    traffic to judge. Heap (tables) and indexes are judged separately.

    ## Fix
    `top_queries` by blocks read and `recommend_indexes` for the scans; `tune_config` for
    shared_buffers (about 25 % of RAM) and the RAM the working set needs; `plan_capacity` for 10x.
    """
    io = ctx.section("stats").get("io") or {}
    t = ctx.thresholds
    for scope, prefix in (("tables", "heap"), ("indexes", "idx")):
        hit = as_int(io.get(f"{prefix}_blks_hit"))
        read = as_int(io.get(f"{prefix}_blks_read"))
        ratio = pct(hit, hit + read)
        if ratio is None or hit + read < t.cache_min_blocks or ratio >= t.cache_hit_min_pct:
            continue
        yield finding(
            CACHE_HIT,
            subject=f"{ctx.database} {scope}",
            subject_kind="server",
            title=f"{ratio}% of {scope[:-1] if scope == 'tables' else 'index'} block reads hit shared_buffers",
            measured="counter",
            since=ctx.stats_since,
            evidence={
                "scope": scope,
                "hit_ratio_pct": ratio,
                "blocks_hit": hit,
                "blocks_read": read,
                "shared_buffers_8kb_pages": as_int(ctx.setting("shared_buffers")) or None,
                "threshold_pct": t.cache_hit_min_pct,
            },
            rationale=(
                "Blocks not found in shared_buffers are asked of the operating system; some come from its page cache, "
                "but a ratio below 99% on OLTP usually means the working set no longer fits in memory."
            ),
            help_="Find the scans with `top_queries` and `recommend_indexes`; size shared_buffers and RAM with "
            "`tune_config`.",
            severity=Severity.HIGH if ratio < t.cache_hit_high_pct else None,
        )


# -- HLT007 -------------------------------------------------------------------------------------------------

DEADLOCKS = spec(
    "HLT007",
    "deadlocks",
    Severity.LOW,
    "Transactions in this database were aborted by the deadlock detector (pg_stat_database.deadlocks).",
)


def deadlocks(ctx: PgHealthContext) -> Iterator[Finding]:
    """Transactions were rolled back by the deadlock detector: two code paths take locks in opposite order.

    ## Why it matters
    Each deadlock aborts one of the transactions involved (the application sees SQLSTATE 40P01) after
    `deadlock_timeout` of waiting. They come from code paths that lock the same rows or tables in
    different orders, and they grow with concurrency.

    ## Threshold
    Any deadlock in `pg_stat_database.deadlocks` (a counter since the statistics reset) is low; ten or
    more a day is medium (our own judgement).

    ## Fix
    The server log has one `deadlock detected` entry per deadlock, naming both statements. Take locks in
    a consistent order (sort the ids you update), keep transactions short, and retry on 40P01. Turn on
    `log_lock_waits` to see the waits that do not end in a deadlock.
    """
    stats = ctx.section("stats").get("database_stats") or {}
    count = as_int(stats.get("deadlocks"))
    if count <= 0:
        return
    window = ctx.stats_window_seconds
    per_day = round(count / (window / DAY_SECONDS), 2) if window else None
    fix = None
    if ctx.setting("log_lock_waits") == "off":
        fix = Fix(
            title="Log lock waits longer than deadlock_timeout",
            statements=["ALTER SYSTEM SET log_lock_waits = on;", "SELECT pg_reload_conf();"],
            note="Each wait longer than deadlock_timeout (1 s by default) is logged with the lock and the holders.",
        )
    yield finding(
        DEADLOCKS,
        subject=ctx.database,
        subject_kind="server",
        title=f"{count} deadlock(s) in {ctx.database}" + (f", {per_day} a day" if per_day is not None else ""),
        measured="counter",
        since=ctx.stats_since,
        evidence={
            "deadlocks": count,
            "per_day": per_day,
            "window_days": round(window / DAY_SECONDS, 2) if window else None,
            "log_lock_waits": ctx.setting("log_lock_waits"),
            "threshold_per_day": ctx.thresholds.deadlocks_per_day_medium,
        },
        rationale=(
            "Each deadlock rolls one transaction back after deadlock_timeout of waiting; they come from code paths "
            "that lock the same rows in different orders."
        ),
        help_="Read the 'deadlock detected' entries in the server log; lock rows in a consistent order and retry "
        "on SQLSTATE 40P01.",
        fix=fix,
        severity=Severity.MEDIUM
        if per_day is not None and per_day >= ctx.thresholds.deadlocks_per_day_medium
        else None,
    )


# -- HLT008 -------------------------------------------------------------------------------------------------

REPLICATION_LAG = spec(
    "HLT008",
    "replication-lag",
    Severity.MEDIUM,
    "A standby replays WAL far behind the primary (pg_stat_replication lag and bytes behind).",
    fix="never",
)


def replication_lag(ctx: PgHealthContext) -> Iterator[Finding]:
    """A standby is far behind: reads there are stale and a failover would lose or wait for that much WAL.

    ## Why it matters
    `pg_stat_replication` on the primary reports, per standby, how long ago the WAL it has written,
    flushed and replayed was generated (`write_lag`, `flush_lag`, `replay_lag`) and how many bytes of
    WAL it has yet to replay. An asynchronous standby's lag is data a failover can lose; a lagging
    synchronous standby slows every commit.

    ## Threshold
    Replay lag of 60 s (medium) or 300 s (high), or 1 GiB of WAL not yet replayed: our own judgement,
    sampled now. The lag columns are empty when the standby is idle and caught up.

    ## Fix
    Look at the standby: disk and CPU during replay, queries there that conflict with replay
    (`max_standby_streaming_delay`), and the network between the two.
    """
    t = ctx.thresholds
    for s in ctx.section("replication").get("standbys") or []:
        replay = as_float(s.get("replay_lag_seconds"), 0.0)
        behind = as_int(s.get("replay_bytes_behind"))
        if replay < t.replication_lag_seconds and behind < t.replication_lag_bytes:
            continue
        name = s.get("application_name") or s.get("client_addr") or "standby"
        yield finding(
            REPLICATION_LAG,
            subject=f"standby {name}",
            subject_kind="node",
            title=f"standby {name} replays {seconds(replay)} s and {human_bytes(behind)} behind",
            measured="sample",
            evidence={
                "application_name": s.get("application_name"),
                "client_addr": s.get("client_addr"),
                "state": s.get("state"),
                "sync_state": s.get("sync_state"),
                "write_lag_seconds": seconds(s.get("write_lag_seconds")),
                "flush_lag_seconds": seconds(s.get("flush_lag_seconds")),
                "replay_lag_seconds": seconds(s.get("replay_lag_seconds")),
                "replay_bytes_behind": behind,
                "threshold_seconds": t.replication_lag_seconds,
                "threshold_bytes": t.replication_lag_bytes,
            },
            rationale=(
                "Reads on a lagging standby are stale, and on failover an asynchronous standby loses the WAL it had "
                "not received; a lagging synchronous standby slows every commit."
            ),
            help_="Check the standby's disk and CPU during replay, conflicting queries there and the network.",
            severity=Severity.HIGH if replay >= t.replication_lag_high_seconds else None,
        )


# -- HLT009 -------------------------------------------------------------------------------------------------

INACTIVE_SLOT = spec(
    "HLT009",
    "inactive-replication-slot",
    Severity.MEDIUM,
    "A replication slot has no consumer connected and keeps WAL (and, if logical, old catalog rows).",
    fix="always",
)


def inactive_replication_slot(ctx: PgHealthContext) -> Iterator[Finding]:
    """A replication slot has no consumer: the server keeps all WAL since its position, until the disk fills.

    ## Why it matters
    A slot makes the server keep every WAL segment its consumer has not confirmed, whether or not the
    consumer ever comes back; a logical slot also keeps old catalog rows (catalog_xmin), which holds back
    vacuum. Unless `max_slot_wal_keep_size` (PostgreSQL 13+) caps it, an abandoned slot fills `pg_wal`
    and stops the server.

    ## Threshold
    Any inactive slot (medium); 10 GiB retained, or a `wal_status` of `unreserved` (high; our own
    judgement). A `lost` slot no longer retains WAL and can never be used again. Sampled now.

    ## Fix
    Reconnect its consumer, or drop the slot when the consumer is gone for good:
    `SELECT pg_drop_replication_slot('name')` (display-only advice: a consumer that comes back later must
    be re-seeded). Cap the risk with `max_slot_wal_keep_size`.
    """
    t = ctx.thresholds
    for slot in ctx.section("replication").get("slots") or []:
        if slot.get("active"):
            continue
        name = str(slot.get("slot_name"))
        retained = as_int(slot.get("retained_bytes"))
        status = slot.get("wal_status")
        high = retained >= t.slot_retained_high_bytes or status == "unreserved"
        literal = "'" + name.replace("'", "''") + "'"
        yield finding(
            INACTIVE_SLOT,
            subject=f"slot {name}",
            subject_kind="node",
            title=f"replication slot {name} is inactive and retains {human_bytes(retained)} of WAL",
            measured="sample",
            evidence={
                "slot_name": name,
                "slot_type": slot.get("slot_type"),
                "database": slot.get("database"),
                "retained_bytes": retained,
                "wal_status": status,
                "max_slot_wal_keep_size_mb": ctx.setting("max_slot_wal_keep_size"),
                "threshold_bytes": t.slot_retained_high_bytes,
            },
            rationale=(
                "The server keeps every WAL segment the slot's consumer has not confirmed, whether it comes back or "
                "not; a logical slot also holds back vacuum of the catalogs."
            ),
            help_="Reconnect the consumer or drop the slot; cap retention with max_slot_wal_keep_size.",
            fix=Fix(
                title=f"Drop the replication slot {name}",
                statements=[f"SELECT pg_drop_replication_slot({literal});"],
                safety="display-only",
                note="Only when its consumer is gone for good: a consumer that returns must be re-seeded.",
            ),
            severity=Severity.HIGH if high else None,
        )


# -- HLT014 -------------------------------------------------------------------------------------------------

WRAPAROUND = spec(
    "HLT014",
    "transaction-id-wraparound",
    Severity.HIGH,
    "A database's oldest unfrozen transaction (or multixact) ID is far along the 2^31 wraparound horizon.",
    fix="always",
)


def transaction_id_wraparound(ctx: PgHealthContext) -> Iterator[Finding]:
    """A database's oldest unfrozen XID is far along the 2^31 horizon at which PostgreSQL stops writes.

    ## Why it matters
    PostgreSQL must freeze old rows before their transaction IDs fall 2^31 (about 2.1 billion)
    transactions behind, or their visibility would flip; shortly before that point the server refuses to
    assign new transaction IDs until the database is vacuumed (PostgreSQL docs, "Preventing Transaction
    ID Wraparound Failures"). `age(datfrozenxid)` shows how far each database is, `mxid_age(datminmxid)`
    the same for multixacts. Autovacuum starts an aggressive vacuum at `autovacuum_freeze_max_age`
    (200 million by default); being far beyond it means something stops it: a long transaction, an
    abandoned prepared transaction or replication slot, or autovacuum itself off.

    ## Threshold
    Beyond autovacuum_freeze_max_age (low), 50 % of 2^31 (high), 75 % (critical): our own shares.
    Sampled now.

    ## Fix
    Remove what holds the horizon back (HLT004, HLT005, HLT009, `pg_prepared_xacts`), then
    `VACUUM (FREEZE, VERBOSE)` the oldest tables, in that database.
    """
    t = ctx.thresholds
    oldest = (ctx.section("tables").get("oldest_xid") or [])[:3]
    for db in ctx.section("stats").get("databases") or []:
        datname = str(db.get("datname"))
        for kind, key, setting in (
            ("xid", "xid_age", "autovacuum_freeze_max_age"),
            ("multixact", "mxid_age", "autovacuum_multixact_freeze_max_age"),
        ):
            age = as_int(db.get(key))
            freeze_max = as_int(ctx.setting(setting)) or None
            share = round(100.0 * age / WRAPAROUND_LIMIT, 2)
            if share >= t.xid_critical_pct:
                severity = Severity.CRITICAL
            elif share >= t.xid_high_pct:
                severity = Severity.HIGH
            elif freeze_max is not None and age > freeze_max:
                severity = Severity.LOW
            else:
                continue
            if datname == ctx.database and oldest:
                statements = [
                    f"VACUUM (FREEZE, VERBOSE) {name_of(o.get('schema'), str(o.get('name')))};" for o in oldest
                ]
            else:
                statements = [f"-- connected to {datname}:", "VACUUM (FREEZE, VERBOSE);"]
            yield finding(
                WRAPAROUND,
                subject=datname,
                subject_kind="server",
                title=f"{datname}: {kind} age {age:,} is {share}% of the 2^31 wraparound limit",
                measured="sample",
                evidence={
                    "kind": kind,
                    "age": age,
                    "pct_of_wraparound": share,
                    "wraparound_limit": WRAPAROUND_LIMIT,
                    setting: freeze_max,
                    "autovacuum": ctx.setting("autovacuum"),
                    "oldest_table": (
                        name_of(oldest[0].get("schema"), str(oldest[0].get("name")))
                        if oldest and datname == ctx.database
                        else None
                    ),
                    "threshold_pct": t.xid_high_pct,
                },
                rationale=(
                    "Rows must be frozen before their IDs fall 2^31 transactions behind; shortly before that the "
                    "server stops assigning transaction IDs until the database is vacuumed."
                ),
                help_="End what holds the xmin horizon back (old transactions, prepared transactions, stale slots), "
                "then VACUUM (FREEZE) the oldest tables.",
                fix=Fix(
                    title=f"Freeze the oldest tables of {datname}",
                    statements=statements,
                    note="VACUUM takes a SHARE UPDATE EXCLUSIVE lock (reads and writes continue) but reads the whole "
                    "table; it cannot advance past a transaction that is still open.",
                ),
                severity=severity,
            )


# -- HLT019 -------------------------------------------------------------------------------------------------

TEMP_FILES = spec(
    "HLT019",
    "temp-file-volume",
    Severity.LOW,
    "Queries write a lot of temporary files a day (sorts and hashes spilling past work_mem).",
)


def temp_file_volume(ctx: PgHealthContext) -> Iterator[Finding]:
    """Queries spill gigabytes of temporary files a day: sorts and hashes that do not fit in work_mem.

    ## Why it matters
    A sort, hash or materialize step that needs more than `work_mem` writes to temporary files;
    `pg_stat_database.temp_bytes` adds them up. Disk-backed sorts are many times slower than in-memory
    ones and compete with the rest of the I/O.

    ## Threshold
    1 GiB a day (low), 10 GiB a day (medium), averaged over the counters' window (since the statistics
    reset, or at least since the server started): our own judgement.

    ## Fix
    Find the statements (`top_queries`, then `explain_query`: look for "external merge" or batched
    hashes), add indexes that avoid the sort, or raise `work_mem` for the role or query that needs it
    (`tune_config` for the global value). `log_temp_files` logs each spill with its statement.
    """
    stats = ctx.section("stats").get("database_stats") or {}
    temp_bytes = as_int(stats.get("temp_bytes"))
    window = ctx.stats_window_seconds
    if not window or temp_bytes <= 0:
        return
    per_day = int(temp_bytes / (window / DAY_SECONDS))
    t = ctx.thresholds
    if per_day < t.temp_bytes_per_day:
        return
    yield finding(
        TEMP_FILES,
        subject=ctx.database,
        subject_kind="server",
        title=f"{human_bytes(per_day)} of temporary files a day in {ctx.database}",
        measured="counter",
        since=ctx.stats_since,
        evidence={
            "temp_bytes": temp_bytes,
            "temp_files": as_int(stats.get("temp_files")),
            "temp_bytes_per_day": per_day,
            "window_days": round(window / DAY_SECONDS, 2),
            "work_mem_kb": as_int(ctx.setting("work_mem")) or None,
            "threshold_bytes_per_day": t.temp_bytes_per_day,
        },
        rationale=(
            "Sorts and hashes larger than work_mem spill to temporary files, which is many times slower than memory "
            "and competes with the rest of the I/O."
        ),
        help_="Find the spilling statements with `top_queries` and `explain_query`; raise work_mem for them "
        "(`tune_config`).",
        fix=Fix(
            title="Log every temporary file above 10 MB with its statement",
            statements=["ALTER SYSTEM SET log_temp_files = '10MB';", "SELECT pg_reload_conf();"],
        ),
        severity=Severity.MEDIUM if per_day >= t.temp_bytes_per_day_medium else None,
    )


# -- HLT020 -------------------------------------------------------------------------------------------------

CHECKPOINTS = spec(
    "HLT020",
    "requested-checkpoints",
    Severity.MEDIUM,
    "Many checkpoints are forced by WAL volume (requested) rather than by checkpoint_timeout.",
    fix="always",
)


def requested_checkpoints(ctx: PgHealthContext) -> Iterator[Finding]:
    """Checkpoints are forced by WAL volume instead of the timer: max_wal_size is too small for the writes.

    ## Why it matters
    A checkpoint is "timed" when `checkpoint_timeout` elapses and "requested" when WAL reaches
    `max_wal_size` (or someone runs CHECKPOINT, a base backup starts, or a database is dropped). Frequent requested
    checkpoints flush dirty pages in bursts and make every page's first change afterwards write a full
    page image to WAL, multiplying WAL volume (PostgreSQL docs, "WAL Configuration").

    ## Threshold
    More than 10 % of at least 10 checkpoints requested (our own threshold), from `pg_stat_bgwriter`
    (PostgreSQL 16 and older) or `pg_stat_checkpointer` (17+), counters since their reset.

    ## Fix
    Raise `max_wal_size` (the disk must hold it) so checkpoints are timed; `tune_config` sizes it.
    """
    data = ctx.section("checkpoints")
    timed = as_int(data.get("timed"))
    requested = as_int(data.get("requested"))
    total = timed + requested
    share = pct(requested, total)
    t = ctx.thresholds
    if share is None or total < t.checkpoints_min or share <= t.checkpoints_requested_pct:
        return
    max_wal_mb = as_int(ctx.setting("max_wal_size"))
    target = f"{max(2 * max_wal_mb // 1024, 2)}GB" if max_wal_mb else "4GB"
    yield finding(
        CHECKPOINTS,
        subject="checkpointer",
        subject_kind="server",
        title=f"{share}% of checkpoints were requested by WAL volume, not timed",
        measured="counter",
        since=data.get("stats_reset"),
        evidence={
            "checkpoints_timed": timed,
            "checkpoints_requested": requested,
            "requested_pct": share,
            "source": data.get("source"),
            "max_wal_size_mb": max_wal_mb or None,
            "checkpoint_timeout_s": as_int(ctx.setting("checkpoint_timeout")) or None,
            "threshold_pct": t.checkpoints_requested_pct,
        },
        rationale=(
            "Checkpoints forced by WAL volume flush dirty pages in bursts, and the full-page images written after "
            "each one multiply WAL volume."
        ),
        help_="Raise max_wal_size so checkpoints are timed (`tune_config` sizes it); manual CHECKPOINTs, base "
        "backups and DROP DATABASE also count as requested.",
        fix=Fix(
            title=f"Raise max_wal_size to {target}",
            statements=[f"ALTER SYSTEM SET max_wal_size = '{target}';", "SELECT pg_reload_conf();"],
            note="pg_wal can grow to about this size between checkpoints: make sure the disk holds it.",
        ),
    )


RULES = (
    (CACHE_HIT, low_cache_hit_ratio),
    (DEADLOCKS, deadlocks),
    (REPLICATION_LAG, replication_lag),
    (INACTIVE_SLOT, inactive_replication_slot),
    (WRAPAROUND, transaction_id_wraparound),
    (TEMP_FILES, temp_file_volume),
    (CHECKPOINTS, requested_checkpoints),
)
