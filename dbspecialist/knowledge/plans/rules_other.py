"""Plan rules for MySQL/MariaDB (PLN030-PLN049), SQLite (PLN050-PLN059) and MongoDB (PLN060-PLN069).

Each rule is a `(RuleSpec, check)` pair; `check(plan, context)` yields findings for a parsed `Plan`
(see `other_parse` for the node scheme). `context` is optional and may hold:

* ``"sql"`` - the statement (SQL text) that produced the plan; used to resolve aliases to tables and to read
  the WHERE / ORDER BY / GROUP BY columns that a suggested index should carry; PLN037 and PLN055 read the OFFSET
  from it, since no plan of these engines shows it (MySQL's FORMAT=TREE aside).
* ``"indexes"`` - ``{index_name: [column, ...]}`` (or ``{table: {index_name: [column, ...]}}``): the definitions
  of the plan's indexes, which PLN035 needs to see that only a prefix of an index is used.

The rules live in one module per engine (rules_mysql and rules_mysql_sorts, rules_sqlite, rules_mongodb), their
thresholds (named constants) and shared helpers in rules_other_common; this module is their registry and keeps
every name importable from here.

Pure: no I/O, no clock; neither the plan nor the context is mutated.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from dbspecialist.knowledge.findings import Finding
from dbspecialist.knowledge.plans.model import Plan
from dbspecialist.knowledge.plans.rules_mongodb import (
    SPEC_PLN060,
    SPEC_PLN061,
    SPEC_PLN062,
    SPEC_PLN063,
    SPEC_PLN064,
    mongo_collscan,
    mongo_docs_examined,
    mongo_fetch_filter,
    mongo_in_memory_sort,
    mongo_keys_examined,
)
from dbspecialist.knowledge.plans.rules_mysql import (
    SPEC_PLN030,
    SPEC_PLN031,
    SPEC_PLN034,
    SPEC_PLN035,
    SPEC_PLN036,
    SPEC_PLN037,
    full_index_scan,
    full_table_scan,
    low_filtered,
    mysql_large_offset,
    nonselective_ref,
    partial_key_use,
)
from dbspecialist.knowledge.plans.rules_mysql_sorts import (
    SPEC_PLN032,
    SPEC_PLN033,
    filesort,
    temporary_table,
)
from dbspecialist.knowledge.plans.rules_other_common import (
    BIG_TABLE_ROWS,
    HIGH_ROWS,
    LARGE_OFFSET_ROWS,
    LOW_FILTERED_PCT,
    MONGO_EXAMINED_RATIO,
    MONGO_MIN_EXAMINED,
    NONSELECTIVE_REF_ROWS,
    Check,
    Rule,
)
from dbspecialist.knowledge.plans.rules_sqlite import (
    SPEC_PLN050,
    SPEC_PLN051,
    SPEC_PLN052,
    SPEC_PLN053,
    SPEC_PLN054,
    SPEC_PLN055,
    sqlite_automatic_index,
    sqlite_correlated_subquery,
    sqlite_large_offset,
    sqlite_multi_index_or,
    sqlite_scan,
    sqlite_temp_btree,
)

__all__ = [
    "BIG_TABLE_ROWS",
    "HIGH_ROWS",
    "LARGE_OFFSET_ROWS",
    "LOW_FILTERED_PCT",
    "MONGO_EXAMINED_RATIO",
    "MONGO_MIN_EXAMINED",
    "NONSELECTIVE_REF_ROWS",
    "RULES_BY_ENGINE",
    "SPEC_PLN030",
    "SPEC_PLN031",
    "SPEC_PLN032",
    "SPEC_PLN033",
    "SPEC_PLN034",
    "SPEC_PLN035",
    "SPEC_PLN036",
    "SPEC_PLN037",
    "SPEC_PLN050",
    "SPEC_PLN051",
    "SPEC_PLN052",
    "SPEC_PLN053",
    "SPEC_PLN054",
    "SPEC_PLN055",
    "SPEC_PLN060",
    "SPEC_PLN061",
    "SPEC_PLN062",
    "SPEC_PLN063",
    "SPEC_PLN064",
    "Check",
    "Rule",
    "filesort",
    "full_index_scan",
    "full_table_scan",
    "low_filtered",
    "mongo_collscan",
    "mongo_docs_examined",
    "mongo_fetch_filter",
    "mongo_in_memory_sort",
    "mongo_keys_examined",
    "mysql_large_offset",
    "nonselective_ref",
    "partial_key_use",
    "run_rules",
    "sqlite_automatic_index",
    "sqlite_correlated_subquery",
    "sqlite_large_offset",
    "sqlite_multi_index_or",
    "sqlite_scan",
    "sqlite_temp_btree",
    "temporary_table",
]

# ------------------------------------------------------------------------------------------------ registry

_MYSQL_RULES: Final[tuple[Rule, ...]] = (
    (SPEC_PLN030, full_table_scan),
    (SPEC_PLN031, full_index_scan),
    (SPEC_PLN032, filesort),
    (SPEC_PLN033, temporary_table),
    (SPEC_PLN034, low_filtered),
    (SPEC_PLN035, partial_key_use),
    (SPEC_PLN036, nonselective_ref),
    (SPEC_PLN037, mysql_large_offset),
)

RULES_BY_ENGINE: Final[dict[str, tuple[Rule, ...]]] = {
    "mysql": _MYSQL_RULES,
    "mariadb": _MYSQL_RULES,
    "sqlite": (
        (SPEC_PLN050, sqlite_scan),
        (SPEC_PLN051, sqlite_temp_btree),
        (SPEC_PLN052, sqlite_automatic_index),
        (SPEC_PLN053, sqlite_correlated_subquery),
        (SPEC_PLN054, sqlite_multi_index_or),
        (SPEC_PLN055, sqlite_large_offset),
    ),
    "mongodb": (
        (SPEC_PLN060, mongo_collscan),
        (SPEC_PLN061, mongo_in_memory_sort),
        (SPEC_PLN062, mongo_docs_examined),
        (SPEC_PLN063, mongo_keys_examined),
        (SPEC_PLN064, mongo_fetch_filter),
    ),
}


def run_rules(plan: Plan, context: Mapping[str, Any] | None = None) -> list[Finding]:
    """All findings of the plan's engine's rules, in rule order (Report.of sorts them for output)."""
    ctx: Mapping[str, Any] = context or {}
    return [f for _, check in RULES_BY_ENGINE.get(plan.engine, ()) for f in check(plan, ctx)]
