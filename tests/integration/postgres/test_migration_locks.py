"""Lock claims checked against PostgreSQL itself: for every operation kind, what pg_locks shows and what it blocks.

For each kind, session 1 runs the statement (inside BEGIN, held open; or, for statements that cannot run in a
transaction, while a blocker in session 4 makes it wait), session 3 reads pg_locks, and session 2 tries a read and
a write with a 100 ms lock_timeout. We assert that:
- the strongest mode session 1 holds (or waits for) on the table is the claimed mode (pg_locks.OPERATIONS, or
  pg_classify.EXTRA_OPERATIONS), and every table pg_classify.statement_lock names is locked in that mode;
- the read is blocked iff the claim says "reads and writes", the write iff it says anything but "nothing";
- the server accepts the statement in a transaction block iff the claim says `transactional`;
- a claimed rewrite changes the table's relfilenode, and a claimed non-rewrite does not.
Then the safe-cast matrix is checked by relfilenode, the planner's steps for a representative change are executed
one by one with the same observation, and the whole safe plan runs while a writer measures its write latency.

Where the server disagrees with pg_locks.py (owned by the lead), the case is marked xfail(strict=True) with the
exact correction; fixing pg_locks.py turns it into an XPASS failure, so the marker must then be removed.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import pytest
import pytest_asyncio

from dbspecialist.knowledge.ddl.dispatch import parse_ddl
from dbspecialist.knowledge.migrations import pg_locks
from dbspecialist.knowledge.migrations.context import PlanContext
from dbspecialist.knowledge.migrations.model import MigrationStep
from dbspecialist.knowledge.migrations.pg_classify import (
    EXTRA_OPERATIONS,
    SchemaState,
    claim,
    classify_node,
    operation,
    statement_lock,
)
from dbspecialist.knowledge.migrations.pg_safe_cast import type_change
from dbspecialist.knowledge.migrations.pg_statements import split_postgres
from dbspecialist.knowledge.migrations.postgres_plan import plan_postgres
from tests.integration.postgres.conftest import PG_URL

pytestmark = pytest.mark.integration

PROBE_TIMEOUT = "100ms"
MODE_OF = {name: mode for mode, name in pg_locks.PG_LOCKS_NAME.items()}
ROWS = 20_000

BASE = """
CREATE SCHEMA {s};
SET search_path = {s};
CREATE TABLE u (id int PRIMARY KEY, v text);
INSERT INTO u SELECT g, 'u' || g FROM generate_series(1, 1000) g;
CREATE TABLE t (id int PRIMARY KEY, v text, n int, uid int, ts timestamp, c varchar(10));
INSERT INTO t SELECT g, 'v' || g, g, g % 1000 + 1, now(), 'x' FROM generate_series(1, {rows}) g;
CREATE INDEX t_n ON t (n);
CREATE UNIQUE INDEX t_id_v ON t (id, v);
ALTER TABLE t ADD CONSTRAINT t_uid_fk FOREIGN KEY (uid) REFERENCES u (id) NOT VALID;
ALTER TABLE t ADD CONSTRAINT t_n_pos CHECK (n > 0) NOT VALID;
CREATE FUNCTION keep() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END';
CREATE TRIGGER t_tr BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION keep();
CREATE TABLE np (id int NOT NULL, v text);
INSERT INTO np SELECT g, 'n' FROM generate_series(1, {rows}) g;
CREATE TABLE p (id int, k int) PARTITION BY RANGE (k);
CREATE TABLE p1 PARTITION OF p FOR VALUES FROM (0) TO (100);
CREATE TABLE p2 (id int, k int);
INSERT INTO p SELECT g, g % 100 FROM generate_series(1, 1000) g;
CREATE TYPE mood AS ENUM ('a', 'b');
CREATE TABLE e (id int, m mood);
INSERT INTO e VALUES (1, 'a');
CREATE MATERIALIZED VIEW m AS SELECT id, n FROM t;
CREATE UNIQUE INDEX m_id ON m (id);
CREATE VIEW old_view AS SELECT id FROM t;
CREATE TABLE junk (id int);
ANALYZE;
"""

WRITES = {
    "t": "UPDATE t SET v = v WHERE id = {rows}",
    "u": "UPDATE u SET v = v WHERE id = 1000",
    "np": "UPDATE np SET v = v WHERE id = {rows}",
    "p": "UPDATE p SET k = k WHERE id = 999",
    "e": "UPDATE e SET m = m WHERE id = 1",
}


@dataclass
class Case:
    kind: str
    sql: str
    table: str  # where the claimed mode must show ('' = no table lock claimed)
    probe: str = ""  # table for the read and write probes (default: `table`)
    pre: str = ""  # committed before the case
    post: str = ""  # committed after a non-transactional case
    target: str = ""  # the relation the claim is really about, when not a table (an index)
    session: str = ""  # session settings before BEGIN
    blocker: str = ""  # non-transactional: what session 4 holds so that the statement waits
    classified: str = ""  # the kind pg_classify gives the statement, when another than `kind`
    extra: dict[str, Any] = field(default_factory=dict)


def case(kind: str, sql: str, table: str = "t", **kw: Any) -> Case:
    return Case(kind, sql, table, **kw)


TX_CASES = [
    case("add_column", "ALTER TABLE t ADD COLUMN z int NOT NULL DEFAULT 0"),
    case("add_column_rewrite", "ALTER TABLE t ADD COLUMN z float8 DEFAULT random()"),
    case("drop_column", "ALTER TABLE t DROP COLUMN c"),
    case("rename_column", "ALTER TABLE t RENAME COLUMN c TO c2"),
    case("set_default", "ALTER TABLE t ALTER COLUMN c SET DEFAULT 'y'"),
    case("drop_default", "ALTER TABLE t ALTER COLUMN c DROP DEFAULT"),
    case("set_not_null", "ALTER TABLE t ALTER COLUMN v SET NOT NULL"),
    case(
        "set_not_null_proven",
        "ALTER TABLE t ALTER COLUMN n SET NOT NULL",
        pre="ALTER TABLE t ADD CONSTRAINT t_n_nn CHECK (n IS NOT NULL)",
        post="ALTER TABLE t DROP CONSTRAINT t_n_nn",
    ),
    case(
        "drop_not_null",
        "ALTER TABLE t ALTER COLUMN n DROP NOT NULL",
        pre="ALTER TABLE t ALTER COLUMN n SET NOT NULL",
        post="ALTER TABLE t ALTER COLUMN n DROP NOT NULL",
    ),
    case("alter_type", "ALTER TABLE t ALTER COLUMN uid TYPE bigint"),
    case("alter_type_coercible", "ALTER TABLE t ALTER COLUMN c TYPE varchar(20)"),
    case(
        "alter_type_rebuild_indexes",
        "ALTER TABLE t ALTER COLUMN ts TYPE timestamptz",
        session="SET timezone = 'UTC'",
        pre="CREATE INDEX t_ts ON t (ts)",
        post="DROP INDEX t_ts",
    ),
    case("set_statistics", "ALTER TABLE t ALTER COLUMN n SET STATISTICS 500"),
    case("set_attribute_options", "ALTER TABLE t ALTER COLUMN n SET (n_distinct = 100)"),
    case("set_column_storage", "ALTER TABLE t ALTER COLUMN v SET STORAGE EXTERNAL"),
    case("set_storage_options", "ALTER TABLE t SET (fillfactor = 70)"),
    case("add_identity", "ALTER TABLE t ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY"),
    case(
        "alter_identity",
        "ALTER TABLE np ALTER COLUMN id SET GENERATED ALWAYS",
        table="np",
        pre="ALTER TABLE np ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY",
        post="ALTER TABLE np ALTER COLUMN id DROP IDENTITY",
    ),
    case("add_check", "ALTER TABLE t ADD CONSTRAINT ck CHECK (n > -1)"),
    case("add_check_not_valid", "ALTER TABLE t ADD CONSTRAINT ck CHECK (n > -1) NOT VALID"),
    case("add_foreign_key", "ALTER TABLE t ADD CONSTRAINT fk2 FOREIGN KEY (uid) REFERENCES u (id)"),
    case("add_foreign_key_not_valid", "ALTER TABLE t ADD CONSTRAINT fk2 FOREIGN KEY (uid) REFERENCES u (id) NOT VALID"),
    case("validate_constraint", "ALTER TABLE t VALIDATE CONSTRAINT t_n_pos"),
    case("validate_constraint", "ALTER TABLE t VALIDATE CONSTRAINT t_uid_fk", probe="u", extra={"fk": True}),
    case("add_unique", "ALTER TABLE t ADD CONSTRAINT t_uq UNIQUE (n, id)"),
    case("add_primary_key", "ALTER TABLE np ADD PRIMARY KEY (id)", table="np"),
    case("add_constraint_using_index", "ALTER TABLE t ADD CONSTRAINT t_id_v_uq UNIQUE USING INDEX t_id_v"),
    case("drop_constraint", "ALTER TABLE t DROP CONSTRAINT t_n_pos"),
    case("drop_constraint", "ALTER TABLE t DROP CONSTRAINT t_uid_fk", probe="u", extra={"fk": True}),
    case("rename_constraint", "ALTER TABLE t RENAME CONSTRAINT t_n_pos TO t_n_positive"),
    case("alter_constraint", "ALTER TABLE t ALTER CONSTRAINT t_uid_fk DEFERRABLE"),
    case("alter_table_other", "ALTER TABLE t REPLICA IDENTITY FULL"),
    case("cluster_on", "ALTER TABLE t CLUSTER ON t_n"),
    case("create_index", "CREATE INDEX t_v ON t (v)"),
    case("drop_index", "DROP INDEX t_n"),
    case("reindex", "REINDEX INDEX t_n"),
    case("rename_index", "ALTER INDEX t_n RENAME TO t_n2", target="t_n2"),
    case("create_table", "CREATE TABLE nt (id int REFERENCES u (id))", table="nt", probe="u"),
    case("create_partition", "CREATE TABLE p3 PARTITION OF p FOR VALUES FROM (100) TO (200)", table="p"),
    case("drop_table", "DROP TABLE np", table="np"),
    case("rename_table", "ALTER TABLE np RENAME TO np2", table="np", target="np2", extra={"renamed_to": "np2"}),
    case("set_schema", "ALTER TABLE np SET SCHEMA public", table="np", extra={"moved": True}),
    case("truncate", "TRUNCATE np", table="np"),
    case("set_logged", "ALTER TABLE np SET UNLOGGED", table="np"),
    case("cluster", "CLUSTER t USING t_n"),
    case("create_view", "CREATE VIEW v2 AS SELECT * FROM t", table="v2", probe="t"),
    case("drop_view", "DROP VIEW old_view", table="old_view", probe="t"),
    case("create_materialized_view", "CREATE MATERIALIZED VIEW m2 AS SELECT id FROM t", table="m2", probe="t"),
    case("refresh_materialized_view", "REFRESH MATERIALIZED VIEW m", table="m"),
    case("refresh_materialized_view_concurrently", "REFRESH MATERIALIZED VIEW CONCURRENTLY m", table="m"),
    case("create_trigger", "CREATE TRIGGER t_tr2 BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION keep()"),
    case("drop_trigger", "DROP TRIGGER t_tr ON t"),
    case("enable_disable_trigger", "ALTER TABLE t DISABLE TRIGGER t_tr"),
    case("attach_partition", "ALTER TABLE p ATTACH PARTITION p2 FOR VALUES FROM (100) TO (200)", table="p"),
    case("detach_partition", "ALTER TABLE p DETACH PARTITION p1", table="p"),
    case("add_enum_value", "ALTER TYPE mood ADD VALUE 'c'", table="", probe="e"),
    case("rename_enum_value", "ALTER TYPE mood RENAME VALUE 'b' TO 'bb'", table="", probe="e"),
    case(
        "backfill_batch",
        "WITH batch AS (SELECT id FROM t WHERE n > 0 ORDER BY id LIMIT 5000 FOR NO KEY UPDATE) "
        "UPDATE t SET v = v || '' WHERE id IN (SELECT id FROM batch)",
        classified="update_rows",
    ),
    case("update_rows", "UPDATE t SET n = n WHERE id < 100"),
    case("delete_rows", "DELETE FROM t WHERE id < 100"),
    case("insert_rows", "INSERT INTO t (id, v, n) VALUES (-1, 'x', 1)"),
    case("analyze", "ANALYZE t"),
]

# Statements PostgreSQL refuses inside a transaction block; each waits on session 4's blocker while we observe.
NON_TX_CASES = [
    case(
        "create_index_concurrently",
        "CREATE INDEX CONCURRENTLY t_v ON t (v)",
        blocker="UPDATE t SET v = v WHERE id = 1",
        post="DROP INDEX IF EXISTS t_v",
    ),
    case(
        "drop_index_concurrently",
        "DROP INDEX CONCURRENTLY t_n",
        blocker="UPDATE t SET v = v WHERE id = 1",
        post="CREATE INDEX IF NOT EXISTS t_n ON t (n)",
    ),
    case("reindex_concurrently", "REINDEX INDEX CONCURRENTLY t_n", blocker="UPDATE t SET v = v WHERE id = 1"),
    case(
        "detach_partition_concurrently",
        "ALTER TABLE p DETACH PARTITION p1 CONCURRENTLY",
        table="p",
        blocker="ANALYZE p",  # holds SHARE UPDATE EXCLUSIVE, so the first internal transaction queues for it
        post="ALTER TABLE p ATTACH PARTITION p1 FOR VALUES FROM (0) TO (100)",
    ),
    case("vacuum_full", "VACUUM FULL np", table="np", blocker="SELECT count(*) FROM np"),
    case("vacuum", "VACUUM np", table="np", blocker="ANALYZE np"),
]

# Where PostgreSQL 15 disagrees with pg_locks.py: the correction for the lead (strict xfail until it is made).
CORRECTIONS: dict[str, str] = {}  # none left: pg_locks.py was corrected from these observations


def _params(cases: list[Case]) -> list[Any]:
    params = []
    for c in cases:
        reason = CORRECTIONS.get(c.kind)
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        suffix = "_fk" if c.extra.get("fk") else ""
        params.append(pytest.param(c, id=c.kind + suffix, marks=marks))
    return params


# ------------------------------------------------------------------------------------------------ fixtures


async def _database() -> AsyncIterator[dict[str, Any]]:
    """A fresh schema with the base tables; s1 runs the step, s2 probes, s3 observes pg_locks."""
    schema = f"dbspecialist_mig_b_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(PG_URL)
    await admin.execute(BASE.format(s=schema, rows=ROWS))
    await admin.execute(f"SET search_path = {schema}")
    sessions = [await asyncpg.connect(PG_URL) for _ in range(3)]
    for conn in sessions:
        await conn.execute(f"SET search_path = {schema}")
    await sessions[1].execute(f"SET lock_timeout = '{PROBE_TIMEOUT}'")
    try:
        yield {"schema": schema, "admin": admin, "s1": sessions[0], "s2": sessions[1], "s3": sessions[2]}
    finally:
        for conn in sessions:
            await conn.close(timeout=5)
        await admin.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        await admin.close()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def shared() -> AsyncIterator[dict[str, Any]]:
    """One schema for all the claim cases: each rolls back or undoes its change (`post`)."""
    async for found in _database():
        yield found


@pytest.fixture
async def db() -> AsyncIterator[dict[str, Any]]:
    """A schema of its own, for tests that change it for good (the planned steps)."""
    async for found in _database():
        yield found


# ------------------------------------------------------------------------------------------------ observation


async def held_modes(observer: asyncpg.Connection, names: asyncpg.Connection | None, pid: int) -> dict[str, str]:
    """relation name → strongest mode `pid` holds or waits for.

    Names are resolved by the observer (committed relations, e.g. one the step drops) and then by `names` (the
    step's own session, which sees relations it created or renamed in its open transaction).
    """
    rows = await observer.fetch(
        "SELECT relation::bigint AS rel, mode FROM pg_locks WHERE pid = $1 AND locktype = 'relation'", pid
    )
    oids = sorted({r["rel"] for r in rows})
    query = "SELECT oid::bigint AS oid, relname FROM pg_class WHERE oid = ANY($1::oid[])"
    by_oid = {r["oid"]: r["relname"] for r in await observer.fetch(query, oids)}
    if names is not None:
        by_oid.update({r["oid"]: r["relname"] for r in await names.fetch(query, oids)})
    modes: dict[str, list[str]] = {}
    for r in rows:
        if r["rel"] in by_oid:
            modes.setdefault(by_oid[r["rel"]], []).append(MODE_OF[r["mode"]])
    return {name: pg_locks.strongest(found) for name, found in modes.items()}


async def is_blocked(conn: asyncpg.Connection, sql: str) -> bool:
    try:
        await conn.execute(sql)
    except asyncpg.LockNotAvailableError:
        return True
    return False


async def probe(s2: asyncpg.Connection, table: str) -> tuple[bool, bool | None]:
    """(read blocked, write blocked or None when the table takes no writes)."""
    read = await is_blocked(s2, f"SELECT 1 FROM {table} LIMIT 1")
    write_sql = WRITES.get(table)
    if write_sql is None:
        return read, None
    await s2.execute("BEGIN")
    try:
        write = await is_blocked(s2, write_sql.format(rows=ROWS))
    finally:
        await s2.execute("ROLLBACK")
    return read, write


def expected(case_: Case) -> tuple[str, dict[str, str]]:
    """(claimed mode, table → mode the classifier says the statement takes)."""
    state = SchemaState((15, 0, 0), parse_ddl(BASE.split(";", 2)[2].replace("{rows}", "1"), "postgres").catalog)
    for earlier in split_postgres(";".join(part for part in (case_.pre, case_.session) if part) or "SELECT 1"):
        classify_node(earlier.node, state)
    (statement,) = split_postgres(case_.sql)
    ops = classify_node(statement.node, state)
    assert ops, case_.sql
    assert ops[0].kind == (case_.classified or case_.kind), (ops[0].kind, case_.kind)
    locks = statement_lock(ops)
    if case_.extra.get("fk"):
        locks["u"] = "ROW SHARE" if case_.kind == "validate_constraint" else "ACCESS EXCLUSIVE"
    return operation(case_.kind).mode, {name.rsplit(".", 1)[-1]: mode for name, mode in locks.items()}


def claimed_blocks(kind: str) -> str:
    """What the claim says the step blocks: pg_locks for its kinds, pg_classify.claim for the extra ones."""
    return claim(kind, []).blocks if kind in EXTRA_OPERATIONS else operation(kind).blocks


def check_blocks(blocks: str, read: bool, write: bool | None, what: str) -> None:
    assert read is (blocks == "reads and writes"), f"{what}: read blocked={read}, claim blocks {blocks!r}"
    if write is not None:
        assert write is (blocks != "nothing"), f"{what}: write blocked={write}, claim blocks {blocks!r}"


async def filenode(conn: asyncpg.Connection, table: str) -> int | None:
    value = await conn.fetchval("SELECT pg_relation_filenode(to_regclass($1))", table)
    return int(value) if value is not None else None


# ------------------------------------------------------------------------------------------------ the claims


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize("case_", _params(TX_CASES))
async def test_claim_in_a_transaction(shared: dict[str, Any], case_: Case) -> None:
    admin, s1, s2, s3 = shared["admin"], shared["s1"], shared["s2"], shared["s3"]
    if case_.pre:
        await admin.execute(case_.pre)
    claimed, by_table = expected(case_)
    op = operation(case_.kind)
    if case_.session:
        await s1.execute(case_.session)
    before = await filenode(s1, case_.table) if case_.table else None
    await s1.execute("BEGIN")
    try:
        await s1.execute(case_.sql)  # runs inside a transaction block: the claim must say transactional
        assert op.transactional, f"{case_.kind} ran inside a transaction block but is claimed non-transactional"
        held = await held_modes(s3, s1, s1.get_server_pid())
        target = case_.target or case_.table
        if target:
            assert held.get(target) == claimed, f"{case_.kind}: holds {held}, claimed {claimed} on {target}"
        else:
            assert not {k: v for k, v in held.items() if k in WRITES}, f"{case_.kind}: unexpected locks {held}"
        for table, mode in by_table.items():
            name = case_.target if table == case_.table and case_.target else table
            assert held.get(name) == mode, f"{case_.kind}: {name} holds {held.get(name)}, classifier says {mode}"
        probe_table = case_.probe or case_.table
        read, write = await probe(s2, probe_table)
        if probe_table == case_.table or not case_.table:
            blocks = claimed_blocks(case_.kind)
        else:
            probe_mode = by_table.get(probe_table)
            blocks = pg_locks.blocks(probe_mode) if probe_mode else "nothing"
        check_blocks(blocks, read, write, f"{case_.kind} on {probe_table}")
        if case_.table and before is not None and case_.kind != "truncate" and not case_.extra.get("moved"):
            after = await filenode(s1, case_.extra.get("renamed_to", case_.table))
            rewritten = after not in (before, None)
            assert rewritten is (op.effect == "rewrite"), f"{case_.kind}: rewrite={rewritten}, effect {op.effect}"
    finally:
        await s1.execute("ROLLBACK")
        if case_.post:
            await admin.execute(case_.post)


async def _wait_until_waiting(observer: asyncpg.Connection, pid: int, task: asyncio.Task[Any]) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if task.done():
            task.result()
            pytest.fail("the statement finished without waiting for the blocker")
        if await observer.fetchval("SELECT count(*) FROM pg_locks WHERE pid = $1 AND NOT granted", pid):
            return
        await asyncio.sleep(0.02)
    pytest.fail("the statement never waited")


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize("case_", _params(NON_TX_CASES))
async def test_claim_outside_transactions(shared: dict[str, Any], case_: Case) -> None:
    admin, s1, s2, s3 = shared["admin"], shared["s1"], shared["s2"], shared["s3"]
    blocker = await asyncpg.connect(PG_URL)
    await blocker.execute(f"SET search_path = {shared['schema']}")
    claimed, _ = expected(case_)
    op = operation(case_.kind)
    try:
        await blocker.execute("BEGIN")
        await blocker.execute(case_.blocker)
        task = asyncio.ensure_future(s1.execute(case_.sql))
        try:
            await _wait_until_waiting(s3, s1.get_server_pid(), task)
            held = await held_modes(s3, None, s1.get_server_pid())
            assert held.get(case_.table) == claimed, f"{case_.kind}: holds/waits {held}, claimed {claimed}"
            read, write = await probe(s2, case_.probe or case_.table)
            check_blocks(claimed_blocks(case_.kind), read, write, case_.kind)
        finally:
            await blocker.execute("ROLLBACK")
            await asyncio.wait_for(task, 30)
        await s1.execute("BEGIN")
        try:
            with pytest.raises(asyncpg.ActiveSQLTransactionError):
                await s1.execute(case_.sql)
        finally:
            await s1.execute("ROLLBACK")
        assert not op.transactional, f"{case_.kind}: PostgreSQL refuses it in a transaction block"
    finally:
        await blocker.close()
        if case_.post:
            await admin.execute(case_.post)


# ------------------------------------------------------------------------------------------------ safe casts


CAST_ROWS = [
    ("varchar(10)", "varchar(20)"),
    ("varchar(20)", "varchar(10)"),
    ("varchar(10)", "text"),
    ("text", "varchar"),
    ("text", "varchar(10)"),
    ("numeric(10,2)", "numeric(12,2)"),
    ("numeric(10,2)", "numeric(12,3)"),
    ("numeric(10,2)", "numeric"),
    ("timestamp(3)", "timestamp(6)"),
    ("timestamp(6)", "timestamp(3)"),
    ("time(3)", "time(6)"),
    ("interval(3)", "interval"),
    ("cidr", "inet"),
    ("inet", "cidr"),
    ("varbit(5)", "varbit(10)"),
    ("bit(5)", "bit(10)"),
    ("integer", "bigint"),
    ("smallint", "integer"),
    ("char(3)", "text"),
    ("integer", "oid"),
    ("timestamp", "timestamptz"),
    ("timestamptz", "timestamp"),
    ("varchar[]", "text[]"),
]


@pytest.mark.asyncio(loop_scope="module")
async def test_safe_cast_matrix_matches_relfilenodes(shared: dict[str, Any]) -> None:
    """Every matrix row, indexed and not, with and without a UTC session: table and index rewritten or not."""
    conn = shared["admin"]
    for old, new in CAST_ROWS:
        for indexed in (True, False):
            for utc in (True, False):
                if not utc and "timestamp" not in old:
                    continue
                await conn.execute(f"SET timezone = '{'UTC' if utc else 'Europe/Paris'}'")
                await conn.execute(f"DROP TABLE IF EXISTS cast_t; CREATE TABLE cast_t (id int, c {old})")
                await conn.execute("INSERT INTO cast_t VALUES (1, NULL)")
                if indexed:
                    await conn.execute("CREATE INDEX cast_i ON cast_t (c)")
                table_before = await filenode(conn, "cast_t")
                index_before = await filenode(conn, "cast_i") if indexed else None
                await conn.execute(f"ALTER TABLE cast_t ALTER COLUMN c TYPE {new}")
                table_rewritten = await filenode(conn, "cast_t") != table_before
                index_rebuilt = indexed and await filenode(conn, "cast_i") != index_before
                result = type_change(old, new, indexed=indexed, session_timezone_utc=utc, version=(15, 0, 0))
                server = "rewrite" if table_rewritten else "rebuild_indexes" if index_rebuilt else "metadata"
                assert result == server, f"{old} → {new} (indexed={indexed}, utc={utc}): {result} vs server {server}"
    await conn.execute("DROP TABLE IF EXISTS cast_t; RESET timezone")


# ------------------------------------------------------------------------------------------------ planner steps


PLANNED_CHANGE = """
ALTER TABLE t ADD COLUMN ref uuid NOT NULL DEFAULT gen_random_uuid();
ALTER TABLE t ALTER COLUMN v SET NOT NULL;
ALTER TABLE t ADD CONSTRAINT t_uid_fk2 FOREIGN KEY (uid) REFERENCES u (id);
ALTER TABLE t ADD CONSTRAINT t_v_uq UNIQUE (v);
ALTER TABLE t ALTER COLUMN uid TYPE bigint;
ALTER TABLE t ALTER COLUMN c TYPE varchar(30);
ALTER TABLE t RENAME COLUMN c TO code;
CREATE INDEX t_v_idx ON t (v);
ALTER TABLE p ATTACH PARTITION p2 FOR VALUES FROM (100) TO (200);
ALTER TABLE np ADD PRIMARY KEY (id);
ALTER TABLE np RENAME TO np_renamed;
ALTER TYPE mood ADD VALUE 'c';
ALTER TABLE t ADD COLUMN seq bigint GENERATED BY DEFAULT AS IDENTITY;
ALTER TABLE t DROP CONSTRAINT t_pkey, ADD PRIMARY KEY (id, v);
UPDATE t SET n = n WHERE id < 100;
DROP INDEX t_n;
REINDEX INDEX t_id_v;
ALTER TABLE t DROP COLUMN ts;
ALTER TABLE p DETACH PARTITION p1;
DROP TABLE junk;
"""
PHASES = ("prepare", "expand", "backfill", "validate", "switch", "contract")


def planned_steps() -> list[MigrationStep]:
    ddl = BASE.split(";", 2)[2].replace("{rows}", str(ROWS))  # after CREATE SCHEMA and SET search_path
    catalog = parse_ddl(ddl, "postgres").catalog
    out = plan_postgres(PLANNED_CHANGE, PlanContext("postgres", (15, 0, 0), True, {}, catalog))
    return sorted(out.steps, key=lambda s: PHASES.index(s.phase))  # the assembler's stable phase order


async def run_backfill(conn: asyncpg.Connection, step: MigrationStep) -> int:
    """Run a planned backfill's batch SQL to completion (from below the smallest key); rows updated."""
    total, last = 0, str(-(2**31))
    while True:
        row = await conn.fetchrow(step.sql[0], last)
        if row["rows"] == 0:
            return total
        total, last = total + row["rows"], row[1]


def statements(step: MigrationStep) -> list[str]:
    return [sql for sql in step.sql if sql not in ("BEGIN", "COMMIT")]


async def test_planned_steps_take_the_claimed_locks(db: dict[str, Any]) -> None:
    """Every step of the safe plan runs on PostgreSQL 15 and takes exactly the lock it claims."""
    s1, s2, s3, schema = db["s1"], db["s2"], db["s3"], db["schema"]
    steps = planned_steps()
    modes_seen: set[str] = set()
    backfilled = 0
    for step in steps:
        if step.kind == "deploy":
            continue
        if step.kind == "check":
            value = await s1.fetchval(step.sql[0])
            assert value in (True, None), f"{step.title}: {value}"
            continue
        if step.kind == "script":
            backfilled += await run_backfill(s1, step)  # a later backfill may find its rows already done
            continue
        assert step.lock is not None
        modes_seen.add(step.lock.mode)
        if not step.transactional:
            for setting in step.preamble:
                await s1.execute(setting)
            for sql in statements(step):
                await s1.execute(sql)
            await s1.execute("RESET lock_timeout; RESET statement_timeout")
            continue
        for setting in step.preamble:
            await s1.execute(setting)
        await s1.execute("BEGIN")
        try:
            for sql in statements(step):
                await s1.execute(sql)
            held = await held_modes(s3, s1, s1.get_server_pid())
            for table in step.lock.tables:
                short = table.rsplit(".", 1)[-1]
                if short in held:
                    assert held[short] == step.lock.mode, f"{step.title}: {held} vs {step.lock.mode}"
            if step.table and step.table.rsplit(".", 1)[-1] in WRITES:
                read, write = await probe(s2, step.table.rsplit(".", 1)[-1])
                assert read is step.blocks_reads, f"{step.title}: read blocked {read}"
                assert write is step.blocks_writes, f"{step.title}: write blocked {write}"
            await s1.execute("COMMIT")
        except BaseException:
            await s1.execute("ROLLBACK")
            raise
        await s1.execute("RESET lock_timeout; RESET statement_timeout; RESET timezone")
    assert {"ACCESS EXCLUSIVE", "SHARE UPDATE EXCLUSIVE", "SHARE ROW EXCLUSIVE"} <= modes_seen
    assert backfilled >= ROWS  # the first backfill fills every row; the sync triggers fill the later ones
    columns = {
        r["column_name"]: (r["data_type"], r["is_nullable"])
        for r in await s1.fetch(
            "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
            "WHERE table_schema = $1 AND table_name = 't'",
            schema,
        )
    }
    assert columns["uid"] == ("bigint", "YES")
    assert columns["ref"] == ("uuid", "NO")
    assert columns["v"][1] == "NO"
    assert columns["code"] == ("character varying", "YES")
    assert "c" not in columns and "uid_old" not in columns and "uid_new" not in columns
    assert await s1.fetchval("SELECT count(*) FROM t WHERE uid IS NULL OR ref IS NULL") == 0
    invalid = "SELECT count(*) FROM pg_index JOIN pg_class c ON c.oid = indexrelid WHERE NOT indisvalid AND "
    assert await s1.fetchval(invalid + "c.relnamespace = $1::regnamespace", schema) == 0
    assert await s1.fetchval("SELECT count(*) FROM np_renamed") == ROWS
    assert await s1.fetchval("SELECT relispartition FROM pg_class WHERE oid = 'p2'::regclass") is True
    assert await s1.fetchval("SELECT relispartition FROM pg_class WHERE oid = 'p1'::regclass") is False
    assert columns["seq"] == ("bigint", "NO") and "ts" not in columns
    assert (
        await s1.fetchval(
            "SELECT attidentity::text FROM pg_attribute WHERE attrelid = 't'::regclass AND attname = 'seq'"
        )
        == "d"
    )
    assert await s1.fetchval("SELECT count(DISTINCT seq) FROM t") == ROWS
    assert await s1.fetchval(
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 't'::regclass AND contype = 'p'"
    ) == ("PRIMARY KEY (id, v)")
    assert await s1.fetchval("SELECT to_regclass('t_n')") is None
    assert await s1.fetchval("SELECT to_regclass('junk_to_drop')") is None


async def test_safe_plan_keeps_writes_flowing(db: dict[str, Any]) -> None:
    """The whole plan, run for real while a writer updates and inserts: no write waits longer than lock_timeout."""
    s1, schema = db["s1"], db["schema"]
    steps = planned_steps()
    writer = await asyncpg.connect(PG_URL)
    await writer.execute(f"SET search_path = {schema}")
    latencies: list[float] = []
    stop = asyncio.Event()

    async def write_loop() -> None:
        next_id = ROWS + 1
        while not stop.is_set():
            started = time.monotonic()
            await writer.execute("UPDATE u SET v = v WHERE id = $1", next_id % 1000 + 1)
            await writer.execute("INSERT INTO t (id, v, n, uid) VALUES ($1, $2, $1, 1)", next_id, f"w{next_id}")
            latencies.append(time.monotonic() - started)
            next_id += 1
            await asyncio.sleep(0.005)

    task = asyncio.ensure_future(write_loop())
    started = time.monotonic()
    try:
        for step in steps:
            if step.kind in ("deploy", "check"):
                continue
            if step.kind == "script":
                await run_backfill(s1, step)
                continue
            for setting in step.preamble:
                await s1.execute(setting)
            joined = statements(step)
            if step.transactional and len(joined) > 1:
                async with s1.transaction():
                    for sql in joined:
                        await s1.execute(sql)
            else:
                for sql in joined:
                    await s1.execute(sql)
            await s1.execute("RESET lock_timeout; RESET statement_timeout; RESET timezone")
    finally:
        stop.set()
        await task
        await writer.close()
    elapsed = time.monotonic() - started
    assert len(latencies) > 20, f"only {len(latencies)} writes in {elapsed:.1f} s"
    assert max(latencies) <= 2.0 + 0.5, f"a write waited {max(latencies):.2f} s (lock_timeout is 2 s)"
