-- golang-migrate style: the first migration builds the schema.
CREATE EXTENSION IF NOT EXISTS pgcrypto;
CREATE TYPE account_state AS ENUM ('active', 'suspended');

CREATE TABLE IF NOT EXISTS accounts (
    id bigserial PRIMARY KEY,
    email varchar(255) NOT NULL UNIQUE,
    state account_state NOT NULL DEFAULT 'active',
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS invoices (
    id bigserial PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    amount numeric(12,2) NOT NULL CHECK (amount >= 0),
    note text
);
CREATE INDEX IF NOT EXISTS invoices_account_idx ON invoices (account_id);
