"""The check every engine's health tests make of its rule table."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from dbspecialist.knowledge.findings import RuleSpec


def assert_documented_health_rules(
    rules: Sequence[tuple[RuleSpec, Callable[..., Any]]], rule_checks: Mapping[str, str], engine: str, ids: list[str]
) -> None:
    """The rules are exactly `ids`, in order, each with a check name; each is a live-only health rule of `engine`
    whose check's docstring is one sentence, then a Threshold and a Fix section."""
    assert [spec.id for spec, _ in rules] == ids and set(ids) == set(rule_checks)
    for spec, check in rules:
        assert spec.capability == "health" and spec.engines == (engine,) and spec.live_only, spec.id
        doc = inspect.getdoc(check) or ""
        first, _, body = doc.partition("\n")
        assert first.endswith(".") and "## Threshold" in body and "## Fix" in body, spec.id
