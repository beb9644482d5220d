"""Cases for the keys, indexes and referential-integrity rules (SCH002-SCH015)."""

from __future__ import annotations

import pytest

from dbspecialist.adapters.catalog import (
    Catalog,
    Column,
    ForeignKey,
    Index,
    PrimaryKey,
    Sequence,
    Table,
    UniqueConstraint,
)
from dbspecialist.knowledge.findings import Severity
from dbspecialist.knowledge.schema.context import SchemaContext
from dbspecialist.knowledge.schema.registry import load_rules
from tests.unit.knowledge.schema.cases import RuleCase, assert_case, run_rule


def col(name: str, data_type: str = "bigint", nullable: bool = True, **kw: object) -> Column:
    return Column(name=name, data_type=data_type, nullable=nullable, **kw)  # type: ignore[arg-type]


def pk_index(table: str, *cols: str) -> Index:
    return Index(name=f"{table}_pkey", columns=list(cols), unique=True, primary=True, origin="primary_key")


def table(
    name: str,
    columns: list[Column],
    *,
    pk: tuple[str, ...] | None = ("id",),
    fks: list[ForeignKey] | None = None,
    indexes: list[Index] | None = None,
    **kw: object,
) -> Table:
    """A table whose first column is the primary key (listed as an index too, as the adapters do)."""
    idx = list(indexes or [])
    if pk:
        idx.insert(0, pk_index(name, *pk))
    return Table(
        name=name,
        columns=columns,
        primary_key=PrimaryKey(columns=list(pk)) if pk else None,
        foreign_keys=fks or [],
        indexes=idx,
        **kw,  # type: ignore[arg-type]
    )


def fk(cols: list[str], ref: str, ref_cols: list[str] | None = None, on_delete: str = "no action") -> ForeignKey:
    return ForeignKey(columns=cols, ref_table=ref, ref_columns=ref_cols or ["id"], on_delete=on_delete)  # type: ignore[arg-type]


ID = col("id", nullable=False)
CUSTOMERS = table("customers", [ID, col("email", "text")])
ORDERS_NO_INDEX = table("orders", [ID, col("customer_id", nullable=False)], fks=[fk(["customer_id"], "customers")])

