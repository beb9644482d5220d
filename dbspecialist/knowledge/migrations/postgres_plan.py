"""The PostgreSQL zero-downtime planner: every statement of a change as safe, phased, version-gated steps.

`plan_postgres(change, ctx)` parses the change (pglast), classifies every operation (pg_classify), and either
rewrites it into its safe sequence (postgres_rewrites*: NOT VALID + VALIDATE, CONCURRENTLY builds, new column +
trigger + backfill + swap, expand/contract renames and drops, ...) or passes it through as one step with the lock
it takes. Every step carries its exact SQL, lock claim, what it blocks, what it does to the table, whether it may
run in a transaction, an estimate from the table's size, rollback SQL, the timeout preamble and retry advice
(postgres_rewrites_base explains the timeouts). The assembler (plan.py) orders the steps by phase.
"""

from __future__ import annotations

import copy
from typing import Any, Final

from dbspecialist.knowledge.migrations.context import PlanContext, PlannerOutput
from dbspecialist.knowledge.migrations.estimate import METADATA_SECONDS
from dbspecialist.knowledge.migrations.model import DurationEstimate, Phase, TableEffect
from dbspecialist.knowledge.migrations.pg_classify import (
    ClassifiedOp,
    SchemaState,
    classify_node,
    operation,
    statement_lock,
)
from dbspecialist.knowledge.migrations.pg_locks import MODES
from dbspecialist.knowledge.migrations.pg_statements import PgStatement, deparse, split_postgres
from dbspecialist.knowledge.migrations.postgres_rewrites import (
    add_column,
    add_constraint,
    add_key,
    alter,
    backfill,
    set_not_null,
)
from dbspecialist.knowledge.migrations.postgres_rewrites_base import (
    LOCK_TIMEOUT,
    METADATA_STATEMENT_TIMEOUT,
    Builder,
    q,
    short_name,
)
from dbspecialist.knowledge.migrations.postgres_rewrites_columns import (
    add_identity,
    alter_type,
    drop_column,
    rename_column,
)
from dbspecialist.knowledge.migrations.postgres_rewrites_rules import version_assumed
from dbspecialist.knowledge.migrations.postgres_rewrites_tables import (
    add_enum_value,
    attach_partition,
    concurrent_index_steps,
    create_index,
    detach_partition,
    drop_index,
    drop_table,
    refresh_materialized_view,
    reindex,
    rename_table,
)
from dbspecialist.knowledge.migrations.versions import version_text

# ALTER TABLE subcommands rewritten into their own safe steps (the others run as written, bundled).
_REWRITTEN: Final = frozenset(
    {
        "add_column_rewrite",
        "set_not_null",
        "add_check",
        "add_foreign_key",
        "add_unique",
        "add_primary_key",
        "alter_type",
        "alter_type_coercible",
        "alter_type_rebuild_indexes",
        "drop_column",
        "add_identity",
        "attach_partition",
        "detach_partition",
    }
)
_CONTRACT_KINDS: Final = frozenset({"drop_column", "drop_table", "drop_constraint", "drop_index", "drop_view"})
_IRREVERSIBLE: Final = frozenset(
    {
        "drop_column",
        "drop_table",
        "truncate",
        "delete_rows",
        "update_rows",
        "add_enum_value",
        "drop_view",
        "vacuum_full",
    }
)
_EFFECT_ORDER: Final[tuple[TableEffect, ...]] = ("none", "metadata", "rows", "scan", "build", "rewrite")


def plan_postgres(change: str, ctx: PlanContext) -> PlannerOutput:
    """The safe, phased plan for `change` on PostgreSQL `ctx.version` (MigrationInputError if it does not parse)."""
    statements = split_postgres(change)
    builder = Builder(ctx, SchemaState(ctx.version, ctx.catalog))
    if not ctx.version_given:
        builder.finding(version_assumed(version_text(ctx.version, "postgres")))
    builder.assume(
        f"lock_timeout {LOCK_TIMEOUT} on every step that blocks reads or writes: a DDL waiting for its lock queues "
        "every later query on the table, so the wait is capped and the step retried instead."
    )
    for statement in statements:
        builder.line = statement.line
        _plan_statement(builder, statement)
    scripts = "\n\n".join(builder.scripts) or None
    return PlannerOutput(
        steps=builder.steps,
        findings=builder.findings,
        assumptions=builder.assumptions,
        backfill_script=scripts,
        notes=builder.notes,
    )


