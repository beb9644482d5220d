"""MongoDB index changes as phased steps: duplicates checked before a unique build, an index hidden and observed
before it is dropped (4.4+), TTL changes with the backlog they delete.

Since 4.2 an index build holds an exclusive (X) collection lock only at its start and end and yields to reads and
writes in between; 4.4 added hidden indexes, which stay maintained but are ignored by the query planner, so an
index can be taken out of use and put back instantly (MongoDB manual, "Index Builds on Populated Collections",
"Hidden Indexes").
"""

from __future__ import annotations

import json
from typing import Any

from dbspecialist.adapters.catalog import Index
from dbspecialist.knowledge.migrations.model import (
    DurationEstimate,
    LockClaim,
    MigrationInputError,
    MigrationStep,
    TableStats,
)
from dbspecialist.knowledge.migrations.mongodb_commands import (
    FOREGROUND_LOCK,
    HIDDEN_INDEXES_SINCE,
    INDEX_BUILD_LOCK,
    OBSERVATION_PERIOD,
    OPTIMIZED_INDEX_BUILDS_SINCE,
    READ_INTENT,
    X_LOCK_NOTE,
    Command,
    MongoPlanState,
    catalog_step,
    command_step,
    current_ttl,
    to_json,
    too_big_for_simultaneous_build,
)
from dbspecialist.knowledge.migrations.versions import version_text


def key_of(index: Index) -> dict[str, Any]:
    """The key document of a catalog index ('a', 'b DESC', 'loc 2dsphere')."""
    key: dict[str, Any] = {}
    for column in index.columns:
        name, _, kind = column.partition(" ")
        key[name] = -1 if kind == "DESC" else (kind if kind else 1)
    return key


def index_spec(index: Index) -> dict[str, Any]:
    """A createIndexes entry rebuilding a catalog index (unique, sparse, TTL and partial options)."""
    spec: dict[str, Any] = {"key": key_of(index), "name": index.name}
    if index.unique:
        spec["unique"] = True
    if index.sparse:
        spec["sparse"] = True
    if index.ttl_seconds is not None:
        spec["expireAfterSeconds"] = index.ttl_seconds
    if index.predicate:
        spec["partialFilterExpression"] = json.loads(index.predicate)
    return spec


def plan_create_indexes(state: MongoPlanState, command: Command) -> None:
    """Duplicates checks for unique indexes, then one build of every listed index."""
    collection = str(command["createIndexes"])
    indexes = [i for i in command.get("indexes") or [] if isinstance(i, dict)]
    if not indexes:
        raise MigrationInputError("createIndexes needs an `indexes` list of {key, name} documents")
    stats = state.stats(collection)
    for spec in indexes:
        if spec.get("unique"):
            state.steps.append(duplicates_step(state, collection, spec, stats))
    optimized = state.version >= OPTIMIZED_INDEX_BUILDS_SINCE
    built = dict(command)
    if not optimized:
        built["indexes"] = [{**spec, "background": True} for spec in indexes]
    notes = [
        "Builds every listed index in one scan of the collection.",
        "On a replica set (4.4+) all data-bearing members build at once and the index is committed when the "
        "commit quorum (default: all voting members) has finished.",
    ]
    if optimized:
        notes.append(X_LOCK_NOTE)
    else:
        notes.append("Before 4.2 a foreground build locks the whole database: `background: true` was added.")
    if too_big_for_simultaneous_build(stats):
        notes.append(
            "Large collection (≥ 10 GiB or 50 M documents, our threshold): on a replica set prefer the rolling "
            "index build, one member at a time (MongoDB manual, 'Rolling Index Builds on Replica Sets')."
        )
    names = [str(spec.get("name")) for spec in indexes]
    lock = LockClaim(
        mode=INDEX_BUILD_LOCK if optimized else FOREGROUND_LOCK,
        tables=[collection],
        blocks="nothing",
        held="X for milliseconds at the start and the end; the scan in between yields to reads and writes",
    )
    state.steps.append(
        command_step(
            "expand",
            f"Build index{'es' if len(names) > 1 else ''} {', '.join(names)} on {collection}",
            collection,
            [built],
            lock=lock,
            effect="build",
            stats=stats,
            rollback=[{"dropIndexes": collection, "index": names if len(names) > 1 else names[0]}],
            notes=notes,
        )
    )


