// The fault injector: turns a scenario's fault schedule into actions on the simulated world
// at their time (or when the first engine enters a phase in a region), records each fault's
// start and end in the history, and ends every fault by the run's duration.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/model.h"
#include "core/run_result.h"

namespace rehearse::sim {

class World;
class Node;

class FaultInjector {
 public:
  explicit FaultInjector(World& world);
  FaultInjector(const FaultInjector&) = delete;
  FaultInjector& operator=(const FaultInjector&) = delete;

  // Schedules every fault: timed ones now, phase-triggered ones on their phase. `listed`: the
  // scenario's own `faults:`, whose misses not_fired() reports (random faults are not).
  void schedule(const std::vector<FaultSpec>& faults, bool listed = false);
  // The listed faults that never took effect, and why (after the run; output only).
  std::vector<UnfiredFault> not_fired() const;
  // Called when an engine enters `phase` in `region`.
  void on_phase(const std::string& region, const std::string& phase);
  // When the last fault so far ended (a crash without restart never ends: the duration).
  TimeUs last_fault_end() const { return last_end_us_; }

 private:
  // `listed`: the fault's index in listed_, or -1.
  void fire(const FaultSpec& fault, int listed);
  void pause(const FaultSpec& fault, const std::vector<Node*>& nodes);
  void partition(const FaultSpec& fault, const std::vector<Node*>& nodes);
  void clock_fault(const FaultSpec& fault, const std::vector<Node*>& nodes);
  void database_fault(const FaultSpec& fault, const std::vector<Node*>& nodes);
  // Returns why it was skipped ("" when applied).
  std::string failover(const FaultSpec& fault, const std::vector<Node*>& nodes);
  // Runs `end` after the fault's `for`, but never later than the run's duration.
  void end_after(const FaultSpec& fault, std::function<void()> end);
  std::vector<Node*> resolve_all(const std::vector<std::string>& targets);
  void record(const FaultSpec& fault, int kind, const std::string& detail);

  World& world_;
  // A listed fault's fate: armed once its phase came (timed: at once), fired when its time
  // came, skipped with the reason when it found no target then.
  struct Listed {
    FaultSpec spec;
    bool armed = false;
    bool fired = false;
    std::string skipped;
  };
  std::vector<FaultSpec> phase_faults_;
  std::vector<bool> phase_fired_;
  std::vector<int> phase_listed_;  // per phase fault: its index in listed_, or -1
  std::vector<Listed> listed_;
  TimeUs last_end_us_ = 0;
};

// One line describing a fault, e.g. "pause holder for 15s".
std::string describe(const FaultSpec& fault);

}  // namespace rehearse::sim
