"""diff_schemas: the statements that turn one catalog into another, per dialect, in a safe and stable order."""

from __future__ import annotations

import pytest

from dbspecialist.adapters.catalog import (
    Catalog,
    CheckConstraint,
    Column,
    Extension,
    ForeignKey,
    Index,
    PrimaryKey,
    Table,
    UniqueConstraint,
)
from dbspecialist.knowledge.ddl.dispatch import parse_ddl
from dbspecialist.knowledge.migrations.diff import diff_schemas


def pg(ddl: str) -> Catalog:
    return parse_ddl(ddl, "postgres").catalog


def my(ddl: str) -> Catalog:
    return parse_ddl(ddl, "mysql").catalog


def sl(ddl: str) -> Catalog:
    return parse_ddl(ddl, "sqlite").catalog


SHOP_PG = """
CREATE TABLE customers (id serial PRIMARY KEY, email varchar(100) NOT NULL UNIQUE, born date, note text DEFAULT 'x',
  CONSTRAINT born_past CHECK (born < '2100-01-01'));
CREATE TABLE orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, customer_id int REFERENCES customers (id),
  total numeric(10,2) DEFAULT 0, placed timestamptz DEFAULT now());
CREATE INDEX orders_customer_idx ON orders (customer_id);
CREATE UNIQUE INDEX orders_lower ON orders (lower(placed::text)) WHERE total > 0;
"""
SHOP_MYSQL = """
CREATE TABLE customers (id int AUTO_INCREMENT PRIMARY KEY, email varchar(100) NOT NULL, flag bool DEFAULT true,
  UNIQUE KEY customers_email (email), CONSTRAINT flag_ok CHECK (flag IN (0, 1))) ENGINE=InnoDB;
CREATE TABLE orders (id bigint AUTO_INCREMENT PRIMARY KEY, customer_id int, total decimal(10,2) DEFAULT 0,
  KEY orders_total (total), CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id));
"""
SHOP_SQLITE = """
CREATE TABLE customers (id INTEGER PRIMARY KEY AUTOINCREMENT, email text NOT NULL UNIQUE,
  born text CHECK (born > '1900'));
CREATE TABLE orders (id integer PRIMARY KEY, customer_id int REFERENCES customers (id), total real DEFAULT 0);
CREATE INDEX orders_customer_idx ON orders (customer_id) WHERE customer_id IS NOT NULL;
"""


# --------------------------------------------------------------------------- nothing to do


@pytest.mark.parametrize(
    ("dialect", "ddl"), [("postgres", SHOP_PG), ("mysql", SHOP_MYSQL), ("mariadb", SHOP_MYSQL), ("sqlite", SHOP_SQLITE)]
)
def test_identical_schemas_give_nothing(dialect: str, ddl: str) -> None:
    catalog = parse_ddl(ddl, dialect).catalog
    assert catalog.tables, "the fixture DDL must parse"
    assert diff_schemas(catalog, catalog, dialect) == []


def test_postgres_type_spellings_are_not_changes() -> None:
    def table(*types: str) -> Catalog:
        columns = [Column(name=f"c{i}", data_type=t) for i, t in enumerate(types)]
        return Catalog(engine="postgresql", tables=[Table(name="t", columns=columns)])

    spelled = table(
        "int", "int4", "varchar(10)", "timestamptz", "bool", "int8", "float8", "numeric(10, 2)", "timestamp(3)"
    )
    canonical = table(
        "integer",
        "integer",
        "character varying(10)",
        "timestamp with time zone",
        "boolean",
        "bigint",
        "double precision",
        "numeric(10,2)",
        "timestamp(3) without time zone",
    )
    assert diff_schemas(spelled, canonical, "postgres") == []
    assert diff_schemas(canonical, table("integer", "integer", "varchar(20)", *["boolean"] * 6), "postgres")[0] == (
        "ALTER TABLE t ALTER COLUMN c2 TYPE varchar(20)"
    )


