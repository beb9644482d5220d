"""PostgreSQL health rules about indexes: invalid, unused and duplicate (HLT016-HLT018)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from dbspecialist.knowledge.findings import Finding, Fix, FixSafety, Severity
from dbspecialist.knowledge.health.postgres_common import (
    DAY_SECONDS,
    PgHealthContext,
    as_int,
    finding,
    human_bytes,
    name_of,
    spec,
)

# -- HLT016 -------------------------------------------------------------------------------------------------

INVALID_INDEX = spec(
    "HLT016",
    "invalid-index",
    Severity.MEDIUM,
    "An index is marked invalid (pg_index.indisvalid = false), usually left by a failed CREATE INDEX CONCURRENTLY.",
    fix="always",
)


def _concurrent_definition(definition: str) -> str:
    """`CREATE [UNIQUE] INDEX name ...` from pg_get_indexdef, built CONCURRENTLY."""
    return re.sub(r"^CREATE (UNIQUE )?INDEX ", r"CREATE \1INDEX CONCURRENTLY ", definition, count=1) + ";"


def invalid_index(ctx: PgHealthContext) -> Iterator[Finding]:
    """An index is invalid: queries never use it, yet every write still maintains it.

    ## Why it matters
    When `CREATE INDEX CONCURRENTLY` (or `REINDEX CONCURRENTLY`) fails, for example on a duplicate
    value in a unique index or on a deadlock, it leaves the index behind marked invalid: the planner
    ignores it but it still costs update overhead (PostgreSQL docs, CREATE INDEX, "Building Indexes
    Concurrently"). The query it was meant to speed up stays slow, unnoticed.

    ## Threshold
    Any index with `pg_index.indisvalid = false` that is not being built right now
    (`pg_stat_progress_create_index`). Sampled now.

    ## Fix
    Drop it and build it again CONCURRENTLY; for a unique index, remove the duplicates first or it fails
    the same way.
    """
    for row in ctx.section("indexes").get("invalid") or []:
        if row.get("in_progress"):
            continue
        index = name_of(row.get("schema"), str(row.get("name")))
        table = name_of(row.get("schema"), str(row.get("table")))
        definition = str(row.get("definition") or "")
        unique = bool(row.get("is_unique"))
        statements = [f"DROP INDEX CONCURRENTLY {index};"]
        if definition:
            statements.append(_concurrent_definition(definition))
        yield finding(
            INVALID_INDEX,
            subject=index,
            subject_kind="index",
            table=str(row.get("table")),
            title=f"index {index} on {table} is invalid: never used by queries, still maintained on writes",
            measured="sample",
            evidence={
                "table": table,
                "is_unique": unique,
                "columns": ",".join(row.get("columns") or []) or None,
                "size_bytes": as_int(row.get("size_bytes")),
                "definition": definition or None,
                "constraint": row.get("constraint_name"),
            },
            rationale=(
                "A failed CREATE INDEX CONCURRENTLY leaves the index invalid: the planner ignores it, but every write "
                "still pays for it, and the query it was built for stays slow."
            ),
            help_="Drop it and build it again CONCURRENTLY"
            + ("; remove the duplicate keys first or it fails again." if unique else "."),
            fix=Fix(
                title=f"Rebuild {index}",
                statements=statements,
                note="Both statements run outside a transaction block and block neither reads nor writes."
                + (
                    " It is UNIQUE: find the duplicates first (GROUP BY the key HAVING count(*) > 1)." if unique else ""
                ),
            ),
        )


# -- HLT017 -------------------------------------------------------------------------------------------------

UNUSED_INDEX = spec(
    "HLT017",
    "unused-index",
    Severity.LOW,
    "A non-unique index has not been scanned once since the statistics were reset.",
)


def unused_index(ctx: PgHealthContext) -> Iterator[Finding]:
    """An index has not been scanned once since the statistics reset: all cost, no benefit.

    ## Why it matters
    Every insert, every update that cannot be HOT and every delete maintains every index; an index no
    query uses only costs write time, WAL, memory and backup space.

    ## Threshold
    `pg_stat_user_indexes.idx_scan = 0` for an index that is not unique, not a primary key, not behind a
    constraint and not the replica identity. The counter is per server and since the statistics reset:
    with less than 7 days of statistics the finding is only informational.

    ## Fix
    Check the replicas (their reads are counted there) and rare jobs (month-end reports) first, then
    `DROP INDEX CONCURRENTLY` it; keep its definition to re-create it.
    """
    window = ctx.stats_window_seconds
    days = round(window / DAY_SECONDS, 2) if window is not None else None
    young = days is None or days < ctx.thresholds.unused_index_min_days
    for row in ctx.section("indexes").get("unused") or []:
        index = name_of(row.get("schema"), str(row.get("name")))
        size = as_int(row.get("size_bytes"))
        yield finding(
            UNUSED_INDEX,
            subject=index,
            subject_kind="index",
            table=str(row.get("table")),
            title=f"index {index} ({human_bytes(size)}) has not been used since the statistics began",
            measured="counter",
            since=ctx.stats_since,
            evidence={
                "table": name_of(row.get("schema"), str(row.get("table"))),
                "columns": ",".join(row.get("columns") or []) or None,
                "idx_scan": as_int(row.get("idx_scan")),
                "size_bytes": size,
                "stats_days": days,
                "definition": row.get("definition"),
                "threshold_min_days": ctx.thresholds.unused_index_min_days,
            },
            rationale=(
                "Every write maintains every index; one that no query uses costs write time, WAL, cache and backup "
                "space for nothing."
                + (f" The statistics cover only {days} day(s), so rare queries may not have run yet." if young else "")
            ),
            help_="Confirm it is unused on every replica and by rare jobs, then drop it (keep the definition).",
            fix=Fix(
                title=f"Drop the unused index {index}",
                statements=[f"DROP INDEX CONCURRENTLY {index};"],
                safety="display-only",
                note=f"To re-create it: {row.get('definition')};" if row.get("definition") else None,
            ),
            severity=Severity.INFO if young else None,
        )


# -- HLT018 -------------------------------------------------------------------------------------------------

DUPLICATE_INDEX = spec(
    "HLT018",
    "duplicate-index",
    Severity.MEDIUM,
    "Two valid indexes on a table have the same columns, expressions, operator classes and predicate.",
)


def _keep_rank(member: dict[str, Any]) -> tuple[int, str]:
    """Lower sorts first = the index to keep: primary key, constraint-backed, unique, then by name."""
    if member.get("is_primary"):
        rank = 0
    elif member.get("constraint_type"):
        rank = 1
    elif member.get("is_unique"):
        rank = 2
    else:
        rank = 3
    return rank, str(member.get("name"))


def duplicate_index(ctx: PgHealthContext) -> Iterator[Finding]:
    """Two indexes on a table are identical: the second doubles the write cost and is never needed.

    ## Why it matters
    Indexes with the same key columns (or expressions), operator classes, collations, sort options and
    predicate are interchangeable: the planner uses one, and every write maintains both.

    ## Threshold
    Valid indexes of the same table and access method with identical `indkey`, `indclass`,
    `indcollation`, `indoption`, expressions and predicate. Read from the catalog now.

    ## Fix
    Keep the primary key, the constraint-backed or the unique one; `DROP INDEX CONCURRENTLY` the other.
    Two constraints on the same key need `ALTER TABLE ... DROP CONSTRAINT`, after checking that no
    foreign key depends on the one you drop.
    """
    for members in ctx.section("indexes").get("duplicates") or []:
        ordered = sorted(members, key=_keep_rank)
        keep = ordered[0]
        kept = name_of(keep.get("schema"), str(keep.get("name")))
        for extra in ordered[1:]:
            safety: FixSafety
            index = name_of(extra.get("schema"), str(extra.get("name")))
            table = name_of(extra.get("schema"), str(extra.get("table")))
            if extra.get("constraint_type"):
                statement = f"ALTER TABLE {table} DROP CONSTRAINT {name_of(None, str(extra.get('constraint_name')))};"
                safety = "display-only"
                note = "It backs a constraint: check that no foreign key references it before dropping."
            else:
                statement = f"DROP INDEX CONCURRENTLY {index};"
                safety = "safe"
                note = f"{kept} has the same definition and stays."
            size = as_int(extra.get("size_bytes"))
            yield finding(
                DUPLICATE_INDEX,
                subject=index,
                subject_kind="index",
                table=str(extra.get("table")),
                title=f"index {index} ({human_bytes(size)}) duplicates {kept}",
                measured="sample",
                evidence={
                    "table": table,
                    "duplicate_of": kept,
                    "columns": ",".join(extra.get("columns") or []) or None,
                    "size_bytes": size,
                    "definition": extra.get("definition"),
                    "kept_definition": keep.get("definition"),
                },
                rationale=(
                    "Identical indexes are interchangeable: the planner uses one of them and every write maintains "
                    "both."
                ),
                help_=f"Drop {index} and keep {kept}.",
                fix=Fix(title=f"Drop the duplicate index {index}", statements=[statement], safety=safety, note=note),
            )


RULES = (
    (INVALID_INDEX, invalid_index),
    (UNUSED_INDEX, unused_index),
    (DUPLICATE_INDEX, duplicate_index),
)
