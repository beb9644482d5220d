"""SQLite adapter (aiosqlite): read-only file, query_only, an authorizer, a deadline per statement."""

from __future__ import annotations

import asyncio
import contextlib
import re
import sqlite3
import threading
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote

import aiosqlite

from dbspecialist.adapters.base import DatabaseAdapter, ExplainResult, Params, QueryResult, RowCollector, Setting
from dbspecialist.adapters.catalog import (
    Catalog,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    PrimaryKey,
    Table,
    Trigger,
    UniqueConstraint,
)
from dbspecialist.adapters.guard import (
    SQLITE_DENIED_FUNCTIONS,
    SQLITE_PRAGMAS_BARE,
    SQLITE_PRAGMAS_WITH_ARGUMENT,
    check_sqlite,
)
from dbspecialist.config import ConnectionConfig
from dbspecialist.errors import ConnectionFailedError, QueryError, QueryTimeoutError
from dbspecialist.knowledge.ddl.sqlite_text import ColumnClauses, column_clauses, read_trigger

VALUE_LIMIT_BYTES: Final = 16 * 1024 * 1024  # largest string or blob a read-only connection may build

# Catalog queries: one per object kind, whatever the number of tables.
OBJECTS_SQL: Final = """
SELECT type, name, tbl_name, sql FROM sqlite_schema
WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\' OR name = 'sqlite_stat1'
ORDER BY type, name
"""
COLUMNS_SQL: Final = """
SELECT m.name, p.cid, p.name, p.type, p."notnull", p.dflt_value, p.pk, p.hidden
FROM sqlite_schema AS m JOIN pragma_table_xinfo(m.name) AS p
WHERE m.type IN ('table', 'view') AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\'
ORDER BY m.name, p.cid
"""
FOREIGN_KEYS_SQL: Final = """
SELECT m.name, f.id, f.seq, f."table", f."from", f."to", f.on_update, f.on_delete
FROM sqlite_schema AS m JOIN pragma_foreign_key_list(m.name) AS f
WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\'
ORDER BY m.name, f.id, f.seq
"""
INDEXES_SQL: Final = """
SELECT m.name, il.name, il."unique", il.origin, il.partial, ii.seqno, ii.name, ii."desc", ii.coll
FROM sqlite_schema AS m
JOIN pragma_index_list(m.name) AS il
JOIN pragma_index_xinfo(il.name) AS ii
WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND ii.key = 1
ORDER BY m.name, il.name, ii.seqno
"""
STAT1_SQL: Final = "SELECT tbl, idx, stat FROM sqlite_stat1"
SIZES_SQL: Final = "SELECT name, SUM(pgsize) FROM dbstat GROUP BY name"
COUNT_LIMIT_BYTES: Final = 64 * 1024 * 1024  # exact counts only for files up to this size


class _ThreadFlag(threading.local):
    value = False

    def get(self) -> bool:
        return self.value


# sqlite3 authorizer action codes allowed for user statements.
_ALLOWED_ACTIONS: Final = frozenset({sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_RECURSIVE})
_PROGRESS_EVERY: Final = 2_000  # VM instructions between deadline checks
# Set on the worker thread only while the adapter itself reads settings (never for user SQL).
_INTERNAL_READ: Final = _ThreadFlag()

# PRAGMAs reported by settings(): name → unit.
SETTINGS_PRAGMAS: Final = {
    "journal_mode": None,
    "synchronous": None,
    "cache_size": "pages (negative: KiB)",
    "page_size": "bytes",
    "mmap_size": "bytes",
    "busy_timeout": "ms",
    "temp_store": None,
    "foreign_keys": None,
    "auto_vacuum": None,
    "journal_size_limit": "bytes",
    "wal_autocheckpoint": "pages",
    "locking_mode": None,
    "automatic_index": None,
    "cache_spill": None,
    "secure_delete": None,
    "encoding": None,
    "user_version": None,
    "application_id": None,
}
STATISTICS_PRAGMAS: Final = ("page_count", "freelist_count", "page_size", "schema_version", "data_version")


