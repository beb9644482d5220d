"""Named database connections and server settings, merged from TOML, environment and CLI.

Precedence (later wins, per connection name): TOML file → `DBSPECIALIST_DB_<NAME>` environment
variables → `--db NAME=URL` options. A later source replaces a connection's URL and keeps the
options (read_only, timeouts, caps) the TOML file gave it.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qsl, unquote, urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from dbspecialist.errors import ConfigError
from dbspecialist.redaction import SECRET_PARAMS, redact, redact_url, register_secret

Engine = Literal["postgresql", "mysql", "sqlite", "mongodb", "redis"]

SCHEMES: Mapping[str, Engine] = {
    "postgresql": "postgresql",
    "postgres": "postgresql",
    "mysql": "mysql",
    "mariadb": "mysql",
    "sqlite": "sqlite",
    "mongodb": "mongodb",
    "mongodb+srv": "mongodb",
    "redis": "redis",
    "rediss": "redis",
}
ACCEPTED = (
    "postgresql://user:pass@host:5432/db (or postgres://; a Unix socket: postgresql://user@/db?host=/socket/dir), "
    "mysql:// or mariadb://user:pass@host:3306/db, "
    "sqlite:///relative/path.db or sqlite:////absolute/path.db, mongodb://host:27017/db (or mongodb+srv://), "
    "redis://host:6379/0 (or rediss://)"
)
DEFAULT_PORTS: Mapping[str, int] = {"postgresql": 5432, "mysql": 3306, "mongodb": 27017, "redis": 6379}

NAME_RE = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
ENV_PREFIX = "DBSPECIALIST_DB_"
SETTINGS_PREFIX = "DBSPECIALIST_"
_INTERPOLATION_RE = re.compile(r"\$\{(?P<var>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>[^}]*))?\}")


class ConnectionOptions(BaseModel):
    """Per-connection limits. Unknown keys are rejected."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    read_only: bool = True
    statement_timeout_ms: int = Field(default=15_000, ge=100, le=3_600_000)
    connect_timeout_ms: int = Field(default=5_000, ge=100, le=120_000)
    max_rows: int = Field(default=200, ge=1, le=100_000)
    max_bytes: int = Field(default=256 * 1024, ge=1024, le=64 * 1024 * 1024)


class ConnectionConfig(BaseModel):
    """One named connection. `url` holds credentials: use `redacted_url` for anything shown."""

    model_config = ConfigDict(frozen=True)

    name: str
    url: str = Field(repr=False)
    engine: Engine
    options: ConnectionOptions = ConnectionOptions()
    source: str = "cli"
    is_sample: bool = False

    @property
    def redacted_url(self) -> str:
        return redact_url(self.url)

    @property
    def sqlite_path(self) -> Path:
        """The database file of a sqlite:// URL."""
        return sqlite_path_from_url(self.url)

    @property
    def host_port(self) -> str:
        """`host:port` for messages (no credentials)."""
        parts = urlsplit(self.url)
        if self.engine == "sqlite":
            return str(self.sqlite_path)
        socket_dir = _socket_dir(parts.query) if self.engine == "postgresql" and not parts.hostname else None
        if socket_dir:
            return f"socket {socket_dir}"
        host = parts.hostname or "localhost"
        try:
            port = parts.port or DEFAULT_PORTS.get(self.engine)
        except ValueError:
            port = None
        return f"{host}:{port}" if port else host

    def __repr__(self) -> str:
        return (
            f"ConnectionConfig(name={self.name!r}, engine={self.engine!r}, url={self.redacted_url!r}, "
            f"read_only={self.options.read_only})"
        )

    __str__ = __repr__


class ServerSettings(BaseModel):
    """Process-wide settings from `DBSPECIALIST_*` environment variables (CLI options override).

    Read by hand rather than with pydantic-settings: four variables do not justify its ~15 ms import at every start.
    """

    model_config = ConfigDict(extra="ignore")

    config: Path | None = None
    auth_token: str | None = Field(default=None, repr=False)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    cache_dir: Path | None = None

    def __init__(self, **values: Any) -> None:
        from_env = {}
        for name in type(self).model_fields:
            value = os.environ.get(f"{SETTINGS_PREFIX}{name.upper()}")
            if value:  # unset and empty both mean "not given"
                from_env[name] = value
        super().__init__(**{**from_env, **values})

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value


