"""MIG157-MIG161 (QA): SQLite drops and renames that break running code, and PostgreSQL's CONCURRENTLY."""

from __future__ import annotations

import sqlite3

import pytest

from dbspecialist.adapters.catalog import Catalog
from dbspecialist.knowledge.ddl.dispatch import parse_ddl
from dbspecialist.knowledge.migrations.context import PlanContext
from dbspecialist.knowledge.migrations.lint_rules_sqlite import RULES, lint_sqlite
from dbspecialist.knowledge.migrations.sqlite_alter import PLACEHOLDER
from dbspecialist.knowledge.migrations.sqlite_plan import plan_sqlite

VERSION = (3, 45, 0)


def ids(sql: str) -> list[str]:
    count, findings, errors = lint_sqlite(sql, VERSION)
    assert errors == [] and count >= 1
    return [f.rule_id for f in findings]


@pytest.mark.parametrize(
    ("rule", "positive", "negative"),
    [
        ("MIG157", "DROP TABLE orders;", "CREATE TABLE tmp (a INTEGER);\nDROP TABLE tmp;"),
        ("MIG158", "ALTER TABLE orders RENAME TO o2;", "CREATE TABLE t (a INTEGER);\nALTER TABLE t RENAME TO u;"),
        ("MIG159", "ALTER TABLE orders RENAME COLUMN status TO state;", "ALTER TABLE orders ADD COLUMN c TEXT;"),
        ("MIG160", "ALTER TABLE orders DROP COLUMN status;", "ALTER TABLE orders ADD COLUMN c TEXT;"),
        ("MIG161", "CREATE INDEX CONCURRENTLY i ON orders (status);", "CREATE INDEX i ON orders (status);"),
    ],
)
def test_rule_positive_and_negative(rule: str, positive: str, negative: str) -> None:
    assert rule in ids(positive)
    assert rule not in ids(negative)


def test_the_rebuild_procedure_is_not_a_breaking_change() -> None:
    rebuild = (
        "PRAGMA foreign_keys = OFF;\nBEGIN;\nCREATE TABLE new_orders (id INTEGER PRIMARY KEY, status TEXT NOT NULL);\n"
        "INSERT INTO new_orders SELECT id, status FROM orders;\nDROP TABLE orders;\n"
        "ALTER TABLE new_orders RENAME TO orders;\nCOMMIT;\nPRAGMA foreign_keys = ON;"
    )
    assert ids(rebuild) == []


def test_drop_table_fix_backs_up_first() -> None:
    [finding] = lint_sqlite("DROP TABLE orders;", VERSION)[1]
    assert finding.severity == "high" and finding.fix is not None
    assert finding.fix.statements == ["VACUUM INTO 'before_drop_orders.db';", "DROP TABLE orders;"]


def test_concurrently_fix_is_what_sqlite_accepts() -> None:
    con = sqlite3.connect(":memory:")
    con.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, status TEXT)")
    for sql in ("CREATE INDEX CONCURRENTLY i ON orders (status);", "CREATE UNIQUE INDEX CONCURRENTLY u ON orders (id)"):
        with pytest.raises(sqlite3.OperationalError, match="syntax error"):
            con.execute(sql)
        [finding] = [f for f in lint_sqlite(sql, VERSION)[1] if f.rule_id == "MIG161"]
        assert finding.fix is not None
        con.execute(finding.fix.statements[0])


def test_rules_are_documented() -> None:
    for spec, check in RULES:
        if spec.id in ("MIG157", "MIG158", "MIG159", "MIG160", "MIG161"):
            assert check.__doc__ and "## Why is this bad?" in check.__doc__ and "## Use instead" in check.__doc__


def _catalog() -> Catalog:
    return parse_ddl("CREATE TABLE orders (id INTEGER PRIMARY KEY, status TEXT);", "sqlite").catalog


def test_add_not_null_without_default_is_planned_as_add_backfill_rebuild() -> None:
    # QA defect 10: step 1 was the statement SQLite rejects, and the summary said the plan avoided it
    ctx = PlanContext(dialect="sqlite", version=VERSION, version_given=True, catalog=_catalog())
    out = plan_sqlite("ALTER TABLE orders ADD COLUMN flag INTEGER NOT NULL;", ctx)
    statements = [q for s in out.steps for q in s.sql]
    assert "ALTER TABLE orders ADD COLUMN flag INTEGER NOT NULL;" not in statements
    assert "ALTER TABLE orders ADD COLUMN flag INTEGER;" in statements
    assert f"UPDATE orders SET flag = {PLACEHOLDER} WHERE flag IS NULL;" in statements
    kinds = [s.kind for s in out.steps]
    assert kinds.index("deploy") < next(i for i, s in enumerate(out.steps) if PLACEHOLDER in " ".join(s.sql))
    [rebuild] = [s for s in out.steps if s.title.startswith("Rebuild orders")]
    assert any("flag INTEGER NOT NULL" in q for q in rebuild.sql)
    assert any("WHERE flag IS NULL" in q for s in out.steps if s.kind == "check" for q in s.sql)


def test_add_not_null_with_a_default_stays_direct() -> None:
    ctx = PlanContext(dialect="sqlite", version=VERSION, version_given=True, catalog=_catalog())
    out = plan_sqlite("ALTER TABLE orders ADD COLUMN flag INTEGER NOT NULL DEFAULT 0;", ctx)
    assert [q for s in out.steps for q in s.sql] == ["ALTER TABLE orders ADD COLUMN flag INTEGER NOT NULL DEFAULT 0;"]
