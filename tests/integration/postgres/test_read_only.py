"""PostgreSQL is read-only in depth: the pglast guard, the volatility check, then the engine itself."""

from __future__ import annotations

import contextlib
from typing import Any

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dbspecialist.adapters import postgres as pg_module
from dbspecialist.adapters.guard_postgres import PgAccepted
from dbspecialist.adapters.postgres import PostgresAdapter
from dbspecialist.errors import DBSpecialistError, QueryError, QueryRefusedError
from tests.integration.postgres.conftest import checksum, pg_config

pytestmark = pytest.mark.integration

# {s} is the test's private schema. Every input must be refused with a reason.
ATTACKS = [
    "COMMIT; DROP TABLE {s}.t",
    "WITH d AS (DELETE FROM {s}.t RETURNING *) SELECT * FROM d",
    "SELECT * FROM pg_read_file('/etc/passwd')",
    "COPY {s}.t TO PROGRAM 'id'",
    "SELECT set_config('default_transaction_read_only', 'off', false)",
    "SELECT nextval('{s}.s')",
    "SELECT * FROM {s}.t FOR UPDATE",
    "CREATE TABLE {s}.copy AS SELECT * FROM {s}.t",
    "SELECT * INTO {s}.newt FROM {s}.t",
    "DO $$ BEGIN DELETE FROM {s}.t; END $$",
    "CALL {s}.p()",
    "LOCK {s}.t",
    "SET default_transaction_read_only = off",
    "PREPARE wipe AS DELETE FROM {s}.t",
    "EXECUTE wipe",
    "LISTEN chan",
    "NOTIFY chan",
    "VACUUM {s}.t",
    "ANALYZE {s}.t",
    "REFRESH MATERIALIZED VIEW {s}.m",
    "EXPLAIN ANALYZE DELETE FROM {s}.t",
    "SELECT {s}.evil()",
    "SELECT * FROM {s}.evil()",
    "SELECT 1; -- \n DROP TABLE {s}.t",
    "SELECT $$; DROP TABLE {s}.t; $$; DELETE FROM {s}.t",
    "SELECT 1 /* ; */ ; DELETE FROM {s}.t",
    "SELECT U&\"\\0070g_read_file\"('/etc/passwd')",
    "SELECT \"pg_read_file\"('/etc/passwd')",
    "SELECT pg_catalog.pg_ls_dir('.')",
    "SELECT lo_import('/etc/passwd')",
    "SELECT dblink_exec('dbname=postgres', 'DROP TABLE t')",
    "SELECT pg_advisory_lock(42)",
    "SELECT txid_current()",
    "SELECT setval('{s}.s', 100)",
    "SELECT pg_notify('chan', 'x')",
    "SELECT query_to_xml('DELETE FROM {s}.t RETURNING 1', true, false, '')",
    "SELECT * FROM {s}.t WHERE id IN (SELECT id FROM {s}.t FOR SHARE)",
    "WITH x AS (SELECT 1) INSERT INTO {s}.t SELECT 100, 'x' FROM x",
    "UPDATE {s}.t SET v = 'hacked'",
    "INSERT INTO {s}.t VALUES (99, 'x')",
    "DELETE FROM {s}.t",
    "MERGE INTO {s}.t USING (SELECT 1 AS id) src ON t.id = src.id WHEN MATCHED THEN DELETE",
    "TRUNCATE {s}.t CASCADE",
    "DROP TABLE {s}.t CASCADE",
    "ALTER TABLE {s}.t ADD COLUMN z int",
    "GRANT ALL ON {s}.t TO PUBLIC",
    "BEGIN",
    "SAVEPOINT a",
    "RESET ALL",
    "CHECKPOINT",
    "LOAD 'auto_explain'",
    "DECLARE c CURSOR WITH HOLD FOR SELECT 1",
    "SELECT pg_terminate_backend(pg_backend_pid())",
    "SELECT pg_reload_conf()",
    "SELECT pg_switch_wal()",
]
# With the parser guard switched off, the engine layer alone must still refuse these (they write,
# or change state): extended protocol (one statement), rows required, READ ONLY transaction.
# The others are reads or server-wide side effects a READ ONLY transaction allows: only the guard
# stops them (and a non-superuser role should); those touching the shared server are not run.
ENGINE_ALLOWS = {
    "SELECT * FROM pg_read_file('/etc/passwd')",
    "SELECT set_config('default_transaction_read_only', 'off', false)",  # undone by the rollback
    "SELECT U&\"\\0070g_read_file\"('/etc/passwd')",
    "SELECT \"pg_read_file\"('/etc/passwd')",
    "SELECT pg_catalog.pg_ls_dir('.')",
    "SELECT lo_import('/etc/passwd')",  # reads a server file; the large object it makes is rolled back
    "SELECT txid_current()",
    "SELECT pg_notify('chan', 'x')",  # queued, then discarded by the rollback
}
NOT_RUN_WITHOUT_GUARD = {
    "SELECT pg_advisory_lock(42)",
    "SELECT pg_terminate_backend(pg_backend_pid())",
    "SELECT pg_reload_conf()",
    "SELECT pg_switch_wal()",
}


