"""The PostgreSQL planner's building blocks: one step with its lock, estimate, preamble and retry advice.

Timeouts (our choice):
- `lock_timeout = '2s'` for every step whose lock blocks reads or writes. While a DDL statement waits for its lock,
  every later query on the table queues behind it, so the wait is an outage; 2 s caps that stall below common
  request timeouts yet lets the statement in between the ordinary sub-second transactions of a busy table.
  Squawk's runbook uses 1 s; either is defensible — the plan's retry advice covers the cost of a short timeout.
- `statement_timeout = '5s'` for lock-taking metadata steps: once the lock is granted the catalog change takes
  milliseconds, so anything longer means the step is doing more than planned (a scan or rewrite) — stop it.
- `lock_timeout = 0` and `statement_timeout = 0` (no limit) for steps that block neither reads nor writes
  (VALIDATE CONSTRAINT, CONCURRENTLY builds, ANALYZE): they may wait and run as long as they need without hurting
  the application, and cancelling a CONCURRENTLY build midway leaves an INVALID index behind.
- Steps that unavoidably block while they scan or rewrite get a statement_timeout of three times their estimate
  (at least 60 s), or none when the size is unknown, and a MIG200 finding.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from dbspecialist.knowledge.findings import Finding
from dbspecialist.knowledge.migrations.backfill import ident
from dbspecialist.knowledge.migrations.estimate import estimate
from dbspecialist.knowledge.migrations.model import DurationEstimate, MigrationStep, Phase, StepKind, TableEffect
from dbspecialist.knowledge.migrations.pg_classify import SchemaState, claim, operation
from dbspecialist.knowledge.migrations.pg_classify_state import leaf_partitions
from dbspecialist.knowledge.migrations.postgres_rewrites_rules import long_blocking_step

if TYPE_CHECKING:
    from dbspecialist.adapters.catalog import Table
    from dbspecialist.knowledge.migrations.context import PlanContext

LOCK_TIMEOUT: Final = "2s"
METADATA_STATEMENT_TIMEOUT: Final = "5s"
MAX_IDENT: Final = 63

RETRY_LOCK: Final = (
    "If it fails with 'canceling statement due to lock timeout' (SQLSTATE 55P03) nothing was changed. First look "
    "for long transactions holding locks on {table}: SELECT pid, now() - xact_start AS age, state, left(query, 60) "
    "FROM pg_stat_activity WHERE xact_start < now() - interval '1 minute' ORDER BY xact_start; then retry with "
    "backoff (5 s, 10 s, 20 s ... up to 10 attempts), preferably off-peak."
)
RETRY_CONCURRENT: Final = (
    "Runs outside any transaction block. If it fails or is cancelled it leaves an INVALID index: find it with "
    "SELECT indexrelid::regclass FROM pg_index WHERE NOT indisvalid; drop it with DROP INDEX CONCURRENTLY IF EXISTS "
    "and run the step again. It waits for transactions older than itself: check pg_stat_activity for long ones."
)
RETRY_NON_BLOCKING: Final = (
    "Blocks neither reads nor writes; it only waits for other DDL, VACUUM or ANALYZE on {table}. Safe to re-run "
    "after a failure; if it waits long, look for long transactions in pg_stat_activity."
)


def short_name(table: str) -> str:
    return table.rsplit(".", 1)[-1].strip('"')


def object_name(*parts: str, suffix: str) -> str:
    """A conventional object name `<parts>_<suffix>`, cut to PostgreSQL's 63-byte identifier limit."""
    stem = "_".join(p.strip('"') for p in parts if p)
    return f"{stem[: MAX_IDENT - len(suffix) - 1]}_{suffix}"


def same_schema(table: str, name: str) -> str:
    """`name` in `table`'s schema, e.g. ('app.orders', 'orders_sync') → 'app.orders_sync'."""
    return f"{table.rsplit('.', 1)[0]}.{name}" if "." in table else name