def test_postgres_live_spellings_equal_the_ddl_they_came_from() -> None:
    """What the PostgreSQL adapter reads back (schema `app`, casts, parentheses) against parse_ddl of the source."""
    ddl = """
    CREATE TABLE t (id serial PRIMARY KEY, n int DEFAULT -1, note text DEFAULT 'x', d date DEFAULT '2024-01-01',
      mood mood DEFAULT 'a', g int GENERATED ALWAYS AS (n * 2) STORED, "user" text, CONSTRAINT n_pos CHECK (n > 0));
    CREATE INDEX t_note ON t (lower(note)) WHERE note IS NOT NULL;
    CREATE INDEX t_user ON t ("user");
    CREATE TABLE child (id int PRIMARY KEY, t_id int REFERENCES t (id));
    """
    live = Catalog(
        engine="postgresql",
        tables=[
            Table(
                schema_name="app",
                name="t",
                columns=[
                    Column(name="id", data_type="integer", nullable=False, default="nextval('app.t_id_seq'::regclass)"),
                    Column(name="n", data_type="integer", default="'-1'::integer"),
                    Column(name="note", data_type="text", default="'x'::text"),
                    Column(name="d", data_type="date", default="'2024-01-01'::date"),
                    Column(name="mood", data_type="app.mood", default="'a'::app.mood"),
                    Column(name="g", data_type="integer", generated="(n * 2)"),
                    Column(name="user", data_type="text"),
                ],
                primary_key=PrimaryKey(name="t_pkey", columns=["id"]),
                check_constraints=[CheckConstraint(name="n_pos", expression="(n > 0)")],
                indexes=[
                    Index(name="t_pkey", columns=["id"], unique=True, primary=True, origin="primary_key"),
                    Index(name="t_note", columns=["lower(note)"], method="btree", predicate="(note IS NOT NULL)"),
                    Index(name="t_user", columns=['"user"'], method="btree"),
                ],
            ),
            Table(
                schema_name="app",
                name="child",
                columns=[
                    Column(name="id", data_type="integer", nullable=False),
                    Column(name="t_id", data_type="integer"),
                ],
                primary_key=PrimaryKey(name="child_pkey", columns=["id"]),
                foreign_keys=[
                    ForeignKey(
                        name="child_t_id_fkey", columns=["t_id"], ref_schema="app", ref_table="t", ref_columns=["id"]
                    )
                ],
            ),
        ],
    )
    target = pg("CREATE TYPE mood AS ENUM ('a', 'b');" + ddl)
    assert diff_schemas(live, target, "postgres") == []
    # the live schema name is kept in the statements when something does change
    changed = pg("CREATE TYPE mood AS ENUM ('a', 'b');" + ddl.replace("DEFAULT 'x'", "DEFAULT 'y'"))
    assert diff_schemas(live, changed, "postgres") == ["ALTER TABLE app.t ALTER COLUMN note SET DEFAULT 'y'"]


