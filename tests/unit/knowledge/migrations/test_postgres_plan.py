"""plan_postgres: the exact SQL, phases, lock flags and version gates of every safe rewrite."""

from __future__ import annotations

import ast

import pytest

from dbspecialist.knowledge.ddl.dispatch import parse_ddl
from dbspecialist.knowledge.migrations.context import PlanContext, PlannerOutput
from dbspecialist.knowledge.migrations.model import MigrationInputError, MigrationStep, TableStats
from dbspecialist.knowledge.migrations.postgres_plan import plan_postgres
from dbspecialist.knowledge.migrations.postgres_rewrites_rules import RULES

DDL = """
CREATE TABLE users (id bigint PRIMARY KEY, email text);
CREATE TABLE orders (
    id bigint PRIMARY KEY,
    user_id int NOT NULL REFERENCES users (id),
    note varchar(20),
    total numeric(10,2) NOT NULL DEFAULT 0,
    ts timestamp,
    status text NOT NULL,
    legacy text
);
CREATE INDEX orders_user_id_idx ON orders (user_id);
CREATE INDEX orders_ts_idx ON orders (ts);
CREATE TABLE events (id bigint, k int) PARTITION BY RANGE (k);
CREATE TABLE ev2 (id bigint, k int);
CREATE MATERIALIZED VIEW totals AS SELECT user_id, sum(total) AS s FROM orders GROUP BY user_id;
CREATE UNIQUE INDEX totals_user_id ON totals (user_id);
"""
GIB = 1024**3


def plan(
    sql: str, version: tuple[int, int, int] = (15, 0, 0), *, catalog: bool = True, given: bool = True
) -> PlannerOutput:
    cat = parse_ddl(DDL, "postgres").catalog if catalog else None
    stats = {"orders": TableStats(rows=10_000_000, bytes=2 * GIB)}
    return plan_postgres(sql, PlanContext("postgres", version, given, stats, cat))


def sql_by_phase(out: PlannerOutput) -> list[tuple[str, str, list[str]]]:
    return [(s.phase, s.kind, s.sql) for s in out.steps]


def only(out: PlannerOutput, title_part: str) -> MigrationStep:
    found = [s for s in out.steps if title_part in s.title]
    assert len(found) == 1, [s.title for s in out.steps]
    return found[0]


def rule_ids(out: PlannerOutput) -> list[str]:
    return sorted(f.rule_id for f in out.findings)


# ------------------------------------------------------------------------------------------------ columns


def test_add_column_constant_default_is_one_metadata_step_on_11() -> None:
    out = plan("ALTER TABLE orders ADD COLUMN flag boolean NOT NULL DEFAULT false")
    assert sql_by_phase(out) == [
        ("expand", "sql", ["ALTER TABLE orders ADD COLUMN flag boolean NOT NULL DEFAULT false"])
    ]
    step = out.steps[0]
    assert step.lock is not None and step.lock.mode == "ACCESS EXCLUSIVE"
    assert (step.blocks_reads, step.blocks_writes, step.table_effect, step.transactional) == (
        True,
        True,
        "metadata",
        True,
    )
    assert step.preamble == ["SET lock_timeout = '2s'", "SET statement_timeout = '5s'"]
    assert step.rollback == ["ALTER TABLE orders DROP COLUMN flag"]
    assert step.retry is not None and "pg_stat_activity" in step.retry and "55P03" in step.retry
    assert out.findings == []


def test_add_column_constant_default_before_11_is_backfilled() -> None:
    out = plan("ALTER TABLE orders ADD COLUMN flag boolean DEFAULT false", (10, 0, 0))
    assert [s.phase for s in out.steps] == ["expand", "backfill"]
    assert out.steps[0].sql == [
        "ALTER TABLE orders ADD COLUMN flag boolean",
        "ALTER TABLE orders ALTER COLUMN flag SET DEFAULT FALSE",
    ]
    assert "SET flag = FALSE" in out.steps[1].sql[0]
    assert "(flag IS NULL)" in out.steps[1].sql[0]


