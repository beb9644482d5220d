"""MIG100-MIG149: every MySQL/MariaDB migration lint rule, positive and negative."""

from __future__ import annotations

import inspect

import pytest

from dbspecialist.adapters.catalog import Catalog, Column, PrimaryKey, Table
from dbspecialist.knowledge.ddl.dispatch import parse_ddl
from dbspecialist.knowledge.findings import Finding, Severity
from dbspecialist.knowledge.migrations.lint_rules_mysql import RULES, lint_mysql
from dbspecialist.knowledge.migrations.versions import Version

MYSQL: Version = (8, 0, 36)
MYSQL_8020: Version = (8, 0, 20)
MARIADB: Version = (10, 11, 0)
TIMEOUT = "SET SESSION lock_wait_timeout = 5;\n"
USERS = (
    "CREATE TABLE users (id INT PRIMARY KEY, name VARCHAR(60) CHARACTER SET utf8mb4, age INT, "
    "nick VARCHAR(20), status ENUM('a','b'), KEY ix_age (age)) DEFAULT CHARSET=utf8mb4;\n"
)


def lint(sql: str, version: Version = MYSQL, flavor: str = "mysql") -> list[Finding]:
    count, findings, errors = lint_mysql(sql, version, flavor)
    assert errors == [], errors
    assert count >= 1
    return findings


def ids(sql: str, version: Version = MYSQL, flavor: str = "mysql") -> set[str]:
    return {f.rule_id for f in lint(sql, version, flavor)}


def one(sql: str, rule: str, version: Version = MYSQL, flavor: str = "mysql") -> Finding:
    found = [f for f in lint(sql, version, flavor) if f.rule_id == rule]
    assert len(found) == 1, [f.rule_id for f in lint(sql, version, flavor)]
    return found[0]


