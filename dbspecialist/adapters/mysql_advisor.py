"""MySQL/MariaDB verification of candidate indexes on a scratch copy (connections with read_only = false).

MySQL and MariaDB have no hypothetical indexes, so the advisor builds what it tests:

1. `CREATE DATABASE dbspecialist_scratch_<hex>` (a fresh random name, never an existing database).
2. For every base table the workload names: `CREATE TABLE scratch.t LIKE db.t` (LIKE copies columns and
   indexes, never foreign keys or triggers), `INSERT INTO scratch.t (...) SELECT ... FROM db.t LIMIT <cap>`
   (the first `SAMPLE_ROWS` rows in the table's storage order, generated columns left to the server), and
   `ANALYZE TABLE scratch.t`. The user's tables are only read.
3. With the scratch database as the current database, each query's cost before; then per candidate
   `CREATE INDEX` on the scratch table, the cost of the queries that name the table, `DROP INDEX`.
   A cost counts only when the plan actually uses the candidate. Queries that name the original database
   explicitly would read the real tables, so they are skipped with a note.
4. `DROP DATABASE` in a `finally`, on a separate connection, also after errors, timeouts and cancellation.

Cost, measured (the copy is ours, so the query may run there): the rows the server touches running it, read
from the session status before and after the run: `Handler_read_*` (rows read through the storage engine),
`Sort_rows`, and the rows written to or updated in internal temporary tables (`Handler_tmp_*` on MariaDB,
`Handler_write`/`Handler_update` on MySQL, where nothing else can be written in a READ ONLY transaction). The
query runs as `ANALYZE FORMAT=JSON` (MariaDB; its plan is also the one checked for the candidate) or
`EXPLAIN ANALYZE` (MySQL 8.0.18+; plan from `EXPLAIN FORMAT=JSON`), so no rows are sent back. The counters
are deterministic (unlike timings) and see what the optimizer cost misses: MariaDB 10.x `Last_query_cost` is
the same with and without an index that serves `ORDER BY ... LIMIT n` (it ignores the LIMIT and the avoided
filesort), while the rows touched drop from the whole table to about n. What reading the status itself adds
is measured once per session (two reads in a row) and subtracted.

Cost, fallback (the optimizer's estimate, as before): on MySQL before 8.0.18, for statements that are not
plain queries (SHOW, EXPLAIN), for queries that qualify a table with a database name (they would read
outside the copy; not run), and for queries whose measured run fails or reaches the statement timeout
before any index exists. It is `query_block.cost_info.query_cost` of `EXPLAIN FORMAT=JSON` (MySQL),
`query_block.cost` (MariaDB 11), else the session status `Last_query_cost` right after the EXPLAIN
(MariaDB 10.x prints no cost in JSON; the status is 0 for UNION and subqueries, which are then skipped).
A query keeps one kind of cost before and after; the final note says which queries fell back.

Every run and EXPLAIN happens inside `START TRANSACTION READ ONLY` ... `ROLLBACK` after the read-only guard
accepted the query; every statement is bounded by the connection's statement_timeout_ms (server limit plus
a client deadline and KILL QUERY).

Coupling: MySQLAdapter has no public "hold one writable session" method, so this module uses its private
`_connection` (a prepared pooled connection with the server time limit set), `_connect_kwargs` (for the
cleanup connection), `_kill_query`, `_translate` and `_timeout_message` (typed errors), and its public
`flavor` and `version_tuple`. The held connection changes its current database, so it is closed afterwards
instead of going back to the pool.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import aiomysql
import pymysql

from dbspecialist.adapters.catalog import Catalog, Table
from dbspecialist.adapters.guard_mysql import check_mysql
from dbspecialist.adapters.mysql import KILL_GRACE_S, MySQLAdapter
from dbspecialist.errors import DBSpecialistError, QueryError, QueryRefusedError, QueryTimeoutError
from dbspecialist.knowledge.indexes.candidates import Candidate
from dbspecialist.knowledge.indexes.select import QueryCosts

Progress = Callable[[float, float, str], Awaitable[None]]

SAMPLE_ROWS: Final = 100_000
SCRATCH_PREFIX: Final = "dbspecialist_scratch_"
SCRATCH_FOREIGN_KEYS_SQL: Final = """
SELECT TABLE_NAME, CONSTRAINT_NAME FROM information_schema.TABLE_CONSTRAINTS
WHERE CONSTRAINT_SCHEMA = %s AND CONSTRAINT_TYPE = 'FOREIGN KEY'
"""
_COPYABLE: Final = frozenset({"table", "partitioned_table"})
# Session status counters that count rows the server touched running a statement (see the module docstring).
# A name the server does not have counts as 0 (MariaDB: Handler_tmp_*, MySQL: temporary tables in Handler_write).
WORK_COUNTERS: Final = (
    "handler_read_first",
    "handler_read_key",
    "handler_read_last",
    "handler_read_next",
    "handler_read_prev",
    "handler_read_rnd",
    "handler_read_rnd_next",
    "handler_tmp_write",
    "handler_tmp_update",
    "handler_write",
    "handler_update",
    "sort_rows",
)
WORK_STATUS_SQL: Final = "SHOW SESSION STATUS WHERE Variable_name IN ({})".format(
    ", ".join(f"'{c}'" for c in WORK_COUNTERS)
)
# How a query runs on the copy without sending its rows back.
RUN_MARIADB: Final = "ANALYZE FORMAT=JSON"
RUN_MYSQL: Final = "EXPLAIN ANALYZE"  # MySQL 8.0.18+
# Guard kinds (check_mysql) that can be run that way; SHOW/EXPLAIN statements keep the optimizer cost.
_RUNNABLE_KINDS: Final = frozenset({"select", "values"})


@dataclass
class MysqlScratchResult:
    available: bool
    reason: str | None = None
    costs: list[QueryCosts] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    scratch: str | None = None  # the scratch database's name (already dropped)


def scratch_name() -> str:
    return f"{SCRATCH_PREFIX}{secrets.token_hex(6)}"


def quote(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def names_database(query: str, database: str) -> bool:
    """True when the query qualifies a name with `database` (`db`.t or db.t)."""
    pattern = rf"(?:`{re.escape(database.replace('`', '``'))}`|(?<![\w$`]){re.escape(database)})\s*\."
    return re.search(pattern, query, re.IGNORECASE) is not None


def names_table(query: str, table: str) -> bool:
    return re.search(rf"(?<![\w$]){re.escape(table)}(?![\w$])", query, re.IGNORECASE) is not None


def plan_cost(plan: Any) -> float | None:
    """The optimizer's total cost from EXPLAIN FORMAT=JSON, when the server prints one."""
    block = plan.get("query_block") if isinstance(plan, dict) else None
    if not isinstance(block, dict):
        return None
    info = block.get("cost_info")
    if isinstance(info, dict) and info.get("query_cost") is not None:
        return float(info["query_cost"])
    if block.get("cost") is not None:
        return float(block["cost"])
    return None


