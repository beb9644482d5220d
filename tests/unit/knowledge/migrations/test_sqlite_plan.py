"""SQLite planner (direct ALTER TABLE vs the 12-step rebuild) and the SQLite migration lint rules MIG150 to MIG156."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from dbspecialist.adapters.catalog import Catalog, Trigger
from dbspecialist.knowledge.ddl.dispatch import parse_ddl
from dbspecialist.knowledge.migrations.context import PlanContext, PlannerOutput
from dbspecialist.knowledge.migrations.diff import diff_schemas
from dbspecialist.knowledge.migrations.estimate import backfill_estimate, estimate
from dbspecialist.knowledge.migrations.lint_rules_sqlite import RULES, lint_sqlite, split_sqlite
from dbspecialist.knowledge.migrations.model import MigrationInputError, MigrationStep, TableStats
from dbspecialist.knowledge.migrations.sqlite_plan import WRITE_LOCK, plan_sqlite
from dbspecialist.knowledge.migrations.sqlite_rebuild_block import RebuildBlock, split_rebuild_blocks

SCHEMA = """
CREATE TABLE parent (id INTEGER PRIMARY KEY AUTOINCREMENT, code TEXT NOT NULL UNIQUE);
CREATE TABLE child (
  id INTEGER PRIMARY KEY,
  parent_id INTEGER NOT NULL REFERENCES parent(id) ON DELETE CASCADE,
  total TEXT DEFAULT '0',
  note TEXT
);
CREATE INDEX ix_child_parent ON child (parent_id);
CREATE TABLE events (kind TEXT NOT NULL, payload BLOB);
CREATE VIEW v_child AS SELECT id, total FROM child;
"""
BIG = TableStats(rows=2_000_000, bytes=300 * 1024 * 1024)


def _catalog() -> Catalog:
    return parse_ddl(SCHEMA, "sqlite").catalog


def _plan(change: str, version: tuple[int, int, int] = (3, 45, 0), *, catalog: bool = True) -> PlannerOutput:
    ctx = PlanContext(
        dialect="sqlite",
        version=version,
        version_given=True,
        stats={"child": BIG, "events": BIG},
        catalog=_catalog() if catalog else None,
    )
    return plan_sqlite(change, ctx)


def _titles(out: PlannerOutput) -> list[tuple[str, str]]:
    return [(s.phase, s.title) for s in out.steps]


def _rebuild(out: PlannerOutput) -> MigrationStep:
    [step] = [s for s in out.steps if s.title.startswith("Rebuild")]
    return step


# ----------------------------------------------------------------------------------------------- direct ALTER


def test_add_column_with_constant_default_is_a_direct_metadata_alter() -> None:
    out = _plan("ALTER TABLE child ADD COLUMN status TEXT NOT NULL DEFAULT 'new';")
    [step] = out.steps
    assert step.sql == ["ALTER TABLE child ADD COLUMN status TEXT NOT NULL DEFAULT 'new';"]
    assert (step.phase, step.table_effect, step.transactional, step.reversible) == ("expand", "metadata", True, True)
    assert step.rollback == ["ALTER TABLE child DROP COLUMN status;"]
    assert step.lock is not None and (step.lock.mode, step.lock.blocks) == (WRITE_LOCK, "writes")
    assert step.blocks_writes and not step.blocks_reads
    assert step.preamble == ["PRAGMA busy_timeout = 5000;"]
    assert step.estimate is not None and step.estimate.seconds == 0.01


def test_add_column_with_check_scans_from_3_37_and_not_before() -> None:
    change = "ALTER TABLE child ADD COLUMN qty INTEGER DEFAULT 0 CHECK (qty >= 0);"
    assert _plan(change).steps[0].table_effect == "scan"
    assert _plan(change).steps[0].estimate == estimate("scan", BIG)
    old = _plan(change, (3, 36, 0)).steps[0]
    assert old.table_effect == "metadata"
    assert any("does not test the new CHECK" in n for n in old.notes)


def test_drop_column_on_3_35_is_direct_contract_after_a_deploy_and_a_backup() -> None:
    out = _plan("ALTER TABLE child DROP COLUMN note;")
    assert _titles(out) == [
        ("prepare", "Back up the database to backup.db (VACUUM INTO)"),
        ("contract", "Drop column child.note"),
        ("switch", "Deploy the application version that no longer reads or writes child.note"),
    ]
    backup, drop, deploy = out.steps
    assert backup.sql == ["VACUUM INTO 'backup.db';"] and backup.transactional is False
    assert drop.sql == ["ALTER TABLE child DROP COLUMN note;"]
    assert drop.table_effect == "rewrite" and drop.reversible is False
    assert drop.estimate == estimate("rewrite", BIG)
    assert deploy.kind == "deploy"


def test_rename_column_is_direct_from_3_25_with_a_deploy_step() -> None:
    out = _plan("ALTER TABLE child RENAME COLUMN note TO remark;")
    assert _titles(out) == [
        ("expand", "Rename column child.note to remark"),
        ("switch", "Deploy the application version that uses child.remark instead of child.note"),
    ]
    assert out.steps[0].sql == ["ALTER TABLE child RENAME COLUMN note TO remark;"]
    assert out.steps[0].rollback == ["ALTER TABLE child RENAME COLUMN remark TO note;"]


def test_add_unique_becomes_a_unique_index_after_a_duplicate_check() -> None:
    out = _plan("ALTER TABLE child ADD CONSTRAINT child_note_key UNIQUE (parent_id, note);")
    check, create = out.steps
    assert check.kind == "check" and check.sql == [
        "SELECT parent_id, note, COUNT(*) FROM child WHERE parent_id IS NOT NULL AND note IS NOT NULL "
        "GROUP BY parent_id, note HAVING COUNT(*) > 1 LIMIT 10;"
    ]
    assert create.sql == ["CREATE UNIQUE INDEX child_note_key ON child (parent_id, note);"]
    assert create.table_effect == "build" and create.rollback == ["DROP INDEX child_note_key;"]


# ----------------------------------------------------------------------------------------------- rebuild


def test_type_change_and_check_merge_into_one_rebuild_with_the_12_steps() -> None:
    out = _plan(
        "ALTER TABLE child ALTER COLUMN total TYPE REAL;\n"
        "ALTER TABLE child ADD CONSTRAINT total_pos CHECK (total >= 0);"
    )
    assert [(s.phase, s.kind, s.transactional) for s in out.steps] == [
        ("prepare", "sql", False),  # VACUUM INTO
        ("expand", "check", True),  # save the definitions (step 3)
        ("expand", "check", True),  # rows the CHECK would reject
        ("expand", "sql", False),  # PRAGMA foreign_keys = OFF, outside the transaction
        ("expand", "sql", True),  # the transaction
        ("expand", "sql", False),  # PRAGMA foreign_keys = ON
    ]
    assert out.steps[3].sql == ["PRAGMA foreign_keys = OFF;"]
    assert out.steps[5].sql == ["PRAGMA foreign_keys = ON;"]
    assert out.steps[2].sql == ["SELECT COUNT(*) FROM child WHERE NOT (total >= 0);"]
    rebuild = out.steps[4]
    assert rebuild.sql == [
        "BEGIN IMMEDIATE;",
        "CREATE TABLE new_child (\n"
        "    id integer PRIMARY KEY,\n"
        "    parent_id integer NOT NULL,\n"
        "    total REAL DEFAULT '0',\n"
        "    note text,\n"
        "    CONSTRAINT total_pos CHECK (total >= 0),\n"
        "    FOREIGN KEY (parent_id) REFERENCES parent (id) ON DELETE CASCADE\n"
        ");",
        "INSERT INTO new_child (id, parent_id, total, note)\n    SELECT id, parent_id, total, note FROM child;",
        "DROP VIEW v_child;",
        "DROP TABLE child;",
        "ALTER TABLE new_child RENAME TO child;",
        "CREATE INDEX ix_child_parent ON child (parent_id);",
        "CREATE VIEW v_child AS SELECT id, total FROM child;",
        "PRAGMA foreign_key_check(child);",
        "COMMIT;",
    ]
    assert rebuild.table_effect == "rewrite" and rebuild.reversible is False
    assert rebuild.estimate == estimate("rewrite", BIG)
    assert rebuild.rollback[0].startswith("ROLLBACK;")
    assert rebuild.lock is not None and rebuild.lock.blocks == "writes" and rebuild.lock.tables == ["child"]
    assert rebuild.title.startswith("Rebuild child with ALTER COLUMN total TYPE REAL; ADD CONSTRAINT total_pos")


def test_rebuilding_a_parent_checks_the_children_and_keeps_the_autoincrement_counter() -> None:
    rebuild = _rebuild(_plan("ALTER TABLE parent ALTER COLUMN code SET DEFAULT 'x';"))
    assert "    id integer PRIMARY KEY AUTOINCREMENT," in rebuild.sql[1]
    assert "    code text NOT NULL DEFAULT 'x'," in rebuild.sql[1]
    assert "    UNIQUE (code)" in rebuild.sql[1]
    assert rebuild.sql[3].startswith("INSERT INTO sqlite_sequence (name, seq) SELECT 'new_parent', 0")
    assert rebuild.sql[4] == (
        "UPDATE sqlite_sequence SET seq = max(seq, (SELECT seq FROM sqlite_sequence WHERE name = 'parent')) "
        "WHERE name = 'new_parent';"
    )
    assert rebuild.sql[-3:] == ["PRAGMA foreign_key_check(parent);", "PRAGMA foreign_key_check(child);", "COMMIT;"]


def _execute(con: sqlite3.Connection, out: PlannerOutput) -> None:
    for step in out.steps:
        for statement in step.sql:
            if not statement.startswith("VACUUM"):
                con.execute(statement)


def test_the_autoincrement_counter_survives_the_rebuild() -> None:
    con = sqlite3.connect(":memory:", isolation_level=None)
    con.executescript(SCHEMA + "INSERT INTO parent (code) VALUES ('a'), ('b'), ('c'); DELETE FROM parent WHERE id = 3;")
    _execute(con, _plan("ALTER TABLE parent ALTER COLUMN code SET DEFAULT 'x';"))
    con.execute("INSERT INTO parent DEFAULT VALUES")
    assert con.execute("SELECT id, code FROM parent ORDER BY id").fetchall() == [(1, "a"), (2, "b"), (4, "x")]


def test_a_table_without_an_integer_key_keeps_its_rowids() -> None:
    rebuild = _rebuild(_plan("ALTER TABLE events ALTER COLUMN payload SET NOT NULL;"))
    assert (
        rebuild.sql[2] == "INSERT INTO new_events (rowid, kind, payload)\n    SELECT rowid, kind, payload FROM events;"
    )
    assert "    payload blob NOT NULL" in rebuild.sql[1]


def test_drop_of_an_indexed_foreign_key_column_is_a_rebuild_without_its_index_and_key() -> None:
    out = _plan("ALTER TABLE child DROP COLUMN parent_id;")
    assert [s.phase for s in out.steps] == ["prepare", "contract", "contract", "contract", "contract", "switch"]
    assert out.steps[-1].title == "Deploy the application version that no longer reads or writes child.parent_id"
    rebuild = _rebuild(out)
    assert "parent_id" not in rebuild.sql[1] and "FOREIGN KEY" not in rebuild.sql[1]
    assert not any(q.startswith("CREATE INDEX") for q in rebuild.sql)
    assert any("Index ix_child_parent uses parent_id" in n for n in rebuild.notes)


def test_drop_column_before_3_35_is_a_rebuild() -> None:
    rebuild = _rebuild(_plan("ALTER TABLE child DROP COLUMN note;", (3, 34, 1)))
    assert rebuild.sql[2] == "INSERT INTO new_child (id, parent_id, total)\n    SELECT id, parent_id, total FROM child;"


def test_rename_column_before_3_25_is_a_rebuild_copying_the_old_name_into_the_new() -> None:
    out = _plan("ALTER TABLE child RENAME COLUMN note TO remark;", (3, 24, 0))
    rebuild = _rebuild(out)
    assert "    remark text,\n" in rebuild.sql[1]
    assert rebuild.sql[2] == (
        "INSERT INTO new_child (id, parent_id, total, remark)\n    SELECT id, parent_id, total, note FROM child;"
    )
    backup = out.steps[0]
    assert backup.kind == "command" and backup.command == "sqlite3 <database> \".backup 'backup.db'\""
    assert out.steps[1].sql[0].startswith("SELECT type, name, tbl_name, sql FROM sqlite_master WHERE")


def test_type_change_with_using_copies_the_expression() -> None:
    rebuild = _rebuild(_plan("ALTER TABLE child ALTER COLUMN total TYPE INTEGER USING CAST(total AS INTEGER);"))
    assert rebuild.sql[2].endswith("SELECT id, parent_id, CAST(total AS INTEGER), note FROM child;")


def test_triggers_of_the_table_and_views_are_recreated_after_the_rename() -> None:
    catalog = _catalog()
    child = catalog.table("child")
    parent = catalog.table("parent")
    assert child is not None and parent is not None
    mine = Trigger(name="trg_child", definition="CREATE TRIGGER trg_child AFTER INSERT ON child BEGIN SELECT 1; END")
    other = Trigger(
        name="trg_parent",
        definition="CREATE TRIGGER trg_parent AFTER DELETE ON parent BEGIN DELETE FROM child; END",
    )
    tables = [
        t.model_copy(update={"triggers": [mine]})
        if t.name == "child"
        else t.model_copy(update={"triggers": [other]})
        if t.name == "parent"
        else t
        for t in catalog.tables
    ]
    ctx = PlanContext(
        dialect="sqlite",
        version=(3, 45, 0),
        version_given=False,
        catalog=catalog.model_copy(update={"tables": tables}),
    )
    out = plan_sqlite("ALTER TABLE child ALTER COLUMN note SET NOT NULL;", ctx)
    sql = _rebuild(out).sql
    assert sql.index("DROP TRIGGER trg_parent;") < sql.index("DROP TABLE child;")
    after_rename = sql[sql.index("ALTER TABLE new_child RENAME TO child;") :]
    assert mine.definition is not None and other.definition is not None
    assert mine.definition + ";" in after_rename and other.definition + ";" in after_rename
    assert out.assumptions[0] == "SQLite 3.45.0 assumed (pass version to change it)."


def test_without_a_catalog_the_rebuild_has_fill_in_parts() -> None:
    out = _plan("ALTER TABLE child ALTER COLUMN total SET NOT NULL;", catalog=False)
    rebuild = _rebuild(out)
    assert rebuild.sql[0] == "BEGIN IMMEDIATE;" and rebuild.sql[-1] == "COMMIT;"
    assert rebuild.sql[1].startswith("CREATE TABLE new_child (\n    -- FILL IN:")
    assert "--   ALTER COLUMN total SET NOT NULL" in rebuild.sql[1]
    assert "DROP TABLE child;" in rebuild.sql and "ALTER TABLE new_child RENAME TO child;" in rebuild.sql
    assert out.steps[2].sql == ["SELECT COUNT(*) FROM child WHERE total IS NULL;"]
    assert "No current schema was given: rebuild steps have FILL IN parts." in out.assumptions


def test_generated_rebuild_runs_on_sqlite_and_keeps_the_rows() -> None:
    con = sqlite3.connect(":memory:", isolation_level=None)
    con.executescript(SCHEMA + "INSERT INTO parent (code) VALUES ('a'); INSERT INTO child VALUES (1, 1, '5', 'n');")
    _execute(con, _plan("ALTER TABLE child ALTER COLUMN total TYPE REAL; ALTER TABLE child ADD CHECK (total >= 0);"))
    assert con.execute("SELECT id, parent_id, total, typeof(total), note FROM child").fetchall() == [
        (1, 1, 5.0, "real", "n")
    ]
    with pytest.raises(sqlite3.IntegrityError, match="CHECK constraint failed"):
        con.execute("INSERT INTO child VALUES (2, 1, -1, NULL)")


# ----------------------------------------------------------------------------------------------- order, DML


def test_an_update_before_a_rebuild_stays_before_it() -> None:
    out = _plan("UPDATE child SET note = '' WHERE note IS NULL;\nALTER TABLE child ALTER COLUMN note SET NOT NULL;")
    phases = [(s.phase, s.kind) for s in out.steps]
    assert phases[1] == ("expand", "script") and phases[-2] == ("expand", "sql")
    assert out.steps[1].estimate == backfill_estimate(BIG)


def test_a_large_update_is_batched_by_rowid_with_a_resumable_script() -> None:
    out = _plan("UPDATE child SET note = '' WHERE note IS NULL;")
    _backup, step = out.steps
    assert step.phase == "backfill" and step.kind == "script"
    assert step.sql == [
        "SELECT max(rowid) FROM (SELECT rowid FROM child WHERE rowid > :last ORDER BY rowid LIMIT 5000);",
        "UPDATE child SET note = '' WHERE rowid > :last AND rowid <= :upto AND (note IS NULL);",
    ]
    assert out.backfill_script is not None and 'con.execute("BEGIN IMMEDIATE")' in out.backfill_script
    assert step.lock is not None and "released between batches" in step.lock.held


def test_batch_script_migrates_every_row_once_and_resumes(tmp_path: Path) -> None:
    path = f"{tmp_path}/b.db"
    con = sqlite3.connect(path, isolation_level=None)
    con.executescript(SCHEMA)
    con.execute(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 12000) "
        "INSERT INTO events (kind) SELECT 'k' FROM n"
    )
    con.execute("UPDATE events SET kind = 'skip' WHERE rowid % 1000 = 0")
    out = _plan("UPDATE events SET payload = X'01' WHERE payload IS NULL AND kind <> 'skip';")
    assert out.backfill_script is not None
    script = tmp_path / "backfill.py"
    script.write_text(out.backfill_script)
    done = subprocess.run([sys.executable, str(script), path], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["5000", "10000", "12000"]
    assert con.execute("SELECT COUNT(*) FROM events WHERE payload = X'01'").fetchone() == (11_988,)
    again = subprocess.run([sys.executable, str(script), path, "12000"], capture_output=True, text=True, check=True)
    assert again.stdout == ""


def test_transaction_and_foreign_key_statements_in_the_change_are_left_out() -> None:
    out = _plan("BEGIN; PRAGMA foreign_keys = OFF; ALTER TABLE child ADD COLUMN x INTEGER; COMMIT;")
    assert [s.sql for s in out.steps] == [["ALTER TABLE child ADD COLUMN x INTEGER;"]]
    assert len(out.notes) == 2


def test_unreadable_clause_and_unknown_constraint_are_input_errors() -> None:
    with pytest.raises(MigrationInputError, match="line 1: cannot read"):
        _plan("ALTER TABLE child FROB x;")
    with pytest.raises(MigrationInputError, match="no constraint named 'nope'"):
        _plan("ALTER TABLE child DROP CONSTRAINT nope;")
    with pytest.raises(MigrationInputError, match="has no column 'ghost'"):
        _plan("ALTER TABLE child ALTER COLUMN ghost SET NOT NULL;")


# ----------------------------------------------------------------------------------------------- written rebuild


def _diff_change(target: str) -> str:
    """The change plan_migration(target_ddl=...) plans: diff_schemas' statements joined as plan.py joins them."""
    statements = diff_schemas(parse_ddl(SCHEMA, "sqlite").catalog, parse_ddl(target, "sqlite").catalog, "sqlite")
    return "".join(f"{statement};\n" for statement in statements)


