// The live runner: the migration engine against real PostgreSQL regions and a real lock store,
// with application traffic per region, the run's history and end-of-run table snapshots, and
// the same invariant checkers as the simulator. Every engine instance is a child process (the
// hidden `rehearse live-engine` subcommand runs run_engine_process()), so the live faults of
// live_faults.h are real signals; the runner merges the processes' histories into one.
#pragma once

#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "core/model.h"
#include "core/observations.h"
#include "core/plan.h"
#include "core/run_result.h"
#include "core/status.h"
#include "real_backends/live_ports.h"
#include "real_backends/postgres.h"

namespace rehearse::live {

struct LiveSetup {
  Scenario scenario;                       // topology.regions names the live regions
  std::vector<RegionEndpoints> regions;    // in topology order
  std::vector<std::string> lock_endpoints; // redis: HOST:PORT (the first); redlock: one per master; etcd: http://HOST:PORT
};

struct LiveOptions {
  bool prepare = false;                 // create and fill the table where it is absent
  std::string engine_binary;            // the rehearse executable: engines run `engine_binary live-engine`
  // The scenario as YAML that scenarios/loader reloads in the engine process (faults removed).
  std::function<std::string(const Scenario&)> scenario_text;
  std::ostream* log = nullptr;          // progress lines (never a secret)
  Observations* observations = nullptr; // when set, receives the run's observations (tests)
  // Measure the host's processors over the run (real_backends/host_load.h, into
  // Observations::host_load): rehearse conform, whose servers all run on this machine.
  bool measure_host_load = false;
};

// What the runner hands an engine process on its stdin.
struct EngineProcessSpec {
  std::string scenario_yaml;
  std::vector<RegionEndpoints> regions;
  std::vector<std::string> lock_endpoints;
  int instance = 1;
  int incarnation = 1;
  std::int64_t start_ns = 0;  // the runner's start on the steady clock: the history's origin
  std::string monitor_path;   // the application's request counts (app_monitor.h); "" = none
};
std::string engine_spec_json(const EngineProcessSpec& spec);
Result<EngineProcessSpec> parse_engine_spec(const std::string& text);

// Whether the live setup can be run at all in this build: lock backends other than redis,
// redlock and etcd, and endpoints not in their backend's format, are invalid; faults that cannot be made real are unavailable (exit code 3), with the reason.
Status check_supported(const LiveSetup& setup);

// Connects to every backend; unavailable names the first one that cannot be reached (redacted).
Status check_reachable(const LiveSetup& setup);

// --dry-run: connects, checks, and prints the plan and what a run would do. Changes nothing.
Status dry_run(const LiveSetup& setup, const MigrationPlan& plan, bool prepare, std::ostream& out);

// Runs the migration live. Returns unavailable when a backend cannot be reached or a fault
// cannot be made real, invalid when the table is absent without --prepare.
Result<RunResult> run_live(const LiveSetup& setup, const MigrationPlan& plan, const LiveOptions& options);

// The engine process: one engine instance to its end, its events as lines on stdout. Returns
// the process's exit code (engine_process.h kEngineExit*).
// `monitor_path` ("" = none): where the runner publishes the application's request counts.
int run_engine_process(const LiveSetup& setup, const MigrationPlan& plan, int instance, int incarnation, std::int64_t start_ns,
                       const std::string& monitor_path = {});

}  // namespace rehearse::live
