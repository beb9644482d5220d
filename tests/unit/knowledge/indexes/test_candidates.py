"""Pure candidate synthesis and greedy selection."""

from __future__ import annotations

from dbspecialist.adapters.catalog import Catalog, CheckConstraint, Column, Index, PrimaryKey, Table
from dbspecialist.knowledge.indexes.advisor import build_advice
from dbspecialist.knowledge.indexes.candidates import Candidate, candidates
from dbspecialist.knowledge.indexes.select import MIN_COST, MIN_SAVINGS_PCT, QueryCosts, select


def _catalog(engine: str = "postgresql", orders_indexes: list[Index] | None = None) -> Catalog:
    schema = "public" if engine == "postgresql" else None
    return Catalog(
        engine=engine,
        tables=[
            Table(
                schema_name=schema,
                name="orders",
                columns=[
                    Column(name="id", data_type="integer"),
                    Column(name="customer_id", data_type="integer"),
                    Column(name="status", data_type="text"),
                    Column(name="total", data_type="numeric"),
                    Column(name="created_at", data_type="timestamp"),
                    Column(name="note", data_type="text"),
                ],
                primary_key=PrimaryKey(columns=["id"]),
                indexes=orders_indexes or [],
            ),
            Table(
                schema_name=schema,
                name="customers",
                columns=[
                    Column(name="id", data_type="integer"),
                    Column(name="email", data_type="text"),
                    Column(name="tier", data_type="text"),
                ],
                primary_key=PrimaryKey(columns=["id"]),
                check_constraints=[CheckConstraint(expression="tier IN ('gold', 'silver')")],
            ),
        ],
    )


def _ddls(cands: list[Candidate]) -> list[str]:
    return [c.ddl for c in cands]


def test_equality_then_range_then_sort() -> None:
    sql = "SELECT id FROM orders WHERE created_at > '2024-01-01' AND customer_id = 7 ORDER BY total"
    [main, *_] = candidates(sql, "postgresql", _catalog())
    assert main.table == "orders" and main.schema_name == "public"
    assert main.columns == ["customer_id", "created_at", "total"]
    assert main.ddl.startswith("CREATE INDEX CONCURRENTLY ")
    assert "ON public.orders (customer_id, created_at, total)" in main.ddl


def test_join_key_resolved_through_aliases_without_qualifiers() -> None:
    sql = "SELECT email, total FROM customers c JOIN orders o ON customer_id = c.id WHERE tier = 'gold'"
    cands = candidates(sql, "postgresql", _catalog())
    on_orders = [c for c in cands if c.table == "orders"]
    assert any(c.columns == ["customer_id"] for c in on_orders), _ddls(cands)
    # customers.id is the primary key: already covered, so no candidate on it alone
    assert not any(c.table == "customers" and c.columns == ["id"] for c in cands)


def test_include_for_small_select_list_only_on_postgres() -> None:
    sql = "SELECT total, note FROM orders WHERE customer_id = 3"
    cands = candidates(sql, "postgresql", _catalog())
    covering = [c for c in cands if c.include]
    assert covering and covering[0].include == ["total", "note"]
    assert "INCLUDE (total, note)" in covering[0].ddl
    assert not any(c.include for c in candidates(sql, "sqlite", _catalog("sqlite")))
    assert not any(
        c.include for c in candidates("SELECT * FROM orders WHERE customer_id = 3", "postgresql", _catalog())
    )


def test_partial_index_for_low_cardinality_constant() -> None:
    sql = "SELECT id FROM orders WHERE status = 'pending' AND customer_id = 5"
    cands = candidates(sql, "postgresql", _catalog())
    partial = [c for c in cands if c.predicate]
    assert len(partial) == 1
    assert partial[0].columns == ["customer_id"] and partial[0].predicate == "status = 'pending'"
    assert partial[0].ddl.endswith("(customer_id) WHERE status = 'pending'")
    # a CHECK (... IN ...) constraint also marks a column low-cardinality
    tier = candidates("SELECT id FROM customers WHERE tier = 'gold' AND email > 'm'", "postgresql", _catalog())
    assert any(c.predicate == "tier = 'gold'" for c in tier)
    # a high-cardinality column compared with a constant gets no partial index
    assert not any(c.predicate for c in candidates("SELECT id FROM orders WHERE note = 'x'", "postgresql", _catalog()))
    # MySQL and MariaDB have no partial indexes: the same query gets only full ones there
    mysql = candidates(sql, "mysql", _catalog("mysql"))
    assert mysql and not any(c.predicate or " WHERE " in c.ddl for c in mysql)
    assert any(c.predicate == "status = 'pending'" for c in candidates(sql, "sqlite", _catalog("sqlite")))


def test_expression_index_for_function_predicate() -> None:
    cands = candidates("SELECT id FROM customers WHERE lower(email) = $1", "postgresql", _catalog())
    [expr] = [c for c in cands if c.expression]
    assert expr.columns == ["LOWER(email)"]
    assert "ON public.customers (LOWER(email))" in expr.ddl
    assert expr.statement(concurrently=False).startswith("CREATE INDEX customers_lower_email_idx")


