"""One entry point for DDL text of any supported dialect: PostgreSQL through pglast, the rest through sqlglot.

Both parsers are imported lazily, so `import dbspecialist.knowledge.ddl.dispatch` loads neither.
"""

from __future__ import annotations

from typing import Final

from dbspecialist.knowledge.ddl.model import ParsedSchema

# Accepted dialect names (and aliases) → the parser dialect they mean.
DIALECT_ALIASES: Final[dict[str, str]] = {
    "postgres": "postgres",
    "postgresql": "postgres",
    "mysql": "mysql",
    "mariadb": "mysql",
    "sqlite": "sqlite",
    "tsql": "tsql",
    "sqlserver": "tsql",
    "mssql": "tsql",
    "clickhouse": "clickhouse",
    "snowflake": "snowflake",
    "bigquery": "bigquery",
}


def normalise_dialect(dialect: str) -> str:
    """The canonical dialect for an accepted name (case-insensitive); ValueError lists the accepted ones."""
    canonical = DIALECT_ALIASES.get(dialect.strip().lower()) if isinstance(dialect, str) else None
    if canonical is None:
        raise ValueError(f"unknown DDL dialect {dialect!r}; accepted: {', '.join(DIALECT_ALIASES)}")
    return canonical


def parse_ddl(ddl: str, dialect: str) -> ParsedSchema:
    """Parse DDL text into the shared catalog; statements that cannot be read become parse warnings."""
    canonical = normalise_dialect(dialect)
    if canonical == "postgres":
        from dbspecialist.knowledge.ddl.postgres import parse_postgres

        return parse_postgres(ddl)
    from dbspecialist.knowledge.ddl.sqlglot_ddl import parse_with_sqlglot

    return parse_with_sqlglot(ddl, canonical)
