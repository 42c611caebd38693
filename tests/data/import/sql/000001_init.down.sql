DROP TABLE invoices;
DROP TABLE accounts;
DROP TYPE account_state;
