"""Config tuning: per-engine calculators with a memory-budget proof, and a live audit."""
