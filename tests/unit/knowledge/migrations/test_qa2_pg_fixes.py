"""Defects from the second PostgreSQL QA pass (migrations), planned offline; the live runs are in
tests/integration/postgres/test_qa2_migration_plans.py."""

from __future__ import annotations

from dbspecialist.knowledge.findings import Finding, Severity
from dbspecialist.knowledge.migrations.backfill import Backfill, backfill_script
from dbspecialist.knowledge.migrations.lint import lint_migration
from dbspecialist.knowledge.migrations.model import MigrationPlan
from dbspecialist.knowledge.migrations.plan import plan_migration

SHOP = """
CREATE TABLE shop.customers (id bigserial PRIMARY KEY, email text NOT NULL);
CREATE TABLE shop.audit_log (msg text, at timestamp);
CREATE TABLE shop.keyed_log (code text NOT NULL, at timestamp, note text);
CREATE UNIQUE INDEX keyed_log_code_key ON shop.keyed_log (code);
CREATE TABLE shop.events (
    id bigint GENERATED ALWAYS AS IDENTITY,
    customer_id bigint,
    kind text NOT NULL,
    occurred_at timestamptz NOT NULL,
    PRIMARY KEY (id, occurred_at)
) PARTITION BY RANGE (occurred_at);
CREATE TABLE shop.events_2024 PARTITION OF shop.events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE shop.events_2025 PARTITION OF shop.events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
"""


def plan(change: str, **kwargs: object) -> MigrationPlan:
    kwargs.setdefault("current_ddl", SHOP)
    kwargs.setdefault("version", "15")
    return plan_migration(change, **kwargs)  # type: ignore[arg-type]


def finding(p: MigrationPlan, rule_id: str) -> Finding:
    return next(f for f in p.findings if f.rule_id == rule_id)


# ------------------------------------------------------------------------------------- 3: backfill without an id


def test_backfill_on_a_table_without_a_key_walks_heap_pages_not_a_made_up_id() -> None:
    p = plan("ALTER TABLE shop.audit_log ALTER COLUMN at TYPE timestamptz;")
    batch = next(s for s in p.steps if s.phase == "backfill")
    sql = batch.sql[0]
    assert " id" not in sql
    assert "ctid >= format('(%s,0)', $1::text::bigint)::tid" in sql
    assert "AS more" in sql and "pg_relation_size('shop.audit_log'::regclass)" in sql
    assert any("no primary key and no unique index" in n for n in batch.notes)
    assert not any("primary key assumed to be id" in a for a in p.assumptions)
    assert p.backfill_script is not None
    compile(p.backfill_script.split("\n", 1)[1], "backfill.py", "exec")  # the script is valid Python
    assert 'row.get("more", False)' in p.backfill_script


def test_backfill_uses_a_unique_not_null_index_when_there_is_no_primary_key() -> None:
    p = plan("ALTER TABLE shop.keyed_log ALTER COLUMN at TYPE timestamptz;")
    sql = next(s for s in p.steps if s.phase == "backfill").sql[0]
    assert "SELECT code FROM shop.keyed_log" in sql and "code > $1::text::text" in sql


def test_timestamp_to_timestamptz_offers_the_utc_session_path() -> None:
    p = plan("ALTER TABLE shop.audit_log ALTER COLUMN at TYPE timestamptz;")
    mig017 = finding(p, "MIG017")
    assert mig017.title.endswith("unless the session time zone is UTC")
    assert mig017.fix is not None and "SET timezone = 'UTC';" in (mig017.fix.note or "")
    assert any("SET timezone = 'UTC'" in n for n in p.steps[0].notes)
    # planned with the session setting, it is one catalog-only step
    in_place = plan("SET timezone = 'UTC';\nALTER TABLE shop.audit_log ALTER COLUMN at TYPE timestamptz;")
    assert [s.sql for s in in_place.steps] == [["ALTER TABLE shop.audit_log ALTER COLUMN at TYPE timestamptz"]]


def test_ctid_batch_first_and_next_forms() -> None:
    spec = Backfill.of("t", "ctid", "b = a", "b IS NULL", batch=5000)
    assert "format('(%s,0)', 0::bigint)::tid" in spec.batch_sql(first=True)
    assert "$1" not in spec.batch_sql(first=True)
    assert "0::bigint + 100" in spec.batch_sql(first=True)
    assert "batches of 100 heap pages by ctid" in backfill_script("t", "ctid", "b = a", "b IS NULL")


# ------------------------------------------------------------------------------------- 4: partitioned tables


def test_create_index_fix_on_a_partitioned_table_goes_partition_by_partition() -> None:
    p = plan("CREATE INDEX events_kind_idx ON shop.events (kind);")
    fix = finding(p, "MIG001").fix
    assert fix is not None
    assert fix.statements == [
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS events_2024_kind_idx ON shop.events_2024 (kind);",
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS events_2025_kind_idx ON shop.events_2025 (kind);",
        "CREATE INDEX IF NOT EXISTS events_kind_idx ON ONLY shop.events (kind);",
        "ALTER INDEX shop.events_kind_idx ATTACH PARTITION shop.events_2024_kind_idx;",
        "ALTER INDEX shop.events_kind_idx ATTACH PARTITION shop.events_2025_kind_idx;",
    ]


