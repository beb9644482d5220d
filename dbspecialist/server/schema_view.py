"""Fit a catalog into a tool result that never floods the context: compact, then paged."""

from __future__ import annotations

from dbspecialist.adapters.catalog import Catalog, Column, ForeignKey, Index, Table
from dbspecialist.server.models import SchemaDescription, TableSummary

SUMMARY_BUDGET_BYTES = 40_000  # keeps a page (as indented JSON text) under 50 KB
FULL_BUDGET_BYTES = 120_000


def _sampled_type(col: Column) -> str:
    """Document stores: each sampled type with its share when a field holds several ("int 83% | string 17%")."""
    counts = col.sample.type_counts if col.sample is not None else {}
    total = sum(counts.values())
    if len(counts) < 2 or total <= 0:
        return col.data_type
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return " | ".join(f"{name} {round(100 * n / total)}%" for name, n in ranked)


def column_text(col: Column) -> str:
    text = f"{col.name} {_sampled_type(col)}".rstrip()
    if not col.nullable:
        text += " NOT NULL"
    if col.default is not None:
        text += f" DEFAULT {col.default}"
    if col.identity is not None:
        text += f" GENERATED {col.identity.upper()} AS IDENTITY"
    if col.generated:
        text += f" GENERATED ALWAYS AS ({col.generated})"
        if col.generated_kind is not None:
            text += f" {col.generated_kind.upper()}"
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
    if index.sparse:  # MongoDB index options
        text += " SPARSE"
    if index.ttl_seconds is not None:
        text += f" TTL {index.ttl_seconds}s"
    if index.collation is not None:
        text += f" COLLATION {index.collation.get('locale')}"
    return text


def summarise(table: Table) -> TableSummary:
    return TableSummary(
        name=table.name,
        schema_name=table.schema_name,
        kind=table.kind,
        row_estimate=table.row_estimate,
        column_count=len(table.columns),
        columns=[column_text(c) for c in table.columns],
        primary_key=table.primary_key.columns if table.primary_key else [],
        foreign_keys=[fk_text(f) for f in table.foreign_keys],
        indexes=[index_text(i) for i in table.indexes],
    )


def compact_line(table: Table) -> str:
    """`schema.name: 8 columns, ~1,200 rows` (+ kind when not a plain table)."""
    rows = "rows unknown" if table.row_estimate is None else f"~{table.row_estimate:,} rows"
    kind = "" if table.kind == "table" else f" [{table.kind}]"
    return f"{table.qualified_name}{kind}: {len(table.columns)} columns, {rows}"


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
        keyspace=catalog.keyspace,
    )
    window = tables[offset:]
    if detail == "full":
        limit = budget or FULL_BUDGET_BYTES
        picked: list[Table] = []
        used = 0
        for table in window:
            size = len(table.model_dump_json())
            if picked and used + size > limit:
                break
            picked.append(table)
            used += size
        result = base.model_copy(update={"details": picked, "returned": len(picked)})
    else:
        limit = budget or SUMMARY_BUDGET_BYTES
        rich = [summarise(t) for t in window]
        if sum(len(s.model_dump_json()) for s in rich) <= limit:
            result = base.model_copy(update={"tables": rich, "returned": len(rich)})
        else:
            lines: list[str] = []
            used = 0
            for t in window:
                line = compact_line(t)
                if lines and used + len(line) + 3 > limit:
                    break
                lines.append(line)
                used += len(line) + 3
            note = (
                f"{total} tables is too many to show with columns, so each is one line. "
                "Pass tables=[...] (or detail='full') to see columns, keys and indexes."
            )
            result = base.model_copy(update={"compact": lines, "returned": len(lines), "note": note})
    end = offset + result.returned
    if end < total:
        more = f"Showing tables {offset + 1}-{end} of {total}; call again with offset={end} for more."
        note = f"{result.note} {more}" if result.note else more
        result = result.model_copy(update={"truncated": True, "next_offset": end, "note": note})
    elif offset and offset >= total:
        result = result.model_copy(update={"note": f"offset {offset} is past the last table ({total} tables)."})
    return result
