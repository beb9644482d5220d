-- Column changes on the users table. Timeouts are set first.
SET lock_timeout = '1s';
SET statement_timeout = '5s';

-- Nullable, no default: a catalog change only.
ALTER TABLE users ADD COLUMN nickname text;
-- A constant default is stored in the catalog from PostgreSQL 11: no rewrite.
ALTER TABLE users ADD COLUMN signup_source text DEFAULT 'web';
ALTER TABLE users ADD COLUMN marketing_opt_in boolean NOT NULL DEFAULT false;
-- A volatile default is computed per row: the table is rewritten.
ALTER TABLE users ADD COLUMN external_ref uuid DEFAULT gen_random_uuid();
ALTER TABLE users ADD COLUMN jitter double precision DEFAULT random();
-- A stored generated column is computed per row too.
ALTER TABLE users ADD COLUMN nickname_length bigint GENERATED ALWAYS AS (length(nickname)) STORED;

-- NOT NULL without a default fails on a table with rows, and breaks older writers.
ALTER TABLE users ADD COLUMN tier text NOT NULL;
ALTER TABLE users ADD COLUMN region text NOT NULL DEFAULT 'eu';

-- SET NOT NULL scans the table under ACCESS EXCLUSIVE.
ALTER TABLE users ALTER COLUMN nickname SET NOT NULL;
-- Unless a validated CHECK (col IS NOT NULL) proves it first (PostgreSQL 12+).
ALTER TABLE users ADD CONSTRAINT users_region_not_null CHECK (region IS NOT NULL) NOT VALID;
ALTER TABLE users VALIDATE CONSTRAINT users_region_not_null;
ALTER TABLE users ALTER COLUMN region SET NOT NULL;
ALTER TABLE users DROP CONSTRAINT users_region_not_null;

-- Letting NULLs in again can break readers that rely on the column being set.
ALTER TABLE users ALTER COLUMN bio DROP NOT NULL;

-- Type changes: most rewrite the table and its indexes.
ALTER TABLE users ALTER COLUMN age TYPE bigint;
ALTER TABLE users ALTER COLUMN nickname TYPE varchar(100);
ALTER TABLE users ALTER COLUMN nickname SET DEFAULT '';

-- Renames break the application code still using the old name.
ALTER TABLE users RENAME COLUMN nickname TO display_name;
ALTER TABLE users RENAME TO app_users;

-- Drops.
ALTER TABLE app_users DROP COLUMN legacy_flag;
DROP TABLE old_sessions;
DROP DATABASE staging_copy;
TRUNCATE TABLE carts CASCADE;
TRUNCATE TABLE carts;
