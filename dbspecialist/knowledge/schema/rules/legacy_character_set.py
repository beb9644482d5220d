"""SCH049 legacy-character-set: a MySQL/MariaDB table or column in utf8mb3 (utf8), latin1 or another pre-utf8mb4 set."""

from __future__ import annotations

from collections.abc import Iterator

from dbspecialist.knowledge.findings import Finding, Fix, RuleSpec, Severity
from dbspecialist.knowledge.schema.context import SchemaContext
from dbspecialist.knowledge.sql_text import qualified

SPEC = RuleSpec(
    id="SCH049",
    name="legacy-character-set",
    capability="schema",
    engines=("mysql",),
    severity=Severity.MEDIUM,
    fix="always",
    summary="Text is stored in utf8mb3/utf8, latin1 or another legacy character set instead of utf8mb4.",
)

# utf8 means utf8mb3 (3 bytes, no emoji or supplementary characters) and is deprecated since MySQL 8.0
# (MySQL docs, "The utf8mb3 Character Set"); the others cannot hold most of Unicode.
LEGACY: frozenset[str] = frozenset({"utf8", "utf8mb3", "latin1", "latin2", "ucs2", "cp1250", "cp1251", "cp1252"})


def _charset(value: str | None) -> str | None:
    """The character set named by a charset or collation (`latin1_swedish_ci` → latin1)."""
    if not value:
        return None
    return value.strip().lower().split("_", 1)[0]


def check(ctx: SchemaContext) -> Iterator[Finding]:
    """utf8mb3 cuts off emoji and other 4-byte characters; latin1 cannot hold most languages.

    ## Why is this bad?
    MySQL's old `utf8` is utf8mb3: at most 3 bytes per character, so emoji and many CJK
    characters are rejected or, in non-strict mode, silently truncated. latin1 and similar sets
    store only a small alphabet, and joining a latin1 column to a utf8mb4 one forces a conversion
    that stops index use. utf8mb4 is the default since MySQL 8.0 (MySQLTuner flags the same).

    ## Example
    ```sql
    CREATE TABLE comments (id bigint PRIMARY KEY, body text) DEFAULT CHARSET=utf8;
    ```

    ## Use instead
    ```sql
    CREATE TABLE comments (id bigint PRIMARY KEY, body text) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_0900_ai_ci;
    ```

    ## Fix safety
    Unsafe: CONVERT TO rewrites the table, changes the collation (sorting and comparison) of every
    text column, and can make long VARCHAR index keys exceed the 3072-byte InnoDB limit.
    """
    version = (ctx.version or ctx.catalog.server_version or "").lower()
    mariadb = "mariadb" in version
    collation = "utf8mb4_unicode_ci" if mariadb else "utf8mb4_0900_ai_ci"
    for table in ctx.tables():
        table_set = _charset(table.options.get("charset")) or _charset(table.options.get("collation"))
        legacy_columns = [c for c in table.columns if _charset(c.collation) in LEGACY]
        if table_set not in LEGACY and not legacy_columns:
            continue
        name = qualified(table.schema_name, table.name, ctx.engine)
        sets = sorted({s for s in [table_set, *(_charset(c.collation) for c in legacy_columns)] if s in LEGACY})
        yield Finding(
            rule_id=SPEC.id,
            name=SPEC.name,
            severity=SPEC.severity,
            title=f"{table.name} stores text in {', '.join(sets)}, which cannot hold all of Unicode",
            subject=name,
            subject_kind="table",
            table=table.name,
            evidence={
                "table_charset": table_set,
                "legacy_columns": len(legacy_columns),
                "example_column": legacy_columns[0].name if legacy_columns else None,
                "rows": table.row_estimate,
            },
            rationale=(
                "utf8mb3 stops at 3 bytes per character and latin1-style sets cover one alphabet, so emoji and "
                "many scripts are rejected or cut. Mixed character sets also block index use in joins."
            ),
            help=f"Convert {table.name} to utf8mb4 ({collation}).",
            fix=Fix(
                title=f"Convert {table.name} to utf8mb4",
                statements=[f"ALTER TABLE {name} CONVERT TO CHARACTER SET utf8mb4 COLLATE {collation};"],
                safety="unsafe",
                note=(
                    "Rewrites the table and changes comparison rules; check indexes on long VARCHAR columns. "
                    + (
                        "On MariaDB 11.x, utf8mb4_uca1400_ai_ci is the newer collation."
                        if mariadb
                        else "On MariaDB use utf8mb4_unicode_ci (or utf8mb4_uca1400_ai_ci on 11.x)."
                    )
                ),
            ),
            line=table.source_line,
        )
