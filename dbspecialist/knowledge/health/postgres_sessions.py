"""PostgreSQL health rules about sessions (pg_stat_activity, sampled now): connections, long statements and
transactions, sessions idle in transaction and blocking lock chains (HLT002-HLT006)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from dbspecialist.knowledge.findings import Finding, Fix, Severity
from dbspecialist.knowledge.health.postgres_common import (
    PgHealthContext,
    as_float,
    as_int,
    cancel_fix,
    finding,
    human_seconds,
    pct,
    seconds,
    spec,
)

_IDLE_IN_TRANSACTION = ("idle in transaction", "idle in transaction (aborted)")


def _who(session: dict[str, Any]) -> str:
    user = session.get("usename") or "?"
    app = session.get("application_name") or "no application_name"
    return f"{user}, {app}"


def _session_evidence(session: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    return {
        f"{prefix}pid": as_int(session.get("pid")),
        f"{prefix}user": session.get("usename"),
        f"{prefix}application": session.get("application_name") or None,
        f"{prefix}client_addr": session.get("client_addr"),
        f"{prefix}database": session.get("datname"),
        f"{prefix}state": session.get("state"),
        f"{prefix}xact_seconds": seconds(session.get("xact_seconds")),
        f"{prefix}query_seconds": seconds(session.get("query_seconds")),
        f"{prefix}query": session.get("query"),
    }


# -- HLT002 -------------------------------------------------------------------------------------------------

CONNECTIONS = spec(
    "HLT002",
    "connections-near-limit",
    Severity.MEDIUM,
    "Client connections use most of the slots max_connections leaves to ordinary roles.",
)


def connections_near_limit(ctx: PgHealthContext) -> Iterator[Finding]:
    """Client connections use most of max_connections: the next burst gets "too many clients" errors.

    ## Why it matters
    When every slot is taken, new connections fail with `FATAL: sorry, too many clients already`
    (superusers keep `superuser_reserved_connections`, and on PostgreSQL 16+ `reserved_connections`
    more for pg_use_reserved_connections). Each backend also costs memory and makes every snapshot more
    expensive, so raising max_connections is rarely the answer.

    ## Threshold
    80 % of `max_connections - superuser_reserved_connections - reserved_connections` (medium), 95 %
    (high): our own judgement, counted from pg_stat_activity's client backends (a sample).

    ## Fix
    Put a pooler (PgBouncer in transaction mode) between the application and PostgreSQL, shrink
    application pools, and end idle sessions (`idle_session_timeout`, PostgreSQL 14+). `plan_capacity`
    projects the connections needed at 10x the load.
    """
    activity = ctx.section("activity")
    used, counted_from = ctx.connections_used()
    max_connections = as_int(ctx.setting("max_connections"))
    reserved = as_int(ctx.setting("superuser_reserved_connections")) + as_int(ctx.setting("reserved_connections"))
    available = max_connections - reserved
    used_pct = pct(used, available)
    t = ctx.thresholds
    if used_pct is None or used_pct < t.connections_warn_pct:
        return
    by_state = activity.get("by_state") or {}
    idle = as_int(by_state.get("idle"))
    fix = None
    if ctx.major >= 14 and idle * 2 >= used:
        fix = Fix(
            title="Close sessions idle for more than 15 minutes (idle_session_timeout)",
            statements=["ALTER SYSTEM SET idle_session_timeout = '15min';", "SELECT pg_reload_conf();"],
            safety="unsafe",
            note="Pools that keep idle connections open will see them closed and must reconnect; set it per role "
            "(ALTER ROLE ... SET idle_session_timeout) to spare them.",
        )
    yield finding(
        CONNECTIONS,
        subject=ctx.database or "server",
        subject_kind="server",
        title=f"{used} of {available} connection slots in use ({used_pct}%)",
        measured="sample",
        evidence={
            "connections_used": used,
            "counted_from": counted_from,
            "max_connections": max_connections,
            "reserved_connections": reserved,
            "available_connections": available,
            "used_pct": used_pct,
            "idle": idle,
            "active": as_int(by_state.get("active")),
            "idle_in_transaction": as_int(by_state.get("idle in transaction")),
            "threshold_pct": t.connections_warn_pct,
        },
        rationale=(
            "When the slots run out, new connections fail with 'too many clients already'. Every backend also "
            "costs memory and makes snapshots dearer, so a pooler serves the same clients with fewer of them."
        ),
        help_="Put PgBouncer (transaction pooling) in front and shrink application pools; `plan_capacity` "
        "projects connections at 10x.",
        fix=fix,
        severity=Severity.HIGH if used_pct >= t.connections_high_pct else None,
    )


# -- HLT003 -------------------------------------------------------------------------------------------------

LONG_QUERY = spec(
    "HLT003",
    "long-running-query",
    Severity.MEDIUM,
    "A statement has been running for longer than the threshold.",
)


def long_running_query(ctx: PgHealthContext) -> Iterator[Finding]:
    """A statement has been running for minutes: it holds its locks and snapshot all that time.

    ## Why it matters
    A long statement keeps the locks it took and, through its snapshot, stops VACUUM from removing
    rows that died after it started, on every table. In OLTP it is usually a missing index, a runaway
    report or a query with no timeout.

    ## Threshold
    `now - query_start` of an active client backend at least 5 minutes (medium) or an hour (high): our
    own judgement for OLTP, sampled from pg_stat_activity. Sessions waiting on a lock are left to HLT006.

    ## Fix
    `explain_query` the statement; cancel it if it is not needed (`SELECT pg_cancel_backend(pid)`,
    display-only advice); set `statement_timeout` for the role that runs it.
    """
    t = ctx.thresholds
    for s in ctx.client_sessions():
        age = as_float(s.get("query_seconds"), 0.0)
        if s.get("state") != "active" or age < t.long_query_seconds or s.get("blocked_by"):
            continue
        pid = as_int(s.get("pid"))
        yield finding(
            LONG_QUERY,
            subject=f"pid {pid}",
            subject_kind="query",
            title=f"pid {pid} ({_who(s)}) has run one statement for {human_seconds(age)}",
            measured="sample",
            evidence={
                **_session_evidence(s),
                "wait_event": s.get("wait_event"),
                "xmin_age": s.get("xmin_age"),
                "threshold_seconds": t.long_query_seconds,
            },
            rationale=(
                "A running statement keeps its locks and its snapshot: VACUUM cannot remove rows that died after "
                "it started, in any table, until it ends."
            ),
            help_="`explain_query` the statement; cancel it if it is not needed and set statement_timeout for "
            "the role.",
            fix=cancel_fix(pid, idle=False),
            severity=Severity.HIGH if age >= t.long_query_high_seconds else None,
        )


# -- HLT004 -------------------------------------------------------------------------------------------------

LONG_TRANSACTION = spec(
    "HLT004",
    "long-running-transaction",
    Severity.MEDIUM,
    "A transaction has been open for longer than the threshold while running short statements.",
)


def long_running_transaction(ctx: PgHealthContext) -> Iterator[Finding]:
    """A transaction has stayed open for minutes: its locks and snapshot outlive every statement in it.

    ## Why it matters
    Locks are released at commit, not at the end of each statement, so a long transaction holds every
    row and table lock it took. Under REPEATABLE READ or SERIALIZABLE its snapshot also stops VACUUM from
    cleaning up rows that died since it began (`xmin_age` in the evidence).

    ## Threshold
    `now - xact_start` of an active client backend at least 5 minutes (medium) or an hour (high), when
    its current statement is younger (a long statement is HLT003, an idle transaction HLT005). Our own
    judgement for OLTP; sampled from pg_stat_activity.

    ## Fix
    Commit sooner: batch the work in smaller transactions, keep user think-time and remote calls out of
    them. End it now with `SELECT pg_terminate_backend(pid)` (display-only advice: it rolls back).
    """
    t = ctx.thresholds
    for s in ctx.client_sessions():
        xact = as_float(s.get("xact_seconds"), 0.0)
        query = as_float(s.get("query_seconds"), 0.0)
        if s.get("state") != "active" or xact < t.long_transaction_seconds or query >= t.long_query_seconds:
            continue
        if s.get("blocked_by"):
            continue
        pid = as_int(s.get("pid"))
        yield finding(
            LONG_TRANSACTION,
            subject=f"pid {pid}",
            subject_kind="query",
            title=f"pid {pid} ({_who(s)}) has kept one transaction open for {human_seconds(xact)}",
            measured="sample",
            evidence={
                **_session_evidence(s),
                "xmin_age": s.get("xmin_age"),
                "threshold_seconds": t.long_transaction_seconds,
            },
            rationale=(
                "Locks are released at commit, so a long transaction holds every lock it took; its snapshot can "
                "also stop VACUUM from removing dead rows everywhere."
            ),
            help_="Commit in smaller batches and keep waits on users or remote calls out of transactions.",
            fix=cancel_fix(pid, idle=False),
            severity=Severity.HIGH if xact >= t.long_transaction_high_seconds else None,
        )


# -- HLT005 -------------------------------------------------------------------------------------------------

IDLE_IN_TRANSACTION = spec(
    "HLT005",
    "idle-in-transaction",
    Severity.MEDIUM,
    "Sessions sit idle inside an open transaction, holding locks and the vacuum horizon.",
    fix="always",
)


def idle_in_transaction(ctx: PgHealthContext) -> Iterator[Finding]:
    """Sessions sit idle inside an open transaction: their locks and snapshot stay until they return.

    ## Why it matters
    An application that opened a transaction and went away (a missing COMMIT, an exception path, a
    debugger, a pool that hands out connections mid-transaction) keeps every lock the transaction took
    and holds back VACUUM's cleanup horizon. A DDL statement queued behind such a session then blocks
    every other query on the table (HLT006).

    ## Threshold
    In the state `idle in transaction` for 30 s (medium) or 10 minutes (high): our own judgement,
    sampled from pg_stat_activity (`now - state_change`). The finding names the oldest session and lists
    every pid over the threshold.

    ## Fix
    Find the code path that leaves the transaction open. Let the server end such sessions with
    `idle_in_transaction_session_timeout` (off by default; PostgreSQL docs, "Client Connection
    Defaults"), and end the oldest now with `SELECT pg_terminate_backend(pid)` (display-only advice).
    """
    t = ctx.thresholds
    idle = [
        s
        for s in ctx.client_sessions()
        if s.get("state") in _IDLE_IN_TRANSACTION
        and as_float(s.get("state_seconds"), 0.0) >= t.idle_in_transaction_seconds
    ]
    if not idle:
        return
    idle.sort(key=lambda s: (-as_float(s.get("state_seconds"), 0.0), as_int(s.get("pid"))))
    oldest = idle[0]
    oldest_pid = as_int(oldest.get("pid"))
    oldest_idle = as_float(oldest.get("state_seconds"), 0.0)
    timeout = as_int(ctx.setting("idle_in_transaction_session_timeout"))
    by_state = ctx.section("activity").get("by_state") or {}
    if timeout == 0:
        fix = Fix(
            title="End sessions idle in a transaction for more than 5 minutes automatically",
            statements=["ALTER SYSTEM SET idle_in_transaction_session_timeout = '5min';", "SELECT pg_reload_conf();"],
            safety="unsafe",
            note=(
                f"The server then closes such sessions (their transaction rolls back). To end the oldest now: "
                f"SELECT pg_terminate_backend({oldest_pid});"
            ),
        )
    else:
        fix = cancel_fix(oldest_pid, idle=True)
    pids = sorted(as_int(s.get("pid")) for s in idle)
    yield finding(
        IDLE_IN_TRANSACTION,
        subject=ctx.database or "server",
        subject_kind="server",
        title=(
            f"{len(idle)} session(s) idle in a transaction; the oldest, pid {oldest_pid} ({_who(oldest)}), "
            f"for {human_seconds(oldest_idle)}"
        ),
        measured="sample",
        evidence={
            "sessions": len(idle),
            "idle_in_transaction_total": sum(as_int(by_state.get(state)) for state in _IDLE_IN_TRANSACTION),
            "pids": ",".join(str(p) for p in pids),
            "oldest_pid": oldest_pid,
            "oldest_idle_seconds": seconds(oldest_idle),
            "oldest_xact_seconds": seconds(oldest.get("xact_seconds")),
            "oldest_user": oldest.get("usename"),
            "oldest_application": oldest.get("application_name") or None,
            "oldest_last_query": oldest.get("query"),
            "idle_in_transaction_session_timeout_ms": timeout,
            "threshold_seconds": t.idle_in_transaction_seconds,
        },
        rationale=(
            "A transaction left open keeps its locks and holds back VACUUM's cleanup horizon until the application "
            "comes back; DDL queued behind it blocks everyone else on the table."
        ),
        help_="Find the code path that leaves the transaction open; set idle_in_transaction_session_timeout "
        "so the server ends such sessions.",
        fix=fix,
        severity=Severity.HIGH if oldest_idle >= t.idle_in_transaction_high_seconds else None,
    )


# -- HLT006 -------------------------------------------------------------------------------------------------

BLOCKING_CHAIN = spec(
    "HLT006",
    "blocking-lock-chain",
    Severity.MEDIUM,
    "A session holds locks that other sessions have been waiting for (who blocks whom, for how long).",
    fix="always",
)


def _chains(sessions: list[dict[str, Any]]) -> list[tuple[int, dict[int, int]]]:
    """(root pid, {blocked pid: depth}) for each blocker that is not itself waiting, most blocked first."""
    blocked_by: dict[int, list[int]] = {
        as_int(s.get("pid")): [as_int(p) for p in s.get("blocked_by") or []] for s in sessions if s.get("blocked_by")
    }
    blocks: dict[int, list[int]] = {}
    for waiter, blockers in blocked_by.items():
        for blocker in blockers:
            blocks.setdefault(blocker, []).append(waiter)
    roots = sorted(b for b in blocks if b not in blocked_by)
    out: list[tuple[int, dict[int, int]]] = []
    for root in roots:
        depth: dict[int, int] = {}
        frontier = [root]
        level = 0
        while frontier:
            level += 1
            following: list[int] = []
            for pid in frontier:
                for waiter in sorted(blocks.get(pid, [])):
                    if waiter != root and depth.get(waiter, 0) < level:
                        depth[waiter] = level
                        following.append(waiter)
            frontier = following if level < len(blocked_by) + 1 else []
        out.append((root, depth))
    out.sort(key=lambda item: (-len(item[1]), item[0]))
    return out


def _wait_seconds(session: dict[str, Any]) -> float:
    """How long a backend has waited for its lock: pg_locks.waitstart (14+), else since its statement began."""
    wait = session.get("lock_wait_seconds")
    return as_float(wait if wait is not None else session.get("query_seconds"), 0.0)


def blocking_lock_chain(ctx: PgHealthContext) -> Iterator[Finding]:
    """A session holds locks other sessions wait for: who blocks whom, how deep the queue, for how long.

    ## Why it matters
    PostgreSQL grants locks in queue order, so one long holder can stall a whole chain: a transaction
    left open holds a row lock, an `ALTER TABLE` waits for it with an ACCESS EXCLUSIVE request, and
    every later SELECT on the table queues behind the ALTER. The chain comes from
    `pg_blocking_pids()` (PostgreSQL docs, "System Information Functions"); the wait time from
    `pg_locks.waitstart` (PostgreSQL 14+, else the waiting statement's age).

    ## Threshold
    The longest wait in the chain at least 5 s (medium) or 60 s (high): our own judgement (the server's
    own deadlock_timeout is 1 s). Sampled now.

    ## Fix
    Finish or end the blocking transaction: `SELECT pg_cancel_backend(pid)` stops its running statement,
    `SELECT pg_terminate_backend(pid)` ends the session and rolls it back (the only way for a session
    idle in transaction). Both are display-only advice: check what it is doing first. Run DDL with a
    short `lock_timeout` so it gives up instead of queueing (`plan_migration` plans that).
    """
    t = ctx.thresholds
    sessions = ctx.sessions
    by_pid = {as_int(s.get("pid")): s for s in sessions}
    for root, depth in _chains(sessions):
        waiters = [by_pid[p] for p in depth if p in by_pid]
        if not waiters:
            continue
        longest = max(waiters, key=lambda s: (_wait_seconds(s), -as_int(s.get("pid"))))
        wait = _wait_seconds(longest)
        if wait < t.lock_wait_seconds:
            continue
        blocker = by_pid.get(root, {"pid": root})
        idle = blocker.get("state") in _IDLE_IN_TRANSACTION
        direct = sorted(p for p, d in depth.items() if d == 1)
        chain_depth = max(depth.values())
        yield finding(
            BLOCKING_CHAIN,
            subject=f"pid {root}",
            subject_kind="query",
            title=(
                f"pid {root} ({_who(blocker)}, {blocker.get('state') or 'state unknown'}) blocks {len(depth)} "
                f"session(s), the longest waiting {human_seconds(wait)}; chain depth {chain_depth}"
            ),
            measured="sample",
            evidence={
                **_session_evidence(blocker, "blocker_"),
                "blocked_sessions": len(depth),
                "blocked_pids": ",".join(str(p) for p in sorted(depth)),
                "directly_blocked_pids": ",".join(str(p) for p in direct),
                "chain_depth": chain_depth,
                "longest_wait_seconds": seconds(wait),
                "longest_waiting_pid": as_int(longest.get("pid")),
                "longest_waiting_query": longest.get("query"),
                "wait_source": "pg_locks.waitstart" if longest.get("lock_wait_seconds") is not None else "query_start",
                "threshold_seconds": t.lock_wait_seconds,
            },
            rationale=(
                "Locks are granted in queue order: while this session keeps its transaction open, the sessions "
                "behind it wait, and anything queued behind a waiting strong lock request (DDL) waits too."
            ),
            help_="Finish or end the blocking transaction; run DDL with a short lock_timeout (`plan_migration`).",
            fix=cancel_fix(root, idle=idle),
            severity=Severity.HIGH if wait >= t.lock_wait_high_seconds else None,
        )


RULES = (
    (CONNECTIONS, connections_near_limit),
    (LONG_QUERY, long_running_query),
    (LONG_TRANSACTION, long_running_transaction),
    (IDLE_IN_TRANSACTION, idle_in_transaction),
    (BLOCKING_CHAIN, blocking_lock_chain),
)
