"""Named defaults for schema rules, each with where it comes from. Rules take them as arguments."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Thresholds:
    # Share of a sequence/integer key range used before we warn (pg-index-health warns at 20 % left).
    sequence_used_warn_pct: float = 75.0
    sequence_used_critical_pct: float = 90.0
    # Tables below this many rows rarely need an index for an FK to be cheap (our own judgement).
    small_table_rows: int = 10_000
    # A leading index column with fewer distinct values than this is low-cardinality.
    low_cardinality_distinct: int = 10
    # PostgreSQL identifiers are truncated at NAMEDATALEN - 1 = 63 bytes (PostgreSQL docs, "Identifiers").
    identifier_max_bytes: int = 63
    # A table with more indexes than this pays on every write (MongoDB docs suggest keeping it small).
    max_indexes_per_collection: int = 10
    # MongoDB's BSON document limit is 16 MiB (MongoDB docs, "BSON Document Size").
    document_limit_bytes: int = 16 * 1024 * 1024
    document_warn_pct: float = 50.0
    # Arrays longer than this in a sample are "unbounded-looking" (MongoDB schema design anti-patterns).
    large_array_length: int = 1_000
    # Redis: a single key above this is a big key (redis-cli --bigkeys treats MB-sized keys as big).
    redis_big_key_bytes: int = 1024 * 1024
    # Partitioning candidates on PostgreSQL (live): rows above this with a time column.
    partition_candidate_rows: int = 50_000_000