def _authorizer(action: int, arg1: str | None, arg2: str | None, _db: str | None, _src: str | None) -> int:
    """Deny everything that is not reading; the last layer under the guard and query_only."""
    if action == sqlite3.SQLITE_PRAGMA and arg2 is None and _INTERNAL_READ.get():
        return sqlite3.SQLITE_OK  # our own settings() reads PRAGMAs that users may not call
    if action in _ALLOWED_ACTIONS:
        return sqlite3.SQLITE_OK
    if action == sqlite3.SQLITE_UPDATE and arg1 == "sqlite_master" and _src is None:
        # SQLite's pragma_* table-valued functions report their internal schema read as
        # SQLITE_UPDATE on sqlite_master. A real write is still impossible: mode=ro,
        # query_only and the parser guard each refuse it, and writable_schema cannot be set.
        return sqlite3.SQLITE_OK
    if action == sqlite3.SQLITE_FUNCTION:
        return sqlite3.SQLITE_DENY if (arg2 or "").lower() in SQLITE_DENIED_FUNCTIONS else sqlite3.SQLITE_OK
    if action == sqlite3.SQLITE_PRAGMA:
        name = (arg1 or "").lower()
        if arg2 is None and name in SQLITE_PRAGMAS_BARE:
            return sqlite3.SQLITE_OK
        if arg2 is not None and name in SQLITE_PRAGMAS_WITH_ARGUMENT:
            return sqlite3.SQLITE_OK
    return sqlite3.SQLITE_DENY


