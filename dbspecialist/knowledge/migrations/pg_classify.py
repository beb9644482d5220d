"""Every table-level operation a PostgreSQL migration statement performs, with the lock each takes.

`classify(statement, version)` turns one parsed statement into ClassifiedOps (an ALTER TABLE with three subcommands
gives three); `classify_all(statements, version, catalog=...)` does the same for a whole file while remembering what
earlier statements did (tables created in the file, column types, validated `CHECK (c IS NOT NULL)` constraints,
foreign keys, indexes, `SET timezone`), so that later statements are judged on the schema they will meet.

Kinds are keys of pg_locks.OPERATIONS, or of EXTRA_OPERATIONS below for operations the shared table does not list
(yet). Lock modes follow the PostgreSQL documentation (ALTER TABLE, CREATE INDEX, CREATE TRIGGER, REINDEX...) and were
confirmed on PostgreSQL 15 by observing pg_locks (tests/integration/postgres/test_migration_locks.py).

Detail keys (only those that apply are set):
  add_column*:       type, not_null, has_default, default, volatile_default, identity, generated, serial,
                     if_not_exists
  alter_type*:       type, old_type, old_type_unknown, cast ("metadata"|"rebuild_indexes"|"rewrite"), using,
                     indexed, reason
  set_not_null*:     proven_by (the validated CHECK's name, when one proves the column non-null)
  add_check*, add_foreign_key*, add_unique, add_primary_key, add_constraint_using_index, add_not_null_not_valid:
                     constraint (check|foreign_key|unique|primary_key|exclusion|not_null), name, not_valid,
                     expression, not_null_column, references, columns, index
  validate_constraint, drop_constraint, rename_constraint: name, constraint, references, old, new
  create_index*, drop_index*, reindex*: index, unique, concurrently, if_not_exists, if_exists, columns, partial,
                     target (index|table|schema|database|system)
  rename_*:          old, new
  drop_table, truncate: if_exists, cascade
  create_trigger, drop_trigger, enable_disable_trigger: trigger, enable
  add_enum_value:    type, value, if_not_exists, before, after
  attach_partition, detach_partition*, create_partition: partition, parent, default, concurrently, finalize
  update_rows, delete_rows, insert_rows: has_where
  every op:          new_table (the table was created earlier in the same file: locks on it block nobody)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from dbspecialist.knowledge.migrations import pg_locks
from dbspecialist.knowledge.migrations.pg_locks import (
    ACCESS_EXCLUSIVE,
    ROW_EXCLUSIVE,
    ROW_SHARE,
    SHARE_ROW_EXCLUSIVE,
    SHARE_UPDATE_EXCLUSIVE,
    Operation,
)
from dbspecialist.knowledge.migrations.pg_safe_cast import cast_verdict
from dbspecialist.knowledge.migrations.pg_statements import PgStatement, deparse, is_volatile, relation_name, type_name

if TYPE_CHECKING:
    from dbspecialist.adapters.catalog import Catalog, Table
    from dbspecialist.knowledge.migrations.model import LockClaim

Detail = dict[str, str | int | bool | None]

# Operations pg_locks.OPERATIONS does not list; each confirmed against PostgreSQL 15's pg_locks.
EXTRA_OPERATIONS: Final[dict[str, Operation]] = {
    "alter_type_rebuild_indexes": Operation(ACCESS_EXCLUSIVE, "build", note="heap kept; indexes on it rebuilt"),
    "add_not_null_not_valid": Operation(ACCESS_EXCLUSIVE, "metadata", note="NOT NULL ... NOT VALID (18+)"),
    "set_attribute_options": Operation(SHARE_UPDATE_EXCLUSIVE, "metadata", note="ALTER COLUMN SET (n_distinct...)"),
    "set_column_storage": Operation(ACCESS_EXCLUSIVE, "metadata", note="SET STORAGE / SET COMPRESSION"),
    "alter_identity": Operation(ACCESS_EXCLUSIVE, "metadata", note="SET GENERATED / DROP IDENTITY / RESTART"),
    "set_expression": Operation(ACCESS_EXCLUSIVE, "rewrite", note="SET EXPRESSION recomputes every row (17+)"),
    "set_tablespace": Operation(ACCESS_EXCLUSIVE, "rewrite", note="copies the files"),
    "set_access_method": Operation(ACCESS_EXCLUSIVE, "rewrite"),
    "cluster_on": Operation(SHARE_UPDATE_EXCLUSIVE, "metadata", note="CLUSTER ON / SET WITHOUT CLUSTER"),
    "alter_constraint": Operation(ACCESS_EXCLUSIVE, "metadata", note="deferrability"),
    "alter_table_other": Operation(ACCESS_EXCLUSIVE, "metadata", note="owner, replica identity, RLS, inherit..."),
    "set_schema": Operation(ACCESS_EXCLUSIVE, "metadata"),
    "create_partition": Operation(ACCESS_EXCLUSIVE, "none", note="CREATE TABLE ... PARTITION OF: on the parent"),
    "create_materialized_view": Operation(ACCESS_EXCLUSIVE, "none", note="on the new view; reads its sources"),
    "drop_view": Operation(ACCESS_EXCLUSIVE, "metadata"),
    "rename_enum_value": Operation(ACCESS_EXCLUSIVE, "none", note="on the type only", type_only=True),
    "vacuum": Operation(SHARE_UPDATE_EXCLUSIVE, "scan", transactional=False),
    "update_rows": Operation(ROW_EXCLUSIVE, "rows", note="row locks on every row it changes, in one transaction"),
    "delete_rows": Operation(ROW_EXCLUSIVE, "rows", note="row locks on every row it deletes, in one transaction"),
    "insert_rows": Operation(ROW_EXCLUSIVE, "rows"),
    "comment": Operation(SHARE_UPDATE_EXCLUSIVE, "metadata"),
}

# Secondary tables a kind also locks (detail key → mode), e.g. a foreign key's referenced table.
_SECONDARY: Final[dict[str, tuple[str, str]]] = {
    "add_foreign_key": ("references", SHARE_ROW_EXCLUSIVE),
    "add_foreign_key_not_valid": ("references", SHARE_ROW_EXCLUSIVE),
    "create_table": ("references", SHARE_ROW_EXCLUSIVE),
    "validate_constraint": ("references", ROW_SHARE),
    "drop_constraint": ("references", ACCESS_EXCLUSIVE),
    "drop_table": ("references", ACCESS_EXCLUSIVE),
    "attach_partition": ("partition", ACCESS_EXCLUSIVE),
    "detach_partition": ("partition", ACCESS_EXCLUSIVE),
    "detach_partition_concurrently": ("partition", ACCESS_EXCLUSIVE),
    "create_partition": ("partition", ACCESS_EXCLUSIVE),
}


def operation(kind: str) -> Operation:
    """The Operation for a kind from pg_locks.OPERATIONS or EXTRA_OPERATIONS (KeyError if neither)."""
    return pg_locks.OPERATIONS[kind] if kind in pg_locks.OPERATIONS else EXTRA_OPERATIONS[kind]


# Kinds whose lock is on a type, not a table: queries on tables using the type are not blocked (observed on
# PostgreSQL 15: ALTER TYPE ... ADD VALUE / RENAME VALUE leave reads and writes of such tables running).
TYPE_ONLY_KINDS: Final = frozenset(
    kind for kind, op in {**pg_locks.OPERATIONS, **EXTRA_OPERATIONS}.items() if op.type_only
)


def claim(kind: str, tables: list[str], held: str | None = None) -> LockClaim:
    """pg_locks.claim, also for the kinds in EXTRA_OPERATIONS; type-level kinds block no table."""
    from dbspecialist.knowledge.migrations.model import LockClaim

    if kind in pg_locks.OPERATIONS:
        return pg_locks.claim(kind, tables, held)
    if kind in TYPE_ONLY_KINDS:
        mode = operation(kind).mode
        return LockClaim(mode=mode, tables=[], blocks="nothing", held=held or "on the type only; no table is locked")

    op = EXTRA_OPERATIONS[kind]
    if held is None:
        held = {
            "rewrite": "for the whole rewrite of the table and its indexes",
            "rows": "until the transaction commits",
            "build": "while the indexes are rebuilt",
            "scan": "for the whole statement (it reads the table)",
        }.get(op.effect, pg_locks.BRIEF)
    return LockClaim(mode=op.mode, tables=tables, blocks=op.blocks, held=held)


@dataclass(frozen=True)
class ClassifiedOp:
    kind: str  # a key of pg_locks.OPERATIONS or EXTRA_OPERATIONS
    table: str  # 'schema.table' or 'table' as written ('' when no table, e.g. enum values)
    column: str | None = None
    detail: Detail = field(default_factory=dict)

    @property
    def mode(self) -> str:
        return operation(self.kind).mode


def statement_lock(ops: list[ClassifiedOp]) -> dict[str, str]:
    """Table → the strongest lock mode the operations take on it (referenced tables and partitions included)."""
    modes: dict[str, list[str]] = {}
    for op in ops:
        if op.table:
            modes.setdefault(op.table, []).append(op.mode)
        secondary = _SECONDARY.get(op.kind)
        if secondary is not None:
            other = op.detail.get(secondary[0])
            for name in str(other).split(",") if isinstance(other, str) else ():
                if name:
                    modes.setdefault(name, []).append(secondary[1])
    return {table: pg_locks.strongest(found) for table, found in modes.items()}


# ----------------------------------------------------------------------------------------------- file state


def _short(name: str) -> str:
    return name.lower().rsplit(".", 1)[-1]


@dataclass
class SchemaState:
    """What the classifier knows about the schema at a point in the file."""

    version: tuple[int, int, int]
    catalog: Catalog | None = None
    new_tables: set[str] = field(default_factory=set)
    column_types: dict[tuple[str, str], str] = field(default_factory=dict)
    indexed: set[tuple[str, str]] = field(default_factory=set)
    index_table: dict[str, str] = field(default_factory=dict)
    not_null_checks: dict[tuple[str, str], str] = field(default_factory=dict)  # validated: (table, col) → name
    pending_checks: dict[str, tuple[str, str]] = field(default_factory=dict)  # NOT VALID: name → (table, col)
    fk_targets: dict[str, str] = field(default_factory=dict)  # constraint name → referenced table
    timezone_utc: bool | None = None

    def __post_init__(self) -> None:
        if self.catalog is None:
            return
        for table in self.catalog.tables:
            key = table.name.lower()
            for column in table.columns:
                self.column_types[(key, column.name.lower())] = column.data_type
            written = table.name if table.schema_name in (None, "public") else table.qualified_name
            for index in table.indexes:
                self.index_table[index.name.lower()] = written
                for col in index.columns:
                    self.indexed.add((key, col.lower()))
            for check in table.check_constraints:
                checked = not_null_check_column(check.expression)
                if checked is not None and check.validated:
                    self.not_null_checks[(key, checked)] = check.name or "check"
            for fk in table.foreign_keys:
                if fk.name:
                    self.fk_targets[fk.name.lower()] = fk.ref_table

    def table(self, name: str) -> Table | None:
        if self.catalog is None:
            return None
        short = _short(name)
        return next((t for t in self.catalog.tables if t.name.lower() == short), None)


def not_null_check_column(expression: str) -> str | None:
    """'c' when a CHECK expression is exactly `c IS NOT NULL` (parentheses allowed), else None."""
    from pglast import ast, parse_sql
    from pglast.parser import ParseError

    text = expression.strip()
    if text.upper().startswith("CHECK"):
        text = text[5:].strip()
    try:
        node = parse_sql(f"SELECT {text}")[0].stmt
    except ParseError:
        return None
    if not isinstance(node, ast.SelectStmt) or not node.targetList:
        return None
    return _null_test_column(node.targetList[0].val)


def _null_test_column(expr: Any) -> str | None:
    from pglast import ast, enums

    if (
        isinstance(expr, ast.NullTest)
        and expr.nulltesttype == enums.NullTestType.IS_NOT_NULL
        and isinstance(expr.arg, ast.ColumnRef)
    ):
        fields: Any = expr.arg.fields
        return str(fields[-1].sval).lower()
    return None


def classify_all(
    statements: Iterable[PgStatement], version: tuple[int, int, int], *, catalog: Catalog | None = None
) -> list[list[ClassifiedOp]]:
    """classify() for each statement of a file, each judged on the schema the earlier statements leave."""
    state = SchemaState(version, catalog)
    return [classify(statement, version, state=state) for statement in statements]


def classify(
    statement: PgStatement,
    version: tuple[int, int, int],
    *,
    catalog: Catalog | None = None,
    state: SchemaState | None = None,
) -> list[ClassifiedOp]:
    """Every table operation `statement` performs ([] for SELECT, SET, BEGIN, comments...)."""
    if state is None:
        state = SchemaState(version, catalog)
    return classify_node(statement.node, state)


def classify_node(node: Any, state: SchemaState) -> list[ClassifiedOp]:
    """classify() for a bare pglast node (e.g. an ALTER TABLE rebuilt with one subcommand)."""
    return [_mark_new(op, state) for op in _classify_node(node, state)]


def _mark_new(op: ClassifiedOp, state: SchemaState) -> ClassifiedOp:
    if op.table and _short(op.table) in state.new_tables and op.kind not in ("create_table", "create_partition"):
        return ClassifiedOp(op.kind, op.table, op.column, {**op.detail, "new_table": True})
    return op


def alter_type_op(
    table: str, column: str, new_type: Any, using: Any, state: SchemaState, detail: Detail | None = None
) -> ClassifiedOp:
    """alter_type / alter_type_coercible / alter_type_rebuild_indexes through the safe-cast matrix."""
    new_text = type_name(new_type)
    key = (_short(table), column.lower())
    old = state.column_types.get(key)
    indexed: bool | None = key in state.indexed if (state.catalog is not None or key in state.indexed) else None
    info: Detail = {"type": new_text, "old_type": old, "old_type_unknown": old is None, **(detail or {})}
    if using is not None:
        info["using"] = deparse(using)
    if indexed is not None:
        info["indexed"] = indexed
    state.column_types[key] = new_text
    if old is None or not _plain_using(using, column):
        info["cast"] = "rewrite"
        info["reason"] = "the current type is unknown" if old is None else "a USING expression recomputes every row"
        return ClassifiedOp("alter_type", table, column, info)
    verdict = cast_verdict(
        old, new_text, indexed=indexed, session_timezone_utc=state.timezone_utc, version=state.version
    )
    info["cast"] = verdict.result
    info["reason"] = verdict.reason
    kind = {"metadata": "alter_type_coercible", "rebuild_indexes": "alter_type_rebuild_indexes"}.get(
        verdict.result, "alter_type"
    )
    return ClassifiedOp(kind, table, column, info)


def _plain_using(using: Any, column: str) -> bool:
    """No USING, or USING the column itself or a cast of it: the server's own coercion decides."""
    from pglast import ast

    if using is None:
        return True
    node = using.arg if isinstance(using, ast.TypeCast) else using
    if not isinstance(node, ast.ColumnRef):
        return False
    fields: Any = node.fields
    return str(fields[-1].sval).lower() == column.lower()


