// The libfyaml pre-parse (events only, no tree: memory stays proportional to the nesting and
// the anchors) and the yaml-cpp load behind it (scenarios/yaml_input.h).
#include "scenarios/yaml_input.h"

#include <libfyaml.h>
#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>

#include <fmt/format.h>

#include "core/utf8.h"

namespace rehearse {

namespace {

struct DiagDeleter {
  void operator()(fy_diag* diag) const { fy_diag_destroy(diag); }
};
struct ParserDeleter {
  void operator()(fy_parser* parser) const { fy_parser_destroy(parser); }
};

std::string token_text(fy_token* token) {
  if (token == nullptr) return "";
  std::size_t length = 0;
  const char* text = fy_token_get_text(token, &length);
  return text == nullptr ? std::string() : std::string(text, length);
}

// Walks the event stream: counts the nodes (an alias counts as many as its anchor's node
// holds), tracks the nesting, and stops at the first problem.
class Prescan {
 public:
  std::optional<YamlError> run(const std::string& text) {
    fy_diag_cfg diag_config;
    fy_diag_cfg_default(&diag_config);
    diag_config.fp = nullptr;
    diag_config.level = FYET_ERROR;
    const std::unique_ptr<fy_diag, DiagDeleter> diag(fy_diag_create(&diag_config));
    if (!diag) return YamlError{0, 0, "cannot start the YAML parser (out of memory)"};
    fy_diag_set_collect_errors(diag.get(), true);
    fy_parse_cfg config{};
    // Duplicate keys are the loader's to report (with the key's path); JSON-only mode never.
    config.flags = static_cast<fy_parse_cfg_flags>(FYPCF_QUIET | FYPCF_ALLOW_DUPLICATE_KEYS | FYPCF_JSON_NONE);
    config.diag = diag.get();
    const std::unique_ptr<fy_parser, ParserDeleter> parser(fy_parser_create(&config));
    if (!parser || fy_parser_set_string(parser.get(), text.data(), text.size()) != 0)
      return YamlError{0, 0, "cannot start the YAML parser (out of memory)"};
    while (fy_event* event = fy_parser_parse(parser.get())) {
      std::optional<YamlError> problem = on_event(event);
      fy_parser_event_free(parser.get(), event);
      if (problem) return problem;
    }
    if (fy_parser_get_stream_error(parser.get())) {
      void* iterator = nullptr;
      if (const fy_diag_error* error = fy_diag_errors_iterate(diag.get(), &iterator)) {
        return YamlError{error->line, error->column, fmt::format("YAML syntax error: {}", error->msg ? error->msg : "")};
      }
      return YamlError{line_, 0, "YAML syntax error"};
    }
    return std::nullopt;
  }

 private:
  struct Open {
    std::uint64_t nodes = 1;  // the collection itself and everything in it so far
    std::string anchor;
  };

  std::optional<YamlError> on_event(fy_event* event) {
    if (const fy_mark* mark = fy_event_start_mark(event)) line_ = mark->line + 1, column_ = mark->column + 1;
    switch (event->type) {
      case FYET_SCALAR: return add(anchored(event->scalar.anchor, 1));
      case FYET_ALIAS: {
        const auto found = anchors_.find(token_text(event->alias.anchor));
        return add(found == anchors_.end() ? 1 : found->second);  // an unknown alias: yaml-cpp reports it
      }
      case FYET_SEQUENCE_START: return open(event->sequence_start.anchor);
      case FYET_MAPPING_START: return open(event->mapping_start.anchor);
      case FYET_SEQUENCE_END:
      case FYET_MAPPING_END: {
        if (open_.empty()) return std::nullopt;
        const Open done = std::move(open_.back());
        open_.pop_back();
        if (!done.anchor.empty()) anchors_[done.anchor] = done.nodes;
        return add(done.nodes, false);
      }
      default: return std::nullopt;
    }
  }

  std::uint64_t anchored(fy_token* anchor, std::uint64_t nodes) {
    if (anchor != nullptr) anchors_[token_text(anchor)] = nodes;
    return nodes;
  }

  std::optional<YamlError> open(fy_token* anchor) {
    if (static_cast<int>(open_.size()) >= kMaxYamlDepth) {
      return YamlError{line_, column_,
                       fmt::format("YAML nested too deeply: more than {} levels of lists and mappings (the limit "
                                   "keeps a hostile file from exhausting the stack; a scenario needs about 6)",
                                   kMaxYamlDepth)};
    }
    open_.push_back(Open{1, token_text(anchor)});
    return count(1);
  }

  // Adds `nodes` to the enclosing collection and, when `fresh`, to the document's total.
  std::optional<YamlError> add(std::uint64_t nodes, bool fresh = true) {
    if (!open_.empty()) open_.back().nodes += nodes;
    return fresh ? count(nodes) : std::nullopt;
  }

  std::optional<YamlError> count(std::uint64_t nodes) {
    total_ += nodes;
    if (total_ <= kMaxYamlNodes) return std::nullopt;
    return YamlError{line_, column_,
                     fmt::format("the YAML holds more than {} values (lists, mappings and scalars, each alias counted "
                                 "as the value it repeats); the limit keeps a hostile file from taking minutes and "
                                 "gigabytes",
                                 kMaxYamlNodes)};
  }

