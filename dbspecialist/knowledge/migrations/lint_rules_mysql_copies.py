"""MySQL/MariaDB lint rules about table copies and locks: ALGORITHM=COPY, LOCK=SHARED/EXCLUSIVE, ALTER or index
statements without ALGORITHM/LOCK, and the operations only a copy can do (foreign keys with checks on, OPTIMIZE,
FULLTEXT/SPATIAL indexes, dropping the primary key, CONVERT TO CHARACTER SET, CHECK constraints).
"""

from __future__ import annotations

from collections.abc import Iterator

from dbspecialist.knowledge.findings import Finding, Fix, Severity
from dbspecialist.knowledge.migrations.lint_rules_mysql_core import (
    LintState,
    alter_sql,
    classified_ops,
    finding,
    online_rewrite,
    ops,
    planned,
    planned_fix,
    spec,
)
from dbspecialist.knowledge.migrations.mysql_classify import traits_of
from dbspecialist.knowledge.migrations.mysql_online_ddl import online_ddl
from dbspecialist.knowledge.migrations.mysql_statements import ParsedStatement

MIG100 = spec("MIG100", "mysql-algorithm-copy", Severity.HIGH, "ALTER TABLE ... ALGORITHM=COPY")


def check_algorithm_copy(parsed: ParsedStatement, state: LintState) -> Iterator[Finding]:
    """ALGORITHM=COPY rebuilds the whole table and blocks writes while it copies.

    COPY creates a new table, copies every row into it and swaps it in; writes wait for the whole copy (LOCK=SHARED
    at best), and replicas then replay the same copy. Most operations have an INSTANT, NOCOPY or INPLACE path: ask
    for it explicitly so the server does it without copying, or refuses. Where only a copy works, run it through
    gh-ost or pt-online-schema-change on a big table. The fix lists each operation with its best algorithm.
    """
    if parsed.kind != "alter_table" or parsed.algorithm != "COPY":
        return
    needs_copy = [c.operation.text for c in classified_ops(parsed, state) if c.entry.algorithm == "COPY"]
    rewrite = planned(parsed.text, state) if needs_copy else online_rewrite(parsed, state)
    yield finding(
        MIG100,
        parsed,
        state,
        title=f"ALGORITHM=COPY rebuilds {parsed.table} and blocks writes for the whole copy",
        subject=parsed.table or "?",
        subject_kind="table",
        evidence={"algorithm": "COPY", "operations_needing_copy": len(needs_copy), "operations": len(parsed.changes)},
        rationale="A copy rewrites every row while writes wait; an online algorithm avoids both where one exists.",
        help="Ask for the most efficient algorithm per operation; use gh-ost/pt-osc for what only a copy can do.",
        fix=Fix(title="Run each operation with its best algorithm", statements=rewrite),
    )


MIG101 = spec("MIG101", "mysql-lock-blocks", Severity.HIGH, "ALTER TABLE ... LOCK=SHARED or LOCK=EXCLUSIVE")


def check_lock_clause(parsed: ParsedStatement, state: LintState) -> Iterator[Finding]:
    """LOCK=SHARED blocks writes and LOCK=EXCLUSIVE blocks reads too, for the whole ALTER.

    The LOCK clause sets how much concurrency the ALTER allows; SHARED and EXCLUSIVE hold the table for the whole
    operation, even where the server could let writes through. Ask for LOCK=NONE: the server then either runs the
    operation online or refuses it (error 1846) instead of blocking. Operations that truly need a lock (FULLTEXT or
    SPATIAL index, AUTO_INCREMENT column, COPY) belong in gh-ost or pt-online-schema-change on a big table.
    """
    if parsed.kind not in ("alter_table", "create_index", "drop_index") or parsed.lock not in ("SHARED", "EXCLUSIVE"):
        return
    severity = Severity.HIGH if parsed.lock == "EXCLUSIVE" else Severity.MEDIUM
    blocked = "reads and writes" if parsed.lock == "EXCLUSIVE" else "writes"
    locked = any(c.entry.lock != "NONE" for c in classified_ops(parsed, state))
    if locked:
        statements = planned(parsed.text, state)
    else:
        statements = online_rewrite(parsed, state) if parsed.kind == "alter_table" else index_rewrite(parsed, state)
    yield finding(
        MIG101,
        parsed,
        state,
        title=f"LOCK={parsed.lock} blocks {blocked} on {parsed.table} for the whole operation",
        subject=parsed.table or "?",
        subject_kind="table",
        evidence={"lock": parsed.lock},
        rationale="The clause forces a table lock even where the operation could run with concurrent writes.",
        help="Use LOCK=NONE so the server runs it online or refuses it.",
        fix=Fix(title="Ask for the weakest lock each operation allows", statements=statements),
        severity=severity,
    )


