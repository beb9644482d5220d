"""The SQLite 12-step rebuild the planner writes, run for real on a file with foreign keys, indexes and triggers.

The catalog comes from the real SQLite adapter. The plan's steps are executed in order on one connection (as the
plan requires); a second connection checks the lock claim while the rebuild transaction is open: in WAL mode it
can still read (the old rows) and cannot write. The last test plans from a target schema: diff_schemas writes the
rebuild block itself, and the plan must run it with foreign keys off so the parent's DROP TABLE cascades nowhere.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from dbspecialist.adapters.catalog import Catalog
from dbspecialist.adapters.sqlite import SQLiteAdapter
from dbspecialist.knowledge.migrations.context import PlanContext
from dbspecialist.knowledge.migrations.plan import plan_migration
from dbspecialist.knowledge.migrations.sqlite_plan import plan_sqlite
from tests.helpers import make_db, sqlite_conn

pytestmark = pytest.mark.integration

SCHEMA = """
PRAGMA journal_mode = WAL;
CREATE TABLE parent (id INTEGER PRIMARY KEY AUTOINCREMENT, code TEXT NOT NULL UNIQUE);
CREATE TABLE child (
    id INTEGER PRIMARY KEY,
    parent_id INTEGER NOT NULL REFERENCES parent(id) ON DELETE CASCADE,
    amount TEXT,
    note TEXT DEFAULT 'none'
);
CREATE INDEX ix_child_parent ON child (parent_id);
CREATE INDEX ix_child_amount ON child (amount DESC) WHERE amount IS NOT NULL;
CREATE TABLE audit (child_id INTEGER, at TEXT);
CREATE TRIGGER trg_child_insert AFTER INSERT ON child BEGIN INSERT INTO audit VALUES (new.id, 'insert'); END;
CREATE TRIGGER trg_parent_delete AFTER DELETE ON parent BEGIN INSERT INTO audit SELECT COUNT(*), 'left' FROM child; END;
CREATE VIEW v_child_totals AS SELECT parent_id, SUM(amount) AS total FROM child GROUP BY parent_id;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 40)
INSERT INTO parent (code) SELECT 'p' || i FROM n;
DELETE FROM parent WHERE code = 'p40';
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)
INSERT INTO child (parent_id, amount, note) SELECT 1 + i % 39, CAST(i * 1.5 AS TEXT), 'n' || i FROM n;
"""
CHANGE = (
    "ALTER TABLE child ALTER COLUMN amount TYPE REAL;\n"
    "ALTER TABLE child ADD CONSTRAINT amount_not_negative CHECK (amount >= 0);"
)


async def _catalog(path: Path) -> Catalog:
    adapter = SQLiteAdapter(sqlite_conn(path))
    try:
        return await adapter.introspect()
    finally:
        await adapter.close()


def _schema(con: sqlite3.Connection) -> dict[str, tuple[str, str]]:
    rows = con.execute("SELECT name, type, tbl_name FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%'").fetchall()
    return {name: (kind, table) for name, kind, table in rows}


async def test_rebuild_keeps_rows_keys_indexes_and_triggers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # VACUUM INTO 'backup.db' writes next to the test database
    path = make_db(tmp_path / "shop.db", SCHEMA)
    catalog = await _catalog(path)
    ctx = PlanContext(dialect="sqlite", version=(3, 35, 5), version_given=True, catalog=catalog)
    out = plan_sqlite(CHANGE, ctx)
    [rebuild] = [s for s in out.steps if s.title.startswith("Rebuild child")]
    assert [(s.phase, s.transactional) for s in out.steps] == [
        ("prepare", False),
        ("expand", True),
        ("expand", True),
        ("expand", False),
        ("expand", True),
        ("expand", False),
    ]

    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA foreign_keys = ON")  # as the application runs
    before_rows = con.execute("SELECT id, parent_id, CAST(amount AS REAL), note FROM child ORDER BY id").fetchall()
    before_schema = _schema(con)
    audit_before = con.execute("SELECT COUNT(*) FROM audit").fetchone()
    probe = sqlite3.connect(path, isolation_level=None, timeout=0)

    for step in out.steps:
        for statement in step.sql:
            rows = con.execute(statement).fetchall()
            if step.kind == "check" and statement.startswith("SELECT COUNT(*)"):
                assert rows == [(0,)]
            if statement.startswith("PRAGMA foreign_key_check"):
                assert rows == []
            if step is rebuild and statement.startswith("ALTER TABLE new_child RENAME"):
                # the lock claim: readers continue in WAL mode (and see the old table), writers are refused
                assert probe.execute("SELECT typeof(amount) FROM child LIMIT 1").fetchone() == ("text",)
                with pytest.raises(sqlite3.OperationalError, match="locked"):
                    probe.execute("INSERT INTO audit VALUES (0, 'probe')")

    after_rows = con.execute("SELECT id, parent_id, amount, note FROM child ORDER BY id").fetchall()
    assert len(after_rows) == 3000 and after_rows == before_rows
    assert con.execute("SELECT DISTINCT typeof(amount) FROM child").fetchall() == [("real",)]
    assert _schema(con) == before_schema  # same tables, indexes, triggers and views, on the same tables
    assert con.execute("SELECT sql FROM sqlite_schema WHERE name = 'ix_child_amount'").fetchone() == (
        "CREATE INDEX ix_child_amount ON child (amount DESC) WHERE amount IS NOT NULL",
    )
    assert con.execute("PRAGMA foreign_key_check").fetchall() == []
    assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert con.execute("PRAGMA foreign_keys").fetchone() == (1,)
    assert con.execute("SELECT COUNT(*) FROM audit").fetchone() == audit_before  # the copy fired no trigger
    assert con.execute("SELECT seq FROM sqlite_sequence WHERE name = 'parent'").fetchone() == (40,)

    # the new CHECK, the foreign key, the trigger and the view all work on the rebuilt table
    with pytest.raises(sqlite3.IntegrityError, match="CHECK constraint failed"):
        con.execute("INSERT INTO child (parent_id, amount) VALUES (1, -5)")
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY constraint failed"):
        con.execute("INSERT INTO child (parent_id, amount) VALUES (999, 5)")
    con.execute("INSERT INTO child (id, parent_id, amount) VALUES (5000, 2, 7.5)")
    assert con.execute("SELECT at FROM audit WHERE child_id = 5000").fetchone() == ("insert",)
    con.execute("DELETE FROM parent WHERE id = 2")  # ON DELETE CASCADE still applies
    assert con.execute("SELECT COUNT(*) FROM child WHERE parent_id = 2").fetchone() == (0,)
    assert con.execute("SELECT total FROM v_child_totals WHERE parent_id = 1").fetchone() is not None
    assert con.execute("EXPLAIN QUERY PLAN SELECT * FROM child WHERE parent_id = 3").fetchall()[0][3] == (
        "SEARCH child USING INDEX ix_child_parent (parent_id=?)"
    )

    # the backup taken first still has the old definition: the way back after COMMIT
    backup = sqlite3.connect(tmp_path / "backup.db")
    assert backup.execute("SELECT DISTINCT typeof(amount) FROM child").fetchall() == [("text",)]
    assert backup.execute("SELECT COUNT(*) FROM child").fetchone() == (3000,)
    for connection in (backup, probe, con):
        connection.close()


async def test_rebuild_rolls_back_whole_when_a_row_breaks_the_new_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    path = make_db(tmp_path / "bad.db", SCHEMA + "UPDATE child SET amount = '-1' WHERE id = 7;")
    out = plan_sqlite(
        CHANGE,
        PlanContext(dialect="sqlite", version=(3, 45, 0), version_given=True, catalog=await _catalog(path)),
    )
    [check] = [s for s in out.steps if s.kind == "check" and s.sql[0].startswith("SELECT COUNT(*)")]
    [rebuild] = [s for s in out.steps if s.title.startswith("Rebuild child")]
    con = sqlite3.connect(path, isolation_level=None)
    assert con.execute(check.sql[0]).fetchone() == (1,)  # the pre-check finds the row
    schema = _schema(con)
    with pytest.raises(sqlite3.IntegrityError, match="CHECK constraint failed"):
        for statement in rebuild.sql:
            con.execute(statement)
    con.execute(rebuild.rollback[0].split(";")[0])  # ROLLBACK
    assert _schema(con) == schema
    assert con.execute("SELECT typeof(amount), COUNT(*) FROM child GROUP BY 1").fetchall() == [("text", 3000)]
    con.close()


CURRENT_DDL = """
CREATE TABLE parent (id INTEGER PRIMARY KEY AUTOINCREMENT, code TEXT NOT NULL UNIQUE, region TEXT);
CREATE TABLE child (
    id INTEGER PRIMARY KEY,
    parent_id INTEGER NOT NULL REFERENCES parent(id) ON DELETE CASCADE,
    amount TEXT,
    note TEXT
);
CREATE INDEX ix_child_parent ON child (parent_id);
CREATE VIEW v_parent AS SELECT id, code FROM parent;
"""
TARGET_DDL = CURRENT_DDL.replace(
    "region TEXT)", "region TEXT NOT NULL DEFAULT 'eu' CHECK (length(region) = 2))"
).replace("amount TEXT", "amount REAL")
ROWS = """
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 30)
INSERT INTO parent (code, region) SELECT 'p' || i, 'r' || (i % 10) FROM n;
DELETE FROM parent WHERE id = 30;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
INSERT INTO child (parent_id, amount, note) SELECT 1 + i % 29, CAST(i * 0.5 AS TEXT), 'n' || i FROM n;
"""


def test_a_rebuild_planned_from_target_ddl_keeps_the_child_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # VACUUM INTO 'backup.db'
    path = make_db(tmp_path / "diffed.db", CURRENT_DDL + ROWS)
    plan = plan_migration(
        target_ddl=TARGET_DDL, current_ddl=CURRENT_DDL, dialect="sqlite", version=sqlite3.sqlite_version
    )
    assert plan.generated_from_diff and "DROP TABLE parent" in plan.statements  # the block diff_schemas wrote
    assert plan.statements[:2] == ["PRAGMA foreign_keys = OFF", "BEGIN"]
    assert not any(step.kind == "deploy" or step.title.startswith("Drop table") for step in plan.steps)
    [at] = [i for i, step in enumerate(plan.steps) if step.title.startswith("Rebuild ")]
    rebuild = plan.steps[at]
    assert rebuild.title.startswith("Rebuild child, parent as written")
    assert plan.steps[at - 1].sql == ["PRAGMA foreign_keys = OFF;"] and not plan.steps[at - 1].transactional
    assert plan.steps[at + 1].sql == ["PRAGMA foreign_keys = ON;"] and plan.steps[0].sql == ["VACUUM INTO 'backup.db';"]
    assert "MIG156" not in {finding.rule_id for finding in plan.findings}

    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA foreign_keys = ON")  # as the application runs
    children = con.execute("SELECT id, parent_id, CAST(amount AS REAL), note FROM child ORDER BY id").fetchall()
    parents = con.execute("SELECT id, code, region FROM parent ORDER BY id").fetchall()
    for step in plan.steps:
        for statement in step.sql:
            rows = con.execute(statement).fetchall()
            if step.kind == "check" and statement.startswith("SELECT COUNT(*)"):
                assert rows == [(0,)]
            if statement.startswith("PRAGMA foreign_key_check"):
                assert rows == []

    assert len(children) == 2000
    assert con.execute("SELECT id, parent_id, amount, note FROM child ORDER BY id").fetchall() == children
    assert con.execute("SELECT DISTINCT typeof(amount) FROM child").fetchall() == [("real",)]
    assert con.execute("SELECT id, code, region FROM parent ORDER BY id").fetchall() == parents
    assert con.execute("PRAGMA foreign_key_check").fetchall() == []
    assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert con.execute("PRAGMA foreign_keys").fetchone() == (1,)
    assert con.execute("SELECT seq FROM sqlite_sequence WHERE name = 'parent'").fetchone() == (30,)
    assert con.execute("SELECT COUNT(*) FROM v_parent").fetchone() == (29,)
    with pytest.raises(sqlite3.IntegrityError, match="CHECK constraint failed"):
        con.execute("INSERT INTO parent (code, region) VALUES ('x', 'toolong')")
    con.execute("DELETE FROM parent WHERE id = 2")  # the children's ON DELETE CASCADE still applies
    assert con.execute("SELECT COUNT(*) FROM child WHERE parent_id = 2").fetchone() == (0,)
    con.close()
