"""What every engine's health rules share: the rule spec, the finding builder, the loop that runs the rules, and
tolerant readers for snapshot values (missing, None or text where a number was expected).

Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from enum import Enum
from typing import Any, Final, TypeVar, overload

from dbspecialist.knowledge.findings import Engine, Finding, Fix, FixAvailability, Report, RuleSpec, Severity
from dbspecialist.knowledge.health.model import HealthReport, Measured

KIB = 1024
MIB = 1024**2
GIB = 1024**3
HOUR_SECONDS = 3_600.0
DAY_SECONDS = 86_400.0

Evidence = dict[str, int | float | str | bool | None]
Metrics = dict[str, int | float | str | None]
ContextT = TypeVar("ContextT")
CheckT = TypeVar("CheckT")


class _NoSince(Enum):
    NO_SINCE = "no since"


# The default of `health_finding(since=...)`: the evidence gets no `since` key at all.
NO_SINCE: Final = _NoSince.NO_SINCE


def health_spec(
    engine: Engine, rule_id: str, name: str, severity: Severity, summary: str, *, fix: FixAvailability
) -> RuleSpec:
    """A health rule's spec: live only, preview, for one engine."""
    return RuleSpec(
        id=rule_id,
        name=name,
        capability="health",
        engines=(engine,),
        severity=severity,
        status="preview",
        fix=fix,
        live_only=True,
        summary=summary,
    )


def health_finding(
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
    since: str | _NoSince | None = NO_SINCE,
) -> Finding:
    """A health finding: `measured`, then `since` (when given; None says the counters' start is unknown) lead the
    evidence."""
    head: Evidence = {"measured": measured}
    if since is not NO_SINCE:
        head["since"] = since
    return Finding(
        rule_id=rule.id,
        name=rule.name,
        severity=severity or rule.severity,
        title=title,
        subject=subject,
        subject_kind=subject_kind,  # type: ignore[arg-type]
        table=table,
        evidence={**head, **evidence},
        rationale=rationale,
        help=help_,
        fix=fix,
    )


def run_rules(
    ctx: ContextT,
    rules: Sequence[tuple[RuleSpec, Callable[[ContextT], Iterator[Finding]]]],
    rule_checks: Mapping[str, str],
    skipped: Mapping[str, str],
) -> tuple[list[str], Report]:
    """Run every rule whose check (`rule_checks[rule id]`) is not skipped: (the checks run, the sorted report)."""
    findings: list[Finding] = []
    checks_run: list[str] = []
    for rule, check in rules:
        name = rule_checks[rule.id]
        if name in skipped:
            continue
        checks_run.append(name)
        findings.extend(check(ctx))
    return checks_run, Report.of(findings, rules_run=len(checks_run))


def sorted_rules(*groups: Sequence[tuple[RuleSpec, CheckT]]) -> tuple[tuple[RuleSpec, CheckT], ...]:
    """The rules of every topic module in one tuple, by rule id."""
    return tuple(sorted((rule for group in groups for rule in group), key=lambda rule: rule[0].id))


def health_report(
    engine: str,
    snapshot: Mapping[str, Any],
    ctx: ContextT,
    rules: Sequence[tuple[RuleSpec, Callable[[ContextT], Iterator[Finding]]]],
    rule_checks: Mapping[str, str],
    skipped: dict[str, str],
    *,
    stats_since: str | None,
    metrics: Metrics,
) -> HealthReport:
    """Run the rules whose check is not skipped (`run_rules`) and report them with the skipped checks and metrics."""
    checks_run, report = run_rules(ctx, rules, rule_checks, skipped)
    return HealthReport(
        engine=engine,
        server_version=snapshot.get("server_version"),
        checks_run=checks_run,
        skipped=skipped,
        counts=report.counts,
        findings=report.findings,
        stats_since=stats_since,
        metrics=metrics,
    )


def unavailable_checks(snapshot: Mapping[str, Any]) -> dict[str, str]:
    """The snapshot's `unavailable` (check → why the adapter could not read its data), as text."""
    return {str(k): str(v) for k, v in (snapshot.get("unavailable") or {}).items()}


def started_at(snapshot: Mapping[str, Any]) -> str | None:
    """When the server started (the start of its cumulative counters), if the snapshot says."""
    started = snapshot.get("server_started")
    return str(started) if started else None


def uptime_seconds(snapshot: Mapping[str, Any]) -> float | None:
    """The server's uptime in seconds; None when missing or not positive."""
    value = snapshot.get("uptime_seconds")
    return float(value) if isinstance(value, int | float) and value > 0 else None


def hourly_rate(count: int, uptime: float | None) -> float | None:
    """A counter since the server started, per hour of uptime (None without an uptime)."""
    return round(count / (uptime / HOUR_SECONDS), 2) if uptime else None


class ServerClock:
    """For a check context over a snapshot with `server_started` and `uptime_seconds`: when the counters start,
    the uptime and a counter's hourly rate."""

    snapshot: Mapping[str, Any]

    @property
    def stats_since(self) -> str | None:
        return started_at(self.snapshot)

    @property
    def uptime(self) -> float | None:
        return uptime_seconds(self.snapshot)

    def per_hour(self, count: int) -> float | None:
        return hourly_rate(count, self.uptime)


def as_int(value: Any, default: int = 0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


@overload
def as_float(value: Any) -> float | None: ...


@overload
def as_float(value: Any, default: float) -> float: ...


def as_float(value: Any, default: float | None = None) -> float | None:
    """`float(value)`, or `default` (None unless given) when it is not a number."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def pct(part: float, whole: float) -> float | None:
    return round(100.0 * part / whole, 2) if whole else None


def gib_or_mib(n: float) -> str:
    """A size in GiB from 1 GiB up, else in MiB, one decimal."""
    return f"{n / GIB:.1f} GiB" if n >= GIB else f"{n / MIB:.1f} MiB"


__all__ = [
    "DAY_SECONDS",
    "GIB",
    "HOUR_SECONDS",
    "KIB",
    "MIB",
    "NO_SINCE",
    "Evidence",
    "Metrics",
    "ServerClock",
    "as_float",
    "as_int",
    "gib_or_mib",
    "health_finding",
    "health_report",
    "health_spec",
    "hourly_rate",
    "pct",
    "run_rules",
    "sorted_rules",
    "started_at",
    "unavailable_checks",
    "uptime_seconds",
]
