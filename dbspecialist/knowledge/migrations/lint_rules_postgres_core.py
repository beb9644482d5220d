"""What every PostgreSQL lint rule sees: the statement, the operations it performs, and the file so far.

The file is parsed once (pg_statements.split_postgres) and walked once. Before a statement's rules run,
pg_classify.classify has turned it into operations with their lock modes, judged on the schema the earlier
statements leave (tables created in the file, column types, validated NOT NULL checks). After the rules ran,
`LintState.advance` records what the statement changed for the next ones: the open transaction and the locks it
holds, `SET lock_timeout` / `statement_timeout`, constraints added NOT VALID, and so on.

A rule is a `(RuleSpec, check)` pair; `check(statement, state)` yields findings. Rules name the statement kinds they
look at (`KINDS`), so a statement only meets the rules that can fire on it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from dbspecialist.knowledge.findings import Finding, Fix, RuleSpec, Severity
from dbspecialist.knowledge.migrations import pg_locks
from dbspecialist.knowledge.migrations.lint_rules_postgres_coltypes import ColumnUse, column_uses, make_type
from dbspecialist.knowledge.migrations.lint_rules_postgres_coltypes import enum_name as enum_name
from dbspecialist.knowledge.migrations.pg_classify import ClassifiedOp, SchemaState, operation
from dbspecialist.knowledge.migrations.pg_statements import PgStatement, deparse, relation_name, transaction_kind
from dbspecialist.knowledge.migrations.versions import Version, version_text
from dbspecialist.knowledge.sql_text import quote_ident

Check = Callable[[PgStatement, "LintState"], Iterator[Finding]]
Evidence = dict[str, int | float | str | bool | None]
SubjectKind = Literal["table", "column", "index", "constraint", "sequence", "query"]

# Squawk's runbook values (docs "safe migrations"): fail fast on a lock wait, cap how long any statement may run.
LOCK_TIMEOUT: Final = "1s"
STATEMENT_TIMEOUT: Final = "5s"
SUBJECT_CHARS: Final = 80
LONG_EFFECTS: Final = frozenset({"scan", "rewrite", "build", "rows"})
ENGINES: Final = ("postgresql",)


def spec(
    rule_id: str,
    name: str,
    severity: Severity,
    summary: str,
    *,
    fix: Literal["always", "sometimes", "never"] = "sometimes",
    status: Literal["preview", "stable", "deprecated"] = "stable",
) -> RuleSpec:
    return RuleSpec(
        id=rule_id,
        name=name,
        capability="migrations",
        engines=ENGINES,
        severity=severity,
        status=status,
        fix=fix,
        summary=summary,
    )


# ----------------------------------------------------------------------------------------------- names


def short(name: str) -> str:
    """The unqualified table name ('public.orders' → 'orders')."""
    return name.rsplit(".", 1)[-1]


def ident(name: str) -> str:
    """A (possibly qualified) name quoted for PostgreSQL where needed."""
    return ".".join(quote_ident(part, "postgresql") for part in name.split("."))


def statement_subject(statement: PgStatement) -> str:
    text = " ".join(statement.text.split())
    return text if len(text) <= SUBJECT_CHARS else text[: SUBJECT_CHARS - 1] + "…"


def sql(node: Any) -> str:
    """A node as one runnable statement (deparsed, with the semicolon)."""
    return deparse(node).rstrip(";") + ";"


def cascades(node: Any) -> bool:
    """Whether a DROP, TRUNCATE or ALTER TABLE ... DROP command says CASCADE."""
    return enum_name(node.behavior) == "DROP_CASCADE"


def dotted_name(parts: Any) -> str:
    """A qualified name from its parse-tree parts (String nodes): 'public.orders'."""
    return ".".join(str(part.sval) for part in parts)


def alter_cmds(statement: PgStatement) -> list[tuple[int, str, Any]]:
    """(position, subtype name, cmd) for an ALTER TABLE on a table; [] for anything else."""
    node: Any = statement.node
    if statement.kind != "AlterTableStmt" or enum_name(node.objtype) != "OBJECT_TABLE":
        return []
    return [(position, enum_name(cmd.subtype), cmd) for position, cmd in enumerate(node.cmds or ())]


def alter_cmds_of(statement: PgStatement, subtype: str) -> list[Any]:
    """The commands of one subtype (e.g. "AT_DropColumn") in an ALTER TABLE on a table."""
    return [cmd for _position, sub, cmd in alter_cmds(statement) if sub == subtype]


def alter_table_name(statement: PgStatement) -> str:
    node: Any = statement.node
    return relation_name(node.relation)


def altered_existing_table(statement: PgStatement, state: LintState) -> str:
    """The table an ALTER TABLE on a table changes when the file did not create it; "" otherwise (nothing to flag)."""
    table = alter_table_name(statement) if alter_cmds(statement) else ""
    return "" if not table or state.is_new(table) else table


Change = tuple[Any, str, Any]  # (parse-tree object, attribute, new value)


def patched_sql(statement: PgStatement, changes: list[Change]) -> str:
    """The statement as runnable SQL with `changes` applied to its parse tree (restored afterwards: no copy)."""
    undo: list[Change] = []
    try:
        for target, attribute, value in changes:
            undo.append((target, attribute, getattr(target, attribute)))
            setattr(target, attribute, value)
        return sql(statement.node)
    finally:
        for target, attribute, value in reversed(undo):
            setattr(target, attribute, value)


# ----------------------------------------------------------------------------------------------- state


@dataclass
class HeldLock:
    """The strongest lock an open transaction holds on a table, and the statement that took it."""

    mode: str
    line: int
    kind: str


@dataclass
class Transaction:
    number: int
    begin_line: int
    locks: dict[str, HeldLock] = field(default_factory=dict)  # existing tables only
    lock_timeout: bool | None = None  # SET LOCAL inside the transaction (None: not set here)
    statement_timeout: bool | None = None
    not_valid: dict[str, int] = field(default_factory=dict)  # constraint name (lower) → line added NOT VALID
    several_reported: bool = False
    by_tool: bool = False  # opened by the migration tool around the file (assume_in_transaction)
    enum_types: set[str] = field(default_factory=set)  # enum types created here (lower, unqualified)
    enum_values: dict[tuple[str, str], int] = field(default_factory=dict)  # (type, value) → index of ADD VALUE

    def blocking_locks(self) -> dict[str, HeldLock]:
        return {table: held for table, held in self.locks.items() if pg_locks.blocks(held.mode) != "nothing"}

    def describe(self) -> str:
        """'orders: ACCESS EXCLUSIVE (line 3); customers: SHARE ROW EXCLUSIVE (line 5)'."""
        return "; ".join(f"{table}: {held.mode} (line {held.line})" for table, held in sorted(self.locks.items()))


@dataclass
class TimeoutWatch:
    """A timeout setting the rules require before lock-taking statements, and the statements run without it."""

    session: bool = False
    missing: list[int] = field(default_factory=list)  # lines of lock-taking statements run without it
    first_mode: str | None = None
    first_table: str | None = None


@dataclass
class LintState:
    """The file as seen from the statement being checked; `advance` moves past it."""

    version: Version
    version_given: bool
    statements: Sequence[PgStatement]
    schema: SchemaState
    index: int = 0
    ops: list[ClassifiedOp] = field(default_factory=list)
    locks: dict[str, str] = field(default_factory=dict)  # this statement: table → strongest mode
    transaction: Transaction | None = None
    transactions: int = 0
    lock_timeout: TimeoutWatch = field(default_factory=TimeoutWatch)
    statement_timeout: TimeoutWatch = field(default_factory=TimeoutWatch)
    dropped_constraints: set[str] = field(default_factory=set)  # DROP CONSTRAINT IF EXISTS seen (lower names)
    dropped_indexes: set[str] = field(default_factory=set)  # DROP INDEX IF EXISTS seen (lower, unqualified)
    validated_elsewhere: set[str] = field(default_factory=set)  # tables with VALIDATE of a constraint added earlier
    new_views: set[str] = field(default_factory=set)  # views created in the file (lower, unqualified)
    not_null_proofs: set[str] = field(default_factory=set)  # CHECKs that let a SET NOT NULL skip its scan (lower)
    not_null_not_valid: dict[str, tuple[str, str]] = field(default_factory=dict)  # 18+: name → (table, column)
    not_null_validated: set[tuple[str, str]] = field(default_factory=set)  # 18+: (table, column) proven non-null
    _columns: list[ColumnUse] | None = None
    _template: tuple[str, list[str]] | None = None

    def begin(self, index: int, statement: PgStatement, ops: list[ClassifiedOp], locks: dict[str, str]) -> None:
        """Point the state at statement `index`, with the operations it performs and the locks they take."""
        self.index = index
        self.ops = ops
        self.locks = locks
        self._columns = None
        self._template = None
        node: Any = statement.node
        if statement.kind == "ViewStmt" and not node.replace:
            self.new_views.add(short(relation_name(node.view)).lower())

    def columns(self, statement: PgStatement) -> list[ColumnUse]:
        """column_uses(statement), computed once per statement."""
        if self._columns is None:
            self._columns = column_uses(statement)
        return self._columns

    def column_type(self, statement: PgStatement, use: ColumnUse) -> str:
        """The column's type as SQL ('integer', 'varchar(20)', 'timestamp(3) with time zone')."""
        return self._type_template(statement)[1][self.columns(statement).index(use)]

    def retyped(self, statement: PgStatement, use: ColumnUse, replacement: str) -> str:
        """The statement as SQL with `use`'s type replaced by `replacement` (one deparse per statement, not per fix)."""
        template, originals = self._type_template(statement)
        target = self.columns(statement).index(use)
        text = template
        for position, original in enumerate(originals):
            text = text.replace(_marker(position), replacement if position == target else original)
        return text

    def _type_template(self, statement: PgStatement) -> tuple[str, list[str]]:
        if self._template is None:
            uses = self.columns(statement)
            originals = [deparse(use.type_node).removeprefix("pg_catalog.") for use in uses]
            markers: list[Change] = [
                (use.definition, "typeName", make_type(_marker(i), schema=None)) for i, use in enumerate(uses)
            ]
            self._template = (patched_sql(statement, markers), originals)
        return self._template

    # ------------------------------------------------------------------ questions rules ask

    @property
    def first_table(self) -> str | None:
        """The first table this statement's operations name (None: none does)."""
        return next((op.table for op in self.ops if op.table), None)

    @property
    def is_last(self) -> bool:
        return self.index == len(self.statements) - 1

    def is_new(self, table: str) -> bool:
        """The table (or view) was created earlier in this file or by this statement: no application uses it yet."""
        key = short(table).lower()
        return key in self.schema.new_tables or key in self.new_views

    def alters_a_table(self, statement: PgStatement) -> bool:
        """False for ALTER statements on foreign tables, composite types, views ...: no heap to rewrite or scan."""
        if statement.kind != "AlterTableStmt":
            return True
        node: Any = statement.node
        return enum_name(node.objtype) == "OBJECT_TABLE"

    def version_evidence(self) -> Evidence:
        return {"version": version_text(self.version, "postgres"), "version_assumed": not self.version_given}

    def timeout_active(self, watch: TimeoutWatch, local: bool | None) -> bool:
        return local if local is not None else watch.session

    def has_lock_timeout(self) -> bool:
        local = self.transaction.lock_timeout if self.transaction is not None else None
        return self.timeout_active(self.lock_timeout, local)

    def has_statement_timeout(self) -> bool:
        local = self.transaction.statement_timeout if self.transaction is not None else None
        return self.timeout_active(self.statement_timeout, local)

    def blocking_locks(self) -> dict[str, str]:
        """This statement's locks that block reads or writes, on tables that existed before the migration."""
        return {
            table: mode
            for table, mode in self.locks.items()
            if table and not self.is_new(table) and pg_locks.blocks(mode) != "nothing"
        }

    # ------------------------------------------------------------------ moving on

    def advance(self, statement: PgStatement) -> None:
        """Record what `statement` changed for the statements after it."""
        kind = statement.kind
        if kind == "TransactionStmt":
            self._transaction(statement)
        elif kind == "VariableSetStmt":
            self._setting(statement.node)
        elif kind == "SelectStmt" and "set_config" in statement.text.lower():
            for setting in _set_config_calls(statement.node):
                self._setting(setting)
        if self.transaction is not None and kind != "TransactionStmt":
            self._hold_locks(statement)
            if kind in ("CreateEnumStmt", "AlterEnumStmt"):
                self._enum(statement.node)
        for op in self.ops:
            if op.kind in ("add_check_not_valid", "add_foreign_key_not_valid", "add_not_null_not_valid"):
                added = op.detail.get("name")
                if isinstance(added, str) and self.transaction is not None:
                    self.transaction.not_valid[added.lower()] = statement.line
            elif op.kind == "drop_constraint" and op.detail.get("if_exists"):
                self.dropped_constraints.add(str(op.detail.get("name")).lower())
            elif op.kind.startswith("drop_index") and op.detail.get("if_exists"):
                self.dropped_indexes.add(short(str(op.detail.get("index"))).lower())
            elif op.kind == "validate_constraint" and "constraint" not in op.detail:
                self.validated_elsewhere.add(short(op.table).lower())
            elif op.kind == "set_not_null_proven":
                self.not_null_proofs.add(str(op.detail.get("proven_by")).lower())
            name = str(op.detail.get("name") or "").lower()
            if op.kind == "add_not_null_not_valid" and name and op.column:
                self.not_null_not_valid[name] = (short(op.table).lower(), op.column.lower())
            elif op.kind == "validate_constraint" and name in self.not_null_not_valid:
                self.not_null_validated.add(self.not_null_not_valid[name])

    def assume_transaction(self) -> None:
        """The migration tool wraps the whole file in one transaction (Rails, Django, Flyway ...)."""
        self.transactions += 1
        self.transaction = Transaction(self.transactions, 1, by_tool=True)

    def _transaction(self, statement: PgStatement) -> None:
        kind = transaction_kind(statement.node)
        if kind in ("BEGIN", "START"):
            if self.transaction is None:
                self.transactions += 1
                self.transaction = Transaction(self.transactions, statement.line)
        elif kind in ("COMMIT", "ROLLBACK", "PREPARE"):
            self.transaction = None
            if getattr(statement.node, "chain", False):
                self.transactions += 1
                self.transaction = Transaction(self.transactions, statement.line)

    def _enum(self, node: Any) -> None:
        """Note an enum type created, or a value added to one, in the open transaction (MIG051)."""
        assert self.transaction is not None
        type_name = short(dotted_name(node.typeName)).lower()
        if type(node).__name__ == "CreateEnumStmt":
            self.transaction.enum_types.add(type_name)
        elif node.newVal and not node.oldVal and type_name not in self.transaction.enum_types:
            self.transaction.enum_values.setdefault((type_name, str(node.newVal)), self.index)

    def _setting(self, node: Any) -> None:
        name = str(node.name or "").lower()
        kind = enum_name(node.kind)
        if kind == "VAR_RESET_ALL":
            targets = [self.lock_timeout, self.statement_timeout]
            value: bool | None = False
        elif name in ("lock_timeout", "statement_timeout"):
            targets = [self.lock_timeout if name == "lock_timeout" else self.statement_timeout]
            value = _timeout_value(node) if kind == "VAR_SET_VALUE" else False
        else:
            return
        for watch in targets:
            if node.is_local:
                if self.transaction is not None:
                    if watch is self.lock_timeout:
                        self.transaction.lock_timeout = value
                    else:
                        self.transaction.statement_timeout = value
            else:
                watch.session = bool(value)
                if self.transaction is not None:  # a plain SET also replaces a SET LOCAL of this transaction
                    if watch is self.lock_timeout:
                        self.transaction.lock_timeout = None
                    else:
                        self.transaction.statement_timeout = None

    def _hold_locks(self, statement: PgStatement) -> None:
        assert self.transaction is not None
        held = self.transaction.locks
        for table, mode in self.locks.items():
            if not table or self.is_new(table):
                continue
            current = held.get(table)
            if current is None or pg_locks.MODES.index(mode) > pg_locks.MODES.index(current.mode):
                kind = next((op.kind for op in self.ops if op.table == table), "lock")
                held[table] = HeldLock(mode, statement.line, kind)