def test_mysql_live_spellings_equal_the_ddl() -> None:
    """MariaDB reads back display widths, tinyint(1), JSON as LONGTEXT + json_valid, RESTRICT and generated names."""
    target = my(
        "CREATE TABLE t (id int AUTO_INCREMENT PRIMARY KEY, big bigint DEFAULT 0, flag bool DEFAULT true, j json,"
        " created timestamp DEFAULT CURRENT_TIMESTAMP, u int unsigned, CHECK (big >= 0), p_id int,"
        " CONSTRAINT t_p FOREIGN KEY (p_id) REFERENCES p (id)); CREATE TABLE p (id int PRIMARY KEY);"
    )
    live = Catalog(
        engine="mysql",
        tables=[
            Table(
                schema_name="shop",
                name="t",
                columns=[
                    Column(name="id", data_type="int(11)", nullable=False, identity="by default"),
                    Column(name="big", data_type="bigint(20)", default="0"),
                    Column(name="flag", data_type="tinyint(1)", default="1"),
                    Column(name="j", data_type="longtext", collation="utf8mb4_bin"),
                    Column(name="created", data_type="timestamp", default="current_timestamp()"),
                    Column(name="u", data_type="int(10) unsigned"),
                    Column(name="p_id", data_type="int(11)"),
                ],
                primary_key=PrimaryKey(name="PRIMARY", columns=["id"]),
                check_constraints=[
                    CheckConstraint(name="CONSTRAINT_1", expression="`big` >= 0"),
                    CheckConstraint(name="j", expression="json_valid(`j`)"),
                ],
                foreign_keys=[
                    ForeignKey(
                        name="t_p",
                        columns=["p_id"],
                        ref_schema="shop",
                        ref_table="p",
                        ref_columns=["id"],
                        on_update="restrict",
                    )
                ],
                indexes=[
                    Index(name="PRIMARY", columns=["id"], unique=True, primary=True, origin="primary_key"),
                    Index(name="t_p", columns=["p_id"], method="BTREE"),
                ],
            ),
            Table(
                schema_name="shop",
                name="p",
                columns=[Column(name="id", data_type="int(11)", nullable=False)],
                primary_key=PrimaryKey(name="PRIMARY", columns=["id"]),
            ),
        ],
    )
    assert diff_schemas(live, target, "mariadb") == []


# --------------------------------------------------------------------------- PostgreSQL changes


V1_PG = """
CREATE TABLE customers (id serial PRIMARY KEY, email varchar(100) NOT NULL, name text, age int, legacy text,
  status text DEFAULT 'new', CONSTRAINT customers_email_key UNIQUE (email), CONSTRAINT age_ok CHECK (age >= 0));
CREATE TABLE orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, customer_id int REFERENCES customers(id),
  total numeric(10,2), placed date NOT NULL DEFAULT CURRENT_DATE, code text);
CREATE INDEX orders_customer_idx ON orders (customer_id);
CREATE INDEX orders_placed_idx ON orders (placed);
CREATE INDEX orders_old_name ON orders (code);
CREATE TABLE audit (id int PRIMARY KEY, msg text);
"""
V2_PG = """
CREATE TABLE customers (id serial PRIMARY KEY, email varchar(200) NOT NULL, name text NOT NULL DEFAULT '', age bigint,
  status text DEFAULT 'active', score int NOT NULL DEFAULT 0, CONSTRAINT customers_email_key UNIQUE (email),
  CONSTRAINT age_ok CHECK (age >= 18));
CREATE TABLE orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, customer_id int, total numeric(12,2),
  placed date, code text, ref int);
CREATE INDEX orders_customer_idx ON orders (customer_id, placed);
CREATE INDEX orders_code_idx ON orders (code);
CREATE UNIQUE INDEX orders_ref_key ON orders (ref) WHERE ref IS NOT NULL;
CREATE TABLE payments (id bigserial PRIMARY KEY, order_id bigint NOT NULL REFERENCES orders(id) ON DELETE CASCADE);
CREATE INDEX payments_order_idx ON payments (order_id);
ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;
"""


