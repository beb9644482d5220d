"""MongoDB adapter (PyMongo's AsyncMongoClient): guarded read commands, capped cursors, bulk introspection.

Read-only in depth: the JSON command passes the allow-list guard first (guard_mongodb); every command
carries `maxTimeMS` plus a client-side deadline; cursors are read in batches no larger than the row cap
and closed (killCursors) as soon as the cap is reached. On the server side, connect with a user that
holds only the built-in `read` role (plus `clusterMonitor` for serverStatus) so the server refuses
writes too.

Introspection round trips: listCollections, then per chunk of `BULK_CHUNK` collections one aggregate for
`$collStats` + `$indexStats` and one aggregate for a `$sample` of `SAMPLE_SIZE` documents (each
collection a `$unionWith` branch). Servers whose `$indexStats` carries no index `spec` (before 4.2, and
emulators) add one listIndexes per collection; servers without `$documents`/`$unionWith` fall back to
per-collection commands. `Catalog.round_trips` reports the commands actually sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, TypeVar

from bson import json_util
from bson.errors import BSONError
from bson.json_util import RELAXED_JSON_OPTIONS
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import (
    ConfigurationError,
    ConnectionFailure,
    ExecutionTimeout,
    NetworkTimeout,
    OperationFailure,
    PyMongoError,
)

from dbspecialist.adapters.base import DatabaseAdapter, ExplainResult, Params, QueryResult, RowCollector, Setting
from dbspecialist.adapters.catalog import Catalog, Column, FieldSample, Index, PrimaryKey, Table
from dbspecialist.adapters.guard_mongodb import EXPLAINABLE, MongoCommand, check_mongo
from dbspecialist.config import ConnectionConfig
from dbspecialist.errors import (
    ConnectionFailedError,
    DBSpecialistError,
    QueryError,
    QueryRefusedError,
    QueryTimeoutError,
)
from dbspecialist.redaction import redact

Doc = dict[str, Any]
T = TypeVar("T")

POOL_SIZE: Final = 5
APP_NAME: Final = "dbspecialist"
DEFAULT_DATABASE: Final = "test"
CLIENT_GRACE_S: Final = 1.0  # client-side deadline = server-side maxTimeMS + this
MAX_BATCH: Final = 10_000
MAX_COLUMNS: Final = 50
OTHER_COLUMN: Final = "$other"  # holds the fields of documents past MAX_COLUMNS distinct names
SAMPLE_SIZE: Final = 100
BULK_CHUNK: Final = 200  # collections per bulk aggregate (mongod caps a pipeline at 1,000 stages)
FALLBACK_CONCURRENCY: Final = 4
MAX_FIELD_PATHS: Final = 500
MAX_PATH_DEPTH: Final = 8
TIMEOUT_CODES: Final = frozenset({50, 262})  # MaxTimeMSExpired, ExceededTimeLimit
AUTH_CODES: Final = frozenset({13, 18})  # Unauthorized, AuthenticationFailed
REPLY_NOISE: Final = frozenset({"ok", "$clusterTime", "operationTime", "$gleStats", "lastCommittedOpTime"})

# Catalog commands and pipeline stages. `{name}` marks where a collection name goes (as a $literal).
LIST_COLLECTIONS: Final[Doc] = {"listCollections": 1, "nameOnly": False}
STATS_BRANCH: Final[list[Doc]] = [
    {"$collStats": {"storageStats": {}}},
    {
        "$project": {
            "_id": 0,
            "k": {"$literal": "stats"},
            "v": {
                "count": "$storageStats.count",
                "size": "$storageStats.size",
                "storageSize": "$storageStats.storageSize",
                "totalIndexSize": "$storageStats.totalIndexSize",
                "avgObjSize": "$storageStats.avgObjSize",
                "nindexes": "$storageStats.nindexes",
                "indexSizes": "$storageStats.indexSizes",
                "capped": "$storageStats.capped",
            },
        }
    },
]
INDEX_BRANCH: Final[list[Doc]] = [
    {"$indexStats": {}},
    {"$project": {"_id": 0, "k": {"$literal": "index"}, "v": "$$ROOT"}},
]
SAMPLE_BRANCH: Final[list[Doc]] = [
    {"$sample": {"size": SAMPLE_SIZE}},
    {"$project": {"_id": 0, "s": {"$bsonSize": "$$ROOT"}, "d": "$$ROOT"}},
]
SERVER_STATUS_SECTIONS: Final = (
    "host",
    "version",
    "process",
    "uptime",
    "connections",
    "opcounters",
    "opcountersRepl",
    "mem",
    "network",
    "globalLock",
    "locks",
    "asserts",
    "extra_info",
    "opLatencies",
    "storageEngine",
)
WIREDTIGER_CACHE_KEYS: Final = (
    "bytes currently in the cache",
    "maximum bytes configured",
    "tracked dirty bytes in the cache",
    "pages read into cache",
    "pages written from cache",
    "unmodified pages evicted",
    "modified pages evicted",
)
TIME_SERIES_NOTE: Final = (
    "time-series collection: documents are stored in buckets per time span and meta value; custom validators "
    "are not supported on it"
)
METRICS_KEYS: Final = ("cursor", "document", "queryExecutor", "operation")
# Setting-name suffixes that tell the unit, longest first.
UNIT_SUFFIXES: Final = (
    ("Millis", "ms"),
    ("MS", "ms"),
    ("Ms", "ms"),
    ("Micros", "us"),
    ("Seconds", "s"),
    ("Secs", "s"),
    ("Minutes", "min"),
    ("Bytes", "bytes"),
    ("SizeMB", "MB"),
    ("MB", "MB"),
    ("GB", "GB"),
    ("Percent", "%"),
)


class MongoAdapter(DatabaseAdapter):
    engine = "mongodb"

    def __init__(self, config: ConnectionConfig) -> None:
        super().__init__(config)
        self._mongo: AsyncMongoClient[Doc] | None = None
        self._database = DEFAULT_DATABASE
        self._version: str | None = None

    # ------------------------------------------------------------------ connection

    def _client(self) -> AsyncMongoClient[Doc]:
        """The pooled client, created on first use (no I/O until a command runs)."""
        if self._mongo is None:
            max_ms = self.config.options.connect_timeout_ms
            try:
                client: AsyncMongoClient[Doc] = AsyncMongoClient(
                    self.config.url,
                    serverSelectionTimeoutMS=max_ms,
                    connectTimeoutMS=max_ms,
                    maxPoolSize=POOL_SIZE,
                    appname=APP_NAME,
                    tz_aware=True,
                )
            except (ConfigurationError, ValueError, TypeError) as exc:
                raise ConnectionFailedError(
                    f"connection {self.config.name!r} ({self.config.host_port}): the MongoDB URL is not usable: "
                    f"{redact(str(exc))}"
                ) from None
            self._database = client.get_default_database(DEFAULT_DATABASE).name
            self._mongo = client
        return self._mongo

    def _db(self, name: str | None = None) -> AsyncDatabase[Doc]:
        client = self._client()
        return client[name or self._database]

    async def close(self) -> None:
        client, self._mongo = self._mongo, None
        self._version = None
        if client is not None:
            with contextlib.suppress(PyMongoError):
                await client.close()

    def _deadline_s(self, timeout_ms: int) -> float:
        """Client-side deadline: the server's own limit plus a grace, for servers that do not check it."""
        return timeout_ms / 1000 + CLIENT_GRACE_S

    def _reachable(self) -> bool:
        """Whether the driver currently knows a server it can read from (no I/O)."""
        client = self._mongo
        return client is not None and client.topology_description.has_readable_server()

    async def _guarded(self, action: str, timeout_ms: int, work: Callable[[], Awaitable[T]]) -> T:
        """Run `work` under the client-side deadline, turning driver errors into typed, redacted ones."""
        try:
            async with asyncio.timeout(self._deadline_s(timeout_ms)):
                return await work()
        except TimeoutError:
            if not self._reachable():
                raise ConnectionFailedError(
                    f"connection {self.config.name!r} ({self.config.host_port}): MongoDB did not answer within "
                    f"{self._deadline_s(timeout_ms):.1f} s. Check that the server is running and reachable from "
                    "here; other connections are not affected."
                ) from None
            raise QueryTimeoutError(self._timeout_message(action, timeout_ms)) from None
        except (PyMongoError, BSONError) as exc:
            raise self._failure(exc, action, timeout_ms) from None

    def _failure(self, exc: BaseException, action: str, timeout_ms: int) -> DBSpecialistError:
        where = f"connection {self.config.name!r} ({self.config.host_port})"
        if isinstance(exc, ExecutionTimeout) or (isinstance(exc, OperationFailure) and exc.code in TIMEOUT_CODES):
            return QueryTimeoutError(self._timeout_message(action, timeout_ms))
        if isinstance(exc, NetworkTimeout) and "timed out" in str(exc) and self._mongo is not None:
            return QueryTimeoutError(self._timeout_message(action, timeout_ms))
        if isinstance(exc, ConnectionFailure):
            reason = redact(str(exc).split(", Timeout:")[0].split(", Topology Description")[0])
            return ConnectionFailedError(
                f"{where}: MongoDB is not reachable ({reason}). Check that the server is running and reachable "
                "from here; other connections are not affected."
            )
        if isinstance(exc, OperationFailure):
            details = exc.details or {}
            message = redact(str(details.get("errmsg") or exc).split(", full error:")[0])
            code_name = details.get("codeName") or ""
            if exc.code in AUTH_CODES:
                return QueryError(
                    f"{where}: MongoDB refused {action}: {message} (code {exc.code} {code_name}). The connection's "
                    "user lacks the privilege; a read-only user needs the 'read' role (and 'clusterMonitor' for "
                    "server statistics)."
                )
            return QueryError(f"{where}: MongoDB rejected {action}: {message} (code {exc.code} {code_name})".rstrip())
        return QueryError(f"{where}: {action} failed: {redact(str(exc))}")

    def _timeout_message(self, action: str, timeout_ms: int) -> str:
        return (
            f"{action} on {self.config.name!r} ran longer than {timeout_ms} ms and was stopped. "
            "Narrow it (a filter on an indexed field, a limit), or raise statement_timeout_ms for this connection."
        )

    async def server_version(self) -> str:
        if self._version is None:
            max_ms = self.config.options.statement_timeout_ms

            async def work() -> str:
                info = await self._db("admin").command({"buildInfo": 1, "maxTimeMS": max_ms})
                return str(info.get("version", "unknown"))

            self._version = await self._guarded("buildInfo", max_ms, work)
        return self._version

    # ------------------------------------------------------------------ queries

    async def run_read_only(
        self,
        query: str,
        params: Params | None = None,
        *,
        max_rows: int,
        max_bytes: int,
        timeout_ms: int,
    ) -> QueryResult:
        if params:
            raise QueryError(
                "MongoDB queries take no bind parameters; put the values in the command document, "
                'e.g. {"find": "orders", "filter": {"status": "paid"}}'
            )
        accepted = check_mongo(query, read_only=self.config.options.read_only)
        command = _with_limits(accepted, max_rows=max_rows, timeout_ms=timeout_ms)
        rows = _Rows(RowCollector(max_rows, max_bytes))
        started = time.perf_counter()
        database = self._db(accepted.database)

        async def work() -> None:
            if accepted.returns_cursor:
                await _stream(self._client(), database, command, rows.add)
            else:
                rows.add_reply(accepted.name, command, await database.command(command))

        await self._guarded(f"the {accepted.name} command", timeout_ms, work)
        collector = rows.collector
        return QueryResult(
            columns=rows.columns,
            rows=rows.finished_rows(),
            row_count=len(collector.rows),
            truncated=collector.truncated_by is not None,
            truncated_by=collector.truncated_by,
            elapsed_ms=round((time.perf_counter() - started) * 1000, 3),
        )

    async def explain(self, statement: str, *, analyze: bool = False, timeout_ms: int) -> ExplainResult:
        """queryPlanner (nothing runs) or, with `analyze`, executionStats (the query runs; writes never apply)."""
        read_only = self.config.options.read_only
        accepted = check_mongo(statement, read_only=read_only)
        inner = accepted.command["explain"] if accepted.name == "explain" else accepted.command
        verb = next(iter(inner))
        if read_only and verb not in EXPLAINABLE:
            raise QueryRefusedError(
                f"Refused by the read-only guard: {verb!r} cannot be explained; explain "
                f"{', '.join(sorted(EXPLAINABLE))}"
            )
        inner = {k: v for k, v in inner.items() if k != "maxTimeMS"}
        if verb == "aggregate":
            inner.setdefault("cursor", {})
        verbosity = "executionStats" if analyze else "queryPlanner"
        command = {"explain": inner, "verbosity": verbosity, "maxTimeMS": timeout_ms}
        database = self._db(accepted.database)

        async def work() -> Doc:
            return await database.command(command)

        reply = await self._guarded(f"explain of {verb}", timeout_ms, work)
        return ExplainResult(
            engine="mongodb", format="json", analyzed=analyze, plan=_relaxed(_strip(reply)), statement=statement
        )

    async def settings(self) -> list[Setting]:
        max_ms = self.config.options.statement_timeout_ms
        admin = self._db("admin")

        async def work() -> tuple[Doc, Doc, bool]:
            options = await admin.command({"getCmdLineOpts": 1, "maxTimeMS": max_ms})
            with contextlib.suppress(OperationFailure):  # showDetails needs MongoDB 5.0+
                detailed = await admin.command(
                    {"getParameter": {"allParameters": True, "showDetails": True}, "maxTimeMS": max_ms}
                )
                if _strip(detailed):
                    return options, detailed, True
            return options, await admin.command({"getParameter": "*", "maxTimeMS": max_ms}), False

        options, parameters, detailed = await self._guarded("reading settings", max_ms, work)
        argv = [str(a) for a in options.get("argv", [])]
        out: list[Setting] = []
        for name, value in _flatten(options.get("parsed", {})):
            leaf = name.rsplit(".", 1)[-1]
            on_command_line = any(a.lstrip("-").split("=", 1)[0].lower() == leaf.lower() for a in argv)
            out.append(
                Setting(
                    name=name,
                    value=_text(value),
                    unit=_unit(leaf),
                    source="command line" if on_command_line else "configuration file",
                    category=name.split(".", 1)[0] if "." in name else "startup",
                    restart_required=True,
                )
            )
        for name, raw in _strip(parameters).items():
            value, runtime = raw, None
            if detailed and isinstance(raw, Mapping) and "value" in raw:
                value, runtime = raw["value"], raw.get("settableAtRuntime")
            out.append(
                Setting(
                    name=name,
                    value=_text(value),
                    unit=_unit(name),
                    source="server parameter",
                    category="parameter",
                    restart_required=(not runtime) if isinstance(runtime, bool) else None,
                )
            )
        return out

    async def statistics(self) -> dict[str, Any]:
        max_ms = self.config.options.statement_timeout_ms
        database = self._db()

        async def work() -> dict[str, Any]:
            status = await self._db("admin").command({"serverStatus": 1, "maxTimeMS": max_ms})
            db_stats = await database.command({"dbStats": 1, "maxTimeMS": max_ms})
            names = [c["name"] for c in await _collections(database, max_ms) if _is_collection(c)]
            bulk = await self._bulk_stats(database, names, max_ms, want_indexes=False)
            return {
                "serverStatus": _server_status_subset(status),
                "dbStats": _relaxed(_strip(db_stats)),
                "collStats": {name: _relaxed(bulk.stats.get(name, {})) for name in names},
                "round_trips": 3 + bulk.round_trips,
            }

        return await self._guarded("reading statistics", max_ms, work)

    # ------------------------------------------------------------------ introspection

    async def introspect(self, schema: str | None = None, tables: Sequence[str] | None = None) -> Catalog:
        max_ms = self.config.options.statement_timeout_ms
        database = self._db(schema)
        version = await self.server_version()

        async def work() -> Catalog:
            collections = await _collections(database, max_ms, tables)
            names = [c["name"] for c in collections if _is_collection(c)]
            bulk = await self._bulk_stats(database, names, max_ms, want_indexes=True)
            samples, sample_trips = await self._bulk_sample(database, names, max_ms)
            result = [_table(database.name, c, bulk, samples.get(c["name"])) for c in collections]
            return Catalog(
                engine="mongodb",
                server_version=version,
                database=database.name,
                schemas=[database.name],
                tables=result,
                round_trips=1 + bulk.round_trips + sample_trips,
            )

        return await self._guarded(f"introspection of database {database.name!r}", max_ms, work)

    async def _bulk_stats(
        self, database: AsyncDatabase[Doc], names: list[str], max_ms: int, *, want_indexes: bool
    ) -> _Bulk:
        bulk = _Bulk()
        if not names:
            return bulk
        branches = [STATS_BRANCH, INDEX_BRANCH] if want_indexes else [STATS_BRANCH]
        try:
            for chunk in _chunks(names, BULK_CHUNK):
                bulk.round_trips += 1
                for row in await _union(database, chunk, branches, max_ms):
                    if row["k"] == "stats":
                        bulk.stats[row["c"]] = {k: v for k, v in row["v"].items() if v is not None}
                    else:
                        bulk.indexes.setdefault(row["c"], []).append(row["v"])
        except OperationFailure:
            bulk = await self._per_collection_stats(database, names, max_ms, want_indexes)
            return bulk
        if want_indexes:
            missing = [n for n in names if any("spec" not in i for i in bulk.indexes.get(n, [{}]))]
            specs = await _bounded(missing, lambda n: _list_indexes(database, n, max_ms))
            bulk.round_trips += len(missing)
            for name, found in zip(missing, specs, strict=True):
                scans = {i.get("name"): i.get("accesses", {}).get("ops") for i in bulk.indexes.get(name, [])}
                bulk.indexes[name] = [
                    {"name": s.get("name"), "spec": s, "accesses": {"ops": scans.get(s.get("name"))}} for s in found
                ]
        return bulk

    async def _per_collection_stats(
        self, database: AsyncDatabase[Doc], names: list[str], max_ms: int, want_indexes: bool
    ) -> _Bulk:
        """Fallback for servers without $documents/$unionWith: one collStats (+ listIndexes) per collection."""
        bulk = _Bulk()

        async def one(name: str) -> tuple[Doc, list[Doc]]:
            stats = await database.command({"collStats": name, "maxTimeMS": max_ms})
            indexes = await _list_indexes(database, name, max_ms) if want_indexes else []
            return stats, indexes

        results = await _bounded(names, one)
        bulk.round_trips = len(names) * (2 if want_indexes else 1)
        for name, (stats, indexes) in zip(names, results, strict=True):
            bulk.stats[name] = {k: stats.get(k) for k in STATS_BRANCH[1]["$project"]["v"] if stats.get(k) is not None}
            bulk.indexes[name] = [{"name": s.get("name"), "spec": s, "accesses": {}} for s in indexes]
        return bulk

    async def _bulk_sample(
        self, database: AsyncDatabase[Doc], names: list[str], max_ms: int
    ) -> tuple[dict[str, _Schema], int]:
        schemas = {name: _Schema() for name in names}
        if not names:
            return schemas, 0
        trips = 0
        try:
            for chunk in _chunks(names, BULK_CHUNK):
                trips += 1
                for row in await _union(database, chunk, [SAMPLE_BRANCH], max_ms):
                    schemas[row["c"]].observe(row["d"], row.get("s"))
        except OperationFailure:
            schemas = {name: _Schema() for name in names}

            async def one(name: str) -> list[Doc]:
                cursor = await database[name].aggregate(SAMPLE_BRANCH, maxTimeMS=max_ms)
                return await cursor.to_list(SAMPLE_SIZE)

            for name, rows in zip(names, await _bounded(names, one), strict=True):
                for row in rows:
                    schemas[name].observe(row["d"], row.get("s"))
            trips = len(names)
        return schemas, trips


