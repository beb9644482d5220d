"""The live configuration audit (TUN001-TUN039): each rule fires on the dangerous value and stays quiet otherwise."""

from __future__ import annotations

import inspect
import re
from typing import Any

import pytest

from dbspecialist.adapters.catalog import KeyPattern, Keyspace
from dbspecialist.knowledge.findings import Severity
from dbspecialist.knowledge.tuning.audit import AUDIT_ENGINES, AUDIT_RULES, audit


def _keyspace(*patterns: tuple[str, int, float]) -> Keyspace:
    """Patterns as (pattern, sampled keys, % with an expiry)."""
    return Keyspace(
        sampled_keys=sum(n for _p, n, _t in patterns),
        patterns=[KeyPattern(pattern=p, type="string", sampled_keys=n, ttl_share_pct=t) for p, n, t in patterns],
    )


CACHE = _keyspace(("cache:*", 40, 0.0), ("session:*", 30, 0.0), ("user:*", 10, 0.0))
CACHE_WITH_TTL = _keyspace(("cache:*", 40, 100.0), ("user:*", 10, 0.0))
PERSISTENT = _keyspace(("user:*", 60, 0.0), ("order:*", 30, 0.0), ("cache:*", 10, 100.0))
QUEUE = _keyspace(("jobs:*", 5, 0.0), ("user:*", 50, 0.0))
GIB = str(1024**3)

# (rule id, engine, settings, audit keyword arguments): the rule must fire.
FIRES: list[tuple[str, str, dict[str, str], dict[str, Any]]] = [
    ("TUN001", "postgresql", {"fsync": "off"}, {}),
    ("TUN001", "postgresql", {"fsync": "off", "in_hot_standby": "on"}, {}),  # corrupts replicas too
    ("TUN002", "postgresql", {"full_page_writes": "off"}, {}),
    ("TUN003", "postgresql", {"synchronous_commit": "off", "wal_writer_delay": "200"}, {}),
    ("TUN004", "postgresql", {"autovacuum": "off"}, {}),
    ("TUN004", "postgresql", {"autovacuum": "on", "track_counts": "off"}, {}),
    ("TUN005", "postgresql", {"wal_level": "minimal", "max_wal_senders": "0"}, {}),
    ("TUN006", "postgresql", {"max_connections": "2000"}, {}),
    ("TUN007", "postgresql", {"zero_damaged_pages": "on"}, {}),
    ("TUN010", "mysql", {"innodb_flush_log_at_trx_commit": "2"}, {}),
    ("TUN010", "mysql", {"innodb_flush_log_at_trx_commit": "0"}, {}),
    ("TUN011", "mysql", {"sync_binlog": "0", "log_bin": "ON"}, {}),
    ("TUN011", "mysql", {"sync_binlog": "100", "log_bin": "ON"}, {}),
    ("TUN012", "mysql", {"innodb_doublewrite": "OFF"}, {}),
    ("TUN012", "mysql", {"innodb_doublewrite": "DETECT_ONLY"}, {}),
    ("TUN013", "mysql", {"query_cache_type": "ON", "query_cache_size": "1048576"}, {}),
    ("TUN014", "mysql", {"skip_name_resolve": "OFF"}, {}),
    ("TUN020", "sqlite", {"synchronous": "0", "journal_mode": "delete"}, {}),
    ("TUN020", "sqlite", {"synchronous": "off", "journal_mode": "wal"}, {}),
    ("TUN021", "sqlite", {"journal_mode": "memory"}, {}),
    ("TUN021", "sqlite", {"journal_mode": "off"}, {}),
    ("TUN022", "sqlite", {"synchronous": "1", "journal_mode": "delete"}, {}),
    ("TUN025", "mongodb", {"storage.journal.enabled": "false"}, {}),
    ("TUN026", "mongodb", {"storage.wiredTiger.engineConfig.cacheSizeGB": "15"}, {"ram_gb": 16}),
    ("TUN027", "mongodb", {"operationProfiling.mode": "all"}, {}),
    ("TUN030", "redis", {"maxmemory": "0", "maxmemory-policy": "noeviction"}, {"keyspace": CACHE}),
    ("TUN031", "redis", {"maxmemory": GIB, "maxmemory-policy": "noeviction"}, {"keyspace": CACHE}),
    ("TUN032", "redis", {"appendonly": "no", "save": ""}, {"keyspace": PERSISTENT}),
    (
        "TUN033",
        "redis",
        {"maxmemory": GIB, "maxmemory-policy": "volatile-lru"},
        {
            "keyspace": PERSISTENT.model_copy(
                update={"patterns": [p.model_copy(update={"ttl_share_pct": 0.0}) for p in PERSISTENT.patterns]}
            )
        },
    ),
    ("TUN034", "redis", {"protected-mode": "no", "bind": "* -::*", "requirepass": ""}, {}),
    ("TUN034", "redis", {"protected-mode": "no", "bind": "", "requirepass": ""}, {}),
]

