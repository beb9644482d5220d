"""SCH040 repeating-column-group: numbered sibling columns (phone1, phone2, phone3 ...), a first-normal-form smell."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator

from dbspecialist.adapters.catalog import Column, Table
from dbspecialist.knowledge.findings import Finding, Fix, RuleSpec, Severity
from dbspecialist.knowledge.schema.context import SchemaContext
from dbspecialist.knowledge.sql_text import qualified, quote_ident

SPEC = RuleSpec(
    id="SCH040",
    name="repeating-column-group",
    capability="schema",
    engines=("any",),
    severity=Severity.LOW,
    fix="sometimes",
    summary="Three or more numbered columns of the same stem (tag1, tag2, tag3) stand in for a child table.",
)

# Two numbered siblings (address_line1/address_line2) are a common, reasonable layout; three or more
# of the same stem is a list squeezed into columns (our own judgement).
MIN_SIBLINGS = 3

_NUMBERED = re.compile(r"^(\D*?)(\d{1,2})(\D*)$")


def _groups(table: Table) -> list[tuple[str, list[tuple[int, Column]]]]:
    by_stem: dict[str, list[tuple[int, Column]]] = defaultdict(list)
    for column in table.columns:
        match = _NUMBERED.match(column.name)
        if match and (match.group(1) or match.group(3)):
            by_stem[f"{match.group(1)}#{match.group(3)}".lower()].append((int(match.group(2)), column))
    out = []
    for stem, members in sorted(by_stem.items()):
        numbers = sorted({n for n, _ in members})
        if len(numbers) >= MIN_SIBLINGS and numbers[0] <= 2:
            out.append((stem, sorted(members, key=lambda m: m[0])))
    return out


def _child_fix(ctx: SchemaContext, table: Table, stem: str, members: list[tuple[int, Column]]) -> Fix | None:
    if table.primary_key is None or len(table.primary_key.columns) != 1:
        return None
    pk = ctx.column(table, table.primary_key.columns[0])
    if pk is None:
        return None
    base = re.sub(r"_+", "_", stem.replace("#", "_")).strip("_") or "item"
    child = f"{table.name}_{base}"[:63]
    parent = qualified(table.schema_name, table.name, ctx.engine)
    child_q = qualified(table.schema_name, child, ctx.engine)
    fk_col = quote_ident(f"{table.name}_{pk.name}"[:63], ctx.engine)
    pk_col = quote_ident(pk.name, ctx.engine)
    value_col = quote_ident(base, ctx.engine)
    pk_type = {"smallserial": "smallint", "serial": "integer", "bigserial": "bigint"}.get(
        pk.data_type.lower(), pk.data_type
    )
    statements = [
        f"CREATE TABLE {child_q} ({fk_col} {pk_type} NOT NULL REFERENCES {parent} ({pk_col}), "
        f"position smallint NOT NULL, {value_col} {members[0][1].data_type} NOT NULL, "
        f"PRIMARY KEY ({fk_col}, position));"
    ]
    for number, column in members:
        col = quote_ident(column.name, ctx.engine)
        statements.append(
            f"INSERT INTO {child_q} ({fk_col}, position, {value_col}) "
            f"SELECT {pk_col}, {number}, {col} FROM {parent} WHERE {col} IS NOT NULL;"
        )
    return Fix(
        title=f"Move {', '.join(c.name for _, c in members)} into a child table {child}",
        statements=statements,
        safety="display-only",
        note="Drop the numbered columns only after the application reads and writes the child table.",
    )


def check(ctx: SchemaContext) -> Iterator[Finding]:
    """Numbered columns are a list stored sideways: the table caps how many items there can be.

    ## Why is this bad?
    `phone1`, `phone2`, `phone3` fixes the maximum at three, makes "find the customer with this
    phone" an OR over every column (one index each), and leaves gaps when phone2 is removed. That
    is a repeating group, which first normal form forbids: the items belong in a child table with
    one row per item. Two numbered columns (`address_line1`, `address_line2`) are a common,
    deliberate layout and are not reported.

    ## Example
    ```sql
    CREATE TABLE customers (id bigint PRIMARY KEY, phone1 text, phone2 text, phone3 text);
    ```

    ## Use instead
    ```sql
    CREATE TABLE customer_phones (customer_id bigint NOT NULL REFERENCES customers (id),
                                  position smallint NOT NULL, phone text NOT NULL,
                                  PRIMARY KEY (customer_id, position));
    ```

    ## Fix safety
    Display-only: creating and filling the child table is safe, but dropping the old columns must
    wait until the application uses the new table.
    """
    for table in ctx.tables():
        if table.kind == "collection":
            continue
        name = qualified(table.schema_name, table.name, ctx.engine)
        for stem, members in _groups(table):
            columns = [c for _, c in members]
            yield Finding(
                rule_id=SPEC.id,
                name=SPEC.name,
                severity=SPEC.severity,
                title=f"{table.name} has {len(columns)} numbered {stem.replace('#', 'N')} columns: a list in columns",
                subject=name,
                subject_kind="table",
                table=table.name,
                evidence={
                    "stem": stem.replace("#", "N"),
                    "columns": len(columns),
                    "first": columns[0].name,
                    "last": columns[-1].name,
                },
                rationale=(
                    "Numbered sibling columns cap the number of items, need one index per column to search, "
                    "and leave gaps when an item is removed. One row per item in a child table has none of "
                    "these limits."
                ),
                help=f"Move {', '.join(c.name for c in columns)} into a child table with one row per item.",
                fix=_child_fix(ctx, table, stem, members),
                line=columns[0].source_line,
            )