def test_add_column_volatile_default_not_null() -> None:
    out = plan("ALTER TABLE orders ADD COLUMN ref uuid NOT NULL DEFAULT gen_random_uuid()")
    # the NOT VALID CHECK comes after the backfill: it is enforced on updates of rows not yet backfilled
    assert [(s.phase, s.kind) for s in out.steps] == [
        ("expand", "sql"),
        ("backfill", "script"),
        ("validate", "sql"),
        ("validate", "sql"),
        ("validate", "sql"),
        ("validate", "sql"),
    ]
    assert out.steps[0].sql == [
        "ALTER TABLE orders ADD COLUMN ref uuid",
        "ALTER TABLE orders ALTER COLUMN ref SET DEFAULT gen_random_uuid()",
    ]
    backfill = out.steps[1]
    assert backfill.command == 'python backfill_orders_ref.py "$DATABASE_URL"'
    assert backfill.lock is not None and backfill.lock.mode == "ROW EXCLUSIVE"
    assert (backfill.blocks_reads, backfill.blocks_writes, backfill.table_effect) == (False, False, "rows")
    assert backfill.estimate is not None and backfill.estimate.seconds == 400.0  # 2,000 batches x (0.15 + 0.05) s
    assert backfill.preamble == ["SET lock_timeout = '2s'", "SET statement_timeout = '60s'"]
    assert [s.sql for s in out.steps[2:]] == [
        ["ALTER TABLE orders ADD CONSTRAINT orders_ref_not_null CHECK (ref IS NOT NULL) NOT VALID"],
        ["ALTER TABLE orders VALIDATE CONSTRAINT orders_ref_not_null"],
        ["ALTER TABLE orders ALTER COLUMN ref SET NOT NULL"],
        ["ALTER TABLE orders DROP CONSTRAINT orders_ref_not_null"],
    ]
    validate = out.steps[3]
    assert validate.lock is not None and validate.lock.mode == "SHARE UPDATE EXCLUSIVE"
    assert (validate.blocks_writes, validate.table_effect) == (False, "scan")
    assert validate.preamble == ["SET lock_timeout = 0", "SET statement_timeout = 0"]
    assert out.steps[4].table_effect == "metadata"  # SET NOT NULL proven by the CHECK
    assert out.backfill_script is not None and "# ---- backfill_orders_ref.py ----" in out.backfill_script
    ast.parse(out.backfill_script.split("\n", 1)[1])
    assert any("keyset batches of 5,000 rows" in a for a in out.assumptions)


def test_add_required_column_without_default() -> None:
    out = plan("ALTER TABLE orders ADD COLUMN region text NOT NULL")
    assert rule_ids(out) == ["MIG202"]
    assert out.steps[0].sql == ["ALTER TABLE orders ADD COLUMN region text"]
    deploy = out.steps[1]
    assert (deploy.phase, deploy.kind) == ("expand", "deploy")
    assert "writes orders.region on every INSERT" in deploy.title
    assert "region = <value for existing rows>" in out.steps[2].sql[0]


@pytest.mark.parametrize(("version", "steps"), [((11, 0, 0), 4), ((12, 0, 0), 4), ((17, 0, 0), 4), ((18, 0, 0), 2)])
def test_set_not_null_versions(version: tuple[int, int, int], steps: int) -> None:
    out = plan("ALTER TABLE orders ALTER COLUMN note SET NOT NULL", version)
    if version >= (18, 0, 0):
        assert [s.sql[0] for s in out.steps] == [
            "ALTER TABLE orders ADD CONSTRAINT orders_note_not_null NOT NULL note NOT VALID",
            "ALTER TABLE orders VALIDATE CONSTRAINT orders_note_not_null",
        ]
        return
    if version < (12, 0, 0):
        assert [s.sql[0] for s in out.steps] == [
            "ALTER TABLE orders ADD CONSTRAINT orders_note_not_null CHECK (note IS NOT NULL) NOT VALID",
            "ALTER TABLE orders VALIDATE CONSTRAINT orders_note_not_null",
        ]
        assert rule_ids(out) == ["MIG203"]
        return
    assert len(out.steps) == steps
    assert out.steps[2].sql == ["ALTER TABLE orders ALTER COLUMN note SET NOT NULL"]
    assert out.findings == []


def test_set_not_null_with_existing_valid_check_is_one_step() -> None:
    out = plan(
        "ALTER TABLE orders ADD CONSTRAINT nn CHECK (note IS NOT NULL) NOT VALID;"
        "ALTER TABLE orders VALIDATE CONSTRAINT nn;"
        "ALTER TABLE orders ALTER COLUMN note SET NOT NULL;"
    )
    assert [s.sql[0] for s in out.steps] == [
        "ALTER TABLE orders ADD CONSTRAINT nn CHECK (note IS NOT NULL) NOT VALID",
        "ALTER TABLE orders VALIDATE CONSTRAINT nn",
        "ALTER TABLE orders ALTER COLUMN note SET NOT NULL",
    ]
    assert out.steps[2].table_effect == "metadata"


