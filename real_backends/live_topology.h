// The live regions as databases (spec scenario-format.md, topology; docs/live.md, "Global
// topology"): per region, each region is a database of its own (its primary and replicas); in a
// global topology there is one, the home region's primary with every region's replicas, in
// topology order, numbered as the simulator numbers them (sim/world.cc number_replicas). The
// runner, the engine processes and the faults all see the databases through these functions.
#pragma once

#include <string>
#include <vector>

#include "core/model.h"
#include "real_backends/postgres.h"

namespace rehearse::live {

// One database: its writer region's endpoints (name = that region, the primary's) and the node
// name of each of its replicas (db:REGION/replica-N, REGION the replica's own region).
struct LiveDatabase {
  RegionEndpoints endpoints;
  std::vector<std::string> replica_nodes;
};

// The region called `name` among `regions`; nullptr when none is.
const RegionEndpoints* region_named(const std::vector<RegionEndpoints>& regions, const std::string& name);

// REQUIRES: `regions` in the scenario's topology order; in a global topology the home among them
// with a primary.
std::vector<LiveDatabase> live_databases(const Scenario& scenario, const std::vector<RegionEndpoints>& regions);

// The databases' endpoints alone: what an engine process is handed.
std::vector<RegionEndpoints> database_endpoints(const Scenario& scenario, const std::vector<RegionEndpoints>& regions);

// What `region`'s application uses: the primary of its writer region (core/topology.h
// writer_region) and the region's own replicas. REQUIRES: `region` among `regions`.
RegionEndpoints application_endpoints(const Scenario& scenario, const std::vector<RegionEndpoints>& regions,
                                      const std::string& region);

// The replicas whose replay a replication_lag on `region` (db:REGION or REGION) pauses, as the
// simulator delays them: the region's database's replicas (global: the home's are every
// region's), or in a global topology a region without a primary its own. Empty when the region
// is unknown.
std::vector<std::string> replicas_delayed_by(const Scenario& scenario, const std::vector<RegionEndpoints>& regions,
                                             const std::string& region);

}  // namespace rehearse::live
