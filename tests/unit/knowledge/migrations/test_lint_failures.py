"""PostgreSQL migration linter: new enum values used too early (MIG051), PostgreSQL 18's NOT NULL constraint form
on older servers (MIG052) and dropped constraints (MIG053)."""

from __future__ import annotations

import re

import pytest

from dbspecialist.knowledge.findings import Finding, Severity
from dbspecialist.knowledge.migrations import lint_rules_postgres, lint_rules_postgres_failures
from dbspecialist.knowledge.migrations.lint import lint_migration
from dbspecialist.knowledge.migrations.model import MigrationInputError


def found(sql: str, rule_id: str, version: str | None = None, **kwargs: bool) -> list[Finding]:
    report = lint_migration(sql, version=version, **kwargs)
    return [f for f in report.findings if f.rule_id == rule_id]


def lines(sql: str, rule_id: str, version: str | None = None, **kwargs: bool) -> list[int]:
    return sorted(f.line or 0 for f in found(sql, rule_id, version, **kwargs))


ADD_X = "ALTER TYPE mood ADD VALUE 'x';"


def tx(*statements: str) -> str:
    """The statements inside BEGIN ... COMMIT, one per line (BEGIN is line 1)."""
    return "\n".join(("BEGIN;", *statements, "COMMIT;"))


ADD_THEN_UPDATE = """BEGIN;
ALTER TYPE mood ADD VALUE 'happy';
UPDATE surveys SET mood = 'happy' WHERE score > 8;
COMMIT;"""

PROVEN_THEN_DROPPED = """ALTER TABLE users ADD CONSTRAINT users_region_nn CHECK (region IS NOT NULL) NOT VALID;
ALTER TABLE users VALIDATE CONSTRAINT users_region_nn;
ALTER TABLE users ALTER COLUMN region SET NOT NULL;
ALTER TABLE users DROP CONSTRAINT users_region_nn;"""

CASES: list[tuple[str, str, list[int], str | None]] = [
    # MIG051 enum-value-used-in-adding-transaction
    ("MIG051", ADD_THEN_UPDATE, [3], None),
    ("MIG051", tx(ADD_X, "SELECT 1;", "SELECT 'x'::public.mood;"), [4], None),
    ("MIG051", tx(ADD_X, "ALTER TABLE s ALTER COLUMN m SET DEFAULT 'x';"), [3], None),
    ("MIG051", tx(ADD_X, "ALTER TABLE s ADD CONSTRAINT c CHECK (m <> 'x');"), [3], None),
    ("MIG051", tx(ADD_X, "INSERT INTO s (m) VALUES ('x');"), [3], None),
    ("MIG051", tx(ADD_X, "COMMIT;", "BEGIN;", "UPDATE s SET m = 'x';"), [], None),
    ("MIG051", tx(ADD_X, "COMMIT AND CHAIN;", "UPDATE s SET m = 'x';"), [], None),
    ("MIG051", f"{ADD_X}\nUPDATE s SET m = 'x';", [], None),
    ("MIG051", tx("CREATE TYPE mood AS ENUM ('a');", ADD_X, "SELECT 'x'::mood;"), [], None),
    ("MIG051", tx(ADD_X, "UPDATE s SET m = 'y';"), [], None),
    ("MIG051", tx(ADD_X, "SELECT 'x'::other_enum;"), [], None),
    ("MIG051", tx(ADD_X, "UPDATE s SET m = 'x';"), [], "11"),
    ("MIG051", tx(ADD_X, "CREATE FUNCTION f() RETURNS mood LANGUAGE sql AS $$ SELECT 'x'::mood $$;"), [], None),
    # MIG052 not-null-constraint-before-18
    ("MIG052", "ALTER TABLE orders ADD CONSTRAINT orders_c_nn NOT NULL customer_id NOT VALID;", [1], "17"),
    ("MIG052", "SELECT 1;\nALTER TABLE orders ADD NOT NULL customer_id;", [2], "16"),
    ("MIG052", "CREATE TABLE t (a int, CONSTRAINT t_a_nn NOT NULL a);", [1], "16"),
    ("MIG052", "ALTER TABLE orders ADD CONSTRAINT orders_c_nn NOT NULL customer_id NOT VALID;", [], "18"),
    ("MIG052", "ALTER TABLE orders ADD COLUMN note text CONSTRAINT orders_note_nn NOT NULL DEFAULT '';", [], "16"),
    ("MIG052", "ALTER TABLE orders ALTER COLUMN customer_id SET NOT NULL;", [], "16"),
    ("MIG052", "CREATE TABLE t (a int NOT NULL);", [], "16"),
    # MIG053 drop-constraint
    ("MIG053", "ALTER TABLE orders DROP CONSTRAINT orders_total_positive;", [1], None),
    ("MIG053", "SELECT 1;\nALTER TABLE orders DROP CONSTRAINT IF EXISTS orders_user_fk;", [2], None),
    ("MIG053", "CREATE TABLE t (a int, CONSTRAINT t_a CHECK (a > 0));\nALTER TABLE t DROP CONSTRAINT t_a;", [], None),
    ("MIG053", PROVEN_THEN_DROPPED, [], None),
    ("MIG053", "ALTER TABLE orders DROP COLUMN note;", [], None),
]


