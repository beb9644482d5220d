"""Shared pieces of the MySQL/MariaDB health rules: thresholds (each with its source), the context a check reads
and the rule spec. Pure: no I/O, no clock (the server gave its own time and uptime)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from dbspecialist.knowledge.findings import Finding, FixAvailability, RuleSpec, Severity
from dbspecialist.knowledge.health.common import MIB, ServerClock, as_int, health_spec


@dataclass(frozen=True)
class MySqlThresholds:
    """The numbers the rules compare against; each field's comment names its source."""

    # The 99 % rule of thumb for an OLTP cache (as for PostgreSQL's shared_buffers); 95 % is our "medium".
    # Fewer logical reads than the minimum are too little traffic to judge.
    buffer_pool_hit_min_pct: float = 99.0
    buffer_pool_hit_medium_pct: float = 95.0
    buffer_pool_min_requests: int = 100_000
    # A pool with this share of pages still free is warming up, not evicting (our own judgement).
    buffer_pool_warm_free_pct: float = 10.0
    # Innodb_buffer_pool_wait_free "should be small" (MySQL docs, Server Status Variables); any wait is low,
    # a thousand medium (our own judgement).
    wait_free_medium: int = 1_000
    # Our own judgement, as for PostgreSQL: 80 % of max_connections leaves little room for a burst.
    connections_warn_pct: float = 80.0
    connections_high_pct: float = 95.0
    peak_connections_pct: float = 90.0
    # Our own judgement: more statements running at once than a server usually has cores queue for CPU and
    # InnoDB's latches.
    threads_running_warn: int = 32
    threads_running_high: int = 100
    # Our own judgement: a query slower than long_query_time every hour is worth a look, one a minute is a pattern.
    slow_queries_min: int = 10
    slow_queries_per_hour: float = 1.0
    slow_queries_per_hour_medium: float = 60.0
    # Our own judgement: 1 % of connection attempts failing or dropped, with at least 100 of them.
    aborted_pct: float = 1.0
    aborted_medium_pct: float = 10.0
    aborted_min: int = 100
    # Our own judgement: a quarter of implicit temporary tables on disk, over at least 1,000 of them.
    tmp_disk_pct: float = 25.0
    tmp_disk_medium_pct: float = 50.0
    tmp_tables_min: int = 1_000
    # A row lock held 5 s is visible to users; past 30 s the waiter nears innodb_lock_wait_timeout (50 s by
    # default, MySQL docs) and fails with error 1205.
    lock_wait_seconds: float = 5.0
    lock_wait_high_seconds: float = 30.0
    # Our own judgement: waits averaging half a second, over at least 100 of them since the server started.
    row_lock_avg_ms: float = 500.0
    row_lock_avg_high_ms: float = 5_000.0
    row_lock_waits_min: int = 100
    # Our own judgement, as for PostgreSQL standbys: a minute behind serves stale reads, five minutes threatens
    # a failover's RPO.
    replica_lag_seconds: float = 60.0
    replica_lag_high_seconds: float = 300.0
    # "Big tables only": free space of at least 256 MiB making up 20 % of the tablespace (our own judgement).
    fragmentation_min_free_bytes: int = 256 * MIB
    fragmentation_pct: float = 20.0
    fragmentation_medium_pct: float = 50.0


@dataclass(frozen=True)
class MySqlHealthContext(ServerClock):
    """What one health check reads: the adapter's snapshot and the thresholds."""

    snapshot: Mapping[str, Any]
    thresholds: MySqlThresholds = field(default_factory=MySqlThresholds)

    def status(self, name: str) -> int:
        return as_int((self.snapshot.get("status") or {}).get(name))

    def has_status(self, name: str) -> bool:
        return (self.snapshot.get("status") or {}).get(name) is not None

    def variable(self, name: str) -> Any:
        return (self.snapshot.get("variables") or {}).get(name)

    @property
    def flavor(self) -> str:
        return str(self.snapshot.get("flavor") or "mysql")


Check = Callable[[MySqlHealthContext], Iterator[Finding]]


def spec(rule_id: str, name: str, severity: Severity, summary: str, fix: FixAvailability = "sometimes") -> RuleSpec:
    return health_spec("mysql", rule_id, name, severity, summary, fix=fix)


def is_on(value: Any) -> bool:
    """A server variable's boolean value (ON, 1, YES, TRUE in any case)."""
    return str(value).upper() in ("ON", "1", "YES", "TRUE")


__all__ = ["Check", "MySqlHealthContext", "MySqlThresholds", "is_on", "spec"]
