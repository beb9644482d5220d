"""MongoDB health rules on the replica set: unhealthy members or no primary, secondaries that lag
(HLT104, HLT105)."""

from __future__ import annotations

from collections.abc import Iterator

from dbspecialist.knowledge.findings import Finding, RuleSpec, Severity
from dbspecialist.knowledge.health.common import (
    as_float,
    as_int,
    health_finding,
)
from dbspecialist.knowledge.health.mongodb_common import Check, MongoHealthContext, spec

HEALTHY_STATES = {1: "PRIMARY", 2: "SECONDARY", 7: "ARBITER"}
CATCHING_UP_STATES = {0: "STARTUP", 3: "RECOVERING", 5: "STARTUP2"}


# -- HLT104 -------------------------------------------------------------------------------------------------

MEMBERS = spec(
    "HLT104",
    "replica-set-member-unhealthy",
    Severity.HIGH,
    "A replica-set member is down, unreachable, recovering or rolling back, or the set has no primary.",
    fix="never",
)


def replica_set_member_unhealthy(ctx: MongoHealthContext) -> Iterator[Finding]:
    """A replica-set member is not healthy, or the set has no primary: redundancy (or writes) are lost.

    ## Why it matters
    Only PRIMARY, SECONDARY and ARBITER are working states (MongoDB docs, "Replica Set Member States").
    A member DOWN/UNKNOWN/REMOVED/ROLLBACK no longer protects the data, and with too few healthy voters
    the set cannot elect a primary: without one every write fails. STARTUP2 and RECOVERING are a member
    catching up (initial sync, or fallen off the oplog).

    ## Threshold
    A member in another state or with `health` 0: high (medium while catching up); no PRIMARY among
    the members: critical. Read now.

    ## Fix
    Read the member's `lastHeartbeatMessage` and log; restart or repair it; a member stuck in
    RECOVERING because it fell off the oplog needs a resync (and a larger oplog).
    """
    replica_set = ctx.section("replica_set")
    members = replica_set.get("members") or []
    name = str(replica_set.get("set") or "replica set")
    if members and not any(as_int(m.get("state"), -1) == 1 for m in members):
        yield health_finding(
            MEMBERS,
            subject=name,
            subject_kind="node",
            title=f"replica set {name} has no primary: writes fail",
            measured="sample",
            evidence={
                "members": len(members),
                "states": ",".join(str(m.get("state_str")) for m in members),
                "threshold": "one PRIMARY",
            },
            rationale="Without a primary every write fails until an election succeeds, which needs a majority of "
            "healthy voting members.",
            help_="Bring members back until a majority of voters is healthy; read each member's heartbeat message.",
            severity=Severity.CRITICAL,
        )
    for member in members:
        state = as_int(member.get("state"), -1)
        health = as_float(member.get("health"))
        if state in HEALTHY_STATES and health != 0:
            continue
        catching_up = state in CATCHING_UP_STATES and health != 0
        yield health_finding(
            MEMBERS,
            subject=str(member.get("name")),
            subject_kind="node",
            title=f"member {member.get('name')} of {name} is {member.get('state_str') or state}"
            + (" (unreachable)" if health == 0 else ""),
            measured="sample",
            evidence={
                "state": state,
                "state_str": member.get("state_str"),
                "health": health,
                "last_heartbeat_message": member.get("last_heartbeat_message"),
                "sync_source": member.get("sync_source"),
                "threshold": "PRIMARY, SECONDARY or ARBITER",
            },
            rationale=(
                "The member is catching up (initial sync or recovering) and serves no reads until it is done."
                if catching_up
                else "The member no longer protects the data, and with too few healthy voters the set cannot elect "
                "a primary."
            ),
            help_="Read its lastHeartbeatMessage and log, restart or repair it; resync a member that fell off the "
            "oplog.",
            severity=Severity.MEDIUM if catching_up else None,
        )


# -- HLT105 -------------------------------------------------------------------------------------------------

REPLICA_LAG = spec(
    "HLT105",
    "replica-lag",
    Severity.MEDIUM,
    "A secondary's last applied operation is behind the primary's (replSetGetStatus optimes).",
    fix="never",
)


def replica_lag(ctx: MongoHealthContext) -> Iterator[Finding]:
    """A secondary is behind the primary: reads from it are stale and a failover may roll writes back.

    ## Why it matters
    The lag is the primary's last optime minus the secondary's. Reads with `secondary` read preference
    see old data; writes acknowledged with `w:1` but not yet replicated are rolled back if the primary
    fails; `w:"majority"` writes wait. Flow control throttles the primary when majority-committed lag
    passes `flowControlTargetLagSeconds`.

    ## Threshold
    10 s (medium, the flowControlTargetLagSeconds default; MongoDB docs, "Flow Control") or 60 s
    (high), read now.

    ## Fix
    Check the secondary's disk and CPU, the network, and indexes missing on it; `w:"majority"` writes
    keep the lag from growing unnoticed.
    """
    t = ctx.thresholds
    name = str(ctx.section("replica_set").get("set") or "replica set")
    for member in ctx.section("replica_set").get("members") or []:
        lag = as_float(member.get("lag_seconds"))
        if lag is None or lag < t.replica_lag_seconds:
            continue
        yield health_finding(
            REPLICA_LAG,
            subject=str(member.get("name")),
            subject_kind="node",
            title=f"secondary {member.get('name')} of {name} is {lag} s behind the primary",
            measured="sample",
            evidence={
                "lag_seconds": lag,
                "optime": member.get("optime"),
                "sync_source": member.get("sync_source"),
                "threshold_seconds": t.replica_lag_seconds,
            },
            rationale="A lagging secondary serves stale reads, and w:1 writes not yet replicated are rolled back if "
            "the primary fails.",
            help_="Check the secondary's disk, CPU and network; use w:'majority' for writes that must survive a "
            "failover.",
            severity=Severity.HIGH if lag >= t.replica_lag_high_seconds else None,
        )


RULES: tuple[tuple[RuleSpec, Check], ...] = (
    (MEMBERS, replica_set_member_unhealthy),
    (REPLICA_LAG, replica_lag),
)


__all__ = ["RULES"]
