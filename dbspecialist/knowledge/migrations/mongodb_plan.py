"""MongoDB migration planner: index builds, validator rollouts and document migrations as phased commands.

The change is JSON: one database command or a list of them (`createIndexes`, `dropIndexes`, `collMod`, `update`,
`renameCollection`, `create`, `drop`). Facts used (MongoDB manual): since 4.2 an index build holds an exclusive
(X) collection lock only at its start and end and yields to reads and writes in between; 4.4 added hidden
indexes (`collMod {index: {name, hidden: true}}`), so an index can be taken out of the query planner and put
back instantly before it is dropped; `collMod` with a validator does not check existing documents, and
`validationAction: "warn"` only logs violations, so a validator is rolled out as warn + moderate, violations are
found with `{$nor: [validator]}`, fixed, and only then enforced; document writes take intent (IX) locks and
WiredTiger document-level concurrency, so a backfill blocks nobody but loads the server and its replicas, and
is done in `_id` ranges with an idempotent filter, throttled, waiting for majority acknowledgement.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from dbspecialist.knowledge.migrations.context import PlanContext, PlannerOutput
from dbspecialist.knowledge.migrations.estimate import DEFAULT_BATCH_ROWS, DEFAULT_BATCH_SLEEP
from dbspecialist.knowledge.migrations.model import MigrationInputError
from dbspecialist.knowledge.migrations.mongodb_backfill import backfill_script
from dbspecialist.knowledge.migrations.mongodb_collections import plan_create, plan_drop, plan_rename_collection
from dbspecialist.knowledge.migrations.mongodb_commands import (
    ROLLING_BUILD_BYTES,
    ROLLING_BUILD_DOCUMENTS,
    SUPPORTED,
    Command,
    MongoPlanState,
    parse_commands,
)
from dbspecialist.knowledge.migrations.mongodb_documents import plan_update
from dbspecialist.knowledge.migrations.mongodb_indexes import plan_create_indexes, plan_drop_indexes
from dbspecialist.knowledge.migrations.mongodb_rules import RULES
from dbspecialist.knowledge.migrations.mongodb_validators import plan_coll_mod
from dbspecialist.knowledge.migrations.versions import version_text

Handler = Callable[[MongoPlanState, Command], None]
HANDLERS: Final[dict[str, Handler]] = {
    "createIndexes": plan_create_indexes,
    "dropIndexes": plan_drop_indexes,
    "collMod": plan_coll_mod,
    "update": plan_update,
    "renameCollection": plan_rename_collection,
    "create": plan_create,
    "drop": plan_drop,
}


def add_command(state: MongoPlanState, command: Command) -> None:
    """Run the rules on one command, then plan it by its name."""
    name = next(iter(command), None)
    if name not in SUPPORTED:
        raise MigrationInputError(f"unsupported MongoDB command {name!r}; the planner accepts {', '.join(SUPPORTED)}")
    for _rule, check in RULES:
        state.findings.extend(check(command, state.ctx))
    HANDLERS[name](state, command)


def plan_mongodb(change: str, ctx: PlanContext) -> PlannerOutput:
    """Plan MongoDB commands as phased steps: index builds, validator rollouts, batched document migrations."""
    state = MongoPlanState(ctx)
    for command in parse_commands(change):
        add_command(state, command)
    assumptions = [
        f"Backfills run in batches of {DEFAULT_BATCH_ROWS:,} documents with a {DEFAULT_BATCH_SLEEP:g} s pause and "
        'w: "majority", so replicas keep up.',
        f"Rolling index builds are suggested from {ROLLING_BUILD_BYTES // 1024**3} GiB or "
        f"{ROLLING_BUILD_DOCUMENTS // 1_000_000} M documents (our threshold).",
    ]
    if not ctx.version_given:
        assumptions.insert(0, f"MongoDB {version_text(ctx.version, 'mongodb')} assumed (pass version to change it).")
    script = "\n\n".join(dict.fromkeys(state.scripts)) if state.scripts else None
    return PlannerOutput(
        steps=state.steps,
        findings=state.findings,
        assumptions=assumptions,
        backfill_script=script,
        notes=list(dict.fromkeys(state.notes)),
    )


__all__ = ["RULES", "backfill_script", "plan_mongodb"]
