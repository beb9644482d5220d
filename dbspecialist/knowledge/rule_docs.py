"""Rule documentation pages, generated from each rule's SPEC and docstring (docs/rules/*.md).

`python -m dbspecialist.knowledge.rule_docs docs/rules` rewrites them; a test keeps them in sync.
"""

from __future__ import annotations

import inspect
import sys
from pathlib import Path

from dbspecialist.knowledge.schema.registry import Rule, load_rules


def render_rule(rule: Rule) -> str:
    spec = rule.SPEC
    doc = inspect.getdoc(rule.check) or ""
    first, _, body = doc.partition("\n")
    engines = ", ".join(spec.engines)
    return (
        f"# {spec.id} `{spec.name}`\n\n"
        f"{first.strip()}\n\n"
        "| | |\n|---|---|\n"
        f"| Flags | {spec.summary} |\n"
        f"| Default severity | {spec.severity.value} |\n"
        f"| Engines | {engines} |\n"
        f"| Needs a live connection | {'yes' if spec.live_only else 'no (works on DDL too)'} |\n"
        f"| Fix | {spec.fix} |\n"
        f"| Status | {spec.status}, since {spec.since} |\n\n"
        f"{body.strip()}\n"
    )


def render_index(rules: list[Rule]) -> str:
    lines = [
        "# Schema review rules",
        "",
        "Generated from the rules' own documentation (`python -m dbspecialist.knowledge.rule_docs docs/rules`).",
        "",
        "| Rule | Name | Severity | Engines | Live only | What it flags |",
        "|---|---|---|---|---|---|",
    ]
    for rule in rules:
        spec = rule.SPEC
        lines.append(
            f"| [{spec.id}]({spec.id}.md) | `{spec.name}` | {spec.severity.value} | {', '.join(spec.engines)} "
            f"| {'yes' if spec.live_only else ''} | {spec.summary} |"
        )
    return "\n".join(lines) + "\n"


def expected_pages() -> dict[str, str]:
    rules = load_rules()
    pages = {f"{rule.SPEC.id}.md": render_rule(rule) for rule in rules}
    pages["README.md"] = render_index(rules)
    return pages


def write_docs(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in expected_pages().items():
        path = directory / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":  # pragma: no cover
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/rules")
    print(f"wrote {len(write_docs(target))} pages to {target}")
