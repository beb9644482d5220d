"""PostgreSQL migration linter: transactions, accumulated locks, timeouts, robustness and opt-in rules."""

from __future__ import annotations

import pytest

from dbspecialist.knowledge.findings import Finding
from dbspecialist.knowledge.migrations.lint import lint_migration


def found(sql: str, rule_id: str, version: str | None = None, include: tuple[str, ...] = ()) -> list[Finding]:
    return [f for f in lint_migration(sql, version=version, include=include).findings if f.rule_id == rule_id]


def lines(sql: str, rule_id: str, version: str | None = None, include: tuple[str, ...] = ()) -> list[int]:
    return sorted(f.line or 0 for f in found(sql, rule_id, version, include))


BACKFILL_IN_DDL_TRANSACTION = """BEGIN;
ALTER TABLE orders ADD COLUMN region text;
UPDATE orders SET region = 'eu' WHERE region IS NULL;
COMMIT;"""

TWO_TABLES = """BEGIN;
ALTER TABLE orders ADD COLUMN note text;
ALTER TABLE customers ADD COLUMN note text;
ALTER TABLE invoices ADD COLUMN note text;
COMMIT;"""

CASES: list[tuple[str, str, list[int], str | None]] = [
    # MIG033 transaction-nesting
    ("MIG033", "BEGIN;\nBEGIN;\nCOMMIT;", [2], None),
    ("MIG033", "SELECT 1;\nCOMMIT;", [2], None),
    ("MIG033", "BEGIN;\nSELECT 1;\nCOMMIT;\nBEGIN;\nSELECT 2;\nROLLBACK;", [], None),
    # MIG034 uncommitted-transaction
    ("MIG034", "BEGIN;\nALTER TABLE o ADD COLUMN n text;", [1], None),
    ("MIG034", "BEGIN;\nALTER TABLE o ADD COLUMN n text;\nCOMMIT;\nBEGIN;\nSELECT 1;", [4], None),
    ("MIG034", "BEGIN;\nALTER TABLE o ADD COLUMN n text;\nROLLBACK;", [], None),
    # MIG040 missing-lock-timeout / MIG041 missing-statement-timeout
    ("MIG040", "SELECT 1;\nALTER TABLE o ADD COLUMN n text;\nALTER TABLE p ADD COLUMN n text;", [2], None),
    ("MIG040", "SET lock_timeout = '1s';\nALTER TABLE o ADD COLUMN n text;", [], None),
    ("MIG040", "SELECT set_config('lock_timeout', '2s', false);\nALTER TABLE o ADD COLUMN n text;", [], None),
    ("MIG040", "SELECT set_config('lock_timeout', '2s', true);\nALTER TABLE o ADD COLUMN n text;", [2], None),
    ("MIG040", "BEGIN;\nSET LOCAL lock_timeout = '1s';\nALTER TABLE o ADD COLUMN n text;\nCOMMIT;", [], None),
    (
        "MIG040",
        "BEGIN;\nSET LOCAL lock_timeout = '1s';\nCOMMIT;\nALTER TABLE o ADD COLUMN n text;",
        [4],
        None,
    ),
    ("MIG040", "SET lock_timeout = 0;\nALTER TABLE o ADD COLUMN n text;", [2], None),
    ("MIG040", "SET lock_timeout = '1s';\nRESET lock_timeout;\nDROP TABLE o;", [3], None),
    ("MIG040", "CREATE INDEX CONCURRENTLY i ON o (a);\nALTER TABLE o VALIDATE CONSTRAINT c;", [], None),
    ("MIG041", "ALTER TABLE o ADD COLUMN n text;", [1], None),
    ("MIG041", "SET statement_timeout = '5s';\nALTER TABLE o ADD COLUMN n text;", [], None),
    # MIG046 long-operation-holding-lock
    ("MIG046", BACKFILL_IN_DDL_TRANSACTION, [3], None),
    (
        "MIG046",
        "BEGIN;\nALTER TABLE a ADD COLUMN n text;\nALTER TABLE b ADD CONSTRAINT ck CHECK (x > 0);\nCOMMIT;",
        [3],
        None,
    ),
    ("MIG046", "ALTER TABLE orders ADD COLUMN region text;\nUPDATE orders SET region = 'eu';", [], None),
    (
        "MIG046",
        "BEGIN;\nCREATE INDEX CONCURRENTLY i ON t (a);\nCOMMIT;\nBEGIN;\nALTER TABLE o VALIDATE CONSTRAINT c;\nCOMMIT;",
        [],
        None,
    ),
    # MIG047 several-tables-locked
    ("MIG047", TWO_TABLES, [3], None),
    (
        "MIG047",
        "BEGIN;\nALTER TABLE o ADD CONSTRAINT fk FOREIGN KEY (c) REFERENCES c (id) NOT VALID;\nCOMMIT;",
        [],
        None,
    ),
    ("MIG047", "ALTER TABLE orders ADD COLUMN note text;\nALTER TABLE customers ADD COLUMN note text;", [], None),
    ("MIG047", "BEGIN;\nALTER TABLE orders ADD COLUMN note text;\nCREATE VIEW recent AS SELECT 1;\nCOMMIT;", [], None),
    # MIG048 set-local-outside-transaction
    ("MIG048", "SET LOCAL lock_timeout = '1s';\nALTER TABLE o ADD COLUMN n text;", [1], None),
    ("MIG048", "BEGIN;\nSET LOCAL lock_timeout = '1s';\nCOMMIT;", [], None),
    # MIG049 unbatched-backfill
    ("MIG049", "UPDATE orders SET region = 'eu';\nDELETE FROM sessions;", [1, 2], None),
    ("MIG049", "UPDATE orders SET region = 'eu' WHERE id < 5000;", [], None),
    ("MIG049", "CREATE TABLE n (a int);\nUPDATE n SET a = 1;", [], None),
    # MIG032 not-rerunnable
    ("MIG032", "ALTER TABLE o ADD COLUMN n text;\nDROP INDEX i;", [1, 2], None),
    ("MIG032", "ALTER TABLE o ADD COLUMN IF NOT EXISTS n text;\nDROP INDEX IF EXISTS i;", [], None),
    ("MIG032", "BEGIN;\nALTER TABLE o ADD COLUMN n text;\nDROP INDEX i;\nCOMMIT;", [], None),
    ("MIG032", "BEGIN;\nCREATE INDEX CONCURRENTLY i ON t (a);\nCOMMIT;", [2], None),
    ("MIG032", "ALTER TABLE o ADD COLUMN n text;", [], None),
    (
        "MIG032",
        "ALTER TABLE o DROP CONSTRAINT IF EXISTS ck;\nALTER TABLE o ADD CONSTRAINT ck CHECK (a > 0) NOT VALID;",
        [],
        None,
    ),
    ("MIG032", "SELECT 1;\nALTER TABLE o VALIDATE CONSTRAINT ck;", [], None),
    ("MIG032", "SELECT 1;\nALTER TABLE o ADD CHECK (a > 0);\nALTER TABLE m DETACH PARTITION p;", [2, 3], None),
    ("MIG032", "SELECT 1;\nALTER TABLE o ALTER COLUMN a SET NOT NULL;\nALTER TABLE o ALTER a TYPE text;", [], None),
    ("MIG032", "DROP INDEX IF EXISTS i;\nCREATE INDEX i ON t (a);", [], None),
]