# ---------------------------------------------------------------- SCH002 foreign-key-without-index
SCH002 = [
    RuleCase(
        "SCH002",
        "FK without any index",
        (CUSTOMERS, ORDERS_NO_INDEX),
        fires=True,
        subjects=("orders.customer_id",),
        evidence={"referenced_table": "customers", "rows": None, "on_delete": "no action"},
    ),
    RuleCase(
        "SCH002",
        "FK covered by a single-column index",
        (
            CUSTOMERS,
            table(
                "orders",
                [ID, col("customer_id")],
                fks=[fk(["customer_id"], "customers")],
                indexes=[Index(name="orders_customer_id_idx", columns=["customer_id"])],
            ),
        ),
        fires=False,
    ),
    RuleCase(
        "SCH002",
        "composite FK covered by an index with the same leading columns in another order",
        (
            table("shipments", [col("order_id"), col("line")], pk=("order_id", "line")),
            table(
                "parcels",
                [ID, col("order_id"), col("line"), col("created_at", "timestamptz")],
                fks=[fk(["order_id", "line"], "shipments", ["order_id", "line"])],
                indexes=[Index(name="parcels_line_order_idx", columns=["line", "order_id DESC", "created_at"])],
            ),
        ),
        fires=False,
    ),
    RuleCase(
        "SCH002",
        "composite index where the FK column is not leading does not cover it",
        (
            CUSTOMERS,
            table(
                "orders",
                [ID, col("created_at", "timestamptz"), col("customer_id")],
                fks=[fk(["customer_id"], "customers")],
                indexes=[Index(name="orders_created_customer_idx", columns=["created_at", "customer_id"])],
            ),
        ),
        fires=True,
        subjects=("orders.customer_id",),
    ),
    RuleCase(
        "SCH002",
        "partial or invalid index does not cover the FK",
        (
            CUSTOMERS,
            table(
                "orders",
                [ID, col("customer_id")],
                fks=[fk(["customer_id"], "customers")],
                indexes=[
                    Index(name="orders_open_idx", columns=["customer_id"], predicate="status = 'open'"),
                    Index(name="orders_broken_idx", columns=["customer_id"], valid=False),
                ],
            ),
        ),
        fires=True,
        subjects=("orders.customer_id",),
    ),
    RuleCase(
        "SCH002",
        "primary key leading with the FK column covers it (join table)",
        (
            CUSTOMERS,
            table("tags", [ID]),
            table(
                "customer_tags",
                [col("customer_id"), col("tag_id")],
                pk=("customer_id", "tag_id"),
                fks=[fk(["customer_id"], "customers")],
            ),
        ),
        fires=False,
    ),
    RuleCase(
        "SCH002",
        "second column of the primary key is not covered",
        (
            CUSTOMERS,
            table("tags", [ID]),
            table(
                "customer_tags",
                [col("customer_id"), col("tag_id")],
                pk=("customer_id", "tag_id"),
                fks=[fk(["customer_id"], "customers"), fk(["tag_id"], "tags")],
            ),
        ),
        fires=True,
        subjects=("customer_tags.tag_id",),
    ),
    RuleCase(
        "SCH002",
        "cascade on a big live table is high",
        (
            CUSTOMERS,
            table(
                "orders",
                [ID, col("customer_id")],
                fks=[fk(["customer_id"], "customers", on_delete="cascade")],
                row_estimate=2_000_000,
            ),
        ),
        fires=True,
        live=True,
        evidence={"rows": 2_000_000, "on_delete": "cascade"},
    ),
    RuleCase(
        "SCH002",
        "live MySQL: InnoDB always has the FK index",
        (CUSTOMERS, ORDERS_NO_INDEX),
        fires=False,
        engine="mysql",
        live=True,
    ),
    RuleCase(
        "SCH002",
        "MySQL prefix-length index entry covers the FK",
        (
            table("accounts", [col("code", "varchar(20)")], pk=("code",)),
            table(
                "invoices",
                [ID, col("account_code", "varchar(20)")],
                fks=[fk(["account_code"], "accounts", ["code"])],
                indexes=[Index(name="account_code", columns=["account_code(20)"])],
            ),
        ),
        fires=False,
        engine="mysql",
    ),
]

# ---------------------------------------------------------------- SCH003 foreign-key-type-mismatch
SCH003 = [
    RuleCase(
        "SCH003",
        "integer FK referencing a bigint key",
        (CUSTOMERS, table("orders", [ID, col("customer_id", "integer")], fks=[fk(["customer_id"], "customers")])),
        fires=True,
        subjects=("orders.customer_id",),
        evidence={"column_type": "integer", "referenced_type": "bigint", "column_bytes": 4, "referenced_bytes": 8},
    ),
    RuleCase(
        "SCH003",
        "int4 spelled differently on both sides (serial vs integer) agrees",
        (
            table("customers", [col("id", "serial", False)]),
            table("orders", [ID, col("customer_id", "integer")], fks=[fk(["customer_id"], "customers")]),
        ),
        fires=False,
    ),
    RuleCase(
        "SCH003",
        "MySQL signedness differs",
        (
            table("customers", [col("id", "int(10) unsigned", False)]),
            table("orders", [ID, col("customer_id", "int(11)")], fks=[fk(["customer_id"], "customers")]),
        ),
        fires=True,
        engine="mysql",
        subjects=("orders.customer_id",),
    ),
    RuleCase(
        "SCH003",
        "MySQL display widths differ only",
        (
            table("customers", [col("id", "int(11)", False)]),
            table("orders", [ID, col("customer_id", "int")], fks=[fk(["customer_id"], "customers")]),
        ),
        fires=False,
        engine="mysql",
    ),
    RuleCase(
        "SCH003",
        "shorter varchar reference",
        (
            table("accounts", [col("code", "character varying(32)", False)], pk=("code",)),
            table(
                "invoices",
                [ID, col("account_code", "varchar(16)")],
                fks=[fk(["account_code"], "accounts", ["code"])],
            ),
        ),
        fires=True,
        subjects=("invoices.account_code",),
        evidence={"column_type": "varchar(16)", "referenced_type": "character varying(32)"},
    ),
    RuleCase(
        "SCH003",
        "SQLite INT and INTEGER have the same affinity",
        (
            table("customers", [col("id", "INTEGER", False)]),
            table(
                "orders",
                [col("id", "INTEGER", False), col("customer_id", "INT")],
                fks=[fk(["customer_id"], "customers")],
            ),
        ),
        fires=False,
        engine="sqlite",
    ),
    RuleCase(
        "SCH003",
        "SQLite TEXT referencing INTEGER",
        (
            table("customers", [col("id", "INTEGER", False)]),
            table(
                "orders",
                [col("id", "INTEGER", False), col("customer_id", "TEXT")],
                fks=[fk(["customer_id"], "customers")],
            ),
        ),
        fires=True,
        engine="sqlite",
        subjects=("orders.customer_id",),
    ),
]