def run_statement(flavor: str | None, version: tuple[int, ...]) -> str | None:
    """The statement prefix that runs a query and discards its rows, or None (optimizer cost only)."""
    if flavor == "mariadb":
        return RUN_MARIADB
    if flavor == "mysql" and version >= (8, 0, 18):
        return RUN_MYSQL
    return None


def rows_touched(start: Mapping[str, int], end: Mapping[str, int], overhead: Mapping[str, int]) -> int:
    """Rows the server touched between two status reads, less what the reads themselves add."""
    return sum(max(0, end.get(c, 0) - start.get(c, 0) - overhead.get(c, 0)) for c in WORK_COUNTERS)


def qualifies_a_database(query: str) -> bool:
    """True when a table is named with a database (`db.t`), or the query does not parse: not run on the copy."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import ParseError, TokenError

    try:
        trees = sqlglot.parse(query, read="mysql")
    except (ParseError, TokenError):
        return True
    return any(t.args.get("db") for tree in trees if tree is not None for t in tree.find_all(exp.Table))


def uses_index(plan_text: str, index: str) -> bool:
    """The plan accesses a table through `index` (a "key" entry, not just "possible_keys")."""
    return re.search(rf'"key"\s*:\s*"[^"]*(?<![\w$]){re.escape(index)}(?![\w$])', plan_text) is not None


class _Session:
    """One held writable connection; every statement bounded by the connection's statement timeout."""

    def __init__(self, adapter: MySQLAdapter, conn: Any, limit_ms: int) -> None:
        self.adapter = adapter
        self.conn = conn
        self.limit_ms = limit_ms
        self.thread_id: int = conn.thread_id()
        self.busy = False
        self.runner = run_statement(adapter.flavor, adapter.version_tuple)
        self.overhead: dict[str, int] | None = None  # what two status reads in a row add; set on first use

    async def run(self, sql: str, args: Any = None) -> list[tuple[Any, ...]]:
        self.busy = True
        try:
            async with asyncio.timeout(self.limit_ms / 1000 + KILL_GRACE_S), self.conn.cursor() as cur:
                await cur.execute(sql, args)
                rows = list(await cur.fetchall())
        except TimeoutError:
            raise QueryTimeoutError(self.adapter._timeout_message(self.limit_ms)) from None
        except (pymysql.Error, OSError) as exc:
            self.busy = False
            raise self.adapter._translate(exc, self.limit_ms) from None
        self.busy = False
        return rows

    async def cost(self, query: str) -> tuple[float | None, str]:
        """(cost, plan JSON text) of `query` inside a READ ONLY transaction that is rolled back."""
        await self.run("START TRANSACTION READ ONLY")
        try:
            rows = await self.run(f"EXPLAIN FORMAT=JSON {query}")
            text = "\n".join(str(r[0]) for r in rows)
            cost = plan_cost(json.loads(text))
            if cost is None:
                status = await self.run("SHOW SESSION STATUS LIKE 'Last_query_cost'")
                value = float(status[0][1]) if status else 0.0
                cost = value if value > 0 else None
        finally:
            if not self.busy:
                await self.run("ROLLBACK")
        return cost, text

    async def status(self) -> dict[str, int]:
        return {str(name).lower(): int(value) for name, value in await self.run(WORK_STATUS_SQL)}

    async def work(self, query: str) -> tuple[float, str]:
        """(rows touched running `query`, plan JSON text) inside a READ ONLY transaction that is rolled back."""
        assert self.runner is not None
        if self.overhead is None:
            first = await self.status()
            second = await self.status()
            self.overhead = {c: max(0, second.get(c, 0) - first.get(c, 0)) for c in WORK_COUNTERS}
        await self.run("START TRANSACTION READ ONLY")
        try:
            if self.runner == RUN_MARIADB:
                start = await self.status()
                rows = await self.run(f"{self.runner} {query}")
                end = await self.status()
            else:  # EXPLAIN ANALYZE prints a tree; the plan checked for the candidate comes from EXPLAIN
                rows = await self.run(f"EXPLAIN FORMAT=JSON {query}")
                start = await self.status()
                await self.run(f"{self.runner} {query}")
                end = await self.status()
            text = "\n".join(str(r[0]) for r in rows)
        finally:
            if not self.busy:
                await self.run("ROLLBACK")
        return float(rows_touched(start, end, self.overhead)), text


