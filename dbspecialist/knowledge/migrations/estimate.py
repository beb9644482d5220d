"""Duration estimates from a table's size, with the throughput each assumes stated in the result.

The rates are deliberately conservative figures for a busy server on SSD storage with one core doing the work
(our assumptions, not measurements of the user's server); every estimate names the rate it used so the user
can rescale it. `bench/` and the integration tests show the order of magnitude on this project's own server.
"""

from __future__ import annotations

from typing import Final

from dbspecialist.knowledge.migrations.model import DurationEstimate, TableEffect, TableStats

SCAN_MB_S: Final = 200.0  # a sequential read of the heap (validation, SET NOT NULL scan, ANALYZE-free checks)
REWRITE_MB_S: Final = 50.0  # a rewrite: read + write heap, WAL, and rebuild every index
INDEX_BUILD_MB_S: Final = 80.0  # a B-tree build: heap scan plus the sort (maintenance_work_mem sized sensibly)
CONCURRENT_BUILD_FACTOR: Final = 2.5  # CONCURRENTLY scans twice and waits out older transactions
METADATA_SECONDS: Final = 0.01  # a catalog update once the lock is granted
BYTES_PER_ROW_GUESS: Final = 150  # when only a row count is known
DEFAULT_BATCH_ROWS: Final = 5_000
BATCH_SECONDS: Final = 0.15  # one keyset batch of 5,000 rows: update + commit, indexed lookups
DEFAULT_BATCH_SLEEP: Final = 0.05  # throttle between batches so replicas and autovacuum keep up

_MB = 1024 * 1024


def table_bytes(stats: TableStats | None) -> int | None:
    if stats is None:
        return None
    if stats.bytes is not None:
        return stats.bytes
    if stats.rows is not None:
        return stats.rows * BYTES_PER_ROW_GUESS
    return None


def _size_text(stats: TableStats | None) -> str:
    if stats is None or (stats.rows is None and stats.bytes is None):
        return "table size unknown (pass table_stats or a connection)"
    parts = []
    if stats.rows is not None:
        parts.append(f"{stats.rows:,} rows")
    if stats.bytes is not None:
        parts.append(f"{stats.bytes / _MB:,.0f} MiB")
    else:
        parts.append(f"~{(table_bytes(stats) or 0) / _MB:,.0f} MiB at {BYTES_PER_ROW_GUESS} B/row")
    return ", ".join(parts)


def estimate(effect: TableEffect, stats: TableStats | None, *, concurrent: bool = False) -> DurationEstimate:
    """Wall time for a step with `effect` on a table of `stats` size."""
    if effect in ("none", "metadata"):
        return DurationEstimate(seconds=METADATA_SECONDS, basis="catalog change only; independent of table size")
    size = table_bytes(stats)
    rate = {"scan": SCAN_MB_S, "rewrite": REWRITE_MB_S, "build": INDEX_BUILD_MB_S}.get(effect)
    if effect == "rows":
        return backfill_estimate(stats)
    if rate is None:
        raise ValueError(f"no estimate for effect {effect!r}")
    factor = CONCURRENT_BUILD_FACTOR if concurrent else 1.0
    what = {"scan": "sequential scan", "rewrite": "rewrite incl. indexes", "build": "index build"}[effect]
    basis = f"{_size_text(stats)}; {what} at {rate:g} MB/s"
    if concurrent:
        basis += f", x{CONCURRENT_BUILD_FACTOR:g} for the two passes of CONCURRENTLY"
    if size is None:
        return DurationEstimate(seconds=None, basis=basis)
    return DurationEstimate(seconds=round(size / _MB / rate * factor + METADATA_SECONDS, 2), basis=basis)


def backfill_estimate(
    stats: TableStats | None, batch_rows: int = DEFAULT_BATCH_ROWS, sleep_s: float = DEFAULT_BATCH_SLEEP
) -> DurationEstimate:
    basis = (
        f"{_size_text(stats)}; keyset batches of {batch_rows:,} rows at ~{BATCH_SECONDS:g} s each "
        f"plus a {sleep_s:g} s pause"
    )
    rows = stats.rows if stats is not None and stats.rows is not None else None
    if rows is None and stats is not None and stats.bytes is not None:
        rows = stats.bytes // BYTES_PER_ROW_GUESS
    if rows is None:
        return DurationEstimate(seconds=None, basis=basis)
    batches = -(-rows // batch_rows)
    per_batch = BATCH_SECONDS * batch_rows / DEFAULT_BATCH_ROWS + sleep_s
    return DurationEstimate(seconds=round(batches * per_batch, 2), basis=basis)
