"""What check_health returns, for every engine.

Each finding's evidence carries `measured`: "counter" (cumulative since the server started or the statistics were
reset — `since` says when, if known), "sample" (a value read now, e.g. sessions idle in transaction) or "estimate"
(derived, e.g. bloat from statistics), so the assistant can say how sure it is.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from dbspecialist.knowledge.findings import Finding

Measured = Literal["counter", "sample", "estimate"]


class HealthReport(BaseModel):
    engine: str
    server_version: str | None = None
    checks_run: list[str] = Field(description="names of the checks that ran")
    skipped: dict[str, str] = Field(default_factory=dict, description="check → why it did not run, how to enable")
    counts: dict[str, int] = Field(description="findings per severity")
    findings: list[Finding]
    stats_since: str | None = Field(default=None, description="when cumulative counters started (server start/reset)")
    metrics: dict[str, int | float | str | None] = Field(
        default_factory=dict, description="headline numbers (hit ratios, connections used, ...) even when healthy"
    )
