"""PostgreSQL lint rules: re-runnable statements, schema-qualified names, identifier length, duplicate columns,
and wide indexes.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from typing import Any, Final

from dbspecialist.knowledge.findings import Finding, Fix, Severity
from dbspecialist.knowledge.migrations.lint_rules_postgres_core import (
    Change,
    LintState,
    alter_cmds,
    alter_table_name,
    dotted_name,
    enum_name,
    finding,
    ident,
    patched_sql,
    spec,
)
from dbspecialist.knowledge.migrations.pg_statements import PgStatement, deparse, relation_name
from dbspecialist.knowledge.sql_text import index_name

NAMEDATALEN: Final = 64  # PostgreSQL's identifier buffer (pg_config_manual.h): 63 bytes of name
MAX_IDENTIFIER_BYTES: Final = NAMEDATALEN - 1
WIDE_INDEX_COLUMNS: Final = 3  # strong_migrations' "more than three columns" best-practice threshold
# Cheap pre-filter: only statements with a quoted identifier or a long word can hold a too-long identifier.
_MAYBE_LONG: Final = re.compile(r'"|[^\s,;().=<>+*/\'-]{22,}')

ROBUST = spec(
    "MIG032",
    "not-rerunnable",
    Severity.LOW,
    "A statement outside a transaction that fails when the migration is re-run after a partial failure.",
    fix="always",
)
SCHEMA_QUALIFIED = spec(
    "MIG036",
    "table-not-schema-qualified",
    Severity.INFO,
    "A table created, altered or dropped without a schema name (opt-in).",
    fix="always",
    status="preview",
)
IDENTIFIER_TOO_LONG = spec(
    "MIG037",
    "identifier-too-long",
    Severity.MEDIUM,
    "An identifier longer than 63 bytes (PostgreSQL silently truncates it).",
)
DUPLICATE_COLUMN = spec(
    "MIG038",
    "duplicate-column",
    Severity.HIGH,
    "The same column assigned or defined twice in one statement.",
)
WIDE_INDEX = spec(
    "MIG050",
    "wide-index",
    Severity.INFO,
    "A non-unique index on more than three columns.",
    fix="never",
)


# ----------------------------------------------------------------------------------------------- MIG032


def _not_rerunnable(statement: PgStatement, state: LintState) -> tuple[list[str], list[Change]]:
    """(what is not re-runnable, the parse-tree changes that guard it) for one statement; ([], []) when fine."""
    node: Any = statement.node
    kind = statement.kind
    if kind == "AlterTableStmt":
        problems: list[str] = []
        changes: list[Change] = []
        for _position, sub, cmd in alter_cmds(statement):
            if sub in ("AT_AddColumn", "AT_DropColumn", "AT_DropConstraint") and not cmd.missing_ok:
                label = {"AT_AddColumn": "ADD COLUMN", "AT_DropColumn": "DROP COLUMN"}.get(sub, "DROP CONSTRAINT")
                target = str(cmd.def_.colname) if sub == "AT_AddColumn" else str(cmd.name)
                problems.append(f"{label} {target}")
                changes.append((cmd, "missing_ok", True))
            elif sub == "AT_AddConstraint" and cmd.def_.conname:
                name = str(cmd.def_.conname)
                if name.lower() not in state.dropped_constraints:
                    problems.append(f"ADD CONSTRAINT {name}")
            elif sub == "AT_AddConstraint" and not cmd.def_.indexname:
                problems.append("ADD unnamed constraint")
            elif sub in ("AT_AttachPartition", "AT_DetachPartition"):
                verb = "ATTACH" if sub == "AT_AttachPartition" else "DETACH"
                problems.append(f"{verb} PARTITION {relation_name(cmd.def_.name)}")
        return problems, changes
    if kind == "IndexStmt" and not node.if_not_exists:
        if node.idxname and str(node.idxname).lower() in state.dropped_indexes:
            return [], []
        return [f"CREATE INDEX {node.idxname or '(unnamed)'}"], []
    if kind == "CreateStmt" and not node.if_not_exists:
        if node.relation.relpersistence == "t" and enum_name(node.oncommit) == "ONCOMMIT_DROP":
            return [], []
        return [f"CREATE TABLE {relation_name(node.relation)}"], [(node, "if_not_exists", True)]
    if kind == "DropStmt" and not node.missing_ok and enum_name(node.removeType) in _DROPPABLE:
        names = ", ".join(dotted_name(obj) for obj in node.objects or () if isinstance(obj, tuple))
        label = f"DROP {_DROPPABLE[enum_name(node.removeType)]} {names}".rstrip()
        return [label], [(node, "missing_ok", True)]
    if kind == "AlterEnumStmt" and node.newVal and not node.oldVal and not node.skipIfNewValExists:
        return [f"ADD VALUE '{node.newVal}'"], [(node, "skipIfNewValExists", True)]
    if kind == "RenameStmt":
        renamed = enum_name(node.renameType)
        if renamed in ("OBJECT_TABLE", "OBJECT_INDEX") and not node.missing_ok:
            return [f"RENAME {relation_name(node.relation)}"], [(node, "missing_ok", True)]
        if renamed == "OBJECT_COLUMN" and enum_name(node.relationType) == "OBJECT_TABLE":
            return [f"RENAME COLUMN {node.subname}"], []
    return [], []


_DROPPABLE: Final = {
    "OBJECT_INDEX": "INDEX",
    "OBJECT_TABLE": "TABLE",
    "OBJECT_TYPE": "TYPE",
    "OBJECT_VIEW": "VIEW",
    "OBJECT_MATVIEW": "MATERIALIZED VIEW",
    "OBJECT_SEQUENCE": "SEQUENCE",
}


def check_robust(statement: PgStatement, state: LintState) -> Iterator[Finding]:
    """Outside a transaction, a statement that errors when run a second time makes a half-applied migration stuck.

    ## Why is this bad?
    If a migration without a transaction fails half way (a lock timeout, a bad row), the statements before the
    failure stay applied. Re-running the file then fails on the first of them that is not idempotent (`ADD
    COLUMN` of a column that now exists), so someone has to repair it by hand. `IF [NOT] EXISTS` makes each step
    safe to repeat. Inside BEGIN ... COMMIT the failure rolls everything back, so nothing is flagged there.

    ## Example
    ```sql
    ALTER TABLE orders ADD COLUMN note text;
    CREATE INDEX CONCURRENTLY orders_note_idx ON orders (note);
    ```

    ## Use instead
    ```sql
    ALTER TABLE orders ADD COLUMN IF NOT EXISTS note text;
    DROP INDEX CONCURRENTLY IF EXISTS orders_note_idx;  -- clears an INVALID leftover of a failed build
    CREATE INDEX CONCURRENTLY orders_note_idx ON orders (note);
    ```

    ## Notes
    squawk's prefer-robust-stmts. Differences: VALIDATE CONSTRAINT is idempotent and is not flagged; a named ADD
    CONSTRAINT is fine after a `DROP CONSTRAINT IF EXISTS` of the same name, and our fix for it is a DO block that
    adds the constraint only while it is missing (dropping and re-adding a key would rebuild its index under lock
    and fail once foreign keys reference it); ADD VALUE without IF NOT EXISTS is
    flagged; files of a single statement are not flagged. For CREATE INDEX CONCURRENTLY we advise dropping a
    leftover first rather than IF NOT EXISTS alone, which would keep an INVALID index from a failed build.
    """
    node: Any = statement.node
    concurrent_index = statement.kind == "IndexStmt" and node.concurrent
    if state.transaction is not None and not concurrent_index:
        return
    if len(state.statements) < 2:
        return
    problems, changes = _not_rerunnable(statement, state)
    if not problems:
        return
    statements: list[str]
    note = None
    text = statement.text.rstrip(";") + ";"
    if statement.kind == "IndexStmt":
        if node.idxname and not node.concurrent:
            statements = [patched_sql(statement, [(node, "if_not_exists", True)])]
        elif node.idxname:
            statements = [
                f"DROP INDEX {'CONCURRENTLY ' if node.concurrent else ''}IF EXISTS {ident(str(node.idxname))};",
                text,
            ]
            note = "Dropping first also removes an INVALID index left by a failed concurrent build."
        else:
            # Unnamed, a re-run builds a second index (name_idx1): name it as PostgreSQL would have.
            name = _default_index_name(node)
            qualified = f"{node.relation.schemaname}.{name}" if node.relation.schemaname else name
            named = [(node, "idxname", name)]
            if node.concurrent:
                statements = [f"DROP INDEX CONCURRENTLY IF EXISTS {ident(qualified)};", patched_sql(statement, named)]
            else:
                statements = [patched_sql(statement, [*named, (node, "if_not_exists", True)])]
            note = f"Named {name} (PostgreSQL's own default): a re-run then finds it instead of adding a second one."
    elif "ADD unnamed constraint" in problems:
        statements = _named_constraints(statement)
        note = "Named as PostgreSQL names it and added only while missing, so a re-run neither fails nor adds a "
        note += "duplicate (nor rebuilds or re-validates an existing constraint)."
    elif any(p.startswith(("ATTACH PARTITION", "DETACH PARTITION")) for p in problems):
        statements, note = _guarded_partition(statement)
    elif any(p.startswith("ADD CONSTRAINT") for p in problems) and statement.kind == "AlterTableStmt":
        table = alter_table_name(statement)
        names = [p.removeprefix("ADD CONSTRAINT ") for p in problems if p.startswith("ADD CONSTRAINT")]
        statements = [_guarded_add(table, names, patched_sql(statement, changes) if changes else text)]
        note = _GUARD_NOTE
    elif statement.kind == "RenameStmt" and not changes:
        statements = [_guarded_column_rename(node)]
        note = "The DO block renames the column only while it still has the old name."
    else:
        statements = [patched_sql(statement, changes)] if changes else [text]
    yield finding(
        ROBUST,
        statement,
        title=f"Re-running this migration after a partial failure fails here ({', '.join(problems)})",
        table=state.first_table,
        evidence={"not_rerunnable": ", ".join(problems)},
        rationale=(
            "Without a transaction, a failure later in the file leaves this statement applied; running the file "
            "again then errors here. Guarded statements (IF [NOT] EXISTS) can simply be repeated."
        ),
        help="Add IF [NOT] EXISTS (or drop-then-create) so the statement can run twice.",
        fix=Fix(title="Make the statement repeatable", statements=statements, note=note),
    )


def _default_index_name(node: Any) -> str:
    """The name PostgreSQL gives an unnamed index: <table>_<columns>_idx (`expr` for an expression), or _key."""
    words = [str(p.name) if p.name else _expression_word(p.expr) for p in node.indexParams or ()]
    return index_name(str(node.relation.relname), words, "key" if node.unique else "idx")


def _expression_word(expr: Any) -> str:
    """An index expression's part of the default name: the function's name, else `expr`."""
    funcname = getattr(expr, "funcname", None)
    return str(funcname[-1].sval) if funcname else "expr"


_CONSTRAINT_SUFFIX: Final = {"CONSTR_PRIMARY": "pkey", "CONSTR_UNIQUE": "key", "CONSTR_CHECK": "check"}


def _named_constraints(statement: PgStatement) -> list[str]:
    """Unnamed ADD CONSTRAINT given PostgreSQL's default names, each dropped IF EXISTS before the statement."""
    table = alter_table_name(statement)
    relname = table.rsplit(".", 1)[-1]
    changes: list[Change] = []
    names: list[str] = []
    for _position, sub, cmd in alter_cmds(statement):
        con = cmd.def_
        if sub != "AT_AddConstraint" or con.conname or con.indexname:
            continue
        kind = enum_name(con.contype)
        if kind == "CONSTR_PRIMARY":
            name = f"{relname}_pkey"
        elif kind == "CONSTR_FOREIGN":
            name = index_name(relname, [str(c.sval) for c in con.fk_attrs or ()], "fkey")
        elif kind == "CONSTR_CHECK":
            name = index_name(relname, _first_column(con.raw_expr), "check")
        else:
            name = index_name(relname, [str(c.sval) for c in con.keys or ()], _CONSTRAINT_SUFFIX.get(kind, "key"))
        changes.append((con, "conname", name))
        names.append(name)
    return [_guarded_add(table, names, patched_sql(statement, changes))]


