"""QA minor fixes against a real PostgreSQL 15, each claim checked on the server.

- pg #2 (rest): review_query's QRY005/QRY006 index fixes on a partitioned table are the per-partition build
  (CONCURRENTLY is refused on the parent), and every statement runs as written;
- my #13: describe_schema with an unknown schema is a tool error naming the schemas that exist; an empty schema
  gets a note.
"""

from __future__ import annotations

import re
from typing import Any

import asyncpg
import pytest

from tests.helpers import call_tool, result_text
from tests.integration.postgres.conftest import pg_config

pytestmark = pytest.mark.integration

PARTITIONED = """
CREATE TABLE {s}.ev (id int NOT NULL, t_id int, note text, at timestamptz NOT NULL) PARTITION BY RANGE (at);
CREATE TABLE {s}.ev_2024 PARTITION OF {s}.ev FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE {s}.ev_rest PARTITION OF {s}.ev DEFAULT;
INSERT INTO {s}.ev SELECT g, 1 + g % 50, 'note ' || g, timestamptz '2024-06-01' + g * interval '5 minutes'
  FROM generate_series(1, 50000) g;
ANALYZE {s}.ev;
"""


async def call(tool: str, args: dict[str, Any]) -> Any:
    return await call_tool([pg_config()], tool, args)


async def _index_state(admin: asyncpg.Connection, schema: str, index: str) -> tuple[bool, int]:
    """(valid, partitions attached) of the parent's index `index`."""
    valid = await admin.fetchval(
        "SELECT x.indisvalid FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2",
        schema,
        index,
    )
    attached = await admin.fetchval(
        "SELECT count(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhparent "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2",
        schema,
        index,
    )
    return bool(valid), int(attached)


def _no_concurrent_build_on_parent(statements: list[str], schema: str) -> None:
    assert not any(re.search(rf"CONCURRENTLY \S+ ON {schema}\.ev\b(?!_)", s) for s in statements), statements


async def test_qry005_index_fix_on_a_partitioned_table_runs(admin: asyncpg.Connection, schema: str) -> None:
    await admin.execute(PARTITIONED.format(s=schema))
    sql = f"SELECT id FROM {schema}.ev WHERE t_id = 7 OR note = 'note 9'"
    review = await call("review_query", {"sql": sql, "connection": "pg"})
    assert not review.is_error, result_text(review)
    [finding] = [f for f in review.structured_content["findings"] if f["rule_id"] == "QRY005"]
    rewrite, *index_sql = finding["fix"]["statements"]
    _no_concurrent_build_on_parent(index_sql, schema)
    assert len(index_sql) == 10  # per column: 2 partitions CONCURRENTLY, ON ONLY the parent, 2 ATTACH
    assert "ON ONLY" in finding["fix"]["note"] or "ON ONLY" in " ".join(index_sql)
    assert {r[0] for r in await admin.fetch(rewrite.rstrip(";"))} == {r[0] for r in await admin.fetch(sql)}
    for statement in index_sql:  # autocommit, one by one, as a user would
        await admin.execute(statement)
    assert await _index_state(admin, schema, "ev_t_id_idx") == (True, 2)
    assert await _index_state(admin, schema, "ev_note_idx") == (True, 2)


async def test_qry006_trigram_fix_on_a_partitioned_table_runs(admin: asyncpg.Connection, schema: str) -> None:
    await admin.execute(PARTITIONED.format(s=schema))
    sql = f"SELECT id FROM {schema}.ev WHERE note LIKE '%te 12%'"
    review = await call("review_query", {"sql": sql, "connection": "pg"})
    [finding] = [f for f in review.structured_content["findings"] if f["rule_id"] == "QRY006"]
    extension, *index_sql = finding["fix"]["statements"]
    assert extension == "CREATE EXTENSION IF NOT EXISTS pg_trgm;"
    _no_concurrent_build_on_parent(index_sql, schema)
    assert len(index_sql) == 5 and all("USING gin (note gin_trgm_ops)" in s for s in index_sql[:3])
    created = False
    try:
        if not await admin.fetchval("SELECT count(*) FROM pg_extension WHERE extname = 'pg_trgm'"):
            await admin.execute(f"CREATE EXTENSION pg_trgm SCHEMA {schema}")  # the fix's first statement, scoped
            created = True
            await admin.execute(f"SET search_path = public, {schema}")
        for statement in index_sql:
            await admin.execute(statement)
        assert await _index_state(admin, schema, "ev_note_trgm_idx") == (True, 2)
    finally:
        if created:
            await admin.execute("DROP EXTENSION IF EXISTS pg_trgm CASCADE; RESET search_path")


async def test_plain_table_keeps_the_single_concurrent_build(admin: asyncpg.Connection, schema: str) -> None:
    review = await call(
        "review_query", {"sql": f"SELECT id FROM {schema}.t WHERE id = 3 OR v = 'x'", "connection": "pg"}
    )
    [finding] = [f for f in review.structured_content["findings"] if f["rule_id"] == "QRY005"]
    assert finding["fix"]["statements"][1:] == [f"CREATE INDEX CONCURRENTLY t_v_idx ON {schema}.t (v);"]


async def test_describe_schema_unknown_schema_names_the_schemas(admin: asyncpg.Connection, schema: str) -> None:
    missing = await call("describe_schema", {"connection": "pg", "schema": f"{schema}_nope"})
    assert missing.is_error
    message = result_text(missing)
    assert f"no schema named '{schema}_nope'" in message and f"'{schema}'" in message and "'public'" in message
    upper = await call("describe_schema", {"connection": "pg", "schema": schema.upper()})
    assert upper.is_error and f"did you mean '{schema}'" in result_text(upper)

    await admin.execute(f"CREATE SCHEMA {schema}_empty")
    try:
        empty = await call("describe_schema", {"connection": "pg", "schema": f"{schema}_empty"})
        assert not empty.is_error, result_text(empty)
        assert empty.structured_content["total_tables"] == 0
        assert "exists but has no tables" in empty.structured_content["note"]
    finally:
        await admin.execute(f"DROP SCHEMA {schema}_empty")
