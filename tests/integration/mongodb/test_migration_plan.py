"""The MongoDB planner's commands and backfill script, run for real on the test server.

A batched backfill on a few thousand documents changes each document once and a second run changes nothing;
the commands form of one batch is accepted by the server; the validator rollout accepts an invalid document
in warn mode, finds the violators, and rejects invalid documents once enforced; hide/unhide/drop are accepted.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pymongo import MongoClient
from pymongo.errors import WriteError

from dbspecialist.adapters.catalog import Catalog
from dbspecialist.adapters.mongodb import MongoAdapter
from dbspecialist.knowledge.migrations.context import PlanContext, PlannerOutput
from dbspecialist.knowledge.migrations.model import MigrationStep, TableStats
from dbspecialist.knowledge.migrations.mongodb_plan import plan_mongodb
from tests.integration.mongodb.conftest import mongo_conn

pytestmark = pytest.mark.integration

DOCUMENTS = 12_345  # three batches of 5,000 minus the ones already migrated
Client = MongoClient[dict[str, Any]]


def _plan(change: object, catalog: Catalog | None = None, **stats: TableStats) -> PlannerOutput:
    ctx = PlanContext(dialect="mongodb", version=(7, 0, 0), version_given=True, stats=dict(stats), catalog=catalog)
    return plan_mongodb(json.dumps(change), ctx)


def _step(out: PlannerOutput, title: str) -> MigrationStep:
    [step] = [s for s in out.steps if s.title.startswith(title)]
    return step


async def _catalog(uri: str, database: str) -> Catalog:
    adapter = MongoAdapter(mongo_conn(uri, database))
    try:
        return await adapter.introspect()
    finally:
        await adapter.close()


def _run_script(script: str, tmp_path: Path, uri: str, database: str, *resume: str) -> list[dict[str, Any]]:
    path = tmp_path / "backfill.py"
    path.write_text(script)
    done = subprocess.run(
        [sys.executable, str(path), uri, database, *resume], capture_output=True, text=True, check=True, timeout=120
    )
    return [json.loads(line) for line in done.stdout.splitlines()]


def _run(db: Any, step: MigrationStep) -> list[dict[str, Any]]:
    return [db.command(json.loads(command)) for command in step.sql]


def _fill(value: Any, placeholders: dict[str, Any]) -> Any:
    """The batch commands with their `<...>` placeholders replaced by real values."""
    if isinstance(value, dict):
        return {k: _fill(v, placeholders) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, placeholders) for v in value]
    return placeholders.get(value, value) if isinstance(value, str) else value


@pytest.fixture
def users(mongo_admin: Client, mongo_db: str) -> Iterator[Any]:
    collection = mongo_admin[mongo_db]["users"]
    collection.insert_many(
        [
            {"_id": i, "email": f"u{i}@example.com", "name": f"User {i}"}
            | ({"status": "active"} if i % 100 == 0 else {})
            for i in range(DOCUMENTS)
        ]
    )
    yield collection


def test_batched_backfill_changes_every_document_once(
    users: Any, mongo_uri: str, mongo_db: str, tmp_path: Path
) -> None:
    already = users.count_documents({"status": "active"})
    out = _plan(
        {"update": "users", "updates": [{"q": {}, "u": {"$set": {"status": "active"}}, "multi": True}]},
        users=TableStats(rows=DOCUMENTS),
    )
    assert out.backfill_script is not None
    progress = _run_script(out.backfill_script, tmp_path, mongo_uri, mongo_db)
    assert progress[-1] == {"done": True, "modified": DOCUMENTS - already}
    assert [p["modified"] for p in progress[:-1]] == [5000, 10000, DOCUMENTS - already]
    assert users.count_documents({"status": "active"}) == DOCUMENTS
    assert _run_script(out.backfill_script, tmp_path, mongo_uri, mongo_db) == [{"done": True, "modified": 0}]


def test_backfill_resumes_from_the_last_id_printed(users: Any, mongo_uri: str, mongo_db: str, tmp_path: Path) -> None:
    out = _plan(
        {"update": "users", "updates": [{"q": {"_id": {"$lt": 6000}}, "u": {"$unset": {"name": ""}}, "multi": True}]}
    )
    assert out.backfill_script is not None
    resumed = _run_script(out.backfill_script, tmp_path, mongo_uri, mongo_db, "4000")
    assert resumed[-1] == {"done": True, "modified": 1999}  # _id 4001..5999
    assert users.count_documents({"name": {"$exists": False}}) == 1999
    assert users.find_one({"_id": 4000}, {"name": 1}) == {"_id": 4000, "name": "User 4000"}


def test_one_batch_of_the_commands_form_is_accepted(users: Any, mongo_admin: Client, mongo_db: str) -> None:
    out = _plan({"update": "users", "updates": [{"q": {}, "u": {"$set": {"tier": "free"}}, "multi": True}]})
    find, write = (json.loads(command) for command in out.steps[0].sql)
    db = mongo_admin[mongo_db]
    first = db.command(_fill(find, {"<last _id>": -1}))["cursor"]["firstBatch"]
    assert len(first) == 101  # the server's default first batch; the script reads the cursor to 5,000
    ids = [d["_id"] for d in users.find(_fill(find["filter"], {"<last _id>": -1})).sort("_id", 1).limit(5000)]
    bounds = {"<first _id of the batch>": ids[0], "<last _id of the batch>": ids[-1]}
    result = db.command(_fill(write, bounds))
    assert (result["n"], result["nModified"]) == (5000, 5000)
    assert db.command(_fill(write, bounds))["nModified"] == 0  # idempotent: the guard skips them now


def test_field_rename_copies_then_unsets(users: Any, mongo_uri: str, mongo_db: str, tmp_path: Path) -> None:
    out = _plan({"update": "users", "updates": [{"q": {}, "u": {"$rename": {"name": "full_name"}}, "multi": True}]})
    copy, unset = _step(out, "Copy users.name"), _step(out, "Remove users.name")
    assert copy.command is not None and unset.command is not None
    assert _run_script(copy.command, tmp_path, mongo_uri, mongo_db)[-1] == {"done": True, "modified": DOCUMENTS}
    assert users.count_documents({"full_name": {"$exists": True}, "name": {"$exists": True}}) == DOCUMENTS
    assert users.find_one({"_id": 7}) == {"_id": 7, "email": "u7@example.com", "name": "User 7", "full_name": "User 7"}
    assert _run_script(unset.command, tmp_path, mongo_uri, mongo_db)[-1] == {"done": True, "modified": DOCUMENTS}
    assert users.count_documents({"name": {"$exists": True}}) == 0
    assert users.count_documents({"full_name": {"$regex": "^User "}}) == DOCUMENTS


def test_validator_rollout_warns_then_rejects(users: Any, mongo_admin: Client, mongo_db: str) -> None:
    schema = {"$jsonSchema": {"bsonType": "object", "required": ["email", "plan"]}}
    out = _plan({"collMod": "users", "validator": schema}, users=TableStats(rows=DOCUMENTS))
    warn, find, enforce = out.steps
    db = mongo_admin[mongo_db]
    _run(db, warn)
    users.insert_one({"_id": "late", "email": "late@example.com"})  # warn mode: accepted, only logged
    count, sample = _run(db, find)
    assert count["n"] == DOCUMENTS + 1
    assert len(sample["cursor"]["firstBatch"]) == 20
    users.update_many({}, {"$set": {"plan": "free"}})  # fix the violators
    assert _run(db, find)[0]["n"] == 0
    _run(db, enforce)
    with pytest.raises(WriteError) as rejected:
        users.insert_one({"_id": "bad", "email": "bad@example.com"})
    assert rejected.value.code == 121  # DocumentValidationFailure
    users.insert_one({"_id": "good", "email": "good@example.com", "plan": "pro"})
    assert users.count_documents({"_id": {"$in": ["bad", "good"]}}) == 1


async def test_index_build_hide_and_drop_commands_are_accepted(
    users: Any, mongo_admin: Client, mongo_uri: str, mongo_db: str
) -> None:
    db = mongo_admin[mongo_db]
    build = _plan({"createIndexes": "users", "indexes": [{"key": {"email": 1}, "name": "email_1", "unique": True}]})
    check, create = build.steps
    assert _run(db, check)[0]["cursor"]["firstBatch"] == []  # no duplicate emails
    _run(db, create)
    assert "email_1" in users.index_information()
    drop = _plan({"dropIndexes": "users", "index": "email_1"}, await _catalog(mongo_uri, mongo_db))
    usage, hide, _observe, final = drop.steps
    _run(db, usage)
    _run(db, hide)
    assert db.command(json.loads(hide.rollback[0]))["ok"] == 1.0  # unhide
    _run(db, final)
    assert "email_1" not in users.index_information()
    assert json.loads(final.rollback[0]) == {
        "createIndexes": "users",
        "indexes": [{"key": {"email": 1}, "name": "email_1", "unique": True}],
    }
    assert db.command(json.loads(final.rollback[0]))["ok"] == 1.0  # the rollback rebuilds it
    assert users.index_information()["email_1"]["unique"] is True
