// The built-in scenario library: scenarios/library/*.yaml, embedded at build time by
// scenarios/embed.cmake so `rehearse run NAME` works from any directory.
#pragma once

#include <string>
#include <vector>

namespace rehearse {

struct BuiltinScenarioText {
  std::string file_stem;  // the file name without `.yaml`
  std::string text;       // the YAML source
};

// Every built-in scenario file, sorted by file name.
const std::vector<BuiltinScenarioText>& builtin_scenario_texts();

}  // namespace rehearse
