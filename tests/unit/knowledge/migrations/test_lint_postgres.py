"""PostgreSQL migration linter: index, constraint, rewrite and breaking-change rules, each positive and negative.

Each case names the rule, the migration, and the exact lines the rule must report (an empty list: it must not fire).
"""

from __future__ import annotations

import inspect
import re

import pytest

from dbspecialist.knowledge.findings import Finding, Severity
from dbspecialist.knowledge.migrations.lint import lint_migration
from dbspecialist.knowledge.migrations.lint_rules_postgres import (
    KINDS,
    OPT_IN,
    RULES,
    SQUAWK_NAMES,
    STRONG_MIGRATIONS,
    parse_tolerant,
)

# squawk 2.x, crates/squawk_linter/src/lib.rs: 38 rules plus the require-timeout-settings alias, and 2.70's
# ban-drop-constraint (on by default).
SQUAWK_RULES = {
    "ban-drop-constraint",
    "require-concurrent-index-creation",
    "require-concurrent-index-deletion",
    "constraint-missing-not-valid",
    "adding-field-with-default",
    "adding-foreign-key-constraint",
    "changing-column-type",
    "adding-not-nullable-field",
    "adding-serial-primary-key-field",
    "renaming-column",
    "renaming-table",
    "disallowed-unique-constraint",
    "ban-drop-database",
    "prefer-bigint-over-int",
    "prefer-bigint-over-smallint",
    "prefer-identity",
    "prefer-repack",
    "prefer-robust-stmts",
    "prefer-text-field",
    "prefer-timestamp-tz",
    "ban-char-field",
    "ban-drop-column",
    "ban-drop-table",
    "ban-drop-not-null",
    "transaction-nesting",
    "adding-required-field",
    "ban-concurrent-index-creation-in-transaction",
    "ban-create-domain-with-constraint",
    "ban-alter-domain-with-add-constraint",
    "ban-truncate-cascade",
    "require-timeout-settings",
    "ban-uncommitted-transaction",
    "require-enum-value-ordering",
    "require-table-schema",
    "identifier-too-long",
    "require-concurrent-partition-detach",
    "require-concurrent-reindex",
    "require-lock-timeout",
    "require-statement-timeout",
    "ban-duplicate-column-assignments",
}


def found(sql: str, rule_id: str, version: str | None = None, **kwargs: object) -> list[Finding]:
    report = lint_migration(sql, version=version, **kwargs)  # type: ignore[arg-type]
    return [f for f in report.findings if f.rule_id == rule_id]


def lines(sql: str, rule_id: str, version: str | None = None, **kwargs: object) -> list[int]:
    return sorted(f.line or 0 for f in found(sql, rule_id, version, **kwargs))


# ----------------------------------------------------------------------------------------------- registry


def test_rule_ids_are_unique_sequential_and_in_the_postgres_range() -> None:
    ids = [rule.id for rule, _check in RULES]
    assert len(ids) == len(set(ids)) == 55
    assert all(re.fullmatch(r"MIG0\d\d", rule_id) for rule_id in ids)
    assert ids == sorted(ids)
    names = [rule.name for rule, _check in RULES]
    assert len(set(names)) == len(names)
    assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", name) for name in names)


def test_every_squawk_rule_is_covered_by_exactly_the_mapping() -> None:
    covered = {name for names in SQUAWK_NAMES.values() for name in names}
    assert covered == SQUAWK_RULES
    assert set(SQUAWK_NAMES) == {rule.id for rule, _check in RULES}
    assert SQUAWK_NAMES["MIG008"] == ("adding-foreign-key-constraint", "constraint-missing-not-valid")
    assert SQUAWK_NAMES["MIG031"] == ()
    assert set(STRONG_MIGRATIONS) <= set(SQUAWK_NAMES)


def test_every_rule_is_documented_and_dispatched() -> None:
    for rule, check in RULES:
        doc = inspect.getdoc(check) or ""
        first, _, body = doc.partition("\n")
        assert first.strip().endswith("."), rule.id
        assert "## Why is this bad?" in body and "## Example" in body and "## Use instead" in body, rule.id
        assert rule.capability == "migrations" and rule.engines == ("postgresql",)
        assert rule.id in KINDS
    assert {"MIG036"} == OPT_IN


# ----------------------------------------------------------------------------------------------- cases

