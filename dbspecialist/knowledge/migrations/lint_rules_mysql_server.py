"""MySQL/MariaDB lint rules about what the server accepts: an ALGORITHM value this server version does not know,
and a table moved to a storage engine without transactions.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from dbspecialist.knowledge.findings import Finding, Fix, Severity
from dbspecialist.knowledge.migrations.lint_rules_mysql_core import LintState, alter_sql, classified_ops, finding, spec
from dbspecialist.knowledge.migrations.mysql_online_ddl import (
    algorithms,
    is_innodb,
    weakest,
)
from dbspecialist.knowledge.migrations.mysql_statements import Operation, ParsedStatement

# The ALGORITHM values every version accepts besides the online ones (DEFAULT picks the best itself).
_ALWAYS_KNOWN: Final = frozenset({"DEFAULT", "COPY", "INPLACE"})

MIG124 = spec(
    "MIG124",
    "mysql-algorithm-unknown-to-server",
    Severity.HIGH,
    "ALGORITHM=INSTANT before MySQL 8.0.12 / MariaDB 10.3, ALGORITHM=NOCOPY on MySQL",
)


def check_algorithm_unknown(parsed: ParsedStatement, state: LintState) -> Iterator[Finding]:
    """The server does not know this ALGORITHM value and rejects the whole statement.

    ALGORITHM=INSTANT exists from MySQL 8.0.12 and MariaDB 10.3; NOCOPY exists only in MariaDB (10.3 on). An older
    server, or MySQL for NOCOPY, fails the statement with "Unknown ALGORITHM" (error 1800) before doing anything, so
    the migration stops at that line. Ask for the most efficient algorithm this version has — INPLACE with
    LOCK=NONE still makes the server refuse rather than block — or upgrade first if the instant path is the point.
    """
    if parsed.kind not in ("alter_table", "create_index", "drop_index") or not parsed.algorithm:
        return
    known = set(algorithms(state.flavor, state.version)) | _ALWAYS_KNOWN
    if parsed.algorithm in known:
        return
    since = {
        ("mysql", "INSTANT"): "MySQL 8.0.12",
        ("mariadb", "INSTANT"): "MariaDB 10.3",
        ("mariadb", "NOCOPY"): "MariaDB 10.3",
    }.get((state.flavor, parsed.algorithm), "no MySQL release (it is MariaDB's)")
    classified = classified_ops(parsed, state)
    statements = []
    if classified:
        specs = [c.operation.text for c in classified]
        statements = [alter_sql(parsed, specs, weakest([c.entry for c in classified]))]
    yield finding(
        MIG124,
        parsed,
        state,
        title=f"{state.flavor} {state.version_text} does not know ALGORITHM={parsed.algorithm}: the statement fails",
        subject=parsed.table or "?",
        subject_kind="table",
        evidence={"algorithm": parsed.algorithm, "available_since": since},
        rationale="An ALGORITHM value the server does not know is a hard error (1800 Unknown ALGORITHM).",
        help=f"Use an algorithm {state.flavor} {state.version_text} has, or upgrade to {since} first.",
        fix=Fix(title="Use the best algorithm this version has", statements=statements) if statements else None,
    )


MIG125 = spec(
    "MIG125",
    "mysql-non-transactional-engine",
    Severity.HIGH,
    "ALTER TABLE ... ENGINE=MyISAM (or another engine without transactions)",
    fix="never",
)

# Engines that keep transactions and crash recovery; everything else loses them (MyISAM, Aria, MEMORY, ...).
_TRANSACTIONAL: Final = frozenset({"innodb", "ndb", "ndbcluster", "rocksdb", "tokudb"})


def _engine_of(operation: Operation) -> str | None:
    if operation.action != "rebuild" or not operation.value:
        return None
    return operation.value.strip("`'\"")


def check_non_transactional_engine(parsed: ParsedStatement, state: LintState) -> Iterator[Finding]:
    """Moving a table to MyISAM (or MEMORY, Aria, ...) gives up transactions, row locks and crash safety.

    Such engines ignore ROLLBACK for the table, lock the whole table for every write, drop foreign keys, and
    MyISAM can lose or corrupt rows on a crash. The switch itself copies every row with writes blocked
    (ALGORITHM=COPY, LOCK=SHARED — no online path exists), and every later ALTER of the table copies it too.
    Keep the table on InnoDB; if the goal is smaller storage, use ROW_FORMAT=COMPRESSED or page compression.
    """
    if parsed.kind != "alter_table":
        return
    for operation in parsed.changes:
        engine = _engine_of(operation)
        if engine is None or is_innodb(engine) or engine.lower() in _TRANSACTIONAL:
            continue
        yield finding(
            MIG125,
            parsed,
            state,
            title=f"{parsed.table} moves to {engine}: no transactions, table locks on every write, a blocking copy",
            subject=parsed.table or "?",
            subject_kind="table",
            evidence={"engine": engine},
            rationale="A non-transactional engine loses ROLLBACK, row locking, foreign keys and crash safety.",
            help="Keep the table on InnoDB (use compression if size is the reason).",
        )
