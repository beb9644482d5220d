"""MongoDB document migrations: backfills in `_id` batches, and a field rename as expand / contract.

Document writes take intent locks and block nobody, but a single updateMany loads the server and its replicas for
its whole run and cannot be resumed. So a multi-document update runs in `_id` ranges with an idempotent filter,
throttled, waiting for majority acknowledgement; a `$rename` becomes copy, deploy, catch up, deploy, `$unset`.
"""

from __future__ import annotations

from typing import Any

from dbspecialist.knowledge.migrations.estimate import DEFAULT_BATCH_ROWS, backfill_estimate
from dbspecialist.knowledge.migrations.model import DurationEstimate, LockClaim, MigrationInputError, Phase
from dbspecialist.knowledge.migrations.mongodb_backfill import backfill_script
from dbspecialist.knowledge.migrations.mongodb_collections import dump_step
from dbspecialist.knowledge.migrations.mongodb_commands import (
    MIGRATION_MARK_FIELD,
    MIGRATION_MARK_VALUE,
    PIPELINE_UPDATES_SINCE,
    WRITE_INTENT,
    Command,
    MongoPlanState,
    and_filters,
    command_step,
    deploy_step,
    marked_update,
    non_idempotent_operators,
    to_json,
)
from dbspecialist.knowledge.migrations.mongodb_indexes import drop_index, index_spec, plan_create_indexes


def plan_update(state: MongoPlanState, command: Command) -> None:
    """Each update entry: a $rename as expand / contract, a multi update as a backfill, others as one step."""
    collection = str(command["update"])
    updates = command.get("updates")
    if not isinstance(updates, list) or not updates:
        raise MigrationInputError("update needs `updates`: a list of {q, u, multi} documents")
    for update in updates:
        if not isinstance(update, dict) or "u" not in update:
            raise MigrationInputError("every entry of `updates` needs `u` (and `q`)")
        renames = update["u"].get("$rename") if isinstance(update["u"], dict) else None
        if update.get("multi") and renames:
            others = {k: v for k, v in update["u"].items() if k != "$rename"}
            if others:
                raise MigrationInputError("plan $rename on its own update: it is migrated by expand/contract")
            for old, new in renames.items():
                rename_field(state, collection, update.get("q") or {}, str(old), str(new))
        elif update.get("multi") and not update.get("upsert"):
            backfill(state, collection, update)
        else:
            single_update(state, collection, update)


def single_update(state: MongoPlanState, collection: str, update: dict[str, Any]) -> None:
    """An update of one document (or an upsert) as one step."""
    state.steps.append(
        command_step(
            "backfill",
            f"Update {'documents' if update.get('multi') else 'one document'} of {collection}",
            collection,
            [{"update": collection, "updates": [update]}],
            lock=LockClaim(mode=WRITE_INTENT, tables=[collection], blocks="nothing", held="the write"),
            effect="rows",
            stats=None,
            duration=DurationEstimate(seconds=0.01, basis="one document write"),
            rollback=["-- no automatic undo for a document change"],
            reversible=False,
        )
    )


def backfill(state: MongoPlanState, collection: str, update: dict[str, Any]) -> None:
    """A multi-document update as _id batches with an idempotency guard when one can be derived."""
    query = update.get("q") or {}
    change = update["u"]
    guard = idempotent_guard(change)
    if guard is None and non_idempotent_operators(change):
        change, guard = marked_update(change)  # $inc & co.: mark each changed document and skip marked ones
        state.notes.append(
            f"The backfill of {collection} sets {MIGRATION_MARK_FIELD}: {MIGRATION_MARK_VALUE} on each document it "
            f"changes and skips documents that have it, so {', '.join(non_idempotent_operators(update['u']))} "
            f"applies once per document even when a batch is retried ({MIGRATION_MARK_VALUE} stands for the "
            "version this migration produces)."
        )
    batch_filter = and_filters(query, guard)
    title = f"Backfill {collection} in _id batches of {DEFAULT_BATCH_ROWS:,}: {to_json(change)}"
    batched_step(
        state, "backfill", title, collection, batch_filter, change, update, reversible=False, guarded=guard is not None
    )
    state.notes.append(
        f"Lazy alternative for {collection}: the application reads both shapes (missing field → default) and "
        "writes the new one with a schema_version field; the batches then only convert the rest."
    )


