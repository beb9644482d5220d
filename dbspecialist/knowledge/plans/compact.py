"""The compact tree the assistant reads: one line per node, not the whole plan again."""

from __future__ import annotations

from dbspecialist.knowledge.plans.model import CompactNode, Plan, PlanNode

MAX_NODES = 200


def _fmt(value: float) -> str:
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.1f}" if abs(value) >= 10 else f"{value:.2f}"


def _name(node: PlanNode, engine: str) -> str:
    if engine == "postgresql":
        from dbspecialist.knowledge.plans.postgres_parse import display_name

        name = display_name(node)
    else:
        name = node.node_type
    if node.index_name and node.node_type != "Bitmap Index Scan":
        name += f" using {node.index_name}"
    target = node.relation or node.cte_name
    if node.node_type == "Bitmap Index Scan" and node.index_name:
        target = node.index_name
    if target:
        name += f" on {target}"
        if node.alias and node.alias != target:
            name += f" {node.alias}"
    if node.subplan_name:
        name = f"[{node.subplan_name}] {name}"
    return name


def _line(node: PlanNode, engine: str) -> str:
    parts: list[str] = []
    if node.total_cost is not None:
        parts.append(f"cost {_fmt(node.startup_cost or 0.0)}..{_fmt(node.total_cost)}")
    if node.plan_rows is not None and node.actual_rows is not None:
        loops = f" x{_fmt(node.actual_loops)} loops" if node.actual_loops and node.actual_loops > 1 else ""
        parts.append(f"rows est {_fmt(node.plan_rows)} → actual {_fmt(node.actual_rows)}{loops}")
        if node.rows_cut_short_by and node.actual_rows < node.plan_rows:
            parts.append(f"stopped early by {node.rows_cut_short_by}")
    elif node.plan_rows is not None:
        parts.append(f"rows est {_fmt(node.plan_rows)}")
    elif node.actual_rows is not None:
        parts.append(f"rows {_fmt(node.actual_rows)}")
    if node.actual_loops == 0:
        parts.append("never executed")
    elif node.exclusive_pct is not None and node.exclusive_ms is not None:
        parts.append(f"{node.exclusive_pct:.0f}% time, {node.exclusive_ms:.1f} ms")
    if node.rows_removed_by_filter:
        parts.append(f"removed by filter {_fmt(node.rows_removed_by_filter)}")
    if node.sort_space_type == "Disk" and node.sort_space_kb is not None:
        parts.append(f"sort spilled {_fmt(node.sort_space_kb)} kB")
    if node.hash_batches and node.hash_batches > 1:
        parts.append(f"{node.hash_batches} batches")
    if node.lossy_heap_blocks:
        parts.append(f"lossy blocks {_fmt(node.lossy_heap_blocks)}")
    if node.heap_fetches:
        parts.append(f"heap fetches {_fmt(node.heap_fetches)}")
    if node.detail and engine != "postgresql":
        parts.append(node.detail[:120])
    text = _name(node, engine)
    return f"{text} ({'; '.join(parts)})" if parts else text


def compact_tree(plan: Plan, max_nodes: int = MAX_NODES) -> list[CompactNode]:
    """One line per node in pre-order, with its depth; past `max_nodes` a single '… N more nodes' line."""
    out: list[CompactNode] = []
    stack: list[tuple[PlanNode, int]] = [(plan.root, 0)]
    total = 0
    fallback_id = 0
    while stack:
        node, depth = stack.pop()
        total += 1
        fallback_id += 1
        if len(out) < max_nodes:
            out.append(CompactNode(id=node.node_id or fallback_id, depth=depth, line=_line(node, plan.engine)))
        stack.extend((child, depth + 1) for child in reversed(node.children))
    if total > max_nodes:
        out.append(CompactNode(id=0, depth=0, line=f"… {total - max_nodes} more nodes"))
    return out