def _plan_statement(b: Builder, st: PgStatement) -> None:
    kind = st.kind
    node: Any = st.node
    if kind == "TransactionStmt":
        b.note("BEGIN/COMMIT in the change are not kept: each step states whether it runs in a transaction.")
        return
    if kind == "AlterTableStmt" and str(getattr(node.objtype, "name", "")) == "OBJECT_TABLE":
        _plan_alter_table(b, st)
        return
    ops = classify_node(st.node, b.state)
    if kind == "VariableSetStmt":
        return
    if not ops:
        _no_lock_step(b, st)
        return
    first = ops[0]
    new = bool(first.detail.get("new_table"))
    handler = _STATEMENT_HANDLERS.get(first.kind)
    if handler is None or new:
        passthrough(b, st.text, ops)
        return
    handler(b, st, ops)


def _plan_alter_table(b: Builder, st: PgStatement) -> None:
    node: Any = st.node
    groups: list[tuple[Any, list[ClassifiedOp]]] = []
    for cmd in node.cmds or ():
        single = copy.copy(node)
        single.cmds = (cmd,)
        groups.append((cmd, classify_node(single, b.state)))
    all_ops = [op for _, ops in groups for op in ops]
    if not all_ops:
        _no_lock_step(b, st)
        return
    if all_ops[0].detail.get("new_table"):
        passthrough(b, st.text, all_ops)
        return
    old_pk = _replaced_primary_key(b, all_ops)
    kept: list[tuple[Any, list[ClassifiedOp]]] = []
    rewrites: list[tuple[Any, list[ClassifiedOp]]] = []
    for cmd, ops in groups:
        if not ops:
            continue
        if (
            old_pk is not None
            and ops[0].kind == "drop_constraint"
            and str(ops[0].detail.get("name")).lower() == old_pk.lower()
        ):
            continue
        if _needs_rewrite(b, ops):
            rewrites.append((cmd, ops))
        else:
            kept.append((cmd, ops))
    if kept:
        bundle = copy.copy(node)
        bundle.cmds = tuple(cmd for cmd, _ in kept)
        sql = st.text if len(kept) == len(groups) else deparse(bundle)
        passthrough(b, sql, [op for _, ops in kept for op in ops])
    for cmd, ops in rewrites:
        _rewrite_cmd(b, cmd, ops, old_pk)


def _needs_rewrite(b: Builder, ops: list[ClassifiedOp]) -> bool:
    main = ops[0]
    if main.kind == "add_column":
        return len(ops) > 1 or bool(main.detail.get("not_null") and not main.detail.get("has_default"))
    if main.kind == "detach_partition":
        return b.version >= (14, 0, 0)
    return main.kind in _REWRITTEN


def _replaced_primary_key(b: Builder, ops: list[ClassifiedOp]) -> str | None:
    """The current primary key's name when the statement adds a new primary key (a primary key change)."""
    adds = [op for op in ops if op.kind == "add_primary_key"]
    if not adds:
        return None
    found = b.table(adds[0].table)
    current = found.primary_key if found is not None else None
    dropped = {str(op.detail.get("name")).lower() for op in ops if op.kind == "drop_constraint"}
    if current is not None:
        name = current.name or f"{short_name(adds[0].table)}_pkey"
        return name if name.lower() in dropped else None
    pkey_drops = [name for name in dropped if name.endswith("_pkey")]
    return pkey_drops[0] if pkey_drops else None


def _rewrite_cmd(b: Builder, cmd: Any, ops: list[ClassifiedOp], old_pk: str | None) -> None:
    main = ops[0]
    kind = main.kind
    if kind in ("add_column", "add_column_rewrite"):
        add_column(b, cmd, ops)
    elif kind == "set_not_null":
        set_not_null(b, main)
    elif kind in ("add_check", "add_foreign_key", "add_unique"):
        add_constraint(b, main.table, cmd.def_, main)
    elif kind == "add_primary_key":
        columns = [str(k.sval) for k in cmd.def_.keys or ()]
        add_key(b, main.table, cmd.def_, columns, primary=True, drop_old=old_pk)
    elif kind.startswith("alter_type"):
        alter_type(b, main, getattr(cmd.def_, "raw_default", None))
    elif kind == "drop_column":
        drop_column(b, main)
    elif kind == "add_identity":
        add_identity(b, main, cmd)
    elif kind == "attach_partition":
        attach_partition(b, main, cmd.def_.bound)
    elif kind == "detach_partition":
        detach_partition(b, main)


# ------------------------------------------------------------------------------------------------ statements


def _create_index(b: Builder, st: PgStatement, ops: list[ClassifiedOp]) -> None:
    create_index(b, copy.deepcopy(st.node), ops[0])