async def run(adapter: PostgresAdapter, sql: str, **kw: int) -> Any:
    return await adapter.run_read_only(
        sql,
        max_rows=kw.get("max_rows", 100),
        max_bytes=kw.get("max_bytes", 1_000_000),
        timeout_ms=kw.get("timeout_ms", 5_000),
    )


def test_attack_corpus_is_large_enough() -> None:
    assert len(ATTACKS) >= 25 and len(set(ATTACKS)) == len(ATTACKS)


@pytest.mark.parametrize("attack", ATTACKS)
async def test_guard_refuses_and_data_is_unchanged(
    adapter: PostgresAdapter, schema: str, admin: asyncpg.Connection, attack: str
) -> None:
    before = await checksum(admin, schema)
    with pytest.raises(QueryRefusedError, match=r"^Refused by the read-only guard: \S"):
        await run(adapter, attack.format(s=schema))
    result = await run(adapter, f"SELECT count(*) FROM {schema}.t")
    assert result.rows == [[50]]
    assert await checksum(admin, schema) == before


@pytest.mark.parametrize("attack", [a for a in ATTACKS if a not in NOT_RUN_WITHOUT_GUARD])
async def test_engine_refuses_even_without_the_guard(
    schema: str, admin: asyncpg.Connection, attack: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Switch the parser guard (and with it the volatility check) off: the engine layer must hold."""
    monkeypatch.setattr(pg_module, "check_postgres", lambda sql, **_: PgAccepted(kind="select", sql=sql))
    before = await checksum(admin, schema)
    adapter = PostgresAdapter(pg_config())
    try:
        if attack in ENGINE_ALLOWS:
            with contextlib.suppress(DBSpecialistError):
                await run(adapter, attack.format(s=schema))
        else:
            with pytest.raises(DBSpecialistError):
                await run(adapter, attack.format(s=schema))
        # The pooled connection is clean for the next call: still read-only, nothing left open.
        state = await run(
            adapter, "SELECT current_setting('default_transaction_read_only'), now() = statement_timestamp()"
        )
        assert state.rows == [["off", False]]
    finally:
        await adapter.close()
    assert await checksum(admin, schema) == before


async def test_volatile_user_function_is_refused_by_name_and_immutable_one_allowed(
    adapter: PostgresAdapter, schema: str, admin: asyncpg.Connection
) -> None:
    before = await checksum(admin, schema)
    with pytest.raises(QueryRefusedError, match=rf"{schema}\.evil\(\) is VOLATILE"):
        await run(adapter, f"SELECT {schema}.evil()")
    result = await run(adapter, f"SELECT {schema}.double_it(21)")
    assert result.rows == [[42]]
    assert await checksum(admin, schema) == before


async def test_volatility_answers_are_cached_per_function(
    adapter: PostgresAdapter, schema: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    lookups: list[list[str]] = []
    original = PostgresAdapter._refuse_volatile

    async def counting(self: PostgresAdapter, conn: asyncpg.Connection, names: list[str]) -> None:
        lookups.append([n for n in names if n not in self._volatility])
        await original(self, conn, names)

    monkeypatch.setattr(PostgresAdapter, "_refuse_volatile", counting)
    for _ in range(3):
        await run(adapter, f"SELECT {schema}.double_it(1)")
    assert lookups == [[f"{schema}.double_it"], [], []]


async def test_read_only_transaction_refuses_evil_without_the_guard(
    schema: str, admin: asyncpg.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pg_module, "check_postgres", lambda sql, **_: PgAccepted(kind="select", sql=sql))
    before = await checksum(admin, schema)
    adapter = PostgresAdapter(pg_config())
    try:
        with pytest.raises(QueryError, match="read-only"):
            await run(adapter, f"SELECT {schema}.evil()")
    finally:
        await adapter.close()
    assert await checksum(admin, schema) == before


async def test_accepted_reads_work(adapter: PostgresAdapter, schema: str) -> None:
    reads = {
        f"SELECT id, v FROM {schema}.t WHERE id <= 2 ORDER BY id": [[1, "row 1"], [2, "row 2"]],
        f"TABLE {schema}.m": [[50]],
        "VALUES (1, 'a')": [[1, "a"]],
        "SHOW statement_timeout": [["5s"]],
        "SELECT $$DROP TABLE t$$ AS s": [["DROP TABLE t"]],
        f'SELECT count(*) AS "pg_read_file" FROM {schema}.t': [[50]],
        "SELECT current_setting('transaction_read_only')": [["on"]],
    }
    for sql, rows in reads.items():
        assert (await run(adapter, sql)).rows == rows, sql
    explained = await run(adapter, f"EXPLAIN SELECT * FROM {schema}.t")
    assert "Seq Scan" in explained.rows[0][0]


async def test_params_are_positional(adapter: PostgresAdapter, schema: str) -> None:
    result = await adapter.run_read_only(
        f"SELECT v FROM {schema}.t WHERE id = $1", [3], max_rows=10, max_bytes=10_000, timeout_ms=5_000
    )
    assert result.rows == [["row 3"]]
    with pytest.raises(QueryError, match="positional"):
        await adapter.run_read_only("SELECT $1", {"a": 1}, max_rows=10, max_bytes=10_000, timeout_ms=5_000)
    with pytest.raises(QueryError):
        await adapter.run_read_only("SELECT $1::int", ["x"], max_rows=10, max_bytes=10_000, timeout_ms=5_000)


async def test_writable_connection_commits_one_statement_per_call(schema: str, admin: asyncpg.Connection) -> None:
    adapter = PostgresAdapter(pg_config("rw", read_only=False))
    try:
        await run(adapter, f"INSERT INTO {schema}.t VALUES (500, 'new')")
        assert await admin.fetchval(f"SELECT v FROM {schema}.t WHERE id = 500") == "new"
        returned = await run(adapter, f"UPDATE {schema}.t SET v = 'upd' WHERE id = 500 RETURNING id, v")
        assert returned.rows == [[500, "upd"]]
        with pytest.raises(QueryRefusedError, match="2 statements"):
            await run(adapter, f"SELECT 1; DELETE FROM {schema}.t")
        with pytest.raises(QueryRefusedError, match="transaction control"):
            await run(adapter, "COMMIT")
        # EXPLAIN ANALYZE of a write runs it, inside a transaction that is always rolled back.
        plan = await adapter.explain(f"DELETE FROM {schema}.child", analyze=True, timeout_ms=5_000)
        assert plan.analyzed and plan.plan[0]["Plan"]["Node Type"] == "ModifyTable"
        assert await admin.fetchval(f"SELECT count(*) FROM {schema}.child") == 2
    finally:
        await adapter.close()


async def test_explain_read_only(adapter: PostgresAdapter, schema: str, admin: asyncpg.Connection) -> None:
    before = await checksum(admin, schema)
    plain = await adapter.explain(f"DELETE FROM {schema}.t", timeout_ms=5_000)
    assert plain.format == "json" and not plain.analyzed
    assert plain.plan[0]["Plan"]["Node Type"] == "ModifyTable"
    analyzed = await adapter.explain(f"SELECT * FROM {schema}.t WHERE id = 1", analyze=True, timeout_ms=5_000)
    assert analyzed.plan[0]["Plan"]["Actual Rows"] == 1 and "Shared Hit Blocks" in analyzed.plan[0]["Plan"]
    with pytest.raises(QueryRefusedError, match="read-only guard"):
        await adapter.explain(f"DELETE FROM {schema}.t", analyze=True, timeout_ms=5_000)
    with pytest.raises(QueryRefusedError, match="without EXPLAIN"):
        await adapter.explain(f"EXPLAIN SELECT * FROM {schema}.t", timeout_ms=5_000)
    assert await checksum(admin, schema) == before


FRAGMENTS = [
    "SELECT 1",
    "SELECT * FROM {s}.t",
    "VALUES (1)",
    "DELETE FROM {s}.t",
    "UPDATE {s}.t SET v = 'x'",
    "INSERT INTO {s}.t VALUES (777, 'x')",
    "DROP TABLE {s}.t CASCADE",
    "SELECT {s}.evil()",
    "TRUNCATE {s}.child",
    "COMMIT",
    "BEGIN",
    "SELECT nextval('{s}.s')",
    "WITH d AS (DELETE FROM {s}.child RETURNING *) SELECT * FROM d",
    "SET transaction_read_only = off",
]
SEPARATORS = [";", "; ", ";\n", " -- c\n;", "/* x */;"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    parts=st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=4),
    seps=st.lists(st.sampled_from(SEPARATORS), min_size=4, max_size=4),
)
def test_random_statement_sequences_never_change_data(
    hypothesis_runner: Any, pg_test_schema: str, parts: list[str], seps: list[str]
) -> None:
    """Whatever sequence is sent, it is either refused or a single read; the checksum never moves."""
    sql = "".join(p.format(s=pg_test_schema) + (seps[i] if i < len(parts) - 1 else "") for i, p in enumerate(parts))

    async def check() -> None:
        admin = await asyncpg.connect(pg_config().url)
        adapter = PostgresAdapter(pg_config())
        try:
            before = await checksum(admin, pg_test_schema)
            try:
                await run(adapter, sql)
                assert len(parts) == 1 and parts[0] in FRAGMENTS[:3], sql
            except DBSpecialistError:
                pass
            assert await checksum(admin, pg_test_schema) == before
        finally:
            await adapter.close()
            await admin.close()

    hypothesis_runner.run(check())
