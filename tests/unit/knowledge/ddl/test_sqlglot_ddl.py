"""The sqlglot DDL parser (MySQL/MariaDB, SQLite, SQL Server, ClickHouse, Snowflake, BigQuery) → Catalog."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dbspecialist.adapters.catalog import Table
from dbspecialist.knowledge.ddl.dispatch import DIALECT_ALIASES, parse_ddl
from dbspecialist.knowledge.ddl.sqlglot_ddl import DIALECT_ENGINES, parse_with_sqlglot

MYSQLDUMP = """\
-- MySQL dump 10.13  Distrib 8.0.36, for Linux (x86_64)
--
-- Host: localhost    Database: shop
-- ------------------------------------------------------
-- Server version	8.0.36

/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;
/*!40101 SET NAMES utf8mb4 */;
/*!40014 SET @OLD_UNIQUE_CHECKS=@@UNIQUE_CHECKS, UNIQUE_CHECKS=0 */;

--
-- Table structure for table `customers`
--

DROP TABLE IF EXISTS `customers`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!50503 SET character_set_client = utf8mb4 */;
CREATE TABLE `customers` (
  `id` char(36) NOT NULL,
  `email` varchar(255) NOT NULL,
  `name` varchar(100) CHARACTER SET latin1 COLLATE latin1_swedish_ci DEFAULT NULL,
  `created_at` datetime NOT NULL DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY (`id`),
  UNIQUE KEY `uq_customers_email` (`email`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3;
/*!40101 SET character_set_client = @saved_cs_client */;

--
-- Dumping data for table `customers`
--

LOCK TABLES `customers` WRITE;
/*!40000 ALTER TABLE `customers` DISABLE KEYS */;
INSERT INTO `customers` VALUES ('0b6f','a@example.com','Ann; the first','2024-01-01 00:00:00');
/*!40000 ALTER TABLE `customers` ENABLE KEYS */;
UNLOCK TABLES;

DROP TABLE IF EXISTS `orders`;
CREATE TABLE `orders` (
  `id` bigint unsigned NOT NULL AUTO_INCREMENT,
  `customer_id` char(36) NOT NULL,
  `status` enum('new','paid','shipped') NOT NULL DEFAULT 'new',
  `total` decimal(10,2) NOT NULL,
  `notes` text,
  PRIMARY KEY (`id`),
  KEY `ix_orders_customer` (`customer_id`),
  KEY `ix_orders_status_notes` (`status`,`notes`(20)),
  CONSTRAINT `fk_orders_customer` FOREIGN KEY (`customer_id`) REFERENCES `customers` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB AUTO_INCREMENT=1042 DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_0900_ai_ci COMMENT='customer orders';

DROP TABLE IF EXISTS `audit_log`;
CREATE TABLE `audit_log` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `message` varchar(500) DEFAULT NULL,
  `flag` tinyint(1) NOT NULL DEFAULT '0',
  PRIMARY KEY (`id`),
  FULLTEXT KEY `ft_message` (`message`)
) ENGINE=MyISAM AUTO_INCREMENT=7 DEFAULT CHARSET=latin1 ROW_FORMAT=DYNAMIC;

DROP TABLE IF EXISTS `tags`;
CREATE TABLE `tags` (
  `name` varchar(50) NOT NULL,
  `payload` json DEFAULT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_0900_ai_ci;

/*!50001 DROP VIEW IF EXISTS `paid_orders`*/;
/*!50001 CREATE ALGORITHM=UNDEFINED */
/*!50013 DEFINER=`root`@`localhost` SQL SECURITY DEFINER */
/*!50001 VIEW `paid_orders` AS select `orders`.`id` AS `id` from `orders` where (`orders`.`status` = 'paid') */;
/*!40101 SET CHARACTER_SET_CLIENT=@OLD_CHARACTER_SET_CLIENT */;
-- Dump completed on 2024-05-01 10:00:00
"""

SQLITE_SCHEMA = """\
PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE orgs (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE users(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  org_id INTEGER REFERENCES orgs(id) ON DELETE CASCADE,
  email TEXT NOT NULL COLLATE NOCASE,
  deleted_at TEXT
);
INSERT INTO users VALUES(1,1,'a@b.c',NULL);
CREATE TABLE sqlite_sequence(name,seq);
CREATE TABLE kv (k TEXT PRIMARY KEY, v BLOB) WITHOUT ROWID;
CREATE TABLE events (id INTEGER PRIMARY KEY, payload ANY, at INT NOT NULL) STRICT;
CREATE UNIQUE INDEX ux_users_email ON users(email) WHERE deleted_at IS NULL;
CREATE INDEX ix_users_org ON users (org_id, lower(email));
CREATE TRIGGER tr_users AFTER INSERT ON users BEGIN UPDATE users SET email = lower(email) WHERE id = new.id; END;
CREATE VIEW active_users AS SELECT * FROM users WHERE deleted_at IS NULL;
COMMIT;
"""

TSQL_SCRIPT = """\
USE [Shop]
GO
/****** Object:  Table [dbo].[Customers]    Script Date: 5/1/2024 10:00:00 AM ******/
SET ANSI_NULLS ON
GO
SET QUOTED_IDENTIFIER ON
GO
CREATE TABLE [dbo].[Customers](
	[CustomerID] [int] IDENTITY(1,1) NOT NULL,
	[Email] [nvarchar](255) NOT NULL,
	[Balance] [money] NULL,
	[RowGuid] [uniqueidentifier] ROWGUIDCOL NOT NULL,
 CONSTRAINT [PK_Customers] PRIMARY KEY CLUSTERED
(
	[CustomerID] ASC
)WITH (PAD_INDEX = OFF, STATISTICS_NORECOMPUTE = OFF, IGNORE_DUP_KEY = OFF, ALLOW_ROW_LOCKS = ON) ON [PRIMARY],
 CONSTRAINT [UQ_Customers_Email] UNIQUE NONCLUSTERED
(
	[Email] ASC
)WITH (PAD_INDEX = OFF) ON [PRIMARY]
) ON [PRIMARY]
GO
CREATE TABLE [dbo].[Orders](
	[OrderID] [uniqueidentifier] NOT NULL,
	[CustomerID] [int] NULL,
	[OrderDate] [datetime] NOT NULL,
	[Notes] [nvarchar](max) NULL,
	INDEX [IX_Orders_Date] NONCLUSTERED ([OrderDate] DESC),
 CONSTRAINT [PK_Orders] PRIMARY KEY NONCLUSTERED ([OrderID] ASC)
) ON [PRIMARY] TEXTIMAGE_ON [PRIMARY]
GO
ALTER TABLE [dbo].[Orders] ADD  CONSTRAINT [DF_Orders_OrderDate]  DEFAULT (getdate()) FOR [OrderDate]
GO
ALTER TABLE [dbo].[Orders]  WITH CHECK ADD  CONSTRAINT [FK_Orders_Customers] FOREIGN KEY([CustomerID])
REFERENCES [dbo].[Customers] ([CustomerID])
ON DELETE CASCADE
GO
ALTER TABLE [dbo].[Orders] CHECK CONSTRAINT [FK_Orders_Customers]
GO
CREATE NONCLUSTERED INDEX [IX_Orders_Customer] ON [dbo].[Orders]
(
	[CustomerID] ASC
)
INCLUDE([Notes]) WHERE ([CustomerID] IS NOT NULL)
WITH (PAD_INDEX = OFF, SORT_IN_TEMPDB = OFF) ON [PRIMARY]
GO
CREATE VIEW [dbo].[RecentOrders] AS SELECT [OrderID] FROM [dbo].[Orders] WHERE [OrderDate] > '2024-01-01'
GO
CREATE PROCEDURE [dbo].[Cleanup] AS
BEGIN
  SET NOCOUNT ON;
  DELETE FROM [dbo].[Orders] WHERE [OrderDate] < '2000-01-01';
END
GO
"""

CLICKHOUSE_DDL = """\
CREATE TABLE analytics.events
(
    `event_id` UUID DEFAULT generateUUIDv4(),
    `user_id` UInt64,
    `kind` LowCardinality(String),
    `ts` DateTime64(3, 'UTC') CODEC(Delta, ZSTD),
    `amount` Nullable(Decimal(18, 2)),
    INDEX idx_kind kind TYPE set(100) GRANULARITY 4
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (user_id, ts)
TTL toDateTime(ts) + INTERVAL 90 DAY
SETTINGS index_granularity = 8192;
"""

SNOWFLAKE_DDL = """\
create or replace TABLE ANALYTICS.PUBLIC.ORDERS (
	ID NUMBER(38,0) NOT NULL autoincrement start 1 increment 1 noorder,
	CUSTOMER_ID NUMBER(38,0),
	PAYLOAD VARIANT,
	NOTE STRING,
	CREATED_AT TIMESTAMP_NTZ(9) DEFAULT CURRENT_TIMESTAMP(),
	primary key (ID),
	constraint FK_C foreign key (CUSTOMER_ID) references ANALYTICS.PUBLIC.CUSTOMERS(ID)
) CLUSTER BY (CREATED_AT) COMMENT='orders';
"""

BIGQUERY_DDL = """\
CREATE TABLE `proj.shop.orders` (
  id INT64 NOT NULL,
  customer_id INT64,
  amount NUMERIC(10, 2),
  tags ARRAY<STRING>,
  addr STRUCT<street STRING, zip STRING>,
  created_at TIMESTAMP,
  PRIMARY KEY (id) NOT ENFORCED
)
PARTITION BY DATE(created_at)
CLUSTER BY customer_id
OPTIONS (description = "Orders");
"""


def _dump(table: Table | None) -> dict[str, Any]:
    assert table is not None
    return table.model_dump(exclude_defaults=True)


def _col(name: str, data_type: str, line: int, ordinal: int, **extra: Any) -> dict[str, Any]:
    return {"name": name, "data_type": data_type, **extra, "ordinal": ordinal, "source_line": line}


# ------------------------------------------------------------------------------------------------ MySQL


def test_mysqldump_catalog() -> None:
    parsed = parse_ddl(MYSQLDUMP, "mariadb")
    assert parsed.warnings == []
    assert parsed.catalog.engine == "mysql"
    assert parsed.catalog.source == "ddl"
    assert [(t.name, t.kind, t.source_line) for t in parsed.catalog.tables] == [
        ("customers", "table", 18),
        ("orders", "table", 39),
        ("audit_log", "table", 52),
        ("tags", "table", 61),
        ("paid_orders", "view", 67),
    ]
    cat = parsed.catalog
    assert _dump(cat.table("customers")) == {
        "name": "customers",
        "columns": [
            {"name": "id", "data_type": "char(36)", "nullable": False, "ordinal": 1,
             "collation": "utf8mb3_general_ci", "source_line": 19},
            {"name": "email", "data_type": "varchar(255)", "nullable": False, "ordinal": 2,
             "collation": "utf8mb3_general_ci", "source_line": 20},
            {"name": "name", "data_type": "varchar(100)", "ordinal": 3, "collation": "latin1_swedish_ci",
             "source_line": 21},
            {"name": "created_at", "data_type": "datetime", "nullable": False, "default": "CURRENT_TIMESTAMP",
             "ordinal": 4, "source_line": 22},
        ],
        "primary_key": {"columns": ["id"]},
        "unique_constraints": [{"name": "uq_customers_email", "columns": ["email"]}],
        "indexes": [
            {"name": "PRIMARY", "columns": ["id"], "unique": True, "primary": True, "method": "btree",
             "origin": "primary_key", "source_line": 23},
            {"name": "uq_customers_email", "columns": ["email"], "unique": True, "method": "btree",
             "origin": "unique_constraint", "source_line": 24},
        ],
        "options": {"engine": "InnoDB", "charset": "utf8mb3"},
        "source_line": 18,
    }  # fmt: skip
    assert _dump(cat.table("orders")) == {
        "name": "orders",
        "columns": [
            {"name": "id", "data_type": "bigint unsigned", "nullable": False, "ordinal": 1,
             "identity": "by default", "source_line": 40},
            {"name": "customer_id", "data_type": "char(36)", "nullable": False, "ordinal": 2,
             "collation": "utf8mb4_0900_ai_ci", "source_line": 41},
            {"name": "status", "data_type": "enum('new','paid','shipped')", "nullable": False, "default": "'new'",
             "ordinal": 3, "collation": "utf8mb4_0900_ai_ci", "source_line": 42},
            {"name": "total", "data_type": "decimal(10,2)", "nullable": False, "ordinal": 4, "source_line": 43},
            {"name": "notes", "data_type": "text", "ordinal": 5, "collation": "utf8mb4_0900_ai_ci",
             "source_line": 44},
        ],
        "primary_key": {"columns": ["id"]},
        "foreign_keys": [
            {"name": "fk_orders_customer", "columns": ["customer_id"], "ref_table": "customers",
             "ref_columns": ["id"], "on_delete": "cascade", "source_line": 48},
        ],
        "indexes": [
            {"name": "PRIMARY", "columns": ["id"], "unique": True, "primary": True, "method": "btree",
             "origin": "primary_key", "source_line": 45},
            {"name": "ix_orders_customer", "columns": ["customer_id"], "method": "btree", "source_line": 46},
            {"name": "ix_orders_status_notes", "columns": ["status", "notes(20)"], "method": "btree",
             "source_line": 47},
        ],
        "options": {"engine": "InnoDB", "charset": "utf8mb4", "collation": "utf8mb4_0900_ai_ci"},
        "comment": "customer orders",
        "stats": {"auto_increment": 1042},
        "source_line": 39,
    }  # fmt: skip
    audit = _dump(cat.table("audit_log"))
    assert audit["options"] == {"engine": "MyISAM", "charset": "latin1", "row_format": "DYNAMIC"}
    assert audit["stats"] == {"auto_increment": 7}
    assert [c["data_type"] for c in audit["columns"]] == ["int(11)", "varchar(500)", "tinyint(1)"]
    assert audit["columns"][1]["collation"] == "latin1_swedish_ci"
    assert audit["indexes"][1] == {
        "name": "ft_message",
        "columns": ["message"],
        "method": "fulltext",
        "source_line": 57,
    }
    tags = _dump(cat.table("tags"))
    assert "primary_key" not in tags
    assert tags["columns"][1] == {"name": "payload", "data_type": "json", "ordinal": 2, "source_line": 63}
    view = cat.table("paid_orders")
    assert view is not None and view.definition is not None and "`orders`.`status` = 'paid'" in view.definition


def test_mysql_alter_table_forms_and_fk_index() -> None:
    ddl = """\
USE `shop`;
CREATE TABLE a (id int NOT NULL, b_id int, c varchar(10) CHARACTER SET utf8mb3, d int);
CREATE TABLE b (id int PRIMARY KEY);
ALTER TABLE a ADD PRIMARY KEY (id), ADD UNIQUE KEY u_c (c), ADD KEY ix_d (d);
ALTER TABLE a MODIFY id int NOT NULL AUTO_INCREMENT, AUTO_INCREMENT=5;
ALTER TABLE a ADD CONSTRAINT fk_b FOREIGN KEY (b_id) REFERENCES b (id) ON DELETE SET NULL ON UPDATE CASCADE;
CREATE INDEX ix_cd ON a (c(4), d DESC) USING BTREE;
ALTER TABLE a DISABLE KEYS;
"""
    parsed = parse_ddl(ddl, "mysql")
    assert parsed.warnings == []
    a = parsed.catalog.table("a", "shop")
    assert a is not None and a.schema_name == "shop"
    assert a.primary_key is not None and a.primary_key.columns == ["id"]
    assert a.columns[0].identity == "by default" and a.columns[0].nullable is False
    assert a.columns[2].collation == "utf8mb3_general_ci"
    fk = a.foreign_keys[0]
    assert (fk.name, fk.ref_schema, fk.ref_table, fk.on_delete, fk.on_update, fk.source_line) == (
        "fk_b", "shop", "b", "set null", "cascade", 6,
    )  # fmt: skip
    # InnoDB adds an index named after the constraint when none starts with the FK columns
    assert [(i.name, i.columns, i.method) for i in a.indexes] == [
        ("PRIMARY", ["id"], "btree"),
        ("u_c", ["c"], "btree"),
        ("ix_d", ["d"], "btree"),
        ("fk_b", ["b_id"], "btree"),
        ("ix_cd", ["c(4)", "d DESC"], "btree"),
    ]


def test_mysql_partitioned_table_and_delimiter_blocks() -> None:
    ddl = """\
CREATE TABLE `p` (
  `id` int NOT NULL,
  `d` date NOT NULL,
  PRIMARY KEY (`id`,`d`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
/*!50100 PARTITION BY RANGE (year(`d`))
(PARTITION p0 VALUES LESS THAN (2020) ENGINE = InnoDB,
 PARTITION p1 VALUES LESS THAN MAXVALUE ENGINE = InnoDB) */;
DELIMITER ;;
CREATE TRIGGER `t_bi` BEFORE INSERT ON `p` FOR EACH ROW BEGIN
  SET NEW.d = CURDATE();
END ;;
DELIMITER ;
CREATE TABLE `q` (`id` int);
"""
    parsed = parse_ddl(ddl, "mysql")
    assert parsed.warnings == []
    p = parsed.catalog.table("p")
    assert p is not None and p.kind == "partitioned_table" and p.partition_key == "RANGE (year(d))"
    assert [t.name for t in parsed.catalog.tables] == ["p", "q"]
    assert parsed.catalog.table("q") is not None and parsed.catalog.tables[1].source_line == 14


# ------------------------------------------------------------------------------------------------ SQLite


def test_sqlite_schema_catalog() -> None:
    parsed = parse_ddl(SQLITE_SCHEMA, "sqlite")
    assert parsed.warnings == []
    assert parsed.statements == 13
    cat = parsed.catalog
    assert cat.engine == "sqlite"
    assert [(t.name, t.kind) for t in cat.tables] == [
        ("orgs", "table"), ("users", "table"), ("kv", "table"), ("events", "table"), ("active_users", "view"),
    ]  # fmt: skip
    assert _dump(cat.table("users")) == {
        "name": "users",
        "columns": [
            _col("id", "integer", 5, 1, nullable=False, identity="by default"),
            _col("org_id", "integer", 6, 2),
            _col("email", "text", 7, 3, nullable=False, collation="NOCASE"),
            _col("deleted_at", "text", 8, 4),
        ],
        "primary_key": {"columns": ["id"]},
        "foreign_keys": [
            {"columns": ["org_id"], "ref_table": "orgs", "ref_columns": ["id"], "on_delete": "cascade",
             "source_line": 6},
        ],
        "indexes": [
            {"name": "ux_users_email", "columns": ["email"], "unique": True, "predicate": "deleted_at IS NULL",
             "source_line": 14},
            {"name": "ix_users_org", "columns": ["org_id", "LOWER(email)"], "source_line": 15},
        ],
        "triggers": [
            {"name": "tr_users", "timing": "AFTER", "events": ["INSERT"],
             "definition": "CREATE TRIGGER tr_users AFTER INSERT ON users BEGIN UPDATE users SET email = lower(email) "
                           "WHERE id = new.id; END"},
        ],
        "options": {"autoincrement": "true"},
        "source_line": 4,
    }  # fmt: skip
    assert _dump(cat.table("kv")) == {
        "name": "kv",
        "columns": [_col("k", "text", 12, 1), _col("v", "blob", 12, 2)],
        "primary_key": {"columns": ["k"]},
        "indexes": [
            {"name": "sqlite_autoindex_kv_1", "columns": ["k"], "unique": True, "primary": True,
             "origin": "primary_key", "source_line": 12},
        ],
        "options": {"without_rowid": "true"},
        "source_line": 12,
    }  # fmt: skip
    events = _dump(cat.table("events"))
    assert events["options"] == {"strict": "true"}
    assert [c["data_type"] for c in events["columns"]] == ["integer", "any", "int"]
    assert cat.table("sqlite_sequence") is None


# ------------------------------------------------------------------------------------------------ SQL Server


def test_tsql_script_with_go_batches() -> None:
    parsed = parse_ddl(TSQL_SCRIPT, "mssql")
    assert parsed.warnings == []
    cat = parsed.catalog
    assert cat.engine == "tsql"
    assert [(t.schema_name, t.name, t.kind) for t in cat.tables] == [
        ("dbo", "Customers", "table"), ("dbo", "Orders", "table"), ("dbo", "RecentOrders", "view"),
    ]  # fmt: skip
    customers = _dump(cat.table("Customers", "dbo"))
    assert customers["columns"] == [
        _col("CustomerID", "int", 9, 1, nullable=False, identity="always"),
        _col("Email", "nvarchar(255)", 10, 2, nullable=False),
        _col("Balance", "money", 11, 3),
        _col("RowGuid", "uniqueidentifier", 12, 4, nullable=False),
    ]
    assert customers["indexes"] == [
        {"name": "PK_Customers", "columns": ["CustomerID"], "unique": True, "primary": True, "method": "clustered",
         "origin": "primary_key", "source_line": 13},
        {"name": "UQ_Customers_Email", "columns": ["Email"], "unique": True, "method": "nonclustered",
         "origin": "unique_constraint", "source_line": 17},
    ]  # fmt: skip
    orders = _dump(cat.table("Orders", "dbo"))
    assert orders["columns"][2] == _col("OrderDate", "datetime", 26, 3, nullable=False, default="(getdate())")
    assert orders["foreign_keys"] == [
        {"name": "FK_Orders_Customers", "columns": ["CustomerID"], "ref_schema": "dbo", "ref_table": "Customers",
         "ref_columns": ["CustomerID"], "on_delete": "cascade", "source_line": 34},
    ]  # fmt: skip
    assert orders["indexes"] == [
        {"name": "PK_Orders", "columns": ["OrderID"], "unique": True, "primary": True, "method": "nonclustered",
         "origin": "primary_key", "source_line": 29},
        {"name": "IX_Orders_Date", "columns": ["OrderDate DESC"], "method": "nonclustered", "source_line": 28},
        {"name": "IX_Orders_Customer", "columns": ["CustomerID"], "method": "nonclustered",
         "predicate": "([CustomerID] IS NOT NULL)", "include": ["Notes"], "source_line": 40},
    ]  # fmt: skip
    assert orders["options"] == {"filegroup": "PRIMARY", "textimage_on": "PRIMARY"}


# ------------------------------------------------------------------------------------------------ warehouses


def test_clickhouse_mergetree() -> None:
    parsed = parse_ddl(CLICKHOUSE_DDL, "clickhouse")
    assert parsed.warnings == []
    table = _dump(parsed.catalog.table("events", "analytics"))
    assert table == {
        "schema_name": "analytics",
        "name": "events",
        "columns": [
            _col("event_id", "uuid", 3, 1, nullable=False, default="generateUUIDv4()"),
            _col("user_id", "uint64", 4, 2, nullable=False),
            _col("kind", "lowcardinality(string)", 5, 3, nullable=False),
            _col("ts", "datetime64(3,'UTC')", 6, 4, nullable=False),
            _col("amount", "nullable(decimal(18,2))", 7, 5),
        ],
        "indexes": [{"name": "idx_kind", "columns": ["kind"], "method": "set(100)", "source_line": 8}],
        "partition_key": "toYYYYMM(ts)",
        "options": {
            "engine": "MergeTree",
            "partition_by": "toYYYYMM(ts)",
            "order_by": "(user_id, ts)",
            "ttl": "toDateTime(ts) + INTERVAL '90' DAY",
            "settings": "index_granularity = 8192",
        },
        "source_line": 1,
    }
    assert "primary_key" not in table  # ORDER BY is the sparse primary index, recorded as an option


def test_snowflake_table() -> None:
    parsed = parse_ddl(SNOWFLAKE_DDL, "snowflake")
    assert parsed.warnings == []
    assert parsed.catalog.engine == "snowflake"
    assert _dump(parsed.catalog.table("ORDERS", "PUBLIC")) == {
        "schema_name": "PUBLIC",
        "name": "ORDERS",
        "columns": [
            _col("ID", "number(38,0)", 2, 1, nullable=False, identity="by default"),
            _col("CUSTOMER_ID", "number(38,0)", 3, 2),
            _col("PAYLOAD", "variant", 4, 3),
            _col("NOTE", "string", 5, 4),
            _col("CREATED_AT", "timestamp_ntz(9)", 6, 5, default="CURRENT_TIMESTAMP"),
        ],
        "primary_key": {"columns": ["ID"]},
        "foreign_keys": [
            {"name": "FK_C", "columns": ["CUSTOMER_ID"], "ref_schema": "PUBLIC", "ref_table": "CUSTOMERS",
             "ref_columns": ["ID"], "source_line": 8},
        ],
        "options": {"cluster_by": "CREATED_AT"},
        "comment": "orders",
        "source_line": 1,
    }  # fmt: skip


def test_bigquery_table() -> None:
    parsed = parse_ddl(BIGQUERY_DDL, "bigquery")
    assert parsed.warnings == []
    assert _dump(parsed.catalog.table("orders", "shop")) == {
        "schema_name": "shop",
        "name": "orders",
        "columns": [
            _col("id", "int64", 2, 1, nullable=False),
            _col("customer_id", "int64", 3, 2),
            _col("amount", "numeric(10,2)", 4, 3),
            _col("tags", "array<string>", 5, 4),
            _col("addr", "struct<street string,zip string>", 6, 5),
            _col("created_at", "timestamp", 7, 6),
        ],
        "primary_key": {"columns": ["id"]},
        "partition_key": "DATE(created_at)",
        "options": {"partition_by": "DATE(created_at)", "cluster_by": "customer_id"},
        "comment": "Orders",
        "source_line": 1,
    }


# ------------------------------------------------------------------------------------------------ robustness


@pytest.mark.parametrize("dialect", sorted(DIALECT_ENGINES))
def test_garbage_statement_gives_one_warning_and_the_rest_parses(dialect: str) -> None:
    ddl = "CREATE TABLE a (x int);\n\nTHIS IS NOT SQL AT ALL;\nCREATE TABLE c (y int);\n"
    parsed = parse_ddl(ddl, dialect)
    assert [(w.line, w.statement_start) for w in parsed.warnings] == [(3, "THIS IS NOT SQL AT ALL")]
    assert [t.name for t in parsed.catalog.tables] == ["a", "c"]
    assert parsed.catalog.tables[1].source_line == 4
    assert parsed.statements == 3


def test_broken_create_table_and_unterminated_quote() -> None:
    ddl = "CREATE TABLE a (x int);\nCREATE TABLE b (x int,, ((;\nCREATE TABLE c (y int);\nCREATE TABLE d ('oops);\n"
    parsed = parse_ddl(ddl, "mysql")
    assert [w.line for w in parsed.warnings] == [2, 4]
    assert [t.name for t in parsed.catalog.tables] == ["a", "c"]


def test_unknown_dialect_lists_the_accepted_ones() -> None:
    with pytest.raises(ValueError, match=r"postgres.*mysql.*mariadb.*sqlite.*tsql.*sqlserver.*mssql.*bigquery"):
        parse_ddl("CREATE TABLE t (a int);", "oracle")
    with pytest.raises(ValueError):
        parse_with_sqlglot("CREATE TABLE t (a int);", "postgres")


def test_dialect_aliases_route_to_the_same_engine() -> None:
    assert parse_ddl("CREATE TABLE t (a int);", "MariaDB").catalog.engine == "mysql"
    assert parse_ddl("CREATE TABLE t (a int)\nGO\n", "sqlserver").catalog.engine == "tsql"
    assert set(DIALECT_ALIASES) >= {"postgres", "postgresql", "mysql", "mariadb", "sqlite", "tsql", "sqlserver",
                                    "mssql", "clickhouse", "snowflake", "bigquery"}  # fmt: skip


_SQLISH = st.text(
    alphabet=st.sampled_from(list("CREATE TABLE INDEX VIEW ALTER ADD KEY ()[]`'\";,.-/*!\n\t0123456789_=<>$#GO")),
    max_size=200,
)


@pytest.mark.parametrize("dialect", sorted(DIALECT_ENGINES))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.one_of(st.text(max_size=200), _SQLISH))
def test_arbitrary_text_never_raises(dialect: str, text: str) -> None:
    parsed = parse_ddl(text, dialect)
    assert parsed.catalog.source == "ddl"
    assert all(w.line >= 1 for w in parsed.warnings)


def test_mysql_generated_columns_say_stored_or_virtual() -> None:
    ddl = "CREATE TABLE t (a INT, b INT AS (a * 2) STORED, c INT AS (a) VIRTUAL, d INT GENERATED ALWAYS AS (a + 1));"
    (table,) = parse_ddl(ddl, "mysql").catalog.tables
    kinds = {c.name: (c.generated is not None, c.generated_kind) for c in table.columns}
    assert kinds == {"a": (False, None), "b": (True, "stored"), "c": (True, "virtual"), "d": (True, "virtual")}