# ---------------------------------------------------------------------- running commands


def _with_limits(accepted: MongoCommand, *, max_rows: int, timeout_ms: int) -> Doc:
    """The command to send: maxTimeMS no longer than the connection allows, first batch no larger than the cap."""
    command = dict(accepted.command)
    given = command.get("maxTimeMS")
    command["maxTimeMS"] = min(given, timeout_ms) if isinstance(given, int) and given > 0 else timeout_ms
    batch = min(max_rows + 1, MAX_BATCH)
    if accepted.name == "find":
        command["batchSize"] = batch
        if command.get("singleBatch") is None and isinstance(command.get("limit"), int) and command["limit"] < 0:
            command["limit"] = -command["limit"]
    elif accepted.returns_cursor:
        cursor = command.get("cursor")
        command["cursor"] = {**(cursor if isinstance(cursor, Mapping) else {}), "batchSize": batch}
    return command


async def _stream(
    client: AsyncMongoClient[Doc], database: AsyncDatabase[Doc], command: Doc, add: Callable[[Doc], bool]
) -> None:
    """Iterate a cursor command until `add` says stop, then close it (killCursors), never draining it."""
    async with client.start_session(causal_consistency=False) as session:
        cursor = await database.cursor_command(command, session=session)
        try:
            async for document in cursor:
                if not add(document):
                    break
        finally:
            await cursor.close()


