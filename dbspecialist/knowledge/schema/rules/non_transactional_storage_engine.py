"""SCH048 non-transactional-storage-engine: a MySQL/MariaDB table on MyISAM, MEMORY, CSV ... not InnoDB."""

from __future__ import annotations

from collections.abc import Iterator

from dbspecialist.knowledge.findings import Finding, Fix, RuleSpec, Severity
from dbspecialist.knowledge.schema.context import SchemaContext
from dbspecialist.knowledge.sql_text import qualified

SPEC = RuleSpec(
    id="SCH048",
    name="non-transactional-storage-engine",
    capability="schema",
    engines=("mysql",),
    severity=Severity.HIGH,
    fix="always",
    summary="A table uses a storage engine without transactions or crash recovery.",
)

# Engines that hold ordinary data but cannot roll back (MySQL docs, "Alternative Storage Engines";
# MariaDB docs for Aria: crash-safe but not transactional).
DURABLE_DATA: frozenset[str] = frozenset({"myisam", "aria", "merge", "mrg_myisam"})
# Engines usually chosen on purpose for special data; still not transactional.
SPECIAL_PURPOSE: frozenset[str] = frozenset({"memory", "heap", "archive", "csv", "blackhole", "federated"})


def check(ctx: SchemaContext) -> Iterator[Finding]:
    """Tables outside InnoDB lose writes on a crash and ignore ROLLBACK.

    ## Why is this bad?
    MyISAM (and Aria, MERGE) lock the whole table for every write, cannot roll back a
    transaction, enforce no foreign keys and may need REPAIR TABLE after a crash. MEMORY tables
    are empty after a restart; ARCHIVE and CSV cannot be indexed properly. Mixing them with
    InnoDB tables in one transaction leaves half-applied changes on error (MySQLTuner reports
    the same engines).

    ## Example
    ```sql
    CREATE TABLE payments (id bigint PRIMARY KEY, amount decimal(12,2)) ENGINE=MyISAM;
    ```

    ## Use instead
    ```sql
    CREATE TABLE payments (id bigint PRIMARY KEY, amount decimal(12,2)) ENGINE=InnoDB;
    ```

    ## Fix safety
    Unsafe: the conversion copies the whole table and blocks writes while it runs on MyISAM;
    check FULLTEXT/SPATIAL indexes and row sizes first, and a former MEMORY table becomes durable.
    """
    for table in ctx.tables():
        engine = table.options.get("engine", "").strip().lower()
        if engine not in DURABLE_DATA and engine not in SPECIAL_PURPOSE:
            continue
        severity = SPEC.severity if engine in DURABLE_DATA else Severity.MEDIUM
        name = qualified(table.schema_name, table.name, ctx.engine)
        yield Finding(
            rule_id=SPEC.id,
            name=SPEC.name,
            severity=severity,
            title=f"{table.name} uses {table.options['engine']}, so writes cannot be rolled back or recovered",
            subject=name,
            subject_kind="table",
            table=table.name,
            evidence={"engine": table.options["engine"], "rows": table.row_estimate, "table_bytes": table.table_bytes},
            rationale=(
                f"{table.options['engine']} has no transactions: a failed statement leaves partial changes, ROLLBACK "
                "does nothing for this table, and foreign keys are not enforced. InnoDB is crash-safe, row-locked "
                "and transactional."
            ),
            help=f"Convert {table.name} to InnoDB (unless its data is deliberately disposable).",
            fix=Fix(
                title=f"Convert {table.name} to InnoDB",
                statements=[f"ALTER TABLE {name} ENGINE=InnoDB;"],
                safety="unsafe",
                note="Copies the table; schedule it off-peak or use an online schema-change tool for big tables.",
            ),
            line=table.source_line,
        )
