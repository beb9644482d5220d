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
