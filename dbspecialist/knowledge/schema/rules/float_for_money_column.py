"""SCH036 float-for-money-column: a money-like column (price, amount, total ...) stored as binary floating point."""

from __future__ import annotations

import re
from collections.abc import Iterator

from dbspecialist.adapters.catalog import Column
from dbspecialist.knowledge.findings import Finding, Fix, RuleSpec, Severity
from dbspecialist.knowledge.schema.context import SchemaContext
from dbspecialist.knowledge.sql_text import qualified, quote_ident

SPEC = RuleSpec(
    id="SCH036",
    name="float-for-money-column",
    capability="schema",
    engines=("any",),
    severity=Severity.MEDIUM,
    fix="sometimes",
    summary="A column that holds money is float/real/double, which cannot represent cents exactly.",
)

# Name parts that mean an amount of money (our own list).
MONEY_WORDS: frozenset[str] = frozenset(
    {
        "price",
        "amount",
        "total",
        "subtotal",
        "cost",
        "balance",
        "fee",
        "fees",
        "tax",
        "vat",
        "salary",
        "wage",
        "payment",
        "charge",
        "discount",
        "revenue",
        "refund",
        "credit",
        "debit",
        "cents",
        "money",
        "budget",
        "payout",
        "commission",
        "tip",
        "invoice",
        "spend",
        "spent",
        "earnings",
        "income",
        "deposit",
        "withdrawal",
    }
)
# Name parts that turn such a name into something that is not money (tax_rate, total_weight ...).
NOT_MONEY_WORDS: frozenset[str] = frozenset(
    {
        "rate",
        "ratio",
        "pct",
        "percent",
        "percentage",
        "weight",
        "score",
        "count",
        "distance",
        "duration",
        "seconds",
        "secs",
        "ms",
        "time",
        "hours",
        "minutes",
        "km",
        "kg",
        "lat",
        "lng",
        "latitude",
        "longitude",
        "size",
        "bytes",
        "quantity",
        "qty",
        "factor",
        "multiplier",
        "share",
        "probability",
    }
)

_FLOAT = re.compile(
    r"^(real|float\d*|double( precision)?|binary_float|binary_double|float64|float32)"
    r"(\s*\(\d+(\s*,\s*\d+)?\))?(\s+unsigned)?(\s+zerofill)?$"
)
# MySQL's deprecated FLOAT(M,D) / DOUBLE(M,D): M digits in all, D after the point.
_DIGITS = re.compile(r"\(\s*(\d+)\s*,\s*(\d+)\s*\)")
_WORDS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")


def _words(name: str) -> list[str]:
    return [w.lower() for w in _WORDS.findall(name)]


def is_money_name(name: str) -> bool:
    words = _words(name)
    return bool(words) and any(w in MONEY_WORDS for w in words) and not any(w in NOT_MONEY_WORDS for w in words)


def _scale(column: Column) -> tuple[int, int]:
    """Precision and scale for the exact type: the declared (M,D) of FLOAT(M,D), else (12,2)."""
    match = _DIGITS.search(column.data_type)
    if match:
        digits, decimals = int(match.group(1)), int(match.group(2))
        if 0 < digits <= 65 and decimals <= min(digits, 30):
            return digits, decimals
    return 12, 2


def _fix(ctx: SchemaContext, table_name: str, column: Column) -> Fix | None:
    col = quote_ident(column.name, ctx.engine)
    m, d = _scale(column)
    if ctx.engine == "postgresql":
        sql = f"ALTER TABLE {table_name} ALTER COLUMN {col} TYPE numeric({m},{d});"
    elif ctx.engine == "mysql":
        null = "" if column.nullable else " NOT NULL"
        sql = f"ALTER TABLE {table_name} MODIFY COLUMN {col} DECIMAL({m},{d}){null};"
    elif ctx.engine == "tsql":
        null = " NULL" if column.nullable else " NOT NULL"
        sql = f"ALTER TABLE {table_name} ALTER COLUMN {col} DECIMAL({m},{d}){null};"
    elif ctx.engine == "clickhouse":
        sql = f"ALTER TABLE {table_name} MODIFY COLUMN {col} Decimal({m}, {d});"
    else:
        return None
    return Fix(
        title=f"Store {column.name} as an exact decimal",
        statements=[sql],
        safety="unsafe",
        note="Values already rounded by floating point stay rounded; the table is rewritten. Integer cents also work.",
    )


def check(ctx: SchemaContext) -> Iterator[Finding]:
    """Binary floating point cannot represent most decimal fractions, so sums of money drift.

    ## Why is this bad?
    0.10 has no exact binary representation: adding a float `price` a thousand times gives a total
    that is off by fractions of a cent, and equality checks on amounts fail at random. Money needs
    an exact type: `numeric`/`DECIMAL` with a fixed scale, or an integer count of the smallest unit
    (`price_cents bigint`). Integer `*_cents` columns are therefore not flagged.

    ## Example
    ```sql
    CREATE TABLE order_lines (id bigint PRIMARY KEY, unit_price double precision NOT NULL);
    ```

    ## Use instead
    ```sql
    CREATE TABLE order_lines (id bigint PRIMARY KEY, unit_price numeric(12,2) NOT NULL);
    ```

    ## Fix safety
    Unsafe: the type change rewrites the table, and it cannot restore precision already lost.
    SQLite, Snowflake and BigQuery cannot change the type in place; the table must be rebuilt.
    """
    for table in ctx.tables():
        if table.kind == "collection":
            continue
        name = qualified(table.schema_name, table.name, ctx.engine)
        for column in table.columns:
            data_type = column.data_type.lower().strip()
            if not _FLOAT.match(data_type) or not is_money_name(column.name):
                continue
            yield Finding(
                rule_id=SPEC.id,
                name=SPEC.name,
                severity=SPEC.severity,
                title=f"{table.name}.{column.name} holds money in {column.data_type}, so amounts drift by rounding",
                subject=f"{name}.{quote_ident(column.name, ctx.engine)}",
                subject_kind="column",
                table=table.name,
                evidence={"data_type": column.data_type, "rows": table.row_estimate},
                rationale=(
                    "Floating point stores binary fractions, so most cent values are approximations and sums, "
                    "refunds and comparisons drift. An exact decimal or an integer number of cents does not."
                ),
                help=f"Store {column.name} as numeric/DECIMAL with a fixed scale, or as integer cents.",
                fix=_fix(ctx, name, column),
                line=column.source_line,
            )