async def _drop_scratch(adapter: MySQLAdapter, session: _Session | None, scratch: str) -> str | None:
    """Close the held connection (stopping a running statement), drop the scratch database; None or the error."""
    if session is not None:
        session.conn.close()
        if session.busy:
            await adapter._kill_query(session.thread_id)
    limit = adapter.config.options.statement_timeout_ms
    try:
        async with asyncio.timeout(limit / 1000 + adapter.config.options.connect_timeout_ms / 1000 + KILL_GRACE_S):
            conn = await aiomysql.connect(**adapter._connect_kwargs())
            try:
                async with conn.cursor() as cur:
                    await cur.execute(f"DROP DATABASE IF EXISTS {quote(scratch)}")
            finally:
                conn.close()
    except Exception as exc:  # reported, never raised over the original outcome
        return f"could not drop the scratch database {scratch} ({exc}); drop it by hand: DROP DATABASE {scratch}"
    return None


def _tables_to_copy(catalog: Catalog, queries: Sequence[str]) -> list[Table]:
    return [t for t in catalog.tables if t.kind in _COPYABLE and any(names_table(q, t.name) for q in queries)]


async def _copy_table(session: _Session, database: str, scratch: str, table: Table, cap: int) -> str | None:
    """Create and fill scratch.table from a bounded sample; a note when the copy is partial."""
    source, target = f"{quote(database)}.{quote(table.name)}", f"{quote(scratch)}.{quote(table.name)}"
    await session.run(f"CREATE TABLE {target} LIKE {source}")
    cols = ", ".join(quote(c.name) for c in table.columns if not c.generated)
    await session.run(f"INSERT INTO {target} ({cols}) SELECT {cols} FROM {source} LIMIT {int(cap)}")
    await session.run(f"ANALYZE TABLE {target}")
    (count,) = (await session.run(f"SELECT COUNT(*) FROM {target}"))[0]
    if int(count) >= cap and (table.row_estimate or 0) > cap:
        return f"{table.name}: sampled {int(count):,} of about {table.row_estimate:,} rows"
    return None


