"""Safe PostgreSQL rewrites for indexes, tables, partitions and enum types.

Sources: PostgreSQL docs (CREATE INDEX / DROP INDEX / REINDEX CONCURRENTLY and the INVALID index they leave when
they fail; ALTER TABLE ATTACH PARTITION skipping its scan when a valid CHECK implies the bound; DETACH PARTITION
CONCURRENTLY from 14, not with a default partition; ALTER TYPE ... ADD VALUE not inside a transaction block before
12, and a new value not usable before the transaction that added it commits), the 14.4 release notes (CONCURRENTLY
corruption fixed), and strong_migrations' runbooks for renames and drops.
"""

from __future__ import annotations

import copy
import re
from typing import TYPE_CHECKING, Any

from dbspecialist.knowledge.migrations.estimate import METADATA_SECONDS
from dbspecialist.knowledge.migrations.model import DurationEstimate, Phase
from dbspecialist.knowledge.migrations.pg_classify import ClassifiedOp
from dbspecialist.knowledge.migrations.pg_statements import deparse
from dbspecialist.knowledge.migrations.postgres_rewrites import alter, index_sql, not_valid_then_validate
from dbspecialist.knowledge.migrations.postgres_rewrites_base import Builder, object_name, q, same_schema, short_name
from dbspecialist.knowledge.migrations.postgres_rewrites_rules import cic_corruption, default_partition
from dbspecialist.knowledge.migrations.versions import version_text
from dbspecialist.knowledge.sql_text import index_name

if TYPE_CHECKING:
    from dbspecialist.adapters.catalog import Index, Table

ANALYZE_SECONDS = 5.0  # ANALYZE reads a fixed-size sample (300 x default_statistics_target rows)


UPGRADE_CHECK_TITLE = "Upgrade to the latest PostgreSQL 14.x minor release (14.4+) before any CONCURRENTLY step"


def cic_bug_check(b: Builder, table: str) -> None:
    """On 14.0-14.3 the plan's CONCURRENTLY builds may miss rows: a minor upgrade becomes the plan's first step."""
    if not (14, 0, 0) <= b.version < (14, 4, 0):
        return
    version = version_text(b.version, "postgres")
    b.finding(cic_corruption(version, table, b.line))
    if any(step.title == UPGRADE_CHECK_TITLE for step in b.steps):
        return
    check(
        b,
        "prepare",
        UPGRADE_CHECK_TITLE,
        None,
        ["SELECT current_setting('server_version_num')::int >= 140004 AS concurrent_builds_safe"],
        [
            f"PostgreSQL {version} can build an index CONCURRENTLY that silently misses rows (fixed in 14.4, MIG201). "
            "Expect true before running the CONCURRENTLY steps below; a minor upgrade only needs a restart.",
            "If the upgrade must wait: run each CONCURRENTLY build as a plain CREATE INDEX / REINDEX instead, which "
            "is correct but blocks writes to the table for the whole build.",
        ],
    )
    b.note(
        f"Prerequisite: PostgreSQL {version} has the CONCURRENTLY index corruption bug; upgrade to 14.4+ first "
        "(the first step), or the plain builds that replace the CONCURRENTLY steps block writes."
    )


def concurrent_index_steps(b: Builder, phase: Phase, table: str, create_sql: str, index: str, title: str) -> None:
    """CREATE INDEX CONCURRENTLY, then the indisvalid check (with clean-up), then ANALYZE."""
    cic_bug_check(b, table)
    b.step(
        phase,
        title + " (outside any transaction; reads and writes continue)",
        table,
        [create_sql],
        "create_index_concurrently",
        concurrent=True,
        rollback=[f"DROP INDEX CONCURRENTLY IF EXISTS {q(index)}"],
    )
    check(
        b,
        phase,
        f"Check {short_name(index)} is valid; if not, drop it concurrently and build it again",
        table,
        [f"SELECT indisvalid FROM pg_index WHERE indexrelid = '{q(index)}'::regclass"],
        [
            "Expect true. false means the build failed or was cancelled: run "
            f"DROP INDEX CONCURRENTLY IF EXISTS {q(index)}; then repeat the previous step."
        ],
    )
    analyze(b, phase, table)


def check(b: Builder, phase: Phase, title: str, table: str | None, sql: list[str], notes: list[str]) -> None:
    duration = DurationEstimate(seconds=METADATA_SECONDS, basis="catalog query")
    b.lock_free(phase, "check", title, table, notes, sql=sql, duration=duration)