def test_foreign_key_fix_on_a_partitioned_table_has_no_not_valid_on_the_parent() -> None:
    p = plan("ALTER TABLE shop.events ADD CONSTRAINT ev_fk2 FOREIGN KEY (customer_id) REFERENCES shop.customers (id);")
    fix = finding(p, "MIG008").fix
    assert fix is not None
    assert fix.statements == [
        "ALTER TABLE shop.events_2024 ADD CONSTRAINT ev_fk2 FOREIGN KEY (customer_id) REFERENCES shop.customers (id) "
        "NOT VALID;",
        "ALTER TABLE shop.events_2025 ADD CONSTRAINT ev_fk2 FOREIGN KEY (customer_id) REFERENCES shop.customers (id) "
        "NOT VALID;",
        "ALTER TABLE shop.events_2024 VALIDATE CONSTRAINT ev_fk2;",
        "ALTER TABLE shop.events_2025 VALIDATE CONSTRAINT ev_fk2;",
        "ALTER TABLE shop.events ADD CONSTRAINT ev_fk2 FOREIGN KEY (customer_id) REFERENCES shop.customers (id);",
    ]


def test_plain_tables_keep_the_simple_fixes() -> None:
    p = plan("CREATE INDEX customers_email_idx ON shop.customers (email);")
    fix = finding(p, "MIG001").fix
    assert fix is not None
    assert fix.statements == ["CREATE INDEX CONCURRENTLY customers_email_idx ON shop.customers (email);"]


# ------------------------------------------------------------------------------------- 5: type known from the file


def test_type_known_from_an_earlier_statement_is_a_high_rewrite_on_an_existing_table() -> None:
    sql = "ALTER TABLE users ALTER COLUMN email TYPE text;\nALTER TABLE users ALTER COLUMN email TYPE varchar(100);"
    findings = [f for f in lint_migration(sql, "postgres", "15").findings if f.rule_id == "MIG017"]
    assert sorted((f.line, f.severity) for f in findings) == [(1, Severity.MEDIUM), (2, Severity.HIGH)]


def test_table_created_in_the_same_file_is_empty_so_its_type_change_is_not_flagged() -> None:
    sql = (
        "CREATE TABLE users (id bigint PRIMARY KEY, email varchar(200));\n"
        "ALTER TABLE users ALTER COLUMN email TYPE varchar(50);"
    )
    assert not [f for f in lint_migration(sql, "postgres", "15").findings if f.rule_id == "MIG017"]


# ------------------------------------------------------------------------------------- 6: TRUNCATE, LOCK TABLE


def test_truncate_and_lock_table_are_reported() -> None:
    sql = "TRUNCATE audit_events;\nLOCK TABLE orders IN ACCESS EXCLUSIVE MODE;\nBEGIN;\nLOCK TABLE orders;\nCOMMIT;"
    findings = lint_migration(sql, "postgres", "15").findings
    truncate = next(f for f in findings if f.rule_id == "MIG054")
    assert truncate.severity is Severity.HIGH and truncate.evidence["lock_mode"] == "ACCESS EXCLUSIVE"
    outside, inside = sorted((f for f in findings if f.rule_id == "MIG055"), key=lambda f: f.line or 0)
    assert outside.severity is Severity.HIGH and outside.evidence["in_transaction"] is False
    assert "fails" in outside.title
    assert inside.severity is Severity.MEDIUM and "until COMMIT" in inside.title
    assert inside.fix is not None and "SET LOCAL lock_timeout = '1s';" in inside.fix.statements


# ------------------------------------------------------------------------------------- 10: UPDATE by id, no catalog


def test_update_pinned_by_id_without_a_catalog_is_not_batched() -> None:
    stats = {"orders": {"rows": 400_000_000, "bytes": 85_899_345_920}}
    p = plan_migration("UPDATE shop.orders SET note = 'x' WHERE id = 1;", version="15", table_stats=stats)
    assert [s.sql for s in p.steps] == [["UPDATE shop.orders SET note = 'x' WHERE id = 1"]]
    assert p.steps[0].estimate is not None and p.steps[0].estimate.seconds < 1
    assert any("id assumed to be the primary key" in a for a in p.assumptions)
    batched = plan_migration("UPDATE shop.orders SET note = 'x' WHERE status = 'new';", version="15")
    assert batched.steps[0].phase == "backfill"


# ------------------------------------------------------------------------------------- minor: MIG032 ADD PRIMARY KEY


def test_robust_fix_for_a_named_key_adds_it_only_while_missing() -> None:
    sql = "ALTER TABLE shop.items ADD CONSTRAINT items_pk PRIMARY KEY (id);\nSELECT 1;"
    fix = next(f.fix for f in lint_migration(sql, "postgres", "15").findings if f.rule_id == "MIG032")
    assert fix is not None
    assert fix.statements == [
        "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = 'shop.items'::regclass AND "
        "conname IN ('items_pk')) THEN ALTER TABLE shop.items ADD CONSTRAINT items_pk PRIMARY KEY (id); "
        "END IF; END $$;"
    ]
    assert not any("DROP CONSTRAINT" in s for s in fix.statements)