async def evaluate(
    adapter: MySQLAdapter,
    queries: Sequence[str],
    candidates: Sequence[Candidate],
    catalog: Catalog,
    *,
    sample_rows: int = SAMPLE_ROWS,
    progress: Progress | None = None,
) -> MysqlScratchResult:
    """Cost of every query before, and with each candidate alone, on a sampled scratch copy of its tables."""
    if adapter.config.options.read_only:
        return MysqlScratchResult(available=False, reason="the connection is read-only (read_only = true)")
    database = adapter.database or catalog.database
    if not database:
        return MysqlScratchResult(available=False, reason="the connection URL names no database")
    result = MysqlScratchResult(available=True)
    kept: list[str] = []
    runnable: set[str] = set()  # may run on the copy: plain queries naming no database
    for query in queries:
        try:
            accepted = check_mysql(query)
        except DBSpecialistError as exc:
            result.notes.append(f"skipped on the scratch copy {query[:80]!r}: {exc}")
            continue
        if names_database(query, database):
            result.notes.append(
                f"skipped on the scratch copy (names the database {database} explicitly, so it would read the real "
                f"tables): {query[:80]!r}"
            )
            continue
        kept.append(query)
        if accepted.kind in _RUNNABLE_KINDS and not qualifies_a_database(query):
            runnable.add(query)
    tables = _tables_to_copy(catalog, kept)
    if not kept or not tables:
        return MysqlScratchResult(
            available=False, reason="no query could be tested on a scratch copy", notes=result.notes
        )
    scratch = scratch_name()
    result.scratch = scratch
    limit = adapter.config.options.statement_timeout_ms
    report = progress or _noop
    session: _Session | None = None
    try:
        async with adapter._connection(limit) as conn:
            session = _Session(adapter, conn, limit)
            try:
                await _verify(
                    session, database, scratch, tables, kept, runnable, candidates, sample_rows, result, report
                )
            except DBSpecialistError as exc:
                result = MysqlScratchResult(
                    available=False,
                    reason=f"the scratch-copy verification stopped: {exc}",
                    notes=result.notes,
                    scratch=scratch,
                )
            finally:
                conn.close()  # never back to the pool: its current database is the scratch one
    finally:
        problem = await asyncio.shield(_drop_scratch(adapter, session, scratch))
        if problem:
            result.notes.append(problem)
    await report(1, 1, "scratch copy dropped")
    return result


