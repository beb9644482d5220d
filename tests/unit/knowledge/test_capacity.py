"""plan_capacity: the arithmetic recomputed independently, the first limit, the ordered recommendations."""

from __future__ import annotations

import math
import re

import pytest

from dbspecialist.adapters.capacity_facts import mysql_working_set, pg_setting_bytes, pg_working_set
from dbspecialist.adapters.catalog import Catalog, Table
from dbspecialist.knowledge.capacity.model import CapacityFacts
from dbspecialist.knowledge.capacity.project import plan_capacity

GiB = 1024**3
MiB = 1024**2

# A PostgreSQL server: 40 GiB of data on a 500 GiB volume with 440 GiB free, 64 GiB RAM, 60 of 197 connections,
# 20 % CPU on 8 cores, 2,000 queries/s of which 200 write.
KNOWN = CapacityFacts(
    engine="postgresql",
    data_bytes=40 * GiB,
    data_growth_bytes_per_day=512 * MiB,
    largest_table="public.events",
    largest_table_bytes=25 * GiB,
    ram_bytes=64 * GiB,
    cache_bytes=16 * GiB,
    cache_name="shared_buffers",
    working_set_bytes=12 * GiB,
    connections_used=60,
    connections_max=197,
    qps=2000,
    writes_per_second=200,
    wal_bytes_per_second=5 * MiB,
    storage_total_bytes=500 * GiB,
    storage_free_bytes=440 * GiB,
    cpu_cores=8,
    cpu_busy_pct=20,
)


def test_every_projection_matches_the_arithmetic() -> None:
    factor = 10
    report = plan_capacity(KNOWN, factor)
    rows = {p.resource: p for p in report.projections}

    # storage: the 20 GiB that is not data does not grow
    used, data = (500 - 440) * GiB, 40 * GiB
    other, limit = used - data, 0.85 * 500 * GiB
    storage = rows["storage"]
    assert storage.current == used and storage.limit == round(limit, 2)
    assert storage.projected == round(other + data * factor, 2)
    assert storage.headroom == round(limit / used, 2) == 7.08
    assert storage.breaks_at == round((limit - other) / data, 2) == 10.12
    assert storage.breaks is False
    assert storage.detail == {
        "days_to_limit_now": round((limit - used) / (512 * MiB), 1),
        "days_to_limit_at_factor": round((limit - used) / (512 * MiB * factor), 1),
    }

    # memory: PostgreSQL reads through shared_buffers and the OS page cache: 0.75 of RAM
    memory = rows["memory"]
    assert memory.limit == 0.75 * 64 * GiB
    assert memory.projected == 12 * GiB * factor
    assert memory.headroom == memory.breaks_at == round(0.75 * 64 / 12, 2) == 4.0
    assert memory.breaks is True

    connections = rows["connections"]
    assert (connections.current, connections.projected, connections.limit) == (60, 600, 197)
    assert connections.breaks_at == round(197 / 60, 2) == 3.28 and connections.breaks is True
    assert connections.formula == "60 used * 10 = 600 vs max 197; headroom 197 / 60 = x3.28"

    cpu = rows["cpu"]
    assert (cpu.current, cpu.projected, cpu.limit, cpu.breaks_at) == (20, 200, 80, 4.0)
    assert cpu.detail == {"cores_needed_at_factor": math.ceil(8 * 20 * factor / 80)} == {"cores_needed_at_factor": 20}

    wal = rows["wal"]
    assert wal.projected == 50 * MiB and wal.limit is None and wal.breaks is None
    assert wal.detail == {"per_day_now": 5 * MiB * 86_400, "per_day_at_factor": 5 * MiB * 86_400 * factor}
    assert rows["qps"].projected == 20_000 and rows["writes"].projected == 2_000

    # connections break first (3.28 < 4.0 < 10.12)
    assert report.first_limit == "connections" and report.first_breaks_at == 3.28
    assert report.handles_factor is False
    assert (
        report.verdict
        == "no: connections breaks first, at x3.28 of today's load; then memory at x4, cpu at x4 (target x10)"
    )
    assert report.unknown == ["qps", "writes", "wal"]


