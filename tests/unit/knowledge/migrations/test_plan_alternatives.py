"""A step that runs only when the server refuses the one before it is an alternative: said so, never added up."""

from __future__ import annotations

from dbspecialist.knowledge.migrations.plan import _duration, plan_migration


def test_copy_fallback_is_marked_and_left_out_of_the_run_time() -> None:
    big = {"t": {"rows": 50_000_000, "bytes": 20_000_000_000}}
    plan = plan_migration("ALTER TABLE t ORDER BY a", dialect="mariadb", version="10.11", table_stats=big)
    alternatives = [s for s in plan.steps if s.only_if_previous_refused]
    assert [s.title.startswith("Only if the server refused it") for s in alternatives] == [True]
    (alternative,) = alternatives
    online = plan.steps[alternative.number - 2]
    assert online.estimate is not None and alternative.estimate is not None
    one, both = online.estimate.seconds or 0.0, (online.estimate.seconds or 0.0) + (alternative.estimate.seconds or 0.0)
    assert _duration(one) != _duration(both)
    assert f"Estimated total run time {_duration(one)}." in plan.summary
    assert f"Step {alternative.number} runs only if the server refuses the online form before it" in plan.summary
    assert "(not counted in the run time)" in plan.summary


def test_a_plan_without_fallback_says_nothing_about_alternatives() -> None:
    plan = plan_migration(
        "ALTER TABLE t ADD COLUMN x INT",
        dialect="mariadb",
        version="10.11",
        current_ddl="CREATE TABLE t (a INT PRIMARY KEY);",
    )
    assert not any(s.only_if_previous_refused for s in plan.steps)
    assert "runs only if" not in plan.summary
