"""The raw statistics `check_health` interprets for PostgreSQL: one JSON-able snapshot, no judgement.

Everything is read on ONE pooled connection in one READ ONLY, REPEATABLE READ transaction (the adapter's
`_read`: statement timeout, always rolled back), in a fixed number of round trips whatever the number of
tables: one query per section, each aggregated into a single JSON document by the server. Each section runs
under a SAVEPOINT, so a view the role may not read (or a section that times out) is recorded in
`snapshot["unavailable"]` for the checks that need it and the other sections still run.

No query takes a lock on a user relation: sizes come from `pg_class.relpages` (updated by VACUUM, ANALYZE and
CREATE INDEX) rather than `pg_relation_size()`, which would queue behind a pending ACCESS EXCLUSIVE lock, the
very situation a health check is often run to diagnose. `lock_timeout` is lowered to a few seconds for the
snapshot, so anything that does wait is skipped rather than hung.

Coupling: like `hypopg.py`, this module uses PostgresAdapter's private `_read` (pool, retry of a dead
connection, typed errors, the READ ONLY snapshot transaction). The SQL varies with the server version it reads
first (pg_locks.waitstart 14+, wal_status 13+, pg_stat_checkpointer 17+).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Final

import asyncpg

from dbspecialist.adapters.postgres import PostgresAdapter

SNAPSHOT_LOCK_TIMEOUT_MS: Final = 2_000
MAX_SESSIONS: Final = 200  # sessions listed (the oldest transactions first); counts cover all of them
MAX_TABLES: Final = 200  # tables with dead tuples or changes since ANALYZE (most first)
MAX_INDEXES: Final = 100  # unused indexes (largest first)
MAX_SEQUENCES: Final = 50  # sequences (most used first)
MAX_BLOAT: Final = 50  # bloat estimates (most wasted bytes first)
OLDEST_XID_TABLES: Final = 5
QUERY_TEXT_CHARS: Final = 300
# Relations smaller than this many pages (1 MiB at the default 8 KiB block) are not worth a bloat estimate.
BLOAT_MIN_PAGES: Final = 128

SETTINGS: Final = (
    "autovacuum",
    "autovacuum_analyze_scale_factor",
    "autovacuum_analyze_threshold",
    "autovacuum_freeze_max_age",
    "autovacuum_multixact_freeze_max_age",
    "autovacuum_naptime",
    "autovacuum_vacuum_scale_factor",
    "autovacuum_vacuum_threshold",
    "block_size",
    "checkpoint_timeout",
    "idle_in_transaction_session_timeout",
    "log_lock_waits",
    "max_connections",
    "max_slot_wal_keep_size",
    "max_wal_size",
    "reserved_connections",
    "shared_buffers",
    "statement_timeout",
    "superuser_reserved_connections",
    "track_counts",
    "work_mem",
)

_USER_NAMESPACE: Final = """n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'"""

# The snapshot runs in our own transaction, whose SET LOCAL timeouts (statement, lock, idle-in-transaction) show
# as source 'session': report what the session had before them (reset_val), i.e. the server's value, as
# postgres.py SETTINGS_SQL does. Otherwise HLT005 would read the guard's idle_in_transaction_session_timeout.
SERVER_SQL: Final = """
SELECT pg_catalog.jsonb_build_object(
  'server_version', pg_catalog.current_setting('server_version'),
  'server_version_num', pg_catalog.current_setting('server_version_num')::int,
  'database', pg_catalog.current_database(),
  'now', pg_catalog.clock_timestamp(),
  'server_started', pg_catalog.pg_postmaster_start_time(),
  'uptime_seconds', extract(epoch FROM pg_catalog.clock_timestamp() - pg_catalog.pg_postmaster_start_time()),
  'in_recovery', pg_catalog.pg_is_in_recovery(),
  'sees_all_sessions', (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = current_user)
      OR pg_catalog.pg_has_role(current_user, 'pg_read_all_stats', 'MEMBER'),
  'settings', (SELECT pg_catalog.jsonb_object_agg(
                       s.name, CASE WHEN s.source = 'session' THEN s.reset_val ELSE s.setting END)
                  FROM pg_catalog.pg_settings s WHERE s.name = ANY($1::text[]))
)::text
"""

