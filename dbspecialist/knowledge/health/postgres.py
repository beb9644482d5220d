"""check_health for PostgreSQL: the snapshot of `adapters/health_postgres.py` interpreted into findings.

Pure: no I/O, no clock (every age was computed by the server). The rules live in four modules by topic:
`postgres_server` (cache, deadlocks, replication, wraparound, temp files, checkpoints), `postgres_sessions`
(connections, long statements and transactions, idle in transaction, lock chains), `postgres_maintenance`
(vacuum, analyze, bloat, sequences) and `postgres_indexes` (invalid, unused, duplicate). Each finding says how
it was measured: a counter since the statistics reset, a sample read now, or an estimate.
"""

from __future__ import annotations

from typing import Any

from dbspecialist.knowledge.findings import RuleSpec
from dbspecialist.knowledge.health import postgres_indexes, postgres_maintenance, postgres_server, postgres_sessions
from dbspecialist.knowledge.health.common import Metrics, health_report, sorted_rules, unavailable_checks
from dbspecialist.knowledge.health.model import HealthReport
from dbspecialist.knowledge.health.postgres_common import (
    DAY_SECONDS,
    WRAPAROUND_LIMIT,
    Check,
    PgHealthContext,
    PgThresholds,
    as_float,
    as_int,
    pct,
    seconds,
)

RULES: tuple[tuple[RuleSpec, Check], ...] = sorted_rules(
    postgres_server.RULES, postgres_sessions.RULES, postgres_maintenance.RULES, postgres_indexes.RULES
)

# Rule id → the check name the snapshot's `unavailable` uses (adapters/health_postgres.py, `_sections`).
RULE_CHECKS: dict[str, str] = {
    "HLT001": "cache_hit_ratio",
    "HLT002": "connections",
    "HLT003": "long_running_queries",
    "HLT004": "long_transactions",
    "HLT005": "idle_in_transaction",
    "HLT006": "blocking_locks",
    "HLT007": "deadlocks",
    "HLT008": "replication_lag",
    "HLT009": "replication_slots",
    "HLT010": "vacuum",
    "HLT011": "analyze",
    "HLT012": "table_bloat",
    "HLT013": "index_bloat",
    "HLT014": "wraparound",
    "HLT015": "sequences",
    "HLT016": "invalid_indexes",
    "HLT017": "unused_indexes",
    "HLT018": "duplicate_indexes",
    "HLT019": "temp_files",
    "HLT020": "checkpoints",
}
# Checks whose counters stay at zero while track_counts is off.
_NEEDS_TRACK_COUNTS = ("cache_hit_ratio", "deadlocks", "vacuum", "analyze", "unused_indexes", "temp_files")


def _skipped(ctx: PgHealthContext) -> dict[str, str]:
    skipped = unavailable_checks(ctx.snapshot)
    if ctx.setting("track_counts") == "off":
        for check in _NEEDS_TRACK_COUNTS:
            skipped.setdefault(
                check,
                "track_counts is off, so the table and index counters stay at zero: ALTER SYSTEM SET track_counts = "
                "on; SELECT pg_reload_conf(); (autovacuum needs it too)",
            )
    return skipped


def _metrics(ctx: PgHealthContext, skipped: dict[str, str]) -> Metrics:
    metrics: Metrics = {
        "role": "standby" if ctx.snapshot.get("in_recovery") else "primary",
        "uptime_seconds": seconds(ctx.snapshot.get("uptime_seconds")),
        "stats_since_source": (
            "pg_stat_database.stats_reset"
            if (ctx.section("stats").get("database_stats") or {}).get("stats_reset")
            else "server start (a lower bound: counters survive a clean restart)"
        ),
    }
    if ctx.snapshot.get("stats") is not None:
        io = ctx.section("stats").get("io") or {}
        for scope, prefix in (("tables", "heap"), ("indexes", "idx")):
            hit, read = as_int(io.get(f"{prefix}_blks_hit")), as_int(io.get(f"{prefix}_blks_read"))
            metrics[f"cache_hit_ratio_{scope}_pct"] = pct(hit, hit + read)
        stats = ctx.section("stats").get("database_stats") or {}
        window = ctx.stats_window_seconds
        metrics["deadlocks"] = as_int(stats.get("deadlocks"))
        metrics["temp_bytes_per_day"] = (
            int(as_int(stats.get("temp_bytes")) / (window / DAY_SECONDS)) if window else None
        )
        ages = [as_int(d.get("xid_age")) for d in ctx.section("stats").get("databases") or []]
        metrics["max_xid_age"] = max(ages) if ages else None
        metrics["max_xid_age_pct"] = round(100.0 * max(ages) / WRAPAROUND_LIMIT, 2) if ages else None
    if "connections" not in skipped:
        activity = ctx.section("activity")
        used, _counted_from = ctx.connections_used()
        reserved = as_int(ctx.setting("superuser_reserved_connections")) + as_int(ctx.setting("reserved_connections"))
        available = as_int(ctx.setting("max_connections")) - reserved
        by_state = activity.get("by_state") or {}
        clients = ctx.client_sessions()
        metrics.update(
            {
                "connections_used": used,
                "connections_available": available,
                "connections_used_pct": pct(used, available),
                "sessions_active": as_int(by_state.get("active")) + 1,  # + the snapshot's own session
                "sessions_idle_in_transaction": as_int(by_state.get("idle in transaction"))
                + as_int(by_state.get("idle in transaction (aborted)")),
                "sessions_waiting_on_locks": sum(1 for s in ctx.sessions if s.get("blocked_by")),
                "longest_transaction_seconds": max(
                    (seconds(s.get("xact_seconds")) or 0.0 for s in clients), default=0.0
                ),
            }
        )
    if "replication_lag" not in skipped:
        replication = ctx.section("replication")
        standbys = replication.get("standbys") or []
        slots = replication.get("slots") or []
        lags = [as_float(s.get("replay_lag_seconds"), 0.0) for s in standbys]
        metrics["standbys"] = len(standbys)
        metrics["max_replay_lag_seconds"] = round(max(lags), 1) if lags else None
        metrics["replication_slots_inactive"] = sum(1 for s in slots if not s.get("active"))
        metrics["replay_delay_seconds"] = seconds(replication.get("replay_delay_seconds"))
    if "invalid_indexes" not in skipped:
        indexes = ctx.section("indexes")
        metrics["invalid_indexes"] = len(indexes.get("invalid") or [])
        metrics["unused_indexes"] = len(indexes.get("unused") or [])
        metrics["duplicate_index_groups"] = len(indexes.get("duplicates") or [])
    if "checkpoints" not in skipped:
        data = ctx.section("checkpoints")
        timed, requested = as_int(data.get("timed")), as_int(data.get("requested"))
        metrics["checkpoints_requested_pct"] = pct(requested, timed + requested)
    return metrics


def check_postgres(snapshot: dict[str, Any], *, thresholds: PgThresholds | None = None) -> HealthReport:
    """Run every PostgreSQL health rule whose data the snapshot has; say which checks were skipped and why."""
    ctx = PgHealthContext(snapshot, thresholds or PgThresholds())
    skipped = _skipped(ctx)
    return health_report(
        "postgresql",
        snapshot,
        ctx,
        RULES,
        RULE_CHECKS,
        skipped,
        stats_since=ctx.stats_since,
        metrics=_metrics(ctx, skipped),
    )


__all__ = ["RULES", "RULE_CHECKS", "PgThresholds", "check_postgres"]
