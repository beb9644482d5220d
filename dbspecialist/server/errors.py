"""Turn every failure inside a tool into a ToolError with an actionable, redacted message."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

from mcp.server.mcpserver.exceptions import ToolError

from dbspecialist.errors import DBSpecialistError
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