def test_recommendations_in_order_with_their_numbers() -> None:
    report = plan_capacity(KNOWN, 10)
    steps = [r.step for r in report.recommendations]
    assert steps == ["pooling", "memory", "read_replicas", "partitioning", "caching", "sharding"]
    pooling, memory, replicas, partitioning, caching, sharding = report.recommendations

    assert pooling.needed is True
    assert "a pool of 16 (= 2 * 8 cores)" in pooling.actions[0]

    assert memory.needed is True
    ram = 12 * GiB * 10 / 0.75  # 160 GiB
    assert f"RAM >= 120.00 GiB / 0.75 = {ram / GiB:.2f} GiB" in memory.actions[0]

    # reads are 90 %: ceil(10 * 0.9 / 4) replicas; the primary keeps 10 * 0.1 = x1 of today's load
    assert replicas.needed is True
    assert f"= {math.ceil(10 * 0.9 / 4)}" in replicas.reason and "x1 of today's load" in replicas.reason

    # 25 GiB * 10 = 250 GiB > 64 GiB of RAM
    assert partitioning.needed is True and "250.00 GiB vs RAM 64.00 GiB" in partitioning.reason

    # a cache must absorb h >= 1 - (4 / 10 - 0.1) / 0.9 of the reads
    hit = 1 - (4 / 10 - 0.1) / 0.9
    assert caching.needed is True and f"= {hit * 100:.2f} %" in caching.reason

    # writes are 10 % and stay on the primary: 4 / 0.1 = x40 >= x10
    assert sharding.needed is False and sharding.reason.startswith("the write path holds to x40 >= x10")
    assert any("Citus" in a for a in sharding.actions)
    assert any("monotonically increasing" in a for a in sharding.actions)


def test_write_heavy_load_needs_sharding_and_caching_cannot_save_it() -> None:
    facts = KNOWN.model_copy(update={"qps": 1000, "writes_per_second": 500, "cpu_busy_pct": 40})
    report = plan_capacity(facts, 10)
    cpu = next(p for p in report.projections if p.resource == "cpu")
    assert cpu.breaks_at == 2.0
    caching, sharding = report.recommendations[4], report.recommendations[5]
    # writes alone: 0.5 * 10 = x5 > x2
    assert caching.needed is False and "writes alone are 0.5 * 10 = x5" in caching.reason
    # the primary's write limit: 2 / 0.5 = x4 < x10 -> ceil(10 / 4) = 3 shards
    assert sharding.needed is True
    assert sharding.reason.endswith(f"shards ~ ceil(10 / 4) = {math.ceil(10 / 4)}")


def test_measured_write_ceiling_breaks() -> None:
    facts = CapacityFacts(engine="mysql", writes_per_second=300, max_writes_per_second=1200)
    report = plan_capacity(facts, 10)
    writes = next(p for p in report.projections if p.resource == "writes")
    assert (writes.headroom, writes.breaks_at, writes.breaks) == (4.0, 4.0, True)
    assert report.first_limit == "writes" and report.handles_factor is False
    sharding = report.recommendations[5]
    assert sharding.needed is True and "ceil(10 / 4) = 3" in sharding.reason
    assert "Vitess" in sharding.actions[0]


def test_healthy_server_handles_the_factor() -> None:
    facts = CapacityFacts(
        engine="postgresql",
        connections_used=5,
        connections_max=500,
        cpu_busy_pct=2,
        working_set_bytes=GiB,
        ram_bytes=64 * GiB,
    )
    report = plan_capacity(facts, 10)
    assert report.handles_factor is True
    assert report.first_limit == "cpu" and report.first_breaks_at == 40.0
    assert report.verdict.startswith(
        "yes at x10: the closest limit is cpu, reached at x40 (judged: memory, connections, cpu); "
        "not judged: storage, qps, writes, wal"
    )
    assert report.recommendations[0].needed is False and report.recommendations[2].needed is False


def test_nothing_known_is_unknown() -> None:
    report = plan_capacity(CapacityFacts(), 10)
    assert report.handles_factor is None and report.first_limit is None
    assert report.verdict.startswith("unknown: no limit could be judged; give ")
    assert set(report.unknown) == {"storage", "memory", "connections", "cpu", "qps", "writes", "wal"}
    assert {r.needed for r in report.recommendations} == {None}


