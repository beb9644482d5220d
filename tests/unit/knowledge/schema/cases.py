"""Per-rule cases: each rule needs at least one case where it fires and one where it does not.

Test modules named `test_rules_*.py` in this folder define `CASES: list[RuleCase]`; the meta-test
collects them all. Catalogs are built directly (the DDL parsers are tested on their own).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dbspecialist.adapters.catalog import Catalog, Table
from dbspecialist.knowledge.findings import Finding
from dbspecialist.knowledge.schema.context import SchemaContext
from dbspecialist.knowledge.schema.registry import load_rules


@dataclass(frozen=True)
class RuleCase:
    rule_id: str
    title: str
    tables: tuple[Table, ...]
    fires: bool
    engine: str = "postgresql"
    live: bool = False
    settings: dict[str, str] = field(default_factory=dict)
    # When `fires`: the subjects expected, exactly (empty = at least one finding, any subject).
    subjects: tuple[str, ...] = ()
    # Evidence keys/values that must appear in the (first) finding.
    evidence: dict[str, object] = field(default_factory=dict)


def run_rule(case: RuleCase) -> list[Finding]:
    [rule] = [r for r in load_rules() if r.SPEC.id == case.rule_id]
    ctx = SchemaContext(
        catalog=Catalog(engine=case.engine, tables=list(case.tables), source="live" if case.live else "ddl"),
        engine=case.engine,
        live=case.live,
        settings=case.settings,
    )
    return list(rule.check(ctx))


def assert_case(case: RuleCase) -> None:
    findings = run_rule(case)
    if not case.fires:
        assert findings == [], f"{case.rule_id} {case.title}: expected nothing, got {[f.subject for f in findings]}"
        return
    assert findings, f"{case.rule_id} {case.title}: expected a finding"
    if case.subjects:
        assert sorted(f.subject for f in findings) == sorted(case.subjects), [f.subject for f in findings]
    for key, value in case.evidence.items():
        assert findings[0].evidence.get(key) == value, (key, findings[0].evidence)
    for finding in findings:
        assert finding.rule_id == case.rule_id and finding.rationale and finding.help and finding.title
