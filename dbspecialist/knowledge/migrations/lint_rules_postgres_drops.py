"""PostgreSQL lint rules: dropping a constraint, a guarantee that running code and the data may rely on.

A constraint is a promise to the application as much as to the database: a unique or primary key is what
`INSERT ... ON CONFLICT` infers its arbiter from, a foreign key is why code never meets an orphan, a CHECK why it
never meets an out-of-range value. Dropping one is instant, but undoing it means validating every row again.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Final

from dbspecialist.knowledge.findings import Finding, Fix, Severity
from dbspecialist.knowledge.migrations.lint_rules_postgres_core import (
    LintState,
    alter_cmds,
    altered_existing_table,
    cascades,
    finding,
    ident,
    short,
    spec,
)
from dbspecialist.knowledge.migrations.pg_statements import PgStatement

# PostgreSQL's own default constraint names end in these (ChooseConstraintName callers, PostgreSQL 18 for NOT NULL).
_DEFAULT_SUFFIXES: Final = (
    ("_pkey", "primary_key"),
    ("_fkey", "foreign_key"),
    ("_not_null", "not_null"),
    ("_check", "check"),
    ("_excl", "exclusion"),
    ("_key", "unique"),
)
_CONSEQUENCE: Final = {
    "primary_key": "INSERT ... ON CONFLICT on the key stops working, duplicates can enter, and a published table "
    "loses its replica identity (UPDATE and DELETE then fail on it)",
    "unique": "INSERT ... ON CONFLICT on these columns stops working and duplicates can enter",
    "foreign_key": "rows pointing at missing parents can enter, and code that relied on the join finds orphans",
    "check": "values the CHECK refused can enter",
    "not_null": "NULLs can enter the column",
    "exclusion": "overlapping rows can enter",
}

DROP_CONSTRAINT = spec(
    "MIG053",
    "drop-constraint",
    Severity.LOW,
    "ALTER TABLE ... DROP CONSTRAINT on a table the migration did not create.",
    fix="always",
    status="preview",
)


def constraint_kind(name: str, known: str | None) -> tuple[str | None, str | None]:
    """(kind, how we know it): from the file when it added the constraint, else from PostgreSQL's default name."""
    if known:
        return known, "file"
    lowered = name.lower()
    for suffix, kind in _DEFAULT_SUFFIXES:
        if lowered.endswith(suffix):
            return kind, "default_name"
    return None, None


def check_drop_constraint(statement: PgStatement, state: LintState) -> Iterator[Finding]:
    """Dropping a constraint removes a guarantee that running code and later data may rely on.

    ## Why is this bad?
    The drop itself is quick (ACCESS EXCLUSIVE for a moment), but what the constraint promised is gone at once:
    a dropped UNIQUE or PRIMARY KEY breaks `INSERT ... ON CONFLICT` on those columns (and, for a key, the
    replica identity of a published table), a dropped FOREIGN KEY lets orphans in, a dropped CHECK lets bad
    values in. Code deployed before the migration still assumes the guarantee, and restoring it later means a
    NOT VALID add plus a validation scan, which fails if bad rows arrived meanwhile. `CASCADE` also drops the
    foreign keys of other tables that depend on it.

    ## Example
    ```sql
    ALTER TABLE orders DROP CONSTRAINT orders_total_positive;
    ```

    ## Use instead
    ```sql
    -- deploy code that no longer relies on the constraint first, and keep its definition for the down migration
    SELECT pg_get_constraintdef(oid) FROM pg_constraint
    WHERE conrelid = 'orders'::regclass AND conname = 'orders_total_positive';
    ALTER TABLE orders DROP CONSTRAINT IF EXISTS orders_total_positive;
    ```

    ## Notes
    Covers squawk's ban-drop-constraint. Unlike squawk we do not report constraints of tables created in the file,
    nor the CHECK (col IS NOT NULL) dropped after it let SET NOT NULL skip its scan (the last step of MIG016's
    fix: the column's NOT NULL keeps the guarantee). Low by default; medium with CASCADE or for a primary key or
    unique constraint (known from the file, or from PostgreSQL's default `_pkey` / `_key` names); info when the
    file adds a constraint of the same name again afterwards (a replacement).
    """
    table = altered_existing_table(statement, state)
    if not table:
        return
    for _position, sub, cmd in alter_cmds(statement):
        if sub != "AT_DropConstraint":
            continue
        name = str(cmd.name)
        if name.lower() in state.not_null_proofs:
            continue
        op = next((o for o in state.ops if o.kind == "drop_constraint" and o.detail.get("name") == cmd.name), None)
        known = op.detail.get("constraint") if op is not None else None
        kind, source = constraint_kind(name, str(known) if known else None)
        replaced = _re_added_line(state, name)
        yield _finding(statement, table, cmd, name, kind, source, replaced)


def _re_added_line(state: LintState, name: str) -> int | None:
    """The line of a later ADD CONSTRAINT of the same name in the file, if any."""
    for later in state.statements[state.index + 1 :]:
        for _position, sub, cmd in alter_cmds(later):
            added = cmd.def_.conname if sub == "AT_AddConstraint" and cmd.def_ is not None else None
            if added and str(added).lower() == name.lower():
                return later.line
    return None


def _finding(
    statement: PgStatement,
    table: str,
    cmd: Any,
    name: str,
    kind: str | None,
    source: str | None,
    replaced: int | None,
) -> Finding:
    cascade = cascades(cmd)
    severity: Severity | None = None
    if replaced is not None:
        severity = Severity.INFO
    elif cascade or kind in ("primary_key", "unique"):
        severity = Severity.MEDIUM
    consequence = _CONSEQUENCE.get(kind or "", "whatever the constraint refused can enter")
    t = ident(table)
    lookup = (
        f"SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = {_literal(t)}::regclass "
        f"AND conname = {_literal(name)};"
    )
    drop = f"ALTER TABLE {t} DROP CONSTRAINT IF EXISTS {ident(name)}{' CASCADE' if cascade else ''};"
    return finding(
        DROP_CONSTRAINT,
        statement,
        title=f"Dropping {name} on {table}: {consequence}" + (" (CASCADE also drops dependent foreign keys)" * cascade),
        subject=f"{short(table)}.{name}",
        subject_kind="constraint",
        table=table,
        evidence={
            "constraint": name,
            "constraint_kind": kind,
            "kind_from": source,
            "cascade": cascade,
            "if_exists": bool(cmd.missing_ok),
            "re_added_line": replaced,
        },
        rationale=(
            "Code deployed before the migration still counts on the constraint, and the data stops being checked "
            "the moment it is gone. Putting it back later needs a validation scan that fails on any bad row that "
            "got in meanwhile."
        ),
        help="Drop it only after the code no longer relies on it, and keep its definition for the down migration.",
        fix=Fix(
            title="Record the definition, then drop",
            statements=[lookup, drop],
            safety="display-only",
            note="Deploy the code that no longer needs the constraint first. To restore it: ADD CONSTRAINT with the "
            "recorded definition NOT VALID, then VALIDATE CONSTRAINT (CHECK and FOREIGN KEY).",
        ),
        severity=severity,
    )


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
