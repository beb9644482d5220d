"""Redis health rules on clients: connections near maxclients, refused connections, clients blocked in
blocking commands (HLT135-HLT137)."""

from __future__ import annotations

from collections.abc import Iterator

from dbspecialist.knowledge.findings import Finding, RuleSpec, Severity
from dbspecialist.knowledge.health.common import as_int, health_finding, pct
from dbspecialist.knowledge.health.redis_common import Check, RedisHealthContext, spec

# -- HLT135 -------------------------------------------------------------------------------------------------

CLIENTS = spec(
    "HLT135",
    "clients-near-maxclients",
    Severity.MEDIUM,
    "Connected clients are close to maxclients: new connections will be refused.",
    fix="never",
)


def clients_near_maxclients(ctx: RedisHealthContext) -> Iterator[Finding]:
    """Connected clients are close to maxclients: the next burst of connections is refused.

    ## Why it matters
    Past `maxclients` (10,000 by default, lowered to what the process's file-descriptor limit allows)
    Redis closes new connections with "max number of clients reached" (Redis docs, "Redis client
    handling"). Thousands of connections usually mean a pool per process or leaked connections.

    ## Threshold
    80 % (medium) or 95 % (high) of maxclients, read now (our own judgement).

    ## Fix
    Share connections (a pool per application, not per request), close idle ones (`timeout`), or
    raise maxclients together with the file-descriptor limit.
    """
    t = ctx.thresholds
    connected = ctx.number("clients", "connected_clients")
    limit = ctx.number("clients", "maxclients", as_int(ctx.config("maxclients")))
    share = pct(connected, limit)
    if share is None or share < t.clients_warn_pct:
        return
    yield health_finding(
        CLIENTS,
        subject="maxclients",
        subject_kind="server",
        title=f"{connected} of maxclients={limit} clients connected ({share}%)",
        measured="sample",
        evidence={
            "connected_clients": connected,
            "maxclients": limit,
            "used_pct": share,
            "rejected_connections": ctx.number("stats", "rejected_connections"),
            "threshold_pct": t.clients_warn_pct,
        },
        rationale="Past maxclients Redis closes new connections; thousands of clients usually mean per-request "
        "connections or leaks.",
        help_="Pool connections per application, close idle ones (CONFIG SET timeout), or raise maxclients with the "
        "file-descriptor limit.",
        severity=Severity.HIGH if share >= t.clients_high_pct else None,
    )


# -- HLT136 -------------------------------------------------------------------------------------------------

REJECTED = spec(
    "HLT136",
    "rejected-connections",
    Severity.HIGH,
    "Connections were refused because maxclients was reached (rejected_connections since the server started).",
    fix="never",
)


def rejected_connections(ctx: RedisHealthContext) -> Iterator[Finding]:
    """Connections were refused because maxclients was reached: clients saw errors.

    ## Why it matters
    `rejected_connections` counts connections Redis closed at once because `maxclients` was reached;
    each was a client (often a whole application instance) that could not work.

    ## Threshold
    Any since the server started (or `CONFIG RESETSTAT`).

    ## Fix
    As for HLT135: share connections, close idle ones, or raise maxclients and the file-descriptor
    limit.
    """
    rejected = ctx.number("stats", "rejected_connections")
    if rejected <= 0:
        return
    yield health_finding(
        REJECTED,
        subject="rejected_connections",
        subject_kind="server",
        title=f"{rejected} connection(s) were refused at maxclients",
        measured="counter",
        since=ctx.stats_since,
        evidence={
            "rejected_connections": rejected,
            "per_hour": ctx.per_hour(rejected),
            "connected_clients": ctx.number("clients", "connected_clients"),
            "maxclients": ctx.number("clients", "maxclients", as_int(ctx.config("maxclients"))),
            "threshold": 1,
        },
        rationale="Each refused connection was a client that could not work.",
        help_="Pool connections, close idle ones, or raise maxclients with the file-descriptor limit.",
    )


# -- HLT137 -------------------------------------------------------------------------------------------------

BLOCKED = spec(
    "HLT137",
    "blocked-clients",
    Severity.INFO,
    "Clients are blocked in BLPOP/BRPOP/XREAD/WAIT-style commands.",
    fix="never",
)


def blocked_clients(ctx: RedisHealthContext) -> Iterator[Finding]:
    """Clients are blocked waiting in blocking commands (BLPOP, BZPOPMIN, XREAD BLOCK, WAIT).

    ## Why it matters
    Queue consumers block by design; the number is worth knowing because a blocked client holds a
    connection, and a rising count means producers stopped or consumers are over-provisioned.
    `WAIT` blocked clients mean replicas are slow to acknowledge.

    ## Threshold
    Any blocked client, read now (informational).

    ## Fix
    None needed for queue consumers; otherwise find them with `CLIENT LIST` (flags `b`).
    """
    blocked = ctx.number("clients", "blocked_clients")
    if blocked <= 0:
        return
    yield health_finding(
        BLOCKED,
        subject="blocked_clients",
        subject_kind="server",
        title=f"{blocked} client(s) are blocked in a blocking command",
        measured="sample",
        evidence={
            "blocked_clients": blocked,
            "connected_clients": ctx.number("clients", "connected_clients"),
            "threshold": 1,
        },
        rationale="Queue consumers block by design; a rising count means producers stopped, and WAIT blocks mean "
        "slow replicas.",
        help_="Expected for queue consumers; otherwise list them with CLIENT LIST (flag b).",
    )


RULES: tuple[tuple[RuleSpec, Check], ...] = (
    (CLIENTS, clients_near_maxclients),
    (REJECTED, rejected_connections),
    (BLOCKED, blocked_clients),
)


__all__ = ["RULES"]