@dataclass
class Builder:
    """Collects the steps, findings, assumptions and scripts of one plan."""

    ctx: PlanContext
    state: SchemaState
    steps: list[MigrationStep] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    assumptions: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    scripts: list[str] = field(default_factory=list)
    line: int | None = None  # first line of the statement being planned
    backfilled: set[tuple[str, str]] = field(default_factory=set)  # (table, column) filled by a planned backfill
    not_null: set[tuple[str, str]] = field(default_factory=set)  # (table, column) made NOT NULL by the plan
    widened: set[tuple[str, str]] = field(default_factory=set)  # (table, column) given a new type by a column swap
    fk_copies: dict[tuple[str, str], str] = field(default_factory=dict)  # (table, foreign key) → its copy's name

    @property
    def version(self) -> tuple[int, int, int]:
        return self.ctx.version

    def table(self, name: str) -> Table | None:
        return self.ctx.table(name)

    def partitions(self, table: str) -> list[str] | None:
        """The leaf partitions of `table` as qualified names when it is a partitioned table, else None."""
        found = self.table(table)
        if found is None or self.ctx.catalog is None:
            return None
        return leaf_partitions(self.ctx.catalog, found)

    def is_new(self, table: str) -> bool:
        return short_name(table).lower() in self.state.new_tables

    def finding(self, finding: Finding) -> None:
        """Add a finding once per (rule, subject)."""
        if not any(f.rule_id == finding.rule_id and f.subject == finding.subject for f in self.findings):
            self.findings.append(finding)

    def assume(self, text: str) -> None:
        if text not in self.assumptions:
            self.assumptions.append(text)

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def step(
        self,
        phase: Phase,
        title: str,
        table: str | None,
        sql: list[str],
        op_kind: str,
        *,
        rollback: list[str] | None = None,
        reversible: bool = True,
        effect: TableEffect | None = None,
        tables: list[str] | None = None,
        concurrent: bool = False,
        transactional: bool | None = None,
        held: str | None = None,
        notes: list[str] | None = None,
        kind: StepKind = "sql",
        command: str | None = None,
        preamble: list[str] | None = None,
        warn_blocking: bool = True,
    ) -> MigrationStep:
        """Add a step taking `op_kind`'s lock on `tables` (default: `table`)."""
        op = operation(op_kind)
        effect = effect or op.effect
        lock_tables = tables if tables is not None else ([table] if table else [])
        lock = claim(op_kind, lock_tables, held)
        new = table is not None and self.is_new(table)
        stats = self.ctx.stats_for(table) if table and not new else None
        est = estimate(effect, stats, concurrent=concurrent)
        if est.seconds is not None or effect not in ("metadata", "none"):
            self.assume(est.basis if table is None else f"{table}: {est.basis}")
        blocking = lock.blocks != "nothing"
        if preamble is None:
            preamble = self._preamble(blocking, effect, est.seconds)
        retry = (RETRY_CONCURRENT if concurrent else RETRY_LOCK if blocking else RETRY_NON_BLOCKING).format(
            table=table or "the table"
        )
        step = MigrationStep(
            phase=phase,
            kind=kind,
            title=title,
            table=table,
            sql=sql,
            command=command,
            lock=lock,
            blocks_reads=lock.blocks == "reads and writes",
            blocks_writes=blocking,
            table_effect=effect,
            transactional=op.transactional if transactional is None else transactional,
            estimate=est,
            rollback=rollback or [],
            reversible=reversible,
            preamble=preamble,
            retry=retry,
            notes=notes or [],
        )
        self.steps.append(step)
        if warn_blocking and blocking and effect in ("scan", "rewrite", "build") and not new and table:
            size = est.basis.split(";", 1)[0]
            self.finding(long_blocking_step(table, title, lock.mode, est.seconds, size, self.line))
        return step

    @staticmethod
    def _preamble(blocking: bool, effect: TableEffect, seconds: float | None) -> list[str]:
        if effect == "rows":
            return [f"SET lock_timeout = '{LOCK_TIMEOUT}'", "SET statement_timeout = '60s'"]
        if not blocking:
            return ["SET lock_timeout = 0", "SET statement_timeout = 0"]
        if effect in ("metadata", "none"):
            return [f"SET lock_timeout = '{LOCK_TIMEOUT}'", f"SET statement_timeout = '{METADATA_STATEMENT_TIMEOUT}'"]
        limit = f"'{max(60, math.ceil(seconds * 3))}s'" if seconds is not None else "0"
        return [f"SET lock_timeout = '{LOCK_TIMEOUT}'", f"SET statement_timeout = {limit}"]

    def deploy(self, phase: Phase, title: str, table: str | None, notes: list[str] | None = None) -> MigrationStep:
        """An application deploy step (no SQL): `title` names exactly what the application must change."""
        return self.lock_free(phase, "deploy", title, table, notes)

    def lock_free(
        self,
        phase: Phase,
        kind: StepKind,
        title: str,
        table: str | None,
        notes: list[str] | None = None,
        *,
        sql: list[str] | None = None,
        duration: DurationEstimate | None = None,
    ) -> MigrationStep:
        """A step that takes no lock and changes nothing (a deploy, a catalog check): transactional, reversible."""
        step = MigrationStep(
            phase=phase,
            kind=kind,
            title=title,
            table=table,
            sql=sql or [],
            transactional=True,
            table_effect="none",
            estimate=duration,
            reversible=True,
            notes=notes or [],
        )
        self.steps.append(step)
        return step


def q(name: str) -> str:
    """An identifier or schema-qualified name as SQL."""
    return ident(name)