def test_memory_limits_per_engine() -> None:
    redis = plan_capacity(CapacityFacts(engine="redis", working_set_bytes=3 * GiB, maxmemory_bytes=4 * GiB), 2)
    memory = next(p for p in redis.projections if p.resource == "memory")
    assert (memory.limit, memory.breaks_at) == (4 * GiB, round(4 / 3, 2))
    assert redis.recommendations[3].needed is False  # nothing to partition in Redis

    no_max = plan_capacity(
        CapacityFacts(engine="redis", working_set_bytes=GiB, maxmemory_bytes=0, ram_bytes=8 * GiB), 2
    )
    assert next(p for p in no_max.projections if p.resource == "memory").limit == 0.75 * 8 * GiB

    mongo = plan_capacity(CapacityFacts(engine="mongodb", working_set_bytes=GiB, ram_bytes=9 * GiB), 2)
    assert next(p for p in mongo.projections if p.resource == "memory").limit == 0.5 * (9 - 1) * GiB

    mysql = plan_capacity(CapacityFacts(engine="mysql", working_set_bytes=GiB, cache_bytes=2 * GiB), 4)
    row = next(p for p in mysql.projections if p.resource == "memory")
    assert (row.limit, row.breaks_at, row.breaks) == (2 * GiB, 2.0, True)


def test_data_size_stands_in_for_an_unknown_working_set() -> None:
    report = plan_capacity(CapacityFacts(engine="sqlite", data_bytes=GiB, ram_bytes=2 * GiB), 10)
    memory = next(p for p in report.projections if p.resource == "memory")
    assert memory.current == GiB and memory.breaks_at == 1.5
    assert memory.formula.startswith("all data (working set unknown: an upper bound) 1.00 GiB * 10")


def test_growth_factor_must_grow() -> None:
    with pytest.raises(ValueError, match="more than 1"):
        plan_capacity(KNOWN, 1)


def test_given_facts_override_live_ones() -> None:
    live = CapacityFacts(engine="postgresql", data_bytes=100, connections_max=97, sources={"data_bytes": "live"})
    merged = live.merged({"data_bytes": 500, "ram_bytes": 8 * GiB, "cpu_busy_pct": None})
    assert (merged.data_bytes, merged.ram_bytes, merged.connections_max, merged.cpu_busy_pct) == (
        500,
        8 * GiB,
        97,
        None,
    )
    assert merged.sources == {"data_bytes": "given", "ram_bytes": "given"}
    assert live.merged(None) is live


def test_pg_helpers_for_live_facts() -> None:
    assert pg_setting_bytes("16384", "8kB") == 16384 * 8192
    assert pg_setting_bytes("4", "GB") == 4 * GiB
    assert pg_setting_bytes("-1", "kB") is None and pg_setting_bytes(None, "kB") is None
    catalog = Catalog(
        engine="postgresql",
        tables=[
            Table(name="scanned", table_bytes=800, index_bytes=100, stats={"seq_scan": 3}),
            Table(name="indexed", table_bytes=5000, index_bytes=200, stats={"seq_scan": 0, "idx_scan": 9}),
        ],
    )
    size, basis = pg_working_set(catalog)
    assert size == 100 + 200 + 800
    assert "1 table(s) read by sequential scans (800 bytes)" in basis


def test_postgres_without_ram_has_no_memory_limit() -> None:
    """shared_buffers is only part of PostgreSQL's cache: without RAM, memory is unknown, not 'breaks'."""
    facts = CapacityFacts(
        engine="postgresql", working_set_bytes=231 * MiB, cache_bytes=128 * MiB, cache_name="shared_buffers"
    )
    report = plan_capacity(facts, 10)
    memory = next(p for p in report.projections if p.resource == "memory")
    assert memory.limit is None and memory.breaks is None and memory.breaks_at is None
    assert "ram_bytes" in memory.missing and "memory" in report.unknown
    assert report.first_limit != "memory" and not report.verdict.startswith("no")
    with_ram = plan_capacity(facts.model_copy(update={"ram_bytes": 8 * GiB}), 10)
    assert next(p for p in with_ram.projections if p.resource == "memory").breaks is False


def test_all_data_past_the_limit_today_cannot_prove_a_break() -> None:
    report = plan_capacity(CapacityFacts(engine="mysql", data_bytes=100 * GiB, cache_bytes=8 * GiB), 10)
    memory = next(p for p in report.projections if p.resource == "memory")
    assert memory.breaks is None and memory.breaks_at is None and "working_set_bytes" in memory.missing
    assert "only part of it is hot" in memory.formula