def test_safe_type_change_is_one_metadata_step() -> None:
    out = plan("ALTER TABLE orders ALTER COLUMN note TYPE varchar(50)")
    (step,) = out.steps
    assert step.sql == ["ALTER TABLE orders ALTER COLUMN note TYPE varchar(50)"]
    assert step.rollback == ["ALTER TABLE orders ALTER COLUMN note TYPE character varying(20)"]
    assert step.table_effect == "metadata"


def test_timestamptz_change_runs_with_utc_session() -> None:
    out = plan("SET timezone = 'UTC'; ALTER TABLE orders ALTER COLUMN ts TYPE timestamptz")
    (step,) = out.steps
    assert step.table_effect == "build"  # orders_ts_idx is rebuilt
    assert step.preamble[-1] == "SET timezone = 'UTC'"
    assert rule_ids(out) == ["MIG200"]


def test_unsafe_type_change_is_new_column_trigger_backfill_swap() -> None:
    out = plan("ALTER TABLE orders ALTER COLUMN user_id TYPE bigint")
    phases = [(s.phase, s.kind, s.title.split(" ")[0]) for s in out.steps]
    assert phases[0] == ("expand", "sql", "Add")
    assert out.steps[0].sql == ["ALTER TABLE orders ADD COLUMN user_id_new bigint"]
    trigger = out.steps[1]
    assert trigger.sql == [
        "CREATE FUNCTION orders_user_id_type_sync() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        "BEGIN\n    NEW.user_id_new := NEW.user_id::bigint;\n    RETURN NEW;\nEND\n$$",
        "CREATE TRIGGER orders_user_id_type_sync BEFORE INSERT OR UPDATE ON orders "
        "FOR EACH ROW EXECUTE FUNCTION orders_user_id_type_sync()",
    ]
    assert trigger.lock is not None and trigger.lock.mode == "SHARE ROW EXCLUSIVE"
    assert (trigger.blocks_reads, trigger.blocks_writes) == (False, True)
    backfill = only(out, "Backfill user_id_new")
    assert "WHERE id > $1::text::bigint AND (user_id_new IS NULL AND user_id IS NOT NULL)" in backfill.sql[0]
    assert "SET user_id_new = user_id::bigint" in backfill.sql[0]
    fk = only(out, "Copy foreign key")
    assert fk.sql == [
        "ALTER TABLE orders ADD CONSTRAINT orders_user_id_fkey_new FOREIGN KEY (user_id_new) "
        "REFERENCES users (id) NOT VALID"
    ]
    assert fk.lock is not None and fk.lock.tables == ["orders", "users"]
    index = only(out, "Build a copy of index orders_user_id_idx")
    assert index.sql == ["CREATE INDEX CONCURRENTLY orders_user_id_idx_new ON orders (user_id_new)"]
    assert (index.transactional, index.blocks_writes) == (False, False)
    swap = only(out, "Swap user_id_new in")
    assert swap.phase == "switch"
    assert swap.sql == [
        "BEGIN",
        "DROP TRIGGER orders_user_id_type_sync ON orders",
        "DROP FUNCTION orders_user_id_type_sync()",
        "ALTER TABLE orders RENAME COLUMN user_id TO user_id_old",
        "ALTER TABLE orders RENAME COLUMN user_id_new TO user_id",
        "ALTER INDEX orders_user_id_idx RENAME TO orders_user_id_idx_old",
        "ALTER INDEX orders_user_id_idx_new RENAME TO orders_user_id_idx",
        "ALTER TABLE orders ALTER COLUMN user_id_old DROP NOT NULL",
        "COMMIT",
    ]
    assert [(s.phase, s.kind) for s in out.steps[-2:]] == [("contract", "deploy"), ("contract", "sql")]
    assert out.steps[-1].sql == ["ALTER TABLE orders DROP COLUMN user_id_old"]
    assert out.steps[-1].reversible is False
    assert "ORM: mark user_id_old ignored" in out.steps[-2].title


def test_type_change_with_using_expression() -> None:
    out = plan("ALTER TABLE orders ALTER COLUMN note TYPE varchar(10) USING left(note, 10)")
    assert 'NEW.note_new := "left"(new.note, 10);' in out.steps[1].sql[0]
    assert 'SET note_new = "left"(note, 10)' in only(out, "Backfill").sql[0]


