// Profile keys and values: a mapping of cost_profile_keys() (core/costs.h) to plain numbers;
// update_per_row_us is a number (every batch size) or a mapping of batch rows to numbers.
#include "scenarios/costs.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "scenarios/yaml_input.h"

namespace rehearse {
namespace {

int line_of(const YAML::Node& node, int fallback) { return node.Mark().line >= 0 ? node.Mark().line + 1 : fallback; }

std::string join_keys() {
  std::string out;
  for (const auto& key : cost_profile_keys()) out += (out.empty() ? "" : ", ") + key;
  return out;
}

class ProfileReader {
 public:
  ProfileReader(std::string file, std::vector<ScenarioError>& errors) : file_(std::move(file)), errors_(errors) {}

  void error(const YAML::Node& node, int fallback, const std::string& key, std::string message) {
    errors_.push_back(ScenarioError{file_, line_of(node, fallback), key, std::move(message)});
  }

  // A finite number >= 0, written without a unit.
  bool number(const YAML::Node& node, const std::string& key, double* out) {
    if (!node.IsScalar()) {
      error(node, 0, key, "expected a number of microseconds, got a " + std::string(node.IsMap() ? "mapping" : "list"));
      return false;
    }
    const std::string& text = node.Scalar();
    double value = 0;
    const char* begin = text.data();
    const auto [end, ec] = std::from_chars(begin, begin + text.size(), value);
    if (ec != std::errc() || end != begin + text.size() || !std::isfinite(value)) {
      error(node, 0, key,
            fmt::format("expected a plain number of microseconds (the unit is in the key's name), got '{}'", text));
      return false;
    }
    if (value < 0) {
      error(node, 0, key, fmt::format("must be >= 0, got {}", text));
      return false;
    }
    *out = value;
    return true;
  }

  void update_costs(const YAML::Node& node, const std::string& key, CostProfile* out) {
    if (!node.IsMap()) {
      double value = 0;
      if (number(node, key, &value)) out->update_per_row_us = {{1, value}};
      return;
    }
    std::vector<std::pair<std::int64_t, double>> costs;
    for (const auto& entry : node) {
      const std::string rows_text = entry.first.Scalar();
      const std::string entry_key = key + "." + rows_text;
      std::int64_t rows = 0;
      const auto [end, ec] = std::from_chars(rows_text.data(), rows_text.data() + rows_text.size(), rows);
      if (ec != std::errc() || end != rows_text.data() + rows_text.size() || rows < 1) {
        error(entry.first, line_of(node, 0), entry_key,
              fmt::format("expected a batch size in rows (an integer >= 1), got '{}'", rows_text));
        continue;
      }
      double value = 0;
      if (number(entry.second, entry_key, &value)) costs.emplace_back(rows, value);
    }
    if (costs.empty()) {
      error(node, 0, key, "expected at least one `ROWS: PER_ROW_US` entry");
      return;
    }
    std::sort(costs.begin(), costs.end());
    out->update_per_row_us = std::move(costs);
  }

  // Reads a mapping of profile keys into `out`; with `all`, every key is required.
  void mapping(const YAML::Node& node, int line, const std::string& prefix, bool all, CostProfile* out) {
    if (!node.IsMap()) {
      error(node, line, prefix, "expected a mapping of cost profile keys");
      return;
    }
    std::vector<std::string> seen;
    for (const auto& entry : node) {
      const std::string name = entry.first.Scalar();
      const std::string key = prefix.empty() ? name : prefix + "." + name;
      if (std::find(seen.begin(), seen.end(), name) != seen.end()) {
        error(entry.first, line, key, "key written twice");
        continue;
      }
      seen.push_back(name);
      if (name == "update_per_row_us") {
        update_costs(entry.second, key, out);
      } else if (double* field = cost_field(*out, name)) {
        number(entry.second, key, field);
      } else {
        error(entry.first, line, key, "unknown cost profile key (allowed: " + join_keys() + ")");
      }
    }
    if (!all) return;
    for (const auto& name : cost_profile_keys()) {
      if (std::find(seen.begin(), seen.end(), name) == seen.end()) {
        error(node, line, prefix.empty() ? name : prefix + "." + name, "required key missing (a profile file holds every key)");
      }
    }
  }

 private:
  std::string file_;
  std::vector<ScenarioError>& errors_;
};

}  // namespace

std::vector<ScenarioError> load_cost_profile_file(const std::string& path, CostProfile* out) {
  std::vector<ScenarioError> errors;
  // The same bounded reader and pre-parse as every YAML rehearse reads (scenarios/yaml_input.h).
  std::string problem;
  const std::optional<std::string> text = read_yaml_file(path, &problem);
  if (!text) {
    errors.push_back(ScenarioError{path, 0, "", "cannot read the cost profile: " + problem});
    return errors;
  }
  const YamlDocuments parsed = parse_yaml(*text);
  if (parsed.error) {
    errors.push_back(ScenarioError{path, parsed.error->line, "", parsed.error->describe()});
    return errors;
  }
  if (parsed.documents.size() != 1) {
    errors.push_back(ScenarioError{path, 0, "", fmt::format("expected one YAML document, got {}", parsed.documents.size())});
    return errors;
  }
  CostProfile profile = builtin_cost_profile();
  profile.source = path;
  try {
    ProfileReader(path, errors).mapping(parsed.documents[0], 1, "", true, &profile);
  } catch (const YAML::Exception& e) {
    errors.push_back(ScenarioError{path, e.mark.line >= 0 ? e.mark.line + 1 : 0, "", "YAML syntax error: " + e.msg});
  }
  if (errors.empty()) *out = std::move(profile);
  return errors;
}

std::vector<ScenarioError> load_costs(const YAML::Node& value, const std::string& key, const std::string& scenario_file,
                                      CostProfile* out) {
  std::vector<ScenarioError> errors;
  if (value.IsScalar()) {
    std::filesystem::path path = value.Scalar();
    if (path.is_relative()) path = std::filesystem::path(scenario_file).parent_path() / path;
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
      errors.push_back(ScenarioError{scenario_file, line_of(value, 0), key,
                                     fmt::format("no cost profile file '{}' (a path is relative to the scenario's "
                                                 "directory)",
                                                 path.string())});
      return errors;
    }
    return load_cost_profile_file(path.string(), out);
  }
  CostProfile profile = builtin_cost_profile();
  profile.source = "inline";
  ProfileReader(scenario_file, errors).mapping(value, line_of(value, 0), key, false, &profile);
  if (errors.empty()) *out = std::move(profile);
  return errors;
}

}  // namespace rehearse