async def _collections(database: AsyncDatabase[Doc], max_ms: int, tables: Sequence[str] | None = None) -> list[Doc]:
    command = dict(LIST_COLLECTIONS)
    if tables:
        command["filter"] = {"name": {"$in": list(tables)}}
    command["maxTimeMS"] = max_ms
    cursor = await database.cursor_command(command)
    found = [c async for c in cursor]
    return sorted((c for c in found if not str(c.get("name", "")).startswith("system.")), key=lambda c: str(c["name"]))


async def _list_indexes(database: AsyncDatabase[Doc], name: str, max_ms: int) -> list[Doc]:
    cursor = await database.cursor_command({"listIndexes": name, "maxTimeMS": max_ms})
    return [i async for i in cursor]


async def _union(
    database: AsyncDatabase[Doc], names: Sequence[str], branches: Sequence[list[Doc]], max_ms: int
) -> list[Doc]:
    """One aggregate: for each collection and branch, `$unionWith` the branch tagged with the collection name."""
    pipeline: list[Doc] = [{"$documents": []}]
    for name in names:
        tag = {"$addFields": {"c": {"$literal": name}}}
        pipeline.extend({"$unionWith": {"coll": name, "pipeline": [*branch, tag]}} for branch in branches)
    cursor = await database.cursor_command({"aggregate": 1, "pipeline": pipeline, "cursor": {}, "maxTimeMS": max_ms})
    return [row async for row in cursor]