def test_type_change_on_version_10_uses_execute_procedure() -> None:
    out = plan("ALTER TABLE orders ALTER COLUMN user_id TYPE bigint", (10, 0, 0))
    assert out.steps[1].sql[1].endswith("EXECUTE PROCEDURE orders_user_id_type_sync()")


def test_primary_key_type_change_swaps_the_constraint_and_flags_referencing_fks() -> None:
    out = plan("ALTER TABLE users ALTER COLUMN id TYPE numeric")
    assert only(out, "future primary key").sql == ["CREATE UNIQUE INDEX CONCURRENTLY users_pkey_new ON users (id_new)"]
    swap = only(out, "Swap id_new in")
    assert (
        "ALTER TABLE users DROP CONSTRAINT users_pkey, ADD CONSTRAINT users_pkey PRIMARY KEY USING INDEX users_pkey_new"
        in swap.sql
    )
    assert rule_ids(out) == ["MIG204"]


def test_rename_column_expand_contract() -> None:
    out = plan("ALTER TABLE orders RENAME COLUMN note TO remark")
    assert out.steps[0].sql == ["ALTER TABLE orders ADD COLUMN remark character varying(20)"]
    body = out.steps[1].sql[0]
    assert "IF TG_OP = 'UPDATE' AND NEW.remark IS DISTINCT FROM OLD.remark THEN" in body
    assert "NEW.remark := NEW.note;" in body
    assert only(out, "Copy note into remark").sql[0].count("remark IS NULL AND note IS NOT NULL") == 1
    deploys = [s.title for s in out.steps if s.kind == "deploy"]
    assert deploys == [
        "Deploy the application version that reads and writes orders.remark instead of note",
        "Make sure no deployed code reads or writes orders.note (ORM: mark note ignored)",
    ]
    assert out.steps[-1].sql == [
        "BEGIN",
        "DROP TRIGGER orders_note_remark_sync ON orders",
        "DROP FUNCTION orders_note_remark_sync()",
        "ALTER TABLE orders DROP COLUMN note",
        "COMMIT",
    ]


def test_rename_column_without_catalog_renames_in_place_after_a_compatible_deploy() -> None:
    out = plan("ALTER TABLE orders RENAME COLUMN note TO remark", catalog=False)
    assert [(s.phase, s.kind) for s in out.steps] == [("switch", "deploy"), ("switch", "sql")]
    assert out.steps[1].sql == ["ALTER TABLE orders RENAME COLUMN note TO remark"]
    assert out.steps[1].rollback == ["ALTER TABLE orders RENAME COLUMN remark TO note"]


def test_drop_column_in_two_deploys() -> None:
    out = plan("ALTER TABLE orders DROP COLUMN status")
    assert [(s.phase, s.kind) for s in out.steps] == [("expand", "sql"), ("switch", "deploy"), ("contract", "sql")]
    assert out.steps[0].sql == ["ALTER TABLE orders ALTER COLUMN status DROP NOT NULL"]
    assert out.steps[2].sql == ["ALTER TABLE orders DROP COLUMN status"]
    assert out.steps[2].reversible is False
    nullable = plan("ALTER TABLE orders DROP COLUMN legacy")
    assert [s.kind for s in nullable.steps] == ["deploy", "sql"]


def test_new_identity_column() -> None:
    out = plan("ALTER TABLE orders ADD COLUMN seq bigint GENERATED ALWAYS AS IDENTITY")
    assert out.steps[0].sql == [
        "ALTER TABLE orders ADD COLUMN seq bigint",
        "CREATE SEQUENCE orders_seq_backfill_seq AS bigint OWNED BY orders.seq",
        "ALTER TABLE orders ALTER COLUMN seq SET DEFAULT nextval('orders_seq_backfill_seq')",
    ]
    assert "SET seq = nextval('orders_seq_backfill_seq')" in out.steps[1].sql[0]
    assert out.steps[-1].sql == [
        "BEGIN",
        "ALTER TABLE orders ALTER COLUMN seq DROP DEFAULT",
        "ALTER TABLE orders ALTER COLUMN seq ADD GENERATED ALWAYS AS IDENTITY",
        "SELECT setval(pg_get_serial_sequence('orders', 'seq'), nextval('orders_seq_backfill_seq'))",
        "DROP SEQUENCE orders_seq_backfill_seq",
        "COMMIT",
    ]


