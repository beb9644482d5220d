"""Migration linter and planner speed: lint and plan 1,000 generated PostgreSQL migration statements (target ≤ 2 s).

The statements are generated here, deterministically (no data file): ADD COLUMN with and without (volatile)
defaults, SET NOT NULL, CREATE INDEX with and without CONCURRENTLY, foreign keys (NOT VALID + VALIDATE and not),
CHECK and UNIQUE constraints, type changes, renames, drops, new tables, timeouts and transaction blocks, over 40
tables whose sizes go from a thousand to a hundred million rows (passed as `table_stats`).
Times are wall time in one process, the median of a few runs after a warm-up: `lint_migration(text)` alone, and
`plan_migration(text, table_stats=...)`, which lints the change too. Both must stay under the target.

Run alone with `python -m bench.migrations [--quick]`.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

NAME = "migrations"
TARGET_S = 2.0
STATEMENTS = 1_000
TABLES = 40


def table_stats(tables: int = TABLES) -> dict[str, dict[str, int]]:
    """Row counts from 1,000 to 100 million (10^3 … 10^8, cycling), ~120 bytes a row."""
    stats = {}
    for i in range(tables):
        rows = 10 ** (3 + i % 6) * (1 + i % 4)
        stats[f"t{i}"] = {"rows": rows, "bytes": rows * 120}
    return stats


def _templates() -> list[Callable[[int, str, str, str], list[str]]]:
    """Each template turns (n, table, other table, fresh column) into one or more statements."""
    return [
        lambda n, t, o, c: [f"ALTER TABLE {t} ADD COLUMN {c} text"],
        lambda n, t, o, c: [f"ALTER TABLE {t} ADD COLUMN {c} integer NOT NULL DEFAULT 0"],
        lambda n, t, o, c: [f"ALTER TABLE {t} ADD COLUMN {c} timestamptz DEFAULT now()"],
        lambda n, t, o, c: [f"ALTER TABLE {t} ADD COLUMN {c} uuid DEFAULT gen_random_uuid()"],
        lambda n, t, o, c: [f"ALTER TABLE {t} ADD COLUMN {c} bigint", f"ALTER TABLE {t} ALTER COLUMN {c} SET NOT NULL"],
        lambda n, t, o, c: [
            f"ALTER TABLE {t} ADD COLUMN {c} text",
            f"CREATE INDEX CONCURRENTLY {t}_{c}_idx ON {t} ({c})",
        ],
        lambda n, t, o, c: [f"ALTER TABLE {t} ADD COLUMN {c} text", f"CREATE INDEX {t}_{c}_idx ON {t} ({c})"],
        lambda n, t, o, c: [
            f"ALTER TABLE {t} ADD COLUMN {c} bigint",
            f"ALTER TABLE {t} ADD CONSTRAINT {t}_{c}_fk FOREIGN KEY ({c}) REFERENCES {o} (id)",
        ],
        lambda n, t, o, c: [
            f"ALTER TABLE {t} ADD COLUMN {c} bigint",
            f"ALTER TABLE {t} ADD CONSTRAINT {t}_{c}_fk FOREIGN KEY ({c}) REFERENCES {o} (id) NOT VALID",
            f"ALTER TABLE {t} VALIDATE CONSTRAINT {t}_{c}_fk",
        ],
        lambda n, t, o, c: [f"ALTER TABLE {t} ADD COLUMN {c} integer", f"ALTER TABLE {t} ALTER COLUMN {c} TYPE bigint"],
        lambda n, t, o, c: [
            f"ALTER TABLE {t} ADD COLUMN {c} varchar(50)",
            f"ALTER TABLE {t} ALTER COLUMN {c} TYPE varchar(200)",
        ],
        lambda n, t, o, c: [
            f"ALTER TABLE {t} ADD COLUMN {c} text",
            f"ALTER TABLE {t} RENAME COLUMN {c} TO {c}_renamed",
        ],
        lambda n, t, o, c: [f"ALTER TABLE {t} ADD COLUMN {c} text", f"ALTER TABLE {t} DROP COLUMN {c}"],
        lambda n, t, o, c: [
            f"ALTER TABLE {t} ADD COLUMN {c} integer",
            f"ALTER TABLE {t} ADD CONSTRAINT {t}_{c}_check CHECK ({c} >= 0) NOT VALID",
            f"ALTER TABLE {t} VALIDATE CONSTRAINT {t}_{c}_check",
        ],
        lambda n, t, o, c: [
            f"ALTER TABLE {t} ADD COLUMN {c} text",
            f"ALTER TABLE {t} ADD CONSTRAINT {t}_{c}_key UNIQUE ({c})",
        ],
        lambda n, t, o, c: [
            f"CREATE TABLE new_{n} (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, {o}_id bigint NOT NULL "
            f"REFERENCES {o} (id), payload jsonb, created_at timestamptz NOT NULL DEFAULT now())",
            f"CREATE INDEX new_{n}_{o}_idx ON new_{n} ({o}_id)",
        ],
        lambda n, t, o, c: [
            "BEGIN",
            f"ALTER TABLE {t} ADD COLUMN {c} boolean DEFAULT false",
            f"ALTER TABLE {t} ALTER COLUMN {c} SET NOT NULL",
            "COMMIT",
        ],
        lambda n, t, o, c: [
            "SET lock_timeout = '1s'",
            f"ALTER TABLE {t} ADD COLUMN {c} serial",
            "RESET lock_timeout",
        ],
        lambda n, t, o, c: [
            f"CREATE INDEX CONCURRENTLY {t}_{c}_old ON {t} (id)",
            f"DROP INDEX CONCURRENTLY {t}_{c}_old",
            f"DROP INDEX {t}_{c}_gone",
        ],
        lambda n, t, o, c: [f"CREATE TABLE tmp_{n} (id int)", f"ALTER TABLE tmp_{n} RENAME TO tmp_{n}_renamed"],
    ]


def make_migration(statements: int = STATEMENTS, tables: int = TABLES) -> tuple[str, int]:
    """A migration file of exactly `statements` statements (each ending with `;` on its own line or lines)."""
    templates = _templates()
    out: list[str] = []
    n = 0
    while len(out) < statements:
        table = f"t{n % tables}"
        other = f"t{(n * 7 + 3) % tables}"
        produced = templates[n % len(templates)](n, table, other, f"c{n}")
        if len(out) + len(produced) > statements:
            produced = [f"ALTER TABLE {table} ADD COLUMN c{n}_{i} text" for i in range(statements - len(out))]
        out.extend(produced)
        n += 1
    return "".join(f"{statement};\n" for statement in out), len(out)


def _median_s(fn: Callable[[], object], runs: int) -> float:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def main(quick: bool = False) -> list[dict[str, Any]]:
    text, count = make_migration()
    stats = table_stats()
    try:
        from dbspecialist.knowledge.migrations.lint import lint_migration
        from dbspecialist.knowledge.migrations.plan import plan_migration
    except ImportError as exc:  # the linter or a planner is missing from this checkout
        return [{"what": f"lint + plan {count} PostgreSQL statements", "skipped": f"not available yet: {exc}"}]
    report = lint_migration(text)  # warm-up: imports pglast and the rules
    plan = plan_migration(text, table_stats=stats)
    runs = 3 if quick else 5
    lint_s = _median_s(lambda: lint_migration(text), runs)
    plan_s = _median_s(lambda: plan_migration(text, table_stats=stats), runs)
    return [
        {
            "what": f"lint_migration: {count} PostgreSQL statements ({len(text):,} chars)",
            "statements_read": report.statements,
            "findings": len(report.findings),
            "median_s": round(lint_s, 3),
            "target_s": TARGET_S,
            "passed": lint_s <= TARGET_S,
        },
        {
            "what": f"plan_migration (lints too): {count} statements, table_stats for {len(stats)} tables",
            "steps": len(plan.steps),
            "findings": len(plan.findings),
            "median_s": round(plan_s, 3),
            "target_s": TARGET_S,
            "passed": plan_s <= TARGET_S,
        },
    ]


def run(benv: Any, *, quick: bool) -> dict[str, Any]:
    """`python -m bench` entry (bench.__main__ lists this module)."""
    del benv
    rows = main(quick=quick)
    verdicts = [r["passed"] for r in rows if isinstance(r.get("passed"), bool)]
    return {
        "name": NAME,
        "rows": rows,
        "target": f"≤ {TARGET_S:.0f} s each",
        "passed": all(verdicts) if verdicts else None,
    }


def render(result: dict[str, Any]) -> list[str]:
    lines = [f"{NAME}: lint and plan {STATEMENTS:,} PostgreSQL migration statements (target ≤ {TARGET_S:.0f} s)"]
    for row in result["rows"]:
        verdict = {True: "PASS", False: "FAIL"}.get(row.get("passed"), "n/a")
        figures = {k: v for k, v in row.items() if k not in ("what", "passed")}
        lines.append(f"  {verdict:<4} {row['what']}  {json.dumps(figures)}")
    return lines


if __name__ == "__main__":
    result = run(None, quick="--quick" in sys.argv)
    print("\n".join(render(result)))
