"""MySQL/MariaDB, SQLite and MongoDB plans → the shared `Plan`/`PlanNode` model.

Formats read:

* MySQL/MariaDB tabular `EXPLAIN` as the mysql client prints it (`+---+` borders, or tab-separated with
  a header row) and its vertical `\\G` form; also rows as dicts (``[{"id": 1, "select_type": ...}]``).
* MySQL `EXPLAIN FORMAT=JSON` and MariaDB `EXPLAIN/ANALYZE FORMAT=JSON` (`query_block`).
* MySQL `EXPLAIN FORMAT=TREE` and `EXPLAIN ANALYZE`
  (`-> Filter: ... (cost=.. rows=..) (actual time=a..b rows=r loops=l)`).
* SQLite `EXPLAIN QUERY PLAN`: the adapter's rows ``[{id, parent, detail}]`` (or
  ``{"query_plan": rows, "execution": {...}}`` when analysed) and the sqlite3 shell's ``QUERY PLAN`` tree text.
* MongoDB explain replies: queryPlanner / executionStats / allPlansExecution, find and aggregate.

Node scheme (documented here once, relied on by `rules_other`):

* ``node_type`` is always the engine's own name: the MySQL access type for table rows of tabular/JSON output
  (``ALL``, ``index``, ``range``, ``ref``, ``eq_ref``, ``const`` ...), the iterator name for TREE/ANALYZE
  (``Table scan``, ``Index lookup``, ``Filter``, ``Sort`` ...), the first words of SQLite's detail
  (``SCAN``, ``SEARCH``, ``USE TEMP B-TREE``, ``CORRELATED SCALAR SUBQUERY`` ...), the MongoDB stage
  (``COLLSCAN``, ``IXSCAN``, ``FETCH``, ``SORT`` ...). Synthetic containers are ``Query Block`` (MySQL/MariaDB)
  and ``QUERY PLAN`` (SQLite).
* Every MySQL/MariaDB table access, in any format, carries ``extra["access_type"]`` in the JSON vocabulary
  (a TREE ``Table scan`` is ``ALL``, ``Index range scan`` is ``range`` ...), so rules read one field.
* Sorting and temporary tables are flagged as ``extra["using_filesort"]`` / ``extra["using_temporary"]`` on the
  node that does them (the table row in tabular output, the operation node in JSON/TREE).
* ``extra["filtered"]`` is the planner's percentage, ``extra["r_filtered"]`` MariaDB's measured one.

Rows and times follow the PostgreSQL convention of the model: ``plan_rows`` and ``actual_rows`` are per loop,
``actual_total_ms`` is per loop (MariaDB's ``r_table_time_ms + r_other_time_ms`` over all loops is divided by
``r_loops``), so `annotate` can multiply by ``actual_loops`` for every engine alike.

Pure: no I/O, no clock; inputs are never mutated. Anything that is not one of these formats raises ValueError.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

from dbspecialist.knowledge.plans.model import Plan, PlanEngine, PlanNode

__all__ = ["ENGINES", "detect", "parse_plan"]

ENGINES: Final = ("mysql", "mariadb", "sqlite", "mongodb")

# Tree iterator names (MySQL 8 FORMAT=TREE / EXPLAIN ANALYZE) → the JSON access type they stand for.
TREE_ACCESS: Final[dict[str, str]] = {
    "table scan": "ALL",
    "index scan": "index",
    "covering index scan": "index",
    "index range scan": "range",
    "covering index range scan": "range",
    "index lookup": "ref",
    "covering index lookup": "ref",
    "index lookup (skip scan)": "range",
    "index range scan (multi-range read)": "range",
    "single-row index lookup": "eq_ref",
    "single-row covering index lookup": "eq_ref",
    "constant row from": "const",
    "full-text index search": "fulltext",
    "index merge": "index_merge",
}

_TABULAR_COLUMNS: Final = ("id", "select_type", "table", "type", "key", "rows")
_NUMBER: Final = re.compile(r"^-?\d+(?:\.\d+)?(?:e[+-]?\d+)?$", re.IGNORECASE)


def _num(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str) and _NUMBER.match(value.strip()):
        number = float(value.strip())
    else:
        return None
    return number if math.isfinite(number) else None


def _as_json(raw: Any) -> Any:
    if isinstance(raw, bytes | bytearray):
        raw = raw.decode("utf-8", errors="replace")
    if isinstance(raw, str):
        text = raw.strip()
        if text[:1] in ("{", "["):
            try:
                return json.loads(text)
            except (ValueError, RecursionError):
                return raw
    return raw


# --------------------------------------------------------------------------------------------- detection


def _is_mariadb_json(doc: Any, depth: int = 0) -> bool:
    """MariaDB's JSON: r_* measurements, query_optimization, or per-table 'rows' instead of MySQL's fields."""
    if depth > 60:
        return False
    if isinstance(doc, Mapping):
        for key, value in doc.items():
            if isinstance(key, str) and (key.startswith("r_") or key == "query_optimization"):
                return True
            if (
                key == "table"
                and isinstance(value, Mapping)
                and "rows" in value
                and "rows_examined_per_scan" not in value
            ):
                return True
            if _is_mariadb_json(value, depth + 1):
                return True
    elif isinstance(doc, list):
        return any(_is_mariadb_json(v, depth + 1) for v in doc)
    return False


def _tree_lines(text: str) -> list[str]:
    """Non-blank lines without the client's frame around a FORMAT=TREE / EXPLAIN ANALYZE value: the `\\G` row marker
    (`*** 1. row ***`) or the bare `EXPLAIN` column header (batch mode, and MySQL's own test results)."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if len(lines) > 1 and lines[0].lstrip().startswith("***") and lines[1].lstrip().upper().startswith("EXPLAIN:"):
        lines = lines[1:]
    if len(lines) > 1 and lines[0].strip().upper() == "EXPLAIN" and lines[1].lstrip().startswith("->"):
        lines = lines[1:]
    return lines


def _detect_text(text: str) -> str | None:
    lines = _tree_lines(text)
    if not lines:
        return None
    first = lines[0].strip()
    if first.upper() == "QUERY PLAN" or all(_SQLITE_TEXT_LINE.match(ln) for ln in lines):
        return "sqlite" if any(_SQLITE_TEXT_LINE.match(ln) for ln in lines) else None
    if first.upper().startswith("EXPLAIN:"):
        first = first[len("EXPLAIN:") :].strip()
    if first.startswith("->") and "width=" not in text:
        return "mysql"
    framed = first.startswith(("+-", "|", "*")) or "\t" in lines[0]
    if framed and "select_type" in text and "table" in text and "type" in text:
        return "mysql"
    return None


_SQLITE_TEXT_LINE: Final = re.compile(r"^[ |`]*(?:\|--|`--)\S")


def detect(raw: Any) -> str | None:
    """'mysql', 'mariadb', 'sqlite' or 'mongodb' for a plan this module reads; None otherwise (PostgreSQL too)."""
    doc = _as_json(raw)
    if isinstance(doc, str):
        return _detect_text(doc)
    if isinstance(doc, Mapping):
        if "query_block" in doc:
            return "mariadb" if _is_mariadb_json(doc) else "mysql"
        if "queryPlanner" in doc or "executionStats" in doc or "explainVersion" in doc:
            return "mongodb"
        stages = doc.get("stages")
        if isinstance(stages, list) and any(isinstance(s, Mapping) and "$cursor" in s for s in stages):
            return "mongodb"
        if isinstance(doc.get("query_plan"), list):
            return "sqlite" if _sqlite_rows_ok(doc["query_plan"]) else None
        return None
    if isinstance(doc, list) and doc and all(isinstance(r, Mapping) for r in doc):
        if _sqlite_rows_ok(doc):
            return "sqlite"
        if all("select_type" in r or ("table" in r and "type" in r) for r in doc):
            return "mysql"
        if len(doc) == 1 and "query_block" in doc[0]:
            return detect(doc[0])
    return None


def _sqlite_rows_ok(rows: Sequence[Any]) -> bool:
    return bool(rows) and all(isinstance(r, Mapping) and isinstance(r.get("detail"), str) for r in rows)


# --------------------------------------------------------------------------------------------- entry point


def parse_plan(raw: Any, engine: str) -> Plan:
    """Parse `raw` (text, JSON text, or the adapter's decoded JSON/rows) into a Plan; ValueError if unreadable."""
    if engine not in ENGINES:
        raise ValueError(f"other_parse reads {', '.join(ENGINES)} plans, not {engine!r}")
    doc = _as_json(raw)
    try:
        if engine in ("mysql", "mariadb"):
            return _parse_mysql(doc, engine)
        if engine == "sqlite":
            return _parse_sqlite(doc)
        return _parse_mongo(doc)
    except RecursionError:
        raise ValueError("plan is nested too deeply to read") from None


# --------------------------------------------------------------------------------------------- MySQL / MariaDB


def _parse_mysql(doc: Any, engine: str) -> Plan:
    if isinstance(doc, list) and len(doc) == 1 and isinstance(doc[0], Mapping) and "query_block" in doc[0]:
        doc = doc[0]
    if isinstance(doc, Mapping) and "query_block" in doc:
        flavor: PlanEngine = "mariadb" if engine == "mariadb" or _is_mariadb_json(doc) else "mysql"
        root = _json_block(doc["query_block"], flavor)
        analyzed = flavor == "mariadb" and any(n.actual_loops is not None for n in root.walk())
        plan = Plan(engine=flavor, format="json", analyzed=analyzed, root=root)
        opt = doc.get("query_optimization")
        if isinstance(opt, Mapping):
            plan.planning_ms = _num(opt.get("r_total_time_ms"))
        if analyzed:
            plan.execution_ms = root.actual_total_ms
        return plan
    if isinstance(doc, list) and doc and all(isinstance(r, Mapping) for r in doc):
        rows = [{str(k).lower(): v for k, v in r.items()} for r in doc]
        return _tabular_plan(rows, "mariadb" if engine == "mariadb" else "mysql", "rows")
    if isinstance(doc, str):
        kind = _detect_text(doc)
        if kind != "mysql":
            raise ValueError("not a MySQL/MariaDB plan: expected tabular EXPLAIN, FORMAT=JSON, FORMAT=TREE or ANALYZE")
        lines = _tree_lines(doc)
        text = "\n".join(lines)
        first = lines[0].strip()
        if first.upper().startswith("EXPLAIN:") or first.startswith("->"):
            return _parse_tree(text, "mariadb" if engine == "mariadb" else "mysql")
        if first.startswith("*"):
            return _tabular_plan(_vertical_rows(text), "mariadb" if engine == "mariadb" else "mysql", "table")
        return _tabular_plan(_bordered_rows(text), "mariadb" if engine == "mariadb" else "mysql", "table")
    raise ValueError("not a MySQL/MariaDB plan")


def _null(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, str) and value.strip().upper() in ("NULL", ""):
        return None
    return value


def _bordered_rows(text: str) -> list[dict[str, Any]]:
    lines = [ln.rstrip() for ln in text.splitlines() if ln.strip()]
    body = [ln for ln in lines if not ln.lstrip().startswith("+")]
    if not body:
        raise ValueError("tabular EXPLAIN without rows")
    if body[0].lstrip().startswith("|"):
        split = [[c.strip() for c in ln.strip().strip("|").split("|")] for ln in body]
    else:
        split = [[c.strip() for c in ln.split("\t")] for ln in body]
    header = [h.lower() for h in split[0]]
    if not {"table", "type"} <= set(header):
        raise ValueError("tabular EXPLAIN header lacks table/type")
    rows = []
    for cells in split[1:]:
        if len(cells) != len(header):
            raise ValueError("tabular EXPLAIN row does not match its header")
        rows.append(dict(zip(header, cells, strict=True)))
    return rows


def _vertical_rows(text: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("***"):
            rows.append({})
            continue
        if ":" not in stripped or not rows:
            continue
        key, _, value = stripped.partition(":")
        rows[-1][key.strip().lower()] = value.strip()
    if not rows or not all("table" in r and "type" in r for r in rows):
        raise ValueError("vertical EXPLAIN without table/type fields")
    return rows


def _split_list(value: Any) -> list[str]:
    value = _null(value)
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v) for v in value]
    return [p.strip() for p in str(value).split(",") if p.strip()]