def analyze(b: Builder, phase: Phase, table: str) -> None:
    step = b.step(
        phase,
        f"ANALYZE {table} so the planner has statistics for the new index",
        table,
        [f"ANALYZE {q(table)}"],
        "analyze",
        rollback=[],
        notes=["Samples the table (it does not read all of it); blocks neither reads nor writes."],
    )
    step.estimate = DurationEstimate(seconds=ANALYZE_SECONDS, basis="ANALYZE reads a fixed-size sample of rows")


def create_index(b: Builder, node: Any, op: ClassifiedOp) -> None:
    table = op.table
    name = str(node.idxname) if node.idxname else index_name(short_name(table), _words(op.detail.get("columns")))
    node.concurrent = True
    node.idxname = name
    node.if_not_exists = False
    columns = {c.strip().lower() for c in str(op.detail.get("columns") or "").split(",")}
    after = any((short_name(table).lower(), c) in b.backfilled for c in columns)
    phase: Phase = "validate" if after else "expand"  # on a backfilled column: build once, after the backfill
    partitions = b.partitions(table)
    if partitions is not None:
        partitioned_index(b, phase, node, table, partitions)
        return
    concurrent_index_steps(b, phase, table, deparse(node), same_schema(table, name), f"Build index {name} concurrently")


def partitioned_index(b: Builder, phase: Phase, node: Any, table: str, partitions: list[str]) -> None:
    """An index on a partitioned table: CONCURRENTLY on each partition, then ON ONLY the parent and attach each.

    PostgreSQL refuses CREATE INDEX CONCURRENTLY on a partitioned table, and a plain CREATE INDEX on it holds SHARE
    on every partition for the whole build. An index created ON ONLY the parent is invalid and empty (metadata only);
    it becomes valid once every partition's index is attached (PostgreSQL docs, CREATE INDEX and 5.11.2.2).
    """
    name = str(node.idxname)
    attach: list[str] = []
    for partition in partitions:
        part_index = _partition_index_name(name, table, partition)
        part_node = copy.deepcopy(node)
        part_node.idxname = part_index
        schema, _, relname = partition.rpartition(".")
        part_node.relation.schemaname = schema or None
        part_node.relation.relname = relname
        part_node.relation.inh = True
        part_node.concurrent = True
        concurrent_index_steps(
            b,
            phase,
            partition,
            deparse(part_node),
            same_schema(partition, part_index),
            f"Build index {part_index} on partition {partition} concurrently",
        )
        attach.append(
            f"ALTER INDEX {q(same_schema(table, name))} ATTACH PARTITION {q(same_schema(partition, part_index))}"
        )
    parent = copy.deepcopy(node)
    parent.concurrent = False
    parent.relation.inh = False  # ON ONLY: the parent's own (invalid, empty) index, no build on the partitions
    b.step(
        phase,
        f"Create index {name} ON ONLY the partitioned table {table} (metadata: no partition is scanned)",
        table,
        [deparse(parent)],
        "create_index",
        effect="metadata",
        rollback=[f"DROP INDEX IF EXISTS {q(same_schema(table, name))}"],
        notes=[
            f"{table} is partitioned: CREATE INDEX CONCURRENTLY is refused on it, so each partition is built "
            "concurrently and attached; the parent's index is invalid until every partition's index is attached."
        ],
        warn_blocking=False,
    )
    b.step(
        phase,
        f"Attach each partition's index to {name} (metadata; the parent index becomes valid after the last one)",
        table,
        attach,
        "rename_index",
        effect="metadata",
        tables=[table, *partitions],
        rollback=[],
        warn_blocking=False,
    )
    check(
        b,
        phase,
        f"Check {name} is valid on {table}",
        table,
        [f"SELECT indisvalid FROM pg_index WHERE indexrelid = '{q(same_schema(table, name))}'::regclass"],
        ["Expect true; false means a partition's index is missing or not attached (a partition added meanwhile)."],
    )


def _partition_index_name(name: str, table: str, partition: str) -> str:
    """events_kind_idx on events → events_2024_kind_idx on events_2024 (the parent's prefix swapped)."""
    parent, part = short_name(table), short_name(partition)
    if name.lower().startswith(parent.lower() + "_"):
        return object_name(part, suffix=name[len(parent) + 1 :])
    return object_name(part, suffix=name)


def _words(columns: object) -> list[str]:
    """Index-name words from column texts: 'lower(note)' → 'lower_note'."""
    return [re.sub(r"\W+", "_", c).strip("_") for c in str(columns or "").split(",") if c.strip()]


