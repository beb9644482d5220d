"""The configuration audit against real servers: settings read through each adapter, then `audit()`.

A healthy server yields no critical finding; a server deliberately set to a dangerous value yields the
exact finding. The shared servers are never reconfigured, except MariaDB's dynamic
innodb_flush_log_at_trx_commit, which is restored in `finally`. PostgreSQL and Redis get scratch servers
(own data directory, free port, stopped and removed afterwards). Each live audit is timed (printed; see
`-s`), with a generous bound so a hung server fails the test instead of stalling it.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from dbspecialist.adapters.base import DatabaseAdapter
from dbspecialist.adapters.catalog import Keyspace
from dbspecialist.config import ConnectionConfig, ConnectionOptions, parse_connection
from dbspecialist.knowledge.findings import Finding, Severity
from dbspecialist.knowledge.tuning.audit import audit
from tests.integration.servers import IN_CI, require_server

pytestmark = pytest.mark.integration

PG_URL = os.environ.get("DBSPECIALIST_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/dbspecialist_test")
MYSQL_URL = os.environ.get("DBSPECIALIST_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/dbspecialist_test")
REDIS_URL = "redis://127.0.0.1:6379/13"
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 15.0
# A live audit (settings + keyspace sample + audit) on loopback: far below this unless something hangs.
LIVE_AUDIT_MAX_S = 10.0
# The scratch Redis: no persistence, no memory limit, the default policy (a cache with these settings is at risk).
REDIS_DANGER = ("--appendonly", "no", "--maxmemory", "0", "--maxmemory-policy", "noeviction", "--daemonize", "no")
MONGO_QUIET = ("--log-level", "WARNING")


def _config(name: str, url: str) -> ConnectionConfig:
    return parse_connection(name, url, source="test", options=ConnectionOptions())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _skip_or_fail(message: str) -> None:
    if IN_CI:
        pytest.fail(message)
    pytest.skip(f"SKIPPED LOUDLY: {message}")


async def _live_audit(
    adapter: DatabaseAdapter, engine: str, *, with_keyspace: bool = False, **kwargs: Any
) -> tuple[list[Finding], dict[str, str], float]:
    """Settings (and the Redis keyspace) through the adapter, then the audit; returns the elapsed seconds."""
    started = time.perf_counter()
    settings = {s.name: s.value for s in await adapter.settings() if s.value is not None}
    keyspace: Keyspace | None = (await adapter.introspect()).keyspace if with_keyspace else None
    findings = audit(engine, settings, keyspace=keyspace, **kwargs)
    elapsed = time.perf_counter() - started
    print(f"\nlive audit {engine} ({adapter.config.name}): {elapsed * 1000:.1f} ms, {len(findings)} finding(s)")
    assert elapsed < LIVE_AUDIT_MAX_S
    return findings, settings, elapsed


def _by_rule(findings: list[Finding]) -> dict[str, Finding]:
    return {f.rule_id: f for f in findings}


# -- PostgreSQL -----------------------------------------------------------------------------------


async def test_postgres_shared_server_has_no_critical_finding() -> None:
    from dbspecialist.adapters.postgres import PostgresAdapter

    parts = urlsplit(PG_URL)
    require_server("PostgreSQL", parts.hostname or "127.0.0.1", parts.port or 5432)
    adapter = PostgresAdapter(_config("pg", PG_URL))
    try:
        findings, settings, _ = await _live_audit(adapter, "postgresql")
    finally:
        await adapter.close()
    assert settings["fsync"] == "on" and settings["full_page_writes"] == "on"
    assert not [f for f in findings if f.severity is Severity.CRITICAL]
    # What it does find is explained by the live values it read.
    for finding in findings:
        assert finding.rule_id.startswith("TUN") and finding.evidence


def _as_postgres(command: list[str]) -> list[str]:
    """initdb and pg_ctl refuse to run as root: run them as the postgres OS user then."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@pytest.fixture
