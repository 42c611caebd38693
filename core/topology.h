// Which regions a scenario's topology migrates: per region, every region in engine.order; in a
// global topology (one writer region, read replicas elsewhere) the home region alone. Used by
// the simulated world, the loader and `rehearse plan`, so they agree on it.
#pragma once

#include <string>
#include <vector>

#include "core/model.h"

namespace rehearse {

// The regions the engine migrates, in order: engine.order (default the topology order); in a
// global topology only the home region, whose DDL reaches the other regions by replication.
// REQUIRES: at least one region; in global mode a home.
std::vector<std::string> migrated_regions(const Scenario& scenario);

// The region whose primary `region`'s application writes to and its replicas stream from:
// `region` itself, or in a global topology the home region.
const std::string& writer_region(const Scenario& scenario, const std::string& region);

// The region the lock service is placed in: lock.region, default the first region. (The
// app-database lock's row is in writer_region() of it.) The empty text when neither is there:
// a Scenario built in code without topology regions (the loader always gives one and sets
// lock.region), whose lock is in no region; callers that need a region check for "".
const std::string& lock_region(const Scenario& scenario);

}  // namespace rehearse