def _tabular_plan(rows: list[dict[str, Any]], engine: PlanEngine, fmt: str) -> Plan:
    root = PlanNode(node_type="Query Block")
    for row in rows:
        access = _null(row.get("type"))
        extra_text = str(_null(row.get("extra")) or "")
        flags = {f.strip().lower() for f in extra_text.split(";")}
        node = PlanNode(
            node_type=str(access or "unknown"),
            relation=_null(row.get("table")),
            index_name=_null(row.get("key")),
            detail=extra_text or None,
            plan_rows=_num(_null(row.get("rows"))),
            extra={
                "access_type": access,
                "select_id": _num(_null(row.get("id"))),
                "select_type": _null(row.get("select_type")),
                "possible_keys": _split_list(row.get("possible_keys")),
                "key_length": _null(row.get("key_len")),
                "ref": _split_list(row.get("ref")),
                "using_filesort": "using filesort" in flags,
                "using_temporary": "using temporary" in flags,
                "using_where": "using where" in flags,
                "using_index": "using index" in flags,
            },
        )
        filtered = _num(_null(row.get("filtered")))
        if filtered is not None:
            node.extra["filtered"] = filtered
        r_rows = _num(_null(row.get("r_rows")))  # MariaDB ANALYZE (tabular)
        if r_rows is not None:
            node.actual_rows = r_rows
            node.actual_loops = 1.0
        r_filtered = _num(_null(row.get("r_filtered")))
        if r_filtered is not None:
            node.extra["r_filtered"] = r_filtered
        root.children.append(node)
    if not root.children:
        raise ValueError("tabular EXPLAIN without rows")
    analyzed = any(n.actual_rows is not None for n in root.children)
    return Plan(engine=engine, format=fmt, analyzed=analyzed, root=root)


