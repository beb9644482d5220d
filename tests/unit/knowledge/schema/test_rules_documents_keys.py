"""Cases for the document-store rules (MongoDB, SCH070-SCH076) and the key-value rules (Redis, SCH080-SCH083).

MongoDB cases are ordinary `RuleCase`s: the collections are `Table(kind="collection")` objects, run
through the shared `assert_case`.

Redis rules read `ctx.catalog.keyspace`, which a `RuleCase` cannot carry (`run_rule` builds
`Catalog(tables=...)` only, and `cases.py` is shared). So each Redis case is a `KeyspaceCase`: a
`RuleCase` with `tables=()`, registered in `CASES` so the registry meta-test sees a firing and a quiet
case for every rule, plus the `Keyspace` this module's own runner (`run_keyspace_case`) puts into the
`SchemaContext`. `test_rule_case` is parametrized over the MongoDB cases only; `test_keyspace_case`
runs the Redis ones with the same assertions as `assert_case`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dbspecialist.adapters.catalog import (
    BigKey,
    Catalog,
    Column,
    FieldSample,
    Index,
    KeyPattern,
    Keyspace,
    PrimaryKey,
    RedisDatabase,
    Table,
)
from dbspecialist.knowledge.findings import Finding, Severity
from dbspecialist.knowledge.schema.context import SchemaContext
from dbspecialist.knowledge.schema.registry import load_rules, review
from tests.unit.knowledge.schema.cases import RuleCase, assert_case

MONGO_RULES = ("SCH070", "SCH071", "SCH072", "SCH073", "SCH074", "SCH075", "SCH076")
REDIS_RULES = ("SCH080", "SCH081", "SCH082", "SCH083")
MiB = 1024 * 1024


# ---------------------------------------------------------------------------------- MongoDB fixtures


def fld(
    name: str,
    types: dict[str, int],
    presence: float = 100.0,
    lengths: tuple[int, int, float] | None = None,
) -> Column:
    """A sampled field: type counts (documents per BSON type), presence and, for arrays, (min, max, avg) length."""
    dominant = max(sorted(types), key=lambda t: types[t])
    return Column(
        name=name,
        data_type=dominant,
        nullable=presence < 100 or "null" in types,
        sample=FieldSample(
            presence_pct=presence,
            type_counts=types,
            array_length_min=lengths[0] if lengths else None,
            array_length_max=lengths[1] if lengths else None,
            array_length_avg=lengths[2] if lengths else None,
        ),
    )


ID_INDEX = Index(name="_id_", columns=["_id"], unique=True, primary=True, origin="primary_key")


def coll(
    name: str,
    columns: list[Column] | None = None,
    *,
    indexes: list[Index] | None = None,
    stats: dict[str, object] | None = None,
    validator: dict[str, object] | None = None,
    schema: str | None = None,
    kind: str = "collection",
) -> Table:
    return Table.model_validate(
        {
            "schema_name": schema,
            "name": name,
            "kind": kind,
            "columns": columns if columns is not None else [fld("_id", {"objectId": 100})],
            "primary_key": PrimaryKey(name="_id_", columns=["_id"]),
            "indexes": [ID_INDEX, *(indexes or [])],
            "stats": {"sampled_documents": 100, **(stats or {})},
            "validator": validator,
            "row_estimate": 5_000,
        }
    )


def idx(name: str, *columns: str, **options: object) -> Index:
    return Index.model_validate({"name": name, "columns": list(columns), "method": "btree", **options})


def mongo(rule_id: str, title: str, tables: tuple[Table, ...], fires: bool, **kw: object) -> RuleCase:
    return RuleCase(rule_id, title, tables, fires, engine="mongodb", **kw)  # type: ignore[arg-type]


VALIDATED: dict[str, object] = {"$jsonSchema": {"bsonType": "object", "required": ["_id"]}}

MONGO_CASES: list[RuleCase] = [
    # SCH070 field-with-mixed-types
    mongo(
        "SCH070",
        "number stored as string in some documents",
        (coll("orders", [fld("_id", {"objectId": 100}), fld("total", {"double": 60, "string": 40})]),),
        True,
        subjects=("orders.total",),
        evidence={"dominant_type": "double", "docs_string": 40, "minority_documents": 40, "types_seen": 2},
    ),
    mongo(
        "SCH070",
        "scalar next to array, in another database",
        (coll("users", [fld("tags", {"array": 70, "string": 30})], schema="crm"),),
        True,
        subjects=("crm.users.tags",),
        evidence={"types": "array:70, string:30", "dominant_share_pct": 70.0},
    ),
    mongo(
        "SCH070",
        "null next to one type, and int next to long",
        (coll("users", [fld("phone", {"string": 80, "null": 20}), fld("visits", {"int": 90, "long": 10})]),),
        False,
    ),
    # SCH071 unbounded-array-field
    mongo(
        "SCH071",
        "array past the large-array threshold",
        (coll("posts", [fld("comments", {"array": 100}, lengths=(0, 5_000, 800.0))]),),
        True,
        subjects=("posts.comments",),
        evidence={"array_length_max": 5_000, "array_length_avg": 800.0, "large_array_length": 1_000},
    ),
    mongo(
        "SCH071",
        "array far longer in some documents than on average",
        (coll("devices", [fld("readings", {"array": 100}, lengths=(1, 400, 20.0))]),),
        True,
        subjects=("devices.readings",),
        evidence={"array_length_max": 400},
    ),
    mongo(
        "SCH071",
        "short bounded arrays",
        (
            coll(
                "products",
                [
                    fld("tags", {"array": 100}, lengths=(0, 12, 3.5)),
                    fld("sizes", {"array": 100}, lengths=(100, 150, 120.0)),
                ],
            ),
        ),
        False,
    ),
    # SCH072 document-near-size-limit
    mongo(
        "SCH072",
        "largest sampled document above half the limit",
        (coll("customers", stats={"max_bson_size": 9 * MiB, "avg_bson_size": 40_000.0}),),
        True,
        subjects=("customers",),
        evidence={"max_document_bytes": 9 * MiB, "max_pct_of_limit": 56.2, "avg_document_bytes": 40_000},
    ),
    mongo(
        "SCH072",
        "small documents, and a collection without size statistics",
        (coll("customers", stats={"max_bson_size": 200_000, "avg_bson_size": 1_200.0}), coll("empty")),
        False,
    ),
    # SCH073 collection-without-validator
    mongo(
        "SCH073",
        "sampled collection without a validator",
        (
            coll(
                "orders",
                [fld("_id", {"objectId": 100}), fld("total", {"decimal": 100}), fld("note", {"string": 40}, 40.0)],
            ),
        ),
        True,
        subjects=("orders",),
        evidence={"field_paths": 3, "top_level_fields": 3, "required_fields": 2, "sampled_documents": 100},
    ),
    mongo(
        "SCH073",
        "validated collection, unsampled collection and a view",
        (
            coll("orders", validator=VALIDATED),
            coll("empty", columns=[]),
            coll("order_totals", kind="view"),
        ),
        False,
    ),
    # SCH074 collection-with-too-many-indexes
    mongo(
        "SCH074",
        "eleven indexes (ten plus _id_) with two unused",
        (
            coll(
                "events",
                indexes=[idx(f"f{i}_1", f"f{i}", scans=0 if i < 2 else 50, size_bytes=1_000) for i in range(10)],
            ),
        ),
        True,
        live=True,
        subjects=("events",),
        evidence={"indexes": 11, "max_indexes": 10, "unused_indexes": 2},
    ),
    mongo(
        "SCH074",
        "ten indexes in all",
        (coll("events", indexes=[idx(f"f{i}_1", f"f{i}") for i in range(9)]),),
        False,
    ),
    # SCH075 collection-index-prefix-of-another
    mongo(
        "SCH075",
        "single key prefix, same and opposite direction",
        (
            coll(
                "orders",
                indexes=[
                    idx("customer_id_1", "customer_id"),
                    idx("customer_id_1_created_at_-1", "customer_id", "created_at DESC"),
                    idx("status_-1", "status DESC"),
                    idx("status_1_total_1", "status", "total"),
                ],
            ),
        ),
        True,
        subjects=("orders.customer_id_1", "orders.status_-1"),
        evidence={"covered_by": "customer_id_1_created_at_-1", "keys": "customer_id"},
    ),
    mongo(
        "SCH075",
        "two-key prefix, all directions reversed, and the same keys twice",
        (
            coll(
                "events",
                indexes=[
                    idx("a_1_b_-1", "a", "b DESC"),
                    idx("a_-1_b_1_c_1", "a DESC", "b", "c"),
                    idx("x_1_y_1", "x", "y"),
                    idx("x_1_y_1_copy", "x", "y"),
                ],
            ),
        ),
        True,
        subjects=("events.a_1_b_-1", "events.x_1_y_1_copy"),
    ),
    mongo(
        "SCH075",
        "unique, TTL, sparse and mixed-direction prefixes; partial, sparse and text longer indexes",
        (
            coll(
                "sessions",
                indexes=[
                    idx("user_id_1", "user_id", unique=True),
                    idx("user_id_1_seen_1", "user_id", "seen"),
                    idx("seen_1", "seen", ttl_seconds=3600),
                    idx("seen_1_user_id_1", "seen", "user_id"),
                    idx("a_1_b_1", "a", "b"),
                    idx("a_1_b_-1_c_1", "a", "b DESC", "c"),
                    idx("k_1", "k", sparse=True),
                    idx("k_1_m_1", "k", "m"),
                    idx("p_1", "p"),
                    idx("p_1_q_1", "p", "q", predicate='{"q": {"$exists": true}}'),
                    idx("s_1", "s"),
                    idx("s_1_t_1", "s", "t", sparse=True),
                    idx("body_text", "body text", method="text"),
                    idx("body_text_lang_1", "body text", "lang", method="text"),
                ],
            ),
        ),
        False,
    ),
    # SCH076 ttl-index-on-non-date-field (live: it reads the sampled types)
    mongo(
        "SCH076",
        "TTL on strings and on a field the sample lacks",
        (
            coll(
                "sessions",
                [fld("_id", {"objectId": 100}), fld("created_at", {"string": 100})],
                indexes=[idx("created_ttl", "created_at", ttl_seconds=3600), idx("gone_ttl", "gone", ttl_seconds=60)],
            ),
        ),
        True,
        live=True,
        subjects=("sessions.created_at", "sessions.gone"),
        evidence={"index": "created_ttl", "expire_after_seconds": 3600, "sampled_types": '{"string": 100}'},
    ),
    mongo(
        "SCH076",
        "TTL on dates (some strings too), and no TTL at all",
        (
            coll(
                "sessions",
                [fld("_id", {"objectId": 100}), fld("created_at", {"date": 90, "string": 10}), fld("n", {"int": 100})],
                indexes=[idx("created_ttl", "created_at", ttl_seconds=3600), idx("n_1", "n")],
            ),
        ),
        False,
        live=True,
    ),
]


# ---------------------------------------------------------------------------------- Redis fixtures


@dataclass(frozen=True)
class KeyspaceCase:
    case: RuleCase
    keyspace: Keyspace | None
    settings: dict[str, str] = field(default_factory=dict)


def pat(pattern: str, kind: str = "string", keys: int = 200, ttl: float = 0.0, avg: float | None = 60.0) -> KeyPattern:
    return KeyPattern(
        pattern=pattern,
        type=kind,
        sampled_keys=keys,
        ttl_share_pct=ttl,
        memory_bytes_avg=avg,
        memory_bytes_sampled=round(avg * keys) if avg is not None else None,
    )


def space(
    *patterns: KeyPattern,
    big: tuple[BigKey, ...] = (),
    memory: dict[str, object] | None = None,
    keys: int = 100_000,
    expires: int = 0,
) -> Keyspace:
    return Keyspace(
        databases=[RedisDatabase(db=0, keys=keys, expires=expires)],
        sampled_keys=1_000,
        patterns=list(patterns),
        biggest_keys=list(big),
        info={"memory": memory} if memory is not None else {},
    )


def redis(
    rule_id: str,
    title: str,
    keyspace: Keyspace | None,
    fires: bool,
    *,
    settings: dict[str, str] | None = None,
    **kw: object,
) -> KeyspaceCase:
    case = RuleCase(rule_id, title, (), fires, engine="redis", live=True, **kw)  # type: ignore[arg-type]
    return KeyspaceCase(case, keyspace, settings or {})


UNLIMITED = {
    "maxmemory": 0,
    "maxmemory_policy": "noeviction",
    "used_memory": 50 * MiB,
    "total_system_memory": 8192 * MiB,
}
LIMITED_NOEVICTION = {"maxmemory": 1024 * MiB, "maxmemory_policy": "noeviction", "used_memory": 900 * MiB}

REDIS_CASES: list[KeyspaceCase] = [
    # SCH080 cache-keys-without-ttl
    redis(
        "SCH080",
        "session, rate-limit and lock keys that never expire",
        space(pat("session:*"), pat("api:rate_limit:*", keys=50), pat("lock:invoice:*", keys=10), pat("user:*")),
        True,
        subjects=("api:rate_limit:*", "lock:invoice:*", "session:*"),
        evidence={
            "sampled_keys": 200,
            "ttl_share_pct": 0.0,
            "memory_bytes_sampled": 12_000,
            "share_of_sample_pct": 20.0,
        },
    ),
    redis(
        "SCH080",
        "expiring sessions; templates and exchange rates are not caches",
        space(pat("session:*", ttl=100.0), pat("template:*"), pat("exchange:rate:*"), pat("pageCache:*", ttl=12.5)),
        False,
    ),
    redis("SCH080", "no keyspace at all", None, False),
    # SCH081 big-key
    redis(
        "SCH081",
        "a five-MiB hash",
        space(big=(BigKey(key="events:all", type="hash", memory_bytes=5 * MiB, length=80_000),)),
        True,
        subjects=("events:all",),
        evidence={"memory_bytes": 5 * MiB, "length": 80_000, "type": "hash", "times_threshold": 5.0},
    ),
    redis(
        "SCH081",
        "largest key below the threshold",
        space(big=(BigKey(key="feed:1", type="list", memory_bytes=500_000, length=900),)),
        False,
    ),
    # SCH082 many-tiny-string-keys
    redis(
        "SCH082",
        "hundreds of sampled string keys of 56 bytes",
        space(pat("user:*:last_seen", keys=400, avg=56.0)),
        True,
        subjects=("user:*:last_seen",),
        evidence={
            "sampled_keys": 400,
            "memory_bytes_avg": 56.0,
            "estimated_keys": 40_000,
            "estimated_bytes": 2_240_000,
        },
    ),
    redis(
        "SCH082",
        "large values, hashes, few keys and a single fixed key",
        space(
            pat("profile:*", keys=400, avg=300.0),
            pat("cart:*", kind="hash", keys=400, avg=50.0),
            pat("flag:*", keys=20, avg=50.0),
            pat("counter", keys=150, avg=50.0),
        ),
        False,
    ),
    # SCH083 eviction-policy-contradicts-keys
    redis(
        "SCH083",
        "no memory limit with cache data",
        space(pat("session:*", ttl=100.0), pat("user:*"), memory=UNLIMITED),
        True,
        subjects=("maxmemory",),
        evidence={"maxmemory": 0, "maxmemory_policy": "noeviction", "cache_like_patterns": 1},
    ),
    redis(
        "SCH083",
        "noeviction with cache keys that never expire (settings)",
        space(pat("cache:page:*"), pat("user:*")),
        True,
        settings={"maxmemory": str(1024 * MiB), "maxmemory-policy": "noeviction"},
        subjects=("maxmemory-policy",),
        evidence={"maxmemory": 1024 * MiB, "cache_like_patterns_without_ttl": 1, "example_pattern": "cache:page:*"},
    ),
    redis(
        "SCH083",
        "volatile policy while no key has an expiry",
        space(pat("user:*"), memory={"maxmemory": 1024 * MiB, "maxmemory_policy": "volatile-lru"}),
        True,
        subjects=("maxmemory-policy",),
        evidence={"maxmemory_policy": "volatile-lru", "ttl_share_pct": 0.0, "keys": 100_000},
    ),
    redis(
        "SCH083",
        "no memory limit and no cache-like data",
        space(pat("user:*"), memory=UNLIMITED),
        False,
    ),
    redis(
        "SCH083",
        "allkeys-lru with cache keys that never expire",
        space(pat("cache:*"), memory={"maxmemory": 1024 * MiB, "maxmemory_policy": "allkeys-lru"}),
        False,
    ),
    redis(
        "SCH083",
        "volatile-lfu with 80 % of keys expiring",
        space(
            pat("cache:*", ttl=80.0),
            memory={"maxmemory": 1024 * MiB, "maxmemory_policy": "volatile-lfu"},
            expires=80_000,
        ),
        False,
    ),
    redis("SCH083", "nothing known about memory", space(pat("session:*")), False),
]

CASES: list[RuleCase] = [*MONGO_CASES, *(k.case for k in REDIS_CASES)]


def run_keyspace_case(case: KeyspaceCase) -> list[Finding]:
    [rule] = [r for r in load_rules() if r.SPEC.id == case.case.rule_id]
    ctx = SchemaContext(
        catalog=Catalog(engine="redis", database="db0", keyspace=case.keyspace),
        engine="redis",
        live=True,
        settings=case.settings,
    )
    return list(rule.check(ctx))


def assert_keyspace_case(case: KeyspaceCase) -> None:
    """The same checks as `assert_case`, on a catalog that carries the keyspace."""
    rule_case = case.case
    findings = run_keyspace_case(case)
    if not rule_case.fires:
        assert findings == [], f"{rule_case.title}: expected nothing, got {[f.subject for f in findings]}"
        return
    assert findings, f"{rule_case.rule_id} {rule_case.title}: expected a finding"
    if rule_case.subjects:
        assert sorted(f.subject for f in findings) == sorted(rule_case.subjects), [f.subject for f in findings]
    for key, value in rule_case.evidence.items():
        assert findings[0].evidence.get(key) == value, (key, findings[0].evidence)
    for finding in findings:
        assert finding.rule_id == rule_case.rule_id and finding.rationale and finding.help and finding.title


@pytest.mark.parametrize("case", MONGO_CASES, ids=lambda c: f"{c.rule_id}-{c.title}")
def test_rule_case(case: RuleCase) -> None:
    assert_case(case)


@pytest.mark.parametrize("case", REDIS_CASES, ids=lambda c: f"{c.case.rule_id}-{c.case.title}")
def test_keyspace_case(case: KeyspaceCase) -> None:
    assert_keyspace_case(case)


def test_every_rule_of_the_group_has_cases() -> None:
    ids = {r.SPEC.id for r in load_rules() if r.SPEC.id.startswith(("SCH07", "SCH08"))}
    assert ids == set(MONGO_RULES + REDIS_RULES)
    assert {c.rule_id for c in CASES} == ids


# ---------------------------------------------------------------------------------- details


def run(rule_id: str, *tables: Table, live: bool = False, database: str | None = None) -> list[Finding]:
    [rule] = [r for r in load_rules() if r.SPEC.id == rule_id]
    catalog = Catalog(engine="mongodb", database=database, tables=list(tables))
    return list(rule.check(SchemaContext(catalog=catalog, engine="mongodb", live=live)))


def keyspace_run(rule_id: str, keyspace: Keyspace, settings: dict[str, str] | None = None) -> list[Finding]:
    return run_keyspace_case(KeyspaceCase(RuleCase(rule_id, "detail", (), True), keyspace, settings or {}))


def test_mixed_types_fix_converts_the_minority_and_grades_numbers_lower() -> None:
    orders = coll(
        "orders",
        [fld("total", {"double": 60, "string": 30, "int": 10}), fld("qty", {"int": 70, "double": 30})],
        schema="shop",
    )
    by_subject = {f.subject: f for f in run("SCH070", orders, database="shop")}
    assert set(by_subject) == {"orders.total", "orders.qty"}  # shop is the connection's database
    total = by_subject["orders.total"]
    assert total.severity is Severity.MEDIUM and by_subject["orders.qty"].severity is Severity.LOW
    assert total.evidence["types"] == "double:60, string:30, int:10"
    assert total.fix is not None and total.fix.safety == "unsafe"
    assert total.fix.statements == [
        'db.orders.updateMany({"total": {$type: ["string", "int"]}}, '
        '[{$set: {"total": {$convert: {input: "$total", to: "double", onError: "$total"}}}}])'
    ]


def test_mixed_types_without_a_conversion_have_no_fix() -> None:
    [finding] = run("SCH070", coll("profiles", [fld("address", {"object": 80, "string": 20})]))
    assert finding.fix is None


def test_unbounded_array_severity_and_fix() -> None:
    long = coll("posts", [fld("comments", {"array": 100}, lengths=(0, 5_000, 800.0))])
    growing = coll("order-log", [fld("events", {"array": 100}, lengths=(1, 400, 20.0))])
    [high] = run("SCH071", long)
    [medium] = run("SCH071", growing)
    assert high.severity is Severity.HIGH and medium.severity is Severity.MEDIUM
    assert high.fix is not None and high.fix.statements == [
        'db.posts.aggregate([{$unwind: "$comments"}, {$project: {_id: 0, parent_id: "$_id", item: "$comments"}}, '
        '{$merge: {into: "posts_comments"}}])',
        "db.posts_comments.createIndex({parent_id: 1})",
    ]
    assert medium.fix is not None
    assert medium.fix.statements[0].startswith('db.getCollection("order-log").aggregate(')
    assert medium.fix.statements[1] == 'db.getCollection("order-log_events").createIndex({parent_id: 1})'


def test_document_size_critical_near_the_limit() -> None:
    [finding] = run("SCH072", coll("blobs", stats={"max_bson_size": 15 * MiB}))
    assert finding.severity is Severity.CRITICAL and finding.evidence["max_pct_of_limit"] == 93.8


def test_generated_validator_is_deterministic_and_follows_the_sample() -> None:
    columns = [
        fld("total", {"decimal": 100}),
        fld("_id", {"objectId": 100}),
        fld("note", {"string": 30, "null": 10}, 40.0),
        fld("address", {"object": 90, "null": 10}),
        fld("address.city", {"string": 90}, 90.0),
        fld("address.zip", {"string": 50, "int": 10}, 60.0),
        fld("tags", {"array": 100}, lengths=(0, 4, 2.0)),
        fld("tags[]", {"string": 100}, 100.0),
        fld("items", {"array": 100}, lengths=(1, 3, 1.5)),
        fld("items[].sku", {"string": 100}),
        fld("ref", {"dbRef": 5}, 5.0),
    ]
    [finding] = run("SCH073", coll("orders", columns))
    assert finding.fix is not None and finding.fix.safety == "safe"
    [statement] = finding.fix.statements
    prefix = 'db.runCommand({collMod: "orders", validator: {$jsonSchema: '
    suffix = '}, validationLevel: "moderate", validationAction: "warn"})'
    assert statement.startswith(prefix) and statement.endswith(suffix)
    schema = json.loads(statement[len(prefix) : -len(suffix)])
    assert schema == {
        "bsonType": "object",
        "required": ["_id", "address", "items", "tags", "total"],
        "properties": {
            "_id": {"bsonType": "objectId"},
            "address": {
                "bsonType": ["object", "null"],
                "required": ["city"],
                "properties": {"city": {"bsonType": "string"}, "zip": {"bsonType": ["string", "number"]}},
            },
            "items": {
                "bsonType": "array",
                "items": {"properties": {"sku": {"bsonType": "string"}}},
            },
            "note": {"bsonType": ["string", "null"]},
            "ref": {"bsonType": "object"},
            "tags": {"bsonType": "array", "items": {"bsonType": "string"}},
            "total": {"bsonType": "decimal"},
        },
    }
    assert list(schema["properties"]) == ["_id", "address", "items", "note", "ref", "tags", "total"]
    again = run("SCH073", coll("orders", list(reversed(columns))))
    assert again[0].fix == finding.fix  # same sample in another order, same statement


def test_validator_in_another_database_uses_a_sibling_handle() -> None:
    [finding] = run("SCH073", coll("orders", schema="archive"), database="shop")
    assert finding.subject == "archive.orders"
    assert finding.fix is not None and finding.fix.statements[0].startswith('db.getSiblingDB("archive").runCommand(')


def test_too_many_indexes_drops_only_unused_plain_indexes_when_live() -> None:
    indexes = [idx(f"f{i}_1", f"f{i}", scans=0) for i in range(8)]
    indexes += [idx("email_1", "email", unique=True, scans=0), idx("seen_1", "seen", ttl_seconds=60, scans=0)]
    table = coll("events", indexes=indexes)
    [live] = run("SCH074", table, live=True)
    assert live.fix is not None and len(live.fix.statements) == 8
    assert live.fix.statements[0] == 'db.events.dropIndex("f0_1")'
    [offline] = run("SCH074", table)
    assert offline.fix is None and offline.evidence["unused_indexes"] is None


def test_prefix_index_fix_hides_then_drops() -> None:
    table = coll("orders", indexes=[idx("a_1", "a"), idx("a_1_b_1", "a", "b")])
    [finding] = run("SCH075", table)
    assert finding.fix is not None
    assert finding.fix.statements == ['db.orders.hideIndex("a_1")', 'db.orders.dropIndex("a_1")']


def test_prefix_index_ignores_a_hidden_longer_index() -> None:
    table = coll("orders", indexes=[idx("a_1", "a"), idx("a_1_b_1", "a", "b")], stats={"hidden_indexes": ["a_1_b_1"]})
    assert run("SCH075", table) == []


def test_cache_keys_fix_and_lock_severity() -> None:
    findings = keyspace_run("SCH080", space(pat("lock:job:*"), pat("sess:[v2]:*")))
    by_subject = {f.subject: f for f in findings}
    lock, session = by_subject["lock:job:*"], by_subject["sess:[v2]:*"]
    assert lock.severity is Severity.HIGH and session.severity is Severity.MEDIUM
    assert lock.fix is not None and session.fix is not None
    assert lock.fix.statements == [
        'redis-cli --scan --pattern lock:job:* | awk \'{print "EXPIRE", $0, 30, "NX"}\' | redis-cli'
    ]
    assert session.fix.statements[0].startswith("redis-cli --scan --pattern 'sess:\\[v2\\]:*' | ")


def test_big_key_fix_unlinks() -> None:
    [finding] = keyspace_run("SCH081", space(big=(BigKey(key="big list", type="list", memory_bytes=2 * MiB),)))
    assert finding.fix is not None and finding.fix.statements[0] == "redis-cli UNLINK 'big list'"
    assert "LRANGE" in finding.help


def test_tiny_keys_suggest_a_bucket_hash() -> None:
    [finding] = keyspace_run("SCH082", space(pat("user:*:last_seen", keys=400, avg=56.0, ttl=20.0)))
    assert finding.fix is not None
    assert finding.fix.statements[1] == "HSET user:{id/100}:last_seen {id} <value>"
    assert finding.fix.note is not None and "HEXPIRE" in finding.fix.note


def test_eviction_settings_win_over_info_and_fix_sizes_from_ram() -> None:
    keyspace = space(pat("session:*"), pat("user:*"), memory=UNLIMITED)
    [unlimited] = keyspace_run("SCH083", keyspace)
    assert unlimited.fix is not None and unlimited.fix.statements == [
        "redis-cli CONFIG SET maxmemory 6144mb",
        "redis-cli CONFIG SET maxmemory-policy volatile-lru",
        "redis-cli CONFIG REWRITE",
    ]
    [policy] = keyspace_run("SCH083", keyspace, {"maxmemory": "1gb", "maxmemory-policy": "noeviction"})
    assert policy.subject == "maxmemory-policy" and policy.severity is Severity.HIGH
    assert policy.evidence["maxmemory"] == 1024 * MiB


def test_volatile_policy_partly_expiring_is_medium_and_all_cache_suggests_allkeys() -> None:
    keyspace = space(
        pat("cache:*", ttl=30.0), memory={"maxmemory": MiB, "maxmemory_policy": "volatile-lfu"}, expires=30_000
    )
    [finding] = keyspace_run("SCH083", keyspace)
    assert finding.severity is Severity.MEDIUM and finding.evidence["ttl_share_pct"] == 30.0
    assert finding.fix is not None and finding.fix.statements[0] == "redis-cli CONFIG SET maxmemory-policy allkeys-lfu"


def test_group_runs_only_on_its_engine_and_is_deterministic() -> None:
    tables = [case.tables for case in MONGO_CASES if case.fires]
    catalog = Catalog(engine="mongodb", tables=[t for group in tables for t in group])
    before = catalog.model_dump_json()
    first = review(SchemaContext(catalog=catalog, engine="mongodb", live=True), min_severity=Severity.INFO)
    second = review(SchemaContext(catalog=catalog, engine="mongodb", live=True), min_severity=Severity.INFO)
    assert first.model_dump_json() == second.model_dump_json()
    assert catalog.model_dump_json() == before
    assert {f.rule_id for f in first.findings} >= set(MONGO_RULES)
    on_postgres = review(SchemaContext(catalog=catalog, engine="postgresql"), min_severity=Severity.INFO)
    assert not {f.rule_id for f in on_postgres.findings} & set(MONGO_RULES + REDIS_RULES)
    redis_catalog = Catalog(engine="redis", keyspace=REDIS_CASES[0].keyspace)
    on_redis = review(SchemaContext(catalog=redis_catalog, engine="redis", live=True), min_severity=Severity.INFO)
    assert {f.rule_id for f in on_redis.findings} <= set(REDIS_RULES) and on_redis.findings


_names = st.text(st.sampled_from("ab._$[]:*-' \"\\"), min_size=1, max_size=8)
_types = st.dictionaries(
    st.sampled_from(["int", "long", "double", "string", "null", "array", "object", "dbRef", "x"]),
    st.integers(0, 50),
    max_size=4,
)


@settings(max_examples=150, deadline=None)
@given(
    fields=st.lists(
        st.tuples(_names, _types, st.none() | st.tuples(st.integers(0, 9), st.integers(0, 5_000))), max_size=6
    ),
    index_keys=st.lists(
        st.lists(st.sampled_from(["a", "a DESC", "b", "b DESC", "c text"]), min_size=1, max_size=3), max_size=12
    ),
    size=st.integers(0, 20 * MiB),
)
def test_document_rules_never_raise(
    fields: list[tuple[str, dict[str, int], tuple[int, int] | None]], index_keys: list[list[str]], size: int
) -> None:
    columns = [
        Column(
            name=name,
            data_type="string",
            sample=FieldSample(
                presence_pct=100.0,
                type_counts=types,
                array_length_min=lengths[0] if lengths else None,
                array_length_max=lengths[1] if lengths else None,
                array_length_avg=float(lengths[0]) if lengths else None,
            ),
        )
        for name, types, lengths in fields
    ]
    indexes = [idx(f"i{n}", *keys) for n, keys in enumerate(index_keys)]
    table = coll("c-1", columns, indexes=indexes, stats={"max_bson_size": size}, schema="other")
    for rule_id in MONGO_RULES:
        for finding in run(rule_id, table, live=True, database="db"):
            assert finding.rule_id == rule_id and finding.subject


@settings(max_examples=150, deadline=None)
@given(
    patterns=st.lists(
        st.tuples(_names, st.sampled_from(["string", "hash"]), st.integers(1, 500), st.floats(0, 100)), max_size=6
    ),
    maxmemory=st.none() | st.sampled_from(["0", "1gb", "12345", "junk", ""]),
    policy=st.none() | st.sampled_from(["noeviction", "volatile-lru", "allkeys-lfu", "volatile-ttl"]),
)
def test_key_rules_never_raise(
    patterns: list[tuple[str, str, int, float]], maxmemory: str | None, policy: str | None
) -> None:
    keyspace = Keyspace(
        sampled_keys=sum(p[2] for p in patterns),
        patterns=[pat(name, kind, keys, ttl, avg=float(keys)) for name, kind, keys, ttl in patterns],
        biggest_keys=[BigKey(key=name, type=kind, memory_bytes=keys * 10_000) for name, kind, keys, _ in patterns],
        info={"memory": {"maxmemory": maxmemory or "", "maxmemory_policy": policy or ""}},
    )
    config = {k: v for k, v in (("maxmemory", maxmemory), ("maxmemory-policy", policy)) if v is not None}
    for rule_id in REDIS_RULES:
        for finding in keyspace_run(rule_id, keyspace, config):
            assert finding.rule_id == rule_id and finding.subject