MIG102 = spec(
    "MIG102", "mysql-alter-without-algorithm", Severity.MEDIUM, "ALTER TABLE without an explicit ALGORITHM and LOCK"
)


def check_alter_without_algorithm(parsed: ParsedStatement, state: LintState) -> Iterator[Finding]:
    """ALTER TABLE without ALGORITHM and LOCK silently falls back to a blocking table copy.

    Without the clauses the server picks the most efficient algorithm it can — and when that is COPY (a type change,
    a row format it cannot handle instantly, an old version), it copies the table with writes blocked, without
    warning. With `ALGORITHM=INSTANT|NOCOPY|INPLACE, LOCK=NONE` it refuses instead (error 1845/1846) and nothing
    happens. The fix adds, per operation, the algorithm this server version supports.
    """
    if parsed.kind != "alter_table" or parsed.algorithm or parsed.lock or not parsed.changes:
        return
    classified = classified_ops(parsed, state)
    blocking = [c for c in classified if c.entry.lock != "NONE"]
    algorithms = sorted({c.entry.algorithm for c in classified})
    yield finding(
        MIG102,
        parsed,
        state,
        title=f"ALTER TABLE {parsed.table} has no ALGORITHM/LOCK: a fallback to COPY would block writes silently",
        subject=parsed.table or "?",
        subject_kind="table",
        evidence={"expected_algorithms": ", ".join(algorithms), "blocking_operations": len(blocking)},
        rationale="Only an explicit ALGORITHM and LOCK make the server refuse an operation it cannot do online.",
        help="Add ', ALGORITHM=<best>, LOCK=NONE' to every ALTER TABLE.",
        fix=Fix(title="State the algorithm and lock", statements=online_rewrite(parsed, state)),
    )


MIG112 = spec("MIG112", "mysql-add-foreign-key", Severity.HIGH, "ADD FOREIGN KEY")


def check_add_foreign_key(parsed: ParsedStatement, state: LintState) -> Iterator[Finding]:
    """ADD FOREIGN KEY copies the table unless foreign_key_checks is off for the session.

    With foreign_key_checks=1 the server can only add a foreign key by copying the table (writes blocked). With it
    off for the migration's session the constraint is added without a copy (INPLACE on MySQL, INSTANT on MariaDB)
    and every later write is checked — but existing rows are not: run the orphan check afterwards (the fix).
    """
    if parsed.kind != "alter_table":
        return
    for operation in parsed.changes:
        if operation.action != "add_foreign_key":
            continue
        off = not state.foreign_key_checks
        yield finding(
            MIG112,
            parsed,
            state,
            title=(
                f"Foreign key on {parsed.table} → {operation.ref_table}: existing rows are not checked"
                if off
                else f"Adding a foreign key to {parsed.table} copies the table with foreign_key_checks=1"
            ),
            subject=f"{parsed.table}.{operation.name}" if operation.name else parsed.table or "?",
            subject_kind="constraint",
            evidence={"foreign_key_checks": not off, "references": operation.ref_table},
            rationale="The server validates existing rows only by copying the table.",
            help="Add it with foreign_key_checks=0 in the session, then check for orphans.",
            fix=planned_fix(
                "Add without a copy, then check orphans", f"ALTER TABLE {parsed.table_sql} {operation.text}", state
            ),
            severity=Severity.LOW if off else None,
        )


MIG113 = spec(
    "MIG113", "mysql-index-statement-without-algorithm", Severity.LOW, "CREATE/DROP INDEX without ALGORITHM and LOCK"
)


def index_rewrite(parsed: ParsedStatement, state: LintState) -> list[str]:
    return [alter_sql(parsed, [c.operation.text], c.entry) for c in classified_ops(parsed, state)]


