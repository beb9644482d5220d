"""The one entry point for plan analysis: detect → parse → annotate → rules → compact tree.

PostgreSQL plans are read here (`postgres_parse`); MySQL, MariaDB, SQLite and MongoDB plans by
`other_parse`, with their rules in `rules_other.RULES_BY_ENGINE` (both imported lazily, so a
missing module only means fewer formats, never a crash). Bad input raises ValueError naming the
accepted formats; nothing else escapes.
"""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Callable, Iterable
from typing import Any

from pydantic import BaseModel, Field

from dbspecialist.knowledge.findings import Finding, Report, RuleSpec
from dbspecialist.knowledge.plans.annotate import annotate_owned, iter_nodes
from dbspecialist.knowledge.plans.compact import compact_tree
from dbspecialist.knowledge.plans.model import CompactNode, Plan, PlanNode

ACCEPTED_FORMATS = (
    "PostgreSQL EXPLAIN text (as psql prints it) or JSON; MySQL tabular, FORMAT=JSON, FORMAT=TREE or "
    "EXPLAIN ANALYZE; MariaDB ANALYZE FORMAT=JSON; SQLite EXPLAIN QUERY PLAN; MongoDB explain output"
)
_ALIASES = {"postgres": "postgresql", "pg": "postgresql", "postgresql": "postgresql", "mysql": "mysql",
            "mariadb": "mariadb", "sqlite": "sqlite", "mongodb": "mongodb", "mongo": "mongodb"}  # fmt: skip


MAX_FINDINGS_PER_RULE = 20  # a 5,000-node plan can flag hundreds of nodes; the worst 20 per rule say enough


class PlanAnalysis(BaseModel):
    engine: str
    format: str
    analyzed: bool = Field(description="the plan has actual times/rows (EXPLAIN ANALYZE)")
    planning_ms: float | None = None
    execution_ms: float | None = None
    findings: list[Finding]
    counts: dict[str, int] = Field(description="findings per severity")
    compact: list[CompactNode] = Field(description="one line per node: enough to explain the plan")
    nodes: int = Field(description="number of plan nodes")
    warnings: list[str] = Field(default_factory=list)


def _other(module: str) -> Any:
    try:
        return importlib.import_module(f"dbspecialist.knowledge.plans.{module}")
    except ImportError:
        return None


def _looks_postgres(raw: Any) -> bool:
    if isinstance(raw, str):
        text = raw.strip()
        if text[:1] in ("[", "{"):
            try:
                raw = json.loads(text)
            except (ValueError, RecursionError):
                return '"Node Type"' in text
        else:
            return "width=" in text or "Seq Scan" in text or "Index Scan" in text
    if isinstance(raw, dict):
        if "QUERY PLAN" in raw:
            return _looks_postgres(raw["QUERY PLAN"])
        return isinstance(raw.get("Plan"), dict) or "Node Type" in raw
    if isinstance(raw, list) and len(raw) >= 1:
        return _looks_postgres(raw[0]) if isinstance(raw[0], dict) else False
    return False


def detect_engine(raw: Any) -> str:
    """'postgresql', 'mysql', 'mariadb', 'sqlite' or 'mongodb'; ValueError when the format is not one we read."""
    try:
        if _looks_postgres(raw):
            return "postgresql"
        other = _other("other_parse")
        found = other.detect(raw) if other is not None else None
        if isinstance(found, str) and found in _ALIASES:
            return _ALIASES[found]
        if isinstance(raw, str) and raw.strip():
            from dbspecialist.knowledge.plans.postgres_parse import parse_postgres_plan

            parse_postgres_plan(raw)  # COSTS OFF text and the like: PostgreSQL if it reads as one
            return "postgresql"
    except ValueError:
        pass
    except Exception as exc:  # detection must only ever say "not a plan"
        raise ValueError(f"Could not read the plan ({type(exc).__name__}). Accepted: {ACCEPTED_FORMATS}.") from None
    raise ValueError(f"Unrecognised plan format. Accepted: {ACCEPTED_FORMATS}.")


def _parse(raw: Any, engine: str) -> Plan:
    if engine == "postgresql":
        from dbspecialist.knowledge.plans.postgres_parse import parse_postgres_plan

        if not isinstance(raw, str | dict | list):
            raise ValueError(f"A PostgreSQL plan is text or JSON, not {type(raw).__name__}")
        return parse_postgres_plan(raw)
    other = _other("other_parse")
    if other is None:
        raise ValueError(f"Plans from {engine} cannot be read by this build; accepted: PostgreSQL text or JSON.")
    plan = other.parse_plan(raw, engine)
    if not isinstance(plan, Plan):
        raise ValueError(f"the {engine} plan reader returned no plan")
    return plan


def _rules(engine: str) -> Iterable[tuple[RuleSpec, Callable[..., Iterable[Finding]]]]:
    if engine == "postgresql":
        from dbspecialist.knowledge.plans.rules_postgres import RULES

        return RULES
    other = _other("rules_other")
    if other is None:
        return ()
    by_engine = getattr(other, "RULES_BY_ENGINE", {})
    return tuple(by_engine.get(engine, ()))


_PARAMETER = re.compile(r"\$\d+\b")


