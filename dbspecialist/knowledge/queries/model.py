"""Output models of the static query review (kept free of parser imports, so the server loads fast)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from dbspecialist.knowledge.findings import Finding


class ParseWarning(BaseModel):
    line: int
    message: str


class NPlusOne(BaseModel):
    normalised: str = Field(description="the statement with its literals replaced by placeholders")
    count: int = Field(description="how many times it appears in the reviewed text")
    distinct_values: int = Field(description="distinct literal combinations seen")
    first_line: int
    example_literals: list[str] = Field(description="some of the values that varied between repeats")
    rewrite: str | None = Field(default=None, description="one batched statement replacing the repeats")


class QueryReview(BaseModel):
    statements: int = Field(description="statements found in the text")
    findings: list[Finding]
    counts: dict[str, int] = Field(description="findings per severity")
    n_plus_one: list[NPlusOne]
    parse_warnings: list[ParseWarning]
    rules_run: int
