"""The bundled sample script (`dbspecialist/sample/shop.sql`): builds, is deterministic, has its flaws."""

from __future__ import annotations

import re
import sqlite3
import time
from importlib import resources
from pathlib import Path

EXPECTED_COUNTS = {
    "categories": 20,
    "products": 200,
    "customers": 1000,
    "orders": 3000,
    "order_items": 8100,
    "payments": 2950,
    "product_tags": 304,
}
MAIN_TABLES = ["categories", "products", "customers", "orders", "order_items", "payments"]


def script() -> str:
    return resources.files("dbspecialist.sample").joinpath("shop.sql").read_text(encoding="utf-8")


def build(target: str | Path = ":memory:", *, foreign_keys: bool = False) -> sqlite3.Connection:
    con = sqlite3.connect(target)
    if foreign_keys:
        con.execute("PRAGMA foreign_keys = ON")
    con.executescript(script())
    return con


def scalar(con: sqlite3.Connection, sql: str, *params: object) -> object:
    return con.execute(sql, params).fetchone()[0]


def columns(con: sqlite3.Connection, table: str) -> list[str]:
    return [r[0] for r in con.execute("SELECT name FROM pragma_table_info(?) ORDER BY cid", (table,))]


def indexes(con: sqlite3.Connection, table: str) -> dict[str, list[str]]:
    """Index name -> key columns in order, for every index on `table` (incl. automatic ones)."""
    out: dict[str, list[str]] = {}
    for (name,) in con.execute("SELECT name FROM pragma_index_list(?)", (table,)):
        out[name] = [r[0] for r in con.execute("SELECT name FROM pragma_index_info(?) ORDER BY seqno", (name,))]
    return out


def leading_columns(con: sqlite3.Connection, table: str) -> set[str]:
    return {cols[0] for cols in indexes(con, table).values() if cols}


def foreign_keys(con: sqlite3.Connection, table: str) -> set[tuple[str, str, str]]:
    rows = con.execute('SELECT "from", "table", "to" FROM pragma_foreign_key_list(?)', (table,))
    return {(r[0], r[1], r[2]) for r in rows}


def dump(con: sqlite3.Connection) -> dict[str, list[tuple[object, ...]]]:
    """Every table (incl. sqlite_stat1), fully ordered, plus the schema text."""
    out: dict[str, list[tuple[object, ...]]] = {
        "__schema__": con.execute("SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY type, name").fetchall()
    }
    tables = [r[0] for r in con.execute("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")]
    for table in tables:
        n = len(columns(con, table))
        order = ", ".join(str(i) for i in range(1, n + 1))
        out[table] = con.execute(f'SELECT * FROM "{table}" ORDER BY {order}').fetchall()
    return out


def test_script_runs_quickly_in_memory() -> None:
    start = time.perf_counter()
    con = build()
    elapsed = time.perf_counter() - start
    assert scalar(con, "SELECT count(*) FROM orders") == EXPECTED_COUNTS["orders"]
    # Informational only (typically ~0.1 s); a generous bound catches a pathological slowdown.
    assert elapsed < 10


def test_script_builds_a_file_database(tmp_path: Path) -> None:
    path = tmp_path / "shop.db"
    build(path).close()
    con = sqlite3.connect(path)
    assert scalar(con, "SELECT count(*) FROM customers") == EXPECTED_COUNTS["customers"]
    assert scalar(con, "PRAGMA journal_mode") == "delete"  # the script does not touch file settings


def test_tables_exist_with_exact_row_counts() -> None:
    con = build()
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_schema WHERE type = 'table'")}
    assert set(EXPECTED_COUNTS) <= tables
    for table, expected in EXPECTED_COUNTS.items():
        assert scalar(con, f"SELECT count(*) FROM {table}") == expected, table
    assert 10_000 <= sum(EXPECTED_COUNTS.values()) <= 20_000


def test_script_is_deterministic(tmp_path: Path) -> None:
    first = dump(build())
    second = dump(build(tmp_path / "again.db"))
    assert first.keys() == second.keys()
    for table in first:
        assert first[table] == second[table], table


