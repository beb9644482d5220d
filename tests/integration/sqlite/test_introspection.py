"""SQLite introspection returns the shared catalog model exactly, in a fixed number of round trips."""

from __future__ import annotations

from pathlib import Path

from dbspecialist.adapters.sqlite import SQLiteAdapter
from tests.helpers import make_db, sqlite_conn

SCHEMA = """
CREATE TABLE parent (
    id INTEGER PRIMARY KEY, code TEXT NOT NULL UNIQUE, kind TEXT DEFAULT 'a' CHECK (kind IN ('a','b'))
);
CREATE TABLE child (
    a INTEGER NOT NULL,
    b INTEGER NOT NULL,
    parent_id INTEGER REFERENCES parent(id) ON DELETE CASCADE,
    total REAL,
    doubled REAL GENERATED ALWAYS AS (total * 2) VIRTUAL,
    PRIMARY KEY (a, b)
) WITHOUT ROWID;
CREATE INDEX ix_child_total ON child (total DESC) WHERE total > 0;
CREATE INDEX ix_child_expr ON child (lower(parent_id), a);
CREATE VIEW v_child AS SELECT a, b FROM child;
CREATE TRIGGER trg_parent AFTER INSERT ON parent BEGIN SELECT 1; END;
INSERT INTO parent (code) VALUES ('x'), ('y'), ('z');
"""


async def test_catalog_matches_what_was_created(tmp_path: Path) -> None:
    db = make_db(tmp_path / "k.db", SCHEMA)
    adapter = SQLiteAdapter(sqlite_conn(db))
    try:
        catalog = await adapter.introspect()
    finally:
        await adapter.close()
    assert catalog.engine == "sqlite" and catalog.schemas == ["main"]
    assert sorted(t.name for t in catalog.tables) == ["child", "parent", "v_child"]

    parent = catalog.table("parent")
    assert parent is not None and parent.kind == "table"
    assert parent.primary_key is not None and parent.primary_key.columns == ["id"]
    assert parent.row_estimate == 3 and parent.row_estimate_source == "count"
    code = next(c for c in parent.columns if c.name == "code")
    assert code.data_type == "TEXT" and code.nullable is False
    kind = next(c for c in parent.columns if c.name == "kind")
    assert kind.default == "'a'"
    assert [u.columns for u in parent.unique_constraints] == [["code"]]
    assert [c.expression for c in parent.check_constraints] == ["kind IN ('a','b')"]
    assert [t.name for t in parent.triggers] == ["trg_parent"]
    assert parent.triggers[0].timing == "AFTER" and parent.triggers[0].events == ["INSERT"]

    child = catalog.table("child")
    assert child is not None
    assert child.options.get("without_rowid") == "true"
    assert child.primary_key is not None and child.primary_key.columns == ["a", "b"]
    [fk] = child.foreign_keys
    assert (fk.columns, fk.ref_table, fk.ref_columns, fk.on_delete) == (["parent_id"], "parent", ["id"], "cascade")
    doubled = next(c for c in child.columns if c.name == "doubled")
    assert doubled.generated == "total * 2"
    by_name = {i.name: i for i in child.indexes}
    assert by_name["ix_child_total"].predicate == "total > 0"
    assert by_name["ix_child_total"].columns == ["total DESC"]
    assert by_name["ix_child_expr"].columns == ["lower(parent_id)", "a"]

    view = catalog.table("v_child")
    assert view is not None and view.kind == "view" and "SELECT a, b FROM child" in (view.definition or "")
    assert [c.name for c in view.columns] == ["a", "b"]


async def test_round_trips_do_not_grow_with_table_count(tmp_path: Path) -> None:
    small = make_db(tmp_path / "s.db", "CREATE TABLE t0 (id INTEGER PRIMARY KEY); ANALYZE;")
    many = "".join(
        f"CREATE TABLE t{i} (id INTEGER PRIMARY KEY, p INTEGER REFERENCES t0(id)); CREATE INDEX ix{i} ON t{i}(p);"
        for i in range(300)
    )
    large = make_db(tmp_path / "l.db", many + "ANALYZE;")
    trips = []
    for db in (small, large):
        adapter = SQLiteAdapter(sqlite_conn(db))
        try:
            catalog = await adapter.introspect()
        finally:
            await adapter.close()
        trips.append(catalog.round_trips)
    assert trips[0] == trips[1] and trips[0] is not None and trips[0] <= 8


async def test_sample_has_its_design_flaws_visible(sample_config: object) -> None:
    adapter = SQLiteAdapter(sample_config)  # type: ignore[arg-type]
    try:
        catalog = await adapter.introspect()
    finally:
        await adapter.close()
    items = catalog.table("order_items")
    assert items is not None and items.row_estimate == 8100 and items.row_estimate_source == "statistics"
    indexed_first = {i.columns[0] for i in items.indexes}
    assert any(fk.columns == ["product_id"] for fk in items.foreign_keys)
    assert "product_id" not in indexed_first  # the unindexed foreign key later rules will flag
    customers = catalog.table("customers")
    assert customers is not None and len(customers.columns) >= 25
