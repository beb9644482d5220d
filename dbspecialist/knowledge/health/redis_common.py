"""Shared pieces of the Redis health rules: thresholds (each with its source), the context a check reads, the
rule spec and size formatting. Pure: no I/O, no clock (ages come from the server's own TIME)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from dbspecialist.knowledge.findings import Finding, FixAvailability, RuleSpec, Severity
from dbspecialist.knowledge.health.common import (
    GIB,
    KIB,
    MIB,
    ServerClock,
    as_int,
    health_spec,
)


@dataclass(frozen=True)
class RedisThresholds:
    """The numbers the rules compare against; each field's comment names its source."""

    # Our own judgement: within 10 % of maxmemory the next burst of writes evicts (or, with noeviction, fails).
    memory_warn_pct: float = 90.0
    # Without maxmemory, a dataset at 75 % of the machine's RAM leaves no room for a fork (BGSAVE, AOF rewrite)
    # whose copy-on-write can need as much again (Redis docs, "Redis persistence"): our threshold.
    system_memory_pct: float = 75.0
    # A share of keys with a TTL this high, or an eviction policy, says the instance is used as a cache.
    cache_ttl_share_pct: float = 50.0
    # 1.5 is the commonly used fragmentation alarm; below 1.0 the OS swapped part of Redis out (Redis docs, INFO).
    # Small instances always show a high ratio (a few MB of fixed RSS), hence the floors (our own judgement).
    fragmentation_ratio: float = 1.5
    fragmentation_min_bytes: int = 100 * MIB
    swap_ratio: float = 1.0
    swap_min_used_bytes: int = 64 * MIB
    # Our own judgement for a cache: fewer than 80 % of lookups finding their key (50 % medium), over 10,000.
    hit_ratio_min_pct: float = 80.0
    hit_ratio_medium_pct: float = 50.0
    hit_ratio_min_lookups: int = 10_000
    # Our own judgement, as for the SQL engines: 80 % of maxclients leaves little room for a burst.
    clients_warn_pct: float = 80.0
    clients_high_pct: float = 95.0
    # Our own judgement: a thousand writes or more not on disk for an hour, with snapshots configured.
    unsaved_changes_min: int = 1_000
    unsaved_age_seconds: float = 3_600.0
    # repl-ping-replica-period is 10 s and repl-timeout 60 s by default (redis.conf): our lag thresholds.
    replica_lag_seconds: float = 10.0
    replica_lag_high_seconds: float = 60.0
    # Redis runs commands one at a time, so a 100 ms command stalls every client for 100 ms (our threshold).
    slow_command_medium_us: int = 100_000
    # A latency spike of a second is an outage for most clients (our own judgement).
    latency_medium_ms: int = 1_000
    # Our own judgement, in line with common cloud-provider guidance: 10 MiB or 10,000 elements is big.
    big_key_bytes: int = 10 * MIB
    big_key_high_bytes: int = 100 * MIB
    big_key_elements: int = 10_000
    big_key_high_elements: int = 1_000_000


@dataclass(frozen=True)
class RedisHealthContext(ServerClock):
    """What one health check reads: the adapter's snapshot and the thresholds."""

    snapshot: Mapping[str, Any]
    thresholds: RedisThresholds = field(default_factory=RedisThresholds)

    def info(self, section: str) -> dict[str, Any]:
        value = (self.snapshot.get("info") or {}).get(section)
        return value if isinstance(value, dict) else {}

    def number(self, section: str, name: str, default: int = 0) -> int:
        return as_int(self.info(section).get(name), default)

    def config(self, name: str) -> str | None:
        value = (self.snapshot.get("config") or {}).get(name)
        return None if value is None else str(value)

    @property
    def maxmemory(self) -> int:
        return self.number("memory", "maxmemory", as_int(self.config("maxmemory")))

    @property
    def policy(self) -> str:
        return str(self.info("memory").get("maxmemory_policy") or self.config("maxmemory-policy") or "noeviction")

    def keys(self) -> tuple[int, int]:
        """(keys, keys with a TTL) over every logical database."""
        keys = expires = 0
        for name, value in self.info("keyspace").items():
            if str(name).startswith("db") and isinstance(value, dict):
                keys += as_int(value.get("keys"))
                expires += as_int(value.get("expires"))
        return keys, expires


Check = Callable[[RedisHealthContext], Iterator[Finding]]


def spec(rule_id: str, name: str, severity: Severity, summary: str, fix: FixAvailability = "sometimes") -> RuleSpec:
    return health_spec("redis", rule_id, name, severity, summary, fix=fix)


def size_text(n: float) -> str:
    """A size in the largest unit it reaches (GiB, MiB, KiB), else bytes."""
    for unit, size in (("GiB", GIB), ("MiB", MIB), ("KiB", KIB)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{int(n)} B"


__all__ = ["Check", "RedisHealthContext", "RedisThresholds", "size_text", "spec"]
