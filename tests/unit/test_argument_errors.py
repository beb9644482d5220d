"""Arguments that do not match a tool's schema come back as one plain line per problem, without pydantic's
boilerplate or documentation links."""

from __future__ import annotations

from tests.helpers import call_tool, result_text


async def test_a_wrong_literal_names_the_argument_the_choices_and_the_value() -> None:
    result = await call_tool([], "tune_config", {"engine": "postgresql", "ram_gb": 16, "cpus": 4})
    message = result_text(result)
    assert result.is_error
    assert message.startswith("Error executing tool tune_config: invalid arguments: engine: input should be 'postgres'")
    assert "(got 'postgresql')" in message
    assert "errors.pydantic.dev" not in message and "validation error for" not in message and "\n" not in message


async def test_several_problems_each_get_their_clause_and_missing_ones_no_value() -> None:
    result = await call_tool([], "tune_config", {"engine": "redis", "ram_gb": "lots"})
    message = result_text(result)
    assert result.is_error
    assert "ram_gb: input should be a valid number" in message and "(got 'lots')" in message
    assert "cpus: field required" in message and "cpus: field required (got" not in message


async def test_errors_raised_by_the_tool_itself_are_untouched() -> None:
    result = await call_tool([], "describe_schema", {"connection": "nope"})
    assert result.is_error and "invalid arguments" not in result_text(result)
