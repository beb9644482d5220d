"""explain() of a parameterised statement (pg_stat_statements text with $1, $2): the generic plan, any version."""

from __future__ import annotations

import asyncpg
import pytest

from dbspecialist.adapters.postgres import PostgresAdapter
from dbspecialist.errors import QueryRefusedError


async def test_parameterised_statement_gets_its_generic_plan(
    adapter: PostgresAdapter, admin: asyncpg.Connection, schema: str
) -> None:
    await admin.execute(f"CREATE TABLE {schema}.items (id bigint PRIMARY KEY, sku text, price int)")
    await admin.execute(f"INSERT INTO {schema}.items SELECT g, 'sku' || g, g % 100 FROM generate_series(1, 5000) g")
    await admin.execute(f"ANALYZE {schema}.items")
    statement = f"SELECT sku FROM {schema}.items WHERE id = $1 AND price > $2"
    first = await adapter.explain(statement, timeout_ms=5000)
    top = first.plan[0]["Plan"]
    assert top["Node Type"] == "Index Scan" and top["Index Name"] == "items_pkey"
    assert "$1" in top["Index Cond"] and "$2" in top["Filter"]  # generic: parameters, not values
    again = await adapter.explain(statement, timeout_ms=5000)  # the prepared statement was deallocated
    assert again.plan[0]["Plan"]["Node Type"] == "Index Scan"
    leftover = await adapter.run_read_only(
        "SELECT count(*) FROM pg_prepared_statements WHERE name LIKE 'dbspecialist_explain%'",
        max_rows=1,
        max_bytes=10_000,
        timeout_ms=5000,
    )
    assert leftover.rows == [[0]]


async def test_analyze_of_a_parameterised_statement_is_refused_with_the_way_out(adapter: PostgresAdapter) -> None:
    with pytest.raises(QueryRefusedError, match=r"put real values in place of the parameters, or use analyze=false"):
        await adapter.explain("SELECT $1::int + 1", analyze=True, timeout_ms=5000)
