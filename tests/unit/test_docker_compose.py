"""The container setup: docker-compose.yml and the Dockerfile.

No docker engine is needed: the files are read as data, compose variables are interpolated the way
`docker compose` does it, and the server's command line is fed to the real CLI parser, so a renamed
option or a wrong port breaks this test instead of the container at start-up.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"

DATABASES = ("postgres", "mysql", "mongodb", "redis")
APP = "dbspecialist"
PORT = 8765
ALLOWED_HOSTS = ("localhost:*", "127.0.0.1:*")
# DBSPECIALIST_DB_<NAME> variable -> engine of the connection it must define.
CONNECTIONS = {"pg": "postgresql", "mysql": "mysql", "mongo": "mongodb", "redis": "redis"}

# ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error}; "$$" is a literal "$".
_COMPOSE_VAR = re.compile(r"\$\$|\$\{(?P<var>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


def compose_interpolate(value: str, environ: dict[str, str]) -> str:
    """Resolve compose variable references in `value` against `environ`."""

    def repl(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        var, op, arg = match.group("var"), match.group("op"), match.group("arg")
        present = var in environ and (environ[var] != "" or not (op or "").startswith(":"))
        if present:
            return environ[var]
        if op in ("?", ":?"):
            raise KeyError(f"{var}: {arg}")
        return arg if op in ("-", ":-") else ""

    return _COMPOSE_VAR.sub(repl, value)


def as_mapping(environment: Any) -> dict[str, str]:
    """A service's `environment`, given as a mapping or as a list of KEY=VALUE."""
    if isinstance(environment, dict):
        return {str(k): "" if v is None else str(v) for k, v in environment.items()}
    result = {}
    for item in environment or []:
        key, _, value = str(item).partition("=")
        result[key] = value
    return result


def as_argv(command: Any) -> list[str]:
    assert isinstance(command, list), f"use the exec (list) form for commands, got {command!r}"
    assert all(isinstance(arg, str) for arg in command), f"quote every argument as a string: {command!r}"
    return command


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined and comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = pending + line
        pending = ""
        keyword, _, args = line.partition(" ")
        instructions.append((keyword.upper(), args.strip()))
    assert not pending, "Dockerfile ends with a continuation line"
    return instructions


def dockerfile_exec_form(keyword: str) -> list[str]:
    values = [args for kw, args in dockerfile_instructions() if kw == keyword]
    assert values, f"Dockerfile has no {keyword}"
    parsed = json.loads(values[-1])  # the last one wins, as in docker
    assert isinstance(parsed, list), f"{keyword} must use the JSON exec form"
    return [str(arg) for arg in parsed]


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    result = data["services"]
    assert isinstance(result, dict)
    return result


@pytest.fixture(scope="module")
def app(services: dict[str, Any]) -> dict[str, Any]:
    service = services[APP]
    assert isinstance(service, dict)
    return service


def test_the_five_services(services: dict[str, Any]) -> None:
    assert set(services) == {*DATABASES, APP}


@pytest.mark.parametrize("name", DATABASES)
def test_database_service_has_a_healthcheck(services: dict[str, Any], name: str) -> None:
    service = services[name]
    assert service.get("image"), f"{name} has no image"
    check = service.get("healthcheck")
    assert isinstance(check, dict), f"{name} has no healthcheck"
    assert not check.get("disable", False)
    test = check.get("test")
    assert test, f"{name}'s healthcheck has no test"
    if isinstance(test, list):
        assert test[0] in ("CMD", "CMD-SHELL") and len(test) > 1, test
        assert test[0] != "NONE"


def test_postgres_preloads_pg_stat_statements(services: dict[str, Any]) -> None:
    command = " ".join(as_argv(services["postgres"]["command"]))
    match = re.search(r"shared_preload_libraries=(\S+)", command)
    assert match, f"postgres command does not set shared_preload_libraries: {command}"
    assert "pg_stat_statements" in match.group(1).strip("'\"").split(",")


def test_app_waits_for_every_database_to_be_healthy(app: dict[str, Any]) -> None:
    depends_on = app.get("depends_on")
    assert isinstance(depends_on, dict), "depends_on must be the long form, with conditions"
    assert set(depends_on) == set(DATABASES)
    for name, spec in depends_on.items():
        assert spec.get("condition") == "service_healthy", name