# ----------------------------------------------------------------------------------------------- statements

_SERIAL: Final[dict[str, str]] = {
    "serial": "integer",
    "serial4": "integer",
    "bigserial": "bigint",
    "serial8": "bigint",
    "smallserial": "smallint",
    "serial2": "smallint",
}
_UTC_NAMES: Final = frozenset({"utc", "etc/utc", "utc0", "etc/utc0", "zulu", "etc/zulu", "gmt", "etc/gmt", "z"})


def _enum(value: Any) -> str:
    return str(getattr(value, "name", value))


def _names(items: Any) -> list[str]:
    return [str(item.sval) for item in items or () if hasattr(item, "sval")]


def _classify_node(node: Any, state: SchemaState) -> list[ClassifiedOp]:
    handler = _HANDLERS.get(type(node).__name__)
    return handler(node, state) if handler is not None else []


def _alter_table(node: Any, state: SchemaState) -> list[ClassifiedOp]:
    table = relation_name(node.relation)
    if _enum(node.objtype) == "OBJECT_INDEX":
        owner = state.index_table.get(_short(table), "")
        kinds = {"AT_SetRelOptions", "AT_ResetRelOptions"}
        return [
            ClassifiedOp(
                "set_storage_options" if _enum(cmd.subtype) in kinds else "alter_table_other",
                owner,
                None,
                {"index": table},
            )
            for cmd in node.cmds or ()
        ]
    ops: list[ClassifiedOp] = []
    for cmd in node.cmds or ():
        ops.extend(_alter_cmd(table, cmd, state))
    return ops


