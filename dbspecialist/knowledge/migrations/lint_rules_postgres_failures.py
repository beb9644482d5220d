"""PostgreSQL lint rules: statements the server refuses outright, so the migration stops half-way.

Two cases the grammar alone does not catch: a new enum value used before the transaction that added it commits
(SQLSTATE 55P04, "unsafe use of new value"; PostgreSQL docs, ALTER TYPE notes, 12+), and the table-level
`NOT NULL col [NOT VALID]` constraint, which only PostgreSQL 18 accepts. The second is read from the parse tree
when the installed pglast has PostgreSQL 18's grammar (pglast 8), and from the statement's text when an older
pglast rejects it (`unparsed_not_null`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from typing import Any, Final

from dbspecialist.knowledge.findings import Finding, Fix, Severity
from dbspecialist.knowledge.migrations.lint_rules_postgres_coltypes import type_base
from dbspecialist.knowledge.migrations.lint_rules_postgres_core import (
    LintState,
    alter_cmds,
    alter_table_name,
    enum_name,
    finding,
    ident,
    short,
    spec,
)
from dbspecialist.knowledge.migrations.model import MigrationInputError
from dbspecialist.knowledge.migrations.pg_statements import PgStatement, relation_name, split_postgres
from dbspecialist.knowledge.sql_text import index_name

ENUM_VALUE_IN_TRANSACTION_SINCE: Final = (12, 0, 0)  # before 12, ADD VALUE itself fails in a transaction (MIG005)
NOT_NULL_CONSTRAINT_SINCE: Final = (18, 0, 0)
CHECK_SHORTCUT_SINCE: Final = (12, 0, 0)
# Statement kinds whose string constants are never read as enum input.
_NOT_A_USE: Final = frozenset({"AlterEnumStmt", "CreateEnumStmt", "VariableSetStmt", "TransactionStmt", "CommentStmt"})
_NAME: Final = r'(?:"[^"]+"|[A-Za-z_][\w$]*)'
# `ADD [CONSTRAINT c] NOT NULL col` (ALTER TABLE) or `, [CONSTRAINT c] NOT NULL col` (CREATE TABLE), as text.
_NOT_NULL_TEXT: Final = re.compile(
    rf"(?:\bADD|[(,])\s*(?:CONSTRAINT\s+({_NAME})\s+)?NOT\s+NULL\s+({_NAME})(?:\s+NO\s+INHERIT)?(\s+NOT\s+VALID)?",
    re.IGNORECASE,
)
_TABLE_TEXT: Final = re.compile(
    rf"\s*(ALTER|CREATE)\s+TABLE\s+(?:IF\s+(?:NOT\s+)?EXISTS\s+)?(?:ONLY\s+)?({_NAME}(?:\.{_NAME})?)", re.IGNORECASE
)

ENUM_VALUE_UNCOMMITTED = spec(
    "MIG051",
    "enum-value-used-in-adding-transaction",
    Severity.HIGH,
    "A value added by ALTER TYPE ... ADD VALUE is used before the transaction that added it commits.",
    status="preview",
)
NOT_NULL_CONSTRAINT_BEFORE_18 = spec(
    "MIG052",
    "not-null-constraint-before-18",
    Severity.HIGH,
    "ADD CONSTRAINT ... NOT NULL col [NOT VALID] (PostgreSQL 18 syntax) for a server older than 18.",
    fix="always",
    status="preview",
)


# ----------------------------------------------------------------------------------------------- MIG051


def check_enum_value_uncommitted(statement: PgStatement, state: LintState) -> Iterator[Finding]:
    """A new enum value is used in the transaction that added it: PostgreSQL refuses it until that commits.

    ## Why is this bad?
    From PostgreSQL 12, `ALTER TYPE ... ADD VALUE` may run inside a transaction block, but the value it adds
    cannot be stored, cast or compared until that transaction has committed. The first statement that uses it
    fails with "unsafe use of new value" (SQLSTATE 55P04) and the whole transaction rolls back, enum value
    included. An INSERT or UPDATE writing the value, a DEFAULT or CHECK naming it, or a `'value'::type` cast all
    count. Enum types created in the same transaction are exempt: their values are usable at once.

    ## Example
    ```sql
    BEGIN;
    ALTER TYPE order_status ADD VALUE 'refunded';
    UPDATE orders SET status = 'refunded' WHERE refunded_at IS NOT NULL;
    COMMIT;
    ```

    ## Use instead
    ```sql
    ALTER TYPE order_status ADD VALUE IF NOT EXISTS 'refunded';  -- outside the transaction: commits on its own
    BEGIN;
    UPDATE orders SET status = 'refunded' WHERE refunded_at IS NOT NULL;
    COMMIT;
    ```

    ## Notes
    Transaction-aware like the other rules: explicit BEGIN ... COMMIT blocks, and the whole file with
    `assume_in_transaction` (then the fix is a separate, non-transactional migration for the ADD VALUE). A plain
    string that equals the new value counts as a use even when the column's type is not visible in the file
    (evidence `match` says whether a cast, a column of the enum type, or only the literal was seen). Reported
    once per value, at the first statement that uses it (that one fails). Before PostgreSQL 12 the ADD VALUE
    itself fails inside a transaction block (MIG005). Neither squawk nor strong_migrations has this check.
    """
    transaction = state.transaction
    if transaction is None or not transaction.enum_values or statement.kind in _NOT_A_USE:
        return
    if state.version < ENUM_VALUE_IN_TRANSACTION_SINCE:
        return
    wanted = {value for _type, value in transaction.enum_values}
    for value, cast_type, column_type in _string_constants(statement.node):
        if value not in wanted:
            continue
        key, match = _enum_key(transaction.enum_values, value, cast_type, column_type)
        if key is None:
            continue
        added = state.statements[transaction.enum_values.pop(key)]
        wanted = {v for _t, v in transaction.enum_values}
        yield _enum_finding(statement, state, added, key, match)


def _enum_key(
    added: dict[tuple[str, str], int], value: str, cast_type: str | None, column_type: str | None
) -> tuple[tuple[str, str] | None, str]:
    """Which added (type, value) a string constant uses, and how sure we are ("cast", "column_type", "literal")."""
    for seen, match in ((cast_type, "cast"), (column_type, "column_type")):
        if seen is not None:
            return ((seen, value), match) if (seen, value) in added else (None, "")
    candidates = sorted(key for key in added if key[1] == value)
    return (candidates[0], "literal") if candidates else (None, "")


def _string_constants(node: Any, column_type: str | None = None) -> Iterator[tuple[str, str | None, str | None]]:
    """(text, type it is cast to, type of the column it is a default or check of) for each string constant."""
    from pglast import ast

    if isinstance(node, ast.TypeCast) and isinstance(node.arg, ast.A_Const) and isinstance(node.arg.val, ast.String):
        yield str(node.arg.val.sval), type_base(node.typeName) or None, column_type
        return
    if isinstance(node, ast.A_Const):
        if isinstance(node.val, ast.String):
            yield str(node.val.sval), None, column_type
        return
    if isinstance(node, ast.ColumnDef) and node.typeName is not None:
        column_type = type_base(node.typeName)
    if isinstance(node, ast.Node):
        for field in node:
            yield from _string_constants(getattr(node, field), column_type)
    elif isinstance(node, (tuple, list)):
        for item in node:
            yield from _string_constants(item, column_type)


def _enum_finding(
    statement: PgStatement, state: LintState, added: PgStatement, key: tuple[str, str], match: str
) -> Finding:
    transaction = state.transaction
    assert transaction is not None
    type_name, value = key
    quoted = "'" + value.replace("'", "''") + "'"
    add_value = f"ALTER TYPE {ident(type_name)} ADD VALUE IF NOT EXISTS {quoted};"
    if transaction.by_tool:
        fix = Fix(
            title="Add the value in its own, non-transactional migration",
            statements=[add_value],
            safety="display-only",
            note="Move it to an earlier migration that runs outside a transaction (Rails disable_ddl_transaction!, "
            "Django atomic = False, Flyway executeInTransaction=false): it commits on its own, then this one "
            "can use the value.",
        )
        where = "the transaction the migration tool wraps around the file"
    else:
        fix = Fix(
            title="Commit the new value before using it",
            statements=[add_value, "BEGIN;", statement.text.rstrip(";") + ";", "COMMIT;"],
            safety="display-only",
            note=f"Move the ADD VALUE (line {added.line}) before the BEGIN at line {transaction.begin_line}, or "
            "COMMIT right after it and BEGIN again: the value must be committed before any statement uses it.",
        )
        where = f"the transaction begun at line {transaction.begin_line}"
    certainty = "" if match != "literal" else f" (if the constant is read as {type_name})"
    return finding(
        ENUM_VALUE_UNCOMMITTED,
        statement,
        title=f"{quoted} was added to {type_name} at line {added.line} in this transaction: using it here fails"
        + certainty,
        subject=f"{type_name}.{value}",
        evidence={
            "type": type_name,
            "value": value,
            "added_line": added.line,
            "match": match,
            "transaction_begin_line": transaction.begin_line,
            "assume_in_transaction": transaction.by_tool,
            **state.version_evidence(),
        },
        rationale=(
            f"The value is still uncommitted in {where}. PostgreSQL refuses to store, cast or compare an "
            "uncommitted enum value (55P04 unsafe use of new value), so this statement fails and the whole "
            "transaction, ADD VALUE included, rolls back."
        ),
        help="Commit the ADD VALUE first (run it before BEGIN, or in its own migration outside the transaction).",
        fix=fix,
    )


# ----------------------------------------------------------------------------------------------- MIG052


def table_not_null_constraints(statement: PgStatement) -> list[tuple[str, Any]]:
    """(column, Constraint) for each table-level `NOT NULL col` of a CREATE TABLE or ALTER TABLE ... ADD."""
    node: Any = statement.node
    found: list[tuple[str, Any]] = []
    if statement.kind == "CreateStmt":
        candidates = [element for element in node.tableElts or () if type(element).__name__ == "Constraint"]
    else:
        candidates = [cmd.def_ for _p, sub, cmd in alter_cmds(statement) if sub == "AT_AddConstraint"]
    for con in candidates:
        if con is not None and enum_name(con.contype) == "CONSTR_NOTNULL" and con.keys:
            found.append((str(con.keys[0].sval), con))
    return found


def check_not_null_constraint_before_18(statement: PgStatement, state: LintState) -> Iterator[Finding]:
    """`NOT NULL col` as a table constraint (with or without NOT VALID) is a syntax error before PostgreSQL 18.

    ## Why is this bad?
    PostgreSQL 18 stores NOT NULL as a named constraint and accepts `ALTER TABLE t ADD CONSTRAINT c NOT NULL col
    NOT VALID`, then `VALIDATE CONSTRAINT c`, the online way to make a column NOT NULL. Older servers have no
    such syntax: the statement fails at `NOT`, and a migration tested against 18 stops there on production.
    Before 18 the online path is a CHECK: `CHECK (col IS NOT NULL) NOT VALID`, `VALIDATE`, then `SET NOT NULL`,
    which skips its table scan when a validated CHECK proves the column (12+).

    ## Example
    ```sql
    ALTER TABLE orders ADD CONSTRAINT orders_customer_id_not_null NOT NULL customer_id NOT VALID;
    ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_id_not_null;
    ```

    ## Use instead
    ```sql
    ALTER TABLE orders ADD CONSTRAINT orders_customer_id_not_null CHECK (customer_id IS NOT NULL) NOT VALID;
    ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_id_not_null;
    ALTER TABLE orders ALTER COLUMN customer_id SET NOT NULL;
    ALTER TABLE orders DROP CONSTRAINT orders_customer_id_not_null;
    ```

    ## Notes
    Judged against the version given (`--version`); without one, against the assumed 15 at medium severity,
    since the author may well target 18. On 18+ nothing is reported here (MIG016 covers a plain `NOT NULL col`
    that validates under lock). With pglast 8 the statement is read from the parse tree; an older pglast
    (PostgreSQL 17 grammar) rejects it, and the linter then recognises it from the text of the statement that
    failed to parse, reports this rule, and keeps the parse error. No squawk or strong_migrations equivalent.
    """
    if state.version >= NOT_NULL_CONSTRAINT_SINCE:
        return
    node: Any = statement.node
    table = relation_name(node.relation) if statement.kind == "CreateStmt" else alter_table_name(statement)
    for column, con in table_not_null_constraints(statement):
        not_valid = bool(con.skip_validation)
        name = str(con.conname) if con.conname else None
        new_table = statement.kind == "CreateStmt" or state.is_new(table)
        yield _not_null_finding(statement, state, table, column, name, not_valid, new_table=new_table)


def _not_null_finding(
    statement: PgStatement,
    state: LintState,
    table: str,
    column: str,
    name: str | None,
    not_valid: bool,
    *,
    new_table: bool,
) -> Finding:
    written = f"NOT NULL {column}" + (" NOT VALID" if not_valid else "")
    version = f"{state.version_evidence()['version']}" + ("" if state.version_given else " (assumed; pass the version)")
    return finding(
        NOT_NULL_CONSTRAINT_BEFORE_18,
        statement,
        title=f"{written} is PostgreSQL 18 syntax: a syntax error on {version}",
        subject=f"{table}.{column}",
        subject_kind="column",
        table=table,
        evidence={"column": column, "not_valid": not_valid, "new_table": new_table, **state.version_evidence()},
        rationale=(
            "Only PostgreSQL 18 accepts NOT NULL as a table constraint (and NOT VALID for it). Older servers reject "
            "the statement, so the migration stops here; a validated CHECK (col IS NOT NULL) gives the same "
            "guarantee online and lets SET NOT NULL skip its scan (12+)."
        ),
        help=(
            "Use SET NOT NULL (the table is new)."
            if new_table
            else "Use CHECK (col IS NOT NULL) NOT VALID, VALIDATE it, then SET NOT NULL (12+)."
        ),
        fix=_not_null_fix(table, column, name, new_table, state),
        severity=None if state.version_given else Severity.MEDIUM,
    )


def _not_null_fix(table: str, column: str, name: str | None, new_table: bool, state: LintState) -> Fix:
    t, c = ident(table), ident(column)
    if new_table:
        return Fix(
            title="Mark the column NOT NULL",
            statements=[f"ALTER TABLE {t} ALTER COLUMN {c} SET NOT NULL;"],
            note="Or write NOT NULL in the column's definition; a table created in this file has no rows to scan.",
        )
    n = ident(name or index_name(short(table), [column], "not_null"))
    steps = [
        f"ALTER TABLE {t} ADD CONSTRAINT {n} CHECK ({c} IS NOT NULL) NOT VALID;",
        f"ALTER TABLE {t} VALIDATE CONSTRAINT {n};",
    ]
    if state.version < CHECK_SHORTCUT_SINCE:
        return Fix(
            title="Enforce NOT NULL with a validated CHECK",
            statements=steps,
            note="Before 12, SET NOT NULL always scans under ACCESS EXCLUSIVE: keep the CHECK as the guarantee. "
            "Commit between the two statements.",
        )
    return Fix(
        title="Prove NOT NULL with a validated CHECK, then SET NOT NULL",
        statements=[*steps, f"ALTER TABLE {t} ALTER COLUMN {c} SET NOT NULL;", f"ALTER TABLE {t} DROP CONSTRAINT {n};"],
        note="Run each statement in its own transaction; SET NOT NULL then skips the scan (PostgreSQL 12+).",
    )


@cache
def parser_reads_pg18() -> bool:
    """Whether the installed pglast parses PostgreSQL 18's `ADD CONSTRAINT c NOT NULL col NOT VALID` (pglast 8+)."""
    return _parses("ALTER TABLE t ADD CONSTRAINT c NOT NULL a NOT VALID")


