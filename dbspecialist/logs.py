"""Logging to stderr (stdout belongs to the stdio protocol), with secrets redacted."""

from __future__ import annotations

import logging
import sys

from dbspecialist.redaction import RedactingFilter


def setup_logging(level: str = "INFO") -> None:
    """Install one stderr handler with redaction on the root logger (idempotent)."""
    root = logging.getLogger()
    if not any(getattr(h, "_dbspecialist", False) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler.addFilter(RedactingFilter())
        handler._dbspecialist = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(level)
    # The SDK logs every expected tool error at INFO; ours already did, once.
    logging.getLogger("mcp").setLevel(max(logging.WARNING, logging.getLevelName(level)))
    logging.getLogger("sqlglot").setLevel(logging.ERROR)
