"""Zero-downtime plans for MySQL and MariaDB: every ALTER runs with an explicit ALGORITHM and LOCK, so the server
refuses instead of silently copying; what only a copy can do runs through gh-ost or pt-online-schema-change on big
tables; renames and defaults evaluated per row go through expand/contract with a keyset backfill.

The statements are read by a tokenizer of our own (ALTER TABLE specifications, CREATE/DROP INDEX with ALGORITHM,
RENAME TABLE, OPTIMIZE TABLE and MariaDB's PERSISTENT columns all lose information or fall back to a bare Command
in sqlglot); sqlglot reads the expressions inside (default expressions, UPDATE statements). The algorithm per
operation comes from mysql_online_ddl.py; the lint rules (lint_rules_mysql.py) read statements with the same parser.

The planner is split by concern: mysql_tokens (tokenizer, statement splitting), mysql_columns (column definitions),
mysql_statements (statement parser), mysql_classify (online DDL kinds, rollbacks), mysql_steps (planner state and
step constructors), mysql_copy_tools (gh-ost / pt-online-schema-change), mysql_flows_columns and mysql_flows_tables
(expand/contract flows), mysql_backfill (keyset backfills and their script). This module routes each statement and
groups the operations that run as one ALTER.
"""

from __future__ import annotations

from dbspecialist.knowledge.migrations.context import PlanContext, PlannerOutput
from dbspecialist.knowledge.migrations.estimate import DEFAULT_BATCH_ROWS, DEFAULT_BATCH_SLEEP, estimate
from dbspecialist.knowledge.migrations.model import LockClaim, MigrationStep, Phase
from dbspecialist.knowledge.migrations.mysql_backfill import MAX_REPLICA_LAG_S, backfill_script, data_change
from dbspecialist.knowledge.migrations.mysql_classify import (
    Classified,
    classify,
    in_primary_key,
    inverse_of,
    lost_attributes,
    optimistic_kind,
    phase_of,
    shrunk_length,
    traits_of,
)
from dbspecialist.knowledge.migrations.mysql_copy_tools import copy_fallback, copy_with_tool, tool_command
from dbspecialist.knowledge.migrations.mysql_flows_columns import expression_default_flow, rename_column_flow
from dbspecialist.knowledge.migrations.mysql_flows_tables import (
    drop_column_flow,
    drop_index_flow,
    foreign_key_flow,
    rename_tables_flow,
)
from dbspecialist.knowledge.migrations.mysql_online_ddl import is_innodb, online_ddl, weakest
from dbspecialist.knowledge.migrations.mysql_statements import (
    Operation,
    ParsedStatement,
    parse_specification,
    parse_statement,
)
from dbspecialist.knowledge.migrations.mysql_steps import (
    ASSUME_LOCK_WAIT,
    BIG_TABLE_BYTES,
    BIG_TABLE_ROWS,
    PREAMBLE,
    REFUSED,
    RETRY,
    PlanBuilder,
    describe,
)
from dbspecialist.knowledge.migrations.mysql_tokens import SqlSyntaxError, quote, short_name, split_statements, tokenize

__all__ = [
    "BIG_TABLE_BYTES",
    "BIG_TABLE_ROWS",
    "PREAMBLE",
    "Classified",
    "Operation",
    "ParsedStatement",
    "SqlSyntaxError",
    "classify",
    "in_primary_key",
    "lost_attributes",
    "parse_specification",
    "parse_statement",
    "plan_mysql",
    "quote",
    "split_statements",
    "tokenize",
    "traits_of",
]


def plan_mysql(change: str, ctx: PlanContext) -> PlannerOutput:
    """A phased zero-downtime plan for MySQL or MariaDB (ctx.dialect) DDL and batched data changes."""
    planner = _Planner(ctx)
    for statement in split_statements(change):
        planner.add(parse_statement(statement))
    return planner.output()


