"""squawk_parity: our PostgreSQL migration linter next to squawk on the corpus in bench/migration_corpus/.

squawk (https://squawkhq.com, the `squawk-cli` package on PyPI) is installed into its own virtualenv,
~/.cache/dbspecialist-bench/squawk-venv (or $DBSPECIALIST_SQUAWK_VENV), the first time; the corpus files are
linted by `squawk --reporter json --pg-version N --include require-table-schema FILE` and by our
`lint_migration(text, "postgres", N)`. A file may set N with a first-lines comment `-- pg-version: 19`
(default 15). Our findings are mapped to squawk's rule names through `SQUAWK_NAMES` in
dbspecialist/knowledge/migrations/lint_rules_postgres.py (our rule id → the squawk names it covers).

The comparison is per statement: squawk reports a 0-based line (of the offending token, which may sit inside a
multi-line statement), we report the statement's first line (1-based); both are mapped to the statement
containing them. For every squawk rule the table gives the statements squawk flagged, the ones we flagged, both,
and lists the differences (file:line, the statement, who fired).

`python -m bench.squawk_parity [--no-install] [--json FILE]`. Needs the network on first use (pip); if squawk
cannot be installed the report says "squawk not available" and still prints our side. Not part of
`python -m bench`.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import re
import subprocess
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench._util import BENCH_DIR

NAME = "squawk_parity"
CORPUS_DIR = BENCH_DIR / "migration_corpus"
SQUAWK_PACKAGE = "squawk-cli==2.70.0"
SQUAWK_VENV = Path(os.environ.get("DBSPECIALIST_SQUAWK_VENV", "~/.cache/dbspecialist-bench/squawk-venv")).expanduser()
DEFAULT_PG_VERSION = "15"
SQUAWK_OPT_IN = ("require-table-schema",)
# squawk accepts these names in its configuration but reports the rules they stand for; a rule of ours naming
# both an alias and a concrete rule is counted under the concrete one.
SQUAWK_ALIASES = {"require-timeout-settings": ("require-lock-timeout", "require-statement-timeout")}
# The squawk rules of /work/shared/reference/expert-rules.md §2 (squawk 2.x), then those squawk 2.70 added that we
# map (ban-drop-constraint, on by default: MIG053); the corpus has cases for each. squawk 2.70's other new
# default rules (ban-drop-view, ban-drop-function, ban-drop-type) have no statement in the corpus and no id of ours.
SQUAWK_RULES = (
    "require-concurrent-index-creation",
    "require-concurrent-index-deletion",
    "require-concurrent-reindex",
    "require-concurrent-partition-detach",
    "ban-concurrent-index-creation-in-transaction",
    "constraint-missing-not-valid",
    "adding-foreign-key-constraint",
    "disallowed-unique-constraint",
    "adding-serial-primary-key-field",
    "ban-create-domain-with-constraint",
    "ban-alter-domain-with-add-constraint",
    "adding-field-with-default",
    "adding-required-field",
    "adding-not-nullable-field",
    "changing-column-type",
    "renaming-column",
    "renaming-table",
    "ban-drop-column",
    "ban-drop-table",
    "ban-drop-database",
    "ban-drop-not-null",
    "ban-truncate-cascade",
    "prefer-bigint-over-int",
    "prefer-bigint-over-smallint",
    "prefer-identity",
    "prefer-text-field",
    "prefer-timestamp-tz",
    "ban-char-field",
    "prefer-robust-stmts",
    "transaction-nesting",
    "ban-uncommitted-transaction",
    "require-enum-value-ordering",
    "require-table-schema",
    "identifier-too-long",
    "ban-duplicate-column-assignments",
    "prefer-repack",
    "require-lock-timeout",
    "require-statement-timeout",
    "ban-drop-constraint",
)
_VERSION_HEADER = re.compile(r"^--\s*pg-version:\s*(\d+(?:\.\d+)?)", re.MULTILINE)
_NOISE = re.compile(rb"(?:\s+|--[^\n]*|/\*.*?\*/)*", re.DOTALL)


@dataclass(frozen=True)
class Statement:
    file: str
    index: int
    line: int  # 1-based first line
    end_line: int
    text: str

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"

    def short(self, width: int = 90) -> str:
        flat = " ".join(self.text.split())
        return flat if len(flat) <= width else flat[: width - 1] + "…"


def split_statements(file: str, text: str) -> list[Statement]:
    """The file's statements with their line span, read by PostgreSQL's own grammar (pglast)."""
    from pglast import parse_sql

    data = text.encode("utf-8")
    statements = []
    for index, raw in enumerate(parse_sql(text)):
        start = raw.stmt_location or 0
        end = start + raw.stmt_len if raw.stmt_len else len(data)
        noise = _NOISE.match(data, start, end)
        start = noise.end() if noise else start
        body = data[start:end].decode("utf-8").strip()
        first = data.count(b"\n", 0, start) + 1
        statements.append(Statement(file, index, first, first + body.count("\n"), body))
    return statements


def statement_at(statements: list[Statement], line: int) -> Statement | None:
    """The statement whose lines contain `line` (1-based), else the last one before it."""
    before = None
    for statement in statements:
        if statement.line <= line <= statement.end_line:
            return statement
        if statement.line <= line:
            before = statement
    return before


def file_version(text: str) -> str:
    found = _VERSION_HEADER.search(text[:500])
    return found.group(1) if found else DEFAULT_PG_VERSION


# --------------------------------------------------------------------------- squawk


def squawk_binary() -> Path | None:
    exe = SQUAWK_VENV / "bin" / "squawk"
    return exe if exe.exists() else None


def install_squawk() -> str | None:
    """Create the virtualenv and pip-install squawk-cli there; None when ready, else what failed."""
    if squawk_binary() is not None:
        return None
    log = SQUAWK_VENV.parent / "squawk-pip.log"
    try:
        SQUAWK_VENV.parent.mkdir(parents=True, exist_ok=True)
        with log.open("w") as out:
            made = subprocess.run([sys.executable, "-m", "venv", str(SQUAWK_VENV)], stdout=out, stderr=out)
            if made.returncode == 0:
                pip = [str(SQUAWK_VENV / "bin" / "python"), "-m", "pip", "install", "-q", SQUAWK_PACKAGE]
                subprocess.run(pip, stdout=out, stderr=out)
    except OSError as exc:
        return f"cannot create {SQUAWK_VENV} ({exc})"
    if squawk_binary() is None:
        return f"pip install {SQUAWK_PACKAGE} failed (see {log})"
    return None


def squawk_version() -> str:
    exe = squawk_binary()
    if exe is None:
        return "absent"
    return subprocess.run([str(exe), "--version"], capture_output=True, text=True).stdout.strip()


def run_squawk(path: Path, pg_version: str) -> list[dict[str, Any]]:
    """squawk's violations for one file (it exits non-zero when it finds any; the JSON is on stdout)."""
    exe = squawk_binary()
    assert exe is not None
    cmd = [str(exe), "--reporter", "json", "--pg-version", pg_version]
    for rule in SQUAWK_OPT_IN:
        cmd += ["--include", rule]
    done = subprocess.run([*cmd, str(path)], capture_output=True, text=True, cwd=path.parent)
    if not done.stdout.strip():
        raise RuntimeError(f"squawk printed nothing for {path.name} (exit {done.returncode}): {done.stderr[:300]}")
    violations: list[dict[str, Any]] = json.loads(done.stdout)
    return violations


