"""Rule documentation pages, generated from each rule's SPEC and docstring (docs/rules/*.md).

Every rule set is covered: schema (SCH), plans (PLN), queries (QRY), the tuning audit (TUN), migrations (MIG) and
health checks (HLT).
`python -m dbspecialist.knowledge.rule_docs docs/rules` rewrites the pages; a test keeps them in sync.
"""

from __future__ import annotations

import importlib
import inspect
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dbspecialist.knowledge.findings import RuleSpec

DocumentedRule = tuple[RuleSpec, Callable[..., Any]]
CAPABILITY_TITLES = {
    "schema": "Schema review (review_schema)",
    "plans": "Plan analysis (explain_query)",
    "queries": "Query review (review_query)",
    "tuning": "Configuration audit (tune_config with a connection)",
    "migrations": "Migrations (lint_migration, plan_migration)",
    "health": "Health checks (check_health)",
}
# Modules with a `RULES` tuple of (RuleSpec, check) pairs, beyond the schema registry and the plan/query/tuning sets.
RULE_MODULES = (
    "dbspecialist.knowledge.migrations.lint_rules_postgres",
    "dbspecialist.knowledge.migrations.lint_rules_mysql",
    "dbspecialist.knowledge.migrations.lint_rules_sqlite",
    "dbspecialist.knowledge.migrations.mongodb_plan",
    "dbspecialist.knowledge.migrations.postgres_rewrites_rules",
    "dbspecialist.knowledge.health.postgres",
    "dbspecialist.knowledge.health.sqlite",
    "dbspecialist.knowledge.health.mysql",
    "dbspecialist.knowledge.health.mongodb",
    "dbspecialist.knowledge.health.redis",
)


def all_rules() -> list[DocumentedRule]:
    """Every rule of every capability, by id (a rule shared by several engines appears once)."""
    from dbspecialist.knowledge.plans import rules_other, rules_postgres
    from dbspecialist.knowledge.queries import rules as query_rules
    from dbspecialist.knowledge.schema.registry import load_rules
    from dbspecialist.knowledge.tuning.audit import AUDIT_RULES

    found: dict[str, DocumentedRule] = {}
    for rule in load_rules():
        found[rule.SPEC.id] = (rule.SPEC, rule.check)
    groups: list[tuple[tuple[RuleSpec, Callable[..., Any]], ...]] = [
        rules_postgres.RULES,
        *rules_other.RULES_BY_ENGINE.values(),
        query_rules.RULES,
        AUDIT_RULES,
    ]
    for name in RULE_MODULES:
        groups.append(importlib.import_module(name).RULES)
    for group in groups:
        for spec, check in group:
            found.setdefault(spec.id, (spec, check))
    return [found[key] for key in sorted(found)]


def render_rule(spec: RuleSpec, check: Callable[..., Any]) -> str:
    doc = inspect.getdoc(check) or ""
    first, _, body = doc.partition("\n")
    engines = ", ".join(spec.engines)
    return (
        f"# {spec.id} `{spec.name}`\n\n"
        f"{first.strip()}\n\n"
        "| | |\n|---|---|\n"
        f"| Flags | {spec.summary} |\n"
        f"| Capability | {CAPABILITY_TITLES.get(spec.capability, spec.capability)} |\n"
        f"| Default severity | {spec.severity.value} |\n"
        f"| Engines | {engines} |\n"
        f"| Needs a live connection | {'yes' if spec.live_only else 'no'} |\n"
        f"| Fix | {spec.fix} |\n"
        f"| Status | {spec.status}, since {spec.since} |\n\n"
        f"{body.strip()}\n"
    )


def render_index(rules: list[DocumentedRule]) -> str:
    lines = [
        "# Rules",
        "",
        "Generated from the rules' own documentation (`python -m dbspecialist.knowledge.rule_docs docs/rules`).",
        "Each rule id is stable and never reused.",
    ]
    for capability, title in CAPABILITY_TITLES.items():
        members = [(spec, check) for spec, check in rules if spec.capability == capability]
        if not members:
            continue
        lines += [
            "",
            f"## {title}",
            "",
            "| Rule | Name | Severity | Engines | What it flags |",
            "|---|---|---|---|---|",
        ]
        for spec, _check in members:
            lines.append(
                f"| [{spec.id}]({spec.id}.md) | `{spec.name}` | {spec.severity.value} | {', '.join(spec.engines)} "
                f"| {spec.summary} |"
            )
    return "\n".join(lines) + "\n"


def expected_pages() -> dict[str, str]:
    rules = all_rules()
    pages = {f"{spec.id}.md": render_rule(spec, check) for spec, check in rules}
    pages["README.md"] = render_index(rules)
    return pages


def write_docs(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.md"):
        stale.unlink()
    written = []
    for name, text in expected_pages().items():
        path = directory / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":  # pragma: no cover
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/rules")
    print(f"wrote {len(write_docs(target))} pages to {target}")
