"""Index advice: candidate synthesis (sqlglot), workload-level selection (Dexter's thresholds), MongoDB's ESR rule.

Everything here is pure: the verification that needs a server lives in `dbspecialist.adapters.hypopg`,
`dbspecialist.adapters.sqlite_advisor` and `dbspecialist.adapters.index_advisor`.
"""
