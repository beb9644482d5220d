"""PgBouncer calculator: pool mode, pool sizes and timeouts for a pooler in front of PostgreSQL.

Sources (our own words):
- PostgreSQL wiki, "Number Of Database Connections": a good starting pool is
  (core_count x 2) + effective_spindle_count, where the cores are the database server's.
- PgBouncer documentation (pgbouncer.org/config.html, changelog): pool modes, defaults, and protocol-level
  prepared statements in transaction mode from 1.21 (max_prepared_statements).
`cpus` is the PostgreSQL server's core count: the pool protects the database, not the pooler host.
"""

from __future__ import annotations

from dbspecialist.knowledge.tuning.model import (
    SettingAdvice,
    TuningInputError,
    TuningInputs,
    TuningReport,
    validate,
)

# Pool mode: transaction pooling multiplexes many short client transactions; analytics and desktop tools rely on
# session state (temp tables, SET, advisory locks, WITH HOLD cursors), which only session pooling keeps.
POOL_MODE: dict[str, str] = {
    "web": "transaction",
    "oltp": "transaction",
    "mixed": "transaction",
    "dw": "session",
    "desktop": "session",
}
POOL_SIZE_PER_CORE = 2  # PostgreSQL wiki formula: cores x 2 + spindles
# Effective spindles: one for a spinning disk; 0 for SSD/NVMe/SAN, whose latency the cores term already covers
# (the wiki notes the spindle term is about disks that seek).
EFFECTIVE_SPINDLES: dict[str, int] = {"hdd": 1, "ssd": 0, "nvme": 0, "san": 0}
# Client connections PgBouncer accepts when the caller does not say (pgbouncer's own default is 100).
DEFAULT_MAX_CLIENT_CONN: dict[str, int] = {"web": 1000, "oltp": 1000, "mixed": 500, "dw": 100, "desktop": 50}
RESERVE_POOL_FRACTION = 0.25  # extra server connections for bursts, a quarter of the pool
RESERVE_POOL_TIMEOUT_S = 3  # a client waiting this long may use the reserve (pgbouncer default 5)
SERVER_IDLE_TIMEOUT_S = 600  # pgbouncer's default: close server connections idle 10 minutes
# How long a client may wait for a server connection before an error (pgbouncer default 120s).
QUERY_WAIT_TIMEOUT_S: dict[str, int] = {"web": 30, "oltp": 30, "mixed": 60, "dw": 300, "desktop": 120}
MAX_PREPARED_STATEMENTS = 200  # per server connection, tracked by pgbouncer 1.21+
PREPARED_STATEMENTS_SINCE = (1, 21)
DEFAULT_VERSION = (1, 22)  # assumed when not given: the 1.21+ line is what current distributions ship
SERVER_RESERVED_CONNECTIONS = 10  # superuser/replication/monitoring slots to keep free on PostgreSQL


def parse_pgbouncer_version(version: str | None) -> tuple[tuple[int, int], bool]:
    """(major, minor) from '1.21', '1.22.1', 'PgBouncer 1.23.0'; (version, was_defaulted)."""
    if version is None or not version.strip():
        return DEFAULT_VERSION, True
    text = version.strip().lower().removeprefix("pgbouncer").strip()
    parts = text.split(".")
    if len(parts) >= 2 and parts[0].isdigit() and parts[1].isdigit() and int(parts[0]) == 1:
        return (int(parts[0]), int(parts[1])), False
    raise TuningInputError(f"PgBouncer version must look like 1.N, e.g. '1.21' (got {version!r})")


