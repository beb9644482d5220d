"""MongoDB planner: index builds, hide-then-drop, validator rollout, batched backfills, renames, findings."""

from __future__ import annotations

import json

import pytest

from dbspecialist.adapters.catalog import Catalog, Index, PrimaryKey, Table
from dbspecialist.knowledge.migrations.context import PlanContext, PlannerOutput
from dbspecialist.knowledge.migrations.estimate import backfill_estimate, estimate
from dbspecialist.knowledge.migrations.model import MigrationInputError, TableStats
from dbspecialist.knowledge.migrations.mongodb_plan import RULES, plan_mongodb

USERS = Table(
    schema_name="shop",
    name="users",
    kind="collection",
    primary_key=PrimaryKey(columns=["_id"]),
    indexes=[
        Index(name="_id_", columns=["_id"], unique=True, primary=True, origin="primary_key"),
        Index(name="email_1", columns=["email"], unique=True),
        Index(name="name_1", columns=["name"]),
        Index(name="seen_ttl", columns=["seen DESC"], ttl_seconds=3600),
    ],
    row_estimate=2_000_000,
    table_bytes=800 * 1024**2,
)
STATS = TableStats(rows=2_000_000, bytes=800 * 1024**2)


def _plan(change: object, version: tuple[int, int, int] = (7, 0, 0), **stats: TableStats) -> PlannerOutput:
    ctx = PlanContext(
        dialect="mongodb",
        version=version,
        version_given=True,
        stats=dict(stats),
        catalog=Catalog(engine="mongodb", database="shop", tables=[USERS]),
    )
    return plan_mongodb(json.dumps(change), ctx)


def _summary(out: PlannerOutput) -> list[tuple[str, str]]:
    return [(s.phase, s.kind) for s in out.steps]


def _rules(out: PlannerOutput) -> list[str]:
    return [f.rule_id for f in out.findings]


# ----------------------------------------------------------------------------------------------- indexes


def test_index_build_claims_the_4_2_locks_and_estimates_from_the_collection_size() -> None:
    out = _plan({"createIndexes": "users", "indexes": [{"key": {"country": 1, "city": 1}, "name": "geo"}]})
    [step] = out.steps
    assert step.sql == ['{"createIndexes": "users", "indexes": [{"key": {"country": 1, "city": 1}, "name": "geo"}]}']
    assert (
        step.command
        == 'db.runCommand({"createIndexes": "users", "indexes": [{"key": {"country": 1, "city": 1}, "name": "geo"}]})'
    )
    assert step.lock is not None and step.lock.blocks == "nothing"
    assert step.lock.mode.startswith("IX during the build; exclusive (X) collection lock only at its start and end")
    assert (step.table_effect, step.transactional) == ("build", False)
    assert step.estimate == estimate("build", STATS)
    assert step.rollback == ['{"dropIndexes": "users", "index": "geo"}']
    assert out.findings == []


def test_before_4_2_the_build_runs_in_the_background() -> None:
    [step] = _plan({"createIndexes": "users", "indexes": [{"key": {"a": 1}, "name": "a_1"}]}, (4, 0, 0)).steps
    assert json.loads(step.sql[0])["indexes"] == [{"key": {"a": 1}, "name": "a_1", "background": True}]


def test_unique_index_is_preceded_by_a_duplicate_search() -> None:
    out = _plan(
        {
            "createIndexes": "users",
            "indexes": [{"key": {"tenant": 1, "login": 1}, "name": "login", "unique": True}],
        }
    )
    check, build = out.steps
    assert check.kind == "check" and json.loads(check.sql[0]) == {
        "aggregate": "users",
        "pipeline": [
            {"$group": {"_id": {"tenant": "$tenant", "login": "$login"}, "count": {"$sum": 1}}},
            {"$match": {"count": {"$gt": 1}}},
            {"$limit": 10},
        ],
        "cursor": {},
        "allowDiskUse": True,
    }
    assert build.kind == "command"
    assert _rules(out) == ["MIG187"]


def test_a_large_collection_gets_the_rolling_build_advice() -> None:
    big = TableStats(rows=80_000_000, bytes=40 * 1024**3)
    out = _plan({"createIndexes": "users", "indexes": [{"key": {"a": 1}, "name": "a_1"}]}, users=big)
    assert _rules(out) == ["MIG183"]
    assert any("rolling" in note for note in out.steps[0].notes)