_SIMPLE_CMDS: Final[dict[str, str]] = {
    "AT_DropNotNull": "drop_not_null",
    "AT_SetExpression": "set_expression",
    "AT_DropExpression": "alter_table_other",
    "AT_SetStatistics": "set_statistics",
    "AT_SetOptions": "set_attribute_options",
    "AT_ResetOptions": "set_attribute_options",
    "AT_SetStorage": "set_column_storage",
    "AT_SetCompression": "set_column_storage",
    "AT_AlterConstraint": "alter_constraint",
    "AT_ClusterOn": "cluster_on",
    "AT_DropCluster": "cluster_on",
    "AT_SetLogged": "set_logged",
    "AT_SetUnLogged": "set_logged",
    "AT_SetAccessMethod": "set_access_method",
    "AT_SetTableSpace": "set_tablespace",
    "AT_SetRelOptions": "set_storage_options",
    "AT_ResetRelOptions": "set_storage_options",
    "AT_ReplaceRelOptions": "set_storage_options",
    "AT_AddIdentity": "add_identity",
    "AT_SetIdentity": "alter_identity",
    "AT_DropIdentity": "alter_identity",
}
_COLUMN_CMDS: Final = frozenset(
    {
        "AT_DropNotNull",
        "AT_SetExpression",
        "AT_DropExpression",
        "AT_SetStatistics",
        "AT_SetOptions",
        "AT_ResetOptions",
        "AT_SetStorage",
        "AT_SetCompression",
        "AT_AddIdentity",
        "AT_SetIdentity",
        "AT_DropIdentity",
    }
)


