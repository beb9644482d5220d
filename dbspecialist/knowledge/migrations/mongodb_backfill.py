"""The stand-alone pymongo backfill script the MongoDB planner hands out (PlannerOutput.backfill_script)."""

from __future__ import annotations

from typing import Any

from dbspecialist.knowledge.migrations.estimate import DEFAULT_BATCH_ROWS, DEFAULT_BATCH_SLEEP
from dbspecialist.knowledge.migrations.mongodb_commands import to_json


def backfill_script(collection: str, batch_filter: dict[str, Any], change: Any, update: dict[str, Any]) -> str:
    """A small pymongo script: _id batches, idempotent filter, majority writes, a pause, resumable by last _id."""
    options = {k: update[k] for k in ("arrayFilters", "collation", "hint") if k in update}
    option_args = {"arrayFilters": "array_filters", "collation": "collation", "hint": "hint"}
    extra = "".join(f", {option_args[k]}=OPTIONS[{k!r}]" for k in options)
    per_document = isinstance(change, dict) and any(
        isinstance(v, str) and v.startswith("<value of ") for v in (change.get("$set") or {}).values()
    )
    body = (
        '    for doc in collection.find({"_id": {"$in": ids}}):\n'
        '        modified += collection.update_one({"_id": doc["_id"]}, {"$set": {NEW: doc[OLD]}}).modified_count\n'
        if per_document
        else "    result = collection.update_many(\n"
        '        {"$and": [FILTER, {"_id": {"$gte": ids[0], "$lte": ids[-1]}}]}, UPDATE' + extra + "\n"
        "    )\n"
        "    modified += result.modified_count\n"
    )
    fields = ""
    if per_document:
        ((new, value),) = change["$set"].items()
        fields = f"OLD, NEW = {value[len('<value of ') : -1]!r}, {new!r}\n"
    return f'''"""Batched update of {collection}: _id ranges of {DEFAULT_BATCH_ROWS:,}, idempotent, throttled.

Usage: python backfill.py MONGODB_URI DATABASE [LAST_ID_AS_EXTENDED_JSON]  (resume with the last _id printed)
"""
import sys
import time

from bson import json_util
from pymongo import MongoClient
from pymongo.write_concern import WriteConcern

BATCH = {DEFAULT_BATCH_ROWS}
PAUSE_S = {DEFAULT_BATCH_SLEEP}
FILTER = json_util.loads({to_json(batch_filter)!r})
UPDATE = json_util.loads({to_json(change)!r})
OPTIONS = json_util.loads({to_json(options)!r})
{fields}
client = MongoClient(sys.argv[1])
collection = client[sys.argv[2]].get_collection({collection!r}, write_concern=WriteConcern(w="majority"))
last = json_util.loads(sys.argv[3]) if len(sys.argv) > 3 else None
modified = 0
while True:
    window = FILTER if last is None else {{"$and": [FILTER, {{"_id": {{"$gt": last}}}}]}}
    ids = [doc["_id"] for doc in collection.find(window, {{"_id": 1}}).sort("_id", 1).limit(BATCH)]
    if not ids:
        break
{body}    last = ids[-1]
    print(json_util.dumps({{"last_id": last, "modified": modified}}), flush=True)
    time.sleep(PAUSE_S)
print(json_util.dumps({{"done": True, "modified": modified}}), flush=True)
client.close()
'''
