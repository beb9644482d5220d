"""Cold start stays near the SDK's floor: drivers and parsers load only when a tool needs them."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ["sqlglot", "pglast", "aiosqlite", "asyncpg", "aiomysql", "pymongo", "redis"]


def test_building_the_server_imports_no_driver_or_parser() -> None:
    code = (
        "import sys\n"
        "from dbspecialist.config import ConnectionSet\n"
        "from dbspecialist.server.app import build_server\n"
        "from dbspecialist.server.state import ServerState\n"
        "build_server(ServerState.from_connections(ConnectionSet()))\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == ""


def test_cli_help_is_light() -> None:
    code = "import sys\nfrom dbspecialist.cli import build_parser\nbuild_parser()\nprint('mcp' in sys.modules)\n"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "False"
