"""MongoDB migration findings (MIG180 to MIG199): risks of a command as given, reported next to the phased plan."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Literal

from dbspecialist.knowledge.findings import Finding, Fix, FixAvailability, RuleSpec, Severity
from dbspecialist.knowledge.migrations.context import PlanContext
from dbspecialist.knowledge.migrations.estimate import DEFAULT_BATCH_ROWS
from dbspecialist.knowledge.migrations.mongodb_commands import (
    HIDDEN_INDEXES_SINCE,
    NON_IDEMPOTENT_OPERATORS,
    ROLLING_BUILD_BYTES,
    Command,
    and_filters,
    collection_of,
    current_ttl,
    documents_in,
    marked_update,
    multi_updates,
    to_json,
    too_big_for_simultaneous_build,
)
from dbspecialist.knowledge.migrations.versions import version_text

Check = Callable[[Command, PlanContext], Iterator[Finding]]


def _finding(
    spec: RuleSpec,
    command: Command,
    *,
    title: str,
    evidence: dict[str, int | float | str | bool | None],
    rationale: str,
    help: str,
    fix: Fix | None = None,
    subject: str | None = None,
    kind: Literal["collection", "index"] = "collection",
) -> Finding:
    collection = collection_of(command)
    return Finding(
        rule_id=spec.id,
        name=spec.name,
        severity=spec.severity,
        title=title,
        subject=subject or collection,
        table=collection,
        subject_kind=kind,
        evidence=evidence,
        rationale=rationale,
        help=help,
        fix=fix,
    )


def _spec(id_: str, name: str, severity: Severity, summary: str, fix: FixAvailability = "sometimes") -> RuleSpec:
    return RuleSpec(
        id=id_,
        name=name,
        capability="migrations",
        engines=("mongodb",),
        severity=severity,
        fix=fix,
        summary=summary,
    )


NON_IDEMPOTENT = _spec(
    "MIG180",
    "mongodb-non-idempotent-backfill",
    Severity.HIGH,
    "A multi-document update whose operators change a document again each time it runs ($inc, $push, ...).",
)


def check_non_idempotent(command: Command, ctx: PlanContext) -> Iterator[Finding]:
    """A backfill that is not idempotent double-applies when a batch is retried or the job resumed.

    ## Why is this bad?
    Large updates are run in batches and retried after timeouts, failovers and restarts. With `$inc`, `$mul`,
    `$push`, `$pop`, `$bit` or `$currentDate`, every document a retried batch touches again changes again.

    ## Use instead
    Mark migrated documents and filter on the mark: add `schema_version: 2` in the same `$set` and
    `{schema_version: {$ne: 2}}` to the filter, so a document is changed exactly once.
    """
    for update in multi_updates(command):
        operators = (
            sorted(k for k in (update.get("u") or {}) if k in NON_IDEMPOTENT_OPERATORS)
            if isinstance(update.get("u"), dict)
            else []
        )
        if not operators:
            continue
        marked, guard = marked_update(update["u"])
        yield _finding(
            NON_IDEMPOTENT,
            command,
            title=f"updateMany with {', '.join(operators)} changes documents again when a batch is retried",
            evidence={"operators": ", ".join(operators)},
            rationale=(
                "Batched backfills are retried and resumed; a non-idempotent operator applies twice to the "
                "documents of a repeated batch."
            ),
            help="Set a schema_version mark in the same update and filter out documents that have it.",
            fix=Fix(
                title="Mark migrated documents and skip them",
                statements=[
                    to_json(
                        {
                            "update": collection_of(command),
                            "updates": [
                                {
                                    "q": and_filters(update.get("q") or {}, guard),
                                    "u": marked,
                                    "multi": True,
                                }
                            ],
                        }
                    )
                ],
                safety="display-only",
                note="2 stands for the version this migration produces.",
            ),
        )


DROP_WITHOUT_HIDING = _spec(
    "MIG181",
    "mongodb-drop-index-without-hiding",
    Severity.MEDIUM,
    "dropIndexes on MongoDB 4.4+ without hiding the index first.",
)


def check_drop_without_hiding(command: Command, ctx: PlanContext) -> Iterator[Finding]:
    """Dropping an index that queries still use has no quick way back; hide it first.

    ## Why is this bad?
    Rebuilding a dropped index takes as long as the first build, and every query that used it scans until then.
    Since MongoDB 4.4 a hidden index is still maintained but ignored by the query planner, and unhiding it is
    instant (MongoDB manual, "Hidden Indexes").

    ## Use instead
    `collMod {index: {name, hidden: true}}`, watch the workload for a full business cycle, then drop it.
    """
    if "dropIndexes" not in command or ctx.version < HIDDEN_INDEXES_SINCE:
        return
    names = command.get("index")
    listed = names if isinstance(names, list) else [names]
    for name in listed:
        if not isinstance(name, str) or name in ("*", "_id_"):
            continue
        yield _finding(
            DROP_WITHOUT_HIDING,
            command,
            subject=f"{collection_of(command)}.{name}",
            kind="index",
            title=f"Dropping index {name} directly: queries using it scan until it is rebuilt",
            evidence={"index": name, "mongodb_version": version_text(ctx.version, "mongodb")},
            rationale="A hidden index can be put back instantly; a dropped one must be built again.",
            help="Hide the index, observe, then drop it.",
            fix=Fix(
                title=f"Hide {name} first",
                statements=[to_json({"collMod": collection_of(command), "index": {"name": name, "hidden": True}})],
            ),
        )


VALIDATOR_AT_ONCE = _spec(
    "MIG182",
    "mongodb-validator-enforced-at-once",
    Severity.HIGH,
    "A validator enforced (error) at once on a collection that already has documents.",
)


def _enforces(command: Command) -> bool:
    return command.get("validationAction", "error") == "error" and command.get("validationLevel") != "off"


def check_validator_at_once(command: Command, ctx: PlanContext) -> Iterator[Finding]:
    """A new validator enforced straight away makes writes to existing non-conforming documents fail.

    ## Why is this bad?
    `collMod` does not check the documents already stored. With `validationAction: "error"` and the default
    `validationLevel: "strict"`, every later update of a document that does not match fails with "Document
    failed validation", so the application breaks on old data nobody looked at.

    ## Use instead
    Roll out with `validationAction: "warn"` and `validationLevel: "moderate"`, count the violators with
    `{$nor: [<validator>]}`, fix them, then switch to `"error"` / `"strict"`.
    """
    if "collMod" not in command or "validator" not in command or not _enforces(command):
        return
    documents = documents_in(ctx, collection_of(command))
    if documents == 0:
        return
    yield _finding(
        VALIDATOR_AT_ONCE,
        command,
        title="The validator is enforced at once; updates to existing non-matching documents will fail",
        evidence={"documents": documents, "validationAction": command.get("validationAction", "error")},
        rationale="collMod does not check stored documents; strict + error rejects later updates of old ones.",
        help='Roll out with "warn" + "moderate", fix the violators, then enforce.',
        fix=Fix(
            title="Start in warn mode",
            statements=[
                to_json(
                    {
                        "collMod": collection_of(command),
                        "validator": command["validator"],
                        "validationLevel": "moderate",
                        "validationAction": "warn",
                    }
                )
            ],
        ),
    )


LARGE_INDEX_BUILD = _spec(
    "MIG183",
    "mongodb-large-index-build",
    Severity.MEDIUM,
    "An index build on a large collection, where a replica set should consider the rolling build.",
    fix="never",
)


def check_large_index_build(command: Command, ctx: PlanContext) -> Iterator[Finding]:
    """A large index build runs on every replica set member at once; the rolling build avoids that.

    ## Why is this bad?
    Since 4.4 a replica set builds a new index on all data-bearing members simultaneously and commits it when
    the commit quorum has finished. On a large collection that loads every member for the whole build, and
    the final exclusive lock waits for long operations.

    ## Use instead
    For a collection of 10 GiB or 50 million documents and up (our threshold), use the rolling index build
    (MongoDB manual, "Rolling Index Builds on Replica Sets"): build on one secondary at a time restarted as a
    standalone, then step the primary down and build there. The oplog window must cover one member's build.
    """
    if "createIndexes" not in command:
        return
    stats = ctx.stats_for(collection_of(command))
    if not too_big_for_simultaneous_build(stats):
        return
    assert stats is not None
    yield _finding(
        LARGE_INDEX_BUILD,
        command,
        title="Large index build: on a replica set consider the rolling build, one member at a time",
        evidence={"documents": stats.rows, "bytes": stats.bytes, "threshold_bytes": ROLLING_BUILD_BYTES},
        rationale="A simultaneous build loads every member for the whole build; a rolling build loads one at a time.",
        help="Use the rolling index build procedure if the deployment is a replica set.",
    )


RENAME_FIELD_IN_PLACE = _spec(
    "MIG184",
    "mongodb-rename-field-in-place",
    Severity.HIGH,
    "A multi-document $rename: readers of the old field see it disappear while the update runs.",
)


def check_rename_field_in_place(command: Command, ctx: PlanContext) -> Iterator[Finding]:
    """$rename across a collection breaks the application mid-way.

    ## Why is this bad?
    Documents lose the old field one by one while the update runs, so the running application finds some
    documents in each shape; a failure half-way leaves the collection mixed, and the update is one long
    operation that cannot be resumed.

    ## Use instead
    Expand and contract: copy the field in batches (`$set: {new: "$old"}`), deploy readers of the new field
    that fall back to the old one and writers of both, catch up, stop writing the old field, then `$unset` it.
    """
    for update in multi_updates(command):
        renames = update.get("u", {}).get("$rename") if isinstance(update.get("u"), dict) else None
        if not renames:
            continue
        yield _finding(
            RENAME_FIELD_IN_PLACE,
            command,
            title=f"$rename {', '.join(f'{a} → {b}' for a, b in renames.items())} changes the shape under readers",
            evidence={"fields": len(renames)},
            rationale="Readers see both shapes during the update and the old field vanishes before they are changed.",
            help="Copy, switch readers and writers, then unset the old field (the plan does this).",
        )


RENAME_COLLECTION = _spec(
    "MIG185",
    "mongodb-rename-collection",
    Severity.HIGH,
    "renameCollection: clients using the old name fail from that moment.",
)


def check_rename_collection(command: Command, ctx: PlanContext) -> Iterator[Finding]:
    """Renaming a collection breaks every client that still uses the old name.

    ## Why is this bad?
    The rename is immediate; reads of the old name return nothing and writes to it silently create a new,
    empty collection. Across databases it copies every document. With `dropTarget: true` an existing target
    collection is dropped.

    ## Use instead
    Rename, create a read-only view with the old name (`create: old, viewOn: new`) so old readers keep
    working, deploy the clients that use the new name, then drop the view.
    """
    if "renameCollection" not in command:
        return
    source, target = str(command["renameCollection"]), str(command.get("to", ""))
    across = source.split(".", 1)[0] != target.split(".", 1)[0]
    yield _finding(
        RENAME_COLLECTION,
        command,
        title=f"Renaming {source} to {target}: clients using the old name break"
        + (" and every document is copied" if across else ""),
        evidence={"across_databases": across, "drop_target": bool(command.get("dropTarget"))},
        rationale="Old-name reads return nothing and old-name writes create a new empty collection.",
        help="Keep a read-only view under the old name until every client uses the new one.",
    )


DROP_COLLECTION = _spec(
    "MIG186",
    "mongodb-drop-collection",
    Severity.HIGH,
    "drop: the collection, its documents and indexes are gone; only a backup brings them back.",
    fix="never",
)


def check_drop_collection(command: Command, ctx: PlanContext) -> Iterator[Finding]:
    """Dropping a collection cannot be undone.

    ## Why is this bad?
    The documents and every index go at once; a client still writing to the name recreates it empty.

    ## Use instead
    Dump it first (`mongodump --collection`), deploy the clients that no longer use it, then drop it.
    """
    if "drop" not in command:
        return
    yield _finding(
        DROP_COLLECTION,
        command,
        title=f"Dropping {command['drop']} deletes its documents and indexes for good",
        evidence={"documents": documents_in(ctx, str(command["drop"]))},
        rationale="There is no undo for drop; writes by old clients recreate the collection empty.",
        help="Dump it, stop every client using it, then drop.",
    )


UNIQUE_ON_EXISTING = _spec(
    "MIG187",
    "mongodb-unique-index-on-existing-data",
    Severity.MEDIUM,
    "A unique index built on a collection that may already hold duplicates.",
)


def check_unique_on_existing(command: Command, ctx: PlanContext) -> Iterator[Finding]:
    """A unique index build fails at the end if the collection has duplicates.

    ## Why is this bad?
    The build scans the whole collection and only then reports the duplicate key error, after the work and
    the load. Documents missing the key count as null, so two documents without it are duplicates too (unless
    the index is sparse or partial).

    ## Use instead
    Count the duplicates first with `$group` on the key (the plan has the aggregation), fix them, then build.
    """
    if "createIndexes" not in command or documents_in(ctx, collection_of(command)) == 0:
        return
    for spec in command.get("indexes") or []:
        if isinstance(spec, dict) and spec.get("unique"):
            yield _finding(
                UNIQUE_ON_EXISTING,
                command,
                subject=f"{collection_of(command)}.{spec.get('name')}",
                kind="index",
                title=f"Unique index {spec.get('name')} fails at the end of the build if duplicates exist",
                evidence={"index": str(spec.get("name")), "keys": to_json(spec.get("key"))},
                rationale="The duplicate check happens during the build; documents without the key collide as null.",
                help="Find and fix duplicates with the plan's $group aggregation before building.",
            )


TTL_DELETES_BACKLOG = _spec(
    "MIG188",
    "mongodb-ttl-deletes-backlog",
    Severity.MEDIUM,
    "A new or shortened TTL deletes every document already past the limit in the next TTL passes.",
)


def check_ttl_backlog(command: Command, ctx: PlanContext) -> Iterator[Finding]:
    """A TTL index that starts (or tightens) on existing data deletes the backlog in bursts.

    ## Why is this bad?
    The TTL monitor runs every 60 seconds and deletes every expired document it finds. A new TTL index on an
    old collection, or a lower `expireAfterSeconds`, makes all documents past the new limit expire at once:
    a burst of deletes that loads the primary, the replicas and the oplog, and data that is gone for good.

    ## Use instead
    Count the documents past the limit first; delete the backlog in throttled batches, or lower the limit in
    steps.
    """
    collection = collection_of(command)
    if "createIndexes" in command and documents_in(ctx, collection) != 0:
        for spec in command.get("indexes") or []:
            if isinstance(spec, dict) and "expireAfterSeconds" in spec:
                if ttl_field_types(ctx, collection, spec.get("key")) is not None:
                    continue  # not a date field: nothing expires (MIG190)
                yield _ttl_finding(command, str(spec.get("name")), spec["expireAfterSeconds"], None)
    index = command.get("index") if "collMod" in command else None
    if isinstance(index, dict) and "expireAfterSeconds" in index:
        current = current_ttl(ctx, collection, index.get("name"))
        if current is None or index["expireAfterSeconds"] < current:
            yield _ttl_finding(command, str(index.get("name")), index["expireAfterSeconds"], current)


def _ttl_finding(command: Command, name: str, seconds: int, current: int | None) -> Finding:
    return _finding(
        TTL_DELETES_BACKLOG,
        command,
        subject=f"{collection_of(command)}.{name}",
        kind="index",
        title=f"TTL {name} at {seconds} s deletes every document already older than that in its next passes",
        evidence={"expireAfterSeconds": seconds, "current": current},
        rationale="The TTL monitor deletes the whole backlog at once, loading primary, replicas and oplog.",
        help="Count and delete the backlog in throttled batches first, or lower the limit in steps.",
    )


def ttl_field_types(ctx: PlanContext, collection: str, key: object) -> list[str] | None:
    """The sampled BSON types of a TTL key's field when none of its values is a date; None when dates were
    seen, or when the sample does not tell (no catalog, field not sampled, not a single-field key)."""
    if not isinstance(key, dict) or len(key) != 1:
        return None
    (field_name,) = key
    table = ctx.table(collection)
    if table is None:
        return None
    types: dict[str, int] = {}
    for column in table.columns:
        if column.name in (field_name, f"{field_name}[]") and column.sample is not None:
            for name, count in column.sample.type_counts.items():
                types[name] = types.get(name, 0) + count
    if not types or "date" in types:
        return None
    return sorted(t for t in types if t != "array")


TTL_ON_NON_DATE = _spec(
    "MIG190",
    "mongodb-ttl-on-non-date-field",
    Severity.MEDIUM,
    "A TTL index on a field whose sampled values are not dates, so no document ever expires.",
    fix="never",
).model_copy(update={"status": "preview"})


def check_ttl_on_non_date(command: Command, ctx: PlanContext) -> Iterator[Finding]:
    """A TTL index on a field that holds no dates never deletes anything.

    ## Why is this bad?
    The TTL monitor only expires documents whose indexed field is a date (or an array holding dates); a
    document whose field is a string, a number or missing is kept for ever. The index is built and looks
    right, while the data it was meant to clear keeps growing.

    ## Example
    ```javascript
    db.orders.createIndex({status: 1}, {expireAfterSeconds: 3600})   // status is a string
    ```

    ## Use instead
    ```javascript
    db.orders.createIndex({created_at: 1}, {expireAfterSeconds: 3600})   // created_at holds BSON dates
    ```
    Store the expiry time as a BSON date (not an epoch number or an ISO string) and index that field.
    """
    if "createIndexes" not in command:
        return
    collection = collection_of(command)
    for spec in command.get("indexes") or []:
        if not isinstance(spec, dict) or "expireAfterSeconds" not in spec:
            continue
        types = ttl_field_types(ctx, collection, spec.get("key"))
        if types is None:
            continue
        (field_name,) = spec["key"]
        name = str(spec.get("name"))
        yield _finding(
            TTL_ON_NON_DATE,
            command,
            subject=f"{collection}.{name}",
            kind="index",
            title=f"TTL {name} never expires a document: sampled {field_name} values are {', '.join(types)}, not dates",
            evidence={
                "field": field_name,
                "sampled_types": ", ".join(types),
                "expireAfterSeconds": spec["expireAfterSeconds"],
            },
            rationale="The TTL monitor skips documents whose indexed field is not a date, so nothing is deleted.",
            help=f"Put the TTL on a field holding BSON dates, or store {field_name} as a date first.",
        )


UNBATCHED_UPDATE = _spec(
    "MIG189",
    "mongodb-unbatched-multi-update",
    Severity.MEDIUM,
    "One multi-document update over a large (or unknown-size) collection.",
)


def check_unbatched_update(command: Command, ctx: PlanContext) -> Iterator[Finding]:
    """One updateMany over a large collection runs long, lags replicas and cannot be resumed.

    ## Why is this bad?
    A single multi-document update writes every matching document in one operation: the oplog and the
    replicas fall behind, a failover or timeout stops it half-way with no record of where, and it competes with
    the application's writes for the whole run.

    ## Use instead
    Batches of a few thousand documents by `_id` range with an idempotent filter, a pause between batches and
    `w: "majority"` (the plan's backfill script).
    """
    documents = documents_in(ctx, collection_of(command))
    if documents is not None and documents <= DEFAULT_BATCH_ROWS:
        return
    for _update in multi_updates(command)[:1]:
        yield _finding(
            UNBATCHED_UPDATE,
            command,
            title="One updateMany over the whole collection: long-running, lags replicas, not resumable",
            evidence={"documents": documents, "batch": DEFAULT_BATCH_ROWS},
            rationale="A single multi update cannot be throttled or resumed and floods the oplog.",
            help="Run it in _id-range batches with an idempotent filter (the plan's backfill script).",
        )


RULES: tuple[tuple[RuleSpec, Check], ...] = (
    (NON_IDEMPOTENT, check_non_idempotent),
    (DROP_WITHOUT_HIDING, check_drop_without_hiding),
    (VALIDATOR_AT_ONCE, check_validator_at_once),
    (LARGE_INDEX_BUILD, check_large_index_build),
    (RENAME_FIELD_IN_PLACE, check_rename_field_in_place),
    (RENAME_COLLECTION, check_rename_collection),
    (DROP_COLLECTION, check_drop_collection),
    (UNIQUE_ON_EXISTING, check_unique_on_existing),
    (TTL_DELETES_BACKLOG, check_ttl_backlog),
    (UNBATCHED_UPDATE, check_unbatched_update),
    (TTL_ON_NON_DATE, check_ttl_on_non_date),
)
