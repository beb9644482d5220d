"""Live schema review on MongoDB (SecantusDB): a deliberately flawed database, reviewed through the MCP tool.

Every flaw below maps to one finding; the well-designed collections (validated, one type per field,
no redundant index) and the empty collection and the view must produce nothing. The test asserts the
exact set of (rule_id, subject) pairs, key evidence numbers, and runs some fixes against the server.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from typing import Any

import pytest
from bson import Binary
from bson.int64 import Int64
from mcp import Client
from pymongo import MongoClient

from dbspecialist.config import ConnectionSet
from dbspecialist.server.app import build_server
from dbspecialist.server.state import ServerState
from tests.integration.mongodb.conftest import mongo_conn

pytestmark = pytest.mark.integration

Admin = MongoClient[dict[str, Any]]

ORDERS = 60
TEXT_TOTALS = 12  # orders whose total is a string ("19.90") instead of a double
DOUBLE_QTYS = 6  # orders whose qty is a double instead of an int
LONG_CUSTOMERS = 6  # orders whose customer_id is a long: int + long is one family, not reported
POSTS = 20
COMMENTS = 1_500  # one post's embedded comments: above the 1,000-element threshold
LIKES = 120  # one post's likes, next to 2 in every other post: a skewed, growing array
BLOB_BYTES = 9_000_000  # one attachment near 54 % of the 16 MiB BSON limit
EVENT_INDEXES = 11  # secondary indexes on events (+ _id_ = 12, above the maximum of 10)
BASE = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)

EXPECTED = {
    ("SCH070", "orders.total"),  # double and string
    ("SCH070", "orders.qty"),  # int and double (numbers only: low)
    ("SCH073", "orders"),  # no validator
    ("SCH075", "orders.customer_id_1"),  # prefix of customer_id_1_created_at_-1
    ("SCH071", "posts.comments"),  # 1,500 elements
    ("SCH071", "posts.likes"),  # 120 elements, average 7.9
    ("SCH073", "posts"),
    ("SCH072", "attachments"),  # ~9 MB document
    ("SCH073", "attachments"),
    ("SCH074", "events"),  # 12 indexes
}


def seed_flawed(client: Admin, database: str) -> None:
    db = client[database]

    # orders: mixed types, a redundant prefix index, no validator. TTL and sparse prefixes are legitimate.
    db.orders.insert_many(
        [
            {
                "_id": i,
                "customer_id": Int64(i % 7) if i < LONG_CUSTOMERS else i % 7,
                "total": f"{i}.90" if i < TEXT_TOTALS else i + 0.9,
                "qty": i + 0.5 if i < DOUBLE_QTYS else i % 5 + 1,
                "note": None if i % 3 else f"note {i}",
                "created_at": BASE + dt.timedelta(hours=i),
            }
            | ({"coupon": f"C{i}"} if i % 4 == 0 else {})
            for i in range(ORDERS)
        ]
    )
    db.orders.create_index("customer_id", name="customer_id_1")
    db.orders.create_index([("customer_id", 1), ("created_at", -1)], name="customer_id_1_created_at_-1")
    db.orders.create_index("created_at", expireAfterSeconds=400 * 86400, name="created_at_ttl")
    db.orders.create_index([("created_at", 1), ("total", 1)], name="created_at_1_total_1")
    db.orders.create_index("coupon", sparse=True, name="coupon_sparse")
    db.orders.create_index([("coupon", 1), ("created_at", 1)], name="coupon_1_created_at_1")
    db.create_collection("recent_orders", viewOn="orders", pipeline=[{"$match": {"qty": {"$gt": 2}}}])

    # posts: one unbounded array (comments) and one that grows in a few documents (likes).
    db.posts.insert_many(
        [
            {
                "_id": i,
                "title": f"post {i}",
                "tags": ["db", "ops", "perf"][: i % 3 + 1],
                "likes": list(range(LIKES)) if i == 0 else [1, 2],
                "comments": [{"by": j % 50, "text": f"comment {j}"} for j in range(COMMENTS if i == 0 else 3)],
            }
            for i in range(POSTS)
        ]
    )

    # attachments: one document near the BSON limit.
    db.attachments.insert_many(
        [
            {"_id": 1, "name": "scan.pdf", "data": Binary(b"\x00" * BLOB_BYTES)},
            {"_id": 2, "name": "note.txt", "data": Binary(b"hello")},
            {"_id": 3, "name": "logo.png", "data": Binary(b"\x89PNG" * 100)},
        ]
    )

    # events: validated and clean, but carrying more indexes than writes can afford.
    fields = [f"f{k:02d}" for k in range(EVENT_INDEXES)]
    db.create_collection(
        "events",
        validator={"$jsonSchema": {"bsonType": "object", "required": ["_id", *fields]}},
        validationLevel="strict",
    )
    db.events.insert_many([{"_id": i, **{f: i * 10 + k for k, f in enumerate(fields)}} for i in range(30)])
    db.events.create_index(fields[0], unique=True, name=f"{fields[0]}_unique")
    for f in fields[1:]:
        db.events.create_index(f, name=f"{f}_1")

    # customers: the well-designed one. Unique, partial and sparse indexes may lead longer ones.
    db.create_collection(
        "customers",
        validator={
            "$jsonSchema": {
                "bsonType": "object",
                "required": ["_id", "email", "name"],
                "properties": {"email": {"bsonType": "string"}, "name": {"bsonType": "string"}},
            }
        },
    )
    db.customers.insert_many(
        [
            {
                "_id": i,
                "email": f"c{i}@example.com",
                "name": f"Customer {i}",
                "country": ["FR", "DE", "IT"][i % 3],
                "city": ["Lyon", "Berlin", "Rome"][i % 3],
                "phone": None if i % 2 else f"+33{i:06d}",
                "address": {"street": f"{i} rue Haute", "zip": 69000 + i},
            }
            | ({"loyalty_id": 1000 + i} if i % 5 == 0 else {})
            for i in range(40)
        ]
    )
    db.customers.create_index("email", unique=True, name="email_unique")
    db.customers.create_index([("email", 1), ("name", 1)], name="email_1_name_1")
    db.customers.create_index("country", partialFilterExpression={"country": "FR"}, name="country_fr")
    db.customers.create_index([("country", 1), ("city", 1)], name="country_1_city_1")
    db.customers.create_index("loyalty_id", sparse=True, name="loyalty_sparse")
    db.customers.create_index([("loyalty_id", 1), ("email", 1)], name="loyalty_id_1_email_1")

    # audit_log: empty, so there is no sampled shape to propose a validator from.
    db.create_collection("audit_log")


def _as_json(js: str) -> Any:
    """The object-literal arguments of the rules' mongosh statements as JSON (keys quoted)."""
    return json.loads(re.sub(r"([{,]\s*)(\$?[A-Za-z_]\w*)\s*:", r'\1"\2":', js))


