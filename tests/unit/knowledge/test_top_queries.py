"""top_queries_report on raw rows of every source: ranking, exact times and shares, the next step, how to enable."""

from __future__ import annotations

import json
from typing import Any

import pytest

from dbspecialist.adapters.top_queries import redis_pattern
from dbspecialist.knowledge.workload.top_queries import (
    check_request,
    mongo_shape,
    statement_kind,
    top_queries_report,
)

# --------------------------------------------------------------------------------------------- PostgreSQL


def pg_row(
    queryid: int, query: str, calls: int, total_ms: float, rows: int, hit: int = 0, read: int = 0
) -> dict[str, Any]:
    return {
        "queryid": str(queryid),
        "query": query,
        "calls": calls,
        "total_ms": total_ms,
        "rows": rows,
        "shared_blks_hit": hit,
        "shared_blks_read": read,
        "temp_blks_written": 0,
        "database": "shop",
    }


PG_ROWS = [
    # a scan: 12,000 blocks per call for 1 row each
    pg_row(1, "SELECT * FROM orders WHERE note LIKE $1", 10, 3000.0, 10, hit=100_000, read=20_000),
    # slow on average, few blocks: explain it
    pg_row(2, "SELECT sum(total) FROM orders JOIN items USING (order_id) WHERE day = $1", 4, 2000.0, 4, hit=400),
    # N+1: many fast calls
    pg_row(3, "SELECT name FROM customers WHERE id = $1", 5000, 1500.0, 5000, hit=15_000),
    # utility
    pg_row(4, "VACUUM ANALYZE orders", 1, 900.0, 0, hit=9000),
    # a write
    pg_row(5, "/* app */ UPDATE orders SET status = $1 WHERE id = $2", 50, 500.0, 50, hit=200),
]
PG_RAW: dict[str, Any] = {
    "engine": "postgresql",
    "connection": "shop",
    "source": "pg_stat_statements",
    "server_major": 15,
    "rows": PG_ROWS,
    "totals": {"statements": 9, "calls": 6000, "total_time_ms": 10_000.0},
    "since": "2026-01-01 00:00:00+00",
}


def test_postgres_ranks_by_total_time_with_exact_times_and_shares() -> None:
    report = top_queries_report(PG_RAW, "postgresql", "total_time", 10)
    assert report.available and report.source == "pg_stat_statements" and report.measured == "counter"
    assert report.since == "2026-01-01 00:00:00+00"
    assert [q.query_id for q in report.queries] == ["1", "2", "3", "4", "5"]
    first = report.queries[0]
    assert (first.rank, first.calls, first.total_time_ms, first.mean_time_ms, first.rows) == (1, 10, 3000.0, 300.0, 10)
    assert first.time_share_pct == 30.0  # 3000 / 10000
    assert first.calls_share_pct == round(100 * 10 / 6000, 2)
    assert first.signals["shared_blocks_per_call"] == 12_000.0
    assert first.signals["shared_blocks_per_row"] == 12_000.0
    assert first.signals["cache_hit_pct"] == round(100 * 100_000 / 120_000, 2)
    assert report.totals == {"statements": 9, "calls": 6000, "total_time_ms": 10_000.0}


@pytest.mark.parametrize(
    ("order_by", "expected"),
    [("mean_time", ["4", "2", "1"]), ("calls", ["3", "5", "1"]), ("rows", ["3", "5", "1"])],
)
def test_postgres_other_orders_and_the_limit(order_by: str, expected: list[str]) -> None:
    report = top_queries_report(PG_RAW, "postgresql", order_by, 3)
    assert [q.query_id for q in report.queries] == expected
    assert [q.rank for q in report.queries] == [1, 2, 3]