async def _bounded(items: Sequence[str], call: Callable[[str], Awaitable[T]]) -> list[T]:
    """Run `call` for each item, at most FALLBACK_CONCURRENCY at a time, results in order."""
    gate = asyncio.Semaphore(FALLBACK_CONCURRENCY)

    async def one(item: str) -> T:
        async with gate:
            return await call(item)

    return list(await asyncio.gather(*(one(i) for i in items)))


def _chunks(items: list[str], size: int) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


# ---------------------------------------------------------------------- shaping results


def _relaxed(value: Any) -> Any:
    """BSON values as relaxed extended JSON: {"$oid"}, {"$date"}, {"$numberDecimal"}, ..."""
    return json.loads(json_util.dumps(value, json_options=RELAXED_JSON_OPTIONS))


def _strip(reply: Mapping[str, Any]) -> Doc:
    return {k: v for k, v in reply.items() if k not in REPLY_NOISE}


class _Rows:
    """Documents → columns (top-level fields in order of first appearance) and capped rows."""

    def __init__(self, collector: RowCollector) -> None:
        self.collector = collector
        self.columns: list[str] = []
        self._position: dict[str, int] = {}
        self._frozen = False

    def add(self, document: Mapping[str, Any]) -> bool:
        values: dict[int, Any] = {}
        other: Doc = {}
        for key, value in _relaxed(document).items():
            position = self._position.get(key)
            if position is None and not self._frozen and len(self.columns) < MAX_COLUMNS - 1:
                position = self._position[key] = len(self.columns)
                self.columns.append(key)
            if position is None:
                other[key] = value
            else:
                values[position] = value
        if other:
            if not self._frozen:
                self._frozen = True
                self._position[OTHER_COLUMN] = len(self.columns)
                self.columns.append(OTHER_COLUMN)
            values[self._position[OTHER_COLUMN]] = other
        return self.collector.add([values.get(i) for i in range(len(self.columns))])

    def add_reply(self, name: str, command: Mapping[str, Any], reply: Mapping[str, Any]) -> None:
        if name == "count":
            self.columns = ["n"]
            self.collector.add([reply.get("n")])
        elif name == "distinct":
            key = str(command.get("key"))
            self.columns = [key]
            for value in reply.get("values", []):
                if not self.collector.add([_relaxed(value)]):
                    break
        else:
            self.add(_strip(reply))

    def finished_rows(self) -> list[list[Any]]:
        width = len(self.columns)
        return [row + [None] * (width - len(row)) for row in self.collector.rows]


