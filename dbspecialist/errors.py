"""Typed errors that tools turn into actionable messages.

    DBSpecialistError            every expected failure; its message is shown to the user
    ├── ConfigError              bad configuration (startup)
    ├── UnknownConnectionError   a tool named a connection that is not configured
    ├── ConnectionFailedError    the database could not be reached or opened
    ├── QueryRefusedError        the read-only guard refused a statement
    ├── QueryError               the database rejected a statement (syntax, missing table, ...)
    └── QueryTimeoutError        a statement ran past its time limit and was stopped

Messages never contain secrets: every message is redacted before it leaves the server.
"""

from __future__ import annotations

from pydantic import ValidationError


class DBSpecialistError(Exception):
    """An expected failure with a message a person can act on."""

    code = "error"


class ConfigError(DBSpecialistError):
    code = "config"


class UnknownConnectionError(DBSpecialistError):
    code = "unknown_connection"


class ConnectionFailedError(DBSpecialistError):
    code = "connection_failed"


class QueryRefusedError(DBSpecialistError):
    code = "query_refused"


class QueryError(DBSpecialistError):
    code = "query_error"


class QueryTimeoutError(DBSpecialistError):
    code = "timeout"


def validation_problems(exc: ValidationError) -> list[str]:
    """A pydantic validation error as plain clauses, one per problem: `where: what is wrong (got <value>)`,
    without pydantic's header and documentation links; values are redacted and cut short."""
    from dbspecialist.redaction import redact

    problems = []
    for error in exc.errors(include_url=False):
        where = ".".join(str(part) for part in error["loc"]) or "arguments"
        shown = "" if error["type"] == "missing" else f" (got {redact(repr(error.get('input')))[:80]})"
        problems.append(f"{where}: {error['msg'][:1].lower()}{error['msg'][1:]}{shown}")
    return problems
