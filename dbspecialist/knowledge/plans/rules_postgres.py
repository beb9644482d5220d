"""PostgreSQL plan rules PLN001-PLN029 (PLN015-PLN029 reserved), run on an annotated `Plan`.

Thresholds are pev2's badge thresholds (dalibo/pev2) unless a constant says otherwise. Every
function takes the annotated plan and the caller's context (e.g. {"sql": ...}) and yields findings
whose subject is the node, "#<node_id> <title>".
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from typing import Any

from dbspecialist.knowledge.findings import Finding, Fix, RuleSpec, Severity
from dbspecialist.knowledge.plans.annotate import iter_nodes
from dbspecialist.knowledge.plans.model import Plan, PlanNode
from dbspecialist.knowledge.plans.postgres_parse import display_name
from dbspecialist.knowledge.sql_text import index_name, qualified, quote_ident

Context = dict[str, Any]
PlanRule = Callable[[Plan, Context], Iterator[Finding]]

# pev2: share of duration > 10 / 40 / 90 %
SLOW_PCT_INFO, SLOW_PCT_MEDIUM, SLOW_PCT_HIGH = 10.0, 40.0, 90.0
SLOW_TOP_N = 3
SLOW_MIN_MS = 1.0  # ours: a node under a millisecond is not where time goes
# pev2: misestimate > 10 / 100 / 1000 x
MISESTIMATE_LOW, MISESTIMATE_MEDIUM, MISESTIMATE_HIGH = 10.0, 100.0, 1000.0
MISESTIMATE_MIN_ROWS = 100  # ours: a 1-vs-15 row miss changes no plan choice
# pev2: rows removed by filter > 50 / 90 %; the brief: "big table" = 10,000 rows scanned
FILTER_REMOVED_SHARE = 0.9
BIG_SCAN_ROWS = 10_000
INDEX_FILTER_MIN_ROWS = 1_000  # ours: below this an index filter costs nothing worth a new index
# pev2: heap fetches per row > 0 / 40 / 90 %
HEAP_FETCH_MEDIUM, HEAP_FETCH_HIGH = 0.4, 0.9
NESTED_LOOP_OUTER_ROWS = 1_000
LARGE_OFFSET_ROWS = 10_000
JIT_SHARE = 0.10  # pgMustard / issue 5: JIT > 10 % of execution
PLANNING_MIN_MS = 1.0  # ours: sub-millisecond planning is never worth acting on


def _spec(num: int, name: str, severity: Severity, summary: str, fix: str = "always") -> RuleSpec:
    return RuleSpec(
        id=f"PLN{num:03d}",
        name=name,
        capability="plans",
        engines=("postgresql",),
        severity=severity,
        fix=fix,  # type: ignore[arg-type]
        summary=summary,
    )


def _nodes(plan: Plan, ctx: Context) -> list[PlanNode]:
    """The plan's nodes in pre-order; analyze_plan lists them once in ctx["_nodes"] for all rules."""
    cached = ctx.get("_nodes")
    if isinstance(cached, list):
        return cached
    return iter_nodes(plan.root)


def subject(node: PlanNode) -> str:
    """'#4 Seq Scan on orders' — the node as the compact tree shows it."""
    title = display_name(node)
    target = node.relation or node.cte_name
    if node.node_type == "Bitmap Index Scan" and node.index_name:
        target = node.index_name
    return f"#{node.node_id} {title}" + (f" on {target}" if target else "")


def _table(node: PlanNode) -> str | None:
    """The scanned table as fix SQL names it: schema-qualified when the plan names the schema (JSON, VERBOSE)."""
    if node.relation is None:
        return None
    return qualified(node.schema_name, node.relation, "postgresql")


def _in_schema(node: PlanNode, name: str) -> str:
    """A new object's name (statistics, ...) in the scanned table's schema, not the first one on the search_path."""
    return qualified(node.schema_name, name, "postgresql")


def _find(spec: RuleSpec, node: PlanNode, severity: Severity, title: str, evidence: dict[str, Any],
          rationale: str, help_: str, fix: Fix | None) -> Finding:  # fmt: skip
    return Finding(
        rule_id=spec.id,
        name=spec.name,
        severity=severity,
        title=title,
        subject=subject(node),
        subject_kind="node",
        table=node.relation,
        evidence=evidence,
        rationale=rationale,
        help=help_,
        fix=fix,
    )


def _ran(node: PlanNode) -> bool:
    return node.actual_loops is not None and node.actual_loops > 0


def _scanned(node: PlanNode) -> tuple[float, float]:
    """(rows read, rows removed by filter), all loops."""
    loops = node.actual_loops or 1.0
    removed = (node.rows_removed_by_filter or 0.0) * loops
    kept = (node.actual_rows or 0.0) * loops
    return kept + removed, removed


_COND = re.compile(
    r"\(*\b(?:[a-z_][a-z0-9_$]*\.)?([a-z_][a-z0-9_$]*)\)?(?:::[a-z ]+)?\s*(=|<=|>=|<|>|~~\*?|~~)\s*", re.IGNORECASE
)
_NOT_COLUMNS = {"and", "or", "not", "any", "all", "true", "false", "null"}


