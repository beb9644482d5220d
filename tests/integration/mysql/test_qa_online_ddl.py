"""QA findings on MariaDB 10.11: plans made without the schema (offline), from the live catalog of a MyISAM table,
and a VARCHAR shrink — each plan's ALTER must be accepted by the server as written.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator

import pymysql
import pytest

from dbspecialist.adapters.mysql import MySQLAdapter
from dbspecialist.knowledge.ddl.dispatch import parse_ddl
from dbspecialist.knowledge.migrations.context import PlanContext, PlannerOutput
from dbspecialist.knowledge.migrations.model import TableStats
from dbspecialist.knowledge.migrations.mysql_plan import plan_mysql
from tests.integration.mysql.conftest import admin, make_config

pytestmark = pytest.mark.integration

REFUSED = (1845, 1846)
MARIADB_1011 = (10, 11, 0)
SETUP = [
    "CREATE TABLE orders (id BIGINT AUTO_INCREMENT PRIMARY KEY, customer_id INT NOT NULL, status VARCHAR(20), "
    "total DECIMAL(10,2), created_at DATETIME, note TEXT, KEY idx_cust (customer_id), "
    "KEY idx_cust2 (customer_id, status)) ENGINE=InnoDB",
    "CREATE TABLE logs (id INT PRIMARY KEY, msg VARCHAR(100)) ENGINE=MyISAM",
    "INSERT INTO orders (customer_id, status, total, created_at, note) VALUES "
    "(1, 'paid', 10, NOW(), 'x'), (2, 'shipped', 20, NOW(), 'y'), (3, NULL, 30, NOW(), NULL)",
    "INSERT INTO logs VALUES (1, 'm')",
]


@pytest.fixture
def database(mysql_server: None) -> Iterator[str]:
    name = f"dbspecialist_qa_{secrets.token_hex(3)}"
    with admin() as conn, conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE `{name}`")
    try:
        with admin(name) as conn, conn.cursor() as cur:
            for statement in SETUP:
                cur.execute(statement)
        yield name
    finally:
        with admin() as conn, conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")


def offline(change: str) -> PlannerOutput:
    """No schema, as plan_migration(dialect='mariadb', version='10.11') without current_ddl; small tables."""
    stats = {"orders": TableStats(rows=3), "logs": TableStats(rows=1)}
    ctx = PlanContext(dialect="mariadb", version=MARIADB_1011, version_given=True, stats=stats)
    return plan_mysql(change, ctx)


def alters(output: PlannerOutput) -> list[str]:
    return [q for s in output.steps if s.kind == "sql" for q in s.sql if "ALGORITHM=" in q]


def accepted(database: str, statements: list[str]) -> None:
    with admin(database) as conn, conn.cursor() as cur:
        for statement in statements:
            cur.execute(statement)


@pytest.mark.parametrize(
    "change",
    [
        "ALTER TABLE orders MODIFY total DECIMAL(12,2)",
        "ALTER TABLE orders MODIFY note MEDIUMTEXT",
        "ALTER TABLE orders MODIFY customer_id BIGINT NOT NULL",
        "ALTER TABLE orders MODIFY created_at TIMESTAMP NULL",
        "ALTER TABLE orders MODIFY status VARCHAR(10)",
        "ALTER TABLE orders MODIFY status VARCHAR(20) NOT NULL",
        "ALTER TABLE orders DROP COLUMN status",
        "ALTER TABLE orders DROP COLUMN note",
    ],
)
def test_offline_plans_run_as_labelled(database: str, change: str) -> None:
    # QA defects 1 and 3: these offline labels were INSTANT/NOCOPY/INPLACE and the server refused them
    output = offline(change)
    statements = alters(output)
    assert len(statements) == 1 and not any(s.kind == "command" for s in output.steps)
    with admin(database) as conn, conn.cursor() as cur:
        cur.execute("UPDATE orders SET status = 'new' WHERE status IS NULL")
    accepted(database, statements)


def test_offline_modify_names_the_online_attempt_which_the_server_refuses_safely(database: str) -> None:
    output = offline("ALTER TABLE orders MODIFY total DECIMAL(12,2)")
    (step,) = [s for s in output.steps if s.kind == "sql"]
    assert step.blocks_writes and "ALGORITHM=COPY, LOCK=SHARED" in step.sql[0]
    attempt = re.search(r"try first (ALTER TABLE .*?;)", " ".join(step.notes))
    assert attempt is not None
    with admin(database) as conn, conn.cursor() as cur, pytest.raises(pymysql.err.MySQLError) as caught:
        cur.execute(attempt.group(1))
    assert caught.value.args[0] in REFUSED


async def test_live_catalog_knows_the_engine(database: str) -> None:
    # QA defect 2: ADD COLUMN on a MyISAM table was planned INSTANT, LOCK=NONE from the live catalog
    adapter = MySQLAdapter(make_config(database))
    try:
        catalog = await adapter.introspect()
    finally:
        await adapter.close()
    ctx = PlanContext(
        dialect="mariadb", version=MARIADB_1011, version_given=True, stats={"logs": TableStats(rows=1)}, catalog=catalog
    )
    output = plan_mysql("ALTER TABLE logs ADD COLUMN x INT", ctx)
    assert alters(output) == ["ALTER TABLE logs ADD COLUMN x INT, ALGORITHM=COPY, LOCK=SHARED;"]
    assert any("MyISAM" in n for n in output.notes)
    accepted(database, alters(output))
    # the composite-index drop from the live catalog too (defect 1, live)
    ctx = PlanContext(
        dialect="mariadb",
        version=MARIADB_1011,
        version_given=True,
        stats={"orders": TableStats(rows=3)},
        catalog=catalog,
    )
    drop = plan_mysql("ALTER TABLE orders DROP COLUMN status", ctx)
    assert alters(drop) == ["ALTER TABLE orders DROP COLUMN status, ALGORITHM=INPLACE, LOCK=NONE;"]
    accepted(database, alters(drop))


def test_varchar_shrink_checks_for_longer_values_first(database: str) -> None:
    catalog = parse_ddl(";\n".join(SETUP[:2]) + ";", "mysql").catalog
    ctx = PlanContext(
        dialect="mariadb",
        version=MARIADB_1011,
        version_given=True,
        stats={"orders": TableStats(rows=3)},
        catalog=catalog,
    )
    output = plan_mysql("ALTER TABLE orders MODIFY status VARCHAR(4)", ctx)
    check, alter = [s for s in output.steps if s.kind in ("check", "sql")]
    assert check.kind == "check" and check.sql == ["SELECT COUNT(*) FROM orders WHERE CHAR_LENGTH(status) > 4;"]
    with admin(database) as conn, conn.cursor() as cur:
        cur.execute(check.sql[0])
        assert cur.fetchone() == (1,)  # 'shipped'
        with pytest.raises(pymysql.err.MySQLError) as caught:
            cur.execute(alter.sql[0])
        assert caught.value.args[0] == 1265  # strict sql_mode: Data truncated
        cur.execute("UPDATE orders SET status = 'ship' WHERE CHAR_LENGTH(status) > 4")
        cur.execute(check.sql[0])
        assert cur.fetchone() == (0,)
        cur.execute(alter.sql[0])
