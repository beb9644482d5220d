"""QA findings on MariaDB 10.11 (each checked on the server by tests/integration/mysql): DROP COLUMN of an indexed
column, non-InnoDB engines, MODIFY without the old definition, and the linter's server-version and parse checks."""

from __future__ import annotations

from dbspecialist.adapters.catalog import Catalog
from dbspecialist.knowledge.ddl.dispatch import parse_ddl
from dbspecialist.knowledge.migrations.context import PlanContext, PlannerOutput
from dbspecialist.knowledge.migrations.lint_rules_mysql import lint_mysql
from dbspecialist.knowledge.migrations.model import TableStats
from dbspecialist.knowledge.migrations.mysql_online_ddl import TableTraits, online_ddl
from dbspecialist.knowledge.migrations.mysql_plan import plan_mysql
from dbspecialist.knowledge.migrations.versions import Version

MARIADB: Version = (10, 11, 0)
MYSQL: Version = (8, 0, 36)
SCHEMA = """
CREATE TABLE orders (id BIGINT PRIMARY KEY, customer_id INT NOT NULL, status VARCHAR(20), note TEXT, solo INT,
  KEY idx_cust (customer_id), KEY idx_cust2 (customer_id, status), KEY idx_solo (solo)) ENGINE=InnoDB;
CREATE TABLE logs (id INT PRIMARY KEY, msg VARCHAR(100)) ENGINE=MyISAM;
"""


def catalog() -> Catalog:
    return parse_ddl(SCHEMA, "mysql").catalog


def plan(change: str, version: Version = MARIADB, dialect: str = "mariadb", *, schema: bool = True) -> PlannerOutput:
    stats = {"orders": TableStats(rows=10), "logs": TableStats(rows=10)}
    ctx = PlanContext(
        dialect=dialect, version=version, version_given=True, stats=stats, catalog=catalog() if schema else None
    )
    return plan_mysql(change, ctx)


def alters(output: PlannerOutput) -> list[str]:
    return [q for s in output.steps if s.kind == "sql" for q in s.sql if "ALGORITHM=" in q]


# ---------------------------------------------------------------- defect 1: DROP COLUMN of an indexed column


def test_drop_column_of_a_composite_index_rebuilds_in_place() -> None:
    output = plan("ALTER TABLE orders DROP COLUMN status")
    assert alters(output) == ["ALTER TABLE orders DROP COLUMN status, ALGORITHM=INPLACE, LOCK=NONE;"]
    step = next(s for s in output.steps if s.kind == "sql")
    assert step.table_effect == "rewrite" and not step.blocks_writes
    assert any("shrinks" in n for n in step.notes)


def test_drop_column_only_in_single_column_indexes_is_nocopy_on_mariadb() -> None:
    assert alters(plan("ALTER TABLE orders DROP COLUMN solo")) == [
        "ALTER TABLE orders DROP COLUMN solo, ALGORITHM=NOCOPY, LOCK=NONE;"
    ]
    assert alters(plan("ALTER TABLE orders DROP COLUMN note")) == [
        "ALTER TABLE orders DROP COLUMN note, ALGORITHM=INSTANT, LOCK=NONE;"
    ]


def test_drop_column_of_an_indexed_column_is_not_instant_on_mysql() -> None:
    assert alters(plan("ALTER TABLE orders DROP COLUMN solo", MYSQL, "mysql")) == [
        "ALTER TABLE orders DROP COLUMN solo, ALGORITHM=INPLACE, LOCK=NONE;"
    ]


def test_drop_column_of_the_primary_key_copies() -> None:
    entry = online_ddl("drop_column", "mariadb", MARIADB, TableTraits(indexed=True, in_primary_key=True))
    assert entry.clause() == "ALGORITHM=COPY, LOCK=SHARED"


