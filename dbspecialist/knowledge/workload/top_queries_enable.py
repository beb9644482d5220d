"""How to turn each statement source on, step by step, for the reason it is off; and what to do on SQLite,
which keeps no statement statistics."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

SQLITE_WHY: Final = (
    "SQLite keeps no statement statistics: it is a library inside each application process, with no server "
    "that sees every connection's statements, so there is nothing to read afterwards"
)
SQLITE_INSTEAD: Final = (
    "time statements in the application: sqlite3_trace_v2() with SQLITE_TRACE_PROFILE reports each statement's "
    "run time (Python: sqlite3.Connection.set_trace_callback for the text, with your own timer)",
    "in the sqlite3 shell: .timer on, then run the statement",
    "pass the slow statements to explain_query (EXPLAIN QUERY PLAN) and review_query",
)


def enable_steps(engine: str, reason: str, raw: Mapping[str, Any]) -> list[str]:
    """Exact steps to turn the statement source on, for the reason it is off."""
    if engine == "postgresql":
        return _pg_steps(reason, raw)
    if engine == "mysql":
        return _mysql_steps(reason)
    if engine == "mongodb":
        return _mongo_steps(reason)
    if engine == "redis":
        return _redis_steps(reason)
    return list(SQLITE_INSTEAD) if engine == "sqlite" else []


def _pg_steps(reason: str, raw: Mapping[str, Any]) -> list[str]:
    create = "CREATE EXTENSION pg_stat_statements;  -- in this database, as a role with CREATE on it"
    if reason == "not_installed":
        return [create]
    preload = str(raw.get("shared_preload_libraries") or "").strip()
    libraries = f"{preload}, pg_stat_statements" if preload else "pg_stat_statements"
    steps = [
        f"ALTER SYSTEM SET shared_preload_libraries = '{libraries}';  -- or set it in postgresql.conf; on a "
        "managed service, in its parameter group or flags",
        "restart the server (e.g. systemctl restart postgresql, or pg_ctl restart): shared_preload_libraries is "
        "read only at server start",
        create,
    ]
    if reason == "not_available":
        steps.insert(
            0,
            "install the extension's files: it ships with PostgreSQL's contrib modules (Debian/Ubuntu: part of "
            "the postgresql-<major> package; RHEL/Fedora: postgresql<major>-contrib)",
        )
    return steps


def _mysql_steps(reason: str) -> list[str]:
    consumers = (
        "UPDATE performance_schema.setup_consumers SET ENABLED = 'YES' "
        "WHERE NAME IN ('global_instrumentation', 'statements_digest');"
    )
    instruments = (
        "UPDATE performance_schema.setup_instruments SET ENABLED = 'YES', TIMED = 'YES' WHERE NAME LIKE 'statement/%';"
    )
    persist = (
        "to keep the consumer on after a restart, add performance-schema-consumer-statements-digest = ON under "
        "[mysqld] too"
    )
    if reason == "digest_consumer_off":
        return [consumers, instruments, persist]
    return [
        "add performance_schema = ON under [mysqld] in the server's option file (my.cnf): it can only be set at "
        "startup (off by default on MariaDB, on by default on MySQL 5.6.6+)",
        "restart the server",
        consumers + "  -- on by default once performance_schema is ON",
        instruments,
    ]


def _mongo_steps(reason: str) -> list[str]:
    if reason not in ("profiler_off", "error"):
        return []
    return [
        "db.setProfilingLevel(1, { slowms: 100 })  -- in mongosh, in this database: records operations slower "
        "than 100 ms in system.profile (level 2 records every operation and costs more)",
        "to keep it after a restart, set operationProfiling: { mode: slowOp, slowOpThresholdMs: 100 } in mongod.conf",
        "the profiler runs on each mongod, not through mongos: connect to the shard members to read it",
    ]


def _redis_steps(reason: str) -> list[str]:
    if reason not in ("slowlog_disabled", "error"):
        return []
    return [
        "CONFIG SET slowlog-log-slower-than 10000  -- microseconds: log commands slower than 10 ms (0 logs all, a "
        "negative value turns the slow log off)",
        "CONFIG SET slowlog-max-len 1024  -- keep more entries than the default 128",
        "CONFIG REWRITE  -- or put both in redis.conf, to keep them after a restart",
    ]


__all__ = ["SQLITE_INSTEAD", "SQLITE_WHY", "enable_steps"]
