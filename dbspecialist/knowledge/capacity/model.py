"""What plan_capacity reads (CapacityFacts) and returns (CapacityReport).

Every fact is optional: live statistics fill what the server can tell, the caller gives the rest (RAM and CPU are
usually invisible from SQL). `sources` says where each fact came from, so the arithmetic can be checked.
"""

from __future__ import annotations

import difflib
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Resource = Literal["storage", "memory", "connections", "cpu", "qps", "writes", "wal"]


class CapacityFacts(BaseModel):
    """The current load and the limits it runs against. Bytes are bytes; rates are per second."""

    # A misspelt fact must be an error, not silently ignored. The schema forbids extra keys, but the model lets
    # them through so that `problems()` can name them in plain words (with the likely spelling) instead of the
    # argument validator's raw text.
    model_config = ConfigDict(extra="allow", json_schema_extra={"additionalProperties": False})

    engine: str | None = Field(default=None, description="postgresql, mysql, mongodb, redis or sqlite")
    data_bytes: int | None = Field(default=None, ge=0, description="data + indexes of the database")
    data_growth_bytes_per_day: float | None = Field(default=None, ge=0, description="today's growth, before xfactor")
    largest_table: str | None = None
    largest_table_bytes: int | None = Field(default=None, ge=0)
    largest_table_dead_pct: float | None = Field(
        default=None, ge=0, json_schema_extra={"maximum": 100}, description="dead tuples of the largest table, %"
    )
    ram_bytes: int | None = Field(default=None, ge=0, description="memory of the database host")
    cache_bytes: int | None = Field(
        default=None, ge=0, description="the engine's own cache: shared_buffers, InnoDB buffer pool, WiredTiger cache"
    )
    cache_name: str | None = Field(default=None, description="the setting behind cache_bytes")
    maxmemory_bytes: int | None = Field(default=None, ge=0, description="Redis maxmemory (0 = no limit)")
    working_set_bytes: int | None = Field(default=None, ge=0, description="hot data that should stay in memory")
    working_set_basis: str | None = Field(default=None, description="how the working set was estimated")
    connections_used: int | None = Field(default=None, ge=0)
    connections_max: int | None = Field(default=None, ge=0, description="usable by clients (reserved ones excluded)")
    qps: float | None = Field(default=None, ge=0, description="queries (or commands, operations) per second")
    writes_per_second: float | None = Field(default=None, ge=0, description="transactions or rows written per second")
    wal_bytes_per_second: float | None = Field(default=None, ge=0, description="WAL, binlog/redo or AOF bytes/s")
    storage_total_bytes: int | None = Field(default=None, ge=0, description="size of the volume holding the data")
    storage_free_bytes: int | None = Field(default=None, ge=0)
    cpu_cores: int | None = Field(default=None, ge=1)
    cpu_busy_pct: float | None = Field(
        default=None, ge=0, json_schema_extra={"maximum": 100}, description="CPU busy now, % of all cores (0-100)"
    )
    replicas: int | None = Field(default=None, ge=0, description="read replicas / standbys / replica-set secondaries")
    max_qps: float | None = Field(default=None, ge=0, description="a measured ceiling (benchmark), if known")
    max_writes_per_second: float | None = Field(default=None, ge=0, description="a measured write ceiling")
    max_wal_bytes_per_second: float | None = Field(
        default=None, ge=0, description="sustained write throughput of the log volume (or replica replay)"
    )
    sources: dict[str, str] = Field(default_factory=dict, description="fact → where it came from")
    notes: list[str] = Field(default_factory=list)

    def problems(self) -> list[str]:
        """Unknown facts and facts that contradict each other, each as one sentence (empty when consistent)."""
        found: list[str] = []
        known = sorted(type(self).model_fields)
        for name in sorted(self.model_extra or {}):
            close = difflib.get_close_matches(name.lower(), known, n=1, cutoff=0.6)
            if not close:
                close = [k for k in known if k.replace("_", "") == name.lower().replace("_", "")]
            hint = f"did you mean {close[0]!r}? " if close else ""
            found.append(f"unknown fact {name!r}: {hint}known facts: {', '.join(known)}")
        if self.cpu_busy_pct is not None and self.cpu_busy_pct > 100:
            found.append(f"cpu_busy_pct is a share of all cores, 0-100 (got {self.cpu_busy_pct:g})")
        if self.largest_table_dead_pct is not None and self.largest_table_dead_pct > 100:
            found.append(f"largest_table_dead_pct is a share, 0-100 (got {self.largest_table_dead_pct:g})")
        total, free = self.storage_total_bytes, self.storage_free_bytes
        if total is not None and free is not None and free > total:
            found.append(f"storage_free_bytes {free} is more than storage_total_bytes {total}")
        return found

    def merged(self, given: CapacityFacts | dict[str, Any] | None) -> CapacityFacts:
        """These facts with the caller's given ones on top (a given value always wins)."""
        if given is None:
            return self
        given_facts = given if isinstance(given, CapacityFacts) else CapacityFacts.model_validate(given)
        chosen = given_facts.model_dump(exclude_unset=True, exclude={"sources", "notes"})
        chosen = {k: v for k, v in chosen.items() if v is not None}
        sources = dict(self.sources) | dict.fromkeys(chosen, "given") | given_facts.sources
        notes = list(self.notes) + [n for n in given_facts.notes if n not in self.notes]
        return self.model_copy(update={**chosen, "sources": sources, "notes": notes})


class Projection(BaseModel):
    """One resource: today, times the factor, against its limit."""

    resource: Resource
    unit: str
    current: float | None = None
    projected: float | None = Field(default=None, description="current * growth_factor")
    limit: float | None = None
    limit_basis: str | None = Field(default=None, description="what the limit is and why")
    headroom: float | None = Field(default=None, description="limit / current: how many times today's load fits")
    breaks_at: float | None = Field(default=None, description="multiple of today's load at which the limit is hit")
    breaks: bool | None = Field(default=None, description="true when the projected value passes the limit")
    formula: str = Field(description="the arithmetic, with the numbers")
    missing: list[str] = Field(default_factory=list, description="facts to give to complete this row")
    detail: dict[str, float | int | str | None] = Field(default_factory=dict)


class Recommendation(BaseModel):
    """One step of the fixed order: pooling, memory, read replicas, partitioning, caching, sharding."""

    order: int
    step: Literal["pooling", "memory", "read_replicas", "partitioning", "caching", "sharding"]
    needed: bool | None = Field(description="true: the numbers call for it; false: they do not; null: unknown")
    reason: str = Field(description="the numbers behind the verdict")
    actions: list[str] = Field(default_factory=list)


class CapacityReport(BaseModel):
    engine: str | None
    growth_factor: float
    handles_factor: bool | None = Field(
        description="false when a judged resource breaks before the factor; true when none does and both a data "
        "resource (storage or memory) and a load resource (cpu, qps or writes) were judged; null otherwise"
    )
    first_limit: Resource | None = Field(default=None, description="the resource that breaks first")
    first_breaks_at: float | None = Field(default=None, description="the multiple of today's load where it breaks")
    verdict: str
    projections: list[Projection]
    unknown: list[Resource] = Field(default_factory=list, description="resources with too few facts to judge")
    recommendations: list[Recommendation]
    facts: CapacityFacts
    notes: list[str] = Field(default_factory=list)
