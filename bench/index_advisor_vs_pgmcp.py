"""index_advisor_vs_pgmcp: issue 5's headline comparison of `recommend_indexes` with Postgres MCP Pro.

A shop database (`dbspecialist_bench`: customers 200k, products 20k, orders 1M, order_items 2.5M; foreign keys
without indexes) and 15 slow queries. Both advisors get the same queries:

- ours: `dbspecialist.adapters.index_advisor.recommend` over `PostgresAdapter` (max_indexes=10);
- theirs: `postgres-mcp` (Postgres MCP Pro) started as an MCP server over stdio from its own virtualenv
  (~/.cache/dbspecialist-bench/pgmcp-venv), driven with the MCP SDK client, tool `analyze_query_indexes`
  (method "dta"). It takes at most 10 queries a call, so the workload goes in batches and the union of the
  recommendations is scored; its wall time is the sum of the calls.

One yardstick for both: every recommended CREATE INDEX becomes a HypoPG hypothetical index on one connection
and the workload cost is the sum of plain EXPLAIN total costs (before: no hypothetical index). Sizes are
hypopg_relation_size. Target (the issue): at least its cost reduction, with no more indexes, in at most a
third of its time.

`python -m bench.index_advisor_vs_pgmcp [--quick] [--rebuild]`. Not run in CI. Needs PostgreSQL 15 at
127.0.0.1:5432 (user postgres, trust) with HypoPG available. The bench database is left in place for reuse;
hypothetical indexes live only in the measuring session.
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import asyncpg

NAME = "index_advisor_vs_pgmcp"
DB = "dbspecialist_bench"
ADMIN_URL = os.environ.get("DBSPECIALIST_BENCH_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
BENCH_URL = os.environ.get("DBSPECIALIST_BENCH_URL", f"postgresql://postgres@127.0.0.1:5432/{DB}")
MAX_INDEXES = 10
PGMCP_BATCH = 10  # postgres-mcp's MAX_NUM_INDEX_TUNING_QUERIES
PGMCP_VENV = Path(os.environ.get("DBSPECIALIST_PGMCP_VENV", "~/.cache/dbspecialist-bench/pgmcp-venv")).expanduser()
PGMCP_TIMEOUT_S = 600
TIME_RATIO_TARGET = 3.0  # ours must take at most a third of its time

ROWS = {"customers": 200_000, "products": 20_000, "orders": 1_000_000, "order_items": 2_500_000}

SCHEMA_SQL = """
DROP TABLE IF EXISTS order_items, orders, products, customers CASCADE;
CREATE TABLE customers (
    id integer PRIMARY KEY, email text NOT NULL, full_name text NOT NULL, country text NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE TABLE products (
    id integer PRIMARY KEY, sku text NOT NULL, name text NOT NULL, category text NOT NULL,
    price numeric(10,2) NOT NULL
);
CREATE TABLE orders (
    id integer PRIMARY KEY, customer_id integer NOT NULL, status text NOT NULL,
    created_at timestamptz NOT NULL, total numeric(12,2) NOT NULL, ship_country text NOT NULL
);
CREATE TABLE order_items (
    id bigint PRIMARY KEY, order_id integer NOT NULL, product_id integer NOT NULL,
    quantity integer NOT NULL, unit_price numeric(10,2) NOT NULL
);
"""


def generator_sql() -> list[str]:
    """The data, in SQL with generate_series (deterministic: setseed); foreign keys added after, no FK index."""
    c, p, o, i = ROWS["customers"], ROWS["products"], ROWS["orders"], ROWS["order_items"]
    countries = "ARRAY['US','GB','DE','FR','NL','ES','IT','SE','PL','CA','AU','NZ','JP','BR','MX','IN','IE','BE']"
    categories = "ARRAY['books','garden','kitchen','toys','music','games','tools','sport','beauty','office']"
    return [
        "SELECT setseed(0.42)",
        f"""INSERT INTO customers
            SELECT g, 'user' || g || '@example.com', 'Customer ' || g,
                   ({countries})[1 + (g * 7) % 18],
                   timestamptz '2022-01-01' + (g::float8 / {c}) * interval '1460 days'
            FROM generate_series(1, {c}) g""",
        f"""INSERT INTO products
            SELECT g, 'SKU-' || lpad(g::text, 6, '0'), 'Product ' || g, ({categories})[1 + g % 10],
                   round((1 + random() * 199)::numeric, 2)
            FROM generate_series(1, {p}) g""",
        f"""INSERT INTO orders
            SELECT g, 1 + floor(random() * {c})::int,
                   CASE WHEN r < 0.80 THEN 'delivered' WHEN r < 0.90 THEN 'shipped' WHEN r < 0.95 THEN 'pending'
                        WHEN r < 0.99 THEN 'cancelled' ELSE 'refunded' END,
                   timestamptz '2023-01-01' + (g::float8 / {o}) * interval '1095 days' + random() * interval '1 hour',
                   round((5 + random() * 500)::numeric, 2),
                   ({countries})[1 + floor(random() * 18)::int]
            FROM (SELECT g, random() AS r FROM generate_series(1, {o}) g) s""",
        f"""INSERT INTO order_items
            SELECT g, 1 + floor(random() * {o})::int, 1 + floor(random() * {p})::int,
                   1 + floor(random() * 8)::int, round((1 + random() * 199)::numeric, 2)
            FROM generate_series(1, {i}) g""",
        "ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id)",
        "ALTER TABLE order_items ADD CONSTRAINT items_order_fk FOREIGN KEY (order_id) REFERENCES orders (id)",
        "ALTER TABLE order_items ADD CONSTRAINT items_product_fk FOREIGN KEY (product_id) REFERENCES products (id)",
        "VACUUM ANALYZE customers, products, orders, order_items",
    ]


WORKLOAD: list[str] = [
    # a customer's latest orders: unindexed FK + ORDER BY
    "SELECT id, status, total, created_at FROM orders WHERE customer_id = 4242 ORDER BY created_at DESC LIMIT 20",
    # login lookup by email
    "SELECT id, full_name FROM customers WHERE email = 'user123456@example.com'",
    # the lines of one order: unindexed FK
    "SELECT product_id, quantity, unit_price FROM order_items WHERE order_id = 777777",
    # pending orders of the last month
    "SELECT id, customer_id, total FROM orders WHERE status = 'pending' AND created_at >= '2025-12-01' "
    "AND created_at < '2026-01-01'",
    # the newest orders on the back-office front page
    "SELECT id, customer_id, status, created_at FROM orders ORDER BY created_at DESC LIMIT 50",
    # units sold of one product
    "SELECT p.name, sum(oi.quantity) AS units FROM order_items oi JOIN products p ON p.id = oi.product_id "
    "WHERE oi.product_id = 1234 GROUP BY p.name",
    # revenue per customer over one week
    "SELECT customer_id, sum(total) AS revenue, count(*) AS n FROM orders "
    "WHERE created_at >= '2025-06-01' AND created_at < '2025-06-08' GROUP BY customer_id",
    # refunds this year
    "SELECT count(*) FROM orders WHERE status = 'refunded' AND created_at >= '2025-10-01'",
    # newest sign-ups
    "SELECT id, email, created_at FROM customers WHERE created_at >= '2025-12-01' ORDER BY created_at LIMIT 100",
    # everything a customer bought: join through two unindexed FKs
    "SELECT oi.product_id, oi.quantity, o.created_at FROM orders o JOIN order_items oi ON oi.order_id = o.id "
    "WHERE o.customer_id = 999",
    # product page by SKU
    "SELECT id, name, price FROM products WHERE sku = 'SKU-012345'",
    # sales per category on one day
    "SELECT p.category, sum(oi.quantity * oi.unit_price) AS revenue FROM orders o "
    "JOIN order_items oi ON oi.order_id = o.id JOIN products p ON p.id = oi.product_id "
    "WHERE o.created_at >= '2025-12-24' AND o.created_at < '2025-12-25' GROUP BY p.category",
    # oldest pending orders first (the fulfilment queue)
    "SELECT id, customer_id, total FROM orders WHERE status = 'pending' ORDER BY created_at LIMIT 20",
    # case-insensitive email lookup (expression index)
    "SELECT id, full_name FROM customers WHERE lower(email) = 'user4242@example.com'",
    # bulk buys of one product
    "SELECT count(*) FROM order_items WHERE product_id = 777 AND quantity >= 7",
]


# -- the database ---------------------------------------------------------------------------------------------


async def ensure_database(rebuild: bool) -> dict[str, Any]:
    admin = await asyncpg.connect(ADMIN_URL)
    try:
        exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", DB)
        if not exists:
            await admin.execute(f"CREATE DATABASE {DB}")
    finally:
        await admin.close()
    conn = await asyncpg.connect(BENCH_URL)
    try:
        await conn.execute("CREATE EXTENSION IF NOT EXISTS hypopg")
        if not rebuild and await _counts_ok(conn):
            return {"built": False, "build_s": 0.0}
        t0 = time.perf_counter()
        await conn.execute(SCHEMA_SQL)
        for stmt in generator_sql():
            await conn.execute(stmt, timeout=600)
        if not await _counts_ok(conn):
            raise RuntimeError("bench database built with unexpected row counts")
        return {"built": True, "build_s": round(time.perf_counter() - t0, 1)}
    finally:
        await conn.close()


async def _counts_ok(conn: asyncpg.Connection) -> bool:
    for table, n in ROWS.items():
        present = await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", f"public.{table}")
        if not present or await conn.fetchval(f"SELECT count(*) FROM {table}") != n:
            return False
    # only the primary keys: a leftover index from a manual try would spoil the "before"
    extra = await conn.fetchval(
        "SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid "
        "WHERE c.relname = ANY($1::text[]) AND NOT i.indisprimary",
        list(ROWS),
    )
    return int(extra) == 0


# -- the yardstick --------------------------------------------------------------------------------------------

_CONCURRENTLY = re.compile(r"\bCONCURRENTLY\b\s*", re.IGNORECASE)


async def _cost(conn: asyncpg.Connection, sql: str) -> float:
    plan = await conn.fetchval(f"EXPLAIN (FORMAT JSON) {sql}")
    if isinstance(plan, str):
        import json

        plan = json.loads(plan)
    return float(plan[0]["Plan"]["Total Cost"])


async def workload_cost(queries: list[str], ddls: list[str]) -> dict[str, Any]:
    """Sum of EXPLAIN total costs with `ddls` as HypoPG hypothetical indexes (reset afterwards)."""
    conn = await asyncpg.connect(BENCH_URL)
    try:
        await conn.execute("SELECT hypopg_reset()")
        size = 0
        failed: list[str] = []
        for ddl in ddls:
            stmt = _CONCURRENTLY.sub("", ddl).strip().rstrip(";")
            try:
                row = await conn.fetchrow("SELECT indexrelid FROM hypopg_create_index($1)", stmt)
                size += int(await conn.fetchval("SELECT hypopg_relation_size($1)", row["indexrelid"]))
            except asyncpg.PostgresError as exc:
                failed.append(f"{stmt}: {exc}")
        per_query = [await _cost(conn, q) for q in queries]
        return {"total": sum(per_query), "per_query": per_query, "bytes": size, "failed": failed}
    finally:
        try:
            await conn.execute("SELECT hypopg_reset()")
        finally:
            await conn.close()


# -- ours -----------------------------------------------------------------------------------------------------


async def run_ours(queries: list[str]) -> dict[str, Any]:
    from dbspecialist.adapters.index_advisor import recommend
    from dbspecialist.adapters.postgres import PostgresAdapter
    from dbspecialist.config import parse_connection

    adapter = PostgresAdapter(parse_connection("bench", BENCH_URL, source="bench"))
    try:
        t0 = time.perf_counter()
        advice = await recommend(adapter, queries, use_workload=False, max_indexes=MAX_INDEXES, max_total_bytes=None)
        wall = time.perf_counter() - t0
    finally:
        await adapter.close()
    return {
        "wall_s": wall,
        "ddls": [r.ddl for r in advice.recommendations],
        "claimed": None,
        "notes": list(advice.notes),
    }


# -- theirs ---------------------------------------------------------------------------------------------------


def _pgmcp_binary() -> Path | None:
    exe = PGMCP_VENV / "bin" / "postgres-mcp"
    return exe if exe.exists() else None


def install_pgmcp() -> str | None:
    """Make the separate virtualenv; returns None when ready, else what failed.

    postgres-mcp ≥ 0.1.1 needs Python ≥ 3.12 and pins pglast==7.2.0, and runs on the mcp 1.x API; when the
    plain install fails we install its wheel without dependencies and its requirements with the nearest
    pglast 7.x and mcp<2 (said in the output).
    """
    if _pgmcp_binary() is not None:
        return None
    py = _python_312()
    if py is None:
        return "no Python >= 3.12 found (postgres-mcp >= 0.1.1 requires it)"
    PGMCP_VENV.parent.mkdir(parents=True, exist_ok=True)
    log = PGMCP_VENV.parent / "pip.log"
    with log.open("w") as out:
        subprocess.run([py, "-m", "venv", "--clear", str(PGMCP_VENV)], check=True, stdout=out, stderr=out)
        pip = [str(PGMCP_VENV / "bin" / "python"), "-m", "pip", "install", "-q"]
        # >= 0.1.1: without the floor pip settles on 0.1.0 (no pglast pin, but no --access-mode option either)
        ok = subprocess.run([*pip, "postgres-mcp>=0.1.1", "mcp<2"], stdout=out, stderr=out).returncode == 0
        if not ok:
            deps = [
                "attrs>=25.3.0",
                "humanize>=4.8.0",
                "instructor>=1.7.9",
                "mcp[cli]>=1.5.0,<2",
                "pglast>=7.2,<8",
                "psycopg-pool>=3.2.6",
                "psycopg[binary]>=3.2.6",
            ]
            ok = subprocess.run([*pip, "--no-deps", "postgres-mcp>=0.1.1"], stdout=out, stderr=out).returncode == 0
            ok = ok and subprocess.run([*pip, *deps], stdout=out, stderr=out).returncode == 0
    if not ok or _pgmcp_binary() is None:
        return f"pip install postgres-mcp failed (see {log})"
    return None


def _python_312() -> str | None:
    """A Python >= 3.12 that actually runs (a pyenv shim may exist for a version that is not selected)."""
    if sys.version_info >= (3, 12):
        return sys.executable
    found = [shutil.which(name) for name in ("python3.13", "python3.12")]
    pyenv = Path("~/.pyenv/versions").expanduser()
    found += [str(c) for c in sorted(pyenv.glob("3.1[2-9]*/bin/python"), reverse=True)] if pyenv.exists() else []
    for cand in found:
        if cand and _runs_312(cand):
            return cand
    return None


def _runs_312(python: str) -> bool:
    check = "import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)"
    return subprocess.run([python, "-c", check], capture_output=True).returncode == 0


def _pgmcp_versions() -> str:
    py = PGMCP_VENV / "bin" / "python"
    code = (
        "import importlib.metadata as m;"
        "print(*(p + ' ' + m.version(p) for p in ('postgres-mcp', 'pglast', 'mcp')), sep=', ')"
    )
    res = subprocess.run([str(py), "-c", code], capture_output=True, text=True)
    return res.stdout.strip()


async def run_pgmcp(queries: list[str]) -> dict[str, Any]:
    from mcp import ClientSession, StdioServerParameters
    from mcp.client.stdio import stdio_client

    exe = _pgmcp_binary()
    assert exe is not None
    params = StdioServerParameters(
        command=str(exe),
        args=["--access-mode=unrestricted"],
        env={"DATABASE_URI": BENCH_URL, "PATH": os.environ.get("PATH", ""), "HOME": str(Path.home())},
    )
    errlog_path = PGMCP_VENV.parent / "pgmcp-stderr.log"
    ddls: list[str] = []
    claimed: list[dict[str, Any]] = []
    raw: list[str] = []
    with errlog_path.open("w") as errlog:
        async with asyncio.timeout(PGMCP_TIMEOUT_S):
            async with (
                stdio_client(params, errlog=errlog) as (read, write),
                ClientSession(read, write) as session,
            ):
                await session.initialize()
                tools = {t.name: t for t in (await session.list_tools()).tools}
                if "analyze_query_indexes" not in tools:
                    raise RuntimeError(f"no analyze_query_indexes tool; tools: {sorted(tools)}")
                t0 = time.perf_counter()
                for start in range(0, len(queries), PGMCP_BATCH):
                    batch = queries[start : start + PGMCP_BATCH]
                    res = await session.call_tool("analyze_query_indexes", {"queries": batch, "method": "dta"})
                    text = "".join(getattr(c, "text", "") for c in res.content)
                    raw.append(text)
                    data = _parse_pgmcp(text)
                    if "error" in data:
                        raise RuntimeError(f"analyze_query_indexes: {data['error']}")
                    recs = data.get("recommendations")
                    for rec in recs if isinstance(recs, list) else []:
                        ddls.append(str(rec["index_definition"]))
                    if isinstance(data.get("summary"), dict):
                        claimed.append(data["summary"])
                wall = time.perf_counter() - t0
    return {"wall_s": wall, "ddls": list(dict.fromkeys(ddls)), "claimed": claimed, "raw": raw}


def _parse_pgmcp(text: str) -> dict[str, Any]:
    """Its tools return `str(dict)` (a Python repr), not JSON."""
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return {"error": f"unparsed answer: {text[:300]}"}
    return value if isinstance(value, dict) else {"error": f"unexpected answer: {text[:300]}"}


QUERIES_SHOWN: list[str] = []
BEFORE_SHOWN: list[float] = []

# -- the comparison -------------------------------------------------------------------------------------------


def _row(name: str, run: dict[str, Any], before: float, after: dict[str, Any]) -> dict[str, Any]:
    return {
        "advisor": name,
        "indexes": len(run["ddls"]),
        "cost_before": round(before, 1),
        "cost_after": round(after["total"], 1),
        "reduction_pct": round(100 * (1 - after["total"] / before), 1) if before else 0.0,
        "index_bytes": after["bytes"],
        "wall_s": round(run["wall_s"], 2),
        "ddls": run["ddls"],
        "claimed": run.get("claimed"),
        "unapplied": after["failed"],
        "per_query_after": [round(c, 1) for c in after["per_query"]],
    }


def _print(rows: list[dict[str, Any]], notes: list[str]) -> None:
    head = (
        f"{'advisor':<22}{'indexes':>8}{'cost before':>14}{'cost after':>13}{'reduction':>11}{'size':>11}{'wall s':>9}"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        if r["advisor"] == "verdict":
            continue
        size = f"{r['index_bytes'] / 1_048_576:.1f} MB"
        print(
            f"{r['advisor']:<22}{r['indexes']:>8}{r['cost_before']:>14,.0f}{r['cost_after']:>13,.0f}"
            f"{r['reduction_pct']:>10.1f}%{size:>11}{r['wall_s']:>9.2f}"
        )
    for r in rows:
        print(f"\n{r['advisor']}:")
        for key in ("ddls", "claimed", "unapplied", "verdict", "reason"):
            value = r.get(key)
            if isinstance(value, list):
                for item in value:
                    print(f"  {key[:-1] if key.endswith('s') else key}: {item}")
            elif value is not None:
                print(f"  {key}: {value}")
    scored = [r for r in rows if "per_query_after" in r]
    if scored:
        print(f"\nper query (cost): before | {' | '.join(r['advisor'] for r in scored)}")
        for n, (query, before) in enumerate(zip(QUERIES_SHOWN, BEFORE_SHOWN, strict=True)):
            after = " | ".join(f"{r['per_query_after'][n]:>9,.0f}" for r in scored)
            print(f"  q{n + 1:<3}{before:>9,.0f} | {after}  {' '.join(query.split())[:60]}")
    for note in notes:
        print(f"note: {note}")


async def _main(quick: bool, rebuild: bool) -> list[dict[str, Any]]:
    notes: list[str] = []
    db = await ensure_database(rebuild)
    notes.append(f"bench database {'built in ' + str(db['build_s']) + ' s' if db['built'] else 'reused'}")
    queries = WORKLOAD[:PGMCP_BATCH] if quick else list(WORKLOAD)
    base = await workload_cost(queries, [])
    before = base["total"]
    QUERIES_SHOWN[:] = queries
    BEFORE_SHOWN[:] = base["per_query"]

    ours = await run_ours(queries)
    rows = [_row("dbspecialist", ours, before, await workload_cost(queries, ours["ddls"]))]

    theirs: dict[str, Any] | None = None
    failure = await asyncio.to_thread(install_pgmcp)
    if failure is None:
        try:
            theirs = await run_pgmcp(queries)
            notes.append(f"Postgres MCP Pro: {_pgmcp_versions()}")
        except Exception as exc:  # report what failed; our side stands alone
            failure = f"running postgres-mcp failed: {type(exc).__name__}: {exc}"
    if theirs is not None:
        rows.append(_row("postgres-mcp (dta)", theirs, before, await workload_cost(queries, theirs["ddls"])))
        if len(queries) > PGMCP_BATCH:
            notes.append(f"postgres-mcp takes ≤ {PGMCP_BATCH} queries a call: the workload went in batches")
        o, t = rows
        cost_ok = o["cost_after"] <= t["cost_after"] + 1e-6
        count_ok = o["indexes"] <= t["indexes"]
        time_ok = o["wall_s"] * TIME_RATIO_TARGET <= t["wall_s"]
        rows.append(
            {
                "advisor": "verdict",
                "passed": cost_ok and count_ok and time_ok,
                "cost_ok": cost_ok,
                "count_ok": count_ok,
                "time_ok": time_ok,
                "time_ratio": round(t["wall_s"] / o["wall_s"], 1) if o["wall_s"] else None,
                "verdict": (
                    f"cost reduction {o['reduction_pct']}% vs {t['reduction_pct']}%, "
                    f"indexes {o['indexes']} vs {t['indexes']}, time {o['wall_s']} s vs {t['wall_s']} s"
                ),
            }
        )
    else:
        notes.append(f"Postgres MCP Pro NOT compared: {failure}")
        rows.append({"advisor": "verdict", "passed": None, "reason": failure})
    _print(rows, notes)
    return rows


def main(quick: bool = False, rebuild: bool = False) -> list[dict[str, Any]]:
    return asyncio.run(_main(quick, rebuild))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.index_advisor_vs_pgmcp", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="the first 10 queries only (one postgres-mcp call)")
    parser.add_argument("--rebuild", action="store_true", help="drop and regenerate the bench tables")
    args = parser.parse_args()
    result = main(quick=args.quick, rebuild=args.rebuild)
    verdict = result[-1]
    print(f"\npassed: {verdict.get('passed')}")