# --------------------------------------------------------------------------- ours


def our_mapping() -> tuple[dict[str, tuple[str, ...]], str]:
    """SQUAWK_NAMES from the PostgreSQL rules module, and where it came from."""
    from dbspecialist.knowledge.migrations.lint_rules_postgres import SQUAWK_NAMES

    mapping = {}
    for rule_id, names in SQUAWK_NAMES.items():
        concrete = tuple(name for name in names if name not in SQUAWK_ALIASES)
        expanded = concrete or tuple(target for name in names for target in SQUAWK_ALIASES[name])
        mapping[rule_id] = expanded
    return mapping, "dbspecialist.knowledge.migrations.lint_rules_postgres.SQUAWK_NAMES"


def run_ours(text: str, pg_version: str, mapping: dict[str, tuple[str, ...]]) -> list[tuple[str, int]]:
    """(rule id, line) of each finding of our linter, opt-in rules that squawk also runs included."""
    from dbspecialist.knowledge.migrations.lint import lint_migration

    kwargs: dict[str, Any] = {}
    if "include" in inspect.signature(lint_migration).parameters:
        kwargs["include"] = sorted(rid for rid, names in mapping.items() if set(names) & set(SQUAWK_OPT_IN))
    report = lint_migration(text, "postgres", pg_version, **kwargs)
    return [(finding.rule_id, finding.line or 0) for finding in report.findings]


# --------------------------------------------------------------------------- comparing


