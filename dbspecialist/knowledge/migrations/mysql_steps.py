"""The MySQL/MariaDB planner's state (steps, assumptions, notes, backfill jobs) and the step constructors every flow
uses: a DDL step with its metadata lock, duration and retry advice, deploy and check steps, keyset backfills.
"""

from __future__ import annotations

from typing import Final

from dbspecialist.adapters.catalog import Table
from dbspecialist.knowledge.migrations.context import PlanContext
from dbspecialist.knowledge.migrations.estimate import estimate, table_bytes
from dbspecialist.knowledge.migrations.model import LockClaim, MigrationStep, Phase, StepKind, TableStats
from dbspecialist.knowledge.migrations.mysql_backfill import BackfillJob, backfill_step
from dbspecialist.knowledge.migrations.mysql_classify import Classified, traits_of
from dbspecialist.knowledge.migrations.mysql_online_ddl import (
    MYSQL_INSTANT_ANY_POSITION,
    OnlineDDL,
    max_row_versions_note,
    online_ddl,
)
from dbspecialist.knowledge.migrations.mysql_tokens import quote, short_name
from dbspecialist.knowledge.migrations.versions import Version

BIG_TABLE_BYTES: Final = 1 << 30  # 1 GiB
BIG_TABLE_ROWS: Final = 1_000_000
LOCK_WAIT_TIMEOUT_S: Final = 5
PREAMBLE: Final = f"SET SESSION lock_wait_timeout = {LOCK_WAIT_TIMEOUT_S};"
RETRY: Final = (
    "If it fails with error 1205 (Lock wait timeout exceeded), a running transaction holds the table's metadata "
    "lock and nothing was changed: find it (information_schema.innodb_trx ordered by trx_started; SHOW PROCESSLIST "
    "shows the ALTER 'Waiting for table metadata lock'), let it finish or end it, and run the step again."
)
REFUSED = (1845, 1846)  # ER_ALTER_OPERATION_NOT_SUPPORTED, ..._REASON: the server refused the ALGORITHM/LOCK
ASSUME_LOCK_WAIT = (
    f"every DDL step sets lock_wait_timeout = {LOCK_WAIT_TIMEOUT_S} s first: an ALTER waiting for its metadata lock "
    "(behind any open transaction on the table) queues every later query on that table, so a long wait is an "
    "outage; the server default is one year"
)
ASSUME_NOT_TRANSACTIONAL = "MySQL/MariaDB DDL is never transactional: every DDL statement commits implicitly"
ASSUME_THRESHOLD = (
    f"a table counts as big above {BIG_TABLE_BYTES // (1 << 30)} GiB or {BIG_TABLE_ROWS:,} rows: there an "
    "operation that blocks writes (COPY, or LOCK=SHARED) runs through gh-ost or pt-online-schema-change instead"
)


def describe(items: list[Classified]) -> str:
    """A step title naming the operations (each cut to 60 characters)."""
    parts = [" ".join(item.operation.text.split())[:60] for item in items]
    return "; ".join(parts)


def lock_claim(entry: OnlineDDL, tables: list[str], seconds: float | None) -> LockClaim:
    """The metadata lock an ALTER takes with this algorithm and lock option, in the words the brief uses."""
    clause = entry.clause()
    length = f"~{seconds:g} s" if seconds is not None else "the whole operation (size unknown)"
    if entry.lock == "NONE":
        mode = f"brief exclusive MDL at start and end; {clause}"
        held = (
            "milliseconds at the start and the end once granted; while it waits for open transactions on the "
            "table, later queries queue behind it (lock_wait_timeout caps the wait)"
        )
    elif entry.lock == "SHARED":
        mode = f"shared MDL for the whole operation (reads continue, writes wait); {clause}"
        held = f"for {length}"
    else:
        mode = f"exclusive MDL for the whole operation; {clause}"
        held = f"for {length}"
    return LockClaim(mode=mode, tables=tables, blocks=entry.blocks, held=held)


