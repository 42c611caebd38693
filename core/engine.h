// The migration engine: the expand/contract runbook, region by region, under the migration
// lock. It is ordinary blocking code that reaches the world only through the ports, so the
// very same engine runs in the simulator and against live servers. Every step is idempotent
// and its progress is checkpointed in the region's database, so a restarted engine (or a new
// lock holder) re-reads the checkpoint after acquiring the lock and continues.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "core/lock_session.h"
#include "core/model.h"
#include "core/plan.h"
#include "core/ports.h"
#include "core/region_state.h"

namespace rehearse {

struct EnginePorts {
  Clock& clock;
  Random& random;
  Tasks& tasks;
  LockClient& lock;
  FlagStore& flags;
  Recorder& recorder;
  // The database of a region. REQUIRES: the region is one of the engine's regions.
  std::function<RegionDatabase&(const std::string& region)> database;
  // BUGGIFY fault points; live runs keep the default, which never fires.
  FaultPoints& fault_points = FaultPoints::never();
  // The application's request counts per region, for the health gate's error rate.
  ApplicationMonitor& monitor = ApplicationMonitor::none();
};

enum class EngineExit { completed, rolled_back, halted, gave_up };
const char* to_string(EngineExit exit);

class Engine {
 public:
  // `regions` is the rollout order.
  Engine(const LockSpec& lock, const EngineSpec& engine, MigrationPlan plan, std::vector<std::string> regions,
         EnginePorts ports);
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Runs the migration to its end (or until the lock cannot be had). Blocking.
  EngineExit run();

 private:
  // interrupted: a transient failure (timeout, unavailable) outlasted engine.retries; the engine
  // releases the lock, backs off and resumes from the checkpoint instead of halting.
  enum class Step { done, lost, failed, interrupted };
  // A region as the engine sees it. `state` is `checkpoint.state` parsed (read_checkpoint) and
  // kept equal to it: set_state writes its text.
  struct Region {
    std::string name;
    RegionDatabase& database;
    Checkpoint checkpoint;
    RegionState state;
  };

  Step migrate_all();
  EngineExit exit(EngineExit how);
  // `contracted_before`: a region earlier in the rollout already contracted (empty: none).
  Step migrate_region(const std::string& name, const std::string& contracted_before);
  Step advance(Region& region);
  Step run_phase(Region& region, Phase phase);
  Step migrate_all_at_once();
  Step fail_regions(std::vector<Region>& regions);
  Step expand(Region& region);
  Step dual_write(Region& region);
  Step backfill(Region& region);
  Step validate(Region& region);
  Step switch_reads(Region& region);
  Step contract(Region& region);
  Step rollback(Region& region);
  Step soak_until_healthy(const std::string& region);
  Step health_gate(const std::string& previous_region, const std::string& next_region);
  Step wait_for_replicas(Region& region);

  Step set_state(Region& region, RegionState state);
  Step protected_call(Region& region, const char* what, int retries_max, const std::function<Status()>& call);
  Step fill_range(Region& region, std::int64_t low_id, std::int64_t high_id, bool overwrite);
  bool read_checkpoint(Region& region);
  // The step when read_checkpoint failed: another plan's checkpoint, or one whose state is no
  // region state, fails (halts, touching nothing: no retry can make it ours); otherwise back
  // off and resume, or re-acquire.
  Step unread_checkpoint() const;
  // A read (key range, checksum) retried like protected_call's transient failures.
  template <typename T>
  Result<T> read_with_retries(Region& region, const char* what, const std::function<Result<T>()>& read);
  static bool is_transient(const Status& status);
  bool migration_finished();
  Step failure_of(const Status& status) const;
  Step settle(Step step) const;
  void enter_phase(const Region& region, const char* phase);
  void note(const std::string& region, const std::string& detail);
  void probe(Probe probe) { ports_.recorder.probe(probe); }
  void probe_resumed(const Region& region);
  Status write_checkpoint(Region& region, const Checkpoint& checkpoint);

  LockSpec lock_;
  EngineSpec engine_;
  MigrationPlan plan_;
  CheckpointKey key_;  // what this plan's checkpoints are keyed by
  std::vector<std::string> regions_;
  EnginePorts ports_;
  LockSession session_;
  bool failed_region_rolled_back_ = false;
  bool checkpoint_conflict_ = false;  // a region holds another plan's checkpoint, or an unknown state
  int acquisitions_ = 0;  // by this process: the first one may resume another process's work
  std::int64_t acquired_token_ = 0;  // the lease token of the latest acquisition: every write's fence
  int interruptions_ = 0;  // Step::interrupted so far: the backoff's exponent
  int acquire_rounds_ = 0;  // acquire_timeouts passed with the migration unfinished (<= engine.acquire_retries)
};

template <typename T>
Result<T> Engine::read_with_retries(Region& region, const char* what, const std::function<Result<T>()>& read) {
  for (int attempt = 0;; ++attempt) {
    Result<T> result = read();
    if (result.is_ok() || !is_transient(result.status()) || attempt >= engine_.retries || !session_.holding()) return result;
    note(region.name, fmt::format("{} failed: {}", what, result.status().to_string()));
    probe(Probe::transient_failure_retried);
    ports_.clock.sleep_for(backoff_delay(engine_.backoff, attempt, ports_.random));
  }
}

}  // namespace rehearse
