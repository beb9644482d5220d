"""MySQL/MariaDB health rules on connections and threads: connections near max_connections, many statements
running at once, aborted connections (HLT052, HLT053, HLT055)."""

from __future__ import annotations

from collections.abc import Iterator

from dbspecialist.knowledge.findings import Finding, RuleSpec, Severity
from dbspecialist.knowledge.health.common import NO_SINCE, as_int, health_finding, pct
from dbspecialist.knowledge.health.model import Measured
from dbspecialist.knowledge.health.mysql_common import Check, MySqlHealthContext, spec

# -- HLT052 -------------------------------------------------------------------------------------------------

CONNECTIONS = spec(
    "HLT052",
    "connections-near-max",
    Severity.MEDIUM,
    "Connections in use (or their peak) are close to max_connections, or clients were refused.",
    fix="never",
)


def connections_near_max(ctx: MySqlHealthContext) -> Iterator[Finding]:
    """Connections are close to max_connections (or reached it): the next burst of clients is refused.

    ## Why it matters
    Past `max_connections` new clients get error 1040 "Too many connections"
    (`Connection_errors_max_connections` counts them). Each connection also costs memory and a thread;
    many idle ones usually mean pools sized per application instance rather than for the server.

    ## Threshold
    `Threads_connected` at 80 % of max_connections (medium) or 95 % (high), read now; a peak
    (`Max_used_connections`, since the server started) of 90 % is low; any refused connection is high.
    Our own judgement, as for PostgreSQL.

    ## Fix
    Put a pooler in front (ProxySQL, or the application's pool sized for the server), close idle
    connections (`wait_timeout`); raise max_connections only with memory to spare (`tune_config`).
    """
    t = ctx.thresholds
    limit = as_int(ctx.variable("max_connections"))
    if limit <= 0:
        return
    connected = ctx.status("Threads_connected")
    peak = ctx.status("Max_used_connections")
    refused = ctx.status("Connection_errors_max_connections")
    used_pct = pct(connected, limit) or 0.0
    peak_pct = pct(peak, limit) or 0.0
    measured: Measured = "sample"
    if refused > 0:
        severity, measured = Severity.HIGH, "counter"
        title = f"{refused} connection(s) were refused at max_connections={limit}"
    elif used_pct >= t.connections_warn_pct:
        severity = Severity.HIGH if used_pct >= t.connections_high_pct else Severity.MEDIUM
        title = f"{connected} of max_connections={limit} connections in use ({used_pct}%)"
    elif peak_pct >= t.peak_connections_pct:
        severity, measured = Severity.LOW, "counter"
        title = f"connections peaked at {peak} of max_connections={limit} ({peak_pct}%)"
    else:
        return
    yield health_finding(
        CONNECTIONS,
        subject="max_connections",
        subject_kind="server",
        title=title,
        measured=measured,
        since=ctx.stats_since if measured == "counter" else NO_SINCE,
        evidence={
            "threads_connected": connected,
            "max_connections": limit,
            "used_pct": used_pct,
            "max_used_connections": peak,
            "peak_pct": peak_pct,
            "refused_connections": refused,
            "threshold_pct": t.connections_warn_pct,
        },
        rationale=(
            "Past max_connections new clients get 'Too many connections'; each connection also costs a thread and "
            "its buffers."
        ),
        help_="Pool connections (ProxySQL or a right-sized application pool) and lower wait_timeout; raise "
        "max_connections only with memory to spare (`tune_config`).",
        severity=severity,
    )


# -- HLT053 -------------------------------------------------------------------------------------------------

THREADS_RUNNING = spec(
    "HLT053",
    "many-threads-running",
    Severity.MEDIUM,
    "Many statements run at the same moment (Threads_running): they queue for CPU and InnoDB latches.",
    fix="never",
)