def test_drop_column_without_the_schema_is_inplace() -> None:
    output = plan("ALTER TABLE orders DROP COLUMN status", schema=False)
    assert alters(output) == ["ALTER TABLE orders DROP COLUMN status, ALGORITHM=INPLACE, LOCK=NONE;"]
    assert any("indexes are unknown" in n for s in output.steps for n in s.notes)


def test_rename_column_drops_the_old_composite_indexed_column_in_place() -> None:
    output = plan("ALTER TABLE orders RENAME COLUMN status TO state")
    drop = next(s for s in output.steps if s.title == "Drop the old column orders.status")
    assert drop.sql == ["ALTER TABLE orders DROP COLUMN status, ALGORITHM=INPLACE, LOCK=NONE;"]


# ---------------------------------------------------------------- defect 2: the storage engine


def test_myisam_alter_copies_with_writes_blocked() -> None:
    output = plan("ALTER TABLE logs ADD COLUMN x INT")
    assert alters(output) == ["ALTER TABLE logs ADD COLUMN x INT, ALGORITHM=COPY, LOCK=SHARED;"]
    step = next(s for s in output.steps if s.kind == "sql")
    assert step.blocks_writes and step.table_effect == "rewrite"
    assert any("MyISAM" in n for n in output.notes)


def test_myisam_metadata_changes_stay_instant_on_mariadb_and_copy_on_mysql() -> None:
    assert alters(plan("ALTER TABLE logs ALTER COLUMN msg SET DEFAULT 'x'")) == [
        "ALTER TABLE logs ALTER COLUMN msg SET DEFAULT 'x', ALGORITHM=INSTANT, LOCK=NONE;"
    ]
    assert alters(plan("ALTER TABLE logs ALTER COLUMN msg SET DEFAULT 'x'", MYSQL, "mysql")) == [
        "ALTER TABLE logs ALTER COLUMN msg SET DEFAULT 'x', ALGORITHM=COPY, LOCK=SHARED;"
    ]
    assert alters(plan("ALTER TABLE logs AUTO_INCREMENT = 100")) == [
        "ALTER TABLE logs AUTO_INCREMENT = 100, ALGORITHM=COPY, LOCK=SHARED;"
    ]


def test_engine_change_copies_and_is_never_online() -> None:
    assert alters(plan("ALTER TABLE orders ENGINE=MyISAM")) == [
        "ALTER TABLE orders ENGINE=MyISAM, ALGORITHM=COPY, LOCK=SHARED;"
    ]
    assert alters(plan("ALTER TABLE orders ENGINE=InnoDB")) == [
        "ALTER TABLE orders ENGINE=InnoDB, ALGORITHM=INPLACE, LOCK=NONE;"
    ]
    assert online_ddl("change_engine", "mariadb", (11, 4, 0)).lock == "SHARED"
    assert online_ddl("add_column_last", "mariadb", (11, 4, 0), TableTraits(engine="Aria")).lock == "SHARED"


def test_unknown_tables_are_assumed_innodb() -> None:
    output = plan("ALTER TABLE logs ADD COLUMN x INT", schema=False)
    assert alters(output) == ["ALTER TABLE logs ADD COLUMN x INT, ALGORITHM=INSTANT, LOCK=NONE;"]
    assert any("planned as an InnoDB table" in a for a in output.assumptions)


# ---------------------------------------------------------------- defect 3: MODIFY without the old definition


def test_offline_type_changes_are_copies_without_a_fallback_step() -> None:
    for change in (
        "ALTER TABLE orders MODIFY total DECIMAL(12,2)",
        "ALTER TABLE orders MODIFY note MEDIUMTEXT",
        "ALTER TABLE orders MODIFY customer_id BIGINT NOT NULL",
        "ALTER TABLE orders MODIFY created_at TIMESTAMP NULL",
        "ALTER TABLE orders MODIFY status VARCHAR(10)",
    ):
        output = plan(change, schema=False)
        sql_steps = [s for s in output.steps if s.kind in ("sql", "command")]
        assert len(sql_steps) == 1, change
        assert sql_steps[0].sql[0].endswith("ALGORITHM=COPY, LOCK=SHARED;") and sql_steps[0].blocks_writes


