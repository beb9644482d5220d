"""Expand/contract flows for MySQL/MariaDB columns: a rename through a new column kept in sync by triggers, and a
column whose DEFAULT (expression) would copy the table, added bare and backfilled.
"""

from __future__ import annotations

import re
from dataclasses import replace

from dbspecialist.adapters.catalog import Table
from dbspecialist.knowledge.migrations.estimate import estimate
from dbspecialist.knowledge.migrations.model import LockClaim, MigrationStep
from dbspecialist.knowledge.migrations.mysql_classify import Classified, catalog_column, index_column_name, traits_of
from dbspecialist.knowledge.migrations.mysql_columns import ColumnDef, column_from_catalog, definition_body
from dbspecialist.knowledge.migrations.mysql_online_ddl import online_ddl
from dbspecialist.knowledge.migrations.mysql_steps import PREAMBLE, RETRY, PlanBuilder
from dbspecialist.knowledge.migrations.mysql_tokens import quote, short_name


def rename_column_flow(
    planner: PlanBuilder, name: str, table_sql: str, table: Table | None, classified: Classified
) -> None:
    """Rename through a new column: add it, sync with triggers, backfill, switch the code, drop the old."""
    operation = classified.operation
    old_name, new_name = operation.name or "?", operation.new_name or "?"
    old_q, new_q = quote(old_name), quote(new_name)
    current = catalog_column(table, old_name)
    source: ColumnDef | None = None
    if operation.column is not None:
        source = operation.column
    elif current is not None:
        source = column_from_catalog(current, planner.flavor)
    if source is not None:
        not_null = source.nullable is False
        final_body = definition_body(source, nullable=not not_null)
        # during the transition the new column has no default and accepts NULL: the triggers tell from NULL
        # that old code did not write it
        new_body = definition_body(replace(source, default=None), nullable=True)
        body = final_body
    else:
        body = new_body = final_body = "<the type of " + old_name + ">"
        not_null = False
        planner.assume(f"the definition of {name}.{old_name} is unknown: fill in its type in the ADD COLUMN step")
    position = "add_column_last"
    add_sql, add_entry = planner.alter(table_sql, f"ADD COLUMN {new_q} {new_body}", position, table)
    drop_sql, _ = planner.alter(table_sql, f"DROP COLUMN {new_q}", "drop_column", table)
    planner.steps.append(
        planner.ddl_step(
            phase="expand",
            title=f"Add {name}.{new_name} next to {old_name} (the rename's new column)",
            table=name,
            sql=[add_sql],
            entry=add_entry,
            rollback=[drop_sql],
            notes=["added as NULL so that rows the old code inserts stay valid until the backfill filled them"]
            if not_null
            else [],
        )
    )
    short = short_name(name)
    trigger_insert = quote(f"{short}_{old_name}_{new_name}_ins"[:64])
    trigger_update = quote(f"{short}_{old_name}_{new_name}_upd"[:64])
    sync = [
        f"CREATE TRIGGER {trigger_insert} BEFORE INSERT ON {table_sql} FOR EACH ROW "
        f"SET NEW.{old_q} = IF(NEW.{new_q} IS NULL, NEW.{old_q}, NEW.{new_q}), "
        f"NEW.{new_q} = COALESCE(NEW.{new_q}, NEW.{old_q});",
        f"CREATE TRIGGER {trigger_update} BEFORE UPDATE ON {table_sql} FOR EACH ROW "
        f"SET NEW.{new_q} = IF(NOT (NEW.{old_q} <=> OLD.{old_q}) AND NEW.{new_q} <=> OLD.{new_q}, "
        f"NEW.{old_q}, NEW.{new_q}), "
        f"NEW.{old_q} = IF(NOT (NEW.{new_q} <=> OLD.{new_q}) AND NEW.{old_q} <=> OLD.{old_q}, "
        f"NEW.{new_q}, NEW.{old_q});",
    ]
    drop_sync = [f"DROP TRIGGER {trigger_insert};", f"DROP TRIGGER {trigger_update};"]
    planner.steps.append(
        MigrationStep(
            phase="expand",
            kind="sql",
            title=f"Keep {name}.{old_name} and {new_name} in sync with triggers (both directions)",
            table=name,
            sql=sync,
            lock=LockClaim(
                mode="exclusive metadata lock, briefly, to attach each trigger",
                tables=[name],
                blocks="nothing",
                held="milliseconds once granted",
            ),
            table_effect="metadata",
            transactional=False,
            estimate=estimate("metadata", planner.stats(name)),
            rollback=drop_sync,
            preamble=[PREAMBLE],
            retry=RETRY,
            notes=[
                "old code writes the old column and new code the new one; the triggers copy each write across",
                "alternative without triggers: have the application write both columns in the same deploy",
                "while these triggers exist, gh-ost cannot run on this table (pt-online-schema-change can)",
                "with binary logging on, CREATE TRIGGER may need SUPER or log_bin_trust_function_creators=1",
            ],
        )
    )
    planner.backfill(
        name,
        f"copy {old_name} into {new_name}",
        f"{new_q} = {old_q}",
        f"NOT ({new_q} <=> {old_q})",
    )
    planner.check(
        "validate",
        f"Check that {name}.{new_name} matches {old_name} on every row",
        name,
        f"SELECT COUNT(*) FROM {table_sql} WHERE NOT ({new_q} <=> {old_q});",
        "expect 0 before switching the application to the new column",
    )
    if table is not None:
        for index in table.indexes:
            columns = [index_column_name(c) for c in index.columns]
            if index.primary or old_name.lower() not in (c.lower() for c in columns):
                continue
            renamed = ", ".join(quote(new_name if c.lower() == old_name.lower() else c) for c in columns)
            index_name = quote(f"{index.name}_{new_name}"[:64])
            unique = "UNIQUE " if index.unique else ""
            sql, entry = planner.alter(table_sql, f"ADD {unique}INDEX {index_name} ({renamed})", "add_index", table)
            drop, _ = planner.alter(table_sql, f"DROP INDEX {index_name}", "drop_index", table)
            planner.steps.append(
                planner.ddl_step(
                    phase="validate",
                    title=f"Copy index {index.name} onto {name}.{new_name}",
                    table=name,
                    sql=[sql],
                    entry=entry,
                    rollback=[drop],
                )
            )
    planner.deploy(
        "switch",
        f"Deploy application code that reads and writes {name}.{new_name} instead of {old_name}",
        name,
        notes=["the triggers keep both columns equal, so old and new code can run side by side during the deploy"],
    )
    planner.steps.append(
        MigrationStep(
            phase="contract",
            kind="sql",
            title=f"Drop the sync triggers on {name}",
            table=name,
            sql=drop_sync,
            lock=LockClaim(
                mode="exclusive metadata lock, briefly", tables=[name], blocks="nothing", held="milliseconds"
            ),
            transactional=False,
            estimate=estimate("metadata", planner.stats(name)),
            rollback=sync,
            preamble=[PREAMBLE],
            retry=RETRY,
        )
    )
    planner.deploy(
        "contract",
        f"Confirm no running code still reads {name}.{old_name} (remove it from ORM column caches)",
        name,
    )
    drop_old, entry = planner.alter(table_sql, f"DROP COLUMN {old_q}", "drop_column", table, old_name)
    planner.row_version_check(name, ["drop_column"], entry)
    planner.steps.append(
        planner.ddl_step(
            phase="contract",
            title=f"Drop the old column {name}.{old_name}",
            table=name,
            sql=[drop_old],
            entry=entry,
            reversible=False,
            notes=["irreversible: the column's data is gone (the new column holds a copy)"],
        )
    )
    if source is not None and (not_null or source.default is not None):
        kind = "set_not_null" if not_null else "set_default"
        sql, entry = planner.alter(table_sql, f"MODIFY COLUMN {new_q} {final_body}", kind, table, new_name)
        undo_kind = "drop_not_null" if not_null else "drop_default"
        planner.steps.append(
            planner.ddl_step(
                phase="contract",
                title=f"Give {name}.{new_name} the full definition of {old_name} (NOT NULL, default)",
                table=name,
                sql=[sql],
                entry=entry,
                rollback=[planner.alter(table_sql, f"MODIFY COLUMN {new_q} {new_body}", undo_kind, table)[0]],
                notes=["only now: while old code still inserted rows, the column had to accept NULL"],
            )
        )
    instant = online_ddl("rename_column", planner.flavor, planner.version, traits_of(table, old_name))
    rename_syntax = (
        f"RENAME COLUMN {old_q} TO {new_q}"
        if (planner.flavor == "mysql" and planner.version >= (8, 0, 0)) or planner.version >= (10, 5, 2)
        else f"CHANGE COLUMN {old_q} {new_q} {body}"
    )
    planner.note(
        f"instant alternative for renaming {name}.{old_name}: ALTER TABLE {table_sql} {rename_syntax}, "
        f"{instant.clause()}; is metadata only, but every running query and ORM model that names {old_name} "
        f"fails from that moment until code using {new_name} is deployed — deploy that code at the same moment "
        "(or first make the code accept both names)"
    )


