"""The MongoDB read-only guard: accepted commands, refusals with their reasons, and a fuzzed invariant."""

from __future__ import annotations

import json
from typing import Any

import pytest
from bson import ObjectId
from hypothesis import given, settings
from hypothesis import strategies as st

from dbspecialist.adapters.guard_mongodb import DENIED_OPERATORS, MAX_QUERY_CHARS, check_mongo, parse_command
from dbspecialist.errors import QueryRefusedError

ACCEPTED = {
    '{"find": "orders", "filter": {"status": "paid"}, "sort": {"_id": -1}, "limit": 5}': "find",
    '{"find": "orders", "filter": {"_id": {"$oid": "650000000000000000000000"}}}': "find",
    '{"find": "orders", "filter": {"at": {"$gte": {"$date": "2026-01-01T00:00:00Z"}}}}': "find",
    '{"aggregate": "orders", "pipeline": [{"$match": {}}, {"$lookup": {"from": "c", "as": "x", "pipeline": []}}]}': (
        "aggregate"
    ),
    '{"aggregate": 1, "pipeline": [{"$documents": [{"a": 1}]}]}': "aggregate",
    '{"aggregate": 1, "pipeline": [{"$currentOp": {}}], "db": "admin"}': "aggregate",
    '{"count": "orders", "query": {"status": "paid"}}': "count",
    '{"distinct": "orders", "key": "status"}': "distinct",
    '{"explain": {"find": "orders", "filter": {}}, "verbosity": "executionStats"}': "explain",
    '{"listIndexes": "orders"}': "listIndexes",
    '{"listCollections": 1, "nameOnly": true}': "listCollections",
    '{"collStats": "orders"}': "collStats",
    '{"dbStats": 1}': "dbStats",
    '{"serverStatus": 1}': "serverStatus",
    '{"hello": 1}': "hello",
    '{"buildInfo": 1}': "buildInfo",
    '{"getCmdLineOpts": 1}': "getCmdLineOpts",
    '{"currentOp": 1}': "currentOp",
    '{"find": "orders", "filter": {"note": "$out is only text here"}}': "find",
}

REFUSED = {
    '{"insert": "orders", "documents": [{}]}': "insert writes documents",
    '{"update": "orders", "updates": []}': "update writes documents",
    '{"delete": "orders", "deletes": []}': "delete deletes documents",
    '{"findAndModify": "orders", "remove": true}': "findAndModify writes documents",
    '{"drop": "orders"}': "drop drops a collection",
    '{"dropDatabase": 1}': "dropDatabase drops a database",
    '{"create": "x"}': "create creates a collection",
    '{"createIndexes": "orders", "indexes": []}': "createIndexes builds indexes",
    '{"renameCollection": "a.b", "to": "a.c"}': "renames a collection",
    '{"mapReduce": "orders", "map": "", "reduce": "", "out": {"inline": 1}}': "mapReduce can write",
    '{"eval": "1"}': "eval runs server-side JavaScript",
    '{"shutdown": 1}': "shutdown stops the server",
    '{"fsync": 1}': "fsync locks the server",
    '{"killOp": 1, "op": 3}': "killOp kills other operations",
    '{"setParameter": 1, "logLevel": 2}': "setParameter changes a server setting",
    '{"aggregate": "o", "pipeline": [{"$out": "x"}]}': "$out writes",
    '{"aggregate": "o", "pipeline": [{"$merge": {"into": "x"}}]}': "$merge writes",
    '{"aggregate": "o", "pipeline": [{"\\u0024merge": {"into": "x"}}]}': "$merge writes",
    '{"aggregate": "o", "pipeline": [{"$facet": {"f": [{"$out": "x"}]}}]}': "$out writes",
    '{"aggregate": "o", "pipeline": [{"$lookup": {"from": "c", "as": "y", "pipeline": [{"$out": "x"}]}}]}': "$out",
    '{"aggregate": "o", "pipeline": [{"$unionWith": {"coll": "c", "pipeline": [{"$merge": "x"}]}}]}': "$merge",
    '{"aggregate": "o", "pipeline": [{"$changeStream": {}}]}': "never ends",
    '{"find": "o", "filter": {"$where": "true"}}': "$where runs server-side JavaScript",
    '{"find": "o", "filter": {"$expr": {"$function": {"body": "", "args": [], "lang": "js"}}}}': "$function",
    '{"aggregate": "o", "pipeline": [{"$group": {"_id": 1, "a": {"$accumulator": {}}}}]}': "$accumulator",
    '{"find": "o", "filter": {"$and": [{"$ref": "c", "$id": 1, "$where": "1"}]}}': "$where",
    '{"find": "o", "filter": {"a": {"$code": "x", "$scope": {"$where": "1"}}}}': "$where",
    '{"explain": {"delete": "o", "deletes": []}}': "explain of 'delete' is not allowed",
    '{"explain": {"explain": {"find": "o"}}}': "explain of 'explain'",
    '{"find": "o"}{"drop": "o"}': "more than one JSON document",
    '[{"find": "o"}]': "JSON array",
    '{"find": "o", "find": "p"}': "appears twice",
    '{"find": "o", "$db": "admin"}': "set by the driver",
    '{"find": "o", "db": "../etc"}': '"db" must be a database name',
    '{"find": 1}': "takes a collection name",
    '{"aggregate": "o"}': 'needs "pipeline"',
    '{"distinct": "o"}': 'needs "key"',
    '{"count": "o", "query": {}, "filter": {}}': "not both",
    '{"frobnicate": 1}': "not on the read-command allow-list",
    '{"Insert": "o"}': "Insert writes documents",
    "{}": "non-empty JSON object",
    '"find"': "non-empty JSON object",
    "": "empty",
    "{'find': 'o'}": "not valid JSON",
    '{"find": "o", "filter": {': "not valid JSON",
}


