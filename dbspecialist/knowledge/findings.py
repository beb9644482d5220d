"""The one finding model every expert engine returns, and the rule specification behind it.

A finding names the consequence (`title`), the action (`help`), the numbers behind it
(`evidence`), why it matters in two or three sentences (`rationale`) and, where one exists,
the fix as runnable statements. Reports sort by severity, rule id and subject, so the same
input always gives byte-identical output.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Severity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def rank(self) -> int:
        """0 for critical ... 4 for info (lower is more severe)."""
        return _RANK[self]

    def at_least(self, other: Severity) -> bool:
        return self.rank <= other.rank


_RANK = {Severity.CRITICAL: 0, Severity.HIGH: 1, Severity.MEDIUM: 2, Severity.LOW: 3, Severity.INFO: 4}

FixSafety = Literal["safe", "unsafe", "display-only"]
FixAvailability = Literal["always", "sometimes", "never"]
RuleStatus = Literal["preview", "stable", "deprecated"]
Engine = Literal[
    "postgresql", "mysql", "sqlite", "mongodb", "redis", "tsql", "clickhouse", "snowflake", "bigquery", "any"
]


class Fix(BaseModel):
    model_config = ConfigDict(frozen=True)

    title: str = Field(description="the action, e.g. 'Add an index on order_items (product_id)'")
    statements: list[str] = Field(default_factory=list, description="runnable SQL or commands, in order")
    safety: FixSafety = "safe"
    note: str | None = Field(default=None, description="what to know before running it")


class Finding(BaseModel):
    model_config = ConfigDict(frozen=True)

    rule_id: str
    name: str = Field(description="kebab-case rule name")
    severity: Severity
    title: str = Field(description="the consequence, in one line")
    subject: str = Field(description="the object: table, table.column or index name (schema-qualified if not default)")
    table: str | None = Field(default=None, description="the table/collection the finding is about, unqualified")
    subject_kind: Literal[
        "table", "column", "index", "constraint", "sequence", "collection", "key", "server", "node", "query"
    ]
    evidence: dict[str, int | float | str | bool | None] = Field(default_factory=dict)
    rationale: str
    help: str = Field(description="the action, in one line")
    fix: Fix | None = None
    line: int | None = Field(default=None, description="DDL line of the subject, when reviewing DDL")


class RuleSpec(BaseModel):
    """A rule's stable identity and defaults. IDs are never reused."""

    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    capability: Literal["schema", "queries", "plans", "tuning", "migrations", "health"]
    engines: tuple[Engine, ...]
    severity: Severity
    status: RuleStatus = "stable"
    since: str = "0.1"
    fix: FixAvailability = "sometimes"
    live_only: bool = Field(default=False, description="needs statistics only a live connection has")
    summary: str = Field(description="one line: what the rule flags")


class Report(BaseModel):
    findings: list[Finding]
    counts: dict[str, int] = Field(description="findings per severity")
    rules_run: int

    @classmethod
    def of(cls, findings: Iterable[Finding], *, rules_run: int, min_severity: Severity = Severity.INFO) -> Report:
        kept = sorted(
            (f for f in findings if f.severity.at_least(min_severity)),
            key=lambda f: (f.severity.rank, f.rule_id, f.subject),
        )
        counter = Counter(f.severity.value for f in kept)
        counts = {s.value: counter.get(s.value, 0) for s in Severity}
        return cls(findings=kept, counts=counts, rules_run=rules_run)
