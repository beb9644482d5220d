"""MySQL/MariaDB lint rules about column changes: type changes, VARCHAR length prefixes, column position, defaults
evaluated per row, AUTO_INCREMENT and stored generated columns, NOT NULL, and what MODIFY/CHANGE silently drop.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Final

from dbspecialist.knowledge.findings import Finding, Fix, Severity
from dbspecialist.knowledge.migrations.lint_rules_mysql_core import (
    LintState,
    alter_sql,
    classified_ops,
    column_subject,
    finding,
    ops,
    planned_fix,
    server,
    spec,
)
from dbspecialist.knowledge.migrations.mysql_classify import classify, in_primary_key, lost_attributes, traits_of
from dbspecialist.knowledge.migrations.mysql_online_ddl import MYSQL_INSTANT_ANY_POSITION, online_ddl
from dbspecialist.knowledge.migrations.mysql_statements import ParsedStatement, parse_specification
from dbspecialist.knowledge.migrations.mysql_tokens import quote, tokenize

MIG103 = spec("MIG103", "mysql-column-type-change", Severity.HIGH, "MODIFY/CHANGE COLUMN that changes the type")
_COPYING_TYPE_KINDS: Final = (
    "change_type",
    "int_widen",
    "column_charset",
    "column_charset_utf8mb4",
    "column_collation",
)


def check_type_change(parsed: ParsedStatement, state: LintState) -> Iterator[Finding]:
    """Changing a column's type copies the table (ALGORITHM=COPY) and blocks writes for the copy.

    Only a few type changes are online: a longer VARCHAR that keeps its length prefix, ENUM/SET members appended at
    the end, utf8mb3 → utf8mb4 on MariaDB 10.4+. Everything else — INT → BIGINT, a shorter VARCHAR, DECIMAL
    precision, signedness, character set or collation — rewrites every row with writes waiting. Run it with gh-ost or
    pt-online-schema-change on a big table (the fix), or add a new column, backfill it and switch. The old type comes
    from the current schema when the caller gives it, else from a CREATE TABLE earlier in the same file; when neither
    has it, the rule cannot tell and says so (medium severity).
    """
    if parsed.kind != "alter_table":
        return
    for classified in classified_ops(parsed, state):
        operation = classified.operation
        if operation.action not in ("modify_column", "change_column"):
            continue
        copying = [k for k in classified.kinds if k in _COPYING_TYPE_KINDS]
        copy = classified.entry.algorithm == "COPY"
        if classified.certain and not (copying and copy):
            continue
        old = classified.old.type_text if classified.old else None
        new = operation.column.type_text if operation.column else None
        certain = classified.certain
        yield finding(
            MIG103,
            parsed,
            state,
            title=(
                f"{'Changing' if certain else 'Restating'} the type of {column_subject(parsed, operation)} "
                f"{'copies the table' if certain else 'copies the table unless it only extends it online'}"
            ),
            subject=column_subject(parsed, operation),
            subject_kind="column",
            evidence={"old_type": old, "new_type": new, "algorithm": classified.entry.algorithm, "known": certain},
            rationale="A type change rewrites every row with ALGORITHM=COPY while writes wait.",
            help="Run it with gh-ost/pt-online-schema-change, or add a new column, backfill it and switch.",
            fix=planned_fix("Copy the table online", parsed.text, state),
            severity=Severity.HIGH if certain else Severity.MEDIUM,
        )


MIG104 = spec(
    "MIG104", "mysql-varchar-length-prefix", Severity.HIGH, "VARCHAR growth crossing 255 bytes (utf8mb4: 63 chars)"
)


def check_varchar_prefix(parsed: ParsedStatement, state: LintState) -> Iterator[Finding]:
    """A VARCHAR grown past 255 bytes gets a 2-byte length prefix: every row is rewritten (COPY).

    InnoDB stores a VARCHAR's length in 1 byte up to 255 bytes and in 2 bytes above. Growing the column within one
    side is a metadata change; crossing the boundary changes every row. In bytes: characters times the character set's
    maximum (utf8mb4: 4, so 63 → 64 characters crosses; utf8mb3: 85 → 86; latin1: 255 → 256). Choose a length on
    the same side, or copy the table online (gh-ost/pt-online-schema-change) — except on MariaDB 10.4+ with
    ROW_FORMAT=REDUNDANT, where it stays instant.
    """
    if parsed.kind != "alter_table":
        return
    for classified in ops(parsed, state, "varchar_extend_crossing"):
        operation = classified.operation
        old, new = classified.old, operation.column
        assert old is not None and new is not None
        if classified.entry.algorithm != "COPY":
            continue
        yield finding(
            MIG104,
            parsed,
            state,
            title=f"{column_subject(parsed, operation)} grows past 255 bytes: the table is copied",
            subject=column_subject(parsed, operation),
            subject_kind="column",
            evidence={
                "old_length": old.type.length,
                "new_length": new.type.length,
                "charset": new.charset or old.charset,
            },
            rationale="The length prefix of every row grows from 1 to 2 bytes, so no metadata-only path exists.",
            help="Stay on the same side of 255 bytes, or copy the table online.",
            fix=planned_fix("Copy the table online", parsed.text, state),
        )


MIG105 = spec("MIG105", "mysql-add-column-not-last", Severity.MEDIUM, "ADD COLUMN ... FIRST/AFTER before 8.0.29")


def check_add_column_position(parsed: ParsedStatement, state: LintState) -> Iterator[Finding]:
    """ADD COLUMN ... FIRST/AFTER rebuilds the table before MySQL 8.0.29 (MariaDB 10.4).

    Instant ADD COLUMN appends the column; only MySQL 8.0.29 and MariaDB 10.4 can add it instantly anywhere else.
    On older servers a position clause turns a metadata change into a full rebuild. Column order rarely matters:
    drop the FIRST/AFTER clause.
    """
    if parsed.kind != "alter_table":
        return
    limit = MYSQL_INSTANT_ANY_POSITION if state.flavor == "mysql" else (10, 4, 0)
    if state.version >= limit:
        return
    for classified in ops(parsed, state, "add_column_middle"):
        column = classified.operation.column
        assert column is not None and column.position is not None
        spec = re.sub(r"\s+(FIRST|AFTER\s+\S+)\s*$", "", classified.operation.text, flags=re.I)
        entry = online_ddl("add_column_last", state.flavor, state.version, traits_of(state.table(parsed.table)))
        yield finding(
            MIG105,
            parsed,
            state,
            title=f"{column_subject(parsed, classified.operation)} added {column.position}: a rebuild on this version",
            subject=column_subject(parsed, classified.operation),
            subject_kind="column",
            evidence={"position": column.position, "algorithm": classified.entry.algorithm},
            rationale="Only the last position is instant before MySQL 8.0.29 / MariaDB 10.4.",
            help="Add the column at the end.",
            fix=Fix(title="Append the column", statements=[alter_sql(parsed, [spec], entry)]),
        )


MIG109 = spec("MIG109", "mysql-expression-default", Severity.HIGH, "ADD COLUMN ... DEFAULT (expression)")


def check_expression_default(parsed: ParsedStatement, state: LintState) -> Iterator[Finding]:
    """A column added with a DEFAULT (expression) evaluated per row copies the table.

    MySQL fills such a column row by row with ALGORITHM=COPY (strong_migrations flags every expression default);
    MariaDB does so when the expression reads another column or calls UUID(). Add the column without the default
    (instant), set the default for new rows (instant), then backfill existing rows in batches.
    """
    if parsed.kind != "alter_table":
        return
    for classified in ops(parsed, state, "add_column_expression_default"):
        column = classified.operation.column
        assert column is not None
        yield finding(
            MIG109,
            parsed,
            state,
            title=f"{column_subject(parsed, classified.operation)} DEFAULT {column.default} copies the table",
            subject=column_subject(parsed, classified.operation),
            subject_kind="column",
            evidence={"default": column.default, "algorithm": classified.entry.algorithm},
            rationale="Every existing row needs its own computed value, which only a table copy provides.",
            help="Add the column bare, SET DEFAULT for new rows, backfill the existing ones in batches.",
            fix=planned_fix(
                "Add, set the default, backfill", f"ALTER TABLE {parsed.table_sql} {classified.operation.text}", state
            ),
        )


MIG110 = spec("MIG110", "mysql-add-auto-increment-column", Severity.HIGH, "ADD COLUMN ... AUTO_INCREMENT")


def check_auto_increment_column(parsed: ParsedStatement, state: LintState) -> Iterator[Finding]:
    """Adding an AUTO_INCREMENT column rebuilds the table with writes blocked (LOCK=SHARED at best).

    Every existing row needs a generated number, so InnoDB rebuilds the table and cannot let concurrent writes in.
    On a big table run it through gh-ost or pt-online-schema-change (the fix).
    """
    if parsed.kind != "alter_table":
        return
    for classified in ops(parsed, state, "add_column_auto_increment"):
        yield finding(
            MIG110,
            parsed,
            state,
            title=f"Adding AUTO_INCREMENT column {column_subject(parsed, classified.operation)} blocks writes",
            subject=column_subject(parsed, classified.operation),
            subject_kind="column",
            evidence={"algorithm": classified.entry.algorithm, "lock": classified.entry.lock},
            rationale="The rebuild numbers every row and cannot accept concurrent writes.",
            help="Use gh-ost/pt-online-schema-change on a big table.",
            fix=planned_fix("Copy the table online", parsed.text, state),
        )


MIG111 = spec("MIG111", "mysql-add-stored-generated-column", Severity.HIGH, "ADD COLUMN ... STORED/PERSISTENT")


def check_stored_generated(parsed: ParsedStatement, state: LintState) -> Iterator[Finding]:
    """Adding a STORED (PERSISTENT) generated column copies the table.

    A stored value must be computed and written for every row, which only ALGORITHM=COPY does, with writes blocked.
    A VIRTUAL generated column is instant and can be indexed (an online index build): prefer it.
    """
    if parsed.kind != "alter_table":
        return
    table = state.table(parsed.table)
    for classified in ops(parsed, state, "add_stored_generated"):
        spec = re.sub(r"\b(STORED|PERSISTENT)\b", "VIRTUAL", classified.operation.text, flags=re.I)
        entry = online_ddl("add_virtual_generated", state.flavor, state.version, traits_of(table))
        yield finding(
            MIG111,
            parsed,
            state,
            title=f"Stored generated column {column_subject(parsed, classified.operation)} copies the table",
            subject=column_subject(parsed, classified.operation),
            subject_kind="column",
            evidence={"algorithm": classified.entry.algorithm},
            rationale="Every row needs the computed value written; a VIRTUAL column computes it on read instead.",
            help="Make it VIRTUAL (and index it if queries filter on it).",
            fix=Fix(title="Use a VIRTUAL column", statements=[alter_sql(parsed, [spec], entry)]),
        )


MIG122 = spec("MIG122", "mysql-set-not-null", Severity.MEDIUM, "MODIFY ... NOT NULL on a nullable column")


def check_set_not_null(parsed: ParsedStatement, state: LintState) -> Iterator[Finding]:
    """Making a nullable column NOT NULL rebuilds the table and fails on the first NULL it meets.

    The change runs INPLACE with concurrent writes, but it rewrites the whole table (replicas lag by its duration)
    and aborts at the end if any row — or one written meanwhile — is NULL (strict sql_mode). Backfill the NULLs, check
    that none are left, then run it with an explicit `ALGORITHM=INPLACE, LOCK=NONE`.
    """
    if parsed.kind != "alter_table":
        return
    for classified in ops(parsed, state, "set_not_null"):
        if not classified.certain:
            continue
        column = quote(classified.operation.name or "?")
        yield finding(
            MIG122,
            parsed,
            state,
            title=f"{column_subject(parsed, classified.operation)} becomes NOT NULL: a rebuild that fails on a NULL",
            subject=column_subject(parsed, classified.operation),
            subject_kind="column",
            evidence={"algorithm": classified.entry.algorithm, "rebuilds": classified.entry.rebuilds},
            rationale="The rebuild reads every row and aborts on the first NULL.",
            help="Backfill NULLs, verify none remain, then ALTER with ALGORITHM=INPLACE, LOCK=NONE.",
            fix=Fix(
                title="Check, then tighten online",
                statements=[
                    f"SELECT COUNT(*) FROM {parsed.table_sql} WHERE {column} IS NULL;",
                    alter_sql(parsed, [classified.operation.text], classified.entry),
                ],
            ),
        )


MIG123 = spec(
    "MIG123", "mysql-modify-drops-attributes", Severity.MEDIUM, "MODIFY/CHANGE that drops NOT NULL, DEFAULT, ..."
)


def check_modify_drops_attributes(parsed: ParsedStatement, state: LintState) -> Iterator[Finding]:
    """MODIFY/CHANGE COLUMN restates the whole column: NOT NULL, DEFAULT, AUTO_INCREMENT or COMMENT left out are lost.

    Unlike ALTER COLUMN, MODIFY and CHANGE replace the column definition; whatever the new one does not repeat is
    removed. `MODIFY amount BIGINT` on an `amount INT NOT NULL DEFAULT 0` column makes it nullable without a default
    (and adds a rebuild for the NULL change). The rule compares with the current schema when the caller gives it, or
    with a CREATE TABLE earlier in the same input; the fix restates the lost attributes.
    """
    if parsed.kind != "alter_table":
        return
    for classified in classified_ops(parsed, state):
        operation, old, new = classified.operation, classified.old, classified.operation.column
        if old is None or new is None or operation.action not in ("modify_column", "change_column"):
            continue
        lost = lost_attributes(old, new, primary_key=in_primary_key(state.table(parsed.table), operation.name))
        if not lost:
            continue
        restated = operation.text
        extra = " ".join(part if not part.startswith("its ") else f"COMMENT {old.comment!r}" for part in lost)
        position = re.search(r"\s+(FIRST|AFTER\s+\S+)\s*$", restated, flags=re.I)
        cut = position.start() if position else len(restated)
        restated = f"{restated[:cut]} {extra}{restated[cut:]}"
        repeat = classify(parse_specification(tokenize(restated), restated), state.table(parsed.table), *server(state))
        yield finding(
            MIG123,
            parsed,
            state,
            title=f"{column_subject(parsed, operation)} loses {', '.join(lost)}",
            subject=column_subject(parsed, operation),
            subject_kind="column",
            evidence={"lost": ", ".join(lost), "old_type": old.type_text},
            rationale="MODIFY and CHANGE replace the whole column definition; unrepeated attributes are dropped.",
            help="Repeat every attribute the column should keep.",
            fix=Fix(title="Restate the column completely", statements=[alter_sql(parsed, [restated], repeat.entry)]),
        )
