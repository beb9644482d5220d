"""Benchmarks for the dbspecialist MCP server: `python -m bench` (see bench/README.md)."""
