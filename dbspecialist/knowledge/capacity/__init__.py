"""Capacity planning: can the database handle N times the current load? (plan_capacity)."""