def test_app_is_built_from_the_dockerfile(app: dict[str, Any]) -> None:
    build = app.get("build")
    context = build if isinstance(build, str) else build["context"]
    dockerfile = "Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile")
    assert (ROOT / context / dockerfile).resolve() == DOCKERFILE
    assert "entrypoint" not in app, "keep the Dockerfile's ENTRYPOINT"


def test_auth_token_comes_from_the_environment(app: dict[str, Any]) -> None:
    env = as_mapping(app.get("environment"))
    token = env.get("DBSPECIALIST_AUTH_TOKEN")
    # ${VAR:?message}: compose refuses to start without it instead of running unauthenticated.
    assert token is not None and re.fullmatch(r"\$\{DBSPECIALIST_AUTH_TOKEN:\?[^}]*\}", token), token
    with pytest.raises(KeyError):
        compose_interpolate(token, {})
    assert "--auth-token" not in as_argv(app["command"]), "a token on the command line shows in ps"


def test_app_publishes_its_port(app: dict[str, Any]) -> None:
    container_ports = set()
    for port in app.get("ports", []):
        if isinstance(port, dict):
            container_ports.add(int(port["target"]))
        else:
            container_ports.add(int(str(port).split("/")[0].rsplit(":", 1)[-1]))
    assert PORT in container_ports


def test_app_healthcheck_uses_healthz_without_curl(app: dict[str, Any]) -> None:
    test = app["healthcheck"]["test"]
    text = " ".join(test) if isinstance(test, list) else str(test)
    assert f"http://127.0.0.1:{PORT}/healthz" in text
    assert "curl" not in text and "wget" not in text, "the slim image has neither"
    assert "python" in text


def test_connections_come_from_the_environment(app: dict[str, Any]) -> None:
    from dbspecialist.config import load_connections
    from dbspecialist.redaction import redact

    env = as_mapping(app.get("environment"))
    prefix = "DBSPECIALIST_DB_"
    names = {key.removeprefix(prefix).lower() for key in env if key.startswith(prefix)}
    assert names == set(CONNECTIONS)
    # Resolve as compose would with only the token given, i.e. with the default passwords.
    given = {"DBSPECIALIST_AUTH_TOKEN": "t0ken"}
    resolved = {key: compose_interpolate(value, given) for key, value in env.items()}
    connections = load_connections(environ=resolved, check_files=False)
    assert {c.name: c.engine for c in connections} == CONNECTIONS
    hosts = {c.name: c.host_port.split(":")[0] for c in connections}
    assert hosts == {"pg": "postgres", "mysql": "mysql", "mongo": "mongodb", "redis": "redis"}
    # Loading registered the default passwords for masking; a common word there would mask it
    # everywhere in the server's output.
    text = "postgresql postgres mysql mariadb mongodb redis root dbspecialist"
    assert redact(text) == text


def test_compose_command_is_accepted_by_the_cli(app: dict[str, Any]) -> None:
    from dbspecialist.cli import build_parser  # needs the real parser

    args = build_parser().parse_args(as_argv(app["command"]))
    assert args.command == "serve"
    assert args.http is True
    assert args.host == "0.0.0.0"
    assert args.port == PORT
    assert set(ALLOWED_HOSTS) <= set(args.allowed_host or [])


def test_dockerfile_entrypoint_and_cmd() -> None:
    from dbspecialist.cli import build_parser  # needs the real parser

    assert dockerfile_exec_form("ENTRYPOINT") == ["dbspecialist"]
    args = build_parser().parse_args(dockerfile_exec_form("CMD"))
    assert args.command == "serve"
    assert args.http is True
    assert args.host == "0.0.0.0"
    assert args.port == PORT


def test_dockerfile_basics() -> None:
    instructions = dockerfile_instructions()
    assert instructions[0] == ("FROM", "python:3.12-slim")
    users = [args for kw, args in instructions if kw == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0"), "run as a non-root user"
    exposed = {p.split("/")[0] for kw, args in instructions if kw == "EXPOSE" for p in args.split()}
    assert str(PORT) in exposed
    assert any(kw == "RUN" and "pip install --no-cache-dir ." in args for kw, args in instructions)


def test_dockerignore_keeps_the_context_small() -> None:
    ignored = {
        line.strip().rstrip("/")
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".git", ".venv", "tests", "bench"} <= ignored
    # The build needs these.
    assert not {"pyproject.toml", "README.md", "dbspecialist"} & ignored