def test_postgres_changes_in_safe_order() -> None:
    assert diff_schemas(pg(V1_PG), pg(V2_PG), "postgres") == [
        "CREATE TABLE payments (\n    id bigserial,\n    order_id bigint NOT NULL,\n"
        "    CONSTRAINT payments_pkey PRIMARY KEY (id),\n"
        "    CONSTRAINT payments_order_id_fkey FOREIGN KEY (order_id) REFERENCES orders (id) ON DELETE CASCADE\n)",
        "CREATE INDEX payments_order_idx ON payments (order_id)",
        "ALTER TABLE customers ADD COLUMN score integer DEFAULT 0 NOT NULL",
        "ALTER TABLE orders ADD COLUMN ref integer",
        "ALTER TABLE customers ALTER COLUMN email TYPE character varying(200)",
        "ALTER TABLE customers ALTER COLUMN name SET DEFAULT ''",
        "ALTER TABLE customers ALTER COLUMN name SET NOT NULL",
        "ALTER TABLE customers ALTER COLUMN age TYPE bigint",
        "ALTER TABLE customers ALTER COLUMN status SET DEFAULT 'active'",
        "ALTER TABLE orders ALTER COLUMN total TYPE numeric(12,2)",
        "ALTER TABLE orders ALTER COLUMN placed DROP DEFAULT",
        "ALTER TABLE orders ALTER COLUMN placed DROP NOT NULL",
        "DROP INDEX orders_customer_idx",
        "CREATE INDEX orders_customer_idx ON orders (customer_id, placed)",
        "ALTER INDEX orders_old_name RENAME TO orders_code_idx",
        "CREATE UNIQUE INDEX orders_ref_key ON orders (ref) WHERE ref IS NOT NULL",
        "ALTER TABLE customers DROP CONSTRAINT age_ok",
        "ALTER TABLE customers ADD CONSTRAINT age_ok CHECK (age >= 18)",
        "ALTER TABLE orders RENAME CONSTRAINT orders_customer_id_fkey TO orders_customer_fk",
        "DROP INDEX orders_placed_idx",
        "ALTER TABLE customers DROP COLUMN legacy",
        "DROP TABLE audit",
    ]


def test_postgres_reverse_direction_validates_and_drops() -> None:
    assert diff_schemas(pg(V2_PG), pg(V1_PG), "postgres") == [
        "CREATE TABLE audit (\n    id integer NOT NULL,\n    msg text,\n    CONSTRAINT audit_pkey PRIMARY KEY (id)\n)",
        "ALTER TABLE customers ADD COLUMN legacy text",
        "ALTER TABLE customers ALTER COLUMN email TYPE character varying(100)",
        "ALTER TABLE customers ALTER COLUMN name DROP DEFAULT",
        "ALTER TABLE customers ALTER COLUMN name DROP NOT NULL",
        "ALTER TABLE customers ALTER COLUMN age TYPE integer",
        "ALTER TABLE customers ALTER COLUMN status SET DEFAULT 'new'",
        "ALTER TABLE orders ALTER COLUMN total TYPE numeric(10,2)",
        "ALTER TABLE orders ALTER COLUMN placed SET DEFAULT CURRENT_DATE",
        "ALTER TABLE orders ALTER COLUMN placed SET NOT NULL",
        "DROP INDEX orders_customer_idx",
        "CREATE INDEX orders_customer_idx ON orders (customer_id)",
        "ALTER INDEX orders_code_idx RENAME TO orders_old_name",
        "CREATE INDEX orders_placed_idx ON orders (placed)",
        "ALTER TABLE customers DROP CONSTRAINT age_ok",
        "ALTER TABLE customers ADD CONSTRAINT age_ok CHECK (age >= 0)",
        "ALTER TABLE orders RENAME CONSTRAINT orders_customer_fk TO orders_customer_id_fkey",
        "ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_id_fkey",
        "DROP INDEX orders_ref_key",
        "ALTER TABLE customers DROP COLUMN score",
        "ALTER TABLE orders DROP COLUMN ref",
        "DROP TABLE payments",  # its index goes with it
    ]


def test_new_tables_come_referenced_first_and_cycles_defer_a_foreign_key() -> None:
    target = pg(
        """
        CREATE TABLE b (id int PRIMARY KEY, a_id int REFERENCES a (id));
        CREATE TABLE a (id int PRIMARY KEY);
        CREATE TABLE c (id int PRIMARY KEY, d_id int);
        CREATE TABLE d (id int PRIMARY KEY, c_id int REFERENCES c (id));
        ALTER TABLE c ADD CONSTRAINT c_d_fk FOREIGN KEY (d_id) REFERENCES d (id);
        """
    )
    statements = diff_schemas(pg(""), target, "postgres")
    assert [s.split(" (")[0] for s in statements] == [
        "CREATE TABLE a",
        "CREATE TABLE b",
        "CREATE TABLE c",
        "CREATE TABLE d",
        "ALTER TABLE c ADD CONSTRAINT c_d_fk FOREIGN KEY",
    ]
    assert "FOREIGN KEY" not in statements[2]
    assert statements[4] == "ALTER TABLE c ADD CONSTRAINT c_d_fk FOREIGN KEY (d_id) REFERENCES d (id)"
    assert diff_schemas(target, pg(""), "postgres") == ["DROP TABLE d", "DROP TABLE c", "DROP TABLE b", "DROP TABLE a"]


