// Migration tools that keep a migration's rollback in the same file behind section markers:
// goose (`-- +goose Up` / `-- +goose Down`, `-- +goose NO TRANSACTION`), sql-migrate (`-- +migrate
// Up [notransaction]` / `-- +migrate Down`) and dbmate (`-- migrate:up [transaction:false]` /
// `-- migrate:down`). Each runs a file's up section, in one transaction unless it says not to.
#pragma once

#include <string>

namespace rehearse {

struct ToolSections {
  bool marked = false;         // the file has an up or down marker
  bool in_transaction = true;  // the tool wraps the up section in BEGIN ... COMMIT
  int up_line = 0;             // the first up marker's line (1-based); 0 = none
  int up_end_line = 0;         // the up section's last line (before a down marker, or the file's last)
};

// Blanks `text`'s down sections in place (spaces; line breaks and byte offsets kept, so
// PostgreSQL's positions still point into the file as written): the rollback a tool keeps in the
// same file is not part of the migration.
ToolSections blank_down_sections(std::string& text);

// `text` with its down sections blanked.
std::string up_sections(std::string text);

}  // namespace rehearse
