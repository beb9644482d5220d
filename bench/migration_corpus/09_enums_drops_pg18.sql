-- Dropped constraints, enum values used too early, and PostgreSQL 18's NOT NULL constraint on an older server.
SET lock_timeout = '1s';
SET statement_timeout = '5s';

-- Dropping a constraint removes a guarantee deployed code relies on (squawk 2.70: ban-drop-constraint).
ALTER TABLE orders DROP CONSTRAINT IF EXISTS orders_total_positive;
ALTER TABLE coupons DROP CONSTRAINT IF EXISTS coupons_pkey CASCADE;
-- A constraint of a table created in this file: nothing relies on it yet (squawk still reports it).
CREATE TABLE IF NOT EXISTS coupon_drafts (id bigint PRIMARY KEY, code text, CONSTRAINT coupon_drafts_code_len CHECK (length(code) < 20));
ALTER TABLE coupon_drafts DROP CONSTRAINT IF EXISTS coupon_drafts_code_len;

-- A new enum value used in the transaction that added it: PostgreSQL refuses it until COMMIT.
BEGIN;
ALTER TYPE order_state ADD VALUE IF NOT EXISTS 'refunded' AFTER 'paid';
UPDATE orders SET state = 'refunded' WHERE refunded_at IS NOT NULL AND id < 1000;
COMMIT;
-- Committed first, then used: fine.
ALTER TYPE order_state ADD VALUE IF NOT EXISTS 'disputed' AFTER 'paid';
BEGIN;
UPDATE orders SET state = 'disputed' WHERE disputed_at IS NOT NULL AND id < 1000;
COMMIT;

-- NOT NULL as a table constraint, NOT VALID: PostgreSQL 18 syntax, a syntax error on 15 (this file's version).
ALTER TABLE orders ADD CONSTRAINT orders_coupon_not_null NOT NULL coupon_id NOT VALID;
-- The way that works from PostgreSQL 12.
ALTER TABLE orders ADD CONSTRAINT orders_user_not_null CHECK (user_id IS NOT NULL) NOT VALID;
