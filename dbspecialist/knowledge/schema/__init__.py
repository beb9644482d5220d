"""Schema review: rules over the shared catalog model, from DDL (offline) or a live connection."""