DATABASE_SQL: Final = """
SELECT pg_catalog.jsonb_build_object(
  'database_stats', (SELECT pg_catalog.to_jsonb(d) || pg_catalog.jsonb_build_object(
        'stats_age_seconds', extract(epoch FROM pg_catalog.clock_timestamp() - d.stats_reset))
      FROM pg_catalog.pg_stat_database d WHERE d.datname = pg_catalog.current_database()),
  'io', (SELECT pg_catalog.jsonb_build_object(
        'heap_blks_hit', coalesce(sum(heap_blks_hit), 0), 'heap_blks_read', coalesce(sum(heap_blks_read), 0),
        'idx_blks_hit', coalesce(sum(idx_blks_hit), 0), 'idx_blks_read', coalesce(sum(idx_blks_read), 0))
      FROM pg_catalog.pg_statio_user_tables),
  'databases', (SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
        'datname', d.datname, 'xid_age', pg_catalog.age(d.datfrozenxid),
        'mxid_age', pg_catalog.mxid_age(d.datminmxid)) ORDER BY d.datname)
      FROM pg_catalog.pg_database d)
)::text
"""

# {waitstart}: when each waiting backend started to wait for its lock (pg_locks.waitstart, PostgreSQL 14+).
ACTIVITY_SQL: Final = """
WITH s AS (
  SELECT a.*, CASE WHEN a.wait_event_type = 'Lock' THEN pg_catalog.pg_blocking_pids(a.pid)
                   ELSE '{{}}'::int[] END AS blocked_by
  FROM pg_catalog.pg_stat_activity a WHERE a.pid <> pg_catalog.pg_backend_pid()
), blockers AS (SELECT DISTINCT pg_catalog.unnest(blocked_by) AS pid FROM s),
waits AS ({waitstart})
SELECT pg_catalog.jsonb_build_object(
  'client_backends', 1 + (SELECT count(*) FROM s WHERE s.backend_type = 'client backend'),
  'backends_all_databases', (SELECT sum(d.numbackends) FROM pg_catalog.pg_stat_database d),
  'by_state', (SELECT pg_catalog.jsonb_object_agg(x.state, x.n) FROM (
      SELECT coalesce(s.state, 'unknown') AS state, count(*) AS n FROM s
       WHERE s.backend_type = 'client backend' GROUP BY 1) x),
  'sessions', (SELECT pg_catalog.jsonb_agg(pg_catalog.to_jsonb(x)) FROM (
      SELECT s.pid, s.usename::text AS usename, s.application_name, s.client_addr::text AS client_addr,
             s.datname::text AS datname, s.backend_type, s.state, s.wait_event_type, s.wait_event, s.blocked_by,
             extract(epoch FROM pg_catalog.clock_timestamp() - s.xact_start) AS xact_seconds,
             extract(epoch FROM pg_catalog.clock_timestamp() - s.query_start) AS query_seconds,
             extract(epoch FROM pg_catalog.clock_timestamp() - s.state_change) AS state_seconds,
             extract(epoch FROM pg_catalog.clock_timestamp() - w.waitstart) AS lock_wait_seconds,
             pg_catalog.age(s.backend_xmin) AS xmin_age,
             pg_catalog.left(s.query, {chars}) AS query
        FROM s LEFT JOIN waits w ON w.pid = s.pid
       WHERE (s.backend_type = 'client backend' AND s.state IS DISTINCT FROM 'idle')
          OR s.pid IN (SELECT b.pid FROM blockers b) OR pg_catalog.cardinality(s.blocked_by) > 0
       ORDER BY s.xact_start NULLS LAST, s.pid LIMIT {limit}) x)
)::text
"""
WAITSTART_14: Final = (
    "SELECT l.pid, min(l.waitstart) AS waitstart FROM pg_catalog.pg_locks l WHERE NOT l.granted GROUP BY l.pid"
)
WAITSTART_OLD: Final = "SELECT NULL::int AS pid, NULL::timestamptz AS waitstart WHERE false"