def test_data_is_consistent() -> None:
    con = build()
    assert con.execute("PRAGMA foreign_key_check").fetchall() == []
    assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]


def test_script_also_builds_with_foreign_keys_enforced() -> None:
    con = build(foreign_keys=True)
    assert scalar(con, "PRAGMA foreign_keys") == 1
    assert con.execute("PRAGMA foreign_key_check").fetchall() == []
    assert scalar(con, "SELECT count(*) FROM order_items") == EXPECTED_COUNTS["order_items"]


def test_business_data_is_plausible() -> None:
    con = build()
    orphans = "SELECT count(*) FROM orders o LEFT JOIN customers c ON c.id = o.customer_id WHERE c.id IS NULL"
    assert scalar(con, orphans) == 0
    assert scalar(con, "SELECT min(total_cents) FROM orders") > 0
    assert (
        scalar(
            con,
            "SELECT count(*) FROM orders o WHERE NOT EXISTS (SELECT 1 FROM order_items i WHERE i.order_id = o.id)",
        )
        == 0
    )
    mismatched = """
        SELECT count(*) FROM orders o
        WHERE o.total_cents <> o.shipping_cents
              + (SELECT sum(quantity * unit_price_cents) FROM order_items i WHERE i.order_id = o.id)
    """
    assert scalar(con, mismatched) == 0
    statuses = {r[0] for r in con.execute("SELECT DISTINCT status FROM orders")}
    assert statuses == {"pending", "paid", "shipped", "delivered", "cancelled"}
    unpaid = """
        SELECT count(*) FROM payments p JOIN orders o ON o.id = p.order_id
        WHERE o.status IN ('pending', 'cancelled')
    """
    assert scalar(con, unpaid) == 0
    assert scalar(con, "SELECT count(*) FROM categories WHERE parent_id IS NULL") == 5
    assert scalar(con, "SELECT count(DISTINCT customer_id) FROM orders") > 100
    # Payments match their order totals up to floating-point noise.
    drift = """
        SELECT max(abs(s.paid - o.total_cents / 100.0)) FROM orders o
        JOIN (SELECT order_id, sum(amount) AS paid FROM payments GROUP BY order_id) s ON s.order_id = o.id
    """
    assert scalar(con, drift) < 0.005


def test_every_flaw_is_listed_in_the_header() -> None:
    flaws = [line for line in script().splitlines() if line.startswith("-- FLAW:")]
    assert len(flaws) >= 7
    text = "\n".join(flaws)
    for needle in (
        "order_items.product_id",
        "payments.order_id",
        "customers",
        "payments.amount",
        "ix_orders_customer",
        "ix_orders_status",
        "product_tags",
        "orders.status",
    ):
        assert needle in text, needle


def test_each_table_has_a_one_line_comment() -> None:
    text = script()
    for table in [*MAIN_TABLES, "product_tags"]:
        assert re.search(rf"^-- .+\n\s*CREATE TABLE {table} \(", text, re.MULTILINE), table
    code = re.sub(r"--[^\n]*", "", text).lower()  # the SQL without its comments
    assert "random(" not in code
    assert "'now'" not in code
    assert "journal_mode" not in code


def test_flaw_unindexed_foreign_keys() -> None:
    con = build()
    assert ("product_id", "products", "id") in foreign_keys(con, "order_items")
    assert "product_id" not in leading_columns(con, "order_items")
    assert ("order_id", "orders", "id") in foreign_keys(con, "payments")
    assert indexes(con, "payments") == {}
    # ...whereas the other foreign keys are supported by an index.
    assert "order_id" in leading_columns(con, "order_items")
    assert "customer_id" in leading_columns(con, "orders")
    assert "category_id" in leading_columns(con, "products")


