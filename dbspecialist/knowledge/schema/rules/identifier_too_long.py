"""SCH043 identifier-too-long: a name longer than the engine allows (PostgreSQL truncates it silently)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

from dbspecialist.knowledge.findings import Finding, RuleSpec, Severity
from dbspecialist.knowledge.schema.context import SchemaContext
from dbspecialist.knowledge.sql_text import qualified, quote_ident

SPEC = RuleSpec(
    id="SCH043",
    name="identifier-too-long",
    capability="schema",
    engines=("postgresql", "mysql"),
    severity=Severity.MEDIUM,
    fix="never",
    summary="A table, column, index or constraint name exceeds the engine's identifier limit.",
)

# MySQL: 64 characters for tables, columns, indexes and constraints (MySQL docs, "Identifier Length Limits").
MYSQL_IDENTIFIER_MAX_CHARS = 64

Kind = Literal["table", "column", "index", "constraint"]


def check(ctx: SchemaContext) -> Iterator[Finding]:
    """Over-long names are cut (PostgreSQL) or rejected (MySQL).

    ## Why is this bad?
    PostgreSQL keeps only the first 63 bytes of an identifier (NAMEDATALEN - 1) and says so only
    as a NOTICE, so two long index names that share their first 63 bytes collide, and tools that
    look the object up by its full name do not find it (pg-index-health's
    possible_object_name_overflow). Bytes, not characters: non-ASCII letters count two or more.
    MySQL refuses names over 64 characters, so the DDL does not run at all.

    ## Example
    ```sql
    CREATE INDEX index_customer_subscription_invoices_on_billing_period_start_and_status
        ON customer_subscription_invoices (billing_period_start, status);
    ```

    ## Use instead
    ```sql
    CREATE INDEX customer_sub_invoices_period_status_idx
        ON customer_subscription_invoices (billing_period_start, status);
    ```

    ## Fix safety
    No automatic fix: pick a shorter name in the DDL (a live database already holds the cut name).
    """
    mysql = ctx.engine == "mysql"
    limit = MYSQL_IDENTIFIER_MAX_CHARS if mysql else ctx.thresholds.identifier_max_bytes
    severity = Severity.HIGH if mysql else SPEC.severity

    def size(name: str) -> int:
        return len(name) if mysql else len(name.encode("utf-8"))

    for table in ctx.tables():
        tname = qualified(table.schema_name, table.name, ctx.engine)
        named: list[tuple[Kind, str, str, int | None]] = [("table", table.name, tname, table.source_line)]
        named += [
            ("column", c.name, f"{tname}.{quote_ident(c.name, ctx.engine)}", c.source_line) for c in table.columns
        ]
        named += [("index", i.name, quote_ident(i.name, ctx.engine), i.source_line) for i in table.indexes]
        constraints = [fk.name for fk in table.foreign_keys] + [u.name for u in table.unique_constraints]
        constraints += [c.name for c in table.check_constraints]
        if table.primary_key:
            constraints.append(table.primary_key.name)
        index_names = {i.name for i in table.indexes}
        named += [
            ("constraint", n, quote_ident(n, ctx.engine), table.source_line)
            for n in dict.fromkeys(constraints)
            if n and n not in index_names
        ]
        for kind, raw, subject, line in named:
            length = size(raw)
            if length <= limit:
                continue
            cut = raw.encode("utf-8")[:limit].decode("utf-8", "ignore")
            yield Finding(
                rule_id=SPEC.id,
                name=SPEC.name,
                severity=severity,
                title=(
                    f"{kind} name {raw[:40]}... is {length} {'characters' if mysql else 'bytes'}, "
                    f"over the {limit} limit, so it is {'rejected' if mysql else 'silently truncated'}"
                ),
                subject=subject,
                subject_kind=kind,
                table=table.name,
                evidence={
                    "length": length,
                    "limit": limit,
                    "unit": "characters" if mysql else "bytes",
                    "truncated_to": None if mysql else cut,
                },
                rationale=(
                    "MySQL rejects identifiers over 64 characters, so this DDL fails."
                    if mysql
                    else "PostgreSQL keeps only the first 63 bytes of a name and merely prints a notice, so the "
                    "object gets a different name than the one written, and two long names can collide."
                ),
                help=f"Shorten the {kind} name to at most {limit} {'characters' if mysql else 'bytes'}.",
                fix=None,
                line=line,
            )