def _seeded() -> sqlite3.Connection:
    """SCHEMA with parents and children, foreign keys on as an application runs."""
    con = sqlite3.connect(":memory:", isolation_level=None)
    con.executescript(
        SCHEMA + "INSERT INTO parent (code) VALUES ('a'), ('b'), ('c'); DELETE FROM parent WHERE id = 3;"
        "INSERT INTO child VALUES (1, 1, '5', 'x'), (2, 2, '7', NULL), (3, 1, '0', 'z');"
    )
    con.execute("PRAGMA foreign_keys = ON")
    return con


def test_the_rebuild_block_diff_schemas_writes_is_planned_as_one_rebuild() -> None:
    change = _diff_change(SCHEMA.replace("total TEXT DEFAULT '0'", "total REAL NOT NULL DEFAULT 0 CHECK (total >= 0)"))
    assert change.startswith("PRAGMA foreign_keys = OFF;\nBEGIN;\nCREATE TABLE new_child (")
    assert change.endswith("PRAGMA foreign_key_check;\nCOMMIT;\nPRAGMA foreign_keys = ON;\n")
    out = _plan(change)
    assert [(s.phase, s.kind, s.transactional) for s in out.steps] == [
        ("prepare", "sql", False),  # VACUUM INTO
        ("expand", "check", True),  # save the definitions
        ("expand", "check", True),  # rows the new CHECK / NOT NULL would reject
        ("expand", "sql", False),  # PRAGMA foreign_keys = OFF, outside the transaction
        ("expand", "sql", True),  # the block, one transaction
        ("expand", "sql", False),  # PRAGMA foreign_keys = ON
    ]
    assert out.steps[2].sql == [
        "SELECT COUNT(*) FROM child WHERE NOT (total >= 0);",
        "SELECT COUNT(*) FROM child WHERE total IS NULL;",
    ]
    assert (out.steps[3].sql, out.steps[5].sql) == (["PRAGMA foreign_keys = OFF;"], ["PRAGMA foreign_keys = ON;"])
    rebuild = out.steps[4]
    assert rebuild.title == "Rebuild child as written (changes total; 12-step procedure, one transaction)"
    assert rebuild.sql == [
        "BEGIN IMMEDIATE;",
        "CREATE TABLE new_child (\n"
        "    id integer NOT NULL,\n"
        "    parent_id integer NOT NULL,\n"
        "    total real DEFAULT 0 NOT NULL,\n"
        "    note text,\n"
        "    PRIMARY KEY (id),\n"
        "    CHECK (total >= 0),\n"
        "    FOREIGN KEY (parent_id) REFERENCES parent (id) ON DELETE CASCADE\n"
        ");",
        "INSERT INTO new_child (id, parent_id, total, note) SELECT id, parent_id, total, note FROM child;",
        "DROP VIEW v_child;",  # added: the rename fails while a view names the dropped table
        "DROP TABLE child;",
        "ALTER TABLE new_child RENAME TO child;",
        "CREATE VIEW v_child AS SELECT id, total FROM child;",
        "CREATE INDEX ix_child_parent ON child (parent_id);",
        "PRAGMA foreign_key_check;",
        "COMMIT;",
    ]
    assert rebuild.lock is not None and (rebuild.lock.tables, rebuild.lock.blocks) == (["child"], "writes")
    assert rebuild.estimate == estimate("rewrite", BIG) and rebuild.rollback[0].startswith("ROLLBACK;")
    assert not any(s.kind == "deploy" or s.title.startswith("Drop table") for s in out.steps)
    assert out.notes == []

    con = _seeded()
    _execute(con, out)
    assert con.execute("SELECT id, parent_id, total, typeof(total), note FROM child ORDER BY id").fetchall() == [
        (1, 1, 5.0, "real", "x"),
        (2, 2, 7.0, "real", None),
        (3, 1, 0.0, "real", "z"),
    ]
    assert con.execute("PRAGMA foreign_key_check").fetchall() == []
    assert con.execute("SELECT COUNT(*) FROM v_child").fetchone() == (3,)