def _set_config_calls(node: Any) -> list[Any]:
    """`SELECT set_config('lock_timeout', '1s', false)` as the equivalent VariableSetStmt nodes."""
    from pglast import ast, enums

    found: list[Any] = []
    for target in getattr(node, "targetList", None) or ():
        call: Any = target.val
        names: Any = getattr(call, "funcname", None) if isinstance(call, ast.FuncCall) else None
        if not names or str(names[-1].sval).lower() != "set_config":
            continue
        args = list(call.args or ())
        values = [getattr(getattr(arg, "val", None), "sval", None) for arg in args[:2]]
        local = getattr(getattr(args[2], "val", None), "boolval", False) if len(args) > 2 else False
        if len(values) == 2 and all(isinstance(v, str) for v in values):
            found.append(
                ast.VariableSetStmt(
                    kind=enums.VariableSetKind.VAR_SET_VALUE,
                    name=values[0],
                    args=(ast.A_Const(val=ast.String(sval=values[1])),),
                    is_local=bool(local),
                )
            )
    return found


def _marker(position: int) -> str:
    return f"dbspecialist_type_marker_{position}_x"


def _timeout_value(node: Any) -> bool:
    """True when a SET gives a non-zero timeout ('1s', 2000, '500ms'); '0' disables the timeout."""
    for arg in node.args or ():
        value = getattr(arg, "val", None)
        raw = getattr(value, "sval", None)
        if raw is None:
            raw = getattr(value, "ival", None)
        if raw is None:
            continue
        text = str(raw).strip().lower()
        digits = text.rstrip("abcdefghijklmnopqrstuvwxyz ").strip()
        try:
            return float(digits) > 0
        except ValueError:
            return True
    return False