# JSON operation wrappers → node type; the flag they set.
_JSON_OPERATIONS: Final[dict[str, tuple[str, str | None]]] = {
    "ordering_operation": ("Ordering", None),
    "grouping_operation": ("Grouping", None),
    "duplicates_removal": ("Duplicates Removal", None),
    "windowing": ("Windowing", None),
    "filesort": ("Sort", "using_filesort"),
    "temporary_table": ("Temporary Table", "using_temporary"),
    "read_sorted_file": ("Read Sorted File", None),
    "block-nl-join": ("Block Nested Loop", None),
    "materialized_from_subquery": ("Materialize", None),
    "materialization": ("Materialize", None),
    "duplicates_weedout": ("Duplicates Weedout", None),
    "union_result": ("Union Result", "using_temporary"),
}
_SUBQUERY_KEYS: Final = (
    "subqueries",
    "attached_subqueries",
    "optimized_away_subqueries",
    "order_by_subqueries",
    "group_by_subqueries",
    "having_subqueries",
    "select_list_subqueries",
    "update_value_subqueries",
    "query_specifications",
)


def _json_block(block: Any, flavor: PlanEngine) -> PlanNode:
    if not isinstance(block, Mapping):
        raise ValueError("query_block is not an object")
    node = PlanNode(node_type="Query Block", extra={"select_id": _num(block.get("select_id"))})
    _json_costs(node, block)
    _json_times(node, block)
    node.children.extend(_json_children(block, flavor, depth=0))
    return node