def test_existing_index_with_same_leading_columns_is_skipped() -> None:
    sql = "SELECT id FROM orders WHERE customer_id = 1"
    assert candidates(sql, "postgresql", _catalog())
    existing = [Index(name="ix", columns=["customer_id", "created_at"])]
    assert candidates(sql, "postgresql", _catalog(orders_indexes=existing)) == []
    # a partial or invalid index does not count
    partial = [Index(name="ix", columns=["customer_id"], predicate="status = 'x'")]
    assert candidates(sql, "postgresql", _catalog(orders_indexes=partial))
    assert candidates("SELECT id FROM orders WHERE id = 1", "postgresql", _catalog()) == []


def test_unknown_table_unparsable_and_leading_wildcard_give_nothing() -> None:
    assert candidates("SELECT * FROM nowhere WHERE a = 1", "postgresql", _catalog()) == []
    assert candidates("SELEC oops FROM", "postgresql", _catalog()) == []
    assert candidates("SELECT id FROM orders WHERE note LIKE '%x'", "postgresql", _catalog()) == []
    prefix = candidates("SELECT id FROM orders WHERE note LIKE 'x%'", "postgresql", _catalog())
    assert prefix[0].columns == ["note"]


def test_subquery_scopes_and_sqlite_ddl() -> None:
    sql = "SELECT email FROM customers WHERE id IN (SELECT customer_id FROM orders WHERE total > 100)"
    cands = candidates(sql, "sqlite", _catalog("sqlite"))
    [c] = [c for c in cands if c.table == "orders"]
    assert c.columns == ["total"] and c.ddl == "CREATE INDEX orders_total_idx ON orders (total)"


# ------------------------------------------------------------------------------------------------ selection


def test_dexter_thresholds() -> None:
    queries = [QueryCosts("cheap", 90.0, {"a": 1.0}), QueryCosts("q", 1000.0, {"a": 600.0, "b": 400.0})]
    sel = select(["a", "b"], queries, {"a": 100, "b": 100}, max_indexes=5)
    assert [c.key for c in sel.chosen] == ["b"]  # a: 40 % on q, and "cheap" costs < MIN_COST
    reasons = dict(sel.rejected)
    assert "40.0%" in reasons["a"] and str(int(MIN_SAVINGS_PCT)) in reasons["a"]
    assert MIN_COST == 100 and MIN_SAVINGS_PCT == 50


def test_greedy_per_byte_with_budgets_and_no_redundant_pick() -> None:
    queries = [
        QueryCosts("q1", 1000.0, {"big": 60.0, "small": 100.0}),
        QueryCosts("q2", 500.0, {"other": 50.0}),
    ]
    sizes = {"big": 10_000_000, "small": 100_000, "other": 200_000}
    sel = select(["big", "small", "other"], queries, sizes, max_indexes=5)
    assert [c.key for c in sel.chosen] == ["small", "other"]  # 900 saved on 100 kB beats 940 on 10 MB
    # after "small", q1 is at 100 and "big" would only bring it to 60 (40 %): redundant, not picked
    assert "already served" in dict(sel.rejected)["big"]
    sel2 = select(["big", "other"], queries, sizes, max_indexes=5, max_total_bytes=500_000)
    assert [c.key for c in sel2.chosen] == ["other"]
    assert "max_total_bytes" in dict(sel2.rejected)["big"]
    sel3 = select(["big", "small", "other"], queries, sizes, max_indexes=1)
    assert [c.key for c in sel3.chosen] == ["small"]
    assert "max_indexes" in dict(sel3.rejected)["other"]


def test_build_advice_reports_gains() -> None:
    cand = candidates("SELECT id FROM orders WHERE customer_id = 1", "postgresql", _catalog())[0]
    advice = build_advice(
        [cand],
        [QueryCosts("SELECT id FROM orders WHERE customer_id = 1", 5000.0, {cand.key: 8.0})],
        {cand.key: 8192},
        verification="hypopg",
        max_indexes=5,
        max_total_bytes=None,
        workload_source="queries",
    )
    [rec] = advice.recommendations
    assert rec.verified and rec.verification == "hypopg" and rec.table == "public.orders"
    assert rec.estimated_bytes == 8192 and rec.queries_helped[0].improvement_pct == 99.8
    assert rec.ddl.startswith("CREATE INDEX CONCURRENTLY")


def _people(engine: str, collation: str | None = None, schema: str | None = None) -> Catalog:
    columns = [
        Column(name="id", data_type="integer"),
        Column(name="country", data_type="text"),
        Column(name="name", data_type="text", collation=collation),
    ]
    return Catalog(engine=engine, tables=[Table(name="people", schema_name=schema, columns=columns)])


def test_sqlite_like_prefix_is_a_range_only_on_a_nocase_column() -> None:
    sql = "SELECT id FROM people WHERE country = 'US' AND name LIKE 'n1%'"
    assert [c.columns for c in candidates(sql, "sqlite", _people("sqlite"))] == [["country"]]
    assert ["country", "name"] in [c.columns for c in candidates(sql, "sqlite", _people("sqlite", "NOCASE"))]
    # elsewhere the prefix stays a range candidate and verification decides
    assert ["country", "name"] in [
        c.columns for c in candidates(sql, "postgresql", _people("postgresql", schema="public"))
    ]
