"""Turn every failure inside a tool into a ToolError with an actionable, redacted message."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec, TypeVar

from mcp.server import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import ValidationError

from dbspecialist.errors import DBSpecialistError, validation_problems
from dbspecialist.redaction import redact

P = ParamSpec("P")
R = TypeVar("R")
log = logging.getLogger("dbspecialist.tools")


def tool_errors(fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """Expected errors keep their message; anything else is logged (redacted) and summarised."""

    @functools.wraps(fn)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await fn(*args, **kwargs)
        except ToolError:
            raise
        except DBSpecialistError as exc:
            log.info("%s failed: %s", fn.__name__, exc)
            raise ToolError(redact(str(exc))) from None
        except Exception as exc:
            log.exception("unexpected error in tool %s", fn.__name__)
            raise ToolError(
                f"internal error in {fn.__name__} ({type(exc).__name__}); the server log has details. "
                "This is a bug: please report it."
            ) from None

    return wrapper


def argument_error_message(tool: str, exc: ValidationError) -> str:
    """Arguments that do not match a tool's input schema, one plain line per problem (no pydantic boilerplate)."""
    problems = validation_problems(exc)[:MAX_ARGUMENT_PROBLEMS]
    more = exc.error_count() - len(problems)
    tail = f"; and {more} more" if more > 0 else ""
    return f"Error executing tool {tool}: invalid arguments: {'; '.join(problems)}{tail}"


MAX_ARGUMENT_PROBLEMS = 5


class DBSpecialistServer(MCPServer):
    """The SDK's server, with argument-validation errors rewritten as plain sentences (the SDK passes pydantic's
    multi-line text with a documentation link through to the client)."""

    async def call_tool(self, name: str, arguments: dict[str, Any], context: Any = None) -> Any:
        try:
            return await super().call_tool(name, arguments, context)
        except ToolError as exc:
            if isinstance(exc.__cause__, ValidationError):
                raise ToolError(argument_error_message(name, exc.__cause__)) from None
            raise