def compare(install: bool = True) -> dict[str, Any]:
    files = sorted(CORPUS_DIR.glob("*.sql"))
    problem = install_squawk() if install else (None if squawk_binary() else "squawk is not installed (--no-install)")
    try:
        mapping, mapping_source = our_mapping()
        ours_error = None
    except ImportError as exc:
        mapping, mapping_source, ours_error = {}, "absent", f"our linter is not available: {exc}"
    squawk_hits: dict[str, set[Statement]] = defaultdict(set)
    our_hits: dict[str, set[Statement]] = defaultdict(set)
    unmapped: dict[str, int] = defaultdict(int)
    statements_total = 0
    errors: list[str] = []
    for path in files:
        text = path.read_text()
        version = file_version(text)
        statements = split_statements(path.name, text)
        statements_total += len(statements)
        if problem is None:
            try:
                for violation in run_squawk(path, version):
                    hit = statement_at(statements, int(violation["line"]) + 1)
                    if hit is not None:
                        squawk_hits[violation["rule_name"]].add(hit)
            except (RuntimeError, ValueError, OSError) as exc:
                errors.append(f"squawk on {path.name}: {exc}")
        if ours_error is None:
            try:
                findings = run_ours(text, version, mapping)
            except Exception as exc:  # report and go on: one bad file must not hide the rest
                errors.append(f"our linter on {path.name}: {type(exc).__name__}: {exc}")
                continue
            for rule_id, line in findings:
                hit = statement_at(statements, line)
                names = mapping.get(rule_id, ())
                if hit is None:
                    continue
                if not names:
                    unmapped[rule_id] += 1
                for name in names:
                    our_hits[name].add(hit)
    covered = {name for names in mapping.values() for name in names}
    rules = [*SQUAWK_RULES, *sorted((set(squawk_hits) | set(our_hits)) - set(SQUAWK_RULES))]
    rows = []
    for rule in rules:
        theirs, ours = squawk_hits.get(rule, set()), our_hits.get(rule, set())
        order = sorted(theirs | ours, key=lambda s: (s.file, s.index))
        rows.append(
            {
                "rule": rule,
                "covered_by": sorted(rid for rid, names in mapping.items() if rule in names),
                "squawk": len(theirs),
                "ours": len(ours),
                "both": len(theirs & ours),
                "differences": [
                    {"where": s.where, "statement": s.short(), "fired": "squawk only" if s in theirs else "ours only"}
                    for s in order
                    if (s in theirs) != (s in ours)
                ],
                "mapped": rule in covered,
            }
        )
    agreement = {"all": _agreement(rows), "mapped": _agreement([r for r in rows if r["mapped"]])}
    return {
        "name": NAME,
        "corpus": {"files": [p.name for p in files], "statements": statements_total},
        "squawk": problem or squawk_version(),
        "squawk_available": problem is None,
        "ours": ours_error or "lint_migration",
        "mapping": mapping_source,
        "rows": rows,
        "agreement": agreement,
        "our_rules_without_squawk_name": dict(sorted(unmapped.items())),
        "errors": errors,
    }


def _agreement(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """(rule, statement) pairs flagged by both, out of those flagged by either."""
    both = sum(r["both"] for r in rows)
    either = sum(r["squawk"] + r["ours"] - r["both"] for r in rows)
    return {"both": both, "either": either, "share": round(both / either, 3) if either else None}


def render(result: dict[str, Any]) -> list[str]:
    corpus = result["corpus"]
    lines = [
        f"{NAME}: {corpus['statements']} statements in {len(corpus['files'])} files (bench/migration_corpus/)",
        f"  squawk: {result['squawk'] if result['squawk_available'] else 'squawk not available: ' + result['squawk']}",
        f"  ours:   {result['ours']}  (mapping: {result['mapping']})",
        "",
        f"  {'squawk rule':<46} {'squawk':>6} {'ours':>6} {'both':>6}  our rules",
    ]
    both_sides = result["squawk_available"] and result["ours"] == "lint_migration"
    for row in result["rows"]:
        covered = ", ".join(row["covered_by"]) if row["covered_by"] else "— (no rule of ours maps to it)"
        theirs = row["squawk"] if result["squawk_available"] else "-"
        both = row["both"] if both_sides else "-"
        lines.append(f"  {row['rule']:<46} {theirs:>6} {row['ours']:>6} {both:>6}  {covered}")
    if not both_sides:
        lines.append("  (one side is missing: no agreement figures and no differences)")
    else:
        for scope, label in (("all", "every squawk rule"), ("mapped", "the squawk rules we map to")):
            agreement = result["agreement"][scope]
            if agreement["share"] is not None:
                lines.append(
                    f"  agreement on {label}: {agreement['both']} of {agreement['either']} flagged (rule, statement)"
                    f" pairs flagged by both ({agreement['share']:.0%})"
                )
        lines.append("")
        lines.append("  differences (file:line, who fired, statement):")
        for row in result["rows"]:
            if not row["differences"]:
                continue
            lines.append(f"  {row['rule']}:")
            for diff in row["differences"]:
                lines.append(f"    {diff['where']:<26} {diff['fired']:<12} {diff['statement']}")
    if result["our_rules_without_squawk_name"]:
        extra = ", ".join(f"{rid} x{n}" for rid, n in result["our_rules_without_squawk_name"].items())
        lines.append(f"  our findings with no squawk equivalent: {extra}")
    lines.extend(f"  error: {error}" for error in result["errors"])
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.squawk_parity", description=__doc__.split("\n")[0])
    parser.add_argument("--no-install", action="store_true", help="do not pip-install squawk if it is missing")
    parser.add_argument("--json", type=Path, help="also write the result as JSON to this file")
    args = parser.parse_args(argv)
    result = compare(install=not args.no_install)
    print("\n".join(render(result)))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