_GUARD_NOTE = (
    "The DO block adds the constraint only while it is missing: a re-run skips it, where dropping and re-adding "
    "would rebuild a key's index (or re-check every row) under lock, and fail when foreign keys depend on the key."
)


def _guarded_add(table: str, names: list[str], sql_text: str) -> str:
    """ALTER TABLE ... ADD CONSTRAINT run only while none of `names` exists on the table (one DO block)."""
    regclass = ident(table).replace("'", "''")
    wanted = ", ".join("'" + n.replace("'", "''") + "'" for n in names)
    body = sql_text.rstrip().rstrip(";")
    tag = "$migration$" if "$$" in body else "$$"
    return (
        f"DO {tag} BEGIN IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = '{regclass}'::regclass "
        f"AND conname IN ({wanted})) THEN {body}; END IF; END {tag};"
    )


def _first_column(expr: Any) -> list[str]:
    """[the first column a CHECK expression reads] (PostgreSQL names the constraint after it), or []."""
    from pglast import ast
    from pglast.visitors import Visitor

    found: list[str] = []

    class _Columns(Visitor):
        def visit_ColumnRef(self, _ancestors: Any, ref: ast.ColumnRef) -> None:
            fields: Any = ref.fields
            if fields and isinstance(fields[-1], ast.String):
                found.append(str(fields[-1].sval))

    _Columns()(expr)
    return found[:1]


