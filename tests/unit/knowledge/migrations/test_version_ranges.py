"""A version no server of the dialect has had is refused; real old and just-released ones are accepted."""

from __future__ import annotations

import pytest

from dbspecialist.knowledge.migrations.model import MigrationInputError
from dbspecialist.knowledge.migrations.plan import plan_migration
from dbspecialist.knowledge.migrations.versions import parse_version


@pytest.mark.parametrize(
    ("text", "dialect"), [("99", "postgres"), ("8", "postgres"), ("4.1", "mysql"), ("5.5", "mariadb"), ("4", "sqlite")]
)
def test_impossible_versions_are_refused(text: str, dialect: str) -> None:
    with pytest.raises(MigrationInputError, match=f"is not a {dialect} server version"):
        parse_version(text, dialect)


@pytest.mark.parametrize(
    ("text", "dialect", "parsed"),
    [("9.6", "postgres", (9, 6, 0)), ("19", "postgres", (19, 0, 0)), ("5.7.44", "mysql", (5, 7, 44))],
)
def test_real_versions_are_read(text: str, dialect: str, parsed: tuple[int, int, int]) -> None:
    assert parse_version(text, dialect) == (parsed, True)


def test_table_stats_errors_are_plain_sentences() -> None:
    with pytest.raises(MigrationInputError) as caught:
        plan_migration("ALTER TABLE t ADD COLUMN x int", table_stats={"t": {"rows": -5}})
    assert str(caught.value) == "table_stats['t']: rows: input should be greater than or equal to 0 (got -5)"