def duplicates_step(
    state: MongoPlanState, collection: str, spec: dict[str, Any], stats: TableStats | None
) -> MigrationStep:
    """An aggregation finding key values held by more than one document (must return none)."""
    key = spec.get("key") or {}
    pipeline: list[dict[str, Any]] = []
    if "partialFilterExpression" in spec:
        pipeline.append({"$match": spec["partialFilterExpression"]})
    elif spec.get("sparse"):
        pipeline.append({"$match": {field: {"$exists": True} for field in key}})
    pipeline += [
        {"$group": {"_id": {f.replace(".", "_"): f"${f}" for f in key}, "count": {"$sum": 1}}},
        {"$match": {"count": {"$gt": 1}}},
        {"$limit": 10},
    ]
    command = {"aggregate": collection, "pipeline": pipeline, "cursor": {}, "allowDiskUse": True}
    return command_step(
        "expand",
        f"Find duplicates that would stop unique index {spec.get('name')} on {collection} (must return none)",
        collection,
        [command],
        lock=LockClaim(mode=READ_INTENT, tables=[collection], blocks="nothing", held="the aggregation"),
        effect="scan",
        stats=stats,
        kind="check",
        notes=["Documents without the key group as null, as the unique index sees them."],
    )


def plan_drop_indexes(state: MongoPlanState, command: Command) -> None:
    """Each listed index: usage check, hide and observe (4.4+), then drop."""
    collection = str(command["dropIndexes"])
    raw = command.get("index")
    requested = raw if isinstance(raw, list) else [raw]
    for item in requested:
        name = index_name(state, collection, item)
        if name == "_id_":
            raise MigrationInputError(f"the _id index of {collection} cannot be dropped")
        drop_index(state, collection, name)


def index_name(state: MongoPlanState, collection: str, item: Any) -> str:
    """The index name for a name or key pattern (from the catalog, else MongoDB's default name)."""
    if isinstance(item, str):
        return item
    table = state.table(collection)
    if isinstance(item, dict) and table is not None:
        for index in table.indexes:
            if key_of(index) == item:
                return index.name
    if isinstance(item, dict):
        return "_".join(f"{k}_{v}" for k, v in item.items())  # MongoDB's default name for the key pattern
    raise MigrationInputError("dropIndexes needs `index`: a name, a key pattern, a list of names, or '*'")


def usage_step(state: MongoPlanState, collection: str, name: str, usage: Command) -> None:
    """A prepare check of the index's $indexStats accesses."""
    state.steps.append(
        command_step(
            "prepare",
            f"Check how often index {name} on {collection} is used ($indexStats accesses since the last restart)",
            collection,
            [usage],
            lock=LockClaim(mode=READ_INTENT, tables=[collection], blocks="nothing", held="milliseconds"),
            effect="none",
            stats=None,
            kind="check",
            notes=["Counters reset at restart and are per member: run it on every member that serves reads."],
        )
    )


