"""The generated backfill script, run for real on 1,000,000 rows while an application keeps writing.

It must fill every row, let the writer's inserts and updates through without long waits, resume after the key in
its state file, and do nothing when run again.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from dbspecialist.knowledge.migrations.backfill import backfill_script
from tests.integration.postgres.conftest import PG_URL

pytestmark = pytest.mark.integration

ROWS = 1_000_000
BATCH = 5_000  # the planner's default
MAX_WRITE_WAIT_S = 1.0  # a write may wait for one batch's row locks (~0.05 s per 5,000-row batch here)


@pytest.fixture
async def big() -> AsyncIterator[dict[str, Any]]:
    schema = f"dbspecialist_mig_b_bf_{secrets.token_hex(4)}"
    conn = await asyncpg.connect(PG_URL)
    await conn.execute(
        f"""
        CREATE SCHEMA {schema};
        CREATE TABLE {schema}.big (id bigint PRIMARY KEY, amount int NOT NULL, amount_cents bigint);
        INSERT INTO {schema}.big (id, amount) SELECT g, g % 1000 FROM generate_series(1, {ROWS}) g;
        ANALYZE {schema}.big;
        """
    )
    try:
        yield {"schema": schema, "conn": conn, "table": f"{schema}.big"}
    finally:
        await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        await conn.close()


async def run_script(path: Path, *args: str) -> str:
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(path), PG_URL, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0, err.decode()
    return out.decode()


def finished_rows(output: str) -> int:
    match = re.search(r"finished: ([\d,]+) rows", output)
    assert match, output
    return int(match.group(1).replace(",", ""))


async def test_backfill_script_on_a_million_rows_with_concurrent_writes(big: dict[str, Any], tmp_path: Path) -> None:
    conn, table = big["conn"], big["table"]
    script = tmp_path / "backfill.py"
    script.write_text(
        backfill_script(table, "id", "amount_cents = amount::bigint * 100", "amount_cents IS NULL", BATCH, sleep_s=0)
    )
    state = tmp_path / "state.json"
    state.write_text(json.dumps([str(ROWS // 2)]))  # as if a first run had stopped after key 500,000

    writer = await asyncpg.connect(PG_URL)
    latencies: list[float] = []
    stop = asyncio.Event()

    async def application() -> None:
        """The deployed application: inserts new rows and updates old ones, writing both columns."""
        next_id = ROWS + 1
        while not stop.is_set():
            started = time.monotonic()
            await writer.execute(f"INSERT INTO {table} (id, amount, amount_cents) VALUES ($1, 7, 700)", next_id)
            await writer.execute(
                f"UPDATE {table} SET amount = amount + 1, amount_cents = (amount + 1)::bigint * 100 WHERE id = $1",
                (next_id * 7919) % ROWS + 1,
            )
            latencies.append(time.monotonic() - started)
            next_id += 1
            await asyncio.sleep(0.002)

    task = asyncio.ensure_future(application())
    try:
        resumed = await run_script(script, "--sleep", "0", "--state", str(state))
        assert f"starting after key ['{ROWS // 2}']" in resumed
        first_half_pending = await conn.fetchval(
            f"SELECT count(*) FROM {table} WHERE id <= $1 AND amount_cents IS NULL", ROWS // 2
        )
        assert first_half_pending > ROWS // 2 - 10_000  # only the writer touched the first half
        assert (
            await conn.fetchval(f"SELECT count(*) FROM {table} WHERE id > $1 AND amount_cents IS NULL", ROWS // 2) == 0
        )
        assert not state.exists()  # a finished run removes its state file

        completed = await run_script(script, "--sleep", "0", "--state", str(state), "--restart", "--verify")
        assert "rows still pending: 0" in completed
        assert finished_rows(resumed) + finished_rows(completed) <= ROWS
    finally:
        stop.set()
        await task
        await writer.close()

    assert await conn.fetchval(f"SELECT count(*) FROM {table} WHERE amount_cents IS NULL") == 0
    assert await conn.fetchval(f"SELECT count(*) FROM {table} WHERE amount_cents <> amount::bigint * 100") == 0
    assert len(latencies) > 50, f"only {len(latencies)} application writes went through during the backfill"
    assert max(latencies) < MAX_WRITE_WAIT_S, f"a write waited {max(latencies):.2f} s"
    print(f"{len(latencies)} writes during the backfill, longest {max(latencies) * 1000:.0f} ms")

    again = await run_script(script, "--sleep", "0", "--state", str(state), "--restart")
    assert finished_rows(again) == 0  # idempotent: nothing is pending, nothing is touched