# ---------------------------------------------------------------------- catalog shaping


@dataclass
class _Bulk:
    stats: dict[str, Doc] = field(default_factory=dict)
    indexes: dict[str, list[Doc]] = field(default_factory=dict)
    round_trips: int = 0


@dataclass
class _Field:
    present: int = 0
    types: Counter[str] = field(default_factory=Counter)
    lengths: list[int] = field(default_factory=list)


_BSON_TYPES: Final[dict[str, str]] = {
    "bool": "bool",
    "float": "double",
    "str": "string",
    "dict": "object",
    "SON": "object",
    "list": "array",
    "ObjectId": "objectId",
    "datetime": "date",
    "NoneType": "null",
    "Decimal128": "decimal",
    "Binary": "binData",
    "bytes": "binData",
    "UUID": "binData",
    "Regex": "regex",
    "Pattern": "regex",
    "Timestamp": "timestamp",
    "Code": "javascript",
    "Int64": "long",
    "MinKey": "minKey",
    "MaxKey": "maxKey",
    "DBRef": "dbRef",
    "DatetimeMS": "date",
}


def _bson_type(value: Any) -> str:
    name = type(value).__name__
    if name == "int":
        return "int" if -(2**31) <= value < 2**31 else "long"
    return _BSON_TYPES.get(name, name)