def test_a_hand_written_parent_rebuild_with_the_pragma_in_the_wrong_place_keeps_the_children() -> None:
    change = (
        "BEGIN TRANSACTION;\n"
        "PRAGMA foreign_keys = OFF;  -- a no-op inside a transaction\n"
        "CREATE TABLE tmp_parent (id INTEGER PRIMARY KEY AUTOINCREMENT, code TEXT NOT NULL UNIQUE, label TEXT);\n"
        "INSERT INTO tmp_parent (id, code) SELECT id, code FROM parent;\n"
        "DROP TABLE parent;\n"
        "ALTER TABLE tmp_parent RENAME TO parent;\n"
        "END TRANSACTION;\n"
        "PRAGMA foreign_key_check;\n"
    )
    out = _plan(change)
    assert [s.sql for s in out.steps if not s.transactional] == [
        ["VACUUM INTO 'backup.db';"],
        ["PRAGMA foreign_keys = OFF;"],
        ["PRAGMA foreign_keys = ON;"],
    ]
    rebuild = _rebuild(out)
    assert rebuild.title.startswith("Rebuild parent as written (adds label;")
    assert rebuild.sql[0] == "BEGIN IMMEDIATE;" and not any("foreign_keys" in s for s in rebuild.sql)
    assert rebuild.sql[3].startswith("INSERT INTO sqlite_sequence (name, seq) SELECT 'tmp_parent', 0")
    assert rebuild.sql[5:] == [
        "DROP TABLE parent;",
        "ALTER TABLE tmp_parent RENAME TO parent;",
        "PRAGMA foreign_key_check(parent);",  # the check after COMMIT moved inside, for the children too
        "PRAGMA foreign_key_check(child);",
        "COMMIT;",
    ]
    assert any("PRAGMA foreign_keys inside the transaction does nothing" in n for n in rebuild.notes)

    con = _seeded()
    _execute(con, out)
    assert con.execute("SELECT id, parent_id FROM child ORDER BY id").fetchall() == [(1, 1), (2, 2), (3, 1)]
    con.execute("INSERT INTO parent (code) VALUES ('d')")
    assert con.execute("SELECT id, code, label FROM parent ORDER BY id").fetchall() == [
        (1, "a", None),
        (2, "b", None),
        (4, "d", None),  # the AUTOINCREMENT counter was carried over: id 3 is not handed out again
    ]
    con.execute("DELETE FROM parent WHERE id = 2")  # the children's ON DELETE CASCADE still points at parent
    assert con.execute("SELECT COUNT(*) FROM child").fetchone() == (2,)


