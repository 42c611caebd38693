// libFuzzer target: a live config's bytes, loaded as `rehearse live CONFIG` loads them
// (scenarios/live_config.cc, then the scenario loader and the plan's compilation).
// Properties: no crash, hang, leak, uncaught exception or sanitizer report; a config that fails
// to load says why; one that loads simulates exactly its regions, with their replica counts, has
// a primary exactly where its topology has one, and lock endpoints unless its lock is app-database.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>


#include "core/plan.h"
#include "fuzz/fuzz_check.h"
#include "scenarios/live_config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const rehearse::LiveConfigResult loaded = rehearse::load_live_config_text(text, "fuzz-live.yaml");
  if (!loaded.ok()) {
    rehearse::fuzz::check(!loaded.errors.empty(), "a live config that does not load has an error");
    for (const rehearse::ScenarioError& error : loaded.errors) {
      rehearse::fuzz::check(!error.message.empty(), "every load error has a message", error.to_string());
    }
    return 0;
  }
  // The simulated topology is the config's regions, one for one (names and replica counts).
  const rehearse::LiveConfig& config = *loaded.config;
  const std::vector<rehearse::RegionSpec>& topology = config.scenario.topology.regions;
  bool same = topology.size() == config.regions.size();
  for (std::size_t i = 0; same && i < topology.size(); ++i) {
    same = topology[i].name == config.regions[i].name &&
           topology[i].replicas == static_cast<int>(config.regions[i].replicas.size());
  }
  rehearse::fuzz::check(same, "the topology is the config's regions", text);
  // A primary in each region, or in a global topology in the home alone (docs/live.md).
  for (const rehearse::LiveRegionConfig& region : config.regions) {
    const bool writer = config.scenario.topology.mode != rehearse::TopologyMode::global || region.name == config.scenario.topology.home;
    rehearse::fuzz::check(region.primary.empty() != writer, "a primary exactly where the topology has one", text);
  }
  // The app-database lock is a row in the lock region's primary: it takes no endpoints.
  const bool app_database = config.scenario.lock.backend == rehearse::LockBackend::app_database;
  rehearse::fuzz::check(config.lock_endpoints.empty() == app_database, "lock endpoints exactly where the backend has servers", text);
  (void)rehearse::compile_plan(config.scenario);
  return 0;
}
