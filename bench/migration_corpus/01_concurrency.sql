-- Index builds, index drops, reindexing and partition detaches on tables that already hold data.
-- No lock_timeout / statement_timeout is set in this file on purpose.

-- A plain build blocks writes to orders until it finishes.
CREATE INDEX orders_created_at_idx ON orders (created_at);

-- The online variants.
CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_status_idx ON orders (status);
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS users_email_key ON users (email);

-- Dropping an index takes ACCESS EXCLUSIVE on its table unless done concurrently.
DROP INDEX orders_old_status_idx;
DROP INDEX CONCURRENTLY IF EXISTS orders_legacy_idx;

-- Rebuilding a bloated index.
REINDEX INDEX orders_created_at_idx;
REINDEX INDEX CONCURRENTLY orders_status_idx;
REINDEX TABLE CONCURRENTLY orders;

-- Retiring old partitions of a partitioned table.
ALTER TABLE measurements DETACH PARTITION measurements_2019;
ALTER TABLE measurements DETACH PARTITION measurements_2020 CONCURRENTLY;

-- A table made in this file is empty: building its indexes the plain way is fine.
CREATE TABLE IF NOT EXISTS audit_events (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    payload jsonb,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS audit_events_created_at_idx ON audit_events (created_at);

-- CONCURRENTLY cannot run inside a transaction block.
BEGIN;
CREATE INDEX CONCURRENTLY orders_total_idx ON orders (total);
COMMIT;

-- Routine maintenance that takes no blocking lock.
VACUUM (ANALYZE) orders;