def _partitioned(b: Builder, table: str) -> Table | None:
    found = b.table(table)
    return found if found is not None and found.kind == "partitioned_table" else None


def drop_index(b: Builder, op: ClassifiedOp) -> None:
    name = str(op.detail.get("index"))
    index = _find_index(b, name)
    rollback = [index_sql(_index_table(b, name) or op.table, index)] if index is not None else []
    if index is not None and index.origin != "index":
        b.note(f"{name} backs a constraint: drop the constraint instead (ALTER TABLE ... DROP CONSTRAINT).")
    b.step(
        "contract",
        f"Drop index {name} concurrently (outside any transaction; reads and writes continue)",
        op.table or None,
        [f"DROP INDEX CONCURRENTLY IF EXISTS {q(name)}"],
        "drop_index_concurrently",
        concurrent=True,
        rollback=rollback,
        reversible=bool(rollback),
        notes=[] if rollback else ["Rollback needs the index definition (pg_get_indexdef) saved before dropping."],
    )


def _find_index(b: Builder, name: str) -> Index | None:
    if b.ctx.catalog is None:
        return None
    short = short_name(name).lower()
    return next((i for t in b.ctx.catalog.tables for i in t.indexes if i.name.lower() == short), None)


def _index_table(b: Builder, name: str) -> str | None:
    if b.ctx.catalog is None:
        return None
    short = short_name(name).lower()
    return next((_written(t) for t in b.ctx.catalog.tables for i in t.indexes if i.name.lower() == short), None)


def _written(table: Table) -> str:
    """How a catalog table is usually written: without the default `public.` schema."""
    return table.name if table.schema_name in (None, "public") else table.qualified_name


def reindex(b: Builder, op: ClassifiedOp) -> None:
    target = str(op.detail.get("target"))
    if b.version < (12, 0, 0) or target not in ("index", "table"):
        passthrough_note = "REINDEX CONCURRENTLY needs PostgreSQL 12" if b.version < (12, 0, 0) else ""
        b.step(
            "expand",
            f"REINDEX {target} {op.detail.get('index') or op.table or op.detail.get('name')}",
            op.table or None,
            [f"REINDEX {target.upper()} {q(str(op.detail.get('index') or op.table or op.detail.get('name')))}"],
            "reindex",
            rollback=[],
            notes=[
                n
                for n in (
                    passthrough_note,
                    "Before 12: CREATE INDEX CONCURRENTLY a copy, drop the old one concurrently and rename the copy.",
                )
                if n
            ],
        )
        return
    cic_bug_check(b, op.table or str(op.detail.get("index")))
    name = str(op.detail.get("index") or op.table)
    b.step(
        "expand",
        f"Rebuild {target} {name} concurrently (outside any transaction; reads and writes continue)",
        op.table or None,
        [f"REINDEX {target.upper()} CONCURRENTLY {q(name)}"],
        "reindex_concurrently",
        concurrent=True,
        rollback=[],
    )
    check(
        b,
        "expand",
        "Check no INVALID leftovers of the rebuild remain (suffix _ccnew / _ccold)",
        op.table or None,
        [
            "SELECT indexrelid::regclass FROM pg_index WHERE NOT indisvalid"
            + (f" AND indrelid = '{q(op.table)}'::regclass" if op.table else "")
            + " AND indexrelid::regclass::text ~ '_cc(new|old)[0-9]*$'"
        ],
        ["Expect no rows; drop any listed index with DROP INDEX CONCURRENTLY IF EXISTS and repeat the rebuild."],
    )


def rename_table(b: Builder, op: ClassifiedOp) -> None:
    """RENAME TABLE through expand/contract: rename + an updatable view with the old name, dropped after deploys."""
    table = op.table
    new = str(op.detail.get("new"))
    new_qualified = same_schema(table, new)
    b.step(
        "expand",
        f"Rename {table} to {new} and keep the old name alive as an updatable view (one short transaction)",
        table,
        [
            "BEGIN",
            alter(table, f"RENAME TO {q(new)}"),
            f"CREATE VIEW {q(table)} AS SELECT * FROM {q(new_qualified)}",
            "COMMIT",
        ],
        "rename_table",
        rollback=[
            "BEGIN",
            f"DROP VIEW {q(table)}",
            alter(new_qualified, f"RENAME TO {q(short_name(table))}"),
            "COMMIT",
        ],
        notes=[
            "A single-table SELECT * view is automatically updatable: INSERT/UPDATE/DELETE through the old name keep "
            "working, with the table's defaults. Columns added after this step are not visible through the view."
        ],
    )
    b.deploy("switch", f"Deploy the application version that uses {new} instead of {short_name(table)}", table)
    b.step(
        "contract",
        f"Drop the compatibility view {table}",
        table,
        [f"DROP VIEW {q(table)}"],
        "drop_view",
        rollback=[f"CREATE VIEW {q(table)} AS SELECT * FROM {q(new_qualified)}"],
    )