def many_threads_running(ctx: MySqlHealthContext) -> Iterator[Finding]:
    """Many statements run at the same moment: they compete for CPU and InnoDB's latches.

    ## Why it matters
    `Threads_running` is the number of threads executing a statement right now (sleeping connections
    are not counted). When it exceeds the cores available, statements queue and every one gets slower;
    a sudden rise usually means a slow query piling up, or lock waits.

    ## Threshold
    32 threads (medium) and 100 (high), read now, without the snapshot's own thread (our own
    judgement: more than a typical server's cores).

    ## Fix
    `top_queries` for what runs; current lock waits (HLT057) for what blocks; limit concurrency with a
    pooler, or `innodb_thread_concurrency`/the thread pool where available (`tune_config`).
    """
    t = ctx.thresholds
    running = max(ctx.status("Threads_running") - 1, 0)  # the snapshot's own statement
    if running < t.threads_running_warn:
        return
    yield health_finding(
        THREADS_RUNNING,
        subject="threads_running",
        subject_kind="server",
        title=f"{running} statements are running at once",
        measured="sample",
        evidence={
            "threads_running": running,
            "threads_connected": ctx.status("Threads_connected"),
            "current_lock_waits": ctx.status("Innodb_row_lock_current_waits"),
            "threshold": t.threads_running_warn,
        },
        rationale="More statements running than there are cores queue for CPU and InnoDB latches; each gets slower.",
        help_="See what runs with `top_queries` and what waits in the lock-wait findings; limit concurrency with a "
        "pooler.",
        severity=Severity.HIGH if running >= t.threads_running_high else None,
    )


# -- HLT055 -------------------------------------------------------------------------------------------------

ABORTED = spec(
    "HLT055",
    "aborted-connections",
    Severity.LOW,
    "Many connection attempts fail (Aborted_connects) or connections are dropped unclosed (Aborted_clients).",
    fix="never",
)

_ABORTED_TEXT = {
    "Aborted_connects": (
        "connection attempts failed",
        "Failed attempts are wrong passwords, missing grants, connect_timeout or clients that are not MySQL "
        "clients; many of them hint at a misconfigured application or a scan of the port.",
        "Read the error log (log_warnings / log_error_verbosity >= 3 lists each) and fix credentials or "
        "connect_timeout.",
    ),
    "Aborted_clients": (
        "connections were dropped without being closed",
        "Clients that exit without closing, or sit idle past wait_timeout, or send packets over "
        "max_allowed_packet; the application loses work mid-transaction.",
        "Close connections properly and align the pool's idle timeout with wait_timeout.",
    ),
}


def aborted_connections(ctx: MySqlHealthContext) -> Iterator[Finding]:
    """Many connection attempts fail, or connections end without being closed.

    ## Why it matters
    `Aborted_connects` counts failed connection attempts (bad credentials, missing grants,
    `connect_timeout`), `Aborted_clients` connections that ended without a proper close (client exit,
    `wait_timeout`, `max_allowed_packet`) (MySQL docs, "Communication Errors and Aborted
    Connections"). Both are compared with `Connections`, the attempts since the server started.

    ## Threshold
    1 % of attempts (low) or 10 % (medium), with at least 100 aborted (our own judgement).

    ## Fix
    The error log names each aborted connection when `log_warnings`/`log_error_verbosity` is high
    enough; fix credentials, connect_timeout, or the pool's idle timeout against wait_timeout.
    """
    t = ctx.thresholds
    attempts = ctx.status("Connections")
    for counter, (what, rationale, action) in _ABORTED_TEXT.items():
        aborted = ctx.status(counter)
        share = pct(aborted, attempts)
        if share is None or aborted < t.aborted_min or share < t.aborted_pct:
            continue
        yield health_finding(
            ABORTED,
            subject=counter.lower(),
            subject_kind="server",
            title=f"{aborted} {what} ({share}% of {attempts} connections)",
            measured="counter",
            since=ctx.stats_since,
            evidence={
                "counter": counter,
                "aborted": aborted,
                "connections": attempts,
                "aborted_pct": share,
                "per_hour": ctx.per_hour(aborted),
                "threshold_pct": t.aborted_pct,
            },
            rationale=rationale,
            help_=action,
            severity=Severity.MEDIUM if share >= t.aborted_medium_pct else None,
        )


RULES: tuple[tuple[RuleSpec, Check], ...] = (
    (CONNECTIONS, connections_near_max),
    (THREADS_RUNNING, many_threads_running),
    (ABORTED, aborted_connections),
)


__all__ = ["RULES"]