class _Schema:
    """Field paths seen in a sample: presence, BSON types (documents per type) and array lengths."""

    def __init__(self) -> None:
        self.docs = 0
        self.fields: dict[str, _Field] = {}
        self.sizes: list[int] = []

    def observe(self, document: Mapping[str, Any], size: Any) -> None:
        self.docs += 1
        if isinstance(size, int):
            self.sizes.append(size)
        seen: dict[str, set[str]] = {}
        lengths: dict[str, int] = {}
        self._walk(document, "", seen, lengths, 0)
        for path, types in seen.items():
            entry = self.fields.get(path)
            if entry is None:
                if len(self.fields) >= MAX_FIELD_PATHS:
                    continue
                entry = self.fields[path] = _Field()
            entry.present += 1
            entry.types.update(types)
            if path in lengths:
                entry.lengths.append(lengths[path])

    def _walk(
        self, doc: Mapping[str, Any], prefix: str, seen: dict[str, set[str]], lengths: dict[str, int], depth: int
    ) -> None:
        for key, value in doc.items():
            path = f"{prefix}{key}"
            seen.setdefault(path, set()).add(_bson_type(value))
            if depth >= MAX_PATH_DEPTH:
                continue
            if isinstance(value, Mapping):
                self._walk(value, f"{path}.", seen, lengths, depth + 1)
            elif isinstance(value, list):
                lengths[path] = max(lengths.get(path, 0), len(value))
                for item in value:
                    if isinstance(item, Mapping):
                        self._walk(item, f"{path}[].", seen, lengths, depth + 1)
                    else:
                        seen.setdefault(f"{path}[]", set()).add(_bson_type(item))

    def columns(self) -> list[Column]:
        out = []
        for ordinal, (path, entry) in enumerate(self.fields.items()):
            dominant = max(sorted(entry.types), key=lambda t: entry.types[t]) if entry.types else "unknown"
            presence = round(100 * entry.present / self.docs, 1) if self.docs else 0.0
            lengths = entry.lengths
            out.append(
                Column(
                    name=path,
                    data_type=dominant,
                    nullable=presence < 100 or "null" in entry.types,
                    ordinal=ordinal,
                    sample=FieldSample(
                        presence_pct=presence,
                        type_counts=dict(sorted(entry.types.items())),
                        array_length_min=min(lengths) if lengths else None,
                        array_length_max=max(lengths) if lengths else None,
                        array_length_avg=round(sum(lengths) / len(lengths), 2) if lengths else None,
                    ),
                )
            )
        return out


