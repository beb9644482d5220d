-- pg-version: 19
-- Whole-table rewrites. From PostgreSQL 19, REPACK (CONCURRENTLY) can do the same without blocking.
SET lock_timeout = '1s';
SET statement_timeout = '30min';

VACUUM FULL orders;
VACUUM (FULL) order_items;
CLUSTER orders USING orders_pkey;
VACUUM (ANALYZE) orders;
VACUUM (FULL FALSE) order_items;
ANALYZE orders;