def test_postgres_next_steps_follow_the_signals() -> None:
    by_id = {q.query_id: q for q in top_queries_report(PG_RAW, "postgresql", "total_time", 10).queries}

    scan = by_id["1"].next_step
    assert scan is not None and scan.tool == "recommend_indexes"
    assert scan.arguments == {"connection": "shop", "queries": ["SELECT * FROM orders WHERE note LIKE $1"]}
    assert "12000.0 shared blocks per call" in scan.why

    slow = by_id["2"].next_step
    assert slow is not None and slow.tool == "explain_query"
    assert slow.arguments == {"connection": "shop", "sql": PG_ROWS[1]["query"], "analyze": False}
    assert slow.note is not None and "returns its generic plan" in slow.note and "representative values" in slow.note
    assert "mean 500.0 ms" in slow.why

    loop = by_id["3"].next_step
    assert loop is not None and loop.tool == "review_query"
    assert loop.arguments == {"sql": PG_ROWS[2]["query"], "dialect": "postgres", "connection": "shop"}
    assert "N+1" in loop.why and "5000 calls at 0.30 ms" in loop.why

    assert by_id["4"].kind == "utility" and by_id["4"].next_step is None and by_id["4"].advice

    write = by_id["5"]
    assert write.kind == "write" and write.next_step is not None
    assert write.next_step.tool == "explain_query" and write.next_step.arguments["analyze"] is False


def test_postgres_placeholder_note_and_analyze_for_text_without_parameters() -> None:
    raw = PG_RAW | {
        "server_major": 16,
        "rows": [
            pg_row(7, "SELECT count(*) FROM small", 3, 600.0, 3, hit=30),
            pg_row(8, "SELECT * FROM t WHERE a = $1", 2, 400.0, 2, hit=20),
        ],
    }
    seven, eight = top_queries_report(raw, "postgresql", "total_time", 5).queries
    assert seven.next_step is not None and seven.next_step.arguments["analyze"] is True
    assert seven.next_step.note is None
    assert eight.next_step is not None and eight.next_step.arguments["analyze"] is False
    assert eight.next_step.note is not None and "plans such text as written" in eight.next_step.note


def test_postgres_hidden_texts_get_a_grant_note() -> None:
    raw = PG_RAW | {"rows": [pg_row(9, "<insufficient privilege>", 3, 30.0, 3)]}
    report = top_queries_report(raw, "postgresql", "total_time", 5)
    assert any("GRANT pg_read_all_stats" in n for n in report.notes)


def test_postgres_not_preloaded_keeps_the_existing_libraries() -> None:
    raw = {
        "engine": "postgresql",
        "source": "pg_stat_statements",
        "shared_preload_libraries": "auto_explain",
        "unavailable": {"reason": "not_preloaded", "detail": "pg_stat_statements is not in shared_preload_libraries"},
    }
    report = top_queries_report(raw, "postgresql", "total_time", 10)
    assert not report.available and report.queries == []
    assert report.unavailable == "pg_stat_statements is not in shared_preload_libraries"
    assert report.enable[0].startswith(
        "ALTER SYSTEM SET shared_preload_libraries = 'auto_explain, pg_stat_statements';"
    )
    assert "restart" in report.enable[1]
    assert report.enable[2].startswith("CREATE EXTENSION pg_stat_statements;")
    assert len(report.enable) == 3


def test_postgres_not_installed_and_not_available() -> None:
    raw: dict[str, Any] = {"unavailable": {"reason": "not_installed", "detail": "x"}}
    assert top_queries_report(raw, "postgresql", "calls", 5).enable == [
        "CREATE EXTENSION pg_stat_statements;  -- in this database, as a role with CREATE on it"
    ]
    raw = {"shared_preload_libraries": "", "unavailable": {"reason": "not_available", "detail": "x"}}
    steps = top_queries_report(raw, "postgresql", "calls", 5).enable
    assert "contrib" in steps[0] and steps[1].startswith(
        "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'"
    )
    assert len(steps) == 4


# --------------------------------------------------------------------------------------------- MySQL / MariaDB