def _guarded_partition(statement: PgStatement) -> tuple[list[str], str]:
    """ATTACH/DETACH PARTITION run only while the partition is (not yet) attached."""
    statements: list[str] = []
    concurrent = False
    for _position, sub, cmd in alter_cmds(statement):
        if sub not in ("AT_AttachPartition", "AT_DetachPartition"):
            continue
        parent, partition = alter_table_name(statement), relation_name(cmd.def_.name)
        attached = (
            f"EXISTS (SELECT 1 FROM pg_inherits WHERE inhrelid = '{partition}'::regclass "
            f"AND inhparent = '{parent}'::regclass)"
        )
        text = statement.text.rstrip().rstrip(";")
        if sub == "AT_DetachPartition" and cmd.def_.concurrent:
            concurrent = True  # not allowed inside a DO block (a transaction): check first, then run it as written
            statements += [f"SELECT {attached} AS still_attached;", f"{text};"]
            continue
        condition = f"NOT {attached}" if sub == "AT_AttachPartition" else attached
        statements.append(f"DO $$ BEGIN IF {condition} THEN {text}; END IF; END $$;")
    note = "The DO block runs the statement only while the partition is in the state it expects."
    if concurrent:
        note = (
            "DETACH ... CONCURRENTLY cannot run inside a DO block: run it only when the check returns true. If an "
            "earlier run was interrupted, complete it with ALTER TABLE ... DETACH PARTITION ... FINALIZE instead."
        )
    return statements, note


