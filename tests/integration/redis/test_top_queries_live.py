"""top_queries on a real Redis: SLOWLOG entries of a deliberately slow, uniquely tagged Lua script.

The server is shared: the slow log is never reset. When the threshold would not log a ~10 ms command it is set to
10 ms for the test and put back in a `finally`.
"""

from __future__ import annotations

import secrets
import time

import pytest
import redis

from dbspecialist.adapters.redis import RedisAdapter
from dbspecialist.adapters.top_queries import fetch_top_queries
from dbspecialist.knowledge.workload.top_queries import top_queries_report

RUNS = 3
THRESHOLD_US = 10_000
LOOP = 3_000_000  # tens of milliseconds of Lua on any machine this runs on


async def test_slowlog_returns_the_slow_script_just_run(raw: redis.Redis, adapter: RedisAdapter) -> None:
    tag = f"tq_{secrets.token_hex(4)}"
    script = f"-- {tag}\nlocal i = 0 while i < {LOOP} do i = i + 1 end return i"
    original = str(raw.config_get("slowlog-log-slower-than")["slowlog-log-slower-than"])
    changed = not 0 <= int(original) <= THRESHOLD_US
    durations = []
    try:
        if changed:
            raw.config_set("slowlog-log-slower-than", THRESHOLD_US)
        for _ in range(RUNS):
            started = time.perf_counter()
            assert raw.eval(script, 0) == LOOP
            durations.append((time.perf_counter() - started) * 1000)
    finally:
        if changed:
            raw.config_set("slowlog-log-slower-than", original)
    assert min(durations) > THRESHOLD_US / 1000, "the script ran faster than the slow-log threshold"

    report = top_queries_report(await fetch_top_queries(adapter, "total_time", 100), "redis", "total_time", 100)
    assert report.available and report.source == "SLOWLOG" and report.measured == "sample"
    ours = [q for q in report.queries if tag in q.query]
    assert len(ours) == 1, [q.query for q in report.queries]
    [entry] = ours
    collapsed = " ".join(script.split())
    assert len(collapsed) > 60 and entry.query == f"EVAL {collapsed[:60]}… ?"  # the script's start, ? for numkeys
    assert entry.calls == RUNS and entry.kind == "command"
    # the server's own timing of each run is at least the threshold and at most what the client measured
    assert THRESHOLD_US / 1000 * RUNS <= entry.total_time_ms <= sum(durations)
    assert entry.mean_time_ms == pytest.approx(entry.total_time_ms / RUNS, abs=0.002)
    assert entry.next_step is None and entry.advice is not None and "script blocks the server" in entry.advice
    assert any("slowlog-log-slower-than" in note for note in report.notes)
