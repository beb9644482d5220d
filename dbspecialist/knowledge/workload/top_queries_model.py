"""top_queries' report model, the limits of a request, the thresholds behind each next step, and the record a
statement is read into before ranking."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final, Literal

from pydantic import BaseModel, Field

OrderBy = Literal["total_time", "mean_time", "calls", "rows"]
QueryKind = Literal["read", "write", "utility", "command"]

ORDER_BY_ALL: Final[tuple[str, ...]] = ("total_time", "mean_time", "calls", "rows")
ORDERS: Final[dict[str, tuple[str, ...]]] = {
    "postgresql": ORDER_BY_ALL,
    "mysql": ORDER_BY_ALL,
    "mongodb": ORDER_BY_ALL,
    "redis": ("total_time", "mean_time", "calls"),  # SLOWLOG records no row counts
    "sqlite": (),
}
MAX_LIMIT: Final = 100
MAX_TEXT_CHARS: Final = 10_000  # longer statement texts are cut (and say so)

# Thresholds behind the next step (our own rules of thumb).
HIGH_MEAN_MS: Final = 100.0  # a statement this slow on average is worth a plan
MANY_CALLS: Final = 1_000  # ... and this many calls,
SMALL_MEAN_MS: Final = 2.0  # ... each this fast, look like a loop issuing one query per row (N+1)
ANALYZE_MAX_MEAN_MS: Final = 5_000.0  # EXPLAIN ANALYZE runs the query: only for reads faster than this
SCAN_BLOCKS_PER_CALL: Final = 1_000  # PostgreSQL: 8 MB of 8 kB pages touched per call ...
SCAN_BLOCKS_PER_ROW: Final = 100  # ... and at least this many pages per row returned
SCAN_ROWS_EXAMINED_PER_CALL: Final = 1_000  # MySQL/MariaDB rows, MongoDB documents examined per call ...
SCAN_EXAMINED_PER_ROW: Final = 100  # ... and at least this many per row returned
NO_INDEX_SHARE: Final = 0.5  # MySQL/MariaDB: half the executions used no index
PS_PER_MS: Final = 1_000_000_000  # performance_schema timers are in picoseconds


class NextStep(BaseModel):
    """A ready call of another dbspecialist tool for this statement."""

    tool: Literal["explain_query", "review_query", "recommend_indexes"]
    arguments: dict[str, Any]
    why: str = Field(description="what in the numbers chose this step")
    note: str | None = Field(default=None, description="what to do before calling it, if anything")


class TopQuery(BaseModel):
    rank: int
    query: str = Field(description="normalised text (constants replaced by $n, ? or a shape)")
    query_id: str | None = Field(default=None, description="queryid, digest or shape hash of the source")
    database: str | None = Field(default=None, description="database, schema or namespace it ran in")
    kind: QueryKind
    calls: int
    total_time_ms: float
    mean_time_ms: float
    rows: int | None = Field(default=None, description="rows returned or affected, all calls together")
    rows_per_call: float | None = None
    time_share_pct: float | None = Field(default=None, description="share of the total time of all statements")
    calls_share_pct: float | None = Field(default=None, description="share of all calls")
    signals: dict[str, int | float | str | bool | None] = Field(default_factory=dict)
    next_step: NextStep | None = None
    advice: str | None = Field(default=None, description="what to do when no tool fits (Redis, utility statements)")


class TopQueriesReport(BaseModel):
    engine: str
    source: str = Field(description="where the numbers come from")
    available: bool = Field(description="false when the source is not enabled (see `enable`)")
    order_by: str
    limit: int
    measured: Literal["counter", "sample"] | None = Field(
        default=None, description="counter: cumulative since `since`; sample: what a log or a snapshot holds now"
    )
    since: str | None = Field(default=None, description="when the counters were last reset, if known")
    totals: dict[str, int | float | None] = Field(
        default_factory=dict, description="all statements of the source: statements, calls, total_time_ms"
    )
    queries: list[TopQuery] = Field(default_factory=list)
    unavailable: str | None = Field(default=None, description="why the source could not be read")
    enable: list[str] = Field(default_factory=list, description="exact steps to turn the source on")
    notes: list[str] = Field(default_factory=list)


def check_request(engine: str, order_by: str, limit: int) -> None:
    """Raise ValueError for an order or limit the engine's source cannot answer."""
    allowed = ORDERS.get(engine)
    if allowed is None:
        raise ValueError(f"top_queries is not available for {engine}")
    if allowed and order_by not in allowed:
        raise ValueError(f"order_by must be one of {', '.join(allowed)} for {engine}, not {order_by!r}")
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit must be between 1 and {MAX_LIMIT}, not {limit}")


@dataclass
class Stat:
    """One statement (or group of executions) before ranking."""

    query: str
    calls: int
    total_ms: float
    rows: int | None
    kind: QueryKind
    query_id: str | None = None
    database: str | None = None
    signals: dict[str, int | float | str | bool | None] = field(default_factory=dict)
    placeholders: bool = False
    example: str | None = None  # a runnable text with real values (MySQL 8 sample, MongoDB command)
    scans: bool = False
    verb: str | None = None  # Redis command name
    housekeeping: str | None = None  # PostgreSQL: tool traffic (pool reset, catalog reads), left out of the ranking
    # PostgreSQL: unqualified tables not visible on the connection's search_path -> schemas that hold one
    unresolved: dict[str, list[str]] = field(default_factory=dict)
    search_path: str | None = None  # the connection's search_path, when a table was not found on it

    @property
    def mean_ms(self) -> float:
        return self.total_ms / self.calls if self.calls else 0.0


def int_or_none(value: Any) -> int | None:
    """An integer from a number or numeric text (truncated); None for None, booleans and anything else."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return None


def float_or_none(value: Any) -> float | None:
    """A float from a number or numeric text; None for None, booleans and anything else."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def rounded(value: float | None, digits: int = 3) -> float:
    """`value` rounded to `digits`; None counts as 0."""
    return round(value or 0.0, digits)


def text_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


__all__ = [
    "ANALYZE_MAX_MEAN_MS",
    "HIGH_MEAN_MS",
    "MANY_CALLS",
    "MAX_LIMIT",
    "MAX_TEXT_CHARS",
    "NO_INDEX_SHARE",
    "ORDERS",
    "ORDER_BY_ALL",
    "PS_PER_MS",
    "SCAN_BLOCKS_PER_CALL",
    "SCAN_BLOCKS_PER_ROW",
    "SCAN_EXAMINED_PER_ROW",
    "SCAN_ROWS_EXAMINED_PER_CALL",
    "SMALL_MEAN_MS",
    "NextStep",
    "OrderBy",
    "QueryKind",
    "Stat",
    "TopQueriesReport",
    "TopQuery",
    "check_request",
    "float_or_none",
    "int_or_none",
    "rounded",
    "text_or_none",
]