# (rule, positive, negative, version, flavor): the positive fires the rule, the negative (the safe form) does not
CASES = [
    (
        "MIG100",
        TIMEOUT + "ALTER TABLE t ADD COLUMN c INT, ALGORITHM=COPY, LOCK=SHARED;",
        TIMEOUT + "ALTER TABLE t ADD COLUMN c INT, ALGORITHM=INSTANT, LOCK=NONE;",
        MYSQL,
        "mysql",
    ),
    (
        "MIG101",
        TIMEOUT + "ALTER TABLE t ADD INDEX ix (a), ALGORITHM=INPLACE, LOCK=EXCLUSIVE;",
        TIMEOUT + "ALTER TABLE t ADD INDEX ix (a), ALGORITHM=INPLACE, LOCK=NONE;",
        MYSQL,
        "mysql",
    ),
    (
        "MIG102",
        TIMEOUT + "ALTER TABLE t ADD COLUMN c INT;",
        TIMEOUT + "ALTER TABLE t ADD COLUMN c INT, ALGORITHM=INSTANT, LOCK=NONE;",
        MYSQL,
        "mysql",
    ),
    (
        "MIG103",
        USERS + TIMEOUT + "ALTER TABLE users MODIFY age BIGINT, ALGORITHM=COPY, LOCK=SHARED;",
        USERS + TIMEOUT + "ALTER TABLE users MODIFY status ENUM('a','b','c'), ALGORITHM=INSTANT, LOCK=NONE;",
        MYSQL,
        "mysql",
    ),
    (
        "MIG104",
        USERS
        + TIMEOUT
        + "ALTER TABLE users MODIFY name VARCHAR(64) CHARACTER SET utf8mb4, ALGORITHM=COPY, LOCK=SHARED;",
        USERS
        + TIMEOUT
        + "ALTER TABLE users MODIFY name VARCHAR(63) CHARACTER SET utf8mb4, ALGORITHM=INPLACE, LOCK=NONE;",
        MYSQL,
        "mysql",
    ),
    (
        "MIG105",
        TIMEOUT + "ALTER TABLE t ADD COLUMN c INT AFTER id, ALGORITHM=INPLACE, LOCK=NONE;",
        TIMEOUT + "ALTER TABLE t ADD COLUMN c INT, ALGORITHM=INSTANT, LOCK=NONE;",
        MYSQL_8020,
        "mysql",
    ),
    (
        "MIG106",
        TIMEOUT + "ALTER TABLE t DROP COLUMN c, ALGORITHM=INSTANT, LOCK=NONE;",
        TIMEOUT + "ALTER TABLE t ADD COLUMN c INT, ALGORITHM=INSTANT, LOCK=NONE;",
        MYSQL,
        "mysql",
    ),
    (
        "MIG107",
        TIMEOUT + "ALTER TABLE t CHANGE COLUMN a b INT, ALGORITHM=INSTANT, LOCK=NONE;",
        TIMEOUT + "ALTER TABLE t CHANGE COLUMN a a BIGINT, ALGORITHM=COPY, LOCK=SHARED;",
        MYSQL,
        "mysql",
    ),
    (
        "MIG108",
        TIMEOUT + "ALTER TABLE t RENAME TO t2, ALGORITHM=INSTANT, LOCK=EXCLUSIVE;",
        TIMEOUT + "ALTER TABLE t RENAME INDEX a TO b, ALGORITHM=INSTANT, LOCK=NONE;",
        MARIADB,
        "mariadb",
    ),
    (
        "MIG109",
        TIMEOUT + "ALTER TABLE t ADD COLUMN c INT DEFAULT (a + 1), ALGORITHM=COPY, LOCK=SHARED;",
        TIMEOUT + "ALTER TABLE t ADD COLUMN c INT DEFAULT (1 + 1), ALGORITHM=INSTANT, LOCK=NONE;",
        MARIADB,
        "mariadb",
    ),
    (
        "MIG110",
        TIMEOUT + "ALTER TABLE t ADD COLUMN seq INT NOT NULL AUTO_INCREMENT UNIQUE, ALGORITHM=INPLACE, LOCK=SHARED;",
        TIMEOUT + "ALTER TABLE t ADD COLUMN seq INT NOT NULL, ALGORITHM=INSTANT, LOCK=NONE;",
        MYSQL,
        "mysql",
    ),
    (
        "MIG111",
        TIMEOUT + "ALTER TABLE t ADD COLUMN g INT AS (a + 1) STORED, ALGORITHM=COPY, LOCK=SHARED;",
        TIMEOUT + "ALTER TABLE t ADD COLUMN g INT AS (a + 1) VIRTUAL, ALGORITHM=INSTANT, LOCK=NONE;",
        MYSQL,
        "mysql",
    ),
    (
        "MIG112",
        TIMEOUT + "ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (pid) REFERENCES p (id), ALGORITHM=COPY, LOCK=SHARED;",
        TIMEOUT + "ALTER TABLE t DROP FOREIGN KEY fk, ALGORITHM=INPLACE, LOCK=NONE;",
        MYSQL,
        "mysql",
    ),
    (
        "MIG113",
        TIMEOUT + "CREATE INDEX ix ON t (a);",
        TIMEOUT + "CREATE INDEX ix ON t (a) ALGORITHM=INPLACE LOCK=NONE;",
        MYSQL,
        "mysql",
    ),
    (
        "MIG114",
        TIMEOUT + "OPTIMIZE TABLE t;",
        TIMEOUT + "ALTER TABLE t FORCE, ALGORITHM=INPLACE, LOCK=NONE;",
        MYSQL,
        "mysql",
    ),
    ("MIG115", TIMEOUT + "TRUNCATE TABLE t;", TIMEOUT + "RENAME TABLE t TO t_retired;", MYSQL, "mysql"),
    (
        "MIG116",
        TIMEOUT + "ALTER TABLE t ADD FULLTEXT INDEX ft (body), ALGORITHM=INPLACE, LOCK=SHARED;",
        TIMEOUT + "ALTER TABLE t ADD INDEX ix (body(20)), ALGORITHM=INPLACE, LOCK=NONE;",
        MYSQL,
        "mysql",
    ),
    (
        "MIG117",
        TIMEOUT + "ALTER TABLE t DROP PRIMARY KEY, ALGORITHM=COPY, LOCK=SHARED;",
        TIMEOUT + "ALTER TABLE t DROP PRIMARY KEY, ADD PRIMARY KEY (id, k), ALGORITHM=INPLACE, LOCK=NONE;",
        MYSQL,
        "mysql",
    ),
    (
        "MIG118",
        TIMEOUT + "ALTER TABLE t CONVERT TO CHARACTER SET utf8mb4, ALGORITHM=COPY, LOCK=SHARED;",
        TIMEOUT + "ALTER TABLE t DEFAULT CHARACTER SET utf8mb4, ALGORITHM=INSTANT, LOCK=NONE;",
        MARIADB,
        "mariadb",
    ),
    (
        "MIG119",
        TIMEOUT + "ALTER TABLE t ADD CONSTRAINT ck CHECK (a > 0), ALGORITHM=COPY, LOCK=SHARED;",
        TIMEOUT + "ALTER TABLE t DROP CONSTRAINT ck, ALGORITHM=INSTANT, LOCK=NONE;",
        MARIADB,
        "mariadb",
    ),
    (
        "MIG120",
        "ALTER TABLE t ADD COLUMN c INT, ALGORITHM=INSTANT, LOCK=NONE;",
        TIMEOUT + "ALTER TABLE t ADD COLUMN c INT, ALGORITHM=INSTANT, LOCK=NONE;",
        MYSQL,
        "mysql",
    ),
    (
        "MIG121",
        TIMEOUT + "BEGIN;\nALTER TABLE t ADD COLUMN c INT, ALGORITHM=INSTANT, LOCK=NONE;\nCOMMIT;",
        TIMEOUT + "BEGIN;\nUPDATE t SET a = 1 WHERE id = 1;\nCOMMIT;\n"
        "ALTER TABLE t ADD COLUMN c INT, ALGORITHM=INSTANT, LOCK=NONE;",
        MYSQL,
        "mysql",
    ),
    (
        "MIG123",
        TIMEOUT + "CREATE TABLE c (id INT PRIMARY KEY, n INT NOT NULL);\n"
        "ALTER TABLE c MODIFY n BIGINT, ALGORITHM=COPY, LOCK=SHARED;",
        TIMEOUT + "CREATE TABLE c (id INT PRIMARY KEY, n INT NOT NULL);\n"
        "ALTER TABLE c MODIFY id BIGINT, MODIFY n BIGINT NOT NULL, ALGORITHM=COPY, LOCK=SHARED;",  # PK stays NOT NULL
        MYSQL,
        "mysql",
    ),
    (
        "MIG124",
        TIMEOUT + "ALTER TABLE t ADD COLUMN c INT, ALGORITHM=INSTANT, LOCK=NONE;",
        TIMEOUT + "ALTER TABLE t ADD COLUMN c INT, ALGORITHM=INPLACE, LOCK=NONE;",
        (5, 7, 44),
        "mysql",
    ),
    (
        "MIG125",
        TIMEOUT + "ALTER TABLE t ENGINE=MyISAM, ALGORITHM=COPY, LOCK=SHARED;",
        TIMEOUT + "ALTER TABLE t ENGINE=InnoDB, ALGORITHM=INPLACE, LOCK=NONE;",
        MARIADB,
        "mariadb",
    ),
    (
        "MIG122",
        USERS + TIMEOUT + "ALTER TABLE users MODIFY age INT NOT NULL, ALGORITHM=INPLACE, LOCK=NONE;",
        USERS + TIMEOUT + "ALTER TABLE users MODIFY age INT NULL COMMENT 'years', ALGORITHM=INSTANT, LOCK=NONE;",
        MYSQL,
        "mysql",
    ),
]


