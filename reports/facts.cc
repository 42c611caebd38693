// Derivation of the run facts of reports/facts.h from the history, in one pass per fact.
#include "reports/facts.h"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "core/duration.h"
#include "reports/text.h"

namespace rehearse::reports {

namespace {

// The regions the lock nodes are placed in (as the simulated world places them).
std::vector<std::string> lock_node_regions(const Scenario& scenario, const std::string& lock_region) {
  const LockSpec& lock = scenario.lock;
  const auto& regions = scenario.topology.regions;
  if (lock.backend == LockBackend::app_database) return {};
  if (lock.backend == LockBackend::redis) return std::vector<std::string>(lock.replica ? 2 : 1, lock_region);
  std::size_t first = 0;
  while (first < regions.size() && regions[first].name != lock_region) ++first;
  std::vector<std::string> placed;
  for (int i = 0; i < lock.nodes && !regions.empty(); ++i) {
    placed.push_back(regions[(first + static_cast<std::size_t>(i)) % regions.size()].name);
  }
  return placed;
}

struct NodeNames {
  std::vector<std::pair<std::string, std::string>> placed;  // (node, region)
  void add(std::string node, std::string region) { placed.emplace_back(std::move(node), std::move(region)); }
};

NodeNames topology_nodes(const Scenario& scenario) {
  NodeNames names;
  const auto& regions = scenario.topology.regions;
  const std::string first = regions.empty() ? std::string(kGlobalRegion) : regions.front().name;
  const std::string engine_region = scenario.engine.region.empty() ? first : scenario.engine.region;
  const std::string lock_region = scenario.lock.region.empty() ? first : scenario.lock.region;
  for (int i = 1; i <= scenario.engine.instances; ++i) names.add(fmt::format("engine-{}", i), engine_region);
  const std::vector<std::string> lock_regions = lock_node_regions(scenario, lock_region);
  for (std::size_t i = 0; i < lock_regions.size(); ++i) names.add(fmt::format("lock-{}", i + 1), lock_regions[i]);
  for (const RegionSpec& region : regions) {
    const bool has_primary = scenario.topology.mode != TopologyMode::global || region.name == scenario.topology.home;
    if (has_primary) names.add("db:" + region.name, region.name);  // global: the home's is the only one
    for (int r = 1; r <= region.replicas; ++r) names.add(fmt::format("db:{}/replica-{}", region.name, r), region.name);
    names.add("app:" + region.name, region.name);
  }
  return names;
}

bool is_fault_event(const Event& event) {
  return event.kind == EventKind::fault_start || event.kind == EventKind::fault_end ||
         event.kind == EventKind::fault_skipped;
}

// The region a node found only in the history belongs to: db:R..., app:R, else global.
std::string region_from_name(const NodeLayout& layout, const std::string& node) {
  for (const std::string prefix : {"db:", "app:"}) {
    if (node.rfind(prefix, 0) != 0) continue;
    const std::string rest = node.substr(prefix.size());
    const std::string region = rest.substr(0, rest.find('/'));
    if (layout.region_index(region) >= 0) return region;
  }
  return kGlobalRegion;
}

}  // namespace

const LaneNode* NodeLayout::find(const std::string& name) const {
  for (const LaneNode& node : nodes) {
    if (node.name == name) return &node;
  }
  return nullptr;
}

int NodeLayout::region_index(const std::string& region) const {
  for (std::size_t i = 0; i < regions.size(); ++i) {
    if (regions[i] == region) return static_cast<int>(i);
  }
  return -1;
}

NodeLayout layout_nodes(const Scenario& scenario, const History& history) {
  NodeLayout layout;
  for (const RegionSpec& region : scenario.topology.regions) layout.regions.push_back(region.name);
  layout.regions.push_back(kGlobalRegion);
  std::map<std::string, std::string> known;
  NodeNames names = topology_nodes(scenario);
  for (const auto& [node, region] : names.placed) known.emplace(node, region);
  for (const Event& event : history.events()) {
    if (is_fault_event(event) || event.node.empty() || known.count(event.node) > 0) continue;
    const std::string region = region_from_name(layout, event.node);
    known.emplace(event.node, region);
    names.add(event.node, region);
  }
  for (const auto& [node, region] : names.placed) {
    const int index = layout.region_index(region);
    layout.nodes.push_back(LaneNode{node, index < 0 ? layout.global_region() : index, 0});
  }
  std::stable_sort(layout.nodes.begin(), layout.nodes.end(),
                   [](const LaneNode& left, const LaneNode& right) { return left.region < right.region; });
  for (std::size_t i = 0; i < layout.nodes.size(); ++i) layout.nodes[i].index = static_cast<int>(i) + 1;
  return layout;
}

bool is_engine(const std::string& node) { return node.rfind("engine-", 0) == 0; }

const Event* find_event(const History& history, std::uint64_t id) {
  const auto& events = history.events();
  if (id < events.size() && events[id].id == id) return &events[id];
  for (const Event& event : events) {
    if (event.id == id) return &event;
  }
  return nullptr;
}

std::string order_reason(const Event& earlier, const Event& later) {
  const bool writes = earlier.kind == EventKind::write && later.kind == EventKind::write && earlier.node == later.node;
  if (!writes) {
    return fmt::format("then (+{})", duration_text(later.time_us - earlier.time_us, DurationStyle::rounded_spaced));
  }
  if (later.token < earlier.token) return fmt::format("applied after; token {} < {}", later.token, earlier.token);
  if (later.token == earlier.token && later.actor != earlier.actor) {
    return fmt::format("applied after; same token {}, another writer", later.token);
  }
  return fmt::format("applied after (+{})",
                     duration_text(later.time_us - earlier.time_us, DurationStyle::rounded_spaced));
}

std::vector<std::string> fault_nodes(const NodeLayout& layout, const Event& event) {
  std::string list = event.node;
  const auto open = event.detail.rfind(" [");
  if (open != std::string::npos && event.detail.back() == ']') {
    list = event.detail.substr(open + 2, event.detail.size() - open - 3);
  }
  std::vector<std::string> nodes;
  auto add = [&nodes](const std::string& name) {
    if (std::find(nodes.begin(), nodes.end(), name) == nodes.end()) nodes.push_back(name);
  };
  for (const std::string& name : split_list(list)) {
    if (layout.find(name) != nullptr) {
      add(name);
      continue;
    }
    const int region = layout.region_index(name);
    for (const LaneNode& node : layout.nodes) {
      const bool in_region = region >= 0 && node.region == region;
      const bool lock_node = name == "lock" && node.name.rfind("lock-", 0) == 0;
      if (in_region || lock_node) add(node.name);
    }
  }
  return nodes;
}

}  // namespace rehearse::reports