CASES: list[tuple[str, str, list[int], str | None]] = [
    # MIG001 create-index-blocks-writes
    ("MIG001", "SELECT 1;\nCREATE INDEX orders_c_idx ON orders (customer_id);", [2], None),
    ("MIG001", "CREATE INDEX CONCURRENTLY orders_c_idx ON orders (customer_id);", [], None),
    ("MIG001", "CREATE TABLE t (a int);\nCREATE INDEX t_a_idx ON t (a);", [], None),
    # MIG002 drop-index-blocks-reads
    ("MIG002", "DROP INDEX orders_c_idx;", [1], None),
    ("MIG002", "DROP INDEX CONCURRENTLY IF EXISTS orders_c_idx;", [], None),
    ("MIG002", "CREATE TABLE t (a int);\nCREATE INDEX t_a_idx ON t (a);\nDROP INDEX t_a_idx;", [], None),
    # MIG003 reindex-blocks-writes
    ("MIG003", "REINDEX INDEX orders_c_idx;", [1], None),
    ("MIG003", "REINDEX TABLE CONCURRENTLY orders;", [], None),
    ("MIG003", "REINDEX SYSTEM;", [], None),
    # MIG004 detach-partition-blocks
    ("MIG004", "ALTER TABLE m DETACH PARTITION m_2019;", [1], None),
    ("MIG004", "ALTER TABLE m DETACH PARTITION m_2019 CONCURRENTLY;", [], None),
    # MIG005 cannot-run-in-transaction
    ("MIG005", "BEGIN;\nCREATE INDEX CONCURRENTLY i ON t (a);\nCOMMIT;", [2], None),
    (
        "MIG005",
        "BEGIN;\nDROP INDEX CONCURRENTLY i;\nREINDEX INDEX CONCURRENTLY j;\nVACUUM t;\nCOMMIT;",
        [2, 3, 4],
        None,
    ),
    ("MIG005", "CREATE INDEX CONCURRENTLY i ON t (a);\nVACUUM t;", [], None),
    ("MIG005", "BEGIN;\nALTER TYPE mood ADD VALUE 'meh';\nCOMMIT;", [2], "11"),
    ("MIG005", "BEGIN;\nALTER TYPE mood ADD VALUE 'meh';\nCOMMIT;", [], "12"),
    ("MIG005", "BEGIN;\nALTER TABLE m DETACH PARTITION p FINALIZE;\nCOMMIT;", [], None),
    # MIG006 check-constraint-validates-under-lock
    ("MIG006", "ALTER TABLE orders ADD CONSTRAINT pos CHECK (total >= 0);", [1], None),
    ("MIG006", "ALTER TABLE orders ADD CONSTRAINT pos CHECK (total >= 0) NOT VALID;", [], None),
    ("MIG006", "CREATE TABLE t (a int);\nALTER TABLE t ADD CONSTRAINT pos CHECK (a >= 0);", [], None),
    # MIG007 validate-in-adding-transaction
    (
        "MIG007",
        "BEGIN;\nALTER TABLE o ADD CONSTRAINT fk FOREIGN KEY (c) REFERENCES c (id) NOT VALID;\n"
        "ALTER TABLE o VALIDATE CONSTRAINT fk;\nCOMMIT;",
        [3],
        None,
    ),
    (
        "MIG007",
        "BEGIN;\nALTER TABLE o ADD CONSTRAINT fk FOREIGN KEY (c) REFERENCES c (id) NOT VALID;\nCOMMIT;\n"
        "ALTER TABLE o VALIDATE CONSTRAINT fk;",
        [],
        None,
    ),
    (
        "MIG007",
        "ALTER TABLE o ADD CONSTRAINT ck CHECK (a > 0) NOT VALID;\nALTER TABLE o VALIDATE CONSTRAINT ck;",
        [],
        None,
    ),
    # MIG008 foreign-key-validates-under-lock
    ("MIG008", "ALTER TABLE o ADD CONSTRAINT fk FOREIGN KEY (c) REFERENCES c (id);", [1], None),
    ("MIG008", "ALTER TABLE o ADD COLUMN c bigint REFERENCES c (id);", [1], None),
    ("MIG008", "ALTER TABLE o ADD CONSTRAINT fk FOREIGN KEY (c) REFERENCES c (id) NOT VALID;", [], None),
    ("MIG008", "CREATE TABLE o (c bigint REFERENCES c (id));", [], None),
    # MIG009 unique-constraint-builds-index-under-lock
    ("MIG009", "ALTER TABLE u ADD CONSTRAINT u_email_key UNIQUE (email);", [1], None),
    ("MIG009", "ALTER TABLE u ADD COLUMN code text UNIQUE;", [1], None),
    ("MIG009", "ALTER TABLE u ADD CONSTRAINT u_email_key UNIQUE USING INDEX u_email_key;", [], None),
    # MIG010 primary-key-builds-index-under-lock
    ("MIG010", "ALTER TABLE e ADD PRIMARY KEY (id);", [1], None),
    ("MIG010", "ALTER TABLE e ADD CONSTRAINT e_pkey PRIMARY KEY USING INDEX e_pkey_idx;", [], None),
    ("MIG010", "CREATE TABLE e (id bigint);\nALTER TABLE e ADD PRIMARY KEY (id);", [], None),
    # MIG011 / MIG012 domains
    ("MIG011", "CREATE DOMAIN pos AS integer CHECK (VALUE > 0);", [1], None),
    ("MIG011", "CREATE DOMAIN label AS text;", [], None),
    ("MIG012", "ALTER DOMAIN pos ADD CONSTRAINT p CHECK (VALUE > 0);", [1], None),
    ("MIG012", "ALTER DOMAIN pos SET DEFAULT 1;", [], None),
    # MIG039 table-rewrite-command
    ("MIG039", "VACUUM FULL orders;\nCLUSTER orders USING orders_pkey;", [1, 2], None),
    ("MIG039", "VACUUM (ANALYZE) orders;", [], None),
    # MIG042 concurrent-index-corruption-bug
    ("MIG042", "CREATE INDEX CONCURRENTLY i ON t (a);\nREINDEX INDEX CONCURRENTLY j;", [1, 2], "14.2"),
    ("MIG042", "CREATE INDEX CONCURRENTLY i ON t (a);", [], "14.4"),
    ("MIG042", "CREATE INDEX CONCURRENTLY i ON t (a);", [], None),
    ("MIG042", "CREATE INDEX i ON t (a);", [], "14.0"),
    # MIG044 exclusion-constraint
    ("MIG044", "ALTER TABLE b ADD CONSTRAINT x EXCLUDE USING gist (room WITH =, during WITH &&);", [1], None),
    ("MIG044", "CREATE TABLE b (r int);\nALTER TABLE b ADD CONSTRAINT x EXCLUDE USING gist (r WITH =);", [], None),
    # MIG018-MIG024, MIG035, MIG043, MIG045 breaking changes
    ("MIG018", "ALTER TABLE users RENAME COLUMN name TO full_name;", [1], None),
    ("MIG018", "CREATE TABLE t (a int);\nALTER TABLE t RENAME COLUMN a TO b;", [], None),
    ("MIG018", "ALTER VIEW v RENAME COLUMN a TO b;", [], None),
    ("MIG019", "ALTER TABLE users RENAME TO accounts;", [1], None),
    ("MIG019", "ALTER INDEX users_idx RENAME TO accounts_idx;", [], None),
    ("MIG020", "ALTER TABLE users DROP COLUMN legacy;", [1], None),
    ("MIG020", "CREATE TABLE t (a int, b int);\nALTER TABLE t DROP COLUMN b;", [], None),
    ("MIG021", "DROP TABLE sessions;", [1], None),
    ("MIG021", "CREATE TABLE tmp (a int);\nDROP TABLE tmp;", [], None),
    ("MIG022", "DROP DATABASE analytics;", [1], None),
    ("MIG022", "DROP SCHEMA old CASCADE;", [], None),
    ("MIG023", "ALTER TABLE o ALTER COLUMN c DROP NOT NULL;", [1], None),
    ("MIG023", "ALTER TABLE o ALTER COLUMN c DROP DEFAULT;", [], None),
    ("MIG024", "TRUNCATE customers CASCADE;", [1], None),
    ("MIG024", "TRUNCATE customers, orders;", [], None),
    # MIG054 truncate-existing-table, MIG055 explicit-lock-table
    ("MIG054", "SELECT 1;\nTRUNCATE audit_events;", [2], None),
    ("MIG054", "CREATE TABLE scratch (a int);\nTRUNCATE scratch;", [], None),
    ("MIG055", "LOCK TABLE orders IN ACCESS EXCLUSIVE MODE;\nUPDATE orders SET a = 1;", [1], None),
    ("MIG055", "BEGIN;\nLOCK TABLE orders IN SHARE MODE;\nCOMMIT;", [2], None),
    ("MIG055", "CREATE TABLE scratch (a int);\nBEGIN;\nLOCK TABLE scratch;\nCOMMIT;", [], None),
    ("MIG035", "ALTER TYPE status ADD VALUE 'packed';", [1], None),
    ("MIG035", "ALTER TYPE status ADD VALUE 'packed' AFTER 'paid';", [], None),
    ("MIG043", "ALTER SCHEMA billing RENAME TO invoicing;", [1], None),
    ("MIG043", "ALTER SCHEMA billing OWNER TO admin;", [], None),
    ("MIG045", "ALTER TABLE s SET LOGGED;\nALTER TABLE s SET UNLOGGED;", [1, 2], None),
    ("MIG045", "CREATE UNLOGGED TABLE s (a int);\nALTER TABLE s SET LOGGED;", [], None),
    # MIG037, MIG038, MIG050 hygiene
    ("MIG037", f"CREATE TABLE t ({'a' * 64} int);", [1], None),
    ("MIG037", f'CREATE TABLE t ("{"é" * 32}" int);', [1], None),
    ("MIG037", f"CREATE TABLE t ({'a' * 63} int);", [], None),
    ("MIG038", "UPDATE t SET a = 1, a = 2 WHERE id = 1;", [1], None),
    ("MIG038", "INSERT INTO t (a, b, a) VALUES (1, 2, 3);", [1], None),
    ("MIG038", "CREATE TABLE t (a int, a text);", [1], None),
    ("MIG038", "CREATE VIEW v AS SELECT x AS a, t.a FROM t;", [1], None),
    ("MIG038", "UPDATE t SET a[1] = 1, a[2] = 2 WHERE id = 1;", [], None),
    ("MIG050", "CREATE INDEX CONCURRENTLY i ON t (a, b, c, d);", [1], None),
    ("MIG050", "CREATE UNIQUE INDEX CONCURRENTLY i ON t (a, b, c, d);", [], None),
]