# (rule id, engine, settings, audit keyword arguments): the rule must stay quiet.
QUIET: list[tuple[str, str, dict[str, str], dict[str, Any]]] = [
    ("TUN001", "postgresql", {"fsync": "on"}, {}),
    ("TUN002", "postgresql", {"full_page_writes": "on"}, {}),
    ("TUN003", "postgresql", {"synchronous_commit": "on"}, {}),
    ("TUN003", "postgresql", {"synchronous_commit": "local"}, {}),
    ("TUN003", "postgresql", {"synchronous_commit": "off"}, {"primary": False}),
    ("TUN003", "postgresql", {"synchronous_commit": "off", "in_hot_standby": "on"}, {}),
    ("TUN004", "postgresql", {"autovacuum": "on", "track_counts": "on"}, {}),
    ("TUN005", "postgresql", {"wal_level": "replica"}, {}),
    ("TUN005", "postgresql", {"wal_level": "minimal"}, {"primary": False}),
    ("TUN006", "postgresql", {"max_connections": "500"}, {}),
    ("TUN007", "postgresql", {"zero_damaged_pages": "off"}, {}),
    ("TUN010", "mysql", {"innodb_flush_log_at_trx_commit": "1"}, {}),
    ("TUN010", "mysql", {"innodb_flush_log_at_trx_commit": "2"}, {"primary": False}),
    ("TUN011", "mysql", {"sync_binlog": "0", "log_bin": "OFF"}, {}),
    ("TUN011", "mysql", {"sync_binlog": "1", "log_bin": "ON"}, {}),
    ("TUN011", "mysql", {"sync_binlog": "0", "log_bin": "ON"}, {"primary": False}),
    ("TUN012", "mysql", {"innodb_doublewrite": "ON"}, {}),
    ("TUN012", "mysql", {"innodb_doublewrite": "DETECT_AND_RECOVER"}, {}),
    ("TUN013", "mysql", {"query_cache_type": "OFF", "query_cache_size": "1048576"}, {}),
    ("TUN013", "mysql", {"query_cache_type": "ON", "query_cache_size": "0"}, {}),
    ("TUN013", "mysql", {"query_cache_type": "DEMAND", "query_cache_size": "1048576"}, {}),
    ("TUN014", "mysql", {"skip_name_resolve": "ON"}, {}),
    ("TUN020", "sqlite", {"synchronous": "2", "journal_mode": "delete"}, {}),
    ("TUN020", "sqlite", {"synchronous": "1", "journal_mode": "wal"}, {}),
    ("TUN021", "sqlite", {"journal_mode": "wal"}, {}),
    ("TUN021", "sqlite", {"journal_mode": "delete"}, {}),
    ("TUN022", "sqlite", {"synchronous": "1", "journal_mode": "wal"}, {}),
    ("TUN022", "sqlite", {"synchronous": "2", "journal_mode": "truncate"}, {}),
    ("TUN025", "mongodb", {"storage.journal.enabled": "true"}, {}),
    ("TUN025", "mongodb", {"storage.dbPath": "/data/db"}, {}),
    ("TUN026", "mongodb", {"storage.wiredTiger.engineConfig.cacheSizeGB": "15"}, {"ram_gb": 32}),
    ("TUN026", "mongodb", {"storage.wiredTiger.engineConfig.cacheSizeGB": "15"}, {}),  # RAM unknown
    ("TUN027", "mongodb", {"operationProfiling.mode": "slowOp"}, {}),
    ("TUN030", "redis", {"maxmemory": "0", "maxmemory-policy": "noeviction"}, {"keyspace": PERSISTENT}),
    ("TUN030", "redis", {"maxmemory": "0", "maxmemory-policy": "noeviction"}, {}),  # no keyspace sample
    ("TUN030", "redis", {"maxmemory": GIB, "maxmemory-policy": "allkeys-lfu"}, {"keyspace": CACHE}),
    ("TUN031", "redis", {"maxmemory": GIB, "maxmemory-policy": "allkeys-lfu"}, {"keyspace": CACHE}),
    ("TUN031", "redis", {"maxmemory": GIB, "maxmemory-policy": "noeviction"}, {"keyspace": QUEUE}),
    ("TUN031", "redis", {"maxmemory": "0", "maxmemory-policy": "noeviction"}, {"keyspace": CACHE}),  # TUN030's
    ("TUN032", "redis", {"appendonly": "yes", "save": ""}, {"keyspace": PERSISTENT}),
    ("TUN032", "redis", {"appendonly": "no", "save": "3600 1 300 100"}, {"keyspace": PERSISTENT}),
    ("TUN032", "redis", {"appendonly": "no", "save": ""}, {"keyspace": CACHE}),
    ("TUN033", "redis", {"maxmemory": GIB, "maxmemory-policy": "volatile-lru"}, {"keyspace": CACHE_WITH_TTL}),
    ("TUN033", "redis", {"maxmemory": GIB, "maxmemory-policy": "allkeys-lru"}, {"keyspace": PERSISTENT}),
    ("TUN034", "redis", {"protected-mode": "yes", "bind": "*", "requirepass": ""}, {}),
    ("TUN034", "redis", {"protected-mode": "no", "bind": "127.0.0.1 -::1", "requirepass": ""}, {}),
    ("TUN034", "redis", {"protected-mode": "no", "bind": "*", "requirepass": "s3cret"}, {}),
]