def drop_index(state: MongoPlanState, collection: str, name: str, *, trial: bool = True) -> None:
    """Drop index `name`; with `trial`, hide it and observe first (4.4+) after checking its usage."""
    stats = state.stats(collection)
    table = state.table(collection)
    existing = next((i for i in table.indexes if i.name == name), None) if table else None
    recreate: list[Command] | list[str] = (
        [{"createIndexes": collection, "indexes": [index_spec(existing)]}]
        if existing is not None
        else [f"-- rebuild index {name} from its definition (not in the catalog given)"]
    )
    usage = {"aggregate": collection, "pipeline": [{"$indexStats": {}}, {"$match": {"name": name}}], "cursor": {}}
    if trial:
        usage_step(state, collection, name, usage)
    drop = {"dropIndexes": collection, "index": name}
    extra = []
    if existing is not None:
        extra.append(
            "The rollback rebuilds the key with the unique, sparse, TTL and partial options the catalog knows; "
            "add any other option (collation, text weights) by hand."
        )
    if existing is not None and existing.unique:
        extra.append("It is a unique index: hidden, it still rejects duplicates; dropped, it no longer does.")
    if existing is not None and existing.ttl_seconds is not None:
        extra.append("It is a TTL index: hidden, it still expires documents; dropped, expiry stops.")
    if trial and state.version >= HIDDEN_INDEXES_SINCE:
        hide = {"collMod": collection, "index": {"name": name, "hidden": True}}
        unhide = {"collMod": collection, "index": {"name": name, "hidden": False}}
        state.steps.append(
            catalog_step(
                "expand",
                f"Hide index {name} on {collection} from the query planner (still maintained)",
                collection,
                [hide],
                stats=stats,
                rollback=[unhide],
                notes=["Unhiding is instant: the index is kept up to date while hidden.", *extra],
            )
        )
        state.steps.append(
            command_step(
                "validate",
                f"Observe the workload with {name} hidden for {OBSERVATION_PERIOD}; unhide it if queries slow down",
                collection,
                [],
                lock=None,
                effect="none",
                stats=None,
                kind="check",
                duration=DurationEstimate(seconds=None, basis=f"an observation period: {OBSERVATION_PERIOD}"),
                notes=["Watch the slow query log / profiler and latency for queries on the collection."],
            )
        )
    elif trial:
        state.notes.append(
            f"Hidden indexes need MongoDB 4.4: on {version_text(state.version, 'mongodb')} "
            f"{name} is dropped without a trial period."
        )
    state.steps.append(
        catalog_step(
            "contract",
            f"Drop index {name} on {collection}",
            collection,
            [drop],
            stats=stats,
            rollback=recreate,
            reversible=existing is not None,
            notes=["Undoing it means building the index again (as long as the first build).", *extra],
        )
    )


def index_mod(state: MongoPlanState, collection: str, index: dict[str, Any]) -> None:
    """collMod of an index: hide / unhide, or change a TTL (with the backlog it deletes)."""
    name = index.get("name") or index_name(state, collection, index.get("keyPattern"))
    target = {"name": name} if "name" in index else {"keyPattern": index.get("keyPattern")}
    if "hidden" in index:
        if state.version < HIDDEN_INDEXES_SINCE:
            raise MigrationInputError("hidden indexes need MongoDB 4.4 (give the server version if it is newer)")
        hidden = bool(index["hidden"])
        state.steps.append(
            catalog_step(
                "expand",
                f"{'Hide' if hidden else 'Unhide'} index {name} on {collection}",
                collection,
                [{"collMod": collection, "index": {**target, "hidden": hidden}}],
                rollback=[{"collMod": collection, "index": {**target, "hidden": not hidden}}],
                notes=["The index is maintained while hidden; only the query planner ignores it."],
            )
        )
    if "expireAfterSeconds" in index:
        seconds = index["expireAfterSeconds"]
        current = current_ttl(state.ctx, collection, str(name))
        rollback: list[Command] | list[str] = (
            [{"collMod": collection, "index": {**target, "expireAfterSeconds": current}}]
            if current is not None
            else ["-- set expireAfterSeconds back to its previous value (not in the catalog given)"]
        )
        cutoff = {"$lt": f"<now minus {seconds} s>"}
        state.steps.append(
            catalog_step(
                "expand",
                f"Set the TTL of index {name} on {collection} to {seconds} s",
                collection,
                [{"collMod": collection, "index": {**target, "expireAfterSeconds": seconds}}],
                rollback=rollback,
                reversible=current is not None,
                notes=[
                    "Documents already past the new limit are deleted by the next TTL passes (every 60 s): "
                    f"count them first with a filter on the indexed date field such as {to_json(cutoff)}.",
                ],
            )
        )