@pytest.mark.parametrize(("query", "name"), list(ACCEPTED.items()))
def test_accepts_read_commands(query: str, name: str) -> None:
    accepted = check_mongo(query)
    assert accepted.name == name and next(iter(accepted.command)) == name
    assert accepted.returns_cursor == (name in {"find", "aggregate", "listIndexes", "listCollections"})


def test_extended_json_is_decoded_and_db_is_taken_out() -> None:
    accepted = check_mongo('{"find": "o", "filter": {"_id": {"$oid": "650000000000000000000000"}}, "db": "shop"}')
    assert accepted.command == {"find": "o", "filter": {"_id": ObjectId("650000000000000000000000")}}
    assert accepted.database == "shop"


def test_filter_is_an_alias_of_query_for_count_and_distinct() -> None:
    assert check_mongo('{"count": "o", "filter": {"a": 1}}').command == {"count": "o", "query": {"a": 1}}


@pytest.mark.parametrize(("query", "reason"), list(REFUSED.items()))
def test_refuses_with_a_reason(query: str, reason: str) -> None:
    with pytest.raises(QueryRefusedError) as refused:
        check_mongo(query)
    message = str(refused.value)
    assert message.startswith("Refused by the read-only guard: ")
    assert reason in message, message


def test_malformed_json_names_the_accepted_shapes_with_an_example() -> None:
    with pytest.raises(QueryRefusedError, match=r'e\.g\. \{"find": "orders"'):
        parse_command("db.orders.find()")


def test_oversized_and_deeply_nested_queries_are_refused() -> None:
    with pytest.raises(QueryRefusedError, match="characters"):
        check_mongo('{"find": "o", "filter": {"a": "' + "x" * MAX_QUERY_CHARS + '"}}')
    deep = '{"find": "o", "filter": ' + '{"a": ' * 200 + "1" + "}" * 200 + "}"
    with pytest.raises(QueryRefusedError, match="nested"):
        check_mongo(deep)


def test_writes_pass_only_on_a_writable_connection_and_still_one_command() -> None:
    accepted = check_mongo('{"insert": "o", "documents": [{}]}', read_only=False)
    assert accepted.name == "insert"
    with pytest.raises(QueryRefusedError, match="more than one"):
        check_mongo('{"insert": "o"}{"drop": "o"}', read_only=False)


_json_leaf = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.sampled_from(["x", "$a", "function(){}"]))
_keys = st.sampled_from([*DENIED_OPERATORS, "$match", "$expr", "$and", "a", "b", "$facet", "pipeline"])
_json = st.recursive(
    _json_leaf,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(_keys, inner, max_size=3)),
    max_leaves=12,
)


def _has_denied(value: Any) -> bool:
    if isinstance(value, dict):
        return any(k in DENIED_OPERATORS or _has_denied(v) for k, v in value.items())
    return isinstance(value, list) and any(_has_denied(v) for v in value)


@settings(max_examples=300, deadline=None)
@given(body=_json, escape=st.booleans(), verb=st.sampled_from(["find", "aggregate", "count"]))
def test_fuzz_denied_operators_are_refused_anywhere(body: Any, escape: bool, verb: str) -> None:
    command: dict[str, Any] = {verb: "o"}
    command["pipeline" if verb == "aggregate" else "filter"] = [body] if verb == "aggregate" else {"x": body}
    text = json.dumps(command)
    if escape:
        text = text.replace('"$', '"\\u0024')
    try:
        check_mongo(text)
    except QueryRefusedError:
        return
    assert not _has_denied(command), f"accepted {text}"