async def _verify(
    session: _Session,
    database: str,
    scratch: str,
    tables: Sequence[Table],
    queries: Sequence[str],
    runnable: set[str],
    candidates: Sequence[Candidate],
    sample_rows: int,
    result: MysqlScratchResult,
    report: Progress,
) -> None:
    """Create and fill the scratch database, cost the queries before and with each candidate (into `result`)."""
    steps = len(tables) + len(candidates) + 1
    try:
        await session.run(f"CREATE DATABASE {quote(scratch)}")
    except DBSpecialistError as exc:
        raise type(exc)(f"cannot create a scratch database ({exc})") from None
    copied: set[str] = set()
    for i, table in enumerate(tables):
        await report(i, steps, f"copying {table.name} to the scratch database")
        try:
            partial = await _copy_table(session, database, scratch, table, sample_rows)
        except (QueryError, QueryRefusedError) as exc:
            result.notes.append(f"could not copy {table.name} to the scratch database: {exc}")
            continue
        copied.add(table.name)
        if partial:
            result.notes.append(partial)
    for name, constraint in await session.run(SCRATCH_FOREIGN_KEYS_SQL, (scratch,)):
        await session.run(f"ALTER TABLE {quote(scratch)}.{quote(name)} DROP FOREIGN KEY {quote(constraint)}")
    await session.run(f"USE {quote(scratch)}")
    await report(len(tables), steps, "costing the queries before")
    missing = [t.name for t in tables if t.name not in copied]
    before: dict[str, float] = {}
    measured: set[str] = set()  # costed by rows touched; the others by the optimizer's estimate
    failed: dict[str, str] = {}  # query -> why its run failed (then estimated)
    for query in queries:
        if any(names_table(query, name) for name in missing):
            result.notes.append(f"skipped on the scratch copy (a table it names was not copied): {query[:80]!r}")
            continue
        if session.runner is not None and query in runnable:
            try:
                before[query], _plan = await session.work(query)
                measured.add(query)
                continue
            except (QueryError, QueryRefusedError, QueryTimeoutError) as exc:
                if session.busy:  # the client deadline passed: the connection is no longer usable
                    raise
                failed[query] = str(exc)
        try:
            cost, _plan = await session.cost(query)
        except (QueryError, QueryRefusedError) as exc:
            result.notes.append(f"skipped on the scratch copy {query[:80]!r}: {exc}")
            continue
        if cost is None:
            result.notes.append(f"skipped: the server reports no plan cost (UNION or subquery) {query[:80]!r}")
            continue
        before[query] = cost
    after: dict[str, dict[str, float]] = {q: {} for q in before}
    for j, cand in enumerate(candidates):
        await report(len(tables) + 1 + j, steps, f"testing {cand.name}")
        mine = [q for q in before if names_table(q, cand.table)]
        if cand.table in copied and mine:
            await _measure(session, scratch, cand, mine, measured, after, result.notes)
    result.costs = [QueryCosts(query=q, cost_before=c, cost_after=after[q]) for q, c in before.items()]
    copies = ", ".join(sorted(copied)) or "none"
    how = (
        f"each query was run there ({session.runner}, rows not sent back) before and with each candidate, and its "
        "cost is the rows the server touched (session Handler_read_*, Sort_rows and temporary-table rows), so a "
        "LIMIT served in index order and an avoided sort count"
        if measured
        else "costs are the optimizer's estimates on that sample (they ignore LIMIT and sorts an index avoids)"
    )
    result.notes.append(
        f"verified on a scratch copy ({scratch}, dropped afterwards) of {copies}: at most {sample_rows:,} rows per "
        f"table (the first rows in storage order, not a random sample); {how}; check the chosen indexes with EXPLAIN "
        "on the real table"
    )
    estimated = [q for q in before if q not in measured and q not in failed]
    if measured and estimated:
        result.notes.append(
            "compared by the optimizer's cost estimate instead (not run on the copy: not a plain query, or a table "
            "qualified with a database): " + "; ".join(repr(q[:80]) for q in estimated)
        )
    for query, why in failed.items():
        if query in before:
            result.notes.append(
                f"compared by the optimizer's cost estimate instead (its run on the copy failed: {why}): {query[:80]!r}"
            )
    if session.runner is None and before:
        result.notes.append(
            f"{session.adapter.version or 'this server'} cannot run a query without returning its rows (EXPLAIN "
            "ANALYZE needs MySQL 8.0.18+), so the costs are the optimizer's estimates"
        )


async def _measure(
    session: _Session,
    scratch: str,
    cand: Candidate,
    queries: Sequence[str],
    measured: set[str],
    after: dict[str, dict[str, float]],
    notes: list[str],
) -> None:
    """Create `cand` on the scratch table, cost `queries` with it (the same kind of cost as before), drop it."""
    stmt = cand.model_copy(update={"schema_name": scratch}).statement(concurrently=False)
    try:
        await session.run(stmt)
    except (QueryError, QueryRefusedError) as exc:
        notes.append(f"could not test {cand.ddl!r} on the scratch copy: {exc}")
        return
    try:
        for query in queries:
            try:
                cost, plan = await (session.work(query) if query in measured else session.cost(query))
            except (QueryError, QueryRefusedError, QueryTimeoutError) as exc:
                if session.busy:
                    raise
                notes.append(f"could not cost {query[:80]!r} with {cand.name}: {exc}")
                continue
            if cost is not None and uses_index(plan, cand.name):
                after[query][cand.key] = cost
    finally:
        if not session.busy:
            await session.run(f"DROP INDEX {quote(cand.name)} ON {quote(scratch)}.{quote(cand.table)}")


async def _noop(_done: float, _total: float, _message: str) -> None:
    return None


__all__ = [
    "SAMPLE_ROWS",
    "SCRATCH_PREFIX",
    "WORK_COUNTERS",
    "MysqlScratchResult",
    "evaluate",
    "names_database",
    "names_table",
    "plan_cost",
    "qualifies_a_database",
    "rows_touched",
    "run_statement",
    "scratch_name",
    "uses_index",
]
