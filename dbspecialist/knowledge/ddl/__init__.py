"""Offline DDL parsers: DDL text in, the shared `Catalog` (plus parse warnings) out.

`parse_postgres` (pglast, PostgreSQL's own parser) lives in `postgres.py`; the other dialects go
through sqlglot. Parsers are imported lazily so that importing this package loads no parser.
"""

from __future__ import annotations

from dbspecialist.knowledge.ddl.model import ParsedSchema, ParseWarning

__all__ = ["ParseWarning", "ParsedSchema"]