USAGE = {"aggregate": "users", "pipeline": [{"$indexStats": {}}, {"$match": {"name": "email_1"}}], "cursor": {}}


def test_drop_index_is_checked_hidden_observed_then_dropped() -> None:
    out = _plan({"dropIndexes": "users", "index": "email_1"})
    assert [(s.phase, s.kind, s.sql) for s in out.steps] == [
        (
            "prepare",
            "check",
            [json.dumps(USAGE)],
        ),
        ("expand", "command", ['{"collMod": "users", "index": {"name": "email_1", "hidden": true}}']),
        ("validate", "check", []),
        ("contract", "command", ['{"dropIndexes": "users", "index": "email_1"}']),
    ]
    hide, drop = out.steps[1], out.steps[3]
    assert hide.rollback == ['{"collMod": "users", "index": {"name": "email_1", "hidden": false}}']
    assert drop.rollback == [
        '{"createIndexes": "users", "indexes": [{"key": {"email": 1}, "name": "email_1", "unique": true}]}'
    ]
    assert drop.lock is not None and drop.lock.blocks == "reads and writes" and drop.lock.held.startswith("millisec")
    assert any("still rejects duplicates" in n for n in drop.notes)
    assert _rules(out) == ["MIG181"]


def test_drop_index_by_key_pattern_before_4_4_has_no_hiding() -> None:
    out = _plan({"dropIndexes": "users", "index": {"seen": -1}}, (4, 2, 0))
    assert _summary(out) == [("prepare", "check"), ("contract", "command")]
    assert out.steps[1].sql == ['{"dropIndexes": "users", "index": "seen_ttl"}']
    assert out.notes == ["Hidden indexes need MongoDB 4.4: on 4.2.0 seen_ttl is dropped without a trial period."]
    assert _rules(out) == []


def test_the_id_index_cannot_be_dropped() -> None:
    with pytest.raises(MigrationInputError, match="_id index"):
        _plan({"dropIndexes": "users", "index": "_id_"})


def test_lowering_a_ttl_is_flagged_and_rolls_back_to_the_old_value() -> None:
    out = _plan({"collMod": "users", "index": {"name": "seen_ttl", "expireAfterSeconds": 60}})
    [step] = out.steps
    assert step.rollback == ['{"collMod": "users", "index": {"name": "seen_ttl", "expireAfterSeconds": 3600}}']
    assert _rules(out) == ["MIG188"]
    assert _rules(_plan({"collMod": "users", "index": {"name": "seen_ttl", "expireAfterSeconds": 7200}})) == []


# ----------------------------------------------------------------------------------------------- validators


SCHEMA = {"$jsonSchema": {"bsonType": "object", "required": ["email"]}}


def test_validator_rollout_warns_finds_violators_then_enforces() -> None:
    out = _plan({"collMod": "users", "validator": SCHEMA})
    assert [(s.phase, s.kind) for s in out.steps] == [
        ("expand", "command"),
        ("validate", "check"),
        ("validate", "command"),
    ]
    warn, find, enforce = out.steps
    assert json.loads(warn.sql[0]) == {
        "collMod": "users",
        "validator": SCHEMA,
        "validationLevel": "moderate",
        "validationAction": "warn",
    }
    assert json.loads(warn.rollback[0]) == {
        "collMod": "users",
        "validator": {},
        "validationLevel": "off",
        "validationAction": "error",
    }
    assert [json.loads(s) for s in find.sql] == [
        {"count": "users", "query": {"$nor": [SCHEMA]}},
        {"find": "users", "filter": {"$nor": [SCHEMA]}, "projection": {"_id": 1}, "limit": 20},
    ]
    assert find.estimate == estimate("scan", STATS)
    assert json.loads(enforce.sql[0]) == {"collMod": "users", "validationLevel": "strict", "validationAction": "error"}
    assert warn.lock is not None and warn.lock.mode == "exclusive (X) collection lock while the catalog entry changes"
    assert _rules(out) == ["MIG182"]