def _ids(engine: str, settings: dict[str, str], kwargs: dict[str, Any]) -> list[str]:
    return [f.rule_id for f in audit(engine, settings, **kwargs)]


@pytest.mark.parametrize(("rule_id", "engine", "settings", "kwargs"), FIRES)
def test_rule_fires_on_the_dangerous_value(
    rule_id: str, engine: str, settings: dict[str, str], kwargs: dict[str, Any]
) -> None:
    findings = [f for f in audit(engine, settings, **kwargs) if f.rule_id == rule_id]
    assert len(findings) == 1
    finding = findings[0]
    assert finding.subject_kind == "server" and finding.evidence and finding.rationale and finding.help
    assert finding.fix is not None and finding.fix.statements


@pytest.mark.parametrize(("rule_id", "engine", "settings", "kwargs"), QUIET)
def test_rule_stays_quiet_on_the_safe_value(
    rule_id: str, engine: str, settings: dict[str, str], kwargs: dict[str, Any]
) -> None:
    assert rule_id not in _ids(engine, settings, kwargs)


def test_every_rule_has_a_firing_and_a_quiet_case() -> None:
    ids = {spec.id for spec, _check in AUDIT_RULES}
    assert ids == {case[0] for case in FIRES}
    assert ids == {case[0] for case in QUIET}


def test_rule_specs_are_stable_tuning_rules_with_documented_checks() -> None:
    ids = [spec.id for spec, _check in AUDIT_RULES]
    assert len(ids) == len(set(ids))
    assert len({spec.name for spec, _check in AUDIT_RULES}) == len(ids)
    for spec, check in AUDIT_RULES:
        assert re.fullmatch(r"TUN0(0[1-9]|[12]\d|3\d)", spec.id), spec.id
        assert spec.capability == "tuning" and spec.live_only
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", spec.name)
        assert set(spec.engines) <= set(AUDIT_ENGINES)
        doc = inspect.getdoc(check) or ""
        for section in ("## Why is this bad?", "## Example", "## Use instead", "## Fix safety"):
            assert section in doc, f"{spec.id} docstring lacks {section}"