class PlanBuilder:
    """What the planner has built so far, and the step constructors the flows share."""

    def __init__(self, ctx: PlanContext) -> None:
        self.ctx = ctx
        self.flavor = "mariadb" if ctx.dialect == "mariadb" else "mysql"
        self.version: Version = ctx.version
        self.steps: list[MigrationStep] = []
        self.assumptions: list[str] = [ASSUME_NOT_TRANSACTIONAL]
        self.notes: list[str] = []
        self.jobs: list[BackfillJob] = []
        self.foreign_key_checks = True
        self._checked_row_versions: set[str] = set()
        self.checked_tool = False
        self.ddl_seen = False

    # ------------------------------------------------------------------ helpers

    def assume(self, text: str) -> None:
        if text not in self.assumptions:
            self.assumptions.append(text)

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def stats(self, table: str) -> TableStats | None:
        return self.ctx.stats_for(table)

    def is_big(self, table: str) -> bool | None:
        """True/False from the size, None when the size is unknown."""
        stats = self.stats(table)
        if stats is None or (stats.rows is None and stats.bytes is None):
            return None
        size = table_bytes(stats) or 0
        return size > BIG_TABLE_BYTES or (stats.rows or 0) > BIG_TABLE_ROWS

    def database(self, table: str) -> str:
        if "." in table:
            return table.split(".", 1)[0]
        if self.ctx.catalog is not None and self.ctx.catalog.database:
            return self.ctx.catalog.database
        return "<database>"

    def key_of(self, table: str) -> str:
        found = self.ctx.table(table)
        if found is not None and found.primary_key is not None and len(found.primary_key.columns) == 1:
            return found.primary_key.columns[0]
        if found is not None and found.primary_key is not None:
            self.assume(
                f"{table} has a composite primary key: the backfill batches walk its first column "
                f"({found.primary_key.columns[0]}); use a unique single column if that one repeats a lot"
            )
            return found.primary_key.columns[0]
        self.assume(f"the primary key of {table} is not known: the backfill batches assume a single column `id`")
        return "id"

    def ddl_step(
        self,
        *,
        phase: Phase,
        title: str,
        table: str,
        sql: list[str],
        entry: OnlineDDL,
        rollback: list[str] | None = None,
        reversible: bool = True,
        notes: list[str] | None = None,
        preamble: list[str] | None = None,
        lock_tables: list[str] | None = None,
    ) -> MigrationStep:
        self.ddl_seen = True
        stats = self.stats(table)
        duration = estimate(entry.effect, stats)
        step_notes = [f"{entry.algorithm}: {entry.note}" if entry.note else f"{entry.algorithm} ({entry.source})"]
        step_notes += notes or []
        if entry.rebuilds and entry.lock == "NONE":
            step_notes.append(
                "reads and writes continue during the rebuild, but replicas apply the ALTER only after it finished "
                "on the primary, and then lag by about as long as it took"
            )
        return MigrationStep(
            phase=phase,
            kind="sql",
            title=title,
            table=table,
            sql=sql,
            lock=lock_claim(entry, lock_tables or [table], duration.seconds),
            blocks_reads=entry.lock == "EXCLUSIVE",
            blocks_writes=entry.lock != "NONE",
            table_effect=entry.effect,
            transactional=False,
            estimate=duration,
            rollback=rollback or [],
            reversible=reversible,
            preamble=preamble or [PREAMBLE],
            retry=RETRY,
            notes=step_notes,
        )

    def _simple_step(
        self,
        kind: StepKind,
        phase: Phase,
        title: str,
        table: str | None,
        *,
        sql: list[str] | None = None,
        notes: list[str] | None = None,
        transactional: bool = True,
    ) -> MigrationStep:
        return MigrationStep(
            phase=phase,
            kind=kind,
            title=title,
            table=table,
            sql=sql or [],
            table_effect="none" if kind in ("deploy", "check") else "scan",
            transactional=transactional,
            notes=notes or [],
        )

    def deploy(self, phase: Phase, title: str, table: str, notes: list[str] | None = None) -> None:
        step = self._simple_step("deploy", phase, title, table, notes=notes, transactional=False)
        self.steps.append(step)

    def check(self, phase: Phase, title: str, table: str, query: str, expect: str) -> None:
        step = self._simple_step("check", phase, title, table, sql=[query], notes=[expect])
        self.steps.append(step.model_copy(update={"table_effect": "scan"}))

    def row_version_check(self, name: str, kinds: list[str], entry: OnlineDDL) -> None:
        instant_column = {"add_column_last", "add_column_middle", "drop_column"} & set(kinds)
        if self.flavor != "mysql" or self.version < MYSQL_INSTANT_ANY_POSITION or entry.algorithm != "INSTANT":
            return
        if not instant_column or name in self._checked_row_versions:
            return
        self._checked_row_versions.add(name)
        self.check(
            "prepare",
            f"Check how many instant column changes {name} has left",
            name,
            "SELECT NAME, TOTAL_ROW_VERSIONS FROM INFORMATION_SCHEMA.INNODB_TABLES "
            f"WHERE NAME = CONCAT(DATABASE(), '/{short_name(name)}');",
            max_row_versions_note(self.version)
            + f"; near the limit, rebuild first: ALTER TABLE {quote(name)} FORCE, ALGORITHM=INPLACE, LOCK=NONE;",
        )

    def alter(
        self, table_sql: str, spec: str, kind: str, table: Table | None, column: str | None = None
    ) -> tuple[str, OnlineDDL]:
        entry = online_ddl(kind, self.flavor, self.version, traits_of(table, column))
        return f"ALTER TABLE {table_sql} {spec}, {entry.clause()};", entry

    def backfill(self, name: str, what: str, set_clause: str | None, pending: str, *, idempotent: bool = True) -> None:
        """A keyset backfill step on `name` (and its job in the generated script)."""
        job, step = backfill_step(
            name,
            quote(self.key_of(name)),
            what,
            set_clause,
            pending,
            stats=self.stats(name),
            lag=self.lag_statement(),
            idempotent=idempotent,
        )
        self.jobs.append(job)
        self.steps.append(step)

    def lag_statement(self) -> tuple[str, str]:
        if self.flavor == "mysql" and self.version >= (8, 0, 22):
            return "SHOW REPLICA STATUS", "Seconds_Behind_Source"
        return "SHOW SLAVE STATUS", "Seconds_Behind_Master"
