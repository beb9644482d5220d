"""Whatever text arrives, the review returns a report (parse warnings at worst), never an exception."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dbspecialist.knowledge.schema.review import review_ddl

DIALECTS = ["postgres", "mysql", "sqlite", "tsql", "clickhouse", "snowflake", "bigquery"]

FRAGMENTS = [
    "CREATE TABLE t (",
    "id int PRIMARY KEY",
    "id serial",
    "ref_id bigint REFERENCES t(id) ON DELETE CASCADE",
    "status text",
    "price float",
    "deleted_at timestamp",
    ")",
    ";",
    ",",
    "CREATE INDEX i ON t (status);",
    "CREATE UNIQUE INDEX u ON t (id) WHERE deleted_at IS NULL;",
    "ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (ref_id) REFERENCES t (id);",
    "'unterminated",
    "$$",
    "/*",
    "--",
    "\n",
]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dialect=st.sampled_from(DIALECTS), parts=st.lists(st.sampled_from(FRAGMENTS), max_size=25))
def test_sql_shaped_noise_never_raises(dialect: str, parts: list[str]) -> None:
    result = review_ddl(" ".join(parts), dialect=dialect)
    assert result.source == "ddl" and sum(result.counts.values()) == len(result.findings)


@settings(max_examples=60, deadline=None)
@given(dialect=st.sampled_from(DIALECTS), text=st.text(max_size=300))
def test_arbitrary_text_never_raises(dialect: str, text: str) -> None:
    result = review_ddl(text, dialect=dialect)
    assert result.tables_reviewed >= 0
