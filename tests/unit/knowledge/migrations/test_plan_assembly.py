"""plan.py: input validation, phase ordering, numbering, lock summary and the summary paragraph."""

from __future__ import annotations

import pytest

from dbspecialist.knowledge.migrations import plan as plan_module
from dbspecialist.knowledge.migrations.context import PlanContext, PlannerOutput
from dbspecialist.knowledge.migrations.estimate import estimate
from dbspecialist.knowledge.migrations.model import MigrationInputError, MigrationStep, TableStats
from dbspecialist.knowledge.migrations.pg_locks import claim


def _step(phase: str, kind: str, table: str, effect_stats: TableStats | None = None, **extra: object) -> MigrationStep:
    from dbspecialist.knowledge.migrations.pg_locks import OPERATIONS

    op = OPERATIONS[kind]
    lock = claim(kind, [table])
    return MigrationStep(
        phase=phase,  # type: ignore[arg-type]
        title=f"{kind} on {table}",
        table=table,
        sql=[f"-- {kind}"],
        lock=lock,
        blocks_reads=lock.blocks == "reads and writes",
        blocks_writes=lock.blocks != "nothing",
        table_effect=op.effect,
        transactional=op.transactional,
        estimate=estimate(op.effect, effect_stats),
        **extra,  # type: ignore[arg-type]
    )


@pytest.fixture
def fake_planner(monkeypatch: pytest.MonkeyPatch) -> list[PlanContext]:
    seen: list[PlanContext] = []
    big = TableStats(rows=10_000_000, bytes=2 * 1024**3)

    def planner(change: str, ctx: PlanContext) -> PlannerOutput:
        seen.append(ctx)
        return PlannerOutput(
            steps=[
                _step("contract", "drop_column", "orders"),
                _step("validate", "validate_constraint", "orders", big),
                _step("expand", "add_column", "orders"),
                _step("expand", "create_index_concurrently", "orders", big),
                _step("switch", "add_column", "orders").model_copy(update={"kind": "deploy", "lock": None}),
                _step("expand", "set_not_null", "users", big, reversible=False),
            ],
            assumptions=["rates are ours"],
        )

    monkeypatch.setattr(plan_module, "_planner", lambda dialect: planner)
    monkeypatch.setattr(plan_module, "_lint", lambda change, dialect, version, catalog: [])
    return seen


def test_steps_are_ordered_by_phase_stably_and_numbered(fake_planner: list[PlanContext]) -> None:
    result = plan_module.plan_migration("SELECT 1;", version="16", table_stats={"Orders": {"rows": 5}})
    assert [(s.number, s.phase, s.title) for s in result.steps] == [
        (1, "expand", "add_column on orders"),
        (2, "expand", "create_index_concurrently on orders"),
        (3, "expand", "set_not_null on users"),
        (4, "validate", "validate_constraint on orders"),
        (5, "switch", "add_column on orders"),
        (6, "contract", "drop_column on orders"),
    ]
    ctx = fake_planner[0]
    assert ctx.version == (16, 0, 0) and ctx.version_given
    assert ctx.stats_for("public.orders") == TableStats(rows=5)
    assert result.assumptions == ["rates are ours"]


def test_lock_summary_takes_the_strongest_lock_and_longest_blocking_step(fake_planner: list[PlanContext]) -> None:
    result = plan_module.plan_migration("SELECT 1;", version="16")
    by_table = {lock.table: lock for lock in result.locks}
    assert by_table["orders"].strongest_lock == "ACCESS EXCLUSIVE"
    assert by_table["orders"].steps == [1, 2, 4, 6]  # the deploy step has no lock
    assert by_table["orders"].longest_blocking_seconds == 0.01  # only metadata steps block on orders
    users = by_table["users"]
    # 2 GiB scanned at 200 MB/s under ACCESS EXCLUSIVE
    assert users.blocks == "reads and writes" and users.longest_blocking_seconds == pytest.approx(10.25, abs=0.01)
    assert "ACCESS EXCLUSIVE on users for ~10 s" in result.summary
    assert "Step 3 cannot be undone" in result.summary
    assert "1 application deploy step must happen" in result.summary


def test_unknown_version_is_stated_as_an_assumption(fake_planner: list[PlanContext]) -> None:
    result = plan_module.plan_migration("SELECT 1;")
    assert result.version == "15"
    assert result.assumptions[0].startswith("server version not given: assumed postgres 15")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "give either `change`"),
        ({"change": "x", "target_ddl": "y"}, "give either `change`"),
        ({"target_ddl": "CREATE TABLE t (id int);"}, "diffed against the current schema"),
        ({"change": "x", "dialect": "oracle"}, "unknown dialect 'oracle'"),
        ({"change": "x", "table_stats": {"t": {"rowz": 1}}}, "unknown keys ['rowz']"),
        ({"change": "x", "table_stats": {"t": {"rows": -1}}}, "table_stats['t']"),
        ({"change": "x", "version": "latest"}, "cannot read a version number"),
        ({"change": "x" * 5_000_001}, "the limit is 5,000,000"),
        ({"target_ddl": "CREATE TABLE t (id int);", "current_ddl": "x", "dialect": "mongodb"}, "MongoDB has none"),
        (
            {"target_ddl": "CREATE TABLE (((", "current_ddl": "CREATE TABLE t (id int);"},
            "from `target_ddl`: 1 statement",
        ),
        (
            {"target_ddl": "CREATE TABLE t (id int);", "current_ddl": "CREATE TABLE t (id int); garbage;"},
            "from `current_ddl`: 1 statement",
        ),
    ],
)
def test_bad_input_gets_an_actionable_message(
    fake_planner: list[PlanContext], kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(MigrationInputError, match=message.replace("[", r"\[").replace("(", r"\(")):
        plan_module.plan_migration(**kwargs)  # type: ignore[arg-type]


def test_statements_are_reported_as_written_with_trigger_bodies_whole() -> None:
    sql = (
        "ALTER TABLE t ADD c NUMERIC(10,2); -- note; not a statement\n"
        "UPDATE t SET a = ';';\nBEGIN;\n"
        "CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1; UPDATE t SET a = 1; END;\nCOMMIT;\n-- the end"
    )
    assert plan_module._statement_texts(sql, "sqlite") == [
        "ALTER TABLE t ADD c NUMERIC(10,2)",
        "UPDATE t SET a = ';'",
        "BEGIN",
        "CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1; UPDATE t SET a = 1; END",
        "COMMIT",
    ]
    mysql = sql.replace("CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1; UPDATE t SET a = 1; END", "SELECT 2")
    assert plan_module._statement_texts(mysql, "mysql") == [
        "ALTER TABLE t ADD c NUMERIC(10,2)",
        "UPDATE t SET a = ';'",
        "BEGIN",
        "SELECT 2",
        "COMMIT",
    ]
