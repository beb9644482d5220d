"""I/O only: one module per engine, the shared catalog model and the read-only guard.

Engine modules (and their drivers) are imported lazily by `registry`, only when a
connection of that engine is first used.
"""
