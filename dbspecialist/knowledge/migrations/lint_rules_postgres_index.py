"""PostgreSQL lint rules: index builds and drops, REINDEX, partition detach, table rewrites, transaction-only limits.

Lock modes are PostgreSQL's own (documentation: CREATE INDEX, DROP INDEX, REINDEX, ALTER TABLE, VACUUM, CLUSTER).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any, Final

from dbspecialist.knowledge.findings import Finding, Fix, Severity
from dbspecialist.knowledge.migrations.lint_rules_postgres_core import (
    LintState,
    alter_cmds,
    altered_existing_table,
    cascades,
    enum_name,
    finding,
    ident,
    lock_evidence,
    patched_sql,
    short,
    spec,
    statement_subject,
)
from dbspecialist.knowledge.migrations.pg_classify import operation
from dbspecialist.knowledge.migrations.pg_locks import ACCESS_EXCLUSIVE, SHARE
from dbspecialist.knowledge.migrations.pg_statements import PgStatement, deparse, relation_name

# PostgreSQL 14.0-14.3 can build corrupt indexes CONCURRENTLY (MIG042; fixed in 14.4).
CORRUPTION_FROM: Final = (14, 0, 0)
CORRUPTION_FIXED: Final = (14, 4, 0)

# ----------------------------------------------------------------------------------------------- MIG001

CREATE_INDEX = spec(
    "MIG001",
    "create-index-blocks-writes",
    Severity.HIGH,
    "CREATE INDEX without CONCURRENTLY on a table that already exists.",
    fix="always",
)


def check_create_index(statement: PgStatement, state: LintState) -> Iterator[Finding]:
    """A plain CREATE INDEX blocks every INSERT, UPDATE and DELETE on the table until the index is built.

    ## Why is this bad?
    CREATE INDEX takes a SHARE lock on the table: reads continue, writes queue for as long as the build runs,
    which on a large table is minutes. `CREATE INDEX CONCURRENTLY` takes SHARE UPDATE EXCLUSIVE instead, which
    lets writes through; it scans the table twice and waits for older transactions, so it is slower but online
    (PostgreSQL docs, CREATE INDEX, "Building Indexes Concurrently").

    ## Example
    ```sql
    CREATE INDEX orders_customer_idx ON orders (customer_id);
    ```

    ## Use instead
    ```sql
    CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_customer_idx ON orders (customer_id);
    ```

    ## Notes
    Tables created earlier in the same file are not flagged: nobody writes to them yet. CONCURRENTLY cannot run
    inside a transaction block (MIG005) nor on a partitioned parent (build it on each partition, then attach).
    A failed concurrent build leaves an INVALID index behind: drop it (`DROP INDEX CONCURRENTLY IF EXISTS`)
    before retrying. Same as squawk's require-concurrent-index-creation and strong_migrations' add_index check.
    """
    node: Any = statement.node
    if node.concurrent:
        return
    table = relation_name(node.relation)
    if state.is_new(table):
        return
    name = str(node.idxname) if node.idxname else None
    note = "Run it outside any BEGIN ... COMMIT block. "
    if name:
        note += f"If it fails, run `DROP INDEX CONCURRENTLY IF EXISTS {ident(name)};` and retry."
    else:
        note += "Give the index a name so that a failed, INVALID build can be dropped and retried."
    yield finding(
        CREATE_INDEX,
        statement,
        title=f"CREATE INDEX blocks all writes to {table} until the index is built",
        subject=name or table,
        subject_kind="index",
        table=table,
        evidence={**lock_evidence(SHARE), "unique": bool(node.unique), "in_transaction": statement.in_transaction},
        rationale=(
            "A plain index build holds a SHARE lock on the whole table for the entire build, so every insert, "
            "update and delete waits. Building it CONCURRENTLY lets writes continue while it runs."
        ),
        help="Build the index with CREATE INDEX CONCURRENTLY, outside a transaction.",
        fix=_unless_corrupting(
            _partitioned_index_fix(statement, table, name, state)
            or Fix(
                title="Build the index concurrently",
                statements=[patched_sql(statement, [(node, "concurrent", True)])],
                note=note,
            ),
            state,
        ),
    )


def _partitioned_index_fix(statement: PgStatement, table: str, name: str | None, state: LintState) -> Fix | None:
    """On a partitioned table (known from the catalog): CONCURRENTLY per partition, ON ONLY the parent, attach.

    PostgreSQL refuses CREATE INDEX CONCURRENTLY on a partitioned table; an index created ON ONLY the parent is
    empty and invalid until every partition's index is attached to it.
    """
    partitions = state.schema.partitions(table)
    if partitions is None or not name:
        return None
    node: Any = statement.node
    statements: list[str] = []
    attach: list[str] = []
    parent_prefix = short(table)
    for partition in partitions:
        part_short = short(partition)
        part_name = (
            part_short + name[len(parent_prefix) :]
            if name.lower().startswith(parent_prefix.lower())
            else f"{part_short}_{name}"
        )[:63]
        part = copy.deepcopy(node)
        part.idxname = part_name
        part.concurrent = True
        part.if_not_exists = True
        schema, _, relname = partition.rpartition(".")
        part.relation.schemaname = schema or None
        part.relation.relname = relname
        statements.append(f"{deparse(part)};")
        qualified = f"{schema}.{part_name}" if schema else part_name
        attach.append(f"ALTER INDEX {ident(_same_schema(table, name))} ATTACH PARTITION {ident(qualified)};")
    parent = copy.deepcopy(node)
    parent.concurrent = False
    parent.if_not_exists = True
    parent.relation.inh = False  # ON ONLY: the parent's own index, nothing is built
    statements.append(f"{deparse(parent)};")
    return Fix(
        title="Build the index on each partition concurrently, then attach it to the parent",
        statements=[*statements, *attach],
        note=(
            f"{table} is partitioned: CREATE INDEX CONCURRENTLY is refused on it. Run each CONCURRENTLY build "
            "outside any transaction block; the parent's index is valid once every partition's index is attached. "
            "A partition added later gets the index automatically (built under its own lock)."
        ),
    )


def _same_schema(table: str, name: str) -> str:
    schema, _, _rest = table.rpartition(".")
    return f"{schema}.{name}" if schema and "." not in name else name


def _unless_corrupting(fix: Fix, state: LintState) -> Fix:
    """On 14.0-14.3 a CONCURRENTLY fix is only safe after the minor upgrade (MIG042): say so, and never auto-apply."""
    if not (CORRUPTION_FROM <= state.version < CORRUPTION_FIXED):
        return fix
    return Fix(
        title=f"Upgrade to PostgreSQL {'.'.join(map(str, CORRUPTION_FIXED[:2]))}+ first, then: {fix.title.lower()}",
        statements=fix.statements,
        safety="display-only",
        note=(
            "On PostgreSQL 14.0-14.3 a CONCURRENTLY build can silently miss rows (MIG042): run this only after "
            "upgrading to the latest 14.x minor release. Until then the statement as written (blocking) is the "
            "correct one, in a quiet period."
        ),
    )


# ----------------------------------------------------------------------------------------------- MIG002

DROP_INDEX = spec(
    "MIG002",
    "drop-index-blocks-reads",
    Severity.MEDIUM,
    "DROP INDEX without CONCURRENTLY.",
    fix="always",
)


def check_drop_index(statement: PgStatement, state: LintState) -> Iterator[Finding]:
    """A plain DROP INDEX takes ACCESS EXCLUSIVE on the index's table, so it queues behind and blocks every query.

    ## Why is this bad?
    The drop itself is quick, but it needs ACCESS EXCLUSIVE on the table: it waits for every running query on
    the table to finish, and every query arriving meanwhile waits behind it. `DROP INDEX CONCURRENTLY` waits
    for conflicting transactions without blocking new ones (PostgreSQL docs, DROP INDEX).

    ## Example
    ```sql
    DROP INDEX orders_customer_idx;
    ```

    ## Use instead
    ```sql
    DROP INDEX CONCURRENTLY IF EXISTS orders_customer_idx;
    ```

    ## Notes
    CONCURRENTLY drops one index per statement, without CASCADE, and not inside a transaction block: the fix
    gives one statement per index. Indexes of tables created in the same file are not flagged.
    Same as squawk's require-concurrent-index-deletion and strong_migrations' remove_index check.
    """
    node: Any = statement.node
    if enum_name(node.removeType) != "OBJECT_INDEX" or node.concurrent:
        return
    names = [".".join(str(part.sval) for part in obj) for obj in node.objects or ()]
    owners = {name: state.schema.index_table.get(short(name).lower(), "") for name in names}
    if names and all(owner and state.is_new(owner) for owner in owners.values()):
        return
    tables = sorted({owner for owner in owners.values() if owner})
    yield finding(
        DROP_INDEX,
        statement,
        title="DROP INDEX waits for, then blocks, every read and write on the index's table",
        subject=", ".join(names),
        subject_kind="index",
        table=tables[0] if len(tables) == 1 else None,
        evidence={**lock_evidence(ACCESS_EXCLUSIVE), "indexes": len(names), "cascade": cascades(node)},
        rationale=(
            "Dropping an index needs ACCESS EXCLUSIVE on its table. While it waits for running queries to finish, "
            "every new query on the table queues behind it; CONCURRENTLY avoids that queue."
        ),
        help="Drop the index with DROP INDEX CONCURRENTLY IF EXISTS, one index per statement.",
        fix=Fix(
            title="Drop the index concurrently",
            statements=[f"DROP INDEX CONCURRENTLY IF EXISTS {ident(name)};" for name in names],
            note="Run outside a transaction block. CONCURRENTLY does not support CASCADE: drop dependents first."
            if cascades(node)
            else "Run outside a transaction block.",
        ),
    )


# ----------------------------------------------------------------------------------------------- MIG003

REINDEX = spec(
    "MIG003",
    "reindex-blocks-writes",
    Severity.HIGH,
    "REINDEX without CONCURRENTLY.",
)
REINDEX_CONCURRENTLY_SINCE: Final = (12, 0, 0)


def check_reindex(statement: PgStatement, state: LintState) -> Iterator[Finding]:
    """A plain REINDEX blocks writes to the table and every read that would use the index being rebuilt.

    ## Why is this bad?
    REINDEX takes SHARE on the table (writes wait) and ACCESS EXCLUSIVE on each index it rebuilds (queries that
    would use the index wait), for the whole rebuild. `REINDEX ... CONCURRENTLY` (PostgreSQL 12+) builds a new
    copy beside the old one and swaps them, holding only SHARE UPDATE EXCLUSIVE (PostgreSQL docs, REINDEX).

    ## Example
    ```sql
    REINDEX INDEX orders_customer_idx;
    ```

    ## Use instead
    ```sql
    REINDEX INDEX CONCURRENTLY orders_customer_idx;
    ```

    ## Notes
    Before PostgreSQL 12 there is no REINDEX CONCURRENTLY: create a duplicate index concurrently, drop the old
    one concurrently and rename the new one. REINDEX SYSTEM is not flagged (it cannot run concurrently).
    Same as squawk's require-concurrent-reindex, with the version gate added.
    """
    node: Any = statement.node
    target = enum_name(node.kind).removeprefix("REINDEX_OBJECT_").lower()
    concurrently = any(str(p.defname).lower() == "concurrently" for p in node.params or ())
    if concurrently or target == "system":
        return
    table = state.first_table
    if table and state.is_new(table):
        return
    name = relation_name(node.relation) if node.relation is not None else str(node.name or "")
    evidence = {**lock_evidence(SHARE), "target": target, **state.version_evidence()}
    if state.version < REINDEX_CONCURRENTLY_SINCE:
        fix = Fix(
            title="Rebuild the index beside the old one, then swap",
            statements=[
                f"CREATE INDEX CONCURRENTLY {ident(short(name) + '_new')} ON ... ;  -- same definition as {name}",
                f"DROP INDEX CONCURRENTLY {ident(name)};",
                f"ALTER INDEX {ident(short(name) + '_new')} RENAME TO {ident(short(name))};",
            ],
            safety="display-only",
            note="PostgreSQL before 12 has no REINDEX CONCURRENTLY; copy the index definition from pg_indexes.",
        )
    else:
        fix = _unless_corrupting(
            Fix(
                title="Rebuild concurrently",
                statements=[f"REINDEX {target.upper()} CONCURRENTLY {ident(name)};"],
                note="Run outside a transaction block; a failed run leaves an INVALID *_ccnew index to drop.",
            ),
            state,
        )
    yield finding(
        REINDEX,
        statement,
        title=f"REINDEX blocks writes to the table and reads through the index ({target} {name})",
        subject=name or target,
        subject_kind="index" if target == "index" else "table",
        table=table,
        evidence=evidence,
        rationale=(
            "A plain REINDEX holds SHARE on the table and ACCESS EXCLUSIVE on each index for the whole rebuild. "
            "REINDEX CONCURRENTLY builds a replacement first and swaps it in with brief locks."
        ),
        help="Use REINDEX ... CONCURRENTLY (PostgreSQL 12+), outside a transaction.",
        fix=fix,
    )


# ----------------------------------------------------------------------------------------------- MIG004

DETACH_PARTITION = spec(
    "MIG004",
    "detach-partition-blocks",
    Severity.MEDIUM,
    "ALTER TABLE ... DETACH PARTITION without CONCURRENTLY.",
)
DETACH_CONCURRENTLY_SINCE: Final = (14, 0, 0)


def check_detach_partition(statement: PgStatement, state: LintState) -> Iterator[Finding]:
    """DETACH PARTITION without CONCURRENTLY takes ACCESS EXCLUSIVE on the partitioned table.

    ## Why is this bad?
    Every query on the parent table waits while the detach waits for its lock and runs. `DETACH PARTITION ...
    CONCURRENTLY` (PostgreSQL 14+) takes SHARE UPDATE EXCLUSIVE on the parent and runs in two transactions
    (PostgreSQL docs, ALTER TABLE).

    ## Example
    ```sql
    ALTER TABLE measurements DETACH PARTITION measurements_2019;
    ```

    ## Use instead
    ```sql
    ALTER TABLE measurements DETACH PARTITION measurements_2019 CONCURRENTLY;
    ```

    ## Notes
    CONCURRENTLY cannot run in a transaction block and is refused when the table has a DEFAULT partition. If it
    is interrupted, finish with `ALTER TABLE ... DETACH PARTITION ... FINALIZE`. Before 14 there is no online
    form: the finding is kept at low severity as a reminder to run it with a lock timeout.
    Same as squawk's require-concurrent-partition-detach, with the version gate added.
    """
    table = altered_existing_table(statement, state)
    if not table:
        return
    for _position, sub, cmd in alter_cmds(statement):
        if sub != "AT_DetachPartition" or cmd.def_.concurrent:
            continue
        partition = relation_name(cmd.def_.name)
        supported = state.version >= DETACH_CONCURRENTLY_SINCE
        fix = (
            Fix(
                title="Detach concurrently",
                statements=[f"ALTER TABLE {ident(table)} DETACH PARTITION {ident(partition)} CONCURRENTLY;"],
                note="Outside a transaction block; not possible while the table has a DEFAULT partition.",
            )
            if supported
            else None
        )
        yield finding(
            DETACH_PARTITION,
            statement,
            title=f"DETACH PARTITION blocks every query on {table} while it waits and runs",
            subject=f"{table} / {partition}",
            subject_kind="table",
            table=table,
            evidence={**lock_evidence(ACCESS_EXCLUSIVE), "partition": partition, **state.version_evidence()},
            rationale=(
                "A plain detach takes ACCESS EXCLUSIVE on the partitioned table, so all reads and writes of every "
                "partition wait. The concurrent form only takes SHARE UPDATE EXCLUSIVE on the parent."
            ),
            help="Use DETACH PARTITION ... CONCURRENTLY (PostgreSQL 14+)."
            if supported
            else "PostgreSQL before 14 has no online detach: run it with a short lock_timeout and retry.",
            fix=fix,
            severity=None if supported else Severity.LOW,
        )


# ----------------------------------------------------------------------------------------------- MIG005

IN_TRANSACTION = spec(
    "MIG005",
    "cannot-run-in-transaction",
    Severity.CRITICAL,
    "A statement PostgreSQL refuses inside a transaction block is inside BEGIN ... COMMIT.",
)
ENUM_VALUE_IN_TRANSACTION_SINCE: Final = (12, 0, 0)
_NEVER_IN_TRANSACTION: Final[dict[str, str]] = {
    "CreatedbStmt": "CREATE DATABASE",
    "DropdbStmt": "DROP DATABASE",
    "AlterSystemStmt": "ALTER SYSTEM",
    "CreateTableSpaceStmt": "CREATE TABLESPACE",
    "DropTableSpaceStmt": "DROP TABLESPACE",
}
_OP_LABELS: Final[dict[str, str]] = {
    "create_index_concurrently": "CREATE INDEX CONCURRENTLY",
    "drop_index_concurrently": "DROP INDEX CONCURRENTLY",
    "reindex_concurrently": "REINDEX CONCURRENTLY",
    "detach_partition_concurrently": "DETACH PARTITION CONCURRENTLY",
    "vacuum": "VACUUM",
    "vacuum_full": "VACUUM",
}


def _refused_in_transaction(statement: PgStatement, state: LintState) -> str | None:
    label = _NEVER_IN_TRANSACTION.get(statement.kind)
    if label is not None:
        return label
    for op in state.ops:
        refused = op.kind.startswith("vacuum") or not operation(op.kind).transactional
        if op.kind in _OP_LABELS and not op.detail.get("finalize") and refused:
            return _OP_LABELS[op.kind]
        if op.kind == "reindex" and op.detail.get("target") in ("schema", "database", "system"):
            return f"REINDEX {str(op.detail['target']).upper()}"
        if op.kind == "add_enum_value" and state.version < ENUM_VALUE_IN_TRANSACTION_SINCE:
            return "ALTER TYPE ... ADD VALUE (before PostgreSQL 12)"
    return None


def check_in_transaction(statement: PgStatement, state: LintState) -> Iterator[Finding]:
    """A statement that cannot run inside a transaction block sits between BEGIN and COMMIT: it fails at runtime.

    ## Why is this bad?
    PostgreSQL refuses CREATE/DROP INDEX CONCURRENTLY, REINDEX CONCURRENTLY, DETACH PARTITION CONCURRENTLY,
    VACUUM, CREATE/DROP DATABASE, ALTER SYSTEM and REINDEX SCHEMA/DATABASE inside a transaction block ("cannot
    run inside a transaction block"), and ALTER TYPE ... ADD VALUE before version 12. The migration stops there
    and the transaction rolls back.

    ## Example
    ```sql
    BEGIN;
    CREATE INDEX CONCURRENTLY orders_customer_idx ON orders (customer_id);
    COMMIT;
    ```

    ## Use instead
    ```sql
    CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_customer_idx ON orders (customer_id);
    ```

    ## Notes
    Covers squawk's ban-concurrent-index-creation-in-transaction and extends it to every statement PostgreSQL
    refuses in a transaction block. Migration tools that wrap each file in a transaction (Rails, Django, Flyway by
    default) need the file marked non-transactional for these statements.
    """
    if state.transaction is None:
        return
    label = _refused_in_transaction(statement, state)
    if label is None:
        return
    yield finding(
        IN_TRANSACTION,
        statement,
        title=f"{label} cannot run inside a transaction block: the migration fails here",
        table=state.first_table,
        evidence={
            "operation": label,
            "transaction_begin_line": state.transaction.begin_line,
            **(state.version_evidence() if label.startswith("ALTER TYPE") else {}),
        },
        rationale=(
            f"PostgreSQL rejects {label} between BEGIN and COMMIT, so the whole transaction is rolled back at this "
            "statement. Run it on its own, in autocommit mode."
        ),
        help="Move the statement out of the BEGIN ... COMMIT block (its own migration, non-transactional).",
        fix=Fix(
            title="Run the statement outside the transaction",
            statements=["COMMIT;", statement.text.rstrip(";") + ";", "BEGIN;"],
            safety="display-only",
            note="Or move it to its own migration file that the migration tool does not wrap in a transaction.",
        ),
    )


# ----------------------------------------------------------------------------------------------- MIG039

REWRITE_COMMAND = spec(
    "MIG039",
    "table-rewrite-command",
    Severity.HIGH,
    "VACUUM FULL or CLUSTER rewrites a table under ACCESS EXCLUSIVE.",
)
REPACK_SINCE: Final = (19, 0, 0)


def check_rewrite_command(statement: PgStatement, state: LintState) -> Iterator[Finding]:
    """VACUUM FULL and CLUSTER rewrite the whole table while holding ACCESS EXCLUSIVE: no reads, no writes.

    ## Why is this bad?
    Both copy every live row into a new file and rebuild every index, blocking all access to the table for the
    duration, which on a large table is minutes to hours (PostgreSQL docs, VACUUM and CLUSTER). PostgreSQL 19
    adds `REPACK (CONCURRENTLY)`; before it, the pg_repack or pg_squeeze extensions do the same online.

    ## Example
    ```sql
    VACUUM FULL orders;
    ```

    ## Use instead
    ```sql
    REPACK (CONCURRENTLY) orders;  -- PostgreSQL 19+; else: pg_repack --table=orders
    ```

    ## Notes
    squawk's prefer-repack only fires on PostgreSQL 19+; we flag the rewrite on every version (as
    strong_migrations does for raw SQL) and suggest the online tool available on the version linted.
    """
    for op in state.ops:
        if op.kind not in ("vacuum_full", "cluster"):
            continue
        if op.table and state.is_new(op.table):
            continue
        label = "VACUUM FULL" if op.kind == "vacuum_full" else "CLUSTER"
        target = op.table or "every table in the database"
        if state.version >= REPACK_SINCE:
            using = op.detail.get("index")
            statements = (
                [
                    f"REPACK (CONCURRENTLY) {ident(op.table)}"
                    + (f" USING INDEX {ident(str(using))}" if using else "")
                    + ";"
                ]
                if op.table
                else ["REPACK (CONCURRENTLY);"]
            )
            fix = Fix(title="Rewrite the table online with REPACK", statements=statements)
        else:
            order = f" --order-by=<{op.detail['index']} columns>" if op.detail.get("index") else ""
            fix = Fix(
                title="Rewrite the table online with pg_repack",
                statements=[f"pg_repack --dbname=<database> --table={op.table or '<table>'}{order}"],
                safety="display-only",
                note="pg_repack (an extension plus a client) needs a primary key or a NOT NULL unique index.",
            )
        yield finding(
            REWRITE_COMMAND,
            statement,
            title=f"{label} rewrites {target} with all reads and writes blocked",
            subject=op.table or target,
            subject_kind="table",
            table=op.table or None,
            evidence={**lock_evidence(ACCESS_EXCLUSIVE), "command": label, **state.version_evidence()},
            rationale=(
                f"{label} copies every row and rebuilds every index while holding ACCESS EXCLUSIVE, so the table is "
                "unavailable for the whole rewrite. An online repack does the same work with brief locks."
            ),
            help="Use REPACK (CONCURRENTLY) on PostgreSQL 19+, or pg_repack before that.",
            fix=fix,
        )


# ----------------------------------------------------------------------------------------------- MIG042

INDEX_CORRUPTION = spec(
    "MIG042",
    "concurrent-index-corruption-bug",
    Severity.CRITICAL,
    "CREATE/REINDEX ... CONCURRENTLY on PostgreSQL 14.0-14.3 (index corruption bug).",
)


def check_index_corruption(statement: PgStatement, state: LintState) -> Iterator[Finding]:
    """On PostgreSQL 14.0 to 14.3, CREATE INDEX CONCURRENTLY and REINDEX CONCURRENTLY can build a corrupt index.

    ## Why is this bad?
    A bug in those releases could leave out rows that were HOT-updated during the concurrent build, so the index
    silently misses rows and queries using it return wrong results (PostgreSQL 14.4 release notes). Fixed in 14.4.

    ## Example
    ```sql
    -- server version 14.2
    CREATE INDEX CONCURRENTLY orders_customer_idx ON orders (customer_id);
    ```

    ## Use instead
    Upgrade to 14.4 or later first; then rebuild every index built concurrently on 14.0-14.3
    (`REINDEX INDEX CONCURRENTLY ...`) and check them with amcheck (`SELECT bt_index_check(...)`).

    ## Notes
    Only fires when the version is given and is in the affected range (strong_migrations' index corruption
    check; squawk has no equivalent).
    """
    if not (CORRUPTION_FROM <= state.version < CORRUPTION_FIXED):
        return
    for op in state.ops:
        if op.kind not in ("create_index_concurrently", "reindex_concurrently"):
            continue
        index = str(op.detail.get("index") or op.table or "")
        yield finding(
            INDEX_CORRUPTION,
            statement,
            title="Concurrent index builds on PostgreSQL 14.0-14.3 can silently miss rows (corrupt index)",
            subject=index or statement_subject(statement),
            subject_kind="index",
            table=op.table or None,
            evidence={**state.version_evidence(), "fixed_in": "14.4"},
            rationale=(
                "PostgreSQL 14.0 to 14.3 can build an index concurrently that lacks rows updated during the build, "
                "so queries using it return wrong results. Release 14.4 fixed it."
            ),
            help="Upgrade to PostgreSQL 14.4+ before building indexes concurrently.",
            fix=Fix(
                title="Upgrade, then rebuild and check affected indexes",
                statements=[
                    f"REINDEX INDEX CONCURRENTLY {ident(index)};" if index else "REINDEX INDEX CONCURRENTLY <index>;",
                    "CREATE EXTENSION IF NOT EXISTS amcheck;",
                    f"SELECT bt_index_check('{index or '<index>'}'::regclass, true);",
                ],
                safety="display-only",
                note="Run after upgrading to 14.4 or later.",
            ),
        )
