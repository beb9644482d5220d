"""The PostgreSQL planner's own findings (MIG200+): risks the safe plan cannot remove, only state.

Each rule is a (RuleSpec, builder) pair; the builder's docstring is the rule's documentation (first line: what it
flags; body: why, and what to do).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from dbspecialist.knowledge.findings import Finding, Fix, RuleSpec, Severity


def _spec(rule_id: str, name: str, severity: Severity, summary: str, fix: str = "sometimes") -> RuleSpec:
    return RuleSpec(
        id=rule_id,
        name=name,
        capability="migrations",
        engines=("postgresql",),
        severity=severity,
        status="preview",
        fix=fix,  # type: ignore[arg-type]
        summary=summary,
    )


LONG_BLOCKING_STEP = _spec(
    "MIG200",
    "long-blocking-step",
    Severity.HIGH,
    "A planned step holds a lock that blocks reads or writes while it rewrites, scans or builds the table.",
)
CIC_CORRUPTION_14 = _spec(
    "MIG201",
    "concurrent-index-bug-14-0-to-14-3",
    Severity.HIGH,
    "CREATE INDEX / REINDEX CONCURRENTLY on PostgreSQL 14.0 to 14.3, whose builds can silently miss rows.",
    fix="always",
)
BACKFILL_VALUE_NEEDED = _spec(
    "MIG202",
    "backfill-value-needed",
    Severity.MEDIUM,
    "A NOT NULL column is added without a default: existing rows need a value the plan cannot guess.",
)
NOT_NULL_BEFORE_12 = _spec(
    "MIG203",
    "set-not-null-scans-before-12",
    Severity.MEDIUM,
    "SET NOT NULL on PostgreSQL before 12 always scans the table under ACCESS EXCLUSIVE.",
)
REFERENCED_KEY_CHANGE = _spec(
    "MIG204",
    "referenced-key-change",
    Severity.HIGH,
    "A primary key (or its column) that foreign keys reference is changed: those foreign keys must be re-created.",
)
DEFAULT_PARTITION = _spec(
    "MIG205",
    "default-partition-scan",
    Severity.MEDIUM,
    "The partitioned table has a default partition: attaching scans it, and DETACH CONCURRENTLY is refused.",
)
VERSION_ASSUMED = _spec(
    "MIG206",
    "version-assumed",
    Severity.INFO,
    "No server version was given: version-gated rewrites assume the default version.",
)


def long_blocking_step(table: str, what: str, mode: str, seconds: float | None, size: str, line: int | None) -> Finding:
    """A step of the plan holds a read- or write-blocking lock for as long as it rewrites, scans or builds.

    The planner found no online alternative for this operation (VACUUM FULL, CLUSTER, SET LOGGED, an exclusion
    constraint, a stored generated column, an index rebuild for an operator-class change...), or the alternative
    is not applicable here. While the step runs, every query that needs a conflicting lock on the table waits.
    Run it in a maintenance window, or use an online tool (pg_repack for VACUUM FULL / CLUSTER), or rebuild the
    data into a new table and swap it in with a rename.
    """
    duration = f"estimated {seconds:,.0f} s" if seconds is not None else "duration unknown (table size not given)"
    return Finding(
        rule_id=LONG_BLOCKING_STEP.id,
        name=LONG_BLOCKING_STEP.name,
        severity=Severity.CRITICAL if seconds is not None and seconds >= 60 else LONG_BLOCKING_STEP.severity,
        title=f"{what}: {duration} under {mode} on {table}",
        subject=table,
        table=table.rsplit(".", 1)[-1],
        subject_kind="table",
        evidence={"lock": mode, "estimated_seconds": seconds, "size": size},
        rationale=(
            f"{what} holds {mode} on {table} for the whole operation ({size}); every read or write that conflicts "
            "with it waits that long, and new queries queue behind it."
        ),
        help="Run it in a maintenance window or with an online tool (pg_repack), or rebuild into a new table.",
        line=line,
    )


def cic_corruption(version: str, table: str, line: int | None) -> Finding:
    """CREATE INDEX CONCURRENTLY and REINDEX CONCURRENTLY can build corrupt indexes on PostgreSQL 14.0 to 14.3.

    PostgreSQL 14.4 (June 2022) fixed a bug by which an index built or rebuilt CONCURRENTLY could miss rows
    updated during the build (HOT chains), so queries using the index silently return wrong results
    (strong_migrations flags the same range). Upgrade to the latest 14.x minor release before building indexes
    concurrently; on an affected server, check existing indexes with amcheck (`bt_index_check`) and rebuild the
    broken ones after upgrading.
    """
    return Finding(
        rule_id=CIC_CORRUPTION_14.id,
        name=CIC_CORRUPTION_14.name,
        severity=CIC_CORRUPTION_14.severity,
        title=f"PostgreSQL {version} can build a corrupt index CONCURRENTLY on {table}",
        subject=table,
        table=table.rsplit(".", 1)[-1],
        subject_kind="index",
        evidence={"version": version, "fixed_in": "14.4"},
        rationale="14.0 to 14.3 have a bug by which CONCURRENTLY builds can miss rows updated during the build.",
        help="Upgrade to the latest 14.x minor release before running this plan.",
        fix=Fix(
            title="Check existing indexes with amcheck after upgrading",
            statements=["CREATE EXTENSION IF NOT EXISTS amcheck", "SELECT bt_index_check('<index>'::regclass, true)"],
            safety="display-only",
        ),
        line=line,
    )


def backfill_value_needed(table: str, column: str, line: int | None) -> Finding:
    """A column is added as NOT NULL without a default, so the existing rows have no value to take.

    On a non-empty table the statement fails outright. The plan adds the column as nullable, has the
    application write it, backfills the existing rows and then enforces NOT NULL without a long lock — but only
    you know the value for the existing rows: replace the `<value for existing rows>` placeholder in the backfill.
    When one constant fits all rows, `ADD COLUMN ... NOT NULL DEFAULT <constant>` is a metadata-only change on
    PostgreSQL 11+ and needs none of this.
    """
    return Finding(
        rule_id=BACKFILL_VALUE_NEEDED.id,
        name=BACKFILL_VALUE_NEEDED.name,
        severity=BACKFILL_VALUE_NEEDED.severity,
        title=f"{table}.{column} is NOT NULL without a default: existing rows need a value",
        subject=f"{table}.{column}",
        table=table.rsplit(".", 1)[-1],
        subject_kind="column",
        evidence={"default": None, "not_null": True},
        rationale="Adding a NOT NULL column without a default fails on a table that already has rows.",
        help="Give a constant DEFAULT if one fits, or fill the backfill's placeholder value.",
        line=line,
    )


def not_null_before_12(table: str, column: str, seconds: float | None, line: int | None) -> Finding:
    """SET NOT NULL scans the whole table under ACCESS EXCLUSIVE on PostgreSQL before 12.

    From PostgreSQL 12 a validated `CHECK (column IS NOT NULL)` lets SET NOT NULL skip the scan. Before 12 there
    is no shortcut: the plan enforces the rule with a validated CHECK constraint instead (same guarantee for
    writes; the column still shows as nullable in the catalog). Run the real SET NOT NULL in a maintenance window,
    or after upgrading.
    """
    return Finding(
        rule_id=NOT_NULL_BEFORE_12.id,
        name=NOT_NULL_BEFORE_12.name,
        severity=NOT_NULL_BEFORE_12.severity,
        title=f"SET NOT NULL on {table}.{column} would scan the table under ACCESS EXCLUSIVE (before 12)",
        subject=f"{table}.{column}",
        table=table.rsplit(".", 1)[-1],
        subject_kind="column",
        evidence={"scan_seconds": seconds},
        rationale="Before PostgreSQL 12, SET NOT NULL cannot use a CHECK constraint to skip its table scan.",
        help="Keep the validated CHECK constraint as the rule, or run SET NOT NULL in a maintenance window.",
        line=line,
    )


def referenced_key_change(table: str, referencing: list[str], line: int | None) -> Finding:
    """A key that other tables' foreign keys reference is being replaced.

    A foreign key depends on the referenced table's primary key or unique index; the old constraint cannot be
    dropped without CASCADE, which drops those foreign keys. Re-create each referencing foreign key on the new key
    as `NOT VALID` and `VALIDATE` it afterwards, in the same plan, and keep the old unique index until then.
    """
    return Finding(
        rule_id=REFERENCED_KEY_CHANGE.id,
        name=REFERENCED_KEY_CHANGE.name,
        severity=REFERENCED_KEY_CHANGE.severity,
        title=f"the key of {table} is referenced by {len(referencing)} foreign key(s): {', '.join(referencing)}",
        subject=table,
        table=table.rsplit(".", 1)[-1],
        subject_kind="constraint",
        evidence={"referencing": ", ".join(referencing)},
        rationale="Foreign keys depend on the referenced key's index; replacing the key drops or blocks them.",
        help="Re-create the referencing foreign keys NOT VALID on the new key, then VALIDATE them.",
        line=line,
    )


def default_partition(table: str, default: str, line: int | None) -> Finding:
    """The partitioned table has a default partition, which ATTACH must scan and DETACH CONCURRENTLY refuses.

    Attaching a partition scans the default partition under ACCESS EXCLUSIVE to prove none of its rows belong to
    the new partition (a validated CHECK on the default partition excluding the new range avoids the scan).
    DETACH PARTITION CONCURRENTLY is not allowed while a default partition exists (PostgreSQL docs, ALTER TABLE).
    """
    return Finding(
        rule_id=DEFAULT_PARTITION.id,
        name=DEFAULT_PARTITION.name,
        severity=DEFAULT_PARTITION.severity,
        title=f"{table} has a default partition ({default}): it is scanned or blocks CONCURRENTLY",
        subject=table,
        table=table.rsplit(".", 1)[-1],
        subject_kind="table",
        evidence={"default_partition": default},
        rationale="A default partition must be proven free of the attached range, and forbids DETACH CONCURRENTLY.",
        help="Add a validated CHECK to the default partition that excludes the new range before attaching.",
        line=line,
    )


def version_assumed(version: str) -> Finding:
    """No server version was given, so version-gated rewrites assume the default version.

    Several safe rewrites depend on the version (fast defaults from 11, the CHECK shortcut for SET NOT NULL from 12,
    DETACH CONCURRENTLY from 14, NOT NULL NOT VALID from 18). Pass `version` (or a connection) so the plan matches
    the server it will run on.
    """
    return Finding(
        rule_id=VERSION_ASSUMED.id,
        name=VERSION_ASSUMED.name,
        severity=VERSION_ASSUMED.severity,
        title=f"no version given: the plan assumes PostgreSQL {version}",
        subject="server",
        subject_kind="server",
        evidence={"assumed_version": version},
        rationale="Version-gated rewrites were chosen for the assumed version.",
        help="Pass the server version so version-gated steps match your server.",
    )


RULES: Final[tuple[tuple[RuleSpec, Callable[..., Any]], ...]] = (
    (LONG_BLOCKING_STEP, long_blocking_step),
    (CIC_CORRUPTION_14, cic_corruption),
    (BACKFILL_VALUE_NEEDED, backfill_value_needed),
    (NOT_NULL_BEFORE_12, not_null_before_12),
    (REFERENCED_KEY_CHANGE, referenced_key_change),
    (DEFAULT_PARTITION, default_partition),
    (VERSION_ASSUMED, version_assumed),
)
