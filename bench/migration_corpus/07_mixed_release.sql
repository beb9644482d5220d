-- One realistic release, written the safe way, with a few slips left in.
SET lock_timeout = '2s';
SET statement_timeout = '10s';

CREATE TABLE IF NOT EXISTS public.refunds (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id bigint NOT NULL,
    amount_cents bigint NOT NULL,
    reason text,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS refunds_order_idx ON public.refunds (order_id);
ALTER TABLE public.refunds ADD CONSTRAINT refunds_order_fk FOREIGN KEY (order_id) REFERENCES orders (id);

ALTER TABLE orders ADD COLUMN IF NOT EXISTS refunded_cents bigint;
ALTER TABLE orders ADD COLUMN IF NOT EXISTS refund_state text DEFAULT 'none';
CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_refund_state_idx ON orders (refund_state);
ALTER TABLE orders ADD CONSTRAINT orders_refunded_ok CHECK (refunded_cents >= 0) NOT VALID;
ALTER TABLE orders VALIDATE CONSTRAINT orders_refunded_ok;
ALTER TABLE orders ALTER COLUMN refund_state SET NOT NULL;
ALTER TABLE orders ALTER COLUMN refunded_cents TYPE numeric(12, 2);
ALTER TABLE orders RENAME COLUMN refunded_cents TO refunded_amount;
ALTER TABLE orders DROP COLUMN IF EXISTS refund_note;
DROP TABLE IF EXISTS refunds_old;
UPDATE orders SET refund_state = 'none' WHERE refund_state IS NULL;
