"""The live SQLite adapter and `parse_ddl` give the same COLLATE, generated columns and triggers for one schema.

The schema is created in a real file and read back by the adapter; the same text goes through the offline
parser. A diff applied for real then makes the file match a second schema, read back the same way.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from dbspecialist.adapters.catalog import Catalog
from dbspecialist.adapters.sqlite import SQLiteAdapter
from dbspecialist.knowledge.ddl.dispatch import parse_ddl
from dbspecialist.knowledge.migrations.diff import diff_schemas
from dbspecialist.knowledge.migrations.plan import plan_migration
from tests.helpers import make_db, sqlite_conn

pytestmark = pytest.mark.integration

SCHEMA = """
CREATE TABLE "Line Item" (
    id INTEGER PRIMARY KEY,
    sku TEXT NOT NULL COLLATE NOCASE,
    price DECIMAL(10,2) NOT NULL,
    qty INTEGER DEFAULT 1,
    total REAL GENERATED ALWAYS AS (round(price * qty, 2)) STORED,
    label TEXT AS (upper(sku) || '-' || (qty + 1)) VIRTUAL,
    [note text] TEXT COLLATE "RTRIM" CHECK (length([note text]) < 50),
    UNIQUE (sku, price)
);
CREATE TABLE audit (item INTEGER, what TEXT);
ALTER TABLE audit ADD COLUMN who TEXT COLLATE nocase;
ALTER TABLE audit ADD COLUMN loud TEXT AS (upper(who));
CREATE VIEW v_items AS SELECT id, sku FROM "Line Item";
create  trigger if not exists main.trg_insert after insert on "Line Item"
begin insert into audit (item, what) values (new.id, 'insert;'); end;
CREATE TRIGGER trg_price UPDATE OF price, qty ON "Line Item" WHEN new.price < 0
BEGIN SELECT RAISE(ABORT, 'negative'); END;
CREATE TRIGGER "trg delete" BEFORE DELETE ON "Line Item" FOR EACH ROW
BEGIN INSERT INTO audit (item, what) SELECT old.id, CASE WHEN old.qty > 1 THEN 'many' ELSE 'one' END; END;
CREATE TRIGGER trg_view INSTEAD OF INSERT ON v_items
BEGIN INSERT INTO "Line Item" (sku, price) VALUES (new.sku, 0); END;
"""


async def _live(path: Path) -> Catalog:
    adapter = SQLiteAdapter(sqlite_conn(path))
    try:
        return await adapter.introspect()
    finally:
        await adapter.close()


def _facts(catalog: Catalog) -> dict[str, Any]:
    """Per table: each column's collation and generated expression/kind, each trigger as the catalog has it.

    A view's columns are left out: DDL alone cannot tell them.
    """
    return {
        t.name: {
            "columns": [(c.name, c.collation, c.generated, c.generated_kind) for c in t.columns if t.kind == "table"],
            "triggers": [(tr.name, tr.timing, tr.events, tr.definition) for tr in t.triggers],
        }
        for t in sorted(catalog.tables, key=lambda t: t.name)
    }


async def test_live_adapter_and_parse_ddl_agree(tmp_path: Path) -> None:
    live = await _live(make_db(tmp_path / "parity.db", SCHEMA))
    parsed = parse_ddl(SCHEMA, "sqlite")
    assert parsed.warnings == []
    assert _facts(live) == _facts(parsed.catalog)

    items = _facts(live)["Line Item"]
    assert items["columns"] == [
        ("id", None, None, None),
        ("sku", "NOCASE", None, None),
        ("price", None, None, None),
        ("qty", None, None, None),
        ("total", None, "round(price * qty, 2)", "stored"),
        ("label", None, "upper(sku) || '-' || (qty + 1)", "virtual"),
        ("note text", "RTRIM", None, None),
    ]
    assert items["triggers"] == [
        ("trg delete", "BEFORE", ["DELETE"],
         'CREATE TRIGGER "trg delete" BEFORE DELETE ON "Line Item" FOR EACH ROW\nBEGIN INSERT INTO audit (item, '
         "what) SELECT old.id, CASE WHEN old.qty > 1 THEN 'many' ELSE 'one' END; END"),
        ("trg_insert", "AFTER", ["INSERT"],
         "CREATE TRIGGER trg_insert after insert on \"Line Item\"\nbegin insert into audit (item, what) values "
         "(new.id, 'insert;'); end"),
        ("trg_price", "BEFORE", ["UPDATE"],
         "CREATE TRIGGER trg_price UPDATE OF price, qty ON \"Line Item\" WHEN new.price < 0\nBEGIN SELECT "
         "RAISE(ABORT, 'negative'); END"),
    ]  # fmt: skip
    assert _facts(live)["audit"]["columns"][2:] == [
        ("who", "nocase", None, None),
        ("loud", None, "upper(who)", "virtual"),
    ]
    assert _facts(live)["v_items"]["triggers"][0][:3] == ("trg_view", "INSTEAD OF", ["INSERT"])


AUDIT_TRIGGERS = """
CREATE TRIGGER trg_audit_loud AFTER UPDATE ON audit BEGIN SELECT new.loud; END;
CREATE TRIGGER trg_audit_mark AFTER INSERT ON audit BEGIN UPDATE audit SET what = 'x' WHERE item = -1; END;
"""
TARGET = (
    SCHEMA.replace("sku TEXT NOT NULL COLLATE NOCASE", "sku TEXT NOT NULL")
    .replace("GENERATED ALWAYS AS (round(price * qty, 2)) STORED", "GENERATED ALWAYS AS (round(price * qty, 2))")
    .replace("WHEN new.price < 0", "WHEN new.price <= 0")
    .replace('CREATE TRIGGER "trg delete"', "CREATE TRIGGER trg_gone")
    .replace("ALTER TABLE audit ADD COLUMN loud TEXT AS (upper(who));", "")
    + "CREATE TRIGGER trg_audit_mark AFTER INSERT ON audit BEGIN UPDATE audit SET what = 'y' WHERE item = -1; END;\n"
    + "CREATE TABLE extra (a INTEGER, b INTEGER AS (a * 2) STORED);\n"
    + "CREATE TRIGGER trg_extra AFTER INSERT ON extra BEGIN INSERT INTO audit (item) VALUES (new.b); END;\n"
)


async def test_a_diff_planned_and_run_for_real_reaches_the_target(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """COLLATE dropped and STORED → VIRTUAL rebuild the table with the target's triggers; the other table's
    triggers are changed, added and dropped (before the column one of them reads)."""
    monkeypatch.chdir(tmp_path)  # VACUUM INTO 'backup.db'
    rows = "INSERT INTO \"Line Item\" (sku, price, qty, [note text]) VALUES ('ab', 2.5, 3, 'n ');"
    path = make_db(tmp_path / "diff.db", SCHEMA + AUDIT_TRIGGERS + rows)
    target = parse_ddl(TARGET, "sqlite").catalog
    assert diff_schemas(target, target, "sqlite") == []
    statements = diff_schemas(await _live(path), target, "sqlite")
    audit = [s for s in statements if "trg_audit" in s or s.startswith("ALTER TABLE audit")]
    assert audit == [
        "DROP TRIGGER trg_audit_mark",
        "CREATE TRIGGER trg_audit_mark AFTER INSERT ON audit BEGIN UPDATE audit SET what = 'y' WHERE item = -1; END",
        "DROP TRIGGER trg_audit_loud",
        "ALTER TABLE audit DROP COLUMN loud",
    ]
    assert not any(s.startswith('DROP TRIGGER "trg delete"') for s in statements)  # went with the old table

    plan = plan_migration(
        target_ddl=TARGET, catalog=await _live(path), dialect="sqlite", version=sqlite3.sqlite_version
    )
    con = sqlite3.connect(path, isolation_level=None)
    before = con.execute('SELECT id, sku, price, qty, total, label, [note text] FROM "Line Item"').fetchall()
    for step in plan.steps:
        for statement in step.sql:
            con.execute(statement)
    assert con.execute('SELECT id, sku, price, qty, total, label, [note text] FROM "Line Item"').fetchall() == before
    hidden = {r[1]: r[6] for r in con.execute("SELECT * FROM pragma_table_xinfo('Line Item')")}
    assert (hidden["total"], hidden["label"]) == (2, 2)  # VIRTUAL now
    con.execute("INSERT INTO extra (a) VALUES (21)")  # the new table's trigger
    assert con.execute("SELECT item FROM audit WHERE item = 42").fetchone() == (42,)
    con.close()
    live = await _live(path)
    assert _facts(live) == _facts(target)
    assert diff_schemas(live, target, "sqlite") == []