# ---------------------------------------------------------------- SCH004 duplicate-index
SCH004 = [
    RuleCase(
        "SCH004",
        "plain index duplicating a unique constraint",
        (
            table(
                "users",
                [ID, col("email", "text")],
                indexes=[
                    Index(name="users_email_key", columns=["email"], unique=True, origin="unique_constraint"),
                    Index(name="users_email_idx", columns=["email"], size_bytes=8192),
                ],
            ),
        ),
        fires=True,
        subjects=("users_email_idx",),
        evidence={"duplicate_of": "users_email_key", "size_bytes": 8192},
    ),
    RuleCase(
        "SCH004",
        "same columns but different predicate or method",
        (
            table(
                "users",
                [ID, col("email", "text")],
                indexes=[
                    Index(name="users_email_idx", columns=["email"]),
                    Index(name="users_email_live_idx", columns=["email"], predicate="deleted_at IS NULL"),
                    Index(name="users_email_hash", columns=["email"], method="hash"),
                ],
            ),
        ),
        fires=False,
    ),
    RuleCase(
        "SCH004",
        "same columns in another order are not duplicates",
        (
            table(
                "events",
                [ID, col("a"), col("b")],
                indexes=[
                    Index(name="events_a_b_idx", columns=["a", "b"]),
                    Index(name="events_b_a_idx", columns=["b", "a"]),
                ],
            ),
        ),
        fires=False,
    ),
    RuleCase(
        "SCH004",
        "MySQL duplicate key is named per table",
        (
            table(
                "users",
                [ID, col("email", "varchar(255)")],
                indexes=[Index(name="email", columns=["email"]), Index(name="idx_email", columns=["email"])],
                schema_name="shop",
            ),
        ),
        fires=True,
        engine="mysql",
        subjects=("shop.users.idx_email",),
    ),
]

# ---------------------------------------------------------------- SCH005 redundant-prefix-index
SCH005 = [
    RuleCase(
        "SCH005",
        "single-column index is a prefix of a composite one",
        (
            table(
                "orders",
                [ID, col("customer_id"), col("created_at", "timestamptz")],
                indexes=[
                    Index(name="orders_customer_id_idx", columns=["customer_id"], size_bytes=1000),
                    Index(name="orders_customer_id_created_at_idx", columns=["customer_id", "created_at"]),
                ],
            ),
        ),
        fires=True,
        subjects=("orders_customer_id_idx",),
        evidence={"covered_by": "orders_customer_id_created_at_idx", "size_bytes": 1000},
    ),
    RuleCase(
        "SCH005",
        "a unique prefix is not redundant; a partial wider index covers nothing",
        (
            table(
                "orders",
                [ID, col("number"), col("customer_id"), col("created_at", "timestamptz")],
                indexes=[
                    Index(name="orders_number_key", columns=["number"], unique=True),
                    Index(name="orders_number_customer_idx", columns=["number", "customer_id"]),
                    Index(name="orders_customer_id_idx", columns=["customer_id"]),
                    Index(name="orders_customer_open_idx", columns=["customer_id", "created_at"], predicate="open"),
                ],
            ),
        ),
        fires=False,
    ),
    RuleCase(
        "SCH005",
        "prefix with different sort order or a GIN wider index is kept",
        (
            table(
                "orders",
                [ID, col("customer_id"), col("created_at", "timestamptz"), col("tags", "text[]")],
                indexes=[
                    Index(name="orders_created_desc_idx", columns=["created_at DESC"]),
                    Index(name="orders_created_customer_idx", columns=["created_at", "customer_id"]),
                    Index(name="orders_tags_idx", columns=["tags"], method="gin"),
                    Index(name="orders_tags_customer_idx", columns=["tags", "customer_id"], method="gin"),
                ],
            ),
        ),
        fires=False,
    ),
]