def _json_costs(node: PlanNode, obj: Mapping[str, Any]) -> None:
    cost = obj.get("cost_info")
    if isinstance(cost, Mapping):
        node.total_cost = _num(cost.get("query_cost")) or _num(cost.get("prefix_cost"))
        for key in ("read_cost", "eval_cost", "prefix_cost", "data_read_per_join", "sort_cost"):
            if key in cost:
                node.extra[key] = cost[key]
    elif _num(obj.get("cost")) is not None:  # MariaDB 11.0+
        node.total_cost = _num(obj.get("cost"))


def _json_times(node: PlanNode, obj: Mapping[str, Any]) -> None:
    loops = _num(obj.get("r_loops"))
    total = _num(obj.get("r_total_time_ms"))
    if total is None:
        table_ms, other_ms = _num(obj.get("r_table_time_ms")), _num(obj.get("r_other_time_ms"))
        if table_ms is not None or other_ms is not None:
            total = (table_ms or 0.0) + (other_ms or 0.0)
    if loops is not None:
        node.actual_loops = loops
        if total is not None:
            node.actual_total_ms = total / loops if loops > 0 else 0.0
    elif total is not None:
        node.actual_loops, node.actual_total_ms = 1.0, total


def _json_children(obj: Mapping[str, Any], flavor: PlanEngine, depth: int) -> list[PlanNode]:
    if depth > 200:
        raise ValueError("plan is nested too deeply to read")
    out: list[PlanNode] = []
    for key, value in obj.items():
        if key == "table" and isinstance(value, Mapping):
            out.append(_json_table(value, flavor, depth))
        elif key == "nested_loop" and isinstance(value, list):
            for item in value:
                if isinstance(item, Mapping):
                    out.extend(_json_children(item, flavor, depth + 1))
        elif key == "query_block" and isinstance(value, Mapping):
            out.append(_json_block(value, flavor))
        elif key in _JSON_OPERATIONS and isinstance(value, Mapping):
            out.append(_json_operation(key, value, flavor, depth))
        elif key in _SUBQUERY_KEYS and isinstance(value, list):
            for item in value:
                if not isinstance(item, Mapping):
                    continue
                for child in _json_children(item, flavor, depth + 1):
                    child.parent_relationship = "SubPlan" if key != "query_specifications" else "Member"
                    out.append(child)
    return out


def _json_operation(key: str, value: Mapping[str, Any], flavor: PlanEngine, depth: int) -> PlanNode:
    node_type, flag = _JSON_OPERATIONS[key]
    node = PlanNode(node_type=node_type)
    if flag:
        node.extra[flag] = True
    if value.get("using_filesort") is True:
        node.extra["using_filesort"] = True
    if value.get("using_temporary_table") is True:
        node.extra["using_temporary"] = True
    sort_key = value.get("sort_key")
    if isinstance(sort_key, str):
        node.sort_key = [s.strip() for s in sort_key.split(",") if s.strip()]
    if key == "read_sorted_file" and _num(value.get("r_rows")) is not None:
        node.actual_rows, node.actual_loops = _num(value.get("r_rows")), 1.0
    for extra_key in ("join_type", "buffer_type", "buffer_size", "r_sort_mode", "r_output_rows", "r_buffer_size"):
        if isinstance(value.get(extra_key), str | int | float) and not isinstance(value.get(extra_key), bool):
            node.extra[extra_key] = value[extra_key]
    if isinstance(value.get("attached_condition"), str):
        node.join_filter = value["attached_condition"]
    _json_costs(node, value)
    _json_times(node, value)
    if key == "filesort" and node.actual_rows is None and _num(value.get("r_output_rows")) is not None:
        node.actual_rows = _num(value.get("r_output_rows"))
        node.actual_loops = node.actual_loops or 1.0
    node.children.extend(_json_children(value, flavor, depth + 1))
    if flavor == "mariadb":
        _include_children_time(node)
    if key == "block-nl-join" and node.children:
        node.join_type = value["join_type"] if isinstance(value.get("join_type"), str) else "BNL"
    return node


