"""Cases for the type, naming, design and engine-specific rules (SCH030-SCH054)."""

from __future__ import annotations

import sqlite3

import pytest

from dbspecialist.adapters.catalog import CheckConstraint, Column, ForeignKey, Index, PrimaryKey, Table
from dbspecialist.knowledge.schema.reserved_words import POSTGRESQL_RESERVED, SQLITE_RESERVED, reserved_words
from tests.unit.knowledge.schema.cases import RuleCase, assert_case, run_rule


def col(name: str, data_type: str = "text", nullable: bool = True, **kw: object) -> Column:
    return Column(name=name, data_type=data_type, nullable=nullable, **kw)  # type: ignore[arg-type]


def tbl(name: str, *columns: Column, pk: tuple[str, ...] = ("id",), **kw: object) -> Table:
    """A table with a bigint `id` primary key (unless pk=() or the columns define the key)."""
    cols = list(columns)
    if pk == ("id",) and not any(c.name == "id" for c in cols):
        cols.insert(0, col("id", "bigint", False))
    return Table(name=name, columns=cols, primary_key=PrimaryKey(columns=list(pk)) if pk else None, **kw)  # type: ignore[arg-type]


CUSTOMERS = tbl("customers", col("email", nullable=False), col("name", nullable=False))
ORDERS_FK = ForeignKey(columns=["customer_id"], ref_table="customers", ref_columns=["id"])

