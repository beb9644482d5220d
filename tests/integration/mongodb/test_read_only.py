"""MongoDB is read-only in depth: the allow-list guard, maxTimeMS + a client deadline, capped cursors."""

from __future__ import annotations

import asyncio
import json
import re
import time
import tracemalloc
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pymongo import MongoClient

from dbspecialist.adapters.base import QueryResult
from dbspecialist.adapters.guard_mongodb import DENIED_OPERATORS
from dbspecialist.adapters.mongodb import MongoAdapter
from dbspecialist.errors import DBSpecialistError, QueryError, QueryRefusedError, QueryTimeoutError
from tests.integration.mongodb.conftest import checksum, mongo_conn, seed_shop

pytestmark = pytest.mark.integration

Admin = MongoClient[dict[str, Any]]

ATTACKS = [
    '{"aggregate": "orders", "pipeline": [{"$out": "evil"}]}',
    '{"aggregate": "orders", "pipeline": [{"$merge": {"into": "evil"}}]}',
    '{"aggregate": "orders", "pipeline": [{"\\u0024merge": {"into": "evil"}}]}',
    '{"aggregate": "orders", "pipeline": [{"$facet": {"a": [{"$match": {}}, {"$out": "evil"}]}}]}',
    '{"aggregate": "orders", "pipeline": [{"$lookup": {"from": "customers", "as": "c", '
    '"pipeline": [{"$merge": "evil"}]}}]}',
    '{"aggregate": "orders", "pipeline": [{"$unionWith": {"coll": "customers", "pipeline": [{"$out": "evil"}]}}]}',
    '{"find": "orders", "filter": {"$where": "sleep(100) || true"}}',
    '{"find": "orders", "filter": {"$expr": {"$function": {"body": "function() {return true}", '
    '"args": [], "lang": "js"}}}}',
    '{"aggregate": "orders", "pipeline": [{"$group": {"_id": null, "x": {"$accumulator": {"init": "function(){}"}}}}]}',
    '{"find": "orders", "filter": {"$and": [{"$ref": "x", "$id": 1, "$where": "true"}]}}',
    '{"insert": "orders", "documents": [{"_id": 100000}]}',
    '{"update": "orders", "updates": [{"q": {}, "u": {"$set": {"status": "hacked"}}, "multi": true}]}',
    '{"delete": "orders", "deletes": [{"q": {}, "limit": 0}]}',
    '{"findAndModify": "orders", "query": {"_id": 1}, "remove": true}',
    '{"drop": "orders"}',
    '{"dropDatabase": 1}',
    '{"create": "evil"}',
    '{"createIndexes": "orders", "indexes": [{"key": {"evil": 1}, "name": "evil_1"}]}',
    '{"dropIndexes": "orders", "index": "status_created"}',
    '{"renameCollection": "x.orders", "to": "x.evil"}',
    '{"collMod": "orders", "validator": {}}',
    '{"mapReduce": "orders", "map": "function(){}", "reduce": "function(){}", "out": "evil"}',
    '{"eval": "db.orders.drop()"}',
    '{"shutdown": 1}',
    '{"fsync": 1, "lock": true}',
    '{"setParameter": 1, "logLevel": 5}',
    '{"killOp": 1, "op": 1}',
    '{"explain": {"delete": "orders", "deletes": [{"q": {}, "limit": 0}]}}',
    '{"explain": {"aggregate": "orders", "pipeline": [{"$out": "evil"}]}}',
    '{"find": "orders"}{"drop": "orders"}',
    '[{"find": "orders"}, {"drop": "orders"}]',
    '{"find": "orders", "find": "customers", "drop": "orders"}',
    '{"find": "orders", "$db": "admin"}',
    '{"find": "orders", "filter": {',
    "db.orders.drop()",
]


@pytest.fixture(scope="module")
def shop(mongo_admin: Admin) -> Iterator[str]:
    """One seeded database for this module's tests (read-only tests never change it); dropped at the end."""
    name = f"dbs_ro_{int(time.time() * 1000) % 10**9}"
    seed_shop(mongo_admin, name)
    yield name
    mongo_admin.drop_database(name)


