"""The tune_config tool: the calculator, plus live facts and an audit when a connection is given."""

# No `from __future__ import annotations` here: the SDK resolves each tool's annotations three times at start-up,
# and real objects need no evaluation where strings are compiled and evaluated each time (~0.6 ms a tool).

import asyncio
import re
from dataclasses import dataclass, field
from typing import Annotated, Literal

from mcp.server import MCPServer
from pydantic import Field

from dbspecialist.adapters.base import DatabaseAdapter
from dbspecialist.errors import DBSpecialistError, QueryError
from dbspecialist.knowledge.tuning.model import TuningReport
from dbspecialist.server.errors import tool_errors
from dbspecialist.server.state import ServerState
from dbspecialist.server.tools import READ_ONLY

# tune_config engine → the adapter engine a connection must have
ADAPTER_ENGINE = {
    "postgres": "postgresql",
    "pgbouncer": "postgresql",
    "mysql": "mysql",
    "mariadb": "mysql",
    "sqlite": "sqlite",
    "mongodb": "mongodb",
    "redis": "redis",
}


def register_tuning_tools(mcp: MCPServer, state: ServerState) -> None:
    @mcp.tool(annotations=READ_ONLY, title="Tune a database server's configuration")
    @tool_errors
    async def tune_config(
        engine: Annotated[
            Literal["postgres", "mysql", "mariadb", "sqlite", "mongodb", "redis", "pgbouncer"],
            Field(description="what to tune"),
        ],
        ram_gb: Annotated[float, Field(description="RAM of the database machine, in GB")],
        cpus: Annotated[int, Field(description="CPU cores of the database machine")],
        storage: Annotated[Literal["hdd", "ssd", "nvme", "san"], Field(description="data storage")] = "ssd",
        workload: Annotated[
            Literal["web", "oltp", "dw", "mixed", "desktop", "cache", "persistent", "queue"],
            Field(description="web, oltp, dw (analytics), mixed, desktop; Redis: cache, persistent, queue, mixed"),
        ] = "oltp",
        max_connections: Annotated[int | None, Field(description="connections to plan for")] = None,
        version: Annotated[str | None, Field(description="server version, e.g. 16 or 8.0.36")] = None,
        db_size_gb: Annotated[float | None, Field(description="data size, in GB (vs RAM changes advice)")] = None,
        os: Annotated[Literal["linux", "windows", "macos"], Field(description="server OS")] = "linux",
        connection: Annotated[
            str | None, Field(description="a live connection: fills version/size, compares, and audits")
        ] = None,
    ) -> TuningReport:
        """Recommend server settings with the formula behind each, a memory budget that proves they fit in RAM,
        a ready config snippet and the statements that apply it online.

        With `connection`, missing facts (version, data size, connections) come from the live server, each
        recommendation shows the current value and whether it changes, and an audit flags dangerous live
        settings (fsync=off, innodb_flush_log_at_trx_commit != 1, Redis noeviction on a cache, ...).
        Guide: dbspecialist://guides/configuration.
        """
        from dbspecialist.knowledge.tuning.dispatch import tune
        from dbspecialist.knowledge.tuning.model import TuningInputError, TuningInputs

        facts = LiveFacts()
        live_settings: dict[str, tuple[str | None, str | None]] = {}
        adapter = None
        if connection is not None:
            adapter = await state.registry.get(connection)
            expected = ADAPTER_ENGINE[engine]
            if adapter.config.engine != expected:
                raise QueryError(
                    f"connection {connection!r} is {adapter.config.engine}, but engine={engine!r} was asked; "
                    f"use a {expected} connection or the matching engine"
                )
            facts, live_settings = await _live_facts(adapter, engine)
            if engine == "mysql" and facts.flavor == "mariadb":
                engine = "mariadb"  # the server says so; MariaDB's settings and versions differ from MySQL's
            if engine == "pgbouncer":
                # The connection reaches PostgreSQL behind the pooler: its version and max_connections are the
                # server's, not PgBouncer's version nor the clients the pooler must accept.
                facts = LiveFacts(db_size_gb=facts.db_size_gb, own_session=facts.own_session)
        try:
            inputs = TuningInputs(
                engine=engine,
                ram_gb=ram_gb,
                cpus=cpus,
                storage=storage,
                workload=workload,
                max_connections=max_connections if max_connections is not None else facts.max_connections,
                version=version or facts.version,
                db_size_gb=db_size_gb if db_size_gb is not None else facts.db_size_gb,
                os=os,
            )
            report = await asyncio.to_thread(tune, inputs)
        except (TuningInputError, ValueError) as exc:
            raise QueryError(str(exc)) from None
        if adapter is None:
            return report
        return await _with_live(report, adapter, live_settings, facts.own_session)


