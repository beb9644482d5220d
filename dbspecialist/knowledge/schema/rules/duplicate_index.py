"""SCH004 duplicate-index: two indexes on a table with the same key, predicate and method."""

from __future__ import annotations

import re
from collections.abc import Iterator

from dbspecialist.adapters.catalog import Index, Table
from dbspecialist.knowledge.findings import Finding, Fix, RuleSpec, Severity
from dbspecialist.knowledge.schema.context import SchemaContext
from dbspecialist.knowledge.sql_text import qualified, quote_ident

SPEC = RuleSpec(
    id="SCH004",
    name="duplicate-index",
    capability="schema",
    engines=("postgresql", "mysql", "sqlite", "tsql"),
    severity=Severity.MEDIUM,
    fix="sometimes",
    summary="An index has exactly the same key, predicate and method as another index on the table.",
)


def normalized_key(index: Index) -> tuple[str, ...]:
    """Key entries compared as text: lower case, no redundant ASC, no quotes, single spaces."""
    out = []
    for entry in index.columns:
        text = re.sub(r"\s+", " ", entry.strip().lower()).removesuffix(" asc").replace('"', "").replace("`", "")
        out.append(text)
    return tuple(out)


def normalized_predicate(index: Index) -> str:
    text = re.sub(r"[\s()]+", "", (index.predicate or "").lower())
    return text.replace('"', "").replace("`", "")


# SQL Server's rowstore indexes, clustered or not, are B-trees (columnstore ones are not).
_BTREE_ALIASES: frozenset[str] = frozenset({"clustered", "nonclustered"})


def normalized_method(index: Index) -> str:
    method = (index.method or "btree").lower()
    return "btree" if method in _BTREE_ALIASES else method


def index_subject(ctx: SchemaContext, table: Table, index: Index) -> str:
    """PostgreSQL and SQLite index names live in the schema; MySQL's live in the table."""
    if ctx.engine == "mysql":
        return f"{qualified(table.schema_name, table.name, ctx.engine)}.{quote_ident(index.name, ctx.engine)}"
    return qualified(table.schema_name, index.name, ctx.engine)


def drop_statement(ctx: SchemaContext, table: Table, index: Index) -> str | None:
    """The statement that removes `index` in the engine's dialect; None when it cannot be dropped alone."""
    name = qualified(table.schema_name, table.name, ctx.engine)
    if index.primary or index.origin == "primary_key":
        return None
    if ctx.engine == "postgresql":
        if index.origin == "unique_constraint":
            return f"ALTER TABLE {name} DROP CONSTRAINT {quote_ident(index.name, ctx.engine)};"
        return f"DROP INDEX CONCURRENTLY {qualified(table.schema_name, index.name, ctx.engine)};"
    if ctx.engine == "mysql":
        return f"ALTER TABLE {name} DROP INDEX {quote_ident(index.name, ctx.engine)};"
    if ctx.engine == "tsql":
        if index.origin == "unique_constraint":
            return f"ALTER TABLE {name} DROP CONSTRAINT {quote_ident(index.name, ctx.engine)};"
        return f"DROP INDEX {quote_ident(index.name, ctx.engine)} ON {name};"
    if index.origin == "unique_constraint" or index.name.lower().startswith("sqlite_autoindex"):
        return None  # SQLite: a constraint's automatic index goes only with a table rebuild
    return f"DROP INDEX {qualified(table.schema_name, index.name, ctx.engine)};"


def _keep_rank(index: Index) -> tuple[int, int, int, str]:
    """Lower sorts first = the index to keep: constraint-backed, then more INCLUDE columns, then name."""
    origin = {"primary_key": 0, "unique_constraint": 1}.get(index.origin, 2)
    return (0 if index.primary else 1, origin if index.unique else 3, -len(index.include), index.name)


def check(ctx: SchemaContext) -> Iterator[Finding]:
    """Two indexes with the same key double the write cost and buy nothing.

    ## Why is this bad?
    Every insert, update of an indexed column and delete maintains both indexes, both take
    space in memory and on disk, and the planner can only use one of them. Duplicates usually
    come from an ORM adding an index next to a constraint that already made one, or from a
    migration run twice under different names.

    ## Example
    ```sql
    ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);
    CREATE INDEX users_email_idx ON users (email);
    ```

    ## Use instead
    ```sql
    DROP INDEX CONCURRENTLY users_email_idx;
    ```

    ## Fix safety
    Unsafe: a query hint, a constraint or an `ON CONFLICT` clause may name the index being
    dropped. Check that nothing refers to it by name; the index that stays gives the same plans.
    """
    for table in ctx.tables():
        if table.kind == "collection":
            continue
        groups: dict[tuple[object, ...], list[Index]] = {}
        for index in table.indexes:
            if not index.valid or not index.columns:
                continue
            key = (normalized_key(index), normalized_predicate(index), normalized_method(index))
            groups.setdefault(key, []).append(index)
        for members in groups.values():
            if len(members) < 2:
                continue
            keep, *extra = sorted(members, key=_keep_rank)
            for index in extra:
                if index.primary:
                    continue
                if set(index.include) - set(keep.include):
                    continue  # it covers columns the kept one does not: not a pure duplicate
                drop = drop_statement(ctx, table, index)
                cols = ", ".join(index.columns)
                yield Finding(
                    rule_id=SPEC.id,
                    name=SPEC.name,
                    severity=Severity.HIGH if (index.size_bytes or 0) >= 1 << 30 else SPEC.severity,
                    title=f"{index.name} duplicates {keep.name} on {table.name} ({cols}): every write pays twice",
                    subject=index_subject(ctx, table, index),
                    subject_kind="index",
                    table=table.name,
                    evidence={
                        "duplicate_of": keep.name,
                        "columns": cols,
                        "size_bytes": index.size_bytes,
                        "scans": index.scans,
                        "rows": table.row_estimate,
                    },
                    rationale=(
                        f"{index.name} and {keep.name} index the same key with the same predicate and method, "
                        "so the planner only ever needs one of them. The other still costs space and is "
                        "maintained on every write."
                    ),
                    help=f"Drop {index.name}; keep {keep.name}.",
                    fix=(
                        Fix(
                            title=f"Drop the duplicate index {index.name}",
                            statements=[drop],
                            safety="unsafe",
                            note="Check nothing refers to the index by name (hints, ON CONFLICT ON CONSTRAINT).",
                        )
                        if drop
                        else None
                    ),
                    line=index.source_line,
                )
