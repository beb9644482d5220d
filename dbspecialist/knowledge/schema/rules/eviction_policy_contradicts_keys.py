"""SCH083 eviction-policy-contradicts-keys: maxmemory and the eviction policy do not fit the keys stored."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from dbspecialist.adapters.catalog import Keyspace
from dbspecialist.knowledge.findings import Finding, Fix, RuleSpec, Severity
from dbspecialist.knowledge.schema.context import SchemaContext
from dbspecialist.knowledge.schema.rules.cache_keys_without_ttl import keyspace_of, looks_like_cache

SPEC = RuleSpec(
    id="SCH083",
    name="eviction-policy-contradicts-keys",
    capability="schema",
    engines=("redis",),
    severity=Severity.HIGH,
    status="preview",
    fix="sometimes",
    summary="maxmemory or maxmemory-policy contradicts the key population (cache data, expiries).",
)

# A volatile-* policy can only evict keys with an expiry; below this share of keys with one, most of
# the data set is out of its reach (our own judgement; Redis docs, "Key eviction").
VOLATILE_MIN_TTL_SHARE_PCT = 50.0
# Suggested maxmemory when the server reports its RAM: leave a quarter for the fork that persistence
# uses (copy-on-write) and for fragmentation (our own judgement).
MAXMEMORY_SHARE_OF_RAM = 0.75

_SIZE = re.compile(r"^\s*(\d+)\s*([kmg]b?)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "k": 1000, "kb": 1024, "m": 1000**2, "mb": 1024**2, "g": 1000**3, "gb": 1024**3}


@dataclass(frozen=True)
class _Population:
    keys: int | None
    keys_with_ttl: int | None
    ttl_share_pct: float | None
    cache_patterns: list[str]
    cache_patterns_without_ttl: list[str]
    all_cache: bool


def _bytes(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return int(value)
    if isinstance(value, str) and (match := _SIZE.match(value)):
        return int(match.group(1)) * _UNITS[(match.group(2) or "").lower()]
    return None


def _memory_info(keyspace: Keyspace) -> dict[str, Any]:
    return keyspace.info.get("memory") or {}


def _limits(ctx: SchemaContext, keyspace: Keyspace) -> tuple[int | None, str | None]:
    memory = _memory_info(keyspace)
    maxmemory = _bytes(ctx.settings.get("maxmemory"))
    if maxmemory is None:
        maxmemory = _bytes(memory.get("maxmemory"))
    policy = ctx.settings.get("maxmemory-policy") or memory.get("maxmemory_policy")
    return maxmemory, str(policy).lower() if policy else None


def _population(keyspace: Keyspace) -> _Population:
    keys = sum(d.keys for d in keyspace.databases) if keyspace.databases else None
    with_ttl = sum(d.expires for d in keyspace.databases) if keyspace.databases else None
    if keys:
        share: float | None = round(100 * (with_ttl or 0) / keys, 1)
    elif sampled := sum(p.sampled_keys for p in keyspace.patterns):
        share = round(sum(p.sampled_keys * p.ttl_share_pct for p in keyspace.patterns) / sampled, 1)
    else:
        share = None
    cache = [p for p in keyspace.patterns if looks_like_cache(p.pattern)]
    return _Population(
        keys=keys,
        keys_with_ttl=with_ttl,
        ttl_share_pct=share,
        cache_patterns=sorted({p.pattern for p in cache}),
        cache_patterns_without_ttl=sorted({p.pattern for p in cache if p.ttl_share_pct == 0}),
        all_cache=bool(keyspace.patterns) and len(cache) == len(keyspace.patterns),
    )


def _suggested_policy(population: _Population, current: str | None) -> str:
    """allkeys-* when everything is cache; volatile-* (evict only what expires) when data is mixed."""
    family = "lfu" if current and current.endswith("-lfu") else "lru"
    return f"allkeys-{family}" if population.all_cache else f"volatile-{family}"


def check(ctx: SchemaContext) -> Iterator[Finding]:
    """A memory limit and eviction policy that do not match the data make Redis fail when it fills up.

    ## Why is this bad?
    With `maxmemory 0` Redis has no limit: cache data grows until the operating system kills the
    process or it swaps. With `noeviction` a full server refuses writes with an OOM error instead
    of dropping stale cache entries. A `volatile-*` policy evicts only keys that have an expiry,
    so when most keys have none it behaves like `noeviction`.

    ## Example
    ```
    CONFIG GET maxmemory-policy        # volatile-lru
    INFO keyspace                      # db0:keys=2000000,expires=1200
    ```

    ## Use instead
    ```
    CONFIG SET maxmemory 6gb
    CONFIG SET maxmemory-policy allkeys-lru   # everything here is cache
    CONFIG REWRITE
    ```
    Or keep `volatile-lru` and give every cache key an expiry (SCH080), so persistent data is
    never evicted.

    ## Fix safety
    Display only: an allkeys policy evicts any key, which loses data that is not a cache;
    CONFIG REWRITE needs the server to have been started from a configuration file.
    """
    keyspace = keyspace_of(ctx)
    if keyspace is None:
        return
    maxmemory, policy = _limits(ctx, keyspace)
    if maxmemory is None and policy is None:
        return
    population = _population(keyspace)
    memory = _memory_info(keyspace)
    evidence: dict[str, int | float | str | bool | None] = {
        "maxmemory": maxmemory,
        "maxmemory_policy": policy,
        "used_memory": _bytes(memory.get("used_memory")),
        "keys": population.keys,
        "keys_with_ttl": population.keys_with_ttl,
        "ttl_share_pct": population.ttl_share_pct,
        "cache_like_patterns": len(population.cache_patterns),
        "cache_like_patterns_without_ttl": len(population.cache_patterns_without_ttl),
        "example_pattern": next(iter(population.cache_patterns_without_ttl or population.cache_patterns), None),
    }
    suggested = _suggested_policy(population, policy)
    if maxmemory == 0:
        if not population.cache_patterns:
            return
        total = _bytes(memory.get("total_system_memory"))
        limit = f"{int(total * MAXMEMORY_SHARE_OF_RAM) // 1024**2}mb" if total else "<bytes, e.g. 4gb>"
        statements = [f"redis-cli CONFIG SET maxmemory {limit}"]
        if policy in (None, "noeviction"):
            statements.append(f"redis-cli CONFIG SET maxmemory-policy {suggested}")
        statements.append("redis-cli CONFIG REWRITE")
        yield _finding(
            Severity.MEDIUM,
            "maxmemory",
            f"maxmemory is 0 (no limit) while {len(population.cache_patterns)} key pattern(s) hold cache-like data, "
            "so memory grows until the process is killed",
            evidence,
            (
                "Without a memory limit Redis never evicts anything: cache data keeps growing until the machine "
                "swaps or the kernel kills the process. A limit with an eviction policy turns that into dropping "
                "the least useful entries."
            ),
            f"Set maxmemory below the machine's RAM and an eviction policy ({suggested}).",
            Fix(
                title="Set a memory limit and an eviction policy",
                statements=statements,
                safety="display-only",
                note="Size the limit for this machine; CONFIG REWRITE persists it only if Redis uses a config file.",
            ),
        )
        return
    if policy == "noeviction" and population.cache_patterns_without_ttl:
        yield _finding(
            Severity.HIGH,
            "maxmemory-policy",
            f"maxmemory-policy is noeviction while {len(population.cache_patterns_without_ttl)} cache-like "
            "pattern(s) never expire, so a full server refuses every write",
            evidence,
            (
                "At the memory limit noeviction answers writes with an OOM error instead of dropping stale cache "
                "entries, and cache keys without an expiry never make room on their own."
            ),
            f"Switch to an eviction policy ({suggested}) and give cache keys an expiry.",
            _policy_fix(suggested),
        )
    elif policy is not None and policy.startswith("volatile-") and population.ttl_share_pct is not None:
        if population.ttl_share_pct >= VOLATILE_MIN_TTL_SHARE_PCT:
            return
        yield _finding(
            Severity.HIGH if population.ttl_share_pct == 0 else Severity.MEDIUM,
            "maxmemory-policy",
            (
                f"maxmemory-policy is {policy} but no key has an expiry, so nothing can be evicted"
                if population.ttl_share_pct == 0
                else f"maxmemory-policy is {policy} but only {population.ttl_share_pct} % of keys have an expiry, "
                "so most of the data cannot be evicted"
            ),
            evidence,
            (
                f"{policy} only evicts keys that carry an expiry. With most keys persistent it runs out of "
                "candidates and then refuses writes like noeviction."
            ),
            "Give cache keys an expiry, or use an allkeys policy if every key is disposable.",
            _policy_fix(_suggested_policy(population, policy)) if population.all_cache else None,
        )


def _policy_fix(policy: str) -> Fix:
    return Fix(
        title=f"Use the {policy} eviction policy",
        statements=[f"redis-cli CONFIG SET maxmemory-policy {policy}", "redis-cli CONFIG REWRITE"],
        safety="display-only",
        note="allkeys-* may evict any key; use it only when every key can be rebuilt from elsewhere.",
    )


def _finding(
    severity: Severity,
    subject: str,
    title: str,
    evidence: dict[str, int | float | str | bool | None],
    rationale: str,
    help_: str,
    fix: Fix | None,
) -> Finding:
    return Finding(
        rule_id=SPEC.id,
        name=SPEC.name,
        severity=severity,
        title=title,
        subject=subject,
        subject_kind="server",
        table=None,
        evidence=evidence,
        rationale=rationale,
        help=help_,
        fix=fix,
    )
