// A simulated single-node Redis used as the migration lock store, at its API level:
// acquire = one atomic script (SET key value NX PX ttl, then INCR the token counter beside the
// key), renew = compare-and-PEXPIRE, release = compare-and-delete. Key expiry is judged on the
// store node's own clock, so a clock jump on that node expires a lease early.
//
// Its methods are the server side: they run on the lock node when a request arrives.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "core/history.h"
#include "sim/kernel.h"

namespace rehearse::sim {

class RedisLockStore {
 public:
  using Sink = std::function<void(Event event)>;
  RedisLockStore(Node& node, bool persistence, Sink sink);

  // Returns the fencing token (>= 1) when the key was free, 0 when another value holds it.
  std::int64_t acquire(const std::string& holder, TimeUs ttl_us);
  // Compare-and-PEXPIRE: true when `value` still holds the key.
  bool renew(const std::string& value, TimeUs ttl_us);
  // Compare-and-delete: true when `value` held the key and it is now deleted.
  bool release(const std::string& value);
  // The value holding the key now (expiring it first if due), or nullopt.
  std::optional<std::string> holder();

  // After a crash: without persistence the restarted node comes back empty.
  void on_restart();
  std::int64_t counter() const { return counter_; }

  // The key's value is "HOLDER:TOKEN"; these split it.
  static std::string value_of(const std::string& holder, std::int64_t token);
  static std::string holder_of(const std::string& value);

 private:
  void expire_if_due();

  Node& node_;
  bool persistence_;
  Sink sink_;
  std::optional<std::string> value_;
  TimeUs expires_at_local_us_ = 0;
  std::int64_t counter_ = 0;
};

}  // namespace rehearse::sim