async def run(adapter: MongoAdapter, query: str, **kw: int) -> QueryResult:
    return await adapter.run_read_only(
        query,
        max_rows=kw.get("max_rows", 200),
        max_bytes=kw.get("max_bytes", 1_000_000),
        timeout_ms=kw.get("timeout_ms", 5_000),
    )


def test_attack_corpus_is_large_enough() -> None:
    assert len(ATTACKS) >= 20 and len(set(ATTACKS)) == len(ATTACKS)


@pytest.mark.parametrize("attack", ATTACKS)
async def test_guard_refuses_and_data_is_unchanged(mongo_uri: str, mongo_admin: Admin, shop: str, attack: str) -> None:
    before = checksum(mongo_admin, shop)
    adapter = MongoAdapter(mongo_conn(mongo_uri, shop))
    try:
        with pytest.raises(QueryRefusedError, match=r"^Refused by the read-only guard: ") as refused:
            await run(adapter, attack)
        assert "password" not in str(refused.value)
        result = await run(adapter, '{"count": "orders"}')
        assert result.rows == [[300]]
    finally:
        await adapter.close()
    assert checksum(mongo_admin, shop) == before
    assert "evil" not in mongo_admin[shop].list_collection_names()


@pytest.mark.parametrize(
    ("attack", "reason"),
    [
        (ATTACKS[2], "$merge writes"),
        (ATTACKS[6], "$where runs server-side JavaScript"),
        (ATTACKS[10], "insert writes documents"),
        (ATTACKS[21], "mapReduce can write"),
        (ATTACKS[29], "more than one JSON document"),
        (ATTACKS[30], "JSON array"),
        (ATTACKS[31], "appears twice"),
        (ATTACKS[33], "not valid JSON"),
    ],
)
async def test_refusals_say_why(mongo_uri: str, shop: str, attack: str, reason: str) -> None:
    adapter = MongoAdapter(mongo_conn(mongo_uri, shop))
    try:
        with pytest.raises(QueryRefusedError) as refused:
            await run(adapter, attack)
    finally:
        await adapter.close()
    assert reason in str(refused.value)


async def test_reads_return_flattened_json_rows(mongo_uri: str, shop: str) -> None:
    adapter = MongoAdapter(mongo_conn(mongo_uri, shop))
    try:
        found = await run(adapter, '{"find": "orders", "filter": {"_id": {"$in": [1, 3]}}, "sort": {"_id": 1}}')
        grouped = await run(
            adapter,
            '{"aggregate": "orders", "pipeline": [{"$group": {"_id": "$status", "n": {"$sum": 1}}}, '
            '{"$sort": {"_id": 1}}]}',
        )
        counted = await run(adapter, '{"count": "orders", "filter": {"status": "paid"}}')
        distinct = await run(adapter, '{"distinct": "orders", "key": "status"}')
        other_db = await run(adapter, '{"listCollections": 1, "nameOnly": true, "db": "admin"}')
    finally:
        await adapter.close()
    assert found.columns == ["_id", "customer_id", "status", "total", "created_at", "items", "tags"]
    first = dict(zip(found.columns, found.rows[0], strict=True))
    assert first["total"] == {"$numberDecimal": "1.50"}
    assert first["created_at"] == {"$date": "2026-01-01T01:00:00Z"}
    assert first["items"] == [{"sku": "S0", "qty": 1}]
    assert grouped.rows == [["new", 100], ["paid", 100], ["shipped", 100]]
    assert counted.columns == ["n"] and counted.rows == [[100]]
    assert sorted(r[0] for r in distinct.rows) == ["new", "paid", "shipped"]
    assert other_db.columns[:2] == ["name", "type"] or other_db.row_count == 0
    json.dumps(found.rows)  # every value is JSON-safe


async def test_columns_are_the_union_of_fields_in_order_of_first_appearance(mongo_uri: str, shop: str) -> None:
    adapter = MongoAdapter(mongo_conn(mongo_uri, shop))
    try:
        result = await run(adapter, '{"find": "customers", "filter": {"_id": {"$lt": 2}}, "sort": {"_id": 1}}')
    finally:
        await adapter.close()
    # customer 0 has no phone, customer 1 has one: the column appears, and row 0 is padded with null.
    assert result.columns == ["_id", "email", "name", "address", "phone"]
    assert result.rows[0][-1] is None and result.rows[1][-1] == "+33000001"