def _include_children_time(node: PlanNode) -> None:
    """Make a MariaDB operation's time inclusive, like every other node's.

    MariaDB times an operation (filesort, block-nl-join, ...) for its own work only: a filesort's r_total_time_ms
    is the sort, not the reads under its temporary table, while the query block's r_total_time_ms covers all of
    it. Left as is, `annotate` would charge those reads to the query block as well (QA: a query block at 99% of
    the time next to the table read that took it). A node with no time of its own (temporary_table) gets its
    children's.
    """
    children = [c for c in node.children if c.actual_total_ms is not None]
    if not children:
        return
    loops = node.actual_loops if node.actual_loops else 1.0
    own = (node.actual_total_ms or 0.0) * loops
    below = sum((c.actual_total_ms or 0.0) * (c.actual_loops if c.actual_loops is not None else 1.0) for c in children)
    node.actual_loops = loops
    node.actual_total_ms = (own + below) / loops


def _json_table(table: Mapping[str, Any], flavor: PlanEngine, depth: int) -> PlanNode:
    access = table.get("access_type")
    node = PlanNode(
        node_type=str(access or "table"),
        relation=table.get("table_name") if isinstance(table.get("table_name"), str) else None,
        index_name=table.get("key") if isinstance(table.get("key"), str) else None,
        filter=table.get("attached_condition") if isinstance(table.get("attached_condition"), str) else None,
        index_cond=table.get("index_condition") if isinstance(table.get("index_condition"), str) else None,
    )
    rows = _num(table.get("rows_examined_per_scan"))
    node.plan_rows = rows if rows is not None else _num(table.get("rows"))
    node.extra.update(
        {
            "access_type": access,
            "possible_keys": _split_list(table.get("possible_keys")),
            "key_length": table.get("key_length"),
            "used_key_parts": _split_list(table.get("used_key_parts")),
            "ref": _split_list(table.get("ref")),
            "using_index": table.get("using_index") is True,
            "using_filesort": table.get("using_filesort") is True,
            "using_temporary": table.get("using_temporary_table") is True,
        }
    )
    for key in ("filtered", "r_filtered", "rows_produced_per_join", "r_rows"):
        if _num(table.get(key)) is not None:
            node.extra[key] = _num(table.get(key))
    if _num(table.get("r_rows")) is not None:
        node.actual_rows = _num(table.get("r_rows"))
    _json_costs(node, table)
    _json_times(node, table)
    if node.actual_rows is not None and node.actual_loops is None:
        node.actual_loops = 1.0
    node.children.extend(
        c
        for k, v in table.items()
        if k in _SUBQUERY_KEYS or k in _JSON_OPERATIONS
        for c in _json_children({k: v}, flavor, depth + 1)
    )
    return node


_TREE_COST: Final = re.compile(r"\(cost=(?P<cost>[\d.e+-]+)(?:\.\.(?P<cost2>[\d.e+-]+))? rows=(?P<rows>[\d.e+-]+)\)")
_TREE_ACTUAL: Final = re.compile(
    r"\(actual time=(?P<start>[\d.e+-]+)\.\.(?P<end>[\d.e+-]+) rows=(?P<rows>[\d.e+-]+) loops=(?P<loops>[\d.e+-]+)\)"
)
_TREE_ON: Final = re.compile(
    r"^(?P<op>.+?) on (?P<table>[^\s()]+)(?: using (?P<index>[^\s()]+))?"
    r"(?: over (?P<over>.*?))?(?:\s*\((?P<cond>.*)\))?$"
)