def my_row(digest: str, text: str, calls: int, ps: int, **extra: Any) -> dict[str, Any]:
    row = {
        "schema": "shop",
        "digest": digest,
        "digest_text": text,
        "count_star": calls,
        "sum_timer_wait": ps,
        "sum_rows_sent": calls,
        "sum_rows_affected": 0,
        "sum_rows_examined": calls,
        "sum_no_index_used": 0,
        "sum_no_good_index_used": 0,
        "sum_select_scan": 0,
        "sum_created_tmp_disk_tables": 0,
    }
    return row | extra


def test_mysql_picoseconds_to_ms_and_next_steps() -> None:
    raw = {
        "engine": "mysql",
        "connection": "m",
        "flavor": "mariadb",
        "source": "performance_schema.events_statements_summary_by_digest",
        "rows": [
            # 2.5 s over 5 calls, every call without an index, 20,000 rows examined per row sent
            my_row(
                "d1",
                "SELECT * FROM `orders` WHERE `note` = ?",
                5,
                2_500_000_000_000,
                sum_rows_examined=100_000,
                sum_no_index_used=5,
                sum_select_scan=5,
            ),
            # slow, with a runnable sample (MySQL 8)
            my_row(
                "d2", "SELECT COUNT ( * ) FROM `items`", 2, 1_000_000_000_000, sample_text="SELECT COUNT(*) FROM items"
            ),
            # slow, digest only
            my_row("d3", "SELECT * FROM `items` WHERE `sku` IN (...)", 1, 600_000_000_000),
            # N+1
            my_row("d4", "SELECT `name` FROM `customers` WHERE `id` = ?", 2000, 400_000_000_000),
        ],
        "totals": {"statements": 10, "calls": "2100", "total_time_ms": "5000.0000"},
    }
    report = top_queries_report(raw, "mysql", "total_time", 10)
    one, two, three, four = report.queries
    assert (one.total_time_ms, one.mean_time_ms, one.time_share_pct) == (2500.0, 500.0, 50.0)
    assert one.signals["no_index_used_pct"] == 100.0 and one.signals["rows_examined_per_call"] == 20_000.0
    assert one.next_step is not None and one.next_step.tool == "recommend_indexes"
    assert one.next_step.arguments == {"connection": "m", "queries": ["SELECT * FROM `orders` WHERE `note` = ?"]}

    assert two.next_step is not None and two.next_step.tool == "explain_query"
    assert two.next_step.arguments == {"connection": "m", "sql": "SELECT COUNT(*) FROM items", "analyze": True}

    assert three.next_step is not None and three.next_step.arguments["analyze"] is True  # no ? in the text
    assert four.next_step is not None and four.next_step.tool == "review_query"
    assert four.next_step.arguments["dialect"] == "mariadb"
    assert four.mean_time_ms == 0.2 and four.calls_share_pct == round(100 * 2000 / 2100, 2)


def test_mysql_placeholder_digest_gets_the_note() -> None:
    raw = {"rows": [my_row("d5", "SELECT * FROM `t` WHERE `a` = ?", 1, 300_000_000_000)], "flavor": "mysql"}
    [entry] = top_queries_report(raw, "mysql", "total_time", 1).queries
    assert entry.next_step is not None and entry.next_step.arguments["analyze"] is False
    assert entry.next_step.note is not None and "put representative values in place of each ?" in entry.next_step.note


def test_mysql_performance_schema_off_says_how_to_enable() -> None:
    raw = {"unavailable": {"reason": "performance_schema_off", "detail": "performance_schema is OFF"}}
    report = top_queries_report(raw, "mysql", "total_time", 10)
    assert not report.available and report.unavailable == "performance_schema is OFF"
    assert "performance_schema = ON" in report.enable[0] and report.enable[1] == "restart the server"
    assert "statements_digest" in report.enable[2]


def test_mysql_consumer_off_needs_no_restart() -> None:
    raw = {"unavailable": {"reason": "digest_consumer_off", "detail": "statements_digest disabled"}}
    steps = top_queries_report(raw, "mysql", "total_time", 10).enable
    assert steps[0].startswith("UPDATE performance_schema.setup_consumers SET ENABLED = 'YES'")
    assert "restart the server" not in steps


