// The regions a topology migrates (core/topology.h).
#include "core/topology.h"

#include "core/assert.h"

namespace rehearse {

std::vector<std::string> migrated_regions(const Scenario& scenario) {
  if (scenario.topology.mode == TopologyMode::global) {
    REHEARSE_ASSERT(!scenario.topology.home.empty());
    return {scenario.topology.home};
  }
  if (!scenario.engine.order.empty()) return scenario.engine.order;
  std::vector<std::string> order;
  for (const RegionSpec& region : scenario.topology.regions) order.push_back(region.name);
  REHEARSE_ASSERT(!order.empty());
  return order;
}

const std::string& writer_region(const Scenario& scenario, const std::string& region) {
  return scenario.topology.mode == TopologyMode::global ? scenario.topology.home : region;
}

const std::string& lock_region(const Scenario& scenario) {
  if (!scenario.lock.region.empty() || scenario.topology.regions.empty()) return scenario.lock.region;
  return scenario.topology.regions.front().name;
}

}  // namespace rehearse
