"""check_health on a real PostgreSQL: planted problems are reported with the right pids, tables and indexes.

In a database of its own: session A holds a row lock idle in transaction, B's ALTER TABLE waits for A and C's
SELECT waits behind B (a chain of depth 2); D sits idle in a transaction; a table with autovacuum disabled has
every row updated; two identical indexes are never scanned; a failed CREATE UNIQUE INDEX CONCURRENTLY leaves an
invalid index; a smallint sequence is near its maximum. The snapshot runs through the real adapter, read-only.
The session thresholds are lowered to one second so the test does not have to wait minutes.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest

from dbspecialist.adapters.health_postgres import postgres_health_snapshot
from dbspecialist.adapters.postgres import PostgresAdapter
from dbspecialist.knowledge.findings import Finding, Severity
from dbspecialist.knowledge.health.model import HealthReport
from dbspecialist.knowledge.health.postgres import PgThresholds, check_postgres
from tests.integration.postgres.conftest import PG_URL, pg_config

ROWS = 5_000
WAIT_S = 1.0
THRESHOLDS = PgThresholds(lock_wait_seconds=WAIT_S, idle_in_transaction_seconds=WAIT_S)

SETUP = [
    "CREATE TABLE h1_locks (id int PRIMARY KEY, v int NOT NULL)",
    "INSERT INTO h1_locks SELECT g, g FROM generate_series(1, 10) g",
    "CREATE TABLE h1_dead (id int PRIMARY KEY, k int NOT NULL, pad text) WITH (autovacuum_enabled = false)",
    f"INSERT INTO h1_dead SELECT g, g % 100, repeat('x', 50) FROM generate_series(1, {ROWS}) g",
    "SELECT pg_stat_force_next_flush()",  # the inserts reach the statistics before ANALYZE resets the counter
    "ANALYZE h1_dead",
    "CREATE INDEX h1_dead_k_unused ON h1_dead (k)",
    "CREATE INDEX h1_dead_k_twin ON h1_dead (k)",
    "SELECT count(*) FROM h1_dead",  # a sequential scan: the table has statistics, its indexes none
    "UPDATE h1_dead SET pad = pad || 'y'",
    "CREATE TABLE h1_dup (id int PRIMARY KEY, v int NOT NULL)",
    "INSERT INTO h1_dup SELECT g, g % 3 FROM generate_series(1, 30) g",
    "CREATE SEQUENCE h1_small AS smallint",
    "SELECT setval('h1_small', 32000)",
]


@dataclass
class Planted:
    url: str
    holder: int  # A: idle in transaction, holds a row lock
    alter: int  # B: ALTER TABLE waiting for A
    reader: int  # C: SELECT waiting behind B
    idle: int  # D: idle in transaction, blocks nobody


async def _wait_for_lock(conn: asyncpg.Connection, pid: int) -> None:
    for _ in range(100):
        if await conn.fetchval("SELECT wait_event_type FROM pg_stat_activity WHERE pid = $1", pid) == "Lock":
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"backend {pid} never waited for a lock")


async def _session(url: str, application: str) -> asyncpg.Connection:
    conn = await asyncpg.connect(url, server_settings={"application_name": application})
    await conn.execute("SET idle_in_transaction_session_timeout = 0")  # whatever the server's default
    return conn


@pytest.fixture
async def planted() -> AsyncIterator[Planted]:
    db = f"dbspecialist_health_h1_{secrets.token_hex(3)}"
    url = PG_URL.rsplit("/", 1)[0] + f"/{db}"
    admin = await asyncpg.connect(PG_URL)
    sessions: list[asyncpg.Connection] = []
    waiting: list[asyncio.Task[Any]] = []
    try:
        await admin.execute(f"CREATE DATABASE {db}")
        setup = await asyncpg.connect(url)
        sessions.append(setup)
        for statement in SETUP:
            await setup.execute(statement)
        with pytest.raises(asyncpg.UniqueViolationError):
            await setup.execute("CREATE UNIQUE INDEX CONCURRENTLY h1_dup_v_uq ON h1_dup (v)")
        await setup.execute("SELECT pg_stat_force_next_flush()")

        a, b, c, d = [await _session(url, f"h1_{n}") for n in ("holder", "alter", "reader", "idle")]
        sessions += [a, b, c, d]
        pids = [int(await s.fetchval("SELECT pg_backend_pid()")) for s in (a, b, c, d)]
        for conn, statement in ((a, "UPDATE h1_locks SET v = v + 1 WHERE id = 1"), (d, "SELECT 1")):
            await conn.execute("BEGIN")
            await conn.execute(statement)
        waiting.append(asyncio.create_task(b.execute("ALTER TABLE h1_locks ADD COLUMN extra int")))
        await _wait_for_lock(setup, pids[1])
        waiting.append(asyncio.create_task(c.fetchval("SELECT count(*) FROM h1_locks")))
        await _wait_for_lock(setup, pids[2])
        await asyncio.sleep(WAIT_S + 0.3)
        yield Planted(url, *pids)
    finally:
        for conn in sessions:
            conn.terminate()
        await asyncio.gather(*waiting, return_exceptions=True)
        await admin.execute(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
        await admin.close()


async def _report(url: str) -> tuple[dict[str, Any], HealthReport]:
    adapter = PostgresAdapter(pg_config("h1", url=url))
    try:
        snapshot = await postgres_health_snapshot(adapter)
    finally:
        await adapter.close()
    return snapshot, check_postgres(snapshot, thresholds=THRESHOLDS)


def _one(report: HealthReport, rule_id: str, subject: str) -> Finding:
    found = [f for f in report.findings if f.rule_id == rule_id and f.subject == subject]
    assert len(found) == 1, [(f.rule_id, f.subject) for f in report.findings]
    return found[0]


async def test_planted_problems_are_reported_with_their_objects(planted: Planted) -> None:
    snapshot, report = await _report(planted.url)
    assert snapshot["round_trips"] == 30  # fixed, whatever the number of tables
    assert report.skipped == {} and len(report.checks_run) == 20

    chain = _one(report, "HLT006", f"pid {planted.holder}")
    ev = chain.evidence
    assert ev["blocker_pid"] == planted.holder and ev["blocker_application"] == "h1_holder"
    assert ev["blocker_state"] == "idle in transaction" and ev["blocker_user"] == "postgres"
    assert ev["blocker_query"] == "UPDATE h1_locks SET v = v + 1 WHERE id = 1"
    assert ev["blocked_pids"] == ",".join(str(p) for p in sorted((planted.alter, planted.reader)))
    assert ev["directly_blocked_pids"] == str(planted.alter) and ev["chain_depth"] == 2
    assert ev["longest_waiting_pid"] == planted.alter
    assert ev["longest_waiting_query"] == "ALTER TABLE h1_locks ADD COLUMN extra int"
    assert float(ev["longest_wait_seconds"] or 0) >= WAIT_S and ev["wait_source"] == "pg_locks.waitstart"
    assert chain.fix is not None and chain.fix.statements == [f"SELECT pg_terminate_backend({planted.holder});"]

    idle = [f for f in report.findings if f.rule_id == "HLT005"]
    assert len(idle) == 1
    pids = {int(p) for p in str(idle[0].evidence["pids"]).split(",")}
    assert {planted.holder, planted.idle} <= pids and planted.alter not in pids

    dead = _one(report, "HLT010", "h1_dead")
    settings = snapshot["settings"]
    threshold = float(settings["autovacuum_vacuum_threshold"])
    threshold += float(settings["autovacuum_vacuum_scale_factor"]) * ROWS
    assert dead.evidence["n_dead_tup"] == ROWS and dead.evidence["n_live_tup"] == ROWS
    assert dead.evidence["dead_ratio_pct"] == 100.0 and dead.evidence["vacuum_threshold"] == threshold
    assert dead.evidence["autovacuum_table"] is False and dead.severity == Severity.HIGH
    assert dead.fix is not None and "ALTER TABLE h1_dead RESET (autovacuum_enabled);" in dead.fix.statements
    stale = _one(report, "HLT011", "h1_dead")
    assert stale.evidence["n_mod_since_analyze"] == ROWS

    unused = {f.subject: f for f in report.findings if f.rule_id == "HLT017" and f.table == "h1_dead"}
    assert set(unused) == {"h1_dead_k_unused", "h1_dead_k_twin"}
    assert unused["h1_dead_k_unused"].evidence["idx_scan"] == 0
    assert unused["h1_dead_k_unused"].evidence["definition"] == (
        "CREATE INDEX h1_dead_k_unused ON public.h1_dead USING btree (k)"
    )
    twin = _one(report, "HLT018", "h1_dead_k_unused")
    assert twin.evidence["duplicate_of"] == "h1_dead_k_twin"

    invalid = _one(report, "HLT016", "h1_dup_v_uq")
    assert invalid.table == "h1_dup" and invalid.evidence["is_unique"] is True
    assert invalid.fix is not None and invalid.fix.statements == [
        "DROP INDEX CONCURRENTLY h1_dup_v_uq;",
        "CREATE UNIQUE INDEX CONCURRENTLY h1_dup_v_uq ON public.h1_dup USING btree (v);",
    ]

    sequence = _one(report, "HLT015", "h1_small")
    assert sequence.severity == Severity.CRITICAL and sequence.evidence["last_value"] == 32_000
    assert sequence.evidence["limit"] == 32_767 and sequence.evidence["used_pct"] == 97.66

    assert int(report.metrics["sessions_waiting_on_locks"] or 0) >= 2
    assert report.stats_since is not None


async def test_a_role_without_pg_read_all_stats_is_told_what_it_cannot_see(planted: Planted) -> None:
    role = f"dbs_h1_{secrets.token_hex(3)}"
    admin = await asyncpg.connect(PG_URL)
    try:
        await admin.execute(f"CREATE ROLE {role} LOGIN")
        url = planted.url.replace("postgres@", f"{role}@", 1)
        snapshot, report = await _report(url)
    finally:
        await admin.execute(f"DROP ROLE IF EXISTS {role}")
        await admin.close()
    assert snapshot["sees_all_sessions"] is False
    assert "pg_read_all_stats" in report.skipped["other_roles_sessions"]
    assert len(report.checks_run) == 20  # every section was still readable
    assert not [f for f in report.findings if f.rule_id == "HLT006"]  # the chain is hidden, not invented
    assert int(report.metrics["connections_used"] or 0) >= 5  # counted, even without the details


BLOAT = """
CREATE TABLE packed (id bigint PRIMARY KEY, a int, b text, c timestamptz, d numeric);
INSERT INTO packed SELECT g, g % 1000, md5(g::text), now(), g * 1.5 FROM generate_series(1, 100000) g;
CREATE TABLE holes (LIKE packed INCLUDING ALL);
INSERT INTO holes SELECT * FROM packed;
CREATE INDEX holes_b ON holes (b);
DELETE FROM holes WHERE id % 5 <> 0;
"""


async def test_bloat_estimate_sees_the_deleted_four_fifths() -> None:
    """The statistics-based estimate is close for a freshly loaded table and sees 80 % deleted rows as waste."""
    db = f"dbspecialist_health_h1b_{secrets.token_hex(3)}"
    url = PG_URL.rsplit("/", 1)[0] + f"/{db}"
    admin = await asyncpg.connect(PG_URL)
    try:
        await admin.execute(f"CREATE DATABASE {db}")
        conn = await asyncpg.connect(url)
        try:
            await conn.execute(BLOAT)
            await conn.execute("VACUUM ANALYZE packed")
            await conn.execute("VACUUM ANALYZE holes")  # the space is reusable, not returned
        finally:
            await conn.close()
        adapter = PostgresAdapter(pg_config("h1b", url=url))
        try:
            snapshot = await postgres_health_snapshot(adapter)
        finally:
            await adapter.close()
    finally:
        await admin.execute(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
        await admin.close()
    tables = {t["name"]: t for t in snapshot["bloat"]["tables"]}
    packed, holes = tables["packed"], tables["holes"]
    assert packed["expected_pages"] >= 0.9 * packed["relpages"]  # within 10 % when nothing was deleted
    assert holes["relpages"] == packed["relpages"] and holes["expected_pages"] <= 0.25 * holes["relpages"]
    indexes = {i["name"]: i for i in snapshot["bloat"]["indexes"]}
    assert indexes["holes_b"]["expected_pages"] <= 0.25 * indexes["holes_b"]["relpages"]

    report = check_postgres(snapshot, thresholds=PgThresholds(bloat_min_bytes=1024**2))
    [table] = [f for f in report.findings if f.rule_id == "HLT012"]
    assert table.subject == "holes" and table.evidence["measured"] == "estimate"
    assert float(table.evidence["wasted_pct"] or 0) >= 75.0
    assert {f.subject for f in report.findings if f.rule_id == "HLT013"} == {"holes_b", "holes_pkey"}
