"""Derived plan metrics, computed once, the way pev2 (dalibo/pev2 src/services/plan-service.ts) does.

- inclusive_ms = actual_total_ms x loops / (workers launched by the nearest Gather ancestor + 1)
- exclusive_ms = inclusive_ms - sum(children's inclusive_ms), InitPlan children not subtracted
  (except under a Result node) and CTE InitPlans never; then CTE Scans lose their share of the
  CTE's time and nodes that read an InitPlan's result lose that InitPlan's time.
- exclusive_cost = total_cost - sum(children's total_cost), floored at 0
- estimate_factor = max(actual/planned, planned/actual) on per-loop rows; total_actual_rows = rows x loops.
- rows_cut_short_by (ours, PostgreSQL): a node whose consumer stopped early, so its actual rows are a lower
  bound. A Limit that returned all it was asked for (actual rows >= its estimate) stops its input early, and so
  does the inner side of a semi or anti nested loop / merge join (one match per outer row). The cut passes down
  through streaming nodes and stops at nodes that read all their input first (Sort, Hash, HashAggregate,
  plain Aggregate, HashSetOp): those nodes' output is cut, their input is not. InitPlans and SubPlans are
  separate executions and are never cut by the node that runs them.

One deliberate difference: pev2 can leave a negative exclusive time after the InitPlan correction;
we floor it at 0 (a negative duration explains nothing). Nodes without actuals keep None. Pure: the
input plan is never mutated (a deep copy is annotated and returned).
"""

from __future__ import annotations

import re

from dbspecialist.knowledge.plans.model import Plan, PlanNode

_INITPLAN_NAME = re.compile(r"(InitPlan\s+[1-9]+)(?:\s+\(returns (\$[0-9]+)\))*")


def iter_nodes(root: PlanNode) -> list[PlanNode]:
    """All nodes in pre-order, without recursion (PlanNode.walk nests one generator per level)."""
    out: list[PlanNode] = []
    stack = [root]
    while stack:
        node = stack.pop()
        out.append(node)
        stack.extend(reversed(node.children))
    return out


def _is_cte(node: PlanNode) -> bool:
    return node.parent_relationship == "InitPlan" and (node.subplan_name or "").startswith("CTE")


def annotate(plan: Plan) -> Plan:
    """Return a copy of `plan` with node_id (pre-order, from 1) and the derived fields set."""
    return annotate_owned(plan.model_copy(update={"root": _copy(plan.root)}))


def annotate_owned(out: Plan) -> Plan:
    """Annotate in place a plan nobody else holds (a fresh parse); `annotate` is the copying form."""
    counter = [1]
    _process(out.root, None, counter)
    nodes = iter_nodes(out.root)
    if out.analyzed:
        _fix_cte_scans(nodes)
        _fix_initplan_users(nodes)
    total = out.execution_ms
    if total is None or total <= 0:
        total = out.root.inclusive_ms
    for node in nodes:
        if node.exclusive_ms is not None and total:
            node.__dict__["exclusive_pct"] = 100.0 * node.exclusive_ms / total
    return out


def _copy(node: PlanNode) -> PlanNode:
    """A copy of the tree's nodes (their raw lists and dicts are shared: annotate never writes to them)."""
    return node.model_copy(update={"children": [_copy(c) for c in node.children]})


def _process(node: PlanNode, workers_by_gather: int | None, counter: list[int], cut_by: str | None = None) -> None:
    node.__dict__["node_id"] = counter[0]
    counter[0] += 1
    _estimate(node)
    if cut_by is not None and node.node_type != "Hash":  # a Hash reports the rows it read, all of them
        node.__dict__["rows_cut_short_by"] = cut_by
    regular_index = 0
    for child in node.children:
        regular = not _is_cte(child) and child.parent_relationship not in ("InitPlan", "SubPlan")
        child_workers = (node.workers_launched or workers_by_gather) if regular else None
        child_cut = _child_cut(node, child, regular_index, cut_by) if regular else None
        regular_index += regular
        _process(child, child_workers, counter, child_cut)
    _actuals(node, workers_by_gather)


def _reads_all_input(node: PlanNode) -> bool:
    """Nodes that consume their whole input before returning a row: a cut above them does not reach below."""
    if node.node_type in ("Sort", "Hash"):
        return True
    if node.node_type in ("Aggregate", "SetOp"):
        return node.extra.get("Strategy") in (None, "Plain", "Hashed", "Mixed")
    return False


