"""Inline suppression: `-- dbspecialist:ignore MIG001, MIG010` / `ignore all`, for every dialect's quoting."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from dbspecialist.knowledge.findings import Finding, Severity
from dbspecialist.knowledge.migrations.suppress import (
    apply_suppressions,
    parse_directive,
    suppressions,
    suppressions_by_line,
)


def _finding(rule_id: str, line: int, name: str = "some-rule") -> Finding:
    return Finding(
        rule_id=rule_id,
        name=name,
        severity=Severity.HIGH,
        title="t",
        subject="s",
        subject_kind="query",
        rationale="r",
        help="h",
        line=line,
    )


def test_directive_parsing_reads_ids_names_all_and_stops_at_the_reason() -> None:
    assert parse_directive(" dbspecialist:ignore MIG001, mig010") == (frozenset({"MIG001", "MIG010"}), False)
    assert parse_directive(" dbspecialist:ignore all") == (frozenset(), True)
    assert parse_directive(" dbspecialist:ignore create-index-blocks-writes") == (
        frozenset({"create-index-blocks-writes"}),
        False,
    )
    assert parse_directive(" dbspecialist:ignore MIG020 because the column is unused") == (frozenset({"MIG020"}), False)
    assert parse_directive(" dbspecialist:ignore MIG020: small table") == (frozenset({"MIG020"}), False)
    assert parse_directive(" dbspecialist:ignore") is None
    assert parse_directive(" dbspecialist:ignorex MIG001") is None
    assert parse_directive(" just a comment MIG001") is None


def test_directive_above_applies_to_the_next_statement_through_comment_lines() -> None:
    sql = "-- dbspecialist:ignore MIG001, MIG010\n-- reason: tiny table\nCREATE INDEX i ON t (a);\n"
    (found,) = suppressions(sql)
    assert (found.line, found.comment_line, found.rules) == (3, 1, frozenset({"MIG001", "MIG010"}))


def test_blank_line_breaks_the_link_to_the_statement() -> None:
    assert suppressions("-- dbspecialist:ignore MIG001\n\nCREATE INDEX i ON t (a);") == []


def test_trailing_directive_applies_to_its_own_line() -> None:
    sql = "SELECT 1;\nALTER TABLE t ADD c int; -- dbspecialist:ignore all\n"
    (found,) = suppressions(sql)
    assert found.line == 2 and found.everything


def test_block_comments_and_nested_block_comments() -> None:
    sql = "/* outer /* inner */ still comment dbspecialist:ignore MIG002 */\nDROP INDEX i;\n"
    (found,) = suppressions(sql)
    assert found.line == 2 and found.rules == {"MIG002"}
    mysql = "/* dbspecialist:ignore MIG101 */ ALTER TABLE t ADD c int;"
    assert [s.line for s in suppressions(mysql, "mysql")] == [1]


def test_directives_inside_literals_are_not_directives() -> None:
    sql = (
        "SELECT '-- dbspecialist:ignore MIG001';\n"
        "SELECT $$ -- dbspecialist:ignore MIG002\n$$;\n"
        "SELECT $body$ /* dbspecialist:ignore MIG003 */ $body$;\n"
        'SELECT 1 AS "-- dbspecialist:ignore MIG004";\n'
        "SELECT E'it\\'s -- dbspecialist:ignore MIG005';\n"
    )
    assert suppressions(sql) == []


def test_mysql_hash_comments_backticks_and_backslash_escapes() -> None:
    sql = "# dbspecialist:ignore MIG100\nALTER TABLE `t -- dbspecialist:ignore MIG101` ADD c int;\n"
    sql += "SELECT 'it\\'s -- dbspecialist:ignore MIG102';\n"
    found = suppressions(sql, "mysql")
    assert [(s.line, s.rules) for s in found] == [(2, frozenset({"MIG100"}))]
    # in PostgreSQL a backslash does not escape a quote in a plain string: the comment is real
    assert [s.rules for s in suppressions("SELECT 'a\\'; -- dbspecialist:ignore MIG001\n")] == [frozenset({"MIG001"})]


def test_apply_counts_what_it_silences() -> None:
    sql = "-- dbspecialist:ignore MIG001\nCREATE INDEX i ON t (a);\nDROP INDEX j; -- dbspecialist:ignore drop-rule\n"
    findings = [
        _finding("MIG001", 2),
        _finding("MIG040", 2),
        _finding("MIG002", 3, name="drop-rule"),
        _finding("MIG001", 5),
    ]
    kept, silenced = apply_suppressions(findings, sql)
    assert silenced == 2
    assert [(f.rule_id, f.line) for f in kept] == [("MIG040", 2), ("MIG001", 5)]


def test_text_without_directives_is_returned_unchanged() -> None:
    findings = [_finding("MIG001", 1)]
    assert apply_suppressions(findings, "CREATE INDEX i ON t (a);") == (findings, 0)
    assert suppressions_by_line("") == {}


# ----------------------------------------------------------------------------------------------- properties

RULE_IDS = st.lists(st.from_regex(r"MIG0[0-9]{2}", fullmatch=True), min_size=1, max_size=4)
COMMENT_LINES = st.lists(st.sampled_from(["-- note", "/* note */", "-- another -- note"]), max_size=3)


@settings(max_examples=60, deadline=None)
@given(
    before=st.integers(min_value=0, max_value=5),
    ids=RULE_IDS,
    between=COMMENT_LINES,
    separator=st.sampled_from([", ", ",", " ", " , "]),
)
def test_directive_maps_to_the_first_code_line_below(
    before: int, ids: list[str], between: list[str], separator: str
) -> None:
    head = "".join(f"SELECT {i};\n" for i in range(before))
    sql = head + f"-- dbspecialist:ignore {separator.join(ids)}\n" + "".join(f"{c}\n" for c in between)
    sql += "ALTER TABLE t ADD COLUMN c int;\n"
    target = before + 1 + len(between) + 1
    (found,) = suppressions(sql)
    assert found.line == target
    assert found.comment_line == before + 1
    assert found.rules == frozenset(ids)
    findings = [_finding(ids[0], target), _finding("MIG099", target), _finding(ids[0], target + 1)]
    kept, silenced = apply_suppressions(findings, sql)
    assert silenced == (2 if "MIG099" in ids else 1)
    assert [(f.rule_id, f.line) for f in kept] == [
        (f.rule_id, f.line) for f in findings[1:] if f.rule_id not in ids or f.line != target
    ]


@settings(max_examples=60, deadline=None)
@given(
    text=st.text(alphabet=st.characters(exclude_characters="'\\", exclude_categories=["Cs"]), max_size=40),
    quote=st.sampled_from(["'", "$$", "$tag$"]),
)
def test_no_literal_content_ever_becomes_a_directive(text: str, quote: str) -> None:
    body = text.replace("$", "") + " -- dbspecialist:ignore all\n/* dbspecialist:ignore MIG001 */"
    sql = f"SELECT {quote}{body}{quote};\nDROP TABLE t;\n"
    assert suppressions(sql) == []
