"""Inputs and outputs of the tuning calculators (pure data; no I/O)."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from dbspecialist.knowledge.findings import Finding

TuneEngine = Literal["postgres", "mysql", "mariadb", "sqlite", "mongodb", "redis", "pgbouncer"]
Storage = Literal["hdd", "ssd", "nvme", "san"]
Workload = Literal["web", "oltp", "dw", "mixed", "desktop", "cache", "persistent", "queue"]
OperatingSystem = Literal["linux", "windows", "macos"]
ApplyHow = Literal["reload", "restart", "session", "pragma", "online", "connection-string"]

ENGINES: tuple[str, ...] = ("postgres", "mysql", "mariadb", "sqlite", "mongodb", "redis", "pgbouncer")
WORKLOADS: dict[str, tuple[str, ...]] = {
    "postgres": ("web", "oltp", "dw", "mixed", "desktop"),
    "pgbouncer": ("web", "oltp", "dw", "mixed", "desktop"),
    "mysql": ("web", "oltp", "dw", "mixed", "desktop"),
    "mariadb": ("web", "oltp", "dw", "mixed", "desktop"),
    "sqlite": ("web", "oltp", "dw", "mixed", "desktop"),
    "mongodb": ("web", "oltp", "dw", "mixed", "desktop"),
    "redis": ("cache", "persistent", "queue", "mixed"),
}
RAM_GB_RANGE = (0.25, 16_384.0)
CPU_RANGE = (1, 1_024)
CONNECTIONS_RANGE = (1, 100_000)
DB_SIZE_GB_RANGE = (0.0, 1_000_000.0)


class TuningInputs(BaseModel):
    """What the calculator knows about the machine and the workload (validated by `validate`)."""

    model_config = ConfigDict(frozen=True)

    engine: TuneEngine
    ram_gb: float
    cpus: int
    storage: Storage = "ssd"
    workload: Workload = "oltp"
    max_connections: int | None = None
    version: str | None = Field(default=None, description="server version, e.g. '16', '8.0.36', '10.11', '7.2'")
    db_size_gb: float | None = None
    os: OperatingSystem = "linux"


class SettingAdvice(BaseModel):
    """One recommended setting: the value, how it was computed, and how to apply it."""

    name: str
    value: str = Field(description="as written in the config file, with its unit (e.g. '8GB', '0.9', 'on')")
    formula: str = Field(description="the formula, e.g. 'RAM / 4'")
    inputs: dict[str, float | int | str] = Field(default_factory=dict, description="the numbers the formula used")
    why: str = Field(description="one sentence")
    apply: ApplyHow = Field(description="what it takes to apply: reload, restart, ...")
    current: str | None = Field(default=None, description="the live value, with a connection")
    changes: bool | None = Field(default=None, description="with a connection: does the recommendation differ")


class BudgetLine(BaseModel):
    item: str
    bytes: int
    formula: str


class MemoryBudget(BaseModel):
    """The proof that the recommendation fits: every consumer, the OS reserve and the headroom."""

    ram_bytes: int
    os_reserve_bytes: int
    lines: list[BudgetLine]
    total_bytes: int = Field(description="sum of the lines plus the OS reserve")
    headroom_bytes: int = Field(description="RAM minus total (never negative when fits)")
    fits: bool
    adjustments: list[str] = Field(default_factory=list, description="what was lowered to make it fit, and why")


class TuningReport(BaseModel):
    engine: str
    inputs: TuningInputs
    settings: list[SettingAdvice]
    memory_budget: MemoryBudget | None = None
    config_format: str = Field(description="postgresql.conf, my.cnf, redis.conf, mongod.conf, pgbouncer.ini, PRAGMA")
    config_snippet: str
    apply_statements: list[str] = Field(
        default_factory=list, description="statements that apply it online where possible (ALTER SYSTEM, SET PERSIST)"
    )
    recommendations: list[str] = Field(default_factory=list, description="e.g. use a pooler, and why")
    notes: list[str] = Field(default_factory=list)
    audit: list[Finding] = Field(default_factory=list, description="with a connection: dangerous live settings")


class TuningInputError(ValueError):
    """Bad calculator input; the message names the valid range."""


def validate(inputs: TuningInputs) -> None:
    """Raise TuningInputError naming the valid range for any out-of-range input."""
    lo, hi = RAM_GB_RANGE
    if not lo <= inputs.ram_gb <= hi:
        raise TuningInputError(f"ram_gb must be between {lo} and {hi:,.0f} (got {inputs.ram_gb})")
    lo_c, hi_c = CPU_RANGE
    if not lo_c <= inputs.cpus <= hi_c:
        raise TuningInputError(f"cpus must be between {lo_c} and {hi_c} (got {inputs.cpus})")
    if (
        inputs.max_connections is not None
        and not CONNECTIONS_RANGE[0] <= inputs.max_connections <= CONNECTIONS_RANGE[1]
    ):
        raise TuningInputError(
            f"max_connections must be between {CONNECTIONS_RANGE[0]} and {CONNECTIONS_RANGE[1]:,} "
            f"(got {inputs.max_connections})"
        )
    if inputs.db_size_gb is not None and not DB_SIZE_GB_RANGE[0] <= inputs.db_size_gb <= DB_SIZE_GB_RANGE[1]:
        raise TuningInputError(f"db_size_gb must be between 0 and {DB_SIZE_GB_RANGE[1]:,.0f} (got {inputs.db_size_gb})")
    allowed = WORKLOADS[inputs.engine]
    if inputs.workload not in allowed:
        raise TuningInputError(
            f"workload {inputs.workload!r} does not apply to {inputs.engine}; use one of {', '.join(allowed)}"
        )


_MAJOR_MINOR_RE = re.compile(r"^\s*(\d+)(?:\.(\d+))?(?:\.\d+)*\s*$")


def parse_major_minor(
    version: str | None, *, default: str, low: tuple[int, int], high: tuple[int, int], valid: str
) -> tuple[int, int]:
    """'7.2' / '7.2.4' / '7' → (7, 2) within [low, high]; otherwise TuningInputError with `valid`."""
    text = default if version is None else version
    match = _MAJOR_MINOR_RE.match(text)
    if match is None:
        raise TuningInputError(f"{valid}; got {text!r}")
    parsed = (int(match.group(1)), int(match.group(2) or 0))
    if not low <= parsed <= high:
        raise TuningInputError(f"{valid}; got {text!r}")
    return parsed


GB = 1024**3
MB = 1024**2
KB = 1024


def largest_exact_unit(amount: int, names: tuple[tuple[str, int], ...]) -> str:
    """`amount` in the first (largest) unit of `names` that divides it exactly; else in the last one."""
    for name, size in names:
        if amount and amount % size == 0:
            return f"{amount // size}{name}"
    return f"{amount}{names[-1][0]}"


def format_size(num_bytes: int) -> str:
    """PostgreSQL-style size: the largest of GB/MB that divides exactly, else kB."""
    for unit, size in (("GB", GB), ("MB", MB)):
        if num_bytes >= size and num_bytes % size == 0:
            return f"{num_bytes // size}{unit}"
    return f"{max(1, num_bytes // KB)}kB"
