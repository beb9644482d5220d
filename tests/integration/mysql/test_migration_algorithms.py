"""The MySQL/MariaDB planner's ALGORITHM/LOCK choices, checked against MariaDB itself.

For every operation kind the planner emits, a small table is created in a private database, the planner's
statements run with the ALGORITHM and LOCK it chose (the server must accept them), and before that the next more
efficient algorithm (COPY < INPLACE < NOCOPY < INSTANT) — which the online DDL table says is impossible — and, where
the plan needs a lock, LOCK=NONE are tried: the server must refuse them with error 1845/1846. Multi-step plans
(renames, expression defaults, foreign keys) run end to end, backfill and checks included.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator

import pymysql
import pytest

from dbspecialist.knowledge.ddl.dispatch import parse_ddl
from dbspecialist.knowledge.migrations.context import PlanContext, PlannerOutput
from dbspecialist.knowledge.migrations.model import MigrationStep, TableStats
from dbspecialist.knowledge.migrations.mysql_online_ddl import ALGORITHM_ORDER
from dbspecialist.knowledge.migrations.mysql_plan import plan_mysql
from tests.integration.mysql.conftest import admin

pytestmark = pytest.mark.integration

REFUSED = (1845, 1846)
MARIADB_1011 = (10, 11, 0)

BASE = """
CREATE TABLE p (id INT PRIMARY KEY) ENGINE=InnoDB
;
CREATE TABLE t (
  id INT NOT NULL PRIMARY KEY,
  a INT NULL,
  n INT NOT NULL DEFAULT 0,
  v50 VARCHAR(50) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci,
  v60 VARCHAR(60) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci,
  w VARCHAR(40) CHARACTER SET utf8mb3 COLLATE utf8mb3_general_ci,
  k VARCHAR(40) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci,
  e ENUM('a','b'),
  txt TEXT,
  g GEOMETRY NOT NULL,
  pid INT NULL,
  KEY ix_a (a),
  KEY ix_k (k),
  CONSTRAINT ck_n CHECK (n >= 0),
  CONSTRAINT fk_p FOREIGN KEY (pid) REFERENCES p (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci
;
INSERT INTO p VALUES (1), (2)
;
INSERT INTO t (id, a, n, v50, k, w, e, g, pid) VALUES
  (1, 10, 1, 'x', 'k1', 'w1', 'a', POINT(1, 1), 1),
  (2, 20, 2, 'y', 'k2', 'w2', 'b', POINT(2, 2), NULL),
  (3, 30, 3, 'z', 'k3', 'w3', 'a', POINT(3, 3), 2)
"""

NO_PK = """
CREATE TABLE t (id INT NOT NULL, a INT) ENGINE=InnoDB
;
INSERT INTO t VALUES (1, 1), (2, 2)
"""

FULLTEXT = """
CREATE TABLE t (id INT PRIMARY KEY, body TEXT, FULLTEXT KEY ft_body (body)) ENGINE=InnoDB
;
INSERT INTO t VALUES (1, 'hello world')
"""

REDUNDANT = """
CREATE TABLE t (id INT PRIMARY KEY, n INT NOT NULL, v VARCHAR(50) CHARACTER SET utf8mb4)
  ENGINE=InnoDB ROW_FORMAT=REDUNDANT DEFAULT CHARSET=utf8mb4
;
INSERT INTO t VALUES (1, 1, 'x')
"""

COMPOSITE = """
CREATE TABLE t (id INT PRIMARY KEY, a INT, b INT, c INT, KEY ix_a (a), KEY ix_ab (a, b), KEY ix_c (c)) ENGINE=InnoDB
;
INSERT INTO t VALUES (1, 1, 1, 1), (2, 2, 2, 2)
"""

MYISAM = """
CREATE TABLE t (id INT PRIMARY KEY, msg VARCHAR(100), n INT, KEY ix_n (n)) ENGINE=MyISAM
;
INSERT INTO t VALUES (1, 'a', 1), (2, 'b', 2)
"""


@pytest.fixture
def database(mysql_server: None) -> Iterator[str]:
    name = f"dbspecialist_mig_c1_{secrets.token_hex(3)}"
    with admin() as conn, conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE `{name}`")
    try:
        yield name
    finally:
        with admin() as conn, conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")


def setup(database: str, script: str) -> None:
    with admin(database) as conn, conn.cursor() as cur:
        for statement in script.split("\n;\n"):
            if statement.strip():
                cur.execute(statement)


def plan(database: str, script: str, change: str, rows: int = 3) -> PlannerOutput:
    catalog = parse_ddl(script, "mysql").catalog
    ctx = PlanContext(
        dialect="mariadb",
        version=MARIADB_1011,
        version_given=True,
        stats={table.name: TableStats(rows=rows) for table in catalog.tables},
        catalog=catalog,
    )
    return plan_mysql(change, ctx)


def ddl_steps(output: PlannerOutput) -> list[MigrationStep]:
    return [s for s in output.steps if s.kind == "sql" and any("ALGORITHM=" in q for q in s.sql)]


def clauses(output: PlannerOutput) -> list[str]:
    found = []
    for step in ddl_steps(output):
        for statement in step.sql:
            match = re.search(r"ALGORITHM=(\w+), LOCK=(\w+)", statement)
            if match:
                found.append(f"{match.group(1)}/{match.group(2)}")
    return found


def refused(cur: pymysql.cursors.Cursor, statement: str) -> int:
    with pytest.raises(pymysql.err.MySQLError) as caught:
        cur.execute(statement)
    return int(caught.value.args[0])


def run(database: str, output: PlannerOutput) -> dict[str, int]:
    """Run every step in plan order; check the weaker algorithms are refused first. Returns check results."""
    results: dict[str, int] = {}
    with admin(database) as conn, conn.cursor() as cur:
        for step in sorted(
            output.steps,
            key=lambda s: ["prepare", "expand", "backfill", "validate", "switch", "contract"].index(s.phase),
        ):
            if step.kind in ("deploy", "command"):
                continue
            for statement in step.preamble:
                cur.execute(statement)
            for statement in step.sql:
                if statement.lstrip().startswith("--"):
                    continue
                match = re.search(r"ALGORITHM=(\w+), LOCK=(\w+)", statement)
                if match:
                    algorithm, lock = match.groups()
                    position = ALGORITHM_ORDER.index(algorithm)
                    if position + 1 < len(ALGORITHM_ORDER):
                        stronger = ALGORITHM_ORDER[position + 1]
                        weaker_sql = statement.replace(f"ALGORITHM={algorithm}", f"ALGORITHM={stronger}")
                        assert refused(cur, weaker_sql) in REFUSED, weaker_sql
                    if lock != "NONE":
                        assert refused(cur, statement.replace(f"LOCK={lock}", "LOCK=NONE")) in REFUSED, statement
                cur.execute(statement)
                if step.kind == "check":
                    results[step.title] = int(cur.fetchone()[0])
    return results


CASES = [
    # (id, setup, change, expected ALGORITHM/LOCK of each DDL statement in plan order)
    ("add_column_last", BASE, "ALTER TABLE t ADD COLUMN c1 INT", ["INSTANT/NONE"]),
    ("add_column_middle", BASE, "ALTER TABLE t ADD COLUMN c1 INT NOT NULL DEFAULT 7 AFTER id", ["INSTANT/NONE"]),
    (
        "add_column_auto_increment",
        BASE,
        "ALTER TABLE t ADD COLUMN seq INT NOT NULL AUTO_INCREMENT UNIQUE",
        ["INPLACE/SHARED"],
    ),
    ("add_virtual_generated", BASE, "ALTER TABLE t ADD COLUMN nv INT AS (n + 1) VIRTUAL", ["INSTANT/NONE"]),
    ("add_stored_generated", BASE, "ALTER TABLE t ADD COLUMN ns INT AS (n + 1) PERSISTENT", ["COPY/SHARED"]),
    ("drop_column", BASE, "ALTER TABLE t DROP COLUMN txt", ["INSTANT/NONE"]),
    ("drop_indexed_column", BASE, "ALTER TABLE t DROP COLUMN a", ["NOCOPY/NONE"]),
    # QA: a column of a multi-column index: the index shrinks, the table is rebuilt (NOCOPY/INSTANT refused)
    ("drop_column_of_composite_index", COMPOSITE, "ALTER TABLE t DROP COLUMN b", ["INPLACE/NONE"]),
    ("drop_column_in_two_indexes", COMPOSITE, "ALTER TABLE t DROP COLUMN a", ["INPLACE/NONE"]),
    ("drop_column_single_index_only", COMPOSITE, "ALTER TABLE t DROP COLUMN c", ["NOCOPY/NONE"]),
    ("drop_primary_key_column", COMPOSITE, "ALTER TABLE t DROP COLUMN id", ["COPY/SHARED"]),
    # QA: MyISAM changes nothing online but pure metadata
    ("myisam_add_column", MYISAM, "ALTER TABLE t ADD COLUMN x INT", ["COPY/SHARED"]),
    ("myisam_add_index", MYISAM, "ALTER TABLE t ADD INDEX ix_msg (msg)", ["COPY/SHARED"]),
    ("myisam_varchar_extend", MYISAM, "ALTER TABLE t MODIFY COLUMN msg VARCHAR(200)", ["COPY/SHARED"]),
    ("myisam_auto_increment", MYISAM, "ALTER TABLE t AUTO_INCREMENT = 1000", ["COPY/SHARED"]),
    ("myisam_set_default", MYISAM, "ALTER TABLE t ALTER COLUMN n SET DEFAULT 5", ["INSTANT/NONE"]),
    ("myisam_rename_index", MYISAM, "ALTER TABLE t RENAME INDEX ix_n TO ix_n2", ["INSTANT/NONE"]),
    ("myisam_to_innodb", MYISAM, "ALTER TABLE t ENGINE=InnoDB", ["COPY/SHARED"]),
    ("innodb_to_myisam", COMPOSITE, "ALTER TABLE t ENGINE=MyISAM", ["COPY/SHARED"]),
    ("innodb_engine_rebuild", COMPOSITE, "ALTER TABLE t ENGINE=InnoDB", ["INPLACE/NONE"]),
    ("reorder_column", BASE, "ALTER TABLE t MODIFY COLUMN n INT NOT NULL DEFAULT 0 AFTER v60", ["INSTANT/NONE"]),
    ("set_default", BASE, "ALTER TABLE t ALTER COLUMN a SET DEFAULT 5", ["INSTANT/NONE"]),
    ("drop_default", BASE, "ALTER TABLE t ALTER COLUMN n DROP DEFAULT", ["INSTANT/NONE"]),
    ("column_metadata", BASE, "ALTER TABLE t MODIFY COLUMN n INT NOT NULL DEFAULT 0 COMMENT 'count'", ["INSTANT/NONE"]),
    ("varchar_extend", BASE, "ALTER TABLE t MODIFY COLUMN v50 VARCHAR(63) CHARACTER SET utf8mb4", ["INSTANT/NONE"]),
    (
        "varchar_extend_crossing",
        BASE,
        "ALTER TABLE t MODIFY COLUMN v60 VARCHAR(64) CHARACTER SET utf8mb4",
        ["COPY/SHARED"],
    ),
    ("int_widen", BASE, "ALTER TABLE t MODIFY COLUMN a BIGINT NULL", ["COPY/SHARED"]),
    ("change_type", BASE, "ALTER TABLE t MODIFY COLUMN n VARCHAR(20) NOT NULL DEFAULT '0'", ["COPY/SHARED"]),
    ("enum_append", BASE, "ALTER TABLE t MODIFY COLUMN e ENUM('a','b','c')", ["INSTANT/NONE"]),
    ("enum_reorder", BASE, "ALTER TABLE t MODIFY COLUMN e ENUM('b','a')", ["COPY/SHARED"]),
    (
        "column_charset_utf8mb4",
        BASE,
        "ALTER TABLE t MODIFY COLUMN w VARCHAR(40) CHARACTER SET utf8mb4",
        ["INSTANT/NONE"],
    ),
    (
        "column_collation_indexed",
        BASE,
        "ALTER TABLE t MODIFY COLUMN k VARCHAR(40) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci",
        ["NOCOPY/NONE"],
    ),
    (
        "column_collation",
        BASE,
        "ALTER TABLE t MODIFY COLUMN v50 VARCHAR(50) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci",
        ["INSTANT/NONE"],
    ),
    ("drop_not_null", BASE, "ALTER TABLE t MODIFY COLUMN n INT NULL DEFAULT 0", ["INPLACE/NONE"]),
    ("add_index", BASE, "ALTER TABLE t ADD INDEX ix_n (n)", ["NOCOPY/NONE"]),
    ("create_unique_index", BASE, "CREATE UNIQUE INDEX uq_n ON t (id, n)", ["NOCOPY/NONE"]),
    ("rename_index", BASE, "ALTER TABLE t RENAME INDEX ix_a TO ix_a2", ["INSTANT/NONE"]),
    ("add_fulltext_index", BASE, "ALTER TABLE t ADD FULLTEXT INDEX ft_txt (txt)", ["INPLACE/SHARED"]),
    ("add_spatial_index", BASE, "ALTER TABLE t ADD SPATIAL INDEX sp_g (g)", ["NOCOPY/SHARED"]),
    ("add_primary_key", NO_PK, "ALTER TABLE t ADD PRIMARY KEY (id)", ["INPLACE/NONE"]),
    ("drop_primary_key", BASE, "ALTER TABLE t DROP PRIMARY KEY", ["COPY/SHARED"]),
    ("replace_primary_key", BASE, "ALTER TABLE t DROP PRIMARY KEY, ADD PRIMARY KEY (id, n)", ["INPLACE/NONE"]),
    ("drop_foreign_key", BASE, "ALTER TABLE t DROP FOREIGN KEY fk_p", ["INSTANT/NONE"]),
    ("add_check", BASE, "ALTER TABLE t ADD CONSTRAINT ck_a CHECK (a > 0)", ["COPY/SHARED"]),
    ("drop_check", BASE, "ALTER TABLE t DROP CONSTRAINT ck_n", ["INSTANT/NONE"]),
    (
        "convert_charset",
        BASE,
        "ALTER TABLE t CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci",
        ["COPY/SHARED"],
    ),
    (
        "table_default_charset",
        BASE,
        "ALTER TABLE t DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci",
        ["INSTANT/NONE"],
    ),
    ("change_row_format", BASE, "ALTER TABLE t ROW_FORMAT=COMPACT", ["INPLACE/NONE"]),
    ("rebuild_force", BASE, "ALTER TABLE t FORCE", ["INPLACE/NONE"]),
    ("optimize", BASE, "OPTIMIZE TABLE t", ["INPLACE/NONE"]),
    ("table_metadata", BASE, "ALTER TABLE t COMMENT = 'orders'", ["INSTANT/NONE"]),
    ("add_column_fulltext_table", FULLTEXT, "ALTER TABLE t ADD COLUMN c1 INT", ["INPLACE/SHARED"]),
    ("drop_not_null_redundant", REDUNDANT, "ALTER TABLE t MODIFY COLUMN n INT NULL", ["INSTANT/NONE"]),
    (
        "varchar_crossing_redundant",
        REDUNDANT,
        "ALTER TABLE t MODIFY COLUMN v VARCHAR(100) CHARACTER SET utf8mb4",
        ["INSTANT/NONE"],
    ),
]


@pytest.mark.parametrize(("setup_sql", "change", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_the_server_accepts_the_chosen_algorithm_and_refuses_the_next(
    database: str, setup_sql: str, change: str, expected: list[str]
) -> None:
    setup(database, setup_sql)
    output = plan(database, setup_sql, change)
    assert clauses(output) == expected
    run(database, output)


def test_set_not_null_checks_for_nulls_then_rebuilds_in_place(database: str) -> None:
    setup(database, BASE)
    with admin(database) as conn, conn.cursor() as cur:
        cur.execute("UPDATE t SET pid = 1 WHERE pid IS NULL")
    output = plan(database, BASE, "ALTER TABLE t MODIFY COLUMN pid INT NOT NULL")
    assert clauses(output) == ["INPLACE/NONE"]
    assert [s.phase for s in output.steps] == ["validate", "validate"]
    checks = run(database, output)
    assert list(checks.values()) == [0]


def test_drop_index_is_hidden_first_then_dropped_without_copy(database: str) -> None:
    setup(database, BASE)
    output = plan(database, BASE, "DROP INDEX ix_a ON t")
    assert clauses(output) == ["INSTANT/NONE", "NOCOPY/NONE"]
    assert "ALTER INDEX ix_a IGNORED" in ddl_steps(output)[0].sql[0]
    run(database, output)
    with admin(database) as conn, conn.cursor() as cur:
        cur.execute("SHOW INDEX FROM t WHERE Key_name = 'ix_a'")
        assert cur.fetchall() == ()


def test_rename_column_expand_contract_keeps_data_and_both_names_in_sync(database: str) -> None:
    setup(database, BASE)
    output = plan(database, BASE, "ALTER TABLE t RENAME COLUMN n TO amount")
    # add the new column; contract: drop the old one, then give the new one NOT NULL + default (a rebuild)
    assert clauses(output) == ["INSTANT/NONE", "INSTANT/NONE", "INPLACE/NONE"]
    phases = [s.phase for s in output.steps]
    assert phases.index("switch") < phases.index("contract")
    # expand: new column + triggers; then old code keeps writing the old name
    expand = [s for s in output.steps if s.phase == "expand"]
    with admin(database) as conn, conn.cursor() as cur:
        for step in expand:
            for statement in [*step.preamble, *step.sql]:
                cur.execute(statement)
        cur.execute("INSERT INTO t (id, n, g) VALUES (4, 40, POINT(4, 4))")  # old code
        cur.execute("UPDATE t SET n = 11 WHERE id = 1")  # old code
        cur.execute("SELECT amount FROM t WHERE id IN (1, 4) ORDER BY id")
        assert cur.fetchall() == ((11,), (40,))
        cur.execute("UPDATE t SET amount = 22 WHERE id = 2")  # new code
        cur.execute("SELECT n FROM t WHERE id = 2")
        assert cur.fetchone() == (22,)
    rest = PlannerOutput(steps=[s for s in output.steps if s.phase != "expand"])
    checks = run(database, rest)
    assert list(checks.values()) == [0]
    with admin(database) as conn, conn.cursor() as cur:
        cur.execute("SELECT id, amount FROM t ORDER BY id")
        assert cur.fetchall() == ((1, 11), (2, 22), (3, 3), (4, 40))
        cur.execute(
            "SELECT COLUMN_NAME, IS_NULLABLE FROM information_schema.COLUMNS "
            "WHERE TABLE_SCHEMA = %s AND TABLE_NAME = 't' AND COLUMN_NAME IN ('n', 'amount')",
            (database,),
        )
        assert cur.fetchall() == (("amount", "NO"),)
        cur.execute("SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = %s", (database,))
        assert cur.fetchone() == (0,)


def test_expression_default_is_added_instantly_and_backfilled(database: str) -> None:
    setup(database, BASE)
    output = plan(database, BASE, "ALTER TABLE t ADD COLUMN token CHAR(36) NOT NULL DEFAULT (UUID())")
    # without the rewrite MariaDB would need COPY for this column
    assert clauses(output) == ["INSTANT/NONE", "INSTANT/NONE", "INPLACE/NONE"]
    checks = run(database, output)
    assert list(checks.values()) == [0]
    with admin(database) as conn, conn.cursor() as cur:
        cur.execute("SELECT COUNT(DISTINCT token), COUNT(*) FROM t")
        assert cur.fetchone() == (3, 3)
        cur.execute("INSERT INTO t (id, g) VALUES (9, POINT(9, 9))")
        cur.execute("SELECT LENGTH(token) FROM t WHERE id = 9")
        assert cur.fetchone() == (36,)
        with pytest.raises(pymysql.err.MySQLError) as caught:
            cur.execute("ALTER TABLE t ADD COLUMN t2 CHAR(36) DEFAULT (UUID()), ALGORITHM=INPLACE, LOCK=NONE")
        assert caught.value.args[0] in REFUSED


def test_foreign_key_is_added_without_copy_and_orphans_are_checked(database: str) -> None:
    setup(database, BASE)
    output = plan(database, BASE, "ALTER TABLE t ADD CONSTRAINT fk_a FOREIGN KEY (a) REFERENCES p (id)")
    assert clauses(output) == ["INSTANT/NONE"]  # ix_a already indexes a: no extra index step
    with admin(database) as conn, conn.cursor() as cur:
        cur.execute("UPDATE t SET a = NULL")
        # with foreign_key_checks=1 only COPY could add it: the reason for the plan's session setting
        statement = ddl_steps(output)[0].sql[0]
        assert refused(cur, statement.replace("ALGORITHM=INSTANT", "ALGORITHM=INPLACE")) in REFUSED
    checks = run(database, output)
    assert list(checks.values()) == [0]


def test_rename_table_keeps_the_old_name_as_an_updatable_view(database: str) -> None:
    setup(database, BASE)
    output = plan(database, BASE, "RENAME TABLE t TO orders")
    expand = [s for s in output.steps if s.phase == "expand"]
    with admin(database) as conn, conn.cursor() as cur:
        for step in expand:
            for statement in [*step.preamble, *step.sql]:
                cur.execute(statement)
        cur.execute("INSERT INTO t (id, g) VALUES (5, POINT(5, 5))")  # old code, through the view
        cur.execute("SELECT COUNT(*) FROM orders")
        assert cur.fetchone() == (4,)
    run(database, PlannerOutput(steps=[s for s in output.steps if s.phase != "expand"]))
    with admin(database) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s ORDER BY 1",
            (database,),
        )
        assert cur.fetchall() == (("orders", "BASE TABLE"), ("p", "BASE TABLE"))


def test_update_runs_as_keyset_batches(database: str) -> None:
    setup(database, BASE)
    output = plan(database, BASE, "UPDATE t SET a = n * 100 WHERE a < 25")
    assert [s.kind for s in output.steps] == ["script"]
    run(database, output)
    with admin(database) as conn, conn.cursor() as cur:
        cur.execute("SELECT a FROM t ORDER BY id")
        assert cur.fetchall() == ((100,), (200,), (30,))
    assert output.backfill_script is not None and "SHOW SLAVE STATUS" in output.backfill_script