def _parse_tree(text: str, engine: PlanEngine) -> Plan:
    logical: list[tuple[int, str]] = []
    for raw_line in text.splitlines():
        if not raw_line.strip():
            continue
        line = raw_line.rstrip()
        if line.lstrip().upper().startswith("EXPLAIN:"):
            line = line.replace("EXPLAIN:", "", 1)
            line = " " * 0 + line.strip()
        stripped = line.lstrip()
        if stripped.startswith("->"):
            indent = len(line) - len(stripped)
            logical.append((indent, stripped[2:].strip()))
        elif logical and not stripped.startswith("*"):
            indent, prev = logical[-1]
            logical[-1] = (indent, f"{prev} {stripped}")  # documentation examples wrap '(actual ...)' onto a new line
    if not logical:
        raise ValueError("FORMAT=TREE text without '->' nodes")
    stack: list[tuple[int, PlanNode]] = []
    root: PlanNode | None = None
    analyzed = False
    for indent, body in logical:
        node = _tree_node(body)
        analyzed = analyzed or node.actual_loops is not None
        while stack and stack[-1][0] >= indent:
            stack.pop()
        if stack:
            stack[-1][1].children.append(node)
        elif root is None:
            root = node
        else:
            raise ValueError("FORMAT=TREE text with more than one root")
        stack.append((indent, node))
    assert root is not None
    plan = Plan(engine=engine, format="tree", analyzed=analyzed, root=root)
    if analyzed and root.actual_total_ms is not None:
        plan.execution_ms = root.actual_total_ms * (root.actual_loops or 1.0)
    return plan


def _tree_node(body: str) -> PlanNode:
    cost = _TREE_COST.search(body)
    actual = _TREE_ACTUAL.search(body)
    never = "(never executed)" in body
    head = body
    cut = min((m.start() for m in (cost, actual) if m is not None), default=len(body))
    if never:
        cut = min(cut, body.index("(never executed)"))
    head = body[:cut].strip()
    node = PlanNode(node_type=head or "node")
    if cost:
        node.total_cost = _num(cost.group("cost2") or cost.group("cost"))
        if cost.group("cost2"):
            node.startup_cost = _num(cost.group("cost"))
        node.plan_rows = _num(cost.group("rows"))
    if actual:
        node.actual_startup_ms = _num(actual.group("start"))
        node.actual_total_ms = _num(actual.group("end"))
        node.actual_rows = _num(actual.group("rows"))
        node.actual_loops = _num(actual.group("loops"))
    elif never:
        node.actual_rows, node.actual_loops, node.actual_total_ms = 0.0, 0.0, 0.0
    op, _, arg = head.partition(": ")
    lowered = head.lower()
    match = _TREE_ON.match(head) if " on " in head and not arg else None
    if match:
        name = match.group("op").strip()
        node.node_type = name
        node.relation = match.group("table")
        node.index_name = match.group("index")
        if match.group("cond"):
            node.index_cond = match.group("cond")
        access = TREE_ACCESS.get(name.lower())
        if access is None and name.lower().startswith("constant row"):
            access = "const"
        if access is not None:
            node.extra["access_type"] = access
    elif arg:
        node.node_type = op.strip()
        if op.lower() == "filter":
            node.filter = arg.strip()
        elif op.lower().startswith("sort"):
            node.sort_key = [s.strip() for s in arg.split(",") if s.strip()]
            node.extra["using_filesort"] = True
        else:
            node.detail = arg.strip()
    else:
        paren = head.find(" (")
        if paren > 0 and head.endswith(")") and "join" in lowered:
            node.node_type = head[:paren]
            node.hash_cond = head[paren + 2 : -1]
    if "temporary" in lowered or node.node_type.lower().startswith("materialize"):
        node.extra["using_temporary"] = "temporary" in lowered
    if node.node_type.lower().startswith("sort"):
        node.extra["using_filesort"] = True
    return node


# --------------------------------------------------------------------------------------------- SQLite

_SQLITE_KINDS: Final = (
    "CORRELATED SCALAR SUBQUERY",
    "CORRELATED LIST SUBQUERY",
    "SCALAR SUBQUERY",
    "LIST SUBQUERY",
    "MULTI-INDEX OR",
    "USE TEMP B-TREE",
    "BLOOM FILTER",
    "MATERIALIZE",
    "CO-ROUTINE",
    "COMPOUND QUERY",
    "LEFT-MOST SUBQUERY",
    "UNION ALL",
    "UNION USING TEMP B-TREE",
    "EXCEPT USING TEMP B-TREE",
    "INTERSECT USING TEMP B-TREE",
    "RIGHT-JOIN",
    "SCAN",
    "SEARCH",
    "INDEX",
)
_SQLITE_ACCESS: Final = re.compile(
    r"^(?P<kind>SCAN|SEARCH) (?P<table>\S+)(?: AS (?P<alias>\S+))?"
    r"(?: USING (?P<how>(?:AUTOMATIC )?(?:PARTIAL )?(?:COVERING )?INDEX|INTEGER PRIMARY KEY|PRIMARY KEY)"
    r"(?: (?P<index>[^\s(]+))?)?(?: \((?P<cond>.*)\))?(?P<rest>.*)$"
)


