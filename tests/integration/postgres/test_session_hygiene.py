"""What a read-only call leaves behind on its pooled connection: cached statements that stay correct
after the table changes, and no session state even from a function that lies about its volatility."""

from __future__ import annotations

import asyncpg

from dbspecialist.adapters.postgres import PostgresAdapter
from tests.integration.postgres.test_read_only import run


async def test_a_repeated_statement_is_prepared_once_per_connection(adapter: PostgresAdapter, schema: str) -> None:
    probe = f"SELECT count(*) AS n FROM {schema}.t"
    for _ in range(3):
        assert (await run(adapter, probe)).rows == [[50]]
    result = await adapter.run_read_only(
        "SELECT count(*) FROM pg_prepared_statements WHERE statement = $1",
        [probe],
        max_rows=10,
        max_bytes=10_000,
        timeout_ms=5_000,
    )
    assert result.rows == [[1]]  # one server-side statement, reused by the three calls


async def test_cached_statement_follows_a_schema_change(
    adapter: PostgresAdapter, schema: str, admin: asyncpg.Connection
) -> None:
    query = f"SELECT * FROM {schema}.child ORDER BY id"
    first = await run(adapter, query)
    assert first.columns == ["id", "t_id"]
    await admin.execute(f"ALTER TABLE {schema}.child ADD COLUMN note text DEFAULT 'n'")
    second = await run(adapter, query)
    assert second.columns == ["id", "t_id", "note"]
    assert second.rows == [[1, 1, "n"], [2, 2, "n"]]
    await admin.execute(f"ALTER TABLE {schema}.child ALTER COLUMN t_id TYPE bigint")
    third = await run(adapter, query)
    assert third.rows == [[1, 1, "n"], [2, 2, "n"]]


async def test_session_state_left_by_a_function_marked_stable_is_reset(
    adapter: PostgresAdapter, schema: str, admin: asyncpg.Connection
) -> None:
    # A function that claims STABLE but changes session state: the guard trusts pg_proc, so the reset must not.
    await admin.execute(
        f"CREATE FUNCTION {schema}.liar() RETURNS text LANGUAGE sql STABLE AS "
        "$$ SELECT set_config('search_path', 'pg_catalog', false) || pg_advisory_lock(4242)::text $$"
    )
    baseline = (await run(adapter, "SHOW search_path")).rows
    pid_before = (await run(adapter, "SELECT pg_backend_pid()")).rows[0][0]
    await run(adapter, f"SELECT {schema}.liar()")
    assert (await run(adapter, "SELECT pg_backend_pid()")).rows[0][0] == pid_before  # same pooled session
    assert (await run(adapter, "SHOW search_path")).rows == baseline
    held = await admin.fetchval(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 4242 AND pid = $1", pid_before
    )
    assert held == 0


async def test_settings_report_the_servers_values_not_the_guards_own_limits(
    adapter: PostgresAdapter, admin: asyncpg.Connection
) -> None:
    # The settings are read inside the adapter's READ ONLY transaction, whose SET LOCAL limits must not show.
    server = {
        r["name"]: r["setting"]
        for r in await admin.fetch(
            "SELECT name, setting FROM pg_settings WHERE name IN "
            "('statement_timeout', 'lock_timeout', 'idle_in_transaction_session_timeout', 'work_mem')"
        )
    }
    reported = {s.name: s for s in await adapter.settings()}
    assert {name: reported[name].value for name in server} == server
    assert reported["statement_timeout"].source != "session"
