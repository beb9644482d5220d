"""Expand/contract flows for MySQL/MariaDB tables, keys and indexes: a foreign key added without a copy and checked
for orphans, a table rename behind a compatibility view, a column dropped after the deploy, an index hidden before
it is dropped.
"""

from __future__ import annotations

from dbspecialist.adapters.catalog import Table
from dbspecialist.knowledge.migrations.estimate import estimate
from dbspecialist.knowledge.migrations.model import LockClaim, MigrationStep
from dbspecialist.knowledge.migrations.mysql_classify import Classified, index_column_name, traits_of
from dbspecialist.knowledge.migrations.mysql_copy_tools import copy_with_tool
from dbspecialist.knowledge.migrations.mysql_online_ddl import TableTraits, online_ddl
from dbspecialist.knowledge.migrations.mysql_steps import PREAMBLE, RETRY, PlanBuilder
from dbspecialist.knowledge.migrations.mysql_tokens import quote, short_name


def foreign_key_flow(
    planner: PlanBuilder, name: str, table_sql: str, table: Table | None, classified: Classified
) -> None:
    """Index the columns, add the foreign key with foreign_key_checks=0, then check for orphans."""
    operation = classified.operation
    columns = operation.index_columns
    parent = operation.ref_table or "?"
    if table is not None and columns:
        first = columns[0].lower()
        indexed = any(index_column_name(index.columns[0]).lower() == first for index in table.indexes if index.columns)
        if not indexed:
            index_name = quote(f"{short_name(name)}_{'_'.join(columns)}_idx"[:64])
            cols = ", ".join(quote(c) for c in columns)
            sql, entry = planner.alter(table_sql, f"ADD INDEX {index_name} ({cols})", "add_index", table)
            planner.steps.append(
                planner.ddl_step(
                    phase="expand",
                    title=f"Index {name} ({', '.join(columns)}) for the foreign key first",
                    table=name,
                    sql=[sql],
                    entry=entry,
                    rollback=[planner.alter(table_sql, f"DROP INDEX {index_name}", "drop_index", table)[0]],
                    notes=["otherwise ADD FOREIGN KEY builds this index itself, inside the constraint's ALTER"],
                )
            )
    online = online_ddl("add_foreign_key", planner.flavor, planner.version, TableTraits(foreign_key_checks=False))
    statement = f"ALTER TABLE {table_sql} {operation.text}, {online.clause()};"
    fk_name = operation.name
    rollback = (
        [f"ALTER TABLE {table_sql} DROP FOREIGN KEY {quote(fk_name)};"]
        if fk_name
        else ["-- drop the new foreign key by the name the server gave it (SHOW CREATE TABLE)"]
    )
    step = planner.ddl_step(
        phase="expand",
        title=f"Add the foreign key {name} → {parent} without checking existing rows ({online.algorithm})",
        table=name,
        sql=[statement, "SET SESSION foreign_key_checks = 1;"],
        entry=online,
        rollback=rollback,
        preamble=[PREAMBLE, "SET SESSION foreign_key_checks = 0;"],
        lock_tables=[name, parent],
        notes=[
            "with foreign_key_checks=1 the server can only add a foreign key by copying the table (COPY, "
            "writes blocked); with it off for this session the constraint is metadata only, and every later "
            "write is checked — the existing rows are checked by the next step instead",
            f"takes a brief metadata lock on {parent} as well",
        ],
    )
    planner.steps.append(step)
    if columns and operation.ref_columns:
        child = " AND ".join(f"c.{quote(col)} IS NOT NULL" for col in columns)
        join = " AND ".join(
            f"p.{quote(r)} = c.{quote(col)}" for col, r in zip(columns, operation.ref_columns, strict=False)
        )
        planner.check(
            "validate",
            f"Check that no row of {name} points to a missing {parent}",
            name,
            f"SELECT COUNT(*) FROM {table_sql} AS c LEFT JOIN {quote(parent)} AS p ON {join} "
            f"WHERE {child} AND p.{quote(operation.ref_columns[0])} IS NULL;",
            "expect 0: orphans from before the constraint are not rejected retroactively — fix or delete them",
        )


