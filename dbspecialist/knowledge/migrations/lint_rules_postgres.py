"""The PostgreSQL migration linter's rules (MIG001-MIG099) and the single pass that runs them.

Every squawk rule is covered under our own id (SQUAWK_NAMES maps each id to the squawk rule names it covers),
plus strong_migrations' PostgreSQL checks squawk lacks (STRONG_MIGRATIONS) and transaction-aware rules of our own.
The rules live in lint_rules_postgres_* modules by theme; this module lists them and walks a file once:
parse (pglast), classify each statement's operations and locks (pg_classify), run the rules that look at that
statement kind, record what the statement changed (transaction, locks held, timeouts set).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection
from typing import TYPE_CHECKING, Any, Final

from dbspecialist.knowledge.findings import Finding, RuleSpec
from dbspecialist.knowledge.migrations import lint_rules_postgres_breaking as breaking
from dbspecialist.knowledge.migrations import lint_rules_postgres_columns as columns
from dbspecialist.knowledge.migrations import lint_rules_postgres_constraints as constraints
from dbspecialist.knowledge.migrations import lint_rules_postgres_drops as drops
from dbspecialist.knowledge.migrations import lint_rules_postgres_failures as failures
from dbspecialist.knowledge.migrations import lint_rules_postgres_hygiene as hygiene
from dbspecialist.knowledge.migrations import lint_rules_postgres_index as index
from dbspecialist.knowledge.migrations import lint_rules_postgres_table_locks as table_locks
from dbspecialist.knowledge.migrations import lint_rules_postgres_transactions as transactions
from dbspecialist.knowledge.migrations import lint_rules_postgres_types as types
from dbspecialist.knowledge.migrations import pg_locks
from dbspecialist.knowledge.migrations.lint_rules_postgres_core import Check, LintState
from dbspecialist.knowledge.migrations.model import MigrationInputError
from dbspecialist.knowledge.migrations.pg_classify import ClassifiedOp, SchemaState, classify, operation, statement_lock
from dbspecialist.knowledge.migrations.pg_statements import PgStatement, relation_name, split_postgres, transaction_kind
from dbspecialist.knowledge.migrations.versions import Version

if TYPE_CHECKING:
    from dbspecialist.adapters.catalog import Catalog

_ALTER: Final = frozenset({"AlterTableStmt"})
_COLUMNS: Final = frozenset({"CreateStmt", "AlterTableStmt"})
_ALL: Final = None

# (rule, check, statement kinds it looks at — None for every statement)
_TABLE: Final[tuple[tuple[RuleSpec, Check, frozenset[str] | None], ...]] = (
    (index.CREATE_INDEX, index.check_create_index, frozenset({"IndexStmt"})),
    (index.DROP_INDEX, index.check_drop_index, frozenset({"DropStmt"})),
    (index.REINDEX, index.check_reindex, frozenset({"ReindexStmt"})),
    (index.DETACH_PARTITION, index.check_detach_partition, _ALTER),
    (index.IN_TRANSACTION, index.check_in_transaction, _ALL),
    (constraints.CHECK_CONSTRAINT, constraints.check_check_constraint, _ALTER),
    (constraints.VALIDATE_SAME_TRANSACTION, constraints.check_validate_same_transaction, _ALTER),
    (constraints.FOREIGN_KEY, constraints.check_foreign_key, _ALTER),
    (constraints.UNIQUE_CONSTRAINT, constraints.check_unique_constraint, _ALTER),
    (constraints.PRIMARY_KEY, constraints.check_primary_key, _ALTER),
    (constraints.DOMAIN_CONSTRAINT, constraints.check_domain_constraint, frozenset({"CreateDomainStmt"})),
    (constraints.DOMAIN_ADD_CONSTRAINT, constraints.check_domain_add_constraint, frozenset({"AlterDomainStmt"})),
    (columns.VOLATILE_DEFAULT, columns.check_volatile_default, _ALTER),
    (columns.GENERATED_COLUMN, columns.check_generated_column, _ALTER),
    (columns.REQUIRED_COLUMN, columns.check_required_column, _ALTER),
    (columns.SET_NOT_NULL, columns.check_set_not_null, _ALTER),
    (columns.TYPE_CHANGE, columns.check_type_change, _ALTER),
    (breaking.RENAME_COLUMN, breaking.check_rename_column, frozenset({"RenameStmt"})),
    (breaking.RENAME_TABLE, breaking.check_rename_table, frozenset({"RenameStmt"})),
    (breaking.DROP_COLUMN, breaking.check_drop_column, _ALTER),
    (breaking.DROP_TABLE, breaking.check_drop_table, frozenset({"DropStmt"})),
    (breaking.DROP_DATABASE, breaking.check_drop_database, frozenset({"DropdbStmt"})),
    (breaking.DROP_NOT_NULL, breaking.check_drop_not_null, _ALTER),
    (breaking.TRUNCATE_CASCADE, breaking.check_truncate_cascade, frozenset({"TruncateStmt"})),
    (types.INT_COLUMN, types.check_int_column, _COLUMNS),
    (types.SMALLINT_COLUMN, types.check_smallint_column, _COLUMNS),
    (types.SERIAL_COLUMN, types.check_serial_column, _COLUMNS),
    (types.VARCHAR_LIMIT, types.check_varchar_limit, _COLUMNS),
    (types.TIMESTAMP_NO_ZONE, types.check_timestamp, _COLUMNS),
    (types.CHAR_COLUMN, types.check_char, _COLUMNS),
    (types.JSON_COLUMN, types.check_json, _COLUMNS),
    (hygiene.ROBUST, hygiene.check_robust, _ALL),
    (transactions.NESTING, transactions.check_nesting, frozenset({"TransactionStmt"})),
    (transactions.UNCOMMITTED, transactions.check_uncommitted, frozenset({"TransactionStmt"})),
    (breaking.ENUM_APPENDED, breaking.check_enum_appended, frozenset({"AlterEnumStmt"})),
    (
        hygiene.SCHEMA_QUALIFIED,
        hygiene.check_schema_qualified,
        frozenset({"CreateStmt", "CreateTableAsStmt", "AlterTableStmt", "DropStmt", "RenameStmt"}),
    ),
    (hygiene.IDENTIFIER_TOO_LONG, hygiene.check_identifier_too_long, _ALL),
    (
        hygiene.DUPLICATE_COLUMN,
        hygiene.check_duplicate_column,
        frozenset({"InsertStmt", "UpdateStmt", "CreateStmt", "ViewStmt", "CreateTableAsStmt"}),
    ),
    (index.REWRITE_COMMAND, index.check_rewrite_command, frozenset({"VacuumStmt", "ClusterStmt"})),
    (transactions.LOCK_TIMEOUT_RULE, transactions.check_lock_timeout, _ALL),
    (transactions.STATEMENT_TIMEOUT_RULE, transactions.check_statement_timeout, _ALL),
    (index.INDEX_CORRUPTION, index.check_index_corruption, frozenset({"IndexStmt", "ReindexStmt"})),
    (breaking.RENAME_SCHEMA, breaking.check_rename_schema, frozenset({"RenameStmt"})),
    (constraints.EXCLUSION_CONSTRAINT, constraints.check_exclusion_constraint, _ALTER),
    (breaking.SET_LOGGED, breaking.check_set_logged, _ALTER),
    (transactions.LONG_UNDER_LOCK, transactions.check_long_under_lock, _ALL),
    (transactions.SEVERAL_TABLES, transactions.check_several_tables, _ALL),
    (transactions.SET_LOCAL_OUTSIDE, transactions.check_set_local_outside, frozenset({"VariableSetStmt"})),
    (transactions.UNBATCHED_BACKFILL, transactions.check_unbatched_backfill, frozenset({"UpdateStmt", "DeleteStmt"})),
    (hygiene.WIDE_INDEX, hygiene.check_wide_index, frozenset({"IndexStmt"})),
    (failures.ENUM_VALUE_UNCOMMITTED, failures.check_enum_value_uncommitted, _ALL),
    (failures.NOT_NULL_CONSTRAINT_BEFORE_18, failures.check_not_null_constraint_before_18, _COLUMNS),
    (drops.DROP_CONSTRAINT, drops.check_drop_constraint, _ALTER),
    (table_locks.TRUNCATE_TABLE, table_locks.check_truncate_table, frozenset({"TruncateStmt"})),
    (table_locks.LOCK_TABLE, table_locks.check_lock_table, frozenset({"LockStmt"})),
)

RULES: Final[tuple[tuple[RuleSpec, Check], ...]] = tuple(
    sorted(((rule, check) for rule, check, _kinds in _TABLE), key=lambda pair: pair[0].id)
)
KINDS: Final[dict[str, frozenset[str] | None]] = {rule.id: kinds for rule, _check, kinds in _TABLE}
# Rules that only run when asked for by id (like squawk's opt-in rules).
OPT_IN: Final = frozenset({"MIG036"})

# Our rule id → the squawk rule name(s) it covers (squawk 2.x, crates/squawk_linter/src/lib.rs); () for our own.
_SQUAWK: Final[dict[str, tuple[str, ...]]] = {
    "MIG001": ("require-concurrent-index-creation",),
    "MIG002": ("require-concurrent-index-deletion",),
    "MIG003": ("require-concurrent-reindex",),
    "MIG004": ("require-concurrent-partition-detach",),
    "MIG005": ("ban-concurrent-index-creation-in-transaction",),
    "MIG006": ("constraint-missing-not-valid",),
    "MIG007": ("constraint-missing-not-valid",),
    "MIG008": ("adding-foreign-key-constraint", "constraint-missing-not-valid"),
    "MIG009": ("disallowed-unique-constraint",),
    "MIG010": ("adding-serial-primary-key-field",),
    "MIG011": ("ban-create-domain-with-constraint",),
    "MIG012": ("ban-alter-domain-with-add-constraint",),
    "MIG013": ("adding-field-with-default",),
    "MIG014": ("adding-field-with-default",),
    "MIG015": ("adding-required-field",),
    "MIG016": ("adding-not-nullable-field",),
    "MIG017": ("changing-column-type",),
    "MIG018": ("renaming-column",),
    "MIG019": ("renaming-table",),
    "MIG020": ("ban-drop-column",),
    "MIG021": ("ban-drop-table",),
    "MIG022": ("ban-drop-database",),
    "MIG023": ("ban-drop-not-null",),
    "MIG024": ("ban-truncate-cascade",),
    "MIG025": ("prefer-bigint-over-int",),
    "MIG026": ("prefer-bigint-over-smallint",),
    "MIG027": ("prefer-identity",),
    "MIG028": ("prefer-text-field",),
    "MIG029": ("prefer-timestamp-tz",),
    "MIG030": ("ban-char-field",),
    "MIG032": ("prefer-robust-stmts",),
    "MIG033": ("transaction-nesting",),
    "MIG034": ("ban-uncommitted-transaction",),
    "MIG035": ("require-enum-value-ordering",),
    "MIG036": ("require-table-schema",),
    "MIG037": ("identifier-too-long",),
    "MIG038": ("ban-duplicate-column-assignments",),
    "MIG039": ("prefer-repack",),
    "MIG040": ("require-lock-timeout", "require-timeout-settings"),
    "MIG041": ("require-statement-timeout", "require-timeout-settings"),
    "MIG053": ("ban-drop-constraint",),
}
SQUAWK_NAMES: Final[dict[str, tuple[str, ...]]] = {rule.id: _SQUAWK.get(rule.id, ()) for rule, _check in RULES}

# Our rule id → the strong_migrations check it covers (lib/strong_migrations/checks.rb, error_messages.rb keys).
STRONG_MIGRATIONS: Final[dict[str, str]] = {
    "MIG001": "add_index",
    "MIG002": "remove_index",
    "MIG006": "add_check_constraint",
    "MIG007": "validate_check_constraint / validate_foreign_key",
    "MIG008": "add_foreign_key",
    "MIG009": "add_unique_constraint",
    "MIG013": "add_column_default",
    "MIG014": "add_column_generated_stored / add_column_auto_incrementing",
    "MIG016": "change_column_null_postgresql",
    "MIG017": "change_column",
    "MIG018": "rename_column",
    "MIG019": "rename_table",
    "MIG020": "remove_column",
    "MIG031": "add_column_json",
    "MIG042": "add_index_corruption",
    "MIG043": "rename_schema",
    "MIG044": "add_exclusion_constraint",
    "MIG046": "validate_* while writes are blocked",
    "MIG049": "backfill advice (batches outside the DDL transaction)",
    "MIG050": "add_index_columns",
}


def enabled_rules(include: Collection[str] = ()) -> list[tuple[RuleSpec, Check]]:
    """The rules that run: every rule except the opt-in ones not named in `include` (ids or names)."""
    wanted = {item.upper() for item in include} | {item.lower() for item in include}
    return [(rule, check) for rule, check in RULES if rule.id not in OPT_IN or rule.id in wanted or rule.name in wanted]


def _dispatch(rules: list[tuple[RuleSpec, Check]]) -> tuple[dict[str, list[Check]], list[Check]]:
    by_kind: dict[str, list[Check]] = {}
    always: list[Check] = []
    for rule, check in rules:
        kinds = KINDS[rule.id]
        if kinds is None:
            always.append(check)
        else:
            for kind in kinds:
                by_kind.setdefault(kind, []).append(check)
    return by_kind, always


def lint_postgres(
    sql: str,
    version: Version,
    *,
    version_given: bool = True,
    include: Collection[str] = (),
    assume_in_transaction: bool = False,
    catalog: Catalog | None = None,
) -> tuple[int, list[Finding], list[str]]:
    """(statements read, findings with line = statement first line, parse errors) for a PostgreSQL migration.

    `assume_in_transaction`: the migration tool runs the whole file inside one transaction. `catalog`: the current
    schema when known (plan_migration with a connection or current_ddl), so column types need not be in the file.
    """
    statements, errors = parse_tolerant(sql)
    rules = enabled_rules(include)
    by_kind, always = _dispatch(rules)
    schema = SchemaState(version, catalog)
    state = LintState(version, version_given, statements, schema)
    if assume_in_transaction:
        state.assume_transaction()
    findings: list[Finding] = []
    for position, statement in enumerate(statements):
        try:
            ops = classify(statement, version, state=schema)
        except Exception as exc:  # one odd statement must not stop the whole lint
            errors.append(f"line {statement.line}: could not classify the statement's locks ({type(exc).__name__})")
            ops = []
        state.begin(position, statement, ops, _locks(statement, ops))
        for check in by_kind.get(statement.kind, ()):
            findings.extend(check(statement, state))
        for check in always:
            findings.extend(check(statement, state))
        state.advance(statement)
    if errors and not failures.parser_reads_pg18():  # an older pglast cannot read PostgreSQL 18's NOT NULL form
        unparsed, notes = failures.unparsed_not_null(_unparsed_pieces(sql), state)
        errors.extend(notes)
        if any(rule.id == failures.NOT_NULL_CONSTRAINT_BEFORE_18.id for rule, _check in rules):
            findings.extend(unparsed)
    return len(statements), findings, errors


def _locks(statement: PgStatement, ops: list[ClassifiedOp]) -> dict[str, str]:
    """Table → strongest lock mode the statement takes, including LOCK TABLE and indexes of unknown tables."""
    locks = statement_lock(ops)
    node: Any = statement.node
    if statement.kind == "LockStmt" and 1 <= int(node.mode) <= len(pg_locks.MODES):
        for relation in node.relations or ():
            table = relation_name(relation)
            mode = pg_locks.MODES[int(node.mode) - 1]
            locks[table] = pg_locks.strongest([mode, locks[table]]) if table in locks else mode
    for op in ops:
        index = op.detail.get("index")
        if not op.table and op.kind in ("drop_index", "reindex") and index:
            locks[f"(table of index {index})"] = operation(op.kind).mode
    return locks


def parse_tolerant(sql: str) -> tuple[list[PgStatement], list[str]]:
    """The file's statements; when part of it does not parse, the statements that do, plus an error per part."""
    try:
        return split_postgres(sql), []
    except MigrationInputError as exc:
        if "limit is" in str(exc):
            raise
        first_error = str(exc)
    statements: list[PgStatement] = []
    errors: list[str] = []
    chunks = _scanner_chunks(sql)
    if chunks is None:
        return [], [first_error]
    for first, stop in chunks:
        start = first + len(sql[first:stop]) - len(sql[first:stop].lstrip())
        line_offset = sql.count("\n", 0, start)
        try:
            parsed = split_postgres(sql[start:stop])
        except MigrationInputError as exc:
            errors.append(_shift_line(str(exc), line_offset))
            continue
        for statement in parsed:
            statements.append(
                dataclasses.replace(
                    statement,
                    index=len(statements),
                    line=statement.line + line_offset,
                    end_line=statement.end_line + line_offset,
                )
            )
    return _renumber_transactions(statements), errors