def _call_args(statement: str, method: str) -> list[Any]:
    """`db.orders.updateMany(a, b)` → [a, b] parsed as JSON."""
    match = re.fullmatch(rf"db\.(\w+)\.{method}\((.*)\)", statement)
    assert match, statement
    parsed = _as_json(f"[{match.group(2)}]")
    assert isinstance(parsed, list)
    return parsed


async def test_review_schema_finds_exactly_the_planted_flaws(mongo_uri: str, mongo_db: str, mongo_admin: Admin) -> None:
    seed_flawed(mongo_admin, mongo_db)
    config = mongo_conn(mongo_uri, mongo_db, name="docs")
    state = ServerState.from_connections(ConnectionSet({config.name: config}))
    try:
        async with Client(build_server(state)) as client:
            started = time.perf_counter()
            result = await client.call_tool(
                "review_schema", {"connection": "docs", "min_severity": "info", "max_findings": 500}
            )
            elapsed = time.perf_counter() - started
    finally:
        await state.registry.close()
    review = result.structured_content
    assert review is not None and not result.is_error
    findings = review["findings"]
    print(f"\nmongodb live review: {elapsed * 1000:.0f} ms, rules {review['rules_ms']} ms, {len(findings)} findings")
    for f in findings:
        print(f["rule_id"], f["severity"], f["subject"], json.dumps(f["evidence"]))
    by_key = {(f["rule_id"], f["subject"]): f for f in findings}
    assert len(by_key) == len(findings)
    assert set(by_key) == EXPECTED
    assert review["source"] == "live" and review["engine"] == "mongodb" and review["tables_reviewed"] == 6
    assert sum(review["counts"].values()) == len(EXPECTED) and not review["truncated"]

    total = by_key[("SCH070", "orders.total")]
    assert total["severity"] == "medium"
    assert total["evidence"]["dominant_type"] == "double"
    assert total["evidence"]["docs_string"] == TEXT_TOTALS and total["evidence"]["docs_double"] == ORDERS - TEXT_TOTALS
    assert total["evidence"]["dominant_share_pct"] == 80.0 and total["evidence"]["sampled_documents"] == ORDERS
    qty = by_key[("SCH070", "orders.qty")]
    assert qty["severity"] == "low" and qty["evidence"]["docs_double"] == DOUBLE_QTYS

    comments = by_key[("SCH071", "posts.comments")]
    assert comments["severity"] == "high" and comments["evidence"]["array_length_max"] == COMMENTS
    likes = by_key[("SCH071", "posts.likes")]
    assert likes["severity"] == "medium" and likes["evidence"]["array_length_max"] == LIKES
    assert likes["evidence"]["array_length_avg"] == round((LIKES + 2 * (POSTS - 1)) / POSTS, 2)

    big = by_key[("SCH072", "attachments")]
    assert big["severity"] == "high"
    assert BLOB_BYTES < big["evidence"]["max_document_bytes"] < BLOB_BYTES + 1_000
    assert big["evidence"]["max_pct_of_limit"] == round(100 * big["evidence"]["max_document_bytes"] / 2**24, 1)

    events = by_key[("SCH074", "events")]
    assert events["evidence"]["indexes"] == EVENT_INDEXES + 1 and events["evidence"]["max_indexes"] == 10
    assert events["evidence"]["documents"] == 30
    assert events["evidence"]["unused_indexes"] == EVENT_INDEXES - 1  # all but the unique one: nothing read them

    prefix = by_key[("SCH075", "orders.customer_id_1")]
    assert prefix["evidence"]["covered_by"] == "customer_id_1_created_at_-1"

    db = mongo_admin[mongo_db]
    # The generated validators accept every existing document (the sample was the whole collection).
    for name in ("orders", "posts", "attachments"):
        [statement] = by_key[("SCH073", name)]["fix"]["statements"]
        match = re.fullmatch(r"db\.runCommand\((\{.*\})\)", statement)
        assert match, statement
        command = _as_json(match.group(1))
        assert command["collMod"] == name and command["validationAction"] == "warn"
        schema = command["validator"]["$jsonSchema"]
        assert db[name].count_documents({"$jsonSchema": schema}) == db[name].count_documents({}), name
        db.command(command)
    # The type migration converts every string total.
    [update] = total["fix"]["statements"]
    query, pipeline = _call_args(update, "updateMany")
    assert query == {"total": {"$type": "string"}}
    db.orders.update_many(query, pipeline)
    assert db.orders.count_documents({"total": {"$type": "string"}}) == 0
    converted = db.orders.find_one({"_id": 3})
    assert converted is not None and converted["total"] == 3.9
    # The redundant index can be hidden and dropped.
    hide, drop = prefix["fix"]["statements"]
    assert hide == 'db.orders.hideIndex("customer_id_1")' and drop == 'db.orders.dropIndex("customer_id_1")'
    db.orders.drop_index(_call_args(drop, "dropIndex")[0])
    assert "customer_id_1" not in db.orders.index_information()
    # The index clean-up drops the unused, non-unique indexes of events.
    drops = events["fix"]["statements"]
    assert len(drops) == EVENT_INDEXES - 1 and all(d.startswith("db.events.dropIndex(") for d in drops)
    for statement in drops:
        db.events.drop_index(_call_args(statement, "dropIndex")[0])
    assert sorted(db.events.index_information()) == ["_id_", "f00_unique"]
