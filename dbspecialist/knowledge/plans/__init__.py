"""EXPLAIN-plan analysis: parse every engine's plan into one node model, annotate it, run rules."""