def check_index_statement(parsed: ParsedStatement, state: LintState) -> Iterator[Finding]:
    """CREATE INDEX / DROP INDEX without ALGORITHM and LOCK may fall back to a blocking build.

    Index builds are online by default, but only an explicit `ALGORITHM=INPLACE|NOCOPY, LOCK=NONE` guarantees the
    server refuses rather than blocks when it cannot (an old version, a FULLTEXT or SPATIAL index). MariaDB does not
    accept the clauses on DROP INDEX, so the fix uses the ALTER TABLE form, which both servers accept.
    """
    if parsed.kind not in ("create_index", "drop_index") or (parsed.algorithm and parsed.lock):
        return
    operation = parsed.operations[0]
    yield finding(
        MIG113,
        parsed,
        state,
        title=f"{'CREATE' if parsed.kind == 'create_index' else 'DROP'} INDEX {operation.name} has no ALGORITHM/LOCK",
        subject=operation.name or "?",
        subject_kind="index",
        evidence={"index": operation.name},
        rationale="Without the clauses a build the server cannot do online blocks writes instead of failing.",
        help="Use ALTER TABLE ... ADD/DROP INDEX with an explicit ALGORITHM and LOCK=NONE.",
        fix=Fix(title="State the algorithm and lock", statements=index_rewrite(parsed, state)),
    )


MIG114 = spec("MIG114", "mysql-optimize-table", Severity.MEDIUM, "OPTIMIZE TABLE")


def check_optimize(parsed: ParsedStatement, state: LintState) -> Iterator[Finding]:
    """OPTIMIZE TABLE rebuilds the whole table; on a big table that is hours of I/O and replica lag.

    InnoDB maps OPTIMIZE TABLE to a full rebuild (recreate + analyze). It is online, but it reads and writes the
    whole table and the replicas replay it afterwards, lagging as long as it took; with a FULLTEXT index it blocks
    writes. Prefer the explicit `ALTER TABLE ... FORCE, ALGORITHM=INPLACE, LOCK=NONE` (refuses instead of blocking)
    or, on a big table, a no-op alter through gh-ost/pt-online-schema-change that throttles on replica lag.
    """
    if parsed.kind != "optimize":
        return
    table = state.table(parsed.table)
    entry = online_ddl("rebuild", state.flavor, state.version, traits_of(table))
    yield finding(
        MIG114,
        parsed,
        state,
        title=f"OPTIMIZE TABLE {parsed.table} rebuilds the whole table",
        subject=parsed.table or "?",
        subject_kind="table",
        evidence={"algorithm": entry.algorithm, "lock": entry.lock},
        rationale="A full rebuild costs as much as a table copy and delays replicas by its duration.",
        help="Use ALTER TABLE ... FORCE with ALGORITHM=INPLACE, LOCK=NONE, or a throttled online tool.",
        fix=Fix(
            title="Rebuild explicitly online", statements=[f"ALTER TABLE {parsed.table_sql} FORCE, {entry.clause()};"]
        ),
    )


MIG116 = spec("MIG116", "mysql-fulltext-spatial-index", Severity.HIGH, "ADD FULLTEXT / SPATIAL INDEX")


def check_fulltext_spatial(parsed: ParsedStatement, state: LintState) -> Iterator[Finding]:
    """A FULLTEXT or SPATIAL index build blocks writes for its whole duration (LOCK=SHARED at best).

    InnoDB cannot apply concurrent writes to these index types while building them, and the first FULLTEXT index
    also rebuilds the table to add its hidden FTS_DOC_ID column. On a big table build it through gh-ost or
    pt-online-schema-change (the fix).
    """
    if parsed.kind not in ("alter_table", "create_index"):
        return
    for classified in ops(parsed, state, "add_fulltext_index", "add_spatial_index"):
        kind = classified.operation.index_kind
        yield finding(
            MIG116,
            parsed,
            state,
            title=f"{kind} index {classified.operation.name or ''} on {parsed.table} blocks writes while it builds",
            subject=classified.operation.name or parsed.table or "?",
            subject_kind="index",
            evidence={"algorithm": classified.entry.algorithm, "lock": classified.entry.lock, "index_type": kind},
            rationale=f"{kind} index builds do not support LOCK=NONE.",
            help="Build it with gh-ost/pt-online-schema-change on a big table.",
            fix=planned_fix(
                "Build it online with a copy tool",
                alter_sql(parsed, [classified.operation.text], classified.entry),
                state,
            ),
        )


