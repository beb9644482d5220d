"""plan_migration: the change (given, or diffed from a target schema) → a phased, lock-aware plan.

This module only routes and assembles: the engine planners (postgres_plan, mysql_plan, sqlite_plan, mongodb_plan)
turn each statement into steps; here the steps are ordered by phase and numbered, the linter's findings for the
change as asked are added, and each table's strongest lock and longest blocking step are summarised.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Final

from pydantic import ValidationError

from dbspecialist.adapters.catalog import Catalog
from dbspecialist.errors import validation_problems
from dbspecialist.knowledge.findings import Finding, Report
from dbspecialist.knowledge.migrations.context import PlanContext, PlannerOutput
from dbspecialist.knowledge.migrations.model import (
    PHASE_ORDER,
    MigrationInputError,
    MigrationPlan,
    MigrationStep,
    TableLockSummary,
    TableStats,
)
from dbspecialist.knowledge.migrations.versions import parse_version, version_text

DIALECTS: Final[dict[str, str]] = {
    "postgres": "postgres",
    "postgresql": "postgres",
    "mysql": "mysql",
    "mariadb": "mariadb",
    "sqlite": "sqlite",
    "mongodb": "mongodb",
    "mongo": "mongodb",
}
ENGINE_OF: Final[dict[str, str]] = {
    "postgres": "postgresql",
    "mysql": "mysql",
    "mariadb": "mysql",
    "sqlite": "sqlite",
    "mongodb": "mongodb",
}
MAX_CHANGE_CHARS: Final = 5_000_000
_BLOCK_RANK: Final[dict[str, int]] = {"nothing": 0, "writes": 1, "reads and writes": 2}

Planner = Callable[[str, PlanContext], PlannerOutput]


def normalise_dialect(dialect: str) -> str:
    canonical = DIALECTS.get(str(dialect).strip().lower())
    if canonical is None:
        raise MigrationInputError(f"unknown dialect {dialect!r}; accepted: postgres, mysql, mariadb, sqlite, mongodb")
    return canonical


def plan_migration(
    change: str | None = None,
    *,
    target_ddl: str | None = None,
    current_ddl: str | None = None,
    catalog: Catalog | None = None,
    dialect: str = "postgres",
    version: str | None = None,
    table_stats: Mapping[str, TableStats | Mapping[str, int | None]] | None = None,
) -> MigrationPlan:
    """Plan `change` (statements) or the diff from the current schema to `target_ddl`."""
    canonical = normalise_dialect(dialect)
    if (change is None or not change.strip()) == (target_ddl is None or not target_ddl.strip()):
        raise MigrationInputError("give either `change` (the statements to apply) or `target_ddl`, not both")
    current = catalog
    if current_ddl is not None and current_ddl.strip():
        if catalog is not None:
            raise MigrationInputError("give either a connection or `current_ddl` as the current schema, not both")
        current = _parse(current_ddl, canonical, "current_ddl")
    generated = False
    diff_notes: list[str] = []
    if target_ddl is not None and target_ddl.strip():
        if current is None:
            raise MigrationInputError(
                "`target_ddl` is diffed against the current schema: give `connection` or `current_ddl` too"
            )
        change, diff_notes = _diff(current, target_ddl, canonical)
        generated = True
    assert change is not None
    if len(change) > MAX_CHANGE_CHARS:
        raise MigrationInputError(
            f"the change is {len(change):,} characters; the limit is {MAX_CHANGE_CHARS:,} — plan it in parts"
        )
    parsed_version, given = parse_version(version, canonical)
    ctx = PlanContext(
        dialect=canonical,
        version=parsed_version,
        version_given=given,
        stats=_stats(table_stats),
        catalog=current,
    )
    if generated and not change.strip():
        return _assemble(ctx, [], PlannerOutput(steps=[], notes=diff_notes), [], generated=True)
    output = _planner(canonical)(change, ctx)
    output.notes.extend(diff_notes)
    lint_findings = _lint(change, canonical, version_text(parsed_version, canonical), current)
    return _assemble(ctx, _statement_texts(change, canonical), output, lint_findings, generated=generated)


# `DROP TABLE a, b` / `DROP SEQUENCE IF EXISTS s` in target_ddl: the objects the target says to drop.
_EXPLICIT_DROP: Final = re.compile(
    r"\bDROP\s+(?:TABLE|SEQUENCE)\s+(?:IF\s+EXISTS\s+)?([^;]+?)(?:\s+(?:CASCADE|RESTRICT))?\s*(?:;|$)",
    re.IGNORECASE,
)


def _diff(current: Catalog, target_ddl: str, dialect: str) -> tuple[str, list[str]]:
    """The change that turns `current` into `target_ddl`, and notes on what the diff left alone.

    A target may describe only the tables it changes (one table out of fifty): tables and stand-alone sequences it
    does not mention are left alone and listed in a note, not dropped. A table is dropped only when target_ddl says
    so with `DROP TABLE name;` (likewise `DROP SEQUENCE`), which the DDL reader applies to the target.
    """
    from dbspecialist.knowledge.migrations.diff import diff_schemas, kept_objects

    target = _parse(target_ddl, dialect, "target_ddl")
    drops = {
        name.strip().strip('"`[]').lower()
        for match in _EXPLICIT_DROP.finditer(target_ddl)
        for name in match.group(1).split(",")
    }
    drops |= {name.rsplit(".", 1)[-1] for name in drops}
    try:
        statements = diff_schemas(current, target, dialect, drops=drops)
    except ValueError as exc:
        raise MigrationInputError(f"cannot plan `target_ddl`: {exc}") from None
    notes = []
    kept = kept_objects(current, target, dialect, drops)
    if kept:
        shown = ", ".join(kept[:10]) + (f" and {len(kept) - 10} more" if len(kept) > 10 else "")
        notes.append(
            f"{len(kept)} table(s) or sequence(s) of the current schema are not in target_ddl and were left alone "
            f"({shown}): a target may list only the tables it changes. To drop one, add `DROP TABLE name;` to "
            "target_ddl."
        )
    if (
        dialect == "postgres"
        and current.source == "live"
        and any(key.startswith("enum:") for table in target.tables for key in table.options)
    ):
        notes.append(
            "Enum labels are not read from a live connection: new labels in target_ddl's CREATE TYPE ... AS ENUM "
            "are not compared. Add them with ALTER TYPE name ADD VALUE IF NOT EXISTS 'label' [AFTER 'other'] "
            "(plan it as `change`), or diff against current_ddl."
        )
    return "".join(f"{statement.rstrip().rstrip(';')};\n" for statement in statements), notes


def _parse(ddl: str, dialect: str, what: str) -> Catalog:
    if dialect == "mongodb":
        raise MigrationInputError(f"`{what}` is DDL; MongoDB has none — give `change` as JSON commands")
    from dbspecialist.knowledge.ddl.dispatch import parse_ddl

    try:
        parsed = parse_ddl(ddl, "mysql" if dialect == "mariadb" else dialect)
    except ValueError as exc:
        raise MigrationInputError(f"cannot read `{what}`: {exc}") from None
    if parsed.warnings:
        # A schema read only in part would be diffed as if the unread tables did not exist: DROP statements.
        shown = "; ".join(f"line {w.line}: {w.message}" for w in parsed.warnings[:3])
        more = f" (and {len(parsed.warnings) - 3} more)" if len(parsed.warnings) > 3 else ""
        raise MigrationInputError(
            f"cannot plan from `{what}`: {len(parsed.warnings)} statement(s) could not be read ({shown}{more}); "
            "fix or remove them, since a schema read only in part would turn what was skipped into drops"
        )
    return parsed.catalog


def _stats(given: Mapping[str, TableStats | Mapping[str, int | None]] | None) -> dict[str, TableStats]:
    stats: dict[str, TableStats] = {}
    for name, value in (given or {}).items():
        if isinstance(value, TableStats):
            stats[name.lower()] = value
            continue
        if not isinstance(value, Mapping):
            raise MigrationInputError(f"table_stats[{name!r}] must be an object like {{'rows': 400000000}}")
        unknown = set(value) - {"rows", "bytes", "index_bytes"}
        if unknown:
            raise MigrationInputError(
                f"table_stats[{name!r}] has unknown keys {sorted(unknown)}; use rows, bytes, index_bytes"
            )
        try:
            stats[name.lower()] = TableStats.model_validate(dict(value))
        except ValidationError as exc:
            raise MigrationInputError(f"table_stats[{name!r}]: {'; '.join(validation_problems(exc))}") from None
    return stats


def _planner(dialect: str) -> Planner:
    if dialect == "postgres":
        from dbspecialist.knowledge.migrations.postgres_plan import plan_postgres

        return plan_postgres
    if dialect in ("mysql", "mariadb"):
        from dbspecialist.knowledge.migrations.mysql_plan import plan_mysql

        return plan_mysql
    if dialect == "sqlite":
        from dbspecialist.knowledge.migrations.sqlite_plan import plan_sqlite

        return plan_sqlite
    from dbspecialist.knowledge.migrations.mongodb_plan import plan_mongodb

    return plan_mongodb


def _lint(change: str, dialect: str, version: str, catalog: Catalog | None) -> list[Finding]:
    if dialect == "mongodb":
        return []
    from dbspecialist.knowledge.migrations.lint import lint_migration

    return lint_migration(change, dialect, version, catalog=catalog).findings


def _statement_texts(change: str, dialect: str) -> list[str]:
    """The change's statements as written, split by the dialect's own migration splitter (not re-rendered)."""
    if dialect == "postgres":
        from dbspecialist.knowledge.migrations.pg_statements import split_postgres

        return [statement.text for statement in split_postgres(change)]
    if dialect == "mongodb":
        return [change.strip()]
    if dialect == "sqlite":
        from dbspecialist.knowledge.migrations.sqlite_statements import split_sqlite

        return [statement.text for statement in split_sqlite(change)]
    from dbspecialist.knowledge.migrations.mysql_tokens import split_statements

    return [statement.text for statement in split_statements(change)]


def _assemble(
    ctx: PlanContext, statements: list[str], output: PlannerOutput, lint_findings: list[Finding], *, generated: bool
) -> MigrationPlan:
    ordered = sorted(output.steps, key=lambda step: PHASE_ORDER[step.phase])
    steps = [step.model_copy(update={"number": n}) for n, step in enumerate(ordered, start=1)]
    report = Report.of([*lint_findings, *output.findings], rules_run=0)
    assumptions = list(output.assumptions)
    version = version_text(ctx.version, ctx.dialect)
    if not ctx.version_given:
        assumptions.insert(0, f"server version not given: assumed {ctx.dialect} {version} (pass `version`)")
    plan = MigrationPlan(
        engine=ENGINE_OF[ctx.dialect],
        dialect=ctx.dialect,
        version=version,
        statements=statements,
        generated_from_diff=generated,
        steps=steps,
        findings=report.findings,
        counts=report.counts,
        locks=lock_summary(steps),
        assumptions=assumptions,
        backfill_script=output.backfill_script,
    )
    return plan.model_copy(update={"summary": summarise(plan, output.notes)})


def lock_summary(steps: list[MigrationStep]) -> list[TableLockSummary]:
    """Per table: the strongest lock (by what it blocks, then PostgreSQL's mode order) and the longest blocking step."""
    from dbspecialist.knowledge.migrations.pg_locks import MODES

    by_table: dict[str, list[MigrationStep]] = {}
    for step in steps:
        if step.lock is None:
            continue
        for table in step.lock.tables or ([step.table] if step.table else []):
            by_table.setdefault(table, []).append(step)
    summaries = []
    for table in sorted(by_table):
        touching = by_table[table]
        assert all(step.lock is not None for step in touching)

        def rank(step: MigrationStep) -> tuple[int, int]:
            assert step.lock is not None
            mode = step.lock.mode
            return _BLOCK_RANK[step.lock.blocks], MODES.index(mode) if mode in MODES else -1

        strongest = max(touching, key=rank)
        assert strongest.lock is not None
        blocking = [
            step.estimate.seconds
            for step in touching
            if step.lock is not None
            and step.lock.blocks != "nothing"
            and step.estimate is not None
            and step.estimate.seconds is not None
        ]
        summaries.append(
            TableLockSummary(
                table=table,
                strongest_lock=strongest.lock.mode,
                blocks=strongest.lock.blocks,
                longest_blocking_seconds=max(blocking) if blocking else None,
                steps=[step.number for step in touching],
            )
        )
    return summaries


def _duration(seconds: float) -> str:
    if seconds < 1:
        return "under a second"
    if seconds < 120:
        return f"~{seconds:.0f} s"
    if seconds < 7200:
        return f"~{seconds / 60:.0f} min"
    return f"~{seconds / 3600:.1f} h"


def summarise(plan: MigrationPlan, notes: list[str] | None = None) -> str:
    """One paragraph: what the plan does, what it locks for how long, what to deploy, and the main risks."""
    if not plan.steps:
        return "The current schema already matches the target: nothing to migrate."
    phases = []
    for step in plan.steps:
        if step.phase not in phases:
            phases.append(step.phase)
    deploys = sum(1 for step in plan.steps if step.kind == "deploy")
    tables = sorted({step.table for step in plan.steps if step.table} | {lock.table for lock in plan.locks})
    parts = [
        f"{len(plan.steps)} steps in {len(phases)} phases ({' → '.join(phases)}) on "
        f"{len(tables)} table{'s' if len(tables) != 1 else ''} ({plan.dialect} {plan.version})."
    ]
    planned = [s for s in plan.steps if not s.only_if_previous_refused]  # alternatives are not added up
    known = [s.estimate.seconds for s in planned if s.estimate is not None and s.estimate.seconds is not None]
    unknown = [s.number for s in planned if s.estimate is not None and s.estimate.seconds is None]
    if known and unknown:
        label = "step" if len(unknown) == 1 else "steps"
        parts.append(
            f"Estimated run time {_duration(sum(known))} plus {label} {', '.join(map(str, unknown))}, whose duration "
            "depends on a table size that is not known (pass table_stats or a connection)."
        )
    elif known:
        parts.append(f"Estimated total run time {_duration(sum(known))}.")
    elif unknown:
        parts.append("Run time unknown: the table sizes are not known (pass table_stats or a connection).")
    blocking = [lock for lock in plan.locks if lock.blocks != "nothing"]
    if blocking:
        worst = max(
            blocking, key=lambda lock: (round(lock.longest_blocking_seconds or 0.0, 1), _BLOCK_RANK[lock.blocks])
        )
        held = worst.longest_blocking_seconds
        held_text = f" for {_duration(held)}" if held is not None and held >= 1 else " briefly"
        guarded = all(step.preamble for step in plan.steps if step.lock is not None and step.lock.blocks != "nothing")
        guard_text = "; every blocking step runs with a lock timeout and is retried" if guarded else ""
        parts.append(
            f"The longest blocking lock is {worst.strongest_lock} on {worst.table}{held_text} "
            f"(blocks {worst.blocks}){guard_text}."
        )
    else:
        parts.append("No step blocks reads or writes.")
    alternatives = [s for s in plan.steps if s.only_if_previous_refused]
    if alternatives:
        numbers = ", ".join(str(s.number) for s in alternatives)
        blocks = sorted({s.lock.blocks for s in alternatives if s.lock is not None and s.lock.blocks != "nothing"})
        effect = f"; it blocks {' and '.join(blocks)}" if blocks and len(alternatives) == 1 else ""
        effect = effect or (f"; they block {' and '.join(blocks)}" if blocks else "")
        parts.append(
            f"Step{'s' if len(alternatives) > 1 else ''} {numbers} run{'' if len(alternatives) > 1 else 's'} only "
            f"if the server refuses the online form before {'them' if len(alternatives) > 1 else 'it'}{effect} "
            "(not counted in the run time)."
        )
    if deploys:
        parts.append(f"{deploys} application deploy step{'s' if deploys != 1 else ''} must happen in the order shown.")
    irreversible = [step.number for step in plan.steps if not step.reversible]
    if irreversible:
        label = "Step" if len(irreversible) == 1 else "Steps"
        parts.append(f"{label} {', '.join(map(str, irreversible))} cannot be undone: take a backup or stop before.")
    serious = plan.counts.get("critical", 0) + plan.counts.get("high", 0)
    if serious:
        plural = "s" if serious != 1 else ""
        parts.append(f"The change as written has {serious} high-risk finding{plural}; the plan avoids them.")
    parts.extend(notes or [])
    return " ".join(parts)