def test_identity_on_existing_column() -> None:
    out = plan("ALTER TABLE orders ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY")
    (step,) = out.steps  # id is NOT NULL already: no CHECK sequence
    assert step.sql[1] == "ALTER TABLE orders ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY"
    assert "coalesce(max(id), 0) + 1, false" in step.sql[2]


def test_bigserial_column() -> None:
    out = plan("ALTER TABLE orders ADD COLUMN n bigserial")
    assert out.steps[0].sql[1] == "CREATE SEQUENCE orders_n_seq AS bigint OWNED BY orders.n"
    assert out.steps[1].phase == "backfill"


def test_stored_generated_column_passes_with_blocking_finding() -> None:
    out = plan("ALTER TABLE orders ADD COLUMN t2 numeric GENERATED ALWAYS AS (total * 2) STORED")
    assert out.steps[0].table_effect == "rewrite"
    assert rule_ids(out) == ["MIG200"]
    assert out.findings[0].evidence["estimated_seconds"] == pytest.approx(40.97)


# ------------------------------------------------------------------------------------------------ constraints


def test_foreign_key_not_valid_then_validate() -> None:
    out = plan("ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id)")
    assert sql_by_phase(out) == [
        (
            "expand",
            "sql",
            ["ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID"],
        ),
        ("validate", "sql", ["ALTER TABLE orders VALIDATE CONSTRAINT orders_user_fk"]),
    ]
    add = out.steps[0]
    assert add.lock is not None and (add.lock.mode, add.lock.tables) == ("SHARE ROW EXCLUSIVE", ["orders", "users"])
    assert (add.blocks_reads, add.blocks_writes) == (False, True)
    assert out.steps[1].estimate is not None and out.steps[1].estimate.seconds == pytest.approx(10.25)


def test_check_gets_a_name_when_unnamed() -> None:
    out = plan("ALTER TABLE orders ADD CHECK (total >= 0)")
    assert [s.sql[0] for s in out.steps] == [
        "ALTER TABLE orders ADD CONSTRAINT orders_total_check CHECK (total >= 0) NOT VALID",
        "ALTER TABLE orders VALIDATE CONSTRAINT orders_total_check",
    ]


def test_unique_via_concurrent_index() -> None:
    out = plan("ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email)")
    assert [(s.kind, s.sql) for s in out.steps] == [
        ("sql", ["CREATE UNIQUE INDEX CONCURRENTLY users_email_key ON users (email)"]),
        ("check", ["SELECT indisvalid FROM pg_index WHERE indexrelid = 'users_email_key'::regclass"]),
        ("sql", ["ANALYZE users"]),
        ("sql", ["ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE USING INDEX users_email_key"]),
    ]
    assert out.steps[0].rollback == ["DROP INDEX CONCURRENTLY IF EXISTS users_email_key"]
    assert out.steps[0].retry is not None and "INVALID" in out.steps[0].retry


def test_add_column_with_inline_constraints_splits_them() -> None:
    out = plan("ALTER TABLE orders ADD COLUMN buyer bigint REFERENCES users (id)")
    assert [s.sql[0] for s in out.steps] == [
        "ALTER TABLE orders ADD COLUMN buyer bigint",
        "ALTER TABLE orders ADD CONSTRAINT orders_buyer_fkey FOREIGN KEY (buyer) REFERENCES users (id) NOT VALID",
        "ALTER TABLE orders VALIDATE CONSTRAINT orders_buyer_fkey",
    ]


def test_primary_key_change() -> None:
    out = plan("ALTER TABLE orders DROP CONSTRAINT orders_pkey, ADD PRIMARY KEY (id, user_id)")
    assert out.steps[0].sql == ["CREATE UNIQUE INDEX CONCURRENTLY orders_pkey_new ON orders (id, user_id)"]
    swap = out.steps[-1]
    assert swap.phase == "switch"
    assert swap.sql == [
        "ALTER TABLE orders DROP CONSTRAINT orders_pkey, "
        "ADD CONSTRAINT orders_pkey PRIMARY KEY USING INDEX orders_pkey_new"
    ]
    assert swap.reversible is False


def test_add_primary_key_on_nullable_column_proves_not_null_first() -> None:
    out = plan("ALTER TABLE ev2 ADD PRIMARY KEY (id)")
    assert [s.sql[0] for s in out.steps][:2] == [
        "ALTER TABLE ev2 ADD CONSTRAINT ev2_id_not_null CHECK (id IS NOT NULL) NOT VALID",
        "ALTER TABLE ev2 VALIDATE CONSTRAINT ev2_id_not_null",
    ]
    assert out.steps[-1].sql == ["ALTER TABLE ev2 ADD CONSTRAINT ev2_pkey PRIMARY KEY USING INDEX ev2_pkey"]


