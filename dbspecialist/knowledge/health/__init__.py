"""Health checks: live statistics interpreted into findings (check_health)."""