def _parse_sqlite(doc: Any) -> Plan:
    execution: Mapping[str, Any] | None = None
    if isinstance(doc, Mapping) and isinstance(doc.get("query_plan"), list):
        execution = doc.get("execution") if isinstance(doc.get("execution"), Mapping) else None
        doc = doc["query_plan"]
    if isinstance(doc, list):
        if not _sqlite_rows_ok(doc):
            raise ValueError("SQLite plan rows need a 'detail' text each")
        root = _sqlite_rows(doc)
        fmt = "rows"
    elif isinstance(doc, str):
        root = _sqlite_text(doc)
        fmt = "text"
    else:
        raise ValueError("not a SQLite EXPLAIN QUERY PLAN")
    # A timed run (the adapter's analyze=true) makes the plan analysed: SQLite measures the statement as a whole,
    # never per step, so the root carries the rows returned and no node has actual times.
    plan = Plan(engine="sqlite", format=fmt, analyzed=execution is not None, root=root)
    if execution is not None:
        plan.execution_ms = _num(execution.get("elapsed_ms"))
        plan.extra["execution"] = dict(execution)
        root.actual_rows = _num(execution.get("rows"))
    return plan


def _sqlite_node(detail: str) -> PlanNode:
    detail = detail.strip()
    kind = next((k for k in _SQLITE_KINDS if detail == k or detail.startswith(k + " ")), detail.split(" ", 1)[0])
    node = PlanNode(node_type=kind, detail=detail)
    match = _SQLITE_ACCESS.match(detail)
    if match and kind in ("SCAN", "SEARCH"):
        node.relation = match.group("table")
        node.alias = match.group("alias")
        how = match.group("how") or ""
        node.index_name = match.group("index")
        node.index_cond = match.group("cond")
        node.extra.update(
            {
                "covering": "COVERING" in how,
                "automatic_index": "AUTOMATIC" in how,
                "using": how or None,
            }
        )
        if node.index_cond:
            node.extra["index_columns"] = re.findall(r"(\w+)\s*(?:=|>|<|>=|<=)\s*\?", node.index_cond)
    elif kind == "USE TEMP B-TREE":
        node.extra["purpose"] = detail[len("USE TEMP B-TREE FOR ") :].strip() if "FOR" in detail else None
    elif kind in ("MATERIALIZE", "CO-ROUTINE"):
        node.cte_name = detail.split(" ", 1)[1] if " " in detail else None
    return node


def _sqlite_rows(rows: Sequence[Mapping[str, Any]]) -> PlanNode:
    root = PlanNode(node_type="QUERY PLAN")
    by_id: dict[Any, PlanNode] = {0: root}
    for row in rows:
        node = _sqlite_node(str(row["detail"]))
        parent = by_id.get(row.get("parent", 0), root)
        parent.children.append(node)
        by_id[row.get("id")] = node
    return root


def _sqlite_text(text: str) -> PlanNode:
    root = PlanNode(node_type="QUERY PLAN")
    stack: list[tuple[int, PlanNode]] = [(-1, root)]
    seen = False
    for line in text.splitlines():
        if not line.strip() or line.strip().upper() == "QUERY PLAN":
            continue
        match = re.match(r"^(?P<lead>[ |`]*?)(?:\|--|`--)(?P<detail>.*)$", line)
        if not match:
            raise ValueError("SQLite plan text line without '|--' or '`--'")
        depth = len(match.group("lead")) // 3
        node = _sqlite_node(match.group("detail"))
        while stack and stack[-1][0] >= depth:
            stack.pop()
        if not stack:
            raise ValueError("SQLite plan text with inconsistent indentation")
        stack[-1][1].children.append(node)
        stack.append((depth, node))
        seen = True
    if not seen:
        raise ValueError("SQLite plan text without nodes")
    return root


# --------------------------------------------------------------------------------------------- MongoDB