# ---------------------------------------------------------------- SCH006 unused-index / SCH007 invalid-index
SCH006 = [
    RuleCase(
        "SCH006",
        "never-scanned big index",
        (
            table(
                "orders",
                [ID, col("coupon_code", "text")],
                indexes=[Index(name="orders_coupon_code_idx", columns=["coupon_code"], scans=0, size_bytes=200 << 20)],
                row_estimate=5_000_000,
            ),
        ),
        fires=True,
        live=True,
        subjects=("orders_coupon_code_idx",),
        evidence={"scans": 0, "size_bytes": 200 << 20},
    ),
    RuleCase(
        "SCH006",
        "unique, scanned, unknown-scan and sole-FK-cover indexes are kept",
        (
            CUSTOMERS,
            table(
                "orders",
                [ID, col("number", "text"), col("status", "text"), col("note", "text"), col("customer_id")],
                fks=[fk(["customer_id"], "customers")],
                indexes=[
                    Index(name="orders_number_key", columns=["number"], unique=True, scans=0),
                    Index(name="orders_status_idx", columns=["status"], scans=12),
                    Index(name="orders_note_idx", columns=["note"], scans=None),
                    Index(name="orders_customer_id_idx", columns=["customer_id"], scans=0),
                ],
            ),
        ),
        fires=False,
        live=True,
    ),
]
SCH007 = [
    RuleCase(
        "SCH007",
        "invalid index left by a failed concurrent build",
        (
            table(
                "orders",
                [ID, col("created_at", "timestamptz")],
                indexes=[Index(name="orders_created_at_idx", columns=["created_at"], valid=False, size_bytes=4096)],
            ),
        ),
        fires=True,
        live=True,
        subjects=("orders_created_at_idx",),
        evidence={"valid": False, "size_bytes": 4096},
    ),
    RuleCase(
        "SCH007",
        "all indexes valid",
        (
            table(
                "orders", [ID, col("created_at", "timestamptz")], indexes=[Index(name="o_idx", columns=["created_at"])]
            ),
        ),
        fires=False,
        live=True,
    ),
]

# ---------------------------------------------------------------- SCH008 int4-primary-key
SCH008 = [
    RuleCase(
        "SCH008",
        "serial primary key offline",
        (table("events", [col("id", "serial", False), col("payload", "jsonb")]),),
        fires=True,
        subjects=("events.id",),
        evidence={"max_value": 2_147_483_647, "pct_used": None},
    ),
    RuleCase(
        "SCH008",
        "bigint identity key, smallint lookup key and SQLite INTEGER rowid are fine",
        (
            table("events", [col("id", "bigint", False, identity="always")]),
            table("countries", [col("id", "smallint", False)]),
        ),
        fires=False,
    ),
    RuleCase(
        "SCH008",
        "SQLite INTEGER PRIMARY KEY is 64-bit",
        (table("events", [col("id", "INTEGER", False)]),),
        fires=False,
        engine="sqlite",
    ),
    RuleCase(
        "SCH008",
        "live table past half the int4 range",
        (table("events", [col("id", "integer", False)], row_estimate=1_200_000_000),),
        fires=True,
        live=True,
        subjects=("events.id",),
        evidence={"used_value": 1_200_000_000, "pct_used": 55.88},
    ),
    RuleCase(
        "SCH008",
        "MySQL unsigned INT key",
        (table("orders", [col("id", "int(10) unsigned", False, identity="by default")], schema_name="shop"),),
        fires=True,
        engine="mysql",
        subjects=("shop.orders.id",),
        evidence={"max_value": 4_294_967_295},
    ),
]

# ---------------------------------------------------------------- SCH009 sequence-near-overflow
SCH009 = [
    RuleCase(
        "SCH009",
        "MySQL AUTO_INCREMENT at 80 % of INT",
        (
            table(
                "orders",
                [col("id", "int(11)", False, identity="by default")],
                schema_name="shop",
                stats={"auto_increment": 1_717_986_918},
            ),
        ),
        fires=True,
        engine="mysql",
        live=True,
        subjects=("shop.orders.id",),
        evidence={"pct_used": 80.0},
    ),
    RuleCase(
        "SCH009",
        "MySQL AUTO_INCREMENT far from the top",
        (table("orders", [col("id", "bigint(20)", False, identity="by default")], stats={"auto_increment": 10}),),
        fires=False,
        engine="mysql",
        live=True,
    ),
]