def condition_columns(text: str | None, alias: str | None = None) -> list[str]:
    """Columns compared in a PostgreSQL condition, equality first, then range; LIKE columns last."""
    if not text:
        return []
    if alias is not None:  # a join condition: the columns of this side, wherever they stand
        qualified = re.findall(rf"\b{re.escape(alias)}\.([a-z_][a-z0-9_$]*)", text, re.IGNORECASE)
        if qualified:
            return list(dict.fromkeys(qualified))
    eq: list[str] = []
    rng: list[str] = []
    like: list[str] = []
    for m in _COND.finditer(text):
        start = m.start(1)
        qual = re.search(r"([a-z_][a-z0-9_$]*)\.$", text[:start], re.IGNORECASE)
        if alias is not None and qual is not None and qual.group(1) != alias:
            continue
        col, op = m.group(1), m.group(2)
        if col.lower() in _NOT_COLUMNS or text[start - 1 : start] == "'":
            continue
        bucket = eq if op == "=" else like if op.startswith("~~") else rng
        if col not in eq + rng + like:
            bucket.append(col)
    return eq + rng + like


def _mb(kb: float) -> str:
    return f"{max(1, math.ceil(kb / 1024))}MB"


# ------------------------------------------------------------------------------------------------ rules

SLOW = _spec(1, "slow-node", Severity.INFO, "A node takes more than 10% of the execution time.", "never")


def slow_node(plan: Plan, ctx: Context) -> Iterator[Finding]:
    """A node that takes a large share of the execution time: where tuning pays first.

    ## Why is this bad?
    The time of a query is spent in a few nodes. Tuning anything else changes nothing the
    user can measure; the share of exclusive time (the node's own work, children excluded)
    says where to look.

    ## Example
    ```text
    Seq Scan on orders (actual time=0.01..180.2 rows=12 loops=1)  -- 92% of 196 ms
    ```

    ## Use instead
    Read the other findings on that node: an index, more work_mem or fresh statistics.

    ## Fix safety
    No fix of its own: this finding points at the node, the other rules say what to change.
    """
    if plan.root.children == []:
        return  # a one-node plan is trivially 100% of its time
    ranked = sorted(
        (
            n
            for n in _nodes(plan, ctx)
            if n.exclusive_pct is not None and n.exclusive_pct > SLOW_PCT_INFO and (n.exclusive_ms or 0) >= SLOW_MIN_MS
        ),
        key=lambda n: -(n.exclusive_pct or 0.0),
    )
    for node in ranked[:SLOW_TOP_N]:
        pct = node.exclusive_pct or 0.0
        sev = Severity.HIGH if pct > SLOW_PCT_HIGH else Severity.MEDIUM if pct > SLOW_PCT_MEDIUM else Severity.INFO
        yield _find(
            SLOW, node, sev, f"{subject(node)} takes {pct:.0f}% of the execution time",
            {"exclusive_ms": round(node.exclusive_ms or 0.0, 3), "exclusive_pct": round(pct, 1),
             "execution_ms": plan.execution_ms},
            "Most of the query's time is spent in this node; changes elsewhere in the plan cannot speed it up much.",
            "Start here: see the other findings on this node.", None,
        )  # fmt: skip


MISESTIMATE = _spec(2, "row-misestimate", Severity.LOW, "The planner's row estimate is off by 10x or more.")


def row_misestimate(plan: Plan, ctx: Context) -> Iterator[Finding]:
    """The planner expected far fewer (or more) rows than the node produced.

    ## Why is this bad?
    Every choice above the node (join method, join order, memory, parallelism) is costed on
    the estimate. A 100x miss makes a nested loop look cheap or a hash table look small.
    Stale statistics, a too-small statistics target or correlated columns are the usual causes.

    A node read by a LIMIT that got all its rows, or on the inner side of a semi/anti join, stops
    early: fewer actual rows than estimated is expected there and is not reported (more is).

    ## Example
    ```text
    Seq Scan on readings (rows=25) (actual rows=2000)  Filter: ((a = 7) AND (b = 7))
    ```

    ## Use instead
    ```sql
    CREATE STATISTICS readings_a_b (dependencies) ON a, b FROM readings;
    ANALYZE readings;
    ```

    ## Fix safety
    Safe: ANALYZE and CREATE STATISTICS only change statistics; plans may change (for the better, usually).
    """
    for node in _nodes(plan, ctx):
        factor = node.estimate_factor
        if factor is None or factor < MISESTIMATE_LOW or not _ran(node):
            continue
        if max(node.plan_rows or 0.0, node.actual_rows or 0.0) < MISESTIMATE_MIN_ROWS:
            continue
        if node.rows_cut_short_by is not None and node.estimate_direction == "over":
            continue  # a LIMIT (or a semi/anti join) stopped reading it: the actual count is a lower bound
        sev = Severity.HIGH if factor >= MISESTIMATE_HIGH else (
            Severity.MEDIUM if factor >= MISESTIMATE_MEDIUM else Severity.LOW)  # fmt: skip
        table = _table(node)
        statements: list[str] = []
        if table:
            cols = condition_columns(node.filter) + [
                c for c in condition_columns(node.index_cond) if c not in condition_columns(node.filter)
            ]
            if len(cols) >= 2:
                stats = _in_schema(node, f"{node.relation}_{'_'.join(cols[:3])}_stats"[:63])
                statements.append(
                    f"CREATE STATISTICS {stats} (dependencies, ndistinct) ON {', '.join(cols[:3])} FROM {table};"
                )
            elif cols:
                statements.append(f"ALTER TABLE {table} ALTER COLUMN {cols[0]} SET STATISTICS 1000;")
            statements.append(f"ANALYZE {table};")
        direction = "under" if node.estimate_direction == "under" else "over"
        yield _find(
            MISESTIMATE, node, sev,
            f"{subject(node)}: the planner {direction}estimated rows {factor:.0f}x "
            f"({node.plan_rows:.0f} expected, {node.actual_rows:.0f} actual)",
            {"plan_rows": node.plan_rows, "actual_rows": node.actual_rows, "factor": round(factor, 1),
             "direction": direction},
            "Plan choices above this node were costed on the wrong row count, so the join method, join order "
            "or memory sizing may be wrong.",
            "Refresh statistics; for correlated filter columns create extended statistics.",
            Fix(title="Give the planner better statistics", statements=statements, safety="safe") if statements
            else None,
        )  # fmt: skip


