"""PostgreSQL EXPLAIN output (JSON or text, as psql prints it) normalised into one `Plan`.

Both formats give the same tree: `node_type` is PostgreSQL's JSON "Node Type" ("Seq Scan",
"Aggregate", "Hash Join"); what the text form folds into the node's title (Parallel, Partial
Mode, aggregate strategy, join type, scan direction) lands in `join_type` and `extra`, and
`display_name` rebuilds the title. Pure: no I/O, the input is never mutated.
"""

from __future__ import annotations

import json
import re
from typing import Any

from dbspecialist.knowledge.plans.model import Plan, PlanNode

ACCEPTED = (
    "PostgreSQL EXPLAIN output: JSON (EXPLAIN (FORMAT JSON[, ANALYZE, BUFFERS])) as a list, object or string, "
    "or the text form as psql prints it (with or without the QUERY PLAN frame)"
)

# PostgreSQL's node types (JSON "Node Type"), to accept COSTS OFF text without mistaking other text for a plan
PG_NODE_TYPES = frozenset({
    "Result", "ProjectSet", "ModifyTable", "Append", "Merge Append", "Recursive Union", "BitmapAnd", "BitmapOr",
    "Nested Loop", "Merge Join", "Hash Join", "Seq Scan", "Sample Scan", "Gather", "Gather Merge", "Index Scan",
    "Index Only Scan", "Bitmap Index Scan", "Bitmap Heap Scan", "Tid Scan", "Tid Range Scan", "Subquery Scan",
    "Function Scan", "Table Function Scan", "Values Scan", "CTE Scan", "Named Tuplestore Scan", "WorkTable Scan",
    "Foreign Scan", "Custom Scan", "Materialize", "Memoize", "Sort", "Incremental Sort", "Group", "Aggregate",
    "WindowAgg", "Unique", "SetOp", "LockRows", "Limit", "Hash",
})  # fmt: skip

# JSON key -> PlanNode field, for the keys whose meaning the model names
_FIELDS: dict[str, str] = {
    "Node Type": "node_type",
    "Relation Name": "relation",
    "Schema": "schema_name",
    "Alias": "alias",
    "Index Name": "index_name",
    "Parent Relationship": "parent_relationship",
    "Subplan Name": "subplan_name",
    "CTE Name": "cte_name",
    "Join Type": "join_type",
    "Startup Cost": "startup_cost",
    "Total Cost": "total_cost",
    "Plan Rows": "plan_rows",
    "Plan Width": "plan_width",
    "Actual Startup Time": "actual_startup_ms",
    "Actual Total Time": "actual_total_ms",
    "Actual Rows": "actual_rows",
    "Actual Loops": "actual_loops",
    "Rows Removed by Filter": "rows_removed_by_filter",
    "Rows Removed by Join Filter": "rows_removed_by_join_filter",
    "Rows Removed by Index Recheck": "rows_removed_by_index_recheck",
    "Heap Fetches": "heap_fetches",
    "Filter": "filter",
    "Index Cond": "index_cond",
    "Recheck Cond": "recheck_cond",
    "Join Filter": "join_filter",
    "Hash Cond": "hash_cond",
    "Merge Cond": "merge_cond",
    "Sort Key": "sort_key",
    "Group Key": "group_key",
    "Sort Method": "sort_method",
    "Sort Space Used": "sort_space_kb",
    "Sort Space Type": "sort_space_type",
    "Hash Batches": "hash_batches",
    "Original Hash Batches": "original_hash_batches",
    "Peak Memory Usage": "peak_memory_kb",
    "Exact Heap Blocks": "exact_heap_blocks",
    "Lossy Heap Blocks": "lossy_heap_blocks",
    "Workers Planned": "workers_planned",
    "Workers Launched": "workers_launched",
}
_INT_FIELDS = {"plan_width", "hash_batches", "original_hash_batches", "workers_planned", "workers_launched"}
_LIST_FIELDS = {"sort_key", "group_key"}
_STR_FIELDS = {
    "node_type", "relation", "schema_name", "alias", "index_name", "parent_relationship", "subplan_name",
    "cte_name", "join_type", "filter", "index_cond", "recheck_cond", "join_filter", "hash_cond", "merge_cond",
    "sort_method", "sort_space_type",
}  # fmt: skip
_BUFFER_KEYS = {
    f"{loc} {kind} Blocks": f"{loc.lower()}_{kind.lower()}"
    for loc in ("Shared", "Local", "Temp")
    for kind in ("Hit", "Read", "Dirtied", "Written")
}
_SKIP_KEYS = {"Plans", "Workers"}


