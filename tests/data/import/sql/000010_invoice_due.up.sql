BEGIN;
SET LOCAL lock_timeout = '2s';
ALTER TABLE invoices ADD COLUMN due_at timestamptz;
COMMENT ON COLUMN invoices.due_at IS 'when the invoice falls due';
COMMIT;
