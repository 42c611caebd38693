-- The safe way: a nullable column, a batched backfill, NOT NULL through a validated CHECK.
SET lock_timeout = '2s';
ALTER TABLE invoices ADD COLUMN IF NOT EXISTS amount_cents bigint;
UPDATE invoices SET amount_cents = (amount * 100)::bigint WHERE id BETWEEN 1 AND 1000 AND amount_cents IS NULL;
UPDATE invoices SET amount_cents = (amount * 100)::bigint WHERE id BETWEEN 1001 AND 2000 AND amount_cents IS NULL;
ALTER TABLE invoices ADD CONSTRAINT invoices_amount_cents_not_null CHECK (amount_cents IS NOT NULL) NOT VALID;
ALTER TABLE invoices VALIDATE CONSTRAINT invoices_amount_cents_not_null;