@pytest.mark.parametrize(("rule_id", "sql", "expected", "version"), CASES)
def test_rule_fires_exactly_on_expected_lines(rule_id: str, sql: str, expected: list[int], version: str | None) -> None:
    assert lines(sql, rule_id, version) == expected


def test_every_rule_has_a_positive_and_a_negative_case_somewhere() -> None:
    from tests.unit.knowledge.migrations import test_lint_columns, test_lint_failures, test_lint_transactions

    all_cases = CASES + test_lint_columns.CASES + test_lint_transactions.CASES + test_lint_failures.CASES
    positive = {rule_id for rule_id, _sql, expected, _v in all_cases if expected}
    negative = {rule_id for rule_id, _sql, expected, _v in all_cases if not expected}
    every = {rule.id for rule, _check in RULES} - OPT_IN  # opt-in rules: test_schema_qualification_is_opt_in
    assert positive == every
    assert negative == every


# ----------------------------------------------------------------------------------------------- fixes and evidence


def test_create_index_fix_is_the_concurrent_form_with_lock_evidence() -> None:
    (finding,) = found("CREATE UNIQUE INDEX orders_c_idx ON public.orders (customer_id) WHERE active;", "MIG001")
    assert finding.fix is not None
    assert finding.fix.statements == [
        "CREATE UNIQUE INDEX CONCURRENTLY orders_c_idx ON public.orders (customer_id) WHERE active;"
    ]
    assert finding.evidence["lock_mode"] == "SHARE"
    assert finding.evidence["blocks"] == "writes"
    assert finding.table == "orders" and finding.subject == "orders_c_idx"
    assert finding.severity is Severity.HIGH