def expression_default_flow(
    planner: PlanBuilder, name: str, table_sql: str, table: Table | None, classified: Classified
) -> None:
    """Add the column without its DEFAULT (expression), set the default, backfill, then NOT NULL."""
    column = classified.operation.column
    assert column is not None and column.default is not None
    col_q = quote(column.name)
    expression = column.default
    plain = re.sub(r"\bDEFAULT\s+\(.*\)", "", column.body, flags=re.I | re.S)
    plain = re.sub(r"\bNOT\s+NULL\b", "NULL", plain, flags=re.I).strip()
    kind = "add_column_middle" if column.position else "add_column_last"
    position = f" {column.position}" if column.position else ""
    add_sql, add_entry = planner.alter(table_sql, f"ADD COLUMN {col_q} {plain}{position}", kind, table)
    drop_sql, _ = planner.alter(table_sql, f"DROP COLUMN {col_q}", "drop_column", table)
    copy_entry = classified.entry
    planner.steps.append(
        planner.ddl_step(
            phase="expand",
            title=f"Add {name}.{column.name} without its default expression",
            table=name,
            sql=[add_sql],
            entry=add_entry,
            rollback=[drop_sql],
            notes=[
                f"with DEFAULT {expression} in the ADD COLUMN the server would need {copy_entry.algorithm} "
                f"(LOCK={copy_entry.lock}): {copy_entry.note}"
            ],
        )
    )
    default_sql, default_entry = planner.alter(
        table_sql, f"ALTER COLUMN {col_q} SET DEFAULT {expression}", "set_default", table, column.name
    )
    planner.steps.append(
        planner.ddl_step(
            phase="expand",
            title=f"Set the default of {name}.{column.name} for new rows",
            table=name,
            sql=[default_sql],
            entry=default_entry,
            rollback=[planner.alter(table_sql, f"ALTER COLUMN {col_q} DROP DEFAULT", "drop_default", table)[0]],
        )
    )
    planner.backfill(name, f"fill {column.name} on existing rows", f"{col_q} = {expression}", f"{col_q} IS NULL")
    if column.nullable is False:
        planner.check(
            "validate",
            f"Check that {name}.{column.name} has no NULL left",
            name,
            f"SELECT COUNT(*) FROM {table_sql} WHERE {col_q} IS NULL;",
            "expect 0 before making the column NOT NULL",
        )
        sql, entry = planner.alter(
            table_sql, f"MODIFY COLUMN {col_q} {column.body}", "set_not_null", table, column.name
        )
        planner.steps.append(
            planner.ddl_step(
                phase="validate",
                title=f"Make {name}.{column.name} NOT NULL",
                table=name,
                sql=[sql],
                entry=entry,
            )
        )