def test_flaw_wide_customers_table() -> None:
    con = build()
    cols = columns(con, "customers")
    assert len(cols) >= 25
    assert {"notes", "preferences"} <= set(cols)
    billing = {c.removeprefix("billing_") for c in cols if c.startswith("billing_")}
    shipping = {c.removeprefix("shipping_") for c in cols if c.startswith("shipping_")}
    assert billing == shipping and len(billing) >= 5
    assert scalar(con, "SELECT max(length(notes)) FROM customers") >= 500
    assert scalar(con, "SELECT count(*) FROM customers WHERE json_valid(preferences)") == EXPECTED_COUNTS["customers"]
    same = """
        SELECT count(*) FROM customers
        WHERE shipping_line1 = billing_line1 AND shipping_city = billing_city
    """
    assert scalar(con, same) > EXPECTED_COUNTS["customers"] // 2  # mostly duplicated data


def test_flaw_money_as_real() -> None:
    con = build()
    types = {r[0]: r[1].upper() for r in con.execute("SELECT name, type FROM pragma_table_info('payments')")}
    assert types["amount"] == "REAL"
    assert scalar(con, "SELECT typeof(amount) FROM payments LIMIT 1") == "real"
    # Split payments carry binary floating-point artefacts (not a whole number of cents).
    amounts = [r[0] for r in con.execute("SELECT amount FROM payments")]
    assert any(round(a, 2) != a for a in amounts)


def test_flaw_redundant_index() -> None:
    con = build()
    idx = indexes(con, "orders")
    assert idx["ix_orders_customer"] == ["customer_id"]
    assert idx["ix_orders_customer_created"] == ["customer_id", "created_at"]
    longer = idx["ix_orders_customer_created"]
    assert longer[: len(idx["ix_orders_customer"])] == idx["ix_orders_customer"]


def test_flaw_low_cardinality_index() -> None:
    con = build()
    assert indexes(con, "orders")["ix_orders_status"] == ["status"]
    assert scalar(con, "SELECT count(DISTINCT status) FROM orders") == 5
    stat = scalar(con, "SELECT stat FROM sqlite_stat1 WHERE idx = 'ix_orders_status'")
    rows, per_key = (int(x) for x in str(stat).split()[:2])
    assert rows == EXPECTED_COUNTS["orders"] and per_key >= 500


def test_flaw_table_without_primary_key() -> None:
    con = build()
    info = con.execute("SELECT name, pk FROM pragma_table_info('product_tags')").fetchall()
    assert info and all(pk == 0 for _, pk in info)
    assert not any(unique for _, _, unique, *_ in con.execute("PRAGMA index_list('product_tags')"))
    dupes = "SELECT count(*) FROM (SELECT 1 FROM product_tags GROUP BY product_id, tag HAVING count(*) > 1)"
    assert scalar(con, dupes) > 0
    assert EXPECTED_COUNTS["product_tags"] < 1000  # small


def test_flaw_free_text_status() -> None:
    con = build()
    sql = str(scalar(con, "SELECT sql FROM sqlite_schema WHERE name = 'orders'"))
    status_line = next(line for line in sql.splitlines() if line.strip().startswith("status"))
    assert "TEXT" in status_line and "CHECK" not in status_line
    assert "CHECK (status" not in sql and "CHECK(status" not in sql
    con.execute("UPDATE orders SET status = 'Shipped ' WHERE id = 1")  # nothing stops a typo


def test_flaw_inconsistent_timestamp_format() -> None:
    con = build()
    values = [r[0] for r in con.execute("SELECT last_login_at FROM customers WHERE last_login_at IS NOT NULL")]
    iso = sum(bool(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", v)) for v in values)
    dmy = sum(bool(re.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d", v)) for v in values)
    epoch = sum(v.isdigit() for v in values)
    assert iso and dmy and epoch and iso + dmy + epoch == len(values)
    # Other timestamps are consistently ISO-8601.
    assert scalar(con, "SELECT count(*) FROM orders WHERE created_at <> datetime(created_at)") == 0


def test_statistics_exist_for_every_table() -> None:
    con = build()
    for table in [*MAIN_TABLES, "product_tags"]:
        assert scalar(con, "SELECT count(*) FROM sqlite_stat1 WHERE tbl = ?", table) >= 1, table
