"""SCH012 cascade-delete-chain: ON DELETE CASCADE that reaches deep (≥ 3 levels) or wide (≥ 4 child tables)."""

from __future__ import annotations

from collections.abc import Iterator

from dbspecialist.adapters.catalog import Table
from dbspecialist.knowledge.findings import Finding, RuleSpec, Severity
from dbspecialist.knowledge.schema.context import SchemaContext
from dbspecialist.knowledge.schema.rules.foreign_key_without_index import referenced_table
from dbspecialist.knowledge.sql_text import qualified

SPEC = RuleSpec(
    id="SCH012",
    name="cascade-delete-chain",
    capability="schema",
    engines=("postgresql", "mysql", "sqlite", "tsql"),
    severity=Severity.MEDIUM,
    fix="never",
    summary="A delete cascades through three or more levels of tables, or into four or more child tables.",
)

# Our own judgement: beyond these a single DELETE touches more of the schema than anyone reviewing it expects.
CASCADE_DEPTH_WARN = 3
CASCADE_FAN_OUT_WARN = 4
# A cascade that reaches this many tables is a high-severity finding.
CASCADE_REACH_HIGH = 10

_Key = tuple[str, str]


def _key(table: Table) -> _Key:
    return (table.schema_name or "", table.name)


def _longest_chains(children: dict[_Key, set[_Key]]) -> dict[_Key, list[_Key]]:
    """For every table the longest cascade path starting at it (iterative DFS; edges back into the path are cut)."""
    longest: dict[_Key, list[_Key]] = {}
    state: dict[_Key, int] = {}  # 1 = on the current path, 2 = done
    for root in sorted(children):
        if root in state:
            continue
        state[root] = 1
        stack: list[tuple[_Key, Iterator[_Key]]] = [(root, iter(sorted(children[root])))]
        while stack:
            node, pending = stack[-1]
            child = next((c for c in pending if c not in state), None)
            if child is not None:
                state[child] = 1
                stack.append((child, iter(sorted(children[child]))))
                continue
            best: list[_Key] = []
            for done in sorted(children[node]):
                if state.get(done) == 2 and len(longest[done]) > len(best):
                    best = longest[done]
            longest[node] = [node, *best]
            state[node] = 2
            stack.pop()
    return longest


def check(ctx: SchemaContext) -> Iterator[Finding]:
    """One DELETE on a root row that silently removes rows across many tables.

    ## Why is this bad?
    Each ON DELETE CASCADE is reasonable on its own; chained, a delete of one customer walks
    through orders, order items, shipments and invoices in a single transaction. It holds row
    locks on all of them, can run for minutes, and makes an accidental delete unrecoverable
    without a restore. Wide fan-out has the same effect in breadth. The chain is reported once,
    at its root; a table that is itself the source of wide fan-out is reported too.

    ## Example
    ```sql
    CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint REFERENCES customers ON DELETE CASCADE);
    CREATE TABLE order_items (id bigint PRIMARY KEY, order_id bigint REFERENCES orders ON DELETE CASCADE);
    CREATE TABLE item_notes (id bigint PRIMARY KEY, item_id bigint REFERENCES order_items ON DELETE CASCADE);
    ```

    ## Use instead
    ```sql
    -- keep CASCADE for true parts of one aggregate; RESTRICT across aggregates
    CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint REFERENCES customers ON DELETE RESTRICT);
    ```

    ## Fix safety
    No automatic fix: which links should cascade is a design decision. Deleting children
    explicitly in batches, or soft-deleting the root, keeps each transaction small.
    """
    tables = {_key(t): t for t in ctx.tables() if t.kind != "collection"}
    children: dict[_Key, set[_Key]] = {k: set() for k in tables}
    has_parent: set[_Key] = set()
    for key, table in tables.items():
        for fk in table.foreign_keys:
            if fk.on_delete != "cascade":
                continue
            parent = referenced_table(ctx, table, fk)
            if parent is None or _key(parent) not in tables or _key(parent) == key:
                continue  # self-references (trees) are not chains across tables
            children[_key(parent)].add(key)
            has_parent.add(key)

    longest = _longest_chains(children)

    def reach(node: _Key) -> set[_Key]:
        seen: set[_Key] = set()
        stack = [node]
        while stack:
            for child in children[stack.pop()]:
                if child not in seen and child != node:
                    seen.add(child)
                    stack.append(child)
        return seen

    for key in sorted(tables):
        fan_out = len(children[key])
        if not fan_out:
            continue
        path = longest[key]
        depth = len(path) - 1
        deep_root = depth >= CASCADE_DEPTH_WARN and key not in has_parent
        if not deep_root and fan_out < CASCADE_FAN_OUT_WARN:
            continue
        table = tables[key]
        reached = reach(key)
        name = qualified(table.schema_name, table.name, ctx.engine)
        rows = [r for r in (tables[k].row_estimate for k in reached) if r is not None]
        yield Finding(
            rule_id=SPEC.id,
            name=SPEC.name,
            severity=Severity.HIGH if len(reached) >= CASCADE_REACH_HIGH else SPEC.severity,
            title=f"Deleting a row of {table.name} reaches {len(reached)} tables (depth {depth}, fan-out {fan_out})",
            subject=name,
            subject_kind="table",
            table=table.name,
            evidence={
                "depth": depth,
                "fan_out": fan_out,
                "tables_reached": len(reached),
                "chain": " → ".join(k[1] for k in path),
                "rows_reached": sum(rows) if rows else None,
            },
            rationale=(
                f"A single delete on {table.name} removes rows in {len(reached)} other tables inside one "
                "transaction, locking all of them. Deep or wide cascades turn routine deletes into long, "
                "unreviewable operations and mistakes into data loss."
            ),
            help="Keep CASCADE inside one aggregate; use RESTRICT (or soft delete) across aggregates.",
            fix=None,
            line=table.source_line,
        )