def test_every_rule_has_a_positive_and_a_negative_case() -> None:
    assert sorted(c[0] for c in CASES) == sorted(spec.id for spec, _ in RULES)


@pytest.mark.parametrize(("rule", "positive", "negative", "version", "flavor"), CASES, ids=[c[0] for c in CASES])
def test_rule_positive_and_negative(rule: str, positive: str, negative: str, version: Version, flavor: str) -> None:
    assert rule in ids(positive, version, flavor)
    assert rule not in ids(negative, version, flavor)


def test_rules_are_documented_with_stable_ids_in_the_mysql_range() -> None:
    seen = set()
    for spec, check in RULES:
        number = int(spec.id.removeprefix("MIG"))
        assert 100 <= number <= 149 and spec.id not in seen
        seen.add(spec.id)
        assert spec.capability == "migrations" and spec.engines == ("mysql",)
        doc = inspect.getdoc(check) or ""
        first, _, body = doc.partition("\n")
        assert first.endswith(".") and len(body.strip()) > 80, spec.id


def test_findings_carry_line_evidence_and_a_rewritten_statement() -> None:
    sql = "-- migration 42\n" + TIMEOUT + "\nALTER TABLE orders\n  ADD COLUMN c INT;"
    finding = one(sql, "MIG102")
    assert finding.line == 4
    assert finding.evidence["statement_line"] == 4
    assert finding.evidence["server"] == "mysql 8.0.36"
    assert finding.fix is not None
    assert finding.fix.statements == ["ALTER TABLE orders ADD COLUMN c INT, ALGORITHM=INSTANT, LOCK=NONE;"]