@dataclass
class LiveFacts:
    version: str | None = None
    flavor: str | None = None
    db_size_gb: float | None = None
    max_connections: int | None = None
    own_session: set[str] = field(default_factory=set)  # settings whose live value is our own connection's


LiveSettings = dict[str, tuple[str | None, str | None]]

# SQLite PRAGMAs the adapter reads from its own connection (source "connection") that say nothing about the
# application: each connection sets them again. journal_mode is the exception: WAL is stored in the file.
_SQLITE_FILE_LEVEL = frozenset({"journal_mode"})


async def _live_facts(adapter: DatabaseAdapter, engine: str) -> tuple[LiveFacts, LiveSettings]:
    """Version, data size and configured connections from the server, plus its settings (value, unit)."""
    facts = LiveFacts()
    settings: LiveSettings = {}
    try:
        rows = await adapter.settings()
    except DBSpecialistError:
        rows = []
    for s in rows:
        if adapter.config.engine == "sqlite" and s.source == "connection" and s.name not in _SQLITE_FILE_LEVEL:
            facts.own_session.add(s.name)
        settings[s.name] = (s.value, s.unit)
    full_version = await adapter.server_version()
    facts.version = _short_version(full_version, engine)
    if "mariadb" in full_version.lower():
        facts.flavor = "mariadb"
    try:
        stats = await adapter.statistics()
    except DBSpecialistError:
        stats = {}
    size = stats.get("database_size_bytes")
    if isinstance(size, int | float) and size > 0:
        facts.db_size_gb = round(size / 1024**3, 3)
    configured = settings.get("max_connections", (None, None))[0]
    if configured and configured.isdigit():
        facts.max_connections = int(configured)
    return facts, settings


def _short_version(version: str, engine: str) -> str | None:
    match = re.search(r"(\d+)(?:\.(\d+))?(?:\.(\d+))?", version)
    if not match:
        return None
    if engine in ("postgres", "pgbouncer"):
        return match.group(1)
    return ".".join(g for g in match.groups() if g is not None)


async def _with_live(
    report: TuningReport, adapter: DatabaseAdapter, live: LiveSettings, own_session: set[str]
) -> TuningReport:
    from dbspecialist.knowledge.tuning.audit import audit
    from dbspecialist.knowledge.tuning.compare import live_value, same

    settings = []
    unseen: list[str] = []
    for advice in report.settings:
        if advice.name in own_session:
            unseen.append(advice.name)
            settings.append(advice)
            continue
        value, unit = live.get(advice.name, (None, None))
        current = live_value(adapter.config.engine, value, unit, like=advice.value, name=advice.name)
        changes = None if current is None else not same(advice.value, current)
        settings.append(advice.model_copy(update={"current": current, "changes": changes}))
    notes = list(report.notes)
    if unseen:
        notes.append(
            f"No current value for {', '.join(unseen)}: these PRAGMAs belong to each connection, and the values "
            "dbspecialist's own read-only connection sees are not the ones your application sets."
        )
    keyspace = (await adapter.introspect()).keyspace if adapter.config.engine == "redis" else None
    plain = {name: v for name, (v, _u) in live.items() if v is not None and name not in own_session}
    findings = audit(
        adapter.config.engine, plain, keyspace=keyspace, version=report.inputs.version, ram_gb=report.inputs.ram_gb
    )
    return report.model_copy(update={"settings": settings, "audit": findings, "notes": notes})
