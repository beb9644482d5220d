"""SCH047 append-only-table-partitioning-candidate: a huge, insert-mostly PostgreSQL table with a time column."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from dbspecialist.adapters.catalog import Column, Table
from dbspecialist.knowledge.findings import Finding, Fix, RuleSpec, Severity
from dbspecialist.knowledge.schema.context import SchemaContext
from dbspecialist.knowledge.sql_text import qualified, quote_ident

SPEC = RuleSpec(
    id="SCH047",
    name="append-only-table-partitioning-candidate",
    capability="schema",
    engines=("postgresql",),
    severity=Severity.MEDIUM,
    fix="sometimes",
    live_only=True,
    summary="A very large, insert-mostly table with a time column is not partitioned.",
)

# Updates + deletes at most this share of inserts (pg_stat_user_tables) counts as append-only (our judgement).
APPEND_ONLY_MAX_CHANGE_PCT = 5.0

_TIME_TYPES = re.compile(r"^(timestamp|timestamptz|date)\b")
_TIME_NAMES = re.compile(
    r"^(created_at|created_on|inserted_at|occurred_at|recorded_at|logged_at|event_time|event_at|happened_at|"
    r"received_at|sent_at|ts|timestamp|time|created|event_date|log_date|day|date)$",
    re.IGNORECASE,
)


def _time_column(table: Table) -> Column | None:
    candidates = [c for c in table.columns if _TIME_TYPES.match(c.data_type.lower())]
    for column in candidates:
        if _TIME_NAMES.match(column.name):
            return column
    return None


def _int(stats: dict[str, Any], key: str) -> int | None:
    value = stats.get(key)
    return int(value) if isinstance(value, int | float) else None


def check(ctx: SchemaContext) -> Iterator[Finding]:
    """A single huge append-only table makes retention, vacuum and time-range queries expensive.

    ## Why is this bad?
    Deleting old rows from a table of hundreds of millions of rows means long DELETEs, bloat and
    vacuum work, while range partitioning by the time column turns retention into `DROP TABLE`
    of an old partition, keeps each partition's indexes small enough to stay cached, and lets
    queries on recent data skip the rest (partition pruning). Tables that are mostly inserted
    into and rarely updated or deleted are the classic candidates (PostgreSQL docs, "Table
    Partitioning").

    ## Example
    ```sql
    CREATE TABLE events (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                         occurred_at timestamptz NOT NULL, payload jsonb);  -- 400 million rows
    ```

    ## Use instead
    ```sql
    CREATE TABLE events (id bigint GENERATED ALWAYS AS IDENTITY, occurred_at timestamptz NOT NULL,
                         payload jsonb, PRIMARY KEY (id, occurred_at)) PARTITION BY RANGE (occurred_at);
    CREATE TABLE events_2025_01 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2025-02-01');
    ```

    ## Fix safety
    Display-only: moving to a partitioned table is a migration project (the primary key must
    include the partition column, and the data has to be copied or the old table attached as
    one partition).
    """
    limit = ctx.thresholds.partition_candidate_rows
    for table in ctx.tables():
        if table.kind != "table" or table.partition_of or (table.row_estimate or 0) < limit:
            continue
        time_column = _time_column(table)
        if time_column is None:
            continue
        inserts, updates, deletes = (_int(table.stats, k) for k in ("n_tup_ins", "n_tup_upd", "n_tup_del"))
        change_pct: float | None = None
        if inserts:
            change_pct = round(100.0 * ((updates or 0) + (deletes or 0)) / inserts, 2)
            if change_pct > APPEND_ONLY_MAX_CHANGE_PCT:
                continue
        name = qualified(table.schema_name, table.name, ctx.engine)
        col = quote_ident(time_column.name, ctx.engine)
        new = qualified(table.schema_name, f"{table.name}_partitioned"[:63], ctx.engine)
        yield Finding(
            rule_id=SPEC.id,
            name=SPEC.name,
            severity=SPEC.severity if change_pct is not None else Severity.LOW,
            title=f"{table.name} has {table.row_estimate:,} insert-mostly rows in one unpartitioned table",
            subject=name,
            subject_kind="table",
            table=table.name,
            evidence={
                "rows": table.row_estimate,
                "total_bytes": table.total_bytes,
                "time_column": time_column.name,
                "inserts": inserts,
                "updates": updates,
                "deletes": deletes,
                "change_pct_of_inserts": change_pct,
            },
            rationale=(
                "The table is large, grows by inserts and has a time column, which is the shape range "
                "partitioning serves best: old data leaves by dropping a partition instead of a huge DELETE, "
                "and queries on recent rows touch only recent partitions."
            ),
            help=f"Plan range partitioning of {table.name} by {time_column.name} (monthly or daily partitions).",
            fix=Fix(
                title=f"Create a range-partitioned copy of {table.name} by {time_column.name}",
                statements=[
                    f"CREATE TABLE {new} (LIKE {name} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE) "
                    f"PARTITION BY RANGE ({col});",
                    f"CREATE TABLE {qualified(table.schema_name, f'{table.name}_default'[:63], ctx.engine)} "
                    f"PARTITION OF {new} DEFAULT;",
                ],
                safety="display-only",
                note=(
                    f"Add one partition per period, a primary key that includes {time_column.name}, and the indexes; "
                    "then copy in batches or ATTACH the old table as the partition for past data, and swap names."
                ),
            ),
            line=table.source_line,
        )