def scratch_postgres() -> Iterator[int]:
    """A throw-away cluster (initdb in a temp dir) with fsync = off and synchronous_commit = off; yields its port."""
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if initdb is None or pg_ctl is None:
        _skip_or_fail("initdb/pg_ctl are not on PATH: cannot start a scratch PostgreSQL cluster")
    assert initdb is not None and pg_ctl is not None
    if os.geteuid() == 0:
        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            _skip_or_fail("running as root without a postgres OS user: cannot run initdb")
            raise
    home = Path(tempfile.mkdtemp(prefix="dbs_audit_pg_"))
    data = home / "data"
    port = _free_port()
    started = False
    try:
        if os.geteuid() == 0:
            os.chown(home, user.pw_uid, user.pw_gid)
        subprocess.run(
            _as_postgres([initdb, "-D", str(data), "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8"]),
            check=True,
            capture_output=True,
            timeout=120,
        )
        with (data / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write(
                "\n# dbspecialist audit test: deliberately dangerous\n"
                "fsync = off\nsynchronous_commit = off\n"
                f"port = {port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{home}'\n"
                "max_connections = 20\nshared_buffers = 32MB\n"
            )
        subprocess.run(
            _as_postgres(
                [
                    pg_ctl,
                    "-D",
                    str(data),
                    "-l",
                    str(home / "server.log"),
                    "-w",
                    "-t",
                    str(int(START_TIMEOUT_S)),
                    "start",
                ]
            ),
            check=True,
            capture_output=True,
            timeout=START_TIMEOUT_S + 10,
        )
        started = True
        yield port
    finally:
        if started:
            subprocess.run(
                _as_postgres([pg_ctl, "-D", str(data), "-m", "fast", "-w", "-t", str(int(STOP_TIMEOUT_S)), "stop"]),
                capture_output=True,
                timeout=STOP_TIMEOUT_S + 10,
                check=False,
            )
        shutil.rmtree(home, ignore_errors=True)


async def test_postgres_scratch_cluster_with_fsync_off_is_critical(scratch_postgres: int) -> None:
    from dbspecialist.adapters.postgres import PostgresAdapter

    adapter = PostgresAdapter(_config("scratch", f"postgresql://postgres@127.0.0.1:{scratch_postgres}/postgres"))
    try:
        findings, settings, _ = await _live_audit(adapter, "postgresql")
    finally:
        await adapter.close()
    assert settings["fsync"] == "off" and settings["synchronous_commit"] == "off"
    found = _by_rule(findings)
    assert found["TUN001"].severity is Severity.CRITICAL
    assert found["TUN001"].evidence["fsync"] == "off"
    assert found["TUN001"].fix is not None
    assert found["TUN001"].fix.statements == ["ALTER SYSTEM SET fsync = on;", "SELECT pg_reload_conf();"]
    assert found["TUN003"].severity is Severity.MEDIUM
    assert "TUN002" not in found  # full_page_writes stayed on
    assert findings[0].rule_id == "TUN001"  # most severe first


# -- MariaDB / MySQL ------------------------------------------------------------------------------


def _mysql_admin() -> Any:
    import pymysql

    parts = urlsplit(MYSQL_URL)
    return pymysql.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 3306,
        user=parts.username or "root",
        password=parts.password or "",
        autocommit=True,
    )


async def test_mariadb_flush_log_at_trx_commit_2_is_flagged_and_restored() -> None:
    from dbspecialist.adapters.mysql import MySQLAdapter

    parts = urlsplit(MYSQL_URL)
    require_server("MariaDB/MySQL", parts.hostname or "127.0.0.1", parts.port or 3306)
    url = MYSQL_URL.rsplit("/", 1)[0] + "/mysql"
    admin = _mysql_admin()
    try:
        with admin.cursor() as cur:
            cur.execute("SELECT @@GLOBAL.innodb_flush_log_at_trx_commit")
            original = int(cur.fetchone()[0])
        adapter = MySQLAdapter(_config("maria", url))
        try:
            healthy, _, _ = await _live_audit(adapter, "mysql")
        finally:
            await adapter.close()
        assert not [f for f in healthy if f.severity is Severity.CRITICAL]
        if original == 1:
            assert "TUN010" not in _by_rule(healthy)
        try:
            with admin.cursor() as cur:
                cur.execute("SET GLOBAL innodb_flush_log_at_trx_commit = 2")
            adapter = MySQLAdapter(_config("maria", url))
            try:
                findings, settings, _ = await _live_audit(adapter, "mysql")
            finally:
                await adapter.close()
        finally:
            with admin.cursor() as cur:
                cur.execute(f"SET GLOBAL innodb_flush_log_at_trx_commit = {original}")
        with admin.cursor() as cur:
            cur.execute("SELECT @@GLOBAL.innodb_flush_log_at_trx_commit")
            assert int(cur.fetchone()[0]) == original
    finally:
        admin.close()
    finding = _by_rule(findings)["TUN010"]
    assert settings["innodb_flush_log_at_trx_commit"] == "2"
    assert finding.severity is Severity.HIGH and finding.evidence["innodb_flush_log_at_trx_commit"] == "2"
    assert finding.fix is not None
    if "mariadb" in settings.get("version", "").lower():
        assert finding.fix.statements[0] == "SET GLOBAL innodb_flush_log_at_trx_commit = 1;"
    else:
        assert finding.fix.statements[0] == "SET PERSIST innodb_flush_log_at_trx_commit = 1;"
    # The same live settings on a replica are acceptable.
    assert "TUN010" not in _by_rule(audit("mysql", settings, primary=False))


