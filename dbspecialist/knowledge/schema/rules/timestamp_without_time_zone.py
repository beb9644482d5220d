"""SCH030 timestamp-without-time-zone: a PostgreSQL column of type `timestamp` (without time zone)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from dbspecialist.knowledge.findings import Finding, Fix, RuleSpec, Severity
from dbspecialist.knowledge.schema.context import SchemaContext
from dbspecialist.knowledge.sql_text import qualified, quote_ident

SPEC = RuleSpec(
    id="SCH030",
    name="timestamp-without-time-zone",
    capability="schema",
    engines=("postgresql",),
    severity=Severity.LOW,
    fix="always",
    summary="A column stores `timestamp without time zone` instead of `timestamptz`.",
)

# `timestamp`, `timestamp(3)`, `timestamp without time zone`, `timestamp(6) without time zone`, arrays of them.
_TIMESTAMP = re.compile(r"^(pg_catalog\.)?timestamp(\s*\(\d+\))?(\s+without\s+time\s+zone)?(\[\])?$")


def check(ctx: SchemaContext) -> Iterator[Finding]:
    """`timestamp without time zone` records a wall-clock reading, not a moment in time.

    ## Why is this bad?
    The value carries no zone, so the same instant written from two sessions with different
    `TimeZone` settings is stored as two different values, comparisons across daylight-saving
    changes go wrong, and every reader has to guess which zone was meant. `timestamptz` stores an
    absolute instant (as UTC) and converts on output, at the same 8 bytes (PostgreSQL wiki
    "Don't Do This": don't use timestamp without time zone).

    ## Example
    ```sql
    CREATE TABLE events (id bigint PRIMARY KEY, created_at timestamp NOT NULL);
    ```

    ## Use instead
    ```sql
    CREATE TABLE events (id bigint PRIMARY KEY, created_at timestamptz NOT NULL);
    ```

    ## Fix safety
    Display-only: the conversion must state which zone the existing values were written in (the
    fix assumes UTC), and `ALTER COLUMN ... TYPE` rewrites the table under an ACCESS EXCLUSIVE lock
    (PostgreSQL 12+ skips the rewrite only when the session time zone is UTC).
    """
    for table in ctx.tables():
        name = qualified(table.schema_name, table.name, ctx.engine)
        for column in table.columns:
            data_type = column.data_type.lower().replace('"', "").strip()
            if column.generated or not _TIMESTAMP.match(data_type):
                continue
            col = quote_ident(column.name, ctx.engine)
            array = data_type.endswith("[]")
            new_type = "timestamptz[]" if array else "timestamptz"
            using = "" if array else f" USING {col} AT TIME ZONE 'UTC'"
            yield Finding(
                rule_id=SPEC.id,
                name=SPEC.name,
                severity=SPEC.severity,
                title=f"{table.name}.{column.name} stores a wall-clock time with no zone, so instants are ambiguous",
                subject=f"{name}.{col}",
                subject_kind="column",
                table=table.name,
                evidence={"data_type": column.data_type, "rows": table.row_estimate},
                rationale=(
                    "A timestamp without time zone is a reading of some clock, and nothing records which one. "
                    "timestamptz stores the instant itself in the same 8 bytes and converts to the session's zone "
                    "on output, so arithmetic and comparisons stay correct across zones and DST."
                ),
                help=f"Change {column.name} to timestamptz, stating the zone the stored values were written in.",
                fix=Fix(
                    title=f"Convert {column.name} to timestamptz",
                    statements=[f"ALTER TABLE {name} ALTER COLUMN {col} TYPE {new_type}{using};"],
                    safety="display-only",
                    note=(
                        "Assumes the existing values are UTC; replace 'UTC' with the zone they were written in. "
                        "Rewrites the table under an ACCESS EXCLUSIVE lock unless the session TimeZone is UTC."
                    ),
                ),
                line=column.source_line,
            )