SEQ_FILTER = _spec(3, "seq-scan-discards-rows", Severity.HIGH,
                   "A sequential scan of a big table throws away most of the rows it reads.")  # fmt: skip


MAX_PARTITION_STATEMENTS = 200  # ours: past this many partitions the fix lists the first ones and says so
_NO_SCHEMA_NOTE = (
    "The plan names no schema (EXPLAIN without VERBOSE): qualify the table with its schema if it is not on the "
    "search_path."
)


def _index_fix(node: PlanNode, cols: list[str]) -> Fix:
    """CREATE INDEX CONCURRENTLY on the scanned table, or on its partitioned parent when the scan is a partition's."""
    relation = node.relation or ""
    parent = node.extra.get("*Partition Of")  # the PostgreSQL adapter adds it from the catalog
    if isinstance(parent, dict) and isinstance(parent.get("Relation Name"), str):
        return _partitioned_index_fix(node, parent, cols)
    name = quote_ident(index_name(relation, cols), "postgresql")
    notes = ["CONCURRENTLY cannot run inside a transaction block; check the new plan with EXPLAIN afterwards."]
    if node.schema_name is None:
        notes.append(_NO_SCHEMA_NOTE)
    if node.parent_relationship == "Member":
        notes.append(
            f"This scan is one member of an Append: if {relation} is a partition, index its partitioned table "
            "instead (CREATE INDEX ... ON ONLY the parent, CREATE INDEX CONCURRENTLY on each partition, then "
            "ALTER INDEX ... ATTACH PARTITION each), so every partition, present and future, gets the index."
        )
    return Fix(
        title=f"Index {relation} ({', '.join(cols)})",
        statements=[f"CREATE INDEX CONCURRENTLY {name} ON {_table(node)} ({', '.join(cols)});"],
        safety="safe",
        note=" ".join(notes),
    )


def _partitioned_index_fix(node: PlanNode, parent: dict[str, Any], cols: list[str]) -> Fix:
    """Index a partitioned table without blocking writes (CONCURRENTLY is refused on the parent itself).

    The parent's index is created ON ONLY the parent (invalid, no build), each partition's index concurrently, and
    each attached to the parent's; once every partition's is attached the parent's index becomes valid.
    """
    pg = "postgresql"
    schema = parent.get("Schema") if isinstance(parent.get("Schema"), str) else None
    parent_rel = str(parent["Relation Name"])
    parent_index = index_name(parent_rel, cols)
    parent_index_q = qualified(schema, parent_index, pg)
    col_list = ", ".join(cols)
    statements = [f"CREATE INDEX IF NOT EXISTS {quote_ident(parent_index, pg)} ON ONLY "
                  f"{qualified(schema, parent_rel, pg)} ({col_list});"]  # fmt: skip
    notes = [
        f"{node.relation} is a partition of {qualified(schema, parent_rel, pg)}: the index goes on the parent, "
        "so every partition, present and future, has it. CREATE INDEX CONCURRENTLY is refused on a partitioned "
        "table, so each partition's index is built concurrently and attached; the parent's index is valid once all "
        "are attached. Run the statements one by one, outside a transaction block."
    ]
    raw_parts = parent.get("Partitions")
    parts = [p for p in raw_parts if isinstance(p, dict)] if isinstance(raw_parts, list) else []
    for part in parts[:MAX_PARTITION_STATEMENTS]:
        part_schema = part.get("Schema") if isinstance(part.get("Schema"), str) else None
        part_rel = str(part.get("Relation Name"))
        part_index = index_name(part_rel, cols)
        if part.get("Partitioned"):
            statements.append(f"CREATE INDEX IF NOT EXISTS {quote_ident(part_index, pg)} ON ONLY "
                              f"{qualified(part_schema, part_rel, pg)} ({col_list});")  # fmt: skip
            notes.append(
                f"{part_rel} is itself partitioned: build and attach its partitions' indexes the same way before "
                "its index is valid."
            )
        else:
            statements.append(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {quote_ident(part_index, pg)} ON "
                              f"{qualified(part_schema, part_rel, pg)} ({col_list});")  # fmt: skip
        statements.append(f"ALTER INDEX {parent_index_q} ATTACH PARTITION {qualified(part_schema, part_index, pg)};")
    if len(parts) > MAX_PARTITION_STATEMENTS:
        notes.append(
            f"Only the first {MAX_PARTITION_STATEMENTS} of {len(parts)} partitions are listed: repeat the two "
            "statements for each remaining partition."
        )
    if parent.get("Parent Is Partition"):
        notes.append(
            f"{parent_rel} is itself a partition: to index the whole hierarchy, start from its root partitioned "
            "table the same way."
        )
    return Fix(
        title=f"Index {parent_rel} ({col_list}) partition by partition",
        statements=statements,
        safety="safe",
        note=" ".join(notes),
    )