# --------------------------------------------------------------------------------------------- MongoDB


def profile_doc(value: int, millis: int, **extra: Any) -> dict[str, Any]:
    doc = {
        "op": "query",
        "ns": "shop.orders",
        "command": {
            "find": "orders",
            "filter": {"status": "paid", "total": {"$gt": value}},
            "sort": {"created": -1},
            "lsid": {"id": "x"},
            "$db": "shop",
        },
        "millis": millis,
        "nreturned": 2,
        "docsExamined": 5000,
        "keysExamined": 0,
        "planSummary": "COLLSCAN",
    }
    return doc | extra


def test_mongodb_profile_is_grouped_by_shape() -> None:
    raw = {
        "engine": "mongodb",
        "connection": "mg",
        "source": "system.profile",
        "database": "shop",
        "rows": [
            profile_doc(30, 40),
            profile_doc(20, 50),
            profile_doc(10, 60),
            {
                "op": "insert",
                "ns": "shop.orders",
                "command": {"insert": "orders", "documents": [{"a": 1}, {"a": 2}]},
                "millis": 10,
                "ninserted": 2,
            },
        ],
    }
    report = top_queries_report(raw, "mongodb", "total_time", 5)
    assert report.measured == "sample" and report.totals == {"statements": 2, "calls": 4, "total_time_ms": 160.0}
    find, insert = report.queries
    assert (find.calls, find.total_time_ms, find.mean_time_ms, find.rows) == (3, 150.0, 50.0, 6)
    assert find.query == (
        'shop.orders query {"find": "orders", "filter": {"status": "?", "total": {"$gt": "?"}}, '
        '"sort": {"created": -1}}'
    )
    assert find.signals["collscans"] == 3 and find.signals["docs_examined_per_call"] == 5000.0
    assert find.next_step is not None and find.next_step.tool == "recommend_indexes"
    # the first document seen (the newest, system.profile is read newest first) is the runnable example
    [example] = find.next_step.arguments["queries"]
    assert json.loads(example) == {
        "find": "orders",
        "filter": {"status": "paid", "total": {"$gt": 30}},
        "sort": {"created": -1},
    }
    assert insert.kind == "write" and insert.rows == 2
    assert insert.query == 'shop.orders insert {"insert": "orders", "documents": [{"a": "?"}]}'


def test_mongodb_example_names_another_database() -> None:
    raw = {
        "source": "system.profile",
        "database": "shop",
        "rows": [profile_doc(1, 500, ns="other.orders", docsExamined=1)],
    }
    [entry] = top_queries_report(raw, "mongodb", "total_time", 5).queries
    assert entry.next_step is not None and entry.next_step.tool == "explain_query"
    assert json.loads(entry.next_step.arguments["sql"])["db"] == "other"


def test_mongodb_profiler_off_answers_from_current_op_and_says_how_to_enable() -> None:
    raw = {
        "source": "currentOp",
        "database": "shop",
        "rows": [profile_doc(1, 0, microsecs_running=2_500_000, docsExamined=None)],
        "unavailable": {"reason": "profiler_off", "detail": "the profiler is off in database 'shop' (level 0)"},
    }
    report = top_queries_report(raw, "mongodb", "total_time", 5)
    assert report.available and report.source == "currentOp"
    assert report.queries[0].total_time_ms == 2500.0 and report.queries[0].rows is None
    assert report.unavailable == "the profiler is off in database 'shop' (level 0)"
    assert report.enable[0].startswith("db.setProfilingLevel(1, { slowms: 100 })")


def test_mongo_shape_keeps_sort_and_field_paths_and_folds_lists() -> None:
    shape = mongo_shape({"filter": {"a": {"$in": [1, 2, 3]}, "b": "x"}, "pipeline": [{"$group": {"_id": "$c"}}]})
    assert shape == {"filter": {"a": {"$in": ["?"]}, "b": "?"}, "pipeline": [{"$group": {"_id": "$c"}}]}


