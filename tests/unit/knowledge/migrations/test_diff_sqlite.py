"""SQLite schema diff: COLLATE as SQLite applies it, STORED vs VIRTUAL generated columns, and triggers."""

from __future__ import annotations

from dbspecialist.knowledge.ddl.dispatch import parse_ddl
from dbspecialist.knowledge.migrations.diff import diff_schemas

TABLE = "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT{collate}, g INT AS (length(a)){kind});\n"
TRIGGER = "CREATE TRIGGER trg AFTER INSERT ON t BEGIN SELECT {value}; END;\n"


def _diff(current: str, target: str) -> list[str]:
    return diff_schemas(parse_ddl(current, "sqlite").catalog, parse_ddl(target, "sqlite").catalog, "sqlite")


def _table(collate: str = "", kind: str = "") -> str:
    return TABLE.format(collate=collate, kind=kind)


def _rebuilt_table(statements: list[str]) -> str:
    [create] = [s for s in statements if s.startswith("CREATE TABLE new_t")]
    return create


def test_collation_compares_as_sqlite_applies_it() -> None:
    assert _diff(_table(" COLLATE NOCASE"), _table(" COLLATE nocase")) == []
    assert _diff(_table(), _table(" COLLATE BINARY")) == []
    added = _rebuilt_table(_diff(_table(), _table(" COLLATE NOCASE")))
    assert "a text COLLATE NOCASE," in added
    removed = _rebuilt_table(_diff(_table(" COLLATE NOCASE"), _table()))
    assert "COLLATE" not in removed


def test_stored_and_virtual_generated_columns() -> None:
    assert _diff(_table(kind=" STORED"), _table(kind=" STORED")) == []
    assert _diff(_table(kind=" VIRTUAL"), _table()) == []  # VIRTUAL is the default
    to_stored = _rebuilt_table(_diff(_table(), _table(kind=" STORED")))
    assert "g int GENERATED ALWAYS AS (length(a)) STORED," in to_stored
    to_virtual = _rebuilt_table(_diff(_table(kind=" STORED"), _table(kind=" VIRTUAL")))
    assert "g int GENERATED ALWAYS AS (length(a))," in to_virtual
    created = _diff("", _table(kind=" STORED"))
    assert "GENERATED ALWAYS AS (length(a)) STORED" in created[0]


def test_trigger_changes_of_a_table_that_is_not_rebuilt() -> None:
    current = _table() + TRIGGER.format(value=1) + "CREATE TRIGGER old AFTER DELETE ON t BEGIN SELECT a; END;\n"
    spelled_otherwise = _table() + TRIGGER.format(value=1).replace("SELECT 1", "select   1").replace("AFTER", "after")
    assert _diff(current, spelled_otherwise + "CREATE TRIGGER old AFTER DELETE ON t BEGIN SELECT a; END;") == []

    target = _table().replace(", g INT", ", b TEXT, g INT") + TRIGGER.format(value=2)
    target += "CREATE TRIGGER fresh BEFORE UPDATE OF a ON t BEGIN SELECT 3; END;\n"
    assert _diff(current, target) == [
        "ALTER TABLE t ADD COLUMN b text",
        "CREATE TRIGGER fresh BEFORE UPDATE OF a ON t BEGIN SELECT 3; END",
        "DROP TRIGGER trg",
        "CREATE TRIGGER trg AFTER INSERT ON t BEGIN SELECT 2; END",
        "DROP TRIGGER old",
    ]


def test_dropped_trigger_goes_before_the_column_it_reads() -> None:
    current = (
        _table().replace(", g INT", ", b TEXT, g INT")
        + "CREATE TRIGGER uses_b AFTER UPDATE ON t BEGIN SELECT new.b; END;"
    )
    assert _diff(current, _table()) == ["DROP TRIGGER uses_b", "ALTER TABLE t DROP COLUMN b"]


def test_a_rebuilt_table_gets_the_targets_triggers_and_a_new_table_its_own() -> None:
    current = _table() + TRIGGER.format(value=1) + "CREATE TRIGGER old AFTER DELETE ON t BEGIN SELECT 1; END;\n"
    target = _table(" COLLATE NOCASE") + TRIGGER.format(value=2)
    target += (
        "CREATE TABLE u (x INT);\nCREATE TRIGGER on_u AFTER INSERT ON u BEGIN INSERT INTO t (a) VALUES (new.x); END;\n"
    )
    statements = _diff(current, target)
    rename = statements.index("ALTER TABLE new_t RENAME TO t")
    assert statements[rename + 1 : rename + 2] == ["CREATE TRIGGER trg AFTER INSERT ON t BEGIN SELECT 2; END"]
    assert not any("old" in s for s in statements)  # gone with the old table: no DROP TRIGGER needed
    assert statements.index("CREATE TABLE u (\n    x int\n)") < statements.index(
        "CREATE TRIGGER on_u AFTER INSERT ON u BEGIN INSERT INTO t (a) VALUES (new.x); END"
    )
