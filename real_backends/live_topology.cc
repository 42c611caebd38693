// The live regions as databases (real_backends/live_topology.h).
#include "real_backends/live_topology.h"

#include <algorithm>

#include <fmt/format.h>

#include "core/assert.h"
#include "core/topology.h"

namespace rehearse::live {

const RegionEndpoints* region_named(const std::vector<RegionEndpoints>& regions, const std::string& name) {
  for (const auto& region : regions) {
    if (region.name == name) return &region;
  }
  return nullptr;
}

std::vector<LiveDatabase> live_databases(const Scenario& scenario, const std::vector<RegionEndpoints>& regions) {
  std::vector<LiveDatabase> databases;
  for (const auto& region : regions) {
    const std::string& writer = writer_region(scenario, region.name);
    if (writer == region.name) {
      REHEARSE_ASSERT(!region.primary.empty());
      databases.push_back(LiveDatabase{RegionEndpoints{region.name, region.primary, {}}, {}});
    }
  }
  for (const auto& region : regions) {
    const std::string& writer = writer_region(scenario, region.name);
    auto database = std::find_if(databases.begin(), databases.end(), [&](const LiveDatabase& d) { return d.endpoints.name == writer; });
    REHEARSE_ASSERT(database != databases.end());
    for (std::size_t r = 0; r < region.replicas.size(); ++r) {
      database->endpoints.replicas.push_back(region.replicas[r]);
      database->replica_nodes.push_back(fmt::format("db:{}/replica-{}", region.name, r + 1));
    }
  }
  return databases;
}

std::vector<RegionEndpoints> database_endpoints(const Scenario& scenario, const std::vector<RegionEndpoints>& regions) {
  std::vector<RegionEndpoints> endpoints;
  for (LiveDatabase& database : live_databases(scenario, regions)) endpoints.push_back(std::move(database.endpoints));
  return endpoints;
}

RegionEndpoints application_endpoints(const Scenario& scenario, const std::vector<RegionEndpoints>& regions,
                                      const std::string& region) {
  const RegionEndpoints* own = region_named(regions, region);
  const RegionEndpoints* writer = region_named(regions, writer_region(scenario, region));
  REHEARSE_ASSERT(own != nullptr && writer != nullptr);
  return RegionEndpoints{region, writer->primary, own->replicas};
}

std::vector<std::string> replicas_delayed_by(const Scenario& scenario, const std::vector<RegionEndpoints>& regions,
                                             const std::string& region) {
  for (LiveDatabase& database : live_databases(scenario, regions)) {
    if (database.endpoints.name == region) return std::move(database.endpoints.replicas);
  }
  const RegionEndpoints* own = region_named(regions, region);
  return own != nullptr ? own->replicas : std::vector<std::string>{};
}

}  // namespace rehearse::live
