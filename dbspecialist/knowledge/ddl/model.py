"""What a DDL parser returns: the shared catalog plus the statements it could not read.

Both offline parsers (PostgreSQL through pglast, the other dialects through sqlglot) return a
`ParsedSchema`. A statement the parser cannot read never aborts the whole file: it becomes a
`ParseWarning` carrying the 1-based line where the statement starts, and parsing goes on.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from dbspecialist.adapters.catalog import Catalog


class ParseWarning(BaseModel):
    """One statement that could not be parsed (or only partly understood)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    line: int = Field(description="1-based line where the statement starts")
    statement_start: str = Field(description="the first characters of the statement, for the reader to find it")
    message: str = Field(description="what the parser said")


class ParsedSchema(BaseModel):
    """The catalog built from DDL text, the warnings, and how many statements were read."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    catalog: Catalog
    warnings: list[ParseWarning] = Field(default_factory=list)
    statements: int = Field(default=0, description="statements found in the text (parsed or not)")
    enums: dict[str, list[str]] = Field(
        default_factory=dict, description="enum type (as a column's data_type names it) → its labels, in order"
    )
    domains: dict[str, str] = Field(default_factory=dict, description="domain name → its base type")