def seq_scan_discards_rows(plan: Plan, ctx: Context) -> Iterator[Finding]:
    """A sequential scan reads a big table to keep a small share of it.

    ## Why is this bad?
    The scan's cost grows with the table while the result does not: reading 300,000 rows to
    return 12 is the textbook case for an index on the filter columns.

    ## Example
    ```text
    Seq Scan on orders  Filter: (customer_id = 4242)  Rows Removed by Filter: 299985
    ```

    ## Use instead
    ```sql
    CREATE INDEX CONCURRENTLY orders_customer_id_idx ON orders (customer_id);
    ```

    ## Fix safety
    Safe: CONCURRENTLY builds without blocking writes; it costs disk space and some write overhead.
    On a partition the index goes on the partitioned parent, which refuses CONCURRENTLY: the fix creates
    it ON ONLY the parent, builds each partition's index concurrently and attaches it.
    """
    for node in _nodes(plan, ctx):
        if node.node_type != "Seq Scan" or not node.filter or not _ran(node) or not node.relation:
            continue
        scanned, removed = _scanned(node)
        if scanned < BIG_SCAN_ROWS or removed / scanned < FILTER_REMOVED_SHARE:
            continue
        cols = [c for c in condition_columns(node.filter)][:3]
        yield _find(
            SEQ_FILTER, node, SEQ_FILTER.severity,
            f"{subject(node)} reads {scanned:.0f} rows to keep {scanned - removed:.0f} "
            f"({100 * removed / scanned:.1f}% discarded)",
            {"rows_scanned": scanned, "rows_removed": removed, "filter": node.filter},
            "A sequential scan's cost grows with the table while the result stays small; an index on the filter "
            "columns reads only the matching rows.",
            f"Index {node.relation} on the filter columns ({', '.join(cols) or 'see Filter'}), equality columns first.",
            _index_fix(node, cols) if cols else None,
        )  # fmt: skip


SORT_SPILL = _spec(4, "sort-spills-to-disk", Severity.MEDIUM, "A sort ran out of work_mem and spilled to disk.")


def sort_spills(plan: Plan, ctx: Context) -> Iterator[Finding]:
    """A sort did not fit in work_mem and used an external merge on disk.

    ## Why is this bad?
    An external merge writes and re-reads the whole input through temporary files, several
    times slower than an in-memory quicksort.

    ## Example
    ```text
    Sort  Sort Method: external merge  Disk: 10328kB
    ```

    ## Use instead
    ```sql
    SET LOCAL work_mem = '21MB';  -- about twice the spilled size, for this transaction only
    ```

    ## Fix safety
    Safe with SET LOCAL; raising work_mem server-wide multiplies by every sort of every connection.
    """
    for node in _nodes(plan, ctx):
        external = (node.sort_method or "").startswith("external") or node.sort_space_type == "Disk"
        if not external:
            continue
        kb = node.sort_space_kb or 0.0
        # A parallel sort's workers spill too (EXPLAIN lists them under "Workers"); size the fix for all.
        for worker in node.extra.get("Workers") or []:
            if isinstance(worker, dict) and worker.get("Sort Space Type") == "Disk":
                kb += float(worker.get("Sort Space Used") or 0.0)
            elif isinstance(worker, dict) and isinstance(worker.get("Detail"), str):
                match = re.search(r"Disk:\s*(\d+)kB", worker["Detail"])
                kb += float(match.group(1)) if match else 0.0
        yield _find(
            SORT_SPILL, node, SORT_SPILL.severity,
            f"{subject(node)} spilled {kb:.0f} kB to disk ({node.sort_method})",
            {"sort_method": node.sort_method, "disk_kb": kb, "sort_key": ", ".join(node.sort_key)},
            "The sort did not fit in work_mem, so it wrote its input to temporary files and merged them back.",
            "Give this query about twice the spilled size of work_mem, or avoid the sort with an index.",
            Fix(title="Raise work_mem for this transaction", statements=[f"SET LOCAL work_mem = '{_mb(2 * kb)}';"],
                safety="safe", note="SET LOCAL lasts until the end of the transaction."),
        )  # fmt: skip


