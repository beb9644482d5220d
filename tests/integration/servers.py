"""Reachability of the real test servers. Integration tests talk to real servers on loopback: outside CI an
its tests with a loud reason; under CI=true it fails them."""

from __future__ import annotations

import os
import socket

import pytest

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require_server(name: str, host: str, port: int) -> None:
    """Skip (or, in CI, fail) unless something listens on host:port."""
    try:
        with socket.create_connection((host, port), timeout=2):
            return
    except OSError as exc:
        message = (
            f"{name} is not reachable at {host}:{port} ({exc}). Start it with scripts/test-services "
            "(or run the whole suite with scripts/test)."
        )
        if IN_CI:
            pytest.fail(message)
        pytest.skip(f"SKIPPED LOUDLY: {message}")