@pytest.mark.parametrize(
    ("begin", "commit"),
    [
        ("BEGIN", "COMMIT"),
        ("BEGIN TRANSACTION", "END TRANSACTION"),
        ("BEGIN IMMEDIATE", "COMMIT TRANSACTION"),
        ("SAVEPOINT rebuild", "RELEASE rebuild"),
    ],
)
def test_every_transaction_form_of_a_written_rebuild_becomes_one_begin_immediate(begin: str, commit: str) -> None:
    core = [
        "CREATE TABLE new_events (kind TEXT NOT NULL, payload BLOB, at TEXT)",
        "INSERT INTO new_events (rowid, kind, payload) SELECT rowid, kind, payload FROM events",
        "DROP TABLE events",
        "ALTER TABLE new_events RENAME TO events",
        "CREATE INDEX ix_events_kind ON events (kind)",
        "PRAGMA foreign_key_check",
    ]
    statements = ["PRAGMA foreign_keys=OFF", begin, *core, commit, "PRAGMA foreign_keys=ON"]
    [block] = split_rebuild_blocks(split_sqlite(";\n".join(statements) + ";"))
    assert isinstance(block, RebuildBlock) and block.begin == begin and block.foreign_keys_off
    out = _plan(";\n".join(statements) + ";")
    assert [s.title.split(" (")[0] for s in out.steps] == [
        "Back up the database to backup.db",
        "Save the current definitions of events and of the indexes, triggers and views around it",
        "Turn foreign keys off for this connection",
        "Rebuild events as written",
        "Turn foreign keys on for this connection",
    ]
    assert _rebuild(out).sql == ["BEGIN IMMEDIATE;", *(s + ";" for s in core), "COMMIT;"]
    assert _rebuild(out).title == "Rebuild events as written (adds at; 12-step procedure, one transaction)"


