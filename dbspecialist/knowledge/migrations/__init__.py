"""Zero-downtime migration planning and migration linting (plan_migration, lint_migration)."""