def _child_cut(node: PlanNode, child: PlanNode, index: int, cut_by: str | None) -> str | None:
    """Why `child` (the index-th regular child of `node`) may have stopped before producing all its rows."""
    if node.node_type in ("Nested Loop", "Merge Join") and node.join_type in ("Semi", "Anti") and index == 1:
        return f"{node.node_type} {node.join_type} Join"  # the inner side stops at the first match
    limit_full = node.actual_rows is not None and node.plan_rows is not None and node.actual_rows >= node.plan_rows > 0
    if node.node_type == "Limit" and limit_full:  # it returned every row it was asked for: its input was not drained
        return "Limit"
    if cut_by is None or _reads_all_input(node):
        return None
    if node.node_type == "Nested Loop" and index == 1 and (child.actual_loops or 0) > 1:
        return None  # each inner scan ran to its end; at most the last one was cut
    return cut_by


def _estimate(node: PlanNode) -> None:
    actual, planned = node.actual_rows, node.plan_rows
    if actual is None or planned is None:
        return
    d = node.__dict__  # derived fields are written straight into the copy: pydantic's setattr is slow at 5,000 nodes
    if actual > planned:
        d["estimate_direction"] = "under"
        d["estimate_factor"] = actual / planned if planned > 0 else actual
    elif actual < planned:
        d["estimate_direction"] = "over"
        d["estimate_factor"] = planned / actual if actual > 0 else planned  # pev2 gives Infinity for 0 rows
    else:
        d["estimate_factor"] = 1.0


def _actuals(node: PlanNode, workers_by_gather: int | None) -> None:
    d = node.__dict__
    if node.actual_total_ms is not None:
        workers = (workers_by_gather or 0) + 1
        loops = node.actual_loops if node.actual_loops is not None else 1.0
        inclusive = node.actual_total_ms * loops / workers
        d["inclusive_ms"] = inclusive
        children = 0.0
        for child in node.children:
            if _is_cte(child):
                continue  # pev2 moves CTEs out of the tree before subtracting
            if child.parent_relationship != "InitPlan" or node.node_type == "Result":
                children += child.inclusive_ms or 0.0
        d["exclusive_ms"] = max(inclusive - children, 0.0)
    if node.total_cost is not None:
        cost = node.total_cost
        for child in node.children:
            if _is_cte(child):
                continue
            if child.total_cost:
                cost -= child.total_cost
        d["exclusive_cost"] = max(cost, 0.0)
    if node.actual_rows is not None:
        loops = node.actual_loops or 1.0
        d["total_actual_rows"] = node.actual_rows * loops


def _fix_cte_scans(nodes: list[PlanNode]) -> None:
    for cte in (n for n in nodes if _is_cte(n)):
        cte_ms = cte.inclusive_ms or 0.0
        scans = [n for n in nodes if n.cte_name is not None and f"CTE {n.cte_name}" == cte.subplan_name]
        total = sum(n.exclusive_ms or 0.0 for n in scans)
        for scan in scans:
            if scan.exclusive_ms is None:
                continue
            if total <= 0:
                scan.exclusive_ms = 0.0
                continue
            scan.exclusive_ms = max(0.0, scan.exclusive_ms - cte_ms * (scan.inclusive_ms or 0.0) / total)


def _strings(node: PlanNode) -> list[str]:
    values = [
        node.node_type, node.relation, node.alias, node.index_name, node.filter, node.index_cond,
        node.recheck_cond, node.join_filter, node.hash_cond, node.merge_cond, node.subplan_name, node.detail,
    ]  # fmt: skip
    values += [v for v in node.extra.values() if isinstance(v, str)]
    return [v for v in values if v]


def _fix_initplan_users(nodes: list[PlanNode]) -> None:
    for init in (n for n in nodes if n.parent_relationship == "InitPlan"):
        match = _INITPLAN_NAME.search(init.subplan_name or "")
        if match is None:
            continue
        name = match.group(2) or match.group(1)
        for node in nodes:
            if node.parent_relationship == "InitPlan" or not node.exclusive_ms:
                continue
            if any(name in value for value in _strings(node)):
                node.exclusive_ms = max(0.0, node.exclusive_ms - (init.inclusive_ms or 0.0))