HASH_BATCHES = _spec(5, "hash-batches", Severity.MEDIUM, "A hash table was split into batches on disk.")


def hash_batches(plan: Plan, ctx: Context) -> Iterator[Finding]:
    """A hash join's hash table did not fit in memory and was split into batches.

    ## Why is this bad?
    With more than one batch both join inputs are partly written to temporary files and read
    back, turning an in-memory join into disk I/O.

    ## Example
    ```text
    Hash  Buckets: 2048  Batches: 16  Memory Usage: 78kB
    ```

    ## Use instead
    ```sql
    SET LOCAL work_mem = '4MB';  -- or SET LOCAL hash_mem_multiplier = 4;
    ```

    ## Fix safety
    Safe with SET LOCAL; server-wide it raises the memory every hash of every connection may use.
    """
    for node in _nodes(plan, ctx):
        if not node.hash_batches or node.hash_batches <= 1:
            continue
        need_kb = (node.peak_memory_kb or 64.0) * node.hash_batches * 2
        yield _find(
            HASH_BATCHES, node, HASH_BATCHES.severity,
            f"{subject(node)} used {node.hash_batches} batches (the hash table did not fit in memory)",
            {"hash_batches": node.hash_batches, "original_hash_batches": node.original_hash_batches,
             "peak_memory_kb": node.peak_memory_kb},
            "Each extra batch writes part of both join inputs to temporary files and reads it back.",
            "Raise work_mem (or hash_mem_multiplier) so the hash table fits in one batch.",
            Fix(title="Give the hash more memory for this transaction",
                statements=[f"SET LOCAL work_mem = '{_mb(need_kb)}';"], safety="safe",
                note="Alternatively SET LOCAL hash_mem_multiplier = 4; (hash tables only)."),
        )  # fmt: skip


LOSSY = _spec(6, "lossy-bitmap", Severity.MEDIUM, "A bitmap heap scan went lossy and rechecks whole pages.")


def lossy_bitmap(plan: Plan, ctx: Context) -> Iterator[Finding]:
    """The bitmap did not fit in work_mem, so it kept whole pages instead of rows.

    ## Why is this bad?
    A lossy page holds no row positions: every row on it is read and rechecked against the
    condition, which costs CPU and shows as "Rows Removed by Index Recheck".

    ## Example
    ```text
    Bitmap Heap Scan on orders  Heap Blocks: exact=949 lossy=1038
    ```

    ## Use instead
    ```sql
    SET LOCAL work_mem = '16MB';
    ```

    ## Fix safety
    Safe with SET LOCAL.
    """
    for node in _nodes(plan, ctx):
        if not node.lossy_heap_blocks:
            continue
        yield _find(
            LOSSY, node, LOSSY.severity,
            f"{subject(node)} went lossy on {node.lossy_heap_blocks:.0f} heap blocks",
            {"lossy_heap_blocks": node.lossy_heap_blocks, "exact_heap_blocks": node.exact_heap_blocks,
             "rows_removed_by_index_recheck": node.rows_removed_by_index_recheck},
            "A lossy bitmap remembers pages, not rows, so every row of those pages is rechecked.",
            "Raise work_mem so the bitmap stays exact.",
            Fix(title="Raise work_mem for this transaction", statements=["SET LOCAL work_mem = '16MB';"],
                safety="safe", note="A bitmap needs roughly 64 bytes per heap page it tracks exactly."),
        )  # fmt: skip


HEAP_FETCH = _spec(7, "index-only-heap-fetches", Severity.LOW, "An index-only scan still visits the table heap.")


def heap_fetches(plan: Plan, ctx: Context) -> Iterator[Finding]:
    """An index-only scan had to fetch rows from the table because the visibility map is stale.

    ## Why is this bad?
    Index-only scans skip the table only for pages marked all-visible; after many writes
    without a VACUUM every row costs an extra heap visit, as slow as a plain index scan.

    ## Example
    ```text
    Index Only Scan using events_id_idx on events  Heap Fetches: 19999
    ```

    ## Use instead
    ```sql
    VACUUM (ANALYZE) events;
    ```

    ## Fix safety
    Safe: VACUUM takes no lock that blocks reads or writes; it costs I/O while it runs.
    """
    for node in _nodes(plan, ctx):
        if node.node_type != "Index Only Scan" or not node.heap_fetches or not node.relation:
            continue
        rows = node.total_actual_rows or 0.0
        ratio = node.heap_fetches / rows if rows else 1.0
        sev = Severity.HIGH if ratio > HEAP_FETCH_HIGH else Severity.MEDIUM if ratio > HEAP_FETCH_MEDIUM else (
            Severity.LOW)  # fmt: skip
        yield _find(
            HEAP_FETCH, node, sev,
            f"{subject(node)} fetched {node.heap_fetches:.0f} rows from the heap ({100 * min(ratio, 1):.0f}% of rows)",
            {"heap_fetches": node.heap_fetches, "rows": rows, "ratio": round(ratio, 3)},
            "The visibility map is out of date, so the index-only scan checks the table for most rows.",
            f"VACUUM {node.relation} so its pages are marked all-visible (and tune autovacuum for it).",
            Fix(title=f"Vacuum {node.relation}", statements=[f"VACUUM (ANALYZE) {_table(node)};"], safety="safe"),
        )  # fmt: skip