def drop_table(b: Builder, op: ClassifiedOp) -> None:
    """DROP TABLE in two deploys, renaming it first so a forgotten user fails loudly but recoverably."""
    table = op.table
    parked = object_name(short_name(table), suffix="to_drop")
    b.deploy("switch", f"Deploy the application version that no longer uses {table} (code, ORM models, jobs)", table)
    b.step(
        "contract",
        f"Rename {table} to {parked} first: anything still using it fails, and renaming back restores it",
        table,
        [alter(table, f"RENAME TO {q(parked)}")],
        "rename_table",
        rollback=[alter(same_schema(table, parked), f"RENAME TO {q(short_name(table))}")],
        notes=["Optional; wait long enough to see every job and report run before the drop."],
    )
    from dbspecialist.knowledge.migrations.postgres_rewrites import referencing_fks

    referencing = referencing_fks(b, table)
    cascade = " CASCADE" if op.detail.get("cascade") else ""
    b.step(
        "contract",
        f"Drop {parked}",
        table,
        [f"DROP TABLE {q(same_schema(table, parked))}{cascade}"],
        "drop_table",
        rollback=[],
        reversible=False,
        notes=["Irreversible: restore from a backup to undo."]
        + ([f"Foreign keys reference it ({', '.join(referencing)}): drop them first."] if referencing else []),
    )


_ADD_VALUE = re.compile(r"(\bADD\s+VALUE)", re.IGNORECASE)


def add_enum_value(b: Builder, st_text: str, op: ClassifiedOp) -> None:
    value = op.detail.get("value")
    sql = st_text if op.detail.get("if_not_exists") else _ADD_VALUE.sub(r"\1 IF NOT EXISTS", st_text, count=1)
    notes = [
        "The new value cannot be used until the transaction that added it commits: use it in a later step.",
        f"There is no DROP VALUE: removing {value!r} later means a type swap (CREATE TYPE new AS ENUM (...); "
        "ALTER TABLE ... ALTER COLUMN ... TYPE new USING col::text::new — a rewrite; DROP TYPE old; "
        "ALTER TYPE new RENAME TO old).",
    ]
    if b.version < (12, 0, 0):
        notes.insert(0, "Before PostgreSQL 12, ALTER TYPE ... ADD VALUE cannot run inside a transaction block.")
    b.step(
        "expand",
        f"Add enum value {value!r} to {op.detail.get('type')}",
        None,
        [sql],
        "add_enum_value",
        transactional=b.version >= (12, 0, 0),
        rollback=[],
        reversible=False,
        notes=notes,
    )


_KEY = re.compile(r"^\s*(RANGE|LIST|HASH)\s*\((.*)\)\s*$", re.IGNORECASE | re.DOTALL)


def attach_partition(b: Builder, op: ClassifiedOp, bound: Any) -> None:
    """ATTACH PARTITION after a validated CHECK matching the bound, so the attach skips its scan."""
    parent, partition = op.table, str(op.detail.get("partition"))
    found = b.table(parent)
    key = _KEY.match(found.partition_key or "") if found is not None else None
    default = _default_partition(b, parent)
    if default is not None:
        b.finding(default_partition(parent, default, b.line))
    attach = alter(parent, f"ATTACH PARTITION {q(partition)} {deparse(bound)}")
    condition = _bound_condition(key, bound) if key is not None and not op.detail.get("default") else None
    notes = [f"Also takes ACCESS EXCLUSIVE on {partition} (not yet in use by the application)."]
    if condition is None:
        b.step(
            "switch",
            f"Attach {partition} to {parent} (scans {partition} to check the bound)",
            parent,
            [attach],
            "attach_partition",
            rollback=[alter(parent, f"DETACH PARTITION {q(partition)}")],
            notes=[
                *notes,
                "Add a CHECK matching the bound to the partition first (and VALIDATE it) to skip the scan "
                "— the partition key is unknown here (give the catalog).",
            ],
        )
        return
    check_name = q(object_name(short_name(partition), suffix="bound"))
    not_valid_then_validate(
        b,
        "expand",
        partition,
        check_name,
        (
            f"Add a CHECK matching the partition bound to {partition}, NOT VALID",
            alter(partition, f"ADD CONSTRAINT {check_name} CHECK ({condition}) NOT VALID"),
            "add_check_not_valid",
        ),
        f"Validate the bound CHECK on {partition} (scans without blocking reads or writes)",
    )
    b.step(
        "switch",
        f"Attach {partition} to {parent}: the validated CHECK proves the bound, so no scan",
        parent,
        [attach],
        "attach_partition",
        effect="metadata",
        rollback=[alter(parent, f"DETACH PARTITION {q(partition)}")],
        notes=notes,
    )
    b.step(
        "contract",
        f"Drop the helper CHECK on {partition} (the partition bound now enforces it)",
        partition,
        [alter(partition, f"DROP CONSTRAINT {check_name}")],
        "drop_constraint",
        rollback=[],
    )