REPLICATION_SQL: Final = """
SELECT pg_catalog.jsonb_build_object(
  'standbys', (SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
        'application_name', r.application_name, 'client_addr', r.client_addr::text, 'state', r.state,
        'sync_state', r.sync_state,
        'write_lag_seconds', extract(epoch FROM r.write_lag), 'flush_lag_seconds', extract(epoch FROM r.flush_lag),
        'replay_lag_seconds', extract(epoch FROM r.replay_lag),
        'replay_bytes_behind', CASE WHEN NOT pg_catalog.pg_is_in_recovery()
            THEN pg_catalog.pg_wal_lsn_diff(pg_catalog.pg_current_wal_lsn(), r.replay_lsn) END)
        ORDER BY r.application_name, r.pid)
      FROM pg_catalog.pg_stat_replication r),
  'slots', (SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
        'slot_name', sl.slot_name, 'slot_type', sl.slot_type, 'database', sl.database, 'active', sl.active,
        'wal_status', {wal_status},
        'retained_bytes', pg_catalog.pg_wal_lsn_diff(
            CASE WHEN pg_catalog.pg_is_in_recovery() THEN pg_catalog.pg_last_wal_receive_lsn()
                 ELSE pg_catalog.pg_current_wal_lsn() END, sl.restart_lsn)) ORDER BY sl.slot_name)
      FROM pg_catalog.pg_replication_slots sl),
  'replay_delay_seconds', CASE WHEN pg_catalog.pg_is_in_recovery()
      THEN extract(epoch FROM pg_catalog.clock_timestamp() - pg_catalog.pg_last_xact_replay_timestamp()) END
)::text
"""

TABLES_SQL: Final = f"""
SELECT pg_catalog.jsonb_build_object(
  'total', (SELECT count(*) FROM pg_catalog.pg_stat_user_tables),
  'rows', (SELECT pg_catalog.jsonb_agg(pg_catalog.to_jsonb(x)) FROM (
      SELECT s.schemaname::text AS schema, s.relname::text AS name, s.n_live_tup, s.n_dead_tup,
             s.n_mod_since_analyze, c.reltuples::float8 AS reltuples, c.relpages::int8 AS relpages,
             coalesce(c.reloptions, '{{}}') AS reloptions,
             extract(epoch FROM pg_catalog.clock_timestamp() - greatest(s.last_vacuum, s.last_autovacuum))
               AS vacuum_age_seconds,
             extract(epoch FROM pg_catalog.clock_timestamp() - greatest(s.last_analyze, s.last_autoanalyze))
               AS analyze_age_seconds,
             s.autovacuum_count, s.autoanalyze_count
        FROM pg_catalog.pg_stat_user_tables s JOIN pg_catalog.pg_class c ON c.oid = s.relid
       WHERE s.n_dead_tup > 0 OR s.n_mod_since_analyze > 0
       ORDER BY greatest(s.n_dead_tup, s.n_mod_since_analyze) DESC, 1, 2 LIMIT {MAX_TABLES}) x),
  'oldest_xid', (SELECT pg_catalog.jsonb_agg(pg_catalog.to_jsonb(x)) FROM (
      SELECT n.nspname::text AS schema, c.relname::text AS name, pg_catalog.age(c.relfrozenxid) AS xid_age
        FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
       WHERE c.relkind IN ('r', 'm', 't') AND c.relfrozenxid <> '0'::xid
       ORDER BY pg_catalog.age(c.relfrozenxid) DESC, 1, 2 LIMIT {OLDEST_XID_TABLES}) x)
)::text
"""

