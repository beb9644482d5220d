"""MCP wiring only: the server, its tools, and the HTTP app (auth, origin checks)."""
