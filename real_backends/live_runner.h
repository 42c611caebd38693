// The live runner: the migration engine against real PostgreSQL regions and a real Redis lock,
// with application traffic per region, the run's history and end-of-run table snapshots, and
// the same invariant checkers as the simulator. In this first version engine instances are
// threads of this process (live.md asks for child processes, so that pause and crash faults
// can be real signals); explicit faults are refused.
#pragma once

#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "core/model.h"
#include "core/plan.h"
#include "core/run_result.h"
#include "core/status.h"
#include "real_backends/live_ports.h"
#include "real_backends/postgres.h"

namespace rehearse::live {

struct LiveSetup {
  Scenario scenario;                       // topology.regions names the live regions
  std::vector<RegionEndpoints> regions;    // in topology order
  std::vector<std::string> lock_endpoints; // HOST:PORT; redis uses the first
};

struct LiveOptions {
  bool prepare = false;                 // create and fill the table where it is absent
  std::optional<StallHook> stall;       // test hook: stall one engine (a GC pause)
  std::ostream* log = nullptr;          // progress lines (never a secret)
};

// Whether the live setup can be run at all in this build: faults and lock backends other than
// redis are refused (invalid, with the reason).
Status check_supported(const LiveSetup& setup);

// Connects to every backend; unavailable names the first one that cannot be reached (redacted).
Status check_reachable(const LiveSetup& setup);

// --dry-run: connects, checks, and prints the plan and what a run would do. Changes nothing.
Status dry_run(const LiveSetup& setup, const MigrationPlan& plan, bool prepare, std::ostream& out);

// Runs the migration live. Returns unavailable when a backend cannot be reached, invalid when
// the table is absent without --prepare.
Result<RunResult> run_live(const LiveSetup& setup, const MigrationPlan& plan, const LiveOptions& options);

}  // namespace rehearse::live