@pytest.mark.parametrize(("rule_id", "sql", "expected", "version"), CASES)
def test_rule_fires_exactly_on_expected_lines(rule_id: str, sql: str, expected: list[int], version: str | None) -> None:
    assert lines(sql, rule_id, version) == expected


def test_schema_qualification_is_opt_in() -> None:
    sql = "CREATE TABLE orders (id bigint);\nALTER TABLE public.orders ADD COLUMN n text;\nDROP TABLE legacy;"
    sql += "\nALTER TABLE orders RENAME COLUMN n TO m;\nCREATE TEMP TABLE scratch (a int);"
    assert lines(sql, "MIG036") == []
    assert lines(sql, "MIG036", include=("MIG036",)) == [1, 3, 4]
    assert lines(sql, "MIG036", include=("table-not-schema-qualified",)) == [1, 3, 4]
    (create, drop, _rename) = sorted(found(sql, "MIG036", include=("MIG036",)), key=lambda f: f.line or 0)
    assert create.fix is not None and create.fix.statements == ["CREATE TABLE public.orders (id bigint);"]
    assert drop.fix is not None and drop.fix.statements == ["DROP TABLE public.legacy;"]
    assert lint_migration(sql, include=("MIG036",)).rules_run == lint_migration(sql).rules_run + 1


def test_long_operation_evidence_lists_the_transactions_locks() -> None:
    (finding,) = found(BACKFILL_IN_DDL_TRANSACTION, "MIG046")
    assert finding.evidence["held_table"] == "orders"
    assert finding.evidence["held_mode"] == "ACCESS EXCLUSIVE"
    assert finding.evidence["held_since_line"] == 2
    assert finding.evidence["transaction_begin_line"] == 1
    assert finding.evidence["locks"] == "orders: ACCESS EXCLUSIVE (line 2)"
    assert finding.evidence["effect"] == "row update"


def test_several_tables_is_reported_once_per_transaction_with_all_locks() -> None:
    (finding,) = found(TWO_TABLES, "MIG047")
    assert finding.evidence["tables"] == 2
    assert finding.evidence["locks"] == "orders: ACCESS EXCLUSIVE (line 2); customers: ACCESS EXCLUSIVE (line 3)"
    assert finding.fix is not None
    assert finding.fix.statements == ["LOCK TABLE customers, orders IN ACCESS EXCLUSIVE MODE;"]


