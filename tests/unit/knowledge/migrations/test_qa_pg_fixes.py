"""Defects from the PostgreSQL QA pass, planned offline from current_ddl (the live runs are in
tests/integration/postgres/test_migration_qa_plans.py)."""

from __future__ import annotations

import pytest

from dbspecialist.knowledge.migrations.lint import lint_migration
from dbspecialist.knowledge.migrations.model import MigrationInputError, MigrationPlan
from dbspecialist.knowledge.migrations.plan import plan_migration

SHOP = """
CREATE TABLE customers (id bigserial PRIMARY KEY, email text NOT NULL);
CREATE TABLE orders (
    id serial PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES customers (id),
    total numeric(12, 2) NOT NULL
);
CREATE TABLE order_items (
    order_id int NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    line_no int NOT NULL,
    PRIMARY KEY (order_id, line_no)
);
CREATE TABLE events (
    id bigint GENERATED ALWAYS AS IDENTITY,
    customer_id bigint,
    kind text NOT NULL,
    occurred_at timestamptz NOT NULL,
    PRIMARY KEY (id, occurred_at)
) PARTITION BY RANGE (occurred_at);
CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
"""


def plan(change: str | None = None, **kwargs: object) -> MigrationPlan:
    kwargs.setdefault("current_ddl", SHOP)
    kwargs.setdefault("version", "15")
    return plan_migration(change, **kwargs)  # type: ignore[arg-type]


def sql_of(p: MigrationPlan) -> list[str]:
    return [sql for step in p.steps for sql in step.sql]


# ------------------------------------------------------------------------------------------- 1: int → bigint PK


def test_bigint_primary_key_swap_handles_keys_sequence_and_referencing_columns() -> None:
    p = plan("ALTER TABLE orders ALTER COLUMN id TYPE bigint;")
    swap = next(s for s in p.steps if s.title.startswith("Swap id_new in as id"))
    statements = swap.sql
    pk_swap = next(i for i, s in enumerate(statements) if "PRIMARY KEY USING INDEX" in s)
    drop_fk = statements.index("ALTER TABLE order_items DROP CONSTRAINT order_items_order_id_fkey")
    drop_not_null = statements.index("ALTER TABLE orders ALTER COLUMN id_old DROP NOT NULL")
    add_fk = statements.index(
        "ALTER TABLE order_items ADD CONSTRAINT order_items_order_id_fkey FOREIGN KEY (order_id) "
        "REFERENCES orders (id) ON DELETE CASCADE NOT VALID"
    )
    assert drop_fk < pk_swap < drop_not_null < add_fk
    assert "ALTER TABLE order_items DROP CONSTRAINT order_items_order_id_fkey_new" in statements
    assert "ALTER SEQUENCE orders_id_seq OWNED BY orders.id" in statements
    assert "ALTER SEQUENCE orders_id_seq AS bigint" in statements
    assert swap.lock is not None and "order_items" in swap.lock.tables
    validate = p.steps[p.steps.index(swap) + 1]
    assert validate.sql == ["ALTER TABLE order_items VALIDATE CONSTRAINT order_items_order_id_fkey"]
    # The referencing integer column is widened too, and swapped before the key it references.
    child_swap = next(s for s in p.steps if s.title.startswith("Swap order_id_new in as order_id"))
    assert child_swap.number < swap.number
    assert "ALTER TABLE order_items ADD COLUMN order_id_new bigint" in sql_of(p)
    assert sql_of(p)[-1] == "ALTER TABLE orders DROP COLUMN id_old"


# ------------------------------------------------------------------------------------------- 2: partitioned tables


def test_index_on_partitioned_table_is_built_per_partition() -> None:
    statements = sql_of(plan("CREATE INDEX events_kind_idx ON events (kind);"))
    assert "CREATE INDEX CONCURRENTLY events_2024_kind_idx ON events_2024 (kind)" in statements
    assert "CREATE INDEX CONCURRENTLY events_2025_kind_idx ON events_2025 (kind)" in statements
    assert "CREATE INDEX events_kind_idx ON ONLY events (kind)" in statements
    assert "ALTER INDEX events_kind_idx ATTACH PARTITION events_2025_kind_idx" in statements
    assert not any("CONCURRENTLY" in s and " ON events " in s for s in statements)


def test_foreign_key_on_partitioned_table_goes_through_the_partitions() -> None:
    statements = sql_of(
        plan("ALTER TABLE events ADD CONSTRAINT ev_fk FOREIGN KEY (customer_id) REFERENCES customers (id);")
    )
    assert not any(s.startswith("ALTER TABLE events ") and "NOT VALID" in s for s in statements)
    assert (
        "ALTER TABLE events_2024 ADD CONSTRAINT ev_fk FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID"
        in statements
    )
    assert "ALTER TABLE events_2025 VALIDATE CONSTRAINT ev_fk" in statements
    assert (
        statements[-1] == "ALTER TABLE events ADD CONSTRAINT ev_fk FOREIGN KEY (customer_id) REFERENCES customers (id)"
    )


# ------------------------------------------------------------------------------------------- 5: 14.0-14.3