def _create_index_concurrently(b: Builder, st: PgStatement, ops: list[ClassifiedOp]) -> None:
    op = ops[0]
    name = str(op.detail.get("index") or "")
    if b.partitions(op.table) is not None:  # refused on a partitioned table: built per partition instead
        create_index(b, copy.deepcopy(st.node), op)
        return
    if not name:
        passthrough(b, st.text, ops)
        return
    index = f"{op.table.rsplit('.', 1)[0]}.{name}" if "." in op.table else name
    concurrent_index_steps(b, "expand", op.table, st.text, index, f"Build index {name} concurrently")
    if op.detail.get("if_not_exists"):
        b.steps[-3].notes.append(
            "IF NOT EXISTS skips the build when an INVALID index of that name is left from a failed attempt: "
            "the validity check below catches it."
        )


def _each(handler: Any) -> Any:
    def run(b: Builder, st: PgStatement, ops: list[ClassifiedOp]) -> None:
        for op in ops:
            if op.detail.get("new_table"):
                passthrough(b, st.text, [op])
            else:
                handler(b, op)

    return run


def _rename(b: Builder, st: PgStatement, ops: list[ClassifiedOp]) -> None:
    op = ops[0]
    if op.kind == "rename_column":
        rename_column(b, op)
    else:
        rename_table(b, op)


def _enum(b: Builder, st: PgStatement, ops: list[ClassifiedOp]) -> None:
    add_enum_value(b, st.text, ops[0])


def _update(b: Builder, st: PgStatement, ops: list[ClassifiedOp]) -> None:
    node: Any = st.node
    if node.fromClause or getattr(node, "returningClause", None) or node.withClause:
        passthrough(b, st.text, ops)
        return
    keyed = _rows_by_key(b, ops[0].table, node.whereClause)
    if keyed is not None:
        passthrough(b, st.text, ops)
        step = b.steps[-1]
        step.estimate = DurationEstimate(
            seconds=METADATA_SECONDS * keyed,
            basis=f"at most {keyed:,} row(s), found through the table's primary key or a unique index",
        )
        step.preamble = [
            f"SET lock_timeout = '{LOCK_TIMEOUT}'",
            f"SET statement_timeout = '{METADATA_STATEMENT_TIMEOUT}'",
        ]
        step.notes.append("The WHERE pins the primary key (or a unique key): a few rows, no batching needed.")
        return
    sets = ", ".join(f"{q(str(t.name))} = {deparse(t.val)}" for t in node.targetList or ())
    where = deparse(node.whereClause) if node.whereClause is not None else "true"
    notes = [
        "Rewritten from one UPDATE (row locks on every matched row until it commits) into keyset batches.",
        "Idempotent only if the SET makes the WHERE false; otherwise re-running re-applies it to matching rows.",
    ]
    backfill(b, ops[0].table, sets, where, f"Run the UPDATE on {ops[0].table} in keyset batches", notes)


MAX_KEYED_ROWS: Final = 1_000  # an IN list longer than this is batched like any other UPDATE


def _rows_by_key(b: Builder, table: str, where: Any) -> int | None:
    """How many rows at most a WHERE pins with `key = constant` (or `key IN (constants)`) on every column of the
    primary key or of a unique index (AND-ed); None when it does not (or the keys are unknown)."""
    from pglast import ast

    if where is None:
        return None
    found = b.table(table)
    if found is not None:
        keys: list[list[str]] = [found.primary_key.columns] if found.primary_key is not None else []
        keys += [index.columns for index in found.indexes if index.unique and index.predicate is None]
    else:
        # No catalog: the same guess the keyset backfill makes (primary key `id`), stated as an assumption.
        keys = [["id"]]
    args: Any = where.args if isinstance(where, ast.BoolExpr) and where.boolop == 0 else None  # AND_EXPR
    terms = list(args) if args is not None else [where]
    pinned: dict[str, int] = {}
    for term in terms:
        if not isinstance(term, ast.A_Expr) or not isinstance(term.lexpr, ast.ColumnRef):
            continue
        operator = str(term.name[-1].sval) if term.name else ""
        fields: Any = term.lexpr.fields
        column = str(fields[-1].sval).lower() if isinstance(fields[-1], ast.String) else ""
        right = term.rexpr
        values = list(right) if isinstance(right, (list, tuple)) else [right]
        if operator != "=" or not values or not all(isinstance(v, (ast.A_Const, ast.ParamRef)) for v in values):
            continue
        pinned[column] = min(pinned.get(column, len(values)), len(values))
    for columns in keys:
        if columns and all(c.lower() in pinned for c in columns):
            rows = 1
            for c in columns:
                rows *= pinned[c.lower()]
            if rows > MAX_KEYED_ROWS:
                return None
            if found is None:
                b.assume(
                    f"{table}: id assumed to be the primary key, so the WHERE pins {rows:,} row(s) (no catalog given)"
                )
            return rows
    return None


def _refresh(b: Builder, st: PgStatement, ops: list[ClassifiedOp]) -> None:
    refresh_materialized_view(b, ops[0])