# --------------------------------------------------------------------------------------------- Redis and SQLite


def test_redis_slowlog_grouped_by_pattern() -> None:
    raw = {
        "source": "SLOWLOG",
        "rows": [
            {"id": 3, "timestamp": 1_700_000_300, "duration_us": 30_000, "pattern": "KEYS user:*"},
            {"id": 2, "timestamp": 1_700_000_200, "duration_us": 12_000, "pattern": "HGETALL user:*"},
            {"id": 1, "timestamp": 1_700_000_100, "duration_us": 18_000, "pattern": "HGETALL user:*"},
        ],
    }
    report = top_queries_report(raw, "redis", "calls", 5)
    hgetall, keys = report.queries
    assert (hgetall.calls, hgetall.total_time_ms, hgetall.mean_time_ms) == (2, 30.0, 15.0)
    assert hgetall.signals == {"max_ms": 18.0, "last_seen": 1_700_000_200}
    assert hgetall.time_share_pct == 50.0 and hgetall.next_step is None
    assert hgetall.advice is not None and "HSCAN" in hgetall.advice
    assert keys.advice is not None and "SCAN MATCH" in keys.advice


def test_redis_slowlog_off_and_rows_order_refused() -> None:
    raw = {"source": "SLOWLOG", "unavailable": {"reason": "slowlog_disabled", "detail": "off"}}
    report = top_queries_report(raw, "redis", "total_time", 5)
    assert not report.available and report.enable[0].startswith("CONFIG SET slowlog-log-slower-than 10000")
    with pytest.raises(ValueError, match="order_by must be one of total_time, mean_time, calls for redis"):
        top_queries_report(raw, "redis", "rows", 5)


def test_redis_patterns_hide_values() -> None:
    assert redis_pattern(["HGET", "user:42", "name"]) == "HGET user:* ?"
    assert redis_pattern(["CONFIG", "GET", "maxmemory"]) == "CONFIG GET maxmemory"
    assert redis_pattern(["MSET", "a:1", "x", "a:2", "y", "a:3"]) == "MSET a:* ? ? ? (+1 args)"
    assert redis_pattern(["EVAL", "return   redis.call('get', KEYS[1])", "1", "k:9"]) == (
        "EVAL return redis.call('get', KEYS[1]) ? ?"
    )
    assert redis_pattern(["PING"]) == "PING"


def test_sqlite_is_not_supported_and_says_why() -> None:
    report = top_queries_report({"unavailable": {"reason": "not_supported"}}, "sqlite", "total_time", 10)
    assert (
        not report.available
        and report.unavailable is not None
        and "keeps no statement statistics" in report.unavailable
    )
    assert any("sqlite3_trace_v2" in step for step in report.enable)


# --------------------------------------------------------------------------------------------- requests and text


def test_check_request_limits() -> None:
    check_request("postgresql", "rows", 100)
    with pytest.raises(ValueError, match="limit must be between 1 and 100"):
        check_request("postgresql", "total_time", 0)
    with pytest.raises(ValueError, match="order_by must be one of"):
        check_request("mysql", "speed", 10)
    with pytest.raises(ValueError, match="not available for oracle"):
        check_request("oracle", "total_time", 10)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("/* tag */ -- x\n SELECT 1", "read"),
        ("(SELECT 1) UNION (SELECT 2)", "read"),
        ("WITH x AS (SELECT 1) SELECT * FROM x", "read"),
        ("  insert into t values ($1)", "write"),
        ("SET search_path = $1", "utility"),
    ],
)
def test_statement_kind(text: str, kind: str) -> None:
    assert statement_kind(text) == kind


# ------------------------------------------------------------------------------------- QA pass 2 (#7, #8)

DM_CTE = (
    "WITH batch AS (SELECT id FROM shop.big WHERE id > $1::text::bigint ORDER BY id LIMIT $2 FOR NO KEY UPDATE), "
    "updated AS (UPDATE shop.big SET n = $3 WHERE id IN (SELECT id FROM batch) RETURNING $4) "
    "SELECT (SELECT count(*) FROM updated) AS rows"
)


