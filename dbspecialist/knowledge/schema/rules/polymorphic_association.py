"""SCH015 polymorphic-association: an `<x>_type` + `<x>_id` column pair with no foreign key on the id."""

from __future__ import annotations

from collections.abc import Iterator

from dbspecialist.knowledge.findings import Finding, RuleSpec, Severity
from dbspecialist.knowledge.schema.context import SchemaContext
from dbspecialist.knowledge.sql_text import qualified, quote_ident

SPEC = RuleSpec(
    id="SCH015",
    name="polymorphic-association",
    capability="schema",
    engines=("postgresql", "mysql", "sqlite", "tsql"),
    severity=Severity.MEDIUM,
    fix="never",
    summary="A `<x>_type`/`<x>_id` pair points at rows in several tables, so no foreign key can protect it.",
)


def check(ctx: SchemaContext) -> Iterator[Finding]:
    """A polymorphic reference (`commentable_type`, `commentable_id`) cannot have a foreign key.

    ## Why is this bad?
    The id column points into a different table depending on the type column, and a foreign
    key can name only one table. Nothing stops ids that point nowhere, deleting a target
    leaves orphans behind, and every join needs the type filter plus a cast of the type string.
    It is the Rails/Laravel default, which is why it is common, not because it is sound.

    ## Example
    ```sql
    CREATE TABLE comments (id bigint PRIMARY KEY, commentable_type text, commentable_id bigint, body text);
    ```

    ## Use instead
    ```sql
    -- one nullable reference per target, exactly one of them set (an exclusive arc)
    CREATE TABLE comments (
        id bigint PRIMARY KEY,
        post_id bigint REFERENCES posts (id),
        photo_id bigint REFERENCES photos (id),
        body text,
        CHECK (num_nonnulls(post_id, photo_id) = 1)
    );
    ```

    ## Fix safety
    No automatic fix: the target tables are only known from the data. Replacing the pair is a
    migration (add one column per target, backfill from the type column, add the CHECK).
    """
    for table in ctx.tables():
        if table.kind == "collection" or table.partition_of:
            continue
        names = {c.name.lower(): c for c in table.columns}
        referenced = {fk.columns[0].lower() for fk in table.foreign_keys if len(fk.columns) == 1}
        for lower, type_column in sorted(names.items()):
            if not lower.endswith("_type"):
                continue
            stem = lower.removesuffix("_type")
            id_column = names.get(f"{stem}_id")
            if not stem or id_column is None or id_column.name.lower() in referenced:
                continue
            name = qualified(table.schema_name, table.name, ctx.engine)
            yield Finding(
                rule_id=SPEC.id,
                name=SPEC.name,
                severity=SPEC.severity,
                title=f"{table.name}.{id_column.name} points into whichever table {type_column.name} names: no FK",
                subject=f"{name}.{quote_ident(id_column.name, ctx.engine)}",
                subject_kind="column",
                table=table.name,
                evidence={
                    "type_column": type_column.name,
                    "id_column": id_column.name,
                    "id_type": id_column.data_type,
                    "rows": table.row_estimate,
                },
                rationale=(
                    f"{id_column.name} refers to a row in whichever table {type_column.name} names, and a foreign key "
                    "can only name one table. The database cannot reject dangling references or clean up on delete."
                ),
                help="Use one foreign key column per target table with a CHECK that exactly one is set.",
                fix=None,
                line=id_column.source_line,
            )
