"""Live adapters: introspection speed and round trips, result caps, guard overhead, per engine.

Each engine's benchmark lives in its own module (`bench/<engine>_adapter.py`, runnable alone with
`python -m bench.<engine>_adapter`) and returns one dict per figure; this module runs them all.
An engine whose server is not reachable is reported as skipped, not as a failure.
"""

from __future__ import annotations

import importlib
import json
from typing import Any

from bench._util import BenchEnv

NAME = "adapters"
ENGINES = ("pg_adapter", "mysql_adapter", "mongo_adapter", "redis_adapter")


def run(benv: BenchEnv, *, quick: bool) -> dict[str, Any]:
    del benv  # adapters talk to the local test servers directly
    rows: list[dict[str, Any]] = []
    for module_name in ENGINES:
        try:
            module = importlib.import_module(f"bench.{module_name}")
        except ImportError:
            continue
        try:
            for row in module.main(quick=quick):
                rows.append({"engine": module_name.removesuffix("_adapter"), **row})
        except Exception as exc:  # a server that is down must not hide the other engines
            rows.append({"engine": module_name.removesuffix("_adapter"), "skipped": f"{type(exc).__name__}: {exc}"})
    verdicts = [r["passed"] for r in rows if isinstance(r.get("passed"), bool)]
    return {"name": NAME, "rows": rows, "target": "per row", "passed": all(verdicts) if verdicts else None}


def render(result: dict[str, Any]) -> list[str]:
    lines = [f"{NAME}: live adapters (each row: engine, figure)"]
    for row in result["rows"]:
        figures = {k: v for k, v in row.items() if k not in ("engine", "what")}
        lines.append(f"  {row['engine']:<6} {row.get('what', '')}")
        lines.append(f"         {json.dumps(figures)}")
    return lines