def test_a_rebuild_without_transaction_or_pragmas_is_wrapped_and_a_renamed_column_gets_its_deploy() -> None:
    out = _plan(
        "CREATE TABLE new_child (id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL REFERENCES parent(id) "
        "ON DELETE CASCADE, total TEXT DEFAULT '0', remark TEXT);\n"
        "INSERT INTO new_child (id, parent_id, total, remark) SELECT id, parent_id, total, note FROM child;\n"
        "DROP TABLE child;\n"
        "ALTER TABLE new_child RENAME TO child;\n"
        "CREATE INDEX ix_child_parent ON child (parent_id);\n"
    )
    assert [s.phase for s in out.steps] == ["prepare", "expand", "expand", "expand", "expand", "switch"]
    assert out.steps[-1].title == "Deploy the application version that uses child.remark instead of child.note"
    rebuild = _rebuild(out)
    assert rebuild.title == "Rebuild child as written (renames note to remark; 12-step procedure, one transaction)"
    assert rebuild.sql[0] == "BEGIN IMMEDIATE;" and rebuild.sql[-3:] == [
        "CREATE INDEX ix_child_parent ON child (parent_id);",
        "PRAGMA foreign_key_check(child);",
        "COMMIT;",
    ]
    assert any("without BEGIN / COMMIT" in n for n in rebuild.notes)
    assert any("did not turn foreign keys off" in n for n in rebuild.notes)
    con = _seeded()
    _execute(con, out)
    assert con.execute("SELECT id, remark FROM child ORDER BY id").fetchall() == [(1, "x"), (2, None), (3, "z")]


