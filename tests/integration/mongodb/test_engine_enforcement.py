"""Layer 2: with the guard switched off, a user holding only the `read` role is refused every write by the server.

SecantusDB enforces MongoDB's built-in roles when started with --auth, so this module starts its own server:
first without auth to create the users, then again with --auth on the same storage path.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pymongo import MongoClient

from dbspecialist.adapters import mongodb as mongodb_adapter
from dbspecialist.adapters.guard_mongodb import MongoCommand, check_mongo
from dbspecialist.adapters.mongodb import MongoAdapter
from dbspecialist.config import ConnectionOptions, parse_connection
from dbspecialist.errors import DBSpecialistError, QueryRefusedError
from tests.integration.mongodb.conftest import _free_port, _stop, _wait_for_ping, checksum, seed_shop
from tests.integration.mongodb.test_read_only import ATTACKS
from tests.integration.servers import IN_CI

pytestmark = pytest.mark.integration

READER_PASSWORD = "Rd-0nly-pw"
ADMIN_PASSWORD = "Adm1n-pw"
DATABASE = "shop"
WRITE_VERBS = {
    "insert",
    "update",
    "delete",
    "findAndModify",
    "drop",
    "dropDatabase",
    "create",
    "createIndexes",
    "dropIndexes",
    "collMod",
}  # fmt: skip  (mapReduce with `out` is left out: SecantusDB rejects its shape before checking the role)


def _writes(attack: str) -> bool:
    """Attacks that would change data, as opposed to ones that only run JavaScript or are malformed."""
    try:
        verb = check_mongo(attack, read_only=False).name
    except QueryRefusedError:
        return False
    if verb == "explain":
        return False  # explain never applies a write, so the server has nothing to refuse
    return verb in WRITE_VERBS or '"$out"' in attack or "merge" in attack


WRITE_ATTACKS = [a for a in ATTACKS if _writes(a)]


def _start(exe: str, home: Path, port: int, *extra: str) -> subprocess.Popen[bytes]:
    log = (home / "secantusd.log").open("ab")
    with log:
        return subprocess.Popen(
            [exe, "--host", "127.0.0.1", "--port", str(port), "--storage-path", str(home / "data"),
             "--log-level", "WARNING", *extra],
            cwd=home,
            stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, MongoClient[dict[str, Any]]]]:
    """A SecantusDB with --auth, a seeded `shop` database, a `read`-only user and an admin client."""
    exe = shutil.which("secantusd-py")
    if exe is None:
        message = "secantusd-py is not installed (pip install 'secantusdb==0.7.0b3'); it is needed to start --auth"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(f"SKIPPED LOUDLY: {message}")
    home = tmp_path_factory.mktemp("secantus_auth")
    port = _free_port()
    uri = f"mongodb://127.0.0.1:{port}/?directConnection=true"
    proc = _start(exe, home, port)
    try:
        _wait_for_ping(uri, proc, home / "secantusd.log")
        with MongoClient(uri) as setup:
            seed_shop(setup, DATABASE, orders=30)
            setup.admin.command("createUser", "admin", pwd=ADMIN_PASSWORD, roles=["root"])
            setup[DATABASE].command(
                "createUser", "reader", pwd=READER_PASSWORD, roles=[{"role": "read", "db": DATABASE}]
            )
    finally:
        _stop(proc)
    proc = _start(exe, home, port, "--auth")
    admin: MongoClient[dict[str, Any]] = MongoClient(
        f"mongodb://admin:{ADMIN_PASSWORD}@127.0.0.1:{port}/?directConnection=true"
    )
    try:
        _wait_for_ping(uri, proc, home / "secantusd.log")
        yield port, admin
    finally:
        admin.close()
        _stop(proc)


def test_the_engine_layer_covers_enough_attacks() -> None:
    assert len(WRITE_ATTACKS) >= 15


async def test_read_role_refuses_writes_even_without_the_guard(
    auth_server: tuple[int, MongoClient[dict[str, Any]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    port, admin = auth_server

    def no_guard(query: str, *, read_only: bool = True) -> MongoCommand:
        return check_mongo(query, read_only=False)  # shape only: the allow-list is off

    monkeypatch.setattr(mongodb_adapter, "check_mongo", no_guard)
    before = checksum(admin, DATABASE)
    url = f"mongodb://reader:{READER_PASSWORD}@127.0.0.1:{port}/{DATABASE}?directConnection=true&authSource={DATABASE}"
    adapter = MongoAdapter(parse_connection("reader", url, source="test", options=ConnectionOptions()))
    try:
        for attack in WRITE_ATTACKS:
            with pytest.raises(DBSpecialistError) as refused:
                await adapter.run_read_only(attack, max_rows=10, max_bytes=100_000, timeout_ms=3_000)
                pytest.fail(f"the server accepted {attack}")
            assert "not authorized" in str(refused.value) or "code 13" in str(refused.value), attack
            assert READER_PASSWORD not in str(refused.value)
        readable = await adapter.run_read_only('{"count": "orders"}', max_rows=1, max_bytes=1_000, timeout_ms=3_000)
        assert readable.rows == [[30]]
    finally:
        await adapter.close()
    assert checksum(admin, DATABASE) == before
    assert "evil" not in admin[DATABASE].list_collection_names()
