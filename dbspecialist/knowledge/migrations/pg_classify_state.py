"""PostgreSQL classifier: what a migration file has done to the schema so far, and ALTER TYPE verdicts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dbspecialist.knowledge.migrations.pg_classify_ops import ClassifiedOp, Detail
from dbspecialist.knowledge.migrations.pg_safe_cast import cast_verdict
from dbspecialist.knowledge.migrations.pg_statements import deparse, type_name

if TYPE_CHECKING:
    from dbspecialist.adapters.catalog import Catalog, Table


def short_name(name: str) -> str:
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
        short = short_name(name)
        return next((t for t in self.catalog.tables if t.name.lower() == short), None)

    def partitions(self, name: str) -> list[str] | None:
        """The leaf partitions of `name` when the catalog says it is a partitioned table, else None."""
        found = self.table(name)
        if found is None or self.catalog is None:
            return None
        return leaf_partitions(self.catalog, found)


def leaf_partitions(catalog: Catalog, table: Table) -> list[str] | None:
    """The leaf partitions of a partitioned `table`, as usually written (no `public.`); None when not partitioned."""
    if table.kind != "partitioned_table":
        return None
    leaves: list[str] = []
    parents = [table.qualified_name.lower()]
    while parents:
        parent = parents.pop(0)
        for t in catalog.tables:
            of = (t.partition_of or "").lower()
            if (
                not of
                or of.rsplit(".", 1)[-1] != parent.rsplit(".", 1)[-1]
                or ("." in of and "." in parent and of != parent)
            ):
                continue
            written = t.name if t.schema_name in (None, "public") else t.qualified_name
            if t.kind == "partitioned_table":
                parents.append(written.lower())
            else:
                leaves.append(written)
    return sorted(leaves)


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
    return null_test_column(node.targetList[0].val)


def null_test_column(expr: Any) -> str | None:
    from pglast import ast, enums

    if (
        isinstance(expr, ast.NullTest)
        and expr.nulltesttype == enums.NullTestType.IS_NOT_NULL
        and isinstance(expr.arg, ast.ColumnRef)
    ):
        fields: Any = expr.arg.fields
        return str(fields[-1].sval).lower()
    return None


def alter_type_op(
    table: str, column: str, new_type: Any, using: Any, state: SchemaState, detail: Detail | None = None
) -> ClassifiedOp:
    """alter_type / alter_type_coercible / alter_type_rebuild_indexes through the safe-cast matrix."""
    new_text = type_name(new_type)
    key = (short_name(table), column.lower())
    old = state.column_types.get(key)
    indexed: bool | None = key in state.indexed if (state.catalog is not None or key in state.indexed) else None
    info: Detail = {"type": new_text, "old_type": old, "old_type_unknown": old is None, **(detail or {})}
    if using is not None:
        info["using"] = deparse(using)
    if indexed is not None:
        info["indexed"] = indexed
    state.column_types[key] = new_text
    if old is None or not plain_using(using, column):
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


def plain_using(using: Any, column: str) -> bool:
    """No USING, or USING the column itself or a cast of it: the server's own coercion decides."""
    from pglast import ast

    if using is None:
        return True
    node = using.arg if isinstance(using, ast.TypeCast) else using
    if not isinstance(node, ast.ColumnRef):
        return False
    fields: Any = node.fields
    return str(fields[-1].sval).lower() == column.lower()


def enum_name(value: Any) -> str:
    return str(getattr(value, "name", value))


def name_list(items: Any) -> list[str]:
    return [str(item.sval) for item in items or () if hasattr(item, "sval")]