# listCollections types that hold documents (and indexes, statistics): a time-series collection is reported
# as "timeseries" by MongoDB 5.0+ (its buckets live in system.buckets.<name>, which we skip).
DOCUMENT_COLLECTION_TYPES: Final = frozenset({"collection", "timeseries"})


def _is_collection(info: Mapping[str, Any]) -> bool:
    return str(info.get("type", "collection")) in DOCUMENT_COLLECTION_TYPES


def _is_time_series(info: Mapping[str, Any]) -> bool:
    return info.get("type") == "timeseries" or "timeseries" in (info.get("options") or {})


def _collation(value: Any) -> Doc | None:
    """An index's collation, None for the simple (binary) one."""
    if not isinstance(value, Mapping) or value.get("locale") in (None, "simple"):
        return None
    result: Doc = _relaxed(value)
    return result


def _index(entry: Mapping[str, Any], sizes: Mapping[str, Any]) -> Index:
    spec = entry.get("spec") or entry
    name = str(spec.get("name") or entry.get("name"))
    columns: list[str] = []
    method = "btree"
    for key, direction in (spec.get("key") or entry.get("key") or {}).items():
        if direction in (1, 1.0):
            columns.append(key)
        elif direction in (-1, -1.0):
            columns.append(f"{key} DESC")
        else:
            columns.append(f"{key} {direction}")
            method = str(direction)
    primary = name == "_id_"
    partial = spec.get("partialFilterExpression")
    ttl = spec.get("expireAfterSeconds")
    scans = (entry.get("accesses") or {}).get("ops")
    size = sizes.get(name)
    return Index(
        name=name,
        columns=columns,
        unique=bool(spec.get("unique")) or primary,
        primary=primary,
        method=method,
        predicate=json.dumps(_relaxed(partial), sort_keys=False) if partial is not None else None,
        size_bytes=int(size) if isinstance(size, int | float) and size > 0 else None,
        scans=int(scans) if isinstance(scans, int) else None,
        origin="primary_key" if primary else "index",
        sparse=bool(spec.get("sparse")),
        ttl_seconds=int(ttl) if isinstance(ttl, int | float) else None,
        collation=_collation(spec.get("collation")),
    )


