"""SCH003 foreign-key-type-mismatch: a foreign key column whose type differs from the column it references."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from dbspecialist.adapters.catalog import Column, Table
from dbspecialist.knowledge.findings import Finding, Fix, RuleSpec, Severity
from dbspecialist.knowledge.schema.context import SchemaContext
from dbspecialist.knowledge.schema.rules.foreign_key_without_index import referenced_table
from dbspecialist.knowledge.sql_text import qualified, quote_ident

SPEC = RuleSpec(
    id="SCH003",
    name="foreign-key-type-mismatch",
    capability="schema",
    engines=("postgresql", "mysql", "sqlite"),
    severity=Severity.HIGH,
    fix="sometimes",
    summary="A foreign key column has a different type, width, length or sign than the referenced column.",
)

# Integer widths in bytes, by type name (PostgreSQL and MySQL spellings).
_INT_BYTES = {
    "tinyint": 1,
    "smallint": 2,
    "int2": 2,
    "smallserial": 2,
    "serial2": 2,
    "mediumint": 3,
    "integer": 4,
    "int": 4,
    "int4": 4,
    "serial": 4,
    "serial4": 4,
    "bigint": 8,
    "int8": 8,
    "bigserial": 8,
    "serial8": 8,
}
_FAMILY = {
    "character varying": "varchar",
    "varchar": "varchar",
    "nvarchar": "varchar",
    "character": "char",
    "char": "char",
    "bpchar": "char",
    "nchar": "char",
    "text": "text",
    "numeric": "numeric",
    "decimal": "numeric",
    "uuid": "uuid",
    "binary": "binary",
    "varbinary": "varbinary",
}


@dataclass(frozen=True)
class TypeShape:
    """A column type reduced to what matters for comparisons: family, size (bytes or length), sign."""

    family: str
    size: int | None = None
    scale: int | None = None
    unsigned: bool = False


def type_shape(data_type: str, engine: str) -> TypeShape:
    text = re.sub(r"\s+", " ", data_type.strip().lower())
    unsigned = " unsigned" in text
    text = text.replace(" unsigned", "").replace(" zerofill", "").strip()
    base, _, args = text.partition("(")
    base = base.strip()
    numbers = [int(n) for n in re.findall(r"\d+", args.split(")")[0])] if args else []
    if engine == "sqlite":
        # SQLite has type affinity, not widths: INT-anything is one 64-bit integer (sqlite.org/datatype3.html).
        if "int" in base:
            return TypeShape("integer")
        if any(k in base for k in ("char", "clob", "text")):
            return TypeShape("text")
        if any(k in base for k in ("real", "floa", "doub")):
            return TypeShape("real")
        return TypeShape(base or "blob")
    if base in _INT_BYTES:
        if engine == "mysql" and base == "tinyint" and numbers == [1]:
            return TypeShape("boolean")
        return TypeShape("integer", _INT_BYTES[base], unsigned=unsigned)
    family = _FAMILY.get(base, base)
    if family in ("varchar", "char", "binary", "varbinary"):
        return TypeShape(family, numbers[0] if numbers else None)
    if family == "numeric":
        return TypeShape(family, numbers[0] if numbers else None, numbers[1] if len(numbers) > 1 else 0)
    return TypeShape(family)


def _verdict(child: TypeShape, parent: TypeShape, engine: str) -> tuple[Severity, str] | None:
    """How bad the difference is and why, or None when the types agree."""
    if child == parent:
        return None
    if child.family != parent.family:
        strings = {"varchar", "text", "char"}
        if (
            engine == "postgresql"
            and {child.family, parent.family} <= strings
            and "char"
            not in {
                child.family,
                parent.family,
            }
        ):
            return Severity.LOW, "varchar and text compare without a cast, but the declarations disagree"
        return Severity.HIGH, "different types: every join and key check needs an implicit conversion"
    if child.family == "integer":
        if child.unsigned != parent.unsigned:
            return Severity.HIGH, "signedness differs: MySQL rejects the constraint and values can fall out of range"
        if (child.size or 0) < (parent.size or 0):
            return Severity.HIGH, "the child column is narrower: once the parent key passes its range inserts fail"
        return Severity.LOW, "the child column is wider than the key it references"
    if child.family in ("varchar", "char", "binary", "varbinary"):
        if child.size is not None and parent.size is not None and child.size < parent.size:
            return Severity.MEDIUM, "the child column is shorter: some parent keys cannot be referenced"
        if child.family == "char":
            return Severity.MEDIUM, "fixed-length strings of different lengths compare with padding"
        return Severity.LOW, "string lengths differ between the key and the reference"
    if child.family == "numeric":
        return Severity.MEDIUM, "numeric precision or scale differs: some parent keys cannot be represented"
    return Severity.MEDIUM, "type modifiers differ between the key and the reference"


def _wider(child: TypeShape, parent: TypeShape) -> bool:
    """The referencing column is the larger one (same family, bigger size): widen the parent, never narrow."""
    if child.family != parent.family or child.size is None:
        return False
    if parent.size is None:
        return False
    return child.size > parent.size and child.unsigned == parent.unsigned


def _alter(ctx: SchemaContext, table: Table, column: Column, parent: Column) -> list[str]:
    name = qualified(table.schema_name, table.name, ctx.engine)
    col = quote_ident(column.name, ctx.engine)
    if ctx.engine == "postgresql":
        return [f"ALTER TABLE {name} ALTER COLUMN {col} TYPE {parent.data_type};"]
    if ctx.engine == "mysql":
        null = "" if column.nullable else " NOT NULL"
        return [f"ALTER TABLE {name} MODIFY COLUMN {col} {parent.data_type.upper()}{null};"]
    return []


def check(ctx: SchemaContext) -> Iterator[Finding]:
    """A foreign key column whose type differs from the referenced key converts values on every check.

    ## Why is this bad?
    The child column must hold every value the parent key can take. An `integer` column that
    references a `bigint` key starts failing inserts once the parent's ids pass 2^31 - 1, and a
    column of another type forces a cast on every join and every constraint check, which can
    stop the planner from using the index on either side. MySQL refuses integer foreign keys
    whose size or sign differ; SQLite compares by affinity, so `'42'` and `42` may not match.

    ## Example
    ```sql
    CREATE TABLE customers (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY);
    CREATE TABLE orders (id bigint PRIMARY KEY, customer_id integer REFERENCES customers (id));
    ```

    ## Use instead
    ```sql
    ALTER TABLE orders ALTER COLUMN customer_id TYPE bigint;
    ```

    ## Fix safety
    Display only: changing a column's type rewrites the table and its indexes under an
    ACCESS EXCLUSIVE lock (a table copy on MySQL). For a large table plan it as a migration: add
    a new column, backfill it in batches, then swap names in a short transaction. SQLite needs
    the table rebuilt (create the new table, copy, rename).
    """
    for table in ctx.tables():
        if table.kind == "collection" or table.partition_of:
            continue
        for fk in table.foreign_keys:
            parent_table = referenced_table(ctx, table, fk)
            if parent_table is None or len(fk.columns) != len(fk.ref_columns):
                continue
            for child_name, parent_name in zip(fk.columns, fk.ref_columns, strict=True):
                child = ctx.column(table, child_name)
                parent = ctx.column(parent_table, parent_name)
                if child is None or parent is None or not child.data_type or not parent.data_type:
                    continue
                child_shape = type_shape(child.data_type, ctx.engine)
                parent_shape = type_shape(parent.data_type, ctx.engine)
                verdict = _verdict(child_shape, parent_shape, ctx.engine)
                collation_differs = (
                    ctx.engine == "mysql"
                    and child_shape.family in ("varchar", "char", "text")
                    and child.collation is not None
                    and parent.collation is not None
                    and child.collation.lower() != parent.collation.lower()
                )
                if verdict is None and collation_differs:
                    verdict = Severity.HIGH, "collations differ: MySQL cannot use the index for the comparison"
                if verdict is None:
                    continue
                severity, reason = verdict
                name = qualified(table.schema_name, table.name, ctx.engine)
                subject = f"{name}.{quote_ident(child.name, ctx.engine)}"
                # Never narrow: when the reference is the wider side, widen the key it points at instead.
                widen_parent = _wider(child_shape, parent_shape)
                target_table, target, source = (parent_table, parent, child) if widen_parent else (table, child, parent)
                statements = _alter(ctx, target_table, target, source)
                if ctx.engine == "mysql" and statements and fk.name and not widen_parent:
                    # MySQL refuses to modify a column its foreign key uses (error 1832): drop, change, re-add.
                    fk_name = quote_ident(fk.name, ctx.engine)
                    cols = ", ".join(quote_ident(c, ctx.engine) for c in fk.columns)
                    refs = ", ".join(quote_ident(c, ctx.engine) for c in fk.ref_columns)
                    parent_name = qualified(parent_table.schema_name, parent_table.name, ctx.engine)
                    actions = "".join(
                        f" ON {event} {action.upper()}"
                        for event, action in (("DELETE", fk.on_delete), ("UPDATE", fk.on_update))
                        if action != "no action"
                    )
                    statements = [
                        f"ALTER TABLE {name} DROP FOREIGN KEY {fk_name};",
                        *statements,
                        f"ALTER TABLE {name} ADD CONSTRAINT {fk_name} FOREIGN KEY ({cols}) "
                        f"REFERENCES {parent_name} ({refs}){actions};",
                    ]
                yield Finding(
                    rule_id=SPEC.id,
                    name=SPEC.name,
                    severity=severity,
                    title=(
                        f"{table.name}.{child.name} ({child.data_type}) references "
                        f"{parent_table.name}.{parent.name} ({parent.data_type}): {reason}"
                    ),
                    subject=subject,
                    subject_kind="column",
                    table=table.name,
                    evidence={
                        "column_type": child.data_type,
                        "referenced_type": parent.data_type,
                        "referenced_column": f"{parent_table.name}.{parent.name}",
                        "column_bytes": child_shape.size if child_shape.family == "integer" else None,
                        "referenced_bytes": parent_shape.size if parent_shape.family == "integer" else None,
                        "rows": table.row_estimate,
                    },
                    rationale=(
                        "A reference should have exactly the type of the key it points at. "
                        f"Here {reason}; the mismatch stays invisible until the data grows or a query "
                        "plan silently stops using an index."
                    ),
                    help=f"Change {target_table.name}.{target.name} to {source.data_type} so both sides agree.",
                    fix=Fix(
                        title=f"Make {target_table.name}.{target.name} a {source.data_type}",
                        statements=statements,
                        safety="display-only",
                        note=(
                            "Rewrites the table under an exclusive lock; on a big table add a new column, "
                            "backfill in batches and swap (the migration planner builds these steps)."
                            if statements
                            else "SQLite cannot change a column type: rebuild the table (create, copy, rename)."
                        ),
                    ),
                    line=fk.source_line or child.source_line,
                )
