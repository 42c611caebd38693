-- V43__amount_to_cents.sql: written as one in-place type change (a rewrite under ACCESS
-- EXCLUSIVE if run as written); `mode: expand-contract` runs it as a shadow column backfilled in
-- batches and renamed into place in contract.
ALTER TABLE orders ALTER COLUMN amount TYPE bigint USING round(amount * 100);
CREATE INDEX orders_amount_idx ON orders (amount);
