"""The schema rule set and the review entry point."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable, Iterator
from typing import Protocol

from dbspecialist.knowledge.findings import Finding, Report, RuleSpec, Severity
from dbspecialist.knowledge.schema.context import SchemaContext


class Rule(Protocol):
    SPEC: RuleSpec

    @staticmethod
    def check(ctx: SchemaContext) -> Iterator[Finding]: ...


def rule_modules() -> list[str]:
    """Every rule module under dbspecialist.knowledge.schema.rules, sorted (one module per rule)."""
    from dbspecialist.knowledge.schema import rules as package

    return sorted(m.name for m in pkgutil.iter_modules(package.__path__) if not m.name.startswith("_"))


def load_rules(modules: Iterable[str] | None = None) -> list[Rule]:
    rules: list[Rule] = []
    for name in modules if modules is not None else rule_modules():
        module = importlib.import_module(f"dbspecialist.knowledge.schema.rules.{name}")
        rules.append(module)  # type: ignore[arg-type]
    return sorted(rules, key=lambda r: r.SPEC.id)


def applies(spec: RuleSpec, ctx: SchemaContext) -> bool:
    if spec.live_only and not ctx.live:
        return False
    return "any" in spec.engines or ctx.engine in spec.engines


def review(
    ctx: SchemaContext,
    *,
    min_severity: Severity = Severity.LOW,
    rules: list[Rule] | None = None,
    tables: Iterable[str] | None = None,
    check: Callable[[Rule, SchemaContext], Iterator[Finding]] | None = None,
    keep: Callable[[Finding], bool] | None = None,
) -> Report:
    """Run every applicable rule over `ctx`; deterministic output.

    `tables` keeps findings whose (unqualified) table is listed; `keep` is a finer filter (see review_catalog).
    """
    active = [r for r in (rules if rules is not None else load_rules()) if applies(r.SPEC, ctx)]
    wanted = set(tables or ())
    findings: list[Finding] = []
    for rule in active:
        produced = check(rule, ctx) if check else rule.check(ctx)
        for finding in produced:
            if wanted and finding.table not in wanted:
                continue
            if keep is not None and not keep(finding):
                continue
            findings.append(finding)
    return Report.of(_without_inherited(findings, ctx), rules_run=len(active), min_severity=min_severity)


def _without_inherited(findings: list[Finding], ctx: SchemaContext) -> list[Finding]:
    """Drop a partition's finding when its parent has the same one: partitions take their columns, types and
    constraints from the parent, so `events_2024.amount` repeats what `events.amount` already says."""
    parent_of = {t.name: t.partition_of.rsplit(".", 1)[-1] for t in ctx.catalog.tables if t.partition_of}
    if not parent_of:
        return findings

    def rest(finding: Finding) -> str:  # the subject after the table name: ".amount", "" ...
        table = finding.table or ""
        return finding.subject.split(table, 1)[1] if table and table in finding.subject else finding.subject

    said = {(f.rule_id, f.table, rest(f)) for f in findings}
    kept = []
    for finding in findings:
        parent, seen = parent_of.get(finding.table or ""), set()
        while parent is not None and parent not in seen and (finding.rule_id, parent, rest(finding)) not in said:
            seen.add(parent)
            parent = parent_of.get(parent)
        if parent is None or parent in seen:
            kept.append(finding)
    return kept