MIG117 = spec("MIG117", "mysql-drop-primary-key", Severity.HIGH, "DROP PRIMARY KEY without adding another")


def check_drop_primary_key(parsed: ParsedStatement, state: LintState) -> Iterator[Finding]:
    """Dropping the primary key alone copies the table, and leaves InnoDB with a hidden row id.

    Without a replacement in the same statement the server rebuilds the clustered index by COPY (writes blocked),
    and a table without a primary key is slow to replicate row by row and cannot be copied by gh-ost or pt-osc.
    Replace it in one statement — `DROP PRIMARY KEY, ADD PRIMARY KEY (...)` runs INPLACE with LOCK=NONE.
    """
    if parsed.kind != "alter_table":
        return
    actions = {op.action for op in parsed.changes}
    if "drop_primary_key" not in actions or "add_primary_key" in actions:
        return
    entry = online_ddl("replace_primary_key", state.flavor, state.version, traits_of(state.table(parsed.table)))
    yield finding(
        MIG117,
        parsed,
        state,
        title=f"Dropping the primary key of {parsed.table} copies the table",
        subject=parsed.table or "?",
        subject_kind="constraint",
        evidence={"algorithm": "COPY"},
        rationale="Only a replacement in the same statement keeps the rebuild in place and online.",
        help="Drop and add the new primary key in one ALTER TABLE.",
        fix=Fix(
            title="Replace the primary key in one statement",
            statements=[alter_sql(parsed, ["DROP PRIMARY KEY", "ADD PRIMARY KEY (<new key columns>)"], entry)],
            safety="display-only",
        ),
    )


MIG118 = spec("MIG118", "mysql-convert-charset", Severity.HIGH, "CONVERT TO CHARACTER SET")


def check_convert_charset(parsed: ParsedStatement, state: LintState) -> Iterator[Finding]:
    """CONVERT TO CHARACTER SET rewrites every text column of the table by COPY.

    Each value is converted, so the server copies the table with writes blocked. Run it through gh-ost or
    pt-online-schema-change on a big table. On MariaDB 10.4+ a column going from utf8mb3 to utf8mb4 is instant on
    its own (`MODIFY c ... CHARACTER SET utf8mb4, ALGORITHM=INSTANT`): convert column by column where that applies.
    """
    if parsed.kind != "alter_table":
        return
    for classified in ops(parsed, state, "convert_charset"):
        yield finding(
            MIG118,
            parsed,
            state,
            title=f"Converting {parsed.table} to {classified.operation.value} copies the table",
            subject=parsed.table or "?",
            subject_kind="table",
            evidence={"target": classified.operation.value, "algorithm": classified.entry.algorithm},
            rationale="Every text value is re-encoded in a table copy while writes wait.",
            help="Use gh-ost/pt-online-schema-change, or per-column instant utf8mb3 → utf8mb4 on MariaDB 10.4+.",
            fix=planned_fix("Copy the table online", parsed.text, state),
        )


MIG119 = spec("MIG119", "mysql-add-check-constraint", Severity.HIGH, "ADD CHECK constraint")


def check_add_check(parsed: ParsedStatement, state: LintState) -> Iterator[Finding]:
    """Adding a CHECK constraint copies the table to validate the existing rows.

    MySQL (8.0.16+) and MariaDB check every existing row by copying the table, with writes blocked; there is no
    NOT VALID form. Enforce the rule in the application until the table can be copied online with gh-ost or
    pt-online-schema-change (the fix).
    """
    if parsed.kind != "alter_table":
        return
    for classified in ops(parsed, state, "add_check"):
        yield finding(
            MIG119,
            parsed,
            state,
            title=f"Adding CHECK {classified.operation.name or ''} to {parsed.table} copies the table",
            subject=f"{parsed.table}.{classified.operation.name}" if classified.operation.name else parsed.table or "?",
            subject_kind="constraint",
            evidence={"algorithm": classified.entry.algorithm},
            rationale="Existing rows are validated by a table copy with writes blocked.",
            help="Copy the table online with gh-ost/pt-online-schema-change, or enforce it in the application.",
            fix=planned_fix("Copy the table online", parsed.text, state),
        )