def test_offline_type_change_on_a_big_table_goes_through_the_copy_tool_with_the_online_attempt_noted() -> None:
    ctx = PlanContext(dialect="mariadb", version=MARIADB, version_given=True)
    output = plan_mysql("ALTER TABLE orders MODIFY status VARCHAR(30)", ctx)
    (tool,) = [s for s in output.steps if s.kind == "command"]
    assert "pt-online-schema-change" in (tool.command or "")
    assert any("ALGORITHM=INSTANT, LOCK=NONE; — the server refuses it" in n for n in tool.notes)
    assert not any(s.title.startswith("Only if the server refused it") for s in output.steps)


def test_varchar_shrink_with_the_schema_checks_for_longer_values() -> None:
    output = plan("ALTER TABLE orders MODIFY status VARCHAR(10)")
    check, alter = output.steps
    assert check.sql == ["SELECT COUNT(*) FROM orders WHERE CHAR_LENGTH(status) > 10;"]
    assert "1265" in check.notes[0]
    assert alter.sql == ["ALTER TABLE orders MODIFY status VARCHAR(10), ALGORITHM=COPY, LOCK=SHARED;"]
    assert check.phase == alter.phase


# ---------------------------------------------------------------- defect 8: the linter


def test_engine_switch_fix_uses_copy_and_the_switch_is_flagged() -> None:
    _, findings, errors = lint_mysql("SET lock_wait_timeout=5;\nALTER TABLE orders ENGINE=MyISAM;", MYSQL, "mysql")
    assert errors == []
    by_rule = {f.rule_id: f for f in findings}
    assert by_rule["MIG102"].fix is not None
    assert by_rule["MIG102"].fix.statements == ["ALTER TABLE orders ENGINE=MyISAM, ALGORITHM=COPY, LOCK=SHARED;"]
    assert by_rule["MIG125"].severity == "high"


def test_algorithm_the_server_does_not_know() -> None:
    sql = "SET lock_wait_timeout=5;\nALTER TABLE orders ADD COLUMN x INT, ALGORITHM=INSTANT, LOCK=NONE;"
    for version, flavor in (((5, 7, 44), "mysql"), ((10, 2, 44), "mariadb"), ((8, 0, 11), "mysql")):
        (finding,) = [f for f in lint_mysql(sql, version, flavor)[1] if f.rule_id == "MIG124"]
        assert finding.fix is not None
        assert finding.fix.statements == ["ALTER TABLE orders ADD COLUMN x INT, ALGORITHM=INPLACE, LOCK=NONE;"]
    assert not [f for f in lint_mysql(sql, (8, 0, 12), "mysql")[1] if f.rule_id == "MIG124"]
    assert not [f for f in lint_mysql(sql, (10, 3, 39), "mariadb")[1] if f.rule_id == "MIG124"]
    nocopy = "SET lock_wait_timeout=5;\nALTER TABLE orders ADD INDEX i (a), ALGORITHM=NOCOPY, LOCK=NONE;"
    assert [f.rule_id for f in lint_mysql(nocopy, MYSQL, "mysql")[1]] == ["MIG124"]
    assert [f.rule_id for f in lint_mysql(nocopy, MARIADB, "mariadb")[1]] == []


def test_unreadable_input_is_a_parse_error() -> None:
    count, findings, errors = lint_mysql("garbage here;", MYSQL, "mysql")
    assert (count, findings) == (1, [])
    assert errors == ["line 1: not a MySQL/MariaDB statement (it starts with 'garbage')"]
    assert (
        lint_mysql("SELECT 1; INSERT INTO t VALUES (1); WITH a AS (SELECT 1) SELECT * FROM a;", MYSQL, "mysql")[2] == []
    )
