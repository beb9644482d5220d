"""Workload analysis: the statements that cost the most, read from the engine's own statistics (top_queries)."""
