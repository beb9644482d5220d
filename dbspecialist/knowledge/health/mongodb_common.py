"""Shared pieces of the MongoDB health rules: thresholds (each with its source), the context a check reads and
the rule spec. Pure: no I/O, no clock (ages were computed from the server's own `localTime`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from dbspecialist.knowledge.findings import Finding, FixAvailability, RuleSpec, Severity
from dbspecialist.knowledge.health.common import ServerClock, health_spec


@dataclass(frozen=True)
class MongoThresholds:
    """The numbers the rules compare against; each field's comment names its source."""

    # Our own judgement, as for the SQL engines: 80 % of the connections the server accepts.
    connections_warn_pct: float = 80.0
    connections_high_pct: float = 95.0
    # WiredTiger's defaults: application threads start evicting at eviction_trigger = 95 % of the cache and at
    # eviction_dirty_trigger = 20 % dirty (WiredTiger docs, wiredtiger_open "eviction" settings).
    cache_fill_pct: float = 95.0
    cache_dirty_pct: float = 20.0
    # Our own judgement: a thousand pages evicted by application threads, and 1 % of all evictions.
    app_evictions_min: int = 1_000
    app_evictions_pct: float = 1.0
    # Our own judgement: most operational queries take milliseconds; a minute means a collection scan or a
    # lock wait, ten minutes an outage for whoever waits.
    long_op_seconds: float = 60.0
    long_op_high_seconds: float = 600.0
    # flowControlTargetLagSeconds is 10 s by default (MongoDB docs, "Flow Control"); a minute is our "high".
    replica_lag_seconds: float = 10.0
    replica_lag_high_seconds: float = 60.0
    # Index use counters younger than a week are too short a window to call an index unused (as for PostgreSQL).
    unused_index_min_days: float = 7.0
    # Our own judgement: a hundred documents examined per document returned, over a million examined.
    scan_ratio: float = 100.0
    scan_ratio_medium: float = 1_000.0
    scan_min_objects: int = 1_000_000


@dataclass(frozen=True)
class MongoHealthContext(ServerClock):
    """What one health check reads: the adapter's snapshot and the thresholds."""

    snapshot: Mapping[str, Any]
    thresholds: MongoThresholds = field(default_factory=MongoThresholds)

    def section(self, key: str) -> dict[str, Any]:
        value = self.snapshot.get(key)
        return value if isinstance(value, dict) else {}

    @property
    def database(self) -> str:
        return str(self.snapshot.get("database") or "")


Check = Callable[[MongoHealthContext], Iterator[Finding]]


def spec(rule_id: str, name: str, severity: Severity, summary: str, fix: FixAvailability = "sometimes") -> RuleSpec:
    return health_spec("mongodb", rule_id, name, severity, summary, fix=fix)


__all__ = ["Check", "MongoHealthContext", "MongoThresholds", "spec"]