def test_algorithm_copy_fix_uses_the_best_algorithm_or_a_copy_tool() -> None:
    online = one(TIMEOUT + "ALTER TABLE t ADD INDEX ix (a), ALGORITHM=COPY;", "MIG100", MARIADB, "mariadb")
    assert online.fix is not None
    assert online.fix.statements == ["ALTER TABLE t ADD INDEX ix (a), ALGORITHM=NOCOPY, LOCK=NONE;"]
    copy = one(TIMEOUT + "ALTER TABLE t ADD CONSTRAINT ck CHECK (a > 0), ALGORITHM=COPY;", "MIG100")
    assert copy.fix is not None and any("gh-ost" in s for s in copy.fix.statements)


def test_lock_severity_depends_on_what_it_blocks() -> None:
    shared = one(TIMEOUT + "ALTER TABLE t ADD INDEX ix (a), ALGORITHM=INPLACE, LOCK=SHARED;", "MIG101")
    exclusive = one(TIMEOUT + "ALTER TABLE t ADD INDEX ix (a), ALGORITHM=INPLACE, LOCK=EXCLUSIVE;", "MIG101")
    assert (shared.severity, exclusive.severity) == (Severity.MEDIUM, Severity.HIGH)


def test_type_change_is_certain_only_with_the_current_definition() -> None:
    known = one(USERS + TIMEOUT + "ALTER TABLE users MODIFY age BIGINT, ALGORITHM=COPY, LOCK=SHARED;", "MIG103")
    assert known.severity == Severity.HIGH
    assert (known.evidence["old_type"], known.evidence["new_type"]) == ("int", "BIGINT")
    unknown = one(TIMEOUT + "ALTER TABLE orders MODIFY amount BIGINT, ALGORITHM=COPY, LOCK=SHARED;", "MIG103")
    assert unknown.severity == Severity.MEDIUM and unknown.evidence["known"] is False


def test_varchar_prefix_evidence_and_mariadb_redundant_exception() -> None:
    finding = one(
        USERS
        + TIMEOUT
        + "ALTER TABLE users MODIFY name VARCHAR(64) CHARACTER SET utf8mb4, ALGORITHM=COPY, LOCK=SHARED;",
        "MIG104",
    )
    assert (finding.evidence["old_length"], finding.evidence["new_length"], finding.evidence["charset"]) == (
        60,
        64,
        "utf8mb4",
    )
    redundant = (
        "CREATE TABLE r (id INT PRIMARY KEY, v VARCHAR(60) CHARACTER SET utf8mb4) ROW_FORMAT=REDUNDANT;\n"
        + TIMEOUT
        + "ALTER TABLE r MODIFY v VARCHAR(100) CHARACTER SET utf8mb4, ALGORITHM=INSTANT, LOCK=NONE;"
    )
    assert "MIG104" not in ids(redundant, MARIADB, "mariadb")