def test_a_rename_is_a_drop_plus_an_add_and_the_order_is_stable() -> None:
    current = pg("CREATE TABLE t (id int, old_name text, x int); CREATE TABLE u (k int, gone int);")
    target = pg("CREATE TABLE u (k int, fresh int); CREATE TABLE t (id int, x int, new_name text);")
    expected = [
        "ALTER TABLE t ADD COLUMN new_name text",
        "ALTER TABLE u ADD COLUMN fresh integer",
        "ALTER TABLE t DROP COLUMN old_name",
        "ALTER TABLE u DROP COLUMN gone",
    ]
    assert diff_schemas(current, target, "postgres") == expected
    shuffled = current.model_copy(update={"tables": list(reversed(current.tables))})
    assert diff_schemas(shuffled, target, "postgres") == expected


def test_primary_key_change_frees_the_old_key_column_after_the_drop() -> None:
    current = pg("CREATE TABLE t (a int PRIMARY KEY, b int NOT NULL);")
    target = pg("CREATE TABLE t (a int, b int PRIMARY KEY);")
    assert diff_schemas(current, target, "postgres") == [
        "ALTER TABLE t DROP CONSTRAINT t_pkey",
        "ALTER TABLE t ALTER COLUMN a DROP NOT NULL",
        "ALTER TABLE t ADD CONSTRAINT t_pkey PRIMARY KEY (b)",
    ]


def test_identity_and_serial_transitions() -> None:
    current = pg(
        "CREATE TABLE t (a serial, b int GENERATED ALWAYS AS IDENTITY, c int, d int GENERATED BY DEFAULT AS IDENTITY);"
    )
    target = pg(
        "CREATE TABLE t (a int GENERATED BY DEFAULT AS IDENTITY, b int, c bigint GENERATED ALWAYS AS IDENTITY,"
        " d int GENERATED ALWAYS AS IDENTITY);"
    )
    assert diff_schemas(current, target, "postgres") == [
        "ALTER TABLE t ALTER COLUMN a DROP DEFAULT",
        "ALTER TABLE t ALTER COLUMN a ADD GENERATED BY DEFAULT AS IDENTITY",
        "ALTER TABLE t ALTER COLUMN b DROP IDENTITY",
        "ALTER TABLE t ALTER COLUMN b DROP NOT NULL",
        "ALTER TABLE t ALTER COLUMN c TYPE bigint",
        "ALTER TABLE t ALTER COLUMN c SET NOT NULL",
        "ALTER TABLE t ALTER COLUMN c ADD GENERATED ALWAYS AS IDENTITY",
        "ALTER TABLE t ALTER COLUMN d SET GENERATED ALWAYS",
    ]


def test_checks_generated_columns_and_collations() -> None:
    current = pg(
        'CREATE TABLE t (a int, g int GENERATED ALWAYS AS (a * 2) STORED, n text COLLATE "C",'
        " CONSTRAINT a_pos CHECK (a > 0), CONSTRAINT a_small CHECK (a < 10) NOT VALID);"
    )
    target = pg(
        'CREATE TABLE t (a int, g int GENERATED ALWAYS AS (a * 3) STORED, n text COLLATE "POSIX",'
        " CONSTRAINT a_pos CHECK (a >= 0), CONSTRAINT a_small CHECK (a < 10),"
        " CONSTRAINT a_even CHECK (a % 2 = 0) NOT VALID);"
    )
    assert diff_schemas(current, target, "postgres") == [
        "ALTER TABLE t DROP COLUMN g",
        "ALTER TABLE t ADD COLUMN g integer GENERATED ALWAYS AS (a * 3) STORED",
        'ALTER TABLE t ALTER COLUMN n TYPE text COLLATE "POSIX"',
        "ALTER TABLE t DROP CONSTRAINT a_pos",
        "ALTER TABLE t ADD CONSTRAINT a_pos CHECK (a >= 0)",
        "ALTER TABLE t VALIDATE CONSTRAINT a_small",
        "ALTER TABLE t ADD CONSTRAINT a_even CHECK (a % 2 = 0) NOT VALID",
    ]