def _guarded_column_rename(node: Any) -> str:
    """A DO block that renames a column only if it still exists under the old name."""
    table = relation_name(node.relation)
    schema = node.relation.schemaname
    where = f"table_schema = '{schema}' AND " if schema else "table_schema = current_schema() AND "
    return (
        "DO $$ BEGIN IF EXISTS (SELECT 1 FROM information_schema.columns WHERE "
        f"{where}table_name = '{node.relation.relname}' AND column_name = '{node.subname}') THEN "
        f"ALTER TABLE {ident(table)} RENAME COLUMN {ident(str(node.subname))} TO {ident(str(node.newname))}; "
        "END IF; END $$;"
    )


# ----------------------------------------------------------------------------------------------- MIG036


def _unqualified_tables(statement: PgStatement) -> tuple[list[str], list[Change]]:
    """(unqualified table names, the changes that qualify them with public) for one statement."""
    from pglast import ast

    node: Any = statement.node
    kind = statement.kind
    relation: Any = None
    if kind == "CreateStmt" and node.relation.relpersistence != "t":
        relation = node.relation
    elif kind == "CreateTableAsStmt" and node.into.rel.relpersistence != "t":
        relation = node.into.rel
    elif kind == "AlterTableStmt" and enum_name(node.objtype) == "OBJECT_TABLE":
        relation = node.relation
    elif kind == "RenameStmt" and enum_name(node.renameType) in ("OBJECT_TABLE", "OBJECT_COLUMN"):
        relation = node.relation if enum_name(node.relationType) in ("OBJECT_TABLE", "OBJECT_ACCESS_METHOD") else None
    elif kind == "DropStmt" and enum_name(node.removeType) == "OBJECT_TABLE":
        names = [str(obj[0].sval) for obj in node.objects or () if len(obj) == 1]
        qualified = tuple((ast.String(sval="public"), *obj) if len(obj) == 1 else obj for obj in node.objects or ())
        return names, [(node, "objects", qualified)]
    if relation is None or relation.schemaname:
        return [], []
    return [relation_name(relation)], [(relation, "schemaname", "public")]