# Lock-free on purpose: pg_get_indexdef() and pg_get_expr() take an ACCESS SHARE lock on the table, so they would
# queue behind a pending ACCESS EXCLUSIVE request. Duplicates are compared on the stored expression and predicate
# trees (without their parse locations); sizes are relpages * block_size; definitions are read separately
# (INDEX_DEFINITIONS_SQL), for the few indexes a finding names, with a short lock_timeout.
_NODE_TREE: Final = "coalesce(pg_catalog.regexp_replace({col}::text, ' :location -?[0-9]+', '', 'g'), '')"
INDEXES_SQL: Final = f"""
WITH idx AS (
  SELECT i.indexrelid, i.indrelid, n.nspname::text AS schema, tc.relname::text AS "table", ic.relname::text AS name,
         am.amname::text AS method, i.indisunique AS is_unique, i.indisprimary AS is_primary,
         i.indisvalid AS is_valid, i.indisreplident AS is_replica_identity,
         ic.relpages::int8 * pg_catalog.current_setting('block_size')::int8 AS size_bytes,
         ARRAY(SELECT coalesce(a.attname::text, '<expression>')
                 FROM pg_catalog.unnest(i.indkey::int2[]) WITH ORDINALITY k(attnum, ord)
                 LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                ORDER BY k.ord) AS columns,
         i.indpred IS NOT NULL AS partial,
         (SELECT con.contype::text FROM pg_catalog.pg_constraint con
           WHERE con.conindid = i.indexrelid AND con.conrelid = i.indrelid LIMIT 1) AS constraint_type,
         (SELECT con.conname::text FROM pg_catalog.pg_constraint con
           WHERE con.conindid = i.indexrelid AND con.conrelid = i.indrelid LIMIT 1) AS constraint_name,
         i.indkey::text || '/' || i.indclass::text || '/' || i.indcollation::text || '/' || i.indoption::text
           || '/' || {_NODE_TREE.format(col="i.indexprs")} || '/' || {_NODE_TREE.format(col="i.indpred")} AS signature
    FROM pg_catalog.pg_index i
    JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
    JOIN pg_catalog.pg_class tc ON tc.oid = i.indrelid
    JOIN pg_catalog.pg_namespace n ON n.oid = tc.relnamespace
    JOIN pg_catalog.pg_am am ON am.oid = ic.relam
   WHERE {_USER_NAMESPACE}
)
SELECT pg_catalog.jsonb_build_object(
  'invalid', (SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
        'oid', idx.indexrelid::int8, 'schema', idx.schema, 'table', idx."table", 'name', idx.name,
        'size_bytes', idx.size_bytes, 'is_unique', idx.is_unique, 'columns', idx.columns,
        'constraint_name', idx.constraint_name, 'in_progress', {{in_progress}}) ORDER BY idx.schema, idx.name)
      FROM idx WHERE NOT idx.is_valid),
  'unused', (SELECT pg_catalog.jsonb_agg(pg_catalog.to_jsonb(x)) FROM (
      SELECT idx.indexrelid::int8 AS oid, idx.schema, idx."table", idx.name, idx.size_bytes, idx.columns,
             idx.partial, s.idx_scan
        FROM idx JOIN pg_catalog.pg_stat_user_indexes s ON s.indexrelid = idx.indexrelid
       WHERE s.idx_scan = 0 AND idx.is_valid AND NOT idx.is_unique AND NOT idx.is_primary
         AND NOT idx.is_replica_identity AND idx.constraint_type IS NULL
       ORDER BY idx.size_bytes DESC, idx.schema, idx.name LIMIT {MAX_INDEXES}) x),
  'duplicates', (SELECT pg_catalog.jsonb_agg(g.members ORDER BY g.first) FROM (
      SELECT min(idx.schema || '.' || idx.name) AS first,
             pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
               'oid', idx.indexrelid::int8, 'schema', idx.schema, 'table', idx."table", 'name', idx.name,
               'size_bytes', idx.size_bytes, 'columns', idx.columns, 'is_unique', idx.is_unique,
               'is_primary', idx.is_primary, 'constraint_type', idx.constraint_type,
               'constraint_name', idx.constraint_name) ORDER BY idx.name) AS members
        FROM idx WHERE idx.is_valid
       GROUP BY idx.indrelid, idx.method, idx.signature HAVING count(*) > 1) g)
)::text
"""
INDEX_DEFINITIONS_SQL: Final = """
SELECT pg_catalog.jsonb_object_agg(o.oid::text, pg_catalog.pg_get_indexdef(o.oid))::text
FROM pg_catalog.unnest($1::oid[]) AS o(oid)
"""
DEFINITIONS_LOCK_TIMEOUT_MS: Final = 500
IN_PROGRESS_12: Final = (
    "EXISTS (SELECT 1 FROM pg_catalog.pg_stat_progress_create_index p WHERE p.index_relid = idx.indexrelid)"
)