def _alter_cmd(table: str, cmd: Any, state: SchemaState) -> list[ClassifiedOp]:
    sub = _enum(cmd.subtype)
    column = str(cmd.name) if cmd.name else None
    key = (_short(table), (column or "").lower())
    if sub == "AT_AddColumn":
        return _add_column(table, cmd.def_, state, if_not_exists=bool(cmd.missing_ok))
    if sub == "AT_ColumnDefault":
        if cmd.def_ is None:
            return [ClassifiedOp("drop_default", table, column)]
        return [
            ClassifiedOp(
                "set_default", table, column, {"default": deparse(cmd.def_), "volatile_default": is_volatile(cmd.def_)}
            )
        ]
    if sub == "AT_SetNotNull":
        return [_set_not_null(table, column or "", state)]
    if sub == "AT_DropColumn":
        state.column_types.pop(key, None)
        return [ClassifiedOp("drop_column", table, column, {"if_exists": bool(cmd.missing_ok), **_cascade(cmd)})]
    if sub == "AT_AddConstraint":
        return _add_constraint(table, cmd.def_, state)
    if sub == "AT_ValidateConstraint":
        return [_validate(table, str(cmd.name), state)]
    if sub == "AT_DropConstraint":
        name = str(cmd.name).lower()
        for pair, check in list(state.not_null_checks.items()):
            if check.lower() == name and pair[0] == _short(table):
                del state.not_null_checks[pair]
        detail: Detail = {"name": cmd.name, "if_exists": bool(cmd.missing_ok), **_cascade(cmd)}
        if name in state.fk_targets:
            detail.update(constraint="foreign_key", references=state.fk_targets.pop(name))
        return [ClassifiedOp("drop_constraint", table, None, detail)]
    if sub == "AT_AlterColumnType":
        using = getattr(cmd.def_, "raw_default", None)
        return [alter_type_op(table, column or "", cmd.def_.typeName, using, state)]
    if sub in ("AT_AttachPartition", "AT_DetachPartition", "AT_DetachPartitionFinalize"):
        return [_partition(table, sub, cmd.def_)]
    if sub.startswith(("AT_EnableTrig", "AT_DisableTrig", "AT_EnableAlwaysTrig", "AT_EnableReplicaTrig")):
        trigger = column or ("ALL" if sub.endswith("All") else "USER" if sub.endswith("User") else None)
        return [ClassifiedOp("enable_disable_trigger", table, None, {"trigger": trigger, "enable": "Enable" in sub})]
    kind = _SIMPLE_CMDS.get(sub, "alter_table_other")
    detail = {"subcommand": sub.removeprefix("AT_")} if kind == "alter_table_other" else {}
    if sub in ("AT_SetRelOptions", "AT_ResetRelOptions", "AT_ReplaceRelOptions"):
        detail = {"options": ",".join(str(d.defname) for d in cmd.def_ or ())}
    return [ClassifiedOp(kind, table, column if sub in _COLUMN_CMDS else None, detail)]


