"""The SQLite read-only guard: what it accepts, what it refuses and why; fuzzed with hypothesis."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dbspecialist.adapters.guard import MAX_STATEMENT_CHARS, check_sqlite
from dbspecialist.errors import QueryRefusedError

ACCEPTED = [
    "SELECT 1",
    "select * from orders where id = ?",
    "SELECT * FROM orders WHERE id = :id",
    "WITH t AS (SELECT 1 AS x) SELECT x FROM t",
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 5) SELECT x FROM c",
    "SELECT 1 UNION ALL SELECT 2",
    "VALUES (1, 'a'), (2, 'b')",
    "SELECT * FROM pragma_table_info('orders')",
    "PRAGMA table_info(orders)",
    "PRAGMA index_list('orders')",
    "PRAGMA user_version",
    "PRAGMA main.page_count",
    "  -- leading comment\nSELECT 1;",
    "SELECT 'DELETE FROM orders' AS not_a_statement",
    'SELECT "drop" FROM t',
]

REFUSED = {
    "DELETE FROM orders": "DELETE",
    "DROP TABLE orders": "DROP",
    "UPDATE orders SET status = 'x'": "UPDATE",
    "INSERT INTO orders (id) VALUES (1)": "INSERT",
    "REPLACE INTO orders (id) VALUES (1)": "REPLACE",
    "CREATE TABLE x (a)": "CREATE",
    "ALTER TABLE orders ADD COLUMN x": "ALTER",
    "ATTACH DATABASE '/tmp/x.db' AS x": "ATTACH",
    "DETACH DATABASE x": "DETACH",
    "PRAGMA writable_schema=1": "changes a setting",
    "PRAGMA writable_schema = ON": "changes a setting",
    "PRAGMA journal_mode(WAL)": "sets a value",
    "PRAGMA query_only = 0": "changes a setting",
    "PRAGMA shrink_memory": "allow-list",
    "SELECT 1; SELECT 2": "2 statements",
    "SELECT 1; DELETE FROM orders": "2 statements",
    "PRAGMA user_version; DELETE FROM orders": "more than one statement",
    "WITH x AS (SELECT 1) INSERT INTO orders SELECT * FROM x": "INSERT",
    "WITH x AS (SELECT 1) DELETE FROM orders": "DELETE",
    "BEGIN": "BEGIN",
    "COMMIT": "COMMIT",
    "VACUUM": "VACUUM",
    "VACUUM INTO '/tmp/copy.db'": "VACUUM",
    "SELECT load_extension('/tmp/evil.so')": "load_extension",
    "SELECT writefile('/tmp/x', 'data')": "writefile",
    "SELECT readfile('/etc/passwd')": "readfile",
    "REINDEX": "REINDEX",
    "ANALYZE": "ANALYZE",
    "": "empty",
    "   -- just a comment": "empty",
    "SELEC * FRM x": "",
}


@pytest.mark.parametrize("sql", ACCEPTED)
def test_accepts_reads(sql: str) -> None:
    assert check_sqlite(sql).sql == sql


@pytest.mark.parametrize(("sql", "reason"), list(REFUSED.items()))
def test_refuses_with_a_reason(sql: str, reason: str) -> None:
    with pytest.raises(QueryRefusedError) as info:
        check_sqlite(sql)
    message = str(info.value)
    assert message.startswith("Refused by the read-only guard:")
    assert reason.lower() in message.lower()


def test_huge_input_refused_fast() -> None:
    with pytest.raises(QueryRefusedError, match="limit"):
        check_sqlite("SELECT " + "1," * MAX_STATEMENT_CHARS + "1")


WRITES = ["DELETE FROM t", "DROP TABLE t", "INSERT INTO t VALUES (1)", "UPDATE t SET a = 1", "PRAGMA writable_schema=1"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    prefix=st.sampled_from(["SELECT 1", "WITH a AS (SELECT 1) SELECT * FROM a", "VALUES (1)", "PRAGMA user_version"]),
    write=st.sampled_from(WRITES),
    sep=st.sampled_from([";", "; ", ";\n", " ;-- c\n", ";/* x */"]),
    junk=st.text(alphabet=" \t\n", max_size=3),
)
def test_a_write_never_rides_along(prefix: str, write: str, sep: str, junk: str) -> None:
    for sql in (f"{prefix}{sep}{junk}{write}", f"{write}{sep}{junk}{prefix}"):
        with pytest.raises(QueryRefusedError):
            check_sqlite(sql)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_is_accepted_only_as_a_single_read(text: str) -> None:
    """Whatever the input, the guard either refuses it or it is one statement of a read kind."""
    try:
        accepted = check_sqlite(text)
    except QueryRefusedError:
        return
    assert accepted.kind in {"select", "values", "pragma"}
