"""SCH042 reserved-word-identifier: a table or column named with one of the engine's reserved words."""

from __future__ import annotations

from collections.abc import Iterator

from dbspecialist.knowledge.findings import Finding, Fix, RuleSpec, Severity
from dbspecialist.knowledge.schema.context import SchemaContext
from dbspecialist.knowledge.schema.rename import rename_column, rename_table
from dbspecialist.knowledge.schema.reserved_words import is_reserved
from dbspecialist.knowledge.sql_text import qualified

SPEC = RuleSpec(
    id="SCH042",
    name="reserved-word-identifier",
    capability="schema",
    engines=("postgresql", "mysql", "sqlite"),
    severity=Severity.LOW,
    fix="always",
    summary="A table or column is named with a reserved word (user, order, group ...), so it must be quoted forever.",
)

# Replacement names for the reserved words people most often use as names (our own suggestions).
SUGGESTED: dict[str, str] = {
    "user": "app_user",
    "order": "sort_order",
    "group": "user_group",
    "desc": "description",
    "key": "key_name",
    "check": "check_value",
    "default": "default_value",
    "column": "column_name",
    "table": "table_name",
    "index": "position",
    "limit": "limit_value",
    "range": "value_range",
    "rank": "rank_value",
    "change": "change_type",
    "interval": "interval_value",
    "condition": "condition_text",
    "option": "option_name",
    "references": "reference",
    "release": "release_name",
    "signal": "signal_name",
    "read": "is_read",
    "year_month": "period",
    "transaction": "transaction_ref",
    "primary": "is_primary",
    "unique": "is_unique",
    "both": "both_flag",
}


def _quoted(name: str, engine: str) -> str:
    if engine == "mysql":
        return "`" + name.replace("`", "``") + "`"
    return '"' + name.replace('"', '""') + '"'


def _table_name(schema: str | None, name: str, engine: str) -> str:
    """Like `qualified`, but always quoting a reserved table name."""
    if not is_reserved(name, engine):
        return qualified(schema, name, engine)
    plain = qualified(schema, "x", engine)
    return (plain[:-1] if plain != "x" else "") + _quoted(name, engine)


def check(ctx: SchemaContext) -> Iterator[Finding]:
    """A reserved word as a name works only while every statement quotes it.

    ## Why is this bad?
    `CREATE TABLE "user"` succeeds, but every query, migration, ORM and ad-hoc psql session must
    then write `"user"` (or `` `order` `` on MySQL); the one that forgets gets a syntax error, or
    worse on PostgreSQL, `SELECT user` returns the current role instead of the column. Each engine
    has its own list (PostgreSQL docs appendix "SQL Key Words", MySQL "Keywords and Reserved
    Words", SQLite "SQL Keywords"); sqlfluff's RF04 flags the same thing in queries.

    ## Example
    ```sql
    CREATE TABLE "order" (id bigint PRIMARY KEY, "desc" text);
    ```

    ## Use instead
    ```sql
    CREATE TABLE orders (id bigint PRIMARY KEY, description text);
    ```

    ## Fix safety
    Display-only: renaming breaks every query, view and application that uses the old name.
    """
    for table in ctx.tables():
        table_name = _table_name(table.schema_name, table.name, ctx.engine)
        if is_reserved(table.name, ctx.engine):
            new = SUGGESTED.get(table.name.lower(), f"{table.name.lower()}s")
            old = table_name
            statement = rename_table(ctx.engine, table.schema_name, table.name, new)
            yield Finding(
                rule_id=SPEC.id,
                name=SPEC.name,
                severity=SPEC.severity,
                title=f"table {table.name} is a reserved word, so every statement must quote it",
                subject=old,
                subject_kind="table",
                table=table.name,
                evidence={"reserved_in": ctx.engine, "kind": "table"},
                rationale=(
                    f"{table.name.upper()} is reserved in {ctx.engine}, so the name only works quoted. Every query "
                    "and tool must remember the quotes, and a missing pair is a syntax error or a different meaning."
                ),
                help=f"Rename the table to a non-reserved name such as {new}.",
                fix=Fix(
                    title=f"Rename {table.name} to {new}",
                    statements=[statement],
                    safety="display-only",
                    note="Update every query, view, function and application that uses the old name.",
                ),
                line=table.source_line,
            )
        for column in table.columns:
            if not is_reserved(column.name, ctx.engine):
                continue
            new = SUGGESTED.get(column.name.lower(), f"{column.name.lower()}_value")
            col = _quoted(column.name, ctx.engine)
            yield Finding(
                rule_id=SPEC.id,
                name=SPEC.name,
                severity=SPEC.severity,
                title=f"column {table.name}.{column.name} is a reserved word, so every statement must quote it",
                subject=f"{table_name}.{col}",
                subject_kind="column",
                table=table.name,
                evidence={"reserved_in": ctx.engine, "kind": "column"},
                rationale=(
                    f"{column.name.upper()} is reserved in {ctx.engine}, so the column only works quoted. Queries "
                    "that forget the quotes fail or, for words like USER, silently mean something else."
                ),
                help=f"Rename the column to a non-reserved name such as {new}.",
                fix=Fix(
                    title=f"Rename {column.name} to {new}",
                    statements=[rename_column(ctx.engine, table.schema_name, table.name, column.name, new)],
                    safety="display-only",
                    note="Update every query, view, index expression and application that uses the old name.",
                ),
                line=column.source_line,
            )