CASES: list[RuleCase] = [
    # SCH030 timestamp-without-time-zone
    RuleCase(
        "SCH030",
        "timestamp columns in both spellings",
        (tbl("events", col("created_at", "timestamp without time zone"), col("seen_at", "timestamp(3)")),),
        fires=True,
        subjects=("events.created_at", "events.seen_at"),
        evidence={"data_type": "timestamp without time zone"},
    ),
    RuleCase("SCH030", "timestamptz", (tbl("events", col("created_at", "timestamp with time zone")),), fires=False),
    # SCH031 char-n-column
    RuleCase(
        "SCH031",
        "character(2)",
        (tbl("countries", col("code", "character(2)", False)),),
        fires=True,
        subjects=("countries.code",),
        evidence={"length": 2},
    ),
    RuleCase(
        "SCH031",
        'varchar, text and the internal "char"',
        (tbl("countries", col("code", "character varying(2)"), col("name"), col("flag", '"char"')),),
        fires=False,
    ),
    # SCH032 varchar-with-arbitrary-length
    RuleCase(
        "SCH032",
        "varchar(255)",
        (tbl("users", col("email", "character varying(255)")),),
        fires=True,
        subjects=("users.email",),
        evidence={"length": 255, "conventional_length": True},
    ),
    RuleCase("SCH032", "text and unbounded varchar", (tbl("users", col("email"), col("n", "varchar")),), False),
    # SCH033 money-column-type
    RuleCase("SCH033", "money", (tbl("invoices", col("total", "money")),), True, subjects=("invoices.total",)),
    RuleCase("SCH033", "numeric(12,2)", (tbl("invoices", col("total", "numeric(12,2)")),), fires=False),
    # SCH034 serial-instead-of-identity
    RuleCase(
        "SCH034",
        "nextval default on bigint",
        (
            Table(
                name="orders",
                columns=[col("id", "bigint", False, default="nextval('orders_id_seq'::regclass)")],
                primary_key=PrimaryKey(columns=["id"]),
            ),
        ),
        fires=True,
        subjects=("orders.id",),
        evidence={"sequence": "orders_id_seq", "in_primary_key": True},
    ),
    RuleCase("SCH034", "bigserial in DDL", (tbl("t", col("n", "bigserial", False)),), True, subjects=("t.n",)),
    RuleCase(
        "SCH034",
        "identity column",
        (Table(name="orders", columns=[col("id", "bigint", False, identity="by default")]),),
        fires=False,
    ),
    # SCH035 json-instead-of-jsonb
    RuleCase("SCH035", "json", (tbl("hooks", col("payload", "json")),), True, subjects=("hooks.payload",)),
    RuleCase("SCH035", "jsonb", (tbl("hooks", col("payload", "jsonb")),), fires=False),
    # SCH036 float-for-money-column
    RuleCase(
        "SCH036",
        "double price and real total_amount",
        (tbl("lines", col("unit_price", "double precision"), col("totalAmount", "real")),),
        fires=True,
        subjects=("lines.unit_price", 'lines."totalAmount"'),
    ),
    RuleCase("SCH036", "mysql double fee", (tbl("pay", col("fee", "double")),), True, "mysql", subjects=("pay.fee",)),
    RuleCase("SCH036", "sqlite REAL balance", (tbl("acct", col("balance", "REAL")),), True, "sqlite"),
    RuleCase(
        "SCH036",
        "integer cents, numeric price, float tax_rate and weight",
        (
            tbl(
                "lines",
                col("price_cents", "integer"),
                col("price", "numeric(12,2)"),
                col("tax_rate", "double precision"),
                col("total_weight", "real"),
            ),
        ),
        fires=False,
    ),
    # SCH037 all-columns-nullable
    RuleCase(
        "SCH037",
        "everything nullable but the key",
        (tbl("customers", col("name"), col("email")),),
        fires=True,
        subjects=("customers",),
        evidence={"nullable_columns": 2},
    ),
    RuleCase("SCH037", "one NOT NULL column", (tbl("customers", col("name", nullable=False), col("email")),), False),
    # SCH038 status-column-without-check
    RuleCase(
        "SCH038",
        "free-text status and order_state",
        (tbl("orders", col("status", "text", False), col("order_state", "character varying(20)")),),
        fires=True,
        subjects=("orders.status", "orders.order_state"),
    ),
    RuleCase(
        "SCH038",
        "CHECK, enum type, lookup FK and a non-text type",
        (
            tbl(
                "orders",
                col("status"),
                col("state", "order_state"),
                col("kind"),
                col("role", "integer"),
                check_constraints=[CheckConstraint(expression="(status = ANY (ARRAY['new'::text, 'paid'::text]))")],
                foreign_keys=[ForeignKey(columns=["kind"], ref_table="order_kinds", ref_columns=["code"])],
            ),
        ),
        fires=False,
    ),
    RuleCase("SCH038", "mysql enum", (tbl("orders", col("status", "enum('new','paid')")),), False, "mysql"),
    # SCH039 entity-attribute-value-table
    RuleCase(
        "SCH039",
        "wp_postmeta shape",
        (tbl("postmeta", col("post_id", "bigint"), col("meta_key"), col("meta_value"), pk=("meta_id",)),),
        fires=True,
        subjects=("postmeta",),
        evidence={"entity_column": "post_id", "attribute_column": "meta_key"},
    ),
    RuleCase("SCH039", "key/value settings without an entity", (tbl("settings", col("key"), col("value")),), False),
    RuleCase(
        "SCH039",
        "a real table with name and value among many columns",
        (
            tbl(
                "products",
                col("category_id", "bigint"),
                col("name"),
                col("value", "numeric"),
                col("sku"),
                col("colour"),
                col("weight", "integer"),
            ),
        ),
        fires=False,
    ),
    # SCH040 repeating-column-group
    RuleCase(
        "SCH040",
        "phone1..phone3",
        (tbl("customers", col("phone1"), col("phone2"), col("phone3")),),
        fires=True,
        subjects=("customers",),
        evidence={"stem": "phoneN", "columns": 3, "first": "phone1", "last": "phone3"},
    ),
    RuleCase(
        "SCH040",
        "address_line1/address_line2, sha256, ipv4/ipv6",
        (tbl("customers", col("address_line1"), col("address_line2"), col("sha256"), col("ipv4"), col("ipv6")),),
        fires=False,
    ),
    # SCH041 denormalized-referenced-attribute
    RuleCase(
        "SCH041",
        "orders.customer_email beside customer_id",
        (
            CUSTOMERS,
            tbl("orders", col("customer_id", "bigint", False), col("customer_email"), foreign_keys=[ORDERS_FK]),
        ),
        fires=True,
        subjects=("orders.customer_email",),
        evidence={"referenced_table": "customers", "referenced_column": "email"},
    ),
    RuleCase(
        "SCH041",
        "an attribute the customer does not have",
        (CUSTOMERS, tbl("orders", col("customer_id", "bigint"), col("customer_note"), foreign_keys=[ORDERS_FK])),
        fires=False,
    ),
    # SCH042 reserved-word-identifier
    RuleCase(
        "SCH042",
        "postgres: table user, column order",
        (tbl("user", col("order", "integer"), col("name")),),
        fires=True,
        subjects=('"user"', '"user"."order"'),
    ),
    RuleCase(
        "SCH042", "mysql: column key", (tbl("settings", col("key")),), True, "mysql", subjects=("settings.`key`",)
    ),
    RuleCase("SCH042", "sqlite: column order", (tbl("items", col("order")),), True, "sqlite"),
    RuleCase("SCH042", "ordinary names (and key on postgres)", (tbl("users", col("key"), col("value")),), False),
    # SCH043 identifier-too-long
    RuleCase(
        "SCH043",
        "a 70-byte column and index name",
        (
            tbl(
                "t",
                col("c" * 70),
                indexes=[Index(name="i" * 64, columns=["c" * 70])],
            ),
        ),
        fires=True,
        subjects=("t." + "c" * 70, "i" * 64),
        evidence={"length": 70, "limit": 63},
    ),
    RuleCase("SCH043", "non-ASCII bytes count", (tbl("t", col("é" * 32)),), True, evidence={"length": 64}),
    RuleCase("SCH043", "64 characters is fine on mysql", (tbl("t", col("c" * 64)),), False, "mysql"),
    RuleCase("SCH043", "63 bytes is fine on postgres", (tbl("t", col("c" * 63)),), fires=False),
    # SCH044 inconsistent-naming-style
    RuleCase(
        "SCH044",
        "one camelCase column among snake_case",
        (
            tbl("order_items", col("order_id"), col("unit_price")),
            tbl("customer_notes", col("customer_id"), col("createdAt")),
        ),
        fires=True,
        engine="mysql",
        subjects=("customer_notes",),
        evidence={"dominant_style": "snake_case", "columns_differing": 1, "example": "createdAt"},
    ),
    RuleCase(
        "SCH044",
        "consistent camelCase",
        (tbl("orders", col("customerId"), col("createdAt")),),
        fires=False,
        engine="mysql",
    ),
    RuleCase(
        "SCH044",
        "postgres leaves case to SCH045",
        (tbl("order_items", col("order_id"), col("createdAt")),),
        fires=False,
    ),
    # SCH045 upper-case-identifier
    RuleCase(
        "SCH045",
        "quoted PascalCase table and camelCase column",
        (tbl("Orders", col("createdAt")),),
        fires=True,
        subjects=('"Orders"',),
        evidence={"table_name_upper": True, "upper_case_columns": 1},
    ),
    RuleCase("SCH045", "snake_case", (tbl("orders", col("created_at")),), fires=False),
    # SCH046 mixed-singular-plural-table-names
    RuleCase(
        "SCH046",
        "one singular among plurals",
        (tbl("customers"), tbl("orders"), tbl("invoice"), tbl("schema_migrations")),
        fires=True,
        subjects=("invoice",),
        evidence={"plural_tables": 2, "singular_tables": 1},
    ),
    RuleCase(
        "SCH046",
        "all plural (status, address and metadata do not count)",
        (tbl("customers"), tbl("orders"), tbl("order_status"), tbl("ar_internal_metadata")),
        fires=False,
    ),
    # SCH047 append-only-table-partitioning-candidate (live)
    RuleCase(
        "SCH047",
        "huge insert-only events table",
        (
            tbl(
                "events",
                col("occurred_at", "timestamp with time zone", False),
                row_estimate=80_000_000,
                stats={"n_tup_ins": 80_000_000, "n_tup_upd": 1_000, "n_tup_del": 0},
            ),
        ),
        fires=True,
        live=True,
        subjects=("events",),
        evidence={"rows": 80_000_000, "time_column": "occurred_at", "change_pct_of_inserts": 0.0},
    ),
    RuleCase(
        "SCH047",
        "huge but heavily updated",
        (
            tbl(
                "accounts",
                col("created_at", "timestamp with time zone"),
                row_estimate=80_000_000,
                stats={"n_tup_ins": 80_000_000, "n_tup_upd": 40_000_000, "n_tup_del": 0},
            ),
        ),
        fires=False,
        live=True,
    ),
    RuleCase(
        "SCH047",
        "small table",
        (tbl("events", col("created_at", "timestamptz"), row_estimate=1_000),),
        fires=False,
        live=True,
    ),
    # SCH048 non-transactional-storage-engine
    RuleCase(
        "SCH048",
        "MyISAM (any case)",
        (tbl("payments", options={"engine": "MyISAM"}),),
        fires=True,
        engine="mysql",
        subjects=("payments",),
        evidence={"engine": "MyISAM"},
    ),
    RuleCase("SCH048", "InnoDB", (tbl("payments", options={"engine": "InnoDB"}),), False, "mysql"),
    # SCH049 legacy-character-set
    RuleCase(
        "SCH049",
        "utf8 table and a latin1 column",
        (
            tbl("comments", options={"charset": "utf8"}),
            tbl(
                "posts",
                col("title", "varchar(100)", collation="latin1_swedish_ci"),
                options={"collation": "utf8mb4_0900_ai_ci"},
            ),
        ),
        fires=True,
        engine="mysql",
        subjects=("comments", "posts"),
        evidence={"table_charset": "utf8", "legacy_columns": 0},
    ),
    RuleCase(
        "SCH049",
        "utf8mb4 and ascii",
        (tbl("posts", col("code", "char(8)", collation="ascii_bin"), options={"collation": "utf8mb4_unicode_ci"}),),
        fires=False,
        engine="mysql",
    ),
    # SCH055 deprecated-lob-type
    RuleCase(
        "SCH055",
        "ntext, image and text",
        (tbl("Posts", col("Body", "ntext", False), col("Raw", "image"), col("Notes", "text"), schema_name="dbo"),),
        fires=True,
        engine="tsql",
        subjects=("dbo.Posts.Body", "dbo.Posts.Raw", "dbo.Posts.Notes"),
        evidence={"data_type": "ntext", "replacement": "NVARCHAR(MAX)"},
    ),
    RuleCase(
        "SCH055",
        "the (max) types",
        (tbl("Posts", col("Body", "nvarchar(max)", False), col("Raw", "varbinary(max)"), schema_name="dbo"),),
        fires=False,
        engine="tsql",
    ),
    # SCH050 uuid-stored-as-text
    RuleCase(
        "SCH050",
        "char(36) id and varchar(36) user_uuid",
        (tbl("sessions", col("id", "char(36)", False), col("user_uuid", "varchar(36)")),),
        fires=True,
        engine="mysql",
        subjects=("sessions.id", "sessions.user_uuid"),
        evidence={"in_primary_key": True},
    ),
    RuleCase(
        "SCH050",
        "binary(16) and a 36-char title",
        (tbl("sessions", col("id", "binary(16)", False), col("title", "varchar(36)")),),
        fires=False,
        engine="mysql",
    ),
    # SCH051 foreign-keys-pragma-off (live)
    RuleCase(
        "SCH051",
        "pragma off with declared FKs",
        (CUSTOMERS, tbl("orders", col("customer_id", "INTEGER"), foreign_keys=[ORDERS_FK])),
        fires=True,
        engine="sqlite",
        live=True,
        settings={"foreign_keys": "0"},
        subjects=("PRAGMA foreign_keys",),
        evidence={"tables_with_foreign_keys": 1, "declared_foreign_keys": 1},
    ),
    RuleCase(
        "SCH051",
        "pragma on",
        (tbl("orders", col("customer_id", "INTEGER"), foreign_keys=[ORDERS_FK]),),
        fires=False,
        engine="sqlite",
        live=True,
        settings={"foreign_keys": "1"},
    ),
    RuleCase(
        "SCH051",
        "pragma off but no FKs",
        (tbl("notes", col("body")),),
        fires=False,
        engine="sqlite",
        live=True,
        settings={"foreign_keys": "0"},
    ),
    # SCH052 non-strict-table
    RuleCase(
        "SCH052",
        "ordinary table",
        (tbl("readings", col("value", "REAL", False), col("taken", "DATETIME"), schema_name="main"),),
        fires=True,
        engine="sqlite",
        subjects=("readings",),
        evidence={"columns": 3, "columns_without_strict_type": 1},
    ),
    RuleCase(
        "SCH052", "STRICT table", (tbl("readings", col("v", "REAL"), options={"strict": "true"}),), False, "sqlite"
    ),
    # SCH053 autoincrement-primary-key
    RuleCase(
        "SCH053",
        "AUTOINCREMENT",
        (tbl("notes", col("body"), options={"autoincrement": "true"}),),
        fires=True,
        engine="sqlite",
        subjects=("notes",),
        evidence={"primary_key": "id"},
    ),
    RuleCase("SCH053", "plain INTEGER PRIMARY KEY", (tbl("notes", col("body")),), False, "sqlite"),
    # SCH054 without-rowid-candidate
    RuleCase(
        "SCH054",
        "link table with a composite key",
        (
            tbl(
                "post_tags", col("post_id", "INTEGER", False), col("tag_id", "INTEGER", False), pk=("post_id", "tag_id")
            ),
        ),
        fires=True,
        engine="sqlite",
        subjects=("post_tags",),
        evidence={"primary_key_columns": 2},
    ),
    RuleCase(
        "SCH054",
        "INTEGER PRIMARY KEY, a wide table, and one already WITHOUT ROWID",
        (
            tbl("notes", col("id", "INTEGER", False), col("body")),
            tbl("tags", col("id", "integer primary key", False), col("label")),
            tbl("docs", col("slug", "TEXT", False), col("body", "TEXT"), pk=("slug",)),
            tbl(
                "pairs",
                col("a", "TEXT", False),
                col("b", "TEXT", False),
                pk=("a", "b"),
                options={"without_rowid": "true"},
            ),
        ),
        fires=False,
        engine="sqlite",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.rule_id}-{c.title}")
def test_rule_case(case: RuleCase) -> None:
    assert_case(case)


def test_postgres_reserved_words_match_pglast() -> None:
    keywords = pytest.importorskip("pglast.keywords")
    assert POSTGRESQL_RESERVED == keywords.RESERVED_KEYWORDS | keywords.TYPE_FUNC_NAME_KEYWORDS


def _fails(*statements: str) -> bool:
    db = sqlite3.connect(":memory:")
    try:
        for statement in statements:
            db.execute(statement)
    except sqlite3.Error:
        return True
    return False


@pytest.mark.parametrize("word", sorted(SQLITE_RESERVED))
def test_sqlite_reserved_words_really_need_quoting(word: str) -> None:
    assert _fails(f"CREATE TABLE {word} (x integer)") or _fails(
        f"CREATE TABLE t ({word} integer)", f"SELECT {word} FROM t"
    )
    assert not _fails(f'CREATE TABLE "{word}" ("{word}" integer)', f'SELECT "{word}" FROM "{word}"')


def test_unknown_engine_has_no_reserved_list() -> None:
    assert reserved_words("snowflake") == frozenset()


def test_generated_fixes_run_on_sqlite() -> None:
    """The STRICT and WITHOUT ROWID rebuilds are real SQL: run them on an in-memory database."""
    for rule_id, table, ddl in (
        (
            "SCH052",
            tbl("readings", col("value", "REAL", False), col("taken", "DATETIME")),
            "CREATE TABLE readings (id INTEGER PRIMARY KEY, value REAL NOT NULL, taken DATETIME)",
        ),
        (
            "SCH054",
            tbl(
                "post_tags", col("post_id", "INTEGER", False), col("tag_id", "INTEGER", False), pk=("post_id", "tag_id")
            ),
            "CREATE TABLE post_tags (post_id INTEGER NOT NULL, tag_id INTEGER NOT NULL, PRIMARY KEY (post_id, tag_id))",
        ),
    ):
        [finding] = run_rule(RuleCase(rule_id, "fix", (table,), fires=True, engine="sqlite"))
        db = sqlite3.connect(":memory:", isolation_level=None)
        db.execute(ddl)
        assert finding.fix is not None
        for statement in finding.fix.statements:
            db.execute(statement)
        sql = db.execute("SELECT sql FROM sqlite_schema WHERE name = ?", (table.name,)).fetchone()[0]
        assert ("STRICT" if rule_id == "SCH052" else "WITHOUT ROWID") in sql


def test_repeating_group_fix_runs_on_sqlite() -> None:
    table = tbl("customers", col("phone1"), col("phone2"), col("phone3"))
    [finding] = run_rule(RuleCase("SCH040", "fix", (table,), fires=True, engine="sqlite"))
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE customers (id bigint PRIMARY KEY, phone1 text, phone2 text, phone3 text)")
    db.execute("INSERT INTO customers VALUES (1, 'a', NULL, 'c')")
    assert finding.fix is not None
    for statement in finding.fix.statements:
        db.execute(statement)
    assert db.execute("SELECT position, phone FROM customers_phone ORDER BY 1").fetchall() == [(1, "a"), (3, "c")]


def test_serial_fix_is_complete() -> None:
    table = Table(
        name="orders",
        columns=[col("id", "integer", False, default="nextval('orders_id_seq'::regclass)")],
        primary_key=PrimaryKey(columns=["id"]),
    )
    [finding] = run_rule(RuleCase("SCH034", "fix", (table,), fires=True))
    assert finding.fix is not None
    assert finding.fix.statements == [
        "BEGIN;",
        "ALTER TABLE orders ALTER COLUMN id DROP DEFAULT;",
        "DROP SEQUENCE orders_id_seq;",
        "ALTER TABLE orders ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY;",
        "SELECT setval(pg_get_serial_sequence('orders', 'id'), COALESCE(max(id), 0) + 1, false) FROM orders;",
        "COMMIT;",
    ]


def test_mariadb_gets_its_own_collation_and_uuid_type() -> None:
    from dbspecialist.adapters.catalog import Catalog
    from dbspecialist.knowledge.schema.context import SchemaContext
    from dbspecialist.knowledge.schema.rules import legacy_character_set, uuid_stored_as_text

    catalog = Catalog(engine="mysql", tables=[tbl("s", col("id", "char(36)", False), options={"charset": "latin1"})])
    ctx = SchemaContext(catalog=catalog, engine="mysql", version="11.4.2-MariaDB")
    [charset] = legacy_character_set.check(ctx)
    [uuid] = uuid_stored_as_text.check(ctx)
    assert charset.fix and "utf8mb4_unicode_ci" in charset.fix.statements[0]
    assert uuid.fix and uuid.fix.statements == ["ALTER TABLE s MODIFY COLUMN id UUID NOT NULL;"]
