"""QRY rules: anti-patterns visible in the SQL text alone (static review, nothing runs).

Each rule is a `(RuleSpec, check)` pair in `RULES`. A check receives the parsed sqlglot expression
(never mutated), the statement text, its first line in the reviewed text, the live `Catalog` when
one is known (column types, nullability, indexes) and the sqlglot dialect name, and yields
findings with `subject_kind="query"`.

The rules live in rules_* modules by theme: rules_volume (how much a statement reads, writes or sends),
rules_subqueries, rules_sargability, rules_predicates and rules_joins; their shared helpers (thresholds,
the finding builder, column-to-table resolution) in rules_common. This module lists them in `RULES`, in id
order, and keeps every name importable from here.
"""

from __future__ import annotations

from dbspecialist.knowledge.findings import RuleSpec
from dbspecialist.knowledge.queries.rules_common import (
    LARGE_IN_LIST,
    LARGE_OFFSET,
    PARTITIONED_NO_PARTITIONS_NOTE,
    SUBJECT_CHARS,
    Check,
    QueryCatalog,
    TableRef,
    catalog_column,
    catalog_table,
    engine_dialect,
    engine_of,
    follow_path,
    node_path,
    table_of,
    table_sql,
)
from dbspecialist.knowledge.queries.rules_joins import (
    CARTESIAN_JOIN,
    DISTINCT_OVER_JOIN,
    check_cartesian_join,
    check_distinct_over_join,
)
from dbspecialist.knowledge.queries.rules_predicates import (
    IMPLICIT_CONVERSION,
    LEADING_WILDCARD,
    NULL_COMPARISON,
    OR_ACROSS_COLUMNS,
    check_implicit_conversion,
    check_leading_wildcard,
    check_null_comparison,
    check_or_across_columns,
)
from dbspecialist.knowledge.queries.rules_sargability import (
    NON_SARGABLE,
    check_non_sargable,
)
from dbspecialist.knowledge.queries.rules_subqueries import (
    CORRELATED_SELECT_SUBQUERY,
    COUNT_FOR_EXISTENCE,
    LIMIT_WITHOUT_ORDER,
    NOT_IN_SUBQUERY,
    check_correlated_select_subquery,
    check_count_for_existence,
    check_limit_without_order,
    check_not_in_subquery,
)
from dbspecialist.knowledge.queries.rules_volume import (
    LARGE_IN,
    N_PLUS_ONE,
    OFFSET_PAGINATION,
    ORDER_BY_RANDOM,
    SELECT_STAR,
    UNBOUNDED_WRITE,
    check_large_in_list,
    check_n_plus_one,
    check_offset_pagination,
    check_order_by_random,
    check_select_star,
    check_unbounded_write,
)

RULES: tuple[tuple[RuleSpec, Check], ...] = (
    (SELECT_STAR, check_select_star),
    (NOT_IN_SUBQUERY, check_not_in_subquery),
    (NON_SARGABLE, check_non_sargable),
    (IMPLICIT_CONVERSION, check_implicit_conversion),
    (OR_ACROSS_COLUMNS, check_or_across_columns),
    (LEADING_WILDCARD, check_leading_wildcard),
    (OFFSET_PAGINATION, check_offset_pagination),
    (UNBOUNDED_WRITE, check_unbounded_write),
    (CARTESIAN_JOIN, check_cartesian_join),
    (CORRELATED_SELECT_SUBQUERY, check_correlated_select_subquery),
    (DISTINCT_OVER_JOIN, check_distinct_over_join),
    (ORDER_BY_RANDOM, check_order_by_random),
    (COUNT_FOR_EXISTENCE, check_count_for_existence),
    (LARGE_IN, check_large_in_list),
    (LIMIT_WITHOUT_ORDER, check_limit_without_order),
    (N_PLUS_ONE, check_n_plus_one),
    (NULL_COMPARISON, check_null_comparison),
)

__all__ = [
    "CARTESIAN_JOIN",
    "CORRELATED_SELECT_SUBQUERY",
    "COUNT_FOR_EXISTENCE",
    "DISTINCT_OVER_JOIN",
    "IMPLICIT_CONVERSION",
    "LARGE_IN",
    "LARGE_IN_LIST",
    "LARGE_OFFSET",
    "LEADING_WILDCARD",
    "LIMIT_WITHOUT_ORDER",
    "NON_SARGABLE",
    "NOT_IN_SUBQUERY",
    "NULL_COMPARISON",
    "N_PLUS_ONE",
    "OFFSET_PAGINATION",
    "ORDER_BY_RANDOM",
    "OR_ACROSS_COLUMNS",
    "PARTITIONED_NO_PARTITIONS_NOTE",
    "RULES",
    "SELECT_STAR",
    "SUBJECT_CHARS",
    "UNBOUNDED_WRITE",
    "Check",
    "QueryCatalog",
    "TableRef",
    "catalog_column",
    "catalog_table",
    "check_cartesian_join",
    "check_correlated_select_subquery",
    "check_count_for_existence",
    "check_distinct_over_join",
    "check_implicit_conversion",
    "check_large_in_list",
    "check_leading_wildcard",
    "check_limit_without_order",
    "check_n_plus_one",
    "check_non_sargable",
    "check_not_in_subquery",
    "check_null_comparison",
    "check_offset_pagination",
    "check_or_across_columns",
    "check_order_by_random",
    "check_select_star",
    "check_unbounded_write",
    "engine_dialect",
    "engine_of",
    "follow_path",
    "node_path",
    "table_of",
    "table_sql",
]
