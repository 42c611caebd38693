// Fault points inside the engine and the simulated stores, in the spirit of FoundationDB's
// BUGGIFY: places where the code deliberately misbehaves in a legal way (a spurious timeout,
// a delayed write, a slow answer) so that rare interleavings happen often in simulation.
//
// Simulation only. With `buggify: true` (scenario) or `sweep --buggify`, each site is switched
// on once per run with kSiteEnableProbability, then fires with its own probability each time
// the code passes it; every draw comes from the site's own stream (`buggify:<site name>`), so
// adding a site reshuffles nothing else. With buggify off nothing is drawn and no run changes.
// The engine asks through the FaultPoints port (core/ports.h), whose live implementation never
// fires; sim/buggify.h implements it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace rehearse {

enum class FaultSite : std::uint8_t {
  backfill_spurious_timeout,  // engine: a backfill batch committed, but the engine is told it timed out
  checkpoint_write_delayed,   // engine: a checkpoint write waits before it is sent (past the fence check)
  renewal_delayed,            // lock session: the keepalive renews late
  lock_answers_slowly,        // sim: the lock store's reply reaches the engine late
  ddl_lock_timeout,           // sim: DDL is answered "canceling statement due to lock timeout"
  replication_apply_stall,    // sim: a replica stalls before applying a change
};

constexpr std::size_t kFaultSiteCount = static_cast<std::size_t>(FaultSite::replication_apply_stall) + 1;

// The chance that a site is switched on for a run (FoundationDB uses the same 25%).
constexpr double kSiteEnableProbability = 0.25;

struct FaultSiteInfo {
  FaultSite site;
  const char* name;            // stable id, kebab-case
  const char* description;     // one sentence
  double fire_probability;     // each time an enabled site is passed
};

// Every site, in enum order.
const std::array<FaultSiteInfo, kFaultSiteCount>& all_fault_sites();
const FaultSiteInfo& fault_site_info(FaultSite site);

// Per run: which sites were switched on and how often each fired.
struct FaultSiteCounts {
  bool on = false;  // buggify was on for the run (a run may still switch no site on)
  std::array<bool, kFaultSiteCount> enabled{};
  std::array<std::int64_t, kFaultSiteCount> fired{};
  bool is_enabled(FaultSite site) const { return enabled[static_cast<std::size_t>(site)]; }
  std::int64_t fires(FaultSite site) const { return fired[static_cast<std::size_t>(site)]; }
};

}  // namespace rehearse