def _sequence_ctx(current: int, column_type: str, seq_type: str = "bigint") -> SchemaContext:
    orders = table("orders", [col("id", column_type, False)], schema_name="public")
    seq_max = 2_147_483_647 if seq_type == "integer" else (1 << 63) - 1
    seq = Sequence(
        schema_name="public",
        name="orders_id_seq",
        data_type=seq_type,
        current_value=current,
        max_value=seq_max,
        owned_by="public.orders.id",
    )
    catalog = Catalog(engine="postgresql", tables=[orders], sequences=[seq])
    return SchemaContext(catalog=catalog, engine="postgresql", live=True)


def _rule(rule_id: str) -> object:
    [rule] = [r for r in load_rules() if r.SPEC.id == rule_id]
    return rule


def test_sequence_limited_by_its_integer_column() -> None:
    rule = _rule("SCH009")
    findings = list(rule.check(_sequence_ctx(2_000_000_000, "integer")))  # type: ignore[attr-defined]
    assert [f.subject for f in findings] == ["orders_id_seq"]
    assert findings[0].severity == Severity.CRITICAL
    assert findings[0].evidence["limited_by"] == "column" and findings[0].evidence["pct_used"] == 93.13
    assert findings[0].fix is not None
    assert findings[0].fix.statements == ["ALTER TABLE orders ALTER COLUMN id TYPE bigint;"]


def test_integer_sequence_at_warning_share_is_high() -> None:
    rule = _rule("SCH009")
    findings = list(rule.check(_sequence_ctx(1_700_000_000, "bigint", "integer")))  # type: ignore[attr-defined]
    assert [(f.subject, f.severity) for f in findings] == [("orders_id_seq", Severity.HIGH)]
    assert findings[0].fix is not None and findings[0].fix.safety == "safe"
    assert findings[0].fix.statements == ["ALTER SEQUENCE orders_id_seq AS bigint MAXVALUE 9223372036854775807;"]


def test_sequence_with_headroom_is_quiet() -> None:
    rule = _rule("SCH009")
    assert list(rule.check(_sequence_ctx(1_000, "integer"))) == []  # type: ignore[attr-defined]


# ---------------------------------------------------------------- SCH010 random-uuid-primary-key
SCH010 = [
    RuleCase(
        "SCH010",
        "uuid key with gen_random_uuid()",
        (table("sessions", [col("id", "uuid", False, default="gen_random_uuid()"), col("user_id")]),),
        fires=True,
        subjects=("sessions.id",),
        evidence={"clustered": False, "key_bytes": 16},
    ),
    RuleCase(
        "SCH010",
        "uuid key with uuidv7() or no default, and a uuid non-key column",
        (
            table("sessions", [col("id", "uuid", False, default="uuidv7()")]),
            table("uploads", [col("id", "uuid", False)]),
            table("users", [ID, col("public_id", "uuid", False, default="gen_random_uuid()")]),
        ),
        fires=False,
    ),
    RuleCase(
        "SCH010",
        "MySQL CHAR(36) id is clustered",
        (table("sessions", [col("id", "char(36)", False)], schema_name="app"),),
        fires=True,
        engine="mysql",
        subjects=("app.sessions.id",),
        evidence={"clustered": True, "key_bytes": 36},
    ),
    RuleCase(
        "SCH010",
        "MySQL CHAR(36) column that is not named like a UUID key",
        (table("codes", [col("code", "char(36)", False)], pk=("code",)),),
        fires=False,
        engine="mysql",
    ),
]

