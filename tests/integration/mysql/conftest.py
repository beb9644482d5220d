"""MariaDB/MySQL fixtures: a private database per test, with tables, keys, a view, a trigger and partitions."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from urllib.parse import urlsplit

import pymysql
import pytest

from dbspecialist.config import ConnectionConfig, ConnectionOptions, parse_connection
from tests.integration.servers import require_server

BASE_URL = os.environ.get("DBSPECIALIST_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/dbspecialist_test")
_PARTS = urlsplit(BASE_URL)
HOST = _PARTS.hostname or "127.0.0.1"
PORT = _PARTS.port or 3306

SCHEMA = """
CREATE TABLE customers (
  id INT AUTO_INCREMENT PRIMARY KEY,
  name VARCHAR(100) NOT NULL COMMENT 'display name',
  email VARCHAR(200) COLLATE utf8mb4_bin,
  status VARCHAR(10) NOT NULL DEFAULT 'new',
  name_upper VARCHAR(100) AS (UPPER(name)) VIRTUAL,
  UNIQUE KEY uq_email (email),
  KEY ix_name_prefix (name(10)),
  CONSTRAINT ck_status CHECK (status IN ('new', 'active', 'gone'))
) ENGINE=InnoDB COMMENT='people who buy'
;
CREATE TABLE orders (
  id INT AUTO_INCREMENT PRIMARY KEY,
  customer_id INT NOT NULL,
  total DECIMAL(10, 2) NOT NULL DEFAULT 0,
  created DATE,
  KEY ix_customer_created (customer_id, created DESC),
  CONSTRAINT fk_orders_customer FOREIGN KEY (customer_id) REFERENCES customers (id)
    ON DELETE CASCADE ON UPDATE RESTRICT
) ENGINE=InnoDB
;
CREATE TABLE events (
  id INT NOT NULL,
  happened DATE NOT NULL,
  PRIMARY KEY (id, happened)
) PARTITION BY RANGE (YEAR(happened)) (
  PARTITION p2023 VALUES LESS THAN (2024),
  PARTITION pmax VALUES LESS THAN MAXVALUE
)
;
CREATE TABLE audit (id INT AUTO_INCREMENT PRIMARY KEY, note TEXT)
;
CREATE VIEW big_orders AS SELECT id, total FROM orders WHERE total > 100
;
CREATE TRIGGER trg_orders_ai AFTER INSERT ON orders FOR EACH ROW INSERT INTO audit (note) VALUES ('order')
;
INSERT INTO customers (name, email, status) VALUES ('Ada', 'ada@example.com', 'active'), ('Bob', NULL, 'new'),
  ('Cy', 'cy@example.com', 'gone')
;
INSERT INTO orders (customer_id, total, created) VALUES (1, 150.00, '2024-01-02'), (1, 20.50, '2024-02-03'),
  (2, 99.99, NULL)
;
INSERT INTO events VALUES (1, '2023-05-01'), (2, '2025-01-01')
"""


def admin(database: str | None = None) -> pymysql.connections.Connection:
    return pymysql.connect(
        host=HOST,
        port=PORT,
        user=_PARTS.username or "root",
        password=_PARTS.password or "",
        database=database,
        autocommit=True,
    )


def make_config(database: str, name: str = "m", *, host_port: str | None = None, **options: object) -> ConnectionConfig:
    netloc = host_port or f"{HOST}:{PORT}"
    user = _PARTS.username or "root"
    auth = f"{user}:{_PARTS.password}@" if _PARTS.password else f"{user}@"
    url = f"mysql://{auth}{netloc}/{database}"
    return parse_connection(name, url, source="test", options=ConnectionOptions(**options))  # type: ignore[arg-type]


def checksum(database: str) -> tuple[object, ...]:
    """Table list, view/trigger definitions and CHECKSUM TABLE of every base table."""
    with admin(database) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s ORDER BY 1",
            (database,),
        )
        tables = cur.fetchall()
        cur.execute(
            "SELECT TRIGGER_NAME, ACTION_STATEMENT FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = %s",
            (database,),
        )
        triggers = cur.fetchall()
        base = [t for t, kind in tables if kind == "BASE TABLE"]
        cur.execute("CHECKSUM TABLE " + ", ".join(f"`{t}`" for t in base) + " EXTENDED")
        sums = cur.fetchall()
    return tables, triggers, sums


@pytest.fixture(scope="session")
def mysql_server() -> None:
    require_server("MariaDB/MySQL", HOST, PORT)


def create_database(script: str = SCHEMA) -> str:
    name = f"dbs_{secrets.token_hex(4)}"
    with admin() as conn, conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE `{name}`")
        cur.execute(f"USE `{name}`")
        for statement in script.split("\n;\n"):
            if statement.strip():
                cur.execute(statement)
    return name


def drop_database(name: str) -> None:
    with admin() as conn, conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{name}`")


@pytest.fixture
def mysql_db(mysql_server: None) -> Iterator[str]:
    """A fresh database with the shop schema; dropped afterwards."""
    name = create_database()
    try:
        yield name
    finally:
        drop_database(name)
