"""cold_start: spawn the stdio server, answer `initialize`, return `tools/list`; ours next to the SDK floor.

Timed with a raw JSON-RPC driver from just before Popen to the tools/list response line, so no
client library is in the figure. Runs of ours and of the floor alternate, so drift hits both alike.
Also: `python -X importtime` of both servers (top imports, what ours imports beyond the floor, and
which dbspecialist module pulls which dependency) and an in-process phase breakdown.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any

from bench._util import BENCH_DIR, REPO_DIR, BenchEnv, StdioRpc, minimal_cmd, ms, ours_cmd

NAME = "cold_start"
TARGET_OVERHEAD_MS = 150.0


def one_start(cmd: list[str], env: dict[str, str], *, stderr: Any = subprocess.DEVNULL) -> dict[str, Any]:
    with StdioRpc(cmd, env, stderr=stderr) as rpc:
        rpc.initialize()
        init_ns = time.perf_counter_ns() - rpc.started_ns
        rpc.notify("notifications/initialized")
        tools = rpc.request("tools/list")["tools"]
        list_ns = time.perf_counter_ns() - rpc.started_ns
    return {"init_ms": ms(init_ns), "tools_list_ms": ms(list_ns), "tools": len(tools)}


def _stats(values: list[float]) -> dict[str, float]:
    return {
        "median_ms": round(statistics.median(values), 1),
        "min_ms": round(min(values), 1),
        "max_ms": round(max(values), 1),
    }


# --------------------------------------------------------------------------- -X importtime


@dataclass
class Imp:
    name: str
    self_us: int
    cum_us: int
    depth: int
    children: list[Imp] = field(default_factory=list)


def parse_importtime(text: str) -> list[Imp]:
    """All modules from `-X importtime` output, each with its direct children (first importer wins)."""
    nodes: list[Imp] = []
    pending: list[Imp] = []
    for line in text.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_s, cum_s, name_part = line.removeprefix("import time:").split("|")
        depth = (len(name_part) - len(name_part.lstrip(" ")) - 1) // 2
        node = Imp(name_part.strip(), int(self_s), int(cum_s), depth)
        children = []
        while pending and pending[-1].depth > depth:
            children.append(pending.pop())
        node.children = children[::-1]
        pending.append(node)
        nodes.append(node)
    return nodes


def importtime_of(cmd: list[str], env: dict[str, str]) -> list[Imp]:
    with tempfile.TemporaryFile() as err:
        one_start([cmd[0], "-X", "importtime", *cmd[1:]], env, stderr=err)
        err.seek(0)
        return parse_importtime(err.read().decode(errors="replace"))


def analyse_imports(ours: list[Imp], floor: list[Imp]) -> dict[str, Any]:
    top = sorted(ours, key=lambda n: n.cum_us, reverse=True)[:10]
    floor_names = {n.name for n in floor}
    extra: dict[str, float] = {}
    extra_count: dict[str, int] = {}
    for n in ours:
        if n.name not in floor_names:
            pkg = n.name.split(".")[0]
            extra[pkg] = extra.get(pkg, 0) + n.self_us
            extra_count[pkg] = extra_count.get(pkg, 0) + 1
    beyond = sorted(extra.items(), key=lambda kv: kv[1], reverse=True)
    own = []
    for n in ours:
        if n.name.split(".")[0] != "dbspecialist":
            continue
        heavy = sorted(
            (c for c in n.children if not c.name.startswith("dbspecialist") and c.cum_us >= 1000),
            key=lambda c: c.cum_us,
            reverse=True,
        )
        own.append(
            {
                "module": n.name,
                "cumulative_ms": round(n.cum_us / 1000, 1),
                "self_ms": round(n.self_us / 1000, 1),
                "pulls": [{"module": c.name, "cumulative_ms": round(c.cum_us / 1000, 1)} for c in heavy],
            }
        )
    return {
        "note": "-X importtime inflates times; compare modules with each other, not with the wall-clock figures",
        "total_ms_ours": round(sum(n.self_us for n in ours) / 1000, 1),
        "total_ms_floor": round(sum(n.self_us for n in floor) / 1000, 1),
        "modules_ours": len(ours),
        "modules_floor": len(floor),
        "top10_cumulative": [
            {"module": n.name, "cumulative_ms": round(n.cum_us / 1000, 1), "self_ms": round(n.self_us / 1000, 1)}
            for n in top
        ],
        "beyond_floor_by_package": [
            {"package": pkg, "self_ms_sum": round(us / 1000, 1), "modules": extra_count[pkg]} for pkg, us in beyond
        ],
        "beyond_floor_total_ms": round(sum(extra.values()) / 1000, 1),
        "dbspecialist_modules": sorted(own, key=lambda d: d["cumulative_ms"], reverse=True),
    }


# --------------------------------------------------------------------------- in-process phases


def phases(which: str, env: dict[str, str], runs: int) -> dict[str, Any]:
    """Median of each phase over `runs` fresh interpreters."""
    samples: list[dict[str, Any]] = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, str(BENCH_DIR / "_startup_phases.py"), which],
            capture_output=True,
            env=env,
            cwd=REPO_DIR,
            timeout=60,
            check=False,
        )
        samples.append(json.loads(out.stdout.decode().strip().splitlines()[-1]))
    first = samples[0]
    rows = []
    for i, p in enumerate(first["phases"]):
        values = [s["phases"][i]["ms"] for s in samples if len(s["phases"]) > i]
        rows.append({"phase": p["phase"], "median_ms": round(statistics.median(values), 2)})
    return {
        "runs": runs,
        "phases": rows,
        "total_median_ms": round(statistics.median(s["total_ms"] for s in samples), 1),
        "error": first["error"],
    }


def interpreter_floor(env: dict[str, str], runs: int) -> dict[str, float]:
    values = []
    for _ in range(runs):
        t0 = time.perf_counter_ns()
        subprocess.run([sys.executable, "-c", "pass"], env=env, check=True)
        values.append(ms(time.perf_counter_ns() - t0))
    return _stats(values)


# --------------------------------------------------------------------------- the benchmark


def run(benv: BenchEnv, *, quick: bool) -> dict[str, Any]:
    runs = 3 if quick else 10
    env = benv.env
    # Warm-up (unreported): builds the sample DB and writes .pyc files for both servers.
    for cmd in (ours_cmd(), minimal_cmd()):
        one_start(cmd, env)

    samples: dict[str, list[dict[str, Any]]] = {"ours": [], "floor": []}
    for _ in range(runs):
        samples["ours"].append(one_start(ours_cmd(), env))
        samples["floor"].append(one_start(minimal_cmd(), env))

    def figures(key: str) -> dict[str, Any]:
        s = samples[key]
        return {
            "tools_list": _stats([x["tools_list_ms"] for x in s]),
            "initialize": _stats([x["init_ms"] for x in s]),
            "tools": s[0]["tools"],
            "runs_ms": [round(x["tools_list_ms"], 1) for x in s],
        }

    ours, floor = figures("ours"), figures("floor")
    overhead = round(ours["tools_list"]["median_ms"] - floor["tools_list"]["median_ms"], 1)
    overhead_min = round(ours["tools_list"]["min_ms"] - floor["tools_list"]["min_ms"], 1)
    imports = analyse_imports(importtime_of(ours_cmd(), env), importtime_of(minimal_cmd(), env))
    return {
        "name": NAME,
        "runs": runs,
        "ours": {"command": "python -m dbspecialist serve", **ours},
        "floor": {"command": "python bench/minimal_server.py", **floor},
        "overhead_median_ms": overhead,
        "overhead_min_ms": overhead_min,
        "target": f"ours <= floor + {TARGET_OVERHEAD_MS:.0f} ms (median, spawn -> tools/list)",
        "passed": overhead <= TARGET_OVERHEAD_MS,
        "interpreter_python_c_pass": interpreter_floor(env, 3 if quick else 5),
        "phases_ours": phases("ours", env, 1 if quick else 3),
        "phases_floor": phases("minimal", env, 1 if quick else 3),
        "importtime": imports,
    }


def render(result: dict[str, Any]) -> list[str]:
    o, f = result["ours"], result["floor"]
    mark = "PASS" if result["passed"] else "FAIL"
    lines = [
        f"cold_start  (stdio, spawn -> initialize answered -> tools/list returned; {result['runs']} runs each)",
        f"  {'':<34}{'median':>10}{'min':>10}{'max':>10}{'init med':>11}  tools",
    ]
    for label, d in (("ours  python -m dbspecialist serve", o), ("floor minimal MCPServer, 1 tool", f)):
        t = d["tools_list"]
        lines.append(
            f"  {label:<34}{t['median_ms']:>8.1f}ms{t['min_ms']:>8.1f}ms{t['max_ms']:>8.1f}ms"
            f"{d['initialize']['median_ms']:>9.1f}ms  {d['tools']}"
        )
    lines.append(
        f"  {'overhead (ours - floor, median)':<34}{result['overhead_median_ms']:>8.1f}ms"
        f"   target <= {TARGET_OVERHEAD_MS:.0f} ms  {mark}"
    )
    lines.append(
        f"  {'overhead (ours - floor, min)':<34}{result['overhead_min_ms']:>8.1f}ms   (less sensitive to load)"
    )
    it = result["interpreter_python_c_pass"]
    lines.append(
        f"  {'(python -c pass, for scale)':<34}{it['median_ms']:>8.1f}ms{it['min_ms']:>8.1f}ms{it['max_ms']:>8.1f}ms"
    )

    for key, title in (("phases_ours", "ours"), ("phases_floor", "floor")):
        p = result[key]
        lines.append(f"  in-process phases, {title} (median of {p['runs']}; total {p['total_median_ms']:.1f} ms):")
        lines += [f"    {row['median_ms']:>8.2f} ms  {row['phase']}" for row in p["phases"]]
        if p["error"]:
            lines.append(f"    error: {p['error']}")

    imp = result["importtime"]
    lines.append(
        f"  -X importtime, ours: {imp['modules_ours']} modules, {imp['total_ms_ours']:.0f} ms self-time total "
        f"(floor: {imp['modules_floor']} modules, {imp['total_ms_floor']:.0f} ms)"
    )
    lines.append("    top 10 cumulative:")
    lines += [
        f"    {row['cumulative_ms']:>8.1f} ms  {row['module']}  (self {row['self_ms']:.1f})"
        for row in imp["top10_cumulative"]
    ]
    lines.append(
        f"    imported by ours but not by the floor: {imp['beyond_floor_total_ms']:.1f} ms self-time, by package:"
    )
    lines += [
        f"    {row['self_ms_sum']:>8.1f} ms  {row['package']} ({row['modules']} modules)"
        for row in imp["beyond_floor_by_package"][:10]
    ]
    lines.append("    dbspecialist modules (cumulative) and the dependencies each imports first (>= 1 ms):")
    for row in imp["dbspecialist_modules"]:
        if row["cumulative_ms"] < 1 and not row["pulls"]:
            continue
        pulls = ", ".join(f"{p['module']} {p['cumulative_ms']:.1f}" for p in row["pulls"][:5])
        lines.append(
            f"    {row['cumulative_ms']:>8.1f} ms  {row['module']} (self {row['self_ms']:.1f})"
            + (f"  <- {pulls}" if pulls else "")
        )
    return lines
