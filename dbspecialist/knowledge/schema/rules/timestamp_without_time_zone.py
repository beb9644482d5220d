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
IN_PLACE_SINCE = 12  # PostgreSQL 12 release notes: timestamp <-> timestamptz without a rewrite when TimeZone is UTC


def _skips_rewrite(version: str | None) -> bool:
    """True unless the server is known to be older than PostgreSQL 12 (unknown: assume a current server)."""
    match = re.match(r"\s*(\d+)", version or "")
    return match is None or int(match.group(1)) >= IN_PLACE_SINCE


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
    fix assumes UTC). A plain `ALTER COLUMN ... TYPE timestamptz` reads the stored values in the
    session's `TimeZone`; on PostgreSQL 12+ it keeps the table's data file (no rewrite, though the
    indexes on the column are rebuilt) only when that zone is UTC, so the fix sets it first and
    resets it after. Any USING clause, even `USING col AT TIME ZONE 'UTC'`, forces a full rewrite under
    an ACCESS EXCLUSIVE lock; so does any other zone, and any version before 12.
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
            in_place = not array and _skips_rewrite(ctx.version)
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
                    statements=[
                        "SET TimeZone = 'UTC';",
                        f"ALTER TABLE {name} ALTER COLUMN {col} TYPE {new_type};",
                        "RESET TimeZone;",
                    ],
                    safety="display-only",
                    note=(
                        "Assumes the existing values are UTC: the type change reads them in the session's TimeZone, "
                        "which SET makes UTC (RESET returns it to the session's default). "
                        + (
                            "With TimeZone UTC and no USING clause PostgreSQL 12+ keeps the table's data (no "
                            "rewrite; indexes on the column are rebuilt) under a brief ACCESS EXCLUSIVE lock. "
                            if in_place
                            else ""
                        )
                        + "Another zone (set it instead of 'UTC'), a USING clause (even AT TIME ZONE 'UTC')"
                        + (", an array column" if array else "")
                        + " or a server before 12 rewrites the whole table under an ACCESS EXCLUSIVE lock."
                    ),
                ),
                line=column.source_line,
            )
