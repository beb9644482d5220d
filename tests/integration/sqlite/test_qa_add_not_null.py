"""QA: ADD COLUMN ... NOT NULL without a default, which SQLite refuses, planned as add nullable → backfill →
rebuild with NOT NULL, and run for real (the placeholder replaced, as the step says)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from dbspecialist.adapters.catalog import Catalog
from dbspecialist.adapters.sqlite import SQLiteAdapter
from dbspecialist.knowledge.migrations.context import PlanContext
from dbspecialist.knowledge.migrations.sqlite_alter import PLACEHOLDER
from dbspecialist.knowledge.migrations.sqlite_plan import plan_sqlite
from tests.helpers import make_db, sqlite_conn

pytestmark = pytest.mark.integration

SCHEMA = """
CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL REFERENCES customers(id), status TEXT);
CREATE INDEX ix_orders_customer ON orders (customer_id);
INSERT INTO customers VALUES (1, 'a'), (2, 'b');
INSERT INTO orders VALUES (1, 1, 'paid'), (2, 2, 'new'), (3, 1, NULL);
"""


async def _catalog(path: Path) -> Catalog:
    adapter = SQLiteAdapter(sqlite_conn(path))
    try:
        return await adapter.introspect()
    finally:
        await adapter.close()


async def test_not_null_column_without_default_runs_through_backfill_and_rebuild(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # VACUUM INTO 'backup.db' writes next to the test database
    path = make_db(tmp_path / "shop.db", SCHEMA)
    ctx = PlanContext(dialect="sqlite", version=(3, 40, 0), version_given=True, catalog=await _catalog(path))
    change = "ALTER TABLE orders ADD COLUMN flag INTEGER NOT NULL;"
    out = plan_sqlite(change, ctx)
    con = sqlite3.connect(path, isolation_level=None)
    with pytest.raises(sqlite3.OperationalError, match="Cannot add a NOT NULL column with default value NULL"):
        con.execute(change)  # what the plan must avoid

    sql_steps = [s for s in out.steps if s.kind == "sql"]
    assert sql_steps[1].sql == ["ALTER TABLE orders ADD COLUMN flag INTEGER;"]
    assert any(s.kind == "deploy" for s in out.steps)
    [backfill] = [s for s in out.steps if PLACEHOLDER in " ".join(s.sql)]
    assert [s.title.startswith("Rebuild orders") for s in out.steps].count(True) == 1

    for step in out.steps:
        for statement in step.sql:
            rows = con.execute(statement.replace(PLACEHOLDER, "0")).fetchall()
            if step.kind == "check" and statement.startswith("SELECT COUNT(*)"):
                assert rows == [(0,)]
            if statement.startswith("PRAGMA foreign_key_check"):
                assert rows == []
    assert backfill.phase in ("expand", "backfill")
    assert con.execute("SELECT id, flag FROM orders ORDER BY id").fetchall() == [(1, 0), (2, 0), (3, 0)]
    assert con.execute("SELECT \"notnull\" FROM pragma_table_info('orders') WHERE name = 'flag'").fetchone() == (1,)
    with pytest.raises(sqlite3.IntegrityError, match="NOT NULL"):
        con.execute("INSERT INTO orders (id, customer_id) VALUES (9, 1)")
    assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert con.execute("SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'orders'").fetchall() == [
        ("ix_orders_customer",)
    ]