def parse_postgres_plan(text_or_json: str | dict[str, Any] | list[Any]) -> Plan:
    """Parse PostgreSQL EXPLAIN output; raises ValueError (naming the accepted formats) when it is not one."""
    data: Any = text_or_json
    if isinstance(data, str):
        if data.lstrip()[:1] in ("[", "{"):
            try:
                return _from_json(_plan_content(json.loads(data)), "json")
            except (ValueError, RecursionError):
                pass
        cleaned = _cleanup(data)
        stripped = cleaned.strip()
        if stripped[:1] in ("[", "{"):
            data = _loads(stripped)
        else:
            return _parse_text(cleaned)
    content = _plan_content(data)
    return _from_json(content, "json")


# --------------------------------------------------------------------------------------------- JSON


def _loads(text: str) -> Any:
    for candidate in (text, text.replace('""', '"')):  # pgAdmin doubles the quotes
        try:
            return json.loads(candidate)
        except (ValueError, RecursionError):
            continue
    raise ValueError(f"Not a plan: the JSON does not parse. Accepted: {ACCEPTED}.")


def _plan_content(data: Any) -> dict[str, Any]:
    if isinstance(data, dict) and "QUERY PLAN" in data:
        data = data["QUERY PLAN"]
    if isinstance(data, list) and data:
        data = data[0]
    if isinstance(data, dict) and "QUERY PLAN" in data:
        return _plan_content(data["QUERY PLAN"])
    if isinstance(data, dict) and isinstance(data.get("Plan"), dict):
        return data
    if isinstance(data, dict) and isinstance(data.get("Node Type"), str):
        return {"Plan": data}
    raise ValueError(f"Not a PostgreSQL plan: no 'Plan' object found. Accepted: {ACCEPTED}.")


