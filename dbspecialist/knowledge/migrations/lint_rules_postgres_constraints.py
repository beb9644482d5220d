"""PostgreSQL lint rules: constraints that validate or build an index under a lock, and domain constraints.

The safe forms come from the PostgreSQL documentation (ALTER TABLE: NOT VALID, VALIDATE CONSTRAINT,
ADD table_constraint_using_index).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

from dbspecialist.knowledge.findings import Finding, Fix, Severity
from dbspecialist.knowledge.migrations.lint_rules_postgres_core import (
    LintState,
    alter_cmds,
    alter_cmds_of,
    alter_table_name,
    altered_existing_table,
    dotted_name,
    enum_name,
    finding,
    ident,
    lock_evidence,
    short,
    spec,
)
from dbspecialist.knowledge.migrations.pg_locks import ACCESS_EXCLUSIVE, SHARE_ROW_EXCLUSIVE
from dbspecialist.knowledge.migrations.pg_statements import PgStatement, deparse, relation_name
from dbspecialist.knowledge.sql_text import index_name


def _keys(con: Any) -> list[str]:
    return [str(key.sval) for key in con.keys or ()]


def _constraint_name(table: str, con: Any, columns: list[str], suffix: str) -> str:
    """The constraint's own name, or the one PostgreSQL would choose (<table>_<columns>_<suffix>, 63 bytes)."""
    if con.conname:
        return str(con.conname)
    return index_name(short(table), columns, suffix)


def _constraints(statement: PgStatement, kinds: tuple[str, ...]) -> Iterator[tuple[str, Any, str | None]]:
    """(subcommand, constraint, column) for ADD CONSTRAINT and column constraints of ADD COLUMN, of `kinds`."""
    for _position, sub, cmd in alter_cmds(statement):
        if sub == "AT_AddConstraint" and enum_name(cmd.def_.contype) in kinds:
            yield sub, cmd.def_, None
        elif sub == "AT_AddColumn":
            for con in cmd.def_.constraints or ():
                if enum_name(con.contype) in kinds:
                    yield sub, con, str(cmd.def_.colname)


def _add_column_without(statement: PgStatement, column: str, kinds: tuple[str, ...]) -> str:
    """`ALTER TABLE t ADD COLUMN c ...;` for one column of the statement, without constraints of `kinds`."""
    for _position, sub, cmd in alter_cmds(statement):
        if sub == "AT_AddColumn" and str(cmd.def_.colname) == column:
            definition = cmd.def_
            original = definition.constraints
            kept = tuple(c for c in original or () if enum_name(c.contype) not in kinds)
            try:
                definition.constraints = kept or None
                text = deparse(definition)
            finally:
                definition.constraints = original
            exists = "IF NOT EXISTS " if cmd.missing_ok else ""
            return f"ALTER TABLE {ident(alter_table_name(statement))} ADD COLUMN {exists}{text};"
    return ""


# ----------------------------------------------------------------------------------------------- MIG006

CHECK_CONSTRAINT = spec(
    "MIG006",
    "check-constraint-validates-under-lock",
    Severity.HIGH,
    "ADD CONSTRAINT ... CHECK without NOT VALID on an existing table.",
    fix="always",
)


