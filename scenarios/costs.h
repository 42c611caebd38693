// Cost profiles from files (../shared/spec/calibration.md, docs/calibration.md): the `costs:` key
// of a scenario, and the profile files `rehearse calibrate` writes.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

#include "core/costs.h"
#include "scenarios/loader.h"

namespace rehearse {

// Reads the value of a scenario's `costs:` key (at dotted path `key`, in `scenario_file`):
// - a path to a profile file, relative to the scenario's directory: the file must hold every key;
// - a mapping of profile keys: each overrides the built-in profile.
// Unknown keys, values that are not plain non-negative numbers (a unit such as "150ms" is an
// error: the unit is in the key's name) are reported with file, line and key.
std::vector<ScenarioError> load_costs(const YAML::Node& value, const std::string& key, const std::string& scenario_file,
                                      CostProfile* out);

// Reads a profile file; every key of cost_profile_keys() is required.
std::vector<ScenarioError> load_cost_profile_file(const std::string& path, CostProfile* out);

}  // namespace rehearse
