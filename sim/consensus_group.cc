// Leadership of a replicated lock service: ticks, quorum checks and elections.
#include "sim/consensus_group.h"

#include <fmt/format.h>

#include "core/assert.h"

namespace rehearse::sim {

ConsensusGroup::ConsensusGroup(Kernel& kernel, Network& network, std::vector<Node*> members, Options options, Rng rng,
                               std::function<void(Event event)> append)
    : kernel_(kernel),
      network_(network),
      members_(std::move(members)),
      options_(std::move(options)),
      rng_(rng),
      append_(std::move(append)) {
  REHEARSE_ASSERT(!members_.empty());
  REHEARSE_ASSERT(options_.tick_us > 0 && options_.election_timeout_us >= options_.tick_us);
}

void ConsensusGroup::start(Hook on_tick, Hook on_new_leader) {
  on_tick_ = std::move(on_tick);
  on_new_leader_ = std::move(on_new_leader);
  elect(true);
  kernel_.after(options_.tick_us, [this] { tick(); });
}

bool ConsensusGroup::usable(std::size_t member) const {
  const Node& node = *members_[member];
  return node.up() && !node.paused();
}

bool ConsensusGroup::connected(std::size_t a, std::size_t b) const {
  if (a == b) return usable(a);
  return usable(a) && usable(b) && !network_.cut(*members_[a], *members_[b]) && !network_.cut(*members_[b], *members_[a]);
}

bool ConsensusGroup::reaches_majority(std::size_t member) const {
  std::size_t reached = 0;
  for (std::size_t other = 0; other < members_.size(); ++other) {
    if (connected(member, other)) ++reached;
  }
  return reached >= quorum();
}

bool ConsensusGroup::leader_can_commit() const { return leader_ && reaches_majority(*leader_); }

bool ConsensusGroup::serving(std::size_t member) const {
  return leader_can_commit() && connected(member, *leader_);
}

std::optional<std::string> ConsensusGroup::step_down() {
  if (!leader_) return std::nullopt;
  const std::string name = members_[*leader_]->name();
  stepped_down_ = leader_;
  leader_.reset();
  healthy_at_us_ = kernel_.now();  // the others notice after an election timeout
  note(fmt::format("{} stepped down as the {} leader (term {})", name, options_.service, term_));
  return name;
}

void ConsensusGroup::note(const std::string& detail) {
  append_(Event{.node = options_.service, .kind = EventKind::message, .detail = detail});
}

void ConsensusGroup::tick() {
  if (leader_can_commit()) {
    healthy_at_us_ = kernel_.now();
  } else if (kernel_.now() - healthy_at_us_ >= options_.election_timeout_us) {
    elect(false);
  }
  if (on_tick_) on_tick_();
  kernel_.after(options_.tick_us, [this] { tick(); });
}

void ConsensusGroup::elect(bool first) {
  std::vector<std::size_t> candidates;
  for (std::size_t member = 0; member < members_.size(); ++member) {
    if (reaches_majority(member) && member != stepped_down_) candidates.push_back(member);
  }
  if (candidates.empty() && stepped_down_ && reaches_majority(*stepped_down_)) candidates.push_back(*stepped_down_);
  if (candidates.empty()) {
    leader_.reset();
    if (!reported_no_leader_) note(fmt::format("{}: no leader: no member reaches a majority", options_.service));
    reported_no_leader_ = true;
    return;
  }
  const std::size_t elected = first ? candidates.front() : candidates[rng_.below(candidates.size())];
  leader_ = elected;
  stepped_down_.reset();
  reported_no_leader_ = false;
  ++term_;
  healthy_at_us_ = kernel_.now();
  if (first) return;  // the cluster starts with a leader; the history starts with the run
  note(fmt::format("{} is the {} leader (term {})", members_[elected]->name(), options_.service, term_));
  if (on_new_leader_) on_new_leader_();
}

}  // namespace rehearse::sim