# ------------------------------------------------------------------------------------------------ indexes


def test_create_index_becomes_concurrent_with_check_and_analyze() -> None:
    out = plan("CREATE INDEX orders_note_idx ON orders (note)")
    assert [(s.kind, s.sql[0]) for s in out.steps] == [
        ("sql", "CREATE INDEX CONCURRENTLY orders_note_idx ON orders (note)"),
        ("check", "SELECT indisvalid FROM pg_index WHERE indexrelid = 'orders_note_idx'::regclass"),
        ("sql", "ANALYZE orders"),
    ]
    build = out.steps[0]
    assert build.lock is not None and build.lock.mode == "SHARE UPDATE EXCLUSIVE"
    assert (build.transactional, build.blocks_reads, build.blocks_writes, build.table_effect) == (
        False,
        False,
        False,
        "build",
    )
    assert build.estimate is not None and build.estimate.seconds == pytest.approx(64.01)
    assert "two passes of CONCURRENTLY" in build.estimate.basis
    assert build.preamble == ["SET lock_timeout = 0", "SET statement_timeout = 0"]


def test_unnamed_expression_index_gets_a_clean_name() -> None:
    out = plan("CREATE INDEX ON orders (lower(note))")
    assert out.steps[0].sql == ["CREATE INDEX CONCURRENTLY orders_lower_note_idx ON orders ((lower(note)))"]


@pytest.mark.parametrize(
    ("version", "flagged"),
    [((14, 0, 0), True), ((14, 2, 0), True), ((14, 3, 0), True), ((14, 4, 0), False), ((13, 9, 0), False)],
)
def test_cic_corruption_warning(version: tuple[int, int, int], flagged: bool) -> None:
    out = plan("CREATE INDEX a ON orders (note); CREATE INDEX b ON orders (status)", version)
    assert rule_ids(out) == (["MIG201"] if flagged else [])


def test_user_concurrent_index_kept_with_if_not_exists_warning() -> None:
    out = plan("CREATE INDEX CONCURRENTLY IF NOT EXISTS i ON orders (note)")
    assert out.steps[0].sql == ["CREATE INDEX CONCURRENTLY IF NOT EXISTS i ON orders (note)"]
    assert any("IF NOT EXISTS skips" in n for n in out.steps[0].notes)


def test_drop_index_concurrently_with_rollback_from_catalog() -> None:
    out = plan("DROP INDEX orders_ts_idx")
    (step,) = out.steps
    assert (step.phase, step.sql) == ("contract", ["DROP INDEX CONCURRENTLY IF EXISTS orders_ts_idx"])
    assert step.rollback == ["CREATE INDEX CONCURRENTLY orders_ts_idx ON orders (ts)"]
    assert step.transactional is False


@pytest.mark.parametrize(
    ("version", "sql"),
    [((12, 0, 0), "REINDEX INDEX CONCURRENTLY orders_ts_idx"), ((11, 0, 0), "REINDEX INDEX orders_ts_idx")],
)
def test_reindex_versions(version: tuple[int, int, int], sql: str) -> None:
    out = plan("REINDEX INDEX orders_ts_idx", version)
    assert out.steps[0].sql == [sql]
    assert out.steps[0].table == "orders"


# ------------------------------------------------------------------------------------------------ tables


def test_rename_table_with_compatibility_view() -> None:
    out = plan("ALTER TABLE orders RENAME TO purchases")
    assert sql_by_phase(out) == [
        (
            "expand",
            "sql",
            [
                "BEGIN",
                "ALTER TABLE orders RENAME TO purchases",
                "CREATE VIEW orders AS SELECT * FROM purchases",
                "COMMIT",
            ],
        ),
        ("switch", "deploy", []),
        ("contract", "sql", ["DROP VIEW orders"]),
    ]


def test_drop_table_in_two_deploys_rename_first() -> None:
    out = plan("DROP TABLE users")
    assert sql_by_phase(out) == [
        ("switch", "deploy", []),
        ("contract", "sql", ["ALTER TABLE users RENAME TO users_to_drop"]),
        ("contract", "sql", ["DROP TABLE users_to_drop"]),
    ]
    assert out.steps[1].rollback == ["ALTER TABLE users_to_drop RENAME TO users"]
    assert any("orders.orders_user_id_fkey" in n for n in out.steps[2].notes)


