-- A file that opens a transaction and never commits it: the tool running it decides what happens.
SET lock_timeout = '1s';
SET statement_timeout = '5s';
BEGIN;
ALTER TABLE parcels ADD COLUMN IF NOT EXISTS insured boolean;
UPDATE parcels SET insured = false WHERE insured IS NULL;