# ---------------------------------------------------------------- SCH011 low-cardinality-leading-index-column
SCH011 = [
    RuleCase(
        "SCH011",
        "boolean and status lead two indexes",
        (
            table(
                "orders",
                [ID, col("is_paid", "boolean"), col("status", "text"), col("created_at", "timestamptz")],
                indexes=[
                    Index(name="orders_is_paid_idx", columns=["is_paid"]),
                    Index(name="orders_status_created_idx", columns=["status", "created_at"]),
                ],
            ),
        ),
        fires=True,
        subjects=("orders_is_paid_idx", "orders_status_created_idx"),
        evidence={"leading_column": "is_paid", "boolean": True},
    ),
    RuleCase(
        "SCH011",
        "partial, unique, trailing-boolean and polymorphic-pair indexes are fine",
        (
            table(
                "orders",
                [ID, col("status", "text"), col("is_paid", "boolean"), col("created_at", "timestamptz"), col("code")],
                indexes=[
                    Index(name="orders_pending_idx", columns=["status"], predicate="status = 'pending'"),
                    Index(name="orders_status_code_key", columns=["status", "code"], unique=True),
                    Index(name="orders_created_paid_idx", columns=["created_at", "is_paid"]),
                    Index(name="orders_content_type_idx", columns=["content_type"]),
                ],
            ),
        ),
        fires=False,
    ),
    RuleCase(
        "SCH011",
        "live small table is ignored",
        (
            table(
                "flags",
                [ID, col("is_on", "boolean")],
                indexes=[Index(name="flags_is_on_idx", columns=["is_on"])],
                row_estimate=50,
            ),
        ),
        fires=False,
        live=True,
    ),
]

# ---------------------------------------------------------------- SCH012 cascade-delete-chain
_CHAIN = (
    table("customers", [ID]),
    table("orders", [ID, col("customer_id")], fks=[fk(["customer_id"], "customers", on_delete="cascade")]),
    table("order_items", [ID, col("order_id")], fks=[fk(["order_id"], "orders", on_delete="cascade")]),
    table("item_notes", [ID, col("item_id")], fks=[fk(["item_id"], "order_items", on_delete="cascade")]),
)
SCH012 = [
    RuleCase(
        "SCH012",
        "three cascade levels reported once, at the root",
        _CHAIN,
        fires=True,
        subjects=("customers",),
        evidence={
            "depth": 3,
            "fan_out": 1,
            "tables_reached": 3,
            "chain": "customers → orders → order_items → item_notes",
        },
    ),
    RuleCase(
        "SCH012",
        "fan-out into four child tables",
        (
            table("accounts", [ID]),
            *(
                table(name, [ID, col("account_id")], fks=[fk(["account_id"], "accounts", on_delete="cascade")])
                for name in ("a_logins", "b_tokens", "c_prefs", "d_avatars")
            ),
        ),
        fires=True,
        subjects=("accounts",),
        evidence={"depth": 1, "fan_out": 4},
    ),
    RuleCase(
        "SCH012",
        "two levels, a self-reference and a RESTRICT link stay quiet",
        (
            table("customers", [ID]),
            table("orders", [ID, col("customer_id")], fks=[fk(["customer_id"], "customers", on_delete="cascade")]),
            table(
                "order_items",
                [ID, col("order_id"), col("parent_id")],
                fks=[
                    fk(["order_id"], "orders", on_delete="cascade"),
                    fk(["parent_id"], "order_items", on_delete="cascade"),
                ],
            ),
            table("item_notes", [ID, col("item_id")], fks=[fk(["item_id"], "order_items", on_delete="restrict")]),
        ),
        fires=False,
    ),
    RuleCase(
        "SCH012",
        "a cascade cycle terminates",
        (
            table("a", [ID, col("b_id")], fks=[fk(["b_id"], "b", on_delete="cascade")]),
            table("b", [ID, col("a_id")], fks=[fk(["a_id"], "a", on_delete="cascade")]),
        ),
        fires=False,
    ),
]