def _default_partition(b: Builder, parent: str) -> str | None:
    if b.ctx.catalog is None:
        return None
    short = short_name(parent).lower()
    for t in b.ctx.catalog.tables:
        is_child = bool(t.partition_of) and short_name(t.partition_of or "").lower() == short
        if is_child and str(t.options.get("partition_bound", "")).upper() == "DEFAULT":
            return t.qualified_name
    return None


def _bound_condition(key: re.Match[str], bound: Any) -> str | None:
    """The CHECK expression equivalent to a single-column RANGE or LIST bound (None when not expressible)."""
    strategy, columns = key.group(1).upper(), [c.strip() for c in key.group(2).split(",")]
    if len(columns) != 1 or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_$]*", columns[0]):
        return None
    col = q(columns[0])
    if strategy == "RANGE" and bound.lowerdatums and bound.upperdatums:
        parts = [f"{col} IS NOT NULL"]
        low, high = deparse(bound.lowerdatums[0]), deparse(bound.upperdatums[0])
        if low.upper() != "MINVALUE":
            parts.append(f"{col} >= {low}")
        if high.upper() != "MAXVALUE":
            parts.append(f"{col} < {high}")
        return " AND ".join(parts)
    if strategy == "LIST" and bound.listdatums:
        values = [deparse(v) for v in bound.listdatums]
        non_null = [v for v in values if v.upper() != "NULL"]
        condition = f"{col} IN ({', '.join(non_null)})" if non_null else "false"
        return (
            f"({col} IS NULL OR {condition})" if len(non_null) < len(values) else f"{col} IS NOT NULL AND {condition}"
        )
    return None


def detach_partition(b: Builder, op: ClassifiedOp) -> None:
    parent, partition = op.table, str(op.detail.get("partition"))
    default = _default_partition(b, parent)
    if b.version >= (14, 0, 0) and default is None:
        b.step(
            "contract",
            f"Detach {partition} from {parent} CONCURRENTLY (outside any transaction; two internal transactions)",
            parent,
            [alter(parent, f"DETACH PARTITION {q(partition)} CONCURRENTLY")],
            "detach_partition_concurrently",
            rollback=[],
            notes=[
                f"If it is interrupted, finish it with: {alter(parent, f'DETACH PARTITION {q(partition)} FINALIZE')}",
                f"Takes ACCESS EXCLUSIVE on {partition} at the end; not allowed when {parent} has a default partition.",
            ],
        )
        return
    if default is not None:
        b.finding(default_partition(parent, default, b.line))
    b.step(
        "contract",
        f"Detach {partition} from {parent} (brief ACCESS EXCLUSIVE on both)",
        parent,
        [alter(parent, f"DETACH PARTITION {q(partition)}")],
        "detach_partition",
        tables=[parent, partition],
        rollback=[],
        notes=["DETACH ... CONCURRENTLY needs PostgreSQL 14 and no default partition."],
    )


def refresh_materialized_view(b: Builder, op: ClassifiedOp) -> None:
    found = b.table(op.table)
    has_unique = found is not None and any(i.unique and not i.predicate for i in found.indexes)
    if has_unique:
        b.step(
            "expand",
            f"Refresh {op.table} CONCURRENTLY (reads continue; it has a unique index)",
            op.table,
            [f"REFRESH MATERIALIZED VIEW CONCURRENTLY {q(op.table)}"],
            "refresh_materialized_view_concurrently",
            rollback=[],
        )
        return
    b.step(
        "expand",
        f"Refresh {op.table} (blocks reads of the view while it runs)",
        op.table,
        [f"REFRESH MATERIALIZED VIEW {q(op.table)}"],
        "refresh_materialized_view",
        rollback=[],
        notes=["Add a unique index on the view to refresh it CONCURRENTLY without blocking reads."],
    )
