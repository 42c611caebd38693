// What the report writers derive from one run before drawing or writing anything: where every
// node lives (regions and lanes), the fault windows, each engine's leases (the time it
// believed it held the lock), the phase spans, stale writes the databases accepted, and the
// time two engines both believed they held the lock. Pure functions of the scenario and the
// RunResult.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/model.h"
#include "core/run_result.h"

namespace rehearse::reports {

// The pseudo-region for nodes that belong to no region (the world itself, unknown names).
inline constexpr const char* kGlobalRegion = "global";

struct LaneNode {
  std::string name;
  int region = 0;  // index into NodeLayout::regions
  int index = 0;   // 1-based, unique over all nodes (the trace's tid)
};

// Every node of the topology, grouped by region in topology order; within a region: engines,
// lock nodes, the primary, its replicas, the application servers; then nodes only the history
// names (the "world"), in the global pseudo-region (always the last region).
struct NodeLayout {
  std::vector<std::string> regions;
  std::vector<LaneNode> nodes;

  const LaneNode* find(const std::string& name) const;
  int region_index(const std::string& region) const;  // -1 when unknown
  int global_region() const { return static_cast<int>(regions.size()) - 1; }
};

NodeLayout layout_nodes(const Scenario& scenario, const History& history);

// A fault from its fault_start (or fault_skipped) to its fault_end; instantaneous faults
// (clock jumps, failovers) have start == end, a crash lasts until its node restarts.
struct FaultWindow {
  std::uint64_t start_event = 0;
  std::optional<std::uint64_t> end_event;
  TimeUs start_us = 0;
  TimeUs end_us = 0;
  std::string description;         // "pause holder for 20s"
  std::vector<std::string> nodes;  // the nodes it hit, resolved where the history says so
  int line = 0;                    // the scenario line; 0 = drawn by random_faults
  bool skipped = false;
};

// One engine's belief that it holds the lock: from its successful lock_acquire to its
// lock_release, lock_lost, crash, exit, next acquisition or the end of the run.
struct Lease {
  std::string engine;
  std::int64_t token = 0;
  std::uint64_t acquire_event = 0;
  TimeUs start_us = 0;
  TimeUs end_us = 0;
  std::optional<std::uint64_t> end_event;
  std::string ended_by;  // released | lost | crashed | exited | re-acquired | run ended
};

// An engine working on one phase in one region: from its phase event to its next phase event
// for the same region, or until it stopped holding the lock.
struct PhaseSpan {
  std::string engine;
  std::string region;
  std::string phase;
  std::int64_t token = 0;
  std::uint64_t event = 0;
  TimeUs start_us = 0;
  TimeUs end_us = 0;
};

struct RunFacts {
  NodeLayout layout;
  std::vector<FaultWindow> faults;  // in start order
  std::vector<Lease> leases;        // in start order
  std::vector<PhaseSpan> phases;    // in start order
  // Applied protected writes whose token is lower than one applied earlier at the same database.
  std::vector<std::uint64_t> stale_writes_accepted;
  TimeUs overlapping_belief_us = 0;  // time at least two engines believed they held the lock
  TimeUs end_us = 0;                 // the last event's time
};

RunFacts derive_facts(const Scenario& scenario, const RunResult& result);

// The names of the nodes a fault event hit: the bracketed list of its fault_start detail
// ("pause holder for 20s [engine-2]"), else its node field split at commas, with `lock` and
// region names expanded to their nodes.
std::vector<std::string> fault_nodes(const NodeLayout& layout, const Event& event);

// The event with `id`, or nullptr.
const Event* find_event(const History& history, std::uint64_t id);

// Why `later` coming after `earlier` matters, for an edge label: "applied after; token 1 < 2"
// for two writes at one database, "then (+9.5 s)" otherwise.
std::string order_reason(const Event& earlier, const Event& later);

// Whether the node is a migration engine ("engine-N").
bool is_engine(const std::string& node);

}  // namespace rehearse::reports
