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
from typing import TYPE_CHECKING, Any, Final

from dbspecialist.knowledge.migrations.pg_classify_alter import SERIAL_TYPES, alter_table, cascade_detail
from dbspecialist.knowledge.migrations.pg_classify_ops import (
    EXTRA_OPERATIONS,
    TYPE_ONLY_KINDS,
    ClassifiedOp,
    Detail,
    claim,
    operation,
    statement_lock,
)
from dbspecialist.knowledge.migrations.pg_classify_state import (
    SchemaState,
    alter_type_op,
    enum_name,
    name_list,
    not_null_check_column,
    short_name,
)
from dbspecialist.knowledge.migrations.pg_statements import PgStatement, deparse, relation_name, type_name

if TYPE_CHECKING:
    from dbspecialist.adapters.catalog import Catalog

__all__ = [
    "EXTRA_OPERATIONS",
    "TYPE_ONLY_KINDS",
    "ClassifiedOp",
    "Detail",
    "SchemaState",
    "alter_type_op",
    "claim",
    "classify",
    "classify_all",
    "classify_node",
    "not_null_check_column",
    "operation",
    "statement_lock",
]


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
    if op.table and short_name(op.table) in state.new_tables and op.kind not in ("create_table", "create_partition"):
        return ClassifiedOp(op.kind, op.table, op.column, {**op.detail, "new_table": True})
    return op


_UTC_NAMES: Final = frozenset({"utc", "etc/utc", "utc0", "etc/utc0", "zulu", "etc/zulu", "gmt", "etc/gmt", "z"})


def _classify_node(node: Any, state: SchemaState) -> list[ClassifiedOp]:
    handler = _HANDLERS.get(type(node).__name__)
    return handler(node, state) if handler is not None else []


def _index_stmt(node: Any, state: SchemaState) -> list[ClassifiedOp]:
    table = relation_name(node.relation)
    columns = [str(p.name) if p.name else deparse(p.expr) for p in node.indexParams or ()]
    if node.idxname:
        state.index_table[str(node.idxname).lower()] = table
    for col in columns:
        state.indexed.add((short_name(table), col.lower()))
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
    kind = enum_name(node.removeType)
    ops: list[ClassifiedOp] = []
    for obj in node.objects or ():
        parts = name_list(obj) if isinstance(obj, (list, tuple)) else []
        name = ".".join(parts)
        common: Detail = {"if_exists": bool(node.missing_ok), **cascade_detail(node)}
        if kind == "OBJECT_INDEX":
            owner = state.index_table.get(short_name(name), "")
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
    kind = enum_name(node.renameType)
    table = relation_name(node.relation)
    detail: Detail = {"old": node.subname or (node.relation.relname if node.relation else None), "new": node.newname}
    if kind in ("OBJECT_TABLE", "OBJECT_VIEW", "OBJECT_MATVIEW", "OBJECT_FOREIGN_TABLE"):
        return [ClassifiedOp("rename_table", table, None, detail)]
    if kind == "OBJECT_COLUMN":
        key = (short_name(table), str(node.subname).lower())
        if key in state.column_types:
            state.column_types[(key[0], str(node.newname).lower())] = state.column_types.pop(key)
        return [ClassifiedOp("rename_column", table, str(node.subname), detail)]
    if kind == "OBJECT_INDEX":
        owner = state.index_table.get(short_name(table), "")
        return [ClassifiedOp("rename_index", owner, None, {**detail, "index": table})]
    if kind == "OBJECT_TABCONSTRAINT":
        return [ClassifiedOp("rename_constraint", table, None, detail)]
    if kind == "OBJECT_TRIGGER":
        return [ClassifiedOp("alter_table_other", table, None, {**detail, "subcommand": "RenameTrigger"})]
    return []


def _create_table(node: Any, state: SchemaState) -> list[ClassifiedOp]:
    table = relation_name(node.relation)
    short = short_name(table)
    state.new_tables.add(short)
    references: list[str] = []
    for element in node.tableElts or ():
        constraints = list(getattr(element, "constraints", None) or ())
        if type(element).__name__ == "ColumnDef":
            base = str(element.typeName.names[-1].sval).lower()
            state.column_types[(short, str(element.colname).lower())] = SERIAL_TYPES.get(
                base, type_name(element.typeName)
            )
        else:
            constraints = [element]
        for con in constraints:
            if enum_name(getattr(con, "contype", "")) == "CONSTR_FOREIGN":
                references.append(relation_name(con.pktable))
    detail: Detail = {"if_not_exists": bool(node.if_not_exists), "references": ",".join(references) or None}
    if node.partbound is not None and node.inhRelations:
        parent = relation_name(node.inhRelations[0])
        detail.update(partition=table, default=bool(node.partbound.is_default))
        return [ClassifiedOp("create_partition", parent, None, detail)]
    return [ClassifiedOp("create_table", table, None, detail)]


def _create_table_as(node: Any, state: SchemaState) -> list[ClassifiedOp]:
    table = relation_name(node.into.rel)
    state.new_tables.add(short_name(table))
    kind = "create_materialized_view" if enum_name(node.objtype) == "OBJECT_MATVIEW" else "create_table"
    return [ClassifiedOp(kind, table, None, {"if_not_exists": bool(node.if_not_exists)})]


def _reindex(node: Any, state: SchemaState) -> list[ClassifiedOp]:
    target = enum_name(node.kind).removeprefix("REINDEX_OBJECT_").lower()
    concurrently = any(str(p.defname).lower() == "concurrently" for p in node.params or ())
    kind = "reindex_concurrently" if concurrently else "reindex"
    detail: Detail = {"target": target, "concurrently": concurrently}
    if target == "index":
        name = relation_name(node.relation)
        return [ClassifiedOp(kind, state.index_table.get(short_name(name), ""), None, {**detail, "index": name})]
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
    type_text = ".".join(name_list(node.typeName))
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
    "AlterTableStmt": alter_table,
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
        ClassifiedOp("truncate", relation_name(r), None, cascade_detail(node)) for r in node.relations or ()
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
