"""The index advisor analyses only read statements, on every SQL engine, before any candidate is built."""

from __future__ import annotations

import pytest

from dbspecialist.adapters.index_advisor import _read_statements


@pytest.mark.parametrize("engine", ["postgresql", "mysql", "sqlite"])
def test_writes_are_skipped_with_a_note(engine: str) -> None:
    notes: list[str] = []
    kept = _read_statements(
        engine,
        ["DELETE FROM orders WHERE customer_id = 5", "SELECT id FROM orders WHERE customer_id = 5", "DROP TABLE t"],
        notes,
    )
    assert kept == ["SELECT id FROM orders WHERE customer_id = 5"]
    assert len(notes) == 2 and all(n.startswith("skipped (not a read statement)") for n in notes)


def test_other_engines_are_left_to_their_own_checks() -> None:
    notes: list[str] = []
    assert _read_statements("mongodb", ['{"find": "orders"}'], notes) == ['{"find": "orders"}'] and notes == []
