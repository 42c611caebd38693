// KNOWN-DEFECT(issue 11, fixed on branch inputs): remove on merge.
// Inputs that hit a defect of issue 11 already being fixed elsewhere; the targets skip them so
// that fuzzing finds the others meanwhile. Each predicate is deliberately narrow (it matches the
// documented trigger, not a family of inputs); when the fix is merged, delete the predicate and
// its call, and the fuzz tests will prove the fix.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "scenarios/live_config.h"

namespace rehearse::fuzz {

// yaml-cpp 0.7's LoadAll never returns, and grows without bound, when a document's root node
// starts with `,` (`,`, `, -`, `--- ,`, `!!str ,`, `&a ,`, `!a,b` where the tag ends at the
// comma, or `name: x` then `---` then `,`; a live config reaches it through its second document).
// True when the first token of a document (the text's start, or after a line starting with `---`)
// after comments, directives, `---` and node properties (tags and anchors, which end at a space
// or a flow indicator) is a `,`.
inline bool known_yaml_document_hang(std::string_view text, std::size_t i) {
  const auto skip_to_space = [&] {
    while (i < text.size() && std::string_view(" \t\n\r,[]{}").find(text[i]) == std::string_view::npos) ++i;
  };
  while (i < text.size()) {
    const char c = text[i];
    const bool line_start = i == 0 || text[i - 1] == '\n';
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      ++i;
    } else if (c == '#' || (c == '%' && line_start)) {
      while (i < text.size() && text[i] != '\n') ++i;
    } else if (line_start && (text.substr(i, 3) == "---" || text.substr(i, 3) == "...")) {
      i += 3;
    } else if (c == '!' || c == '&') {
      skip_to_space();
    } else {
      return c == ',';
    }
  }
  return false;
}

inline bool known_yaml_hang(std::string_view text) {
  for (std::size_t start = 0;;) {
    if (known_yaml_document_hang(text, start)) return true;
    const std::size_t marker = text.find("\n---", start);
    if (marker == std::string_view::npos) return false;
    start = marker + 1;
  }
}

// `rehearse merge` recurses once per nesting level when it copies, compares and frees a JSON
// value (SIGSEGV at a million `[`). True when brackets outside strings nest deeper than 4,000
// (4,000 levels pass under AddressSanitizer, 10,000 overflow its stack).
inline bool known_deep_json(std::string_view text) {
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > 4000) return true;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return false;
}

// The live config is turned into a scenario by pasting region names into YAML text
// (scenarios/live_config.cc, topology_line): a name such as `eu-west-1, replicas: 0}, {name: zz`
// adds a region, one with a newline injects keys. True when a region name holds a character
// that YAML's flow syntax or a line break gives a meaning to.
inline bool known_live_region_injection(const std::vector<LiveRegionConfig>& regions) {
  for (const LiveRegionConfig& region : regions) {
    if (region.name.find_first_of(",:{}[]#&*!|>'\"%@`\n\r\t ") != std::string::npos) return true;
  }
  return false;
}

// An expression that parses can render (to_sql) past the parser's own nesting limit, so that
// its SQL is rejected by the same parser. True for that rejection.
inline bool known_render_too_deep(const std::string& reparse_error) {
  return reparse_error.find("nested too deeply") != std::string::npos;
}

}  // namespace rehearse::fuzz