def _cascade(node: Any) -> Detail:
    return {"cascade": _enum(getattr(node, "behavior", "")) == "DROP_CASCADE"}


def _set_not_null(table: str, column: str, state: SchemaState) -> ClassifiedOp:
    proof = state.not_null_checks.get((_short(table), column.lower()))
    if proof is not None and state.version >= (12, 0, 0):
        return ClassifiedOp("set_not_null_proven", table, column, {"proven_by": proof})
    return ClassifiedOp("set_not_null", table, column, {"proven_by": None})


def _validate(table: str, name: str, state: SchemaState) -> ClassifiedOp:
    key = name.lower()
    detail: Detail = {"name": name}
    pending = state.pending_checks.pop(key, None)
    if pending is not None:
        state.not_null_checks[pending] = name
        detail.update(constraint="check", not_null_column=pending[1])
    if key in state.fk_targets:
        detail.update(constraint="foreign_key", references=state.fk_targets[key])
    return ClassifiedOp("validate_constraint", table, None, detail)


def _add_column(table: str, coldef: Any, state: SchemaState, *, if_not_exists: bool) -> list[ClassifiedOp]:
    column = str(coldef.colname)
    type_text = type_name(coldef.typeName)
    base = str(coldef.typeName.names[-1].sval).lower()
    serial = base in _SERIAL
    default: Any = None
    flags = {"not_null": bool(coldef.is_not_null), "identity": False, "generated": False}
    extra: list[ClassifiedOp] = []
    for con in coldef.constraints or ():
        contype = _enum(con.contype)
        if contype == "CONSTR_DEFAULT":
            default = con.raw_expr
        elif contype in ("CONSTR_NOTNULL", "CONSTR_PRIMARY"):
            flags["not_null"] = True
        elif contype == "CONSTR_IDENTITY":
            flags["identity"] = True
        elif contype == "CONSTR_GENERATED":
            flags["generated"] = True
        if contype in ("CONSTR_PRIMARY", "CONSTR_UNIQUE", "CONSTR_FOREIGN", "CONSTR_CHECK"):
            extra.extend(_add_constraint(table, con, state, column=column))
    volatile_default = serial or (default is not None and is_volatile(default))
    has_default = default is not None or serial or flags["identity"]
    rewrite = (
        flags["identity"]
        or flags["generated"]
        or volatile_default
        or (default is not None and state.version < (11, 0, 0))
    )
    state.column_types[(_short(table), column.lower())] = _SERIAL.get(base, type_text)
    detail: Detail = {
        "type": type_text,
        "has_default": has_default,
        "default": deparse(default) if default is not None else ("nextval(...)" if serial else None),
        "volatile_default": volatile_default,
        "serial": serial,
        "if_not_exists": if_not_exists,
        **flags,
    }
    return [ClassifiedOp("add_column_rewrite" if rewrite else "add_column", table, column, detail), *extra]


