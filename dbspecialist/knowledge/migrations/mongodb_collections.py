"""MongoDB collection changes as phased steps: rename behind a read-only view, create, dump before drop."""

from __future__ import annotations

from dbspecialist.knowledge.migrations.model import LockClaim, MigrationInputError
from dbspecialist.knowledge.migrations.mongodb_commands import (
    BACKUP_DIR,
    CATALOG_LOCK,
    READ_INTENT,
    RENAME_COLLECTION_LOCKS_SINCE,
    URI_PLACEHOLDER,
    X_LOCK_NOTE,
    Command,
    MongoPlanState,
    catalog_step,
    command_step,
    deploy_step,
)


def plan_rename_collection(state: MongoPlanState, command: Command) -> None:
    """Rename, keep a read-only view under the old name, deploy, then drop the view."""
    source, target = str(command["renameCollection"]), str(command.get("to") or "")
    if "." not in source or "." not in target:
        raise MigrationInputError('renameCollection needs full namespaces: {"renameCollection": "db.a", "to": "db.b"}')
    source_db, old = source.split(".", 1)
    target_db, new = target.split(".", 1)
    across = source_db != target_db
    stats = state.stats(old)
    same_db_lock = state.version >= RENAME_COLLECTION_LOCKS_SINCE and not across
    lock = LockClaim(
        mode="exclusive (X) locks on the source and target collections"
        if same_db_lock
        else "exclusive (X) database lock",
        tables=[old],
        blocks="reads and writes",
        held="milliseconds (catalog change)" if not across else "the copy of every document",
    )
    notes = [X_LOCK_NOTE]
    if across:
        notes.append("Across databases the documents are copied and the source dropped: it takes as long as a copy.")
    notes.append("Not supported for sharded collections before 5.0.")
    state.steps.append(
        command_step(
            "expand",
            f"Rename collection {source} to {target}",
            old,
            [command],
            lock=lock,
            effect="rewrite" if across else "metadata",
            stats=stats,
            rollback=[{"renameCollection": target, "to": source}],
            reversible=not command.get("dropTarget"),
            notes=notes,
            admin=True,
        )
    )
    if not across:
        view = {"create": old, "viewOn": new, "pipeline": []}
        state.steps.append(
            command_step(
                "expand",
                f"Keep a read-only view {old} on {new} for clients that still read the old name",
                old,
                [view],
                lock=LockClaim(mode=CATALOG_LOCK, tables=[old], blocks="nothing", held="milliseconds"),
                effect="metadata",
                stats=None,
                rollback=[{"drop": old}],
                notes=["Writes to a view fail, so old writers get errors instead of creating an empty collection."],
            )
        )
    state.steps.append(deploy_step(f"Deploy the application version that uses {new} instead of {old}", "switch"))
    if not across:
        state.steps.append(
            command_step(
                "contract",
                f"Drop the compatibility view {old}",
                old,
                [{"drop": old}],
                lock=LockClaim(mode=CATALOG_LOCK, tables=[old], blocks="nothing", held="milliseconds"),
                effect="metadata",
                stats=None,
                rollback=[{"create": old, "viewOn": new, "pipeline": []}],
            )
        )


def plan_create(state: MongoPlanState, command: Command) -> None:
    """Create a collection or view as given."""
    collection = str(command["create"])
    what = "view" if "viewOn" in command else "collection"
    state.steps.append(
        command_step(
            "expand",
            f"Create {what} {collection}" + (" with a validator" if "validator" in command else ""),
            collection,
            [command],
            lock=LockClaim(mode=CATALOG_LOCK, tables=[collection], blocks="nothing", held="milliseconds"),
            effect="metadata",
            stats=None,
            rollback=[{"drop": collection}],
            notes=["A new collection has no documents, so its validator can be enforced from the start."]
            if "validator" in command
            else [],
        )
    )


def plan_drop(state: MongoPlanState, command: Command) -> None:
    """Dump, deploy the application that no longer uses it, then drop."""
    collection = str(command["drop"])
    dump_step(state, collection)
    state.steps.append(deploy_step(f"Deploy the application version that no longer uses {collection}", "switch"))
    state.steps.append(
        catalog_step(
            "contract",
            f"Drop collection {collection}",
            collection,
            [command],
            stats=state.stats(collection),
            rollback=[
                f'mongorestore --uri="{URI_PLACEHOLDER}" --gzip --nsInclude '
                f"'{state.database}.{collection}' {BACKUP_DIR}/"
            ],
            reversible=False,
            notes=["The documents and indexes are gone; only the dump brings them back."],
        )
    )


def dump_step(state: MongoPlanState, collection: str) -> None:
    """A mongodump of `collection` in the prepare phase (once per collection)."""
    if collection in state.dumped:
        return
    state.dumped.add(collection)
    stats = state.stats(collection)
    step = command_step(
        "prepare",
        f"Dump {collection} before removing data (mongodump)",
        collection,
        [],
        lock=LockClaim(mode=READ_INTENT, tables=[collection], blocks="nothing", held="the dump"),
        effect="scan",
        stats=stats,
        kind="command",
        rollback=[f"-- delete {BACKUP_DIR}/ once the migration is verified"],
    )
    command = (
        f'mongodump --uri="{URI_PLACEHOLDER}" --db {state.database} --collection {collection} --gzip '
        f"--out {BACKUP_DIR}/"
    )
    notes = [
        *step.notes,
        f"{URI_PLACEHOLDER} is the connection string of the deployment (set it in the shell; with a database path "
        f"in it, that database must be {state.database}). The dump is gzipped, so mongorestore needs --gzip too.",
    ]
    state.steps.append(step.model_copy(update={"command": command, "notes": notes}))
