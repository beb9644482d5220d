"""PostgreSQL lint rules: changes that break running application code, or rewrite a table for a flag.

Renames and drops are instant for the database but not for the application: code deployed before the migration
still uses the old names. The safe path is expand/contract (keep the old name working until every deploy uses
the new one), with the application deploys named explicitly.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from dbspecialist.knowledge.findings import Finding, Fix, Severity
from dbspecialist.knowledge.migrations.lint_rules_postgres_core import (
    LintState,
    alter_cmds,
    alter_cmds_of,
    altered_existing_table,
    cascades,
    dotted_name,
    enum_name,
    finding,
    ident,
    lock_evidence,
    short,
    spec,
)
from dbspecialist.knowledge.migrations.pg_locks import ACCESS_EXCLUSIVE
from dbspecialist.knowledge.migrations.pg_statements import PgStatement, relation_name
from dbspecialist.knowledge.sql_text import index_name

RENAME_COLUMN = spec("MIG018", "rename-column", Severity.MEDIUM, "ALTER TABLE ... RENAME COLUMN.")
RENAME_TABLE = spec("MIG019", "rename-table", Severity.MEDIUM, "ALTER TABLE ... RENAME TO.", fix="always")
DROP_COLUMN = spec("MIG020", "drop-column", Severity.MEDIUM, "ALTER TABLE ... DROP COLUMN.", fix="never")
DROP_TABLE = spec("MIG021", "drop-table", Severity.MEDIUM, "DROP TABLE of a table the migration did not create.")
DROP_DATABASE = spec("MIG022", "drop-database", Severity.CRITICAL, "DROP DATABASE.", fix="never")
DROP_NOT_NULL = spec("MIG023", "drop-not-null", Severity.LOW, "ALTER COLUMN ... DROP NOT NULL.", fix="never")
TRUNCATE_CASCADE = spec("MIG024", "truncate-cascade", Severity.HIGH, "TRUNCATE ... CASCADE.", fix="always")
ENUM_APPENDED = spec("MIG035", "enum-value-appended", Severity.INFO, "ALTER TYPE ... ADD VALUE without BEFORE/AFTER.")
RENAME_SCHEMA = spec("MIG043", "rename-schema", Severity.MEDIUM, "ALTER SCHEMA ... RENAME TO.", fix="never")
SET_LOGGED = spec("MIG045", "set-logged-rewrite", Severity.HIGH, "ALTER TABLE ... SET LOGGED / SET UNLOGGED.")


def _table_kind(statement: PgStatement) -> bool:
    """True for renames of a table (not of a view, index, sequence ...)."""
    node: Any = statement.node
    return enum_name(node.renameType) in ("OBJECT_TABLE", "OBJECT_FOREIGN_TABLE")


def check_rename_column(statement: PgStatement, state: LintState) -> Iterator[Finding]:
    """Renaming a column breaks every running query and deploy that still uses the old name.

    ## Why is this bad?
    The rename itself is a catalog change, but application instances deployed before it keep sending the old
    column name and fail until they are replaced; rolling deploys always have such instances.

    ## Example
    ```sql
    ALTER TABLE users RENAME COLUMN name TO full_name;
    ```

    ## Use instead
    Expand/contract: add the new column, keep both in sync with a trigger and backfill, deploy code that uses the
    new name, then drop the old column. (A view exposing both names works for read-mostly tables.)

    ## Notes
    Same as squawk's renaming-column and strong_migrations' rename_column. Tables created in the same file are
    not flagged.
    """
    node: Any = statement.node
    if enum_name(node.renameType) != "OBJECT_COLUMN" or enum_name(node.relationType) != "OBJECT_TABLE":
        return
    table = relation_name(node.relation)
    if state.is_new(table):
        return
    old, new = str(node.subname), str(node.newname)
    known = state.schema.column_types.get((short(table).lower(), new.lower()))
    column_type = known or "<type of " + old + ">"
    t, o, n = ident(table), ident(old), ident(new)
    function = ident(index_name(short(table), [new], "sync"))
    yield finding(
        RENAME_COLUMN,
        statement,
        title=f"Renaming {table}.{old} to {new} breaks application code still using {old}",
        subject=f"{table}.{old}",
        subject_kind="column",
        table=table,
        evidence={"old": old, "new": new, **lock_evidence(ACCESS_EXCLUSIVE)},
        rationale=(
            "Instances deployed before the rename keep querying the old name and fail until replaced. Adding the "
            "new column alongside and retiring the old one after the deploy keeps both versions working."
        ),
        help="Add the new column, sync and backfill it, deploy, then drop the old one (expand/contract).",
        fix=Fix(
            title="Rename through a second column (expand/contract)",
            statements=[
                f"ALTER TABLE {t} ADD COLUMN IF NOT EXISTS {n} {column_type};",
                f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                f"NEW.{n} := COALESCE(NEW.{n}, NEW.{o}); NEW.{o} := COALESCE(NEW.{o}, NEW.{n}); RETURN NEW; END $$;",
                f"CREATE TRIGGER {function} BEFORE INSERT OR UPDATE ON {t} FOR EACH ROW EXECUTE FUNCTION {function}();",
                f"UPDATE {t} SET {n} = {o} WHERE {n} IS NULL AND {o} IS NOT NULL;  -- in batches on a large table",
                f"-- deploy: the application reads and writes {new} only",
                f"DROP TRIGGER {function} ON {t};",
                f"ALTER TABLE {t} DROP COLUMN {o};",
            ],
            safety="display-only",
        ),
    )


def check_rename_table(statement: PgStatement, state: LintState) -> Iterator[Finding]:
    """Renaming a table breaks every running query and deploy that still uses the old name.

    ## Why is this bad?
    Code deployed before the rename keeps using the old name and fails until it is replaced.

    ## Example
    ```sql
    ALTER TABLE users RENAME TO accounts;
    ```

    ## Use instead
    ```sql
    BEGIN;
    ALTER TABLE users RENAME TO accounts;
    CREATE VIEW users AS SELECT * FROM accounts;  -- simple views are updatable
    COMMIT;
    -- after every deploy uses "accounts":
    DROP VIEW users;
    ```

    ## Notes
    Same as squawk's renaming-table and strong_migrations' rename_table. Tables created in the same file are not
    flagged.
    """
    node: Any = statement.node
    if not _table_kind(statement):
        return
    table = relation_name(node.relation)
    if state.is_new(table):
        return
    new = str(node.newname)
    schema = f"{node.relation.schemaname}." if node.relation.schemaname else ""
    yield finding(
        RENAME_TABLE,
        statement,
        title=f"Renaming {table} to {new} breaks application code still using {short(table)}",
        subject=table,
        subject_kind="table",
        table=table,
        evidence={"old": table, "new": new, **lock_evidence(ACCESS_EXCLUSIVE)},
        rationale=(
            "Instances deployed before the rename still query the old name and fail until replaced. A view with the "
            "old name keeps them working until the deploy completes."
        ),
        help="Rename and create a view with the old name in one transaction; drop the view after the deploy.",
        fix=Fix(
            title="Keep the old name alive with a view",
            statements=[
                "BEGIN;",
                f"ALTER TABLE {ident(table)} RENAME TO {ident(new)};",
                f"CREATE VIEW {ident(table)} AS SELECT * FROM {ident(schema + new)};",
                "COMMIT;",
            ],
            note=f"After every deploy uses {new}: DROP VIEW {ident(table)};",
        ),
    )


def check_drop_column(statement: PgStatement, state: LintState) -> Iterator[Finding]:
    """Dropping a column breaks deployed code that still reads or writes it.

    ## Why is this bad?
    The drop is a catalog change, but queries naming the column fail at once, and ORMs that list every column they
    know (INSERT ... RETURNING *, cached prepared statements) break until the new code is deployed everywhere.

    ## Example
    ```sql
    ALTER TABLE users DROP COLUMN legacy_flag;
    ```

    ## Use instead
    Deploy code that no longer uses the column first (and tell the ORM to ignore it), then drop it in a later
    migration.

    ## Notes
    Same as squawk's ban-drop-column and strong_migrations' remove_column. Tables created in the same file are
    not flagged.
    """
    table = altered_existing_table(statement, state)
    if not table:
        return
    for cmd in alter_cmds_of(statement, "AT_DropColumn"):
        column = str(cmd.name)
        yield finding(
            DROP_COLUMN,
            statement,
            title=f"Dropping {table}.{column} breaks code that still reads or writes it",
            subject=f"{table}.{column}",
            subject_kind="column",
            table=table,
            evidence={"cascade": cascades(cmd), **lock_evidence(ACCESS_EXCLUSIVE)},
            rationale=(
                "Queries and ORM models that still name the column fail as soon as it is gone. Removing every use "
                "in a deploy first makes the drop harmless."
            ),
            help="Deploy code that ignores the column first; drop it in a later migration.",
        )


def check_drop_table(statement: PgStatement, state: LintState) -> Iterator[Finding]:
    """Dropping a table breaks deployed code that still uses it, and the data cannot be brought back.

    ## Why is this bad?
    Every query on the table fails at once, and the rows are gone unless restored from a backup.

    ## Example
    ```sql
    DROP TABLE legacy_sessions;
    ```

    ## Use instead
    Stop using the table in a deploy first; optionally rename it (`ALTER TABLE t RENAME TO t_retired`) for a
    release so a forgotten user fails loudly but the data survives, then drop it.

    ## Notes
    Same as squawk's ban-drop-table, except tables created earlier in the same file are not flagged.
    """
    node: Any = statement.node
    if enum_name(node.removeType) != "OBJECT_TABLE":
        return
    names = [dotted_name(obj) for obj in node.objects or ()]
    existing = [name for name in names if not state.is_new(name)]
    if not existing:
        return
    yield finding(
        DROP_TABLE,
        statement,
        title=f"Dropping {', '.join(existing)} breaks code still using it and deletes its data",
        subject=", ".join(existing),
        subject_kind="table",
        table=existing[0] if len(existing) == 1 else None,
        evidence={
            "tables": len(existing),
            "cascade": cascades(node),
            **lock_evidence(ACCESS_EXCLUSIVE),
        },
        rationale=(
            "Queries on the table fail as soon as it is dropped and the rows cannot be recovered without a backup. "
            "Retire it from the code first; renaming it for one release catches forgotten users safely."
        ),
        help="Deploy code that no longer uses the table, then drop it (optionally rename it first).",
        fix=Fix(
            title="Retire the table by renaming it first",
            statements=[f"ALTER TABLE {ident(name)} RENAME TO {ident(short(name) + '_retired')};" for name in existing],
            safety="display-only",
            note="Drop the renamed table in a later migration, once nothing failed.",
        ),
    )


def check_drop_database(statement: PgStatement, state: LintState) -> Iterator[Finding]:
    """DROP DATABASE in a migration deletes every table and disconnects nothing gracefully.

    ## Why is this bad?
    It removes all data of the database irreversibly; a migration file is the wrong place for it.

    ## Example
    ```sql
    DROP DATABASE analytics;
    ```

    ## Use instead
    Drop databases by hand, after a backup, outside the migration history.

    ## Notes
    Same as squawk's ban-drop-database.
    """
    node: Any = statement.node
    name = str(node.dbname)
    yield finding(
        DROP_DATABASE,
        statement,
        title=f"DROP DATABASE {name} deletes every table in it, irreversibly",
        subject=name,
        evidence={"if_exists": bool(node.missing_ok)},
        rationale=(
            "Dropping a database removes all of its data at once and cannot be undone without a backup. It does "
            "not belong in an application migration."
        ),
        help="Remove DROP DATABASE from the migration; do it by hand after a backup.",
    )


def check_drop_not_null(statement: PgStatement, state: LintState) -> Iterator[Finding]:
    """Dropping NOT NULL lets NULLs into a column that deployed code assumes is always set.

    ## Why is this bad?
    The change is instant, but readers written for a non-null column (ORM types, reports, joins) can fail or
    misbehave on the first NULL; rolling it back later needs the full NOT NULL procedure again.

    ## Example
    ```sql
    ALTER TABLE orders ALTER COLUMN customer_id DROP NOT NULL;
    ```

    ## Use instead
    Deploy readers that handle NULL first, then drop the constraint.

    ## Notes
    Same as squawk's ban-drop-not-null.
    """
    table = altered_existing_table(statement, state)
    if not table:
        return
    for cmd in alter_cmds_of(statement, "AT_DropNotNull"):
        column = str(cmd.name)
        yield finding(
            DROP_NOT_NULL,
            statement,
            title=f"{table}.{column} may now hold NULLs that existing readers do not expect",
            subject=f"{table}.{column}",
            subject_kind="column",
            table=table,
            evidence={"column": column},
            rationale=(
                "Code written for a non-null column can break on the first NULL, and restoring NOT NULL later needs "
                "a table scan or the CHECK ... NOT VALID procedure."
            ),
            help="Make every reader handle NULL before dropping the constraint.",
        )


def check_truncate_cascade(statement: PgStatement, state: LintState) -> Iterator[Finding]:
    """TRUNCATE ... CASCADE also empties every table that references the named ones, recursively.

    ## Why is this bad?
    CASCADE follows foreign keys: truncating `customers` empties `orders`, and whatever references `orders`, with
    ACCESS EXCLUSIVE on all of them. The set of tables emptied grows silently as the schema grows.

    ## Example
    ```sql
    TRUNCATE customers CASCADE;
    ```

    ## Use instead
    ```sql
    TRUNCATE customers, orders;  -- name every table you mean to empty
    ```

    ## Notes
    Same as squawk's ban-truncate-cascade.
    """
    node: Any = statement.node
    if not cascades(node):
        return
    tables = [relation_name(r) for r in node.relations or ()]
    yield finding(
        TRUNCATE_CASCADE,
        statement,
        title=f"TRUNCATE ... CASCADE also empties every table referencing {', '.join(tables)}",
        subject=", ".join(tables),
        subject_kind="table",
        table=tables[0] if len(tables) == 1 else None,
        evidence={"tables": len(tables), **lock_evidence(ACCESS_EXCLUSIVE)},
        rationale=(
            "CASCADE follows foreign keys recursively, so tables you did not name are emptied too, and more of them "
            "as the schema grows. Naming each table makes the effect explicit."
        ),
        help="Remove CASCADE and list every table to truncate.",
        fix=Fix(
            title="Truncate the named tables only",
            statements=[f"TRUNCATE {', '.join(ident(t) for t in tables)};"],
            note="Add the referencing tables to the list explicitly if they must be emptied too.",
        ),
    )


def check_enum_appended(statement: PgStatement, state: LintState) -> Iterator[Finding]:
    """ALTER TYPE ... ADD VALUE without BEFORE or AFTER puts the value last in the enum's sort order.

    ## Why is this bad?
    Enum values sort in declaration order; appending a value that belongs in the middle (a status between two
    others) silently changes `ORDER BY` and range comparisons on the column.

    ## Example
    ```sql
    ALTER TYPE order_status ADD VALUE 'packed';
    ```

    ## Use instead
    ```sql
    ALTER TYPE order_status ADD VALUE IF NOT EXISTS 'packed' AFTER 'paid';
    ```

    ## Notes
    Same as squawk's require-enum-value-ordering (info: appending is often what is meant).
    """
    node: Any = statement.node
    if node.oldVal or node.newValNeighbor:
        return
    type_text = dotted_name(node.typeName)
    value = str(node.newVal)
    yield finding(
        ENUM_APPENDED,
        statement,
        title=f"'{value}' is appended to {type_text}: it sorts after every existing value",
        subject=type_text,
        evidence={"value": value},
        rationale=(
            "Enum comparisons and ORDER BY follow the declaration order, so an appended value sorts last. State "
            "the position when the order matters."
        ),
        help="Add BEFORE or AFTER an existing value when the order matters.",
        fix=Fix(
            title="Place the value explicitly",
            statements=[f"ALTER TYPE {ident(type_text)} ADD VALUE IF NOT EXISTS '{value}' AFTER '<existing value>';"],
            safety="display-only",
        ),
    )


def check_rename_schema(statement: PgStatement, state: LintState) -> Iterator[Finding]:
    """Renaming a schema breaks every query, function and search_path that names it.

    ## Why is this bad?
    Every qualified reference (`old_schema.table`), every function body and every role's search_path using the
    old name stops resolving at once.

    ## Example
    ```sql
    ALTER SCHEMA billing RENAME TO invoicing;
    ```

    ## Use instead
    Create the new schema, move objects with `ALTER TABLE ... SET SCHEMA` while code references both (or views in
    the old schema), then drop the old one.

    ## Notes
    strong_migrations' rename_schema check; squawk has none.
    """
    node: Any = statement.node
    if enum_name(node.renameType) != "OBJECT_SCHEMA":
        return
    old, new = str(node.subname), str(node.newname)
    yield finding(
        RENAME_SCHEMA,
        statement,
        title=f"Renaming schema {old} to {new} breaks every reference to {old}",
        subject=old,
        evidence={"old": old, "new": new},
        rationale=(
            "Qualified names, function bodies and search_path settings that use the old schema name stop working "
            "immediately. Moving objects gradually keeps deployed code working."
        ),
        help="Move objects to a new schema gradually instead of renaming the schema.",
    )


def check_set_logged(statement: PgStatement, state: LintState) -> Iterator[Finding]:
    """SET LOGGED / SET UNLOGGED rewrites the whole table under ACCESS EXCLUSIVE.

    ## Why is this bad?
    Switching a table between logged and unlogged copies it into a new file (and, for SET LOGGED, writes all of
    it to the WAL, which replicas must replay), with every read and write blocked meanwhile (PostgreSQL docs,
    ALTER TABLE).

    ## Example
    ```sql
    ALTER TABLE import_staging SET LOGGED;
    ```

    ## Use instead
    Create the table with the persistence it needs; for a large table, create a new table and copy the rows in
    batches, then swap the names in one short transaction.

    ## Notes
    From the brief's strong_migrations-style checks; squawk has none.
    """
    table = altered_existing_table(statement, state)
    if not table:
        return
    for _position, sub, _cmd in alter_cmds(statement):
        if sub not in ("AT_SetLogged", "AT_SetUnLogged"):
            continue
        target = "LOGGED" if sub == "AT_SetLogged" else "UNLOGGED"
        yield finding(
            SET_LOGGED,
            statement,
            title=f"SET {target} rewrites all of {table} with reads and writes blocked",
            subject=table,
            subject_kind="table",
            table=table,
            evidence={"persistence": target.lower(), **lock_evidence(ACCESS_EXCLUSIVE)},
            rationale=(
                f"SET {target} copies the whole table into a new file under ACCESS EXCLUSIVE"
                + (" and writes it all to the WAL for replicas." if target == "LOGGED" else ".")
                + " Nothing can use the table until it finishes."
            ),
            help="Choose the persistence at CREATE TABLE, or copy into a new table in batches and swap.",
        )
