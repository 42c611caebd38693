// Section markers of goose, sql-migrate, dbmate and Liquibase formatted SQL (core/tool_sections.h).
#include "core/tool_sections.h"

#include <cctype>
#include <string_view>

namespace rehearse {

namespace {

std::string lower_ascii(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Whether `word` begins with `keyword` as a whole word.
bool starts_with_word(const std::string& word, std::string_view keyword) {
  return word.rfind(keyword, 0) == 0 && (word.size() == keyword.size() || !std::isalnum(static_cast<unsigned char>(word[keyword.size()])));
}

std::string after_spaces(const std::string& text, std::size_t from) {
  const std::size_t at = text.find_first_not_of(" \t", from);
  return at == std::string::npos ? std::string() : text.substr(at);
}

}  // namespace

ToolSections blank_down_sections(std::string& text) {
  ToolSections tool;
  bool down = false;
  bool up_open = false;
  bool up_in_transaction = true;
  bool liquibase = false;
  int up_line = 0;
  int up_end_line = 0;
  // Liquibase: the changeset being read (its first line, and whether it runs in a transaction).
  ToolSections::Transaction changeset;
  bool changeset_in_transaction = false;
  auto close_changeset = [&](int last_line) {
    if (changeset.first_line > 0 && changeset_in_transaction) {
      changeset.last_line = last_line;
      tool.transactions.push_back(changeset);
    }
    changeset = {};
  };
  std::size_t at = 0;
  int line = 1;
  while (at < text.size()) {
    std::size_t end = text.find('\n', at);
    if (end == std::string::npos) end = text.size();
    std::string_view row(text.data() + at, end - at);
    while (!row.empty() && std::isspace(static_cast<unsigned char>(row.front()))) row.remove_prefix(1);
    if (row.size() > 2 && row.substr(0, 2) == "--") {
      const std::string marker = after_spaces(lower_ascii(row.substr(2)), 0);
      const bool goose = marker.rfind("+goose", 0) == 0;
      const bool sql_migrate = marker.rfind("+migrate", 0) == 0;
      const bool dbmate = marker.rfind("migrate:", 0) == 0;
      const std::string word = goose ? after_spaces(marker, 6) : (sql_migrate || dbmate) ? after_spaces(marker, 8) : "";
      const bool up = starts_with_word(word, "up");
      const bool is_down = starts_with_word(word, "down");
      if (line == 1 && starts_with_word(marker, "liquibase") && after_spaces(marker, 9).rfind("formatted", 0) == 0) {
        liquibase = tool.marked = true;
      } else if (liquibase && starts_with_word(marker, "changeset")) {
        close_changeset(line - 1);
        changeset.first_line = line;
        changeset_in_transaction = marker.find("runintransaction:false") == std::string::npos;
      } else if ((goose || sql_migrate || dbmate) && (up || is_down)) {
        if (is_down && up_open) up_end_line = line - 1;
        tool.marked = true;
        down = is_down;
        up_open = up;
        if (up && up_line == 0) up_line = line;
        if (up && (word.find("notransaction") != std::string::npos || word.find("transaction:false") != std::string::npos)) {
          up_in_transaction = false;
        }
      } else if (goose && starts_with_word(word, "no")) {  // -- +goose NO TRANSACTION
        up_in_transaction = false;
      }
    }
    if (down) {
      for (std::size_t i = at; i < end; ++i) {
        if (text[i] != '\r') text[i] = ' ';
      }
    }
    if (up_open) up_end_line = line;
    at = end + 1;
    ++line;
  }
  close_changeset(line - 1);
  if (!liquibase && tool.marked && up_in_transaction) tool.transactions.push_back({up_line, up_end_line});
  return tool;
}

std::string up_sections(std::string text) {
  blank_down_sections(text);
  return text;
}

}  // namespace rehearse