def _add_constraint(table: str, con: Any, state: SchemaState, *, column: str | None = None) -> list[ClassifiedOp]:
    contype = _enum(con.contype)
    name = str(con.conname) if con.conname else None
    not_valid = bool(con.skip_validation)
    keys = _names(con.keys) or ([column] if column else [])
    detail: Detail = {"name": name, "not_valid": not_valid, "columns": ",".join(keys) or None}
    if contype == "CONSTR_CHECK":
        nn_column = _null_test_column(con.raw_expr)
        detail.update(constraint="check", expression=deparse(con.raw_expr), not_null_column=nn_column)
        if nn_column is not None:
            if not_valid and name:
                state.pending_checks[name.lower()] = (_short(table), nn_column)
            elif not not_valid:
                state.not_null_checks[(_short(table), nn_column)] = name or "check"
        return [ClassifiedOp("add_check_not_valid" if not_valid else "add_check", table, nn_column, detail)]
    if contype == "CONSTR_FOREIGN":
        references = relation_name(con.pktable)
        detail.update(constraint="foreign_key", references=references, columns=",".join(_names(con.fk_attrs)) or column)
        if name:
            state.fk_targets[name.lower()] = references
        kind = "add_foreign_key_not_valid" if not_valid else "add_foreign_key"
        return [ClassifiedOp(kind, table, column, detail)]
    if contype in ("CONSTR_UNIQUE", "CONSTR_PRIMARY", "CONSTR_EXCLUSION"):
        kind_name = {"CONSTR_UNIQUE": "unique", "CONSTR_PRIMARY": "primary_key"}.get(contype, "exclusion")
        detail["constraint"] = kind_name
        for key in keys:
            state.indexed.add((_short(table), key.lower()))
        if con.indexname:
            detail["index"] = str(con.indexname)
            return [ClassifiedOp("add_constraint_using_index", table, column, detail)]
        return [ClassifiedOp("add_primary_key" if kind_name == "primary_key" else "add_unique", table, column, detail)]
    if contype == "CONSTR_NOTNULL" and keys:
        detail["constraint"] = "not_null"
        if not_valid:
            return [ClassifiedOp("add_not_null_not_valid", table, keys[0], detail)]
        return [_set_not_null(table, keys[0], state)]
    return [ClassifiedOp("alter_table_other", table, column, {**detail, "constraint": contype.lower()})]


def _partition(table: str, sub: str, cmd: Any) -> ClassifiedOp:
    partition = relation_name(cmd.name)
    bound = getattr(cmd, "bound", None)
    detail: Detail = {"partition": partition, "concurrently": bool(cmd.concurrent)}
    if sub == "AT_AttachPartition":
        detail["default"] = bool(getattr(bound, "is_default", False))
        return ClassifiedOp("attach_partition", table, None, detail)
    if sub == "AT_DetachPartitionFinalize":
        return ClassifiedOp("detach_partition_concurrently", table, None, {**detail, "finalize": True})
    kind = "detach_partition_concurrently" if cmd.concurrent else "detach_partition"
    return ClassifiedOp(kind, table, None, detail)