def test_add_column_position_is_fine_from_8029_and_mariadb_104() -> None:
    sql = TIMEOUT + "ALTER TABLE t ADD COLUMN c INT FIRST, ALGORITHM=INSTANT, LOCK=NONE;"
    assert "MIG105" in ids(sql, (8, 0, 28))
    assert "MIG105" not in ids(sql, (8, 0, 29))
    assert "MIG105" in ids(sql, (10, 3, 39), "mariadb")
    assert "MIG105" not in ids(sql, (10, 4, 0), "mariadb")
    finding = one(sql, "MIG105", (8, 0, 28))
    assert finding.fix is not None
    assert finding.fix.statements == ["ALTER TABLE t ADD COLUMN c INT, ALGORITHM=INSTANT, LOCK=NONE;"]


def test_expression_default_on_mysql_fires_for_any_expression() -> None:
    sql = TIMEOUT + "ALTER TABLE t ADD COLUMN c INT DEFAULT (1 + 1), ALGORITHM=INSTANT, LOCK=NONE;"
    assert "MIG109" in ids(sql, MYSQL)
    assert "MIG109" not in ids(sql, MARIADB, "mariadb")
    finding = one(TIMEOUT + "ALTER TABLE t ADD COLUMN c CHAR(36) DEFAULT (UUID());", "MIG109", MARIADB, "mariadb")
    assert finding.fix is not None
    assert "ALTER TABLE t ALTER COLUMN c SET DEFAULT (UUID()), ALGORITHM=INSTANT, LOCK=NONE;" in finding.fix.statements


def test_foreign_key_with_checks_off_is_a_low_reminder() -> None:
    sql = (
        TIMEOUT
        + "SET foreign_key_checks = 0;\n"
        + "ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (pid) REFERENCES p (id), ALGORITHM=INPLACE, LOCK=NONE;"
    )
    finding = one(sql, "MIG112")
    assert finding.severity == Severity.LOW and finding.evidence["foreign_key_checks"] is False
    assert finding.fix is not None and any("LEFT JOIN p AS p" in s for s in finding.fix.statements)


def test_rename_column_fix_is_the_expand_contract_plan() -> None:
    finding = one(USERS + TIMEOUT + "ALTER TABLE users RENAME COLUMN nick TO nickname;", "MIG107")
    assert finding.fix is not None
    statements = finding.fix.statements
    assert statements[0] == TIMEOUT.strip()
    assert any(s.startswith("ALTER TABLE users ADD COLUMN nickname varchar(20)") for s in statements)
    assert any(s.startswith("CREATE TRIGGER users_nick_nickname_ins") for s in statements)
    assert any(
        s.startswith("-- deploy: Deploy application code that reads and writes users.nickname") for s in statements
    )
    assert statements[-1] == "ALTER TABLE users DROP COLUMN nick, ALGORITHM=INSTANT, LOCK=NONE;"


def test_lock_wait_timeout_is_reported_once_and_a_long_one_counts_as_missing() -> None:
    sql = "ALTER TABLE t ADD COLUMN a INT;\nALTER TABLE t ADD COLUMN b INT;"
    assert [f.line for f in lint(sql) if f.rule_id == "MIG120"] == [1]
    long_wait = "SET SESSION lock_wait_timeout = 3600;\nALTER TABLE t ADD COLUMN a INT, ALGORITHM=INSTANT, LOCK=NONE;"
    assert one(long_wait, "MIG120").evidence["lock_wait_timeout"] == 3600


def test_drop_table_fix_renames_it_away() -> None:
    finding = one(TIMEOUT + "DROP TABLE IF EXISTS sessions;", "MIG115")
    assert finding.fix is not None
    assert finding.fix.statements == [TIMEOUT.strip(), "RENAME TABLE sessions TO sessions_retired;"]