def test_identifiers_are_quoted_only_when_needed() -> None:
    current = pg('CREATE TABLE "Order" (id int);')
    target = pg(
        'CREATE TABLE "Order" (id int, "user" text, "Mixed" int, plain int); CREATE INDEX ou ON "Order" ("user");'
    )
    assert diff_schemas(current, target, "postgres") == [
        'ALTER TABLE "Order" ADD COLUMN "user" text',
        'ALTER TABLE "Order" ADD COLUMN "Mixed" integer',
        'ALTER TABLE "Order" ADD COLUMN plain integer',
        'CREATE INDEX ou ON "Order" ("user")',
    ]


def test_prerequisites_first_partitions_and_sequences() -> None:
    current = pg("CREATE TABLE m (id int, d date) PARTITION BY RANGE (d); CREATE SEQUENCE old_seq;")
    current = current.model_copy(update={"extensions": [Extension(name="plpgsql")]})
    target = pg(
        "CREATE EXTENSION citext; CREATE SEQUENCE ticket_seq; CREATE TABLE m (id int, d date) PARTITION BY RANGE (d);"
        " CREATE TABLE m_2025 PARTITION OF m FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');"
        " CREATE TABLE t (n bigint DEFAULT nextval('ticket_seq'));"
    )
    assert diff_schemas(current, target, "postgres") == [
        "CREATE EXTENSION IF NOT EXISTS citext",
        "CREATE SEQUENCE ticket_seq",
        "CREATE TABLE m_2025 PARTITION OF m FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')",
        "CREATE TABLE t (\n    n bigint DEFAULT nextval('ticket_seq')\n)",
        "DROP SEQUENCE old_seq",
    ]


def test_unique_and_foreign_key_changes_with_unnamed_current_constraints() -> None:
    current = Catalog(
        engine="postgresql",
        tables=[
            Table(name="p", columns=[Column(name="id", data_type="integer")], primary_key=PrimaryKey(columns=["id"])),
            Table(
                name="c",
                columns=[Column(name="p_id", data_type="integer"), Column(name="code", data_type="text")],
                unique_constraints=[UniqueConstraint(columns=["code"])],
                foreign_keys=[ForeignKey(columns=["p_id"], ref_table="p", ref_columns=["id"])],
            ),
        ],
    )
    target = Catalog(
        engine="postgresql",
        tables=[
            current.tables[0],
            Table(
                name="c",
                columns=[Column(name="p_id", data_type="integer"), Column(name="code", data_type="text")],
                unique_constraints=[UniqueConstraint(name="c_code_p_key", columns=["code", "p_id"])],
                foreign_keys=[ForeignKey(columns=["p_id"], ref_table="p", ref_columns=["id"], on_delete="cascade")],
            ),
        ],
    )
    assert diff_schemas(current, target, "postgres") == [
        "ALTER TABLE c ADD CONSTRAINT c_code_p_key UNIQUE (code, p_id)",
        "ALTER TABLE c ADD FOREIGN KEY (p_id) REFERENCES p (id) ON DELETE CASCADE",
        "ALTER TABLE c DROP CONSTRAINT c_p_id_fkey",
        "ALTER TABLE c DROP CONSTRAINT c_code_key",
    ]


def test_views_are_not_compared_and_unknown_dialects_refused() -> None:
    view = pg("CREATE TABLE t (a int); CREATE VIEW v AS SELECT a FROM t;")
    assert diff_schemas(pg("CREATE TABLE t (a int);"), view, "postgres") == []
    with pytest.raises(ValueError, match="unknown dialect 'oracle'"):
        diff_schemas(view, view, "oracle")


