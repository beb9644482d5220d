"""docs/rules/*.md are exactly what the rules' own documentation generates (no drift, no orphans)."""

from __future__ import annotations

from pathlib import Path

from dbspecialist.knowledge.rule_docs import expected_pages

DOCS = Path(__file__).resolve().parents[3] / "docs" / "rules"


def test_rule_pages_are_in_sync() -> None:
    expected = expected_pages()
    actual = {p.name: p.read_text(encoding="utf-8") for p in DOCS.glob("*.md")}
    assert sorted(actual) == sorted(expected), "run: python -m dbspecialist.knowledge.rule_docs docs/rules"
    stale = [name for name, text in expected.items() if actual[name] != text]
    assert not stale, f"stale pages {stale}: run python -m dbspecialist.knowledge.rule_docs docs/rules"
