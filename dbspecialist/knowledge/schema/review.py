"""Schema review entry points: from DDL text (offline) or from a live catalog plus settings."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel, Field

from dbspecialist.adapters.catalog import Catalog
from dbspecialist.knowledge.findings import Finding, Severity
from dbspecialist.knowledge.schema.context import SchemaContext
from dbspecialist.knowledge.schema.registry import review

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
    ctx = SchemaContext(catalog=catalog, engine=engine, live=live, settings=dict(settings or {}), version=version)
    started = time.perf_counter()
    report = review(ctx, min_severity=Severity(min_severity), tables=tables)
    return SchemaReview(
        source="live" if live else "ddl",
        engine=engine,
        tables_reviewed=sum(1 for _ in ctx.tables()),
        rules_run=report.rules_run,
        counts=report.counts,
        findings=report.findings,
        rules_ms=round((time.perf_counter() - started) * 1000, 2),
    )


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