class SQLiteAdapter(DatabaseAdapter):
    engine = "sqlite"

    def __init__(self, config: ConnectionConfig) -> None:
        super().__init__(config)
        self._conn: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()
        self._deadline = 0.0
        self._path: Path | None = None

    async def _connect(self) -> aiosqlite.Connection:
        if self._conn is not None:
            return self._conn
        path = self.config.sqlite_path
        if self.config.is_sample:
            from dbspecialist.sample import ensure_sample

            path = await asyncio.to_thread(ensure_sample, path)
        if not path.is_file():
            raise ConnectionFailedError(f"connection {self.config.name!r}: SQLite file {path} does not exist")
        mode = "ro" if self.config.options.read_only else "rw"
        uri = f"file:{quote(str(path))}?mode={mode}"
        try:
            conn = await aiosqlite.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
            if self.config.options.read_only:
                await conn.execute("PRAGMA query_only = 1")
                await conn.set_authorizer(_authorizer)
                # One value may not outgrow this: `SELECT randomblob(800000000)` fails at once ("string or blob too
                # big") instead of materialising 800 MB before the row caps can look at it.
                conn._conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, VALUE_LIMIT_BYTES)
            await conn.set_progress_handler(self._progress, _PROGRESS_EVERY)
        except sqlite3.Error as exc:
            raise ConnectionFailedError(
                f"connection {self.config.name!r}: cannot open SQLite file {path}: {exc}"
            ) from None
        self._conn, self._path = conn, path
        return conn

    def _progress(self) -> int:
        # Runs on aiosqlite's worker thread; a non-zero return interrupts the statement.
        return 1 if self._deadline and time.monotonic() > self._deadline else 0

    async def server_version(self) -> str:
        await self._connect()
        return sqlite3.sqlite_version

    async def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                await self._conn.close()
            self._conn = None

    async def _fetchall(self, conn: aiosqlite.Connection, sql: str) -> list[sqlite3.Row]:
        async with conn.execute(sql) as cursor:
            return list(await cursor.fetchall())

    async def introspect(self, schema: str | None = None, tables: Sequence[str] | None = None) -> Catalog:
        if schema not in (None, "main"):
            raise QueryError(f"SQLite connection {self.config.name!r} has only the schema 'main' (got {schema!r})")
        async with self._lock:
            conn = await self._connect()
            self._deadline = time.monotonic() + self.config.options.statement_timeout_ms / 1000
            try:
                return await self._introspect(conn, tables)
            except sqlite3.OperationalError as exc:
                if "interrupted" in str(exc):
                    raise QueryTimeoutError(
                        f"introspection of {self.config.name!r} exceeded {self.config.options.statement_timeout_ms} ms"
                    ) from None
                raise QueryError(f"introspection of {self.config.name!r} failed: {exc}") from None
            finally:
                self._deadline = 0.0

    async def _introspect(self, conn: aiosqlite.Connection, wanted: Sequence[str] | None) -> Catalog:
        trips = 4
        objects = await self._fetchall(conn, OBJECTS_SQL)
        columns = await self._fetchall(conn, COLUMNS_SQL)
        fks = await self._fetchall(conn, FOREIGN_KEYS_SQL)
        idx_rows = await self._fetchall(conn, INDEXES_SQL)

        names = {r[1] for r in objects}
        stats: dict[str, int] = {}
        if "sqlite_stat1" in names:
            trips += 1
            for tbl, _idx, stat in await self._fetchall(conn, STAT1_SQL):
                if stat:
                    first = str(stat).split(" ", 1)[0]
                    if first.isdigit():
                        stats[tbl] = max(stats.get(tbl, 0), int(first))
        sizes: dict[str, int] = {}
        with contextlib.suppress(sqlite3.Error):
            trips += 1
            sizes = {name: int(size) for name, size in await self._fetchall(conn, SIZES_SQL)}

        table_sql = {r[1]: r[3] or "" for r in objects if r[0] in ("table", "view")}
        kinds = {r[1]: r[0] for r in objects if r[0] in ("table", "view")}
        selected = [n for n in table_sql if n != "sqlite_stat1" and (not wanted or n in set(wanted))]
        counts: dict[str, int] = {}
        missing = [n for n in selected if kinds[n] == "table" and n not in stats]
        if missing and self._path is not None and (_file_size(self._path) or 0) <= COUNT_LIMIT_BYTES:
            trips += 1
            union = " UNION ALL ".join(f"SELECT {i}, COUNT(*) FROM {_quote(n)}" for i, n in enumerate(missing))
            counts = {missing[i]: int(c) for i, c in await self._fetchall(conn, union)}

        cols_by: dict[str, list[Column]] = defaultdict(list)
        pk_by: dict[str, list[tuple[int, str]]] = defaultdict(list)
        # COLLATE and generation expressions are only in the CREATE TABLE text: read it where it has either.
        generated_in = {r[0] for r in columns if r[7] in (2, 3)}
        clauses = {
            n: column_clauses(table_sql[n]) for n in selected if n in generated_in or "collate" in table_sql[n].lower()
        }
        for tbl, cid, name, ctype, notnull, default, pk, hidden in columns:
            clause = clauses.get(tbl, {}).get(name.lower(), ColumnClauses())
            generated = (clause.generated or "generated") if hidden in (2, 3) else None
            cols_by[tbl].append(
                Column(
                    name=name,
                    data_type=ctype or "",
                    nullable=not notnull and not pk,
                    default=default,
                    ordinal=cid,
                    generated=generated,
                    generated_kind="stored" if hidden == 3 else "virtual" if hidden == 2 else None,
                    collation=clause.collation,
                )
            )
            if pk:
                pk_by[tbl].append((pk, name))

        fk_by: dict[str, dict[int, dict[str, Any]]] = defaultdict(dict)
        for tbl, fid, _seq, target, src, dst, on_update, on_delete in fks:
            entry = fk_by[tbl].setdefault(
                fid, {"cols": [], "ref": target, "ref_cols": [], "upd": on_update, "del": on_delete}
            )
            entry["cols"].append(src)
            entry["ref_cols"].append(dst)

        index_sql = {r[1]: r[3] or "" for r in objects if r[0] == "index"}
        idx_by: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
        for tbl, iname, unique, origin, partial, _seqno, cname, desc, _coll in idx_rows:
            entry = idx_by[tbl].setdefault(
                iname, {"cols": [], "unique": bool(unique), "origin": origin, "partial": bool(partial)}
            )
            label = cname if cname is not None else "<expression>"
            entry["cols"].append(f"{label} DESC" if desc else label)

        triggers_by: dict[str, list[Trigger]] = defaultdict(list)
        for otype, oname, tbl_name, osql in objects:
            if otype == "trigger":
                read = read_trigger(osql or "")
                timing, events = (read.timing, list(read.events)) if read else (None, [])
                triggers_by[tbl_name].append(Trigger(name=oname, timing=timing, events=events, definition=osql))

        result: list[Table] = []
        for name in selected:
            sql = table_sql[name]
            ddl_pk = sorted(pk_by.get(name, []))
            foreign = [
                ForeignKey(
                    columns=e["cols"],
                    ref_table=e["ref"],
                    ref_columns=[c if c is not None else "<primary key>" for c in e["ref_cols"]],
                    on_update=_fk_action(e["upd"]),
                    on_delete=_fk_action(e["del"]),
                    deferrable=bool(re.search(r"DEFERRABLE\s+INITIALLY\s+DEFERRED", sql, re.I)),
                )
                for _, e in sorted(fk_by.get(name, {}).items())
            ]
            indexes: list[Index] = []
            uniques: list[UniqueConstraint] = []
            for iname, e in sorted(idx_by.get(name, {}).items()):
                origin = {"pk": "primary_key", "u": "unique_constraint"}.get(e["origin"], "index")
                isql = index_sql.get(iname, "")
                predicate = _partial_predicate(isql) if e["partial"] else None
                cols = e["cols"]
                if "<expression>" in cols and isql:
                    cols = _expression_columns(isql) or cols
                indexes.append(
                    Index(
                        name=iname,
                        columns=cols,
                        unique=e["unique"],
                        primary=origin == "primary_key",
                        method="btree",
                        predicate=predicate,
                        size_bytes=sizes.get(iname),
                        origin=origin,  # type: ignore[arg-type]
                    )
                )
                if origin == "unique_constraint":
                    uniques.append(UniqueConstraint(name=None, columns=cols))
            kind = "view" if kinds[name] == "view" else ("virtual_table" if _is_virtual(sql) else "table")
            rows = stats.get(name, counts.get(name))
            options = {"without_rowid": "true"} if re.search(r"WITHOUT\s+ROWID", sql, re.I) else {}
            if re.search(r"\)\s*STRICT\b", sql, re.I):
                options["strict"] = "true"
            if re.search(r"\bAUTOINCREMENT\b", sql, re.I):
                options["autoincrement"] = "true"
            table_bytes = sizes.get(name)
            index_bytes = sum(i.size_bytes or 0 for i in indexes) if sizes else None
            result.append(
                Table(
                    schema_name="main",
                    name=name,
                    kind=kind,  # type: ignore[arg-type]
                    columns=cols_by.get(name, []),
                    primary_key=PrimaryKey(columns=[c for _, c in ddl_pk]) if ddl_pk else None,
                    foreign_keys=foreign,
                    unique_constraints=uniques,
                    check_constraints=[CheckConstraint(expression=e) for e in _check_expressions(sql)],
                    indexes=indexes,
                    triggers=triggers_by.get(name, []),
                    row_estimate=rows,
                    row_estimate_source=("statistics" if name in stats else "count" if name in counts else None),
                    table_bytes=table_bytes,
                    index_bytes=index_bytes,
                    total_bytes=(table_bytes or 0) + (index_bytes or 0) if sizes else None,
                    options=options,
                    definition=sql if kind == "view" else None,
                )
            )
        return Catalog(
            engine="sqlite",
            server_version=sqlite3.sqlite_version,
            database=str(self._path) if self._path else None,
            schemas=["main"],
            tables=result,
            round_trips=trips,
        )

    async def run_read_only(
        self,
        query: str,
        params: Params | None = None,
        *,
        max_rows: int,
        max_bytes: int,
        timeout_ms: int,
    ) -> QueryResult:
        if self.config.options.read_only:
            check_sqlite(query)
        bound: Any = params if params is not None else ()
        collector = RowCollector(max_rows, max_bytes)
        started = time.perf_counter()
        async with self._lock:
            conn = await self._connect()
            self._deadline = time.monotonic() + timeout_ms / 1000
            try:
                async with asyncio.timeout(timeout_ms / 1000 + 2):
                    cursor = await conn.execute(query, bound)
                    try:
                        columns = [d[0] for d in cursor.description or ()]
                        batch = min(max_rows + 1, 500)
                        done = False
                        while not done:
                            rows = await cursor.fetchmany(batch)
                            if not rows:
                                break
                            for row in rows:
                                if not collector.add(row):
                                    done = True
                                    break
                    finally:
                        await cursor.close()
            except TimeoutError:
                await conn.interrupt()
                raise QueryTimeoutError(self._timeout_message(timeout_ms)) from None
            except sqlite3.OperationalError as exc:
                if "interrupted" in str(exc):
                    raise QueryTimeoutError(self._timeout_message(timeout_ms)) from None
                if "not authorized" in str(exc) or "readonly" in str(exc) or "read-only" in str(exc):
                    raise QueryError(f"SQLite refused the statement as not read-only: {exc}") from None
                raise QueryError(f"SQLite error: {exc}") from None
            except (sqlite3.ProgrammingError, sqlite3.DatabaseError, ValueError) as exc:
                raise QueryError(f"SQLite error: {exc}") from None
            finally:
                self._deadline = 0.0
        return QueryResult(
            columns=columns,
            rows=collector.rows,
            row_count=len(collector.rows),
            truncated=collector.truncated_by is not None,
            truncated_by=collector.truncated_by,
            elapsed_ms=round((time.perf_counter() - started) * 1000, 3),
        )

    async def explain(self, statement: str, *, analyze: bool = False, timeout_ms: int) -> ExplainResult:
        """`EXPLAIN QUERY PLAN` rows; with `analyze`, also run the statement (capped) and time it."""
        if self.config.options.read_only:
            check_sqlite(statement)
        plan_result = await self._plan_rows(statement, timeout_ms)
        plan = [{"id": r[0], "parent": r[1], "detail": r[3]} for r in plan_result]
        if not analyze:
            return ExplainResult(engine="sqlite", format="rows", analyzed=False, plan=plan, statement=statement)
        run = await self.run_read_only(
            statement,
            max_rows=self.config.options.max_rows,
            max_bytes=self.config.options.max_bytes,
            timeout_ms=timeout_ms,
        )
        execution = {"elapsed_ms": run.elapsed_ms, "rows": run.row_count, "truncated": run.truncated}
        return ExplainResult(
            engine="sqlite",
            format="json",
            analyzed=True,
            plan={"query_plan": plan, "execution": execution},
            statement=statement,
        )

    async def _plan_rows(self, statement: str, timeout_ms: int) -> list[Any]:
        async with self._lock:
            conn = await self._connect()
            self._deadline = time.monotonic() + timeout_ms / 1000
            try:
                return await self._fetchall(conn, f"EXPLAIN QUERY PLAN {statement}")
            except sqlite3.OperationalError as exc:
                if "interrupted" in str(exc):
                    raise QueryTimeoutError(self._timeout_message(timeout_ms)) from None
                raise QueryError(f"SQLite could not plan the statement: {exc}") from None
            except (sqlite3.ProgrammingError, sqlite3.DatabaseError) as exc:
                raise QueryError(f"SQLite could not plan the statement: {exc}") from None
            finally:
                self._deadline = 0.0

    async def _internal_pragmas(self, names: Sequence[str]) -> dict[str, Any]:
        """Read PRAGMAs (bare form) on the worker thread with the internal-read flag set."""
        async with self._lock:
            conn = await self._connect()

            def read() -> dict[str, Any]:
                raw = conn._conn  # the sqlite3 connection, used on its own worker thread
                _INTERNAL_READ.value = True
                try:
                    out: dict[str, Any] = {}
                    for name in names:
                        try:
                            row = raw.execute(f"PRAGMA {name}").fetchone()
                        except sqlite3.Error:
                            continue
                        out[name] = row[0] if row else None
                    return out
                finally:
                    _INTERNAL_READ.value = False

            result: dict[str, Any] = await conn._execute(read)  # type: ignore[no-untyped-call]
            return result

    async def settings(self) -> list[Setting]:
        values = await self._internal_pragmas(list(SETTINGS_PRAGMAS))
        return [
            Setting(
                name=name,
                value=None if values.get(name) is None else str(values[name]),
                unit=SETTINGS_PRAGMAS[name],
                source="connection" if name not in ("page_size", "auto_vacuum", "encoding") else "database file",
                category="pragma",
                restart_required=False,
            )
            for name in SETTINGS_PRAGMAS
            if name in values
        ]

    async def statistics(self) -> dict[str, Any]:
        pragmas = await self._internal_pragmas(STATISTICS_PRAGMAS)
        path = self._path or self.config.sqlite_path
        wal = Path(f"{path}-wal")
        return {
            "pragmas": pragmas,
            "file_bytes": _file_size(path),
            "wal_bytes": _file_size(wal) or 0,
            "sqlite_version": sqlite3.sqlite_version,
        }

    def _timeout_message(self, timeout_ms: int) -> str:
        return (
            f"the query on {self.config.name!r} ran longer than {timeout_ms} ms and was stopped. "
            "Narrow it (WHERE, LIMIT), or raise statement_timeout_ms for this connection."
        )