SEQUENCES_SQL: Final = f"""
WITH seq AS (
  SELECT s.schemaname::text AS schema, s.sequencename::text AS name, s.data_type::text AS data_type,
         s.last_value, s.min_value, s.max_value, s.increment_by, s.cycle,
         (SELECT pg_catalog.format_type(a.atttypid, a.atttypmod) FROM pg_catalog.pg_depend d
            JOIN pg_catalog.pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
           WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = c.oid
             AND d.refclassid = 'pg_catalog.pg_class'::regclass AND d.deptype IN ('a', 'i') LIMIT 1)
           AS column_type,
         (SELECT tn.nspname || '.' || tc.relname || '.' || a.attname FROM pg_catalog.pg_depend d
            JOIN pg_catalog.pg_class tc ON tc.oid = d.refobjid
            JOIN pg_catalog.pg_namespace tn ON tn.oid = tc.relnamespace
            JOIN pg_catalog.pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
           WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = c.oid
             AND d.refclassid = 'pg_catalog.pg_class'::regclass AND d.deptype IN ('a', 'i') LIMIT 1) AS owned_by,
         EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                  WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = c.oid
                    AND d.refclassid = 'pg_catalog.pg_class'::regclass AND d.deptype = 'i') AS identity
    FROM pg_catalog.pg_sequences s
    JOIN pg_catalog.pg_namespace n ON n.nspname = s.schemaname
    JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = s.sequencename
   WHERE s.last_value IS NOT NULL
)
SELECT pg_catalog.jsonb_build_object('rows', (SELECT pg_catalog.jsonb_agg(pg_catalog.to_jsonb(x)) FROM (
  SELECT seq.* FROM seq
   ORDER BY CASE WHEN seq.increment_by > 0 THEN seq.last_value::numeric / nullif(seq.max_value, 0)
                 ELSE seq.last_value::numeric / nullif(seq.min_value, 0) END DESC NULLS LAST, 1, 2
   LIMIT {MAX_SEQUENCES}) x))::text
"""

