// Section markers of goose, sql-migrate, dbmate and Liquibase formatted SQL (core/tool_sections.h).
#include "core/tool_sections.h"

#include <algorithm>
#include <cctype>
#include <set>
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

bool identifier_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// pop (soda) renders a SQL migration through Go's text/template before PostgreSQL reads it:
// an action on one line, {{ index .Options "Namespace" }} (supabase/auth's schema name), is
// replaced wherever it stands, in quotes too, by an identifier of the same length standing for
// its output. Only what reads as an action (after `{{` and an optional `-`, a letter or a `.`,
// and no comma or brace before `}}`): a 2-D array literal '{{1,2},{3,4}}' or '{{a,b}}' stays.
void go_template_actions(std::string& text) {
  for (std::size_t at = text.find("{{"); at != std::string::npos; at = text.find("{{", at + 2)) {
    const std::size_t close = text.find("}}", at + 2);
    if (close == std::string::npos) return;
    const std::string_view inside(text.data() + at + 2, close - at - 2);
    const std::size_t first = inside.find_first_not_of(" -");
    const bool action = first != std::string_view::npos &&
                        (std::isalpha(static_cast<unsigned char>(inside[first])) != 0 || inside[first] == '.') &&
                        inside.find_first_of(",{}\n") == std::string_view::npos;
    if (!action) continue;
    // Lower case: the same name quoted ("{{ ... }}".users) and unquoted ({{ ... }}.users).
    for (std::size_t k = at; k < close + 2; ++k) {
      text[k] = identifier_char(text[k]) ? static_cast<char>(std::tolower(static_cast<unsigned char>(text[k]))) : '_';
    }
    at = close;
  }
}

// psql's part of a script that psql runs (Sqitch's deploy scripts): a meta-command (a backslash
// outside quotes and comments, to the end of its line: \set, \echo, \i, ...) is psql's, not
// PostgreSQL's, and is blanked (\g and \gexec after a query end it, as `;` would);
// a variable that \set defined, written :name, :'name' or :"name" outside quotes and comments,
// becomes a name, a string literal or a quoted name of the same length (its value may be a shell
// command's output, unknown here), so PostgreSQL's positions still point into the file. A
// Flyway placeholder outside quotes (${name}) becomes an identifier of the same length.
void client_side_syntax(std::string& text) {
  go_template_actions(text);
  std::set<std::string> defined;
  enum class In { code, literal, quoted_name, dollar, line_comment, block_comment } in = In::code;
  std::string dollar_tag;
  bool escape_string = false;  // the literal is an E'...' string
  int block_depth = 0;
  bool line_start = true;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\n') {
      line_start = true;
      if (in == In::line_comment) in = In::code;
      continue;
    }
    const bool first_on_line = line_start && c != ' ' && c != '\t' && c != '\r';
    if (first_on_line) line_start = false;
    switch (in) {
      case In::literal:
        if (c == '\\' && escape_string) {
          if (i + 1 < text.size() && text[i + 1] != '\n') ++i;  // E'...\'...': it escapes the next character, a quote too
        } else if (c == '\'') {
          in = In::code;
        }
        continue;
      case In::quoted_name:
        if (c == '"') in = In::code;
        continue;
      case In::dollar:
        if (c == '$' && text.compare(i, dollar_tag.size(), dollar_tag) == 0) {
          i += dollar_tag.size() - 1;
          in = In::code;
        }
        continue;
      case In::line_comment: continue;
      case In::block_comment:
        if (c == '*' && i + 1 < text.size() && text[i + 1] == '/') {
          ++i;
          if (--block_depth == 0) in = In::code;
        } else if (c == '/' && i + 1 < text.size() && text[i + 1] == '*') {
          ++i;
          ++block_depth;
        }
        continue;
      case In::code: break;
    }
    if (c == '\\') {  // a meta-command, to the end of the line (\g, \gexec, \gset end the query before it, as `;`)
      std::size_t end = text.find('\n', i);
      if (end == std::string::npos) end = text.size();
      const std::string command = text.substr(i, end - i);
      const bool ends_query = !first_on_line && command.size() > 1 && command[1] == 'g';
      if (command.rfind("\\set", 0) == 0) {
        std::size_t at = command.find_first_not_of(" \t", 4);
        std::size_t stop = at;
        while (stop < command.size() && identifier_char(command[stop])) ++stop;
        if (at != std::string::npos && stop > at && at > 4) defined.insert(command.substr(at, stop - at));
      }
      for (std::size_t k = i; k < end; ++k) {
        if (text[k] != '\r') text[k] = ' ';
      }
      if (ends_query) text[i] = ';';
      i = end - 1;
      continue;
    }
    if (c == '\'') {
      in = In::literal;
      escape_string = i > 0 && (text[i - 1] == 'E' || text[i - 1] == 'e') && (i < 2 || !identifier_char(text[i - 2]));
    } else if (c == '"') {
      in = In::quoted_name;
    } else if (c == '-' && i + 1 < text.size() && text[i + 1] == '-') {
      in = In::line_comment;
    } else if (c == '/' && i + 1 < text.size() && text[i + 1] == '*') {
      in = In::block_comment;
      block_depth = 1;
      ++i;
    } else if (c == '$' && i + 1 < text.size() && text[i + 1] == '{') {
      // A Flyway placeholder, ${name} or ${flyway:defaultSchema}: Flyway puts its value there
      // before PostgreSQL reads the file. An identifier of the same length stands for it.
      const std::size_t close = text.find('}', i + 2);
      if (close == std::string::npos || close == i + 2 || text.find('\n', i) < close) continue;
      for (std::size_t k = i; k <= close; ++k) text[k] = identifier_char(text[k]) ? text[k] : '_';
      i = close;
    } else if (c == '$' && (i == 0 || !identifier_char(text[i - 1]))) {
      const std::size_t close = text.find('$', i + 1);
      if (close != std::string::npos &&
          std::all_of(text.begin() + static_cast<std::ptrdiff_t>(i) + 1, text.begin() + static_cast<std::ptrdiff_t>(close), identifier_char)) {
        dollar_tag = text.substr(i, close - i + 1);
        in = In::dollar;
        i = close;
      }
    } else if (c == ':' && i + 1 < text.size() && (i == 0 || text[i - 1] != ':') && text[i + 1] != ':') {
      const char quote = text[i + 1] == '\'' || text[i + 1] == '"' ? text[i + 1] : '\0';
      const std::size_t from = i + 1 + (quote != '\0' ? 1 : 0);
      std::size_t stop = from;
      while (stop < text.size() && identifier_char(text[stop])) ++stop;
      const std::string name = text.substr(from, stop - from);
      if (name.empty() || defined.count(name) == 0 || (quote != '\0' && (stop >= text.size() || text[stop] != quote))) continue;
      if (quote == '\0') {
        text[i] = '_';  // :name -> _name
        i = stop - 1;
      } else {
        text.replace(i, stop + 1 - i, std::string(1, quote) + name + std::string(1, quote) + " ");  // :'name' -> 'name'
        i = stop;
      }
    }
  }
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
  client_side_syntax(text);
  return tool;
}

std::string up_sections(std::string text) {
  blank_down_sections(text);
  return text;
}

}  // namespace rehearse