@pytest.mark.parametrize(("rule_id", "sql", "expected", "version"), CASES)
def test_rule_fires_exactly_on_expected_lines(rule_id: str, sql: str, expected: list[int], version: str | None) -> None:
    assert lines(sql, rule_id, version) == expected


# ----------------------------------------------------------------------------------------------- MIG051


def test_enum_use_names_the_value_its_addition_and_commits_before_use() -> None:
    [finding] = found(ADD_THEN_UPDATE, "MIG051")
    assert finding.severity is Severity.HIGH
    assert finding.subject == "mood.happy"
    assert finding.evidence["added_line"] == 2
    assert finding.evidence["transaction_begin_line"] == 1
    assert finding.evidence["match"] == "literal"
    assert finding.fix is not None
    assert finding.fix.statements == [
        "ALTER TYPE mood ADD VALUE IF NOT EXISTS 'happy';",
        "BEGIN;",
        "UPDATE surveys SET mood = 'happy' WHERE score > 8;",
        "COMMIT;",
    ]


def test_enum_use_is_reported_once_at_the_first_use_with_how_it_was_seen() -> None:
    sql = "BEGIN;\nALTER TYPE mood ADD VALUE 'x';\nSELECT 'x'::mood;\nUPDATE s SET m = 'x';\nCOMMIT;"
    [finding] = found(sql, "MIG051")
    assert finding.line == 3 and finding.evidence["match"] == "cast"
    default = "BEGIN;\nALTER TYPE mood ADD VALUE 'x';\nALTER TABLE s ADD COLUMN m2 mood DEFAULT 'x';\nCOMMIT;"
    assert [f.evidence["match"] for f in found(default, "MIG051")] == ["column_type"]


def test_enum_use_in_the_tools_transaction_moves_the_value_to_its_own_migration() -> None:
    sql = "ALTER TYPE mood ADD VALUE 'x';\nUPDATE s SET m = 'x';"
    [finding] = found(sql, "MIG051", assume_in_transaction=True)
    assert finding.line == 2 and finding.evidence["assume_in_transaction"] is True
    assert finding.fix is not None and finding.fix.statements == ["ALTER TYPE mood ADD VALUE IF NOT EXISTS 'x';"]
    assert "outside a transaction" in (finding.fix.note or "")


# ----------------------------------------------------------------------------------------------- MIG052


def test_not_null_constraint_severity_follows_whether_the_version_was_given() -> None:
    sql = "ALTER TABLE orders ADD CONSTRAINT orders_c_nn NOT NULL customer_id NOT VALID;"
    [given] = found(sql, "MIG052", "17")
    [assumed] = found(sql, "MIG052")
    assert given.severity is Severity.HIGH and given.evidence["version_assumed"] is False
    assert assumed.severity is Severity.MEDIUM and assumed.evidence["version_assumed"] is True
    assert given.evidence["not_valid"] is True and given.subject == "orders.customer_id"


def test_not_null_constraint_fix_is_the_check_path_for_the_version() -> None:
    sql = "ALTER TABLE orders ADD CONSTRAINT orders_c_nn NOT NULL customer_id NOT VALID;"
    [on_16] = found(sql, "MIG052", "16")
    assert on_16.fix is not None and on_16.fix.statements == [
        "ALTER TABLE orders ADD CONSTRAINT orders_c_nn CHECK (customer_id IS NOT NULL) NOT VALID;",
        "ALTER TABLE orders VALIDATE CONSTRAINT orders_c_nn;",
        "ALTER TABLE orders ALTER COLUMN customer_id SET NOT NULL;",
        "ALTER TABLE orders DROP CONSTRAINT orders_c_nn;",
    ]
    [on_11] = found(sql, "MIG052", "11")
    assert on_11.fix is not None and len(on_11.fix.statements) == 2  # SET NOT NULL would scan: keep the CHECK
    [new_table] = found("CREATE TABLE t (a int, NOT NULL a);", "MIG052", "16")
    assert new_table.fix is not None and new_table.fix.statements == ["ALTER TABLE t ALTER COLUMN a SET NOT NULL;"]


def test_set_not_null_rule_defers_to_the_syntax_rule_before_18_and_to_a_validated_constraint_on_18() -> None:
    plain = "ALTER TABLE orders ADD CONSTRAINT orders_c_nn NOT NULL customer_id;"
    assert lines(plain, "MIG016", "16") == [] and lines(plain, "MIG052", "16") == [1]
    assert lines(plain, "MIG016", "18") == [1]  # on 18 it is a valid statement that scans under the lock
    validated = (
        "ALTER TABLE orders ADD CONSTRAINT orders_c_nn NOT NULL customer_id NOT VALID;\n"
        "ALTER TABLE orders VALIDATE CONSTRAINT orders_c_nn;\n"
        "ALTER TABLE orders ALTER COLUMN customer_id SET NOT NULL;"
    )
    assert lines(validated, "MIG016", "18") == []
    other = validated.replace("VALIDATE CONSTRAINT orders_c_nn", "VALIDATE CONSTRAINT other")
    assert lines(other, "MIG016", "18") == [3]


