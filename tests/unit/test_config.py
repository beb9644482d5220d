"""Connections: precedence, ${ENV} interpolation, options, and every bad-URL case."""

from __future__ import annotations

from pathlib import Path

import pytest

from dbspecialist.config import ConnectionOptions, load_connections, parse_connection
from dbspecialist.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "dbspecialist.toml"
    path.write_text(text)
    return path


def test_toml_env_cli_precedence_and_options_kept(tmp_path: Path) -> None:
    config = write(
        tmp_path,
        """
[defaults]
max_rows = 50

[connections.shop]
url = "postgresql://app@toml-host/shop"
statement_timeout_ms = 3000

[connections.cache]
url = "redis://toml-redis:6379/0"

[connections.only_toml]
url = "mongodb://mongo-host/app"
""",
    )
    env = {
        "DBSPECIALIST_DB_SHOP": "postgresql://app@env-host/shop",
        "DBSPECIALIST_DB_CACHE": "redis://env-redis:6379/1",
        "DBSPECIALIST_DB_ANALYTICS": "mysql://root@env-mysql:3306/dw",
        "UNRELATED": "x",
    }
    conns = load_connections(
        config_path=config, environ=env, cli_dbs=["cache=rediss://cli-redis:6380/2", "Extra=mariadb://m/db"]
    )
    c = conns.connections
    assert set(c) == {"shop", "cache", "only_toml", "analytics", "extra"}
    # env beats TOML, CLI beats env; TOML options survive the URL override.
    assert "env-host" in c["shop"].url and c["shop"].options.statement_timeout_ms == 3000
    assert c["shop"].options.max_rows == 50  # from [defaults]
    assert c["cache"].url.startswith("rediss://cli-redis") and c["cache"].source == "--db"
    assert (
        c["analytics"].engine == "mysql" and c["analytics"].source == "environment variable DBSPECIALIST_DB_ANALYTICS"
    )
    assert c["extra"].engine == "mysql"
    assert c["only_toml"].engine == "mongodb" and c["only_toml"].source == str(config)
    assert c["analytics"].options.max_rows == 50  # env-only connections get [defaults] too


def test_defaults_are_safe() -> None:
    opts = ConnectionOptions()
    assert (opts.read_only, opts.statement_timeout_ms, opts.max_rows) == (True, 15000, 200)
    assert opts.max_bytes > 0


def test_env_interpolation_with_default_and_missing(tmp_path: Path) -> None:
    config = write(
        tmp_path,
        """
[connections.pg]
url = "postgresql://${PGUSER}:${PGPASSWORD}@${PGHOST:-localhost}:5432/app"
read_only = false
""",
    )
    conns = load_connections(config_path=config, environ={"PGUSER": "svc", "PGPASSWORD": "hunter2-secret"})
    pg = conns.connections["pg"]
    assert pg.url == "postgresql://svc:hunter2-secret@localhost:5432/app"
    assert pg.options.read_only is False
    with pytest.raises(ConfigError, match=r"\$\{PGPASSWORD\} is not set"):
        load_connections(config_path=config, environ={"PGUSER": "svc"})


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("oracle://scott:tiger@db/orcl", "unknown scheme 'oracle'"),
        ("http://example.com", "unknown scheme 'http'"),
        ("localhost:5432/db", "is not a URL"),
        ("postgresql://host:99999/db", "port"),
        ("postgresql://host:abc/db", "port"),
        ("postgresql:///db", "names no host (for a Unix socket: postgresql://user@/db?host="),
        ("postgresql:///db?host=relative/dir", "names no host"),
        ("mysql:///db?host=/var/run/mysqld", "names no host"),
        ("mysql://:3306/db", "names no host"),
        ("redis://", "names no host"),
        ("sqlite://host/file.db", "no host part"),
        ("sqlite:///", "names no file"),
        ("sqlite:////definitely/not/here.db", "does not exist"),
        ("postgresql://[::1/db", "malformed URL"),
    ],
)
def test_bad_urls_name_the_connection_and_what_is_accepted(url: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_connection("broken", url, source="--db")
    text = str(info.value)
    assert "'broken'" in text and "--db" in text
    assert message in text
    if "scheme" in message or "not a URL" in message:
        assert "postgresql://" in text and "sqlite:///" in text  # lists what is accepted


@pytest.mark.parametrize("name", ["1abc", "a b", "", "x" * 70, "semi;colon"])
def test_bad_names(name: str) -> None:
    with pytest.raises(ConfigError, match="invalid name"):
        parse_connection(name, "redis://localhost", source="--db")


def test_cli_db_needs_name_equals_url() -> None:
    with pytest.raises(ConfigError, match="expected NAME=URL"):
        load_connections(cli_dbs=["postgresql://localhost/db"], environ={})


def test_sqlite_relative_and_absolute_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "rel.db"
    db.write_bytes(b"")
    monkeypatch.chdir(tmp_path)
    rel = parse_connection("rel", "sqlite:///rel.db", source="--db")
    assert rel.sqlite_path == tmp_path / "rel.db"
    absolute = parse_connection("abs", f"sqlite:///{db}", source="--db")
    assert absolute.sqlite_path == db and absolute.engine == "sqlite"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[connections.x]\nurl = 'redis://h'\nmax_rowz = 5\n", "max_rowz"),
        ("[connections.x]\nurl = 'redis://h'\nmax_rows = -1\n", "max_rows"),
        ("[connections.x]\nhost = 'h'\n", "'url' key"),
        ("[server]\nport = 1\n", "unknown top-level"),
        ("this is not toml", "not valid TOML"),
    ],
)
def test_bad_toml(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_connections(config_path=write(tmp_path, text), environ={})


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_connections(config_path=tmp_path / "nope.toml", environ={})


def test_engines_by_scheme() -> None:
    cases = {
        "postgres://h/db": "postgresql",
        "postgresql://h/db": "postgresql",
        "mysql://h/db": "mysql",
        "mariadb://h/db": "mysql",
        "mongodb://h": "mongodb",
        "mongodb+srv://cluster.example.net": "mongodb",
        "redis://h": "redis",
        "rediss://h": "redis",
    }
    for url, engine in cases.items():
        assert parse_connection("c", url, source="t").engine == engine


def test_server_settings_read_the_environment_and_explicit_values_win(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from dbspecialist.config import ServerSettings

    monkeypatch.setenv("DBSPECIALIST_LOG_LEVEL", "debug")
    monkeypatch.setenv("DBSPECIALIST_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("DBSPECIALIST_AUTH_TOKEN", "")  # empty means not given
    settings = ServerSettings()
    assert (settings.log_level, settings.cache_dir, settings.auth_token) == ("DEBUG", tmp_path, None)
    assert ServerSettings(log_level="error").log_level == "ERROR"
    monkeypatch.setenv("DBSPECIALIST_LOG_LEVEL", "loud")
    with pytest.raises(ValueError, match="log_level"):
        ServerSettings()


def test_postgresql_unix_socket_url_is_accepted_and_named_by_its_directory() -> None:
    config = parse_connection("local", "postgresql://postgres:s3cret@/shop?host=/var/run/postgresql", source="test")
    assert config.engine == "postgresql"
    assert config.host_port == "socket /var/run/postgresql"
    assert "s3cret" not in config.redacted_url
