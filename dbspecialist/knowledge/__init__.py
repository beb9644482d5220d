"""The expertise: pure, deterministic engines per capability (no I/O, no drivers).

Engines take the shared catalog model (or plans, settings, hardware facts) and return
findings; guides/*.md are served as MCP resources.
"""