# --------------------------------------------------------------------------- MySQL / MariaDB


def test_mysql_changes() -> None:
    current = my(
        "CREATE TABLE orders (id bigint AUTO_INCREMENT PRIMARY KEY, customer_id int, total decimal(10,2),"
        " placed date NOT NULL, code varchar(20), status varchar(10) DEFAULT 'new',"
        " CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id));"
        " CREATE INDEX orders_old_name ON orders (code); CREATE TABLE customers (id int PRIMARY KEY);"
        " CREATE TABLE pairs (a int NOT NULL, b int NOT NULL, PRIMARY KEY (a)); CREATE TABLE gone (x int);"
    )
    target = my(
        "CREATE TABLE orders (id bigint AUTO_INCREMENT PRIMARY KEY, customer_id int, total decimal(12,2), placed date,"
        " code varchar(20), status varchar(10) DEFAULT 'active', ref int, UNIQUE KEY orders_ref_key (ref));"
        " CREATE INDEX orders_customer_idx ON orders (customer_id, placed);"
        " CREATE INDEX orders_code_idx ON orders (code);"
        " CREATE TABLE customers (id int PRIMARY KEY, CONSTRAINT id_pos CHECK (id > 0));"
        " CREATE TABLE pairs (a int NOT NULL, b int NOT NULL, PRIMARY KEY (a, b));"
    )
    assert diff_schemas(current, target, "mysql") == [
        "ALTER TABLE orders ADD COLUMN ref int",
        "ALTER TABLE orders MODIFY COLUMN total decimal(12,2)",
        "ALTER TABLE orders MODIFY COLUMN placed date",
        "ALTER TABLE orders ALTER COLUMN status SET DEFAULT 'active'",
        "ALTER TABLE orders RENAME INDEX orders_old_name TO orders_code_idx",
        "CREATE INDEX orders_customer_idx ON orders (customer_id, placed)",
        "CREATE UNIQUE INDEX orders_ref_key ON orders (ref)",
        "ALTER TABLE pairs DROP PRIMARY KEY, ADD PRIMARY KEY (a, b)",
        "ALTER TABLE customers ADD CONSTRAINT id_pos CHECK (id > 0)",
        # the index MySQL made for the key goes away by itself once orders_customer_idx can serve it
        "ALTER TABLE orders DROP FOREIGN KEY orders_customer_fk",
        "DROP TABLE gone",
    ]


def test_mysql_drops_and_backticks() -> None:
    current = my(
        "CREATE TABLE `Order` (id int PRIMARY KEY, `key` int, c int,"
        " CONSTRAINT c_pos CHECK (c > 0), KEY k_idx (`key`));"
    )
    target = my("CREATE TABLE `order` (id int PRIMARY KEY, `key` int NOT NULL DEFAULT 1);")
    assert diff_schemas(current, target, "mariadb") == [
        "ALTER TABLE `Order` MODIFY COLUMN `key` int DEFAULT 1 NOT NULL",
        "DROP INDEX k_idx ON `Order`",
        "ALTER TABLE `Order` DROP CONSTRAINT c_pos",
        "ALTER TABLE `Order` DROP COLUMN c",
    ]


def test_mysql_new_table_keeps_its_keys_inline() -> None:
    target = my(
        "CREATE TABLE p (id int PRIMARY KEY); CREATE TABLE c (id bigint NOT NULL AUTO_INCREMENT, p_id int,"
        " note varchar(20) COMMENT 'free text', PRIMARY KEY (id), UNIQUE KEY c_note (note),"
        " CONSTRAINT c_p FOREIGN KEY (p_id) REFERENCES p (id) ON DELETE CASCADE) ENGINE=InnoDB;"
    )
    assert diff_schemas(my("CREATE TABLE p (id int PRIMARY KEY);"), target, "mysql") == [
        "CREATE TABLE c (\n"
        "    id bigint NOT NULL AUTO_INCREMENT,\n"
        "    p_id int,\n"
        "    note varchar(20) COMMENT 'free text',\n"
        "    PRIMARY KEY (id),\n"
        "    UNIQUE KEY c_note (note),\n"
        "    KEY c_p (p_id),\n"
        "    CONSTRAINT c_p FOREIGN KEY (p_id) REFERENCES p (id) ON DELETE CASCADE\n"
        ") ENGINE=InnoDB"
    ]


