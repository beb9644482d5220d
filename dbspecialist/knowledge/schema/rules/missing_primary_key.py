"""SCH001 missing-primary-key: a table without a primary key."""

from __future__ import annotations

from collections.abc import Iterator

from dbspecialist.knowledge.findings import Finding, Fix, RuleSpec, Severity
from dbspecialist.knowledge.schema.context import SchemaContext
from dbspecialist.knowledge.sql_text import qualified, quote_ident

SPEC = RuleSpec(
    id="SCH001",
    name="missing-primary-key",
    capability="schema",
    engines=("postgresql", "mysql", "sqlite", "tsql"),
    severity=Severity.HIGH,
    fix="sometimes",
    summary="A table has no primary key.",
)


def check(ctx: SchemaContext) -> Iterator[Finding]:
    """A table without a primary key cannot identify a row, so duplicates creep in.

    ## Why is this bad?
    Without a primary key nothing stops duplicate rows, logical replication cannot publish
    updates or deletes for the table (PostgreSQL needs a replica identity), ORMs and tools
    cannot address single rows, and on InnoDB the engine invents a hidden 6-byte row id that
    every secondary index then carries.

    ## Example
    ```sql
    CREATE TABLE product_tags (product_id bigint NOT NULL, tag text NOT NULL);
    ```

    ## Use instead
    ```sql
    ALTER TABLE product_tags ADD PRIMARY KEY (product_id, tag);
    ```

    ## Fix safety
    Unsafe when duplicates already exist (the statement fails) and it locks the table while
    the unique index builds; on PostgreSQL build it first with CREATE UNIQUE INDEX CONCURRENTLY
    and attach it with ADD CONSTRAINT ... PRIMARY KEY USING INDEX.
    """
    for table in ctx.tables():
        if table.kind == "collection" or table.primary_key is not None:
            continue
        unique = next((i for i in table.indexes if i.unique and not i.predicate and i.valid), None)
        name = qualified(table.schema_name, table.name, ctx.engine)
        not_null = [c.name for c in table.columns if not c.nullable]
        # An identity / auto-increment / serial column already numbers the rows: it is the key to suggest.
        numbered = [c.name for c in table.columns if c.identity or "nextval(" in (c.default or "").lower()]
        if ctx.engine == "sqlite":
            fix = None  # SQLite cannot add a primary key to an existing table: it needs a rebuild (see help)
        elif unique is not None:
            cols = ", ".join(unique.columns)
            fix = Fix(
                title=f"Promote the unique index {unique.name} to the primary key",
                statements=[f"ALTER TABLE {name} ADD PRIMARY KEY ({cols});"],
                safety="unsafe",
                note="Every key column must be NOT NULL; the table is locked while the key is added.",
            )
        elif len(numbered) == 1:
            fix = Fix(
                title=f"Make the generated column {numbered[0]} the primary key",
                statements=[f"ALTER TABLE {name} ADD PRIMARY KEY ({quote_ident(numbered[0], ctx.engine)});"],
                safety="display-only",
                note="Generated values are unique unless rows were inserted with explicit ids; check that first.",
            )
        elif not_null:
            guessed = ", ".join(quote_ident(c, ctx.engine) for c in not_null[:2])
            fix = Fix(
                title="Add a primary key on the column(s) that identify a row",
                statements=[f"ALTER TABLE {name} ADD PRIMARY KEY ({guessed});"],
                safety="display-only",
                note="Check the chosen columns are unique first; this is a suggestion, not a known key.",
            )
        else:
            fix = None
        yield Finding(
            rule_id=SPEC.id,
            name=SPEC.name,
            severity=SPEC.severity,
            title=f"{table.name} has no primary key, so duplicate rows cannot be prevented",
            subject=name,
            subject_kind="table",
            table=table.name,
            evidence={"rows": table.row_estimate, "unique_indexes": sum(1 for i in table.indexes if i.unique)},
            rationale=(
                "A primary key is how the database, replication and every client identify one row. "
                "Without it duplicates go unnoticed and updates through logical replication fail."
            ),
            help=(
                "Add a primary key (a natural unique key, or a bigint identity column)."
                if ctx.engine != "sqlite"
                else "Rebuild the table with a primary key: create the new table, copy the rows, drop, rename."
            ),
            fix=fix,
            line=table.source_line,
        )
