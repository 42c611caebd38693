// The simulated network's delivery, latency and fault rules.
#include "sim/network.h"

#include <algorithm>

#include <fmt/format.h>

namespace rehearse::sim {

Network::Network(Kernel& kernel, std::uint64_t seed, DurationRange intra_region, DurationRange inter_region)
    : kernel_(kernel), rng_(seed, "network"), intra_region_(intra_region), inter_region_(inter_region) {
  REHEARSE_ASSERT(intra_region.low_us <= intra_region.high_us);
  REHEARSE_ASSERT(inter_region.low_us <= inter_region.high_us);
  if (kernel.leaked_run() != 0) rng_ = Rng(seed + kernel.leaked_run(), "network");  // test_hooks only
}

TimeUs Network::latency(const Node& from, const Node& to, FaultTouch* touch) {
  if (&from == &to) return 0;
  const DurationRange& range = from.same_region(to) ? intra_region_ : inter_region_;
  TimeUs delay = rng_.uniform(range.low_us, range.high_us);
  for (const auto& rule : delays_) {
    if (rule.node != from.index() && rule.node != to.index()) continue;
    delay += rule.extra_us;
    if (touch != nullptr) {
      const Node& delayed = rule.node == from.index() ? from : to;
      touch->note([&] { return fmt::format("a delay fault on {} held the message from {} to {}", delayed.name(), from.name(), to.name()); });
    }
  }
  return delay;
}

namespace {
std::string cut_text(const Node& from, const Node& to) {
  return fmt::format("the message from {} to {} was cut by a partition", from.name(), to.name());
}
}  // namespace

bool Network::cut(const Node& from, const Node& to) const {
  const std::uint32_t a = from.index();
  const std::uint32_t b = to.index();
  for (const auto& partition : partitions_) {
    const bool forward = a < partition.side.size() && b < partition.other.size() && partition.side[a] && partition.other[b];
    const bool backward = b < partition.side.size() && a < partition.other.size() && partition.side[b] && partition.other[a];
    if (forward || (!partition.oneway && backward)) return true;
  }
  return false;
}

void Network::send(Node& from, Node& to, Callback<void()> on_delivery, FaultTouch* touch) {
  ++messages_sent_;
  if (cut(from, to)) {
    ++messages_lost_;
    kernel_.probe(Probe::message_cut_by_partition);
    if (touch != nullptr) touch->note([&] { return cut_text(from, to); });
    return;
  }
  for (const auto& rule : drops_) {
    if ((rule.node == from.index() || rule.node == to.index()) && rng_.chance(rule.probability)) {
      ++messages_lost_;
      if (touch != nullptr) touch->note([&] { return fmt::format("a drop fault lost the message from {} to {}", from.name(), to.name()); });
      return;
    }
  }
  const std::uint64_t to_epoch = to.epoch();
  kernel_.after(latency(from, to, touch), [this, &from, &to, to_epoch, touch, on_delivery = std::move(on_delivery)]() mutable {
    deliver(to, to_epoch, from, std::move(on_delivery), touch);
  });
}

TimeUs Network::flight(const Node& from, const Node& to) {
  REHEARSE_ASSERT(partitions_.empty());
  REHEARSE_ASSERT(drops_.empty());
  REHEARSE_ASSERT(delays_.empty());
  ++messages_sent_;
  return latency(from, to, nullptr);
}

void Network::deliver(Node& to, std::uint64_t to_epoch, const Node& from, Callback<void()> on_delivery,
                      FaultTouch* touch) {
  const bool alive = to.alive_in(to_epoch);
  if (!alive || cut(from, to)) {
    ++messages_lost_;
    if (alive) kernel_.probe(Probe::message_cut_by_partition);
    if (touch != nullptr) touch->note([&] { return alive ? cut_text(from, to) : fmt::format("{} crashed", to.name()); });
    return;
  }
  if (to.paused()) {
    kernel_.probe(Probe::message_held_for_paused_node);
    if (touch != nullptr) touch->note([&] { return fmt::format("{} was paused", to.name()); });
    to.defer(std::move(on_delivery));
    return;
  }
  on_delivery();
}

int Network::add_partition(std::vector<const Node*> side, std::vector<const Node*> other_side, bool oneway) {
  Partition partition{next_rule_id_++, std::vector<bool>(kernel_.nodes().size()), std::vector<bool>(kernel_.nodes().size()), oneway};
  for (const Node* node : side) partition.side[node->index()] = true;
  for (const Node* node : other_side) partition.other[node->index()] = true;
  partitions_.push_back(std::move(partition));
  return partitions_.back().id;
}

void Network::remove_partition(int id) {
  std::erase_if(partitions_, [id](const Partition& p) { return p.id == id; });
}

int Network::add_delay(const Node& node, TimeUs extra_us) {
  delays_.push_back(NodeRule{next_rule_id_++, node.index(), extra_us, 0.0});
  return delays_.back().id;
}

void Network::remove_delay(int id) {
  std::erase_if(delays_, [id](const NodeRule& r) { return r.id == id; });
}

int Network::add_drop(const Node& node, double probability) {
  drops_.push_back(NodeRule{next_rule_id_++, node.index(), 0, probability});
  return drops_.back().id;
}

void Network::remove_drop(int id) {
  std::erase_if(drops_, [id](const NodeRule& r) { return r.id == id; });
}

}  // namespace rehearse::sim