# -- Redis ----------------------------------------------------------------------------------------


async def test_redis_shared_server_has_no_critical_finding() -> None:
    from dbspecialist.adapters.redis import RedisAdapter

    require_server("Redis", "127.0.0.1", 6379)
    adapter = RedisAdapter(_config("cache", REDIS_URL))
    try:
        findings, settings, _ = await _live_audit(adapter, "redis", with_keyspace=True)
    finally:
        await adapter.close()
    assert "maxmemory-policy" in settings
    assert not [f for f in findings if f.severity is Severity.CRITICAL]


@pytest.fixture
def scratch_redis() -> Iterator[int]:
    """A throw-away redis-server: maxmemory 0, noeviction, no persistence; yields its port."""
    exe = shutil.which("redis-server")
    if exe is None:
        _skip_or_fail("redis-server is not on PATH: cannot start a scratch Redis")
    assert exe is not None
    home = Path(tempfile.mkdtemp(prefix="dbs_audit_redis_"))
    port = _free_port()
    log = home / "redis.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [exe, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(home), "--save", "", *REDIS_DANGER],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=home,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"scratch redis-server did not start: {log.read_text(errors='replace')[-2000:]}")
                time.sleep(0.05)
        yield port
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(STOP_TIMEOUT_S)
        shutil.rmtree(home, ignore_errors=True)


async def test_redis_cache_without_limit_then_with_noeviction(scratch_redis: int) -> None:
    import redis

    from dbspecialist.adapters.redis import RedisAdapter

    client = redis.Redis(host="127.0.0.1", port=scratch_redis)
    try:
        pipe = client.pipeline(transaction=False)
        for i in range(30):
            pipe.set(f"cache:page:{i}", "x" * 100)  # no TTL
            pipe.set(f"session:{i}", "s")  # no TTL
        pipe.execute()
        adapter = RedisAdapter(_config("scratch", f"redis://127.0.0.1:{scratch_redis}/0"))
        try:
            findings, settings, _ = await _live_audit(adapter, "redis", with_keyspace=True, ram_gb=4)
        finally:
            await adapter.close()
        assert settings["maxmemory"] == "0" and settings["maxmemory-policy"] == "noeviction"
        found = _by_rule(findings)
        assert set(found) == {"TUN030"}  # noeviction is moot while there is no limit
        assert found["TUN030"].severity is Severity.HIGH
        assert found["TUN030"].evidence["cache_like_share_pct"] == 100.0
        assert found["TUN030"].fix is not None
        assert found["TUN030"].fix.statements[:2] == [
            "CONFIG SET maxmemory 3072mb",
            "CONFIG SET maxmemory-policy allkeys-lfu",
        ]
        # A limit alone is not enough: a full cache with noeviction refuses writes.
        client.config_set("maxmemory", "64mb")
        adapter = RedisAdapter(_config("scratch", f"redis://127.0.0.1:{scratch_redis}/0"))
        try:
            findings, _, _ = await _live_audit(adapter, "redis", with_keyspace=True)
        finally:
            await adapter.close()
        assert [f.rule_id for f in findings] == ["TUN031"]
    finally:
        client.close()


# -- SQLite ---------------------------------------------------------------------------------------