def test_truncate_passes_through_irreversibly() -> None:
    (step,) = plan("TRUNCATE orders").steps
    assert (step.sql, step.reversible, step.table_effect) == (["TRUNCATE orders"], False, "metadata")
    assert step.lock is not None and step.lock.mode == "ACCESS EXCLUSIVE"


def test_create_table_needs_nothing_but_notes_referenced_lock() -> None:
    out = plan("CREATE TABLE n (id bigint PRIMARY KEY, u bigint REFERENCES users (id)); CREATE INDEX ON n (u)")
    assert [s.sql[0] for s in out.steps] == [
        "CREATE TABLE n (id bigint PRIMARY KEY, u bigint REFERENCES users (id))",
        "CREATE INDEX ON n (u)",
    ]
    assert out.steps[0].rollback == ["DROP TABLE n"]
    assert "Also takes SHARE ROW EXCLUSIVE on users." in out.steps[0].notes
    assert out.findings == []


def test_vacuum_full_passes_through_outside_transactions_with_finding() -> None:
    (step,) = plan("VACUUM FULL orders").steps
    assert step.transactional is False
    assert step.preamble == ["SET lock_timeout = '2s'", "SET statement_timeout = '123s'"]  # 3 x 41 s
    assert rule_ids(plan("VACUUM FULL orders")) == ["MIG200"]


def test_update_becomes_batched() -> None:
    out = plan("UPDATE orders SET status = 'new' WHERE status IS NULL")
    (step,) = out.steps
    assert step.kind == "script"
    assert "UPDATE orders SET status = 'new'" in step.sql[0]
    assert "(status IS NULL)" in step.sql[0]


def test_refresh_materialized_view_uses_concurrently_when_possible() -> None:
    (step,) = plan("REFRESH MATERIALIZED VIEW totals").steps
    assert step.sql == ["REFRESH MATERIALIZED VIEW CONCURRENTLY totals"]
    assert step.lock is not None and step.lock.mode == "EXCLUSIVE"


# ------------------------------------------------------------------------------------------------ enums, partitions


@pytest.mark.parametrize(("version", "transactional"), [((11, 0, 0), False), ((12, 0, 0), True)])
def test_enum_value(version: tuple[int, int, int], transactional: bool) -> None:
    (step,) = plan("alter type mood add value 'meh'", version).steps
    assert step.sql == ["alter type mood add value IF NOT EXISTS 'meh'"]
    assert (step.blocks_reads, step.blocks_writes) == (False, False)  # the lock is on the type, not on tables
    assert step.lock is not None and step.lock.tables == []
    assert step.transactional is transactional
    assert step.reversible is False
    assert any("type swap" in n for n in step.notes)


def test_attach_partition_with_matching_check() -> None:
    out = plan("ALTER TABLE events ATTACH PARTITION ev2 FOR VALUES FROM (10) TO (20)")
    assert sql_by_phase(out) == [
        (
            "expand",
            "sql",
            ["ALTER TABLE ev2 ADD CONSTRAINT ev2_bound CHECK (k IS NOT NULL AND k >= 10 AND k < 20) NOT VALID"],
        ),
        ("validate", "sql", ["ALTER TABLE ev2 VALIDATE CONSTRAINT ev2_bound"]),
        ("switch", "sql", ["ALTER TABLE events ATTACH PARTITION ev2 FOR VALUES FROM (10) TO (20)"]),
        ("contract", "sql", ["ALTER TABLE ev2 DROP CONSTRAINT ev2_bound"]),
    ]
    attach = out.steps[2]
    assert attach.lock is not None and attach.lock.mode == "SHARE UPDATE EXCLUSIVE"
    assert attach.table_effect == "metadata"


def test_attach_without_catalog_scans() -> None:
    (step,) = plan("ALTER TABLE events ATTACH PARTITION ev2 FOR VALUES FROM (10) TO (20)", catalog=False).steps
    assert step.table_effect == "scan"


@pytest.mark.parametrize(("version", "concurrently"), [((13, 0, 0), False), ((14, 0, 0), True)])
def test_detach_partition_versions(version: tuple[int, int, int], concurrently: bool) -> None:
    (step,) = plan("ALTER TABLE events DETACH PARTITION ev2", version).steps
    assert step.sql[0].endswith("CONCURRENTLY") is concurrently
    assert step.transactional is not concurrently


