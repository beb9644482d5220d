"""QA pass 2 (MongoDB planner): the dump/restore pair works together, a $inc backfill is guarded in the plan's own
step and script, and a TTL index on a field without dates is said never to expire anything."""

from __future__ import annotations

import json

from dbspecialist.adapters.catalog import Catalog, Column, FieldSample, Index, PrimaryKey, Table
from dbspecialist.knowledge.migrations.context import PlanContext, PlannerOutput
from dbspecialist.knowledge.migrations.mongodb_plan import plan_mongodb


def _field(name: str, types: dict[str, int]) -> Column:
    return Column(
        name=name,
        data_type=max(types, key=lambda t: types[t]),
        sample=FieldSample(presence_pct=100.0, type_counts=types),
    )


ORDERS = Table(
    schema_name="shop",
    name="orders",
    kind="collection",
    primary_key=PrimaryKey(columns=["_id"]),
    columns=[
        _field("_id", {"objectId": 100}),
        _field("status", {"string": 100}),
        _field("created_at", {"date": 100}),
        _field("expires", {"int": 60, "null": 40}),
        _field("events", {"array": 100}),
        _field("events[]", {"date": 100}),
    ],
    indexes=[Index(name="_id_", columns=["_id"], unique=True, primary=True, origin="primary_key")],
    row_estimate=5_000,
    table_bytes=750_000,
)


def _plan(change: object) -> PlannerOutput:
    ctx = PlanContext(
        dialect="mongodb",
        version=(8, 0, 0),
        version_given=True,
        catalog=Catalog(engine="mongodb", database="shop", tables=[ORDERS]),
    )
    return plan_mongodb(json.dumps(change), ctx)


def test_dump_and_restore_both_name_the_server_and_gzip() -> None:
    out = _plan({"drop": "orders"})
    dump = out.steps[0]
    assert dump.command == 'mongodump --uri="$MONGODB_URI" --db shop --collection orders --gzip --out backup/'
    assert out.steps[-1].rollback == ["mongorestore --uri=\"$MONGODB_URI\" --gzip --nsInclude 'shop.orders' backup/"]
    assert any("$MONGODB_URI" in n for n in dump.notes)


def test_non_idempotent_backfill_is_guarded_in_the_plan_itself() -> None:
    out = _plan({"update": "orders", "updates": [{"q": {}, "u": {"$inc": {"version": 1}}, "multi": True}]})
    [step] = [s for s in out.steps if s.kind == "script"]
    marked = {"$inc": {"version": 1}, "$set": {"schema_version": 2}}
    write = json.loads(step.sql[1])
    assert write["updates"][0]["u"] == marked
    assert {"schema_version": {"$ne": 2}} in write["updates"][0]["q"]["$and"]
    assert out.backfill_script is not None
    assert 'FILTER = json_util.loads(\'{"schema_version": {"$ne": 2}}\')' in out.backfill_script
    assert json.dumps(marked) in out.backfill_script
    [finding] = [f for f in out.findings if f.rule_id == "MIG180"]
    assert finding.fix is not None
    assert json.loads(finding.fix.statements[0])["updates"][0]["q"] == {"schema_version": {"$ne": 2}}


def test_ttl_on_a_field_without_dates_never_expires() -> None:
    out = _plan(
        {"createIndexes": "orders", "indexes": [{"key": {"status": 1}, "name": "st", "expireAfterSeconds": 60}]}
    )
    assert [f.rule_id for f in out.findings] == ["MIG190"]
    [finding] = out.findings
    assert "never expires" in finding.title and finding.evidence["sampled_types"] == "string"
    ints = _plan(
        {"createIndexes": "orders", "indexes": [{"key": {"expires": 1}, "name": "ex", "expireAfterSeconds": 0}]}
    )
    assert [f.rule_id for f in ints.findings] == ["MIG190"]


def test_ttl_on_dates_or_unknown_fields_keeps_the_backlog_warning() -> None:
    for field in ("created_at", "events", "not_sampled"):
        spec = {"key": {field: 1}, "name": "t", "expireAfterSeconds": 60}
        out = _plan({"createIndexes": "orders", "indexes": [spec]})
        assert [f.rule_id for f in out.findings] == ["MIG188"], field