def check_schema_qualified(statement: PgStatement, state: LintState) -> Iterator[Finding]:
    """A table name without its schema resolves through search_path, which differs between sessions and roles.

    ## Why is this bad?
    `CREATE TABLE orders` creates the table in the first schema of the current search_path; a migration run by
    another role, or with a changed search_path, creates or alters a different table than intended.

    ## Example
    ```sql
    CREATE TABLE orders (id bigint PRIMARY KEY);
    ```

    ## Use instead
    ```sql
    CREATE TABLE public.orders (id bigint PRIMARY KEY);
    ```

    ## Notes
    Opt-in, like squawk's require-table-schema: pass `include=["MIG036"]`. Temporary tables are not flagged.
    """
    names, changes = _unqualified_tables(statement)
    if not names:
        return
    yield finding(
        SCHEMA_QUALIFIED,
        statement,
        title=f"{', '.join(names)} is not schema-qualified: search_path decides which table this is",
        subject=", ".join(names),
        subject_kind="table",
        table=names[0],
        evidence={"tables": len(names)},
        rationale=(
            "An unqualified name is resolved through search_path, which depends on the role and session running "
            "the migration. Qualifying it removes the ambiguity."
        ),
        help="Write schema.table (e.g. public.orders).",
        fix=Fix(
            title="Qualify the table with its schema",
            statements=[patched_sql(statement, changes)],
            note="Replace public with the schema the table belongs to.",
        ),
    )


# ----------------------------------------------------------------------------------------------- MIG037


def _identifier_value(token_text: str) -> str:
    if token_text.startswith('"') and token_text.endswith('"') and len(token_text) >= 2:
        return token_text[1:-1].replace('""', '"')
    return token_text.lower()


def _truncate(name: str) -> str:
    data = name.encode()[:MAX_IDENTIFIER_BYTES]
    return data.decode("utf-8", errors="ignore")


def check_identifier_too_long(statement: PgStatement, state: LintState) -> Iterator[Finding]:
    """An identifier longer than 63 bytes is silently cut to 63: two long names can become the same name.

    ## Why is this bad?
    PostgreSQL truncates identifiers to NAMEDATALEN - 1 = 63 bytes with only a NOTICE, so the object is created
    under a different name than the one written, later statements using the full name still work (they are cut
    too) but tools comparing names do not, and two long names sharing their first 63 bytes collide.

    ## Example
    ```sql
    CREATE INDEX orders_customer_id_created_at_status_region_warehouse_priority_idx ON orders (...);
    ```

    ## Use instead
    A name of at most 63 bytes (multi-byte characters count for more than one).

    ## Notes
    Same as squawk's identifier-too-long. Read from the raw tokens, since the parser already truncates.
    """
    if not _MAYBE_LONG.search(statement.text):
        return
    from pglast.parser import scan

    seen: set[str] = set()
    for token in scan(statement.text):
        if token.name != "IDENT":
            continue
        value = _identifier_value(statement.text[token.start : token.end + 1])
        size = len(value.encode())
        if size <= MAX_IDENTIFIER_BYTES or value in seen:
            continue
        seen.add(value)
        truncated = _truncate(value)
        yield finding(
            IDENTIFIER_TOO_LONG,
            statement,
            title=f"Identifier of {size} bytes is silently truncated to {MAX_IDENTIFIER_BYTES} bytes",
            subject=value,
            table=state.first_table,
            evidence={"bytes": size, "limit": MAX_IDENTIFIER_BYTES, "truncated_to": truncated},
            rationale=(
                "PostgreSQL cuts identifiers to 63 bytes with only a notice, so the object's real name differs from "
                "the written one and two long names can collide."
            ),
            help=f"Shorten the name to at most {MAX_IDENTIFIER_BYTES} bytes.",
            fix=Fix(
                title="Use a name within the limit",
                statements=[
                    statement.text.replace(statement.text[token.start : token.end + 1], ident(truncated)).rstrip(";")
                    + ";"
                ],
                safety="display-only",
                note="This is the name PostgreSQL would store; a shorter, meaningful name is better.",
            ),
        )


# ----------------------------------------------------------------------------------------------- MIG038


def _assigned(targets: Any) -> list[tuple[str, bool]]:
    """(column, partial) for INSERT columns / UPDATE SET targets; partial = subscript or field assignment."""
    return [(str(t.name), bool(t.indirection)) for t in targets or () if getattr(t, "name", None)]


def _output_names(select: Any) -> list[str]:
    names: list[str] = []
    for target in getattr(select, "targetList", None) or ():
        if target.name:
            names.append(str(target.name))
            continue
        value = target.val
        fields = getattr(value, "fields", None)
        if fields and hasattr(fields[-1], "sval"):
            names.append(str(fields[-1].sval))
    return names