class _Planner(PlanBuilder):
    """Routes each statement to its flow; groups an ALTER's remaining operations by phase, algorithm and lock."""

    def add(self, parsed: ParsedStatement) -> None:
        if parsed.error:
            self.note(f"could not read a statement ({parsed.error}); it is left out of the plan")
            return
        handler = {
            "alter_table": self._alter_table,
            "create_index": self._alter_table,
            "drop_index": self._alter_table,
            "rename_table": self._rename_tables,
            "optimize": self._optimize,
            "truncate": self._destructive,
            "drop_table": self._destructive,
            "create_table": self._create_table,
            "set": self._set,
            "update": self._data_change,
            "delete": self._data_change,
        }.get(parsed.kind, self._pass_through)
        handler(parsed)

    def _set(self, parsed: ParsedStatement) -> None:
        value = parsed.settings.get("foreign_key_checks")
        if value is not None:
            self.foreign_key_checks = value.strip().upper() not in ("0", "OFF", "FALSE")

    def _rename_tables(self, parsed: ParsedStatement) -> None:
        rename_tables_flow(self, parsed.renames)

    def _data_change(self, parsed: ParsedStatement) -> None:
        change = data_change(parsed.text, parsed.line)
        if change is None:
            self._pass_through(parsed)
            return
        self.backfill(
            parsed.table or "?", change.what, change.set_clause, change.condition, idempotent=change.idempotent
        )

    def _pass_through(self, parsed: ParsedStatement) -> None:
        if parsed.kind in ("begin", "commit"):
            self.note("BEGIN/COMMIT around DDL do nothing for it: every DDL statement commits on its own")
            return
        self.steps.append(
            MigrationStep(
                phase="expand",
                kind="sql",
                title=f"Run: {' '.join(parsed.text.split())[:80]}",
                table=parsed.table,
                sql=[parsed.text.rstrip(";") + ";"],
                transactional=False,
                table_effect="metadata",
                notes=["not analysed by the planner: check its locking yourself"],
            )
        )

    def _create_table(self, parsed: ParsedStatement) -> None:
        name = parsed.table or "?"
        self.steps.append(
            MigrationStep(
                phase="expand",
                kind="sql",
                title=f"Create table {name}",
                table=name,
                sql=[parsed.text.rstrip(";") + ";"],
                lock=LockClaim(
                    mode="exclusive metadata lock on the new table only",
                    tables=[name],
                    blocks="nothing",
                    held="milliseconds; no existing table is touched",
                ),
                table_effect="none",
                transactional=False,
                rollback=[f"DROP TABLE {parsed.table_sql};"],
                preamble=[PREAMBLE],
                notes=["a foreign key in it takes a brief metadata lock on the referenced table too"],
            )
        )

    def _destructive(self, parsed: ParsedStatement) -> None:
        name = parsed.table or "?"
        verb = "Truncate" if parsed.kind == "truncate" else "Drop"
        keep = f"{short_name(name)}_retired"
        self.deploy("switch", f"Deploy application code that no longer uses table {name}", name)
        self.steps.append(
            MigrationStep(
                phase="contract",
                kind="sql",
                title=f"{verb} table {name} (irreversible)",
                table=name,
                sql=[parsed.text.rstrip(";") + ";"],
                lock=LockClaim(
                    mode="exclusive metadata lock (waits for every open transaction on the table)",
                    tables=[name],
                    blocks="reads and writes",
                    held="until the files are removed: on big tables before MySQL 8.0.23 this can stall the server",
                ),
                blocks_reads=True,
                blocks_writes=True,
                table_effect="metadata",
                transactional=False,
                estimate=estimate("metadata", self.stats(name)),
                reversible=False,
                preamble=[PREAMBLE],
                retry=RETRY,
                notes=[
                    "the data is gone for good: keep a backup, or rename the table away first "
                    f"(RENAME TABLE {parsed.table_sql} TO {quote(keep)}) and drop it days later",
                ],
            )
        )

    def _optimize(self, parsed: ParsedStatement) -> None:
        name = parsed.table or "?"
        statement = ParsedStatement(
            f"ALTER TABLE {parsed.table_sql} FORCE",
            parsed.line,
            "alter_table",
            table=name,
            table_sql=parsed.table_sql,
            operations=[Operation("rebuild", "FORCE")],
        )
        self.note(
            f"OPTIMIZE TABLE {name} is planned as ALTER TABLE ... FORCE with an explicit ALGORITHM and LOCK: InnoDB "
            "maps OPTIMIZE to the same rebuild, but only the ALTER form can refuse to block writes"
        )
        self._alter_table(statement)

    # ------------------------------------------------------------------ ALTER TABLE

    def _alter_table(self, parsed: ParsedStatement) -> None:
        name = parsed.table or "?"
        table_sql = parsed.table_sql or quote(name)
        table = self.ctx.table(name)
        changes = parsed.changes
        if table is None:
            self.assume(
                f"{name} is not in the schema given: planned as an InnoDB table (MyISAM, Aria and other engines "
                "copy the table for nearly every ALTER, with writes blocked)"
            )
        elif not is_innodb(table.options.get("engine")):
            self.note(
                f"{name} uses {table.options.get('engine')}, not InnoDB: nearly every ALTER copies it with writes "
                "blocked, and the engine has no transactions or crash recovery — consider ENGINE=InnoDB first"
            )
        if parsed.algorithm or parsed.lock:
            self.note(
                f"the ALGORITHM/LOCK given for {name} (line {parsed.line}) are replaced by the best ones per "
                "operation for this server version"
            )
        actions = {op.action for op in changes}
        if {"drop_primary_key", "add_primary_key"} <= actions:
            changes = [op for op in changes if op.action not in ("drop_primary_key", "add_primary_key")]
            add_pk = next(op for op in parsed.changes if op.action == "add_primary_key")
            combined = Operation("add_primary_key", f"DROP PRIMARY KEY, {add_pk.text}")
            entry = online_ddl("replace_primary_key", self.flavor, self.version, traits_of(table))
            self._direct(name, table_sql, [Classified(combined, ["replace_primary_key"], entry)])
        direct: list[Classified] = []
        for operation in changes:
            classified = classify(
                operation,
                table,
                self.flavor,
                self.version,
                foreign_key_checks=self.foreign_key_checks,
            )
            if classified.assumption:
                self.assume(classified.assumption)
            if classified.old is not None and operation.column is not None:
                lost = lost_attributes(
                    classified.old, operation.column, primary_key=in_primary_key(table, operation.name)
                )
                if lost:
                    self.note(
                        f"{operation.action.split('_')[0].upper()} {name}.{operation.name} does not repeat "
                        f"{', '.join(lost)}: the column loses it — restate it if that is not intended"
                    )
            if "rename_column" in classified.kinds:
                rename_column_flow(self, name, table_sql, table, classified)
            elif classified.kinds == ["add_column_expression_default"]:
                expression_default_flow(self, name, table_sql, table, classified)
            elif operation.action == "add_foreign_key":
                foreign_key_flow(self, name, table_sql, table, classified)
            elif operation.action == "rename_table":
                rename_tables_flow(self, [(name, operation.new_name or "?")])
            elif classified.kinds == ["drop_column"]:
                drop_column_flow(self, name, table_sql, classified)
            elif classified.kinds == ["drop_index"] and operation.action in ("drop_index", "drop_constraint"):
                drop_index_flow(self, name, table_sql, table, classified)
            else:
                direct.append(classified)
        groups: dict[tuple[Phase, str, str, bool], list[Classified]] = {}
        for classified in direct:
            key = (phase_of(classified.kinds), classified.entry.algorithm, classified.entry.lock, classified.certain)
            groups.setdefault(key, []).append(classified)
        for items in groups.values():
            self._direct(name, table_sql, items)

    def _direct(self, name: str, table_sql: str, items: list[Classified]) -> None:
        """One ALTER for operations sharing an algorithm and lock; a copy tool instead on big tables."""
        entry = weakest([item.entry for item in items])
        specs = [item.operation.text for item in items]
        kinds = [kind for item in items for kind in item.kinds]
        phase = phase_of(kinds)
        certain = all(item.certain for item in items)
        statement = f"ALTER TABLE {table_sql} {', '.join(specs)}, {entry.clause()};"
        title = f"{describe(items)} on {name} ({entry.algorithm}, LOCK={entry.lock})"
        self.row_version_check(name, kinds, entry)
        for item in items:
            self._shrink_check(name, table_sql, item, phase)
        if "set_not_null" in kinds:
            for item in items:
                if "set_not_null" in item.kinds and item.operation.name:
                    column = quote(item.operation.name)
                    self.check(
                        "validate",
                        f"Check that {name}.{item.operation.name} has no NULL left",
                        name,
                        f"SELECT COUNT(*) FROM {table_sql} WHERE {column} IS NULL;",
                        "expect 0: the ALTER fails on the first NULL (strict sql_mode) — backfill them first",
                    )
        big = self.is_big(name)
        notes = [note for item in items if (note := self._unknown_definition_note(name, table_sql, item))]
        if entry.lock != "NONE" and big is not False:
            copy_with_tool(self, name, table_sql, specs, entry, phase, title, big)
            if notes:
                last = self.steps[-1]
                self.steps[-1] = last.model_copy(update={"notes": [*notes, *last.notes]})
            return
        rollback, reversible = self._rollback(name, table_sql, items)
        if entry.lock != "NONE":
            notes.append(
                f"blocks writes for the whole operation; acceptable only because {name} is small "
                f"(below {BIG_TABLE_BYTES // (1 << 30)} GiB and {BIG_TABLE_ROWS:,} rows)"
            )
        if entry.rebuilds and entry.lock == "NONE" and big is not False:
            notes.append(
                "on a big table consider running it through gh-ost/pt-online-schema-change anyway, to throttle on "
                "replica lag: " + tool_command(self, name, specs)[1]
            )
        step = self.ddl_step(
            phase=phase,
            title=title,
            table=name,
            sql=[statement],
            entry=entry,
            rollback=rollback,
            reversible=reversible,
            notes=notes,
        )
        self.steps.append(step)
        if not certain and entry.algorithm != "COPY":
            refused = copy_fallback(self, name, table_sql, specs, phase)
            self.steps.append(refused)

    def _shrink_check(self, name: str, table_sql: str, item: Classified, phase: Phase) -> None:
        """A check before a CHAR/VARCHAR gets shorter: longer values fail the ALTER or are cut."""
        length = shrunk_length(item.old, item.operation.column)
        if length is None or not item.operation.name:
            return
        column = quote(item.operation.name)
        self.check(
            phase,
            f"Check that no value of {name}.{item.operation.name} is longer than {length}",
            name,
            f"SELECT COUNT(*) FROM {table_sql} WHERE CHAR_LENGTH({column}) > {length};",
            "expect 0: with strict sql_mode (the default) the ALTER fails on the first longer value (error 1265 "
            "'Data truncated'), without it the values are cut silently — shorten or clean them first",
        )

    def _unknown_definition_note(self, name: str, table_sql: str, item: Classified) -> str | None:
        """For a MODIFY/CHANGE planned as a copy because the old definition is unknown: the online attempt."""
        column = item.operation.column
        if item.certain or column is None or item.operation.action not in ("modify_column", "change_column"):
            return None
        traits = traits_of(self.ctx.table(name), item.operation.name)
        kind = optimistic_kind(column)
        kinds = [kind, "set_not_null"] if column.nullable is False and kind != "set_not_null" else [kind]
        best = weakest([online_ddl(k, self.flavor, self.version, traits) for k in kinds])
        if best.algorithm == "COPY":
            return None
        cheap = {
            "varchar_extend": "only lengthens the VARCHAR (staying on the same side of 255 bytes)",
            "enum_append": "only appends members at the end",
        }.get(kind, "keeps the type and changes only NULL/NOT NULL")
        return (
            f"planned as a table copy because the current definition of {item.operation.name} is unknown; if the "
            f"change {cheap}, try first "
            f"ALTER TABLE {table_sql} {item.operation.text}, {best.clause()}; — the server refuses it (error "
            f"{REFUSED[0]}/{REFUSED[1]}) without changing anything when a copy is needed. A shorter or narrower "
            "type fails on values that no longer fit under strict sql_mode (error 1265/1264) and cuts them "
            "without it"
        )

    def _rollback(self, name: str, table_sql: str, items: list[Classified]) -> tuple[list[str], bool]:
        statements: list[str] = []
        reversible = True
        table = self.ctx.table(name)
        for item in items:
            inverse = inverse_of(item, table, self.flavor, self.version)
            if inverse is None:
                reversible = False
                continue
            spec, entry = inverse
            if entry is None:
                statements.append(f"-- {spec}")
            else:
                statements.append(f"ALTER TABLE {table_sql} {spec}, {entry.clause()};")
        return statements, reversible

    # ------------------------------------------------------------------ result

    def output(self) -> PlannerOutput:
        if self.ddl_seen:
            self.assume(ASSUME_LOCK_WAIT)
        script = backfill_script(self.jobs, self.lag_statement()) if self.jobs else None
        if self.jobs:
            self.assume(
                f"backfills run in keyset batches of {DEFAULT_BATCH_ROWS:,} rows with a {DEFAULT_BATCH_SLEEP:g} s "
                f"pause and wait while any replica lags more than {MAX_REPLICA_LAG_S:g} s"
            )
        return PlannerOutput(
            steps=self.steps, findings=[], assumptions=self.assumptions, backfill_script=script, notes=self.notes
        )