_STATEMENT_HANDLERS: Final[dict[str, Any]] = {
    "create_index": _create_index,
    "create_index_concurrently": _create_index_concurrently,
    "drop_index": _each(drop_index),
    "drop_index_concurrently": _each(drop_index),
    "reindex": _each(reindex),
    "reindex_concurrently": _each(reindex),
    "rename_table": _rename,
    "rename_column": _rename,
    "drop_table": _each(drop_table),
    "add_enum_value": _enum,
    "update_rows": _update,
    "refresh_materialized_view": _refresh,
}


# ------------------------------------------------------------------------------------------------ pass-through


def passthrough(b: Builder, sql: str, ops: list[ClassifiedOp], phase: Phase | None = None) -> None:
    """One step running `sql` as written, with the strongest lock its operations take."""
    modes = statement_lock(ops)
    main = max(ops, key=lambda op: MODES.index(op.mode))
    table = main.table or next(iter(modes), "") or None
    main_mode = main.mode
    tables = [t for t, mode in modes.items() if mode == main_mode] or ([table] if table else [])
    effect = max((operation(op.kind).effect for op in ops), key=_EFFECT_ORDER.index)
    others = [f"Also takes {mode} on {t}." for t, mode in modes.items() if mode != main_mode]
    if phase is None:
        phase = "contract" if any(op.kind in _CONTRACT_KINDS for op in ops) else "expand"
    rollback = [sql for op in reversed(ops) for sql in _rollback(op)]
    new = all(op.detail.get("new_table") or op.kind in ("create_table", "create_materialized_view") for op in ops)
    b.step(
        phase,
        _title(main, new),
        table,
        [sql],
        main.kind,
        tables=tables,
        effect=effect,
        transactional=all(operation(op.kind).transactional for op in ops),
        rollback=rollback,
        reversible=not any(op.kind in _IRREVERSIBLE for op in ops),
        notes=others + _passthrough_notes(ops),
    )


def _title(op: ClassifiedOp, new: bool) -> str:
    what = op.kind.replace("_", " ")
    where = f" on {op.table}" if op.table else ""
    suffix = " (new table: nobody else uses it yet)" if new and op.kind not in ("create_table",) else ""
    return f"Run as written: {what}{where}{suffix}"


def _passthrough_notes(ops: list[ClassifiedOp]) -> list[str]:
    notes = []
    for op in ops:
        if op.kind == "truncate":
            notes.append("TRUNCATE is instant but irreversible; with CASCADE it also empties referencing tables.")
        elif op.kind == "delete_rows" and not op.detail.get("new_table"):
            notes.append("On a large table, delete in keyset batches (the backfill loop with DELETE) instead.")
    return notes


def _rollback(op: ClassifiedOp) -> list[str]:
    d = op.detail
    if op.kind == "add_column" and op.column:
        return [alter(op.table, f"DROP COLUMN {q(op.column)}")]
    if op.kind in ("create_table", "create_materialized_view"):
        return [f"DROP {'MATERIALIZED VIEW' if 'view' in op.kind else 'TABLE'} {q(op.table)}"]
    if op.kind in ("create_index", "create_index_concurrently") and d.get("index"):
        return [f"DROP INDEX {q(str(d['index']))}"]
    if op.kind == "create_view" and not d.get("replace"):
        return [f"DROP VIEW {q(op.table)}"]
    if op.kind == "create_trigger" and not d.get("replace"):
        return [f"DROP TRIGGER {q(str(d['trigger']))} ON {q(op.table)}"]
    if op.kind in ("add_check_not_valid", "add_foreign_key_not_valid", "add_constraint_using_index") and d.get("name"):
        return [alter(op.table, f"DROP CONSTRAINT {q(str(d['name']))}")]
    if op.kind == "drop_not_null" and op.column:
        return [alter(op.table, f"ALTER COLUMN {q(op.column)} SET NOT NULL")]
    if op.kind == "drop_default" or op.kind == "set_default":
        return []
    if op.kind == "rename_constraint":
        return [alter(op.table, f"RENAME CONSTRAINT {q(str(d['new']))} TO {q(str(d['old']))}")]
    if op.kind == "enable_disable_trigger" and d.get("trigger"):
        verb = "DISABLE" if d.get("enable") else "ENABLE"
        return [alter(op.table, f"{verb} TRIGGER {d['trigger']}")]
    return []


def _no_lock_step(b: Builder, st: PgStatement) -> None:
    from dbspecialist.knowledge.migrations.model import MigrationStep

    b.steps.append(
        MigrationStep(
            phase="expand",
            title=f"Run as written: {st.kind.removesuffix('Stmt')} (takes no lock on an existing table)",
            sql=[st.text],
            table_effect="none",
            transactional=True,
            reversible=True,
            preamble=[f"SET lock_timeout = '{LOCK_TIMEOUT}'"],
        )
    )
