"""One plan-node model for every engine and format (PostgreSQL text/JSON, MySQL/MariaDB, SQLite, MongoDB).

Raw fields keep the engine's own meaning (PostgreSQL's "Actual Total Time" is per loop, in ms).
Derived fields (filled once by `annotate`) are named as such: `inclusive_ms`, `exclusive_ms`,
`exclusive_pct`, `estimate_factor`, `total_actual_rows`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

PlanEngine = Literal["postgresql", "mysql", "mariadb", "sqlite", "mongodb"]
# The parsed plan is no tool's argument or output (CompactNode is): its validators are built on first use, not at
# server start-up, where they cost ~2 ms.
_BUILT_ON_FIRST_USE = ConfigDict(defer_build=True)


class PlanNode(BaseModel):
    model_config = _BUILT_ON_FIRST_USE

    node_type: str = Field(description="engine's operator name: 'Seq Scan', 'ALL', 'SCAN', 'COLLSCAN', ...")
    relation: str | None = None
    schema_name: str | None = None
    alias: str | None = None
    index_name: str | None = None
    detail: str | None = Field(default=None, description="free text: SQLite detail, MySQL Extra, ...")
    parent_relationship: str | None = Field(default=None, description="Outer, Inner, SubPlan, InitPlan, ...")
    subplan_name: str | None = None
    cte_name: str | None = None
    join_type: str | None = None
    # planner estimates
    startup_cost: float | None = None
    total_cost: float | None = None
    plan_rows: float | None = None
    plan_width: int | None = None
    # actuals (ANALYZE); PostgreSQL times and rows are per loop
    actual_startup_ms: float | None = None
    actual_total_ms: float | None = None
    actual_rows: float | None = None
    actual_loops: float | None = None
    rows_removed_by_filter: float | None = None
    rows_removed_by_join_filter: float | None = None
    rows_removed_by_index_recheck: float | None = None
    heap_fetches: float | None = None
    # conditions, as the engine prints them
    filter: str | None = None
    index_cond: str | None = None
    recheck_cond: str | None = None
    join_filter: str | None = None
    hash_cond: str | None = None
    merge_cond: str | None = None
    sort_key: list[str] = Field(default_factory=list)
    group_key: list[str] = Field(default_factory=list)
    # operator specifics
    sort_method: str | None = None
    sort_space_kb: float | None = None
    sort_space_type: str | None = Field(default=None, description="'Disk' or 'Memory'")
    hash_batches: int | None = None
    original_hash_batches: int | None = None
    peak_memory_kb: float | None = None
    exact_heap_blocks: float | None = None
    lossy_heap_blocks: float | None = None
    workers_planned: int | None = None
    workers_launched: int | None = None
    buffers: dict[str, float] = Field(default_factory=dict, description="shared_hit, shared_read, temp_written, ...")
    extra: dict[str, Any] = Field(default_factory=dict, description="engine-specific raw fields kept for rules")
    children: list[PlanNode] = Field(default_factory=list)
    # derived by annotate()
    node_id: int | None = None
    inclusive_ms: float | None = None
    exclusive_ms: float | None = None
    exclusive_pct: float | None = None
    exclusive_cost: float | None = None
    estimate_factor: float | None = Field(default=None, description="max(actual/planned, planned/actual)")
    estimate_direction: Literal["under", "over"] | None = None
    total_actual_rows: float | None = Field(default=None, description="actual_rows * loops")
    rows_cut_short_by: str | None = Field(
        default=None,
        description="PostgreSQL: the node above that stopped pulling rows early ('Limit', 'Nested Loop Semi Join', "
        "...), so actual_rows is a lower bound, not the count the estimate is about",
    )

    def walk(self) -> Iterator[PlanNode]:
        yield self
        for child in self.children:
            yield from child.walk()


class Plan(BaseModel):
    model_config = _BUILT_ON_FIRST_USE

    engine: PlanEngine
    format: str = Field(description="text, json, tree, table, rows, ...")
    analyzed: bool = Field(description="has actual times/rows")
    root: PlanNode
    planning_ms: float | None = None
    execution_ms: float | None = None
    jit_ms: float | None = Field(default=None, description="JIT total time")
    jit_functions: int | None = None
    triggers_ms: float | None = None
    settings: dict[str, str] = Field(default_factory=dict)
    extra: dict[str, Any] = Field(default_factory=dict)

    def nodes(self) -> Iterator[PlanNode]:
        return self.root.walk()


class CompactNode(BaseModel):
    """The tree the assistant sees: enough to explain the plan, not the whole plan again."""

    id: int
    depth: int
    line: str = Field(description="e.g. 'Seq Scan on orders (rows 3000→12, 41% time, 10.2 ms)'")
