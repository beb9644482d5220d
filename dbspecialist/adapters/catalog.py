"""The one normalised catalog model, produced by live adapters and by the offline DDL parsers.

Every schema rule runs on this model, whichever way it was built. It imports no driver.
Sizes are bytes, times are ISO-8601 strings, counts are plain integers; `None` means
"the source could not tell" (an offline DDL file has no row counts), never zero.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

TableKind = Literal[
    "table", "view", "materialized_view", "partitioned_table", "foreign_table", "virtual_table", "collection"
]
FKAction = Literal["no action", "restrict", "cascade", "set null", "set default"]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FieldSample(_Model):
    """What a sample of documents says about one field (document stores)."""

    presence_pct: float = Field(description="% of sampled documents that have the field")
    type_counts: dict[str, int] = Field(default_factory=dict, description="BSON type name → documents")
    array_length_min: int | None = None
    array_length_max: int | None = None
    array_length_avg: float | None = None


class Column(_Model):
    name: str
    data_type: str
    nullable: bool = True
    default: str | None = None
    ordinal: int | None = None
    identity: Literal["always", "by default"] | None = None
    generated: str | None = Field(default=None, description="generation expression for generated columns")
    generated_kind: Literal["stored", "virtual"] | None = Field(
        default=None, description="generated columns: computed on write (stored) or on read; None: not said"
    )
    collation: str | None = None
    comment: str | None = None
    sample: FieldSample | None = Field(default=None, description="document stores: sampled field statistics")
    source_line: int | None = Field(default=None, description="DDL: line where the column is defined")


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
    source_line: int | None = None


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
    sparse: bool = False
    ttl_seconds: int | None = Field(default=None, description="MongoDB TTL indexes: expireAfterSeconds")
    collation: dict[str, Any] | None = Field(
        default=None,
        description="MongoDB: the index's collation as listIndexes reports it (None: simple binary comparison); "
        "string predicates use the index only when the query's collation matches",
    )
    source_line: int | None = None


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
    validator: dict[str, Any] | None = Field(default=None, description="MongoDB collection validator")
    stats: dict[str, Any] = Field(
        default_factory=dict, description="engine-specific counters (collStats, document sizes, n_dead_tup, ...)"
    )
    source_line: int | None = Field(default=None, description="DDL: line of the CREATE statement")

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
    source_line: int | None = None


class Extension(_Model):
    name: str
    version: str | None = None


class KeyPattern(_Model):
    """Redis keys grouped by shape, e.g. `user:*:session`, from a SCAN sample."""

    pattern: str
    type: str
    sampled_keys: int
    ttl_share_pct: float = Field(description="% of sampled keys with an expiry")
    memory_bytes_avg: float | None = None
    memory_bytes_sampled: int | None = None


class BigKey(_Model):
    key: str
    type: str
    memory_bytes: int | None = None
    length: int | None = Field(default=None, description="elements (list/set/hash/zset/stream) or bytes (string)")


class RedisDatabase(_Model):
    db: int
    keys: int
    expires: int
    avg_ttl_ms: int | None = None


class Keyspace(_Model):
    """Redis: what a SCAN-based sample says about the keys (never KEYS *)."""

    databases: list[RedisDatabase] = Field(default_factory=list)
    sampled_keys: int = 0
    patterns: list[KeyPattern] = Field(default_factory=list)
    biggest_keys: list[BigKey] = Field(default_factory=list)
    info: dict[str, dict[str, Any]] = Field(default_factory=dict, description="INFO sections (selected)")


class Catalog(_Model):
    engine: str
    server_version: str | None = None
    database: str | None = None
    source: Literal["live", "ddl"] = "live"
    schemas: list[str] = Field(default_factory=list)
    tables: list[Table] = Field(default_factory=list)
    sequences: list[Sequence] = Field(default_factory=list)
    extensions: list[Extension] = Field(default_factory=list)
    keyspace: Keyspace | None = Field(default=None, description="Redis only")
    round_trips: int | None = Field(default=None, description="queries the adapter needed (constant per engine)")

    def table(self, name: str, schema: str | None = None) -> Table | None:
        for table in self.tables:
            if table.name == name and (schema is None or table.schema_name == schema):
                return table
        return None