def test_tightening_the_level_of_an_existing_validator_checks_first_without_a_warn_stage() -> None:
    table = USERS.model_copy(update={"validator": SCHEMA, "options": {"validationLevel": "moderate"}})
    ctx = PlanContext(
        dialect="mongodb",
        version=(7, 0, 0),
        version_given=True,
        catalog=Catalog(engine="mongodb", database="shop", tables=[table]),
    )
    out = plan_mongodb('{"collMod": "users", "validationLevel": "strict"}', ctx)
    find, enforce = out.steps
    assert (find.phase, find.kind, json.loads(find.sql[0])) == (
        "validate",
        "check",
        {"count": "users", "query": {"$nor": [SCHEMA]}},
    )
    assert json.loads(enforce.sql[0]) == {"collMod": "users", "validationLevel": "strict"}
    assert json.loads(enforce.rollback[0]) == {
        "collMod": "users",
        "validator": SCHEMA,
        "validationLevel": "moderate",
        "validationAction": "error",
    }


def test_a_validator_in_warn_mode_or_on_an_empty_collection_is_one_step() -> None:
    warn_only = _plan({"collMod": "users", "validator": SCHEMA, "validationAction": "warn"})
    assert len(warn_only.steps) == 1 and _rules(warn_only) == []
    empty = _plan({"collMod": "users", "validator": SCHEMA}, users=TableStats(rows=0))
    assert len(empty.steps) == 1 and _rules(empty) == []


# ----------------------------------------------------------------------------------------------- documents


def test_set_backfill_is_batched_by_id_with_an_idempotent_filter() -> None:
    out = _plan(
        {"update": "users", "updates": [{"q": {"kind": "a"}, "u": {"$set": {"status": "active"}}, "multi": True}]}
    )
    [step] = out.steps
    assert (step.phase, step.kind, step.transactional) == ("backfill", "script", False)
    find, write = (json.loads(s) for s in step.sql)
    assert find == {
        "find": "users",
        "filter": {"$and": [{"kind": "a"}, {"status": {"$ne": "active"}}, {"_id": {"$gt": "<last _id>"}}]},
        "projection": {"_id": 1},
        "sort": {"_id": 1},
        "limit": 5000,
    }
    assert write["updates"][0]["q"]["$and"][:2] == [{"kind": "a"}, {"status": {"$ne": "active"}}]
    assert write["writeConcern"] == {"w": "majority"}
    assert step.estimate == backfill_estimate(STATS)
    assert step.lock is not None and step.lock.blocks == "nothing" and step.lock.mode.startswith("intent exclusive")
    assert out.backfill_script is not None and step.command == out.backfill_script
    assert """FILTER = json_util.loads('{"$and": [{"kind": "a"}, {"status": {"$ne": "active"}}]}')""" in step.command
    compile(out.backfill_script, "backfill.py", "exec")
    assert _rules(out) == ["MIG189"]
    assert out.notes[0].startswith("Lazy alternative for users")


def test_unset_backfill_guards_on_existence_and_inc_is_flagged() -> None:
    unset = _plan({"update": "users", "updates": [{"q": {}, "u": {"$unset": {"legacy": ""}}, "multi": True}]})
    assert json.loads(unset.steps[0].sql[0])["filter"] == {
        "$and": [{"legacy": {"$exists": True}}, {"_id": {"$gt": "<last _id>"}}]
    }
    inc = _plan({"update": "users", "updates": [{"q": {}, "u": {"$inc": {"logins": 1}}, "multi": True}]})
    assert _rules(inc) == ["MIG180", "MIG189"]
    [finding] = [f for f in inc.findings if f.rule_id == "MIG180"]
    assert finding.fix is not None and json.loads(finding.fix.statements[0])["updates"][0]["q"] == {
        "schema_version": {"$ne": 2}
    }
    assert any("skips documents already changed" in n for n in inc.steps[0].notes)  # guarded by the mark


def test_small_collection_update_is_not_flagged_and_single_updates_are_plain() -> None:
    out = _plan(
        {"update": "users", "updates": [{"q": {"_id": 1}, "u": {"$set": {"a": 1}}}]},
        users=TableStats(rows=100),
    )
    [step] = out.steps
    assert (step.kind, step.transactional, step.table_effect) == ("command", False, "rows")
    assert _rules(out) == []


