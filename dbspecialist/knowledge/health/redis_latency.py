"""Redis health rules on what stalls the server: slow commands in the SLOWLOG, latency-monitor events and big
keys (HLT144-HLT146)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from dbspecialist.knowledge.findings import Finding, Fix, RuleSpec, Severity
from dbspecialist.knowledge.health.common import as_int, health_finding
from dbspecialist.knowledge.health.redis_common import Check, RedisHealthContext, size_text, spec


def _command_arg(text: str) -> str:
    """A key as redis-cli reads it: quoted (with escapes) when it has spaces, quotes or control characters."""
    if text and all(c.isprintable() and c not in " \"'" for c in text):
        return text
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


# -- HLT144 -------------------------------------------------------------------------------------------------

SLOWLOG = spec(
    "HLT144",
    "slow-commands",
    Severity.LOW,
    "Commands in the SLOWLOG took longer than slowlog-log-slower-than (grouped by command).",
    fix="never",
)


def slow_commands(ctx: RedisHealthContext) -> Iterator[Finding]:
    """Commands slower than slowlog-log-slower-than ran: while each ran, every other client waited.

    ## Why it matters
    Redis executes commands one at a time, so a 50 ms command delays every client by 50 ms. The usual
    culprits are O(N) commands on big keys (`KEYS`, `SMEMBERS`, `HGETALL`, `LRANGE 0 -1`, `DEL` of a
    big collection) and long Lua scripts. The SLOWLOG keeps the last `slowlog-max-len` entries.

    ## Threshold
    Every entry is over `slowlog-log-slower-than` (10 ms by default); one finding per command name
    (the five slowest), medium when one took 100 ms or more (our own judgement).

    ## Fix
    Replace KEYS with SCAN, read big collections with SSCAN/HSCAN/ZSCAN or ranges, delete with UNLINK,
    split big keys (HLT146); `top_queries` lists the same entries.
    """
    t = ctx.thresholds
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for entry in ctx.snapshot.get("slowlog") or []:
        groups[str(entry.get("command") or "?")].append(entry)
    ranked = sorted(groups.items(), key=lambda kv: (-max(as_int(e.get("duration_us")) for e in kv[1]), kv[0]))
    for command, entries in ranked[:5]:
        slowest = max(entries, key=lambda e: as_int(e.get("duration_us")))
        max_us = as_int(slowest.get("duration_us"))
        total_us = sum(as_int(e.get("duration_us")) for e in entries)
        yield health_finding(
            SLOWLOG,
            subject=command,
            subject_kind="query",
            title=f"{len(entries)} slow {command} command(s), the slowest {round(max_us / 1000, 1)} ms",
            measured="sample",
            evidence={
                "command": command,
                "entries": len(entries),
                "max_us": max_us,
                "total_us": total_us,
                "slowest_first_arg": slowest.get("key"),
                "slowest_client": slowest.get("client"),
                "slowlog_len": ctx.snapshot.get("slowlog_len"),
                "threshold_us": as_int(ctx.config("slowlog-log-slower-than"), 10_000),
            },
            rationale=f"Redis runs one command at a time, so each slow {command} delayed every other client for as "
            "long.",
            help_="Use SCAN-family commands or ranges instead of whole-collection reads, UNLINK instead of DEL, split "
            "big keys and keep Lua scripts short.",
            severity=Severity.MEDIUM if max_us >= t.slow_command_medium_us else None,
        )


# -- HLT145 -------------------------------------------------------------------------------------------------

LATENCY = spec(
    "HLT145",
    "latency-events",
    Severity.LOW,
    "The latency monitor recorded events over latency-monitor-threshold (LATENCY LATEST).",
    fix="never",
)


def latency_events(ctx: RedisHealthContext) -> Iterator[Finding]:
    """The latency monitor recorded spikes: forks, slow commands, expiry cycles or disk stalls.

    ## Why it matters
    With `latency-monitor-threshold` set, Redis records each event class (`command`, `fast-command`,
    `fork`, `aof-fsync-always`, `expire-cycle`, `eviction-cycle`, ...) that took longer; `LATENCY
    DOCTOR` explains the likely causes in words (Redis docs, "Redis latency monitoring").

    ## Threshold
    Every recorded event is over the monitor's threshold: one finding per event, low, medium when its
    maximum reached 1 s (our own judgement).

    ## Fix
    Follow LATENCY DOCTOR's advice (quoted in the evidence): for `fork`, less memory per instance or
    disabling transparent huge pages; for `command`, the SLOWLOG findings; for `aof-*`, the disk.
    """
    t = ctx.thresholds
    doctor = ctx.snapshot.get("latency_doctor")
    for event in sorted(ctx.snapshot.get("latency_latest") or [], key=lambda e: str(e.get("event"))):
        max_ms = as_int(event.get("max_ms"))
        name = str(event.get("event"))
        yield health_finding(
            LATENCY,
            subject=f"latency {name}",
            subject_kind="server",
            title=f"latency event {name}: latest {event.get('latest_ms')} ms, max {max_ms} ms",
            measured="sample",
            evidence={
                "event": name,
                "latest_ms": as_int(event.get("latest_ms")),
                "max_ms": max_ms,
                "timestamp": event.get("timestamp"),
                "latency_monitor_threshold_ms": as_int(ctx.config("latency-monitor-threshold")) or None,
                "latency_doctor": str(doctor)[:500] if doctor else None,
            },
            rationale="Each recorded event stalled the server longer than the monitor's threshold; LATENCY DOCTOR "
            "names likely causes.",
            help_="Follow LATENCY DOCTOR's advice; for command events see the slow-command findings.",
            severity=Severity.MEDIUM if max_ms >= t.latency_medium_ms else None,
        )


# -- HLT146 -------------------------------------------------------------------------------------------------

BIG_KEYS = spec(
    "HLT146",
    "big-keys",
    Severity.LOW,
    "A sampled key is very large (memory or elements): commands on it block the server.",
    fix="always",
)


def big_keys(ctx: RedisHealthContext) -> Iterator[Finding]:
    """A key is very large: every whole-key command on it blocks the server, and it skews a cluster.

    ## Why it matters
    Reading, deleting, expiring or migrating a big key is one command, so it stalls every client for
    its duration; in Redis Cluster one big key makes its shard bigger than the others and cannot be
    split. Found in the adapter's SCAN sample (up to 1,000 keys) with `MEMORY USAGE` (which samples
    nested values) and the key's length.

    ## Threshold
    10 MiB or 10,000 elements (low); 100 MiB or 1,000,000 elements (medium). Our own judgement, in
    line with common cloud-provider guidance.

    ## Fix
    Split it (by hash of a member, by time bucket), read it with ranges or SCAN-family commands, and
    delete it with `UNLINK` (freed in the background).
    """
    t = ctx.thresholds
    sampled = ctx.snapshot.get("sampled_keys")
    for key in ctx.snapshot.get("biggest_keys") or []:
        size = as_int(key.get("memory_bytes"))
        kind = str(key.get("type") or "")
        elements = as_int(key.get("length")) if kind != "string" else 0
        if size < t.big_key_bytes and elements < t.big_key_elements:
            continue
        high = size >= t.big_key_high_bytes or elements >= t.big_key_high_elements
        name = str(key.get("key"))
        measure = f"{elements:,} elements, " if elements else ""
        yield health_finding(
            BIG_KEYS,
            subject=name,
            subject_kind="key",
            title=f"{kind} key {name} holds {measure}{size_text(size)}",
            measured="sample",
            evidence={
                "key": name,
                "type": kind,
                "memory_bytes": size,
                "length": key.get("length"),
                "sampled_keys": sampled,
                "database": ctx.snapshot.get("database"),
                "threshold_bytes": t.big_key_bytes,
                "threshold_elements": t.big_key_elements,
            },
            rationale="Whole-key commands on it (read, DEL, expiry, migration) stall every client while they run, and "
            "in a cluster it makes one shard bigger than the others.",
            help_="Split it by hash or time bucket, read it with ranges or SCAN-family commands; delete with UNLINK.",
            fix=Fix(
                title=f"Delete {name} without blocking, if it is no longer needed",
                statements=[f"UNLINK {_command_arg(name)}"],
                safety="display-only",
                note="UNLINK frees the memory in a background thread. Only if the data is unwanted: splitting it is "
                "an application change.",
            ),
            severity=Severity.MEDIUM if high else None,
        )


RULES: tuple[tuple[RuleSpec, Check], ...] = (
    (SLOWLOG, slow_commands),
    (LATENCY, latency_events),
    (BIG_KEYS, big_keys),
)


__all__ = ["RULES"]