async def test_sqlite_audit_sees_persistent_pragmas_but_not_another_connections_synchronous(tmp_path: Path) -> None:
    """journal_mode = WAL lives in the file, so the adapter sees it; synchronous is per connection, so it does not.

    The adapter reads PRAGMAs on its own connection. An application connection that runs
    `PRAGMA synchronous = OFF` changes only itself: the audit sees the default a new connection gets.
    To audit the application's connection, pass its PRAGMA values in `settings`.
    """
    from dbspecialist.adapters.sqlite import SQLiteAdapter

    path = tmp_path / "app.db"
    app = sqlite3.connect(path)
    try:
        app.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
        app.commit()
        adapter = SQLiteAdapter(_config("lite", f"sqlite:///{path}"))
        try:
            healthy, settings, _ = await _live_audit(adapter, "sqlite")
        finally:
            await adapter.close()
        assert healthy == [] and settings["synchronous"] == "2" and settings["journal_mode"] == "delete"

        app.execute("PRAGMA journal_mode = WAL")
        app.execute("PRAGMA synchronous = OFF")
        adapter = SQLiteAdapter(_config("lite", f"sqlite:///{path}"))
        try:
            seen, settings, _ = await _live_audit(adapter, "sqlite")
        finally:
            await adapter.close()
        assert settings["journal_mode"] == "wal"  # persistent: visible
        assert settings["synchronous"] != "0"  # per connection: the app's OFF is invisible
        assert seen == []

        app_side = {name: str(app.execute(f"PRAGMA {name}").fetchone()[0]) for name in ("synchronous", "journal_mode")}
        finding = _by_rule(audit("sqlite", settings | app_side))["TUN020"]
        assert app_side["synchronous"] == "0"
        assert finding.evidence == {"synchronous": "0", "journal_mode": "wal"}
        assert finding.fix is not None and finding.fix.statements == ["PRAGMA synchronous = NORMAL;"]
    finally:
        app.close()


# -- MongoDB (SecantusDB) -------------------------------------------------------------------------


@pytest.fixture
def secantus() -> Iterator[str]:
    """A SecantusDB process on a free port (the approach of tests/integration/mongodb/conftest.py)."""
    pytest.importorskip("pymongo", reason="SKIPPED LOUDLY: pymongo is not installed")
    from pymongo import MongoClient
    from pymongo.errors import PyMongoError

    exe = shutil.which("secantusd-py")
    if exe is None:
        _skip_or_fail("secantusd-py is not installed: pip install 'secantusdb==0.7.0b3' (test-only)")
    assert exe is not None
    home = Path(tempfile.mkdtemp(prefix="dbs_audit_mongo_"))
    port = _free_port()
    log = home / "secantusd.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [exe, "--host", "127.0.0.1", "--port", str(port), "--storage-path", str(home / "data"), *MONGO_QUIET],
            cwd=home,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    uri = f"mongodb://127.0.0.1:{port}/?directConnection=true"
    try:
        client: Any = MongoClient(uri, serverSelectionTimeoutMS=250)
        deadline = time.monotonic() + START_TIMEOUT_S
        try:
            while True:
                try:
                    client.admin.command("ping")
                    break
                except PyMongoError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        pytest.fail(f"secantusd-py did not answer ping: {log.read_text(errors='replace')[-2000:]}")
                    time.sleep(0.1)
        finally:
            client.close()
        yield f"mongodb://127.0.0.1:{port}/audit?directConnection=true"
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(STOP_TIMEOUT_S)
        shutil.rmtree(home, ignore_errors=True)


async def test_mongodb_default_server_has_no_finding(secantus: str) -> None:
    """SecantusDB reports no startup options (getCmdLineOpts parsed is empty), so nothing dangerous shows.

    The dangerous cases (storage.journal.enabled false, operationProfiling.mode all, an oversized
    cacheSizeGB) come from a real mongod's startup options; SecantusDB cannot be started with them, so
    they are covered by the unit tests with settings in the adapter's flattened shape.
    """
    from dbspecialist.adapters.mongodb import MongoAdapter

    adapter = MongoAdapter(_config("mongo", secantus))
    try:
        findings, settings, _ = await _live_audit(adapter, "mongodb", ram_gb=8)
    finally:
        await adapter.close()
    assert settings  # getParameter answered
    assert findings == []
