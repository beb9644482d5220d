"""The one normalised catalog model, produced by live adapters and by the offline DDL parsers.

Every schema rule runs on this model, whichever way it was built. It imports no driver.
Sizes are bytes, times are ISO-8601 strings, counts are plain integers; `None` means
"the source could not tell" (an offline DDL file has no row counts), never zero.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

TableKind = Literal["table", "view", "materialized_view", "partitioned_table", "foreign_table", "virtual_table"]
FKAction = Literal["no action", "restrict", "cascade", "set null", "set default"]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Column(_Model):
    name: str
    data_type: str
    nullable: bool = True
    default: str | None = None
    ordinal: int | None = None
    identity: Literal["always", "by default"] | None = None
    generated: str | None = Field(default=None, description="generation expression for generated columns")
    collation: str | None = None
    comment: str | None = None


class PrimaryKey(_Model):
    name: str | None = None
    columns: list[str]


class ForeignKey(_Model):
    name: str | None = None
    columns: list[str]
    ref_schema: str | None = None
    ref_table: str
    ref_columns: list[str]
    on_delete: FKAction = "no action"
    on_update: FKAction = "no action"
    deferrable: bool = False
    validated: bool = True


class UniqueConstraint(_Model):
    name: str | None = None
    columns: list[str]


class CheckConstraint(_Model):
    name: str | None = None
    expression: str
    validated: bool = True


class Index(_Model):
    name: str
    columns: list[str] = Field(description="key columns in order; expressions appear as their SQL text")
    unique: bool = False
    primary: bool = False
    method: str | None = None
    predicate: str | None = Field(default=None, description="WHERE clause of a partial index")
    include: list[str] = Field(default_factory=list)
    valid: bool = True
    size_bytes: int | None = None
    scans: int | None = None
    origin: Literal["index", "unique_constraint", "primary_key"] = "index"


class Trigger(_Model):
    name: str
    timing: str | None = None
    events: list[str] = Field(default_factory=list)
    definition: str | None = None


class Table(_Model):
    schema_name: str | None = None
    name: str
    kind: TableKind = "table"
    columns: list[Column] = Field(default_factory=list)
    primary_key: PrimaryKey | None = None
    foreign_keys: list[ForeignKey] = Field(default_factory=list)
    unique_constraints: list[UniqueConstraint] = Field(default_factory=list)
    check_constraints: list[CheckConstraint] = Field(default_factory=list)
    indexes: list[Index] = Field(default_factory=list)
    triggers: list[Trigger] = Field(default_factory=list)
    row_estimate: int | None = None
    row_estimate_source: Literal["statistics", "count", "sample"] | None = None
    table_bytes: int | None = None
    index_bytes: int | None = None
    total_bytes: int | None = None
    last_vacuum: str | None = None
    last_analyze: str | None = None
    partition_of: str | None = None
    partition_key: str | None = None
    options: dict[str, str] = Field(default_factory=dict, description="engine-specific: WITHOUT ROWID, ENGINE=...")
    definition: str | None = Field(default=None, description="view query text")
    comment: str | None = None

    @property
    def qualified_name(self) -> str:
        return f"{self.schema_name}.{self.name}" if self.schema_name else self.name


class Sequence(_Model):
    schema_name: str | None = None
    name: str
    data_type: str | None = None
    current_value: int | None = None
    max_value: int | None = None
    owned_by: str | None = None


class Extension(_Model):
    name: str
    version: str | None = None


class Catalog(_Model):
    engine: str
    server_version: str | None = None
    database: str | None = None
    source: Literal["live", "ddl"] = "live"
    schemas: list[str] = Field(default_factory=list)
    tables: list[Table] = Field(default_factory=list)
    sequences: list[Sequence] = Field(default_factory=list)
    extensions: list[Extension] = Field(default_factory=list)
    round_trips: int | None = Field(default=None, description="queries the adapter needed (constant per engine)")

    def table(self, name: str, schema: str | None = None) -> Table | None:
        for table in self.tables:
            if table.name == name and (schema is None or table.schema_name == schema):
                return table
        return None
