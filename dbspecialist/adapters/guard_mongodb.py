"""MongoDB read-only guard: one JSON command document, checked against an allow-list of read commands.

The query text is parsed first (MongoDB extended JSON, duplicate keys refused) and every check runs on
the decoded keys, so `"\\u0024merge"` is seen as `$merge`. A command is accepted only when its verb (the
first key) is a read command, it names no other database through `$db`, and nothing inside it, at any
depth, writes (`$out`, `$merge`) or runs server-side JavaScript (`$where`, `$function`, `$accumulator`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from bson import json_util
from bson.code import Code
from bson.dbref import DBRef
from bson.json_util import JSONOptions

from dbspecialist.errors import QueryRefusedError

MAX_QUERY_CHARS: Final = 100_000
MAX_DEPTH: Final = 64
DB_KEY: Final = "db"  # our own key: run the command in another database of the same server

# Commands that answer with a cursor (rows stream through getMore, capped while they arrive).
CURSOR_COMMANDS: Final = frozenset({"find", "aggregate", "listIndexes", "listCollections"})
# Commands that answer with one document.
DOCUMENT_COMMANDS: Final = frozenset(
    {
        "count",
        "distinct",
        "explain",
        "collStats",
        "dbStats",
        "serverStatus",
        "hello",
        "isMaster",
        "ismaster",
        "buildInfo",
        "buildinfo",
        "getCmdLineOpts",
        "getParameter",
        "currentOp",
        "ping",
        "hostInfo",
        "listDatabases",
        "connectionStatus",
        "replSetGetStatus",
        "replSetGetConfig",
        "getDefaultRWConcern",
        "top",
        "lockInfo",
        "whatsmyuri",
        "listCommands",
        "dataSize",
    }
)
READ_COMMANDS: Final = CURSOR_COMMANDS | DOCUMENT_COMMANDS
EXPLAINABLE: Final = frozenset({"find", "aggregate", "count", "distinct"})
# Commands whose value is a collection name (a string).
COLLECTION_COMMANDS: Final = frozenset({"find", "count", "distinct", "listIndexes", "collStats"})

# Known writers and admin commands, lower-cased, so a refusal can say what they do.
WRITE_COMMANDS: Final = {
    "insert": "writes documents",
    "update": "writes documents",
    "delete": "deletes documents",
    "findandmodify": "writes documents",
    "bulkwrite": "writes documents",
    "mapreduce": "can write its output to a collection",
    "create": "creates a collection",
    "createindexes": "builds indexes",
    "dropindexes": "drops indexes",
    "drop": "drops a collection",
    "dropdatabase": "drops a database",
    "renamecollection": "renames a collection",
    "collmod": "changes a collection",
    "convertToCapped".lower(): "rewrites a collection",
    "clonecollectionascapped": "copies a collection",
    "compact": "rewrites storage",
    "reindex": "rebuilds indexes",
    "validate": "locks and scans a collection",
    "eval": "runs server-side JavaScript",
    "shutdown": "stops the server",
    "fsync": "locks the server",
    "fsyncunlock": "unlocks the server",
    "killop": "kills other operations",
    "killcursors": "kills cursors",
    "killsessions": "kills sessions",
    "killallsessions": "kills sessions",
    "setparameter": "changes a server setting",
    "setfeaturecompatibilityversion": "changes the server version",
    "profile": "can change the profiler level",
    "createuser": "manages users",
    "updateuser": "manages users",
    "dropuser": "manages users",
    "dropallusersfromdatabase": "manages users",
    "grantrolestouser": "manages users",
    "createrole": "manages roles",
    "replsetreconfig": "reconfigures the replica set",
    "replsetstepdown": "steps the primary down",
    "logrotate": "rotates logs",
    "applyops": "applies oplog entries",
    "committransaction": "commits a transaction",
    "aborttransaction": "ends a transaction",
    "configurefailpoint": "arms a test fail point",
}
# Operators refused at any depth: writers and server-side JavaScript.
DENIED_OPERATORS: Final = {
    "$out": "writes the result to a collection",
    "$merge": "writes the result to a collection",
    "$where": "runs server-side JavaScript",
    "$function": "runs server-side JavaScript",
    "$accumulator": "runs server-side JavaScript",
    "$changeStream": "opens a cursor that never ends",
}

ACCEPTED_SHAPES: Final = (
    'one JSON command document, e.g. {"find": "orders", "filter": {"status": "paid"}, "sort": {"_id": -1}, '
    '"limit": 20}; also {"aggregate": "orders", "pipeline": [...]}, {"count": "orders", "query": {...}}, '
    '{"distinct": "orders", "key": "status"}, {"listIndexes": "orders"}, {"collStats": "orders"}, '
    '{"dbStats": 1}, {"serverStatus": 1}, {"listCollections": 1} or {"explain": {"find": ...}}; '
    'add "db": "<name>" to use another database of the same server'
)
_JSON_OPTIONS: Final = JSONOptions()
_BAD_DB: Final = frozenset('/\\. "$\0')


@dataclass(frozen=True)
class MongoCommand:
    """A command that passed the guard: `command` is ordered with its verb first, `database` is from `db`."""

    name: str
    command: dict[str, Any]
    database: str | None
    returns_cursor: bool


def _refuse(reason: str) -> QueryRefusedError:
    return QueryRefusedError(f"Refused by the read-only guard: {reason}")


class _DuplicateKeyError(ValueError):
    pass


def _pairs_hook(pairs: list[tuple[str, Any]]) -> Any:
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        duplicate = next(k for k in keys if keys.count(k) > 1)
        raise _DuplicateKeyError(duplicate)
    return json_util.object_pairs_hook(pairs, _JSON_OPTIONS)


def parse_command(text: str) -> dict[str, Any]:
    """Decode one extended-JSON command document, or raise QueryRefusedError saying what is accepted."""
    if len(text) > MAX_QUERY_CHARS:
        raise _refuse(f"the query is {len(text):,} characters; the limit is {MAX_QUERY_CHARS:,}")
    if not text.strip():
        raise _refuse(f"the query is empty. Send {ACCEPTED_SHAPES}")
    try:
        doc = json.loads(text, object_pairs_hook=_pairs_hook)
    except _DuplicateKeyError as exc:
        raise _refuse(f"the key {exc.args[0]!r} appears twice in one object; send exactly one command") from None
    except RecursionError:
        raise _refuse("the query is nested too deeply") from None
    except (ValueError, TypeError) as exc:
        if str(exc).startswith("Extra data"):
            raise _refuse("more than one JSON document was given; send exactly one command per call") from None
        raise _refuse(f"the query is not valid JSON ({exc}). Send {ACCEPTED_SHAPES}") from None
    if isinstance(doc, list):
        raise _refuse(f"a JSON array was given; send exactly one command document per call: {ACCEPTED_SHAPES}")
    if not isinstance(doc, dict) or not doc:
        raise _refuse(f"the query must be a non-empty JSON object. Send {ACCEPTED_SHAPES}")
    return doc


def _split_database(doc: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    database = doc.pop(DB_KEY, None)
    if database is not None and (not isinstance(database, str) or not database or any(c in database for c in _BAD_DB)):
        raise _refuse(f'"db" must be a database name (got {database!r})')
    for key in doc:
        if key.startswith("$"):
            raise _refuse(f'top-level key {key!r} is set by the driver; use "db" to choose the database')
    if not doc:
        raise _refuse(f"the query names no command. Send {ACCEPTED_SHAPES}")
    return doc, database


def _walk(value: Any, depth: int = 0) -> None:
    """Refuse denied operators anywhere: in filters, expressions and nested pipelines."""
    if depth > MAX_DEPTH:
        raise _refuse(f"the command is nested more than {MAX_DEPTH} levels deep")
    if isinstance(value, Mapping):
        for key, item in value.items():
            reason = DENIED_OPERATORS.get(key)
            if reason is not None:
                raise _refuse(f"{key} {reason}; it is not allowed in a read-only query")
            _walk(item, depth + 1)
    elif isinstance(value, list | tuple):
        for item in value:
            _walk(item, depth + 1)
    elif isinstance(value, DBRef):  # extra DBRef fields are sent as document keys
        _walk(value.as_doc(), depth + 1)
    elif isinstance(value, Code) and value.scope is not None:
        _walk(value.scope, depth + 1)


def _check_shape(name: str, doc: dict[str, Any], *, inside_explain: bool = False) -> None:
    value = doc[name]
    if name in COLLECTION_COMMANDS and not isinstance(value, str):
        raise _refuse(f'"{name}" takes a collection name, e.g. {{"{name}": "orders"}} (got {value!r})')
    if name == "aggregate":
        if not (isinstance(value, str) or value == 1):
            raise _refuse(f'"aggregate" takes a collection name, or 1 for database-level stages (got {value!r})')
        if not isinstance(doc.get("pipeline"), list):
            raise _refuse('"aggregate" needs "pipeline": a list of stages, e.g. [{"$match": {"status": "paid"}}]')
    if name in ("count", "distinct") and "filter" in doc:
        if "query" in doc:
            raise _refuse(f'give "{name}" either "query" or "filter", not both')
        doc["query"] = doc.pop("filter")
    if name == "distinct" and not isinstance(doc.get("key"), str):
        raise _refuse('"distinct" needs "key": the field name, e.g. {"distinct": "orders", "key": "status"}')
    if name == "explain":
        if inside_explain:
            raise _refuse("explain cannot be nested")
        inner = value
        if not isinstance(inner, dict) or not inner:
            raise _refuse('"explain" takes a command document, e.g. {"explain": {"find": "orders", "filter": {}}}')
        inner_name = next(iter(inner))
        if inner_name not in EXPLAINABLE:
            raise _refuse(f"explain of {inner_name!r} is not allowed; explain only {', '.join(sorted(EXPLAINABLE))}")
        _check_shape(inner_name, inner, inside_explain=True)
        verbosity = doc.get("verbosity", "queryPlanner")
        if verbosity not in ("queryPlanner", "executionStats", "allPlansExecution"):
            raise _refuse(f"unknown explain verbosity {verbosity!r}")


def check_mongo(query: str | Mapping[str, Any], *, read_only: bool = True) -> MongoCommand:
    """Accept exactly one MongoDB read command (JSON text or a decoded document), or raise why not.

    With `read_only=False` the allow-list is skipped; the query must still be one command document.
    """
    doc = parse_command(query) if isinstance(query, str) else dict(query)
    doc, database = _split_database(doc)
    name = next(iter(doc))
    if not isinstance(name, str):  # pragma: no cover - JSON keys are strings
        raise _refuse("the command name must be a string")
    if not read_only:
        return MongoCommand(name=name, command=doc, database=database, returns_cursor=name in CURSOR_COMMANDS)
    if name not in READ_COMMANDS:
        what = WRITE_COMMANDS.get(name.lower()) or DENIED_OPERATORS.get(name)
        if what:
            raise _refuse(f"{name} {what}; only read commands are allowed ({_allowed_list()})")
        raise _refuse(f"{name!r} is not on the read-command allow-list ({_allowed_list()}). Send {ACCEPTED_SHAPES}")
    _check_shape(name, doc)
    _walk(doc)
    return MongoCommand(name=name, command=doc, database=database, returns_cursor=name in CURSOR_COMMANDS)


def _allowed_list() -> str:
    return ", ".join(sorted(READ_COMMANDS, key=str.lower))