def _scanner_chunks(sql: str) -> list[tuple[int, int]] | None:
    """(start, stop) of each `;`-terminated piece, cut by PostgreSQL's own scanner (None if it cannot scan)."""
    from pglast.parser import ParseError, scan

    try:
        tokens = scan(sql)
    except ParseError:
        return None
    chunks: list[tuple[int, int]] = []
    start = 0
    for token in tokens:
        if token.name == "ASCII_59":
            chunks.append((start, token.end + 1))
            start = token.end + 1
    if sql[start:].strip():
        chunks.append((start, len(sql)))
    return chunks


def _unparsed_pieces(sql: str) -> list[tuple[int, str]]:
    """(first line, text without leading comments) of each `;`-terminated piece PostgreSQL's grammar rejects."""
    import re

    pieces: list[tuple[int, str]] = []
    for first, stop in _scanner_chunks(sql) or []:
        lead = re.match(r"(?:\s+|--[^\n]*|/\*.*?\*/)*", sql[first:stop], re.DOTALL)
        start = first + (lead.end() if lead else 0)
        text = sql[start:stop].rstrip().rstrip(";")
        if not text:
            continue
        try:
            split_postgres(text)
        except MigrationInputError:
            pieces.append((sql.count("\n", 0, start) + 1, text))
    return pieces


def _shift_line(message: str, offset: int) -> str:
    import re

    return re.sub(r"at line (\d+)", lambda m: f"at line {int(m.group(1)) + offset}", message, count=1)


def _renumber_transactions(statements: list[PgStatement]) -> list[PgStatement]:
    """Recompute each statement's BEGIN ... COMMIT block number over the whole file (as split_postgres does)."""
    block: int | None = None
    blocks = 0
    renumbered = []
    for statement in statements:
        kind = transaction_kind(statement.node)
        current = block
        if kind in ("BEGIN", "START"):
            blocks += 1
            block = current = blocks
        elif kind in ("COMMIT", "ROLLBACK", "COMMIT_PREPARED", "ROLLBACK_PREPARED", "PREPARE"):
            block = None
        renumbered.append(dataclasses.replace(statement, transaction=current))
    return renumbered


__all__ = [
    "KINDS",
    "OPT_IN",
    "RULES",
    "SQUAWK_NAMES",
    "STRONG_MIGRATIONS",
    "LintState",
    "enabled_rules",
    "lint_postgres",
    "parse_tolerant",
]
