"""The knowledge guides (knowledge/guides/*.md): their slugs, titles and one-line summaries.

A guide starts with `# Title`, a blank line, then one summary sentence; `dbspecialist://guides/<slug>` links
between guides are checked by a test.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

GUIDES_DIR = Path(__file__).parent / "guides"
GUIDE_LINK = re.compile(r"dbspecialist://guides/([a-z0-9-]+)")


@dataclass(frozen=True)
class Guide:
    slug: str
    title: str
    summary: str
    path: Path

    @property
    def uri(self) -> str:
        return f"dbspecialist://guides/{self.slug}"

    def text(self) -> str:
        return self.path.read_text(encoding="utf-8")


@cache
def guides() -> tuple[Guide, ...]:
    """Every guide, by slug."""
    found = []
    for path in sorted(GUIDES_DIR.glob("*.md")):
        with path.open(encoding="utf-8") as handle:
            head = [handle.readline().rstrip("\n") for _ in range(3)]
        title = head[0].removeprefix("# ").strip() or path.stem
        found.append(Guide(slug=path.stem, title=title, summary=head[2].strip(), path=path))
    return tuple(found)


def guide(slug: str) -> Guide | None:
    return next((g for g in guides() if g.slug == slug), None)


def render_index() -> str:
    lines = ["# Guides", "", "Concise, practical guides written by dbspecialist; read one with its URI.", ""]
    lines += [f"- [{g.title}]({g.uri}) — {g.summary}" for g in guides()]
    return "\n".join(lines) + "\n"
