"""SCH054 without-rowid-candidate: a narrow SQLite table with a composite/non-integer key, better WITHOUT ROWID."""

from __future__ import annotations

from collections.abc import Iterator

from dbspecialist.knowledge.findings import Finding, Fix, RuleSpec, Severity
from dbspecialist.knowledge.schema.context import SchemaContext
from dbspecialist.knowledge.schema.rules.non_strict_table import rebuild
from dbspecialist.knowledge.sql_text import qualified

SPEC = RuleSpec(
    id="SCH054",
    name="without-rowid-candidate",
    capability="schema",
    engines=("sqlite",),
    severity=Severity.INFO,
    fix="always",
    summary="A table keyed by a composite or non-integer primary key with small rows would be smaller WITHOUT ROWID.",
)

# Small rows: the SQLite docs suggest WITHOUT ROWID for rows under about 1/20 of a page, i.e. few, short
# columns; we approximate that by column count and the absence of BLOB/long-text columns.
MAX_COLUMNS = 4
_LARGE_TYPES = ("BLOB", "TEXT", "CLOB", "JSON")


def check(ctx: SchemaContext) -> Iterator[Finding]:
    """A rowid table with a separate primary key stores the key twice: in the table and in its index.

    ## Why is this bad?
    When the primary key is not a single INTEGER column, SQLite keeps a hidden rowid b-tree plus a
    separate unique index for the key, so every lookup by key searches two b-trees and the key is
    stored twice. For link tables and other narrow tables keyed by a composite or text key,
    `WITHOUT ROWID` stores the rows in the key's own b-tree: about half the space and one search
    (SQLite docs, "The WITHOUT ROWID Optimization").

    ## Example
    ```sql
    CREATE TABLE post_tags (post_id INTEGER NOT NULL, tag_id INTEGER NOT NULL, PRIMARY KEY (post_id, tag_id));
    ```

    ## Use instead
    ```sql
    CREATE TABLE post_tags (post_id INTEGER NOT NULL, tag_id INTEGER NOT NULL,
                            PRIMARY KEY (post_id, tag_id)) WITHOUT ROWID;
    ```

    ## Fix safety
    Display-only: the table must be rebuilt (copy and rename), its other indexes and triggers
    recreated by hand, and code that reads `rowid` must change.
    """
    for table in ctx.tables():
        if table.kind != "table" or table.options.get("without_rowid") == "true" or table.primary_key is None:
            continue
        key = table.primary_key.columns
        types = {c.name: c.data_type.upper() for c in table.columns}
        if len(key) == 1 and types.get(key[0], "").split()[:1] == ["INTEGER"]:
            continue  # the key is the rowid already
        if len(table.columns) > MAX_COLUMNS or any(
            any(word in types[c.name] for word in _LARGE_TYPES) and c.name not in key for c in table.columns
        ):
            continue
        strict = table.options.get("strict") == "true"
        yield Finding(
            rule_id=SPEC.id,
            name=SPEC.name,
            severity=SPEC.severity,
            title=f"{table.name} keeps its ({', '.join(key)}) key twice; WITHOUT ROWID would store it once",
            subject=qualified(table.schema_name, table.name, ctx.engine),
            subject_kind="table",
            table=table.name,
            evidence={"primary_key_columns": len(key), "columns": len(table.columns), "rows": table.row_estimate},
            rationale=(
                "With a composite or non-integer primary key, a rowid table stores rows under a hidden rowid and the "
                "key in a separate index. WITHOUT ROWID clusters the rows on the key: less space, one lookup."
            ),
            help=f"Rebuild {table.name} as WITHOUT ROWID.",
            fix=Fix(
                title=f"Rebuild {table.name} as WITHOUT ROWID",
                statements=rebuild(table, "STRICT, WITHOUT ROWID" if strict else "WITHOUT ROWID"),
                safety="display-only",
                note="Copy the table's indexes, triggers, CHECK and REFERENCES clauses into the new definition first.",
            ),
            line=table.source_line,
        )