async def test_byte_and_row_caps_truncate(mongo_uri: str, shop: str) -> None:
    adapter = MongoAdapter(mongo_conn(mongo_uri, shop))
    try:
        by_rows = await run(adapter, '{"find": "orders"}', max_rows=7)
        by_bytes = await run(adapter, '{"find": "orders"}', max_rows=1000, max_bytes=2_000)
        exact = await run(adapter, '{"find": "orders", "limit": 7}', max_rows=7)
    finally:
        await adapter.close()
    assert by_rows.row_count == 7 and by_rows.truncated and by_rows.truncated_by == "max_rows"
    assert by_bytes.truncated and by_bytes.truncated_by == "max_bytes" and 0 < by_bytes.row_count < 300
    assert exact.row_count == 7 and not exact.truncated


async def _is_secantus(adapter: MongoAdapter) -> bool:
    info = await run(adapter, '{"buildInfo": 1}')
    return "secantusVersion" in info.columns


async def test_huge_result_is_capped_with_bounded_memory_and_fast(
    mongo_uri: str, mongo_db: str, mongo_admin: Admin
) -> None:
    """A result of millions of rows returns max_rows rows, truncated, without draining the cursor.

    SecantusDB builds a whole result in its own memory before the first batch (~1.8 s per million rows), so on
    it the sizes are 20k and 400k rows; on a real mongod (TEST_MONGO_URI) the large case is 10 million rows.
    Client memory must not grow with the result size.
    """
    adapter = MongoAdapter(mongo_conn(mongo_uri, mongo_db))
    try:
        emulated = await _is_secantus(adapter)
        seeds, per_seed = (1, 400_000) if emulated else (1_000, 10_000)
        mongo_admin[mongo_db].seed.insert_many([{"_id": i} for i in range(seeds)])
        peaks: list[int] = []
        for rows in (20_000, seeds * per_seed):
            query = json.dumps(
                {
                    "aggregate": "seed",
                    "pipeline": [
                        {"$limit": max(1, rows // per_seed)},
                        {"$project": {"r": {"$range": [0, min(rows, per_seed)]}, "pad": "x" * 80}},
                        {"$unwind": "$r"},
                    ],
                }
            )
            tracemalloc.start()
            started = time.perf_counter()
            result = await run(adapter, query, max_rows=200, timeout_ms=30_000)
            elapsed = time.perf_counter() - started
            peaks.append(tracemalloc.get_traced_memory()[1])
            tracemalloc.stop()
            assert result.row_count == 200 and result.truncated and result.truncated_by == "max_rows"
            assert elapsed < (5.0 if emulated else 2.0), f"{rows} rows took {elapsed:.2f} s"
        print(f"\nmongo huge result: peaks {[f'{p / 1e6:.2f} MB' for p in peaks]}, rows {seeds * per_seed:,}")
        assert max(peaks) < 5 * 1024 * 1024
        assert peaks[1] < peaks[0] * 1.5 + 512 * 1024, f"memory grew with the result: {peaks}"
        still = await run(adapter, '{"count": "seed"}')
        assert still.rows == [[seeds]]
    finally:
        await adapter.close()


async def test_slow_query_stops_at_the_timeout(mongo_uri: str, mongo_db: str, mongo_admin: Admin) -> None:
    mongo_admin[mongo_db].seed.insert_one({"_id": 1})
    adapter = MongoAdapter(mongo_conn(mongo_uri, mongo_db))
    slow = json.dumps(
        {
            "aggregate": "seed",
            "pipeline": [
                {"$project": {"r": {"$range": [0, 1_000_000]}}},
                {"$unwind": "$r"},
                {"$group": {"_id": {"$mod": ["$r", 1000]}, "n": {"$sum": 1}}},
            ],
        }
    )
    try:
        started = time.perf_counter()
        with pytest.raises(QueryTimeoutError, match="longer than 300 ms") as stopped:
            await run(adapter, slow, timeout_ms=300)
        elapsed = time.perf_counter() - started
        assert "'m'" in str(stopped.value) and "statement_timeout_ms" in str(stopped.value)
        assert elapsed < 3.0
        after = await run(adapter, '{"count": "seed"}', timeout_ms=2_000)  # the pool is fine afterwards
        assert after.rows == [[1]]
    finally:
        await adapter.close()


async def test_server_errors_and_bad_shapes_are_clear(mongo_uri: str, shop: str) -> None:
    adapter = MongoAdapter(mongo_conn(mongo_uri, shop))
    try:
        with pytest.raises(QueryError, match=r"rejected the aggregate command: .*code"):
            await run(adapter, '{"aggregate": "orders", "pipeline": [{"$nope": {}}]}')
        with pytest.raises(QueryRefusedError, match=re.escape('"aggregate" needs "pipeline"')):
            await run(adapter, '{"aggregate": "orders"}')
        with pytest.raises(QueryRefusedError, match=re.escape('e.g. {"find": "orders"')):
            await run(adapter, '{"frobnicate": 1}')
        with pytest.raises(QueryError, match="no bind parameters"):
            await adapter.run_read_only('{"find": "orders"}', [1], max_rows=1, max_bytes=1000, timeout_ms=1000)
    finally:
        await adapter.close()


# --------------------------------------------------------------------- property test

_SAFE = [
    {"find": "orders", "filter": {"status": "paid"}, "limit": 3},
    {"count": "orders"},
    {"aggregate": "orders", "pipeline": [{"$match": {"status": "new"}}, {"$limit": 2}]},
    {"distinct": "orders", "key": "status"},
]
_WRAPPERS = ["$facet", "$lookup", "$unionWith", "$match", "$expr"]
_OPERATORS = [*DENIED_OPERATORS, "$match", "$limit", "$project"]


@st.composite
def _command(draw: st.DrawFn) -> str:
    base = json.loads(json.dumps(draw(st.sampled_from(_SAFE))))
    operator = draw(st.sampled_from(_OPERATORS))
    payload: Any = draw(st.sampled_from(["evil", {"into": "evil"}, {"body": "function(){}"}, 1]))
    node: Any = {operator: payload}
    for _ in range(draw(st.integers(0, 3))):
        wrapper = draw(st.sampled_from(_WRAPPERS))
        node = {wrapper: {"as": "x", "pipeline": [node]}} if wrapper in ("$lookup", "$unionWith") else {wrapper: node}
    if "pipeline" in base and draw(st.booleans()):
        base["pipeline"].append(node)
    elif draw(st.booleans()):
        base = {**base, **node} if draw(st.booleans()) else node
    else:
        base.setdefault("filter", {})["x"] = node
    text = json.dumps(base)
    if draw(st.booleans()):
        text = text.replace('"$', '"\\u0024')
    return text


def _denied_anywhere(text: str) -> bool:
    decoded = json.loads(text)

    def walk(value: Any) -> bool:
        if isinstance(value, dict):
            return any(k in DENIED_OPERATORS or walk(v) for k, v in value.items())
        return isinstance(value, list) and any(walk(v) for v in value)

    return walk(decoded)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sequence=st.lists(_command(), min_size=1, max_size=5))
def test_random_command_sequences_never_change_data(
    mongo_uri: str, mongo_admin: Admin, shop: str, sequence: list[str]
) -> None:
    before = checksum(mongo_admin, shop)

    async def play() -> None:
        adapter = MongoAdapter(mongo_conn(mongo_uri, shop, connect_timeout_ms=2_000))
        try:
            for text in sequence:
                try:
                    await run(adapter, text, timeout_ms=2_000)
                except QueryRefusedError:
                    continue
                except DBSpecialistError:
                    assert not _denied_anywhere(text)
                    continue
                assert not _denied_anywhere(text), f"accepted a denied operator: {text}"
        finally:
            await adapter.close()

    asyncio.run(play())
    assert checksum(mongo_admin, shop) == before
    assert "evil" not in mongo_admin[shop].list_collection_names()