def test_postgres_data_modifying_cte_is_a_write_explained_without_its_locking_clause() -> None:
    raw = PG_RAW | {"rows": [pg_row(20, DM_CTE, 120, 90_000.0, 120, hit=13_000_000)]}
    [q] = top_queries_report(raw, "postgresql", "total_time", 5).queries
    assert q.kind == "write" and q.rows_per_call is None
    assert q.signals["shared_blocks_per_row"] is None and "outer query only" in str(q.signals["rows_counted"])
    assert q.next_step is not None and q.next_step.tool == "explain_query"
    assert q.next_step.arguments["analyze"] is False
    assert "FOR NO KEY UPDATE" not in q.next_step.arguments["sql"] and "LockRows" in (q.next_step.note or "")


@pytest.mark.parametrize(
    "text",
    [
        "SELECT pg_advisory_unlock_all()",
        "CLOSE ALL",
        "UNLISTEN *",
        "RESET ALL",
        "BEGIN READ ONLY",
        "SET LOCAL statement_timeout = 15000",
        "SAVEPOINT dbspecialist_health",
        'SELECT s.queryid::text FROM "public".pg_stat_statements s WHERE s.dbid = $1',
        "SELECT c.relname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace",
        "SELECT pg_catalog.current_setting($1)",
    ],
)
def test_postgres_tool_traffic_is_left_out_of_the_ranking_and_counted(text: str) -> None:
    raw = PG_RAW | {"rows": [pg_row(30, text, 38_607, 500.0, 38_607), PG_ROWS[2]]}
    report = top_queries_report(raw, "postgresql", "calls", 5)
    assert [q.query_id for q in report.queries] == ["3"]
    [note] = [n for n in report.notes if n.startswith("left out of the ranking")]
    assert "38,607 calls" in note


def test_postgres_typed_literals_and_untyped_function_parameters_get_a_plannable_variant() -> None:
    text = (
        "INSERT INTO events (kind, payload, at) SELECT $1, jsonb_build_object($2, g), timestamptz $3 + g * "
        "interval $4 FROM generate_series($5, $6) g"
    )
    raw = PG_RAW | {"rows": [pg_row(40, text, 1, 2000.0, 300_000, hit=50)]}
    [q] = top_queries_report(raw, "postgresql", "total_time", 5).queries
    assert q.next_step is not None and q.next_step.arguments["sql"] == (
        "INSERT INTO events (kind, payload, at) SELECT $1, jsonb_build_object($2::text, g), $3::timestamptz + g * "
        "$4::interval FROM generate_series($5::int8, $6::int8) g"
    )
    assert "timestamptz $n" in (q.next_step.note or "") and "generate_series()" in (q.next_step.note or "")


def test_postgres_table_off_the_search_path_is_qualified_or_noted() -> None:
    found = pg_row(50, "SELECT * FROM order_items oi WHERE oi.qty > $1", 5, 900.0, 5, hit=50)
    found |= {"unresolved_relations": {"order_items": ["shop"]}, "search_path": '"$user", public'}
    ambiguous = pg_row(51, "SELECT * FROM things WHERE id = $1", 5, 800.0, 5, hit=50)
    ambiguous |= {"unresolved_relations": {"things": ["a", "b"]}, "search_path": "public"}
    one, two = top_queries_report(PG_RAW | {"rows": [found, ambiguous]}, "postgresql", "total_time", 5).queries
    assert one.next_step is not None
    assert one.next_step.arguments["sql"] == "SELECT * FROM shop.order_items oi WHERE oi.qty > $1"
    assert "search_path" in (one.next_step.note or "") and '"$user", public' in (one.next_step.note or "")
    assert two.next_step is not None and two.next_step.arguments["sql"] == ambiguous["query"]
    assert "things is in schema a, b" in (two.next_step.note or "") and "qualify" in (two.next_step.note or "")