# ---------------------------------------------------------------- SCH013 soft-delete-without-partial-index
SCH013 = [
    RuleCase(
        "SCH013",
        "unique email ignores deleted_at",
        (
            table(
                "users",
                [ID, col("email", "text", False), col("deleted_at", "timestamptz")],
                indexes=[Index(name="users_email_key", columns=["email"], unique=True, origin="unique_constraint")],
            ),
        ),
        fires=True,
        subjects=("users.deleted_at",),
        evidence={"unique_indexes_without_predicate": 1, "indexes": "users_email_key"},
    ),
    RuleCase(
        "SCH013",
        "unique index scoped to live rows",
        (
            table(
                "users",
                [ID, col("email", "text", False), col("deleted_at", "timestamptz"), col("created_at", "timestamptz")],
                indexes=[
                    Index(name="users_email_live", columns=["email"], unique=True, predicate="(deleted_at IS NULL)"),
                    Index(name="users_created_idx", columns=["created_at"]),
                ],
            ),
        ),
        fires=False,
    ),
    RuleCase(
        "SCH013",
        "unique constraint known only as a constraint (no index entry)",
        (
            Table(
                name="accounts",
                columns=[ID, col("slug", "text", False), col("archived_at", "timestamptz")],
                primary_key=PrimaryKey(columns=["id"]),
                unique_constraints=[UniqueConstraint(columns=["slug"])],
            ),
        ),
        fires=True,
        subjects=("accounts.archived_at",),
        evidence={"unique_indexes_without_predicate": 1, "indexes": "accounts_slug_key"},
    ),
    RuleCase(
        "SCH013",
        "soft-delete table with only its primary key",
        (table("notes", [ID, col("is_deleted", "boolean")]),),
        fires=False,
    ),
    RuleCase(
        "SCH013",
        "MySQL unique key that includes the generated alive column",
        (
            table(
                "users",
                [ID, col("email", "varchar(255)"), col("deleted_at", "datetime"), col("alive", "tinyint")],
                indexes=[Index(name="email_alive", columns=["email", "deleted_at"], unique=True)],
            ),
        ),
        fires=False,
        engine="mysql",
    ),
    RuleCase(
        "SCH013",
        "MySQL unique email without the soft-delete state",
        (
            table(
                "users",
                [ID, col("email", "varchar(255)"), col("deleted_at", "datetime")],
                indexes=[Index(name="email", columns=["email"], unique=True)],
                schema_name="app",
            ),
        ),
        fires=True,
        engine="mysql",
        subjects=("app.users.deleted_at",),
    ),
]

# ---------------------------------------------------------------- SCH014 nullable-mandatory-foreign-key
SCH014 = [
    RuleCase(
        "SCH014",
        "nullable order_id referencing orders",
        (
            table("orders", [ID]),
            table("order_items", [ID, col("order_id")], fks=[fk(["order_id"], "orders")]),
            table("categories", [ID]),
            table("products", [ID, col("category_id")], fks=[fk(["category_id"], "categories")]),
        ),
        fires=True,
        subjects=("order_items.order_id", "products.category_id"),
        evidence={"referenced_table": "orders", "nullable": True},
    ),
    RuleCase(
        "SCH014",
        "SET NULL, self-reference, role name and NOT NULL are fine",
        (
            table("users", [ID, col("manager_id"), col("parent_id")], fks=[fk(["parent_id"], "users")]),
            table(
                "orders",
                [ID, col("user_id"), col("approved_by_user_id"), col("customer_id", nullable=False)],
                fks=[
                    fk(["user_id"], "users", on_delete="set null"),
                    fk(["approved_by_user_id"], "users"),
                    fk(["customer_id"], "customers"),
                ],
            ),
        ),
        fires=False,
    ),
]

# ---------------------------------------------------------------- SCH015 polymorphic-association
SCH015 = [
    RuleCase(
        "SCH015",
        "commentable_type + commentable_id without a FK",
        (table("comments", [ID, col("commentable_type", "text"), col("commentable_id"), col("body", "text")]),),
        fires=True,
        subjects=("comments.commentable_id",),
        evidence={"type_column": "commentable_type", "id_column": "commentable_id"},
    ),
    RuleCase(
        "SCH015",
        "a _type column whose _id has a FK, and a lone _type column",
        (
            table("files", [ID]),
            table(
                "attachments",
                [ID, col("file_type", "text"), col("file_id"), col("content_type", "text")],
                fks=[fk(["file_id"], "files")],
            ),
        ),
        fires=False,
    ),
]


def test_severities_follow_size_and_engine() -> None:
    """The same pattern is rated by what the engine and the statistics say."""
    offline_mysql = RuleCase("SCH002", "mysql DDL", (CUSTOMERS, ORDERS_NO_INDEX), fires=True, engine="mysql")
    assert [f.severity for f in run_rule(offline_mysql)] == [Severity.INFO]
    small_live = RuleCase(
        "SCH002",
        "small live",
        (CUSTOMERS, ORDERS_NO_INDEX.model_copy(update={"row_estimate": 10})),
        fires=True,
        live=True,
    )
    assert [f.severity for f in run_rule(small_live)] == [Severity.LOW]
    uuid_pg = RuleCase(
        "SCH010", "pg", (table("s", [col("id", "uuid", False, default="uuid_generate_v4()")]),), fires=True
    )
    [finding] = run_rule(uuid_pg)
    assert finding.severity == Severity.MEDIUM and finding.fix is not None and finding.fix.safety == "display-only"


