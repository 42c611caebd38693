// KNOWN-DEFECT(issue 11, fixed on branch inputs): remove on merge.
// Inputs that hit a defect of issue 11 already being fixed elsewhere; the targets skip them so
// that fuzzing finds the others meanwhile. Each predicate matches its defect as narrowly as it
// can (the yaml-cpp hang is detected by running yaml-cpp's parser with a bound, not guessed from
// the text); when the fix is merged, delete the predicate and its call, and the regression inputs
// of fuzz/regressions/ (known-*) will prove the fix.
#pragma once

#include <cstddef>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include "scenarios/live_config.h"

namespace rehearse::fuzz {

// yaml-cpp 0.7's LoadAll never returns, and its memory grows, when a `,` (a flow entry) stands
// where a document's node would: at the start (`,`, `, -`, `--- ,`), after node properties that
// end at the comma (`!one_of(a,b)k`, `&a,`), after a complete root node (`{},d`, `[] ,`, `"a",`)
// or in a later document (`name: x`, `---`, `,`; a live config reaches it so, its own YAML::Load
// reads only the first document). The parser then yields empty documents without consuming
// input. True when yaml-cpp's event parser yields more documents than the text has bytes.
class IgnoreYamlEvents final : public YAML::EventHandler {
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

inline bool known_yaml_hang(const std::string& text) {
  std::istringstream in(text);
  try {
    YAML::Parser parser(in);
    IgnoreYamlEvents events;
    for (std::size_t documents = 0; parser.HandleNextDocument(events);) {
      if (++documents > text.size() + 1) return true;
    }
  } catch (const YAML::Exception&) {
    // A parse error ends the document list: the loader reports it.
  }
  return false;
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
