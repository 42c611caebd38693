// Parsing of live configs: the endpoint keys are read with yaml-cpp and replaced, line for
// line, by YAML the scenario loader understands.
#include "scenarios/live_config.h"

#include <fstream>
#include <regex>
#include <sstream>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

namespace rehearse {

namespace {

struct Parsed {
  LiveConfig config;
  std::vector<ScenarioError> errors;
  std::string file;
  void error(const YAML::Node& node, const std::string& key, const std::string& message) {
    errors.push_back(ScenarioError{file, node.IsDefined() ? node.Mark().line + 1 : 0, key, message});
  }
};

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// The [first, last) lines of the top-level block of `key`, or {0, 0} when absent.
std::pair<std::size_t, std::size_t> block_of(const std::vector<std::string>& lines, const std::string& key) {
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].rfind(key + ":", 0) != 0) continue;
    std::size_t end = i + 1;
    while (end < lines.size()) {
      const std::string& line = lines[end];
      const bool continues = line.empty() || line[0] == ' ' || line[0] == '\t' || line[0] == '#' || line.rfind("- ", 0) == 0;
      if (!continues) break;
      ++end;
    }
    return {i, end};
  }
  return {0, 0};
}

// Replaces the block of `key` by one line, padding with empty lines so line numbers stay.
void replace_block(std::vector<std::string>& lines, const std::string& key, const std::string& replacement) {
  auto [first, last] = block_of(lines, key);
  if (first == last) return;
  lines[first] = replacement;
  for (std::size_t i = first + 1; i < last; ++i) lines[i].clear();
}

std::string flow(YAML::Node node) {
  node.SetStyle(YAML::EmitterStyle::Flow);
  YAML::Emitter out;
  out << YAML::Flow << node;
  return out.c_str();
}

void read_region(Parsed& parsed, const YAML::Node& item, std::size_t index) {
  const std::string path = fmt::format("regions[{}]", index);
  if (!item.IsMap()) return parsed.error(item, path, "expected a mapping {name, primary, replicas}");
  LiveRegionConfig region;
  for (const auto& entry : item) {
    const std::string key = entry.first.as<std::string>();
    const YAML::Node& value = entry.second;
    if (key == "name" && value.IsScalar()) {
      region.name = value.as<std::string>();
    } else if (key == "primary" && value.IsScalar()) {
      region.primary = value.as<std::string>();
    } else if (key == "replicas" && value.IsSequence()) {
      for (const auto& replica : value) region.replicas.push_back(replica.as<std::string>());
    } else if (key == "name" || key == "primary" || key == "replicas") {
      parsed.error(value, path + "." + key, key == "replicas" ? "expected a list of connection strings" : "expected a string");
    } else {
      parsed.error(entry.first, path + "." + key, "unknown key (expected name, primary, replicas)");
    }
  }
  if (region.name.empty()) parsed.error(item, path + ".name", "required key missing");
  if (region.primary.empty()) parsed.error(item, path + ".primary", "required key missing");
  parsed.config.regions.push_back(region);
}

std::string topology_line(const LiveConfig& config) {
  std::string line = "topology: {regions: [";
  for (std::size_t i = 0; i < config.regions.size(); ++i) {
    line += fmt::format("{}{{name: {}, replicas: {}}}", i == 0 ? "" : ", ", config.regions[i].name, config.regions[i].replicas.size());
  }
  return line + "]}";
}

// Reads and removes `regions` and `lock.endpoints`; returns the text for the scenario loader.
std::string extract_endpoints(Parsed& parsed, const YAML::Node& root, const std::string& text) {
  std::vector<std::string> lines = split_lines(text);
  if (root["topology"]) parsed.error(root["topology"], "topology", "a live config names real endpoints under regions: instead");
  const YAML::Node regions = root["regions"];
  if (!regions || !regions.IsSequence() || regions.size() == 0) {
    parsed.error(regions ? regions : root, "regions", regions ? "expected a non-empty list of regions" : "required key missing");
  } else {
    for (std::size_t i = 0; i < regions.size(); ++i) read_region(parsed, regions[i], i);
    replace_block(lines, "regions", topology_line(parsed.config));
  }
  YAML::Node lock = YAML::Clone(root["lock"]);
  if (!lock || !lock.IsMap() || !lock["endpoints"] || !lock["endpoints"].IsSequence() || lock["endpoints"].size() == 0) {
    parsed.error(lock ? root["lock"] : root, "lock.endpoints", "required: a non-empty list of HOST:PORT");
  } else {
    for (const auto& endpoint : lock["endpoints"]) parsed.config.lock_endpoints.push_back(endpoint.as<std::string>());
    lock.remove("endpoints");
    replace_block(lines, "lock", "lock: " + flow(lock));
  }
  std::string out;
  for (const auto& line : lines) out += line + "\n";
  return out;
}

}  // namespace

LiveConfigResult load_live_config_text(const std::string& text, const std::string& file_name) {
  Parsed parsed;
  parsed.file = file_name;
  LiveConfigResult result;
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& error) {
    result.errors.push_back(ScenarioError{file_name, error.mark.line + 1, "", error.msg});
    return result;
  }
  if (!root.IsMap()) {
    result.errors.push_back(ScenarioError{file_name, 1, "", "expected a mapping at the top level"});
    return result;
  }
  const std::string scenario_text = extract_endpoints(parsed, root, text);
  LoadResult loaded = load_scenario_text(scenario_text, file_name);
  result.errors = parsed.errors;
  result.errors.insert(result.errors.end(), loaded.errors.begin(), loaded.errors.end());
  std::stable_sort(result.errors.begin(), result.errors.end(),
                   [](const ScenarioError& a, const ScenarioError& b) { return a.line < b.line; });
  if (!result.errors.empty() || !loaded.ok()) return result;
  parsed.config.scenario = *loaded.scenario;
  result.config = parsed.config;
  return result;
}

LiveConfigResult load_live_config_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    LiveConfigResult result;
    result.errors.push_back(ScenarioError{path, 0, "", "cannot read the file"});
    return result;
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  return load_live_config_text(buffer.str(), path);
}

}  // namespace rehearse