def tune_pgbouncer(inputs: TuningInputs) -> TuningReport:
    """Recommend pgbouncer.ini settings for the workload and the database server's cores."""
    validate(inputs)
    version, defaulted = parse_pgbouncer_version(inputs.version)
    workload, cpus, storage = inputs.workload, inputs.cpus, inputs.storage
    settings: list[SettingAdvice] = []
    notes: list[str] = []
    recommendations: list[str] = []
    if defaulted:
        notes.append(f"No version given: assumed PgBouncer {version[0]}.{version[1]}.")

    def add(name: str, value: str, formula: str, values: dict[str, float | int | str], why: str) -> None:
        settings.append(SettingAdvice(name=name, value=value, formula=formula, inputs=values, why=why, apply="reload"))

    mode = POOL_MODE[workload]
    add(
        "pool_mode",
        mode,
        f"by workload: {workload}",
        {"workload": workload},
        "Transaction pooling lets many clients share few server connections; session pooling keeps session state."
        if mode == "transaction"
        else "Analytic and desktop clients keep session state (temp tables, SET), which needs session pooling.",
    )
    spindles = EFFECTIVE_SPINDLES[storage]
    pool = cpus * POOL_SIZE_PER_CORE + spindles
    add(
        "default_pool_size",
        str(pool),
        "cores x 2 + effective spindles (PostgreSQL wiki)",
        {"cpus": cpus, "spindles": spindles},
        "About as many active server connections as the server can run at once; more only queue inside it.",
    )
    reserve = max(1, round(pool * RESERVE_POOL_FRACTION))
    add(
        "reserve_pool_size",
        str(reserve),
        f"max(1, round(default_pool_size x {RESERVE_POOL_FRACTION}))",
        {"default_pool_size": pool},
        "A few extra server connections absorb bursts instead of making clients wait.",
    )
    add(
        "reserve_pool_timeout",
        str(RESERVE_POOL_TIMEOUT_S),
        "constant (seconds)",
        {},
        "How long a client waits before the reserve pool is used.",
    )
    max_db = pool + reserve
    add(
        "max_db_connections",
        str(max_db),
        "default_pool_size + reserve_pool_size",
        {"default_pool_size": pool, "reserve_pool_size": reserve},
        "Caps server connections per database across all users, so PostgreSQL's max_connections is never hit.",
    )
    clients = inputs.max_connections or DEFAULT_MAX_CLIENT_CONN[workload]
    add(
        "max_client_conn",
        str(clients),
        "given" if inputs.max_connections else f"by workload: {workload}",
        {"workload": workload, "max_client_conn": clients},
        "Client connections are cheap for PgBouncer (a few kB each), so accept every application connection.",
    )
    add(
        "server_idle_timeout",
        str(SERVER_IDLE_TIMEOUT_S),
        "constant (seconds)",
        {},
        "Idle server connections are closed after this, returning memory to PostgreSQL.",
    )
    wait = QUERY_WAIT_TIMEOUT_S[workload]
    add(
        "query_wait_timeout",
        str(wait),
        f"by workload: {workload} (seconds)",
        {"workload": workload},
        "A client that cannot get a server connection in time gets an error instead of hanging.",
    )
    if mode == "transaction":
        if version >= PREPARED_STATEMENTS_SINCE:
            add(
                "max_prepared_statements",
                str(MAX_PREPARED_STATEMENTS),
                "constant, PgBouncer 1.21+",
                {"version": f"{version[0]}.{version[1]}"},
                "Lets protocol-level prepared statements work in transaction mode; PgBouncer re-prepares them "
                "on whichever server connection runs the transaction.",
            )
            notes.append(
                "Prepared statements: protocol-level ones (driver prepare) work with max_prepared_statements; "
                "SQL-level PREPARE/EXECUTE and DEALLOCATE of a single statement still do not."
            )
        else:
            notes.append(
                f"PgBouncer {version[0]}.{version[1]} cannot keep prepared statements in transaction mode: disable "
                "them in the driver (e.g. asyncpg statement_cache_size=0, JDBC prepareThreshold=0) or upgrade to 1.21+."
            )
        notes.append(
            "Transaction mode drops session state between transactions: SET (use SET LOCAL), advisory session locks, "
            "LISTEN, temporary tables and WITH HOLD cursors do not survive."
        )
    recommendations.append(
        f"Set PostgreSQL max_connections >= {max_db + SERVER_RESERVED_CONNECTIONS} "
        f"(max_db_connections {max_db} + {SERVER_RESERVED_CONNECTIONS} for admin, replication and monitoring)."
    )
    recommendations.append(
        f"Raise the file-descriptor limit (ulimit -n / LimitNOFILE) above max_client_conn + server connections: "
        f">= {clients + max_db + 100}."
    )
    snippet = _snippet(inputs, settings)
    return TuningReport(
        engine="pgbouncer",
        inputs=inputs,
        settings=settings,
        memory_budget=None,
        config_format="pgbouncer.ini",
        config_snippet=snippet,
        apply_statements=["RELOAD;"],
        recommendations=recommendations,
        notes=[
            *notes,
            "Apply: edit pgbouncer.ini, then run RELOAD; on the admin console (psql -p 6432 pgbouncer).",
            "No memory budget: PgBouncer needs a few kB per client; the server's budget is tune_config('postgres').",
        ],
    )


def _snippet(inputs: TuningInputs, settings: list[SettingAdvice]) -> str:
    lines = [
        "; Generated by dbspecialist tune_config",
        f"; {inputs.workload}, PostgreSQL server with {inputs.cpus} cores, {inputs.storage}",
        "[databases]",
        "; appdb = host=127.0.0.1 port=5432 dbname=appdb",
        "* = host=127.0.0.1 port=5432",
        "",
        "[pgbouncer]",
        "listen_addr = 127.0.0.1",
        "listen_port = 6432",
        "auth_type = scram-sha-256",
        "auth_file = /etc/pgbouncer/userlist.txt",
        *(f"{s.name} = {s.value}" for s in settings),
    ]
    return "\n".join(lines) + "\n"
