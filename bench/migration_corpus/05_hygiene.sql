-- Retry-safety, transactions, enums, identifiers and duplicate assignments.

-- Statements that fail when run a second time after a partial failure.
CREATE TABLE shipments (id bigint PRIMARY KEY, carrier text);
CREATE TABLE IF NOT EXISTS parcels (id bigint PRIMARY KEY, shipment_id bigint);
ALTER TABLE parcels ADD COLUMN weight_grams bigint;
ALTER TABLE parcels ADD COLUMN IF NOT EXISTS width_mm bigint;
CREATE INDEX CONCURRENTLY parcels_shipment_idx ON parcels (shipment_id);
CREATE INDEX CONCURRENTLY IF NOT EXISTS parcels_weight_idx ON parcels (weight_grams);
DROP INDEX CONCURRENTLY parcels_old_idx;
ALTER TABLE parcels DROP COLUMN IF EXISTS legacy_code;

-- A transaction opened inside another one.
BEGIN;
ALTER TABLE parcels ADD COLUMN IF NOT EXISTS label text;
BEGIN;
ALTER TABLE parcels ADD COLUMN IF NOT EXISTS barcode text;
COMMIT;

-- New enum values: where they sort matters to ORDER BY and comparisons.
CREATE TYPE shipment_state AS ENUM ('pending', 'sent');
ALTER TYPE shipment_state ADD VALUE 'lost';
ALTER TYPE shipment_state ADD VALUE IF NOT EXISTS 'returned' AFTER 'sent';

-- PostgreSQL cuts identifiers at 63 bytes, silently.
CREATE TABLE IF NOT EXISTS shipment_tracking_events_with_a_far_too_long_and_descriptive_name (id bigint);
CREATE TABLE IF NOT EXISTS shipment_tracking_events (id bigint);

-- The same column assigned twice: only one value wins.
UPDATE shipments SET carrier = 'dhl', carrier = 'ups' WHERE id = 1;
UPDATE shipments SET carrier = 'dhl' WHERE id = 2;
INSERT INTO parcels (id, shipment_id, shipment_id) VALUES (1, 1, 2);
INSERT INTO parcels (id, shipment_id) VALUES (2, 1);

-- Unqualified vs schema-qualified names (an opt-in rule in squawk).
ALTER TABLE public.parcels ADD COLUMN IF NOT EXISTS height_mm bigint;
