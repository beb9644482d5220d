"""A planned SQLite rebuild keeps STORED generated columns stored and COLLATE clauses, run for real on a file.

The current schema comes either from the live adapter or from the same DDL through `parse_ddl`: both must give a
rebuild that writes the columns back as they were, without notes asking to fix them by hand.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from dbspecialist.adapters.catalog import Catalog
from dbspecialist.adapters.sqlite import SQLiteAdapter
from dbspecialist.knowledge.migrations.plan import plan_migration
from tests.helpers import make_db, sqlite_conn

pytestmark = pytest.mark.integration

DDL = """
CREATE TABLE item (
    id INTEGER PRIMARY KEY,
    sku TEXT NOT NULL COLLATE NOCASE UNIQUE,
    price TEXT,
    qty INTEGER NOT NULL DEFAULT 1,
    total REAL GENERATED ALWAYS AS (CAST(price AS REAL) * qty) STORED,
    label TEXT AS (lower(sku)) VIRTUAL
);
CREATE INDEX ix_item_total ON item (total);
CREATE TABLE log (item_id INTEGER, sku TEXT);
CREATE TRIGGER trg_item AFTER INSERT ON item BEGIN INSERT INTO log VALUES (new.id, new.sku); END;
"""
ROWS = """
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500)
INSERT INTO item (sku, price, qty) SELECT 'Sku-' || i, CAST(i * 0.25 AS TEXT), 1 + i % 7 FROM n;
"""
CHANGE = "ALTER TABLE item ALTER COLUMN price TYPE REAL;"
SELECT_ALL = "SELECT id, sku, CAST(price AS REAL), qty, total, label FROM item ORDER BY id"


async def _live(path: Path) -> Catalog:
    adapter = SQLiteAdapter(sqlite_conn(path))
    try:
        return await adapter.introspect()
    finally:
        await adapter.close()


@pytest.mark.parametrize("source", ["live", "ddl"])
async def test_rebuild_keeps_stored_generated_columns_and_collation(
    source: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # VACUUM INTO 'backup.db'
    path = make_db(tmp_path / "items.db", DDL + ROWS)
    current = {"catalog": await _live(path)} if source == "live" else {"current_ddl": DDL}
    plan = plan_migration(CHANGE, dialect="sqlite", version=sqlite3.sqlite_version, **current)  # type: ignore[arg-type]
    [rebuild] = [s for s in plan.steps if s.title.startswith("Rebuild item")]
    notes = " ".join(rebuild.notes)  # nothing left to fix by hand
    assert "STORED or VIRTUAL" not in notes and "does not list triggers" not in notes

    con = sqlite3.connect(path, isolation_level=None)
    before = con.execute(SELECT_ALL).fetchall()
    for step in plan.steps:
        for statement in step.sql:
            rows = con.execute(statement).fetchall()
            if statement.startswith("PRAGMA foreign_key_check"):
                assert rows == []

    assert con.execute(SELECT_ALL).fetchall() == before and len(before) == 500
    assert con.execute("SELECT DISTINCT typeof(price) FROM item").fetchall() == [("real",)]
    hidden = {name: kind for _, name, *_, kind in con.execute("SELECT * FROM pragma_table_xinfo('item')")}
    assert (hidden["total"], hidden["label"]) == (3, 2)  # STORED stays stored, VIRTUAL virtual
    assert con.execute("SELECT id FROM item WHERE sku = 'SKU-7'").fetchone() == (7,)  # NOCASE compares
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
        con.execute("INSERT INTO item (sku, price) VALUES ('sku-7', 1)")  # ... and keeps UNIQUE case-blind
    con.execute("INSERT INTO item (sku, price, qty) VALUES ('new', 2, 3)")
    assert con.execute("SELECT total, label FROM item WHERE sku = 'NEW'").fetchone() == (6.0, "new")
    assert con.execute("SELECT item_id FROM log WHERE sku = 'new'").fetchone() == (501,)  # the trigger is back
    assert con.execute("SELECT COUNT(*) FROM log").fetchone() == (501,)  # and the copy did not fire it
    assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    con.close()

    after = (await _live(path)).table("item")
    assert after is not None
    columns = {c.name: (c.collation, c.generated, c.generated_kind) for c in after.columns}
    assert columns["sku"] == ("NOCASE", None, None)
    assert columns["total"] == (None, "CAST(price AS REAL) * qty", "stored")
    assert columns["label"] == (None, "lower(sku)", "virtual")
