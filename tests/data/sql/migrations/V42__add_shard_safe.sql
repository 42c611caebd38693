-- V42__add_shard.sql, written the safe way: a short lock_timeout so no statement queues the
-- application behind a long transaction for long; the column nullable first, its DEFAULT for new
-- rows, the old rows filled in id-range batches (past the highest id the table had: the
-- application inserts while the file waits), NOT NULL proven by a CHECK added NOT VALID and
-- validated under SHARE UPDATE EXCLUSIVE, and the index built CONCURRENTLY (re-runnable).
SET lock_timeout = '300ms';

ALTER TABLE orders ADD COLUMN IF NOT EXISTS shard integer;
ALTER TABLE orders ALTER COLUMN shard SET DEFAULT floor(random() * 16)::int;

UPDATE orders SET shard = id % 16 WHERE id BETWEEN 1 AND 2000 AND shard IS NULL;
UPDATE orders SET shard = id % 16 WHERE id BETWEEN 2001 AND 4000 AND shard IS NULL;
UPDATE orders SET shard = id % 16 WHERE id BETWEEN 4001 AND 6000 AND shard IS NULL;
UPDATE orders SET shard = id % 16 WHERE id BETWEEN 6001 AND 8000 AND shard IS NULL;
UPDATE orders SET shard = id % 16 WHERE id BETWEEN 8001 AND 10000 AND shard IS NULL;
UPDATE orders SET shard = id % 16 WHERE id BETWEEN 10001 AND 12000 AND shard IS NULL;

ALTER TABLE orders ADD CONSTRAINT orders_shard_not_null CHECK (shard IS NOT NULL) NOT VALID;
ALTER TABLE orders VALIDATE CONSTRAINT orders_shard_not_null;

CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_shard_idx ON orders (shard);
