// Migration tools that keep a migration's rollback in the same file behind section markers:
// goose (`-- +goose Up` / `-- +goose Down`, `-- +goose NO TRANSACTION`), sql-migrate (`-- +migrate
// Up [notransaction]` / `-- +migrate Down`) and dbmate (`-- migrate:up [transaction:false]` /
// `-- migrate:down`). Each runs a file's up section, in one transaction unless it says not to.
// Liquibase formatted SQL (`--liquibase formatted sql`, then `--changeset author:id
// [runInTransaction:false] ...`) runs each changeset in a transaction of its own unless it says
// not to; its `--rollback` lines are comments. The client's own syntax goes too (psql's
// meta-commands and variables, Flyway's placeholders): what the server would never see.
#pragma once

#include <string>
#include <vector>

namespace rehearse {

struct ToolSections {
  bool marked = false;         // the file has an up or down marker, or is Liquibase formatted SQL
  // The parts of the file the tool runs each in one transaction (1-based lines, inclusive).
  struct Transaction {
    int first_line = 0;  // its marker's line
    int last_line = 0;   // before the next marker, or the file's last
  };
  std::vector<Transaction> transactions;
};

// Blanks `text`'s down sections in place (spaces; line breaks and byte offsets kept, so
// PostgreSQL's positions still point into the file as written): the rollback a tool keeps in the
// same file is not part of the migration.
ToolSections blank_down_sections(std::string& text);

// `text` with its down sections blanked.
std::string up_sections(std::string text);

}  // namespace rehearse