def long_ops(state: LintState) -> list[ClassifiedOp]:
    """This statement's operations that read, rewrite or build over an existing table (they take time)."""
    found = []
    for op in state.ops:
        if not op.table or state.is_new(op.table) or op.kind in ("insert_rows", "analyze"):
            continue
        if operation(op.kind).effect in LONG_EFFECTS:
            found.append(op)
    return found


# ----------------------------------------------------------------------------------------------- findings


def finding(
    rule: RuleSpec,
    statement: PgStatement,
    *,
    title: str,
    rationale: str,
    help: str,
    subject: str | None = None,
    subject_kind: SubjectKind = "query",
    table: str | None = None,
    evidence: Evidence | None = None,
    fix: Fix | None = None,
    severity: Severity | None = None,
    line: int | None = None,
) -> Finding:
    """A finding on `statement` (line = its first line) with the line always in the evidence.

    Without a subject the finding is about the statement as a whole: its text is the subject, of kind "query".
    """
    at = line if line is not None else statement.line
    return Finding(
        rule_id=rule.id,
        name=rule.name,
        severity=severity or rule.severity,
        title=title,
        subject=statement_subject(statement) if subject is None else subject,
        table=short(table) if table else None,
        subject_kind=subject_kind,
        evidence={"line": at, **(evidence or {})},
        rationale=rationale,
        help=help,
        fix=fix,
        line=at,
    )


def lock_evidence(mode: str) -> Evidence:
    return {"lock_mode": mode, "blocks": pg_locks.blocks(mode)}
