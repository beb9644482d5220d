"""The raw statistics `check_health` interprets for Redis: one JSON-able snapshot, no judgement.

One pipeline (one round trip): `INFO` (its default sections; the rules read server, clients, memory,
persistence, stats, replication and keyspace),
`TIME`, `CONFIG GET` for the settings the rules read, `SLOWLOG GET`/`SLOWLOG LEN`, `LATENCY LATEST` and
`LATENCY DOCTOR`. Then the adapter's own keyspace sample (`introspect()`: a bounded SCAN, MEMORY USAGE of each
sampled key, the biggest keys with their lengths) for the big-key check. Every command's failure (CONFIG
renamed or denied by an ACL, LATENCY missing) lands in `snapshot["unavailable"]`; the other checks still run.

Slowlog entries keep the command name, the first argument (usually the key) and the argument count only: the
values written are nobody's business here.

Coupling: like `hypopg.py` for PostgreSQL, this module uses RedisAdapter's private `_run` (deadline and typed
errors) and the module helpers `parse_info`, `_pairs`, `_text`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

from dbspecialist.adapters import redis as redis_adapter
from dbspecialist.adapters.redis import RedisAdapter, parse_info
from dbspecialist.errors import DBSpecialistError, QueryError
from dbspecialist.redaction import redact

INFO_SECTIONS: Final = ("server", "clients", "memory", "persistence", "stats", "replication", "keyspace")
CONFIG_NAMES: Final = (
    "maxmemory",
    "maxmemory-policy",
    "maxclients",
    "save",
    "appendonly",
    "stop-writes-on-bgsave-error",
    "slowlog-log-slower-than",
    "slowlog-max-len",
    "latency-monitor-threshold",
    "activedefrag",
)
SLOWLOG_ENTRIES: Final = 128  # the default slowlog-max-len
LATENCY_DOCTOR_CHARS: Final = 2_000
KEY_CHARS: Final = 200


def _text(value: Any) -> str:
    return redis_adapter._text(value)


def _error(reply: Any) -> str | None:
    return redact(str(reply)) if isinstance(reply, Exception) else None


def _slowlog(reply: list[Any]) -> list[dict[str, Any]]:
    entries = []
    for entry in reply:
        values = list(entry) + [None] * (6 - len(entry))
        args = [_text(a) for a in values[3]] if isinstance(values[3], list) else []
        entries.append(
            {
                "id": values[0],
                "timestamp": values[1],
                "duration_us": values[2],
                "command": args[0].upper() if args else None,
                "key": args[1][:KEY_CHARS] if len(args) > 1 else None,
                "args": len(args),
                "client": _text(values[4]) if values[4] is not None else None,
                "client_name": _text(values[5]) or None if values[5] is not None else None,
            }
        )
    return entries


def _latency(reply: list[Any]) -> list[dict[str, Any]]:
    return [
        {"event": _text(e[0]), "timestamp": e[1], "latest_ms": e[2], "max_ms": e[3]}
        for e in reply
        if isinstance(e, list) and len(e) >= 4
    ]


def _iso(seconds: float) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def redis_health_snapshot(adapter: RedisAdapter) -> dict[str, Any]:
    """Read everything `check_redis` needs: INFO, the settings, SLOWLOG, LATENCY and the biggest sampled keys."""

    async def work(client: Any) -> list[Any]:
        pipe = client.pipeline(transaction=False)
        pipe.execute_command("INFO")
        pipe.execute_command("TIME")
        for name in CONFIG_NAMES:
            pipe.execute_command("CONFIG", "GET", name)
        pipe.execute_command("SLOWLOG", "GET", SLOWLOG_ENTRIES)
        pipe.execute_command("SLOWLOG", "LEN")
        pipe.execute_command("LATENCY", "LATEST")
        pipe.execute_command("LATENCY", "DOCTOR")
        replies: list[Any] = await pipe.execute(raise_on_error=False)
        return replies

    limit = adapter.config.options.statement_timeout_ms
    replies = await adapter._run(work, limit, "the health snapshot (INFO, CONFIG GET, SLOWLOG, LATENCY)")
    info_reply, time_reply = replies[0], replies[1]
    config_replies = replies[2 : 2 + len(CONFIG_NAMES)]
    slowlog, slowlog_len, latency, doctor = replies[2 + len(CONFIG_NAMES) :]
    unavailable: dict[str, str] = {}
    if isinstance(info_reply, Exception):  # nothing can be judged without INFO
        raise QueryError(f"Redis refused INFO on {adapter.config.name!r}: {_error(info_reply)}")
    info = parse_info(info_reply)
    snapshot: dict[str, Any] = {
        "engine": "redis",
        "server_version": str(info.get("server", {}).get("redis_version", "unknown")),
        "info": {section: info.get(section, {}) for section in INFO_SECTIONS},
        "round_trips": 1,
        "unavailable": unavailable,
    }

    config: dict[str, str] = {}
    denied: list[str] = []
    for name, reply in zip(CONFIG_NAMES, config_replies, strict=True):
        if isinstance(reply, Exception):
            denied.append(name)
            continue
        pairs = dict(redis_adapter._pairs(reply))
        for key, value in pairs.items():
            config[_text(key)] = _text(value)
    snapshot["config"] = config
    if denied:
        snapshot["config_error"] = f"CONFIG GET was refused ({_error(config_replies[CONFIG_NAMES.index(denied[0])])})"

    now = None
    if isinstance(time_reply, list) and len(time_reply) == 2:
        now = int(time_reply[0]) + int(time_reply[1]) / 1e6
    uptime = info.get("server", {}).get("uptime_in_seconds")
    snapshot["now"] = _iso(now) if now is not None else None
    snapshot["server_time"] = now
    snapshot["uptime_seconds"] = uptime if isinstance(uptime, int) else None
    snapshot["server_started"] = _iso(now - uptime) if now is not None and isinstance(uptime, int) else None

    if isinstance(slowlog, Exception):
        unavailable["slowlog"] = f"SLOWLOG was refused: {_error(slowlog)} (the user needs +slowlog)"
    else:
        snapshot["slowlog"] = _slowlog(slowlog)
        snapshot["slowlog_len"] = slowlog_len if isinstance(slowlog_len, int) else None
    if isinstance(latency, Exception):
        unavailable["latency"] = f"LATENCY was refused: {_error(latency)} (the user needs +latency)"
    else:
        snapshot["latency_latest"] = _latency(latency)
        snapshot["latency_doctor"] = None if isinstance(doctor, Exception) else _text(doctor)[:LATENCY_DOCTOR_CHARS]

    try:
        catalog = await adapter.introspect()
    except DBSpecialistError as exc:
        unavailable["big_keys"] = f"the keyspace sample failed: {redact(str(exc))}"
    else:
        keyspace = catalog.keyspace
        snapshot["database"] = catalog.database
        snapshot["sampled_keys"] = keyspace.sampled_keys if keyspace else 0
        snapshot["biggest_keys"] = [k.model_dump() for k in keyspace.biggest_keys] if keyspace else []
        snapshot["round_trips"] += catalog.round_trips or 0
    return snapshot


__all__ = ["redis_health_snapshot"]
