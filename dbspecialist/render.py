"""Presentation for the CLI only: findings as text (rich), JSON or SARIF 2.1.0."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from dbspecialist import __version__
from dbspecialist.knowledge.findings import Finding, RuleSpec, Severity
from dbspecialist.knowledge.schema.review import SchemaReview

if TYPE_CHECKING:
    from rich.console import Console

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFO_URI = "https://github.com/dbspecialist/dbspecialist"
_LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
_STYLE = {
    Severity.CRITICAL: "bold white on red",
    Severity.HIGH: "bold red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.INFO: "dim",
}


def format_json(review: SchemaReview) -> str:
    return review.model_dump_json(indent=2)


def format_sarif(review: SchemaReview, artifact_uri: str) -> str:
    """SARIF 2.1.0 with one run, the rules that fired, and one result per finding."""
    from dbspecialist.knowledge.schema.registry import load_rules

    specs = {rule.SPEC.id: rule.SPEC for rule in load_rules()}
    located = [(finding, artifact_uri) for finding in review.findings]
    properties = {"counts": review.counts, "parse_warnings": len(review.parse_warnings)}
    notifications = [
        {
            "level": "warning",
            "message": {"text": f"{warning.message} ({warning.statement_start})"},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": artifact_uri},
                        "region": {"startLine": max(warning.line, 1)},
                    }
                }
            ],
            "descriptor": {"id": "parse-warning"},
        }
        for warning in review.parse_warnings
    ]
    return sarif_document(
        located,
        specs,
        tags=["database", "schema"],
        properties=properties,
        notifications=notifications,
        execution_successful=not review.nothing_parsed(),
    )


def sarif_document(
    located: list[tuple[Finding, str]],
    specs: Mapping[str, RuleSpec],
    *,
    tags: list[str],
    properties: dict[str, Any],
    notifications: list[dict[str, Any]] | None = None,
    execution_successful: bool = True,
) -> str:
    """SARIF 2.1.0 for findings, each with the file (artifact URI) it was found in.

    `notifications` (e.g. statements that could not be parsed) become the invocation's
    toolExecutionNotifications, so code-scanning UIs show them as tool problems, not results.
    """
    fired = sorted({finding.rule_id for finding, _uri in located})
    index = {rule_id: i for i, rule_id in enumerate(fired)}
    rules: list[dict[str, Any]] = []
    for rule_id in fired:
        spec = specs.get(rule_id)
        rules.append(
            {
                "id": rule_id,
                "name": spec.name if spec else rule_id,
                "shortDescription": {"text": spec.summary if spec else rule_id},
                "helpUri": f"{INFO_URI}/blob/main/docs/rules/{rule_id}.md",
                "defaultConfiguration": {"level": _LEVEL[spec.severity] if spec else "warning"},
                "properties": {"tags": tags, "engines": list(spec.engines) if spec else []},
            }
        )
    results: list[dict[str, Any]] = []
    for finding, artifact_uri in located:
        text = f"{finding.title}. {finding.help}"
        result: dict[str, Any] = {
            "ruleId": finding.rule_id,
            "ruleIndex": index[finding.rule_id],
            "level": _LEVEL[finding.severity],
            "message": {"text": text},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": artifact_uri},
                        "region": {"startLine": finding.line or 1},
                    },
                    "logicalLocations": [{"name": finding.subject, "kind": finding.subject_kind}],
                }
            ],
            "partialFingerprints": {"dbspecialist/v1": f"{finding.rule_id}:{finding.subject}"},
            "properties": {"severity": finding.severity.value, "evidence": finding.evidence},
        }
        if finding.fix and finding.fix.statements:
            result["properties"]["fix"] = "\n".join(finding.fix.statements)
        results.append(result)
    sarif = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "dbspecialist",
                        "version": __version__,
                        "informationUri": INFO_URI,
                        "rules": rules,
                    }
                },
                "results": results,
                "properties": properties,
            }
        ],
    }
    if notifications is not None:
        sarif["runs"][0]["invocations"] = [  # type: ignore[index]
            {"executionSuccessful": execution_successful, "toolExecutionNotifications": notifications}
        ]
    return json.dumps(sarif, indent=2)


def print_text(review: SchemaReview, source: str) -> None:
    """Findings grouped by severity, most severe first, with the fix SQL."""
    from rich.console import Console
    from rich.markup import escape

    console = Console()
    counts = ", ".join(f"{n} {s}" for s, n in review.counts.items() if n)
    console.print(
        f"[bold]Schema review[/] of {escape(source)} ({review.engine}, {review.source}): "
        f"{review.tables_reviewed} tables, {review.rules_run} rules, {counts or 'no findings'}"
    )
    for warning in review.parse_warnings:
        start = escape(warning.statement_start)
        console.print(f"[yellow]parse warning[/] line {warning.line}: {escape(warning.message)} ({start})")
    print_findings(console, review.findings)
    if review.note:
        console.print(f"[dim]{escape(review.note)}[/]")


def print_findings(console: Console, findings: list[Finding]) -> None:
    """Findings grouped by severity (already sorted most severe first), each with its evidence and fix SQL."""
    from rich.markup import escape
    from rich.syntax import Syntax

    current: Severity | None = None
    for finding in findings:
        if finding.severity != current:
            current = finding.severity
            console.rule(f"[{_STYLE[current]}]{current.value.upper()}[/]")
        where = f" (line {finding.line})" if finding.line else ""
        console.print(f"[{_STYLE[finding.severity]}]{finding.rule_id}[/] {escape(finding.title)}{where}")
        console.print(f"    [dim]{finding.name} · {escape(finding.subject)}[/]")
        if finding.evidence:
            evidence = ", ".join(f"{k}={v}" for k, v in finding.evidence.items() if v is not None)
            console.print(f"    evidence: {escape(evidence)}")
        console.print(f"    {escape(finding.rationale)}")
        console.print(f"    [bold]→[/] {escape(finding.help)}")
        if finding.fix and finding.fix.statements:
            fix_sql = "\n".join(finding.fix.statements)
            console.print(Syntax(fix_sql, "sql", padding=(0, 4), theme="ansi_dark", word_wrap=True))
