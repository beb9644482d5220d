"""QA pass 3: N+1 rewrites under LIMIT (2), lower() LIKE '%x%' (4), NEWID() (11), one finding per repeated
shape (12) and pasted MySQL/PostgreSQL/Rails logs (13)."""

from __future__ import annotations

import sqlite3

from dbspecialist.knowledge.queries.review import review_queries


def _log(template: str, count: int = 6) -> str:
    return "".join(template.format(i=i) + "\n" for i in range(1, count + 1))


def _comments() -> sqlite3.Connection:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE comments (id INTEGER PRIMARY KEY, post_id INT, created_at INT)")
    db.executemany("INSERT INTO comments VALUES (?, ?, ?)", [(i, i % 4 + 1, i) for i in range(1, 41)])
    return db


def test_n_plus_one_with_limit_keeps_the_rows_of_every_value() -> None:
    template = "SELECT c.* FROM comments c WHERE c.post_id = {i} ORDER BY c.created_at DESC LIMIT 2 OFFSET 1;"
    review = review_queries(_log(template, 4), "sqlite")
    rewrite = review.n_plus_one[0].rewrite
    assert rewrite is not None and "ROW_NUMBER()" in rewrite and " IN (1, 2, 3, 4)" in rewrite
    db = _comments()
    expected = sorted(r for i in range(1, 5) for r in db.execute(template.format(i=i)).fetchall())
    assert sorted(tuple(r[:3]) for r in db.execute(rewrite).fetchall()) == expected
    mysql = review_queries(_log(template.replace("c.", "`c`."), 4), "mysql").n_plus_one[0].rewrite
    assert mysql is not None and "row_in_key <= 3" in mysql and "LIMIT" not in mysql


def test_n_plus_one_with_limit_on_postgres_uses_lateral() -> None:
    template = "SELECT * FROM comments WHERE post_id = {i} ORDER BY created_at DESC LIMIT 1;"
    rewrite = review_queries(_log(template), "postgres").n_plus_one[0].rewrite
    assert rewrite == (
        "SELECT per_key.* FROM unnest(ARRAY[1, 2, 3, 4, 5, 6]) AS batch(key) CROSS JOIN LATERAL "
        "(SELECT * FROM comments WHERE post_id = batch.key ORDER BY created_at DESC LIMIT 1) AS per_key;"
    )


def test_n_plus_one_limit_in_a_subquery_gets_no_rewrite_and_counts_are_grouped() -> None:
    nested = _log("SELECT * FROM (SELECT * FROM comments WHERE post_id = {i} LIMIT 3) AS x;")
    assert review_queries(nested, "mysql").n_plus_one[0].rewrite is None
    counts = review_queries(_log("SELECT count(*) FROM comments WHERE post_id = {i};", 4), "sqlite")
    rewrite = counts.n_plus_one[0].rewrite
    assert rewrite == "SELECT post_id, COUNT(*) FROM comments WHERE post_id IN (1, 2, 3, 4) GROUP BY post_id;"
    assert len(_comments().execute(rewrite).fetchall()) == 4


def test_lower_like_with_a_leading_wildcard_gets_no_btree_expression_index() -> None:
    review = review_queries("SELECT id FROM notes WHERE lower(body) LIKE '%foo%'", "postgres")
    qry003 = next(f for f in review.findings if f.rule_id == "QRY003")
    assert qry003.fix is not None and qry003.fix.statements == ["SELECT id FROM notes WHERE body ILIKE '%foo%';"]
    assert not any("CREATE INDEX" in s for f in review.findings if f.rule_id == "QRY003" for s in f.fix.statements)
    mixed = review_queries("SELECT id FROM notes WHERE lower(body) LIKE '%Foo%'", "postgres")
    assert next(f for f in mixed.findings if f.rule_id == "QRY003").fix is None
    mysql = review_queries("SELECT id FROM notes WHERE lower(body) LIKE '%foo%'", "mysql")
    assert next(f for f in mysql.findings if f.rule_id == "QRY003").fix is None


def test_lower_like_on_sqlite_drops_the_redundant_lower() -> None:
    review = review_queries("SELECT id FROM notes WHERE lower(body) LIKE 'foo%'", "sqlite")
    fix = next(f for f in review.findings if f.rule_id == "QRY003").fix
    assert fix is not None and fix.statements == ["SELECT id FROM notes WHERE body LIKE 'foo%';"]


def test_order_by_newid_is_random_order() -> None:
    review = review_queries("SELECT TOP 5 * FROM dbo.Orders ORDER BY NEWID()", "tsql")
    assert [f.evidence["limit"] for f in review.findings if f.rule_id == "QRY012"] == ["5"]


def test_a_repeated_statement_gets_each_finding_once_with_its_count() -> None:
    review = review_queries(_log("SELECT * FROM comments WHERE post_id = {i};", 24), "mysql")
    stars = [f for f in review.findings if f.rule_id == "QRY001"]
    assert len(stars) == 1 and stars[0].evidence["statements"] == 24 and "24 statements" in stars[0].title
    paging = review_queries("SELECT id FROM t LIMIT 20 OFFSET 0;\nSELECT id FROM t LIMIT 20 OFFSET 50000;", "sqlite")
    assert [f.line for f in paging.findings if f.rule_id == "QRY007"] == [2]


MYSQL_GENERAL = (
    "/usr/sbin/mysqld, Version: 8.0.36 (MySQL Community Server - GPL). started with:\n"
    "Tcp port: 3306  Unix socket: /var/run/mysqld/mysqld.sock\n"
    "Time                 Id Command    Argument\n"
    "2024-05-01T10:00:00.000000Z\t   42 Connect\troot@localhost on shop using TCP/IP\n"
    + _log("2024-05-01T10:00:01.{i}Z\t   42 Query\tSELECT id FROM comments\n WHERE post_id = {i}", 5)
    + "2024-05-01T10:00:09.000000Z\t   42 Quit\t\n"
)
PG_LOG = _log(
    "2024-05-01 10:00:01.{i} UTC [123] LOG:  duration: 0.051 ms  statement: SELECT id FROM users WHERE id = {i}"
) + (
    '2024-05-01 10:00:09.123 UTC [123] ERROR:  relation "x" does not exist at character 15\n'
    "2024-05-01 10:00:09.123 UTC [123] STATEMENT:  SELECT * FROM x\n"
)
RAILS = (
    'Started GET "/posts" for 127.0.0.1 at 2024-05-01 10:00:00 +0000\n'
    "Processing by PostsController#index as HTML\n"
    '  Post Load (0.4ms)  SELECT "posts".id FROM "posts"\n'
    + _log(
        '  \x1b[1m\x1b[36mUser Load (0.2ms)\x1b[0m  \x1b[1m\x1b[34mSELECT "users".id FROM "users" '
        'WHERE "users"."id" = {i} LIMIT 1\x1b[0m\n  ↳ app/views/posts/index.html.erb:5',
        4,
    )
    + "Completed 200 OK in 20ms\n"
)


def test_pasted_logs_are_read_as_their_statements() -> None:
    for text, dialect, statements, line in (
        (MYSQL_GENERAL, "mysql", 5, 5),
        (PG_LOG, "postgres", 6, 1),
        (RAILS, "postgres", 5, 4),
    ):
        review = review_queries(text, dialect)
        assert review.parse_warnings == [], dialect
        assert review.statements == statements, dialect
        assert len(review.n_plus_one) == 1 and review.n_plus_one[0].first_line == line, dialect
