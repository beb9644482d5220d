"""What the SQLite migration rules share: the lint context and the finding builder."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Literal

from dbspecialist.knowledge.findings import Finding, Fix, RuleSpec, Severity
from dbspecialist.knowledge.migrations.sqlite_capability import Version
from dbspecialist.knowledge.migrations.sqlite_statements import SqliteStatement


@dataclass
class LintContext:
    version: Version
    statements: list[SqliteStatement] = field(default_factory=list)


Check = Callable[[SqliteStatement, LintContext], Iterator[Finding]]


def _version_text(version: Version) -> str:
    return ".".join(str(p) for p in version)


def _finding(
    spec: RuleSpec,
    stmt: SqliteStatement,
    *,
    subject: str,
    kind: Literal["table", "column", "query"],
    title: str,
    evidence: dict[str, int | float | str | bool | None],
    rationale: str,
    help: str,
    fix: Fix | None = None,
    severity: Severity | None = None,
) -> Finding:
    return Finding(
        rule_id=spec.id,
        name=spec.name,
        severity=severity or spec.severity,
        title=title,
        subject=subject,
        table=stmt.table,
        subject_kind=kind,
        evidence=evidence,
        rationale=rationale,
        help=help,
        fix=fix,
        line=stmt.line,
    )


def _subject(table: str | None, column: str | None) -> str:
    return f"{table}.{column}" if table and column else (table or column or "?")
