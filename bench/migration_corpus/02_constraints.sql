-- Constraints added to existing tables. Timeouts are set, so only the constraint rules should speak.
SET lock_timeout = '1s';
SET statement_timeout = '5s';

-- A CHECK added in one step scans the whole table under ACCESS EXCLUSIVE.
ALTER TABLE orders ADD CONSTRAINT orders_total_positive CHECK (total >= 0);

-- The two-step way: NOT VALID first, VALIDATE later (a weaker lock while scanning).
ALTER TABLE orders ADD CONSTRAINT orders_quantity_positive CHECK (quantity > 0) NOT VALID;
ALTER TABLE orders VALIDATE CONSTRAINT orders_quantity_positive;

-- A foreign key added in one step locks both tables while it checks every row.
ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id);
ALTER TABLE orders ADD CONSTRAINT orders_coupon_fk FOREIGN KEY (coupon_id) REFERENCES coupons (id) NOT VALID;
ALTER TABLE orders VALIDATE CONSTRAINT orders_coupon_fk;

-- NOT VALID and VALIDATE in the same transaction gain nothing: the locks are held together.
BEGIN;
ALTER TABLE payments ADD CONSTRAINT payments_order_fk FOREIGN KEY (order_id) REFERENCES orders (id) NOT VALID;
ALTER TABLE payments VALIDATE CONSTRAINT payments_order_fk;
COMMIT;

-- UNIQUE builds its index under ACCESS EXCLUSIVE; attaching a ready index is quick.
ALTER TABLE users ADD CONSTRAINT users_email_unique UNIQUE (email);
ALTER TABLE users ADD CONSTRAINT users_email_unique2 UNIQUE USING INDEX users_email_key;

-- Primary keys added to existing tables.
ALTER TABLE accounts ADD COLUMN id bigserial PRIMARY KEY;
ALTER TABLE ledgers ADD CONSTRAINT ledgers_pkey PRIMARY KEY (id);
ALTER TABLE ledgers_archive ADD CONSTRAINT ledgers_archive_pkey PRIMARY KEY USING INDEX ledgers_archive_id_idx;

-- Domains with constraints are checked against every column using them.
CREATE DOMAIN positive_amount AS numeric CHECK (VALUE > 0);
CREATE DOMAIN short_label AS text;
ALTER DOMAIN short_label ADD CONSTRAINT short_label_length CHECK (length(VALUE) < 50);
ALTER DOMAIN short_label SET DEFAULT '';

-- Constraints on a table created in this file touch no existing rows.
CREATE TABLE IF NOT EXISTS coupons_v2 (
    id bigint PRIMARY KEY,
    code text NOT NULL,
    percent_off numeric
);
ALTER TABLE coupons_v2 ADD CONSTRAINT coupons_v2_code_key UNIQUE (code);
ALTER TABLE coupons_v2 ADD CONSTRAINT coupons_v2_percent CHECK (percent_off BETWEEN 0 AND 100);
