-- V42__add_shard.sql, as first written: one statement that adds a NOT NULL column with a
-- volatile default (PostgreSQL rewrites every row under ACCESS EXCLUSIVE), then a plain
-- CREATE INDEX (SHARE: every write waits for the build).
ALTER TABLE orders ADD COLUMN shard integer NOT NULL DEFAULT floor(random() * 16)::int;

CREATE INDEX orders_shard_idx ON orders (shard);
