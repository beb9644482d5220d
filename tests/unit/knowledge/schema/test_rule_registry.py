"""Every schema rule is documented, uniquely identified and has a firing and a quiet case."""

from __future__ import annotations

import importlib
import pkgutil
import re

import pytest

from dbspecialist.knowledge.schema.registry import load_rules, rule_modules
from tests.unit.knowledge import schema as case_package
from tests.unit.knowledge.schema.cases import RuleCase


def all_cases() -> list[RuleCase]:
    cases: list[RuleCase] = []
    for module in pkgutil.iter_modules(case_package.__path__):
        if module.name.startswith("test_rules_"):
            cases.extend(importlib.import_module(f"{case_package.__name__}.{module.name}").CASES)
    return cases


RULES = load_rules()


def test_ids_and_names_are_unique_and_well_formed() -> None:
    ids = [r.SPEC.id for r in RULES]
    names = [r.SPEC.name for r in RULES]
    assert len(ids) == len(set(ids)) and len(names) == len(set(names))
    for rule in RULES:
        assert re.fullmatch(r"SCH\d{3}", rule.SPEC.id), rule.SPEC.id
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", rule.SPEC.name), rule.SPEC.name
    assert rule_modules() == sorted(r.SPEC.name.replace("-", "_") for r in RULES)  # module name = rule name


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.SPEC.id)
def test_rule_is_documented(rule: object) -> None:
    doc = rule.check.__doc__ or ""  # type: ignore[attr-defined]
    for section in ("## Why is this bad?", "## Example", "## Use instead"):
        assert section in doc, f"{rule.SPEC.id} lacks {section}"  # type: ignore[attr-defined]


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.SPEC.id)
def test_rule_has_a_firing_and_a_quiet_case(rule: object) -> None:
    cases = [c for c in all_cases() if c.rule_id == rule.SPEC.id]  # type: ignore[attr-defined]
    assert any(c.fires for c in cases), "no case where the rule fires"
    assert any(not c.fires for c in cases), "no case where the rule stays quiet"