def _num(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _node_from_json(raw: dict[str, Any], depth: int = 0) -> PlanNode:
    if depth > 500:
        raise ValueError("Plan nested deeper than 500 levels")
    values: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    buffers: dict[str, float] = {}
    for key, value in raw.items():
        field = _FIELDS.get(key)
        if field is not None:
            if field in _LIST_FIELDS:
                if isinstance(value, list):
                    values[field] = [str(v) for v in value]
            elif field in _STR_FIELDS:
                if isinstance(value, str):
                    values[field] = value
            else:
                number = _num(value)
                if number is not None:
                    values[field] = int(number) if field in _INT_FIELDS else number
        elif key in _BUFFER_KEYS:
            number = _num(value)
            if number is not None:
                buffers[_BUFFER_KEYS[key]] = number
        elif key not in _SKIP_KEYS:
            extra[key] = value
    if isinstance(raw.get("Workers"), list) and raw["Workers"]:
        extra["Workers"] = raw["Workers"]
    if not isinstance(values.get("node_type"), str):
        raise ValueError(f"Not a PostgreSQL plan: a node has no 'Node Type'. Accepted: {ACCEPTED}.")
    children = raw.get("Plans") or []
    if not isinstance(children, list):
        children = []
    kids = [_node_from_json(c, depth + 1) for c in children if isinstance(c, dict)]
    return PlanNode(**values, buffers=buffers, extra=extra, children=kids)


def _from_json(content: dict[str, Any], fmt: str) -> Plan:
    root = _node_from_json(content["Plan"])
    plan_extra: dict[str, Any] = {}
    jit = content.get("JIT")
    jit_ms: float | None = None
    jit_functions: int | None = None
    if isinstance(jit, dict):
        timing = jit.get("Timing")
        if isinstance(timing, dict):
            total = timing.get("Total")
            if isinstance(total, dict):  # PostgreSQL 17 nests {"Generation": {"Deform": ..., "Total": ...}}
                total = total.get("Total")
            jit_ms = _num(total)
            plan_extra["jit_timing"] = {
                k: _num(v.get("Total") if isinstance(v, dict) else v) for k, v in timing.items()
            }
        functions = _num(jit.get("Functions"))
        jit_functions = int(functions) if functions is not None else None
        if isinstance(jit.get("Options"), dict):
            plan_extra["jit_options"] = {str(k): bool(v) for k, v in jit["Options"].items()}
    triggers = content.get("Triggers")
    triggers_ms: float | None = None
    if isinstance(triggers, list) and triggers:
        times = [_num(t.get("Time")) for t in triggers if isinstance(t, dict)]
        triggers_ms = sum(t for t in times if t is not None)
        plan_extra["triggers"] = triggers
    settings = content.get("Settings")
    if "Query Identifier" in content:
        plan_extra["query_id"] = content["Query Identifier"]
    return Plan(
        engine="postgresql",
        format=fmt,
        analyzed=_analyzed(root),
        root=root,
        planning_ms=_num(content.get("Planning Time")),
        execution_ms=_num(content.get("Execution Time", content.get("Total Runtime"))),
        jit_ms=jit_ms,
        jit_functions=jit_functions,
        triggers_ms=triggers_ms,
        settings={str(k): str(v) for k, v in settings.items()} if isinstance(settings, dict) else {},
        extra=plan_extra,
    )


def _analyzed(root: PlanNode) -> bool:
    stack = [root]
    while stack:
        node = stack.pop()
        if node.actual_loops is not None:
            return True
        stack.extend(node.children)
    return False


# --------------------------------------------------------------------------------------------- text

_FRAME_CHARS = "|║│"


def _cleanup(source: str) -> str:
    """Strip what psql and GUI tools put around a plan: frames, header, separators, footer, '+' wraps."""
    out: list[str] = []
    for line in source.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if line[:1] in _FRAME_CHARS and line.rstrip()[-1:] == line[:1] and len(line.rstrip()) > 1:
            line = line.rstrip()[1:-1]
        elif line.rstrip()[-1:] in _FRAME_CHARS and line.lstrip()[:1] not in _FRAME_CHARS:
            line = line.rstrip()[:-1]
        bare = line.strip()
        if re.fullmatch(r"[-─═+┌┐└┘╔╗╚╝├┤╟╢╠╣╞╡]{3,}", bare):
            continue
        if bare in ("QUERY PLAN", "'QUERY PLAN'", '"QUERY PLAN"'):
            continue
        if re.fullmatch(r"\(\d+\s+[^\W\d_]+\)", bare):
            continue
        if len(bare) >= 2 and bare[0] == bare[-1] and bare[0] in "\"'":
            line = line.replace(bare, bare[1:-1], 1)
        line = re.sub(r"\s+\+$", "", line.rstrip())
        line = line.replace("↵", "")
        out.append(line.replace("\t", "    "))
    return "\n".join(out)


_NUM = r"(\d+(?:\.\d+)?)"
_EST = r"\(cost=(?P<sc>\d+(?:\.\d+)?)\.\.(?P<tc>\d+(?:\.\d+)?)\s+rows=(?P<pr>\d+(?:\.\d+)?)\s+width=(?P<w>\d+)\)"
_ACT = (
    r"\((?:actual(?:\s+time=(?P<ast>\d+(?:\.\d+)?)\.\.(?P<att>\d+(?:\.\d+)?))?\s+rows=(?P<ar>\d+(?:\.\d+)?)"
    r"\s+loops=(?P<al>\d+)|(?P<never>never\s+executed))\)"
)
_NODE_RE = re.compile(rf"^(->\s*)?(?P<title>[^(\n][^\n]*?)\s*(?:{_EST})?\s*(?:{_ACT})?\s*$")
_SUB_RE = re.compile(r"^((?:Sub|Init)Plan)\s*\d*\s*(?:\(returns.*\))?\s*$")
_CTE_RE = re.compile(r"^CTE\s+(\S+)\s*$")
_WORKER_RE = re.compile(r"^Worker\s+(\d+):\s*(.*)$")
_TRIGGER_RE = re.compile(r"^Trigger\s+(.*):\s+time=(\d+(?:\.\d+)?)\s+calls=(\d+)\s*$")
_GLOBAL_RE = re.compile(
    r"^(Planning Time|Execution Time|Total runtime|Planning|JIT|Settings|Query Identifier|Serialization)"
    r"\s*:\s*(.*)$",
    re.IGNORECASE,
)

_AGG = {"HashAggregate": "Hashed", "GroupAggregate": "Sorted", "MixedAggregate": "Mixed", "Aggregate": "Plain"}
_MODIFY = ("Insert", "Update", "Delete", "Merge")


def _title(title: str, node: dict[str, Any]) -> None:
    """Split a text node title ('Parallel Index Scan Backward using i on public.t x') into JSON-style fields."""
    extra: dict[str, Any] = node.setdefault("extra", {})
    t = title.strip()
    m = re.match(r"^(Finalize|Partial|Simple)\s+(.*)$", t)
    if m:
        extra["Partial Mode"], t = m.group(1), m.group(2)
    if t.startswith("Parallel "):
        extra["Parallel Aware"], t = True, t[len("Parallel ") :]
    if t.startswith("Async "):
        extra["Async Capable"], t = True, t[len("Async ") :]
    m = re.match(r"^(Custom Scan|Foreign Scan)\s*\(([^)]*)\)(.*)$", t)
    if m:
        extra["Custom Plan Provider"], t = m.group(2), m.group(1) + m.group(3)
    rest = ""
    for sep in (" using ", " on "):
        idx = t.find(sep)
        if idx > 0:
            rest, t = t[idx:], t[:idx]
            break
    base = t
    m = re.match(r"^(Hash|Merge)(?:\s+(Left|Right|Full|Semi|Anti|Right Semi|Right Anti))?\s+Join$", base)
    if m:
        base, node["join_type"] = f"{m.group(1)} Join", m.group(2) or "Inner"
    m = re.match(r"^Nested Loop(?:\s+(Left|Right|Full|Semi|Anti|Right Semi|Right Anti)\s+Join)?$", base)
    if m:
        base, node["join_type"] = "Nested Loop", m.group(1) or "Inner"
    if base in _AGG:
        extra["Strategy"], base = _AGG[base], "Aggregate"
    if base in ("HashSetOp", "SetOp"):
        extra["Strategy"], base = ("Hashed" if base == "HashSetOp" else "Sorted"), "SetOp"
    m = re.match(r"^(Index Scan|Index Only Scan)\s+Backward$", base)
    if m:
        base, extra["Scan Direction"] = m.group(1), "Backward"
    if base in _MODIFY and rest.startswith(" on "):
        extra["Operation"], base = base, "ModifyTable"
    node["node_type"] = base
    m = re.match(r"^ using (\S+)(.*)$", rest)
    if m:
        node["index_name"], rest = m.group(1), m.group(2)
    m = re.match(r'^ on ((?:"[^"]+"|[^\s"])+)(?:\s+(\S+))?\s*$', rest)
    if m:
        target, alias = m.group(1), m.group(2)
        if base == "Bitmap Index Scan":
            node["index_name"] = target
            return
        if base == "CTE Scan" or base == "WorkTable Scan":
            node["cte_name"] = target
        elif base in ("Function Scan", "Subquery Scan", "Values Scan", "Table Function Scan"):
            pass
        elif "." in target and not target.startswith('"'):
            node["schema_name"], target = target.split(".", 1)
            node["relation"] = target
        else:
            node["relation"] = target
        if base == "Subquery Scan":
            node["alias"] = target
        else:
            node["alias"] = alias or target


def _split_list(text: str) -> list[str]:
    """Split 'a, (b, c), d' on top-level commas."""
    out: list[str] = []
    cur: list[str] = []
    depth, quote = 0, False
    for ch in text:
        if ch == "'":
            quote = not quote
        elif not quote and ch == "(":
            depth += 1
        elif not quote and ch == ")":
            depth -= 1
        if ch == "," and depth == 0 and not quote:
            out.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
    if "".join(cur).strip():
        out.append("".join(cur).strip())
    return out


def _kv(text: str) -> dict[str, float]:
    return {k: float(v) for k, v in re.findall(r"([a-z]+)=(\d+(?:\.\d+)?)", text)}


def _detail(node: dict[str, Any], key: str, value: str) -> None:
    """A 'Key: value' line under a node, folded into the JSON-style fields."""
    extra: dict[str, Any] = node.setdefault("extra", {})
    field = _FIELDS.get(key)
    if key == "Sort Method":
        m = re.match(r"^(.*?)\s+(Disk|Memory):\s*(\d+)kB", value)
        if m:
            node["sort_method"], node["sort_space_type"], node["sort_space_kb"] = (
                m.group(1),
                m.group(2),
                float(m.group(3)),
            )
        else:
            node["sort_method"] = value
    elif key == "Buckets":
        m = re.match(
            r"^(\d+)(?:\s+\(originally (\d+)\))?\s+Batches:\s+(\d+)(?:\s+\(originally (\d+)\))?"
            r"\s+Memory Usage:\s+(\d+)kB",
            value,
        )
        if m:
            extra["Hash Buckets"] = int(m.group(1))
            extra["Original Hash Buckets"] = int(m.group(2) or m.group(1))
            node["hash_batches"] = int(m.group(3))
            node["original_hash_batches"] = int(m.group(4) or m.group(3))
            node["peak_memory_kb"] = float(m.group(5))
    elif key == "Heap Blocks":
        kv = _kv(value)
        if "exact" in kv:
            node["exact_heap_blocks"] = kv["exact"]
        if "lossy" in kv:
            node["lossy_heap_blocks"] = kv["lossy"]
    elif key == "Buffers":
        buffers: dict[str, float] = node.setdefault("buffers", {})
        for part in value.split(","):
            words = part.strip().split(" ", 1)
            if len(words) == 2 and words[0] in ("shared", "local", "temp"):
                for kind, amount in _kv(words[1]).items():
                    buffers[f"{words[0]}_{kind}"] = amount
    elif field in _LIST_FIELDS:
        node[field] = _split_list(value)
    elif field is not None and field in _STR_FIELDS:
        node[field] = value
    elif field is not None:
        m = re.match(r"^-?\d+(?:\.\d+)?", value)
        if m:
            number = float(m.group(0))
            node[field] = int(number) if field in _INT_FIELDS else number
    else:
        extra[key] = value


class _TextState:
    def __init__(self) -> None:
        self.root: dict[str, Any] | None = None
        # (indent, node dict or None for a subplan label, label name)
        self.stack: list[tuple[int, dict[str, Any] | None, str | None]] = []
        self.globals: dict[str, Any] = {}
        self.block: str | None = None
        self.block_indent = 0
        self.root_indent = 0


def _parse_text(text: str) -> Plan:
    st = _TextState()
    for raw_line in text.split("\n"):
        if not raw_line.strip():
            continue
        indent = len(raw_line) - len(raw_line.lstrip(" "))
        line = raw_line.strip()
        if st.block is not None:
            if indent > st.block_indent:
                _block_line(st, line)
                continue
            st.block = None
        if (st.root is None or indent <= st.root_indent) and _global_line(st, line, indent):
            continue
        is_label = _SUB_RE.match(line) or _CTE_RE.match(line)
        node_m = None if is_label else _NODE_RE.match(line)
        if node_m is not None and "(cost=" in node_m["title"]:
            raise ValueError(
                f"Not a PostgreSQL plan: a cost without width= (MySQL's TREE form?). Accepted: {ACCEPTED}."
            )
        arrow = line.startswith("->")
        has_numbers = node_m is not None and (node_m["sc"] or node_m["ar"] or node_m["never"]) is not None
        if node_m is not None and (arrow or (st.root is None and has_numbers)):
            _node_line(st, node_m, indent)
            continue
        if is_label:
            while st.stack and st.stack[-1][0] >= indent:
                st.stack.pop()
            cte = _CTE_RE.match(line)
            st.stack.append((indent, None, f"CTE {cte.group(1)}" if cte else line))
            continue
        owner = _owner(st, indent)
        if owner is None:
            continue
        worker = _WORKER_RE.match(line)
        if worker:
            workers: list[dict[str, Any]] = owner.setdefault("extra", {}).setdefault("Workers", [])
            workers.append({"Worker Number": int(worker.group(1)), "Detail": worker.group(2)})
            continue
        key, sep, value = line.partition(": ")
        if not sep:
            key, sep, value = line.partition(":")
        if sep and key:
            _detail(owner, key.strip(), value.strip())
    if st.root is None:
        raise ValueError(f"Not a plan: no plan node line found. Accepted: {ACCEPTED}.")
    root = _to_node(st.root, 0)
    if (
        root.plan_rows is None
        and root.actual_loops is None
        and any(n.node_type not in PG_NODE_TYPES for n in root.walk())
    ):
        raise ValueError(f"Not a plan: {root.node_type[:40]!r} is no PostgreSQL plan node. Accepted: {ACCEPTED}.")
    g = st.globals
    return Plan(
        engine="postgresql",
        format="text",
        analyzed=_analyzed(root),
        root=root,
        planning_ms=g.get("planning_ms"),
        execution_ms=g.get("execution_ms"),
        jit_ms=g.get("jit_ms"),
        jit_functions=g.get("jit_functions"),
        triggers_ms=g.get("triggers_ms"),
        settings=g.get("settings", {}),
        extra={k: v for k, v in g.items() if k in ("jit_timing", "jit_options", "triggers", "query_id")},
    )


def _owner(st: _TextState, indent: int) -> dict[str, Any] | None:
    for ind, node, _label in reversed(st.stack):
        if node is not None and ind < indent:
            found: dict[str, Any] = node
            return found
    return None


def _node_line(st: _TextState, m: re.Match[str], indent: int) -> None:
    node: dict[str, Any] = {"children": [], "extra": {}, "buffers": {}}
    _title(m.group("title"), node)
    if m["sc"] is not None:
        node["startup_cost"], node["total_cost"] = float(m["sc"]), float(m["tc"])
        node["plan_rows"], node["plan_width"] = float(m["pr"]), int(m["w"])
    if m["never"] is not None:
        node["actual_startup_ms"] = node["actual_total_ms"] = 0.0
        node["actual_rows"] = node["actual_loops"] = 0.0
    elif m["ar"] is not None:
        if m["ast"] is not None:
            node["actual_startup_ms"], node["actual_total_ms"] = float(m["ast"]), float(m["att"])
        node["actual_rows"], node["actual_loops"] = float(m["ar"]), float(m["al"])
    if st.root is None:
        st.root = node
        st.root_indent = indent
        st.stack = [(indent, node, None)]
        return
    while st.stack and st.stack[-1][0] >= indent:
        st.stack.pop()
    if not st.stack:
        return
    _ind, parent, label = st.stack[-1]
    if parent is None:  # under an InitPlan / SubPlan / CTE label
        owner = _owner(st, _ind + 1)
        if owner is None:
            return
        node["parent_relationship"] = "SubPlan" if label and label.startswith("SubPlan") else "InitPlan"
        node["subplan_name"] = label
        owner["children"].append(node)
    else:
        parent["children"].append(node)
    st.stack.append((indent, node, None))


def _global_line(st: _TextState, line: str, indent: int) -> bool:
    trig = _TRIGGER_RE.match(line)
    if trig:
        st.globals.setdefault("triggers", []).append(
            {"Trigger Name": trig.group(1), "Time": float(trig.group(2)), "Calls": int(trig.group(3))}
        )
        st.globals["triggers_ms"] = st.globals.get("triggers_ms", 0.0) + float(trig.group(2))
        return True
    m = _GLOBAL_RE.match(line)
    if not m:
        return False
    key, value = m.group(1).lower(), m.group(2)
    number = re.match(r"^(\d+(?:\.\d+)?)\s*ms", value)
    if key in ("planning time",) and number:
        st.globals["planning_ms"] = float(number.group(1))
    elif key in ("execution time", "total runtime") and number:
        st.globals["execution_ms"] = float(number.group(1))
    elif key in ("planning", "jit", "serialization") and not value:
        st.block, st.block_indent = key, indent
    elif key == "settings":
        st.globals["settings"] = {
            k.strip(): v.strip().strip("'") for k, _, v in (p.partition("=") for p in _split_list(value)) if k
        }
    elif key == "query identifier":
        st.globals["query_id"] = value
    else:
        return False
    return True


def _block_line(st: _TextState, line: str) -> None:
    if st.block != "jit":
        return
    key, _, value = line.partition(":")
    value = value.strip()
    if key == "Functions" and value.isdigit():
        st.globals["jit_functions"] = int(value)
    elif key == "Options":
        st.globals["jit_options"] = {
            name: flag == "true" for name, _, flag in (p.strip().rpartition(" ") for p in value.split(","))
        }
    elif key == "Timing":
        timing: dict[str, float | None] = {}
        for part in value.split(","):
            m = re.match(r"^\s*(\w+)\s+(\d+(?:\.\d+)?)\s*ms", part)
            if m:
                timing[m.group(1)] = float(m.group(2))
        st.globals["jit_timing"] = timing
        if timing.get("Total") is not None:
            st.globals["jit_ms"] = timing["Total"]


def _to_node(raw: dict[str, Any], depth: int) -> PlanNode:
    if depth > 500:
        raise ValueError("Plan nested deeper than 500 levels")
    kids = raw.pop("children", [])
    _infer_relationships(raw, kids)
    return PlanNode(**raw, children=[_to_node(k, depth + 1) for k in kids])


def _infer_relationships(parent: dict[str, Any], kids: list[dict[str, Any]]) -> None:
    """The text form does not print Outer/Inner/Member: infer them as PostgreSQL's JSON names them."""
    plain = [k for k in kids if "parent_relationship" not in k]
    ptype = parent.get("node_type")
    for i, kid in enumerate(plain):
        if ptype in ("Append", "Merge Append", "BitmapAnd", "BitmapOr"):
            kid["parent_relationship"] = "Member"
        elif ptype == "Subquery Scan":
            kid["parent_relationship"] = "Subquery"
        else:
            kid["parent_relationship"] = "Outer" if i == 0 else "Inner"


def display_name(node: PlanNode) -> str:
    """The node's title as the text form prints it: 'Parallel Seq Scan', 'Hash Left Join', 'HashAggregate'."""
    name = node.node_type
    extra = node.extra
    if name == "Aggregate":
        name = {"Hashed": "HashAggregate", "Sorted": "GroupAggregate", "Mixed": "MixedAggregate"}.get(
            str(extra.get("Strategy")), "Aggregate"
        )
    elif name == "SetOp" and extra.get("Strategy") == "Hashed":
        name = "HashSetOp"
    elif name in ("Hash Join", "Merge Join") and node.join_type not in (None, "Inner"):
        name = f"{name[:-5]} {node.join_type} Join"
    elif name == "Nested Loop" and node.join_type not in (None, "Inner"):
        name = f"Nested Loop {node.join_type} Join"
    elif name == "ModifyTable" and extra.get("Operation"):
        name = str(extra["Operation"])
    if extra.get("Scan Direction") == "Backward":
        name += " Backward"
    if extra.get("Parallel Aware") is True:
        name = "Parallel " + name
    if extra.get("Partial Mode") and extra["Partial Mode"] != "Simple":
        name = f"{extra['Partial Mode']} {name}"
    return name