def test_a_rule_only_runs_for_its_engine() -> None:
    # fsync=off means nothing to MySQL; innodb_doublewrite=OFF means nothing to PostgreSQL.
    assert _ids("mysql", {"fsync": "off"}, {}) == []
    assert _ids("postgresql", {"innodb_doublewrite": "OFF"}, {}) == []


def test_postgres_defaults_are_clean_and_a_broken_server_is_sorted_by_severity() -> None:
    healthy = {
        "fsync": "on",
        "full_page_writes": "on",
        "synchronous_commit": "on",
        "autovacuum": "on",
        "track_counts": "on",
        "wal_level": "replica",
        "max_connections": "100",
        "zero_damaged_pages": "off",
        "in_hot_standby": "off",
    }
    assert audit("postgresql", healthy) == []
    broken = healthy | {"fsync": "off", "synchronous_commit": "off", "autovacuum": "off", "full_page_writes": "off"}
    findings = audit("postgresql", broken)
    assert [(f.rule_id, f.severity) for f in findings] == [
        ("TUN001", Severity.CRITICAL),
        ("TUN002", Severity.CRITICAL),
        ("TUN004", Severity.HIGH),
        ("TUN003", Severity.MEDIUM),
    ]
    assert audit("postgresql", dict(reversed(list(broken.items())))) == findings  # order of input irrelevant


def test_postgres_fix_is_alter_system_and_reload() -> None:
    (finding,) = audit("postgres", {"fsync": "off"})  # the calculator's engine name is accepted
    assert finding.fix is not None
    assert finding.fix.statements == ["ALTER SYSTEM SET fsync = on;", "SELECT pg_reload_conf();"]
    assert finding.evidence["fsync"] == "off"
    (wal,) = audit("postgresql", {"wal_level": "minimal"})
    assert wal.fix is not None and "SELECT pg_reload_conf();" not in wal.fix.statements  # needs a restart
    assert wal.fix.note is not None and "restart" in wal.fix.note


def test_synchronous_commit_explains_bounded_loss_not_corruption() -> None:
    (finding,) = audit("postgresql", {"synchronous_commit": "off", "wal_writer_delay": "200"})
    assert finding.severity is Severity.MEDIUM
    assert finding.evidence["wal_writer_delay_ms"] == 200
    assert "consistent" in finding.rationale and "fsync = off" in finding.rationale


def test_flush_log_at_trx_commit_0_and_2_are_told_apart() -> None:
    (zero,) = audit("mysql", {"innodb_flush_log_at_trx_commit": "0"})
    (two,) = audit("mysql", {"innodb_flush_log_at_trx_commit": "2"})
    assert zero.severity is two.severity is Severity.HIGH
    assert "mysqld crash alone loses" in zero.title
    assert "a mysqld crash alone does not" in two.title


def test_mysql_fix_is_set_persist_on_mysql8_and_set_global_plus_cnf_on_mariadb() -> None:
    (mysql8,) = audit("mysql", {"innodb_flush_log_at_trx_commit": "2", "version": "8.0.36"})
    assert mysql8.fix is not None and mysql8.fix.statements == ["SET PERSIST innodb_flush_log_at_trx_commit = 1;"]
    (maria,) = audit("mysql", {"innodb_flush_log_at_trx_commit": "2", "version": "10.11.19-MariaDB-0+deb12u1"})
    assert maria.fix is not None and maria.fix.statements[0] == "SET GLOBAL innodb_flush_log_at_trx_commit = 1;"
    assert "innodb_flush_log_at_trx_commit = 1" in maria.fix.statements[1]
    assert "my.cnf" in maria.fix.statements[1]
    (old,) = audit("mariadb", {"sync_binlog": "0", "log_bin": "ON"}, version="5.7.44")
    assert old.fix is not None and old.fix.statements[0] == "SET GLOBAL sync_binlog = 1;"
    (doublewrite,) = audit("mysql", {"innodb_doublewrite": "OFF", "version": "8.0.36"})
    assert doublewrite.fix is not None and not any(s.startswith("SET ") for s in doublewrite.fix.statements)


