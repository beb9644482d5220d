"""`python -m bench [--only NAME ...] [--quick] [--strict]`: run the suite, print a table, write JSON.

Exit status is 0 even when a target is missed, unless --strict (then 1); 2 if a benchmark crashed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

from bench import (
    adapters,
    cold_start,
    idle_rss,
    migrations,
    operations,
    plan_analysis,
    round_trip,
    schema_review,
    tuning,
)
from bench._util import BENCH_DIR, BenchEnv

BENCHMARKS: dict[str, ModuleType] = {
    m.NAME: m
    for m in (cold_start, round_trip, idle_rss, adapters, schema_review, tuning, plan_analysis, migrations, operations)
}
DEFAULT_OUTPUT = BENCH_DIR / "results" / "latest.json"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--only",
        action="append",
        choices=sorted(BENCHMARKS),
        metavar="NAME",
        help=f"run only this benchmark (repeatable): {', '.join(BENCHMARKS)}",
    )
    parser.add_argument("--quick", action="store_true", help="fewer runs and calls (a smoke test, noisier figures)")
    parser.add_argument("--strict", action="store_true", help="exit 1 if any target is missed")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help=f"JSON file (default {DEFAULT_OUTPUT})")
    return parser.parse_args(argv)


def environment() -> dict[str, Any]:
    versions: dict[str, str] = {}
    from importlib.metadata import PackageNotFoundError, version

    for dist in ("dbspecialist", "mcp", "mcp-types", "pydantic", "uvicorn", "starlette"):
        try:
            versions[dist] = version(dist)
        except PackageNotFoundError:
            versions[dist] = "absent"
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "load_avg_at_start": [round(x, 2) for x in os.getloadavg()],
        "versions": versions,
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    names = args.only or list(BENCHMARKS)
    report: dict[str, Any] = {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "quick": args.quick,
        "environment": environment(),
        "results": {},
    }
    crashed = False
    t_suite = time.monotonic()
    with BenchEnv.create() as benv:
        for name in names:
            print(f"running {name} ...", file=sys.stderr, flush=True)
            t0 = time.monotonic()
            try:
                result = BENCHMARKS[name].run(benv, quick=args.quick)
            except Exception as exc:
                crashed = True
                traceback.print_exc()
                result = {"name": name, "error": f"{type(exc).__name__}: {exc}", "passed": None}
            result["wall_s"] = round(time.monotonic() - t0, 1)
            result["load_avg_1m_after"] = round(os.getloadavg()[0], 2)
            report["results"][name] = result
    report["wall_s"] = round(time.monotonic() - t_suite, 1)

    print()
    for name, result in report["results"].items():
        if "error" in result:
            print(f"{name}  CRASHED: {result['error']}")
        else:
            print("\n".join(BENCHMARKS[name].render(result)))
        print(f"  ({result['wall_s']:.1f} s)")
        print()

    verdicts = {n: r.get("passed") for n, r in report["results"].items()}
    summary = "  ".join(f"{n}: {'PASS' if v else 'FAIL' if v is False else 'n/a'}" for n, v in verdicts.items())
    print(f"targets  {summary}   (suite {report['wall_s']:.0f} s)")
    cpus = os.cpu_count() or 1
    if report["environment"]["load_avg_at_start"][0] > 0.5 * cpus:
        print(
            f"note: 1-min load average was above half of the {cpus} CPUs at start: other work competes, noisy figures"
        )

    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.output}")

    if crashed:
        return 2
    if args.strict and any(v is False for v in verdicts.values()):
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
