"""The SDK's floor: a minimal `MCPServer` with one trivial tool.

    python bench/minimal_server.py                 # stdio
    python bench/minimal_server.py --http PORT     # Streamable HTTP on 127.0.0.1:PORT/mcp

Deliberately imports nothing beyond the SDK (not even argparse) so its start-up is the floor.
"""

import sys

from mcp.server import MCPServer

mcp = MCPServer("minimal")


@mcp.tool()
async def echo(text: str = "") -> str:
    """Return the text unchanged."""
    return text


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--http":
        mcp.run("streamable-http", host="127.0.0.1", port=int(sys.argv[2]))
    else:
        mcp.run()
