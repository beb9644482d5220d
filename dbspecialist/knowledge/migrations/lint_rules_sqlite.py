"""SQLite migration linter: rules MIG150 to MIG179 over the statements `split_sqlite` reads.

SQLite's ALTER TABLE does four things directly: RENAME TO, RENAME COLUMN (3.25.0+), ADD COLUMN (with
restrictions) and DROP COLUMN (3.35.0+). Anything else needs the table rebuilt (SQLite docs, "ALTER TABLE",
"Making Other Kinds Of Table Schema Changes"). The statement reader lives in sqlite_statements (with
sqlite_clauses and sqlite_tokens), what ALTER TABLE can do by version in sqlite_capability; both are re-exported
here for the modules that import them from this one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Final

from dbspecialist.knowledge.findings import Finding, Fix, RuleSpec, Severity
from dbspecialist.knowledge.migrations import lint_rules_sqlite_breaking as breaking
from dbspecialist.knowledge.migrations.lint_rules_sqlite_core import (
    Check,
    LintContext,
    _finding,
    _subject,
    _version_text,
)
from dbspecialist.knowledge.migrations.model import MigrationInputError
from dbspecialist.knowledge.migrations.sqlite_capability import (
    ADD_COLUMN_CHECKS_ROWS_SINCE,
    DROP_COLUMN_SETTLED,
    DROP_COLUMN_SINCE,
    GENERATED_COLUMNS_SINCE,
    RENAME_COLUMN_SINCE,
    RENAME_REWRITES_FOREIGN_KEYS_SINCE,
    SQLITE_SCHEMA_NAME_SINCE,
    VACUUM_INTO_SINCE,
    Version,
    add_column_blockers,
    needs_rebuild,
)
from dbspecialist.knowledge.migrations.sqlite_clauses import (
    ActionKind,
    AlterAction,
    ColumnDefinition,
    read_column_definition,
)
from dbspecialist.knowledge.migrations.sqlite_statements import (
    SqliteStatement,
    StatementKind,
    pragma_is_on,
    split_sqlite,
)
from dbspecialist.knowledge.sql_text import quote_ident

ENGINE: Final = "sqlite"

NEEDS_REBUILD = RuleSpec(
    id="MIG150",
    name="sqlite-alter-needs-rebuild",
    capability="migrations",
    engines=("sqlite",),
    severity=Severity.HIGH,
    fix="sometimes",
    summary="An ALTER TABLE that SQLite cannot execute; the table must be rebuilt (12-step procedure).",
)


def check_needs_rebuild(stmt: SqliteStatement, ctx: LintContext) -> Iterator[Finding]:
    """SQLite refuses this ALTER TABLE; the change needs the table rebuilt.

    ## Why is this bad?
    SQLite's ALTER TABLE only renames tables and columns, adds columns (no PRIMARY KEY, UNIQUE, non-constant
    default or STORED generated column) and drops columns. Changing a type, NOT NULL, a default or a
    constraint fails with a syntax error, so the migration stops half-way (SQLite docs, "ALTER TABLE").

    ## Use instead
    The 12-step rebuild from the same page: `PRAGMA foreign_keys=OFF`, then in one transaction create
    `new_X` with the wanted definition, copy the rows, drop `X`, rename `new_X` to `X`, recreate indexes,
    triggers and views, run `PRAGMA foreign_key_check`, commit, `PRAGMA foreign_keys=ON`.
    `plan_migration(dialect="sqlite")` writes it out for the table. A UNIQUE constraint is simpler: a
    `CREATE UNIQUE INDEX` enforces the same rule without a rebuild.
    """
    for action in stmt.actions:
        if action.kind == "rename_column" or action.kind == "drop_column":
            continue  # version gates have their own rules (MIG152, MIG153)
        reasons = needs_rebuild(action, version=ctx.version)
        if not reasons:
            continue
        fix = None
        if action.kind == "add_unique" and stmt.table:
            name = action.constraint_name or f"{stmt.table}_{'_'.join(action.columns)}_key"
            cols = ", ".join(quote_ident(c, ENGINE) for c in action.columns)
            fix = Fix(
                title=f"Create a UNIQUE index on {stmt.table} ({', '.join(action.columns)}) instead",
                statements=[
                    f"CREATE UNIQUE INDEX {quote_ident(name, ENGINE)} ON {quote_ident(stmt.table, ENGINE)} ({cols});"
                ],
                note="It fails if duplicates exist; find them first with GROUP BY ... HAVING COUNT(*) > 1.",
            )
        yield _finding(
            NEEDS_REBUILD,
            stmt,
            subject=_subject(stmt.table, action.column),
            kind="column" if action.column else "table",
            title=f"SQLite cannot run `{action.text}`: {reasons[0]}",
            evidence={
                "clause": action.text,
                "reasons": "; ".join(reasons),
                "sqlite_version": _version_text(ctx.version),
            },
            rationale=(
                "SQLite's ALTER TABLE supports only RENAME, ADD COLUMN and DROP COLUMN; the statement fails and "
                "a migration run without a transaction stops half-applied."
            ),
            help="Rebuild the table with the 12-step procedure (plan_migration writes it) or use a UNIQUE index.",
            fix=fix,
        )


ADD_NOT_NULL_WITHOUT_DEFAULT = RuleSpec(
    id="MIG151",
    name="sqlite-add-column-not-null-without-default",
    capability="migrations",
    engines=("sqlite",),
    severity=Severity.HIGH,
    fix="always",
    summary="ADD COLUMN ... NOT NULL without a non-NULL default, which SQLite rejects.",
)


def _placeholder_default(type_text: str) -> str:
    upper = type_text.upper()
    if "INT" in upper or any(word in upper for word in ("REAL", "FLOA", "DOUB", "NUM", "DEC", "BOOL")):
        return "0"
    if "BLOB" in upper:
        return "X''"
    return "''"


def check_add_not_null_without_default(stmt: SqliteStatement, ctx: LintContext) -> Iterator[Finding]:
    """ADD COLUMN ... NOT NULL needs a non-NULL DEFAULT in SQLite.

    ## Why is this bad?
    Existing rows get the column's default, so SQLite refuses a NOT NULL column whose default is NULL
    ("Cannot add a NOT NULL column with default value NULL"), even on an empty table.

    ## Example
    ```sql
    ALTER TABLE orders ADD COLUMN status TEXT NOT NULL;
    ```

    ## Use instead
    ```sql
    ALTER TABLE orders ADD COLUMN status TEXT NOT NULL DEFAULT 'new';
    ```
    If no default makes sense, add the column as nullable, backfill it, then rebuild the table with
    NOT NULL (12-step procedure).
    """
    for action in stmt.actions:
        definition = action.definition
        if action.kind != "add_column" or definition is None or not definition.not_null:
            continue
        if definition.generated is not None or not definition.default_is_null:
            continue
        value = _placeholder_default(definition.type_text)
        fixed = f"ALTER TABLE {quote_ident(stmt.table or '?', ENGINE)} ADD COLUMN {definition.text} DEFAULT {value};"
        yield _finding(
            ADD_NOT_NULL_WITHOUT_DEFAULT,
            stmt,
            subject=_subject(stmt.table, definition.name),
            kind="column",
            title=f"SQLite rejects NOT NULL column {definition.name} without a non-NULL default",
            evidence={"column": definition.name, "type": definition.type_text or None},
            rationale=(
                "Existing rows take the new column's default; with NOT NULL and a NULL default SQLite refuses the "
                "ALTER TABLE outright."
            ),
            help="Give the column a DEFAULT, or add it nullable, backfill, then rebuild with NOT NULL.",
            fix=Fix(
                title=f"Add {definition.name} with a default",
                statements=[fixed],
                safety="display-only",
                note=f"{value} is a placeholder: use the value existing rows should have.",
            ),
        )


DROP_COLUMN_VERSION = RuleSpec(
    id="MIG152",
    name="sqlite-drop-column-unsupported",
    capability="migrations",
    engines=("sqlite",),
    severity=Severity.HIGH,
    fix="never",
    summary="ALTER TABLE ... DROP COLUMN on SQLite before 3.35.0 (or on the early 3.35 releases).",
)


def check_drop_column_version(stmt: SqliteStatement, ctx: LintContext) -> Iterator[Finding]:
    """DROP COLUMN needs SQLite 3.35.0; older versions need the table rebuilt.

    ## Why is this bad?
    Before 3.35.0 `ALTER TABLE ... DROP COLUMN` is a syntax error. The first 3.35 patch releases fixed
    several DROP COLUMN defects, so 3.35.0 to 3.35.4 get a medium-severity warning (SQLite release log).
    Even where it is supported, SQLite refuses to drop a column that is part of the PRIMARY KEY, UNIQUE,
    indexed, used by a foreign key, a CHECK, a generated column, a trigger or a view.

    ## Use instead
    Upgrade, or rebuild the table without the column (12-step procedure; `plan_migration` writes it).
    """
    if not any(a.kind == "drop_column" for a in stmt.actions):
        return
    if ctx.version >= DROP_COLUMN_SETTLED:
        return
    early = ctx.version >= DROP_COLUMN_SINCE
    for action in stmt.actions:
        if action.kind != "drop_column":
            continue
        yield _finding(
            DROP_COLUMN_VERSION,
            stmt,
            subject=_subject(stmt.table, action.column),
            kind="column",
            title=(
                f"DROP COLUMN on SQLite {_version_text(ctx.version)}: early 3.35 releases had DROP COLUMN defects"
                if early
                else f"SQLite {_version_text(ctx.version)} has no DROP COLUMN (added in 3.35.0)"
            ),
            evidence={"sqlite_version": _version_text(ctx.version), "requires": "3.35.0", "settled": "3.35.5"},
            rationale=(
                "The statement is a syntax error before 3.35.0; the first 3.35 patch releases fixed DROP COLUMN "
                "bugs, so prefer 3.35.5 or later."
            ),
            help="Upgrade SQLite, or rebuild the table without the column (12-step procedure).",
            severity=Severity.MEDIUM if early else None,
        )


RENAME_COLUMN_VERSION = RuleSpec(
    id="MIG153",
    name="sqlite-rename-column-unsupported",
    capability="migrations",
    engines=("sqlite",),
    severity=Severity.HIGH,
    fix="never",
    summary="ALTER TABLE ... RENAME COLUMN on SQLite before 3.25.0.",
)


def check_rename_column_version(stmt: SqliteStatement, ctx: LintContext) -> Iterator[Finding]:
    """RENAME COLUMN needs SQLite 3.25.0; older versions need the table rebuilt.

    ## Why is this bad?
    Before 3.25.0 `ALTER TABLE ... RENAME COLUMN` is a syntax error. From 3.25.0 SQLite also rewrites the
    column's name inside indexes, triggers and views, which a hand-made rebuild has to do itself.

    ## Use instead
    Upgrade SQLite, or rebuild the table with the new column name and rewrite the triggers and views that
    use the old one.
    """
    if ctx.version >= RENAME_COLUMN_SINCE:
        return
    for action in stmt.actions:
        if action.kind != "rename_column":
            continue
        yield _finding(
            RENAME_COLUMN_VERSION,
            stmt,
            subject=_subject(stmt.table, action.column),
            kind="column",
            title=f"SQLite {_version_text(ctx.version)} has no RENAME COLUMN (added in 3.25.0)",
            evidence={"sqlite_version": _version_text(ctx.version), "requires": "3.25.0"},
            rationale="The statement is a syntax error on this version and stops the migration.",
            help="Upgrade SQLite, or rebuild the table with the new column name (12-step procedure).",
        )


FOREIGN_KEYS_IN_TRANSACTION = RuleSpec(
    id="MIG154",
    name="sqlite-foreign-keys-pragma-in-transaction",
    capability="migrations",
    engines=("sqlite",),
    severity=Severity.HIGH,
    fix="always",
    summary="PRAGMA foreign_keys inside a transaction, where SQLite ignores it.",
)


def check_foreign_keys_in_transaction(stmt: SqliteStatement, ctx: LintContext) -> Iterator[Finding]:
    """PRAGMA foreign_keys is a no-op inside a transaction.

    ## Why is this bad?
    SQLite ignores `PRAGMA foreign_keys` while a transaction is open (SQLite docs, "SQLite Foreign Key
    Support"). A rebuild that turns foreign keys off after BEGIN still runs with them on: `DROP TABLE X`
    then deletes every row first, firing ON DELETE CASCADE / SET NULL in child tables or failing on them.

    ## Use instead
    ```sql
    PRAGMA foreign_keys = OFF;
    BEGIN IMMEDIATE;
    -- rebuild
    COMMIT;
    PRAGMA foreign_keys = ON;
    ```
    """
    if stmt.kind != "pragma" or stmt.pragma is None or stmt.transaction is None:
        return
    name, value = stmt.pragma
    if name != "foreign_keys" or value is None:
        return
    yield _finding(
        FOREIGN_KEYS_IN_TRANSACTION,
        stmt,
        subject=stmt.text,
        kind="query",
        title=f"`{stmt.text}` inside a transaction does nothing; foreign keys stay as they were",
        evidence={"value": value, "transaction": stmt.transaction},
        rationale=(
            "SQLite only changes foreign_keys outside a transaction; a rebuild relying on it would DROP the old "
            "table with foreign keys still enforced, cascading deletes into child tables."
        ),
        help="Move the PRAGMA before BEGIN (and the re-enabling one after COMMIT).",
        fix=Fix(
            title="Run the PRAGMA outside the transaction",
            statements=[f"PRAGMA foreign_keys = {value};"],
            safety="display-only",
            note="Place it before BEGIN (turning off) or after COMMIT (turning on).",
        ),
    )


RENAME_ASIDE = RuleSpec(
    id="MIG155",
    name="sqlite-rebuild-renames-original",
    capability="migrations",
    engines=("sqlite",),
    severity=Severity.HIGH,
    fix="sometimes",
    summary="A rebuild that renames the original table aside and recreates it under the old name.",
)


def check_rename_aside(stmt: SqliteStatement, ctx: LintContext) -> Iterator[Finding]:
    """Renaming X to old_X and recreating X breaks foreign keys, triggers and views that point at X.

    ## Why is this bad?
    Since 3.26.0 (with legacy_alter_table off, the default) `ALTER TABLE X RENAME TO old_X` rewrites every
    FOREIGN KEY, trigger and view that names X so that they name old_X. When old_X is dropped after the copy,
    those references dangle: child tables reference a table that no longer exists (SQLite docs, ALTER TABLE,
    the caution under "Making Other Kinds Of Table Schema Changes").

    ## Use instead
    Create `new_X`, copy into it, drop `X`, then `ALTER TABLE new_X RENAME TO X`.
    """
    for action in stmt.actions:
        if action.kind != "rename_table" or stmt.table is None:
            continue
        original = stmt.table.lower()
        recreated = next(
            (
                later
                for later in ctx.statements[stmt.index + 1 :]
                if later.kind == "create_table" and (later.name or "").lower() == original
            ),
            None,
        )
        if recreated is None:
            continue
        yield _finding(
            RENAME_ASIDE,
            stmt,
            subject=stmt.table,
            kind="table",
            title=f"Renaming {stmt.table} aside and recreating it (line {recreated.line}) repoints references to "
            f"{action.new_name}",
            evidence={"renamed_to": action.new_name, "recreated_at_line": recreated.line},
            rationale=(
                "RENAME TABLE rewrites foreign keys, triggers and views to follow the renamed table; once it is "
                "dropped they reference nothing."
            ),
            help=f"Create new_{stmt.table}, copy, drop {stmt.table}, then rename new_{stmt.table} to {stmt.table}.",
        )


REBUILD_WITH_FOREIGN_KEYS = RuleSpec(
    id="MIG156",
    name="sqlite-rebuild-with-foreign-keys-on",
    capability="migrations",
    engines=("sqlite",),
    severity=Severity.HIGH,
    fix="always",
    summary="A table rebuild (DROP TABLE X, then RENAME ... TO X) without PRAGMA foreign_keys=OFF first.",
)


def _foreign_keys_off_before(statements: list[SqliteStatement], index: int) -> bool:
    state: bool | None = None
    for earlier in statements[:index]:
        if earlier.kind == "pragma" and earlier.pragma and earlier.pragma[0] == "foreign_keys":
            value = pragma_is_on(earlier.pragma[1])
            if value is not None and earlier.transaction is None:
                state = value
    return state is False


def check_rebuild_with_foreign_keys(stmt: SqliteStatement, ctx: LintContext) -> Iterator[Finding]:
    """A table rebuild that drops the old table while foreign keys are still enforced.

    ## Why is this bad?
    With foreign keys on, `DROP TABLE X` first deletes every row of X (SQLite docs, "SQLite Foreign Key
    Support", DROP TABLE): child rows with ON DELETE CASCADE are deleted, SET NULL ones lose their parent,
    and other references make the drop fail. In a rebuild the parent rows come back under the new table,
    but the children's data is already gone.

    ## Use instead
    Run `PRAGMA foreign_keys = OFF;` before BEGIN, check `PRAGMA foreign_key_check` before COMMIT, and
    `PRAGMA foreign_keys = ON;` after it.
    """
    if stmt.kind != "drop_table" or stmt.table is None:
        return
    name = stmt.table.lower()
    renamed_in = next(
        (
            later
            for later in ctx.statements[stmt.index + 1 :]
            if later.kind == "alter_table"
            and any(a.kind == "rename_table" and (a.new_name or "").lower() == name for a in later.actions)
        ),
        None,
    )
    if renamed_in is None or _foreign_keys_off_before(ctx.statements, stmt.index):
        return
    yield _finding(
        REBUILD_WITH_FOREIGN_KEYS,
        stmt,
        subject=stmt.table,
        kind="table",
        title=f"Rebuilding {stmt.table} with foreign keys on: DROP TABLE deletes its rows first and cascades",
        evidence={"renamed_back_at_line": renamed_in.line},
        rationale=(
            "DROP TABLE with foreign keys enforced runs an implicit DELETE; ON DELETE actions fire in child tables "
            "before the rebuilt table takes the name back."
        ),
        help="Put PRAGMA foreign_keys = OFF before the transaction and turn it back on after COMMIT.",
        fix=Fix(
            title="Disable foreign keys around the rebuild",
            statements=["PRAGMA foreign_keys = OFF;", "PRAGMA foreign_key_check;", "PRAGMA foreign_keys = ON;"],
            safety="display-only",
            note="The first goes before BEGIN, the check before COMMIT, the last after COMMIT.",
        ),
    )


RULES: tuple[tuple[RuleSpec, Check], ...] = (
    (NEEDS_REBUILD, check_needs_rebuild),
    (ADD_NOT_NULL_WITHOUT_DEFAULT, check_add_not_null_without_default),
    (DROP_COLUMN_VERSION, check_drop_column_version),
    (RENAME_COLUMN_VERSION, check_rename_column_version),
    (FOREIGN_KEYS_IN_TRANSACTION, check_foreign_keys_in_transaction),
    (RENAME_ASIDE, check_rename_aside),
    (REBUILD_WITH_FOREIGN_KEYS, check_rebuild_with_foreign_keys),
    *breaking.RULES,
)


def lint_sqlite(sql: str, version: tuple[int, int, int]) -> tuple[int, list[Finding], list[str]]:
    """(statements read, findings with line = statement's first line, parse errors) for a SQLite migration."""
    try:
        statements = split_sqlite(sql)
    except MigrationInputError as exc:
        return 0, [], [str(exc)]
    ctx = LintContext(version=version, statements=statements)
    findings: list[Finding] = []
    errors = [f"line {s.line}: cannot read `{_clip(s.text)}`: {s.error}" for s in statements if s.error]
    for stmt in statements:
        for _spec, check in RULES:
            findings.extend(check(stmt, ctx))
    return len(statements), findings, errors


def _clip(text: str, limit: int = 80) -> str:
    flat = re.sub(r"\s+", " ", text)
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


__all__ = [
    "ADD_COLUMN_CHECKS_ROWS_SINCE",
    "DROP_COLUMN_SETTLED",
    "DROP_COLUMN_SINCE",
    "GENERATED_COLUMNS_SINCE",
    "RENAME_COLUMN_SINCE",
    "RENAME_REWRITES_FOREIGN_KEYS_SINCE",
    "RULES",
    "SQLITE_SCHEMA_NAME_SINCE",
    "VACUUM_INTO_SINCE",
    "ActionKind",
    "AlterAction",
    "Check",
    "ColumnDefinition",
    "LintContext",
    "SqliteStatement",
    "StatementKind",
    "Version",
    "add_column_blockers",
    "lint_sqlite",
    "needs_rebuild",
    "pragma_is_on",
    "read_column_definition",
    "split_sqlite",
]