def check_check_constraint(statement: PgStatement, state: LintState) -> Iterator[Finding]:
    """Adding a CHECK constraint reads the whole table while holding ACCESS EXCLUSIVE: no reads, no writes.

    ## Why is this bad?
    `ADD CONSTRAINT ... CHECK (...)` verifies every existing row under the ACCESS EXCLUSIVE lock ALTER TABLE
    takes. Added `NOT VALID`, it only checks new rows and commits at once; `VALIDATE CONSTRAINT` then scans the
    table holding SHARE UPDATE EXCLUSIVE, which lets reads and writes through (PostgreSQL docs, ALTER TABLE).

    ## Example
    ```sql
    ALTER TABLE orders ADD CONSTRAINT orders_total_positive CHECK (total >= 0);
    ```

    ## Use instead
    ```sql
    ALTER TABLE orders ADD CONSTRAINT orders_total_positive CHECK (total >= 0) NOT VALID;
    -- in a separate transaction:
    ALTER TABLE orders VALIDATE CONSTRAINT orders_total_positive;
    ```

    ## Notes
    Tables created in the same file are not flagged. squawk's constraint-missing-not-valid also flags UNIQUE and
    PRIMARY KEY constraints, which cannot be NOT VALID; we report those under MIG009/MIG010 with their own fix.
    Covers strong_migrations' add_check_constraint check.
    """
    table = altered_existing_table(statement, state)
    if not table:
        return
    for sub, con, _column in _constraints(statement, ("CONSTR_CHECK",)):
        if sub != "AT_AddConstraint" or con.skip_validation:
            continue
        name = _constraint_name(table, con, [], "check")
        expression = deparse(con.raw_expr)
        yield finding(
            CHECK_CONSTRAINT,
            statement,
            title=f"Adding CHECK {name} scans all of {table} with reads and writes blocked",
            subject=f"{table}.{name}",
            subject_kind="constraint",
            table=table,
            evidence={**lock_evidence(ACCESS_EXCLUSIVE), "constraint": name},
            rationale=(
                "A new CHECK constraint is verified against every row while ALTER TABLE holds ACCESS EXCLUSIVE. "
                "Adding it NOT VALID is instant, and VALIDATE CONSTRAINT later scans without blocking writes."
            ),
            help="Add the constraint NOT VALID, then VALIDATE CONSTRAINT in a separate transaction.",
            fix=Fix(
                title="Add NOT VALID, validate separately",
                statements=[
                    f"ALTER TABLE {ident(table)} ADD CONSTRAINT {ident(name)} CHECK ({expression}) NOT VALID;",
                    f"ALTER TABLE {ident(table)} VALIDATE CONSTRAINT {ident(name)};",
                ],
                note="Commit between the two statements (or run them in autocommit mode).",
            ),
        )


# ----------------------------------------------------------------------------------------------- MIG007

VALIDATE_SAME_TRANSACTION = spec(
    "MIG007",
    "validate-in-adding-transaction",
    Severity.HIGH,
    "VALIDATE CONSTRAINT in the same transaction that added the constraint NOT VALID.",
    fix="always",
)


def check_validate_same_transaction(statement: PgStatement, state: LintState) -> Iterator[Finding]:
    """VALIDATE CONSTRAINT in the transaction that added the constraint NOT VALID keeps the strong lock held.

    ## Why is this bad?
    `ADD CONSTRAINT ... NOT VALID` takes ACCESS EXCLUSIVE (CHECK) or SHARE ROW EXCLUSIVE on both tables (FOREIGN
    KEY), and a transaction keeps its locks until COMMIT. Validating before the commit scans the table with that
    lock still held, which is exactly what NOT VALID was meant to avoid.

    ## Example
    ```sql
    BEGIN;
    ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers NOT VALID;
    ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_fk;
    COMMIT;
    ```

    ## Use instead
    ```sql
    BEGIN;
    ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers NOT VALID;
    COMMIT;
    ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_fk;
    ```

    ## Notes
    Same as the transaction part of squawk's constraint-missing-not-valid and strong_migrations'
    validate_check_constraint / validate_foreign_key checks.
    """
    transaction = state.transaction
    if transaction is None:
        return
    table = alter_table_name(statement) if alter_cmds(statement) else ""
    for cmd in alter_cmds_of(statement, "AT_ValidateConstraint"):
        name = str(cmd.name)
        added = transaction.not_valid.get(name.lower())
        if added is None:
            continue
        yield finding(
            VALIDATE_SAME_TRANSACTION,
            statement,
            title=f"VALIDATE {name} runs while the lock taken to add it (line {added}) is still held",
            subject=f"{table}.{name}",
            subject_kind="constraint",
            table=table,
            evidence={
                "added_line": added,
                "transaction_begin_line": transaction.begin_line,
                "locks": transaction.describe(),
            },
            rationale=(
                "The NOT VALID add took a strong lock that lasts until COMMIT, so validating in the same transaction "
                "scans the table with writes (or all access) blocked. Commit first, then validate."
            ),
            help="COMMIT after adding the constraint NOT VALID; validate in the next transaction.",
            fix=Fix(
                title="Validate in its own transaction",
                statements=["COMMIT;", f"ALTER TABLE {ident(table)} VALIDATE CONSTRAINT {ident(name)};"],
                safety="display-only",
                note="Move the VALIDATE after the COMMIT of the transaction that adds the constraint.",
            ),
        )