def _index_stmt(node: Any, state: SchemaState) -> list[ClassifiedOp]:
    table = relation_name(node.relation)
    columns = [str(p.name) if p.name else deparse(p.expr) for p in node.indexParams or ()]
    if node.idxname:
        state.index_table[str(node.idxname).lower()] = table
    for col in columns:
        state.indexed.add((_short(table), col.lower()))
    detail: Detail = {
        "index": node.idxname,
        "unique": bool(node.unique),
        "concurrently": bool(node.concurrent),
        "if_not_exists": bool(node.if_not_exists),
        "columns": ",".join(columns),
        "partial": node.whereClause is not None,
    }
    return [ClassifiedOp("create_index_concurrently" if node.concurrent else "create_index", table, None, detail)]


def _drop(node: Any, state: SchemaState) -> list[ClassifiedOp]:
    kind = _enum(node.removeType)
    ops: list[ClassifiedOp] = []
    for obj in node.objects or ():
        parts = _names(obj) if isinstance(obj, (list, tuple)) else []
        name = ".".join(parts)
        common: Detail = {"if_exists": bool(node.missing_ok), **_cascade(node)}
        if kind == "OBJECT_INDEX":
            owner = state.index_table.get(_short(name), "")
            op_kind = "drop_index_concurrently" if node.concurrent else "drop_index"
            ops.append(
                ClassifiedOp(op_kind, owner, None, {"index": name, "concurrently": bool(node.concurrent), **common})
            )
        elif kind == "OBJECT_TABLE":
            ops.append(ClassifiedOp("drop_table", name, None, common))
        elif kind in ("OBJECT_VIEW", "OBJECT_MATVIEW"):
            ops.append(ClassifiedOp("drop_view", name, None, common))
        elif kind == "OBJECT_TRIGGER" and len(parts) >= 2:
            ops.append(ClassifiedOp("drop_trigger", ".".join(parts[:-1]), None, {"trigger": parts[-1], **common}))
    return ops


def _rename(node: Any, state: SchemaState) -> list[ClassifiedOp]:
    kind = _enum(node.renameType)
    table = relation_name(node.relation)
    detail: Detail = {"old": node.subname or (node.relation.relname if node.relation else None), "new": node.newname}
    if kind in ("OBJECT_TABLE", "OBJECT_VIEW", "OBJECT_MATVIEW", "OBJECT_FOREIGN_TABLE"):
        return [ClassifiedOp("rename_table", table, None, detail)]
    if kind == "OBJECT_COLUMN":
        key = (_short(table), str(node.subname).lower())
        if key in state.column_types:
            state.column_types[(key[0], str(node.newname).lower())] = state.column_types.pop(key)
        return [ClassifiedOp("rename_column", table, str(node.subname), detail)]
    if kind == "OBJECT_INDEX":
        owner = state.index_table.get(_short(table), "")
        return [ClassifiedOp("rename_index", owner, None, {**detail, "index": table})]
    if kind == "OBJECT_TABCONSTRAINT":
        return [ClassifiedOp("rename_constraint", table, None, detail)]
    if kind == "OBJECT_TRIGGER":
        return [ClassifiedOp("alter_table_other", table, None, {**detail, "subcommand": "RenameTrigger"})]
    return []


def _create_table(node: Any, state: SchemaState) -> list[ClassifiedOp]:
    table = relation_name(node.relation)
    short = _short(table)
    state.new_tables.add(short)
    references: list[str] = []
    for element in node.tableElts or ():
        constraints = list(getattr(element, "constraints", None) or ())
        if type(element).__name__ == "ColumnDef":
            base = str(element.typeName.names[-1].sval).lower()
            state.column_types[(short, str(element.colname).lower())] = _SERIAL.get(base, type_name(element.typeName))
        else:
            constraints = [element]
        for con in constraints:
            if _enum(getattr(con, "contype", "")) == "CONSTR_FOREIGN":
                references.append(relation_name(con.pktable))
    detail: Detail = {"if_not_exists": bool(node.if_not_exists), "references": ",".join(references) or None}
    if node.partbound is not None and node.inhRelations:
        parent = relation_name(node.inhRelations[0])
        detail.update(partition=table, default=bool(node.partbound.is_default))
        return [ClassifiedOp("create_partition", parent, None, detail)]
    return [ClassifiedOp("create_table", table, None, detail)]


def _create_table_as(node: Any, state: SchemaState) -> list[ClassifiedOp]:
    table = relation_name(node.into.rel)
    state.new_tables.add(_short(table))
    kind = "create_materialized_view" if _enum(node.objtype) == "OBJECT_MATVIEW" else "create_table"
    return [ClassifiedOp(kind, table, None, {"if_not_exists": bool(node.if_not_exists)})]


