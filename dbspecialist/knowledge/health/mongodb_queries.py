"""MongoDB health rules on operations and the indexes that serve them: long-running operations, unused
indexes, queries that examine many documents per document returned (HLT103, HLT106, HLT107)."""

from __future__ import annotations

from collections.abc import Iterator

from dbspecialist.knowledge.findings import Finding, Fix, RuleSpec, Severity
from dbspecialist.knowledge.health.common import (
    DAY_SECONDS,
    as_float,
    as_int,
    health_finding,
)
from dbspecialist.knowledge.health.mongodb_common import Check, MongoHealthContext, spec


def _js(text: str) -> str:
    """A string literal for mongosh."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


# -- HLT103 -------------------------------------------------------------------------------------------------

LONG_OPERATIONS = spec(
    "HLT103",
    "long-running-operation",
    Severity.MEDIUM,
    "An operation has been running for a long time (currentOp secs_running).",
    fix="always",
)


def long_running_operation(ctx: MongoHealthContext) -> Iterator[Finding]:
    """An operation has been running for minutes: a collection scan, a lock wait or a runaway aggregation.

    ## Why it matters
    A long operation holds a connection and server resources (cache, CPU, a snapshot that pins old
    data in the cache) and often a lock that others wait for (`waitingForLock`). `planSummary`
    `COLLSCAN` means no index serves it. Driver `hello` waits, tailable cursors and change streams are
    long by design and are left out.

    ## Threshold
    60 s (medium) or 600 s (high) of `secs_running`, read now (our own judgement).

    ## Fix
    `explain_query` the command and `recommend_indexes` for a scan; give queries a `maxTimeMS`; stop
    this one with `db.killOp(opid)` if it is not wanted.
    """
    t = ctx.thresholds
    for op in ctx.snapshot.get("operations") or []:
        seconds = as_float(op.get("secs_running")) or 0.0
        if seconds < t.long_op_seconds:
            continue
        opid = op.get("opid")
        ns = str(op.get("ns") or "")
        collection = ns.split(".", 1)[1] if "." in ns else None
        yield health_finding(
            LONG_OPERATIONS,
            subject=ns or f"op {opid}",
            subject_kind="collection" if collection else "query",
            table=collection,
            title=f"operation {opid} ({op.get('op')}) on {ns or '?'} has run for {int(seconds)} s",
            measured="sample",
            evidence={
                "opid": str(opid),
                "op": op.get("op"),
                "secs_running": seconds,
                "plan_summary": op.get("plan_summary"),
                "waiting_for_lock": bool(op.get("waiting_for_lock")),
                "client": op.get("client"),
                "app_name": op.get("app_name"),
                "command": op.get("command"),
                "threshold_seconds": t.long_op_seconds,
            },
            rationale="A long operation holds a connection, cache and CPU, often a lock others wait for"
            + ("; COLLSCAN means no index serves it." if op.get("plan_summary") == "COLLSCAN" else "."),
            help_="`explain_query` the command and `recommend_indexes` for a scan; give queries a maxTimeMS.",
            fix=Fix(
                title=f"Stop operation {opid}",
                statements=[f"db.killOp({_js(str(opid)) if not isinstance(opid, int) else opid})"],
                safety="display-only",
                note="A killed write stops where it is (no rollback of the documents already changed outside a "
                "transaction). Ask its owner first.",
            ),
            severity=Severity.HIGH if seconds >= t.long_op_high_seconds else None,
        )


# -- HLT106 -------------------------------------------------------------------------------------------------

UNUSED_INDEX = spec(
    "HLT106",
    "unused-index",
    Severity.LOW,
    "An index has served no operation since its usage counter started ($indexStats accesses.ops = 0).",
    fix="always",
)


def unused_index(ctx: MongoHealthContext) -> Iterator[Finding]:
    """An index has served no query since its counter started: it costs writes and cache for nothing.

    ## Why it matters
    Every insert, update and delete maintains every index, and the index's pages compete for the
    WiredTiger cache. `$indexStats` counts the operations that used each index (`accesses.ops`) since
    `accesses.since`: the server's start or the index's creation. The counters are per member: an index
    used only on secondaries (analytics reads) shows 0 on the primary.

    ## Threshold
    0 ops over at least 7 days (as for PostgreSQL's unused indexes). `_id_`, unique indexes (they
    enforce a constraint) and TTL indexes (the TTL monitor's deletes are not counted) are left out.

    ## Fix
    Check every member first, then hide the index (`collMod` with `hidden: true`, MongoDB 4.4+) to
    test the effect without a rebuild, and drop it when nothing got slower.
    """
    t = ctx.thresholds
    uptime = ctx.uptime
    for index in ctx.snapshot.get("indexes") or []:
        name = str(index.get("name"))
        if name == "_id_" or index.get("unique") or index.get("ttl") or as_int(index.get("ops"), -1) != 0:
            continue
        window = as_float(index.get("since_age_seconds"))
        source = "accesses.since"
        if window is None:
            window, source = uptime, "server uptime"
        if window is None or window < t.unused_index_min_days * DAY_SECONDS:
            continue
        collection = str(index.get("collection"))
        size = index.get("size_bytes")
        hide = f"db.runCommand({{collMod: {_js(collection)}, index: {{name: {_js(name)}, hidden: true}}}})"
        yield health_finding(
            UNUSED_INDEX,
            subject=f"{collection}.{name}",
            subject_kind="index",
            table=collection,
            title=f"index {name} on {collection} served no operation in {round(window / DAY_SECONDS, 1)} days",
            measured="counter",
            since=index.get("since") or ctx.stats_since,
            evidence={
                "collection": collection,
                "index": name,
                "key": index.get("key"),
                "ops": 0,
                "window_days": round(window / DAY_SECONDS, 2),
                "window_source": source,
                "size_bytes": size,
                "hidden": bool(index.get("hidden")),
                "threshold_days": t.unused_index_min_days,
            },
            rationale="Every write maintains the index and its pages compete for the cache, yet no operation used it "
            "on this member.",
            help_="Check the other members' $indexStats, hide it to test, then drop it; `recommend_indexes` checks the "
            "remaining ones against the workload.",
            fix=Fix(
                title=f"Hide {name}, then drop it if nothing gets slower",
                statements=[hide, f"db.getCollection({_js(collection)}).dropIndex({_js(name)})"],
                safety="display-only",
                note="Hiding keeps the index maintained but unused by the planner, and unhiding is instant; dropping "
                "it means a rebuild to get it back. Counters are per member and restart at a server restart.",
            ),
        )


# -- HLT107 -------------------------------------------------------------------------------------------------

SCAN_RATIO = spec(
    "HLT107",
    "high-scan-ratio",
    Severity.LOW,
    "Queries examine many documents per document they return (metrics.queryExecutor.scannedObjects).",
    fix="always",
)


def high_scan_ratio(ctx: MongoHealthContext) -> Iterator[Finding]:
    """Queries examine many documents for each one they return: indexes are missing or not selective.

    ## Why it matters
    `metrics.queryExecutor.scannedObjects` counts documents examined and `metrics.document.returned`
    documents returned, since the server started. A high ratio means collection scans or indexes that
    do not match the filters, so the cache and CPU work for documents nobody asked for.
    `metrics.operation.scanAndOrder` counts sorts done in memory.

    ## Threshold
    100 examined per returned (low) or 1,000 (medium), over at least a million examined (our own
    judgement).

    ## Fix
    Enable the profiler for slow operations (`db.setProfilingLevel(1, {slowms: 100})`) or read the
    slow-query log, then `top_queries`, `explain_query` and `recommend_indexes`.
    """
    t = ctx.thresholds
    executor = ctx.section("query_executor")
    scanned, returned = as_int(executor.get("scanned_objects")), as_int(executor.get("returned"))
    if scanned < t.scan_min_objects:
        return
    ratio = round(scanned / max(returned, 1), 1)
    if ratio < t.scan_ratio:
        return
    yield health_finding(
        SCAN_RATIO,
        subject=ctx.database or "server",
        subject_kind="server",
        title=f"queries examined {ratio} documents per document returned",
        measured="counter",
        since=ctx.stats_since,
        evidence={
            "scanned_objects": scanned,
            "returned": returned,
            "scanned_per_returned": ratio,
            "scanned_keys": executor.get("scanned_keys"),
            "scan_and_order": executor.get("scan_and_order"),
            "threshold_ratio": t.scan_ratio,
        },
        rationale="Collection scans or unselective indexes make the cache and CPU work for documents nobody asked for.",
        help_="Find the queries with the profiler or `top_queries`, then `explain_query` and `recommend_indexes`.",
        fix=Fix(
            title="Profile operations slower than 100 ms",
            statements=["db.setProfilingLevel(1, {slowms: 100})"],
            note="Per database; the profiler writes to the capped system.profile collection.",
        ),
        severity=Severity.MEDIUM if ratio >= t.scan_ratio_medium else None,
    )


RULES: tuple[tuple[RuleSpec, Check], ...] = (
    (LONG_OPERATIONS, long_running_operation),
    (UNUSED_INDEX, unused_index),
    (SCAN_RATIO, high_scan_ratio),
)


__all__ = ["RULES"]