def _parses(text: str) -> bool:
    try:
        split_postgres(text)
    except MigrationInputError:
        return False
    return True


def unparsed_not_null(pieces: list[tuple[int, str]], state: LintState) -> tuple[list[Finding], list[str]]:
    """MIG052 findings and parse-error notes for rejected statements (`pieces`: first line, text) in the 18 form.

    Only when the installed pglast lacks PostgreSQL 18's grammar (pglast 7): with pglast 8 such statements parse
    and are checked from the tree, so a piece that still fails has another error. On 18+ only the note is added.
    """
    if parser_reads_pg18():
        return [], []
    import pglast

    found: list[Finding] = []
    notes: list[str] = []
    for line, text in pieces:
        head = _TABLE_TEXT.match(text)
        matches = list(_NOT_NULL_TEXT.finditer(text, head.end())) if head is not None else []
        if head is None or not matches:
            continue
        notes.append(
            f"line {line}: NOT NULL as a table constraint is PostgreSQL 18 syntax, which the installed pglast "
            f"{pglast.__version__} (an older PostgreSQL grammar) cannot read; pglast 8 lints it"
        )
        if state.version >= NOT_NULL_CONSTRAINT_SINCE:
            continue
        table = _unquote(head.group(2))
        stand_in = PgStatement(len(found), text, line, line + text.count("\n"), None, None)  # type: ignore[arg-type]
        new_table = head.group(1).upper() == "CREATE" or state.is_new(table)
        for match in matches:
            name = _unquote(match.group(1)) if match.group(1) else None
            column = _unquote(match.group(2))
            result = _not_null_finding(stand_in, state, table, column, name, bool(match.group(3)), new_table=new_table)
            found.append(result.model_copy(update={"evidence": {**result.evidence, "parsed": False}}))
    return found, notes


def _unquote(name: str) -> str:
    return ".".join(part[1:-1] if part.startswith('"') else part.lower() for part in re.findall(_NAME, name))
