// Overload at a lock store node (`lock.max_ops_per_s`), and the one way every simulated lock
// store serves a request. Used by the server side of every lock store in sim/.
//
// Unlimited (max_ops_per_s 0): a request's command runs as it arrives and its answer leaves
// after the command's server time (kLockCommandUs).
//
// Limited: the node serves one request at a time, each taking 1 / max_ops_per_s of server
// time, first come first served. A request that finds the node busy waits in its queue (the
// socket buffers of a single-threaded Redis, a server's request queue); the queue holds at
// most kQueueWorkMaxUs of work, and a request that finds it full is rejected at once with an
// error (maxclients, a proxy's 503), at no cost. What makes overload fail the way real servers
// do (metastable failure): a queued request is served even when its client has long given up
// on it — the server spends its time on work nobody waits for, an acquisition it grants goes
// to a client that no longer knows it holds the lock, and a renewal it answers is answered to
// nobody. Once retries keep the queue longer than the clients' timeout, nearly every request
// times out although the server is busy all the time (goodput collapses), and the state lasts
// as long as the retries keep coming — synchronized retries (`jitter: none`) arrive as one
// burst that fills the queue at once; spread ones (`jitter: full`) find it short.
//
// A crash drops the queue (the process is gone); queued work that falls due while the node is
// paused runs when it resumes.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "core/assert.h"
#include "core/model.h"
#include "sim/kernel.h"
#include "sim/network.h"

namespace rehearse::sim {

class OverloadQueue {
 public:
  // The most work (in server time) a node's queue holds; a request beyond it is rejected.
  static constexpr TimeUs kQueueWorkMaxUs = 5 * kSec;
  static constexpr std::int64_t kOpsPerSecondMax = 1'000'000;
  // A new connection costs the server as much as this many commands.
  static constexpr std::int64_t kConnectCommands = 4;

  // 0 = unlimited.
  OverloadQueue(Kernel& kernel, Node& node, std::int64_t max_ops_per_s)
      : kernel_(kernel), node_(node), max_ops_per_s_(max_ops_per_s) {
    REHEARSE_ASSERT(max_ops_per_s >= 0);
    REHEARSE_ASSERT(max_ops_per_s <= kOpsPerSecondMax);
  }
  OverloadQueue(const OverloadQueue&) = delete;
  OverloadQueue& operator=(const OverloadQueue&) = delete;

  bool limited() const { return max_ops_per_s_ > 0; }
  // Server time of one request. REQUIRES: limited().
  TimeUs service_us() const {
    REHEARSE_ASSERT(limited());
    return std::max<TimeUs>(1, kSec / max_ops_per_s_);
  }

  // The server time of a request of `client` that arrives now: one command, plus the setup
  // of a connection (accept, TLS handshake, AUTH) when the client has none to this incarnation
  // of the node — its first request, the first after the node restarted, and the first after
  // the client dropped its connection because a request on it timed out (`dropped`).
  TimeUs cost_us(const std::string& client, bool dropped) const {
    if (client.empty()) return service_us();
    auto it = connections_.find(client);
    const bool connected = !dropped && it != connections_.end() && it->second == node_.epoch();
    return connected ? service_us() : (1 + kConnectCommands) * service_us();
  }

  // Queues a request arriving now (from `client`, "" = no connection accounting; `dropped`
  // as for cost_us). `work` runs at the node when the request reaches the head of the queue
  // (after its connection's setup; not at all if the node crashed meanwhile), and the server
  // moves on one service time later. Returns false, running nothing, when the
  // queue is full. REQUIRES: limited().
  bool enqueue(std::function<void()> work, const std::string& client = "", bool dropped = false) {
    REHEARSE_ASSERT(limited());
    const TimeUs now = kernel_.now();
    if (epoch_ != node_.epoch()) {  // restarted: the old queue died with the process
      epoch_ = node_.epoch();
      busy_until_us_ = now;
    }
    const TimeUs start = std::max(now, busy_until_us_);
    const TimeUs cost = cost_us(client, dropped);
    REHEARSE_ASSERT(start >= now);
    REHEARSE_ASSERT(cost >= service_us());
    if (start - now + cost > kQueueWorkMaxUs) {
      ++rejected_;
      return false;
    }
    if (!client.empty()) connections_[client] = node_.epoch();
    busy_until_us_ = start + cost;
    ++queued_;
    auto item = std::make_shared<Queued>(Queued{std::move(work), node_.epoch()});
    kernel_.at(start + cost - service_us(), [this, item] { run(item); });  // after the connection setup
    return true;
  }

  std::int64_t rejected() const { return rejected_; }
  std::int64_t queued() const { return queued_; }
  std::int64_t served() const { return served_; }
  // How long a request arriving now would wait before its service starts.
  TimeUs backlog_us() const {
    if (epoch_ != node_.epoch()) return 0;
    return std::max<TimeUs>(0, busy_until_us_ - kernel_.now());
  }

 private:
  struct Queued {
    std::function<void()> work;
    std::uint64_t epoch = 0;  // the node's incarnation that queued it
  };

  void run(const std::shared_ptr<Queued>& item) {
    if (!node_.up() || node_.epoch() != item->epoch) return;  // crashed with the request queued
    if (node_.paused()) {
      node_.defer([this, item] { run(item); });
      return;
    }
    ++served_;
    item->work();
  }

  Kernel& kernel_;
  Node& node_;
  std::int64_t max_ops_per_s_;
  std::map<std::string, std::uint64_t> connections_;  // client -> the node epoch it connected to
  std::uint64_t epoch_ = 0;
  TimeUs busy_until_us_ = 0;
  std::int64_t rejected_ = 0;
  std::int64_t queued_ = 0;
  std::int64_t served_ = 0;
};

// Serves one request at a store node, from a network handler: unlimited, `command` runs now
// and its answer leaves after `busy_us`; limited, it waits its turn in `queue`, runs at the
// head of it and its answer leaves after the service time. A request rejected by a full queue
// is answered with `shed` at once.
template <typename R>
void serve(Kernel& kernel, OverloadQueue& queue, TimeUs busy_us, const std::function<R()>& command, R shed,
           Respond<R> respond, const std::string& client = "", bool dropped = false) {
  if (!queue.limited()) {
    R value = command();
    kernel.after(busy_us, [respond = std::move(respond), value = std::move(value)]() mutable { respond(std::move(value)); });
    return;
  }
  const TimeUs service_us = queue.service_us();
  const bool queued = queue.enqueue(
      [&kernel, service_us, command, respond]() {
        R value = command();
        kernel.after(service_us, [respond, value = std::move(value)]() mutable { respond(std::move(value)); });
      },
      client, dropped);
  if (!queued) respond(std::move(shed));
}

}  // namespace rehearse::sim