def test_parse_errors_and_unknown_specifications_are_reported() -> None:
    count, findings, errors = lint_mysql("ALTER TABLE t ADD COLUMN c INT DEFAULT 'x", MYSQL, "mysql")
    assert count == 0 and findings == [] and "unterminated" in errors[0]
    count, _, errors = lint_mysql(TIMEOUT + "ALTER TABLE t FROBNICATE, ALGORITHM=INPLACE, LOCK=NONE;", MYSQL, "mysql")
    assert count == 2 and errors == ["line 2: unrecognised ALTER TABLE specification 'FROBNICATE'"]


def test_modify_that_drops_attributes_is_restated_in_the_fix() -> None:
    sql = (
        TIMEOUT
        + "CREATE TABLE o (id INT PRIMARY KEY, amount INT NOT NULL DEFAULT 0 COMMENT 'cents');\n"
        + "ALTER TABLE o MODIFY amount BIGINT AFTER id, ALGORITHM=COPY, LOCK=SHARED;"
    )
    finding = one(sql, "MIG123")
    assert finding.evidence["lost"] == "NOT NULL, DEFAULT 0, its COMMENT"
    assert finding.fix is not None
    assert finding.fix.statements == [
        "ALTER TABLE o MODIFY amount BIGINT NOT NULL DEFAULT 0 COMMENT 'cents' AFTER id, ALGORITHM=COPY, LOCK=SHARED;"
    ]


# ----------------------------------------------------------------------------------------------- the current catalog

CURRENT_DDL = (
    "CREATE TABLE accounts (id BIGINT PRIMARY KEY, email VARCHAR(60) CHARACTER SET utf8mb4 NOT NULL, age INT, "
    "amount INT NOT NULL DEFAULT 0 COMMENT 'cents', KEY ix_age (age)) DEFAULT CHARSET=utf8mb4;"
)


def current(**table_update: object) -> Catalog:
    """The schema before the migration, as parse_ddl(current_ddl) gives it (optionally with sizes)."""
    catalog = parse_ddl(CURRENT_DDL, "mysql").catalog
    tables = [table.model_copy(update=table_update) for table in catalog.tables]
    return catalog.model_copy(update={"database": "shop", "tables": tables})


def with_catalog(
    sql: str, catalog: Catalog | None, version: Version = MYSQL, flavor: str = "mysql"
) -> dict[str, Finding]:
    count, findings, errors = lint_mysql(TIMEOUT + sql, version, flavor, catalog=catalog)
    assert errors == [] and count == 2
    by_rule = {f.rule_id: f for f in findings}
    assert len(by_rule) == len(findings)
    return by_rule


def test_catalog_makes_a_type_change_certain() -> None:
    sql = "ALTER TABLE accounts MODIFY age BIGINT, ALGORITHM=COPY, LOCK=SHARED;"
    known = with_catalog(sql, current())["MIG103"]
    assert known.severity == Severity.HIGH
    assert (known.evidence["old_type"], known.evidence["known"], known.evidence["algorithm"]) == ("int", True, "COPY")
    vague = with_catalog(sql, None)["MIG103"]
    assert vague.severity == Severity.MEDIUM
    assert (vague.evidence["old_type"], vague.evidence["known"]) == (None, False)


def test_catalog_counts_the_operations_that_need_a_copy() -> None:
    sql = "ALTER TABLE accounts MODIFY age BIGINT, ALGORITHM=COPY, LOCK=SHARED;"
    assert with_catalog(sql, current())["MIG100"].evidence["operations_needing_copy"] == 1
    # without the old definition a restated type is planned as the type change it most likely is
    assert with_catalog(sql, None)["MIG100"].evidence["operations_needing_copy"] == 1


def test_catalog_reveals_a_varchar_crossing_the_length_prefix() -> None:
    sql = "ALTER TABLE accounts MODIFY email VARCHAR(100) CHARACTER SET utf8mb4 NOT NULL, ALGORITHM=COPY, LOCK=SHARED;"
    found = with_catalog(sql, current())
    assert "MIG103" not in found
    assert (found["MIG104"].evidence["old_length"], found["MIG104"].evidence["new_length"]) == (60, 100)
    without = with_catalog(sql, None)
    assert "MIG104" not in without and without["MIG103"].evidence["known"] is False