# A statistics-based estimate of the space a table or B-tree index would need when freshly packed, compared
# with the pages it has (written for this project from the on-disk format in the PostgreSQL docs, "Database
# Page Layout"): a heap tuple is a 23-byte header plus the null bitmap, aligned to 8 bytes, plus the data
# (pg_stats.avg_width x the non-null share of each column), plus a 4-byte line pointer; a page keeps 24 bytes
# of header and fills up to the table's fillfactor. A B-tree leaf tuple is an 8-byte header (plus a 4-byte null
# bitmap when a key column has nulls) plus the key and INCLUDE data; the page also keeps a 16-byte special area
# and fills to the index fillfactor (90 by default). Expression indexes and tables with columns that lack
# statistics are left out.
BLOAT_SQL: Final = f"""
WITH rel AS (
  SELECT c.oid, n.nspname::text AS schema, c.relname::text AS name, c.relpages::int8 AS relpages,
         c.reltuples::float8 AS reltuples,
         coalesce((SELECT pg_catalog.split_part(o, '=', 2)::int FROM pg_catalog.unnest(c.reloptions) o
                    WHERE o LIKE 'fillfactor=%'), 100) AS fillfactor
    FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
   WHERE c.relkind IN ('r', 'm') AND c.relpages >= {BLOAT_MIN_PAGES} AND c.reltuples > 0 AND {_USER_NAMESPACE}
), col AS (
  SELECT rel.oid, count(*) AS ncols, count(st.attname) AS with_stats,
         sum((1 - coalesce(st.null_frac, 0)) * coalesce(st.avg_width, 0)) AS data_width,
         bool_or(coalesce(st.null_frac, 0) > 0) AS has_nulls
    FROM rel
    JOIN pg_catalog.pg_attribute a ON a.attrelid = rel.oid AND a.attnum > 0 AND NOT a.attisdropped
    LEFT JOIN pg_catalog.pg_stats st
      ON st.schemaname = rel.schema AND st.tablename = rel.name AND st.attname = a.attname AND NOT st.inherited
   GROUP BY rel.oid
), heap AS (
  SELECT rel.schema, rel.name, rel.relpages, rel.reltuples, rel.fillfactor,
         8 * ceil((23 + CASE WHEN col.has_nulls THEN (col.ncols + 7) / 8 ELSE 0 END) / 8.0)
           + 8 * ceil(col.data_width / 8.0) AS tuple_bytes
    FROM rel JOIN col ON col.oid = rel.oid WHERE col.with_stats = col.ncols
), ix AS (
  SELECT n.nspname::text AS schema, ic.relname::text AS name, tc.relname::text AS "table",
         ic.relpages::int8 AS relpages, ic.reltuples::float8 AS reltuples,
         coalesce((SELECT pg_catalog.split_part(o, '=', 2)::int FROM pg_catalog.unnest(ic.reloptions) o
                    WHERE o LIKE 'fillfactor=%'), 90) AS fillfactor,
         i.indnatts AS ncols, count(st.attname) AS with_stats,
         sum((1 - coalesce(st.null_frac, 0)) * coalesce(st.avg_width, 0)) AS data_width,
         bool_or(coalesce(st.null_frac, 0) > 0) AS has_nulls
    FROM pg_catalog.pg_index i
    JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
    JOIN pg_catalog.pg_am am ON am.oid = ic.relam AND am.amname = 'btree'
    JOIN pg_catalog.pg_class tc ON tc.oid = i.indrelid
    JOIN pg_catalog.pg_namespace n ON n.oid = tc.relnamespace
    JOIN pg_catalog.generate_series(0, i.indnatts - 1) k ON true
    JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[k]
    LEFT JOIN pg_catalog.pg_stats st
      ON st.schemaname = n.nspname AND st.tablename = tc.relname AND st.attname = a.attname AND NOT st.inherited
   WHERE ic.relpages >= {BLOAT_MIN_PAGES} AND ic.reltuples > 0 AND i.indisvalid AND i.indexprs IS NULL
     AND {_USER_NAMESPACE}
   GROUP BY n.nspname, ic.relname, tc.relname, ic.relpages, ic.reltuples, ic.reloptions, i.indnatts
), bs AS (SELECT pg_catalog.current_setting('block_size')::int AS b)
SELECT pg_catalog.jsonb_build_object(
  'tables', (SELECT pg_catalog.jsonb_agg(pg_catalog.to_jsonb(x)) FROM (
      SELECT e.schema, e.name, e.relpages, e.expected_pages, bs.b AS block_size
        FROM (SELECT heap.*, ceil(heap.reltuples / greatest(1, floor((bs.b - 24) * heap.fillfactor / 100.0
                                                         / (heap.tuple_bytes + 4))))::int8 AS expected_pages
                FROM heap, bs) e, bs
       WHERE e.relpages > e.expected_pages
       ORDER BY e.relpages - e.expected_pages DESC, 1, 2 LIMIT {MAX_BLOAT}) x),
  'indexes', (SELECT pg_catalog.jsonb_agg(pg_catalog.to_jsonb(x)) FROM (
      SELECT e.schema, e.name, e."table", e.relpages, e.expected_pages, bs.b AS block_size
        FROM (SELECT ix.*, 1 + ceil(ix.reltuples / greatest(1, floor((bs.b - 24 - 16) * ix.fillfactor / 100.0
                  / (8 * ceil((8 + CASE WHEN ix.has_nulls THEN 4 ELSE 0 END + ix.data_width) / 8.0) + 4))))::int8
                  AS expected_pages
                FROM ix, bs WHERE ix.with_stats = ix.ncols) e, bs
       WHERE e.relpages > e.expected_pages
       ORDER BY e.relpages - e.expected_pages DESC, 1, 2 LIMIT {MAX_BLOAT}) x)
)::text
"""

