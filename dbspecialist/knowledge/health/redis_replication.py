"""Redis health rules on replication: a replica that lost its primary, replicas that lag (HLT142-HLT143)."""

from __future__ import annotations

from collections.abc import Iterator

from dbspecialist.knowledge.findings import Finding, RuleSpec, Severity
from dbspecialist.knowledge.health.common import Evidence, as_float, as_int, health_finding
from dbspecialist.knowledge.health.redis_common import Check, RedisHealthContext, spec

# -- HLT142 -------------------------------------------------------------------------------------------------

LINK_DOWN = spec(
    "HLT142",
    "replica-link-down",
    Severity.HIGH,
    "This replica's link to its primary is down (master_link_status).",
    fix="never",
)


def replica_link_down(ctx: RedisHealthContext) -> Iterator[Finding]:
    """This replica has lost its primary: it serves data that no longer changes.

    ## Why it matters
    While `master_link_status` is `down` the replica applies nothing; reads from it go stale and it
    cannot take over without losing the writes since. `master_link_down_since_seconds` says for how
    long; a long full resynchronisation (`master_sync_in_progress`) also shows as down.

    ## Threshold
    `role:slave` with `master_link_status` other than `up`, read now.

    ## Fix
    Check the network and the primary, `masterauth` and the primary's `requirepass`/ACL, and that the
    replication backlog (`repl-backlog-size`) is large enough for a partial resync.
    """
    replication = ctx.info("replication")
    if replication.get("role") != "slave":
        return
    status = str(replication.get("master_link_status") or "unknown")
    if status == "up":
        return
    primary = f"{replication.get('master_host') or '?'}:{replication.get('master_port') or '?'}"
    yield health_finding(
        LINK_DOWN,
        subject=f"replica of {primary}",
        subject_kind="node",
        title=f"the link to primary {primary} is {status}",
        measured="sample",
        evidence={
            "master_link_status": status,
            "master_link_down_since_seconds": replication.get("master_link_down_since_seconds"),
            "master_sync_in_progress": as_int(replication.get("master_sync_in_progress")),
            "master_last_io_seconds_ago": replication.get("master_last_io_seconds_ago"),
            "threshold": "up",
        },
        rationale="A replica without its primary applies nothing: its reads go stale and a failover to it loses the "
        "writes since.",
        help_="Check the network, masterauth/ACL and the primary; size repl-backlog-size for partial resyncs.",
    )


# -- HLT143 -------------------------------------------------------------------------------------------------

REPLICA_LAG = spec(
    "HLT143",
    "replica-lag",
    Severity.MEDIUM,
    "A replica acknowledges the primary's stream late (lag in INFO replication).",
    fix="never",
)


def replica_lag(ctx: RedisHealthContext) -> Iterator[Finding]:
    """A replica is behind its primary: its reads are stale and a failover to it loses writes.

    ## Why it matters
    On the primary, each `slaveN` line gives the replica's `lag` (seconds since its last
    acknowledgement, sent every second) and `offset` (bytes applied); `master_repl_offset - offset` is
    how far behind it is. On a replica, `master_last_io_seconds_ago` is the time since the primary was
    last heard from.

    ## Threshold
    10 s (medium) or 60 s (high), read now: the defaults of repl-ping-replica-period and repl-timeout
    (redis.conf).

    ## Fix
    Check the network between them and the replica's load (a slow disk with AOF, big keys being
    transferred); `min-replicas-max-lag` can stop the primary accepting writes when every replica lags.
    """
    t = ctx.thresholds
    replication = ctx.info("replication")
    primary_offset = as_int(replication.get("master_repl_offset"))
    lagging: list[tuple[str, float, Evidence]] = []
    for name, value in sorted(replication.items()):
        if not (str(name).startswith("slave") and str(name)[5:].isdigit() and isinstance(value, dict)):
            continue
        lag = as_float(value.get("lag"))
        if lag is None:
            continue
        address = f"{value.get('ip') or '?'}:{value.get('port') or '?'}"
        behind = primary_offset - as_int(value.get("offset")) if primary_offset else None
        evidence: Evidence = {"lag_seconds": lag, "state": value.get("state"), "bytes_behind": behind}
        lagging.append((f"replica {address}", lag, evidence))
    if replication.get("role") == "slave":
        lag = as_float(replication.get("master_last_io_seconds_ago"))
        if lag is not None and lag >= 0 and replication.get("master_link_status") == "up":
            primary = f"{replication.get('master_host') or '?'}:{replication.get('master_port') or '?'}"
            lagging.append((f"replica of {primary}", lag, {"master_last_io_seconds_ago": lag}))
    for subject, lag, evidence in lagging:
        if lag < t.replica_lag_seconds:
            continue
        yield health_finding(
            REPLICA_LAG,
            subject=subject,
            subject_kind="node",
            title=f"{subject} last heard from {lag} s ago",
            measured="sample",
            evidence={**evidence, "threshold_seconds": t.replica_lag_seconds},
            rationale="A lagging replica serves stale reads, and a failover to it loses the writes it has not applied.",
            help_="Check the network and the replica's load (disk, big keys); consider min-replicas-max-lag.",
            severity=Severity.HIGH if lag >= t.replica_lag_high_seconds else None,
        )


RULES: tuple[tuple[RuleSpec, Check], ...] = (
    (LINK_DOWN, replica_link_down),
    (REPLICA_LAG, replica_lag),
)


__all__ = ["RULES"]
