// Every YAML file rehearse reads (scenarios, live configs, the built-in library) goes through
// parse_yaml: a validating pre-parse with libfyaml, then yaml-cpp builds the nodes the loaders
// read. yaml-cpp 0.7 alone loops without end, growing memory, on some documents that are not
// YAML (a file holding only `,` or `, -`); libfyaml (a YAML 1.2 parser that passes the YAML test
// suite) rejects those with a line and a column, and its event stream lets the pre-parse bound
// the document's nesting and its size with aliases expanded before any tree is built. The limits
// are in docs/scenarios.md ("Limits").
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

namespace rehearse {

constexpr std::size_t kMaxYamlBytes = 2 << 20;      // 2 MiB: yaml-cpp reads 4 to 8 MB/s; scenarios are a few KB
constexpr int kMaxYamlDepth = 64;                    // nested mappings and lists
constexpr std::uint64_t kMaxYamlNodes = 100'000;     // scalars, lists and mappings, aliases expanded

struct YamlError {
  int line = 0;  // 1-based; 0 = the text as a whole
  int column = 0;  // 1-based; 0 = unknown
  std::string message;
  std::string describe() const;  // the message, with "(column N)" when the column is known
};

struct YamlDocuments {
  std::vector<YAML::Node> documents;  // empty when `error` is set
  std::optional<YamlError> error;
};

// Parses `text` (every document of it). Never throws; never runs unbounded.
YamlDocuments parse_yaml(const std::string& text);

// Reads a file of at most `max_bytes`; reading stops past the limit, so a pipe or a device
// such as /dev/zero is refused too. nullopt with the problem in *problem ("is a directory, not
// WHAT", "larger than N MiB; not WHAT", "cannot read: ..."). Every input file rehearse reads
// goes through it (YAML below; `merge`'s JSON).
std::optional<std::string> read_bounded_file(const std::string& path, std::size_t max_bytes, const char* what,
                                             std::string* problem);

// read_bounded_file of a YAML file, at most kMaxYamlBytes.
std::optional<std::string> read_yaml_file(const std::string& path, std::string* problem);

}  // namespace rehearse