def test_int4_key_fix_widens_referencing_columns() -> None:
    case = RuleCase(
        "SCH008",
        "with children",
        (
            table("customers", [col("id", "integer", False)]),
            table("orders", [ID, col("customer_id", "integer")], fks=[fk(["customer_id"], "customers")]),
        ),
        fires=True,
    )
    [finding] = run_rule(case)
    assert finding.evidence["referencing_columns"] == 1
    assert finding.fix is not None and finding.fix.statements == [
        "ALTER TABLE customers ALTER COLUMN id TYPE bigint;",
        "ALTER TABLE orders ALTER COLUMN customer_id TYPE bigint;",
    ]


def test_type_mismatch_never_suggests_narrowing() -> None:
    case = RuleCase(
        "SCH003",
        "wider child",
        (
            table("customers", [col("id", "integer", False)]),
            table("orders", [ID, col("customer_id", "bigint")], fks=[fk(["customer_id"], "customers")]),
        ),
        fires=True,
    )
    [finding] = run_rule(case)
    assert finding.severity == Severity.LOW
    assert finding.fix is not None and finding.fix.statements == ["ALTER TABLE customers ALTER COLUMN id TYPE bigint;"]


def test_invalid_index_rebuild_keeps_method_include_and_predicate() -> None:
    index = Index(
        name="docs_body_idx",
        columns=["body"],
        method="gin",
        include=[],
        predicate="(deleted_at IS NULL)",
        unique=False,
        valid=False,
    )
    case = RuleCase(
        "SCH007", "gin", (table("docs", [ID, col("body", "tsvector")], indexes=[index]),), fires=True, live=True
    )
    [finding] = run_rule(case)
    assert finding.fix is not None and finding.fix.statements == [
        "DROP INDEX CONCURRENTLY docs_body_idx;",
        "CREATE INDEX CONCURRENTLY docs_body_idx ON docs USING gin (body) WHERE (deleted_at IS NULL);",
    ]


def test_cascade_chain_handles_a_long_chain_without_recursion() -> None:
    links = [table("t0000", [ID])] + [
        table(f"t{i:04d}", [ID, col("parent_id")], fks=[fk(["parent_id"], f"t{i - 1:04d}", on_delete="cascade")])
        for i in range(1, 3000)
    ]
    case = RuleCase("SCH012", "deep", tuple(links), fires=True)
    [finding] = run_rule(case)
    assert finding.subject == "t0000" and finding.evidence["depth"] == 2999


def test_rules_do_not_mutate_their_input() -> None:
    tables = tuple(t for c in CASES for t in c.tables)
    before = [t.model_dump() for t in tables]
    for case in CASES:
        run_rule(case)
    assert [t.model_dump() for t in tables] == before


CASES: list[RuleCase] = [
    *SCH002,
    *SCH003,
    *SCH004,
    *SCH005,
    *SCH006,
    *SCH007,
    *SCH008,
    *SCH009,
    *SCH010,
    *SCH011,
    *SCH012,
    *SCH013,
    *SCH014,
    *SCH015,
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.rule_id}-{c.title}")
def test_rule_case(case: RuleCase) -> None:
    assert_case(case)


@pytest.mark.parametrize("case", [c for c in CASES if c.fires], ids=lambda c: f"{c.rule_id}-{c.title}")
def test_fix_statements_parse_in_their_dialect(case: RuleCase) -> None:
    """Fixes are runnable SQL: PostgreSQL's own parser (pglast) or sqlglot for MySQL and SQLite accept them."""
    import pglast
    import sqlglot

    for finding in run_rule(case):
        for statement in finding.fix.statements if finding.fix else []:
            if case.engine == "postgresql":
                pglast.parse_sql(statement)
            else:
                sqlglot.parse_one(statement, read=case.engine, error_level=sqlglot.ErrorLevel.RAISE)
