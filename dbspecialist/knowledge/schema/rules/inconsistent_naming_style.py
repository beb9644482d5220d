"""SCH044 inconsistent-naming-style: table/column names mix snake_case, camelCase and PascalCase."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator

from dbspecialist.knowledge.findings import Finding, Fix, RuleSpec, Severity
from dbspecialist.knowledge.schema.context import SchemaContext
from dbspecialist.knowledge.schema.rename import rename_column, rename_table
from dbspecialist.knowledge.sql_text import qualified

SPEC = RuleSpec(
    id="SCH044",
    name="inconsistent-naming-style",
    capability="schema",
    engines=("any",),
    severity=Severity.LOW,
    fix="sometimes",
    summary="Some names use a different case style from the rest of the schema.",
)

_STYLES = (
    ("snake_case", re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)+$")),
    ("camelCase", re.compile(r"^[a-z][a-z0-9]*([A-Z][a-z0-9]*)+$")),
    ("PascalCase", re.compile(r"^[A-Z][a-z0-9]+([A-Z][a-z0-9]*)*$")),
    ("UPPER_CASE", re.compile(r"^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$")),
)
_WORDS = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")


def style(name: str) -> str | None:
    """The case style of a name; None for single lower-case words (they fit snake and camel alike)."""
    if re.fullmatch(r"[a-z][a-z0-9]*", name):
        return None
    for label, pattern in _STYLES:
        if pattern.match(name):
            return label
    return "mixed"


def convert(name: str, target: str) -> str:
    words: list[str] = [w.lower() for w in _WORDS.findall(name.replace("_", " "))] or [name.lower()]
    if target == "camelCase":
        return words[0] + "".join(w.capitalize() for w in words[1:])
    if target == "PascalCase":
        return "".join(w.capitalize() for w in words)
    if target == "UPPER_CASE":
        return "_".join(words).upper()
    return "_".join(words)


def check(ctx: SchemaContext) -> Iterator[Finding]:
    """Mixed naming styles make every query a guess about how a name is spelled.

    ## Why is this bad?
    When most tables use `created_at` and a few use `createdAt`, people and tools guess wrong,
    ORMs need per-column mapping, and on engines that fold or compare case differently the same
    query behaves differently (schemalint's name-casing rule, sqlfluff's CP02 for queries). On
    PostgreSQL every name with a capital letter is reported by upper-case-identifier (SCH045)
    instead, because there the problem is quoting, not style.

    ## Example
    ```sql
    CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint, createdAt datetime);
    ```

    ## Use instead
    ```sql
    CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint, created_at datetime);
    ```

    ## Fix safety
    Display-only: renaming breaks every query and application that uses the old name.
    """
    if ctx.engine in ("postgresql", "mongodb", "redis"):
        return
    tables = [t for t in ctx.tables() if t.kind != "collection"]
    counts: Counter[str] = Counter()
    for table in tables:
        for name in [table.name, *(c.name for c in table.columns)]:
            label = style(name)
            if label:
                counts[label] += 1
    if len(counts) < 2:
        return
    dominant = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
    for table in tables:
        odd_table = style(table.name) not in (None, dominant)
        odd_columns = [c.name for c in table.columns if style(c.name) not in (None, dominant)]
        if not odd_table and not odd_columns:
            continue
        name = qualified(table.schema_name, table.name, ctx.engine)
        statements = [
            rename_column(ctx.engine, table.schema_name, table.name, c, convert(c, dominant)) for c in odd_columns
        ]
        if odd_table:
            statements.append(rename_table(ctx.engine, table.schema_name, table.name, convert(table.name, dominant)))
        yield Finding(
            rule_id=SPEC.id,
            name=SPEC.name,
            severity=SPEC.severity,
            title=f"{table.name} uses names that break the schema's {dominant} convention",
            subject=name,
            subject_kind="table",
            table=table.name,
            evidence={
                "dominant_style": dominant,
                "dominant_names": counts[dominant],
                "table_name_differs": odd_table,
                "columns_differing": len(odd_columns),
                "example": odd_columns[0] if odd_columns else table.name,
            },
            rationale=(
                f"Most names in this schema are {dominant}, but {table.name} does not follow it. A single "
                "convention lets people and tools predict a name without looking it up."
            ),
            help=f"Rename the odd names in {table.name} to {dominant}.",
            fix=Fix(
                title=f"Rename to {dominant}",
                statements=statements,
                safety="display-only",
                note="Update every query, view and application that uses the old names.",
            ),
            line=table.source_line,
        )
