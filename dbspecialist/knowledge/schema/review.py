"""Schema review entry points: from DDL text (offline) or from a live catalog plus settings."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from pydantic import BaseModel, Field

from dbspecialist.adapters.catalog import Catalog, Table
from dbspecialist.knowledge.findings import Finding, Severity
from dbspecialist.knowledge.schema.context import SchemaContext
from dbspecialist.knowledge.schema.registry import review
from dbspecialist.knowledge.sql_text import qualified

MAX_DDL_CHARS = 20_000_000  # ~10,000 pg_dump tables; larger input is refused with a clear message


class ParseWarningOut(BaseModel):
    line: int
    statement_start: str
    message: str


class SchemaReview(BaseModel):
    source: str = Field(description="'ddl' or 'live'")
    engine: str
    dialect: str | None = None
    tables_reviewed: int
    rules_run: int
    counts: dict[str, int] = Field(description="findings per severity")
    findings: list[Finding]
    parse_warnings: list[ParseWarningOut] = Field(default_factory=list)
    statements: int | None = Field(default=None, description="DDL statements read")
    parse_ms: float | None = None
    rules_ms: float
    truncated: bool = Field(default=False, description="more findings exist than were returned (see counts)")
    note: str | None = None

    def nothing_parsed(self) -> bool:
        """A DDL review that read no table while some statement failed to parse: the input was not understood."""
        return self.source == "ddl" and self.tables_reviewed == 0 and bool(self.parse_warnings)

    def capped(self, max_findings: int) -> SchemaReview:
        """Keep the most severe `max_findings` findings; counts still cover all of them."""
        if len(self.findings) <= max_findings:
            return self
        note = (
            f"Showing the {max_findings} most severe of {len(self.findings)} findings; counts cover all. "
            "Raise min_severity or pass tables=[...] to focus."
        )
        return self.model_copy(update={"findings": self.findings[:max_findings], "truncated": True, "note": note})


def review_catalog(
    catalog: Catalog,
    *,
    engine: str,
    live: bool,
    settings: Mapping[str, str] | None = None,
    version: str | None = None,
    min_severity: Severity = Severity.LOW,
    tables: Iterable[str] | None = None,
) -> SchemaReview:
    """Review `catalog`; `tables` (bare or schema-qualified names) keeps only findings about those tables.

    Raises UnknownTablesError (a ValueError) when a name in `tables` matches no table of the catalog.
    """
    ctx = SchemaContext(catalog=catalog, engine=engine, live=live, settings=dict(settings or {}), version=version)
    started = time.perf_counter()
    selected = select_tables(ctx, tables) if tables else None
    keep = _keeper(ctx, selected) if selected is not None else None
    report = review(ctx, min_severity=Severity(min_severity), keep=keep)
    return SchemaReview(
        source="live" if live else "ddl",
        engine=engine,
        tables_reviewed=len(selected) if selected is not None else sum(1 for _ in ctx.tables()),
        rules_run=report.rules_run,
        counts=report.counts,
        findings=report.findings,
        rules_ms=round((time.perf_counter() - started) * 1000, 2),
    )


class UnknownTablesError(ValueError):
    """A `tables` filter names a table the reviewed catalog does not have."""


MAX_KNOWN_LISTED = 50  # table names quoted in the error before it says "and N more"


def _split_name(name: str) -> tuple[str | None, str]:
    """`schema.table` → (schema, table); quotes around either part are dropped; a bare name has no schema."""
    text = name.strip()
    if text.endswith('"') and '."' in text:
        schema, _, table = text.rpartition('."')
        return schema.strip('"') or None, table.rstrip('"')
    if '"' in text and text.startswith('"') and text.count('"') == 2:
        return None, text.strip('"')
    schema, dot, table = text.rpartition(".")
    return (schema.strip('"') or None) if dot else None, table.strip('"')


def select_tables(ctx: SchemaContext, names: Iterable[str]) -> list[Table]:
    """The reviewed tables `names` designate: `schema.table` that one table, a bare name that table in every schema.

    Names match exactly first, then case-insensitively. Raises UnknownTablesError listing the known tables
    when a name matches none.
    """
    known = list(ctx.tables())
    chosen: dict[int, Table] = {}
    missing: list[str] = []
    for name in names:
        schema, bare = _split_name(name)
        found = [t for t in known if t.name == bare and (schema is None or t.schema_name == schema)]
        if not found:
            found = [
                t
                for t in known
                if t.name.lower() == bare.lower()
                and (schema is None or (t.schema_name or "").lower() == schema.lower())
            ]
        if not found:
            missing.append(name)
        for table in found:
            chosen[id(table)] = table
    if missing:
        listed = sorted(t.qualified_name for t in known)
        more = f" and {len(listed) - MAX_KNOWN_LISTED} more" if len(listed) > MAX_KNOWN_LISTED else ""
        raise UnknownTablesError(
            f"no table named {', '.join(map(repr, missing))} in the reviewed schema; known tables: "
            f"{', '.join(listed[:MAX_KNOWN_LISTED]) or '(none)'}{more}. Names may be schema-qualified (shop.orders)."
        )
    return list(chosen.values())


def _keeper(ctx: SchemaContext, selected: list[Table]) -> Callable[[Finding], bool]:
    """A finding is kept when its table is one of `selected`, in the same schema (read from the subject's prefix)."""
    prefixes = {
        t.schema_name: qualified(t.schema_name, "x", ctx.engine)[:-1]
        for t in ctx.catalog.tables
        if t.schema_name and qualified(t.schema_name, "x", ctx.engine) != "x"
    }
    wanted = {(t.schema_name if t.schema_name in prefixes else None, t.name) for t in selected}

    def subject_schema(finding: Finding) -> str | None:
        for schema, prefix in prefixes.items():
            if finding.subject.startswith(prefix):
                return schema
        return None  # the default schema (public, main) is left out of subjects

    def keep(finding: Finding) -> bool:
        return finding.table is not None and (subject_schema(finding), finding.table) in wanted

    return keep


def review_ddl(
    ddl: str,
    *,
    dialect: str = "postgres",
    min_severity: Severity = Severity.LOW,
    tables: Iterable[str] | None = None,
) -> SchemaReview:
    """Parse DDL in `dialect` and review it; unparseable statements become parse warnings."""
    from dbspecialist.knowledge.ddl.dispatch import parse_ddl

    if len(ddl) > MAX_DDL_CHARS:
        raise ValueError(
            f"the DDL is {len(ddl):,} characters; the limit is {MAX_DDL_CHARS:,}. Review it in parts, "
            "or review the live database with `connection` instead."
        )
    started = time.perf_counter()
    parsed = parse_ddl(ddl, dialect)
    parse_ms = round((time.perf_counter() - started) * 1000, 2)
    result = review_catalog(
        parsed.catalog, engine=parsed.catalog.engine, live=False, min_severity=min_severity, tables=tables
    )
    warnings: list[Any] = parsed.warnings
    return result.model_copy(
        update={
            "dialect": dialect,
            "parse_warnings": [
                ParseWarningOut(line=w.line, statement_start=w.statement_start, message=w.message) for w in warnings
            ],
            "statements": parsed.statements,
            "parse_ms": parse_ms,
        }
    )
