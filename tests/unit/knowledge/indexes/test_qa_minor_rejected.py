"""QA #13 (minor): a candidate no query's plan used is rejected with a reason a user understands, naming its
table, instead of "not evaluated against any query"."""

from __future__ import annotations

from dbspecialist.knowledge.indexes.advisor import build_advice
from dbspecialist.knowledge.indexes.candidates import Candidate
from dbspecialist.knowledge.indexes.select import QueryCosts, select

USED = Candidate(
    table="orders",
    columns=["status", "created_at"],
    ddl="CREATE INDEX orders_status_created_at_idx ON orders (status, created_at)",
    reason="composite index",
    dialect="mysql",
)
UNUSED = Candidate(
    table="orders",
    columns=["customer_id", "created_at"],
    ddl="CREATE INDEX orders_customer_id_created_at_idx ON orders (customer_id, created_at)",
    reason="composite index",
    dialect="mysql",
)
UNTESTED = Candidate(
    table="customers",
    columns=["country"],
    ddl="CREATE INDEX customers_country_idx ON customers (country)",
    reason="equality",
    dialect="mysql",
)
# As the MariaDB scratch verification records them: a cost with a candidate only when the plan used it.
COSTS = [
    QueryCosts(
        "SELECT * FROM orders WHERE status = 'paid' ORDER BY created_at DESC LIMIT 10", 5_000.0, {USED.key: 30.0}
    ),
    QueryCosts("SELECT id, total FROM orders WHERE customer_id = 42 AND created_at > '2024-01-01'", 400.0, {}),
]


def test_select_says_the_planner_did_not_use_it() -> None:
    sel = select([USED.key, UNUSED.key], COSTS, {}, max_indexes=5)
    reason = dict(sel.rejected)[UNUSED.key]
    assert "not evaluated" not in reason
    assert reason.startswith("not used:") and "planner" in reason


def test_build_advice_names_the_table_and_the_queries_it_was_tested_with() -> None:
    advice = build_advice(
        [USED, UNUSED, UNTESTED],
        COSTS,
        {},
        verification="mysql-scratch",
        max_indexes=5,
        max_total_bytes=None,
        workload_source="queries",
    )
    assert [r.ddl for r in advice.recommendations] == [USED.ddl]
    reasons = {r.ddl: r.reason for r in advice.rejected}
    assert reasons[UNUSED.ddl] == (
        "not used: with this index in place the planner still read orders another way (an existing index or a "
        "scan) for each of the 2 queries on orders, so it saves nothing"
    )
    assert reasons[UNTESTED.ddl].startswith("not tested: no query on customers could be costed")
