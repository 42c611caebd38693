// The scenario loader: reads a scenario file (../shared/spec/scenario-format.md) into the
// model of core/model.h, and validates it. Every problem found is reported with the file, the
// line and the dotted key path (`engine.backoff.jittr`, `faults[2].pasue`); loading goes on
// after an error so that one run shows them all. No input makes it crash.
//
// Where the spec is silent, the loader decides (see the comment at the top of loader.cc for
// the full list): e.g. a redlock lock without `nodes` has 3, defaults that name a region are
// filled in (engine.region, lock.region, engine.order, topology.home in global mode).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/model.h"

namespace YAML {
class Node;
}

namespace rehearse {

struct ScenarioError {
  std::string file;
  int line = 0;     // 1-based; 0 = the file as a whole (e.g. unreadable)
  std::string key;  // dotted key path; empty = not about one key
  std::string message;
  // "FILE:LINE: KEY: MESSAGE"; the line part is left out when line is 0 and the key part when
  // key is empty.
  std::string to_string() const;
};

struct LoadResult {
  std::optional<Scenario> scenario;   // set only when there are no errors
  // In line order; at most 20 (scenarios/limits.h), then a last one with line 0 saying how many
  // more there were.
  std::vector<ScenarioError> errors;
  std::size_t errors_not_shown = 0;   // counted by that last error
  bool ok() const { return scenario.has_value() && errors.empty(); }
};

// Loads a scenario from YAML text; `file_name` is used in messages and as source_path.
LoadResult load_scenario_text(const std::string& text, const std::string& file_name);
// Loads a scenario from a parsed YAML document (scenarios/yaml_input.h); lines are the nodes'
// own (live configs build their scenario document from the file's nodes, live_config.cc).
LoadResult load_scenario_node(const YAML::Node& root, const std::string& file_name);
// The last error of a list cut at 20: "... and N more error(s); the first 20 are shown".
ScenarioError more_errors(const std::string& file, std::size_t not_shown);
// Whether `name` can name a table or a column: a-z, 0-9 and '_', not starting with a digit, at
// most 63 characters.
bool is_scenario_identifier(std::string_view name);
// Why `name` cannot name a region, or "" when it can: a-z, 0-9, '-' and '_', and not the name
// of another node (lock, holder, engine-N, lock-N).
std::string region_name_problem(const std::string& name);
// Loads a scenario file. An unreadable file is an error with line 0.
LoadResult load_scenario_file(const std::string& path);
// Resolves a CLI argument: an existing file is loaded; otherwise a built-in scenario named
// by its `name:` (or its file stem) is loaded with the file name "builtin:NAME"; otherwise the
// result holds one error: "no such file or built-in scenario 'X' (rehearse list shows the
// built-ins)".
LoadResult resolve_scenario(const std::string& path_or_name);
// For `rehearse list`: every built-in scenario as (name, first sentence of its description),
// sorted by name.
std::vector<std::pair<std::string, std::string>> list_builtin_scenarios();

// Parsers for the value kinds; each returns std::nullopt on bad input.
// A duration: an integer and a unit (us, ms, s, m, h), e.g. "150ms"; a bare "0" is allowed.
// A decimal that comes to whole microseconds is accepted too ("0.5ms", as in the spec's own
// topology example); "0.5us" is not.
std::optional<TimeUs> parse_duration(const std::string& text);
// A signed duration: "+20s", "-500ms" (a bare "0" is allowed).
std::optional<TimeUs> parse_signed_duration(const std::string& text);
// "LOW..HIGH" with LOW <= HIGH, or a single duration (LOW == HIGH).
std::optional<DurationRange> parse_duration_range(const std::string& text);
// A rate "N/DURATION" in events per second: "1/30s" -> 0.0333..., "50/s" -> 50 (a bare unit
// after the slash means one of it). N is a non-negative integer.
std::optional<double> parse_rate_per_s(const std::string& text);

}  // namespace rehearse