def test_drop_index_fix_gives_one_concurrent_drop_per_index() -> None:
    (finding,) = found("DROP INDEX a_idx, s.b_idx;", "MIG002")
    assert finding.fix is not None
    assert finding.fix.statements == [
        "DROP INDEX CONCURRENTLY IF EXISTS a_idx;",
        "DROP INDEX CONCURRENTLY IF EXISTS s.b_idx;",
    ]
    assert finding.evidence["indexes"] == 2


def test_check_constraint_fix_is_not_valid_then_validate() -> None:
    (finding,) = found("ALTER TABLE orders ADD CONSTRAINT pos CHECK (total >= 0);", "MIG006")
    assert finding.fix is not None
    assert finding.fix.statements == [
        "ALTER TABLE orders ADD CONSTRAINT pos CHECK (total >= 0) NOT VALID;",
        "ALTER TABLE orders VALIDATE CONSTRAINT pos;",
    ]
    assert finding.evidence["lock_mode"] == "ACCESS EXCLUSIVE"


def test_foreign_key_fixes_name_the_constraint_when_unnamed() -> None:
    (table_level,) = found("ALTER TABLE o ADD FOREIGN KEY (customer_id) REFERENCES customers (id);", "MIG008")
    assert table_level.fix is not None
    assert table_level.fix.statements == [
        "ALTER TABLE o ADD CONSTRAINT o_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES customers (id) "
        "NOT VALID;",
        "ALTER TABLE o VALIDATE CONSTRAINT o_customer_id_fkey;",
    ]
    (column_level,) = found("ALTER TABLE o ADD COLUMN c bigint REFERENCES customers (id) ON DELETE CASCADE;", "MIG008")
    assert column_level.fix is not None
    assert column_level.fix.statements == [
        "ALTER TABLE o ADD COLUMN c bigint;",
        "ALTER TABLE o ADD CONSTRAINT o_c_fkey FOREIGN KEY (c) REFERENCES customers (id) ON DELETE CASCADE NOT VALID;",
        "ALTER TABLE o VALIDATE CONSTRAINT o_c_fkey;",
    ]
    assert column_level.evidence["references"] == "customers"