def _positive(value: Any) -> int | None:
    """Sizes of 0 next to a non-empty collection are an emulator's 'unknown', not zero bytes."""
    return int(value) if isinstance(value, int | float) and value > 0 else None


def _table(database: str, info: Mapping[str, Any], bulk: _Bulk, schema: _Schema | None) -> Table:
    name = str(info["name"])
    options = dict(info.get("options") or {})
    if not _is_collection(info):
        definition = {"viewOn": options.pop("viewOn", None), "pipeline": options.pop("pipeline", [])}
        return Table(
            schema_name=database,
            name=name,
            kind="view",
            definition=json.dumps(_relaxed(definition)),
            options={k: _text(v) or "" for k, v in _relaxed(options).items()},
        )
    validator = options.pop("validator", None)
    stats = bulk.stats.get(name, {})
    indexes = [_index(i, stats.get("indexSizes") or {}) for i in bulk.indexes.get(name, [])]
    indexes.sort(key=lambda i: (not i.primary, i.name))
    hidden = [str(i.get("name")) for i in bulk.indexes.get(name, []) if (i.get("spec") or {}).get("hidden")]
    count = stats.get("count")
    table_stats: Doc = {k: v for k, v in stats.items() if k != "indexSizes"}
    if schema is not None and schema.docs:
        table_stats["sampled_documents"] = schema.docs
        if schema.sizes:
            table_stats["avg_bson_size"] = round(sum(schema.sizes) / len(schema.sizes), 1)
            table_stats["max_bson_size"] = max(schema.sizes)
    if hidden:
        table_stats["hidden_indexes"] = hidden
    time_series = _is_time_series(info)
    if time_series:
        table_stats["time_series"] = True
    table_bytes, index_bytes = _positive(stats.get("size")), _positive(stats.get("totalIndexSize"))
    storage = _positive(stats.get("storageSize"))
    return Table(
        schema_name=database,
        name=name,
        kind="collection",
        columns=schema.columns() if schema is not None else [],
        primary_key=PrimaryKey(name="_id_", columns=["_id"]),
        indexes=indexes,
        row_estimate=int(count) if isinstance(count, int | float) else None,
        row_estimate_source="statistics" if isinstance(count, int | float) else None,
        table_bytes=table_bytes,
        index_bytes=index_bytes,
        total_bytes=(storage + index_bytes) if storage is not None and index_bytes is not None else None,
        options={k: _text(v) or "" for k, v in _relaxed(options).items()},
        validator=_relaxed(validator) if validator is not None else None,
        stats=_relaxed(table_stats),
        comment=TIME_SERIES_NOTE if time_series else None,
    )


def _server_status_subset(status: Mapping[str, Any]) -> Doc:
    out: Doc = {k: status[k] for k in SERVER_STATUS_SECTIONS if k in status}
    cache = (status.get("wiredTiger") or {}).get("cache") or {}
    if cache:
        out["wiredTiger.cache"] = {k: cache[k] for k in WIREDTIGER_CACHE_KEYS if k in cache}
    metrics = status.get("metrics") or {}
    if metrics:
        out["metrics"] = {k: metrics[k] for k in METRICS_KEYS if k in metrics}
    result: Doc = _relaxed(out)
    return result


def _flatten(value: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for key, item in value.items():
        name = f"{prefix}{key}"
        if isinstance(item, Mapping):
            out.extend(_flatten(item, f"{name}."))  # an empty section adds nothing
        else:
            out.append((name, item))
    return out


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(_relaxed(value))


def _unit(name: str) -> str | None:
    for suffix, unit in UNIT_SUFFIXES:
        if name.endswith(suffix):
            return unit
    return None