def _reindex(node: Any, state: SchemaState) -> list[ClassifiedOp]:
    target = _enum(node.kind).removeprefix("REINDEX_OBJECT_").lower()
    concurrently = any(str(p.defname).lower() == "concurrently" for p in node.params or ())
    kind = "reindex_concurrently" if concurrently else "reindex"
    detail: Detail = {"target": target, "concurrently": concurrently}
    if target == "index":
        name = relation_name(node.relation)
        return [ClassifiedOp(kind, state.index_table.get(_short(name), ""), None, {**detail, "index": name})]
    if target == "table":
        return [ClassifiedOp(kind, relation_name(node.relation), None, detail)]
    return [ClassifiedOp(kind, "", None, {**detail, "name": node.name})]


def _option_on(option: Any) -> bool:
    """A VACUUM option is on unless given a false boolean: VACUUM (FULL FALSE) is not a full vacuum."""
    arg = getattr(option, "arg", None)
    value = getattr(arg, "sval", None) if arg is not None else None
    if value is None and arg is not None:
        value = getattr(arg, "ival", None)
    return str(value).lower() not in ("false", "off", "0", "no") if value is not None else True


def _vacuum(node: Any, _state: SchemaState) -> list[ClassifiedOp]:
    options = {str(o.defname).lower() for o in node.options or () if _option_on(o)}
    kind = "analyze" if not node.is_vacuumcmd else "vacuum_full" if "full" in options else "vacuum"
    tables = [relation_name(r.relation) for r in node.rels or ()] or [""]
    return [ClassifiedOp(kind, table) for table in tables]


def _rows(kind: str) -> Any:
    def handler(node: Any, _state: SchemaState) -> list[ClassifiedOp]:
        return [ClassifiedOp(kind, relation_name(node.relation), None, {"has_where": node.whereClause is not None})]

    return handler


def _insert(node: Any, _state: SchemaState) -> list[ClassifiedOp]:
    return [ClassifiedOp("insert_rows", relation_name(node.relation), None, {"has_where": None})]


def _enum_stmt(node: Any, _state: SchemaState) -> list[ClassifiedOp]:
    type_text = ".".join(_names(node.typeName))
    if node.oldVal:
        return [
            ClassifiedOp("rename_enum_value", "", None, {"type": type_text, "old": node.oldVal, "new": node.newVal})
        ]
    neighbour = node.newValNeighbor
    detail: Detail = {
        "type": type_text,
        "value": node.newVal,
        "if_not_exists": bool(node.skipIfNewValExists),
        "before": neighbour if neighbour and not node.newValIsAfter else None,
        "after": neighbour if neighbour and node.newValIsAfter else None,
    }
    return [ClassifiedOp("add_enum_value", "", None, detail)]


def _set_variable(node: Any, state: SchemaState) -> list[ClassifiedOp]:
    if str(node.name or "").lower() != "timezone":
        return []
    values = [getattr(getattr(a, "val", None), "sval", None) for a in node.args or ()]
    text = str(values[0]).lower() if values and values[0] is not None else None
    state.timezone_utc = text in _UTC_NAMES if text is not None else None
    return []


_HANDLERS: Final[dict[str, Any]] = {
    "AlterTableStmt": _alter_table,
    "IndexStmt": _index_stmt,
    "DropStmt": _drop,
    "RenameStmt": _rename,
    "CreateStmt": _create_table,
    "CreateTableAsStmt": _create_table_as,
    "ReindexStmt": _reindex,
    "VacuumStmt": _vacuum,
    "UpdateStmt": _rows("update_rows"),
    "DeleteStmt": _rows("delete_rows"),
    "InsertStmt": _insert,
    "AlterEnumStmt": _enum_stmt,
    "VariableSetStmt": _set_variable,
    "TruncateStmt": lambda node, _s: [
        ClassifiedOp("truncate", relation_name(r), None, _cascade(node)) for r in node.relations or ()
    ],
    "CreateTrigStmt": lambda node, _s: [
        ClassifiedOp(
            "create_trigger",
            relation_name(node.relation),
            None,
            {"trigger": node.trigname, "replace": bool(node.replace)},
        )
    ],
    "AlterObjectSchemaStmt": lambda node, _s: (
        [ClassifiedOp("set_schema", relation_name(node.relation), None, {"new": node.newschema})]
        if node.relation is not None
        else []
    ),
    "ClusterStmt": lambda node, _s: [
        ClassifiedOp("cluster", relation_name(node.relation), None, {"index": node.indexname})
    ],
    "RefreshMatViewStmt": lambda node, _s: [
        ClassifiedOp(
            "refresh_materialized_view_concurrently" if node.concurrent else "refresh_materialized_view",
            relation_name(node.relation),
        )
    ],
    "ViewStmt": lambda node, _s: [
        ClassifiedOp("create_view", relation_name(node.view), None, {"replace": bool(node.replace)})
    ],
}
