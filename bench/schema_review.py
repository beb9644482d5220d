"""Schema review speed: parse (pglast vs sqlglot) and rule time on generated pg_dump-style schemas.

The measurements live in `bench/schema_parse.py` (runnable alone with `python -m bench.schema_parse`);
this module plugs them into `python -m bench`.
"""

from __future__ import annotations

import json
from typing import Any

from bench._util import BenchEnv

NAME = "schema_review"


def run(benv: BenchEnv, *, quick: bool) -> dict[str, Any]:
    del benv
    from bench import schema_parse

    rows = schema_parse.main(quick=quick)
    verdicts = [r["passed"] for r in rows if isinstance(r.get("passed"), bool)]
    return {"name": NAME, "rows": rows, "target": "per row", "passed": all(verdicts) if verdicts else None}


def render(result: dict[str, Any]) -> list[str]:
    lines = [f"{NAME}: DDL review (parse + rules)"]
    for row in result["rows"]:
        lines.append(f"  {json.dumps(row)}")
    return lines