def test_timeout_findings_count_every_unprotected_statement() -> None:
    sql = "ALTER TABLE a ADD COLUMN n text;\nSET statement_timeout = '5s';\nALTER TABLE b ADD COLUMN n text;"
    (lock,) = found(sql, "MIG040")
    assert lock.evidence["statements_without_timeout"] == 2
    assert lock.evidence["lines"] == "1, 3"
    assert lock.fix is not None and lock.fix.statements == ["SET lock_timeout = '1s';"]
    (statement,) = found(sql, "MIG041")
    assert statement.evidence["statements_without_timeout"] == 1
    assert statement.fix is not None and statement.fix.statements == ["SET statement_timeout = '5s';"]


def test_validate_in_same_transaction_is_not_double_reported_as_long_operation() -> None:
    sql = (
        "BEGIN;\nALTER TABLE o ADD CONSTRAINT ck CHECK (a > 0) NOT VALID;\n"
        "ALTER TABLE o VALIDATE CONSTRAINT ck;\nCOMMIT;"
    )
    report = lint_migration(sql)
    rule_lines = {(f.rule_id, f.line) for f in report.findings}
    assert ("MIG007", 3) in rule_lines
    assert ("MIG046", 3) not in rule_lines


def test_robust_fix_for_concurrent_index_drops_the_leftover_first() -> None:
    sql = "ALTER TABLE o ADD COLUMN IF NOT EXISTS n text;\nCREATE INDEX CONCURRENTLY o_n_idx ON o (n);"
    (finding,) = found(sql, "MIG032")
    assert finding.fix is not None
    assert finding.fix.statements == [
        "DROP INDEX CONCURRENTLY IF EXISTS o_n_idx;",
        "CREATE INDEX CONCURRENTLY o_n_idx ON o (n);",
    ]


def test_robust_fix_guards_a_column_rename_with_a_do_block() -> None:
    sql = "SELECT 1;\nALTER TABLE s.o RENAME COLUMN a TO b;"
    (finding,) = found(sql, "MIG032")
    assert finding.fix is not None
    assert finding.fix.statements == [
        "DO $$ BEGIN IF EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = 's' AND "
        "table_name = 'o' AND column_name = 'a') THEN ALTER TABLE s.o RENAME COLUMN a TO b; END IF; END $$;"
    ]


def test_lock_table_and_index_drops_count_as_blocking_locks() -> None:
    sql = "BEGIN;\nLOCK TABLE orders IN ACCESS EXCLUSIVE MODE;\nUPDATE orders SET a = 1 WHERE b;\nCOMMIT;"
    (long_op,) = found(sql, "MIG046")
    assert (long_op.line, long_op.evidence["held_since_line"], long_op.evidence["held_mode"]) == (
        3,
        2,
        "ACCESS EXCLUSIVE",
    )
    (lock,) = found("SELECT 1;\nDROP INDEX orders_idx;", "MIG040")
    assert lock.line == 2 and lock.table is None
    assert lock.evidence["table"] == "(table of index orders_idx)"
    assert found("LOCK TABLE orders IN ACCESS SHARE MODE;", "MIG040") == []


def test_commit_and_chain_keeps_a_transaction_open() -> None:
    sql = "BEGIN;\nALTER TABLE a ADD COLUMN n text;\nCOMMIT AND CHAIN;\nUPDATE a SET n = 'x';\nCOMMIT;"
    assert lines(sql, "MIG046") == []
    assert lines(sql, "MIG034") == []
    assert lines(sql, "MIG033") == []


def test_assume_in_transaction_treats_the_file_as_one_transaction() -> None:
    sql = (
        "CREATE INDEX CONCURRENTLY i ON t (a);\nALTER TABLE t ADD CONSTRAINT ck CHECK (a > 0) NOT VALID;\n"
        "ALTER TABLE t VALIDATE CONSTRAINT ck;\nBEGIN;\nCOMMIT;"
    )
    plain = {(f.rule_id, f.line) for f in lint_migration(sql).findings}
    wrapped = {(f.rule_id, f.line) for f in lint_migration(sql, assume_in_transaction=True).findings}
    assert {("MIG005", 1), ("MIG007", 3), ("MIG033", 4), ("MIG033", 5)} <= wrapped
    assert not {("MIG005", 1), ("MIG007", 3), ("MIG033", 4), ("MIG033", 5)} & plain
    assert ("MIG034", 4) not in wrapped
    (tool,) = [f for f in lint_migration(sql, assume_in_transaction=True).findings if f.line == 4]
    assert tool.evidence["assume_in_transaction"] is True
