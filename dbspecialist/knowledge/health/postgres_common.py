"""Shared pieces of the PostgreSQL health rules: thresholds (each with its source), the context a check reads,
the finding builder and number formatting. Pure: no I/O, no clock; every time is an age the server computed."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from dbspecialist.knowledge.findings import Finding, Fix, FixAvailability, RuleSpec, Severity
from dbspecialist.knowledge.health.common import (
    DAY_SECONDS,
    GIB,
    KIB,
    MIB,
    NO_SINCE,
    Evidence,
    as_float,
    as_int,
    health_finding,
    health_spec,
    pct,
)
from dbspecialist.knowledge.health.model import Measured
from dbspecialist.knowledge.sql_text import qualified

# Transaction IDs are 32-bit and compared modulo 2^32, so only 2^31 (about 2.1 billion) XIDs may separate the
# oldest unfrozen row from the newest transaction (PostgreSQL docs, "Preventing Transaction ID Wraparound
# Failures"). The same horizon applies to multixact IDs.
WRAPAROUND_LIMIT = 2**31
INTEGER_LIMITS: dict[str, tuple[int, int]] = {
    "smallint": (-(2**15), 2**15 - 1),
    "integer": (-(2**31), 2**31 - 1),
    "bigint": (-(2**63), 2**63 - 1),
}


@dataclass(frozen=True)
class PgThresholds:
    """The numbers the rules compare against. Defaults and their sources are in each field's comment."""

    # OLTP rule of thumb: 99 % of block reads served from shared_buffers (Craig Kerstiens, "Understanding
    # Postgres Performance"); below 90 % is our "high". Fewer blocks than the minimum are too few to judge.
    cache_hit_min_pct: float = 99.0
    cache_hit_high_pct: float = 90.0
    cache_min_blocks: int = 10_000
    # Our own judgement: 80 % of the slots a non-superuser can take leaves little room for a burst.
    connections_warn_pct: float = 80.0
    connections_high_pct: float = 95.0
    # Our own judgement for OLTP: a statement or transaction past 5 minutes deserves a look, past an hour
    # it holds back vacuum long enough to matter.
    long_query_seconds: float = 300.0
    long_query_high_seconds: float = 3_600.0
    long_transaction_seconds: float = 300.0
    long_transaction_high_seconds: float = 3_600.0
    # Our own judgement: an application that waits 30 s between statements inside a transaction has lost it.
    idle_in_transaction_seconds: float = 30.0
    idle_in_transaction_high_seconds: float = 600.0
    # PostgreSQL's own deadlock_timeout is 1 s; a lock wait of 5 s is visible to users, 60 s is an outage.
    lock_wait_seconds: float = 5.0
    lock_wait_high_seconds: float = 60.0
    # Our own judgement: any deadlock deserves a look; ten a day is a pattern in the code.
    deadlocks_per_day_medium: float = 10.0
    # Our own judgement: a standby a minute behind serves stale reads; five minutes threatens failover RPO.
    replication_lag_seconds: float = 60.0
    replication_lag_high_seconds: float = 300.0
    replication_lag_bytes: int = 1 * GIB
    slot_retained_high_bytes: int = 10 * GIB
    # Tables with fewer dead tuples or changes than these are not worth a finding (our own floor).
    dead_tuples_min: int = 1_000
    dead_ratio_high_pct: float = 50.0
    analyze_changes_min: int = 1_000
    # Bloat estimates are reported above a share of the relation and a size (our own judgement).
    bloat_min_bytes: int = 64 * MIB
    table_bloat_pct: float = 40.0
    index_bloat_pct: float = 50.0
    # Share of the 2^31 wraparound horizon (our own judgement; PostgreSQL starts warning 40 million XIDs before).
    xid_high_pct: float = 50.0
    xid_critical_pct: float = 75.0
    # Same shares as the schema review's SCH009 (pg-index-health warns at 20 % left).
    sequence_warn_pct: float = 75.0
    sequence_critical_pct: float = 90.0
    # Index usage counters younger than this are too short a window to call an index unused.
    unused_index_min_days: float = 7.0
    # Our own judgement: a gigabyte of temporary files a day means sorts and hashes spill routinely.
    temp_bytes_per_day: int = 1 * GIB
    temp_bytes_per_day_medium: int = 10 * GIB
    # Checkpoints should mostly be timed (PostgreSQL docs, "WAL Configuration"); our threshold is 10 % requested.
    checkpoints_requested_pct: float = 10.0
    checkpoints_min: int = 10


