"""The safe-cast matrix: every row as PostgreSQL 15 behaves (checked by relfilenode in the integration tests)."""

from __future__ import annotations

import pytest

from dbspecialist.knowledge.migrations.pg_safe_cast import cast_verdict, parse_type, type_change


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("varchar(10)", "varchar(20)"),
        ("character varying(10)", "character varying"),
        ("varchar(10)", "text"),
        ("character varying", "text"),
        ("text", "varchar"),
        ("numeric(10,2)", "numeric(12,2)"),
        ("numeric(10, 2)", "numeric"),
        ("timestamp(3)", "timestamp(6)"),
        ("timestamp(3) without time zone", "timestamp"),
        ("timestamp without time zone", "timestamp(6)"),
        ("timestamptz(3)", "timestamp with time zone"),
        ("time(3)", "time(6)"),
        ("time(3) with time zone", "timetz(6)"),
        ("interval(3)", "interval(6)"),
        ("interval(3)", "interval"),
        ("interval", "interval day to second"),
        ("cidr", "inet"),
        ("bit varying(5)", "varbit(10)"),
        ("varbit(5)", "bit varying"),
        ("regclass", "oid"),
        ("xml", "text"),
        ("integer", "int4"),
    ],
)
def test_metadata_only_changes(old: str, new: str) -> None:
    assert type_change(old, new) == "metadata"


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("integer", "bigint"),
        ("smallint", "integer"),
        ("bigint", "integer"),
        ("varchar(20)", "varchar(10)"),
        ("text", "varchar(10)"),
        ("numeric(10,2)", "numeric(12,3)"),
        ("numeric(10,2)", "numeric(8,2)"),
        ("numeric", "numeric(10,2)"),
        ("timestamp(6)", "timestamp(3)"),
        ("inet", "cidr"),
        ("bit(5)", "bit(10)"),
        ("char(3)", "char(5)"),
        ("char(3)", "text"),
        ("varchar(5)", "char(5)"),
        ("json", "jsonb"),
        ("integer", "text"),
        ("uuid", "text"),
        ("date", "timestamp"),
        ("real", "double precision"),
        ("varchar[]", "text[]"),
        ("integer[]", "bigint[]"),
        ("citext", "varchar(10)"),
    ],
)
def test_rewriting_changes(old: str, new: str) -> None:
    assert type_change(old, new, indexed=False, session_timezone_utc=True) == "rewrite"


@pytest.mark.parametrize(("old", "new"), [("text", "citext"), ("citext", "text"), ("varchar(10)", "citext")])
def test_citext_keeps_the_heap_but_rebuilds_indexes(old: str, new: str) -> None:
    assert type_change(old, new, indexed=True) == "rebuild_indexes"
    assert type_change(old, new, indexed=None) == "rebuild_indexes"  # unknown: assume indexed
    assert type_change(old, new, indexed=False) == "metadata"


def test_integer_oid_is_binary_coercible_but_changes_the_opclass() -> None:
    assert type_change("integer", "oid", indexed=True) == "rebuild_indexes"
    assert type_change("oid", "integer", indexed=False) == "metadata"


def test_timestamp_to_timestamptz_needs_utc_session_and_12() -> None:
    utc = {"session_timezone_utc": True, "indexed": False}
    assert type_change("timestamp", "timestamptz", version=(12, 0, 0), **utc) == "metadata"
    assert type_change("timestamptz", "timestamp", version=(15, 4, 0), **utc) == "metadata"
    assert type_change("timestamp", "timestamptz", version=(11, 9, 0), **utc) == "rewrite"
    assert type_change("timestamp", "timestamptz", session_timezone_utc=False, indexed=False) == "rewrite"
    assert type_change("timestamp", "timestamptz", session_timezone_utc=None, indexed=False) == "rewrite"
    assert type_change("timestamp", "timestamptz", session_timezone_utc=True, indexed=True) == "rebuild_indexes"
    assert type_change("timestamp(6)", "timestamptz(3)", session_timezone_utc=True, indexed=False) == "rewrite"


def test_verdict_names_the_reason() -> None:
    verdict = cast_verdict("integer", "bigint")
    assert verdict.result == "rewrite"
    assert "not binary-coercible" in verdict.reason
    assert "UTC" in cast_verdict("timestamp", "timestamptz").reason


def test_parse_type_normalises_spellings() -> None:
    assert parse_type("character varying(20)").text == "varchar(20)"
    assert parse_type("timestamp(3) with time zone").text == "timestamptz(3)"
    assert parse_type("public.citext").name == "citext"
    assert parse_type("int[]").array is True
    assert parse_type("numeric(10,2)").mods == (10, 2)
    assert parse_type("not a ( type").name == "not a ( type"  # unparsable: kept as written, compared verbatim