@dataclass
class ConnectionSet:
    """The connections a server exposes, by lower-case name, in a stable order."""

    connections: dict[str, ConnectionConfig] = field(default_factory=dict)

    def names(self) -> list[str]:
        return list(self.connections)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.connections.values())

    def __len__(self) -> int:
        return len(self.connections)


def sqlite_path_from_url(url: str) -> Path:
    """`sqlite:///rel.db` → ./rel.db, `sqlite:////abs.db` → /abs.db."""
    parts = urlsplit(url)
    if parts.netloc:
        raise ValueError(
            f"sqlite URLs have no host part (got host {parts.netloc!r}); "
            "use sqlite:///relative.db or sqlite:////absolute/path.db"
        )
    raw = unquote(parts.path)
    if not raw or raw == "/":
        raise ValueError("the sqlite URL names no file")
    # urlsplit keeps the leading slash of the path: "/rel.db" for sqlite:///rel.db,
    # "//abs.db" for sqlite:////abs.db.
    path = raw[1:]
    return Path(path) if path.startswith("/") else Path.cwd() / path


def interpolate(value: str, *, where: str, environ: Mapping[str, str]) -> str:
    """Replace `${VAR}` and `${VAR:-default}` with environment values."""

    def repl(match: re.Match[str]) -> str:
        var, default = match["var"], match["default"]
        if var in environ:
            return environ[var]
        if default is not None:
            return default
        raise ConfigError(
            f"{where}: environment variable ${{{var}}} is not set "
            f"(set it, or write ${{{var}:-default}} to give a fallback)"
        )

    return _INTERPOLATION_RE.sub(repl, value)


def parse_connection(
    name: str,
    url: str,
    *,
    source: str,
    options: ConnectionOptions | None = None,
    check_files: bool = True,
) -> ConnectionConfig:
    """Validate one connection; raise ConfigError naming it and listing what is accepted."""
    where = f"connection {name!r} (from {source})"
    norm = name.strip().lower()
    if not NAME_RE.match(norm):
        raise ConfigError(
            f"{where}: invalid name; use letters, digits, '_' or '-', starting with a letter (max 63 chars)"
        )
    url = url.strip()
    _register_url_secrets(url)
    if "://" not in url:
        raise ConfigError(f"{where}: {redact(url)!r} is not a URL. Accepted: {ACCEPTED}")
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise ConfigError(f"{where}: malformed URL ({redact(str(exc))}). Accepted: {ACCEPTED}") from None
    scheme = parts.scheme.lower()
    engine = SCHEMES.get(scheme)
    if engine is None:
        raise ConfigError(
            f"{where}: unknown scheme {scheme!r}. Accepted schemes: {', '.join(SCHEMES)}. Examples: {ACCEPTED}"
        )
    if engine == "sqlite":
        try:
            path = sqlite_path_from_url(url)
        except ValueError as exc:
            raise ConfigError(f"{where}: {exc}") from None
        if check_files and not path.is_file():
            raise ConfigError(
                f"{where}: SQLite file {path} does not exist (connections are read-only, so it is not "
                "created). Check the path: sqlite:///relative.db is relative to the working directory, "
                "sqlite:////abs/path.db is absolute."
            )
    else:
        try:
            port = parts.port
        except ValueError:
            raise ConfigError(f"{where}: the port in {redact_url(url)!r} is not a number from 0 to 65535") from None
        if not parts.hostname and not (engine == "postgresql" and _socket_dir(parts.query)):
            hint = ""
            if engine == "postgresql":
                hint = " (for a Unix socket: postgresql://user@/db?host=/var/run/postgresql)"
            raise ConfigError(f"{where}: {redact_url(url)!r} names no host{hint}. Example: {ACCEPTED}")
        if port == 0:
            raise ConfigError(f"{where}: port 0 is not a valid server port")
    return ConnectionConfig(name=norm, url=url, engine=engine, options=options or ConnectionOptions(), source=source)


