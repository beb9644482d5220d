"""SCH046 mixed-singular-plural-table-names: some table names are singular, others plural."""

from __future__ import annotations

import re
from collections.abc import Iterator

from dbspecialist.knowledge.findings import Finding, RuleSpec, Severity
from dbspecialist.knowledge.schema.context import SchemaContext
from dbspecialist.knowledge.sql_text import qualified

SPEC = RuleSpec(
    id="SCH046",
    name="mixed-singular-plural-table-names",
    capability="schema",
    engines=("any",),
    severity=Severity.INFO,
    fix="never",
    summary="Table names mix singular (order) and plural (customers) forms.",
)

# Words whose form says nothing about number, and irregular plurals (our own list).
NEUTRAL: frozenset[str] = frozenset(
    {
        "data",
        "metadata",
        "info",
        "information",
        "news",
        "series",
        "species",
        "media",
        "staff",
        "equipment",
        "software",
        "feedback",
        "inventory",
        "audit",
        "history",
        "config",
        "configuration",
        "settings",
        "sheep",
        "fish",
        "deer",
        "aircraft",
        "status",
        "analytics",
        "statistics",
        "stats",
        "migrations",
        "schema",
    }
)
IRREGULAR_PLURALS: frozenset[str] = frozenset({"people", "children", "men", "women", "mice", "geese", "teeth", "feet"})
_WORDS = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")


def number(name: str) -> str | None:
    """'plural', 'singular' or None when the last word does not tell."""
    words = _WORDS.findall(name.replace("_", " "))
    if not words:
        return None
    word = words[-1].lower()
    if word in NEUTRAL or len(word) < 3 or word.isdigit():
        return None
    if word in IRREGULAR_PLURALS:
        return "plural"
    if word.endswith(("ss", "us", "is", "ics")):
        return "singular" if word.endswith(("ss", "us", "is")) else None
    return "plural" if word.endswith("s") else "singular"


def check(ctx: SchemaContext) -> Iterator[Finding]:
    """A schema where `order` and `customers` sit side by side makes every name a guess.

    ## Why is this bad?
    Whether tables are named for one row (`customer`) or the set (`customers`) matters less than
    choosing once: with both, people misspell joins and ORMs need explicit table names
    (schemalint's name-inflection rule). Only the minority form is reported.

    ## Example
    ```sql
    CREATE TABLE customers (id bigint PRIMARY KEY);
    CREATE TABLE invoice (id bigint PRIMARY KEY, customer_id bigint REFERENCES customers);
    ```

    ## Use instead
    ```sql
    CREATE TABLE customers (id bigint PRIMARY KEY);
    CREATE TABLE invoices (id bigint PRIMARY KEY, customer_id bigint REFERENCES customers);
    ```

    ## Fix safety
    No automatic fix: renaming a table is a breaking change for every client.
    """
    tables = [t for t in ctx.tables() if t.kind != "collection"]
    forms = {id(t): number(t.name) for t in tables}
    plural = sum(1 for f in forms.values() if f == "plural")
    singular = sum(1 for f in forms.values() if f == "singular")
    if not plural or not singular:
        return
    minority = "singular" if singular <= plural else "plural"
    majority = "plural" if minority == "singular" else "singular"
    for table in tables:
        if forms[id(table)] != minority:
            continue
        yield Finding(
            rule_id=SPEC.id,
            name=SPEC.name,
            severity=SPEC.severity,
            title=f"{table.name} is {minority} while most tables are {majority}",
            subject=qualified(table.schema_name, table.name, ctx.engine),
            subject_kind="table",
            table=table.name,
            evidence={"plural_tables": plural, "singular_tables": singular},
            rationale=(
                f"Most table names here are {majority}; {table.name} is not. One convention lets people write "
                "joins without looking names up and lets ORMs infer table names."
            ),
            help=f"Rename {table.name} to its {majority} form when a breaking change is acceptable.",
            fix=None,
            line=table.source_line,
        )
