"""MongoDB collMod as phased steps: a validator rolled out in warn mode, violators found and fixed, then enforced.

`collMod` with a validator does not check the documents already stored, and `validationAction: "warn"` only logs
violations (MongoDB manual, "Schema Validation"): so the validator is installed as warn + moderate, the violators
are counted with `{$nor: [validator]}` and fixed, and only then is it enforced.
"""

from __future__ import annotations

from typing import Any

from dbspecialist.knowledge.migrations.model import LockClaim
from dbspecialist.knowledge.migrations.mongodb_commands import (
    READ_INTENT,
    Command,
    MongoPlanState,
    catalog_step,
    command_step,
)
from dbspecialist.knowledge.migrations.mongodb_indexes import index_mod


def plan_coll_mod(state: MongoPlanState, command: Command) -> None:
    """collMod split into its index, validator and other options, each with its own steps."""
    collection = str(command["collMod"])
    index = command.get("index")
    if isinstance(index, dict):
        index_mod(state, collection, index)
    rest = {k: v for k, v in command.items() if k not in ("collMod", "index")}
    validation: dict[str, Any] = {
        k: rest.pop(k) for k in ("validator", "validationLevel", "validationAction") if k in rest
    }
    if validation:
        validator_rollout(state, collection, validation)
    if rest:
        state.steps.append(
            catalog_step(
                "expand",
                f"Change options {', '.join(rest)} of {collection}",
                collection,
                [{"collMod": collection, **rest}],
                rollback=["-- set the previous values again (see listCollections options)"],
            )
        )


def validator_rollout(state: MongoPlanState, collection: str, validation: dict[str, Any]) -> None:
    """Warn + moderate → find and fix violators → enforce; a level/action change alone skips the warn stage."""
    table = state.table(collection)
    previous = table.validator if table is not None else None
    options = table.options if table is not None else {}
    before = {
        "collMod": collection,
        "validator": previous or {},
        "validationLevel": options.get("validationLevel", "strict" if previous else "off"),
        "validationAction": options.get("validationAction", "error"),
    }
    validator = validation.get("validator", previous)
    # collMod keeps the current level and action unless the command sets them
    final_level = validation.get("validationLevel", options.get("validationLevel", "strict"))
    final_action = validation.get("validationAction", options.get("validationAction", "error"))
    stats = state.stats(collection)
    empty = stats is not None and stats.rows == 0
    staged = validator is not None and final_action == "error" and final_level != "off" and not empty
    if not staged:
        state.steps.append(
            catalog_step(
                "expand",
                f"Set the validator of {collection} ({final_level}, {final_action})",
                collection,
                [{"collMod": collection, **validation}],
                rollback=[before],
                notes=["collMod does not check the documents already stored."],
            )
        )
        return
    enforce: Command = {"collMod": collection, **validation}
    undo_enforce: Command = before
    if "validator" in validation:
        warn = {
            "collMod": collection,
            "validator": validator,
            "validationLevel": "moderate",
            "validationAction": "warn",
        }
        state.steps.append(
            catalog_step(
                "expand",
                f"Install the validator on {collection} in warn mode (moderate): violations are only logged",
                collection,
                [warn],
                rollback=[before],
                notes=[
                    "From here the server log records every write that would fail ('Document would fail "
                    "validation'): the application must write the new shape before the enforcement step.",
                ],
            )
        )
        enforce = {"collMod": collection, "validationLevel": final_level, "validationAction": final_action}
        undo_enforce = warn
    violators = {"$nor": [validator]}
    state.steps.append(
        command_step(
            "validate",
            f"Find the documents of {collection} that fail the validator; fix or move them until the count is 0",
            collection,
            [
                {"count": collection, "query": violators},
                {"find": collection, "filter": violators, "projection": {"_id": 1}, "limit": 20},
            ],
            lock=LockClaim(mode=READ_INTENT, tables=[collection], blocks="nothing", held="the scan"),
            effect="scan",
            stats=stats,
            kind="check",
            notes=[
                "Update them to the new shape, or copy them to a quarantine collection and delete them; then run "
                "the count again. Check the server log for writes still rejected in warn mode."
            ],
        )
    )
    state.steps.append(
        catalog_step(
            "validate",
            f"Enforce the validator on {collection} ({final_level}, {final_action})",
            collection,
            [enforce],
            rollback=[undo_enforce],
            notes=["Only once the count above is 0 and the log shows no new violations."],
        )
    )
