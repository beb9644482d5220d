"""MIG100-MIG149: migration lint rules for MySQL and MariaDB, and the single pass that runs them.

Each rule is a `(RuleSpec, check)` pair in `RULES`; the rules live in lint_rules_mysql_* modules by theme (copies and
locks, column changes, breaking changes and session hygiene), their shared state and helpers in
lint_rules_mysql_core. A check receives one parsed statement (the planner's parser, mysql_statements.py) and the lint
state — server flavor and version, the current schema when the caller gives it, the tables created earlier in the
same input, and the session settings seen so far (foreign_key_checks, lock_wait_timeout, an open transaction) — and
yields findings whose `line` is the statement's first line. What an operation costs comes from mysql_online_ddl (the
same table the planner uses), so the linter and the planner never disagree; the fixes are the planner's own
statements.
"""

from __future__ import annotations

from typing import Final

from dbspecialist.adapters.catalog import Catalog
from dbspecialist.knowledge.findings import Finding, RuleSpec
from dbspecialist.knowledge.migrations import lint_rules_mysql_breaking as breaking
from dbspecialist.knowledge.migrations import lint_rules_mysql_columns as columns
from dbspecialist.knowledge.migrations import lint_rules_mysql_copies as copies
from dbspecialist.knowledge.migrations import lint_rules_mysql_server as server
from dbspecialist.knowledge.migrations.lint_rules_mysql_core import Check, LintState, is_ddl
from dbspecialist.knowledge.migrations.mysql_statements import ParsedStatement, parse_statement
from dbspecialist.knowledge.migrations.mysql_tokens import SqlSyntaxError, split_statements

RULES: Final[tuple[tuple[RuleSpec, Check], ...]] = (
    (copies.MIG100, copies.check_algorithm_copy),
    (copies.MIG101, copies.check_lock_clause),
    (copies.MIG102, copies.check_alter_without_algorithm),
    (columns.MIG103, columns.check_type_change),
    (columns.MIG104, columns.check_varchar_prefix),
    (columns.MIG105, columns.check_add_column_position),
    (breaking.MIG106, breaking.check_drop_column),
    (breaking.MIG107, breaking.check_rename_column),
    (breaking.MIG108, breaking.check_rename_table),
    (columns.MIG109, columns.check_expression_default),
    (columns.MIG110, columns.check_auto_increment_column),
    (columns.MIG111, columns.check_stored_generated),
    (copies.MIG112, copies.check_add_foreign_key),
    (copies.MIG113, copies.check_index_statement),
    (copies.MIG114, copies.check_optimize),
    (breaking.MIG115, breaking.check_drop_truncate),
    (copies.MIG116, copies.check_fulltext_spatial),
    (copies.MIG117, copies.check_drop_primary_key),
    (copies.MIG118, copies.check_convert_charset),
    (copies.MIG119, copies.check_add_check),
    (breaking.MIG120, breaking.check_lock_wait_timeout),
    (breaking.MIG121, breaking.check_ddl_in_transaction),
    (columns.MIG122, columns.check_set_not_null),
    (columns.MIG123, columns.check_modify_drops_attributes),
    (server.MIG124, server.check_algorithm_unknown),
    (server.MIG125, server.check_non_transactional_engine),
)


def _remember_table(parsed: ParsedStatement, state: LintState) -> None:
    """Record a CREATE TABLE so later statements on the table are judged against its definition."""
    from dbspecialist.knowledge.ddl.dispatch import parse_ddl

    try:
        catalog = parse_ddl(parsed.text, "mysql").catalog
    except (ValueError, KeyError):
        return
    for table in catalog.tables:
        state.tables[table.name.lower()] = table


def _update_state(parsed: ParsedStatement, state: LintState) -> None:
    """What the statement changes for the ones after it: session settings, the open transaction, created tables."""
    if parsed.kind == "set":
        checks = parsed.settings.get("foreign_key_checks")
        if checks is not None:
            state.foreign_key_checks = checks.strip().upper() not in ("0", "OFF", "FALSE")
        timeout = parsed.settings.get("lock_wait_timeout")
        if timeout is not None and timeout.strip().isdigit():
            state.lock_wait_timeout = int(timeout)
    elif parsed.kind == "begin":
        state.in_transaction = True
    elif parsed.kind == "commit":
        state.in_transaction = False
    elif parsed.kind == "create_table":
        _remember_table(parsed, state)
    if is_ddl(parsed) or parsed.kind in ("create_table", "drop_table"):
        state.in_transaction = False  # the implicit commit ends the transaction


def lint_mysql(
    sql: str, version: tuple[int, int, int], flavor: str, *, catalog: Catalog | None = None
) -> tuple[int, list[Finding], list[str]]:
    """(statements read, findings, parse errors) for a MySQL or MariaDB migration (flavor 'mysql' | 'mariadb').

    `catalog` is the schema before the migration (parse_ddl(current_ddl).catalog or a live introspection): with it
    the rules compare each change with the real column types, indexes and table options, not only with the tables
    created earlier in the same input (which take precedence over the catalog's).
    """
    flavor = "mariadb" if flavor == "mariadb" else "mysql"
    try:
        statements = split_statements(sql)
    except SqlSyntaxError as exc:
        return 0, [], [f"cannot split the input into statements: {exc}"]
    state = LintState(version=version, flavor=flavor, catalog=catalog)
    findings: list[Finding] = []
    errors: list[str] = []
    for statement in statements:
        parsed = parse_statement(statement)
        if parsed.error:
            errors.append(parsed.error)
            continue
        unknown = [op.text for op in parsed.operations if op.action == "unknown"]
        errors += [f"line {parsed.line}: unrecognised ALTER TABLE specification {text!r}" for text in unknown]
        for _, check in RULES:
            findings.extend(check(parsed, state))
        _update_state(parsed, state)
    return len(statements), findings, errors