def generic_plan_warnings(plan: Plan, sql: Any, nodes: list[PlanNode]) -> list[str]:
    """What a generic plan explained with NULL arguments (a `sql` with $1, $2 ...) does not show.

    Run-time partition pruning at executor start-up uses the arguments: with NULL for each $n it removes every
    partition the $n select ("Subplans Removed"), so their scans are missing from the plan. The PostgreSQL adapter
    then explains the statement again with enable_partition_pruning off (recorded in the plan's Settings).
    """
    if plan.analyzed or not isinstance(sql, str):
        return []
    params = sorted(set(_PARAMETER.findall(sql)), key=lambda p: int(p[1:]))
    if not params:
        return []
    named = ", ".join(params[:3]) + (", ..." if len(params) > 3 else "")
    removed = [(n, n.extra.get("Subplans Removed")) for n in nodes]
    removed = [(n, count) for n, count in removed if isinstance(count, int | float) and count > 0]
    if removed:
        where = "; ".join(f"#{n.node_id} {n.node_type}: Subplans Removed: {count:.0f}" for n, count in removed[:5])
        return [
            f"Partition scans are missing from this plan ({where}). PostgreSQL pruned those partitions at executor "
            f"start-up with NULL in place of {named} (the generic plan is explained with NULL arguments), so no "
            f"rule could look at their scans. Put representative values in place of {named} and explain again "
            "(analyze=true then also measures it) to see the partitions a real call scans."
        ]
    if plan.settings.get("enable_partition_pruning") == "off" and plan.settings.get("plan_cache_mode") == (
        "force_generic_plan"
    ):
        return [
            "This generic plan was explained with enable_partition_pruning = off: NULL in place of "
            f"{named} would have pruned every partition they select at executor start-up, so it shows all the "
            "partitions the planner kept. A real call still skips, at start-up, the partitions its values cannot "
            f"match; explain with representative values in place of {named} to see which it scans."
        ]
    return []


def sqlite_run_warnings(plan: Plan) -> list[str]:
    """What a timed SQLite run (explain with analyze) measured, and what it could not.

    EXPLAIN QUERY PLAN has no per-step counts: the adapter runs the statement once (under the connection's row
    and byte caps) and times it, so only the total time and the rows returned are measured.
    """
    if plan.engine != "sqlite" or not plan.analyzed:
        return []
    execution = plan.extra.get("execution")
    execution = execution if isinstance(execution, dict) else {}
    rows = execution.get("rows")
    shown = f"{rows} rows" if isinstance(rows, int | float) else "its rows"
    text = (
        f"SQLite ran the statement once and timed it as a whole (execution_ms, {shown} returned); its "
        "EXPLAIN QUERY PLAN has no rows or times per step, so the rules read the plan's steps only."
    )
    if execution.get("truncated") is True:
        text += (
            f" The run stopped at the connection's row/byte cap after {shown}: execution_ms covers those rows, "
            "not the whole result."
        )
    return [text]


def analyze_plan(raw: Any, engine: str | None = None, *, context: dict[str, Any] | None = None) -> PlanAnalysis:
    """Parse, annotate and review a plan. ValueError (with the accepted formats) when `raw` is not a plan."""
    ctx = dict(context or {})
    if engine is not None:
        if engine.lower() not in _ALIASES:
            raise ValueError(f"Unknown engine {engine!r}: use postgresql, mysql, mariadb, sqlite or mongodb")
        engine = _ALIASES[engine.lower()]
    else:
        engine = detect_engine(raw)
    try:
        plan = annotate_owned(_parse(raw, engine))  # the fresh parse is ours: no copy needed
    except ValueError as exc:
        raise ValueError(f"{exc} (read as a {engine} plan; accepted: {ACCEPTED_FORMATS})") from None
    except Exception as exc:  # any reader failure is "not a plan" to the caller
        raise ValueError(
            f"Could not read the {engine} plan ({type(exc).__name__}: {exc}). Accepted: {ACCEPTED_FORMATS}."
        ) from None
    findings: list[Finding] = []
    warnings: list[str] = []
    all_nodes = iter_nodes(plan.root)
    ctx["_nodes"] = all_nodes
    rules = list(_rules(engine))
    for spec, check in rules:
        try:
            found = sorted(check(plan, ctx), key=lambda f: f.severity.rank)
        except Exception as exc:  # one broken rule must not hide the others' findings
            warnings.append(f"rule {spec.id} failed on this plan: {type(exc).__name__}: {exc}")
            continue
        if len(found) > MAX_FINDINGS_PER_RULE:
            warnings.append(
                f"{spec.id} {spec.name}: {len(found) - MAX_FINDINGS_PER_RULE} more nodes flagged, not listed"
            )
        findings.extend(found[:MAX_FINDINGS_PER_RULE])
    if engine == "postgresql":
        warnings.extend(generic_plan_warnings(plan, ctx.get("sql"), all_nodes))
    warnings.extend(sqlite_run_warnings(plan))
    if not plan.analyzed:
        warnings.append(
            "The plan has no actual times or rows (plain EXPLAIN): the timing and row-count rules cannot fire."
        )
    report = Report.of(findings, rules_run=len(rules))
    return PlanAnalysis(
        engine=plan.engine,
        format=plan.format,
        analyzed=plan.analyzed,
        planning_ms=plan.planning_ms,
        execution_ms=plan.execution_ms,
        findings=report.findings,
        counts=report.counts,
        compact=compact_tree(plan),
        nodes=len(all_nodes),
        warnings=warnings,
    )
