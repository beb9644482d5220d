"""The raw statistics `check_health` interprets for MongoDB: one JSON-able snapshot, no judgement.

Round trips: `serverStatus` (connections, opcounters, WiredTiger cache, query-executor metrics, uptime and the
server's clock), `currentOp` filtered on the server to active operations running at least a second,
`replSetGetStatus`, `listCollections` of the connection's database, then one aggregate per 200 collections
with `$indexStats` (accesses.ops and accesses.since per index) and the index sizes from `$collStats`, each
collection a `$unionWith` branch. Servers whose `$indexStats` carries no index `spec` (emulators) add one
listIndexes per collection, for uniqueness and TTL.

Everything a server cannot give (no privilege, a standalone server, an emulator without WiredTiger) is
recorded in `snapshot["unavailable"]` per check, never raised: SecantusDB, the test server, has no WiredTiger
section, reports `connections.available` as 0 without a limit and does not count index accesses (no
`accesses.since`), so those checks are skipped there.

Coupling: like `hypopg.py` for PostgreSQL, this module uses MongoAdapter's private `_db`, `_guarded` and the
module helpers `_collections`, `_union`, `_list_indexes`, `_bounded`, `_chunks` and `_relaxed`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any, Final

from pymongo.errors import OperationFailure, PyMongoError

from dbspecialist.adapters import mongodb as mongo_adapter
from dbspecialist.adapters.mongodb import MongoAdapter
from dbspecialist.redaction import redact

Doc = dict[str, Any]

LONG_OP_FLOOR_S: Final = 1  # currentOp lists operations running at least this long; the rules judge the rest
MAX_OPERATIONS: Final = 50
COMMAND_CHARS: Final = 300
WIREDTIGER_KEYS: Final = {
    "bytes currently in the cache": "bytes_in_cache",
    "maximum bytes configured": "max_bytes",
    "tracked dirty bytes in the cache": "dirty_bytes",
    "pages evicted by application threads": "app_thread_evictions",
    "unmodified pages evicted": "unmodified_evicted",
    "modified pages evicted": "modified_evicted",
    "pages read into cache": "pages_read",
}
OPCOUNTERS: Final = ("insert", "query", "update", "delete", "getmore", "command")
# Background and driver-monitoring operations that run long by design.
LONG_BY_DESIGN: Final = frozenset({"hello", "isMaster", "ismaster"})
PRIVILEGE_CODES: Final = frozenset({13})  # Unauthorized
NO_REPLICATION_CODES: Final = frozenset({76, 59})  # NoReplicationEnabled; CommandNotFound (mongos)
UNTRACKED: Final = (
    "the server does not track index use: $indexStats gives no accesses.since for any index (an emulator), so "
    "its zero ops counts mean nothing"
)
CLUSTER_MONITOR: Final = "grant the user the clusterMonitor role (db.grantRolesToUser(user, ['clusterMonitor']))"

INDEX_BRANCH: Final[list[Doc]] = [
    {"$indexStats": {}},
    {"$project": {"_id": 0, "k": {"$literal": "index"}, "v": "$$ROOT"}},
]
SIZE_BRANCH: Final[list[Doc]] = [
    {"$collStats": {"storageStats": {}}},
    {"$project": {"_id": 0, "k": {"$literal": "sizes"}, "v": "$storageStats.indexSizes"}},
]


def _date(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return None


def _iso(value: dt.datetime | None) -> str | None:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def _number(value: Any) -> int | float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value
    try:
        return int(value)  # Int64, Decimal128-free numbers
    except (TypeError, ValueError):
        return None


def _reason(exc: PyMongoError, what: str) -> str:
    if isinstance(exc, OperationFailure):
        details = exc.details or {}
        message = redact(str(details.get("errmsg") or exc).split(", full error:")[0])
        if exc.code in PRIVILEGE_CODES:
            return f"{what} needs a privilege this user lacks ({message}): {CLUSTER_MONITOR}"
        return f"{what} failed: {message} (code {exc.code})"
    return f"{what} failed: {redact(str(exc))}"


def _server(status: Mapping[str, Any], unavailable: dict[str, str]) -> Doc:
    """The serverStatus sections the rules read, with the emulator quirks marked unavailable."""
    now = _date(status.get("localTime"))
    millis = _number(status.get("uptimeMillis"))
    uptime = round(millis / 1000, 3) if millis is not None else _number(status.get("uptime"))
    out: Doc = {
        "server_version": str(status.get("version") or "unknown"),
        "process": status.get("process"),
        "now": _iso(now),
        "uptime_seconds": uptime,
        "server_started": _iso(now - dt.timedelta(seconds=float(uptime))) if now and uptime else None,
        "emulator": "secantus" if "secantus" in status else None,
    }
    connections = status.get("connections") or {}
    if connections:
        out["connections"] = {
            "current": _number(connections.get("current")),
            "available": _number(connections.get("available")),
            "total_created": _number(connections.get("totalCreated")),
            "active": _number(connections.get("active")),
        }
        if out["emulator"]:  # SecantusDB reports available = 0 and no limit at all
            out["connections"]["available"] = None
            unavailable["connections"] = (
                "the server (an emulator) reports no connection limit, so connections.available means nothing; "
                "the count in use is in the metrics"
            )
    else:
        unavailable["connections"] = "serverStatus has no connections section"
    opcounters = status.get("opcounters") or {}
    if opcounters:
        out["opcounters"] = {name: _number(opcounters.get(name)) or 0 for name in OPCOUNTERS}
    else:
        unavailable["opcounters"] = "serverStatus has no opcounters section"
    cache = (status.get("wiredTiger") or {}).get("cache") or {}
    if cache:
        out["wiredtiger_cache"] = {short: _number(cache.get(long)) for long, short in WIREDTIGER_KEYS.items()}
    else:
        engine = (status.get("storageEngine") or {}).get("name") or "unknown"
        reason = f"serverStatus has no wiredTiger.cache section (storage engine {engine}"
        reason += ", an emulator)" if out["emulator"] else ")"
        unavailable["wiredtiger_cache"] = unavailable["wiredtiger_evictions"] = reason
    metrics = status.get("metrics") or {}
    executor = metrics.get("queryExecutor") or {}
    document = metrics.get("document") or {}
    if "scannedObjects" in executor and "returned" in document:
        out["query_executor"] = {
            "scanned_keys": _number(executor.get("scanned")),
            "scanned_objects": _number(executor.get("scannedObjects")),
            "returned": _number(document.get("returned")),
            "scan_and_order": _number((metrics.get("operation") or {}).get("scanAndOrder")),
        }
    else:
        unavailable["scan_ratio"] = "serverStatus has no metrics.queryExecutor/metrics.document counters"
    return out


def _operation(op: Mapping[str, Any]) -> Doc:
    command = op.get("command") or {}
    text = json.dumps(mongo_adapter._relaxed(command), sort_keys=False)
    return {
        "opid": mongo_adapter._relaxed(op.get("opid")),
        "secs_running": _number(op.get("secs_running")),
        "op": op.get("op"),
        "ns": op.get("ns"),
        "desc": op.get("desc"),
        "client": op.get("client") or op.get("client_s"),
        "app_name": op.get("appName"),
        "plan_summary": op.get("planSummary"),
        "waiting_for_lock": bool(op.get("waitingForLock")),
        "command": redact(text[:COMMAND_CHARS]),
    }


def _long_by_design(op: Mapping[str, Any]) -> bool:
    command = op.get("command") or {}
    verb = next(iter(command), None)
    if verb in LONG_BY_DESIGN:
        return True  # a driver's awaitable hello
    if op.get("op") == "getmore" and (command.get("tailable") or command.get("awaitData")):
        return True
    pipeline = command.get("pipeline") or []
    return isinstance(pipeline, list) and any(isinstance(s, Mapping) and "$changeStream" in s for s in pipeline)


def _operations(reply: Mapping[str, Any]) -> list[Doc]:
    ops = [
        op
        for op in reply.get("inprog") or []
        if (op.get("client") or op.get("client_s"))
        and (_number(op.get("secs_running")) or 0) >= LONG_OP_FLOOR_S
        and not _long_by_design(op)
    ]
    ops.sort(key=lambda op: -(_number(op.get("secs_running")) or 0))
    return [_operation(op) for op in ops[:MAX_OPERATIONS]]


def _replica_set(reply: Mapping[str, Any]) -> Doc:
    members = reply.get("members") or []
    primary = next((_date(m.get("optimeDate")) for m in members if m.get("state") == 1), None)
    out = []
    for member in members:
        optime = _date(member.get("optimeDate"))
        out.append(
            {
                "name": member.get("name"),
                "state": _number(member.get("state")),
                "state_str": member.get("stateStr"),
                "health": _number(member.get("health")),
                "self": bool(member.get("self")),
                "optime": _iso(optime),
                "lag_seconds": round((primary - optime).total_seconds(), 1)
                if primary and optime and member.get("state") == 2
                else None,
                "last_heartbeat_message": member.get("lastHeartbeatMessage") or None,
                "sync_source": member.get("syncSourceHost") or None,
            }
        )
    return {"set": reply.get("set"), "my_state": _number(reply.get("myState")), "members": out}


def _key_text(key: Any) -> str:
    if isinstance(key, Mapping):
        return ", ".join(f"{k}: {json.dumps(mongo_adapter._relaxed(v))}" for k, v in key.items())
    return str(key)


def _indexes(rows: list[Doc], specs: dict[tuple[str, str], Doc], now: dt.datetime | None) -> list[Doc]:
    sizes: dict[str, dict[str, Any]] = {}
    stats: list[tuple[str, Doc]] = []
    for row in rows:
        if row.get("k") == "sizes":
            sizes[str(row.get("c"))] = row.get("v") or {}
        else:
            stats.append((str(row.get("c")), row.get("v") or {}))
    out = []
    for collection, entry in stats:
        name = str(entry.get("name"))
        spec = entry.get("spec") or specs.get((collection, name)) or {}
        accesses = entry.get("accesses") or {}
        since = _date(accesses.get("since"))
        out.append(
            {
                "collection": collection,
                "name": name,
                "key": _key_text(entry.get("key") or spec.get("key")),
                "ops": _number(accesses.get("ops")),
                "since": _iso(since),
                "since_age_seconds": round((now - since).total_seconds(), 1) if now and since else None,
                "unique": bool(spec.get("unique")),
                "ttl": "expireAfterSeconds" in spec,
                "hidden": bool(spec.get("hidden")),
                "partial": "partialFilterExpression" in spec,
                "size_bytes": _number((sizes.get(collection) or {}).get(name)),
            }
        )
    out.sort(key=lambda i: (i["collection"], i["name"]))
    return out


async def mongodb_health_snapshot(adapter: MongoAdapter) -> dict[str, Any]:
    """Read everything `check_mongodb` needs: serverStatus, currentOp, replSetGetStatus and $indexStats."""
    max_ms = adapter.config.options.statement_timeout_ms
    admin = adapter._db("admin")
    database = adapter._db()
    unavailable: dict[str, str] = {}
    snapshot: dict[str, Any] = {"engine": "mongodb", "database": database.name, "unavailable": unavailable}

    async def work() -> None:
        trips = 1
        try:
            status = await admin.command({"serverStatus": 1, "maxTimeMS": max_ms})
        except OperationFailure as exc:
            reason = _reason(exc, "serverStatus")
            for check in ("connections", "opcounters", "wiredtiger_cache", "scan_ratio"):
                unavailable[check] = reason
            unavailable["wiredtiger_evictions"] = reason
            status = {}
        snapshot.update(_server(status, unavailable) if status else {})
        now = _date(status.get("localTime"))

        trips += 1
        try:
            reply = await admin.command(
                {"currentOp": 1, "active": True, "secs_running": {"$gte": LONG_OP_FLOOR_S}, "maxTimeMS": max_ms}
            )
            snapshot["operations"] = _operations(reply)
        except OperationFailure as exc:
            unavailable["long_operations"] = _reason(exc, "currentOp")

        trips += 1
        try:
            snapshot["replica_set"] = _replica_set(await admin.command({"replSetGetStatus": 1, "maxTimeMS": max_ms}))
        except OperationFailure as exc:
            if exc.code in NO_REPLICATION_CODES:
                reason = "standalone server (not a replica set member): nothing to replicate"
            else:
                reason = _reason(exc, "replSetGetStatus")
            unavailable["replica_members"] = unavailable["replica_lag"] = reason

        trips += 1
        try:
            collections = await mongo_adapter._collections(database, max_ms)
            names = [c["name"] for c in collections if mongo_adapter._is_collection(c)]
            rows: list[Doc] = []
            for chunk in mongo_adapter._chunks(names, mongo_adapter.BULK_CHUNK):
                trips += 1
                rows.extend(await mongo_adapter._union(database, chunk, [INDEX_BRANCH, SIZE_BRANCH], max_ms))
            missing = sorted({str(r["c"]) for r in rows if r.get("k") == "index" and "spec" not in (r.get("v") or {})})
            found = await mongo_adapter._bounded(missing, lambda n: mongo_adapter._list_indexes(database, n, max_ms))
            trips += len(missing)
            specs = {(c, str(s.get("name"))): s for c, listed in zip(missing, found, strict=True) for s in listed}
            snapshot["indexes"] = indexes = _indexes(rows, specs, now)
            snapshot["collections"] = len(names)
            if indexes and all(i["since"] is None for i in indexes):
                unavailable["unused_indexes"] = UNTRACKED
        except OperationFailure as exc:
            unavailable["unused_indexes"] = _reason(exc, "$indexStats")
        snapshot["round_trips"] = trips

    await adapter._guarded("the health snapshot (serverStatus, currentOp, $indexStats)", max_ms, work)
    snapshot.setdefault("server_version", await adapter.server_version())
    return mongo_adapter._relaxed(snapshot)  # type: ignore[no-any-return]


__all__ = ["mongodb_health_snapshot"]