def test_corrupting_versions_put_the_upgrade_first_and_fixes_are_display_only() -> None:
    p = plan("CREATE INDEX orders_x ON orders (total);", version="14.2")
    assert p.steps[0].phase == "prepare" and "14.4" in p.steps[0].title
    assert "upgrade to 14.4+ first" in p.summary
    for sql in ("CREATE INDEX orders_x ON orders (total);", "REINDEX INDEX orders_pkey;"):
        finding = next(f for f in lint_migration(sql, "postgres", "14.2").findings if f.rule_id in ("MIG001", "MIG003"))
        assert finding.fix is not None and finding.fix.safety == "display-only"
        assert "14.4" in finding.fix.title
        safe = next(f for f in lint_migration(sql, "postgres", "14.4").findings if f.rule_id in ("MIG001", "MIG003"))
        assert safe.fix is not None and safe.fix.safety == "safe"


# ------------------------------------------------------------------------------------------- 6: target_ddl


def test_partial_target_drops_nothing_it_does_not_mention() -> None:
    target = "CREATE TABLE customers (id bigserial PRIMARY KEY, email text NOT NULL, name text);"
    p = plan(target_ddl=target)
    assert sql_of(p) == ["ALTER TABLE customers ADD COLUMN name text"]
    assert "left alone (public.events, public.events_2024, public.events_2025, public.order_items, public.orders)" in (
        p.summary
    )


def test_target_drops_a_table_only_when_it_says_so() -> None:
    target = SHOP + "DROP TABLE order_items;"
    p = plan(target_ddl=target)
    assert [s for s in p.statements if "DROP" in s] == ["DROP TABLE order_items"]
    assert "left alone" not in p.summary


def test_new_enum_labels_are_added_in_place_and_removed_ones_refused() -> None:
    current = "CREATE TYPE s AS ENUM ('new', 'paid');\nCREATE TABLE o (id bigint PRIMARY KEY, st s NOT NULL);\n"
    target = current.replace("('new', 'paid')", "('draft', 'new', 'paid', 'refunded')")
    assert sql_of(plan(current_ddl=current, target_ddl=target)) == [
        "ALTER TYPE s ADD VALUE IF NOT EXISTS 'draft' BEFORE 'new'",
        "ALTER TYPE s ADD VALUE IF NOT EXISTS 'refunded' AFTER 'paid'",
    ]
    for wanted in ("('new')", "('paid', 'new')"):
        with pytest.raises(MigrationInputError, match="enum type s"):
            plan(current_ddl=current, target_ddl=current.replace("('new', 'paid')", wanted))


# ------------------------------------------------------------------------------------------- 7: MIG017


def test_type_change_known_to_be_free_is_not_reported_as_a_rewrite() -> None:
    p = plan("ALTER TABLE orders ALTER COLUMN total TYPE numeric(14,2);")
    assert "MIG017" not in {f.rule_id for f in p.findings}
    assert "MIG017" in {f.rule_id for f in plan("ALTER TABLE orders ALTER COLUMN total TYPE integer;").findings}


# ------------------------------------------------------------------------------------------- 12


def test_update_by_primary_key_is_not_batched() -> None:
    stats = {"orders": {"rows": 400_000_000}}
    one = plan("UPDATE orders SET total = 1 WHERE id = 1;", table_stats=stats)
    assert [s.kind for s in one.steps] == ["sql"]
    assert one.steps[0].estimate is not None and one.steps[0].estimate.seconds is not None
    assert one.steps[0].estimate.seconds < 1
    many = plan("UPDATE orders SET total = 1 WHERE total > 5;", table_stats=stats)
    assert many.steps[0].kind == "script"


def test_summary_names_steps_whose_duration_is_unknown() -> None:
    p = plan("CREATE INDEX orders_x ON orders (total);")
    assert "plus step 1" in p.summary and "Estimated total run time" not in p.summary


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("CREATE INDEX ON orders (status);", ["CREATE INDEX IF NOT EXISTS orders_status_idx ON orders (status)"]),
        (
            "CREATE INDEX CONCURRENTLY ON app.orders (lower(note));",
            [
                "DROP INDEX CONCURRENTLY IF EXISTS app.orders_lower_idx;",
                "CREATE INDEX CONCURRENTLY orders_lower_idx ON app.orders ((lower(note)))",
            ],
        ),
        (
            "ALTER TABLE orders ADD PRIMARY KEY (id);",
            [
                "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = 'orders'::regclass AND "
                "conname IN ('orders_pkey')) THEN ALTER TABLE orders ADD CONSTRAINT orders_pkey PRIMARY KEY (id); "
                "END IF; END $$;"
            ],
        ),
        (
            "ALTER TABLE events DETACH PARTITION events_2024;",
            [
                "DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_inherits WHERE inhrelid = 'events_2024'::regclass AND "
                "inhparent = 'events'::regclass) THEN ALTER TABLE events DETACH PARTITION events_2024; END IF; END $$;"
            ],
        ),
    ],
)
def test_robust_statement_fix_changes_the_statement(sql: str, expected: list[str]) -> None:
    findings = lint_migration(sql + "\nSELECT 1;", "postgres", "15").findings
    fix = next(f.fix for f in findings if f.rule_id == "MIG032")
    assert fix is not None
    assert [s.rstrip(";") if not s.startswith(("DROP", "ALTER TABLE orders DROP")) else s for s in fix.statements] == [
        e.rstrip(";") if not e.startswith(("DROP", "ALTER TABLE orders DROP")) else e for e in expected
    ]
    assert sql.rstrip(";") not in [s.rstrip(";") for s in fix.statements]
