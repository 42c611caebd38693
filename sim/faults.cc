// Applying the fault schedule to the simulated world.
#include "sim/faults.h"

#include <algorithm>

#include <fmt/format.h>

#include "core/assert.h"
#include "core/duration.h"
#include "sim/world.h"

namespace rehearse::sim {

namespace {

std::string join(const std::vector<std::string>& names) {
  std::string joined;
  for (const auto& name : names) joined += (joined.empty() ? "" : ",") + name;
  return joined;
}

std::string signed_text(TimeUs us) {
  return (us < 0 ? "-" : "+") + duration_text(us < 0 ? -us : us, DurationStyle::whole);
}

}  // namespace

std::string describe(const FaultSpec& fault) {
  const std::string target = join(fault.targets);
  switch (fault.kind) {
    case FaultKind::pause:
      return fmt::format("pause {} for {}", target, duration_text(fault.for_us, DurationStyle::whole));
    case FaultKind::crash:
      return fault.restart_after_us ? fmt::format("crash {}, restart after {}", target,
                                                  duration_text(*fault.restart_after_us, DurationStyle::whole))
                                    : fmt::format("crash {}", target);
    case FaultKind::partition:
      return fmt::format("partition {} from {}{} for {}", target,
                         fault.from.empty() ? "everyone else" : join(fault.from), fault.oneway ? " (one way)" : "",
                         duration_text(fault.for_us, DurationStyle::whole));
    case FaultKind::delay:
      return fmt::format("delay {} by {} for {}", target, duration_text(fault.extra_us, DurationStyle::whole),
                         duration_text(fault.for_us, DurationStyle::whole));
    case FaultKind::drop:
      return fmt::format("drop {:.0f}% of {}'s messages for {}", fault.probability * 100, target,
                         duration_text(fault.for_us, DurationStyle::whole));
    case FaultKind::clock_jump: return fmt::format("clock of {} jumps {}", target, signed_text(fault.by_us));
    case FaultKind::clock_skew: return fmt::format("clock of {} offset {}", target, signed_text(fault.offset_us));
    case FaultKind::clock_drift:
      return fmt::format("clock of {} drifts {} ppm for {}", target, fault.ppm,
                         duration_text(fault.for_us, DurationStyle::whole));
    case FaultKind::replication_lag:
      return fmt::format("replication lag +{} in {} for {}", duration_text(fault.extra_us, DurationStyle::whole),
                         target, duration_text(fault.for_us, DurationStyle::whole));
    case FaultKind::long_transaction:
      return fmt::format("long transaction on {} for {}", target, duration_text(fault.for_us, DurationStyle::whole));
    case FaultKind::failover: return fmt::format("failover of {}", target);
  }
  return "?";
}

FaultInjector::FaultInjector(World& world) : world_(world) {}

void FaultInjector::schedule(const std::vector<FaultSpec>& faults, bool listed) {
  for (const FaultSpec& fault : faults) {
    const int index = listed ? static_cast<int>(listed_.size()) : -1;
    if (listed) listed_.push_back(Listed{fault, !fault.at_phase, false, ""});
    if (fault.at_phase) {
      phase_faults_.push_back(fault);
      phase_fired_.push_back(false);
      phase_listed_.push_back(index);
      continue;
    }
    world_.kernel().at(fault.at_us, [this, fault, index] { fire(fault, index); });
  }
}

void FaultInjector::on_phase(const std::string& region, const std::string& phase) {
  for (std::size_t i = 0; i < phase_faults_.size(); ++i) {
    const FaultSpec& fault = phase_faults_[i];
    if (phase_fired_[i] || trigger_phase(*fault.at_phase) != phase || fault.at_phase->region != region) continue;
    phase_fired_[i] = true;
    const int index = phase_listed_[i];
    if (index >= 0) listed_[static_cast<std::size_t>(index)].armed = true;
    world_.kernel().after(fault.at_phase->after_us, [this, fault, index] { fire(fault, index); });
  }
}

std::vector<UnfiredFault> FaultInjector::not_fired() const {
  std::vector<UnfiredFault> missed;
  for (const Listed& fault : listed_) {
    std::string why = fault.skipped;
    if (!fault.armed) why = "phase never reached";
    else if (!fault.fired) why = "the run ended before it was due";
    if (!why.empty()) missed.push_back(UnfiredFault{describe(fault.spec), describe_trigger(fault.spec), why});
  }
  return missed;
}

void FaultInjector::record(const FaultSpec& fault, int kind, const std::string& detail) {
  world_.append(Event{.node = join(fault.targets), .kind = static_cast<EventKind>(kind),
                      .outcome = kind == static_cast<int>(EventKind::fault_skipped) ? Outcome::skipped : Outcome::none,
                      .detail = detail, .a = fault.line});
}

std::vector<Node*> FaultInjector::resolve_all(const std::vector<std::string>& targets) {
  std::vector<Node*> nodes;
  for (const auto& target : targets) {
    for (Node* node : world_.resolve(target)) {
      if (std::find(nodes.begin(), nodes.end(), node) == nodes.end()) nodes.push_back(node);
    }
  }
  return nodes;
}

void FaultInjector::end_after(const FaultSpec& fault, std::function<void()> end) {
  const TimeUs now = world_.kernel().now();
  const TimeUs last = std::max(now, world_.scenario().duration_us);
  const TimeUs end_at = std::min(now + fault.for_us, last);
  last_end_us_ = std::max(last_end_us_, end_at);
  world_.kernel().at(end_at, [this, fault, end = std::move(end)] {
    end();
    record(fault, static_cast<int>(EventKind::fault_end), describe(fault));
  });
}

void FaultInjector::fire(const FaultSpec& fault, int listed) {
  Listed* mine = listed >= 0 ? &listed_[static_cast<std::size_t>(listed)] : nullptr;
  if (mine != nullptr) mine->fired = true;
  const std::vector<Node*> nodes = resolve_all(fault.targets);
  if (nodes.empty()) {
    if (mine != nullptr) mine->skipped = "no such node now";
    record(fault, static_cast<int>(EventKind::fault_skipped), describe(fault) + ": no such node now");
    return;
  }
  if (fault.kind == FaultKind::failover) {
    const std::string skipped = failover(fault, nodes);
    if (mine != nullptr) mine->skipped = skipped;
    return;
  }
  std::vector<std::string> names;
  for (const Node* node : nodes) names.push_back(node->name());
  record(fault, static_cast<int>(EventKind::fault_start), fmt::format("{} [{}]", describe(fault), join(names)));
  const TimeUs now = world_.kernel().now();
  last_end_us_ = std::max(last_end_us_, now);
  if (fault.kind == FaultKind::crash) {
    last_end_us_ = std::max(last_end_us_, fault.restart_after_us ? now + *fault.restart_after_us : world_.scenario().duration_us);
  }
  switch (fault.kind) {
    case FaultKind::pause: return pause(fault, nodes);
    case FaultKind::crash:
      for (Node* node : nodes) world_.crash(*node, fault.restart_after_us);
      return;
    case FaultKind::partition: return partition(fault, nodes);
    case FaultKind::delay:
    case FaultKind::drop: {
      std::vector<int> ids;
      for (Node* node : nodes) {
        ids.push_back(fault.kind == FaultKind::delay ? world_.network().add_delay(*node, fault.extra_us)
                                                     : world_.network().add_drop(*node, fault.probability));
      }
      end_after(fault, [this, ids, kind = fault.kind] {
        for (int id : ids) kind == FaultKind::delay ? world_.network().remove_delay(id) : world_.network().remove_drop(id);
      });
      return;
    }
    case FaultKind::clock_jump:
    case FaultKind::clock_skew:
    case FaultKind::clock_drift: return clock_fault(fault, nodes);
    case FaultKind::replication_lag:
    case FaultKind::long_transaction: return database_fault(fault, nodes);
    case FaultKind::failover: return;  // handled above
  }
}

// The lock service's own failover (docs/lock-backends.md): the redis replica is promoted, the
// etcd / ZooKeeper leader steps down, the app-database primary fails over and loses the lock
// row. Skipped, with the reason, where the backend has nothing to fail over.
std::string FaultInjector::failover(const FaultSpec& fault, const std::vector<Node*>& nodes) {
  const FailoverOutcome outcome = world_.failover_lock(nodes);
  if (!outcome.applied) {
    record(fault, static_cast<int>(EventKind::fault_skipped), fmt::format("{}: {}", describe(fault), outcome.detail));
    return outcome.detail;
  }
  last_end_us_ = std::max(last_end_us_, world_.kernel().now());
  record(fault, static_cast<int>(EventKind::fault_start), fmt::format("{}: {}", describe(fault), outcome.detail));
  return "";
}

// long_transaction holds a lock on the table of each database named (or of a region's primary);
// replication_lag delays what each such primary ships to its replicas. In a global topology a
// replication_lag naming replicas (or a region other than the home) delays those replicas only,
// one naming the home primary every replica.
void FaultInjector::database_fault(const FaultSpec& fault, const std::vector<Node*>& nodes) {
  const TimeUs now = world_.kernel().now();
  const TimeUs until = std::min(now + fault.for_us, std::max(now, world_.scenario().duration_us));
  std::vector<SimDatabase*> databases;
  for (Node* node : nodes) {
    const int replica = fault.kind == FaultKind::replication_lag ? world_.global_replica_number(*node) : 0;
    if (replica > 0) {
      world_.database_of(*node)->add_replica_lag(replica, fault.extra_us, until);
      continue;
    }
    SimDatabase* database = world_.database_of(*node);
    if (database != nullptr && std::find(databases.begin(), databases.end(), database) == databases.end()) {
      databases.push_back(database);
    }
  }
  for (SimDatabase* database : databases) {
    if (fault.kind == FaultKind::long_transaction) database->hold_table_lock(until - now);
    if (fault.kind == FaultKind::replication_lag) database->add_replication_lag(fault.extra_us, until);
  }
  end_after(fault, [] {});
}

void FaultInjector::pause(const FaultSpec& fault, const std::vector<Node*>& nodes) {
  for (Node* node : nodes) {
    world_.kernel().pause(*node);
    world_.append(Event{.node = node->name(), .kind = EventKind::node_pause});
  }
  end_after(fault, [this, nodes] {
    for (Node* node : nodes) {
      if (!node->paused()) continue;  // crashed meanwhile
      world_.kernel().resume(*node);
      world_.append(Event{.node = node->name(), .kind = EventKind::node_resume});
    }
  });
}

void FaultInjector::partition(const FaultSpec& fault, const std::vector<Node*>& nodes) {
  std::vector<const Node*> side(nodes.begin(), nodes.end());
  std::vector<const Node*> other;
  if (fault.from.empty()) {
    for (Node* node : world_.all_nodes()) {
      if (std::find(nodes.begin(), nodes.end(), node) == nodes.end()) other.push_back(node);
    }
  } else {
    for (Node* node : resolve_all(fault.from)) other.push_back(node);
  }
  const int id = world_.network().add_partition(side, other, fault.oneway);
  const TimeUs now = world_.kernel().now();
  world_.cut_replication(std::min(now + fault.for_us, std::max(now, world_.scenario().duration_us)));
  end_after(fault, [this, id] { world_.network().remove_partition(id); });
}

void FaultInjector::clock_fault(const FaultSpec& fault, const std::vector<Node*>& nodes) {
  const TimeUs now = world_.kernel().now();
  for (Node* node : nodes) {
    if (fault.kind == FaultKind::clock_jump) node->clock().step(now, fault.by_us);
    if (fault.kind == FaultKind::clock_skew) node->clock().set_offset(now, fault.offset_us);
  }
  if (fault.kind != FaultKind::clock_drift) return;
  std::vector<std::int64_t> previous;
  for (Node* node : nodes) {
    previous.push_back(node->clock().drift_ppm());
    node->clock().set_drift(now, fault.ppm);
  }
  end_after(fault, [this, nodes, previous] {
    for (std::size_t i = 0; i < nodes.size(); ++i) nodes[i]->clock().set_drift(world_.kernel().now(), previous[i]);
  });
}

}  // namespace rehearse::sim