def test_field_rename_is_expand_contract() -> None:
    out = _plan({"update": "users", "updates": [{"q": {}, "u": {"$rename": {"name": "full_name"}}, "multi": True}]})
    assert [(s.phase, s.kind, s.title) for s in out.steps] == [
        ("expand", "command", "Build index full_name_1 on users"),
        ("backfill", "script", "Copy users.name into full_name in _id batches of 5,000"),
        (
            "switch",
            "deploy",
            "Deploy the application version that reads users.full_name (falling back to name when missing) and "
            "writes both full_name and name",
        ),
        ("contract", "script", "Catch up: copy users.name into full_name for documents written before the deploy"),
        ("contract", "deploy", "Deploy the application version that reads and writes only users.full_name"),
        ("prepare", "command", "Dump users before removing data (mongodump)"),
        ("contract", "script", "Remove users.name in _id batches of 5,000 ($unset)"),
        ("contract", "command", "Drop index name_1 on users"),
    ]
    copy = json.loads(out.steps[1].sql[1])["updates"][0]
    assert copy["u"] == [{"$set": {"full_name": "$name"}}]
    assert copy["q"]["$and"][:2] == [{"name": {"$exists": True}}, {"full_name": {"$exists": False}}]
    unset = json.loads(out.steps[6].sql[1])["updates"][0]
    assert unset["u"] == {"$unset": {"name": ""}}
    assert unset["q"]["$and"][:2] == [{"name": {"$exists": True}}, {"full_name": {"$exists": True}}]
    assert out.steps[5].command == 'mongodump --uri="$MONGODB_URI" --db shop --collection users --gzip --out backup/'
    assert _rules(out) == ["MIG184", "MIG189"]
    assert out.backfill_script is not None and out.backfill_script.count('"""Batched update') == 2


def test_field_rename_before_4_2_copies_document_by_document() -> None:
    out = _plan(
        {"update": "users", "updates": [{"q": {}, "u": {"$rename": {"nick": "alias"}}, "multi": True}]}, (4, 0, 0)
    )
    assert out.backfill_script is not None
    assert "OLD, NEW = 'nick', 'alias'" in out.backfill_script
    compile(out.backfill_script.split("\n\n\n")[0], "backfill.py", "exec")


# ----------------------------------------------------------------------------------------------- collections


def test_rename_collection_keeps_a_read_only_view_until_the_deploy() -> None:
    out = _plan({"renameCollection": "shop.users", "to": "shop.people"})
    assert [(s.phase, s.sql) for s in out.steps] == [
        ("expand", ['{"renameCollection": "shop.users", "to": "shop.people"}']),
        ("expand", ['{"create": "users", "viewOn": "people", "pipeline": []}']),
        ("switch", []),
        ("contract", ['{"drop": "users"}']),
    ]
    assert out.steps[0].command == 'db.adminCommand({"renameCollection": "shop.users", "to": "shop.people"})'
    assert out.steps[0].lock is not None
    assert out.steps[0].lock.mode == "exclusive (X) locks on the source and target collections"
    assert out.steps[2].title == "Deploy the application version that uses people instead of users"
    assert _rules(out) == ["MIG185"]


def test_drop_collection_dumps_first_and_cannot_be_undone() -> None:
    out = _plan({"drop": "users"})
    assert [(s.phase, s.kind) for s in out.steps] == [
        ("prepare", "command"),
        ("switch", "deploy"),
        ("contract", "command"),
    ]
    assert out.steps[2].reversible is False
    assert out.steps[2].rollback == ["mongorestore --uri=\"$MONGODB_URI\" --gzip --nsInclude 'shop.users' backup/"]
    assert _rules(out) == ["MIG186"]


def test_create_with_a_validator_is_one_step() -> None:
    out = _plan({"create": "audit", "validator": SCHEMA})
    [step] = out.steps
    assert step.rollback == ['{"drop": "audit"}'] and _rules(out) == []


def test_input_errors_name_what_to_change() -> None:
    with pytest.raises(MigrationInputError, match="must be JSON"):
        plan_mongodb("db.users.drop()", PlanContext(dialect="mongodb", version=(7, 0, 0), version_given=False))
    with pytest.raises(MigrationInputError, match="unsupported MongoDB command 'compact'"):
        _plan({"compact": "users"})
    with pytest.raises(MigrationInputError, match="full namespaces"):
        _plan({"renameCollection": "users", "to": "people"})
    with pytest.raises(MigrationInputError, match=r"hidden indexes need MongoDB 4\.4"):
        _plan({"collMod": "users", "index": {"name": "name_1", "hidden": True}}, (4, 2, 0))


def test_rules_are_documented_and_in_the_mongodb_range() -> None:
    assert [spec.id for spec, _ in RULES] == [f"MIG{n}" for n in range(180, 191)]
    for spec, check in RULES:
        assert spec.capability == "migrations" and spec.engines == ("mongodb",)
        assert check.__doc__ and "## Why is this bad?" in check.__doc__ and "## Use instead" in check.__doc__