@dataclass(frozen=True)
class PgHealthContext:
    """What one health check reads: the adapter's snapshot and the thresholds."""

    snapshot: Mapping[str, Any]
    thresholds: PgThresholds = field(default_factory=PgThresholds)

    def section(self, key: str) -> dict[str, Any]:
        value = self.snapshot.get(key)
        return value if isinstance(value, dict) else {}

    def setting(self, name: str) -> str | None:
        value = (self.snapshot.get("settings") or {}).get(name)
        return None if value is None else str(value)

    def setting_float(self, name: str, default: float) -> float:
        return as_float(self.setting(name), default)

    @property
    def database(self) -> str:
        return str(self.snapshot.get("database") or "")

    @property
    def major(self) -> int:
        return int(self.snapshot.get("server_version_num") or 0) // 10_000

    @property
    def stats_since(self) -> str | None:
        reset = self.section("stats").get("database_stats", {}) or {}
        return reset.get("stats_reset") or self.snapshot.get("server_started")

    @property
    def stats_window_seconds(self) -> float | None:
        """Seconds the counters of pg_stat_database cover: since their reset, else at least since server start."""
        stats = self.section("stats").get("database_stats") or {}
        age = stats.get("stats_age_seconds")
        if age is None:
            age = self.snapshot.get("uptime_seconds")
        return float(age) if age is not None else None

    @property
    def sessions(self) -> list[dict[str, Any]]:
        return list(self.section("activity").get("sessions") or [])

    def connections_used(self) -> tuple[int, str]:
        """(connections in use, where the count comes from). A role that cannot see other roles' sessions
        (no pg_read_all_stats) gets the backends pg_stat_database counts, which include autovacuum workers."""
        activity = self.section("activity")
        visible = as_int(activity.get("client_backends"))
        total = activity.get("backends_all_databases")
        if self.snapshot.get("sees_all_sessions") is False and total is not None:
            return max(visible, as_int(total)), "pg_stat_database.numbackends"
        return visible, "pg_stat_activity client backends"

    def client_sessions(self) -> list[dict[str, Any]]:
        return [s for s in self.sessions if s.get("backend_type") == "client backend"]


Check = Callable[[PgHealthContext], Iterator[Finding]]


def spec(rule_id: str, name: str, severity: Severity, summary: str, *, fix: FixAvailability = "sometimes") -> RuleSpec:
    return health_spec("postgresql", rule_id, name, severity, summary, fix=fix)


def finding(
    rule: RuleSpec,
    *,
    subject: str,
    subject_kind: str,
    title: str,
    measured: Measured,
    evidence: Evidence,
    rationale: str,
    help_: str,
    fix: Fix | None = None,
    severity: Severity | None = None,
    table: str | None = None,
    since: str | None = None,
) -> Finding:
    """A health finding: `measured` (and `since` for counters, when known) lead the evidence."""
    return health_finding(
        rule,
        subject=subject,
        subject_kind=subject_kind,
        title=title,
        measured=measured,
        evidence=evidence,
        rationale=rationale,
        help_=help_,
        fix=fix,
        severity=severity,
        table=table,
        since=NO_SINCE if since is None else since,
    )


def name_of(schema: str | None, name: str) -> str:
    """`schema.name` as PostgreSQL SQL wants it (public left out, quoted when needed)."""
    return qualified(schema, name, "postgresql")


def human_bytes(n: float) -> str:
    for unit, size in (("GiB", GIB), ("MiB", MIB), ("KiB", KIB)):
        if abs(n) >= size:
            return f"{n / size:.1f} {unit}"
    return f"{int(n)} B"


def human_seconds(s: float) -> str:
    if s >= DAY_SECONDS:
        return f"{s / DAY_SECONDS:.1f} d"
    if s >= 3_600:
        return f"{s / 3_600:.1f} h"
    if s >= 60:
        return f"{s / 60:.1f} min"
    return f"{s:.1f} s"


def seconds(value: Any) -> float | None:
    """An age in seconds from the snapshot, rounded to 0.1 s; None stays None."""
    return None if value is None else round(max(0.0, float(value)), 1)


def reloption(reloptions: list[str] | None, name: str) -> str | None:
    for option in reloptions or []:
        key, _, value = option.partition("=")
        if key == name:
            return value
    return None


def cancel_fix(pid: int, *, idle: bool) -> Fix:
    """Display-only: cancel (or, for an idle transaction, terminate) one backend."""
    statements = [f"SELECT pg_terminate_backend({pid});"] if idle else []
    statements = statements or [f"SELECT pg_cancel_backend({pid});", f"SELECT pg_terminate_backend({pid});"]
    return Fix(
        title=f"End backend {pid}" if idle else f"Cancel the statement of backend {pid}, or end the session",
        statements=statements,
        safety="display-only",
        note=(
            "pg_cancel_backend stops the running statement only; a session idle in transaction has none, so "
            "only pg_terminate_backend (which closes the connection and rolls its transaction back) releases "
            "its locks and snapshot. Check with its owner what the transaction was doing first."
        ),
    )


__all__ = [
    "DAY_SECONDS",
    "GIB",
    "INTEGER_LIMITS",
    "MIB",
    "WRAPAROUND_LIMIT",
    "Check",
    "Evidence",
    "PgHealthContext",
    "PgThresholds",
    "as_float",
    "as_int",
    "cancel_fix",
    "finding",
    "human_bytes",
    "human_seconds",
    "name_of",
    "pct",
    "reloption",
    "seconds",
    "spec",
]