# ----------------------------------------------------------------------------------------------- MIG008

FOREIGN_KEY = spec(
    "MIG008",
    "foreign-key-validates-under-lock",
    Severity.HIGH,
    "A FOREIGN KEY added to an existing table without NOT VALID.",
    fix="always",
)


def check_foreign_key(statement: PgStatement, state: LintState) -> Iterator[Finding]:
    """Adding a foreign key checks every row while blocking writes on both the table and the referenced table.

    ## Why is this bad?
    `ADD FOREIGN KEY` (or `ADD COLUMN ... REFERENCES`) takes SHARE ROW EXCLUSIVE on both tables and verifies every
    row before it commits, so writes to both wait for the whole scan. Added `NOT VALID` it commits at once, and
    `VALIDATE CONSTRAINT` then checks the rows under SHARE UPDATE EXCLUSIVE (writes allowed) and ROW SHARE on the
    referenced table (PostgreSQL docs, ALTER TABLE).

    ## Example
    ```sql
    ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id);
    ```

    ## Use instead
    ```sql
    ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id)
        NOT VALID;
    ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_fk;
    ```

    ## Notes
    One finding per foreign key, where squawk reports it twice (adding-foreign-key-constraint and
    constraint-missing-not-valid). Tables created in the same file are not flagged (no rows to check).
    """
    table = altered_existing_table(statement, state)
    if not table:
        return
    for _sub, con, column in _constraints(statement, ("CONSTR_FOREIGN",)):
        if con.skip_validation:
            continue
        references = relation_name(con.pktable)
        columns = [column] if column else [str(a.sval) for a in con.fk_attrs or ()]
        name = _constraint_name(table, con, columns, "fkey")
        target = deparse(con) if column else ""
        if column:
            clause = target[target.upper().find("REFERENCES") :] if "REFERENCES" in target.upper() else target
            statements = [
                _add_column_without(statement, column, ("CONSTR_FOREIGN",)),
                f"ALTER TABLE {ident(table)} ADD CONSTRAINT {ident(name)} FOREIGN KEY ({ident(column)}) "
                f"{clause} NOT VALID;",
            ]
        else:
            body = deparse(con)
            if not con.conname:
                body = f"CONSTRAINT {ident(name)} {body}"
            statements = [f"ALTER TABLE {ident(table)} ADD {body} NOT VALID;"]
        statements.append(f"ALTER TABLE {ident(table)} VALIDATE CONSTRAINT {ident(name)};")
        fix = Fix(
            title="Add NOT VALID, validate separately",
            statements=statements,
            note="Commit before the VALIDATE; each statement in its own transaction is best.",
        )
        partitions = state.schema.partitions(table)
        if partitions is not None and not column:
            fix = _partitioned_foreign_key_fix(table, con, name, partitions)
        yield finding(
            FOREIGN_KEY,
            statement,
            title=f"Foreign key {name} blocks writes to {table} and {references} while every row is checked",
            subject=f"{table}.{name}",
            subject_kind="constraint",
            table=table,
            evidence={**lock_evidence(SHARE_ROW_EXCLUSIVE), "references": references, "via_add_column": bool(column)},
            rationale=(
                "The new foreign key is verified row by row while both tables are locked against writes. Adding it "
                "NOT VALID commits immediately; VALIDATE CONSTRAINT then checks the rows with writes allowed."
            ),
            help="Add the foreign key NOT VALID, then VALIDATE CONSTRAINT in a separate transaction.",
            fix=fix,
        )