NESTED_LOOP = _spec(8, "nested-loop-large-outer", Severity.HIGH,
                    "A nested loop repeats a sequential scan for each of many outer rows.")  # fmt: skip


def _inner_scan(node: PlanNode) -> PlanNode | None:
    plain = [c for c in node.children if c.parent_relationship not in ("InitPlan", "SubPlan")]
    if len(plain) < 2:
        return None
    inner = plain[1]
    while inner.node_type in ("Materialize", "Memoize") and inner.children:
        inner = inner.children[0]
    return inner if inner.node_type == "Seq Scan" and inner.relation else None


def nested_loop_large_outer(plan: Plan, ctx: Context) -> Iterator[Finding]:
    """A nested loop whose outer side yields many rows rescans an unindexed inner table each time.

    ## Why is this bad?
    The inner side runs once per outer row: 3,000 outer rows times a 300-row scan is 900,000
    comparisons. An index on the inner join key turns each probe into a lookup.

    ## Example
    ```text
    Nested Loop  Join Filter: ((c.id % 300) = r.code)
      -> Index Only Scan on customers c (rows=3000)
      -> Materialize -> Seq Scan on regions r
    ```

    ## Use instead
    ```sql
    CREATE INDEX CONCURRENTLY regions_code_idx ON regions (code);
    ```

    ## Fix safety
    Safe: CONCURRENTLY builds without blocking writes.
    """
    for node in _nodes(plan, ctx):
        if node.node_type != "Nested Loop" or not _ran(node):
            continue
        plain = [c for c in node.children if c.parent_relationship not in ("InitPlan", "SubPlan")]
        inner = _inner_scan(node)
        if inner is None or not plain:
            continue
        outer_rows = plain[0].total_actual_rows or 0.0
        if outer_rows < NESTED_LOOP_OUTER_ROWS:
            continue
        alias = inner.alias or inner.relation
        cols = condition_columns(node.join_filter, alias) or condition_columns(inner.filter, alias)
        yield _find(
            NESTED_LOOP, node, NESTED_LOOP.severity,
            f"{subject(node)} scans {inner.relation} for each of {outer_rows:.0f} outer rows",
            {"outer_rows": outer_rows, "inner": subject(inner), "join_filter": node.join_filter,
             "rows_removed_by_join_filter": node.rows_removed_by_join_filter},
            "The inner side of a nested loop runs once per outer row; without an index on the join key each "
            "run is a full scan.",
            f"Index {inner.relation} on the join key ({', '.join(cols) or 'see Join Filter'}).",
            _index_fix(inner, cols[:2]) if cols else None,
        )  # fmt: skip


INDEX_FILTER = _spec(9, "index-scan-filter-discards", Severity.MEDIUM,
                     "An index scan's filter discards most of the rows the index returned.")  # fmt: skip


def index_filter_discards(plan: Plan, ctx: Context) -> Iterator[Finding]:
    """The index finds rows that a Filter then throws away: the index covers too few columns.

    ## Why is this bad?
    Every row the index returns costs a heap visit; when 90% are then filtered out, most of
    that I/O is wasted. An index that also holds the filter columns returns only matches.

    ## Example
    ```text
    Index Scan using orders_created_idx on orders  Index Cond: (created >= ...)
      Filter: (customer_id = 5)  Rows Removed by Filter: 12200
    ```

    ## Use instead
    ```sql
    CREATE INDEX CONCURRENTLY orders_customer_id_created_idx ON orders (customer_id, created);
    ```

    ## Fix safety
    Safe: CONCURRENTLY; the old index may become redundant afterwards (check before dropping).
    """
    for node in _nodes(plan, ctx):
        if node.node_type not in ("Index Scan", "Index Only Scan") or not node.filter or not node.relation:
            continue
        scanned, removed = _scanned(node)
        if scanned < INDEX_FILTER_MIN_ROWS or removed / scanned < FILTER_REMOVED_SHARE:
            continue
        filter_cols = condition_columns(node.filter)
        cond_cols = condition_columns(node.index_cond)
        eq = [c for c in filter_cols if re.search(rf"\b{re.escape(c)}\)?\s*=\s", node.filter)]
        cols = list(dict.fromkeys(eq + cond_cols + filter_cols))[:4]
        yield _find(
            INDEX_FILTER, node, INDEX_FILTER.severity,
            f"{subject(node)} discards {100 * removed / scanned:.1f}% of the rows its index returns",
            {"rows_scanned": scanned, "rows_removed": removed, "index": node.index_name, "filter": node.filter},
            "Each row the index returns costs a heap visit; most are then thrown away by the filter.",
            f"Index {node.relation} on ({', '.join(cols)}): equality columns first, then the range.",
            _index_fix(node, cols) if cols else None,
        )  # fmt: skip


OFFSET = _spec(10, "large-offset", Severity.MEDIUM, "A LIMIT reads and discards a large OFFSET.", "sometimes")
_OFFSET_SQL = re.compile(r"\bOFFSET\s+(\d+)", re.IGNORECASE)


