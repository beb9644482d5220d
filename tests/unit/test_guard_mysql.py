"""The MySQL/MariaDB read-only guard: what it accepts, what it refuses and why; fuzzed with hypothesis."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dbspecialist.adapters.guard_mysql import check_mysql, lex, split_check
from dbspecialist.errors import QueryRefusedError

ACCEPTED = [
    "SELECT 1",
    "select * from orders where id = ?",
    "SELECT * FROM orders WHERE id = :id",
    "WITH t AS (SELECT 1 AS x) SELECT x FROM t",
    "SELECT 1 UNION ALL SELECT 2",
    "(SELECT 1) UNION (SELECT 2)",
    "VALUES ROW(1, 'a')",
    "VALUES (1, 'a'), (2, 'b')",  # MariaDB 10.3+
    "VALUES (1) -- trailing comment",
    "SHOW TABLES",
    "SHOW GLOBAL STATUS LIKE 'Threads%'",
    "DESCRIBE orders",
    "EXPLAIN FORMAT=JSON SELECT * FROM orders",
    "SELECT 1 # trailing hash comment",
    "SELECT 1 -- trailing comment",
    "SELECT 'it\\'s' AS s",
    "SELECT 'DROP TABLE t; DELETE FROM t' AS not_a_statement",
    "SELECT `select`, `into` FROM `lock`",
    "SELECT /*+ NO_INDEX(o) */ * FROM orders o",
    "SELECT @@version, @@session.sql_mode",
    "SELECT * FROM t FOR SYSTEM_TIME AS OF TIMESTAMP '2024-01-01 00:00:00'",
    "SELECT 1;",
]
REFUSED = {
    "SELECT 1; SELECT 2": "2 statements",
    "SELECT 'a\\\\'; DROP TABLE t -- '": "2 statements",
    "/*!50000 DROP TABLE t */": "executable comment",
    "SELECT 1 /*! , SLEEP(9) */": "executable comment",
    "SELECT 1 /*M!100000 , SLEEP(9) */": "executable comment",
    "SELECT 1 --1": "--",
    "SELECT /*+ SET_VAR(max_execution_time=0) */ 1": "SET_VAR",
    "SELECT 1 /* /* */ , SLEEP(1) -- */": "SLEEP",
    "SELECT SLEEP (1)": "SLEEP",
    "VALUES (1, SLEEP(5))": "SLEEP",
    "VALUES (1)) AS x, (SELECT GET_LOCK('a', 1)": "GET_LOCK",
    "SELECT `sleep`(1)": "SLEEP",
    "SELECT * FROM t INTO OUTFILE '/tmp/x'": "INTO",
    "SELECT * FROM t FOR UPDATE": "FOR UPDATE",
    "SELECT * FROM t FOR SHARE": "FOR SHARE",
    "SELECT @a := 1": ":=",
    "EXPLAIN ANALYZE SELECT 1": "ANALYZE",
    "EXPLAIN DELETE FROM t": "DELETE",
    "DELETE FROM t": "DELETE",
    "SELECT 'unterminated": "not closed",
    "SELECT 1 /* open": "not closed",
    "": "empty",
    " -- only a comment\n": "empty",
    ";": "empty",
}


@pytest.mark.parametrize("sql", ACCEPTED)
def test_accepts_reads(sql: str) -> None:
    assert check_mysql(sql).sql == sql


@pytest.mark.parametrize(("sql", "reason"), REFUSED.items())
def test_refuses_with_a_reason(sql: str, reason: str) -> None:
    with pytest.raises(QueryRefusedError, match=r"^Refused by the read-only guard: ") as info:
        check_mysql(sql)
    assert reason.lower() in str(info.value).lower()


def test_writable_connections_still_get_one_statement_and_no_executable_comments() -> None:
    assert split_check("INSERT INTO t VALUES (1)")[0].text == "INSERT"
    for sql in ("INSERT INTO t VALUES (1); DELETE FROM t", "SELECT 1 /*! ; DROP TABLE t */"):
        with pytest.raises(QueryRefusedError):
            split_check(sql)


def test_lexer_follows_the_server() -> None:
    kinds = [(t.kind, t.text) for t in lex("SELECT 'a\\'b', `c``d`, ? # x\n-- y\n FROM t")]
    assert kinds == [
        ("word", "SELECT"),
        ("string", "'a\\'b'"),
        ("op", ","),
        ("quoted", "c`d"),
        ("op", ","),
        ("param", "?"),
        ("word", "FROM"),
        ("word", "t"),
    ]


WRITES = ["DELETE FROM t", "DROP TABLE t", "INSERT INTO t VALUES (1)", "SET GLOBAL x = 1", "SELECT GET_LOCK('x', 1)"]
GLUE = [";", "; ", ";\n", "\n#c\n;", " /* c */ ;", " /*! ; */ ", "/*M!100000 ;*/", " --1;"]


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["SELECT 1", "SHOW TABLES", "SELECT * FROM t"]), st.sampled_from(GLUE), st.sampled_from(WRITES))
def test_a_write_glued_to_a_read_is_always_refused(read: str, glue: str, write: str) -> None:
    with pytest.raises(QueryRefusedError):
        check_mysql(read + glue + write)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("SELECT*FROMt;'\"`#-/*!?:=()@ \n\\")), max_size=40))
def test_random_text_is_accepted_or_refused_never_crashes(sql: str) -> None:
    try:
        accepted = check_mysql(sql)
    except QueryRefusedError as exc:
        assert str(exc).startswith("Refused by the read-only guard: ")
        return
    code = [t.text for t in lex(accepted.sql)]
    assert ";" not in code[:-1] and ":=" not in code