def batched_step(
    state: MongoPlanState,
    phase: Phase,
    title: str,
    collection: str,
    batch_filter: dict[str, Any],
    change: Any,
    update: dict[str, Any],
    *,
    reversible: bool,
    guarded: bool = True,
    rollback: list[str] | None = None,
) -> None:
    """A script step running `change` in _id batches of DEFAULT_BATCH_ROWS, and the script itself."""
    stats = state.stats(collection)
    window = and_filters(batch_filter, {"_id": {"$gt": "<last _id>"}})
    ids = {
        "find": collection,
        "filter": window,
        "projection": {"_id": 1},
        "sort": {"_id": 1},
        "limit": DEFAULT_BATCH_ROWS,
    }
    ranged = and_filters(batch_filter, {"_id": {"$gte": "<first _id of the batch>", "$lte": "<last _id of the batch>"}})
    entry = {"q": ranged, "u": change, "multi": True}
    for option in ("arrayFilters", "collation", "hint"):
        if option in update:
            entry[option] = update[option]
    write = {"update": collection, "updates": [entry], "writeConcern": {"w": "majority"}}
    script = backfill_script(collection, batch_filter, change, update)
    state.scripts.append(script)
    guard_note = (
        "The filter skips documents already changed, so a repeated or resumed run changes nothing twice."
        if guarded
        else "This update has no automatic idempotency guard: make its filter skip documents already changed."
    )
    step = command_step(
        phase,
        title,
        collection,
        [ids, write],
        lock=LockClaim(
            mode=WRITE_INTENT,
            tables=[collection],
            blocks="nothing",
            held=f"per batch of {DEFAULT_BATCH_ROWS:,} documents",
        ),
        effect="rows",
        stats=stats,
        duration=backfill_estimate(stats),
        rollback=rollback or ["-- no automatic undo for document changes (mongodump the collection first if needed)"],
        reversible=reversible,
        kind="script",
        notes=[
            "The two commands are one batch: take the _ids of the next batch, update that _id range; the "
            "backfill script loops them with a pause, waits for majority acknowledgement (so replicas keep up) "
            "and prints the last _id: pass it back to resume.",
            guard_note,
            "Assumes one _id type in the collection (range filters do not cross BSON types).",
        ],
    )
    state.steps.append(step.model_copy(update={"command": script}))


def rename_field(state: MongoPlanState, collection: str, query: dict[str, Any], old: str, new: str) -> None:
    """Copy old into new in batches, deploy readers of both, catch up, deploy, then $unset old."""
    copy_filter = and_filters(query, {old: {"$exists": True}}, {new: {"$exists": False}})
    if state.version >= PIPELINE_UPDATES_SINCE:
        copy: Any = [{"$set": {new: f"${old}"}}]
    else:
        copy = {"$set": {new: f"<value of {old}>"}}  # placeholder: below 4.2 the script copies per document
    table = state.table(collection)
    for index in table.indexes if table else []:
        if any(c.partition(" ")[0] == old for c in index.columns):
            spec = index_spec(index)
            spec["key"] = {new if k == old else k: v for k, v in spec["key"].items()}
            spec["name"] = index.name.replace(old, new) if old in index.name else f"{index.name}_{new}"
            plan_create_indexes(state, {"createIndexes": collection, "indexes": [spec]})
    batched_step(
        state,
        "backfill",
        f"Copy {collection}.{old} into {new} in _id batches of {DEFAULT_BATCH_ROWS:,}",
        collection,
        copy_filter,
        copy,
        {},
        reversible=True,
        rollback=[
            to_json(
                {
                    "update": collection,
                    "updates": [{"q": {new: {"$exists": True}}, "u": {"$unset": {new: ""}}, "multi": True}],
                }
            )
        ],
    )
    state.steps.append(
        deploy_step(
            f"Deploy the application version that reads {collection}.{new} (falling back to {old} when missing) "
            f"and writes both {new} and {old}",
            "switch",
        )
    )
    batched_step(
        state,
        "contract",
        f"Catch up: copy {collection}.{old} into {new} for documents written before the deploy",
        collection,
        copy_filter,
        copy,
        {},
        reversible=True,
    )
    state.steps.append(
        deploy_step(f"Deploy the application version that reads and writes only {collection}.{new}", "contract")
    )
    dump_step(state, collection)
    unset_filter = and_filters({old: {"$exists": True}}, {new: {"$exists": True}})
    batched_step(
        state,
        "contract",
        f"Remove {collection}.{old} in _id batches of {DEFAULT_BATCH_ROWS:,} ($unset)",
        collection,
        unset_filter,
        {"$unset": {old: ""}},
        {},
        reversible=False,
        rollback=[f"-- restore {old} from the dump taken in the prepare step"],
    )
    for index in table.indexes if table else []:
        if any(c.partition(" ")[0] == old for c in index.columns) and index.name != "_id_":
            drop_index(state, collection, index.name, trial=False)  # nothing reads the old field any more


def idempotent_guard(change: Any) -> dict[str, Any] | None:
    """A filter matching only documents the update would still change ($set of constants, $unset)."""
    if not isinstance(change, dict):
        return None
    if any(op not in ("$set", "$unset") for op in change):
        return None
    conditions: list[dict[str, Any]] = []
    for field_name, value in (change.get("$set") or {}).items():
        if isinstance(value, str) and value.startswith("$"):
            return None
        conditions.append({field_name: {"$ne": value}})
    conditions += [{field_name: {"$exists": True}} for field_name in change.get("$unset") or {}]
    if not conditions:
        return None
    return conditions[0] if len(conditions) == 1 else {"$or": conditions}