def large_offset(plan: Plan, ctx: Context) -> Iterator[Finding]:
    """OFFSET pagination reads every skipped row and throws it away.

    ## Why is this bad?
    Page 5,000 of a listing reads 100,000 rows to return 20; the deeper the page, the slower,
    and rows shift between pages while users browse.

    ## Example
    ```sql
    SELECT * FROM orders ORDER BY id OFFSET 100000 LIMIT 20;
    ```

    ## Use instead
    ```sql
    SELECT * FROM orders WHERE id > $last_seen_id ORDER BY id LIMIT 20;  -- keyset pagination
    ```

    ## Fix safety
    Display-only: the application must pass the last key of the previous page.
    """
    sql = ctx.get("sql")
    sql_offset = None
    if isinstance(sql, str):
        m = _OFFSET_SQL.search(sql)
        sql_offset = int(m.group(1)) if m else None
    for node in _nodes(plan, ctx):
        if node.node_type != "Limit" or not node.children:
            continue
        outer = [c for c in node.children if c.parent_relationship not in ("InitPlan", "SubPlan")]
        if not outer:
            continue
        child = outer[0]  # the rows the Limit reads; a CTE or InitPlan listed before it is not its input
        skipped = None
        if child.total_actual_rows is not None and node.total_actual_rows is not None:
            skipped = child.total_actual_rows - node.total_actual_rows
        if sql_offset is not None and (skipped is None or sql_offset > skipped):
            skipped = float(sql_offset)
        if skipped is None or skipped < LARGE_OFFSET_ROWS:
            continue
        keys = ", ".join(child.sort_key) or "the ORDER BY columns"
        yield _find(
            OFFSET, node, OFFSET.severity,
            f"{subject(node)} reads and discards {skipped:.0f} rows before the page it returns",
            {"rows_skipped": skipped, "rows_returned": node.total_actual_rows},
            "OFFSET still produces every skipped row; the cost grows with the page number.",
            f"Use keyset pagination: WHERE ({keys}) > (last row's values) ORDER BY {keys} LIMIT n.",
            Fix(title="Switch to keyset pagination",
                statements=[f"-- WHERE ({keys}) > ($1) ORDER BY {keys} LIMIT $2"], safety="display-only",
                note="The client keeps the last row's sort key instead of a page number."),
        )  # fmt: skip


CTE_BARRIER = _spec(11, "cte-materialized-filter", Severity.MEDIUM,
                    "A materialized CTE is computed in full and then mostly filtered away.")  # fmt: skip


def cte_barrier(plan: Plan, ctx: Context) -> Iterator[Finding]:
    """A CTE Scan filters out most rows of a CTE the planner had to materialize in full.

    ## Why is this bad?
    A materialized CTE is an optimisation fence: the outer WHERE cannot be pushed into it, so
    the whole CTE result is built (often written to a temp file) and then filtered.

    ## Example
    ```sql
    WITH recent AS MATERIALIZED (SELECT * FROM orders WHERE created > '2020-03-01')
    SELECT * FROM recent WHERE customer_id = 77;
    ```

    ## Use instead
    ```sql
    WITH recent AS NOT MATERIALIZED (SELECT * FROM orders WHERE created > '2020-03-01')
    SELECT * FROM recent WHERE customer_id = 77;
    ```

    ## Fix safety
    Display-only: inlining changes how often a volatile function in the CTE runs.
    """
    for node in _nodes(plan, ctx):
        if node.node_type != "CTE Scan" or not node.filter:
            continue
        scanned, removed = _scanned(node)
        if scanned < BIG_SCAN_ROWS or removed / scanned < FILTER_REMOVED_SHARE:
            continue
        yield _find(
            CTE_BARRIER, node, CTE_BARRIER.severity,
            f"{subject(node)} keeps {scanned - removed:.0f} of {scanned:.0f} materialized CTE rows",
            {"rows_scanned": scanned, "rows_removed": removed, "filter": node.filter, "cte": node.cte_name},
            "The CTE is built in full before the outer filter applies; inlined, the filter would reach the table "
            "(and its indexes).",
            f"Write the CTE as {node.cte_name} AS NOT MATERIALIZED (...) or inline it as a subquery.",
            Fix(title="Let the planner inline the CTE",
                statements=[f"-- WITH {node.cte_name} AS NOT MATERIALIZED (...)"], safety="display-only"),
        )  # fmt: skip


JIT = _spec(12, "jit-overhead", Severity.MEDIUM, "JIT compilation takes more than 10% of the execution time.")