CHECKPOINTS_BGWRITER_SQL: Final = """
SELECT pg_catalog.jsonb_build_object('source', 'pg_stat_bgwriter', 'timed', b.checkpoints_timed,
  'requested', b.checkpoints_req, 'stats_reset', b.stats_reset,
  'stats_age_seconds', extract(epoch FROM pg_catalog.clock_timestamp() - b.stats_reset))::text
FROM pg_catalog.pg_stat_bgwriter b
"""
CHECKPOINTS_17_SQL: Final = """
SELECT pg_catalog.jsonb_build_object('source', 'pg_stat_checkpointer', 'timed', c.num_timed,
  'requested', c.num_requested, 'stats_reset', c.stats_reset,
  'stats_age_seconds', extract(epoch FROM pg_catalog.clock_timestamp() - c.stats_reset))::text
FROM pg_catalog.pg_stat_checkpointer c
"""


@dataclass(frozen=True)
class _Section:
    """One query of the snapshot: its SQL, the snapshot key it fills and the checks that need it."""

    key: str
    sql: str
    checks: tuple[str, ...]


def _sections(major: int) -> list[_Section]:
    activity = ACTIVITY_SQL.format(
        waitstart=WAITSTART_14 if major >= 14 else WAITSTART_OLD, chars=QUERY_TEXT_CHARS, limit=MAX_SESSIONS
    )
    replication = REPLICATION_SQL.format(wal_status="sl.wal_status" if major >= 13 else "NULL::text")
    indexes = INDEXES_SQL.format(in_progress=IN_PROGRESS_12 if major >= 12 else "false")
    checkpoints = CHECKPOINTS_17_SQL if major >= 17 else CHECKPOINTS_BGWRITER_SQL
    return [
        _Section("stats", DATABASE_SQL, ("cache_hit_ratio", "deadlocks", "temp_files", "wraparound")),
        _Section(
            "activity",
            activity,
            ("connections", "long_running_queries", "long_transactions", "idle_in_transaction", "blocking_locks"),
        ),
        _Section("replication", replication, ("replication_lag", "replication_slots")),
        _Section("tables", TABLES_SQL, ("vacuum", "analyze")),
        _Section("indexes", indexes, ("invalid_indexes", "unused_indexes", "duplicate_indexes")),
        _Section("sequences", SEQUENCES_SQL, ("sequences",)),
        _Section("bloat", BLOAT_SQL, ("table_bloat", "index_bloat")),
        _Section("checkpoints", checkpoints, ("checkpoints",)),
    ]


