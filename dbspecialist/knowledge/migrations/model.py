"""The migration planner's and linter's output models, shared by every engine's planner.

A plan is a list of steps in phases (expand → backfill → validate → switch → contract). Every step says
what it locks, whether that blocks reads or writes, what it does to the table (metadata only, a scan, a
rewrite, a row-by-row backfill), whether it may run inside a transaction, how long it should take on the
table's size (with the throughput assumed), how to roll it back, and which preamble it needs.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from dbspecialist.knowledge.findings import Finding

Phase = Literal["prepare", "expand", "backfill", "validate", "switch", "contract"]
PHASE_ORDER: dict[str, int] = {"prepare": 0, "expand": 1, "backfill": 2, "validate": 3, "switch": 4, "contract": 5}
Blocks = Literal["nothing", "writes", "reads and writes"]
TableEffect = Literal["none", "metadata", "scan", "rewrite", "rows", "build"]
StepKind = Literal["sql", "deploy", "script", "command", "check"]
MigrationDialect = Literal["postgres", "mysql", "mariadb", "sqlite", "mongodb"]


class TableStats(BaseModel):
    """Size of a table as given by the caller (`table_stats`) or read from the live catalog."""

    model_config = ConfigDict(frozen=True, defer_build=True)  # in no tool's schema: built on first use, not at start-up

    rows: int | None = Field(default=None, ge=0)
    bytes: int | None = Field(default=None, ge=0, description="table (heap) bytes; total with indexes if unknown")
    index_bytes: int | None = Field(default=None, ge=0)


class LockClaim(BaseModel):
    """The lock a step takes, in the engine's own words, and what it blocks while held."""

    model_config = ConfigDict(frozen=True)

    mode: str = Field(description="PostgreSQL lock mode (e.g. 'ACCESS EXCLUSIVE'); MySQL: MDL + ALGORITHM/LOCK")
    tables: list[str] = Field(default_factory=list, description="tables the lock is taken on")
    blocks: Blocks = Field(description="what other sessions cannot do while it is held")
    held: str = Field(description="how long it is held, e.g. 'a few milliseconds (catalog update only)'")


class DurationEstimate(BaseModel):
    model_config = ConfigDict(frozen=True)

    seconds: float | None = Field(description="estimated wall time; None when the table size is unknown")
    basis: str = Field(description="the size and throughput the estimate assumes")


class MigrationStep(BaseModel):
    number: int = Field(default=0, description="1-based position in the plan (set when the plan is assembled)")
    phase: Phase
    kind: StepKind = "sql"
    title: str = Field(description="what the step does, in one line")
    table: str | None = None
    sql: list[str] = Field(default_factory=list, description="the exact statements, in order")
    command: str | None = Field(default=None, description="a shell command or script (gh-ost, pt-osc, backfill)")
    lock: LockClaim | None = None
    blocks_reads: bool = False
    blocks_writes: bool = False
    table_effect: TableEffect = "metadata"
    transactional: bool = Field(description="may run inside a transaction block")
    estimate: DurationEstimate | None = None
    rollback: list[str] = Field(default_factory=list, description="statements that undo the step")
    reversible: bool = True
    preamble: list[str] = Field(default_factory=list, description="session settings to run first (timeouts)")
    retry: str | None = Field(default=None, description="what to do when the lock timeout fires")
    notes: list[str] = Field(default_factory=list)
    only_if_previous_refused: bool = Field(
        default=False, description="an alternative: run it only when the server refused the step before it"
    )


class TableLockSummary(BaseModel):
    """Per table: the strongest lock any step takes and the longest any blocking lock is held."""

    table: str
    strongest_lock: str
    blocks: Blocks
    longest_blocking_seconds: float | None = Field(
        description="the longest estimated time a step holding a read- or write-blocking lock runs"
    )
    steps: list[int] = Field(description="steps touching the table")


class MigrationPlan(BaseModel):
    engine: str
    dialect: str
    version: str | None = None
    statements: list[str] = Field(description="the change that was planned (given, or generated from the diff)")
    generated_from_diff: bool = False
    steps: list[MigrationStep]
    findings: list[Finding] = Field(default_factory=list, description="risks in the change as asked")
    counts: dict[str, int] = Field(default_factory=dict, description="findings per severity")
    locks: list[TableLockSummary] = Field(default_factory=list)
    assumptions: list[str] = Field(default_factory=list, description="throughputs and sizes the estimates use")
    backfill_script: str | None = Field(default=None, description="a small resumable backfill script, if any")
    summary: str = Field(default="", description="one paragraph: what the plan does and its risk")


class LintReport(BaseModel):
    dialect: str
    version: str | None = None
    statements: int = Field(description="statements read")
    rules_run: int
    counts: dict[str, int] = Field(description="findings per severity")
    findings: list[Finding]
    suppressed: int = Field(default=0, description="findings silenced by -- dbspecialist:ignore comments")
    parse_errors: list[str] = Field(default_factory=list)


class MigrationInputError(ValueError):
    """Input the planner or linter cannot work with; the message says what to change."""