def _partitioned_foreign_key_fix(table: str, con: Any, name: str, partitions: list[str]) -> Fix:
    """NOT VALID + VALIDATE on each partition, then the key on the parent, which adopts the partitions' keys.

    PostgreSQL refuses a NOT VALID foreign key on a partitioned table ("cannot add NOT VALID foreign key on
    partitioned table"); added on the parent last, the key attaches each partition's equal, validated key instead
    of checking the rows again.
    """
    part = copy.deepcopy(con)
    part.conname = name
    part.skip_validation = True
    part.initially_valid = False
    parent = copy.deepcopy(con)
    parent.conname = name
    body_part, body_parent = deparse(part), deparse(parent)
    adds = [f"ALTER TABLE {ident(p)} ADD {body_part};" for p in partitions]
    validates = [f"ALTER TABLE {ident(p)} VALIDATE CONSTRAINT {ident(name)};" for p in partitions]
    return Fix(
        title="Add the key NOT VALID on each partition, validate them, then add it on the parent",
        statements=[*adds, *validates, f"ALTER TABLE {ident(table)} ADD {body_parent};"],
        note=(
            f"{table} is partitioned: NOT VALID is refused on it. Commit after the NOT VALID adds and run each "
            "VALIDATE in its own transaction; the last statement then only checks the catalog."
        ),
    )


# ----------------------------------------------------------------------------------------------- MIG009, MIG010

UNIQUE_CONSTRAINT = spec(
    "MIG009",
    "unique-constraint-builds-index-under-lock",
    Severity.HIGH,
    "ADD UNIQUE (or ADD COLUMN ... UNIQUE) on an existing table builds its index under ACCESS EXCLUSIVE.",
    fix="always",
)
PRIMARY_KEY = spec(
    "MIG010",
    "primary-key-builds-index-under-lock",
    Severity.HIGH,
    "ADD PRIMARY KEY on an existing table builds its index under ACCESS EXCLUSIVE.",
    fix="always",
)


def _index_fix(statement: PgStatement, table: str, con: Any, column: str | None, *, primary: bool) -> Fix:
    columns = [column] if column else _keys(con)
    name = _constraint_name(table, con, columns, "pkey" if primary else "key")
    parts = ", ".join(ident(c) for c in columns)
    nulls = " NULLS NOT DISTINCT" if getattr(con, "nulls_not_distinct", False) else ""
    include = [str(i.sval) for i in con.including or ()] if getattr(con, "including", None) else []
    including = f" INCLUDE ({', '.join(ident(i) for i in include)})" if include else ""
    statements = []
    if column:
        statements.append(_add_column_without(statement, column, ("CONSTR_UNIQUE", "CONSTR_PRIMARY")))
    statements.append(
        f"CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS {ident(name)} ON {ident(table)} ({parts}){including}{nulls};"
    )
    kind = "PRIMARY KEY" if primary else "UNIQUE"
    deferrable = " DEFERRABLE" if con.deferrable else ""
    deferred = " INITIALLY DEFERRED" if con.initdeferred else ""
    attach = f"{kind} USING INDEX {ident(name)}{deferrable}{deferred}"
    statements.append(f"ALTER TABLE {ident(table)} ADD CONSTRAINT {ident(name)} {attach};")
    note = "Build the index outside a transaction; the ADD CONSTRAINT ... USING INDEX only updates the catalog."
    if primary:
        note += " The key columns must already be NOT NULL, or the last step scans the table (see MIG016)."
    return Fix(
        title=f"Build the unique index concurrently, then attach it as the {kind.lower()}",
        statements=statements,
        note=note,
    )


def check_unique_constraint(statement: PgStatement, state: LintState) -> Iterator[Finding]:
    """A UNIQUE constraint added to an existing table builds its index while holding ACCESS EXCLUSIVE.

    ## Why is this bad?
    `ADD CONSTRAINT ... UNIQUE` (and `ADD COLUMN ... UNIQUE`) builds the unique index inside the ALTER TABLE, so
    every read and write of the table waits for the whole build. Building the index with `CREATE UNIQUE INDEX
    CONCURRENTLY` first and attaching it with `ADD CONSTRAINT ... UNIQUE USING INDEX` only locks for the catalog
    update (PostgreSQL docs, ALTER TABLE).

    ## Example
    ```sql
    ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);
    ```

    ## Use instead
    ```sql
    CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS users_email_key ON users (email);
    ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE USING INDEX users_email_key;
    ```

    ## Notes
    Same as squawk's disallowed-unique-constraint and strong_migrations' add_unique_constraint check.
    """
    yield from _index_constraint(statement, state, primary=False)