def test_catalog_row_format_keeps_the_mariadb_redundant_exception() -> None:
    redundant = current(options={"charset": "utf8mb4", "row_format": "REDUNDANT"})
    sql = "ALTER TABLE accounts MODIFY email VARCHAR(100) CHARACTER SET utf8mb4 NOT NULL, ALGORITHM=INSTANT, LOCK=NONE;"
    assert "MIG104" not in with_catalog(sql, redundant, MARIADB, "mariadb")
    assert "MIG104" in with_catalog(sql, current(), MARIADB, "mariadb")


def test_catalog_makes_set_not_null_exact() -> None:
    tighten = "ALTER TABLE accounts MODIFY age INT NOT NULL, ALGORITHM=INPLACE, LOCK=NONE;"
    found = with_catalog(tighten, current())
    assert set(found) == {"MIG122"}
    assert found["MIG122"].evidence["rebuilds"] is True
    assert with_catalog(tighten, None).keys() == {"MIG103"}
    restated = (
        "ALTER TABLE accounts MODIFY email VARCHAR(60) CHARACTER SET utf8mb4 NOT NULL, ALGORITHM=INSTANT, LOCK=NONE;"
    )
    assert with_catalog(restated, current()) == {}
    assert with_catalog(restated, None).keys() == {"MIG103"}


def test_catalog_shows_what_a_modify_drops() -> None:
    sql = "ALTER TABLE accounts MODIFY amount BIGINT, ALGORITHM=COPY, LOCK=SHARED;"
    finding = with_catalog(sql, current())["MIG123"]
    assert finding.evidence["lost"] == "NOT NULL, DEFAULT 0, its COMMENT"
    assert finding.fix is not None
    assert finding.fix.statements == [
        "ALTER TABLE accounts MODIFY amount BIGINT NOT NULL DEFAULT 0 COMMENT 'cents', ALGORITHM=COPY, LOCK=SHARED;"
    ]
    assert "MIG123" not in with_catalog(sql, None)


def test_catalog_sizes_and_database_reach_the_planned_fix() -> None:
    sql = "ALTER TABLE accounts MODIFY age BIGINT, ALGORITHM=COPY, LOCK=SHARED;"
    small = with_catalog(sql, current(row_estimate=1_000, table_bytes=1 << 20))["MIG103"]
    assert small.fix is not None
    assert small.fix.statements == [
        TIMEOUT.strip(),
        "ALTER TABLE accounts MODIFY age BIGINT, ALGORITHM=COPY, LOCK=SHARED;",
    ]
    big = with_catalog(sql, current(row_estimate=50_000_000, table_bytes=20 << 30))["MIG103"]
    assert big.fix is not None
    command = next(s for s in big.fix.statements if s.startswith("gh-ost"))
    assert "--database=shop" in command and "--table=accounts" in command


def test_catalog_table_is_found_by_qualified_name_and_live_type_text() -> None:
    live = Catalog(
        engine="mysql",
        database="shop",
        tables=[
            Table(
                schema_name="shop",
                name="accounts",
                columns=[
                    Column(name="id", data_type="bigint(20)", nullable=False),
                    Column(name="age", data_type="int(11)"),
                ],
                primary_key=PrimaryKey(columns=["id"]),
            )
        ],
    )
    finding = with_catalog("ALTER TABLE shop.accounts MODIFY age BIGINT, ALGORITHM=COPY, LOCK=SHARED;", live)["MIG103"]
    assert (finding.severity, finding.evidence["old_type"]) == (Severity.HIGH, "int(11)")


def test_tables_created_in_the_input_take_precedence_over_the_catalog() -> None:
    sql = (
        "CREATE TABLE accounts (id BIGINT PRIMARY KEY, age BIGINT);\n"
        "ALTER TABLE accounts MODIFY age BIGINT, ALGORITHM=INPLACE, LOCK=NONE;"
    )
    count, findings, errors = lint_mysql(TIMEOUT + sql, MYSQL, "mysql", catalog=current())
    assert (count, errors) == (3, [])
    assert [f.rule_id for f in findings] == []