def jit_overhead(plan: Plan, ctx: Context) -> Iterator[Finding]:
    """JIT compilation cost more than it could save on this query.

    ## Why is this bad?
    JIT pays off for long analytical queries; on short ones compiling (and optimizing, inlining)
    the expressions can take longer than running them interpreted.

    ## Example
    ```text
    JIT: Functions: 8  Timing: ... Total 80.1 ms   Execution Time: 96.5 ms
    ```

    ## Use instead
    ```sql
    SET LOCAL jit = off;  -- or raise jit_above_cost server-wide
    ```

    ## Fix safety
    Safe: JIT only changes speed, never results.
    """
    if plan.jit_ms is None or not plan.execution_ms or plan.jit_ms <= JIT_SHARE * plan.execution_ms:
        return
    share = plan.jit_ms / plan.execution_ms
    yield _find(
        JIT, plan.root, Severity.HIGH if share > 0.5 else JIT.severity,
        f"JIT took {plan.jit_ms:.1f} ms of {plan.execution_ms:.1f} ms execution ({100 * share:.0f}%)",
        {"jit_ms": plan.jit_ms, "execution_ms": plan.execution_ms, "jit_functions": plan.jit_functions},
        "Compiling the query's expressions took a large share of its runtime; this query is too short to gain.",
        "Turn JIT off for such queries, or raise jit_above_cost so only long queries are compiled.",
        Fix(title="Disable JIT for this transaction", statements=["SET LOCAL jit = off;"], safety="safe",
            note="Server-wide: ALTER SYSTEM SET jit_above_cost = 500000; SELECT pg_reload_conf();"),
    )  # fmt: skip


PLANNING = _spec(13, "planning-slower-than-execution", Severity.LOW,
                 "Planning the query takes longer than running it.", "sometimes")  # fmt: skip


def planning_slow(plan: Plan, ctx: Context) -> Iterator[Finding]:
    """The planner spends more time choosing a plan than the executor spends running it.

    ## Why is this bad?
    Repeated often, such a query pays the planning cost every time. Many joins (views over
    views), many partitions or many indexes make planning expensive.

    ## Example
    ```text
    Planning Time: 6.976 ms
    Execution Time: 0.326 ms
    ```

    ## Use instead
    Use prepared statements (plan caching), prune partitions early, or simplify the view stack.

    ## Fix safety
    Display-only: prepared statements change how the client sends the query.
    """
    if plan.planning_ms is None or plan.execution_ms is None:
        return
    if plan.planning_ms <= plan.execution_ms or plan.planning_ms < PLANNING_MIN_MS:
        return
    yield _find(
        PLANNING, plan.root, PLANNING.severity,
        f"Planning took {plan.planning_ms:.1f} ms, longer than the {plan.execution_ms:.1f} ms execution",
        {"planning_ms": plan.planning_ms, "execution_ms": plan.execution_ms},
        "Each run pays the planning cost again; for a frequent query it dominates.",
        "Use prepared statements so the plan is cached, or simplify the query (fewer joins, views, partitions).",
        Fix(title="Prepare the statement", statements=["-- PREPARE q AS <query>; EXECUTE q(...);"],
            safety="display-only"),
    )  # fmt: skip


WORKERS = _spec(14, "workers-not-launched", Severity.MEDIUM,
                "Fewer parallel workers were launched than planned.", "sometimes")  # fmt: skip


def workers_not_launched(plan: Plan, ctx: Context) -> Iterator[Finding]:
    """A Gather planned parallel workers but got fewer: the pool was exhausted.

    ## Why is this bad?
    The plan was costed assuming the work would be split; with fewer workers the leader does
    more of it alone and the query runs slower than the planner expected.

    ## Example
    ```text
    Gather  Workers Planned: 2  Workers Launched: 0
    ```

    ## Use instead
    ```sql
    ALTER SYSTEM SET max_parallel_workers = 8;  -- and max_worker_processes (restart)
    ```

    ## Fix safety
    Unsafe: more workers use more CPU and memory; max_worker_processes needs a restart.
    """
    for node in _nodes(plan, ctx):
        if node.workers_planned is None or node.workers_launched is None:
            continue
        if node.workers_launched >= node.workers_planned:
            continue
        yield _find(
            WORKERS, node, WORKERS.severity,
            f"{subject(node)} launched {node.workers_launched} of {node.workers_planned} planned workers",
            {"workers_planned": node.workers_planned, "workers_launched": node.workers_launched},
            "No background worker was free (max_parallel_workers / max_worker_processes reached), so the leader "
            "did the planned parallel work with fewer helpers.",
            "Raise max_parallel_workers (and max_worker_processes), or lower concurrency of parallel queries.",
            Fix(title="Allow more parallel workers",
                statements=["ALTER SYSTEM SET max_parallel_workers = 8;", "SELECT pg_reload_conf();"],
                safety="unsafe", note="max_worker_processes also bounds it and needs a restart."),
        )  # fmt: skip


RULES: tuple[tuple[RuleSpec, PlanRule], ...] = (
    (SLOW, slow_node),
    (MISESTIMATE, row_misestimate),
    (SEQ_FILTER, seq_scan_discards_rows),
    (SORT_SPILL, sort_spills),
    (HASH_BATCHES, hash_batches),
    (LOSSY, lossy_bitmap),
    (HEAP_FETCH, heap_fetches),
    (NESTED_LOOP, nested_loop_large_outer),
    (INDEX_FILTER, index_filter_discards),
    (OFFSET, large_offset),
    (CTE_BARRIER, cte_barrier),
    (JIT, jit_overhead),
    (PLANNING, planning_slow),
    (WORKERS, workers_not_launched),
)
