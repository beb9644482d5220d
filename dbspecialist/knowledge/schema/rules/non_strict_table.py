"""SCH052 non-strict-table: a SQLite table without STRICT, so column types are only suggestions."""

from __future__ import annotations

from collections.abc import Iterator

from dbspecialist.adapters.catalog import Column, Table
from dbspecialist.knowledge.findings import Finding, Fix, RuleSpec, Severity
from dbspecialist.knowledge.schema.context import SchemaContext
from dbspecialist.knowledge.sql_text import qualified, quote_ident

SPEC = RuleSpec(
    id="SCH052",
    name="non-strict-table",
    capability="schema",
    engines=("sqlite",),
    severity=Severity.INFO,
    fix="always",
    summary="A SQLite table is not STRICT, so any value of any type is accepted in any column.",
)


def strict_type(data_type: str) -> str:
    """The STRICT type for a declared type, by SQLite's affinity rules (SQLite docs, "Datatypes", 3.1)."""
    upper = data_type.upper()
    if "INT" in upper:
        return "INTEGER"
    if any(word in upper for word in ("CHAR", "CLOB", "TEXT")):
        return "TEXT"
    if not upper or "BLOB" in upper:
        return "BLOB" if upper else "ANY"
    if any(word in upper for word in ("REAL", "FLOA", "DOUB")):
        return "REAL"
    return "ANY"


def _column(column: Column) -> str:
    parts = [quote_ident(column.name, "sqlite"), strict_type(column.data_type)]
    if not column.nullable:
        parts.append("NOT NULL")
    if column.default is not None:
        parts.append(f"DEFAULT {column.default}")
    return " ".join(parts)


def rebuild(table: Table, suffix: str) -> list[str]:
    name = quote_ident(table.name, "sqlite")
    new = quote_ident(f"{table.name}_new", "sqlite")
    parts = [_column(c) for c in table.columns]
    if table.primary_key:
        parts.append(f"PRIMARY KEY ({', '.join(quote_ident(c, 'sqlite') for c in table.primary_key.columns)})")
    columns = ", ".join(quote_ident(c.name, "sqlite") for c in table.columns)
    return [
        "PRAGMA foreign_keys = OFF;",
        "BEGIN;",
        f"CREATE TABLE {new} ({', '.join(parts)}) {suffix};",
        f"INSERT INTO {new} ({columns}) SELECT {columns} FROM {name};",
        f"DROP TABLE {name};",
        f"ALTER TABLE {new} RENAME TO {name};",
        "PRAGMA foreign_key_check;",
        "COMMIT;",
        "PRAGMA foreign_keys = ON;",
    ]


def check(ctx: SchemaContext) -> Iterator[Finding]:
    """Without STRICT, SQLite stores whatever it is given: text in an INTEGER column, a float in a date.

    ## Why is this bad?
    Ordinary SQLite tables use type affinity: the declared type is a preference, and a value that
    does not convert is stored as it came. `'abc'` lands in an INTEGER column, comparisons then
    mix types, and the bug appears far from the insert. STRICT tables (SQLite 3.37+) reject
    values that do not fit the declared type (SQLite docs, "STRICT Tables").

    ## Example
    ```sql
    CREATE TABLE readings (id INTEGER PRIMARY KEY, value REAL NOT NULL);
    ```

    ## Use instead
    ```sql
    CREATE TABLE readings (id INTEGER PRIMARY KEY, value REAL NOT NULL) STRICT;
    ```

    ## Fix safety
    Display-only: SQLite cannot add STRICT in place. The rebuild follows the documented
    copy-and-rename procedure, but indexes, triggers, CHECKs and foreign keys of the table must be
    added to the new CREATE TABLE by hand, and rows whose values do not fit the types fail the copy.
    """
    for table in ctx.tables():
        if table.kind != "table" or table.options.get("strict") == "true" or not table.columns:
            continue
        loose = sum(1 for c in table.columns if strict_type(c.data_type) == "ANY")
        without_rowid = table.options.get("without_rowid") == "true"
        yield Finding(
            rule_id=SPEC.id,
            name=SPEC.name,
            severity=SPEC.severity,
            title=f"{table.name} is not STRICT, so its columns accept values of any type",
            subject=qualified(table.schema_name, table.name, ctx.engine),
            subject_kind="table",
            table=table.name,
            evidence={"columns": len(table.columns), "columns_without_strict_type": loose, "rows": table.row_estimate},
            rationale=(
                "SQLite treats declared types as hints unless the table is STRICT, so wrongly typed values are "
                "stored silently. STRICT makes the declared types real constraints."
            ),
            help=f"Recreate {table.name} as a STRICT table (SQLite 3.37 or later).",
            fix=Fix(
                title=f"Rebuild {table.name} as STRICT",
                statements=rebuild(table, "STRICT, WITHOUT ROWID" if without_rowid else "STRICT"),
                safety="display-only",
                note="Copy the table's indexes, triggers, CHECK and REFERENCES clauses into the new definition first.",
            ),
            line=table.source_line,
        )
