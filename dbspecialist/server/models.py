"""Structured (pydantic) outputs of the tools."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from dbspecialist.adapters.catalog import Keyspace, Table


class ConnectionInfo(BaseModel):
    name: str
    engine: str
    url: str = Field(description="connection URL with credentials masked")
    server_version: str | None = None
    read_only: bool
    status: Literal["ok", "unavailable"]
    error: str | None = Field(default=None, description="why the server could not be reached")
    source: str = Field(description="where the connection was configured")
    sample: bool = Field(default=False, description="the bundled sample database")


class ConnectionList(BaseModel):
    connections: list[ConnectionInfo]


class TableSummary(BaseModel):
    """One table in compact form: columns as `name TYPE [NOT NULL] [DEFAULT x]` strings."""

    name: str
    schema_name: str | None = None
    kind: str
    row_estimate: int | None = None
    column_count: int
    columns: list[str] | None = Field(default=None, description="omitted when the catalog is large")
    primary_key: list[str] | None = None
    foreign_keys: list[str] | None = None
    indexes: list[str] | None = None


class SchemaDescription(BaseModel):
    connection: str
    engine: str
    server_version: str | None = None
    detail: Literal["summary", "full"]
    total_tables: int = Field(description="tables matching the filters")
    offset: int
    returned: int
    tables: list[TableSummary] = Field(default_factory=list, description="entries with columns (detail=summary)")
    compact: list[str] = Field(
        default_factory=list,
        description="large catalogs: one line per table, 'schema.name: N columns, ~R rows' (detail=summary)",
    )
    details: list[Table] = Field(default_factory=list, description="full table models (detail=full)")
    keyspace: Keyspace | None = Field(default=None, description="Redis: key patterns, biggest keys, INFO")
    truncated: bool = False
    next_offset: int | None = Field(default=None, description="pass as offset to get the next page")
    note: str | None = None


class QueryOutput(BaseModel):
    connection: str
    engine: str
    columns: list[str]
    rows: list[list[Any]]
    row_count: int
    truncated: bool = Field(description="true when more rows existed than were returned")
    truncated_by: str | None = Field(default=None, description="'max_rows' or 'max_bytes'")
    elapsed_ms: float
