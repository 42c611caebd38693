SET lock_timeout = '2s';
CREATE INDEX CONCURRENTLY IF NOT EXISTS accounts_created_idx ON accounts (created_at);
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'accounts_email_lower') THEN
    ALTER TABLE accounts ADD CONSTRAINT accounts_email_lower CHECK (email = lower(email)) NOT VALID;
  END IF;
END
$$;
ALTER TYPE account_state ADD VALUE IF NOT EXISTS 'closed';
