"""Schema rules, one module each, registered in `dbspecialist.knowledge.schema.registry`."""