def test_a_written_rebuild_that_only_drops_a_column_is_a_contract_step_after_the_deploy() -> None:
    out = _plan(
        "PRAGMA foreign_keys = OFF;\nBEGIN;\n"
        "CREATE TABLE new_child (id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL REFERENCES parent(id) "
        "ON DELETE CASCADE, note TEXT);\n"
        "INSERT INTO new_child (id, parent_id, note) SELECT id, parent_id, note FROM child;\n"
        "DROP TABLE child;\nALTER TABLE new_child RENAME TO child;\n"
        "CREATE INDEX ix_child_parent ON child (parent_id);\nCOMMIT;\nPRAGMA foreign_keys = ON;\n"
    )
    assert [s.phase for s in out.steps] == ["prepare", "contract", "contract", "contract", "contract", "switch"]
    assert out.steps[-1].title == "Deploy the application version that no longer reads or writes child.total"
    rebuild = _rebuild(out)
    assert "DROP VIEW v_child;" in rebuild.sql and "CREATE VIEW v_child AS SELECT id, total FROM child;" in rebuild.sql
    assert any(n.startswith("View v_child uses total, which the rebuild drops or renames") for n in rebuild.notes)


def test_only_a_create_copy_drop_rename_sequence_is_a_rebuild_block() -> None:
    aside = (
        "ALTER TABLE events RENAME TO old_events;\nCREATE TABLE events (kind TEXT NOT NULL, payload BLOB);\n"
        "INSERT INTO events SELECT kind, payload FROM old_events;\nDROP TABLE old_events;"
    )
    assert not any(isinstance(i, RebuildBlock) for i in split_rebuild_blocks(split_sqlite(aside)))
    assert "Drop table old_events" in [s.title for s in _plan(aside).steps]
    rolled_back = (
        "BEGIN;\nCREATE TABLE new_events (kind TEXT);\nDROP TABLE events;\n"
        "ALTER TABLE new_events RENAME TO events;\nROLLBACK;"
    )
    assert not any(isinstance(i, RebuildBlock) for i in split_rebuild_blocks(split_sqlite(rolled_back)))
    statements = split_sqlite("CREATE TABLE new_events (kind TEXT);\nDROP TABLE events;\nSELECT 1;")
    assert split_rebuild_blocks(statements) == statements


