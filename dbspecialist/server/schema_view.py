"""Fit a catalog into a tool result that never floods the context: compact, then paged."""

from __future__ import annotations

from dbspecialist.adapters.catalog import Catalog, Column, ForeignKey, Index, Table
from dbspecialist.server.models import SchemaDescription, TableSummary

SUMMARY_BUDGET_BYTES = 40_000
FULL_BUDGET_BYTES = 120_000


def column_text(col: Column) -> str:
    text = f"{col.name} {col.data_type}".rstrip()
    if not col.nullable:
        text += " NOT NULL"
    if col.default is not None:
        text += f" DEFAULT {col.default}"
    if col.generated:
        text += f" GENERATED AS ({col.generated})"
    return text


def fk_text(fk: ForeignKey) -> str:
    target = f"{fk.ref_schema}.{fk.ref_table}" if fk.ref_schema else fk.ref_table
    text = f"({', '.join(fk.columns)}) → {target}({', '.join(fk.ref_columns)})"
    if fk.on_delete != "no action":
        text += f" ON DELETE {fk.on_delete.upper()}"
    if not fk.validated:
        text += " NOT VALID"
    return text


def index_text(index: Index) -> str:
    text = f"{index.name} ({', '.join(index.columns)})"
    if index.primary:
        text += " PRIMARY"
    elif index.unique:
        text += " UNIQUE"
    if index.include:
        text += f" INCLUDE ({', '.join(index.include)})"
    if index.predicate:
        text += f" WHERE {index.predicate}"
    if not index.valid:
        text += " INVALID"
    return text


def summarise(table: Table, *, with_columns: bool) -> TableSummary:
    return TableSummary(
        name=table.name,
        schema_name=table.schema_name,
        kind=table.kind,
        row_estimate=table.row_estimate,
        column_count=len(table.columns),
        columns=[column_text(c) for c in table.columns] if with_columns else None,
        primary_key=(table.primary_key.columns if table.primary_key else []) if with_columns else None,
        foreign_keys=[fk_text(f) for f in table.foreign_keys] if with_columns else None,
        indexes=[index_text(i) for i in table.indexes] if with_columns else None,
    )


def describe(
    connection: str, catalog: Catalog, *, detail: str, offset: int, budget: int | None = None
) -> SchemaDescription:
    """Build the describe_schema result, degrading to compact entries, then pages, to fit."""
    tables = sorted(catalog.tables, key=lambda t: (t.schema_name or "", t.name))
    total = len(tables)
    base = SchemaDescription(
        connection=connection,
        engine=catalog.engine,
        server_version=catalog.server_version,
        detail="full" if detail == "full" else "summary",
        total_tables=total,
        offset=offset,
        returned=0,
    )
    window = tables[offset:]
    if detail == "full":
        limit = budget or FULL_BUDGET_BYTES
        picked: list[Table] = []
        used = 0
        for table in window:
            size = len(table.model_dump_json(exclude_defaults=True))
            if picked and used + size > limit:
                break
            picked.append(table)
            used += size
        result = base.model_copy(update={"details": picked, "returned": len(picked)})
    else:
        limit = budget or SUMMARY_BUDGET_BYTES
        rich = [summarise(t, with_columns=True) for t in window]
        rich_size = sum(len(s.model_dump_json(exclude_none=True)) for s in rich)
        entries = rich
        note = None
        if rich_size > limit:
            entries = [summarise(t, with_columns=False) for t in window]
            note = (
                f"{total} tables is too many to show with columns; entries are compact. "
                "Pass tables=[...] (or detail='full') to see columns, keys and indexes."
            )
        picked_s: list[TableSummary] = []
        used = 0
        for entry in entries:
            size = len(entry.model_dump_json(exclude_none=True))
            if picked_s and used + size > limit:
                break
            picked_s.append(entry)
            used += size
        result = base.model_copy(update={"tables": picked_s, "returned": len(picked_s), "note": note})
    end = offset + result.returned
    if end < total:
        more = f"Showing tables {offset + 1}-{end} of {total}; call again with offset={end} for more."
        note = f"{result.note} {more}" if result.note else more
        result = result.model_copy(update={"truncated": True, "next_offset": end, "note": note})
    elif offset and offset >= total:
        result = result.model_copy(update={"note": f"offset {offset} is past the last table ({total} tables)."})
    return result