def _socket_dir(query: str) -> str | None:
    """The Unix-socket directory of a libpq-style `?host=/path` parameter, if the URL names one."""
    for key, value in parse_qsl(query):
        if key == "host" and value.startswith("/"):
            return value
    return None


def _register_url_secrets(url: str) -> None:
    try:
        parts = urlsplit(url)
        register_secret(parts.password)
        for key, value in parse_qsl(parts.query):
            if key.lower() in SECRET_PARAMS:
                register_secret(value)
    except ValueError:
        pass


def _split_cli_db(item: str) -> tuple[str, str]:
    name, sep, url = item.partition("=")
    if not sep or not name.strip() or not url.strip():
        raise ConfigError(f"--db {redact(item)!r}: expected NAME=URL, e.g. --db shop=postgresql://localhost/shop")
    return name, url


def load_toml(
    path: Path, environ: Mapping[str, str]
) -> tuple[dict[str, tuple[str, ConnectionOptions]], dict[str, Any]]:
    """Read `[connections.NAME]` tables (and an optional `[defaults]`) from a TOML file."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    unknown = set(data) - {"connections", "defaults"}
    if unknown:
        raise ConfigError(
            f"config file {path}: unknown top-level key(s) {sorted(unknown)}; expected [connections.NAME] "
            "tables and an optional [defaults] table"
        )
    defaults = data.get("defaults", {})
    if not isinstance(defaults, dict):
        raise ConfigError(f"config file {path}: [defaults] must be a table")
    out: dict[str, tuple[str, ConnectionOptions]] = {}
    connections = data.get("connections", {})
    if not isinstance(connections, dict):
        raise ConfigError(f"config file {path}: 'connections' must be a table of [connections.NAME] tables")
    for name, table in connections.items():
        where = f"connection {name!r} (from {path})"
        if not isinstance(table, dict) or "url" not in table:
            raise ConfigError(f"{where}: expected a table with a 'url' key, e.g. [connections.{name}] url = \"...\"")
        raw = {k: v for k, v in table.items() if k != "url"}
        url = table["url"]
        if not isinstance(url, str):
            raise ConfigError(f"{where}: 'url' must be a string")
        url = interpolate(url, where=where, environ=environ)
        try:
            options = ConnectionOptions(**{**defaults, **raw})
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            raise ConfigError(
                f"{where}: invalid option(s): {problems}. Options: {', '.join(ConnectionOptions.model_fields)}"
            ) from None
        out[name] = (url, options)
    return out, defaults


def load_connections(
    *,
    config_path: Path | None = None,
    cli_dbs: Sequence[str] = (),
    environ: Mapping[str, str] | None = None,
    check_files: bool = True,
) -> ConnectionSet:
    """Merge TOML, environment and CLI connections (in that order of precedence, lowest first)."""
    env = dict(os.environ if environ is None else environ)
    merged: dict[str, ConnectionConfig] = {}
    options_by_name: dict[str, ConnectionOptions] = {}
    defaults = ConnectionOptions()

    if config_path is not None:
        toml_conns, toml_defaults = load_toml(config_path, env)
        try:
            defaults = ConnectionOptions(**toml_defaults)
        except ValidationError as exc:
            raise ConfigError(f"config file {config_path}: invalid [defaults]: {exc.errors()[0]['msg']}") from None
        for name, (url, options) in toml_conns.items():
            conn = parse_connection(name, url, source=str(config_path), options=options, check_files=check_files)
            merged[conn.name] = conn
            options_by_name[conn.name] = options

    for key in sorted(env):
        if key.startswith(ENV_PREFIX) and len(key) > len(ENV_PREFIX):
            name = key[len(ENV_PREFIX) :]
            conn = parse_connection(
                name,
                env[key],
                source=f"environment variable {key}",
                options=options_by_name.get(name.lower(), defaults),
                check_files=check_files,
            )
            merged[conn.name] = conn

    for item in cli_dbs:
        name, url = _split_cli_db(item)
        conn = parse_connection(
            name,
            url,
            source="--db",
            options=options_by_name.get(name.strip().lower(), defaults),
            check_files=check_files,
        )
        merged[conn.name] = conn

    return ConnectionSet(merged)