def test_sync_binlog_above_1_is_medium() -> None:
    (finding,) = audit("mysql", {"sync_binlog": "100", "log_bin": "ON"})
    assert finding.severity is Severity.MEDIUM and finding.evidence["sync_binlog"] == 100


def test_sqlite_fix_depends_on_the_journal_mode() -> None:
    (rollback,) = audit("sqlite", {"synchronous": "0", "journal_mode": "delete"})
    (wal,) = audit("sqlite", {"synchronous": "0", "journal_mode": "wal"})
    assert rollback.fix is not None and rollback.fix.statements == ["PRAGMA synchronous = FULL;"]
    assert wal.fix is not None and wal.fix.statements == ["PRAGMA synchronous = NORMAL;"]
    (journal,) = audit("sqlite", {"journal_mode": "memory", "synchronous": "2"})
    assert journal.fix is not None and journal.fix.statements == ["PRAGMA journal_mode = WAL;"]


def test_redis_cache_without_limit_gets_a_limit_and_an_allkeys_policy() -> None:
    findings = audit("redis", {"maxmemory": "0", "maxmemory-policy": "noeviction"}, keyspace=CACHE, ram_gb=8)
    assert [f.rule_id for f in findings] == ["TUN030"]  # noeviction is moot without a limit
    fix = findings[0].fix
    assert fix is not None
    assert fix.statements == [
        "CONFIG SET maxmemory 6144mb",
        "CONFIG SET maxmemory-policy allkeys-lfu",
        "CONFIG REWRITE",
    ]
    assert findings[0].evidence["cache_like_share_pct"] == 87.5  # (40 + 30) of 80 sampled keys


def test_redis_noeviction_fix_evicts_least_frequently_used() -> None:
    (finding,) = audit("redis", {"maxmemory": "1gb", "maxmemory-policy": "noeviction"}, keyspace=CACHE)
    assert finding.fix is not None and finding.fix.statements[0] == "CONFIG SET maxmemory-policy allkeys-lfu"
    assert finding.evidence["maxmemory"] == 1024**3


def test_redis_open_server_evidence_never_holds_the_password() -> None:
    (finding,) = audit("redis", {"protected-mode": "no", "bind": "0.0.0.0", "requirepass": ""})
    assert finding.evidence["requirepass_set"] is False
    assert "requirepass" not in finding.evidence


def test_mongodb_cache_fix_uses_the_server_default_rule() -> None:
    (finding,) = audit("mongodb", {"storage.wiredTiger.engineConfig.cacheSizeGB": "15"}, ram_gb=16)
    assert finding.evidence["server_default_gb"] == 7.5 and finding.evidence["limit_gb"] == 12.8
    assert finding.fix is not None and "cache_size=7680M" in finding.fix.statements[0]


def test_unknown_engine_names_the_valid_ones() -> None:
    with pytest.raises(ValueError, match="postgresql, mysql, sqlite, mongodb, redis"):
        audit("oracle", {})


def test_audit_does_not_mutate_its_input_and_ignores_none() -> None:
    settings: dict[str, Any] = {"FSYNC": "off", "autovacuum": None}
    before = dict(settings)
    findings = audit("postgresql", settings)
    assert settings == before
    assert [f.rule_id for f in findings] == ["TUN001"]  # names are case-insensitive; None is "not reported"


def test_audit_module_loads_no_database_driver() -> None:
    import subprocess
    import sys

    code = (
        "import sys, dbspecialist.knowledge.tuning.audit\n"
        "drivers = ('asyncpg', 'aiomysql', 'pymysql', 'redis', 'pymongo', 'aiosqlite')\n"
        "loaded = [m for m in drivers if m in sys.modules]\n"
        "print(','.join(loaded))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.strip() == ""
