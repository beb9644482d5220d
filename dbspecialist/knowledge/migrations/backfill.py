"""Keyset backfills for PostgreSQL: one batch as SQL, and a small runnable script that loops it.

Design (our choices, with the reasons):
- Keyset batches on the primary key (`WHERE pk > last ORDER BY pk LIMIT n`), never OFFSET: every batch is an index
  range scan that starts where the previous one stopped, so batch k costs the same as batch 1.
- Each batch is its own transaction: row locks are held for one batch (~0.1 s), WAL is spread out, and autovacuum
  can clean behind the backfill. A pause between batches (throttle) leaves room for the application's writes.
- The batch's rows are locked in key order with `FOR NO KEY UPDATE` (as pgroll's backfill does), not `FOR UPDATE`:
  it is the lock the UPDATE takes anyway, it does not block inserts into child tables that only need `FOR KEY
  SHARE` on the row, and taking the locks in key order in one place avoids deadlocks with the application. We do
  NOT use `SKIP LOCKED`: a skipped row would be left pending behind the keyset cursor; instead a row held by an
  application transaction makes the batch wait, bounded by the script's `lock_timeout`, and the batch is retried.
- A table with no primary key and no unique NOT NULL index is walked by ranges of heap pages (`ctid >= '(p,0)'
  AND ctid < '(p+n,0)'`, a TID range scan from PostgreSQL 14), the UPDATE itself taking the row locks. A range can
  be empty, so these batches also say whether pages remain (`more`).
- Idempotent: a batch only selects rows that are still pending (`where_pending`), so re-running the whole backfill
  after a crash, or running it twice, touches nothing that is already done. Write `where_pending` so that the SET
  makes it false (e.g. `new_col IS NULL` with `SET new_col = coalesce(old_col, 0)`, or
  `new_col IS DISTINCT FROM old_col::bigint`).
- Resumable: the script records the last key of every committed batch in a state file and starts after it.
- Replica-aware: before each batch it reads the largest `replay_lag` in `pg_stat_replication` on the primary and
  waits while it is over the limit (strong_migrations and gh-ost do the same kind of throttling).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from dbspecialist.knowledge.migrations.estimate import DEFAULT_BATCH_ROWS, DEFAULT_BATCH_SLEEP
from dbspecialist.knowledge.sql_text import quote_ident

REPLICA_LAG_SQL: Final = "SELECT coalesce(max(extract(epoch FROM replay_lag)), 0) FROM pg_stat_replication"
DEFAULT_MAX_LAG_S: Final = 10.0
DEFAULT_PK_TYPE: Final = "bigint"
# The key of a table with no primary key and no unique NOT NULL index: batches walk the heap by page ranges.
CTID: Final = "ctid"
ROWS_PER_PAGE_GUESS: Final = 50  # 8 KiB pages of ~160-byte rows; a range of batch/50 pages holds about `batch` rows
BATCH_LOCK_TIMEOUT: Final = "2s"
BATCH_STATEMENT_TIMEOUT: Final = "60s"


def ident(name: str) -> str:
    """A (possibly schema-qualified) name as SQL, quoting each part only when needed."""
    return ".".join(quote_ident(part, "postgresql") for part in name.split("."))


@dataclass(frozen=True)
class Backfill:
    """What to backfill: `UPDATE table SET set_clause` on every row where `where_pending` holds."""

    table: str
    pk: tuple[str, ...]
    set_clause: str
    where_pending: str
    pk_types: tuple[str, ...]
    batch: int = DEFAULT_BATCH_ROWS

    @classmethod
    def of(
        cls,
        table: str,
        pk: str | Sequence[str],
        set_clause: str,
        where_pending: str,
        *,
        pk_types: str | Sequence[str] | None = None,
        batch: int = DEFAULT_BATCH_ROWS,
    ) -> Backfill:
        keys = (pk,) if isinstance(pk, str) else tuple(pk)
        if not keys:
            raise ValueError("a keyset backfill needs the primary key column(s)")
        if batch < 1:
            raise ValueError("batch must be at least 1 row")
        types = (pk_types,) if isinstance(pk_types, str) else tuple(pk_types or ())
        if not types:
            types = (DEFAULT_PK_TYPE,) * len(keys)
        if len(types) != len(keys):
            raise ValueError("pk_types must give one type per key column")
        return cls(table, keys, set_clause.strip(), where_pending.strip(), types, batch)

    @property
    def by_ctid(self) -> bool:
        """No usable key: batches are ranges of heap pages, read through ctid (see ctid_batch_sql)."""
        return self.pk == (CTID,)

    def batch_sql(self, *, first: bool = False) -> str:
        """One batch. Parameters $1..$n: the last key of the previous batch, as text (omitted when `first`).

        Returns one row: `rows` (rows updated; 0 = finished) and `last_<col>` (the batch's last key, as text).
        """
        if self.by_ctid:
            return self.ctid_batch_sql(first=first)
        cols = [quote_ident(c, "postgresql") for c in self.pk]
        key = ", ".join(cols)
        row_key = cols[0] if len(cols) == 1 else f"({key})"
        params = ", ".join(f"${i}::text::{t}" for i, t in enumerate(self.pk_types, 1))
        after = "" if first else f"{row_key} > {params if len(cols) == 1 else f'({params})'} AND "
        descending = ", ".join(f"{c} DESC" for c in cols)
        last = ",\n       ".join(
            f"(SELECT {c}::text FROM batch ORDER BY {descending} LIMIT 1) AS last_{name}"
            for c, name in zip(cols, self.pk, strict=True)
        )
        table = ident(self.table)
        return (
            "WITH batch AS (\n"
            f"    SELECT {key} FROM {table}\n"
            f"    WHERE {after}({self.where_pending})\n"
            f"    ORDER BY {key}\n"
            f"    LIMIT {self.batch}\n"
            "    FOR NO KEY UPDATE\n"
            "), updated AS (\n"
            f"    UPDATE {table} SET {self.set_clause}\n"
            f"    WHERE {row_key} IN (SELECT {key} FROM batch)\n"
            "    RETURNING 1\n"
            ")\n"
            "SELECT (SELECT count(*) FROM updated) AS rows,\n"
            f"       {last}"
        )

    def ctid_batch_sql(self, *, first: bool = False) -> str:
        """One batch over a range of CTID_BATCH_PAGES heap pages, for a table with no primary or unique NOT NULL key.

        $1 is the first page of the range, as text (0 when `first`). The UPDATE reads the range with a TID range
        scan (PostgreSQL 14+) and re-checks `where_pending` on rows updated concurrently, like any UPDATE. Returns
        `rows`, `last_page` (where the next batch starts) and `more` (false once the range passed the table's end):
        a range can hold no pending rows, so `rows` = 0 alone does not mean finished.
        """
        table = ident(self.table)
        literal = table.replace("'", "''")
        start = "0::bigint" if first else "$1::text::bigint"
        end = f"{start} + {self.ctid_pages}"
        return (
            "WITH updated AS (\n"
            f"    UPDATE {table} SET {self.set_clause}\n"
            f"    WHERE ctid >= format('(%s,0)', {start})::tid AND ctid < format('(%s,0)', {end})::tid\n"
            f"      AND ({self.where_pending})\n"
            "    RETURNING 1\n"
            ")\n"
            "SELECT (SELECT count(*) FROM updated) AS rows,\n"
            f"       ({end})::text AS last_page,\n"
            f"       {end} < pg_relation_size('{literal}'::regclass) / current_setting('block_size')::bigint AS more"
        )

    @property
    def ctid_pages(self) -> int:
        return max(1, self.batch // ROWS_PER_PAGE_GUESS)

    def pending_sql(self) -> str:
        return f"SELECT count(*) FROM {ident(self.table)} WHERE {self.where_pending}"


def backfill_sql(
    table: str,
    pk: str | Sequence[str],
    set_clause: str,
    where_pending: str,
    batch: int = DEFAULT_BATCH_ROWS,
    *,
    pk_types: str | Sequence[str] | None = None,
    first: bool = False,
) -> str:
    """The SQL of one keyset batch (see Backfill.batch_sql); `first` leaves out the `pk > $1` bound."""
    return Backfill.of(table, pk, set_clause, where_pending, pk_types=pk_types, batch=batch).batch_sql(first=first)


def backfill_script(
    table: str,
    pk: str | Sequence[str],
    set_clause: str,
    where_pending: str,
    batch: int = DEFAULT_BATCH_ROWS,
    *,
    pk_types: str | Sequence[str] | None = None,
    sleep_s: float = DEFAULT_BATCH_SLEEP,
    max_lag_s: float = DEFAULT_MAX_LAG_S,
    lock_timeout: str = BATCH_LOCK_TIMEOUT,
    statement_timeout: str = BATCH_STATEMENT_TIMEOUT,
) -> str:
    """A small asyncpg script that runs the backfill: batches, commits, throttles, watches replica lag, resumes."""
    spec = Backfill.of(table, pk, set_clause, where_pending, pk_types=pk_types, batch=batch)
    slug = re.sub(r"\W+", "_", "_".join((spec.table, *spec.pk))).strip("_").lower()
    return _SCRIPT.format(
        table=_doc(spec.table),
        set_clause=_doc(spec.set_clause),
        where_pending=_doc(spec.where_pending),
        first_sql=_block(spec.batch_sql(first=True)),
        next_sql=_block(spec.batch_sql()),
        pending_sql=repr(spec.pending_sql()),
        lag_sql=repr(REPLICA_LAG_SQL),
        reltuples_sql=repr(
            f"SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE oid = '{ident(spec.table)}'::regclass"
        ),
        batch=spec.batch,
        how=(
            f"No primary or unique NOT NULL key: batches of {spec.ctid_pages} heap pages by ctid"
            if spec.by_ctid
            else f"Keyset batches of {spec.batch} rows on the primary key"
        ),
        sleep=sleep_s,
        max_lag=max_lag_s,
        lock_timeout=lock_timeout,
        statement_timeout=statement_timeout,
        state=f"backfill_{slug}.state.json",
    )


def _doc(text: str) -> str:
    """Text safe inside the script's docstring."""
    return " ".join(text.replace("\\", "/").replace('"' * 3, "'" * 3).split())


def _block(sql: str) -> str:
    """The SQL as a readable Python string literal (triple-quoted when that is safe)."""
    if '"""' in sql or "\\" in sql or sql.endswith('"'):
        return repr(sql)
    return '"""\n' + sql + '\n"""'


_SCRIPT = '''#!/usr/bin/env python3
"""Backfill {table}: SET {set_clause} WHERE {where_pending}.

Generated by dbspecialist. {how}, one transaction each, a pause
between batches, and a wait whenever a replica lags by more than --max-lag seconds. Stop it at any time (Ctrl-C)
and run it again: it resumes after the last committed batch (--state file), and a batch only touches rows that
are still pending, so re-running it is harmless. Needs `pip install asyncpg`.

    python backfill.py postgresql://user@primary/db [--sleep {sleep}] [--max-lag {max_lag}] [--verify]
"""

import argparse
import asyncio
import json
import pathlib
import time

import asyncpg

FIRST_BATCH = {first_sql}
NEXT_BATCH = {next_sql}
REPLICA_LAG = {lag_sql}
ESTIMATED_ROWS = {reltuples_sql}
STILL_PENDING = {pending_sql}
RETRYABLE = (asyncpg.LockNotAvailableError, asyncpg.QueryCanceledError, asyncpg.DeadlockDetectedError)


async def wait_for_replicas(conn, max_lag):
    while (lag := float(await conn.fetchval(REPLICA_LAG))) > max_lag:
        print(f"replica lag {{lag:.1f}} s > {{max_lag}} s: waiting", flush=True)
        await asyncio.sleep(min(lag, 30))


async def run_batch(conn, last):
    """One batch in its own transaction (autocommit); retried with backoff on lock or statement timeouts."""
    for attempt in range(1, 11):
        try:
            return await conn.fetchrow(FIRST_BATCH if last is None else NEXT_BATCH, *(last or ()))
        except RETRYABLE as exc:
            pause = min(2 ** attempt * 0.1, 10)
            print(f"batch after {{last}}: {{type(exc).__name__}} ({{exc}}); retry in {{pause:.1f}} s", flush=True)
            await asyncio.sleep(pause)
    raise SystemExit("giving up after 10 attempts: look for long transactions in pg_stat_activity")


async def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dsn", help="connection URL of the PRIMARY")
    parser.add_argument("--sleep", type=float, default={sleep}, help="pause between batches (s)")
    parser.add_argument("--max-lag", type=float, default={max_lag}, help="wait while a replica lags more (s)")
    parser.add_argument("--state", default="{state}", help="file holding the last done key")
    parser.add_argument("--restart", action="store_true", help="ignore the state file and start from the first key")
    parser.add_argument("--verify", action="store_true", help="count rows still pending at the end (a full scan)")
    args = parser.parse_args()
    state = pathlib.Path(args.state)
    last = None if args.restart or not state.exists() else json.loads(state.read_text())
    conn = await asyncpg.connect(args.dsn)
    try:
        await conn.execute("SET lock_timeout = '{lock_timeout}'")
        await conn.execute("SET statement_timeout = '{statement_timeout}'")
        estimate = await conn.fetchval(ESTIMATED_ROWS)
        done, batches, started = 0, 0, time.monotonic()
        print(f"starting after key {{last}}; table has ~{{estimate:,}} rows", flush=True)
        while True:
            await wait_for_replicas(conn, args.max_lag)
            row = await run_batch(conn, last)
            if row["rows"] == 0 and not row.get("more", False):
                break
            last = [row[key] for key in row.keys() if key.startswith("last_")]
            state.write_text(json.dumps(last))
            done, batches = done + row["rows"], batches + 1
            rate = done / max(time.monotonic() - started, 1e-6)
            print(f"batch {{batches}}: {{done:,}} rows done ({{rate:,.0f}} rows/s), last key {{last}}", flush=True)
            await asyncio.sleep(args.sleep)
        print(f"finished: {{done:,}} rows in {{time.monotonic() - started:.1f}} s", flush=True)
        if args.verify:
            pending = await conn.fetchval(STILL_PENDING)
            print(f"rows still pending: {{pending:,}}" + (" (run again with --restart)" if pending else ""))
        state.unlink(missing_ok=True)
    finally:
        await conn.close()


if __name__ == "__main__":
    asyncio.run(main())
'''