def _parse_mongo(doc: Any) -> Plan:
    if not isinstance(doc, Mapping):
        raise ValueError("not a MongoDB explain document")
    extra: dict[str, Any] = {}
    stages = doc.get("stages")
    if "queryPlanner" not in doc and isinstance(stages, list):  # aggregate explain: the $cursor stage holds the plan
        cursor = next(
            (s["$cursor"] for s in stages if isinstance(s, Mapping) and isinstance(s.get("$cursor"), Mapping)), None
        )
        if cursor is None:
            raise ValueError("aggregate explain without a $cursor stage")
        extra["pipeline"] = [next(iter(s)) for s in stages if isinstance(s, Mapping) and s]
        doc = cursor
    planner = doc.get("queryPlanner")
    if not isinstance(planner, Mapping):
        raise ValueError("MongoDB explain without queryPlanner")
    winning = planner.get("winningPlan")
    if isinstance(winning, Mapping) and isinstance(winning.get("queryPlan"), Mapping):  # slot-based engine (7.0+)
        winning = winning["queryPlan"]
    if not isinstance(winning, Mapping) or "stage" not in winning:
        raise ValueError("MongoDB explain without a winningPlan stage")
    namespace = planner.get("namespace")
    collection = namespace.split(".", 1)[1] if isinstance(namespace, str) and "." in namespace else namespace
    stats = doc.get("executionStats") if isinstance(doc.get("executionStats"), Mapping) else None
    exec_stages = stats.get("executionStages") if stats is not None else None
    root = _mongo_stage(winning, exec_stages if isinstance(exec_stages, Mapping) else None, collection, 0)
    extra.update(
        {
            "namespace": namespace,
            "parsed_query": planner.get("parsedQuery"),
            "rejected_plans": len(planner["rejectedPlans"]) if isinstance(planner.get("rejectedPlans"), list) else 0,
        }
    )
    command = doc.get("command")
    if isinstance(command, Mapping):
        extra["command"] = dict(command)
        if isinstance(command.get("sort"), Mapping):
            extra["sort"] = dict(command["sort"])
    execution_ms = None
    if stats is not None:
        execution_ms = _num(stats.get("executionTimeMillis"))
        for key in ("nReturned", "totalKeysExamined", "totalDocsExamined"):
            count = _num(stats.get(key))
            if count is not None:
                extra[key] = int(count) if count.is_integer() else count
        if isinstance(stats.get("executionSuccess"), bool):
            extra["executionSuccess"] = stats["executionSuccess"]
        if isinstance(stats.get("allPlansExecution"), list):
            extra["all_plans"] = len(stats["allPlansExecution"])
        if root.actual_total_ms is None and execution_ms is not None:
            root.actual_total_ms = execution_ms
    return Plan(
        engine="mongodb", format="json", analyzed=stats is not None, root=root, execution_ms=execution_ms, extra=extra
    )


def _stage_inputs(stage: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    out: list[Mapping[str, Any]] = []
    if isinstance(stage.get("inputStage"), Mapping):
        out.append(stage["inputStage"])
    for key in ("inputStages", "shards"):
        if isinstance(stage.get(key), list):
            for item in stage[key]:
                if isinstance(item, Mapping):
                    inner = item.get("winningPlan", item.get("executionStages", item))
                    if isinstance(inner, Mapping):
                        out.append(inner)
    return out


def _mongo_stage(stage: Mapping[str, Any], stats: Mapping[str, Any] | None, collection: Any, depth: int) -> PlanNode:
    if depth > 200:
        raise ValueError("plan is nested too deeply to read")
    pass_down = None
    if stats is not None and stats.get("stage") != stage.get("stage"):
        # the reported execution tree skipped this stage (some servers fold SORT/PROJECTION away): hand the
        # statistics to the input stage instead of dropping them
        pass_down, stats = stats, None
    merged: dict[str, Any] = {**stage, **(stats or {})}
    name = str(merged.get("stage", "UNKNOWN"))
    node = PlanNode(node_type=name, relation=collection if isinstance(collection, str) else None)
    if isinstance(merged.get("indexName"), str):
        node.index_name = merged["indexName"]
    if isinstance(merged.get("keyPattern"), Mapping):
        node.extra["key_pattern"] = dict(merged["keyPattern"])
    if isinstance(merged.get("filter"), Mapping):
        node.extra["filter"] = dict(merged["filter"])
        node.filter = json.dumps(merged["filter"], sort_keys=True, default=str)
    if isinstance(merged.get("sortPattern"), Mapping):
        node.extra["sort_pattern"] = dict(merged["sortPattern"])
        node.sort_key = [str(k) for k in merged["sortPattern"]]
    if isinstance(merged.get("indexBounds"), Mapping):
        node.index_cond = json.dumps(merged["indexBounds"], sort_keys=True, default=str)
    for key in ("works", "advanced", "docsExamined", "keysExamined", "memLimit"):
        if _num(merged.get(key)) is not None:
            node.extra[key] = merged[key]
    for key in ("usedDisk", "isMultiKey", "direction"):
        if isinstance(merged.get(key), bool | str):
            node.extra[key] = merged[key]
    if stats is not None:
        node.actual_rows = _num(stats.get("nReturned"))
        node.actual_loops = 1.0
        node.actual_total_ms = _num(stats.get("executionTimeMillisEstimate"))
    inputs = _stage_inputs(stage)
    stat_inputs = _stage_inputs(stats) if stats is not None else ([pass_down] if pass_down is not None else [])
    for i, child in enumerate(inputs):
        node.children.append(
            _mongo_stage(child, stat_inputs[i] if i < len(stat_inputs) else None, collection, depth + 1)
        )
    return node
