"""A partition repeats its parent's columns: a finding on the parent is not said again for every partition."""

from __future__ import annotations

from collections import Counter

from dbspecialist.knowledge.schema.review import review_ddl

DDL = """
CREATE TABLE public.events (id bigint NOT NULL, status text, created timestamp, amount money,
    PRIMARY KEY (id, created)) PARTITION BY RANGE (created);
CREATE TABLE public.events_2024 PARTITION OF public.events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE public.events_2025 PARTITION OF public.events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE public.other (id int PRIMARY KEY, created timestamp);
"""


def test_column_findings_are_said_once_on_the_parent() -> None:
    findings = review_ddl(DDL, dialect="postgres").findings
    by_rule = Counter(f.rule_id for f in findings)
    assert by_rule["SCH030"] == 2  # events.created and other.created, not the two partitions
    assert by_rule["SCH033"] == 1 and by_rule["SCH038"] == 1
    assert not any(f.table in ("events_2024", "events_2025") for f in findings)
    assert {f.subject for f in findings if f.rule_id == "SCH030"} == {"events.created", "other.created"}


def test_a_partition_only_finding_is_kept() -> None:
    ddl = DDL + "CREATE INDEX events_2024_status ON public.events_2024 (status);\n"
    ddl += "CREATE INDEX events_2024_status_again ON public.events_2024 (status);\n"
    findings = review_ddl(ddl, dialect="postgres").findings
    assert any(f.table == "events_2024" and f.rule_id == "SCH004" for f in findings)  # the duplicate index
