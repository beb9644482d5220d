"""PostgreSQL classifier: ALTER TABLE and its subcommands, one ClassifiedOp per subcommand."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from dbspecialist.knowledge.migrations.pg_classify_ops import ClassifiedOp, Detail
from dbspecialist.knowledge.migrations.pg_classify_state import (
    SchemaState,
    alter_type_op,
    enum_name,
    name_list,
    null_test_column,
    short_name,
)
from dbspecialist.knowledge.migrations.pg_statements import deparse, is_volatile, relation_name, type_name

if TYPE_CHECKING:
    pass

SERIAL_TYPES: Final[dict[str, str]] = {
    "serial": "integer",
    "serial4": "integer",
    "bigserial": "bigint",
    "serial8": "bigint",
    "smallserial": "smallint",
    "serial2": "smallint",
}


def alter_table(node: Any, state: SchemaState) -> list[ClassifiedOp]:
    table = relation_name(node.relation)
    if enum_name(node.objtype) == "OBJECT_INDEX":
        owner = state.index_table.get(short_name(table), "")
        kinds = {"AT_SetRelOptions", "AT_ResetRelOptions"}
        return [
            ClassifiedOp(
                "set_storage_options" if enum_name(cmd.subtype) in kinds else "alter_table_other",
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
    sub = enum_name(cmd.subtype)
    column = str(cmd.name) if cmd.name else None
    key = (short_name(table), (column or "").lower())
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
        return [ClassifiedOp("drop_column", table, column, {"if_exists": bool(cmd.missing_ok), **cascade_detail(cmd)})]
    if sub == "AT_AddConstraint":
        return _add_constraint(table, cmd.def_, state)
    if sub == "AT_ValidateConstraint":
        return [_validate(table, str(cmd.name), state)]
    if sub == "AT_DropConstraint":
        name = str(cmd.name).lower()
        for pair, check in list(state.not_null_checks.items()):
            if check.lower() == name and pair[0] == short_name(table):
                del state.not_null_checks[pair]
        detail: Detail = {"name": cmd.name, "if_exists": bool(cmd.missing_ok), **cascade_detail(cmd)}
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


def cascade_detail(node: Any) -> Detail:
    return {"cascade": enum_name(getattr(node, "behavior", "")) == "DROP_CASCADE"}


def _set_not_null(table: str, column: str, state: SchemaState) -> ClassifiedOp:
    proof = state.not_null_checks.get((short_name(table), column.lower()))
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
    serial = base in SERIAL_TYPES
    default: Any = None
    flags = {"not_null": bool(coldef.is_not_null), "identity": False, "generated": False}
    extra: list[ClassifiedOp] = []
    for con in coldef.constraints or ():
        contype = enum_name(con.contype)
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
    state.column_types[(short_name(table), column.lower())] = SERIAL_TYPES.get(base, type_text)
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
    contype = enum_name(con.contype)
    name = str(con.conname) if con.conname else None
    not_valid = bool(con.skip_validation)
    keys = name_list(con.keys) or ([column] if column else [])
    detail: Detail = {"name": name, "not_valid": not_valid, "columns": ",".join(keys) or None}
    if contype == "CONSTR_CHECK":
        nn_column = null_test_column(con.raw_expr)
        detail.update(constraint="check", expression=deparse(con.raw_expr), not_null_column=nn_column)
        if nn_column is not None:
            if not_valid and name:
                state.pending_checks[name.lower()] = (short_name(table), nn_column)
            elif not not_valid:
                state.not_null_checks[(short_name(table), nn_column)] = name or "check"
        return [ClassifiedOp("add_check_not_valid" if not_valid else "add_check", table, nn_column, detail)]
    if contype == "CONSTR_FOREIGN":
        references = relation_name(con.pktable)
        detail.update(
            constraint="foreign_key", references=references, columns=",".join(name_list(con.fk_attrs)) or column
        )
        if name:
            state.fk_targets[name.lower()] = references
        kind = "add_foreign_key_not_valid" if not_valid else "add_foreign_key"
        return [ClassifiedOp(kind, table, column, detail)]
    if contype in ("CONSTR_UNIQUE", "CONSTR_PRIMARY", "CONSTR_EXCLUSION"):
        kind_name = {"CONSTR_UNIQUE": "unique", "CONSTR_PRIMARY": "primary_key"}.get(contype, "exclusion")
        detail["constraint"] = kind_name
        for key in keys:
            state.indexed.add((short_name(table), key.lower()))
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