def check_primary_key(statement: PgStatement, state: LintState) -> Iterator[Finding]:
    """Adding a PRIMARY KEY to an existing table builds its index (and checks NOT NULL) under ACCESS EXCLUSIVE.

    ## Why is this bad?
    `ADD PRIMARY KEY` builds a unique index over the whole table and, for nullable key columns, scans for NULLs,
    all while every query on the table waits. Build the index concurrently, then `ADD CONSTRAINT ... PRIMARY KEY
    USING INDEX`, after making the key columns NOT NULL the online way (PostgreSQL docs, ALTER TABLE).

    ## Example
    ```sql
    ALTER TABLE events ADD PRIMARY KEY (id);
    ```

    ## Use instead
    ```sql
    CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS events_pkey ON events (id);
    ALTER TABLE events ADD CONSTRAINT events_pkey PRIMARY KEY USING INDEX events_pkey;
    ```

    ## Notes
    Same as squawk's adding-serial-primary-key-field (which despite its name flags any added primary key), but
    tables created in the same file are not flagged.
    """
    yield from _index_constraint(statement, state, primary=True)


def _index_constraint(statement: PgStatement, state: LintState, *, primary: bool) -> Iterator[Finding]:
    table = altered_existing_table(statement, state)
    if not table:
        return
    rule = PRIMARY_KEY if primary else UNIQUE_CONSTRAINT
    kind = "CONSTR_PRIMARY" if primary else "CONSTR_UNIQUE"
    for _sub, con, column in _constraints(statement, (kind,)):
        if con.indexname:
            continue
        columns = [column] if column else _keys(con)
        label = "primary key" if primary else "unique constraint"
        yield finding(
            rule,
            statement,
            title=f"Adding a {label} on {table} ({', '.join(columns)}) builds an index with all access blocked",
            subject=f"{table} ({', '.join(columns)})",
            subject_kind="constraint",
            table=table,
            evidence={**lock_evidence(ACCESS_EXCLUSIVE), "columns": ", ".join(columns), "via_add_column": bool(column)},
            rationale=(
                f"The {label}'s unique index is built inside the ALTER TABLE, under ACCESS EXCLUSIVE, so reads and "
                "writes stop for the whole build. A concurrently built index can be attached in milliseconds."
            ),
            help="CREATE UNIQUE INDEX CONCURRENTLY, then ADD CONSTRAINT ... USING INDEX.",
            fix=_index_fix(statement, table, con, column, primary=primary),
        )


# ----------------------------------------------------------------------------------------------- MIG011, MIG012

DOMAIN_CONSTRAINT = spec(
    "MIG011",
    "domain-with-constraint",
    Severity.MEDIUM,
    "CREATE DOMAIN with a CHECK or NOT NULL constraint.",
    fix="never",
)
DOMAIN_ADD_CONSTRAINT = spec(
    "MIG012",
    "domain-constraint-added",
    Severity.MEDIUM,
    "ALTER DOMAIN ... ADD CONSTRAINT.",
    fix="never",
)


def check_domain_constraint(statement: PgStatement, state: LintState) -> Iterator[Finding]:
    """A domain with constraints ties every column of that type to checks that are hard to change online.

    ## Why is this bad?
    Adding a column of a constrained domain rewrites the table (the default must be checked against the domain),
    and changing the domain's constraints later validates every column using it in every table, under locks
    that block writes (PostgreSQL docs, ALTER TABLE notes and ALTER DOMAIN).

    ## Example
    ```sql
    CREATE DOMAIN positive_int AS integer CHECK (VALUE > 0);
    ```

    ## Use instead
    ```sql
    CREATE DOMAIN positive_int AS integer;  -- or plain integer
    ALTER TABLE orders ADD CONSTRAINT orders_qty_positive CHECK (qty > 0) NOT VALID;
    ```

    ## Notes
    Same as squawk's ban-create-domain-with-constraint.
    """
    node: Any = statement.node
    constraints = [enum_name(c.contype).removeprefix("CONSTR_") for c in node.constraints or ()]
    if not constraints:
        return
    name = dotted_name(node.domainname)
    yield finding(
        DOMAIN_CONSTRAINT,
        statement,
        title=f"Domain {name} carries constraints that every table using it must re-check on change",
        subject=name,
        evidence={"constraints": ", ".join(constraints)},
        rationale=(
            "Constraints on a domain apply to every column of that type; adding such columns rewrites tables, and "
            "altering the constraints scans every table using the domain. Table CHECK constraints can be added NOT "
            "VALID and validated online instead."
        ),
        help="Keep the domain unconstrained and put CHECK constraints on the tables.",
    )


