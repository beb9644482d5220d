"""Redis health rules on persistence: a failing RDB snapshot, writes not yet in any snapshot, a failing AOF,
no persistence at all (HLT138-HLT141)."""

from __future__ import annotations

from collections.abc import Iterator

from dbspecialist.knowledge.findings import Finding, Fix, RuleSpec, Severity
from dbspecialist.knowledge.health.common import HOUR_SECONDS, as_float, as_int, health_finding, pct
from dbspecialist.knowledge.health.redis_common import Check, RedisHealthContext, spec

# -- HLT138 -------------------------------------------------------------------------------------------------

BGSAVE_FAILED = spec(
    "HLT138",
    "rdb-save-failing",
    Severity.HIGH,
    "The last RDB snapshot (BGSAVE) failed.",
    fix="never",
)


def rdb_save_failing(ctx: RedisHealthContext) -> Iterator[Finding]:
    """The last RDB snapshot failed: the data on disk is older than it should be.

    ## Why it matters
    A failed BGSAVE (disk full, permissions, fork refused for lack of memory) leaves the last good
    dump on disk; a restart loses everything since. With `stop-writes-on-bgsave-error yes` (the
    default) Redis also refuses every write with a MISCONF error until a save succeeds (redis.conf).

    ## Threshold
    `rdb_last_bgsave_status` other than `ok`: high, critical when writes are being refused.

    ## Fix
    Read the Redis log for the cause (disk space, `dir` permissions, `vm.overcommit_memory = 1` for
    the fork), fix it, then `BGSAVE`.
    """
    persistence = ctx.info("persistence")
    status = str(persistence.get("rdb_last_bgsave_status") or "ok")
    if status == "ok":
        return
    stops_writes = ctx.config("stop-writes-on-bgsave-error") != "no"
    yield health_finding(
        BGSAVE_FAILED,
        subject="rdb",
        subject_kind="server",
        title="the last RDB snapshot failed" + ("; Redis refuses writes until one succeeds" if stops_writes else ""),
        measured="sample",
        evidence={
            "rdb_last_bgsave_status": status,
            "rdb_changes_since_last_save": as_int(persistence.get("rdb_changes_since_last_save")),
            "rdb_last_save_time": as_int(persistence.get("rdb_last_save_time")) or None,
            "stop_writes_on_bgsave_error": ctx.config("stop-writes-on-bgsave-error"),
            "threshold": "ok",
        },
        rationale=(
            "A restart loses everything since the last good dump"
            + (", and Redis answers every write with a MISCONF error until a save succeeds." if stops_writes else ".")
        ),
        help_="Read the Redis log for the cause (disk space, dir permissions, vm.overcommit_memory), fix it, then "
        "BGSAVE.",
        severity=Severity.CRITICAL if stops_writes else None,
    )


# -- HLT139 -------------------------------------------------------------------------------------------------

UNSAVED = spec(
    "HLT139",
    "unsaved-changes",
    Severity.MEDIUM,
    "Many writes since the last RDB snapshot, an hour or more ago, with snapshots configured.",
    fix="always",
)


def unsaved_changes(ctx: RedisHealthContext) -> Iterator[Finding]:
    """Many writes are not yet in any snapshot, and the last one is old: a crash would lose them.

    ## Why it matters
    With RDB snapshots (`save` rules) and no AOF, a crash loses every write since the last dump.
    `rdb_changes_since_last_save` counts them and `rdb_last_save_time` dates the dump.

    ## Threshold
    At least 1,000 changes and a dump an hour old or more, with `save` configured and AOF off (our own
    judgement). Read now.

    ## Fix
    `BGSAVE` now; check why the `save` rules did not fire (they need both the time and the number of
    changes); for durability, enable AOF (`appendonly yes`, `appendfsync everysec`).
    """
    t = ctx.thresholds
    persistence = ctx.info("persistence")
    if not ctx.config("save") or as_int(persistence.get("aof_enabled")):
        return
    changes = as_int(persistence.get("rdb_changes_since_last_save"))
    last_save = as_int(persistence.get("rdb_last_save_time"))
    now = as_float(ctx.snapshot.get("server_time"))
    if now is None or not last_save:
        return
    age = round(now - last_save, 1)
    if changes < t.unsaved_changes_min or age < t.unsaved_age_seconds:
        return
    yield health_finding(
        UNSAVED,
        subject="rdb",
        subject_kind="server",
        title=f"{changes} writes are not in any snapshot; the last dump is {round(age / HOUR_SECONDS, 1)} h old",
        measured="sample",
        evidence={
            "rdb_changes_since_last_save": changes,
            "last_save_age_seconds": age,
            "save": ctx.config("save"),
            "aof_enabled": False,
            "threshold_changes": t.unsaved_changes_min,
            "threshold_age_seconds": t.unsaved_age_seconds,
        },
        rationale="Without AOF a crash loses every write since the last RDB dump.",
        help_="BGSAVE now and check the save rules; enable AOF for durability.",
        fix=Fix(title="Write a snapshot now", statements=["BGSAVE"], note="Forks the process: needs memory headroom."),
    )