def test_unique_and_primary_key_fixes_build_the_index_concurrently_then_attach() -> None:
    (unique,) = found("ALTER TABLE u ADD CONSTRAINT u_email_key UNIQUE (email);", "MIG009")
    assert unique.fix is not None
    assert unique.fix.statements == [
        "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS u_email_key ON u (email);",
        "ALTER TABLE u ADD CONSTRAINT u_email_key UNIQUE USING INDEX u_email_key;",
    ]
    (primary,) = found("ALTER TABLE e ADD PRIMARY KEY (id);", "MIG010")
    assert primary.fix is not None
    assert primary.fix.statements[-1] == "ALTER TABLE e ADD CONSTRAINT e_id_pkey PRIMARY KEY USING INDEX e_id_pkey;"
    assert "NOT NULL" in (primary.fix.note or "")


def test_reindex_and_detach_are_version_gated() -> None:
    (old,) = found("REINDEX INDEX i;", "MIG003", "11")
    assert old.fix is not None and old.fix.safety == "display-only"
    assert old.evidence["version"] == "11" and old.evidence["version_assumed"] is False
    (new,) = found("REINDEX INDEX i;", "MIG003", "16")
    assert new.fix is not None and new.fix.statements == ["REINDEX INDEX CONCURRENTLY i;"]
    (before_14,) = found("ALTER TABLE m DETACH PARTITION p;", "MIG004", "13")
    assert before_14.severity is Severity.LOW and before_14.fix is None
    (after_14,) = found("ALTER TABLE m DETACH PARTITION p;", "MIG004", "14")
    assert after_14.severity is Severity.MEDIUM
    assert after_14.fix is not None and after_14.fix.statements == ["ALTER TABLE m DETACH PARTITION p CONCURRENTLY;"]


def test_rewrite_command_suggests_repack_from_19_and_pg_repack_before() -> None:
    (v19,) = found("VACUUM FULL orders;", "MIG039", "19")
    assert v19.fix is not None and v19.fix.statements == ["REPACK (CONCURRENTLY) orders;"]
    (v15,) = found("CLUSTER orders USING orders_pkey;", "MIG039", "15")
    assert v15.fix is not None and v15.fix.statements[0].startswith("pg_repack --dbname=<database> --table=orders")


def test_rename_table_fix_keeps_the_old_name_as_a_view() -> None:
    (finding,) = found("ALTER TABLE users RENAME TO accounts;", "MIG019")
    assert finding.fix is not None
    assert finding.fix.statements == [
        "BEGIN;",
        "ALTER TABLE users RENAME TO accounts;",
        "CREATE VIEW users AS SELECT * FROM accounts;",
        "COMMIT;",
    ]