  std::vector<Open> open_;
  std::map<std::string, std::uint64_t> anchors_;
  std::uint64_t total_ = 0;  // at most 2 * kMaxYamlNodes: checked after every addition
  int line_ = 0;
  int column_ = 0;
};

// yaml-cpp 0.7's LoadAll never returns, its memory growing, when a `,` stands where a
// document's node would and libfyaml's pre-parse does not see it so: after node properties
// that end at the comma (`!one_of(a,b)k`), after a NUL byte (libfyaml stops reading there).
// Its parser then yields empty documents without consuming input. Found by fuzz/loader_fuzz.
// The guard runs yaml-cpp's own event parser, keeping nothing, and stops it once it has
// yielded more documents than the text has bytes: no real document stream does that.
class DiscardEvents final : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

// True when yaml-cpp's parser would yield documents without end. Parse errors are LoadAll's
// to report (with their mark), so they end the check.
bool yaml_cpp_would_loop(const std::string& text) {
  std::istringstream in(text);
  try {
    YAML::Parser parser(in);
    DiscardEvents events;
    for (std::size_t documents = 0; parser.HandleNextDocument(events);) {
      if (++documents > text.size() + 1) return true;
    }
  } catch (const YAML::Exception&) {
  }
  return false;
}

// The line of the first byte that is not valid UTF-8, or 0 when the text is valid.
int first_invalid_utf8_line(const std::string& text) {
  const std::size_t offset = invalid_utf8_offset(text);
  if (offset == std::string_view::npos) return 0;
  return 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(offset), '\n'));
}

}  // namespace

std::string YamlError::describe() const {
  return column > 0 ? fmt::format("{} (column {})", message, column) : message;
}

YamlDocuments parse_yaml(const std::string& text) {
  YamlDocuments result;
  if (text.size() > kMaxYamlBytes) {
    result.error = YamlError{0, 0, fmt::format("larger than {} MiB; not a scenario file", kMaxYamlBytes >> 20)};
    return result;
  }
  // libfyaml 0.7 can loop without end on bytes that are not UTF-8 (a stray 0xB7 in a `%`
  // directive line, found by fuzz/live_config_fuzz): no text reaches it unchecked.
  if (const int bad_line = first_invalid_utf8_line(text)) {
    result.error = YamlError{bad_line, 0, "not valid UTF-8 (rehearse reads UTF-8 text)"};
    return result;
  }
  if (text.find('\0') != std::string::npos) {
    const std::size_t at = text.find('\0');
    const int line = 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(at), '\n'));
    result.error = YamlError{line, 0, "a NUL byte in the text: not a YAML file"};
    return result;
  }
  if (std::optional<YamlError> problem = Prescan().run(text)) {
    // libfyaml places an error found at the end of the stream (an unclosed flow mapping) on
    // the line after the last: name the last line, the one a user can open.
    const int lines = 1 + static_cast<int>(std::count(text.begin(), text.end(), '\n'));
    if (problem->line > lines) problem->line = lines, problem->column = 0;
    result.error = std::move(problem);
    return result;
  }
  if (yaml_cpp_would_loop(text)) {
    result.error = YamlError{0, 0,
                             "YAML syntax error: a ',' stands where a document's value should be (yaml-cpp, the "
                             "YAML library, would read such a file without end)"};
    return result;
  }
  try {
    result.documents = YAML::LoadAll(text);
  } catch (const YAML::DeepRecursion& e) {
    result.error = YamlError{e.mark.line >= 0 ? e.mark.line + 1 : 0, e.mark.column + 1, "YAML nested too deeply"};
  } catch (const YAML::Exception& e) {
    result.error = YamlError{e.mark.line >= 0 ? e.mark.line + 1 : 0, e.mark.line >= 0 ? e.mark.column + 1 : 0,
                             "YAML syntax error: " + e.msg};
  } catch (const std::exception& e) {
    result.error = YamlError{0, 0, std::string("cannot read the YAML: ") + e.what()};
  }
  if (result.error) result.documents.clear();
  return result;
}

std::optional<std::string> read_bounded_file(const std::string& path, std::size_t max_bytes, const char* what,
                                             std::string* problem) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    *problem = fmt::format("is a directory, not {}", what);
    return std::nullopt;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *problem = std::string("cannot read: ") + std::strerror(errno);
    return std::nullopt;
  }
  std::string text;
  char buffer[1 << 16];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
    text.append(buffer, static_cast<std::size_t>(in.gcount()));
    if (text.size() > max_bytes) {
      *problem = fmt::format("larger than {} MiB; not {}", max_bytes >> 20, what);
      return std::nullopt;
    }
  }
  if (in.bad()) {
    *problem = "cannot read: I/O error";
    return std::nullopt;
  }
  return text;
}

std::optional<std::string> read_yaml_file(const std::string& path, std::string* problem) {
  return read_bounded_file(path, kMaxYamlBytes, "a scenario file", problem);
}

}  // namespace rehearse