def test_not_null_not_valid_validated_in_the_same_transaction_is_reported_on_18() -> None:
    sql = (
        "BEGIN;\nALTER TABLE orders ADD CONSTRAINT orders_c_nn NOT NULL customer_id NOT VALID;\n"
        "ALTER TABLE orders VALIDATE CONSTRAINT orders_c_nn;\nCOMMIT;"
    )
    assert lines(sql, "MIG007", "18") == [3]


_PG18_NOT_NULL = re.compile(r'(?:\bADD|[(,])\s*(?:CONSTRAINT\s+(?:"[^"]+"|\w+)\s+)?NOT\s+NULL\s+\w+', re.IGNORECASE)


def test_an_older_parser_that_rejects_the_18_form_still_reports_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """pglast 7 has PostgreSQL 17's grammar: the statement does not parse; the rule reads it from its text."""
    real_split = lint_rules_postgres.split_postgres

    def pg17_split(text: str) -> list[lint_rules_postgres.PgStatement]:
        if _PG18_NOT_NULL.search(text):
            raise MigrationInputError('PostgreSQL cannot parse the migration at line 1: syntax error at or near "NOT"')
        return real_split(text)

    monkeypatch.setattr(lint_rules_postgres, "split_postgres", pg17_split)
    monkeypatch.setattr(lint_rules_postgres_failures, "parser_reads_pg18", lambda: False)
    sql = (
        "SET lock_timeout = '1s';\n-- the PostgreSQL 18 way\n"
        'ALTER TABLE public.orders ADD CONSTRAINT "Orders_NN" NOT NULL customer_id NOT VALID;\nSELECT 1;'
    )
    report = lint_migration(sql, version="16")
    [finding] = [f for f in report.findings if f.rule_id == "MIG052"]
    assert finding.line == 3 and finding.evidence["parsed"] is False and finding.evidence["not_valid"] is True
    assert finding.subject == "public.orders.customer_id"
    assert finding.fix is not None and finding.fix.statements[0] == (
        'ALTER TABLE public.orders ADD CONSTRAINT "Orders_NN" CHECK (customer_id IS NOT NULL) NOT VALID;'
    )
    assert any("line 3" in error and "PostgreSQL 18 syntax" in error for error in report.parse_errors)
    on_18 = lint_migration(sql, version="18")
    assert not [f for f in on_18.findings if f.rule_id == "MIG052"]
    assert any("PostgreSQL 18 syntax" in error for error in on_18.parse_errors)


def test_the_installed_parser_is_asked_once_whether_it_reads_the_18_form() -> None:
    import pglast

    major = int(str(pglast.__version__).lstrip("v").split(".")[0])
    assert lint_rules_postgres_failures.parser_reads_pg18() is (major >= 8)


# ----------------------------------------------------------------------------------------------- MIG053


@pytest.mark.parametrize(
    ("sql", "severity", "kind", "source"),
    [
        ("ALTER TABLE orders DROP CONSTRAINT orders_total_positive;", Severity.LOW, None, None),
        ("ALTER TABLE orders DROP CONSTRAINT orders_total_check;", Severity.LOW, "check", "default_name"),
        ("ALTER TABLE orders DROP CONSTRAINT orders_pkey;", Severity.MEDIUM, "primary_key", "default_name"),
        ("ALTER TABLE users DROP CONSTRAINT users_email_key;", Severity.MEDIUM, "unique", "default_name"),
        ("ALTER TABLE orders DROP CONSTRAINT orders_total_positive CASCADE;", Severity.MEDIUM, None, None),
        (
            "ALTER TABLE orders ADD CONSTRAINT ofk FOREIGN KEY (u) REFERENCES users NOT VALID;\n"
            "ALTER TABLE orders DROP CONSTRAINT ofk;",
            Severity.LOW,
            "foreign_key",
            "file",
        ),
        (
            "ALTER TABLE orders DROP CONSTRAINT IF EXISTS o_pos;\n"
            "ALTER TABLE orders ADD CONSTRAINT o_pos CHECK (total > 0) NOT VALID;",
            Severity.INFO,
            None,
            None,
        ),
    ],
)
def test_drop_constraint_severity_and_kind(sql: str, severity: Severity, kind: str | None, source: str | None) -> None:
    [finding] = found(sql, "MIG053")
    assert finding.severity is severity
    assert finding.evidence["constraint_kind"] == kind and finding.evidence["kind_from"] == source


def test_drop_constraint_fix_records_the_definition_then_drops() -> None:
    [finding] = found("ALTER TABLE app.orders DROP CONSTRAINT orders_total_positive CASCADE;", "MIG053")
    assert finding.subject == "orders.orders_total_positive" and finding.evidence["cascade"] is True
    assert finding.fix is not None and finding.fix.statements == [
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'app.orders'::regclass "
        "AND conname = 'orders_total_positive';",
        "ALTER TABLE app.orders DROP CONSTRAINT IF EXISTS orders_total_positive CASCADE;",
    ]