# ----------------------------------------------------------------------------------------------- reader


def test_split_keeps_trigger_bodies_and_tracks_transactions() -> None:
    statements = split_sqlite(
        "-- head\nBEGIN;\nCREATE TRIGGER t AFTER INSERT ON a BEGIN UPDATE a SET x = CASE WHEN 1 THEN 2 END; END;\n"
        'COMMIT;\nPRAGMA foreign_keys(0);\nALTER TABLE "my t" ADD COLUMN n UNSIGNED BIG INT DEFAULT -1;'
    )
    assert [(s.kind, s.line, s.transaction) for s in statements] == [
        ("begin", 2, 1),
        ("create_trigger", 3, 1),
        ("commit", 4, 1),
        ("pragma", 5, None),
        ("alter_table", 6, None),
    ]
    assert statements[1].text.endswith("END; END")
    assert statements[3].pragma == ("foreign_keys", "0")
    [action] = statements[4].actions
    assert statements[4].table == "my t"
    assert action.definition is not None
    assert (action.definition.type_text, action.definition.default) == ("UNSIGNED BIG INT", "-1")


def test_a_bare_pragma_is_read_without_a_name_instead_of_failing() -> None:
    [statement] = split_sqlite("PRAGMA;")
    assert (statement.kind, statement.pragma) == ("pragma", None)
    assert lint_sqlite("PRAGMA;", (3, 45, 0)) == (1, [], [])


# ----------------------------------------------------------------------------------------------- lint rules


BREAKING = frozenset({"MIG157", "MIG158", "MIG159", "MIG160"})  # drops and renames (lint_rules_sqlite_breaking)