def test_identifier_too_long_reports_bytes_and_truncation() -> None:
    name = "x" * 70
    (finding,) = found(f"CREATE INDEX CONCURRENTLY {name} ON t (a);", "MIG037")
    assert finding.evidence["bytes"] == 70
    assert finding.evidence["truncated_to"] == "x" * 63


def test_duplicate_column_names_the_column() -> None:
    (finding,) = found("UPDATE orders SET status = 'a', status = 'b' WHERE id = 1;", "MIG038")
    assert finding.evidence["columns"] == "status"
    assert finding.severity is Severity.HIGH


def test_truncate_cascade_fix_lists_tables_without_cascade() -> None:
    (finding,) = found("TRUNCATE a, b CASCADE;", "MIG024")
    assert finding.fix is not None and finding.fix.statements == ["TRUNCATE a, b;"]


# ----------------------------------------------------------------------------------------------- whole files


def test_whole_file_finds_each_problem_once_at_its_line() -> None:
    sql = """-- add a column and its index
SET lock_timeout = '1s';
SET statement_timeout = '5s';
ALTER TABLE orders ADD COLUMN IF NOT EXISTS region text;
CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_region_idx ON orders (region);
ALTER TABLE orders ADD CONSTRAINT orders_region_check CHECK (region <> '');
ALTER TABLE orders DROP COLUMN legacy;
"""
    report = lint_migration(sql, version="16")
    got = sorted((f.rule_id, f.line) for f in report.findings)
    assert got == [("MIG006", 6), ("MIG020", 7), ("MIG032", 6), ("MIG032", 7)]
    assert report.statements == 6
    assert report.version == "16"
    assert report.counts == {"critical": 0, "high": 1, "medium": 1, "low": 2, "info": 0}


def test_a_safe_migration_has_no_findings() -> None:
    sql = """SET lock_timeout = '1s';
SET statement_timeout = '5s';
ALTER TABLE orders ADD COLUMN IF NOT EXISTS region text DEFAULT 'eu';
ALTER TABLE orders ADD CONSTRAINT orders_region_nn CHECK (region IS NOT NULL) NOT VALID;
SET statement_timeout = 0;
ALTER TABLE orders VALIDATE CONSTRAINT orders_region_nn;
SET statement_timeout = '5s';
ALTER TABLE orders ALTER COLUMN region SET NOT NULL;
ALTER TABLE orders DROP CONSTRAINT IF EXISTS orders_region_nn;
DROP INDEX CONCURRENTLY IF EXISTS orders_region_idx;
CREATE INDEX CONCURRENTLY orders_region_idx ON orders (region);
"""
    report = lint_migration(sql, version="16")
    assert [(f.rule_id, f.line) for f in report.findings] == [("MIG032", 4)]


def test_new_table_in_the_file_is_exempt_from_lock_rules() -> None:
    sql = """BEGIN;
CREATE TABLE events (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, account_id bigint NOT NULL);
CREATE INDEX events_account_idx ON events (account_id);
ALTER TABLE events ADD CONSTRAINT events_account_fk FOREIGN KEY (account_id) REFERENCES accounts (id);
ALTER TABLE events ADD COLUMN kind text NOT NULL;
ALTER TABLE events ALTER COLUMN kind SET NOT NULL;
COMMIT;
"""
    report = lint_migration(sql)
    assert sorted((f.rule_id, f.line) for f in report.findings) == [("MIG040", 4), ("MIG041", 4)]
    (lock,) = [f for f in report.findings if f.rule_id == "MIG040"]
    assert lock.evidence["table"] == "accounts"
    assert lock.evidence["lock_mode"] == "SHARE ROW EXCLUSIVE"


def test_unparseable_statement_is_reported_and_the_rest_still_linted() -> None:
    sql = "CREATE INDEX i ON t (a);\nALTER TABLE ADD oops;\nDROP INDEX j;\n"
    report = lint_migration(sql)
    assert report.statements == 2
    assert len(report.parse_errors) == 1 and "line 2" in report.parse_errors[0]
    assert lines(sql, "MIG001") == [1]
    assert lines(sql, "MIG002") == [3]


def test_parse_tolerant_keeps_lines_and_transactions() -> None:
    statements, errors = parse_tolerant("BEGIN;\nSELECT 1;\nSELEC oops;\nCOMMIT;\nSELECT 2;")
    assert [s.line for s in statements] == [1, 2, 4, 5]
    assert [s.transaction for s in statements] == [1, 1, 1, None]
    assert errors and "line 3" in errors[0]
