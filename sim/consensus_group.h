// Leadership and the commit path of a replicated lock service (etcd's Raft, ZooKeeper's Zab),
// at the level a lock client can observe. One member leads; every `tick` the group checks that
// the leader is up, running and can exchange messages with a majority, and when it has not been
// for an election timeout (a crashed, paused or partitioned leader; a `failover`) it elects
// another member that reaches a majority, bumping the term. A write is committed by messages
// over the simulated network: the member a client reached forwards it to the leader, the
// leader appends it on the followers, and once a majority (itself included) acknowledged it
// the leader applies it to the service's state and the answer travels back. A request that
// cannot reach a leader with a majority is answered `unavailable` or never (the client times
// out); a commit begun in an older term is dropped. The committed state itself lives in the
// service (one copy: what a majority agreed on survives any minority's crash).
//
// Used by sim/lock_store_etcd and sim/lock_store_zookeeper.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/history.h"
#include "core/random.h"
#include "sim/kernel.h"
#include "sim/network.h"

namespace rehearse::sim {

class ConsensusGroup {
 public:
  struct Options {
    std::string service;         // "etcd", "zookeeper": for the history
    TimeUs tick_us = 100 * kMs;  // how often leadership is checked
    TimeUs election_timeout_us = 1 * kSec;
  };
  using Hook = std::function<void()>;

  ConsensusGroup(Kernel& kernel, Network& network, std::vector<Node*> members, Options options, Rng rng,
                 std::function<void(Event event)> append);
  ConsensusGroup(const ConsensusGroup&) = delete;
  ConsensusGroup& operator=(const ConsensusGroup&) = delete;

  // Elects the first leader and starts the ticks; `on_tick` runs after every leadership check,
  // `on_new_leader` after every election but the first.
  void start(Hook on_tick, Hook on_new_leader);

  std::optional<std::size_t> leader() const { return leader_; }
  std::uint64_t term() const { return term_; }
  std::size_t size() const { return members_.size(); }
  std::size_t quorum() const { return members_.size() / 2 + 1; }
  Node& member(std::size_t index) const { return *members_[index]; }
  const std::vector<Node*>& members() const { return members_; }
  const Options& options() const { return options_; }

  // Whether `member` is up, running, and exchanges messages with a majority (itself included).
  bool reaches_majority(std::size_t member) const;
  // Whether the leader can commit now.
  bool leader_can_commit() const;
  // Whether a request arriving at `member` reaches a leader that can commit (a member cut off
  // from the quorum stops serving clients).
  bool serving(std::size_t member) const;
  // `failover`: the leader steps down; another member is elected after an election timeout.
  // Returns the old leader's name, or nullopt when there was none.
  std::optional<std::string> step_down();

  // Commits a write that arrived at member `via`: `apply` runs at the leader once a majority has
  // it and its value is the answer; `unavailable` answers at once when there is no leader.
  template <typename R>
  void commit(std::size_t via, std::function<R()> apply, R unavailable, Respond<R> respond);

 private:
  bool usable(std::size_t member) const;
  bool connected(std::size_t a, std::size_t b) const;
  void tick();
  void elect(bool first);
  void note(const std::string& detail);

  Kernel& kernel_;
  Network& network_;
  std::vector<Node*> members_;
  Options options_;
  Rng rng_;
  std::function<void(Event event)> append_;
  Hook on_tick_;
  Hook on_new_leader_;
  std::optional<std::size_t> leader_;
  std::optional<std::size_t> stepped_down_;  // not a candidate in the next election if avoidable
  std::uint64_t term_ = 0;
  TimeUs healthy_at_us_ = 0;  // the last tick at which the leader could commit
  bool reported_no_leader_ = false;
};

template <typename R>
void ConsensusGroup::commit(std::size_t via, std::function<R()> apply, R unavailable, Respond<R> respond) {
  if (!leader_) {
    respond(std::move(unavailable));
    return;
  }
  const std::size_t leader = *leader_;
  const std::uint64_t term = term_;
  Node& entry = *members_[via];
  Node& head = *members_[leader];
  auto answer = std::make_shared<std::function<void(R)>>([this, &entry, &head, via, leader, respond](R value) {
    if (via == leader) {
      respond(std::move(value));
      return;
    }
    network_.send(head, entry, [respond, value = std::move(value)]() mutable { respond(std::move(value)); });
  });
  auto replicate = [this, term, leader, apply, answer, &head] {
    if (term != term_) return;  // deposed before the request arrived: dropped
    if (quorum() == 1) {
      (*answer)(apply());
      return;
    }
    auto acknowledged = std::make_shared<std::size_t>(1);  // the leader's own log
    auto on_ack = [this, term, acknowledged, apply, answer] {
      if (*acknowledged >= quorum()) return;  // committed already
      if (++*acknowledged < quorum() || term != term_) return;
      (*answer)(apply());
    };
    for (std::size_t i = 0; i < members_.size(); ++i) {
      if (i == leader) continue;
      Node& follower = *members_[i];
      network_.send(head, follower, [this, &head, &follower, on_ack] { network_.send(follower, head, on_ack); });
    }
  };
  if (via == leader) {
    replicate();
  } else {
    network_.send(entry, head, replicate);
  }
}

}  // namespace rehearse::sim