def rename_tables_flow(planner: PlanBuilder, renames: list[tuple[str, str]]) -> None:
    """Each (old, new) rename, with the old name kept alive as a view until the application uses the new one."""
    for old, new in renames:
        old_q, new_q = quote(old), quote(new)
        entry = online_ddl("rename_table", planner.flavor, planner.version)
        planner.steps.append(
            MigrationStep(
                phase="expand",
                kind="sql",
                title=f"Rename {old} to {new} and keep the old name alive as a view",
                table=old,
                sql=[f"RENAME TABLE {old_q} TO {new_q};", f"CREATE VIEW {old_q} AS SELECT * FROM {new_q};"],
                lock=LockClaim(
                    mode="exclusive metadata lock on both names (RENAME TABLE takes no ALGORITHM clause)",
                    tables=[old, new],
                    blocks="reads and writes",
                    held="milliseconds once granted; it first waits for every open transaction on the table",
                ),
                blocks_reads=True,
                blocks_writes=True,
                table_effect="metadata",
                transactional=False,
                estimate=estimate("metadata", planner.stats(old)),
                rollback=[f"DROP VIEW {old_q};", f"RENAME TABLE {new_q} TO {old_q};"],
                preamble=[PREAMBLE],
                retry=RETRY,
                notes=[
                    f"{entry.note or 'metadata only'}; between the two statements (milliseconds) the old name "
                    "does not exist, so queries in that instant fail — retry them in the application",
                    "a SELECT * view is updatable: old code keeps reading and writing through it; it lists "
                    "the columns as they are now (recreate it if a column is added before the contract phase)",
                    "foreign keys and triggers follow the table to its new name",
                ],
            )
        )
        planner.deploy("switch", f"Deploy application code that uses table {new} instead of {old}", old)
        planner.steps.append(
            MigrationStep(
                phase="contract",
                kind="sql",
                title=f"Drop the compatibility view {old}",
                table=old,
                sql=[f"DROP VIEW {old_q};"],
                lock=LockClaim(
                    mode="exclusive metadata lock on the view", tables=[old], blocks="nothing", held="milliseconds"
                ),
                transactional=False,
                rollback=[f"CREATE VIEW {old_q} AS SELECT * FROM {new_q};"],
                preamble=[PREAMBLE],
            )
        )
        planner.note(
            f"instant alternative for {old} → {new}: RENAME TABLE {old_q} TO {new_q}; alone is metadata only, "
            f"but every running query that names {old} fails until code using {new} is deployed — deploy it at "
            "the same moment"
        )


def drop_column_flow(planner: PlanBuilder, name: str, table_sql: str, classified: Classified) -> None:
    """Deploy code that no longer uses the column, then drop it (through a copy tool if that blocks)."""
    column = classified.operation.name or "?"
    planner.deploy(
        "switch",
        f"Deploy application code that no longer reads or writes {name}.{column} (e.g. ORM ignored columns)",
        name,
        notes=["an ORM that caches the column list still names the column in INSERTs until it is told to ignore it"],
    )
    entry = classified.entry
    planner.row_version_check(name, ["drop_column"], entry)
    if entry.lock != "NONE" and planner.is_big(name) is not False:
        copy_with_tool(
            planner,
            name,
            table_sql,
            [classified.operation.text],
            entry,
            "contract",
            f"Drop {name}.{column}",
            planner.is_big(name),
        )
        return
    planner.steps.append(
        planner.ddl_step(
            phase="contract",
            title=f"Drop {name}.{column} ({entry.algorithm})",
            table=name,
            sql=[f"ALTER TABLE {table_sql} {classified.operation.text}, {entry.clause()};"],
            entry=entry,
            reversible=False,
            notes=[
                "irreversible: the data is gone; keep a copy if unsure "
                f"(CREATE TABLE {quote(short_name(name) + '_' + column + '_backup')} AS SELECT <primary key>, "
                f"{quote(column)} FROM {table_sql};)"
            ],
        )
    )


def drop_index_flow(
    planner: PlanBuilder, name: str, table_sql: str, table: Table | None, classified: Classified
) -> None:
    """Hide the index from the optimizer where the server can, then drop it."""
    index = classified.operation.name or "?"
    index_q = quote(index)
    definition = None
    if table is not None:
        found = next((i for i in table.indexes if i.name.lower() == index.lower()), None)
        if found is not None:
            unique = "UNIQUE " if found.unique else ""
            fulltext = "FULLTEXT " if (found.method or "").lower() == "fulltext" else ""
            columns = ", ".join(found.columns)
            definition = f"ADD {unique}{fulltext}INDEX {index_q} ({columns})"
    hide = None
    if planner.flavor == "mysql" and planner.version >= (8, 0, 0):
        hide, show = "INVISIBLE", "VISIBLE"
    elif planner.flavor == "mariadb" and planner.version >= (10, 6, 0):
        hide, show = "IGNORED", "NOT IGNORED"
    if hide is not None:
        sql, entry = planner.alter(table_sql, f"ALTER INDEX {index_q} {hide}", "index_visibility", table)
        back, _ = planner.alter(table_sql, f"ALTER INDEX {index_q} {show}", "index_visibility", table)
        planner.steps.append(
            planner.ddl_step(
                phase="validate",
                title=f"Hide index {index} from the optimizer before dropping it",
                table=name,
                sql=[sql],
                entry=entry,
                rollback=[back],
                notes=[
                    "the index is still maintained but no query uses it: watch slow queries for a while; "
                    "the rollback brings it back instantly, a re-created index would take a full build"
                ],
            )
        )
    entry = classified.entry
    rollback: list[str] = []
    if definition is not None:
        add_entry = online_ddl("add_index", planner.flavor, planner.version, traits_of(table))
        rollback = [f"ALTER TABLE {table_sql} {definition}, {add_entry.clause()};"]
    else:
        rollback = [f"-- re-create index {index} with its previous definition (not known without the schema)"]
    planner.steps.append(
        planner.ddl_step(
            phase="contract",
            title=f"Drop index {index} on {name} ({entry.algorithm})",
            table=name,
            sql=[f"ALTER TABLE {table_sql} DROP INDEX {index_q}, {entry.clause()};"],
            entry=entry,
            rollback=rollback,
            notes=["a foreign key that needs this index makes the server refuse the drop (error 1553)"],
        )
    )
