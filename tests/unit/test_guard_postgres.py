"""The pglast guard on its own: what it accepts, what it refuses and why (no server needed)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dbspecialist.adapters.guard_postgres import check_postgres, check_postgres_single
from dbspecialist.errors import QueryRefusedError

ACCEPTED = {
    "SELECT 1": "select",
    "select count(*) from t where a = $1": "select",
    "WITH x AS (SELECT 1) SELECT * FROM x": "select",
    "SELECT 1 UNION ALL SELECT 2": "select",
    "TABLE t": "select",
    "VALUES (1, 'a')": "values",
    "SHOW work_mem": "show",
    "EXPLAIN SELECT * FROM t": "explain",
    "EXPLAIN (ANALYZE false, COSTS off) SELECT 1": "explain",
    "SELECT $$DROP TABLE t$$": "select",
    "SELECT 'x; DROP TABLE t'": "select",
    "SELECT pg_sleep FROM t": "select",  # a column named like a function
    'SELECT 1 AS "pg_read_file"': "select",
    "SELECT 1; -- trailing comment": "select",
    "SELECT pg_sleep(1)": "select",
    "SELECT lower(name), now(), random() FROM t": "select",
}
REFUSED = {
    "": "empty",
    "-- only a comment": "empty",
    "SELECT 1; SELECT 2": "2 statements",
    "SELECT 1; -- \n DROP TABLE t": "2 statements",
    "SELECT $a$ ; $a$; DELETE FROM t": "2 statements",
    "SELEC 1": "could not be parsed",
    "BEGIN": "BEGIN is not a read",
    "COMMIT": "COMMIT is not a read",
    "ROLLBACK": "ROLLBACK is not a read",
    "SAVEPOINT s": "SAVEPOINT is not a read",
    "START TRANSACTION READ WRITE": "START TRANSACTION is not a read",
    "WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d": "data-modifying DELETE",
    "WITH u AS (UPDATE t SET a = 1 RETURNING *) SELECT 1": "data-modifying UPDATE",
    "SELECT * FROM (WITH i AS (INSERT INTO t VALUES (1) RETURNING 1) SELECT * FROM i) s": "data-modifying INSERT",
    "SELECT * INTO n FROM t": "SELECT ... INTO",
    "COPY t TO STDOUT": "COPY",
    "COPY (SELECT 1) TO PROGRAM 'id'": "COPY",
    "DO $$ BEGIN END $$": "DO is not",
    "CALL p()": "CALL is not",
    "LOCK t": "LOCK is not",
    "SET search_path = evil": "SET is not",
    "SET LOCAL statement_timeout = 0": "SET is not",
    "RESET ALL": "RESET is not",
    "LISTEN c": "LISTEN",
    "NOTIFY c": "NOTIFY",
    "PREPARE p AS SELECT 1": "PREPARE",
    "EXECUTE p": "EXECUTE",
    "SELECT * FROM t FOR UPDATE": "FOR UPDATE",
    "SELECT * FROM t FOR NO KEY UPDATE SKIP LOCKED": "FOR UPDATE",
    "SELECT * FROM t WHERE a IN (SELECT a FROM u FOR SHARE)": "FOR UPDATE / FOR SHARE",
    "SELECT * FROM pg_read_file('/etc/passwd')": "pg_read_file()",
    "SELECT \"pg_read_file\"('/etc/passwd')": "pg_read_file()",
    "SELECT U&\"\\0070g_read_file\"('/etc/passwd')": "pg_read_file()",
    "SELECT pg_catalog.pg_read_binary_file('x')": "pg_read_binary_file()",
    "SELECT * FROM pg_ls_dir('.')": "pg_ls_dir()",
    "SELECT pg_stat_file('x')": "pg_stat_file()",
    "SELECT lo_export(1, '/tmp/x')": "lo_export()",
    "SELECT dblink_exec('x', 'DROP TABLE t')": "dblink_exec()",
    "SELECT * FROM dblink('x', 'SELECT 1') AS r(a int)": "dblink()",
    "SELECT pg_terminate_backend(1)": "pg_terminate_backend()",
    "SELECT pg_cancel_backend(1)": "pg_cancel_backend()",
    "SELECT pg_reload_conf()": "pg_reload_conf()",
    "SELECT pg_rotate_logfile()": "pg_rotate_logfile()",
    "SELECT set_config('a', 'b', false)": "set_config()",
    "SELECT nextval('s')": "nextval()",
    "SELECT setval('s', 1)": "setval()",
    "SELECT pg_advisory_lock(1)": "pg_advisory_lock()",
    "SELECT pg_try_advisory_xact_lock(1)": "pg_try_advisory_xact_lock()",
    "SELECT txid_current()": "txid_current()",
    "SELECT pg_current_xact_id()": "pg_current_xact_id()",
    "SELECT pg_create_restore_point('x')": "pg_create_restore_point()",
    "SELECT pg_switch_wal()": "pg_switch_wal()",
    "SELECT pg_logical_emit_message(true, 'x', 'y')": "pg_logical_emit_message()",
    "SELECT pg_notify('c', 'x')": "pg_notify()",
    "SELECT query_to_xml('DELETE FROM t', true, false, '')": "query_to_xml()",
    "SELECT pg_file_write('x', 'y', false)": "pg_file_write()",
    "SELECT a FROM t WHERE b = (SELECT nextval('s'))": "nextval()",
    "EXPLAIN ANALYZE DELETE FROM t": "EXPLAIN ANALYZE runs",
    "EXPLAIN (ANALYZE) SELECT 1": "EXPLAIN ANALYZE runs",
    "EXPLAIN (ANALYZE on) SELECT 1": "EXPLAIN ANALYZE runs",
    "EXPLAIN EXECUTE p": "EXPLAIN of EXECUTE",
    "CREATE TABLE x AS SELECT 1": "CREATE TABLE AS",
    "CREATE MATERIALIZED VIEW v AS SELECT 1": "CREATE TABLE AS",
    "REFRESH MATERIALIZED VIEW v": "REFRESH MATERIALIZED VIEW",
    "VACUUM t": "VACUUM",
    "ANALYZE t": "ANALYZE is not",
    "INSERT INTO t VALUES (1)": "INSERT is not",
    "UPDATE t SET a = 1": "UPDATE is not",
    "DELETE FROM t": "DELETE is not",
    "MERGE INTO t USING u ON t.a = u.a WHEN MATCHED THEN DELETE": "MERGE is not",
    "TRUNCATE t": "TRUNCATE",
    "DROP TABLE t": "DROP",
    "ALTER TABLE t ADD c int": "ALTER TABLE is not",
    "ALTER SYSTEM SET work_mem = '1GB'": "ALTER SYSTEM",
    "CREATE EXTENSION dblink": "CREATE EXTENSION",
    "GRANT SELECT ON t TO PUBLIC": "GRANT",
    "DECLARE c CURSOR FOR SELECT 1": "DECLARE CURSOR",
    "LOAD 'plugin'": "LOAD",
    "CHECKPOINT": "CHECKPOINT",
    "DISCARD ALL": "DISCARD",
}


@pytest.mark.parametrize(("sql", "kind"), ACCEPTED.items())
def test_accepts_reads(sql: str, kind: str) -> None:
    assert check_postgres(sql).kind == kind


@pytest.mark.parametrize(("sql", "reason"), REFUSED.items())
def test_refuses_with_a_reason(sql: str, reason: str) -> None:
    with pytest.raises(QueryRefusedError) as caught:
        check_postgres(sql)
    message = str(caught.value)
    assert message.startswith("Refused by the read-only guard: ") and reason in message


def test_unknown_functions_are_returned_for_the_catalog_check() -> None:
    accepted = check_postgres("SELECT my_fn(a), app.other(b), lower(c), pg_catalog.upper(d), public.lower(e) FROM t")
    assert sorted(accepted.unknown_functions) == ["app.other", "my_fn", "public.lower"]
    assert check_postgres("SELECT count(*) FROM generate_series(1, 3)").unknown_functions == ()


def test_plan_only_accepts_writes_but_not_explain() -> None:
    assert check_postgres("DELETE FROM t WHERE a = 1", plan_only=True).kind == "plan"
    assert check_postgres("WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d", plan_only=True).kind == "select"
    with pytest.raises(QueryRefusedError, match="without EXPLAIN"):
        check_postgres("EXPLAIN SELECT 1", plan_only=True)
    with pytest.raises(QueryRefusedError, match="pg_read_file"):
        check_postgres("UPDATE t SET a = pg_read_file('x')", plan_only=True)


def test_writable_connections_still_take_one_statement() -> None:
    assert check_postgres_single("DELETE FROM t") == "delete"
    with pytest.raises(QueryRefusedError, match="2 statements"):
        check_postgres_single("DELETE FROM t; DROP TABLE t")
    with pytest.raises(QueryRefusedError, match="transaction control"):
        check_postgres_single("ROLLBACK")


def test_overlong_statement_is_refused() -> None:
    with pytest.raises(QueryRefusedError, match="characters"):
        check_postgres("SELECT " + "1 + " * 40_000 + "1")


READS = ["SELECT 1", "SELECT a FROM t", "VALUES (2)", "TABLE t", "SELECT 'x;y'"]
WRITES = ["DELETE FROM t", "DROP TABLE t", "UPDATE t SET a = 1", "COMMIT", "SET a = 1", "SELECT nextval('s')"]
GLUE = [";", "; ", ";\n", " -- x\n;", "/* ; */;", "\n;\n"]


@given(
    parts=st.lists(st.sampled_from(READS + WRITES), min_size=1, max_size=5),
    glue=st.lists(st.sampled_from(GLUE), min_size=5, max_size=5),
)
def test_random_sequences_pass_only_as_a_single_read(parts: list[str], glue: list[str]) -> None:
    sql = "".join(p + (glue[i] if i < len(parts) - 1 else "") for i, p in enumerate(parts))
    try:
        accepted = check_postgres(sql)
    except QueryRefusedError as exc:
        assert str(exc).startswith("Refused by the read-only guard: ")
        assert len(parts) > 1 or parts[0] in WRITES
    else:
        assert len(parts) == 1 and parts[0] in READS and accepted.unknown_functions == ()