# -- HLT140 -------------------------------------------------------------------------------------------------

AOF_FAILING = spec(
    "HLT140",
    "aof-failing",
    Severity.HIGH,
    "AOF writes or the last AOF rewrite failed.",
    fix="never",
)


def aof_failing(ctx: RedisHealthContext) -> Iterator[Finding]:
    """Append-only-file writes, or its rewrite, are failing: durability is not what the configuration says.

    ## Why it matters
    `aof_last_write_status` other than `ok` means Redis could not append to the AOF (disk full, I/O
    error): writes are refused until it can. `aof_last_bgrewrite_status` other than `ok` means the
    background rewrite failed, so the AOF keeps growing and a restart replays more.

    ## Threshold
    A write error: high. A failed rewrite (or consecutive rewrite failures): medium. Read now.

    ## Fix
    Read the Redis log, free disk space or fix the volume, then `BGREWRITEAOF`.
    """
    persistence = ctx.info("persistence")
    if not as_int(persistence.get("aof_enabled")):
        return
    write = str(persistence.get("aof_last_write_status") or "ok")
    rewrite = str(persistence.get("aof_last_bgrewrite_status") or "ok")
    failures = as_int(persistence.get("aof_rewrites_consecutive_failures"))
    if write == "ok" and rewrite == "ok" and failures == 0:
        return
    write_failed = write != "ok"
    yield health_finding(
        AOF_FAILING,
        subject="aof",
        subject_kind="server",
        title="AOF writes are failing" if write_failed else "the last AOF rewrite failed",
        measured="sample",
        evidence={
            "aof_last_write_status": write,
            "aof_last_bgrewrite_status": rewrite,
            "aof_rewrites_consecutive_failures": failures,
            "aof_rewrite_in_progress": as_int(persistence.get("aof_rewrite_in_progress")),
            "threshold": "ok",
        },
        rationale=(
            "Redis cannot append to the AOF, so it refuses writes until it can."
            if write_failed
            else "Without a successful rewrite the AOF keeps growing and a restart replays more of it."
        ),
        help_="Read the Redis log, free disk space or fix the volume, then BGREWRITEAOF.",
        severity=None if write_failed else Severity.MEDIUM,
    )


# -- HLT141 -------------------------------------------------------------------------------------------------

NO_PERSISTENCE = spec(
    "HLT141",
    "no-persistence",
    Severity.LOW,
    "Neither RDB snapshots nor AOF are enabled: a restart empties the instance.",
    fix="always",
)


def no_persistence(ctx: RedisHealthContext) -> Iterator[Finding]:
    """Neither RDB snapshots nor the AOF are enabled: a restart starts from an empty instance.

    ## Why it matters
    Fine for a pure cache that the application can refill, a data-loss bug for anything else: a
    restart, a crash or a failover to a replica that restarted loses every key (Redis docs, "Redis
    persistence").

    ## Threshold
    `save ""` and `appendonly no`, read now.

    ## Fix
    For data that must survive: `CONFIG SET appendonly yes` (with `appendfsync everysec`), or `save`
    rules for periodic snapshots. A replica with persistence enabled also protects against a
    restarted empty primary wiping it.
    """
    save, aof = ctx.config("save"), ctx.config("appendonly")
    if save is None or aof is None or save.strip() or aof == "yes":
        return
    keys, expires = ctx.keys()
    yield health_finding(
        NO_PERSISTENCE,
        subject="persistence",
        subject_kind="server",
        title="persistence is off (no RDB snapshots, no AOF): a restart empties Redis",
        measured="sample",
        evidence={"save": save, "appendonly": aof, "keys": keys, "keys_with_ttl_pct": pct(expires, keys)},
        rationale="Fine for a cache the application refills; for anything else a restart or crash loses every key.",
        help_="If the data must survive a restart, enable the AOF (appendonly yes) or RDB save rules.",
        fix=Fix(
            title="Enable the append-only file",
            statements=["CONFIG SET appendonly yes", "CONFIG REWRITE"],
            note="Only if the data must survive; the AOF costs disk writes (appendfsync everysec by default).",
        ),
    )


RULES: tuple[tuple[RuleSpec, Check], ...] = (
    (BGSAVE_FAILED, rdb_save_failing),
    (UNSAVED, unsaved_changes),
    (AOF_FAILING, aof_failing),
    (NO_PERSISTENCE, no_persistence),
)


__all__ = ["RULES"]