def _file_size(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except OSError:
        return None


def _quote(identifier: str) -> str:
    escaped = identifier.replace('"', '""')
    return f'"{escaped}"'


def _fk_action(raw: str | None) -> Any:
    value = (raw or "NO ACTION").lower()
    return value if value in ("no action", "restrict", "cascade", "set null", "set default") else "no action"


def _partial_predicate(index_sql: str) -> str | None:
    match = re.search(r"\bWHERE\b(.*)$", index_sql, re.I | re.S)
    return match.group(1).strip() if match else None


def _expression_columns(index_sql: str) -> list[str] | None:
    match = re.search(r"\bON\s+\S+\s*\((.*)\)\s*(?:WHERE\b.*)?$", index_sql, re.I | re.S)
    if not match:
        return None
    parts, depth, current = [], 0, ""
    for ch in match.group(1):
        if ch == "," and depth == 0:
            parts.append(current.strip())
            current = ""
            continue
        depth += ch == "("
        depth -= ch == ")"
        current += ch
    parts.append(current.strip())
    return [p for p in parts if p]


def _is_virtual(sql: str) -> bool:
    return bool(re.match(r"\s*CREATE\s+VIRTUAL\s+TABLE", sql, re.I))


def _check_expressions(sql: str) -> list[str]:
    """CHECK (...) bodies in a CREATE TABLE, found by balanced-parenthesis scanning."""
    out: list[str] = []
    for match in re.finditer(r"\bCHECK\s*\(", sql, re.I):
        depth, i = 1, match.end()
        while i < len(sql) and depth:
            depth += {"(": 1, ")": -1}.get(sql[i], 0)
            i += 1
        out.append(sql[match.end() : i - 1].strip())
    return out
