"""Column definitions as the PostgreSQL lint rules see them: type names, modifiers, and the columns a statement adds.

Split from lint_rules_postgres_core (which re-exports `enum_name`): the type-choice rules (MIG025-MIG031) read every
column a CREATE TABLE or ALTER TABLE introduces through `column_uses`, and rewrite its type with `make_type`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, Literal

from dbspecialist.knowledge.migrations.pg_statements import PgStatement, relation_name


def enum_name(value: Any) -> str:
    return str(getattr(value, "name", value))


def type_base(type_node: Any) -> str:
    """The type's own name, lower-cased, without schema ('pg_catalog.int4' → 'int4')."""
    names = getattr(type_node, "names", None) or ()
    return str(names[-1].sval).lower() if names else ""


def type_mods(type_node: Any) -> tuple[int, ...]:
    mods: list[int] = []
    for mod in getattr(type_node, "typmods", None) or ():
        value = getattr(getattr(mod, "val", None), "ival", None)
        if isinstance(value, int):
            mods.append(value)
    return tuple(mods)


def is_array(type_node: Any) -> bool:
    return bool(getattr(type_node, "arrayBounds", None))


def make_type(name: str, *mods: int, schema: str | None = "pg_catalog", array: bool = False) -> Any:
    """A pglast TypeName node ('int8', 'timestamptz', 'text' ...) for rewritten statements."""
    from pglast import ast

    names = tuple(ast.String(sval=part) for part in ((schema, name) if schema else (name,)))
    return ast.TypeName(
        names=names,
        typemod=-1,
        typmods=tuple(ast.A_Const(val=ast.Integer(ival=m)) for m in mods) or None,
        arrayBounds=(ast.Integer(ival=-1),) if array else None,
    )


@dataclass(frozen=True)
class ColumnUse:
    """A column definition a statement introduces: CREATE TABLE, ADD COLUMN, or the new type of ALTER TYPE."""

    table: str
    column: str
    type_node: Any
    origin: Literal["create_table", "add_column", "alter_type"]
    position: int  # index in CreateStmt.tableElts or AlterTableStmt.cmds
    definition: Any  # the ColumnDef
    key: bool  # primary key, identity, serial, foreign key, or named like an id


def _is_key_column(name: str, definition: Any, primary: set[str]) -> bool:
    if name.lower() == "id" or name.lower().endswith("_id") or name.lower() in primary:
        return True
    for con in getattr(definition, "constraints", None) or ():
        if enum_name(con.contype) in ("CONSTR_PRIMARY", "CONSTR_IDENTITY", "CONSTR_FOREIGN", "CONSTR_UNIQUE"):
            return True
    return type_base(definition.typeName) in SERIAL_TYPES if definition.typeName is not None else False


SERIAL_TYPES: Final = frozenset({"serial", "serial4", "bigserial", "serial8", "smallserial", "serial2"})


def column_uses(statement: PgStatement) -> list[ColumnUse]:
    """Every column definition in a CREATE TABLE or ALTER TABLE (ADD COLUMN, ALTER COLUMN TYPE)."""
    node: Any = statement.node
    kind = statement.kind
    uses: list[ColumnUse] = []
    if kind == "CreateStmt":
        table = relation_name(node.relation)
        primary = _table_primary_key(node)
        for position, element in enumerate(node.tableElts or ()):
            if type(element).__name__ == "ColumnDef" and element.typeName is not None:
                name = str(element.colname)
                key = _is_key_column(name, element, primary)
                uses.append(ColumnUse(table, name, element.typeName, "create_table", position, element, key))
    elif kind == "AlterTableStmt" and enum_name(node.objtype) == "OBJECT_TABLE":
        table = relation_name(node.relation)
        for position, cmd in enumerate(node.cmds or ()):
            sub = enum_name(cmd.subtype)
            if sub == "AT_AddColumn" and cmd.def_ is not None:
                name = str(cmd.def_.colname)
                key = _is_key_column(name, cmd.def_, set())
                uses.append(ColumnUse(table, name, cmd.def_.typeName, "add_column", position, cmd.def_, key))
            elif sub == "AT_AlterColumnType" and cmd.def_ is not None:
                name = str(cmd.name)
                key = _is_key_column(name, cmd.def_, set())
                uses.append(ColumnUse(table, name, cmd.def_.typeName, "alter_type", position, cmd.def_, key))
    return uses


def _table_primary_key(node: Any) -> set[str]:
    keys: set[str] = set()
    for element in node.tableElts or ():
        if type(element).__name__ == "Constraint" and enum_name(element.contype) in (
            "CONSTR_PRIMARY",
            "CONSTR_FOREIGN",
        ):
            for key in list(element.keys or ()) + list(getattr(element, "fk_attrs", None) or ()):
                keys.add(str(key.sval).lower())
    return keys