def _duplicates(statement: PgStatement) -> tuple[str, list[str]]:
    """(what, duplicated names) for the statement."""
    node: Any = statement.node
    kind = statement.kind
    if kind in ("InsertStmt", "UpdateStmt"):
        pairs = _assigned(node.cols if kind == "InsertStmt" else node.targetList)
        by_name: dict[str, list[bool]] = {}
        for name, partial in pairs:
            by_name.setdefault(name, []).append(partial)
        dup = [name for name, flags in by_name.items() if len(flags) > 1 and not all(flags)]
        return ("assigned" if kind == "UpdateStmt" else "listed"), dup
    names: list[str] = []
    if kind == "CreateStmt":
        names = [str(e.colname) for e in node.tableElts or () if type(e).__name__ == "ColumnDef"]
    elif kind == "ViewStmt":
        names = [str(a.sval) for a in node.aliases or ()] or _output_names(node.query)
    elif kind == "CreateTableAsStmt":
        names = [str(c.sval) for c in node.into.colNames or ()] or _output_names(node.query)
    counts = Counter(names)
    return "defined", [name for name, count in counts.items() if count > 1]


def check_duplicate_column(statement: PgStatement, state: LintState) -> Iterator[Finding]:
    """A column is assigned, listed or defined twice in one statement: PostgreSQL rejects it.

    ## Why is this bad?
    `UPDATE ... SET a = 1, a = 2`, `INSERT INTO t (a, a)`, `CREATE TABLE t (a int, a text)` and a view with two
    output columns of one name all fail ("multiple assignments to same column", "column specified more than
    once"), stopping the migration.

    ## Example
    ```sql
    UPDATE orders SET status = 'paid', status = 'shipped' WHERE id = 1;
    ```

    ## Use instead
    ```sql
    UPDATE orders SET status = 'shipped' WHERE id = 1;
    ```

    ## Notes
    Same as squawk's ban-duplicate-column-assignments; assignments to different elements of one array column
    (`SET a[1] = 1, a[2] = 2`) are allowed and not flagged.
    """
    what, duplicated = _duplicates(statement)
    if not duplicated:
        return
    table = state.first_table
    if statement.kind == "ViewStmt":
        view: Any = statement.node
        table = relation_name(view.view)
    yield finding(
        DUPLICATE_COLUMN,
        statement,
        title=f"Column {', '.join(duplicated)} is {what} more than once: PostgreSQL rejects the statement",
        subject=f"{table}.{duplicated[0]}" if table else duplicated[0],
        subject_kind="column",
        table=table,
        evidence={"columns": ", ".join(duplicated)},
        rationale=(
            "PostgreSQL refuses a statement that names the same column twice, so the migration stops here. Keep "
            "one occurrence."
        ),
        help="Keep a single assignment or definition per column.",
    )


# ----------------------------------------------------------------------------------------------- MIG050


def check_wide_index(statement: PgStatement, state: LintState) -> Iterator[Finding]:
    """A non-unique index on more than three columns rarely pays for its size and write cost.

    ## Why is this bad?
    Each extra key column makes the index larger and every write slower, while queries seldom filter on all of
    them; the planner can also combine narrower indexes with a bitmap AND.

    ## Example
    ```sql
    CREATE INDEX CONCURRENTLY orders_wide_idx ON orders (customer_id, status, region, created_at);
    ```

    ## Use instead
    Index the leading columns the queries filter on (check pg_stat_statements), and use INCLUDE for columns only
    read.

    ## Notes
    strong_migrations' add_index "more than three columns" best-practice check.
    """
    node: Any = statement.node
    columns = [p.name or deparse(p.expr) for p in node.indexParams or ()]
    if node.unique or len(columns) <= WIDE_INDEX_COLUMNS:
        return
    table = relation_name(node.relation)
    yield finding(
        WIDE_INDEX,
        statement,
        title=f"Index on {len(columns)} columns of {table}: larger and slower to maintain than it usually helps",
        subject=str(node.idxname or table),
        subject_kind="index",
        table=table,
        evidence={"columns": len(columns), "limit": WIDE_INDEX_COLUMNS},
        rationale=(
            "Every key column enlarges the index and slows each write, and few queries filter on all of them. "
            "Narrower indexes, or INCLUDE columns, usually serve the same queries."
        ),
        help="Keep the columns the queries filter on; move read-only columns to INCLUDE.",
    )