def check_domain_add_constraint(statement: PgStatement, state: LintState) -> Iterator[Finding]:
    """ALTER DOMAIN ... ADD CONSTRAINT checks every column of that domain in every table.

    ## Why is this bad?
    The new constraint is verified against every stored value of every column using the domain, table by table,
    while those tables are locked against writes. NOT VALID skips the check of existing rows, but the domain's
    columns stay coupled to future constraint changes (PostgreSQL docs, ALTER DOMAIN).

    ## Example
    ```sql
    ALTER DOMAIN positive_int ADD CONSTRAINT positive CHECK (VALUE > 0);
    ```

    ## Use instead
    ```sql
    ALTER TABLE orders ADD CONSTRAINT orders_qty_positive CHECK (qty > 0) NOT VALID;
    ALTER TABLE orders VALIDATE CONSTRAINT orders_qty_positive;
    ```

    ## Notes
    Same as squawk's ban-alter-domain-with-add-constraint; with NOT VALID we lower the severity to low, since
    existing rows are not checked.
    """
    node: Any = statement.node
    if node.subtype != "C":
        return
    name = dotted_name(node.typeName)
    not_valid = bool(getattr(node.def_, "skip_validation", False))
    yield finding(
        DOMAIN_ADD_CONSTRAINT,
        statement,
        title=f"Adding a constraint to domain {name} checks every column of that type in every table",
        subject=name,
        evidence={"not_valid": not_valid},
        rationale=(
            "A domain constraint is checked against every stored value of the domain in all tables, with those tables "
            "locked against writes. Per-table CHECK constraints can be added NOT VALID and validated online."
        ),
        help="Put the CHECK on the tables' columns (NOT VALID, then VALIDATE) instead of on the domain.",
        severity=Severity.LOW if not_valid else None,
    )


# ----------------------------------------------------------------------------------------------- MIG044

EXCLUSION_CONSTRAINT = spec(
    "MIG044",
    "exclusion-constraint",
    Severity.HIGH,
    "ADD CONSTRAINT ... EXCLUDE on an existing table.",
    fix="never",
)


def check_exclusion_constraint(statement: PgStatement, state: LintState) -> Iterator[Finding]:
    """An exclusion constraint builds its index and checks every row under ACCESS EXCLUSIVE, with no online form.

    ## Why is this bad?
    Unlike UNIQUE, an exclusion constraint cannot be attached from a concurrently built index (there is no
    `EXCLUDE USING INDEX`) nor added NOT VALID, so the table is unavailable for the whole build
    (PostgreSQL docs, ALTER TABLE).

    ## Example
    ```sql
    ALTER TABLE bookings ADD CONSTRAINT no_overlap EXCLUDE USING gist (room WITH =, during WITH &&);
    ```

    ## Use instead
    Add it when the table is created, or during a maintenance window on a large table; enforce the rule in a
    trigger or the application until then.

    ## Notes
    strong_migrations' add_exclusion_constraint check; squawk flags it only through constraint-missing-not-valid,
    whose NOT VALID advice cannot be applied to exclusion constraints.
    """
    table = altered_existing_table(statement, state)
    if not table:
        return
    for _sub, con, _column in _constraints(statement, ("CONSTR_EXCLUSION",)):
        name = str(con.conname) if con.conname else f"{short(table)}_excl"
        yield finding(
            EXCLUSION_CONSTRAINT,
            statement,
            title=f"Exclusion constraint {name} locks {table} against all access for its whole index build",
            subject=f"{table}.{name}",
            subject_kind="constraint",
            table=table,
            evidence={**lock_evidence(ACCESS_EXCLUSIVE), "access_method": str(con.access_method or "btree")},
            rationale=(
                "An exclusion constraint's index is built and every row checked inside the ALTER TABLE, under ACCESS "
                "EXCLUSIVE. PostgreSQL offers no concurrent or NOT VALID form for it."
            ),
            help="Create it with the table, or schedule a maintenance window for a large table.",
        )