# --------------------------------------------------------------------------- SQLite


def test_sqlite_plain_column_changes_use_alter_table() -> None:
    current = sl("CREATE TABLE t (id integer PRIMARY KEY, a text, b text, c int); CREATE INDEX t_a ON t (a);")
    target = sl(
        "CREATE TABLE t (id integer PRIMARY KEY, a text, c int, d text DEFAULT 'x', e int REFERENCES t (id));"
        " CREATE INDEX t_a_idx ON t (a);"
    )
    assert diff_schemas(current, target, "sqlite") == [
        "ALTER TABLE t ADD COLUMN d text DEFAULT 'x'",
        "ALTER TABLE t ADD COLUMN e int REFERENCES t (id)",
        "CREATE INDEX t_a_idx ON t (a)",
        "DROP INDEX t_a",
        "ALTER TABLE t DROP COLUMN b",
    ]


def test_sqlite_other_changes_rebuild_the_table() -> None:
    current = sl("CREATE TABLE t (id integer PRIMARY KEY, a text, b int UNIQUE); CREATE INDEX t_a ON t (a);")
    target = sl(
        "CREATE TABLE t (id integer PRIMARY KEY, a text NOT NULL, n int NOT NULL DEFAULT 0); CREATE INDEX t_a ON t (a);"
    )
    assert diff_schemas(current, target, "sqlite") == [
        "PRAGMA foreign_keys = OFF",
        "BEGIN",
        "CREATE TABLE new_t (\n    id integer NOT NULL,\n    a text NOT NULL,\n"
        "    n int DEFAULT 0 NOT NULL,\n    PRIMARY KEY (id)\n)",
        "INSERT INTO new_t (id, a) SELECT id, a FROM t",
        "DROP TABLE t",
        "ALTER TABLE new_t RENAME TO t",
        "CREATE INDEX t_a ON t (a)",
        "PRAGMA foreign_key_check",
        "COMMIT",
        "PRAGMA foreign_keys = ON",
    ]


def test_sqlite_names_and_case_do_not_matter() -> None:
    current = sl("CREATE TABLE T (ID INTEGER PRIMARY KEY, A TEXT, CONSTRAINT u1 UNIQUE (A));")
    target = sl("CREATE TABLE t (id integer PRIMARY KEY, a text, UNIQUE (a));")
    assert diff_schemas(current, target, "sqlite") == []
    autoinc = sl("CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, a text);")
    assert diff_schemas(sl(""), autoinc, "sqlite") == [
        "CREATE TABLE t (\n    id integer PRIMARY KEY AUTOINCREMENT NOT NULL,\n    a text\n)"
    ]


def test_postgres_retyping_a_column_rebuilds_the_generated_columns_reading_it() -> None:
    current = pg(
        "CREATE TABLE t (a int, nick varchar(10), n int GENERATED ALWAYS AS (length(nick)) STORED,"
        " m int GENERATED ALWAYS AS (a + 1) STORED);"
    )
    target = pg(
        "CREATE TABLE t (a int, nick varchar(30), n int GENERATED ALWAYS AS (length(nick)) STORED,"
        " m int GENERATED ALWAYS AS (a + 1) STORED);"
    )
    assert diff_schemas(current, target, "postgres") == [
        "ALTER TABLE t DROP COLUMN n",
        "ALTER TABLE t ALTER COLUMN nick TYPE character varying(30)",
        "ALTER TABLE t ADD COLUMN n integer GENERATED ALWAYS AS (length(nick)) STORED",
    ]
