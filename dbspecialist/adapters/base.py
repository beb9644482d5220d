"""The contract every engine adapter implements, and the capped result it returns."""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import json
import uuid
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from pydantic import BaseModel, Field

from dbspecialist.adapters.catalog import Catalog
from dbspecialist.config import ConnectionConfig
from dbspecialist.errors import DBSpecialistError

Params = Sequence[Any] | Mapping[str, Any]


class QueryResult(BaseModel):
    columns: list[str]
    rows: list[list[Any]]
    row_count: int = Field(description="rows returned (after the cap)")
    truncated: bool = Field(description="true when more rows existed than were returned")
    truncated_by: str | None = Field(default=None, description="'max_rows' or 'max_bytes' when truncated")
    elapsed_ms: float


def jsonable(value: Any) -> Any:
    """Turn a driver value into something JSON can carry, losslessly where it matters."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        raw = bytes(value)
        return {"$base64": base64.b64encode(raw[:4096]).decode(), "bytes": len(raw)}
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    return str(value)


class RowCollector:
    """Accumulates rows up to `max_rows` and roughly `max_bytes` of JSON, then says stop."""

    def __init__(self, max_rows: int, max_bytes: int) -> None:
        self.max_rows = max_rows
        self.max_bytes = max_bytes
        self.rows: list[list[Any]] = []
        self.bytes = 0
        self.truncated_by: str | None = None

    def add(self, row: Sequence[Any]) -> bool:
        """Add one row; return False when the caps are reached (the row is then dropped)."""
        if len(self.rows) >= self.max_rows:
            self.truncated_by = "max_rows"
            return False
        converted = [jsonable(v) for v in row]
        size = len(json.dumps(converted, default=str, ensure_ascii=False)) + 1
        if self.bytes + size > self.max_bytes:
            self.truncated_by = "max_bytes"
            return False
        self.rows.append(converted)
        self.bytes += size
        return True


class Setting(BaseModel):
    """One configuration setting as the server reports it."""

    name: str
    value: str | None
    unit: str | None = None
    source: str | None = Field(default=None, description="default, configuration file, command line, ...")
    category: str | None = None
    restart_required: bool | None = Field(default=None, description="true when a change needs a restart")
    description: str | None = None


class ExplainResult(BaseModel):
    """The engine's own plan, untouched: later engines normalise it."""

    engine: str
    format: Literal["json", "text", "rows"]
    analyzed: bool
    plan: Any = Field(description="JSON document (json), text (text) or list of row objects (rows)")
    statement: str


class NotSupportedError(DBSpecialistError):
    code = "not_supported"


class DatabaseAdapter(ABC):
    """One connection's I/O. Subclasses open lazily, reconnect after failures and never write."""

    engine: str

    def __init__(self, config: ConnectionConfig) -> None:
        self.config = config

    @abstractmethod
    async def server_version(self) -> str:
        """The server's version string (opens the connection if needed)."""

    @abstractmethod
    async def introspect(self, schema: str | None = None, tables: Sequence[str] | None = None) -> Catalog:
        """The catalog, in a fixed number of round trips whatever its size."""

    @abstractmethod
    async def run_read_only(
        self,
        query: str,
        params: Params | None = None,
        *,
        max_rows: int,
        max_bytes: int,
        timeout_ms: int,
    ) -> QueryResult:
        """Run one guarded read statement; rows are capped while they stream."""

    async def explain(self, statement: str, *, analyze: bool = False, timeout_ms: int) -> ExplainResult:
        """The raw plan of one guarded statement (`analyze` runs it, always rolled back)."""
        raise NotSupportedError(f"explain is not available for {self.engine} yet")

    async def settings(self) -> list[Setting]:
        """Current configuration with units and sources."""
        raise NotSupportedError(f"settings are not available for {self.engine} yet")

    async def statistics(self) -> dict[str, Any]:
        """Raw health counters, keyed by their source (view, command or section name)."""
        raise NotSupportedError(f"statistics are not available for {self.engine} yet")

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release pools and files."""