@pytest.mark.parametrize(
    ("cached", "pool", "data", "expected"),
    [
        (int(43.7 * MiB), 128 * MiB, 16 * 1024, 16 * 1024),  # this database is tiny: its data bounds its share
        (40 * MiB, 128 * MiB, 100 * MiB, 40 * MiB),  # pool not full: what is cached, all schemas
        (127 * MiB, 128 * MiB, 100 * GiB, None),  # a full pool shows its own size, not the working set
        (40 * MiB, 128 * MiB, None, 40 * MiB),
        (None, 128 * MiB, 5, None),
    ],
)
def test_mysql_working_set_is_scoped_and_a_full_pool_is_no_estimate(
    cached: int | None, pool: int, data: int | None, expected: int | None
) -> None:
    notes: list[str] = []
    size, basis, _source = mysql_working_set(cached, pool, data, notes)
    assert size == expected
    assert (basis is None) == (expected is None)
    if cached is not None and cached >= 0.9 * pool:
        assert any("buffer pool is full" in n for n in notes)


def test_mysql_live_shape_no_longer_breaks_at_three() -> None:
    """QA: 16 KiB database, 43.7 MiB cached server-wide, 128 MiB pool gave 'memory breaks first at x2.93'."""
    size, basis, _ = mysql_working_set(int(43.7 * MiB), 128 * MiB, 16 * 1024, [])
    facts = CapacityFacts(
        engine="mysql", data_bytes=16 * 1024, cache_bytes=128 * MiB, working_set_bytes=size, working_set_basis=basis
    )
    memory = next(p for p in plan_capacity(facts, 10).projections if p.resource == "memory")
    assert memory.breaks is False and (memory.breaks_at or 0) > 1000


@pytest.mark.parametrize(
    ("facts", "message"),
    [
        ({"storage_total_bytes": 100, "storage_free_bytes": 500, "data_bytes": 50}, "more than storage_total_bytes"),
        ({"cpu_busy_pct": 150, "cpu_cores": 4}, "cpu_busy_pct is a share of all cores, 0-100 (got 150)"),
        ({"dataBytes": 5}, "unknown fact 'dataBytes': did you mean 'data_bytes'?"),
    ],
)
def test_contradictory_or_unknown_facts_are_errors(facts: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        plan_capacity(CapacityFacts.model_validate({"engine": "postgresql", **facts}), 10)


@pytest.mark.parametrize("factor", [1, 0, -3, 10_001])
def test_growth_factor_bounds_in_plain_words(factor: float) -> None:
    with pytest.raises(ValueError, match=r"growth_factor must be more than 1 and at most 10,000 \(got "):
        plan_capacity(KNOWN, factor)


def test_only_connections_judged_is_unknown_not_yes() -> None:
    # QA2 #9: 6 of 7 resources unknown; connections fit at x10, which says nothing about the rest.
    facts = CapacityFacts(
        engine="postgresql",
        connections_used=6,
        connections_max=97,
        data_bytes=449_412_455,
        qps=19.8,
        cache_bytes=128 * 1024**2,
        cache_name="shared_buffers",
        largest_table="shop.bloaty",
        largest_table_bytes=214_425_600,
        largest_table_dead_pct=75.0,
    )
    report = plan_capacity(facts, 10)
    assert report.handles_factor is None and report.first_limit == "connections"
    assert report.verdict.startswith("unknown at x10: only connections checked (the closest limit is connections")
    assert "not judged: storage, memory, cpu, qps, writes, wal" in report.verdict
    partitioning = report.recommendations[3]
    # shared_buffers is not the memory a table must fit in, and three quarters of the table are dead tuples.
    assert partitioning.needed is None
    assert "75 % dead tuples" in partitioning.reason and "RAM unknown" in partitioning.reason
    assert "vs memory 128" not in partitioning.reason


def test_bloated_largest_table_is_judged_on_its_live_size() -> None:
    facts = CapacityFacts(
        engine="postgresql", largest_table="t", largest_table_bytes=40 * GiB, largest_table_dead_pct=90.0,
        ram_bytes=64 * GiB,
    )  # fmt: skip
    partitioning = plan_capacity(facts, 10).recommendations[3]
    assert partitioning.needed is False and "4.00 GiB * 10 = 40.00 GiB vs RAM 64.00 GiB" in partitioning.reason
