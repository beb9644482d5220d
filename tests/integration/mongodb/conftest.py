"""A real wire-protocol server for the MongoDB tests: SecantusDB (test-only), or TEST_MONGO_URI when set.

The session fixture starts `secantusd-py` on a free loopback port with a temporary storage path, waits
(bounded) until ping answers, and stops it at the end (SIGTERM, wait, then kill). Every test gets its
own database, dropped afterwards.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from dbspecialist.config import ConnectionConfig, ConnectionOptions, parse_connection
from tests.integration.servers import IN_CI, require_server

pymongo = pytest.importorskip("pymongo", reason="SKIPPED LOUDLY: pymongo is not installed (pip install pymongo)")
from bson import BSON, Decimal128  # noqa: E402
from pymongo import MongoClient  # noqa: E402

STARTUP_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_ping(uri: str, proc: subprocess.Popen[bytes] | None, log: Path | None) -> None:
    client: MongoClient[dict[str, Any]] = MongoClient(uri, serverSelectionTimeoutMS=250)
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    try:
        while True:
            try:
                client.admin.command("ping")
                return
            except pymongo.errors.PyMongoError:
                exited = proc is not None and proc.poll() is not None
                if exited or time.monotonic() > deadline:
                    tail = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
                    pytest.fail(f"secantusd-py did not answer ping at {uri} (exited={exited}); log tail:\n{tail}")
                time.sleep(0.1)
    finally:
        client.close()


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(STOP_TIMEOUT_S)


@pytest.fixture(scope="session")
def mongo_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server URI (no database path): TEST_MONGO_URI, or a SecantusDB process started for the session."""
    override = os.environ.get("TEST_MONGO_URI")
    if override:
        parts = urlsplit(override)
        require_server("MongoDB (TEST_MONGO_URI)", parts.hostname or "127.0.0.1", parts.port or 27017)
        yield override
        return
    exe = shutil.which("secantusd-py")
    if exe is None:
        message = (
            "secantusd-py is not installed: pip install 'secantusdb==0.7.0b3' (test-only), "
            "or set TEST_MONGO_URI to a running MongoDB"
        )
        if IN_CI:
            pytest.fail(message)
        pytest.skip(f"SKIPPED LOUDLY: {message}")
    home = tmp_path_factory.mktemp("secantus")
    port = _free_port()
    log = home / "secantusd.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                exe,
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--storage-path",
                str(home / "data"),
                "--log-level",
                "WARNING",
            ],
            cwd=home,  # keeps the launcher from picking up a ./secantusd.toml
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    uri = f"mongodb://127.0.0.1:{port}/?directConnection=true"
    try:
        _wait_for_ping(uri, proc, log)
        yield uri
    finally:
        _stop(proc)


def uri_for(base: str, database: str, host_port: tuple[str, int] | None = None) -> str:
    """`base` with the database path set (and optionally another host:port, e.g. a fault proxy)."""
    parts = urlsplit(base)
    netloc = parts.netloc
    if host_port is not None:
        userinfo = netloc.rpartition("@")[0]
        netloc = f"{userinfo}@{host_port[0]}:{host_port[1]}" if userinfo else f"{host_port[0]}:{host_port[1]}"
    return urlunsplit((parts.scheme, netloc, f"/{database}", parts.query, ""))


def mongo_conn(base: str, database: str, name: str = "m", **options: Any) -> ConnectionConfig:
    return parse_connection(name, uri_for(base, database), source="test", options=ConnectionOptions(**options))


@pytest.fixture(scope="session")
def mongo_admin(mongo_uri: str) -> Iterator[MongoClient[dict[str, Any]]]:
    """A plain synchronous client for setting up and checking test data."""
    client: MongoClient[dict[str, Any]] = MongoClient(mongo_uri, serverSelectionTimeoutMS=5000)
    yield client
    client.close()


@pytest.fixture
def mongo_db(mongo_admin: MongoClient[dict[str, Any]]) -> Iterator[str]:
    """A fresh, empty database name for one test; dropped afterwards."""
    name = f"dbs_{uuid.uuid4().hex[:12]}"
    yield name
    mongo_admin.drop_database(name)


def seed_shop(client: MongoClient[dict[str, Any]], database: str, orders: int = 300) -> None:
    """Small collections with the shapes introspection must describe (indexes queried are indexed)."""
    db = client[database]
    db.create_collection(
        "customers",
        validator={"$jsonSchema": {"bsonType": "object", "required": ["email"]}},
        validationLevel="strict",
    )
    db.customers.insert_many(
        [
            {
                "_id": i,
                "email": f"c{i}@example.com",
                "name": f"Customer {i}",
                "address": {"city": "Lyon", "zip": 69000 + i},
            }
            | ({"phone": f"+33{i:06d}"} if i % 2 else {})
            for i in range(50)
        ]
    )
    db.customers.create_index("email", unique=True)
    db.customers.create_index([("loc", "2dsphere")])
    base = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    db.orders.insert_many(
        [
            {
                "_id": i,
                "customer_id": i % 50,
                "status": ["paid", "new", "shipped"][i % 3],
                "total": Decimal128(Decimal(f"{i}.50")),
                "created_at": base + dt.timedelta(hours=i),
                "items": [{"sku": f"S{j}", "qty": j + 1} for j in range(i % 4)],
                "tags": ["a", "b"][: i % 3],
            }
            for i in range(orders)
        ]
    )
    db.orders.create_index([("status", 1), ("created_at", -1)], name="status_created")
    db.orders.create_index("customer_id", partialFilterExpression={"status": "paid"}, name="paid_by_customer")
    db.orders.create_index("created_at", expireAfterSeconds=10 * 365 * 86400, name="ttl_created")
    db.orders.create_index("coupon", sparse=True, hidden=True, name="coupon_hidden")
    db.create_collection("paid_orders", viewOn="orders", pipeline=[{"$match": {"status": "paid"}}])


def checksum(client: MongoClient[dict[str, Any]], database: str) -> str:
    """Digest of every collection's options, indexes and documents (sorted by _id) in `database`."""
    db = client[database]
    digest = hashlib.sha256()
    for info in sorted(db.list_collections(), key=lambda c: c["name"]):
        name = info["name"]
        digest.update(BSON.encode({"name": name, "type": info.get("type"), "options": info.get("options", {})}))
        if info.get("type") == "view":
            continue
        for index in sorted(db[name].list_indexes(), key=lambda i: i["name"]):
            digest.update(BSON.encode(dict(index)))
        for doc in db[name].find().sort("_id", 1):
            digest.update(BSON.encode(doc))
    return digest.hexdigest()