def test_default_partition_blocks_detach_concurrently() -> None:
    cat = parse_ddl(DDL + "CREATE TABLE evd PARTITION OF events DEFAULT;", "postgres").catalog
    out = plan_postgres("ALTER TABLE events DETACH PARTITION ev2", PlanContext("postgres", (16, 0, 0), True, {}, cat))
    assert out.steps[0].sql == ["ALTER TABLE events DETACH PARTITION ev2"]
    assert rule_ids(out) == ["MIG205"]


# ------------------------------------------------------------------------------------------------ plan-wide


def test_unrewritten_subcommands_stay_together_and_rewritten_ones_split() -> None:
    out = plan("ALTER TABLE orders SET (fillfactor = 80), ALTER COLUMN note SET STATISTICS 500, ADD CHECK (total >= 0)")
    assert out.steps[0].sql == ["ALTER TABLE orders SET (fillfactor = 80), ALTER COLUMN note SET STATISTICS 500"]
    assert out.steps[0].lock is not None and out.steps[0].lock.mode == "SHARE UPDATE EXCLUSIVE"
    assert out.steps[0].blocks_writes is False
    assert len(out.steps) == 3


def test_transaction_statements_are_dropped_with_a_note() -> None:
    out = plan("BEGIN; ALTER TABLE orders ALTER COLUMN note SET STATISTICS 100; COMMIT;")
    assert [s.sql for s in out.steps] == [["ALTER TABLE orders ALTER COLUMN note SET STATISTICS 100"]]
    assert any("BEGIN/COMMIT" in n for n in out.notes)


def test_statement_without_table_lock() -> None:
    (step,) = plan("CREATE SEQUENCE s").steps
    assert (step.lock, step.table_effect, step.sql) == (None, "none", ["CREATE SEQUENCE s"])


def test_version_assumed_finding() -> None:
    out = plan("ALTER TABLE orders ADD COLUMN x int", given=False)
    assert rule_ids(out) == ["MIG206"]


def test_unknown_size_gives_no_seconds() -> None:
    out = plan("ALTER TABLE users ADD CONSTRAINT fk CHECK (id > 0)")
    validate = out.steps[1]
    assert validate.estimate is not None and validate.estimate.seconds is None
    assert "table size unknown" in validate.estimate.basis


def test_parse_error_is_an_input_error() -> None:
    with pytest.raises(MigrationInputError):
        plan("ALTER TABLE orders ADD COLUMN")


def test_rules_are_documented_and_numbered() -> None:
    ids = [spec.id for spec, _ in RULES]
    assert ids == ["MIG200", "MIG201", "MIG202", "MIG203", "MIG204", "MIG205", "MIG206"]
    for spec, builder in RULES:
        assert spec.capability == "migrations"
        assert builder.__doc__ and len(builder.__doc__.strip().splitlines()) > 2


def test_views_reading_a_swapped_column_are_flagged() -> None:
    out = plan("ALTER TABLE orders ALTER COLUMN total TYPE bigint")
    assert any("totals reads orders.total" in n and "before dropping total_old" in n for n in out.notes)
    assert not any("totals" in n for n in plan("ALTER TABLE orders ALTER COLUMN status TYPE varchar(5)").notes)


def test_index_on_a_backfilled_column_is_built_after_the_backfill() -> None:
    out = plan("ALTER TABLE orders ADD COLUMN ref uuid DEFAULT gen_random_uuid(); CREATE INDEX ON orders (ref)")
    build = only(out, "Build index orders_ref_idx")
    assert build.phase == "validate"
    assert only(out, "Build index").phase == "validate"
    assert plan("CREATE INDEX ON orders (note)").steps[0].phase == "expand"


def test_a_column_is_made_not_null_once() -> None:
    out = plan(
        "ALTER TABLE orders ALTER COLUMN note SET NOT NULL;"
        "ALTER TABLE orders DROP CONSTRAINT orders_pkey, ADD PRIMARY KEY (id, note)"
    )
    checks = [s for s in out.steps if "CHECK (note IS NOT NULL)" in s.title]
    assert len(checks) == 1
    pk = plan("ALTER TABLE orders ALTER COLUMN note SET NOT NULL; ALTER TABLE ev2 ADD PRIMARY KEY (id)")
    assert len([s for s in pk.steps if "IS NOT NULL) NOT VALID" in s.title]) == 2  # note, and ev2.id
