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
    return Report.of(findings, rules_run=len(active), min_severity=min_severity)
