// Live configs (../shared/spec/live.md): a scenario file whose `topology` is replaced by real
// endpoints, `regions: [{name, primary, replicas}]`, and whose `lock` names `endpoints`. The
// endpoint keys are read and taken out of the parsed document here, and the rest goes through
// the ordinary scenario loader with a `topology:` built from the regions' own nodes (errors name
// the file, the line and the key). Region names follow the scenario loader's rule.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/model.h"
#include "scenarios/loader.h"

namespace rehearse {

struct LiveRegionConfig {
  std::string name;
  std::string primary;                // libpq connection string
  std::vector<std::string> replicas;  // libpq connection strings
};

struct LiveConfig {
  Scenario scenario;  // topology.regions: the live regions with their replica counts
  std::vector<LiveRegionConfig> regions;
  std::vector<std::string> lock_endpoints;
};

struct LiveConfigResult {
  std::optional<LiveConfig> config;   // set only when there are no errors
  std::vector<ScenarioError> errors;  // in line order
  bool ok() const { return config.has_value() && errors.empty(); }
};

LiveConfigResult load_live_config_text(const std::string& text, const std::string& file_name);
LiveConfigResult load_live_config_file(const std::string& path);

}  // namespace rehearse