def _reason(exc: asyncpg.PostgresError) -> str:
    message = " ".join(str(exc).split())
    if isinstance(exc, asyncpg.exceptions.InsufficientPrivilegeError):
        return f"{message}: grant the role pg_monitor (GRANT pg_monitor TO <role>) to read the statistics views"
    if isinstance(exc, asyncpg.exceptions.LockNotAvailableError):
        return f"waited too long for a lock held by another session ({message}); run check_health again"
    if isinstance(exc, asyncpg.exceptions.QueryCanceledError):
        return f"the statistics query ran past the statement timeout ({message}); raise statement_timeout_ms"
    return f"PostgreSQL error {getattr(exc, 'sqlstate', '?')}: {message}"


async def _section(conn: asyncpg.Connection, sql: str, *args: Any) -> tuple[Any, str | None]:
    """Run one section under a savepoint: (parsed JSON, None), or (None, why it could not be read)."""
    await conn.execute("SAVEPOINT dbspecialist_health")
    try:
        value = await conn.fetchval(sql, *args)
    except asyncpg.PostgresError as exc:
        await conn.execute("ROLLBACK TO SAVEPOINT dbspecialist_health")
        return None, _reason(exc)
    await conn.execute("RELEASE SAVEPOINT dbspecialist_health")
    return (json.loads(value) if isinstance(value, str) else value), None


def _named_indexes(indexes: dict[str, Any]) -> list[dict[str, Any]]:
    """The index entries a finding can name (invalid, unused, duplicate members)."""
    entries = list(indexes.get("invalid") or []) + list(indexes.get("unused") or [])
    for members in indexes.get("duplicates") or []:
        entries.extend(members)
    return entries


async def postgres_health_snapshot(adapter: PostgresAdapter) -> dict[str, Any]:
    """Read everything `check_postgres` needs in one READ ONLY snapshot, in a fixed number of round trips."""

    async def fn(conn: asyncpg.Connection) -> dict[str, Any]:
        lock_timeout = min(SNAPSHOT_LOCK_TIMEOUT_MS, max(1, adapter.config.options.statement_timeout_ms * 9 // 10))
        await conn.execute(f"SET LOCAL lock_timeout = {lock_timeout}")
        raw = await conn.fetchval(SERVER_SQL, list(SETTINGS))
        snapshot: dict[str, Any] = json.loads(raw)
        snapshot["engine"] = "postgresql"
        unavailable: dict[str, str] = {}
        snapshot["unavailable"] = unavailable
        if not snapshot.get("sees_all_sessions"):
            unavailable["other_roles_sessions"] = (
                "this role sees the query text, state and times of its own sessions only, so long-running, "
                "idle-in-transaction and blocking sessions of other roles are missed: GRANT pg_read_all_stats "
                "(or pg_monitor) TO <role>"
            )
        trips = 2
        for section in _sections(int(snapshot["server_version_num"]) // 10_000):
            snapshot[section.key], reason = await _section(conn, section.sql)
            trips += 3
            if reason is not None:
                unavailable.update(dict.fromkeys(section.checks, reason))
        named = _named_indexes(snapshot.get("indexes") or {})
        if named:
            await conn.execute(f"SET LOCAL lock_timeout = {DEFINITIONS_LOCK_TIMEOUT_MS}")
            oids = sorted({int(entry["oid"]) for entry in named})
            definitions, reason = await _section(conn, INDEX_DEFINITIONS_SQL, oids)
            trips += 4
            if reason is not None:
                unavailable["index_definitions"] = (
                    f"the CREATE INDEX text of the reported indexes was not read ({reason}); the findings name "
                    "them, their fixes do not repeat the definitions"
                )
            for entry in named:
                entry["definition"] = (definitions or {}).get(str(entry["oid"]))
        snapshot["round_trips"] = trips
        return snapshot

    return await adapter._read(fn)


__all__ = ["postgres_health_snapshot"]