def _ids(sql: str, version: tuple[int, int, int] = (3, 45, 0)) -> list[str]:
    """The rule ids found, without the breaking-change rules (their own tests cover them)."""
    return [f.rule_id for f in lint_sqlite(sql, version)[1] if f.rule_id not in BREAKING]


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("ALTER TABLE t ALTER COLUMN a TYPE INTEGER;", ["MIG150"]),
        ("ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0);", ["MIG150"]),
        ("ALTER TABLE t ADD COLUMN c TEXT DEFAULT CURRENT_TIMESTAMP;", ["MIG150"]),
        ("ALTER TABLE t ADD COLUMN c INTEGER PRIMARY KEY;", ["MIG150"]),
        ("ALTER TABLE t ADD COLUMN c REAL AS (a * 2) STORED;", ["MIG150"]),
        ("ALTER TABLE t ADD COLUMN c TEXT DEFAULT 'x';", []),
        ("ALTER TABLE t ADD COLUMN c REAL AS (a * 2) VIRTUAL;", []),
        ("ALTER TABLE t RENAME TO u;", []),
    ],
)
def test_mig150_alter_needs_rebuild(sql: str, expected: list[str]) -> None:
    assert _ids(sql) == expected


def test_mig150_offers_a_unique_index_for_add_unique() -> None:
    [finding] = lint_sqlite("ALTER TABLE t ADD UNIQUE (a, b);", (3, 45, 0))[1]
    assert finding.fix is not None and finding.fix.statements == ["CREATE UNIQUE INDEX t_a_b_key ON t (a, b);"]


def test_mig151_not_null_without_default() -> None:
    [finding] = lint_sqlite("SELECT 1;\nALTER TABLE t ADD COLUMN n INTEGER NOT NULL;", (3, 45, 0))[1]
    assert (finding.rule_id, finding.line, finding.subject) == ("MIG151", 2, "t.n")
    assert finding.fix is not None and finding.fix.statements == [
        "ALTER TABLE t ADD COLUMN n INTEGER NOT NULL DEFAULT 0;"
    ]
    assert _ids("ALTER TABLE t ADD COLUMN n INTEGER NOT NULL DEFAULT 0;") == []
    assert _ids("ALTER TABLE t ADD COLUMN n INTEGER NOT NULL DEFAULT NULL;") == ["MIG151"]


def test_mig152_drop_column_version() -> None:
    assert _ids("ALTER TABLE t DROP COLUMN a;", (3, 34, 0)) == ["MIG152"]
    [early] = [f for f in lint_sqlite("ALTER TABLE t DROP COLUMN a;", (3, 35, 2))[1] if f.rule_id == "MIG152"]
    assert early.severity == "medium"
    assert _ids("ALTER TABLE t DROP COLUMN a;", (3, 35, 5)) == []


def test_mig153_rename_column_version() -> None:
    assert _ids("ALTER TABLE t RENAME COLUMN a TO b;", (3, 24, 0)) == ["MIG153"]
    assert _ids("ALTER TABLE t RENAME COLUMN a TO b;", (3, 25, 0)) == []


def test_mig154_foreign_keys_pragma_inside_a_transaction() -> None:
    [finding] = lint_sqlite("BEGIN;\nPRAGMA foreign_keys = OFF;\nCOMMIT;", (3, 45, 0))[1]
    assert (finding.rule_id, finding.line) == ("MIG154", 2)
    assert _ids("PRAGMA foreign_keys = OFF;\nBEGIN;\nCOMMIT;") == []


def test_mig155_renaming_the_original_aside() -> None:
    aside = "ALTER TABLE t RENAME TO old_t;\nCREATE TABLE t (a INTEGER);\nINSERT INTO t SELECT a FROM old_t;"
    assert _ids(aside) == ["MIG155"]
    assert _ids("ALTER TABLE t RENAME TO u;\nCREATE TABLE v (a INTEGER);") == []


def test_mig156_rebuild_without_turning_foreign_keys_off() -> None:
    rebuild = "CREATE TABLE new_t (a INTEGER);\nDROP TABLE t;\nALTER TABLE new_t RENAME TO t;"
    [finding] = lint_sqlite(rebuild, (3, 45, 0))[1]
    assert (finding.rule_id, finding.line) == ("MIG156", 2)
    assert _ids("PRAGMA foreign_keys = OFF;\n" + rebuild) == []
    assert _ids("DROP TABLE t;") == []


def test_lint_counts_statements_and_reports_unreadable_clauses() -> None:
    count, findings, errors = lint_sqlite("SELECT 1; ALTER TABLE t FROB;", (3, 45, 0))
    assert (count, findings) == (2, [])
    assert errors == ["line 1: cannot read `ALTER TABLE t FROB`: unknown ALTER TABLE clause starting with 'FROB'"]
    assert lint_sqlite("SELECT 'open", (3, 45, 0))[2][0].startswith("cannot read the SQLite migration")


def test_every_rule_is_documented_and_in_the_sqlite_range() -> None:
    ids = [spec.id for spec, _ in RULES]
    assert ids == [f"MIG{n}" for n in range(150, 162)]
    for spec, check in RULES:
        assert spec.capability == "migrations" and spec.engines == ("sqlite",)
        assert check.__doc__ and "## Why is this bad?" in check.__doc__
